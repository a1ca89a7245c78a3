import Foundation
internal import CZlib
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

// Sequential byte sources: a plain file, a gzip file (zlib's gzread) and a zlib stream over a
// byte range of a plain file (MATLAB miCOMPRESSED elements). All reads are bounded by the
// caller's buffer; nothing here allocates in proportion to what a header claims.

/// The on-disk size of a regular file, or a `cannotRead` error naming it.
/// Anything but a regular file (a folder, a FIFO, a device) is refused (ImportLimits.swift).
func fileSize(_ path: String) throws -> Int {
    try regularFileSize(path)
}

func errnoText() -> String {
    guard let s = strerror(errno) else { return "error \(errno)" }
    return String(decoding: UnsafeRawBufferPointer(start: s, count: strlen(s)), as: UTF8.self)
}

/// The first `n` bytes of a file (fewer when it is shorter).
func readPrefix(_ path: String, _ n: Int) throws -> [UInt8] {
    let f = try PlainFile(path)
    defer { f.close() }
    var out = [UInt8](repeating: 0, count: n)
    let got = try out.withUnsafeMutableBytes { try f.readFully($0) }
    out.removeLast(n - got)
    return out
}

/// True when the file starts with the gzip magic bytes 1f 8b.
func isGzip(_ path: String) throws -> Bool {
    let p = try readPrefix(path, 2)
    return p.count == 2 && p[0] == 0x1f && p[1] == 0x8b
}

class ByteStream {
    let path: String
    init(path: String) { self.path = path }
    /// Reads up to `buffer.count` bytes; 0 means end of data.
    func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int { 0 }
    func close() {}

    /// Reads until `buffer` is full or the data ends; returns the number of bytes read.
    func readFully(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        var done = 0
        while done < buffer.count {
            let n = try read(UnsafeMutableRawBufferPointer(rebasing: buffer[done...]))
            if n == 0 { break }
            done += n
        }
        return done
    }

    /// Reads exactly `buffer.count` bytes or throws `truncated` (saying what was being read).
    func readExactly(_ buffer: UnsafeMutableRawBufferPointer, what: @autoclosure () -> String) throws {
        let n = try readFully(buffer)
        if n < buffer.count {
            throw DatasetError.truncated(path: path, expected: "\(buffer.count) more bytes (\(what()))",
                                         found: "\(n)")
        }
    }

    func readBytes(_ count: Int, what: @autoclosure () -> String) throws -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        try out.withUnsafeMutableBytes { try readExactly($0, what: what()) }
        return out
    }

    /// Skips `count` bytes by reading them (streams cannot seek).
    func skip(_ count: Int, what: @autoclosure () -> String) throws {
        var left = count
        var scratch = [UInt8](repeating: 0, count: min(count, 1 << 16))
        while left > 0 {
            let n = min(left, scratch.count)
            try scratch.withUnsafeMutableBytes {
                try readExactly(UnsafeMutableRawBufferPointer(rebasing: $0[0..<n]), what: what())
            }
            left -= n
        }
    }

    /// True when no byte is left.
    func atEnd() throws -> Bool {
        var b: UInt8 = 0
        return try withUnsafeMutableBytes(of: &b) { try read($0) } == 0
    }
}

/// A plain file read with stdio.
final class PlainFile: ByteStream {
    private var fp: UnsafeMutablePointer<FILE>?

    init(_ path: String) throws {
        _ = try fileSize(path)
        fp = try openRegularStdio(path)
        super.init(path: path)
    }

    override func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let fp, buffer.count > 0 else { return 0 }
        let n = fread(buffer.baseAddress, 1, buffer.count, fp)
        if n < buffer.count && ferror(fp) != 0 {
            throw DatasetError.cannotRead(path: path, reason: errnoText())
        }
        return n
    }

    func seek(to offset: Int) throws {
        guard let fp, fseeko(fp, off_t(offset), SEEK_SET) == 0 else {
            throw DatasetError.cannotRead(path: path, reason: "cannot seek to byte \(offset)")
        }
    }

    override func close() { if let fp { fclose(fp) }; fp = nil }
    deinit { close() }
}

/// A gzip file read through zlib's gzread (handles concatenated members).
final class GzipFile: ByteStream {
    private var gz: gzFile?

    init(_ path: String) throws {
        _ = try fileSize(path)
        let fd = try openRegularFile(path)
        guard let g = gzdopen(fd, "rb") else {
            closeFile(fd)
            throw DatasetError.cannotRead(path: path, reason: errnoText())
        }
        gzbuffer(g, 1 << 17)
        gz = g
        super.init(path: path)
    }

