import Testing
@testable import ACOL

/// Finite-difference checks in Double: every layer, the ACOL head and each GAR variant, on tiny
/// shapes, against the Double twins of `DoubleReference` (step 1e-6, tolerance `doubleCheck`).
@Suite struct DoubleGradientTests {
    @Test func dense() {
        var rng = SeededGenerator(seed: 1)
        let layer = Dense(inputShape: [4], units: 3, rng: &rng)
        layer.bias.value = randomValues(3, seed: 2)
        checkLayerInDouble(layer, input: Tensor(shape: [5, 4], data: randomValues(20, seed: 3)), "Dense") { x, p in
            DoubleReference.dense(x, m: 5, p[0], p[1], inputs: 4, units: 3)
        }
    }

    /// Dense with its ReLU fused in (what `Network` builds for Dense + ReLU); inputs keep the
    /// pre-activations away from 0 by far more than the step.
    @Test func denseWithFusedReLU() {
        var rng = SeededGenerator(seed: 21)
        let layer = Dense(inputShape: [3], units: 4, rng: &rng)
        layer.fusedReLU = true
        layer.bias.value = [0.3, -0.4, 0.5, -0.2]
        checkLayerInDouble(layer, input: Tensor(shape: [6, 3], data: randomValues(18, seed: 22)), "Dense + ReLU") { x, p in
            DoubleReference.relu(DoubleReference.dense(x, m: 6, p[0], p[1], inputs: 3, units: 4))
        }
    }

    @Test(arguments: [([2, 3], Padding.same), ([2, 3], .valid), ([3, 3], .same), ([3, 2], .valid)])
    func conv2D(kernel: [Int], padding: Padding) {
        var rng = SeededGenerator(seed: 6)
        let layer = Conv2D(inputShape: [4, 5, 2], filters: 3, kernel: kernel, padding: padding, rng: &rng)
        layer.bias.value = randomValues(3, seed: 7)
        checkLayerInDouble(layer, input: Tensor(shape: [2, 4, 5, 2], data: randomValues(80, seed: 8)),
                           "Conv2D \(kernel) \(padding)") { x, p in
            DoubleReference.conv2d(x, m: 2, h: 4, w: 5, c: 2, p[0], kh: kernel[0], kw: kernel[1], f: 3, p[1],
                                   padding: padding)
        }
    }

    @Test func maxPool() {
        let layer = MaxPool2D(inputShape: [4, 5, 2], size: 2)
        checkLayerInDouble(layer, input: Tensor(shape: [2, 4, 5, 2], data: distinctValues(80, seed: 9)), "MaxPool2D") { x, _ in
            DoubleReference.maxPool(x, m: 2, h: 4, w: 5, c: 2, p: 2)
        }
    }

    @Test func relu() {
        let layer = ReLU(inputShape: [3, 2])
        checkLayerInDouble(layer, input: Tensor(shape: [4, 3, 2], data: awayFromZero(24, seed: 10)), "ReLU") { x, _ in
            DoubleReference.relu(x)
        }
    }

    /// The twin multiplies by the mask the layer drew (read off its output; the generator is
    /// re-seeded identically for the checked forward pass).
    @Test func dropout() {
        let layer = Dropout(inputShape: [10], rate: 0.4)
        let x = Tensor(shape: [6, 10], data: awayFromZero(60, seed: 11))
        var g = SeededGenerator(seed: 99)
        let y = layer.forward(x, training: true, rng: &g)
        let mask = (0..<60).map { Double(y.data[$0]) / Double(x.data[$0]) }
        #expect(mask.allSatisfy { $0 == 0 || abs($0 - 1 / 0.6) < 1e-6 })
        checkLayerInDouble(layer, input: x, seed: 99, "Dropout") { x, _ in zip(x, mask).map { $0 * $1 } }
    }

    @Test func flatten() {
        let layer = Flatten(inputShape: [2, 3, 2])
        checkLayerInDouble(layer, input: Tensor(shape: [2, 2, 3, 2], data: randomValues(24, seed: 12)), "Flatten") { x, _ in x }
    }

