internal import CNettle
import Foundation

/// SHA-256 through libnettle, fed in pieces: the data-set identity kept in model files
/// (training/dataset_sha256). `FileChecksum` feeds it in the same pass as the CRC-32, so a data
/// set is read once for both.
public struct SHA256Digest {
    private var ctx = sha256_ctx()

    public init() { nettle_sha256_init(&ctx) }

    public mutating func update(_ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress, bytes.count > 0 else { return }
        nettle_sha256_update(&ctx, bytes.count, base.assumingMemoryBound(to: UInt8.self))
    }

    public mutating func update(_ data: Data) { data.withUnsafeBytes { update($0) } }

    /// The digest as 64 lowercase hex digits (the state is reset afterwards).
    public mutating func hex() -> String {
        var out = [UInt8](repeating: 0, count: 32)
        nettle_sha256_digest(&ctx, 32, &out)
        return out.map { String(format: "%02x", $0) }.joined()
    }

    /// The SHA-256 of a whole file.
    public static func hex(ofFile path: String) throws -> String {
        guard let h = FileHandle(forReadingAtPath: path) else {
            throw HDF5Error.io(path: path, operation: "open", reason: String(cString: strerror(errno)))
        }
        defer { try? h.close() }
        var d = SHA256Digest()
        do {
            while let chunk = try h.read(upToCount: 1 << 20), !chunk.isEmpty { d.update(chunk) }
        } catch {
            throw HDF5Error.io(path: path, operation: "read", reason: error.localizedDescription)
        }
        return d.hex()
    }
}

/// SHA-256 of files, remembered from the checksum pass: `FileChecksum.verify` computes it while
/// it reads the file for the CRC, so `sha256(ofFile:)` of a data set that was just opened costs
/// no second read. The remembered value is used only while the file's device, inode, size and
/// modification time are unchanged.
public enum FileDigest {
    private struct Identity: Equatable { var dev: UInt64, ino: UInt64, size: Int64, mtime: Int, mtimeNs: Int }
    private static let lock = NSLock()
    nonisolated(unsafe) private static var known: [String: (Identity, String)] = [:]

    private static func identity(_ path: String) -> Identity? {
        var st = stat()
        guard stat(path, &st) == 0 else { return nil }
        return Identity(dev: UInt64(st.st_dev), ino: UInt64(st.st_ino), size: Int64(st.st_size),
                        mtime: st.st_mtim.tv_sec, mtimeNs: st.st_mtim.tv_nsec)
    }

    static func remember(_ path: String, sha256: String) {
        guard let id = identity(path) else { return }
        lock.lock(); known[path] = (id, sha256); lock.unlock()
    }

    /// The SHA-256 of `path` as 64 hex digits: remembered from the checksum pass when the file is
    /// unchanged since, else read now.
    public static func sha256(ofFile path: String) throws -> String {
        lock.lock()
        let k = known[path]
        lock.unlock()
        if let k, let id = identity(path), id == k.0 { return k.1 }
        return try SHA256Digest.hex(ofFile: path)
    }
}
