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

extension ClusterInfo {
    /// Parents with two or more clusters whose examples (at least as many as it has clusters) all
    /// went to one of them: a training that collapsed there (the body's features carry nothing
    /// the head can tell apart). `images`: the parent's examples, `nodes`: its clusters.
    public static func collapsedParents(_ clusters: [ClusterInfo]) -> [(parent: Int, node: Int, images: Int, nodes: Int)] {
        var out: [(parent: Int, node: Int, images: Int, nodes: Int)] = []
        for parent in Set(clusters.map(\.parent)).sorted() {
            let mine = clusters.filter { $0.parent == parent }
            let total = mine.reduce(0) { $0 + $1.count }
            let used = mine.filter { $0.count > 0 }
            if mine.count >= 2, total >= mine.count, used.count == 1 {
                out.append((parent, used[0].node, total, mine.count))
            }
        }
        return out
    }
}
