import ACOL
import Foundation
@testable import ACOLHDF5
import Testing

// Issue 9, item 9 (HDF5 part): a FIFO or other non-regular file as a model or data-set file, or
// as an external-link target, is refused at once (stat before open), never waited on.
extension HDF5Tests {
    @Suite struct SpecialFileTests {
        /// Unblocks an open(2) of `fifo` that would hang (a regression), so the test fails instead.
        final class Watchdog {
            private var done = false
            private let lock = NSLock()
            init(_ fifo: String) {
                Thread.detachNewThread { [self] in
                    Thread.sleep(forTimeInterval: 5)
                    if lock.withLock({ done }) { return }
                    let fd = open(fifo, O_WRONLY | O_NONBLOCK)
                    if fd >= 0 { close(fd) }
                }
            }
            func stop() { lock.withLock { done = true } }
        }

        @Test func fifoAndDevicesAreRefused() throws {
            let dir = TempDir()
            let fifo = dir.file("model.h5")
            #expect(mkfifo(fifo, 0o600) == 0)
            let dog = Watchdog(fifo)
            defer { dog.stop() }
            let started = Date()
            let expected = HDF5Error.io(path: fifo, operation: "open", reason: "it is a FIFO (named pipe), not a regular file")
            #expect(expectHDF5Error { _ = try ModelFile.load(fifo) } == expected)
            #expect(expectHDF5Error { _ = try ModelFile.summary(fifo) } == expected)
            #expect(expectHDF5Error { _ = try DatasetReader(path: fifo) } == expected)
            #expect(expectHDF5Error { _ = try HDF5Inspector.classify(fifo) } == expected)
            #expect(expectHDF5Error { _ = try HDF5Inspector.tree(fifo) } == expected)
            #expect(Date().timeIntervalSince(started) < 2)
            #expect(expected.errorDescription == "\(fifo): open failed: it is a FIFO (named pipe), not a regular file")
            #expect(expectHDF5Error { _ = try ModelFile.load("/dev/null") } ==
                    .io(path: "/dev/null", operation: "open", reason: "it is a character device, not a regular file"))
            // A symbolic link to a regular file is fine.
            let real = try craftedModel(dir, "real.h5") { _ in }
            try FileManager.default.createSymbolicLink(atPath: dir.file("link.h5"), withDestinationPath: real)
            _ = try ModelFile.load(dir.file("link.h5"))
        }

        @Test func externalLinkToAFifoIsNotFollowed() throws {
            let dir = TempDir()
            let fifo = dir.file("kernel-source.h5")
            #expect(mkfifo(fifo, 0o600) == 0)
            let dog = Watchdog(fifo)
            defer { dog.stop() }
            let p = try craftedModel(dir, "elink.h5") { f in
                try f.deleteLink("weights/head/dense/kernel")
                try closing(f.openGroup("weights/head/dense")) { try $0.createExternalLink("kernel", file: fifo, object: "/kernel") }
            }
            let started = Date()
            let m = hdf5Message { _ = try ModelFile.load(p) }
            #expect(m == "\(p): /weights/head/dense/kernel: expected data stored in this file, found an external link to '\(fifo)' object '/kernel': acol does not read data from other files (they are outside this file's checksum); copy the data into the file")
            #expect(Date().timeIntervalSince(started) < 2)
            // The inspector lists hard links only: the file is shown, the link not followed.
            let tree = try HDF5Inspector.tree(p)
            #expect(tree.contains { $0.path == "/weights/head/dense/bias" })
            #expect(!tree.contains { $0.path == "/weights/head/dense/kernel" })
            #expect(dir.openObjects().isEmpty)
        }
    }
}
