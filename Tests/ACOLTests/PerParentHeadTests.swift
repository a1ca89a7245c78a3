import Foundation
import Testing
@testable import ACOL

/// One k per parent (issue 11): the head's node table, the objective's value and gradient, and
/// the uniform case unchanged.
@Suite struct PerParentHeadTests {
    @Test func nodeOrderIsDuplicateMajorRounds() {
        let h = ACOLHeadSpec(duplicates: [3, 1, 2])
        #expect(h.nodes == 6 && h.k == 3 && h.parents == 3)
        #expect(h.nodeTable.map(\.parent) == [0, 1, 2, 0, 2, 0])
        #expect(h.nodeTable.map(\.duplicate) == [0, 0, 0, 1, 1, 2])
        #expect(h.nodes(ofParent: 0) == [0, 3, 5])
        #expect(h.nodes(ofParent: 2) == [2, 4])
        #expect((0..<6).map(h.parent(ofNode:)) == [0, 1, 2, 0, 2, 0])
        // The same k everywhere is the reference interleaving, and stores no per-parent list.
        let u = ACOLHeadSpec(duplicates: [4, 4])
        #expect(u.duplicates == nil && u == ACOLHeadSpec(parents: 2, k: 4))
        #expect(u.nodeTable.map(\.parent) == (0..<8).map { $0 % 2 })
        #expect(throws: ACOLError.self) { try ACOLHeadSpec(duplicates: [2, 0]).validate() }
    }

    /// The objective with per-parent k equals a direct computation of its definition: pooled
    /// Y_p = sum of the softmax over parent p's nodes, cross-entropy -log Y_parent.
    @Test func crossEntropyPoolsEachParentsOwnNodes() {
        let head = ACOLHeadSpec(duplicates: [3, 1, 2])
        let obj = ACOLObjective(head: head, gar: GARConfig(cA: 0, cB: 0, cF: 0))
        let z: [Float] = [0.3, -1.2, 0.8, 2.0, -0.5, 0.1,   -0.7, 1.5, 0.2, -0.3, 0.9, 0.4]
        let r = obj.evaluate(z: Tensor(shape: [2, 6], data: z), parents: [1, 2], gradient: false)
        var expected = 0.0
        for (i, p) in [1, 2].enumerated() {
            let row = z[(i * 6)..<(i * 6 + 6)].map(Double.init)
            let e = row.map { Foundation.exp($0) }
            let total = e.reduce(0, +)
            let own = head.nodes(ofParent: p).map { e[$0] }.reduce(0, +)
            expected += -Foundation.log(own / total)
        }
        expectClose(r.crossEntropy, expected / 2, rel: 1e-6, "cross-entropy with per-parent k")
    }

    @Test(arguments: [GARScope.allNodes, .perParent], [false, true])
    func finiteDifferences(_ scope: GARScope, _ symmetric: Bool) {
        let head = ACOLHeadSpec(duplicates: [3, 1, 2])
        let obj = ACOLObjective(head: head, gar: GARConfig(scope: scope, symmetric: symmetric, cA: 1, cB: 1, cF: 1e-3))
        let z = Tensor(shape: [7, 6], data: awayFromZero(42, seed: 91))
        ObjectiveTests.finiteDifferences(obj, z: z, parents: [0, 1, 2, 2, 1, 0, 0], "per-parent k \(scope) symmetric=\(symmetric)")
    }

    @Test func predictionsNameEachNodesParent() throws {
        let spec = NetworkSpec(inputShape: [2, 2, 1], layers: [.flatten, .dense(4), .relu],
                               head: ACOLHeadSpec(duplicates: [1, 3], batchNormBeforeZ: false))
        let model = ACOLModel(network: try Network(spec: spec, seed: 3), gar: GARConfig(),
                              preprocessing: Preprocessing(height: 2, width: 2, channels: 1))
        let set = ImageSet(count: 5, height: 2, width: 2, channels: 1, pixels: (0..<20).map { UInt8($0 * 12) })
        for p in model.predict(set) {
            #expect(p.parent == spec.head.parent(ofNode: p.cluster))
            #expect(p.parentProbability >= p.confidence - 1e-6)
        }
    }
}
