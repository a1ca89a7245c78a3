import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

// Issue 9, item 12: the data-set writer refuses what its reader refuses (one shared limit).
extension HDF5Tests {
    @Suite struct WriterLimitTests {
        @Test func writerAndReaderShareTheImageLimit() throws {
            let dir = TempDir()
            let problem = "image shape: expected height and width in 1...16384, channels in 1...16 and height x width x channels <= 67108864, found 16384 x 16384 x 2"
            let w = try DatasetWriter(path: dir.file("big.h5"))
            let big = DatasetDescription(height: 16384, width: 16384, channels: 2,
                                         labels: LabelInfo(fineNames: [], parentNames: [], parentOfFine: []), source: "t")
            #expect(expectHDF5Error { try w.begin(big) } == .usage(path: dir.file("big.h5"), problem: problem))
            #expect(dir.contents().isEmpty)   // aborted: no temporary file left
            // The reader says the same of a file with that shape.
            let crafted = dir.file("crafted.h5")
            try craftedDataset(crafted, height: 16384, width: 16384, channels: 2) { _ in }
            #expect(hdf5Message { _ = try DatasetReader(path: crafted) } == "\(crafted): /: \(problem) (attributes height, width, channels)")
            // At the limit both sides agree too: written, then read back.
            for (h, wd, c) in [(8192, 8192, 1), (1, 16384, 16)] {
                let p = dir.file("edge-\(h)x\(wd)x\(c).h5")
                let writer = try DatasetWriter(path: p)
                try writer.begin(DatasetDescription(height: h, width: wd, channels: c,
                                                    labels: LabelInfo(fineNames: [], parentNames: [], parentOfFine: []), source: "t"))
                try writer.beginSplit("train", expectedCount: 0)
                try writer.finish()
                let r = try DatasetReader(path: p)
                #expect(r.description.height == h && r.description.width == wd && r.description.channels == c)
                #expect(r.splits.first?.count == 0)
                r.close()
            }
            #expect(ACOLLimits.imageShapeProblem(height: 8192, width: 8193, channels: 1) != nil)
        }
    }
}
