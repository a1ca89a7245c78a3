import Foundation
#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The documented limits of the importers (docs/importers.md, "Limits"). Every size read from
/// an input file or given as an option is checked against them, with overflow-checked
/// products, before anything is allocated in proportion to it.
public enum ImportLimits {
    /// Largest image side (height or width), in the files and as an option.
    public static let maxSide = 16384
    /// Largest image, in bytes of 8-bit samples (height x width x channels): 64 MiB, for the
    /// images read and for those written. The data-set reader (ACOLHDF5) accepts larger images
    /// (2^28 bytes), so every data set the importers write can be read back.
    public static let maxImageBytes = 1 << 26
    /// Largest batch handed to a sink, in bytes of pixels: 256 MiB. The batch size asked for
    /// is lowered (never below one image) so that a batch stays within it; the output is the same.
    public static let maxBatchBytes = 1 << 28
    /// Most images in one input file (labels are stored as Int32).
    public static let maxItems = Int(Int32.max)

    /// Checks an image shape read from `path` (sides 1...maxSide, 1...4 channels, at most
    /// maxImageBytes) and returns its size in bytes. `what` names the field in messages.
    @discardableResult
    static func checkImage(path: String, height: Int, width: Int, channels: Int, what: String) throws -> Int {
        let found = "\(height)x\(width)x\(channels) (height x width x channels)"
        guard (1...maxSide).contains(height), (1...maxSide).contains(width), (1...4).contains(channels) else {
            throw DatasetError.badHeader(path: path, expected: "\(what) of sides 1...\(maxSide) and 1...4 channels", found: found)
        }
        guard let bytes = CheckedSize.product([height, width, channels]), bytes <= maxImageBytes else {
            throw DatasetError.badHeader(path: path, expected: "\(what) of at most \(maxImageBytes) bytes (2^26)", found: found)
        }
        return bytes
    }

    /// Checks the output shape asked for in the options (same limits as the files').
    static func checkTarget(height: Int, width: Int, channels: Int) throws {
        guard (1...maxSide).contains(height), (1...maxSide).contains(width) else {
            throw DatasetError.invalidOption("height and width must be 1...\(maxSide), found \(height)x\(width)")
        }
        guard let bytes = CheckedSize.product([height, width, channels]), bytes <= maxImageBytes else {
            throw DatasetError.invalidOption("an image of \(height)x\(width)x\(channels) is \(height * width * channels) bytes, expected at most \(maxImageBytes) (2^26) bytes per image")
        }
    }

    /// The number of images per batch: `requested`, lowered so that a batch of the larger of
    /// the two image sizes stays within maxBatchBytes (at least one image).
    static func batchImages(requested: Int, imageBytes: [Int]) -> Int {
        let largest = max(1, imageBytes.max() ?? 1)
        return max(1, min(requested, maxBatchBytes / largest))
    }
}

// MARK: regular files

/// What a `stat` mode is, for messages ("a FIFO", "a folder", ...).
func fileKindName(_ mode: mode_t) -> String {
    switch mode & S_IFMT {
    case S_IFDIR: return "a folder"
    case S_IFIFO: return "a FIFO (named pipe)"
    case S_IFCHR: return "a character device"
    case S_IFBLK: return "a block device"
    case S_IFSOCK: return "a socket"
    case S_IFLNK: return "a symbolic link"
    case S_IFREG: return "a regular file"
    default: return "a special file"
    }
}

/// Opens `path` for reading as a file descriptor, refusing anything but a regular file
/// (following symbolic links). The file is opened with O_NONBLOCK, so that a FIFO or a device
/// cannot block the open, then checked with fstat (no race between the check and the open),
/// then switched back to blocking reads.
func openRegularFile(_ path: String) throws -> Int32 {
    let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
    guard fd >= 0 else { throw DatasetError.cannotRead(path: path, reason: errnoText()) }
    var st = stat()
    guard fstat(fd, &st) == 0 else {
        let r = errnoText(); close(fd)
        throw DatasetError.cannotRead(path: path, reason: r)
    }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        close(fd)
        throw DatasetError.cannotRead(path: path, reason: "is \(fileKindName(st.st_mode)), expected a regular file")
    }
    let flags = fcntl(fd, F_GETFL)
    if flags >= 0 { _ = fcntl(fd, F_SETFL, flags & ~O_NONBLOCK) }
    return fd
}

/// Closes a descriptor from `openRegularFile` (for classes whose own `close()` hides the C one).
func closeFile(_ fd: Int32) { _ = close(fd) }

/// `openRegularFile` as a stdio stream.
func openRegularStdio(_ path: String) throws -> UnsafeMutablePointer<FILE> {
    let fd = try openRegularFile(path)
    guard let fp = fdopen(fd, "rb") else {
        let r = errnoText(); close(fd)
        throw DatasetError.cannotRead(path: path, reason: r)
    }
    return fp
}

/// Checks, with stat (which never blocks), that `path` is a regular file; returns its size.
func regularFileSize(_ path: String) throws -> Int {
    var st = stat()
    guard stat(path, &st) == 0 else { throw DatasetError.cannotRead(path: path, reason: errnoText()) }
    guard (st.st_mode & S_IFMT) == S_IFREG else {
        let kind = fileKindName(st.st_mode)
        throw DatasetError.cannotRead(path: path, reason: "is \(kind), expected \(kind == "a folder" ? "a file" : "a regular file")")
    }
    return Int(st.st_size)
}

/// The whole content of a small regular file (at most `limit` bytes), for text files such as
/// class-name and mapping files.
func readSmallFile(_ path: String, limit: Int, what: String) throws -> [UInt8] {
    let fd = try openRegularFile(path)
    defer { close(fd) }
    var out: [UInt8] = []
    var chunk = [UInt8](repeating: 0, count: 1 << 16)
    while true {
        let n = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
        if n < 0 {
            if errno == EINTR { continue }
            throw DatasetError.cannotRead(path: path, reason: errnoText())
        }
        if n == 0 { break }
        out += chunk[0..<n]
        if out.count > limit {
            throw DatasetError.cannotRead(path: path, reason: "expected \(what) of at most \(limit) bytes, found more")
        }
    }
    return out
}

/// Lines of a text file: a UTF-8 byte-order mark is dropped, and LF, CRLF and CR all end lines.
func textLines(_ bytes: [UInt8]) -> [Substring] {
    let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? bytes.dropFirst(3) : bytes[...]
    return String(decoding: body, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)
}
