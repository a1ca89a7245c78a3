import Testing
@testable import ACOL

/// Forward passes with fixed weights against numpy (Scripts/reference_values.py).
@Suite struct LayerForwardTests {
    @Test func denseForward() {
        var rng = SeededGenerator(seed: 0)
        let layer = Dense(inputShape: [4], units: 5, rng: &rng)
        layer.kernel.value = Ref.denseW
        layer.bias.value = Ref.denseB
        let y = layer.forward(Tensor(shape: [3, 4], data: Ref.denseX), training: false, rng: &rng)
        #expect(y.shape == [3, 5])
        expectClose(y.data, Ref.denseY, floor: 1e-6, "Dense y")
    }

    @Test(arguments: Ref.convCases)
    func convForward(_ c: ConvCase) {
        var rng = SeededGenerator(seed: 0)
        let s = Ref.convXShape
        let layer = Conv2D(inputShape: Array(s.dropFirst()), filters: 3, kernel: c.kernelShape, padding: c.padding,
                           rng: &rng)
        #expect(layer.kernel.shape == c.kernelShape + [s[3], 3])
        layer.kernel.value = c.kernel
        layer.bias.value = c.bias
        #expect(layer.outputShape == Array(c.outputShape.dropFirst()))
        for training in [false, true] {
            let y = layer.forward(Tensor(shape: s, data: Ref.convX), training: training, rng: &rng)
            #expect(y.shape == c.outputShape)
            expectClose(y.data, c.y, floor: 1e-6, "Conv2D \(c.kernelShape) \(c.padding) y")
        }
    }

    @Test func batchNormTrainingForward() {
        let layer = BatchNorm(inputShape: Array(Ref.bnXShape.dropFirst()), momentum: 0.99, epsilon: 1e-3)
        layer.gamma.value = Ref.bnGamma
        layer.beta.value = Ref.bnBeta
        var rng = SeededGenerator(seed: 0)
        let y = layer.forward(Tensor(shape: Ref.bnXShape, data: Ref.bnX), training: true, rng: &rng)
        expectClose(y.data, Ref.bnY, floor: 1e-6, "BatchNorm y")
        expectClose(layer.runningMean.value, Ref.bnRunningMean, rel: 1e-4, "running mean")
        expectClose(layer.runningVar.value, Ref.bnRunningVar, "running variance")
        // Inference uses the running statistics: y = gamma (x - mean) / sqrt(var + eps) + beta.
        let yi = layer.forward(Tensor(shape: Ref.bnXShape, data: Ref.bnX), training: false, rng: &rng)
        var expected: [Double] = []
        for (i, x) in Ref.bnX.enumerated() {
            let c = i % 3
            expected.append(Double(Ref.bnGamma[c]) * (Double(x) - Ref.bnRunningMean[c])
                            / (Ref.bnRunningVar[c] + 1e-3).squareRoot() + Double(Ref.bnBeta[c]))
        }
        expectClose(yi.data, expected, rel: 1e-4, floor: 1e-5, "BatchNorm inference y")
    }

    @Test func maxPoolForward() {
        let layer = MaxPool2D(inputShape: [3, 5, 1], size: 2)
        #expect(layer.outputShape == [1, 2, 1])   // floor: the last row and column are dropped
        let x = Tensor(shape: [1, 3, 5, 1], data: [1, 9, 2, 3, 99,
                                                  4, 0, 8, 5, 99,
                                                  99, 99, 99, 99, 99])
        var rng = SeededGenerator(seed: 0)
        #expect(layer.forward(x, training: false, rng: &rng).data == [9, 8])
    }

    /// Ties: the whole window gradient goes to the first maximum in row-major order, once, and
    /// the row and column no window covers get zero.
    @Test func maxPoolTiesAndUncovered() {
        let layer = MaxPool2D(inputShape: [3, 5, 2], size: 2)
        // Two channels interleaved: channel 0 has ties, channel 1 distinct values.
        let c0: [Float] = [7, 7, 1, 2, 5,
                           7, 3, 2, 2, 5,
                           5, 5, 5, 5, 5]
        let c1: [Float] = [1, 2, 3, 4, 9,
                           8, 0, 6, 5, 9,
                           9, 9, 9, 9, 9]
        var data: [Float] = []
        for i in 0..<15 { data += [c0[i], c1[i]] }
        var rng = SeededGenerator(seed: 0)
        let y = layer.forward(Tensor(shape: [1, 3, 5, 2], data: data), training: true, rng: &rng)
        #expect(y.data == [7, 8, 2, 6])
        let dx = layer.backward(Tensor(shape: [1, 1, 2, 2], data: [10, 20, 30, 40]))
        var g0 = [Float](repeating: 0, count: 15), g1 = g0
        for i in 0..<15 { g0[i] = dx.data[2 * i]; g1[i] = dx.data[2 * i + 1] }
        #expect(g0 == [10, 0, 0, 30, 0,
                       0, 0, 0, 0, 0,
                       0, 0, 0, 0, 0])
        #expect(g1 == [0, 0, 0, 0, 0,
                       20, 0, 40, 0, 0,
                       0, 0, 0, 0, 0])
    }
}
