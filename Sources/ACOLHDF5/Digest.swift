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
