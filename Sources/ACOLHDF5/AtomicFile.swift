internal import CHDF5
import Foundation

/// An HDF5 file written beside its target under a temporary name (".name.h5.tmp-XXXXXXXX") and
/// renamed over the target only when complete. On any error, `abort()` or deinit without
/// `commit()`, the temporary file is removed: the target is never half-written, and an existing
/// target is untouched until the rename (which is atomic on one file system). The first 512 bytes
/// are an HDF5 user block holding the file's size and CRC-32 (see `FileChecksum`).
final class AtomicH5File {
    let target: String
    let temporary: String
    private(set) var file: H5ID?
    private var done = false

    init(target: String) throws {
        self.target = target
        let url = URL(fileURLWithPath: target)
        let dir = url.deletingLastPathComponent().path
        var isDir: ObjCBool = false
        guard FileManager.default.fileExists(atPath: dir, isDirectory: &isDir), isDir.boolValue else {
            throw HDF5Error.io(path: target, operation: "create", reason: "the folder \(dir) does not exist")
        }
        let suffix = String(format: "%08x", UInt32.random(in: 0...UInt32.max))
        temporary = dir + "/." + url.lastPathComponent + ".tmp-" + suffix
        file = try H5ID.createFile(temporary, reportAs: target, userBlock: FileChecksum.blockSize)
    }

    /// Flushes, closes, syncs and renames the temporary file over the target.
    func commit() throws {
        guard !done, let file else { throw HDF5Error.usage(path: target, problem: "the file was already finished or aborted") }
        do {
            try file.flush()
            file.close()
            self.file = nil
            try FileChecksum.write(temporary, reportAs: target)   // also syncs the file to disk
            guard rename(temporary, target) == 0 else {
                throw HDF5Error.io(path: target, operation: "rename from \(temporary)", reason: String(cString: strerror(errno)))
            }
            done = true
        } catch {
            abort()
            throw error
        }
    }

    /// Closes and removes the temporary file. Idempotent; never throws.
    func abort() {
        file?.close()
        file = nil
        if !done { _ = unlink(temporary) }
        done = true
    }

    deinit { abort() }
}
