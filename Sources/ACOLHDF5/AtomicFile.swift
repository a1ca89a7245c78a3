import ACOLData
import Foundation

/// An HDF5 file written through `OutputFile` (temporary name, renamed over the target by
/// `commit()`; removed on error, abort or deinit). The first 512 bytes are an HDF5 user block
/// holding the file's size and CRC-32 (see `FileChecksum`).
final class AtomicH5File {
    let target: String
    private let output: OutputFile
    private(set) var file: H5ID?

    init(target: String, inputs: [String] = [], otherOutputs: [String] = []) throws {
        self.target = target
        output = try OutputFile(target, inputs: inputs, otherOutputs: otherOutputs, keepOpen: false)
        do {
            file = try H5ID.createFile(output.temporaryPath, reportAs: target, userBlock: FileChecksum.blockSize)
        } catch {
            output.abort()
            throw error
        }
    }

    /// Flushes, closes, writes the checksum block, syncs and renames over the target.
    func commit() throws {
        guard let file else { throw HDF5Error.usage(path: target, problem: "the file was already finished or aborted") }
        do {
            try file.flush()
            file.close()
            self.file = nil
            try FileChecksum.write(output.temporaryPath, reportAs: target)
            try output.commit()
        } catch {
            abort()
            throw error
        }
    }

    /// Closes and removes the temporary file. Idempotent; never throws.
    func abort() {
        file?.close()
        file = nil
        output.abort()
    }

    deinit { abort() }
}
