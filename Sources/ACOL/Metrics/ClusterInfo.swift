import Foundation

/// What one output node (cluster) was found to be, from fine labels seen after training.
public struct ClusterInfo: Codable, Equatable, Sendable {
    public var node: Int
    public var parent: Int
    public var duplicate: Int
    /// Examples assigned to this cluster when the mapping was computed.
    public var count: Int
    /// The majority fine label among them (nil when the cluster is empty or labels were unknown).
    public var fineLabel: Int?
    public var fineName: String?
    /// Examples of the majority label.
    public var majorityCount: Int
    /// majorityCount / count (0 when empty).
    public var share: Double

    public init(node: Int, parent: Int, duplicate: Int, count: Int, fineLabel: Int?, fineName: String?,
                majorityCount: Int, share: Double) {
        self.node = node; self.parent = parent; self.duplicate = duplicate; self.count = count
        self.fineLabel = fineLabel; self.fineName = fineName; self.majorityCount = majorityCount
        self.share = share
    }
}
