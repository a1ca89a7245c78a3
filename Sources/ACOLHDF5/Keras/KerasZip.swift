internal import CZlib
import Foundation

/// The few members of a `.keras` file (a zip archive: config.json, model.weights.h5,
/// metadata.json), read from its central directory with zlib's inflate for deflated members.
/// Stored and deflated members only; no ZIP64, no encryption, no multi-disk archives (Keras
/// writes none of these). Every size and offset is checked against the file before use, and each
/// member's CRC-32 is verified.
struct KerasZip {
    struct Member { var name: String; var method: UInt16; var crc: UInt32; var compressed: Int; var size: Int; var localOffset: Int }

    /// The largest member read (bytes): far above any ACOL-sized Keras model.
    static let maxMemberBytes = 1 << 30
    static let maxMembers = 10_000

    let path: String
    let data: Data
    let members: [Member]

    init(path: String) throws {
        self.path = path
        let url = URL(fileURLWithPath: path)
        let d: Data
        do { d = try Data(contentsOf: url, options: .alwaysMapped) } catch {
            throw KerasError.invalid(path: path, expected: "a readable .keras file", found: "\(error.localizedDescription)")
        }
        data = d
        func bad(_ what: String) -> KerasError { KerasError.invalid(path: path, expected: "a zip archive (.keras)", found: what) }
        guard d.count >= 22 else { throw bad("\(d.count) bytes, too short") }
        // End of central directory: the last signature in the final 64 KiB + 22 bytes.
        var eocd = -1
        var i = d.count - 22
        let lowest = max(0, d.count - 22 - 65_535)
        while i >= lowest {
            if Self.u32(d, i) == 0x0605_4b50 { eocd = i; break }
            i -= 1
        }
        guard eocd >= 0 else { throw bad("no end-of-central-directory record (not a zip file, or truncated)") }
        let count = Int(Self.u16(d, eocd + 10))
        let cdSize = Int(Self.u32(d, eocd + 12))
        let cdOffset = Int(Self.u32(d, eocd + 16))
        guard count != 0xFFFF, cdOffset != 0xFFFF_FFFF else { throw bad("a ZIP64 archive (not supported)") }
        guard count <= Self.maxMembers, cdOffset <= eocd, cdSize <= eocd - cdOffset else {
            throw bad("a central directory of \(count) entries at \(cdOffset) (+\(cdSize)) beyond the file's \(d.count) bytes")
        }
        var out: [Member] = []
        var p = cdOffset
        for _ in 0..<count {
            guard p + 46 <= cdOffset + cdSize, Self.u32(d, p) == 0x0201_4b50 else { throw bad("a damaged central directory entry at offset \(p)") }
            let flags = Self.u16(d, p + 8)
            let method = Self.u16(d, p + 10)
            let crc = Self.u32(d, p + 16)
            let csize = Int(Self.u32(d, p + 20)), usize = Int(Self.u32(d, p + 24))
            let nlen = Int(Self.u16(d, p + 28)), xlen = Int(Self.u16(d, p + 30)), clen = Int(Self.u16(d, p + 32))
            let local = Int(Self.u32(d, p + 42))
            guard p + 46 + nlen + xlen + clen <= cdOffset + cdSize else { throw bad("a central directory entry running past its end") }
            let name = String(decoding: d[(d.startIndex + p + 46)..<(d.startIndex + p + 46 + nlen)], as: UTF8.self)
            if flags & 1 != 0 { throw bad("an encrypted member '\(name)'") }
            if csize == 0xFFFF_FFFF || usize == 0xFFFF_FFFF || local == 0xFFFF_FFFF { throw bad("a ZIP64 member '\(name)' (not supported)") }
            out.append(Member(name: name, method: method, crc: crc, compressed: csize, size: usize, localOffset: local))
            p += 46 + nlen + xlen + clen
        }
        members = out
    }

    func member(_ name: String) -> Member? { members.first { $0.name == name } }

