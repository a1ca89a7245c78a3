import Testing
@testable import ACOL

/// Purity, Hungarian accuracy and NMI against numpy / scipy (Scripts/reference_values.py).
@Suite struct MetricsTests {
    @Test(arguments: Ref.metricCases)
    func reference(_ c: MetricCase) {
        let t = ClusterMetrics.contingency(assignments: c.assignments, labels: c.labels, clusters: c.clusters,
                                           classes: c.classes)
        #expect(t == c.table)
        expectClose(ClusterMetrics.purity(t), c.purity, floor: 1e-12, "\(c.name) purity")
        expectClose(ClusterMetrics.hungarianAccuracy(t), c.hungarianAccuracy, floor: 1e-12, "\(c.name) Hungarian")
        expectClose(ClusterMetrics.nmi(t), c.nmi, floor: 1e-12, "\(c.name) NMI")
        // The metrics are symmetric in clusters and classes except purity.
        let transposed = (0..<c.classes).map { j in (0..<c.clusters).map { i in t[i][j] } }
        expectClose(ClusterMetrics.hungarianAccuracy(transposed), c.hungarianAccuracy, floor: 1e-12,
                    "\(c.name) Hungarian, transposed")
        expectClose(ClusterMetrics.nmi(transposed), c.nmi, floor: 1e-12, "\(c.name) NMI, transposed")
    }

    /// More clusters than classes: one-to-one, so only `classes` clusters can count.
    @Test func hungarianRectangular() {
        // 4 clusters, 2 classes. Best matching: cluster 1 -> class 0 (5), cluster 3 -> class 1 (4).
        let t = [[2, 1], [5, 0], [0, 3], [1, 4]]
        expectClose(ClusterMetrics.hungarianAccuracy(t), 9.0 / 16, floor: 1e-12, "Hungarian 4 x 2")
        expectClose(ClusterMetrics.purity(t), 14.0 / 16, floor: 1e-12, "purity 4 x 2")
        // A case where the greedy choice is wrong: greedy takes (0, 0) = 5 then (1, 1) = 0 -> 5;
        // the optimum is (0, 1) + (1, 0) = 4 + 4 = 8.
        let g = [[5, 4, 0], [4, 0, 0]]
        expectClose(ClusterMetrics.hungarianAccuracy(g), 8.0 / 13, floor: 1e-12, "Hungarian, not greedy")
    }

    @Test func hungarianAssignment() {
        // Min-cost matching of a 3 x 3 cost matrix: rows -> columns 1, 0, 2 (cost 1 + 2 + 2 = 5).
        let cost = [[4, 1, 3], [2, 0, 5], [3, 2, 2]]
        #expect(ClusterMetrics.hungarian(cost) == [1, 0, 2])
    }

    @Test func limits() {
        // Identical partitions up to renaming: every score is 1.
        let labels: [Int32] = [0, 0, 1, 1, 2, 2, 2]
        let renamed = [2, 2, 0, 0, 1, 1, 1]
        let t = ClusterMetrics.contingency(assignments: renamed, labels: labels, clusters: 3, classes: 3)
        expectClose(ClusterMetrics.purity(t), 1, floor: 1e-12, "purity")
        expectClose(ClusterMetrics.hungarianAccuracy(t), 1, floor: 1e-12, "Hungarian")
        expectClose(ClusterMetrics.nmi(t), 1, floor: 1e-12, "NMI")
        // Independent partitions: NMI 0.
        let ind = [[1, 1], [1, 1]]
        expectClose(ClusterMetrics.nmi(ind), 0, floor: 1e-12, "NMI of independent partitions")
        // One cluster: purity is the majority share; NMI 0.
        let one = [[3, 1]]
        expectClose(ClusterMetrics.purity(one), 0.75, floor: 1e-12, "purity, one cluster")
        expectClose(ClusterMetrics.nmi(one), 0, floor: 1e-12, "NMI, one cluster")
        #expect(ClusterMetrics.clustersUsed([[0, 0], [1, 0], [0, 2]]) == 2)
        // Empty tables score 0 and do not trap.
        #expect(ClusterMetrics.purity([[0, 0]]) == 0)
        #expect(ClusterMetrics.hungarianAccuracy([[0, 0]]) == 0)
    }

    /// Per-node mapping: majority label, its count and share; ties go to the lower label.
    @Test func mapping() {
        let head = ACOLHeadSpec(parents: 2, k: 2)
        let t = [[3, 1, 0], [0, 0, 0], [2, 2, 1], [0, 0, 4]]
        let m = ClusterMetrics.mapping(t, head: head, fineNames: ["a", "b", "c"])
        #expect(m.map(\.fineLabel) == [0, nil, 0, 2])
        #expect(m.map(\.fineName) == ["a", nil, "a", "c"])
        #expect(m.map(\.majorityCount) == [3, 0, 2, 4])
        #expect(m.map(\.parent) == [0, 1, 0, 1])
        #expect(m.map(\.duplicate) == [0, 0, 1, 1])
        #expect(m[2].share == 0.4)
    }

    /// A parent whose examples all went to one of its clusters is reported (the CLI warns);
    /// parents with one cluster, with clusters in use, or with too few examples are not.
    @Test func collapsedParents() {
        let head = ACOLHeadSpec(parents: 3, k: 2)
        // Nodes 0, 3 are parent 0; 1, 4 parent 1; 2, 5 parent 2 (node = duplicate * parents + parent).
        let t = [[5, 0], [0, 0], [1, 0], [4, 1], [7, 0], [0, 0]]
        let m = ClusterMetrics.mapping(t, head: head, fineNames: ["a", "b"])
        let c = ClusterInfo.collapsedParents(m)
        #expect(c.count == 1)
        #expect(c.first.map { [$0.parent, $0.node, $0.images, $0.nodes] } == [1, 4, 7, 2])
        let one = ClusterMetrics.mapping([[9, 0], [3, 0]], head: ACOLHeadSpec(parents: 2, k: 1), fineNames: [])
        #expect(ClusterInfo.collapsedParents(one).isEmpty, "one cluster per parent")
    }
}
