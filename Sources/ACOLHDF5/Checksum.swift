internal import CZlib
import Foundation

/// A whole-file checksum kept in the HDF5 user block (the first 512 bytes, which HDF5 reserves
/// for applications and every HDF5 reader skips).
///
/// Why: libhdf5 does not validate all of its on-disk structures (variable-length string data in
/// the global heap, for one); some corrupted files make libhdf5 itself crash (h5dump 1.10.8 too).
/// Checking size and CRC-32 before libhdf5 sees the file turns truncation and corruption of any
/// file written by acol into a clear error. Files written by others (h5py) have no such block
/// and are opened unchecked.
///
/// The block is ASCII, NUL-padded to 512 bytes:
///
///     acol-hdf5-checksum 1
///     size <file size in bytes>
///     crc32 <8 hex digits: zlib.crc32 of bytes 512 ..< size>
enum FileChecksum {
    static let blockSize = 512
    static let magic = "acol-hdf5-checksum 1\n"

    /// Fills in the user block of a closed file.
    static func write(_ path: String, reportAs target: String) throws {
        guard let h = FileHandle(forUpdatingAtPath: path) else {
            throw HDF5Error.io(path: target, operation: "open \(path) for the checksum", reason: String(cString: strerror(errno)))
        }
        defer { try? h.close() }
        do {
            let (size, crc) = try crc32(of: h, from: UInt64(blockSize))
            var text = Array((magic + "size \(size)\ncrc32 \(hex(crc))\n").utf8)
            text += [UInt8](repeating: 0, count: blockSize - text.count)
            try h.seek(toOffset: 0)
            try h.write(contentsOf: Data(text))
            try h.synchronize()
        } catch let e as HDF5Error {
            throw e
        } catch {
            throw HDF5Error.io(path: target, operation: "write the checksum", reason: error.localizedDescription)
        }
    }

    /// Checks the file against its user block, if it has one written by acol.
    static func verify(_ path: String) throws {
        guard let h = FileHandle(forReadingAtPath: path) else { return }   // reported later by the caller
        defer { try? h.close() }
        let head: Data
        do { head = try h.read(upToCount: blockSize) ?? Data() } catch { return }
        guard head.count == blockSize, head.starts(with: Array(magic.utf8)) else { return }
        let text = String(decoding: head.prefix { $0 != 0 }, as: UTF8.self)
        var size: UInt64?, crc: UInt32?
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            guard parts.count == 2 else { continue }
            if parts[0] == "size" { size = UInt64(parts[1]) }
            if parts[0] == "crc32" { crc = UInt32(parts[1], radix: 16) }
        }
        guard let size, let crc else {
            throw HDF5Error.damaged(path: path, problem: "its checksum block is unreadable")
        }
        let found: (size: UInt64, crc: UInt32)
        // The SHA-256 of the whole file in the same pass (the block, then what the CRC covers),
        // kept for `FileDigest.sha256(ofFile:)`: a data set is read once for both.
        var digest = SHA256Digest()
        digest.update(head)
        do { found = try crc32(of: h, from: UInt64(blockSize), digest: &digest) } catch {
            throw HDF5Error.io(path: path, operation: "read", reason: error.localizedDescription)
        }
        guard found.size == size else {
            throw HDF5Error.damaged(path: path, problem: found.size < size
                ? "truncated: \(found.size) bytes, expected \(size)"
                : "\(found.size) bytes, expected \(size): it grew after acol wrote it, \(editedHint)")
        }
        guard found.crc == crc else {
            throw HDF5Error.damaged(path: path, problem: "checksum mismatch (crc32 \(hex(found.crc)), expected \(hex(crc))): the file is corrupt, or \(editedHint)")
        }
        FileDigest.remember(path, sha256: digest.hex())
    }

    /// What to do about a file changed after acol wrote it.
    static let editedHint = "was changed by another program (h5py in 'r+' mode, say); if that was meant, zero its first 512 bytes to read it unchecked (docs/file-format.md)"

    private static func hex(_ v: UInt32) -> String {
        let s = String(v, radix: 16)
        return String(repeating: "0", count: 8 - s.count) + s
    }

    /// (file size, CRC-32 of bytes from `offset` to the end).
    private static func crc32(of h: FileHandle, from offset: UInt64) throws -> (UInt64, UInt32) {
        var none: SHA256Digest?
        return try crc32(of: h, from: offset, digest: &none)
    }

    /// The same, also feeding every byte read into `digest`.
    private static func crc32(of h: FileHandle, from offset: UInt64, digest: inout SHA256Digest) throws -> (UInt64, UInt32) {
        var d: SHA256Digest? = digest
        defer { digest = d! }
        return try crc32(of: h, from: offset, digest: &d)
    }

    private static func crc32(of h: FileHandle, from offset: UInt64, digest: inout SHA256Digest?) throws -> (UInt64, UInt32) {
        let size = try h.seekToEnd()
        guard size >= offset else { return (size, 0) }
        try h.seek(toOffset: offset)
        var crc: UInt32 = 0
        while true {
            guard let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty else { break }
            crc = update(crc, chunk)
            digest?.update(chunk)
        }
        return (size, crc)
    }

    /// zlib's CRC-32 (the checksum gzip and zlib.crc32 compute), continued from `crc`.
    private static func update(_ crc: UInt32, _ data: Data) -> UInt32 {
        data.withUnsafeBytes { raw in
            guard let base = raw.baseAddress else { return crc }
            return UInt32(crc32_z(UInt(crc), base.assumingMemoryBound(to: UInt8.self), raw.count))
        }
    }
}