    @Test func batchNorm1D() {
        let layer = BatchNorm(inputShape: [3])
        layer.gamma.value = [0.7, 1.3, -0.9]
        layer.beta.value = [0.1, -0.2, 0.3]
        var x = randomValues(15, seed: 13)
        for i in stride(from: 1, to: 15, by: 3) { x[i] = 2 * x[i] + 1 }
        checkLayerInDouble(layer, input: Tensor(shape: [5, 3], data: x), "BatchNorm 1-D") { x, p in
            DoubleReference.batchNorm(x, channels: 3, p[0], p[1], epsilon: 1e-3)
        }
    }

    /// PyTorch's epsilon (1e-5, `--bn-epsilon 1e-5`) on features of the small variance F has at
    /// initialisation (about 3e-5 here): the layer normalises them, and its gradients hold.
    @Test func batchNormSmallEpsilonOnSmallFeatures() {
        let layer = BatchNorm(inputShape: [3], epsilon: 1e-5)
        layer.gamma.value = [0.7, 1.3, -0.9]
        layer.beta.value = [0.1, -0.2, 0.3]
        let x = randomValues(18, seed: 15).map { $0 * 0.01 }
        var g = SeededGenerator(seed: 1)
        let y = layer.forward(Tensor(shape: [6, 3], data: x), training: true, rng: &g)
        let spread = (0..<6).map { Double(y.data[$0 * 3] - 0.1) / 0.7 }
        #expect(spread.map { $0 * $0 }.reduce(0, +) / 6 > 0.5, "normalised to a variance near 1, not scaled down")
        checkLayerInDouble(layer, input: Tensor(shape: [6, 3], data: x), "BatchNorm 1-D, epsilon 1e-5") { x, p in
            DoubleReference.batchNorm(x, channels: 3, p[0], p[1], epsilon: 1e-5)
        }
    }

    @Test func batchNorm2D() {
        let layer = BatchNorm(inputShape: [2, 3, 2])
        layer.gamma.value = [1.2, 0.6]
        layer.beta.value = [-0.3, 0.4]
        checkLayerInDouble(layer, input: Tensor(shape: [2, 2, 3, 2], data: randomValues(24, seed: 14)), "BatchNorm 2-D") { x, p in
            DoubleReference.batchNorm(x, channels: 2, p[0], p[1], epsilon: 1e-3)
        }
    }

    /// The ACOL head and every GAR variant: the Double twin of the objective reproduces the
    /// numpy reference loss, and the library's dL/dZ matches its central differences in Double.
    @Test(arguments: Ref.objCases)
    func objectiveTwoParents(_ c: ObjectiveCase) {
        checkObjective(c, parents: Ref.objParents, k: Ref.objK, m: Ref.objM, z: Ref.objZ, labels: Ref.objLabels)
    }

    @Test(arguments: Ref.oneCases)
    func objectiveOneParent(_ c: ObjectiveCase) {
        checkObjective(c, parents: 1, k: Ref.oneK, m: Ref.oneM, z: Ref.oneZ, labels: nil)
    }

    func checkObjective(_ c: ObjectiveCase, parents: Int, k: Int, m: Int, z: [Float], labels: [Int32]?) {
        let gar = ObjectiveTests.gar(c)
        let what = "objective n_p = \(parents) " + ObjectiveTests.name(c)
        let obj = ACOLObjective(head: ACOLHeadSpec(parents: parents, k: k), gar: gar)
        let analytic = obj.evaluate(z: Tensor(shape: [m, parents * k], data: z), parents: labels, gradient: true).dZ
        let z0 = z.map(Double.init)
        let f = { (v: [Double]) in DoubleReference.objective(v, m: m, parents: parents, k: k, labels: labels, gar: gar) }
        expectClose(f(z0), c.loss, rel: 1e-9, floor: 1e-12, "\(what): Double twin vs numpy loss")
        doubleCheck.compare(analytic: analytic.map(Double.init), numeric: doubleNumericGradient(z0, f), "\(what) dZ (Double)")
    }
}
