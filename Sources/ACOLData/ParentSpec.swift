import Foundation

/// How fine classes are grouped into parents (coarse labels) for a data set whose files carry
/// fine labels only. CIFAR-100 and two-level PNG folders bring their own parents.
///
/// Text form (`ParentSpec.parse`), groups separated by commas, each optionally named after ':':
///
///     0-4,5-9                     two parents, named "0-4" and "5-9"
///     0-4:small,5-9:large         the same with names
///     0+2+3+4+6:tops,5+7+9:shoes,1:trouser,8:bag    '+' joins classes and ranges in a group
///     div:2                       `byDivision(2)`: parent = label div (classes / 2)
///
/// Every fine class must belong to exactly one group. Class numbers are label values.
public enum ParentSpec: Equatable, Sendable {
    /// Explicit groups of fine-class indices, with optional names.
    case groups([ParentGroup])
    /// ACOL.md's "parent = label div (classes / n)": n parents of equal size (the class count
    /// must be divisible by n).
    case byDivision(Int)
    /// Lines of a mapping file: each fine class (index or name) and the name of its parent.
    case mapping([MappingEntry])

    public struct ParentGroup: Equatable, Sendable {
        public var classes: [Int]
        public var name: String?
        public init(classes: [Int], name: String? = nil) { self.classes = classes; self.name = name }
    }

    public struct MappingEntry: Equatable, Sendable {
        /// A fine-class index ("3") or name ("Ankle boot").
        public var fine: String
        public var parent: String
        public init(fine: String, parent: String) { self.fine = fine; self.parent = parent }
    }

    /// Fashion-MNIST's natural hierarchy (ACOL.md): tops, footwear, trouser, bag.
    public static let fashionMNIST = ParentSpec.groups([
        ParentGroup(classes: [0, 2, 3, 4, 6], name: "tops"),
        ParentGroup(classes: [5, 7, 9], name: "footwear"),
        ParentGroup(classes: [1], name: "trouser"),
        ParentGroup(classes: [8], name: "bag"),
    ])

    /// Parses the text form described above.
    public static func parse(_ text: String) throws -> ParentSpec {
        let t = text.trimmingCharacters(in: .whitespaces)
        func bad(_ r: String) -> DataError {
            .invalidParentSpec(source: text.count > 60 ? "'\(text.prefix(40))...' (\(text.count) characters)" : "'\(text)'", reason: r)
        }
        if t.lowercased().hasPrefix("div:") {
            guard let n = Int(t.dropFirst(4).trimmingCharacters(in: .whitespaces)), n >= 1 else {
                throw bad("expected div:<number of parents>, e.g. div:2")
            }
            return .byDivision(n)
        }
        if t.lowercased() == "fashion" || t.lowercased() == "fashion-mnist" { return .fashionMNIST }
        var groups: [ParentGroup] = []
        var total = 0   // classes in all groups, at most 1,000,000 (bounds the memory a spec takes)
        for part in t.split(separator: ",", omittingEmptySubsequences: false) {
            var body = Substring(part.trimmingCharacters(in: .whitespaces))
            var name: String?
            if let c = body.firstIndex(of: ":") {
                name = body[body.index(after: c)...].trimmingCharacters(in: .whitespaces)
                body = Substring(body[..<c].trimmingCharacters(in: .whitespaces))
                if name!.isEmpty { throw bad("expected a name after ':' in '\(part)'") }
            }
            if body.isEmpty { throw bad("expected a class or a range such as 0-4, found an empty group") }
            var classes: [Int] = []
            for item in body.split(separator: "+") {
                let ends = item.split(separator: "-", omittingEmptySubsequences: false)
                    .map { $0.trimmingCharacters(in: .whitespaces) }
                guard (1...2).contains(ends.count), let a = Int(ends[0]), let b = Int(ends.last!), a >= 0, a <= b else {
                    throw bad("expected a class number or a range a-b with a <= b, found '\(item)'")
                }
                guard b - a < 1_000_000 else { throw bad("range '\(item)' is too large") }
                total += b - a + 1
                guard total <= 1_000_000 else { throw bad("expected at most 1000000 classes in all groups, found more at '\(item)'") }
                classes += Array(a...b)
            }
            groups.append(ParentGroup(classes: classes, name: name))
        }
        return .groups(groups)
    }

