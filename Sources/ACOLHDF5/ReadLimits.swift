internal import CHDF5
import ACOL
import Foundation

/// Checks on sizes read from a file, made before anything of that size is allocated (the limits
/// themselves are `ACOLLimits`, docs/file-format.md "Limits").
enum ReadLimits {
    /// Values one array (attribute or dataset other than weights and images) may hold at most
    /// when a reader gives no tighter limit (weights: `ACOLLimits.maxParameters`).
    static let defaultMaxElements = 1 << 24
    /// Strings of one string attribute or dataset, at most, and their bytes (fixed-length ones).
    static let maxStrings = 1 << 20
    static let maxStringBytes = 1 << 28
    /// Highest compression ratio a stored dataset may claim: gzip (deflate) cannot exceed about
    /// 1032:1. A dataset declaring more data than that times the file size is sparse (chunks never
    /// written, read back as fill values) or damaged, and is refused before a buffer is allocated.
    static let maxCompressionRatio = 1100
    /// Slack for tiny files (metadata overhead).
    static let plausibilitySlack = 1 << 20

    /// An HDF5 dimension as an Int (a dimension beyond Int.max is an error, not a trap).
    static func int(_ d: hsize_t, _ object: H5ID) throws -> Int {
        guard d <= hsize_t(Int.max) else {
            throw HDF5Error.invalidContent(path: object.path, object: object.name, problem: "expected a dimension below 2^63, found \(d)")
        }
        return Int(d)
    }

    /// The number of elements of `shape`, checked (overflow-checked product) against `limit`.
    static func elementCount(_ shape: [Int], of object: H5ID, limit: Int) throws -> Int {
        guard let n = CheckedSize.product(shape), n <= limit else {
            throw HDF5Error.invalidContent(path: object.path, object: object.name,
                                           problem: "expected at most \(limit) values, found shape \(shape)\(CheckedSize.product(shape).map { " (\($0) values)" } ?? " (too many to count)")")
        }
        return n
    }

    /// Fixed-length strings: n strings of `size` bytes (plus a NUL each), overflow-checked.
    static func stringBytes(count n: Int, size: Int, of object: H5ID) throws -> Int {
        guard let total = CheckedSize.product([n, size + 1]), total <= maxStringBytes else {
            throw HDF5Error.invalidContent(path: object.path, object: object.name,
                                           problem: "expected at most \(maxStringBytes) bytes of strings, found \(n) strings of \(size) bytes")
        }
        return total
    }

    /// Refuses a dataset that declares `count` rows of `rowBytes` bytes when the file (of
    /// `fileSize` bytes) cannot hold them even compressed at gzip's best.
    static func requirePlausible(count: Int, rowBytes: Int, what: String, fileSize: Int, object: String, path: String) throws {
        let bytes = CheckedSize.product([count, rowBytes])
        let most = CheckedSize.product([fileSize, maxCompressionRatio]).map { $0 + plausibilitySlack } ?? Int.max
        guard let bytes, bytes <= most else {
            throw HDF5Error.invalidContent(path: path, object: object,
                                           problem: "declares \(count) \(what) (\(bytes.map { "\($0) bytes" } ?? "too many bytes to count")), more than a file of \(fileSize) bytes can hold even compressed: the dataset is sparse (never written) or its shape is damaged")
        }
    }

    /// The size of the file at `path` (0 when it cannot be read: the checks then refuse big data).
    static func fileSize(_ path: String) -> Int {
        var st = stat()
        guard stat(path, &st) == 0 else { return 0 }
        return Int(st.st_size)
    }
}

/// Counts of a data-set file's header checked against `ACOLLimits`.
enum DatasetChecks {
    static func names(fine: Int, parents: Int, path: String) throws {
        if let (what, n) = tooManyNames(fine: fine, parents: parents) {
            throw HDF5Error.invalidContent(path: path, object: "/ attribute '\(what)'",
                                           problem: "expected at most \(ACOLLimits.maxClasses) names, found \(n)")
        }
    }

    /// The first of the name lists (attribute name, count) longer than `ACOLLimits.maxClasses`:
    /// the reader refuses such a file, so the writer refuses to make one.
    static func tooManyNames(fine: Int, parents: Int) -> (String, Int)? {
        [("fine_names", fine), ("parent_names", parents)].first { $0.1 > ACOLLimits.maxClasses }
    }

    static func splitCount(_ n: Int, path: String) throws {
        guard n <= ACOLLimits.maxSplits else {
            throw HDF5Error.invalidContent(path: path, object: "/ attribute 'splits'",
                                           problem: "expected at most \(ACOLLimits.maxSplits) splits, found \(n)")
        }
    }
}
