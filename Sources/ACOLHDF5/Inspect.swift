import Foundation

/// What a file on disk is.
public enum HDF5FileKind: Equatable, Sendable {
    /// An acol model file (root format = "acol-model") of the given format_version.
    case model(version: Int)
    /// An acol data-set file (root format = "acol-dataset") of the given format_version.
    case dataset(version: Int)
    /// An HDF5 file not written by acol; `format` is its root `format` attribute if it has a string one.
    case foreignHDF5(format: String?)
    /// Not an HDF5 file at all.
    case notHDF5
}

/// One attribute of an object, for display.
public struct HDF5AttributeInfo: Equatable, Sendable {
    public var name: String
    /// numpy-style stored type: "int64", "float32", "string", "string[8]", ...
    public var dtype: String
    /// [] for a scalar.
    public var shape: [Int]
    /// The value as short text: a string in quotes, a few numbers, or "…" when large.
    public var value: String
}

/// One group or dataset of an HDF5 file, for `acol inspect`.
public struct HDF5TreeNode: Equatable, Sendable {
    public enum Kind: String, Sendable { case group, dataset, namedType = "named type", other }
    /// Absolute HDF5 path ("/", "/train/images").
    public var path: String
    public var kind: Kind
    /// Datasets only.
    public var shape: [Int]?
    /// Datasets only.
    public var dtype: String?
    public var attributes: [HDF5AttributeInfo]
    /// Why a group's contents are not listed (a hard-link cycle, nesting too deep); nil otherwise.
    public var note: String? = nil
}

/// Classifying files and listing foreign ones.
public enum HDF5Inspector {
    /// Model, data set, foreign HDF5 or not HDF5. Throws only when the file is missing or an HDF5
    /// file that cannot be opened (e.g. truncated).
    public static func classify(_ path: String) throws -> HDF5FileKind {
        try H5Session.run {
            let root: H5ID
            do {
                root = try HDF5Files.openHDF5(path)
            } catch HDF5Error.notHDF5 {
                return .notHDF5
            }
            defer { root.close() }
            guard try root.hasAttribute("format") else { return .foreignHDF5(format: nil) }
            let format: String
            do {
                format = try root.stringAttribute("format")
            } catch let e as HDF5Error {
                // A `format` that is not one string makes a foreign file; one libhdf5 cannot
                // read (a damaged heap) is an error, not a foreign file.
                if case .library = e { throw e }
                return .foreignHDF5(format: nil)
            }
            let version = (try? root.intAttribute("format_version")) ?? 0
            switch format {
            case ModelFile.formatName: return .model(version: version)
            case DatasetFile.formatName: return .dataset(version: version)
            default: return .foreignHDF5(format: format)
            }
        }
    }

    /// Every group and dataset reachable by hard links from the root, depth first in name order,
    /// the root first; with shapes, dtypes and attributes.
    public static func tree(_ path: String) throws -> [HDF5TreeNode] {
        try H5Session.run {
            let root = try HDF5Files.openHDF5(path)
            defer { root.close() }
            var out = [HDF5TreeNode(path: "/", kind: .group, shape: nil, dtype: nil, attributes: try attributes(of: root))]
            for entry in try GroupWalk.walk(root, includeAll: true) {
                let name = entry.path
                var node = HDF5TreeNode(path: "/" + name, kind: .other, shape: nil, dtype: nil, attributes: [], note: entry.note)
                switch entry.kind {
                case .group:
                    node.kind = .group
                    node.attributes = try closing(root.openGroup(name)) { try attributes(of: $0) }
                case .dataset:
                    node.kind = .dataset
                    try closing(root.openDataset(name)) { ds in
                        node.shape = try ds.shape()
                        node.dtype = try ds.dtype()
                        node.attributes = try attributes(of: ds)
                    }
                case .namedType: node.kind = .namedType
                case .other: node.kind = .other
                }
                out.append(node)
            }
            return out
        }
    }

    static func attributes(of object: H5ID) throws -> [HDF5AttributeInfo] {
        try object.attributeNames().map { name in
            try closing(object.openAttribute(name)) { a in
                let shape = try a.shape()
                let dtype = try a.dtype()
                return HDF5AttributeInfo(name: name, dtype: dtype, shape: shape, value: valueText(a, dtype: dtype, shape: shape))
            }
        }
    }

    private static func valueText(_ a: H5ID, dtype: String, shape: [Int]) -> String {
        let n = shape.reduce(1, *)
        func clip(_ s: String) -> String { s.count > 120 ? String(s.prefix(117)) + "..." : s }
        if dtype.hasPrefix("string") {
            guard let r = try? a.readStrings() else { return "<unreadable>" }
            if r.scalar { return clip("\"" + (r.values.first ?? "") + "\"") }
            return clip("[" + r.values.prefix(16).map { "\"\($0)\"" }.joined(separator: ", ") + (n > 16 ? ", ..." : "") + "]")
        }
        guard n <= 16, dtype.hasPrefix("int") || dtype.hasPrefix("uint") || dtype.hasPrefix("float") else {
            return "<\(dtype) \(shape)>"
        }
        let text: [String]
        if dtype.hasPrefix("float") {
            guard let v = try? a.readAll(Double.self).values else { return "<unreadable>" }
            text = v.map { "\($0)" }
        } else if dtype == "uint64" {
            guard let v = try? a.readAll(UInt64.self).values else { return "<unreadable>" }
            text = v.map { "\($0)" }
        } else {
            guard let v = try? a.readAll(Int64.self).values else { return "<unreadable>" }
            text = v.map { "\($0)" }
        }
        return shape.isEmpty ? (text.first ?? "") : "[" + text.joined(separator: ", ") + "]"
    }
}