    /// Reads a mapping file: one line per fine class, `<fine>: <parent>`, where <fine> is a
    /// class index or a class name; blank lines and lines starting with '#' are ignored.
    /// Parents are numbered in the order they first appear.
    /// The file must be a regular file (a FIFO would block); a UTF-8 byte-order mark is
    /// skipped and lines may end in LF, CRLF or CR.
    public static func load(mappingFile path: String) throws -> ParentSpec {
        try InputFile.requireRegular(path)
        guard let data = FileManager.default.contents(atPath: path) else {
            throw DataError.cannotRead(path: path, reason: "no such file or not readable")
        }
        guard data.count < 16 << 20 else {
            throw DataError.invalidParentSpec(source: path, reason: "expected a small text file, found \(data.count) bytes")
        }
        var entries: [MappingEntry] = []
        let body = data.starts(with: [0xEF, 0xBB, 0xBF]) ? data.dropFirst(3) : data[...]
        for (n, raw) in String(decoding: body, as: UTF8.self).split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            guard let c = line.lastIndex(of: ":") else {
                throw DataError.invalidParentSpec(source: "\(path) line \(n + 1)",
                                                     reason: "expected '<fine class>: <parent>', found '\(line)'")
            }
            let fine = line[..<c].trimmingCharacters(in: .whitespaces)
            let parent = line[line.index(after: c)...].trimmingCharacters(in: .whitespaces)
            guard !fine.isEmpty, !parent.isEmpty else {
                throw DataError.invalidParentSpec(source: "\(path) line \(n + 1)",
                                                     reason: "expected '<fine class>: <parent>', found '\(line)'")
            }
            entries.append(MappingEntry(fine: fine, parent: parent))
        }
        if entries.isEmpty {
            throw DataError.invalidParentSpec(source: path, reason: "expected '<fine class>: <parent>' lines, found none")
        }
        return .mapping(entries)
    }

    /// Parent names and the parent of each fine class, for these fine classes.
    public func resolve(fineNames: [String]) throws -> (parentNames: [String], parentOfFine: [Int]) {
        let n = fineNames.count
        let src = text
        switch self {
        case .byDivision(let parts):
            guard parts >= 1, parts <= n, n % parts == 0 else {
                throw DataError.invalidParentSpec(source: "div:\(parts)",
                    reason: "expected a number of parents that divides the \(n) classes")
            }
            let size = n / parts
            let names = (0..<parts).map { p in size == 1 ? "\(p * size)" : "\(p * size)-\(p * size + size - 1)" }
            return (names, (0..<n).map { $0 / size })
        case .groups(let groups):
            var parentOf = [Int](repeating: -1, count: n)
            var names: [String] = []
            for (g, group) in groups.enumerated() {
                for c in group.classes {
                    guard c < n else {
                        throw DataError.invalidParentSpec(source: src, reason: "class \(c) does not exist, expected 0...\(n - 1)")
                    }
                    guard parentOf[c] < 0 else {
                        throw DataError.invalidParentSpec(source: src, reason: "class \(c) is in two groups, expected it in one")
                    }
                    parentOf[c] = g
                }
                let name = group.name ?? Self.describe(group.classes)
                if let first = names.firstIndex(of: name) {
                    throw DataError.invalidParentSpec(source: src, reason: "parents \(first + 1) and \(g + 1) are both named '\(name)', expected a name for each (-k and the tables refer to parents by name)")
                }
                names.append(name)
            }
            if let missing = parentOf.firstIndex(of: -1) {
                throw DataError.invalidParentSpec(source: src, reason: "class \(missing) (\(fineNames[missing])) is in no group, expected every class 0...\(n - 1) in one")
            }
            return (names, parentOf)
        case .mapping(let entries):
            var parentOf = [Int](repeating: -1, count: n)
            var names: [String] = []
            for e in entries {
                let f: Int
                if let i = Int(e.fine) { f = i } else if let i = fineNames.firstIndex(of: e.fine) {
                    // A name two classes share cannot say which one is meant.
                    if let j = fineNames[(i + 1)...].firstIndex(of: e.fine) {
                        throw DataError.invalidParentSpec(source: "mapping", reason: "fine class name '\(e.fine)' names classes \(i) and \(j), expected a name of one class (give the class number instead)")
                    }
                    f = i
                } else {
                    throw DataError.invalidParentSpec(source: "mapping", reason: "fine class '\(e.fine)' is unknown, expected an index 0...\(n - 1) or one of the class names")
                }
                guard f >= 0 && f < n else {
                    throw DataError.invalidParentSpec(source: "mapping", reason: "class \(f) does not exist, expected 0...\(n - 1)")
                }
                guard parentOf[f] < 0 else {
                    throw DataError.invalidParentSpec(source: "mapping", reason: "class \(e.fine) is mapped twice, expected once")
                }
                if let p = names.firstIndex(of: e.parent) { parentOf[f] = p } else { names.append(e.parent); parentOf[f] = names.count - 1 }
            }
            if let missing = parentOf.firstIndex(of: -1) {
                throw DataError.invalidParentSpec(source: "mapping", reason: "class \(missing) (\(fineNames[missing])) has no parent, expected every class mapped")
            }
            return (names, parentOf)
        }
    }

    /// The spec in its text form (mapping specs print as "mapping").
    public var text: String {
        switch self {
        case .byDivision(let n): return "div:\(n)"
        case .mapping: return "mapping"
        case .groups(let g):
            return g.map { Self.describe($0.classes) + ($0.name.map { ":" + $0 } ?? "") }.joined(separator: ",")
        }
    }

    /// "0-4", "0+2+3", "5-7+9" for a list of classes.
    static func describe(_ classes: [Int]) -> String {
        var parts: [String] = []
        var i = 0
        while i < classes.count {
            var j = i
            while j + 1 < classes.count && classes[j + 1] == classes[j] + 1 { j += 1 }
            parts.append(j > i ? "\(classes[i])-\(classes[j])" : "\(classes[i])")
            i = j + 1
        }
        return parts.joined(separator: "+")
    }
}
