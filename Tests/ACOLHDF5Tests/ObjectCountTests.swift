import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

extension HDF5Tests {
    /// Every id is released: after writes, reads and errors, no object of this test's files stays open,
    /// and the process-wide count is back where it was (serialised so other tests do not interfere).
    @Suite struct ObjectCountTests {
        @Test func countReturnsToStart() throws {
            let dir = TempDir()
            let start = HDF5Library.openObjectCount()
            let path = dir.file("m.h5")
            try ModelFile.save(try makeModel(), to: path)
            _ = try ModelFile.load(path)
            _ = try ModelFile.summary(path)
            _ = try HDF5Inspector.tree(path)
            let dpath = dir.file("d.h5")
            let w = try DatasetWriter(path: dpath)
            try w.begin(sampleDescription)
            try w.beginSplit("train", expectedCount: nil)
            try w.append(makeImages(count: 50))
            #expect(!dir.openObjects().isEmpty)       // the writer holds its file open
            try w.finish()
            do {
                let r = try DatasetReader(path: dpath)
                _ = try r.read(split: "train", range: 3..<9)
                _ = try? r.read(split: "nope")
            }
            // Errors on the way.
            _ = try? ModelFile.load(dpath)
            _ = try? DatasetReader(path: path)
            try Data([UInt8](repeating: 7, count: 100)).write(to: URL(fileURLWithPath: dir.file("x.h5")))
            _ = try? ModelFile.load(dir.file("x.h5"))
            let half = try Data(contentsOf: URL(fileURLWithPath: path)).prefix(3000)
            try half.write(to: URL(fileURLWithPath: dir.file("half.h5")))
            _ = try? ModelFile.load(dir.file("half.h5"))
            #expect(dir.openObjects().isEmpty)
            // Process-wide: back to the start, unless other tests running in parallel hold files open.
            let end = HDF5Library.openObjectCount()
            #expect(end == start || HDF5Library.openObjects(inFilesUnder: "").contains { !$0.hasPrefix(dir.path) })
        }
    }
}
