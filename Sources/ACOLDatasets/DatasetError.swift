import Foundation

/// Every error the importers throw. Each message is one line that names the file and says what
/// was expected and what was found. Importers never trap or exit on bad input.
public enum DatasetError: Error, LocalizedError, Equatable {
    /// The file or folder cannot be opened or read (missing, a permission problem, an I/O error).
    case cannotRead(path: String, reason: String)
    /// The first bytes are not those of the expected format.
    case badMagic(path: String, expected: String, found: String)
    /// The header has dimensions or fields that cannot be right (absurd sizes, wrong element type).
    case badHeader(path: String, expected: String, found: String)
    /// The file is shorter (or longer) than its header says.
    case wrongLength(path: String, expectedBytes: Int, foundBytes: Int)
    /// The data ends before the header says it should (streams whose length is not known up front).
    case truncated(path: String, expected: String, found: String)
    /// Two files that must agree (images and labels) do not.
    case countMismatch(path: String, expected: Int, found: Int, reference: String)
    /// A label is outside the range of the classes.
    case labelOutOfRange(path: String, index: Int, value: Int, valid: ClosedRange<Int>)
    /// Labels that contradict each other (a CIFAR-100 fine class under two superclasses).
    case labelMismatch(path: String, expected: String, found: String)
    /// A file named like a PNG that is not one (or that libpng cannot decode).
    case notPNG(path: String, found: String)
    /// An image whose size differs from the first one (and no resize option was given).
    case imageSizeMismatch(path: String, expected: String, found: String)
    /// A folder with nothing to import.
    case emptyFolder(path: String, expected: String)
    /// A folder or file whose layout or format is not recognised.
    case unknownLayout(path: String, expected: String, found: String)
    /// A format feature this importer does not handle (e.g. a MATLAB v7.3 file).
    case unsupported(path: String, expected: String, found: String)
    /// A compressed stream that cannot be inflated.
    case corrupt(path: String, reason: String)
    /// Options that contradict each other or the data.
    case invalidOption(String)
    /// A parent specification (text or mapping file) that cannot be used.
    case invalidParentSpec(source: String, reason: String)
    /// Inputs that cannot be converted together (different formats or shapes).
    case inconsistentInputs(expected: String, found: String)
    /// A file cannot be written.
    case cannotWrite(path: String, reason: String)

    public var errorDescription: String? {
        switch self {
        case .cannotRead(let p, let r): return "\(p): cannot read: \(r)"
        case .badMagic(let p, let e, let f): return "\(p): expected \(e), found \(f)"
        case .badHeader(let p, let e, let f): return "\(p): bad header: expected \(e), found \(f)"
        case .wrongLength(let p, let e, let f):
            return "\(p): expected \(e) bytes (from the header), found \(f) bytes"
        case .truncated(let p, let e, let f): return "\(p): truncated: expected \(e), found \(f)"
        case .countMismatch(let p, let e, let f, let r):
            return "\(p): expected \(e) items (as in \(r)), found \(f)"
        case .labelOutOfRange(let p, let i, let v, let r):
            return "\(p): label of item \(i) is \(v), expected \(r.lowerBound)...\(r.upperBound)"
        case .labelMismatch(let p, let e, let f): return "\(p): expected \(e), found \(f)"
        case .notPNG(let p, let f): return "\(p): expected a PNG image, found \(f)"
        case .imageSizeMismatch(let p, let e, let f):
            return "\(p): expected an image of \(e), found \(f) (a resize mode converts other sizes)"
        case .emptyFolder(let p, let e): return "\(p): expected \(e), found nothing to import"
        case .unknownLayout(let p, let e, let f): return "\(p): unknown layout: expected \(e), found \(f)"
        case .unsupported(let p, let e, let f): return "\(p): unsupported: expected \(e), found \(f)"
        case .corrupt(let p, let r): return "\(p): corrupt compressed data: \(r)"
        case .invalidOption(let s): return "invalid option: \(s)"
        case .invalidParentSpec(let s, let r): return "parent spec \(s): \(r)"
        case .inconsistentInputs(let e, let f): return "inputs do not fit together: expected \(e), found \(f)"
        case .cannotWrite(let p, let r): return "\(p): cannot write: \(r)"
        }
    }
}

/// "1,234,567"-free plain formatting of a hex magic number.
func hex32(_ v: UInt32) -> String {
    let s = String(v, radix: 16)
    return "0x" + String(repeating: "0", count: max(0, 8 - s.count)) + s
}

/// A short, printable rendering of the first bytes of a file, for error messages.
func describeBytes(_ bytes: [UInt8]) -> String {
    if bytes.isEmpty { return "an empty file" }
    let shown = bytes.prefix(8).map { b -> String in
        let s = String(b, radix: 16); return s.count == 1 ? "0" + s : s
    }.joined(separator: " ")
    return "bytes \(shown)"
}
