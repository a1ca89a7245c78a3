import Foundation

/// Parent (coarse) labels derived from fine labels: the one place where a fine label is mapped to
/// its parent, for the importers, the data-set loader and evaluation.
public struct ParentMapping: Equatable, Sendable {
    public var parentNames: [String]
    /// parentOfFine[f] is the parent of fine class f.
    public var parentOfFine: [Int]

    public init(parentNames: [String], parentOfFine: [Int]) {
        self.parentNames = parentNames; self.parentOfFine = parentOfFine
    }

    /// One parent ("all") for every fine class: clustering without coarse labels.
    public static func single(fineClasses: Int) -> ParentMapping {
        ParentMapping(parentNames: ["all"], parentOfFine: [Int](repeating: 0, count: fineClasses))
    }

    /// The parent of each fine label. `source` names the data in errors.
    public func parents(of fine: [Int32], source: String) throws -> [Int32] {
        var out = [Int32](repeating: 0, count: fine.count)
        for (i, f) in fine.enumerated() {
            guard f >= 0, Int(f) < parentOfFine.count else {
                throw DataError.unmappedLabel(path: source, label: Int(f), classes: parentOfFine.count)
            }
            out[i] = Int32(parentOfFine[Int(f)])
        }
        return out
    }
}

extension ImageSet {
    /// The same images with coarse labels computed from the fine ones. Throws when the set has no
    /// fine labels or a label has no parent.
    public func withParents(_ mapping: ParentMapping, source: String) throws -> ImageSet {
        guard let fine = fineLabels else {
            throw DataError.badInput(path: source, expected: "fine labels to derive parents from", found: "none")
        }
        var s = self
        s.coarseLabels = try mapping.parents(of: fine, source: source)
        return s
    }
}