    /// The bytes of member `name`, inflated and CRC-checked. A member whose size (from the
    /// central directory, which inflating must then match) is above `limit` is refused before
    /// anything is inflated: `tooLarge(size)` gives the error (nil: the archive's own message).
    func read(_ name: String, limit: Int = maxMemberBytes, tooLarge: ((Int) -> KerasError)? = nil) throws -> Data {
        let d = data
        guard let m = member(name) else {
            throw KerasError.invalid(path: path, expected: "a member '\(name)' in the .keras archive",
                                     found: "members " + members.map(\.name).prefix(10).joined(separator: ", "))
        }
        func bad(_ what: String) -> KerasError { KerasError.invalid(path: path, expected: "an intact member '\(name)'", found: what) }
        if m.size > limit, let tooLarge { throw tooLarge(m.size) }
        // Deflate expands at most about 1032:1: a larger claimed size is a crafted header, refused
        // before the output buffer is allocated.
        guard m.size <= min(limit, Self.maxMemberBytes), m.compressed <= d.count, m.size <= 1032 * m.compressed + 1024 else { throw bad("a size of \(m.size) bytes (\(m.compressed) compressed) for a \(d.count)-byte file") }
        let h = m.localOffset
        guard h + 30 <= d.count, Self.u32(d, h) == 0x0403_4b50 else { throw bad("no local header at offset \(h) (truncated or damaged)") }
        let start = h + 30 + Int(Self.u16(d, h + 26)) + Int(Self.u16(d, h + 28))
        guard start <= d.count, m.compressed <= d.count - start else { throw bad("\(m.compressed) bytes at \(start), past the end of the \(d.count)-byte file (truncated)") }
        let raw = d.subdata(in: (d.startIndex + start)..<(d.startIndex + start + m.compressed))
        let out: Data
        switch m.method {
        case 0:
            guard m.compressed == m.size else { throw bad("a stored member of \(m.compressed) bytes that says it has \(m.size)") }
            out = raw
        case 8:
            out = try Self.inflateRaw(raw, size: m.size, fail: bad)
        default:
            throw bad("compression method \(m.method) (only stored and deflate are read)")
        }
        let crc = out.withUnsafeBytes { b -> UInt32 in
            UInt32(crc32_z(0, b.bindMemory(to: UInt8.self).baseAddress, b.count))
        }
        guard crc == m.crc else { throw bad(String(format: "CRC-32 %08x instead of %08x", crc, m.crc)) }
        return out
    }

    private static func inflateRaw(_ input: Data, size: Int, fail: (String) -> KerasError) throws -> Data {
        var out = Data(count: size)
        var strm = z_stream()
        guard acol_inflate_init2(&strm, -15) == Z_OK else { throw fail("zlib could not start inflating") }
        defer { inflateEnd(&strm) }
        var input = input
        let status: Int32 = input.withUnsafeMutableBytes { (src: UnsafeMutableRawBufferPointer) -> Int32 in
            out.withUnsafeMutableBytes { (dst: UnsafeMutableRawBufferPointer) -> Int32 in
                strm.next_in = src.bindMemory(to: Bytef.self).baseAddress
                strm.avail_in = uInt(src.count)
                strm.next_out = dst.bindMemory(to: Bytef.self).baseAddress
                strm.avail_out = uInt(dst.count)
                return inflate(&strm, Z_FINISH)
            }
        }
        guard status == Z_STREAM_END, Int(strm.total_out) == size else {
            throw fail("a deflate stream that does not inflate to \(size) bytes (zlib status \(status))")
        }
        return out
    }

    static func u16(_ d: Data, _ i: Int) -> UInt16 { UInt16(d[d.startIndex + i]) | UInt16(d[d.startIndex + i + 1]) << 8 }
    static func u32(_ d: Data, _ i: Int) -> UInt32 { UInt32(u16(d, i)) | UInt32(u16(d, i + 2)) << 16 }
}