    override func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        guard let gz, buffer.count > 0 else { return 0 }
        let want = UInt32(min(buffer.count, 1 << 30))
        let n = gzread(gz, buffer.baseAddress, want)
        if n < 0 { throw DatasetError.corrupt(path: path, reason: gzerrorText()) }
        if n < Int32(want) {
            let code = gzerrorCode()
            if code == Z_BUF_ERROR {
                // zlib reports a stream cut short as "unexpected end of file"
                throw DatasetError.truncated(path: path, expected: "a complete gzip stream",
                                             found: "one that ends early (\(gzerrorText()))")
            }
            if code != Z_OK { throw DatasetError.corrupt(path: path, reason: gzerrorText()) }
        }
        return Int(n)
    }

    private func gzerrorCode() -> Int32 {
        var code: Int32 = 0
        _ = gzerror(gz, &code)
        return code
    }

    private func gzerrorText() -> String {
        var code: Int32 = 0
        guard let s = gzerror(gz, &code) else { return "zlib error \(code)" }
        let text = String(decoding: UnsafeRawBufferPointer(start: s, count: strlen(s)), as: UTF8.self)
        // zlib names a stream opened with gzdopen "<fd:N>"; the error names the file already.
        if text.hasPrefix("<fd:"), let r = text.range(of: ">: ") { return String(text[r.upperBound...]) }
        return text
    }

    override func close() { if let gz { gzclose(gz) }; gz = nil }
    deinit { close() }
}

/// Opens a file as plain or gzip, chosen by its first two bytes (1f 8b), not by its name.
func openMaybeGzip(_ path: String) throws -> ByteStream {
    try isGzip(path) ? GzipFile(path) : PlainFile(path)
}

/// What a gzip file's trailer says: the uncompressed size modulo 2^32 (ISIZE, of the last member).
func gzipTrailerSize(_ path: String) throws -> UInt32? {
    let size = try fileSize(path)
    guard size >= 18 else { return nil }
    let f = try PlainFile(path)
    defer { f.close() }
    try f.seek(to: size - 4)
    let b = try f.readBytes(4, what: "gzip trailer")
    return UInt32(b[0]) | UInt32(b[1]) << 8 | UInt32(b[2]) << 16 | UInt32(b[3]) << 24
}

/// Deflate cannot compress better than about 1032:1; a header that implies more data than
/// that is a lie, found before anything is allocated or inflated.
let maxDeflateRatio = 1032

/// Checks, before reading any data, that a (possibly gzip) file can hold `expected` bytes:
/// a plain file must be exactly that long; a gzip file must be large enough for the ratio
/// bound and its trailer must state the same size (modulo 2^32). `what` describes the header.
func checkLength(_ path: String, expected: Int, gzip: Bool, what: String) throws {
    let size = try fileSize(path)
    if !gzip {
        if size != expected { throw DatasetError.wrongLength(path: path, expectedBytes: expected, foundBytes: size) }
        return
    }
    if expected / maxDeflateRatio > size {
        throw DatasetError.badHeader(path: path, expected: "a gzip file of at least \(expected / maxDeflateRatio) bytes for \(what)",
                                     found: "\(size) bytes")
    }
    if let isize = try gzipTrailerSize(path), isize != UInt32(truncatingIfNeeded: expected) {
        // The trailer's ISIZE is the last 4 bytes of the file: a file cut short, with bytes
        // after its gzip data, or of several gzip members (concatenated .gz files, which gzip
        // and Python read as one) ends in something else. Count the data to tell them apart:
        // at most expected + 1 bytes are inflated, through a fixed buffer.
        let found = try gzipDataLength(path, atMost: expected + 1)
        if found == expected { return }
        throw DatasetError.truncated(path: path, expected: "\(expected) bytes after decompression (\(what))",
                                     found: found > expected ? "more data than that" : "\(found) bytes")
    }
}

/// The decompressed length of a gzip file (all its members), counted up to `limit`.
func gzipDataLength(_ path: String, atMost limit: Int) throws -> Int {
    let g = try GzipFile(path)
    defer { g.close() }
    var buffer = [UInt8](repeating: 0, count: 1 << 16)
    var total = 0
    while total < limit {
        let n = try buffer.withUnsafeMutableBytes { b in
            try g.read(UnsafeMutableRawBufferPointer(rebasing: b[..<min(b.count, limit - total)]))
        }
        if n == 0 { break }
        total += n
    }
    return total
}

