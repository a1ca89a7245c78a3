import Testing
@testable import ACOL

/// oneDNN's convolution primitives against the library's own im2col lowering (itself checked
/// against numpy and finite differences): forward with and without the fused ReLU, the input
/// gradient and the kernel and bias gradients, over paddings, window shapes, channel counts and
/// batch sizes; and that the oneDNN path is really the one taken.
@Suite struct ConvolutionBackendTests {
    struct Geometry: CustomTestStringConvertible, Sendable {
        let h, w, c, f: Int, kernel: [Int], padding: Padding, images: Int, relu: Bool
        var testDescription: String { "\(images)x\(h)x\(w)x\(c) -> \(f) \(kernel) \(padding) relu \(relu)" }
    }

    static let geometries: [Geometry] = [
        Geometry(h: 28, w: 28, c: 1, f: 32, kernel: [3, 3], padding: .same, images: 5, relu: true),
        Geometry(h: 14, w: 14, c: 32, f: 64, kernel: [3, 3], padding: .same, images: 3, relu: true),
        Geometry(h: 9, w: 7, c: 3, f: 5, kernel: [5, 5], padding: .same, images: 2, relu: false),
        Geometry(h: 8, w: 11, c: 4, f: 6, kernel: [2, 3], padding: .same, images: 1, relu: true),
        Geometry(h: 10, w: 9, c: 2, f: 7, kernel: [3, 2], padding: .valid, images: 4, relu: false),
        Geometry(h: 6, w: 6, c: 16, f: 3, kernel: [1, 1], padding: .valid, images: 7, relu: true),
    ]

    /// Two layers with the same weights, one per backend.
    private func pair(_ g: Geometry) -> (onednn: Conv2D, im2col: Conv2D) {
        func make() -> Conv2D {
            var rng = SeededGenerator(seed: 7)
            let l = Conv2D(inputShape: [g.h, g.w, g.c], filters: g.f, kernel: g.kernel, padding: g.padding, rng: &rng)
            l.bias.value = randomValues(g.f, seed: 8, lo: -0.2, hi: 0.2)
            l.fusedReLU = g.relu
            return l
        }
        let a = make(), b = make()
        a.backend = .oneDNN
        b.backend = .im2col
        return (a, b)
    }

    @Test(arguments: geometries)
    func oneDNNMatchesIm2col(_ g: Geometry) {
        let (a, b) = pair(g)
        let x = Tensor(shape: [g.images, g.h, g.w, g.c], data: randomValues(g.images * g.h * g.w * g.c, seed: 9))
        var rng = SeededGenerator(seed: 1)
        for training in [false, true] {
            let ya = a.forward(x, training: training, rng: &rng), yb = b.forward(x, training: training, rng: &rng)
            #expect(ya.shape == yb.shape)
            expectClose(ya.data, yb.data.map(Double.init), rel: 1e-4, floor: 1e-5, "\(g.testDescription) y (training \(training))")
            if g.relu { #expect(ya.data.allSatisfy { $0 >= 0 }, "the fused ReLU") }
        }
        #expect(a.implementation.hasPrefix("oneDNN"), "the oneDNN path was taken: \(a.implementation)")
        #expect(b.implementation == "im2col")
        let dy = Tensor(shape: [g.images] + a.outputShape, data: randomValues(g.images * a.outputShape.reduce(1, *), seed: 10))
        let dxa = a.backward(dy), dxb = b.backward(dy)
        #expect(dxa.shape == [g.images, g.h, g.w, g.c])
        expectClose(dxa.data, dxb.data.map(Double.init), rel: 1e-4, floor: 1e-4, "\(g.testDescription) dx")
        expectClose(a.kernel.grad, b.kernel.grad.map(Double.init), rel: 1e-4, floor: 1e-4, "\(g.testDescription) dK")
        expectClose(a.bias.grad, b.bias.grad.map(Double.init), rel: 1e-4, floor: 1e-4, "\(g.testDescription) db")
        #expect(a.kernel.grad.contains { $0 != 0 }, "a non-trivial kernel gradient")
    }

    /// Without dL/dx (the first layer of a network) only the parameter gradients are made.
    @Test func skippedInputGradient() {
        let g = Self.geometries[0]
        let (a, b) = pair(g)
        a.skipsInputGradient = true; b.skipsInputGradient = true
        let x = Tensor(shape: [g.images, g.h, g.w, g.c], data: randomValues(g.images * g.h * g.w * g.c, seed: 11))
        var rng = SeededGenerator(seed: 1)
        let ya = a.forward(x, training: true, rng: &rng)
        _ = b.forward(x, training: true, rng: &rng)
        let dy = Tensor(shape: ya.shape, data: randomValues(ya.data.count, seed: 12))
        #expect(a.backward(dy).shape == [0])
        _ = b.backward(dy)
        expectClose(a.kernel.grad, b.kernel.grad.map(Double.init), rel: 1e-4, floor: 1e-4, "dK")
    }

    /// The same inputs twice give bit-identical outputs and gradients (oneDNN is deterministic for a
    /// thread count), also after other batch sizes went through the layer.
    @Test func deterministicAcrossCalls() {
        let g = Self.geometries[1]
        let a = pair(g).onednn
        var rng = SeededGenerator(seed: 1)
        func run(_ n: Int) -> ([Float], [Float], [Float]) {
            let x = Tensor(shape: [n, g.h, g.w, g.c], data: randomValues(n * g.h * g.w * g.c, seed: 13))
            let y = a.forward(x, training: true, rng: &rng)
            let dx = a.backward(Tensor(shape: y.shape, data: randomValues(y.data.count, seed: 14)))
            return (y.data, dx.data, a.kernel.grad)
        }
        let first = run(4)
        _ = run(2); _ = run(5)
        let again = run(4)
        #expect(first.0 == again.0 && first.1 == again.1 && first.2 == again.2)
    }
}

/// The library's parallel loops (OpenMP's threads): every part runs exactly once, with more parts
/// than threads, and nested inside another parallel loop.
@Suite struct ParallelLoopTests {
    @Test(arguments: [1, 2, 3, 7, 64])
    func everyPartOnce(parts: Int) {
        let counts = UnsafeMutableBufferPointer<Int>.allocate(capacity: parts * parts)
        counts.initialize(repeating: 0)
        defer { counts.deallocate() }
        parallelParts(parts) { outer in
            parallelParts(parts) { inner in counts[outer * parts + inner] += 1 }
        }
        #expect(counts.allSatisfy { $0 == 1 })
        var sums = [Int](repeating: 0, count: 1000)
        sums.withUnsafeMutableBufferPointer { s in parallelFor(1000) { i in s[i] = i * 2 } }
        #expect(sums == (0..<1000).map { $0 * 2 })
    }
}
