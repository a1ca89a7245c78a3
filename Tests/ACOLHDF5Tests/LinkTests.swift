import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

// Issue 9, item 15: weights only from the file itself; inspect shows hostile structures.
extension HDF5Tests {
    @Suite struct LinkTests {
        @Test func weightsThroughLinksAreRefused() throws {
            let dir = TempDir()
            // The target exists and has the right shape: still refused (outside the checksum).
            let other = dir.file("other.h5")
            try writeFile(other) { try $0.writeDataset("bias", [Float](repeating: 0, count: 6)) }
            let external = try craftedModel(dir, "external.h5") { f in
                try f.deleteLink("weights/head/dense/bias")
                try closing(f.openGroup("weights/head/dense")) { try $0.createExternalLink("bias", file: "other.h5", object: "/bias") }
            }
            #expect(hdf5Message { _ = try ModelFile.load(external) }.contains("/weights/head/dense/bias: expected data stored in this file, found an external link to 'other.h5' object '/bias'"))
            // Long names in the link (an absolute path, as h5py users write): the names are read
            // while the link's value is alive (once a crash: pointers into a freed buffer).
            let longFile = dir.file("a-folder-name-long-enough/other-file-with-a-long-name.h5")
            let long = try craftedModel(dir, "long.h5") { f in
                try f.deleteLink("weights/head/dense/bias")
                try closing(f.openGroup("weights/head/dense")) { try $0.createExternalLink("bias", file: longFile, object: "/train/images/of/a/deep/group") }
            }
            for _ in 0..<20 {
                #expect(hdf5Message { _ = try ModelFile.load(long) }.contains("found an external link to '\(longFile)' object '/train/images/of/a/deep/group'"))
            }
            // A whole group through an external link: refused at the group, before libhdf5 enters it.
            let group = try craftedModel(dir, "group.h5") { f in
                try f.deleteLink("weights")
                try f.createExternalLink("weights", file: "other.h5", object: "/")
            }
            #expect(hdf5Message { _ = try ModelFile.load(group) }.contains("/weights: expected data stored in this file, found an external link"))
            // Soft links (whose path may run through an external link) are refused as well.
            let soft = try craftedModel(dir, "soft.h5") { f in
                try f.createGroup("stash").close()
                try f.createHardLink("stash/bias", to: "/weights/head/dense/bias")
                try f.deleteLink("weights/head/dense/bias")
                try closing(f.openGroup("weights/head/dense")) { try $0.createSoftLink("bias", to: "/stash/bias") }
            }
            #expect(hdf5Message { _ = try ModelFile.load(soft) }.contains("/weights/head/dense/bias: expected a group or dataset stored under this name, found a soft link to '/stash/bias'"))
            #expect(dir.openObjects().isEmpty)
        }

        @Test func inspectShowsDeepNesting() throws {
            let dir = TempDir()
            let p = dir.file("deep.h5")
            try writeFile(p) { root in
                let path = (0..<70).map { "g\($0)" }.joined(separator: "/")
                try root.createGroup(path).close()
                try root.writeDataset("top", [Float(1)])
            }
            #expect(try HDF5Inspector.classify(p) == .foreignHDF5(format: nil))
            let tree = try HDF5Inspector.tree(p)
            // Root, 64 groups listed with their contents, the 65th without (noted), and /top.
            #expect(tree.count == 1 + 65 + 1)
            let last = try #require(tree.first { $0.note != nil })
            #expect(last.path.split(separator: "/").count == 65)
            #expect(last.note == "nested more than 64 groups deep: contents not listed")
            #expect(tree.contains { $0.path == "/top" && $0.kind == .dataset })
        }

        @Test func inspectShowsHardLinkCycles() throws {
            let dir = TempDir()
            let p = dir.file("cycle.h5")
            try writeFile(p) { root in
                try root.createGroup("a/b").close()
                try root.writeDataset("a/b/x", [Int32(1), 2])
                try root.createHardLink("a/b/up", to: "/a")
                try root.createHardLink("a/root", to: "/")
                // A chain of groups each linked twice from the one before: 2^30 paths, 31 groups.
                try root.createGroup("chain/c0").close()
                for i in 0..<30 {
                    try root.createGroup("chain/c\(i + 1)").close()
                    try root.createHardLink("chain/c\(i)/x", to: "/chain/c\(i + 1)")
                    try root.createHardLink("chain/c\(i)/y", to: "/chain/c\(i + 1)")
                }
            }
            let started = Date()
            let tree = try HDF5Inspector.tree(p)
            #expect(Date().timeIntervalSince(started) < 5)
            let byPath = Dictionary(tree.map { ($0.path, $0) }, uniquingKeysWith: { a, _ in a })
            #expect(byPath["/a/b/x"]?.shape == [2])
            #expect(byPath["/a/b/up"]?.note == "the same group as /a (hard link), not listed again")
            #expect(byPath["/a/root"]?.note == "the same group as / (hard link), not listed again")
            #expect(byPath["/chain/c0/x"]?.note == nil)
            #expect(byPath["/chain/c0/y"]?.note == "the same group as /chain/c0/x (hard link), not listed again")
            #expect(tree.count < 200)

            // In a model's /weights a cycle is an error, not a hang.
            let model = try craftedModel(dir, "model.h5") { f in
                try f.createHardLink("weights/head/loop", to: "/weights")
            }
            #expect(hdf5Message { _ = try ModelFile.load(model) }.contains("/weights/head/loop: is a second hard link to the group /weights"))
            #expect(dir.openObjects().isEmpty)
        }
    }
}
