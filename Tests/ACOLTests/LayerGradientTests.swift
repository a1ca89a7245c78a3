import Testing
@testable import ACOL

/// Finite-difference checks of every layer's backward pass (input and parameter gradients),
/// on tiny shapes. See `GradientCheck` for the step and tolerance.
@Suite struct LayerGradientTests {
    @Test func dense() {
        var rng = SeededGenerator(seed: 1)
        let layer = Dense(inputShape: [4], units: 3, rng: &rng)
        layer.bias.value = randomValues(3, seed: 2)
        checkLayerGradients(layer, input: Tensor(shape: [5, 4], data: randomValues(20, seed: 3)), "Dense")
    }

    /// Max-norm is a constraint applied by the optimiser after a step; it must not change the
    /// gradients. Input [m, 2, 2] is flattened by the layer itself.
    @Test func denseWithMaxNormAndImageInput() {
        var rng = SeededGenerator(seed: 4)
        let layer = Dense(inputShape: [2, 2], units: 3, maxNorm: 0.5, rng: &rng)
        #expect(layer.kernel.maxNorm == 0.5)
        #expect(layer.bias.maxNorm == nil)
        checkLayerGradients(layer, input: Tensor(shape: [3, 2, 2], data: randomValues(12, seed: 5)), "Dense max-norm")
    }

    @Test(arguments: [([2, 3], Padding.same), ([2, 3], .valid), ([3, 3], .same), ([3, 2], .valid)])
    func conv2D(kernel: [Int], padding: Padding) {
        var rng = SeededGenerator(seed: 6)
        let layer = Conv2D(inputShape: [4, 5, 2], filters: 3, kernel: kernel, padding: padding, rng: &rng)
        layer.bias.value = randomValues(3, seed: 7)
        checkLayerGradients(layer, input: Tensor(shape: [2, 4, 5, 2], data: randomValues(80, seed: 8)),
                            "Conv2D \(kernel) \(padding)")
    }

    @Test func maxPool() {
        let layer = MaxPool2D(inputShape: [4, 5, 2], size: 2)
        #expect(layer.outputShape == [2, 2, 2])
        // Distinct values 0.05 apart, step 0.01: the winner of a window never changes.
        checkLayerGradients(layer, input: Tensor(shape: [2, 4, 5, 2], data: distinctValues(80, seed: 9)), "MaxPool2D")
    }

    @Test func relu() {
        let layer = ReLU(inputShape: [3, 2])
        checkLayerGradients(layer, input: Tensor(shape: [4, 3, 2], data: awayFromZero(24, seed: 10)), "ReLU")
    }

    @Test func dropout() throws {
        let layer = Dropout(inputShape: [10], rate: 0.4)
        let x = Tensor(shape: [6, 10], data: awayFromZero(60, seed: 11))
        // The same seed gives the same mask.
        var g1 = SeededGenerator(seed: 5), g2 = SeededGenerator(seed: 5), g3 = SeededGenerator(seed: 6)
        let y1 = layer.forward(x, training: true, rng: &g1)
        let y2 = layer.forward(x, training: true, rng: &g2)
        let y3 = layer.forward(x, training: true, rng: &g3)
        #expect(y1 == y2)
        #expect(y1 != y3)
        // Inverted dropout: kept values are scaled by 1 / (1 - rate), the rest are 0.
        let zeros = y1.data.filter { $0 == 0 }.count
        #expect(zeros > 0 && zeros < 60)
        for i in 0..<60 where y1.data[i] != 0 {
            #expect(abs(y1.data[i] - x.data[i] / 0.6) <= 1e-6 * abs(x.data[i]) * 2)
        }
        // Inference: identity.
        var g4 = SeededGenerator(seed: 5)
        #expect(layer.forward(x, training: false, rng: &g4) == x)
        checkLayerGradients(layer, input: x, "Dropout")
    }

    @Test func flatten() {
        let layer = Flatten(inputShape: [2, 3, 2])
        #expect(layer.outputShape == [12])
        let x = Tensor(shape: [2, 2, 3, 2], data: randomValues(24, seed: 12))
        var g = SeededGenerator(seed: 0)
        let y = layer.forward(x, training: true, rng: &g)
        #expect(y.shape == [2, 12])
        #expect(y.data == x.data)   // NHWC order kept
        checkLayerGradients(layer, input: x, "Flatten")
    }

    @Test func batchNorm1D() {
        let layer = BatchNorm(inputShape: [3])
        layer.gamma.value = [0.7, 1.3, -0.9]
        layer.beta.value = [0.1, -0.2, 0.3]
        var x = randomValues(15, seed: 13)
        for i in stride(from: 1, to: 15, by: 3) { x[i] = 2 * x[i] + 1 }   // different scales per channel
        checkLayerGradients(layer, input: Tensor(shape: [5, 3], data: x), h: 1e-2, "BatchNorm 1-D")
    }

    @Test func batchNorm2D() {
        let layer = BatchNorm(inputShape: [2, 3, 2])
        layer.gamma.value = [1.2, 0.6]
        layer.beta.value = [-0.3, 0.4]
        checkLayerGradients(layer, input: Tensor(shape: [2, 2, 3, 2], data: randomValues(24, seed: 14)),
                            "BatchNorm 2-D")
    }
}
