import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

// Issue 9, item 3: sizes read from model and data-set files are checked against ACOLLimits,
// overflow-checked, before anything is allocated; each case is a clean one-line HDF5Error.
extension HDF5Tests {
    @Suite struct CraftedSizeTests {
        /// A model whose architecture (and /acol n_p, k) say `json`: load and summary both refuse it.
        func refusedArchitecture(_ dir: TempDir, _ name: String, _ json: String, np: Int64? = nil, k: Int64? = nil,
                                 expecting fragments: [String], summaryToo: Bool = true,
                                 sourceLocation: SourceLocation = #_sourceLocation) throws {
            let p = try craftedModel(dir, name) { f in
                try f.setAttribute("architecture", string: json)
                try closing(f.openGroup("acol")) { g in
                    if let np { try g.setAttribute("n_p", np) }
                    if let k { try g.setAttribute("k", k) }
                }
            }
            var messages = [hdf5Message({ _ = try ModelFile.load(p) }, sourceLocation: sourceLocation)]
            if summaryToo { messages.append(hdf5Message({ _ = try ModelFile.summary(p) }, sourceLocation: sourceLocation)) }
            for message in messages {
                #expect(message.hasPrefix(p + ": / attribute 'architecture': the architecture does not build"), "\(message)", sourceLocation: sourceLocation)
                for f in fragments { #expect(message.contains(f), "\(message) lacks '\(f)'", sourceLocation: sourceLocation) }
                #expect(!message.contains("\n"), sourceLocation: sourceLocation)
            }
        }

        @Test func absurdHeads() throws {
            let dir = TempDir()
            try refusedArchitecture(dir, "negative-k.h5", architectureJSON(k: "-3"), k: -3, expecting: ["parents >= 1 and k >= 1", "2 x -3"])
            try refusedArchitecture(dir, "huge-k.h5", architectureJSON(parents: "1", k: "1099511627776"), np: 1, k: 1 << 40,
                                    expecting: ["1 x 1099511627776", "at most 4000"])
            // n_p x k overflows Int: caught by multipliedReportingOverflow, not a trap.
            try refusedArchitecture(dir, "overflow.h5", architectureJSON(parents: "4294967296", k: "4294967296"),
                                    np: 1 << 32, k: 1 << 32, expecting: ["(overflows)"])
            try refusedArchitecture(dir, "np-k-big.h5", architectureJSON(parents: "100", k: "100"), np: 100, k: 100,
                                    expecting: ["10000 nodes", "at most 4000"])
        }

        @Test func absurdBodies() throws {
            let dir = TempDir()
            try refusedArchitecture(dir, "input.h5", architectureJSON(inputShape: "[4294967296,4294967296,4294967296]"),
                                    expecting: ["input shape", "4294967296 x 4294967296 x 4294967296"])
            try refusedArchitecture(dir, "input-neg.h5", architectureJSON(inputShape: "[8,-8,1]"), expecting: ["input shape"])
            try refusedArchitecture(dir, "units.h5", architectureJSON(layers: #"[{"type":"flatten"},{"type":"dense","units":1000000000000}]"#),
                                    expecting: ["layer 1 (dense) needs units in 1...65536, got 1000000000000"])
            try refusedArchitecture(dir, "filters.h5", architectureJSON(layers: #"[{"type":"conv2d","filters":1000000000}]"#),
                                    expecting: ["filters in 1...65536"])
            try refusedArchitecture(dir, "kernel.h5", architectureJSON(layers: #"[{"type":"conv2d","filters":4,"kernel":[4611686018427387904,4]}]"#),
                                    expecting: ["kernel"])
            // Each setting within limits, the whole too big: 64 x 64 x 65536 activations per example;
            // then a 2^14 x 65536 dense kernel (2^30 parameters).
            try refusedArchitecture(dir, "activations.h5", architectureJSON(inputShape: "[64,64,1]", layers: #"[{"type":"conv2d","filters":65536}]"#),
                                    expecting: ["layer 0 (conv2d): its output [64, 64, 65536] has more than 67108864 values per example"])
            try refusedArchitecture(dir, "params.h5", architectureJSON(layers: #"[{"type":"conv2d","filters":1024},{"type":"max_pool2d","pool":2},{"type":"flatten"},{"type":"dense","units":65536}]"#),
                                    expecting: ["parameters, at most 536870912"])
            let relus = "[" + Array(repeating: #"{"type":"relu"}"#, count: 200_000).joined(separator: ",") + "]"
            try refusedArchitecture(dir, "layers.h5", architectureJSON(layers: relus), expecting: ["200000 layers, at most 1024"], summaryToo: false)
            #expect(dir.openObjects().isEmpty)
        }

        @Test func sparseHistoryAndAbsurdMetadata() throws {
            let dir = TempDir()
            // 2^40 epochs declared, chunked and never written: a tiny file.
            let history = try craftedModel(dir, "history.h5") { f in
                try f.deleteLink("history/epoch")
                try f.createDataset("history/epoch", of: Int64.self, shape: [1 << 40], chunk: [4096], extendible: true).close()
            }
            #expect(try Data(contentsOf: URL(fileURLWithPath: history)).count < 100_000)
            let m = hdf5Message { _ = try ModelFile.load(history) }
            #expect(m == "\(history): /history/epoch: expected at most 1048576 values, found shape [1099511627776] (1099511627776 values)")

            // An epoch number (or cluster count, head) that a Double cannot hold: refused, not a trap.
            for (name, v) in [("epoch", Int64.max), ("clusters_used", Int64.min + 1), ("head", (1 << 53) + 1)] {
                let big = try craftedModel(dir, "big-\(name).h5") { f in
                    if try f.exists("history/\(name)") { try f.deleteLink("history/\(name)") }
                    try f.writeDataset("history/\(name)", [v, 2])
                }
                #expect(hdf5Message { _ = try ModelFile.load(big) } == "\(big): /history/\(name): expected integers of magnitude at most 2^53, found \(v)")
            }

            // A negative BatchNorm variance (sqrt(var + eps) of it is NaN): refused at load.
            let variance = try craftedModel(dir, "variance.h5") { f in
                try f.deleteLink("weights/head/batch_norm/running_var")
                try f.writeDataset("weights/head/batch_norm/running_var", [Float](repeating: -1, count: 16))
            }
            #expect(hdf5Message { _ = try ModelFile.load(variance) } == "\(variance): /weights/head/batch_norm/running_var: expected variances of 0 or more, found -1.0 at index 0")
            // ... and never written: nor are weights that are not finite (a diverged training).
            for (name, value) in [("head/batch_norm/running_var", Float(-0.5)), ("head/dense/kernel", Float.nan)] {
                let m = try makeModel()
                let t = m.network.namedParameters.first { $0.name == name }!.parameter
                t.value[3] = value
                let out = dir.file("never.h5")
                let message = hdf5Message { try ModelFile.save(m, to: out) }
                #expect(message.hasPrefix("\(out): /weights/\(name): not written: value \(value) at index 3"))
                #expect(!FileManager.default.fileExists(atPath: out))
            }

            let clusters = try craftedModel(dir, "clusters.h5") { f in
                try f.deleteLink("acol/clusters/node")
                try f.writeDataset("acol/clusters/node", [Int32(0), 1, 2, 3, 4, 2_000_000_000])
            }
            #expect(hdf5Message { _ = try ModelFile.load(clusters) } == "\(clusters): /acol/clusters/node: entry 5: expected a node in 0..<6, found 2000000000")

            let fine = try craftedModel(dir, "fine.h5") { f in
                try closing(f.openGroup("acol/clusters")) { try $0.deleteLink("fine_label") }
                try f.writeDataset("acol/clusters/fine_label", [Int32(0), 1, 2, -1, 4, Int32.max])
            }
            #expect(hdf5Message { _ = try ModelFile.load(fine) }.contains("/acol/clusters/fine_label: entry 5: expected -1 (none) or a fine class in 0..<6, found 2147483647"))

            // (More than ~4000 names do not fit in an attribute of the default HDF5 format; the
            // name limit is checked by ModelChecks.fineClasses, the mapping's length here.)
            let mapping = try craftedModel(dir, "mapping.h5") { f in
                try f.writeDataset("acol/parent_of_fine", [Int32](repeating: 0, count: 5000))
            }
            #expect(hdf5Message { _ = try ModelFile.load(mapping) } == "\(mapping): /acol/parent_of_fine: expected at most 4000 values, found shape [5000] (5000 values)")

            // A weight declared 2^40 long (sparse): refused on its shape, never read.
            let weight = try craftedModel(dir, "weight.h5") { f in
                try f.deleteLink("weights/head/dense/bias")
                try f.createDataset("weights/head/dense/bias", of: Float.self, shape: [1 << 40], chunk: [4096], extendible: true).close()
            }
            #expect(hdf5Message { _ = try ModelFile.load(weight) } == "\(weight): /weights/head/dense/bias: expected shape [6] (from the architecture), found [1099511627776]")
            #expect(dir.openObjects().isEmpty)
        }

        @Test func absurdDatasetShapes() throws {
            let dir = TempDir()
            // height x width overflows Int.
            let overflow = dir.file("overflow.h5")
            try craftedDataset(overflow, height: 1 << 32, width: 1 << 32) { _ in }
            #expect(hdf5Message { _ = try DatasetReader(path: overflow) } ==
                    "\(overflow): /: image shape: expected height and width in 1...16384, channels in 1...16 and height x width x channels <= 67108864, found 4294967296 x 4294967296 x 1 (attributes height, width, channels)")
            let negative = dir.file("negative.h5")
            try craftedDataset(negative, height: -5) { _ in }
            #expect(hdf5Message { _ = try DatasetReader(path: negative) }.contains("found -5 x 2 x 1"))

            // 2^40 images declared, chunked and never written.
            let sparse = dir.file("sparse.h5")
            try craftedDataset(sparse, height: 8, width: 8) { root in
                try root.createDataset("train/images", of: UInt8.self, shape: [1 << 40, 8, 8, 1], chunk: [256, 8, 8, 1], gzip: 4, extendible: true).close()
            }
            let size = try Data(contentsOf: URL(fileURLWithPath: sparse)).count
            #expect(size < 100_000)
            let s = hdf5Message { _ = try DatasetReader(path: sparse) }
            #expect(s.hasPrefix("\(sparse): /train/images: declares 1099511627776 images of 8 x 8 x 1 (70368744177664 bytes), more than a file of \(size) bytes can hold"))
            #expect(s.contains("sparse"))

            // Rows x row size overflows Int.
            let huge = dir.file("huge.h5")
            try craftedDataset(huge, height: 64, width: 64, channels: 4) { root in
                try root.createDataset("train/images", of: UInt8.self, shape: [1 << 62, 64, 64, 4], chunk: [1, 64, 64, 4], extendible: true).close()
            }
            #expect(hdf5Message { _ = try DatasetReader(path: huge) }.contains("too many bytes to count"))

            // Labels declared longer than the file can hold (and than the images: shape check).
            let labels = dir.file("labels.h5")
            try craftedDataset(labels) { root in
                try root.writeDataset("train/images", [UInt8](repeating: 0, count: 12), shape: [3, 2, 2, 1])
                try root.createDataset("train/fine_labels", of: Int32.self, shape: [1 << 40], chunk: [4096], extendible: true).close()
            }
            #expect(hdf5Message { _ = try DatasetReader(path: labels) }.contains("/train/fine_labels: expected shape [3] (one per image), found [1099511627776]"))
            #expect(dir.openObjects().isEmpty)
        }

        /// A shard record that is not I/N with 1 <= I <= N is refused, naming the attribute; a
        /// valid one reads back.
        @Test func shardRecordsAreChecked() throws {
            let dir = TempDir()
            for (text, ok) in [("2/3", true), ("7/3", false), ("0/3", false), ("two", false)] {
                let p = dir.file("shard.h5")
                try? FileManager.default.removeItem(atPath: p)
                try craftedDataset(p) { root in
                    try root.setAttribute("shard", string: text)
                    try root.writeDataset("train/images", [UInt8](repeating: 0, count: 12), shape: [3, 2, 2, 1])
                }
                if ok {
                    #expect(try DatasetReader(path: p).description.shard == Shard(index: 2, count: 3))
                } else {
                    #expect(hdf5Message { _ = try DatasetReader(path: p) }.contains("/ attribute 'shard': expected 'I/N' with 1 <= I <= N, found '\(text)'"), "\(text)")
                }
            }
            #expect(dir.openObjects().isEmpty)
        }

        @Test func unnamedLabelsAreBounded() throws {
            let dir = TempDir()
            let p = dir.file("label.h5")
            try craftedDataset(p) { root in
                try root.writeDataset("train/images", [UInt8](repeating: 0, count: 12), shape: [3, 2, 2, 1])
                try root.writeDataset("train/fine_labels", [Int32(0), 1, Int32.max])
            }
            let r = try DatasetReader(path: p)
            defer { r.close() }
            #expect(hdf5Message { _ = try r.read(split: "train") } ==
                    "\(p): /train/fine_labels: entry 2 is 2147483647, expected 0..<4000 (the file has no names for them; at most 4000 classes)")
            #expect(try r.read(split: "train", range: 0..<2).fineLabels == [0, 1])

            let splits = dir.file("splits.h5")
            try craftedDataset(splits) { try $0.setAttribute("splits", strings: (0..<1025).map { "s\($0)" }) }
            #expect(hdf5Message { _ = try DatasetReader(path: splits) } == "\(splits): / attribute 'splits': expected at most 1024 splits, found 1025")
        }
    }
}
