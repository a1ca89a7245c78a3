import Testing
@testable import ACOL

/// The ACOL objective (pooled cross-entropy + GAR) against float64 reference values from
/// Scripts/reference_values.py, and its dZ against finite differences of the loss.
@Suite struct ObjectiveTests {
    static func gar(_ c: ObjectiveCase) -> GARConfig {
        GARConfig(scope: c.scope, symmetric: c.symmetric, cA: Ref.cA, cB: Ref.cB, cF: Ref.cF,
                  frobenius: c.frobenius, epsilon: Ref.epsilon)
    }

    static func name(_ c: ObjectiveCase) -> String {
        "\(c.scope) symmetric=\(c.symmetric) frobenius=\(c.frobenius)"
    }

    static let twoParents = ACOLHeadSpec(parents: Ref.objParents, k: Ref.objK)
    static let oneParent = ACOLHeadSpec(parents: 1, k: Ref.oneK)
    static var zTwo: Tensor { Tensor(shape: [Ref.objM, Ref.objParents * Ref.objK], data: Ref.objZ) }
    static var zOne: Tensor { Tensor(shape: [Ref.oneM, Ref.oneK], data: Ref.oneZ) }

    static func checkAgainstReference(_ r: ACOLObjective.Result, _ c: ObjectiveCase, _ what: String) {
        expectClose(r.crossEntropy, c.crossEntropy, floor: 1e-9, "\(what) cross-entropy")
        expectClose(r.affinity, c.affinity, "\(what) affinity")
        expectClose(r.balance, c.balance, "\(what) balance")
        expectClose(r.frobenius, c.frobeniusValue, "\(what) frobenius")
        expectClose(r.regularizer, c.regularizer, "\(what) U")
        expectClose(r.loss, c.loss, "\(what) loss")
        expectClose(r.dZ, c.dZ, "\(what) dZ")
    }

    @Test(arguments: Ref.objCases)
    func twoParentsReference(_ c: ObjectiveCase) {
        let obj = ACOLObjective(head: Self.twoParents, gar: Self.gar(c))
        let r = obj.evaluate(z: Self.zTwo, parents: Ref.objLabels, gradient: true)
        Self.checkAgainstReference(r, c, Self.name(c))
        expectClose(r.pooled, Ref.objY, "pooled Y")
        // Each row of Y sums to 1.
        for i in 0..<Ref.objM {
            expectClose(Double(r.pooled[2 * i] + r.pooled[2 * i + 1]), 1, floor: 1e-6, "row \(i) of Y")
        }
        // Parent accuracy: argmax of Y against the labels.
        var correct = 0
        for i in 0..<Ref.objM {
            let best = Ref.objY[2 * i + 1] > Ref.objY[2 * i] ? 1 : 0
            if best == Int(Ref.objLabels[i]) { correct += 1 }
        }
        #expect(r.correctParents == correct)
        // Without a gradient the values are the same and dZ is empty.
        let r2 = obj.evaluate(z: Self.zTwo, parents: Ref.objLabels, gradient: false)
        #expect(r2.loss == r.loss)
        #expect(r2.dZ.isEmpty)
    }

    /// n_p = 1: the cross-entropy is identically zero, with or without (all-zero) labels, and
    /// the two scopes coincide.
    @Test(arguments: Ref.oneCases)
    func oneParentReference(_ c: ObjectiveCase) {
        let obj = ACOLObjective(head: Self.oneParent, gar: Self.gar(c))
        #expect(c.crossEntropy == 0)
        let r = obj.evaluate(z: Self.zOne, parents: nil, gradient: true)
        Self.checkAgainstReference(r, c, "n_p = 1 " + Self.name(c))
        let labelled = obj.evaluate(z: Self.zOne, parents: [Int32](repeating: 0, count: Ref.oneM), gradient: true)
        Self.checkAgainstReference(labelled, c, "n_p = 1 with labels " + Self.name(c))
        #expect(r.pooled.allSatisfy { abs($0 - 1) < 1e-6 })
    }

