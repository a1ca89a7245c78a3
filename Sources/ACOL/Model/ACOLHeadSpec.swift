import Foundation

/// The ACOL output layer: Z = F W + b with one node per (parent, duplicate), softmax over all
/// nodes, sum-pooling into parents.
///
/// Node order: duplicate-major rounds over the parents. With the same k for every parent this
/// is the reference's interleaving, node j = parent j mod n_p, duplicate j div n_p. With one k
/// per parent (`duplicates`), round d holds, in parent order, the parents that have more than d
/// duplicates: for k = [3, 1, 2] the nodes are (p0 d0) (p1 d0) (p2 d0) (p0 d1) (p2 d1) (p0 d2).
public struct ACOLHeadSpec: Codable, Equatable, Sendable {
    /// n_p, the number of parents (coarse classes). 1 means no coarse labels.
    public var parents: Int
    /// k, the duplicates per parent (with `duplicates`: the largest of them).
    public var k: Int
    /// Batch normalisation of F (with learnt scale and shift) before Z.
    public var batchNormBeforeZ: Bool
    /// The duplicates of each parent when they differ (nil: k for every parent).
    public var duplicates: [Int]?
    /// The epsilon of the BatchNorm before Z (nil: `referenceNormEpsilon`, Keras's 1e-3, which
    /// every model file written before 2026-12-07 used). `normEpsilon` is the value in force.
    public var batchNormEpsilon: Float?

    /// The BatchNorm epsilon of a head that does not say (Keras's default, the authors' code).
    public static let referenceNormEpsilon: Float = 1e-3

    public init(parents: Int, k: Int, batchNormBeforeZ: Bool = true, batchNormEpsilon: Float? = nil) {
        self.parents = parents; self.k = k; self.batchNormBeforeZ = batchNormBeforeZ
        self.batchNormEpsilon = batchNormEpsilon
    }

    /// A head with `duplicates[p]` nodes for parent p (all >= 1).
    public init(duplicates: [Int], batchNormBeforeZ: Bool = true, batchNormEpsilon: Float? = nil) {
        parents = duplicates.count
        k = duplicates.max() ?? 0
        self.batchNormBeforeZ = batchNormBeforeZ
        self.duplicates = Set(duplicates).count > 1 ? duplicates : nil
        self.batchNormEpsilon = batchNormEpsilon
    }

    /// The epsilon the BatchNorm before Z uses.
    public var normEpsilon: Float { batchNormEpsilon ?? Self.referenceNormEpsilon }

    /// The duplicates of parent p.
    public func duplicates(ofParent p: Int) -> Int { duplicates?[p] ?? k }

    /// Output nodes: n_p * k, or the sum of the per-parent counts.
    public var nodes: Int { duplicates?.reduce(0, +) ?? parents * k }

    /// The parent of every node, in node order.
    public var nodeParents: [Int] { nodeTable.map(\.parent) }

    /// (parent, duplicate) of every node, in node order.
    public var nodeTable: [(parent: Int, duplicate: Int)] {
        guard let duplicates else { return (0..<(parents * k)).map { ($0 % parents, $0 / parents) } }
        var out: [(Int, Int)] = []
        for d in 0..<k { for p in 0..<parents where duplicates[p] > d { out.append((p, d)) } }
        return out
    }

    public func parent(ofNode j: Int) -> Int { duplicates == nil ? j % parents : nodeTable[j].parent }
    public func duplicate(ofNode j: Int) -> Int { duplicates == nil ? j / parents : nodeTable[j].duplicate }

    /// The nodes of parent p, by duplicate.
    public func nodes(ofParent p: Int) -> [Int] {
        guard duplicates != nil else { return (0..<k).map { $0 * parents + p } }
        return nodeTable.enumerated().filter { $0.element.parent == p }.map(\.offset)
    }
}
