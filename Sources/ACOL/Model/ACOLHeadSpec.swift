import Foundation

/// The ACOL output layer: Z = F W + b with `parents * k` nodes (node j belongs to parent
/// j mod parents and is duplicate j / parents), softmax over all nodes, sum-pooling into parents.
public struct ACOLHeadSpec: Codable, Equatable, Sendable {
    /// n_p, the number of parents (coarse classes). 1 means no coarse labels.
    public var parents: Int
    /// k, the duplicates per parent.
    public var k: Int
    /// Batch normalisation of F (with learnt scale and shift) before Z.
    public var batchNormBeforeZ: Bool

    public init(parents: Int, k: Int, batchNormBeforeZ: Bool = true) {
        self.parents = parents; self.k = k; self.batchNormBeforeZ = batchNormBeforeZ
    }

    /// n = n_p * k output nodes.
    public var nodes: Int { parents * k }
    public func parent(ofNode j: Int) -> Int { j % parents }
    public func duplicate(ofNode j: Int) -> Int { j / parents }
}