/// A zlib (RFC 1950) stream stored in bytes [offset, offset + length) of a plain file.
final class InflateStream: ByteStream {
    private let file: PlainFile
    private var remaining: Int
    private var strm = z_stream()
    private var input: [UInt8]
    private var inPos = 0, inEnd = 0
    private var finished = false
    private var initialized = false

    init(path: String, offset: Int, length: Int) throws {
        file = try PlainFile(path)
        try file.seek(to: offset)
        remaining = length
        input = [UInt8](repeating: 0, count: 1 << 16)
        super.init(path: path)
        let rc = acol_inflate_init(&strm)
        guard rc == Z_OK else { throw DatasetError.corrupt(path: path, reason: "inflateInit failed (\(rc))") }
        initialized = true
    }

    override func read(_ buffer: UnsafeMutableRawBufferPointer) throws -> Int {
        if finished || buffer.count == 0 { return 0 }
        var produced = 0
        while produced < buffer.count && !finished {
            if inPos == inEnd && remaining > 0 {
                let n = try input.withUnsafeMutableBytes {
                    try file.readFully(UnsafeMutableRawBufferPointer(rebasing: $0[0..<min($0.count, remaining)]))
                }
                if n == 0 {
                    throw DatasetError.truncated(path: path, expected: "\(remaining) more compressed bytes", found: "end of file")
                }
                remaining -= n; inPos = 0; inEnd = n
            }
            let rc: Int32 = input.withUnsafeMutableBufferPointer { inBuf in
                strm.next_in = inBuf.baseAddress! + inPos
                strm.avail_in = UInt32(inEnd - inPos)
                strm.next_out = (buffer.baseAddress! + produced).assumingMemoryBound(to: UInt8.self)
                strm.avail_out = UInt32(min(buffer.count - produced, Int(UInt32.max)))
                let before = strm.avail_out
                let r = inflate(&strm, Z_NO_FLUSH)
                produced += Int(before - strm.avail_out)
                inPos = inEnd - Int(strm.avail_in)
                return r
            }
            switch rc {
            case Z_STREAM_END: finished = true
            case Z_OK: break
            case Z_BUF_ERROR:
                if inPos == inEnd && remaining == 0 {
                    throw DatasetError.truncated(path: path, expected: "a complete zlib stream", found: "one that ends early")
                }
            default:
                let msg = strm.msg.map { String(decoding: UnsafeRawBufferPointer(start: $0, count: strlen($0)), as: UTF8.self) } ?? "zlib error \(rc)"
                throw DatasetError.corrupt(path: path, reason: msg)
            }
        }
        return produced
    }

    override func close() {
        if initialized { inflateEnd(&strm); initialized = false }
        file.close()
    }
    deinit { close() }
}

/// Big-endian u32 at `i`.
@inline(__always) func be32(_ b: [UInt8], _ i: Int) -> UInt32 {
    UInt32(b[i]) << 24 | UInt32(b[i + 1]) << 16 | UInt32(b[i + 2]) << 8 | UInt32(b[i + 3])
}

/// Whole-file helpers for small files (tests, fixtures, the command-line tool).
public enum GzipFiles {
    /// The bytes of a file, decompressed when it starts with the gzip magic bytes 1f 8b.
    /// Refuses to return more than `limit` bytes.
    public static func readAll(path: String, limit: Int = 1 << 30) throws -> [UInt8] {
        let s = try openMaybeGzip(path)
        defer { s.close() }
        var out: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = try chunk.withUnsafeMutableBytes { try s.read($0) }
            if n == 0 { break }
            out += chunk[0..<n]
            if out.count > limit { throw DatasetError.cannotRead(path: path, reason: "more than \(limit) bytes") }
        }
        return out
    }

    /// Writes `bytes` as a gzip file (level 1...9), atomically (`OutputFile`). `inputs` are
    /// refused as the target.
    public static func write(_ bytes: [UInt8], to path: String, level: Int = 6, inputs: [String] = []) throws {
        let out = try OutputFile(path, inputs: inputs, keepOpen: false)
        guard let g = gzopen(out.temporaryPath, "wb\(min(9, max(1, level)))") else { throw DatasetError.cannotWrite(path: path, reason: errnoText()) }
        var off = 0
        var failed = false
        bytes.withUnsafeBytes { b in
            while off < b.count {
                let n = min(b.count - off, 1 << 20)
                if gzwrite(g, b.baseAddress! + off, UInt32(n)) != Int32(n) { failed = true; break }
                off += n
            }
        }
        if gzclose(g) != Z_OK || failed {
            out.abort()
            throw DatasetError.cannotWrite(path: path, reason: "gzip write failed")
        }
        try out.commit()
    }
}
