import Foundation
import Testing
import ACOLData

/// `ImageSet(checking:...)`: sizes and arrays from outside are refused with an error, not a trap.
@Suite struct ImageSetTests {
    @Test func checkedInitRefusesInconsistentSizes() throws {
        let ok = try ImageSet(checking: 2, height: 2, width: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8], fineLabels: [0, 1])
        #expect(ok == ImageSet(count: 2, height: 2, width: 2, channels: 1, pixels: [1, 2, 3, 4, 5, 6, 7, 8], fineLabels: [0, 1]))
        #expect(throws: DataError.badInput(path: "images", expected: "count x height x width x channels pixels, every size 0 or more",
                                           found: "2 x 2 x 2 x 1 and 3 pixels")) {
            _ = try ImageSet(checking: 2, height: 2, width: 2, channels: 1, pixels: [1, 2, 3])
        }
        #expect(throws: DataError.self) { _ = try ImageSet(checking: -1, height: -1, width: 1, channels: 1, pixels: [0]) }
        #expect(throws: DataError.self) { _ = try ImageSet(checking: Int.max, height: Int.max, width: 1, channels: 1, pixels: []) }
        #expect(throws: DataError.badInput(path: "images", expected: "one coarse label per image (2)", found: "1")) {
            _ = try ImageSet(checking: 2, height: 1, width: 1, channels: 1, pixels: [0, 0], coarseLabels: [0])
        }
        #expect(try ImageSet(checking: 0, height: 28, width: 28, channels: 1, pixels: []).count == 0)
    }
}
