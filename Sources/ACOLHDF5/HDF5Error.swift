import Foundation

/// Every error of the HDF5 layer and the two file formats built on it.
///
/// Messages name the file, say what was expected and what was found, and, when a libhdf5 call
/// failed, carry HDF5's own error stack (walked with H5Ewalk2) as text.
public enum HDF5Error: Error, LocalizedError, Equatable {
    /// The file does not exist (or cannot be seen).
    case fileNotFound(path: String)
    /// The file exists but is not an HDF5 file (no HDF5 signature).
    case notHDF5(path: String)
    /// A file written by acol whose size or checksum (kept in its HDF5 user block) does not match:
    /// truncated or corrupted after it was written.
    case damaged(path: String, problem: String)
    /// An HDF5 file that is not of the kind asked for: `expected` is "acol-model" or
    /// "acol-dataset", `found` the root `format` attribute (nil when there is none: a foreign HDF5 file).
    case wrongFormat(path: String, expected: String, found: String?)
    /// The file's `format_version` is not one this build reads.
    case unsupportedVersion(path: String, format: String, found: Int, supported: [Int])
    /// The file has the right format but an object in it is missing or not as the format says.
    /// `object` is the HDF5 path ("/weights/head/dense/kernel"), `problem` says expected vs found.
    case invalidContent(path: String, object: String, problem: String)
    /// A libhdf5 call failed. `operation` names the call and its object, `details` is HDF5's error stack.
    case library(path: String, operation: String, details: String)
    /// A file-system operation around the HDF5 file failed (temporary file, rename, remove).
    case io(path: String, operation: String, reason: String)
    /// The API was used in the wrong order or with arguments that do not fit (e.g. an image batch
    /// whose shape differs from the data set's).
    case usage(path: String, problem: String)

    /// The file the error is about.
    public var path: String {
        switch self {
        case .fileNotFound(let p), .notHDF5(let p), .damaged(let p, _): return p
        case .wrongFormat(let p, _, _), .unsupportedVersion(let p, _, _, _), .invalidContent(let p, _, _),
             .library(let p, _, _), .io(let p, _, _), .usage(let p, _): return p
        }
    }

    public var errorDescription: String? {
        switch self {
        case .fileNotFound(let p):
            return "\(p): no such file"
        case .notHDF5(let p):
            return "\(p): not an HDF5 file (no HDF5 signature found)"
        case .damaged(let p, let problem):
            return "\(p): damaged file: \(problem)"
        case .wrongFormat(let p, let expected, let found):
            let what = expected == ModelFile.formatName ? "an acol model file" :
                expected == DatasetFile.formatName ? "an acol data-set file" : "'\(expected)'"
            if let found {
                let kind = found == ModelFile.formatName ? "an acol model file" :
                    found == DatasetFile.formatName ? "an acol data-set file" : "format '\(found)'"
                return "\(p): expected \(what) (format '\(expected)'), found \(kind)"
            }
            return "\(p): expected \(what) (root attribute format = '\(expected)'), found an HDF5 file without a 'format' attribute (not written by acol)"
        case .unsupportedVersion(let p, let format, let found, let supported):
            return "\(p): \(format) format_version \(found) is not supported (this build reads version \(supported.map(String.init).joined(separator: ", ")))"
        case .invalidContent(let p, let object, let problem):
            return "\(p): \(object): \(problem)"
        case .library(let p, let operation, let details):
            // A failed system call (a full disk, a file-size limit) says it all: name it, not the
            // dozen HDF5 frames above it.
            if let r = details.range(of: "error message = '"), let end = details[r.upperBound...].firstIndex(of: "'") {
                let verb = details.contains("write failed") || details.contains("_write") ? "cannot write" : "cannot read"
                return "\(p): \(verb): \(details[r.upperBound..<end]) (HDF5 \(operation))"
            }
            // A structure of a newer file-format version (h5py with libver='latest' on HDF5 1.12
            // or later writes some): say so, and how to write a file this libhdf5 reads.
            if let r = details.range(of: "bad version number for ") {
                let what = details[r.upperBound...].prefix { $0 != "(" && $0 != ";" && $0 != "'" }
                    .trimmingCharacters(in: .whitespaces)
                return "\(p): written by a newer HDF5 library than acol's (libhdf5 \(HDF5Library.version)): a \(what) of a later format version (HDF5 \(operation)); write it with h5py's default libver ('earliest') or libver=('earliest', 'v110')"
            }
            return details.isEmpty ? "\(p): HDF5 error in \(operation)" : "\(p): HDF5 error in \(operation): \(details)"
        case .io(let p, let operation, let reason):
            return "\(p): \(operation) failed: \(reason)"
        case .usage(let p, let problem):
            return "\(p): \(problem)"
        }
    }
}
