internal import CHDF5
import Foundation

/// Walking a group's hard links depth first in name order, safe on hostile files: each group
/// is entered once (a hard-link cycle or a group linked twice is not walked again), nesting and
/// the number of objects are bounded. `HDF5Inspector.tree` lists what can be shown and says
/// where it stopped (`note`); the model reader walks `/weights` strictly (any of these is an error).
enum GroupWalk {
    /// Groups entered below the starting group, at most.
    static let maxDepth = 64
    /// Objects listed at most.
    static let maxEntries = 100_000

    struct Entry {
        /// Relative to the starting group ("head/dense/kernel").
        var path: String
        var kind: H5ID.ObjectKind
        /// Why a group's contents are not listed here (nil when they are).
        var note: String?
    }

    /// Objects below `group`; with `includeAll` false only groups and datasets. With `strict`, a
    /// cycle, a group linked twice, nesting beyond `maxDepth` or more than `maxEntries` objects throw.
    static func walk(_ group: H5ID, includeAll: Bool = false, strict: Bool = false) throws -> [Entry] {
        var out: [Entry] = []
        var seen: [haddr_t: String] = [:]
        var info = H5O_info_t()
        if H5Oget_info_by_name2(group.raw, ".", &info, UInt32(H5O_INFO_BASIC), h5pDefault) >= 0 {
            seen[info.addr] = group.name
        } else {
            _ = H5Eclear2(acol_h5e_default())
        }
        func fail(_ object: String, _ problem: String) -> HDF5Error {
            HDF5Error.invalidContent(path: group.path, object: object, problem: problem)
        }
        func absolute(_ rel: String) -> String { group.child(rel) }

        func visit(_ g: H5ID, prefix: String, depth: Int) throws -> Bool {
            for name in try g.linkNames() {
                guard try g.isHardLink(name) else { continue }
                var oi = H5O_info_t()
                try check(H5Oget_info_by_name2(g.raw, name, &oi, UInt32(H5O_INFO_BASIC), h5pDefault), g.path,
                          "H5Oget_info_by_name2 \(g.child(name))")
                let kind: H5ID.ObjectKind
                switch oi.type {
                case H5O_TYPE_GROUP: kind = .group
                case H5O_TYPE_DATASET: kind = .dataset
                case H5O_TYPE_NAMED_DATATYPE: kind = .namedType
                default: kind = .other
                }
                let full = prefix.isEmpty ? name : prefix + "/" + name
                guard kind == .group || kind == .dataset || includeAll else { continue }
                if out.count >= maxEntries {
                    if strict { throw fail(group.name, "more than \(maxEntries) objects") }
                    if !out.isEmpty { out[out.count - 1].note = "listing stopped after \(maxEntries) objects" }
                    return false
                }
                guard kind == .group else { out.append(Entry(path: full, kind: kind)); continue }
                if let first = seen[oi.addr] {
                    if strict { throw fail(absolute(full), "is a second hard link to the group \(first) (a cycle or a shared group)") }
                    out.append(Entry(path: full, kind: .group, note: "the same group as \(first) (hard link), not listed again"))
                    continue
                }
                seen[oi.addr] = absolute(full)
                if depth + 1 > maxDepth {
                    if strict { throw fail(absolute(full), "groups nested more than \(maxDepth) deep") }
                    out.append(Entry(path: full, kind: .group, note: "nested more than \(maxDepth) groups deep: contents not listed"))
                    continue
                }
                out.append(Entry(path: full, kind: .group))
                let sub = try g.openGroup(name)
                defer { sub.close() }
                guard try visit(sub, prefix: full, depth: depth + 1) else { return false }
            }
            return true
        }
        _ = try visit(group, prefix: "", depth: 0)
        return out
    }
}