    /// Finite differences of the loss. The loss is computed in Double from Float32 Z, so the only
    /// noise is the Float32 subtraction z - max(z) in the softmax (about 1e-8 in L); with h = 1e-3
    /// that is 1e-5 in the gradient, and the O(h^2) truncation error is of the same order. Z stays
    /// at least 0.15 away from 0, so no entry crosses GAR's max(0, .) kink. Tolerance 1e-3 relative.
    @Test(arguments: Ref.objCases)
    func twoParentsFiniteDifferences(_ c: ObjectiveCase) {
        let obj = ACOLObjective(head: Self.twoParents, gar: Self.gar(c))
        Self.finiteDifferences(obj, z: Self.zTwo, parents: Ref.objLabels, Self.name(c))
    }

    @Test(arguments: Ref.oneCases)
    func oneParentFiniteDifferences(_ c: ObjectiveCase) {
        let obj = ACOLObjective(head: Self.oneParent, gar: Self.gar(c))
        Self.finiteDifferences(obj, z: Self.zOne, parents: nil, "n_p = 1 " + Self.name(c))
    }

    /// The reference defaults (c_F = 1e-6) and the library default epsilon, on a Z drawn from a
    /// generator rather than the reference one, per-parent symmetric with 3 parents.
    @Test func defaultsFiniteDifferences() {
        for gar in [GARConfig.reference, GARConfig(scope: .perParent, symmetric: true)] {
            let head = ACOLHeadSpec(parents: 3, k: 2)
            let z = Tensor(shape: [7, 6], data: awayFromZero(42, seed: 77))
            Self.finiteDifferences(ACOLObjective(head: head, gar: gar), z: z, parents: [0, 1, 2, 2, 1, 0, 1],
                                   "defaults \(gar.scope) symmetric=\(gar.symmetric)")
        }
    }

    static func finiteDifferences(_ obj: ACOLObjective, z: Tensor, parents: [Int32]?, _ what: String) {
        let analytic = obj.evaluate(z: z, parents: parents, gradient: true).dZ.map(Double.init)
        var zz = z
        let numeric = GradientCheck.numeric(count: zz.count, get: { zz.data[$0] }, set: { zz.data[$0] = $1 },
                                            h: 1e-3) {
            obj.evaluate(z: zz, parents: parents, gradient: false).loss
        }
        GradientCheck(rtol: 1e-3, atol: 1e-4, normTolerance: 1e-3)
            .compare(analytic: analytic, numeric: numeric, "\(what) dZ")
    }

    /// Limits from ACOL.md: a = 0 when every example activates one node; b = 1 when all nodes
    /// carry equal activity; negative Z does not enter the (non-symmetric) GAR at all.
    @Test func affinityAndBalanceLimits() {
        let head = ACOLHeadSpec(parents: 1, k: 3)
        let obj = ACOLObjective(head: head, gar: GARConfig(scope: .allNodes, cF: 0))
        // One-hot rows, each node used twice.
        let z = Tensor(shape: [6, 3], data: [2, -1, -1,  -1, 2, -1,  -1, -1, 2,
                                             2, -1, -1,  -1, 2, -1,  -1, -1, 2])
        let r = obj.evaluate(z: z, parents: nil, gradient: true)
        expectClose(r.affinity, 0, floor: 1e-9, "affinity of one-hot activations")
        expectClose(r.balance, 1, floor: 1e-6, "balance of equal activity")
        expectClose(r.loss, 0, floor: 1e-6, "U")
        // Everything on one node: affinity 0, balance 0.
        let one = Tensor(shape: [3, 3], data: [1, -1, -1, 2, -1, -1, 3, -1, -1])
        let r1 = obj.evaluate(z: one, parents: nil, gradient: false)
        expectClose(r1.affinity, 0, floor: 1e-9, "affinity, one node")
        expectClose(r1.balance, 0, floor: 1e-9, "balance, one node")
        // Identical rows activating all nodes equally: affinity 1.
        let same = Tensor(shape: [2, 3], data: [1, 1, 1, 1, 1, 1])
        expectClose(obj.evaluate(z: same, parents: nil, gradient: false).affinity, 1, floor: 1e-6, "affinity, shared")
    }
}
