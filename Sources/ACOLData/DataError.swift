import Foundation

/// Errors of the data layer: label mappings, parent specifications, input and output files.
/// Each message is one line naming the file (or the specification) and what was expected and found.
public enum DataError: Error, LocalizedError, Equatable {
    /// A file or folder cannot be opened or read (missing, a permission problem, an I/O error).
    case cannotRead(path: String, reason: String)
    /// An input that is not what was expected (a FIFO or device where a file is expected, ...).
    case badInput(path: String, expected: String, found: String)
    /// A parent specification (text or mapping file) that cannot be used.
    case invalidParentSpec(source: String, reason: String)
    /// A label that has no parent in the mapping (or is outside the classes).
    case unmappedLabel(path: String, label: Int, classes: Int)
    /// An output that cannot be used: the same file as an input, a special file, a missing folder.
    case badOutput(path: String, reason: String)
    /// An output that could not be written (full disk, file-size limit, I/O error).
    case cannotWrite(path: String, reason: String)
    /// A call out of order (a programming error in the caller, reported instead of trapping).
    case usage(String)

    public var errorDescription: String? {
        switch self {
        case .cannotRead(let p, let r): return "\(p): cannot read: \(r)"
        case .badInput(let p, let e, let f): return "\(p): expected \(e), found \(f)"
        case .invalidParentSpec(let s, let r): return "parent spec \(s): \(r)"
        case .unmappedLabel(let p, let l, let n):
            return "\(p): fine label \(l) has no parent in the mapping (expected 0...\(max(0, n - 1)))"
        case .badOutput(let p, let r): return "\(p): cannot be an output: \(r)"
        case .cannotWrite(let p, let r): return "\(p): cannot write: \(r)"
        case .usage(let s): return "usage error: \(s)"
        }
    }
}

/// The text of the current errno.
func errnoText(_ code: Int32 = errno) -> String { String(cString: strerror(code)) }
