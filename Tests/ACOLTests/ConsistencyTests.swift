import Foundation
import Testing
@testable import ACOL

/// The two-view consistency term C = w * mean_i(-log sum_j S_ij S'_ij) and the affine augmentation.
@Suite struct ConsistencyTests {
    /// The value against a direct Double computation, and dZ against finite differences.
    @Test func valueAndFiniteDifferences() {
        let m = 5, n = 6
        let z = Tensor(shape: [2 * m, n], data: randomValues(2 * m * n, seed: 31, lo: -2, hi: 2))
        let r = ConsistencyLoss.evaluate(z: z, weight: 0.7, gradient: true)
        var expected = 0.0
        for i in 0..<m {
            func softmax(_ row: Int) -> [Double] {
                let e = (0..<n).map { Foundation.exp(Double(z.data[row * n + $0])) }
                let t = e.reduce(0, +)
                return e.map { $0 / t }
            }
            let a = softmax(i), b = softmax(m + i)
            expected -= Foundation.log(zip(a, b).map { $0 * $1 }.reduce(0, +) + 1e-7)
        }
        expectClose(r.loss, 0.7 * expected / Double(m), "consistency value")
        var zz = z
        let numeric = GradientCheck.numeric(count: zz.count, get: { zz.data[$0] }, set: { zz.data[$0] = $1 }, h: 1e-3) {
            ConsistencyLoss.evaluate(z: zz, weight: 0.7, gradient: false).loss
        }
        GradientCheck(rtol: 1e-3, atol: 1e-4, normTolerance: 1e-3)
            .compare(analytic: r.dZ.map(Double.init), numeric: numeric, "consistency dZ")
    }

    /// The marginal term: value log n - H(q) and dZ against finite differences; 0 for a uniform q.
    @Test func marginalValueAndFiniteDifferences() {
        let z = Tensor(shape: [7, 4], data: randomValues(28, seed: 41, lo: -2, hi: 2))
        let r = ConsistencyLoss.marginal(z: z, weight: 0.6, gradient: true)
        var q = [Double](repeating: 0, count: 4)
        for i in 0..<7 {
            let e = (0..<4).map { Foundation.exp(Double(z.data[i * 4 + $0])) }
            let t = e.reduce(0, +)
            for j in 0..<4 { q[j] += e[j] / t / 7 }
        }
        let h = -q.map { $0 * Foundation.log($0) }.reduce(0, +)
        expectClose(r.loss, 0.6 * (Foundation.log(4.0) - h), "marginal value")
        var zz = z
        let numeric = GradientCheck.numeric(count: zz.count, get: { zz.data[$0] }, set: { zz.data[$0] = $1 }, h: 1e-3) {
            ConsistencyLoss.marginal(z: zz, weight: 0.6, gradient: false).loss
        }
        GradientCheck(rtol: 1e-3, atol: 1e-4, normTolerance: 1e-3)
            .compare(analytic: r.dZ.map(Double.init), numeric: numeric, "marginal dZ")
        let uniform = Tensor(shape: [2, 2], data: [3, 0, 0, 3])
        expectClose(ConsistencyLoss.marginal(z: uniform, weight: 1, gradient: false).loss, 0, floor: 1e-9, "uniform q")
    }

    /// Both views confidently in the same node: C near 0; in different nodes: large.
    @Test func agreementLimits() {
        let same = Tensor(shape: [2, 3], data: [20, 0, 0, 20, 0, 0])
        #expect(ConsistencyLoss.evaluate(z: same, weight: 1, gradient: false).loss < 1e-6)
        let differ = Tensor(shape: [2, 3], data: [20, 0, 0, 0, 20, 0])
        #expect(ConsistencyLoss.evaluate(z: differ, weight: 1, gradient: false).loss > 10)
    }

    /// No transformation is the identity; a pure shift of one pixel moves the image by one pixel.
    @Test func augmentationIdentityAndShift() {
        let x = Tensor(shape: [2, 5, 6, 1], data: randomValues(60, seed: 5, lo: 0, hi: 1))
        var rng = SeededGenerator(seed: 1)
        let id = AffineAugmentation(maxShift: 0, maxRotation: 0, maxScale: 0, maxShear: 0).apply(x, rng: &rng)
        expectClose(id.data, x.data.map(Double.init), floor: 1e-6, "identity")
        // A pure translation: replay the generator's draws (rotation, scale, shear, then tx, ty)
        // and compare with bilinear sampling of the original at the drawn offset.
        var g1 = SeededGenerator(seed: 9), g2 = SeededGenerator(seed: 9)
        let shifted = AffineAugmentation(maxShift: 1, maxRotation: 0, maxScale: 0, maxShear: 0).apply(x, rng: &g1)
        for i in 0..<2 {
            _ = g2.nextFloat(0, 0); _ = g2.nextFloat(0, 0); _ = g2.nextFloat(0, 0)
            let tx = g2.nextFloat(-1, 1), ty = g2.nextFloat(-1, 1)
            // An interior pixel: the value is a bilinear mix of its neighbours at (x - tx, y - ty).
            let yo = 2, xo = 3
            let xs = Float(xo) - tx, ys = Float(yo) - ty
            let x0 = Int(xs.rounded(.down)), y0 = Int(ys.rounded(.down))
            let fx = xs - Float(x0), fy = ys - Float(y0)
            func px(_ yy: Int, _ xx: Int) -> Float { x.data[i * 30 + yy * 6 + xx] }
            let v = (1 - fy) * ((1 - fx) * px(y0, x0) + fx * px(y0, x0 + 1)) + fy * ((1 - fx) * px(y0 + 1, x0) + fx * px(y0 + 1, x0 + 1))
            expectClose(Double(shifted.data[i * 30 + yo * 6 + xo]), Double(v), floor: 1e-5, "shifted pixel \(i)")
        }
    }

    /// The mirror: with every other parameter 0, each image comes out either unchanged or
    /// mirrored left-right (exactly), as the sixth draw says; without it the draws are five per
    /// image as before, and a stored configuration without `flip` reads as off.
    @Test func augmentationMirror() throws {
        let m = 64
        let x = Tensor(shape: [m, 3, 4, 2], data: randomValues(m * 24, seed: 7, lo: 0, hi: 1))
        var g1 = SeededGenerator(seed: 3), g2 = SeededGenerator(seed: 3)
        let out = AffineAugmentation(maxShift: 0, maxRotation: 0, maxScale: 0, maxShear: 0, flip: true).apply(x, rng: &g1)
        var mirroredCount = 0
        for i in 0..<m {
            for _ in 0..<5 { _ = g2.next() }
            let mirrored = g2.nextFloat(0, 1) < 0.5
            if mirrored { mirroredCount += 1 }
            for y in 0..<3 { for xx in 0..<4 { for c in 0..<2 {
                let src = x.data[i * 24 + (y * 4 + (mirrored ? 3 - xx : xx)) * 2 + c]
                #expect(abs(out.data[i * 24 + (y * 4 + xx) * 2 + c] - src) < 1e-6, "image \(i) (\(y), \(xx), \(c))")
            } } }
        }
        #expect(mirroredCount > 16 && mirroredCount < 48)
        #expect(g1.next() == g2.next(), "six draws per image with the mirror")
        var g3 = SeededGenerator(seed: 3), g4 = SeededGenerator(seed: 3)
        _ = AffineAugmentation().apply(x, rng: &g3)
        for _ in 0..<(5 * m) { _ = g4.next() }
        #expect(g3.next() == g4.next(), "five draws per image without it")
        let old = #"{"maxShift":2,"maxRotation":10,"maxScale":0.1,"maxShear":0.2}"#
        let decoded = try JSONDecoder().decode(AffineAugmentation.self, from: Data(old.utf8))
        #expect(decoded == AffineAugmentation())
        let round = try JSONDecoder().decode(AffineAugmentation.self,
                                             from: JSONEncoder().encode(AffineAugmentation(flip: true)))
        #expect(round.flip)
    }

    /// The photometric part: with the geometry off, every image's pixels become
    /// lo + span * min(1, a * u^g) for one (a, g) per image drawn as the seventh and eighth draws,
    /// log-uniform in the stated ranges; the background stays at lo; off, the draws stay five.
    @Test func augmentationPhotometric() throws {
        let m = 40, size = 6
        let lo: Float = -0.5, hi: Float = 1.5   // a preprocessing with offset -0.5, scale 2 / 255
        let fractions: [Float] = [0, 0.05, 0.2, 0.35, 0.5, 1]
        let x = Tensor(shape: [m, 2, 3, 1], data: (0..<m).flatMap { _ in fractions.map { lo + (hi - lo) * $0 } })
        let aug = AffineAugmentation(maxShift: 0, maxRotation: 0, maxScale: 0, maxShear: 0, contrast: 0.5, gamma: 1)
        var g1 = SeededGenerator(seed: 11), g2 = SeededGenerator(seed: 11)
        let out = aug.apply(x, rng: &g1, range: (lo, hi))
        var powers: [Float] = []
        for i in 0..<m {
            for _ in 0..<5 { _ = g2.next() }
            let a = Foundation.exp(g2.nextFloat(-Foundation.log(1.5), Foundation.log(1.5)))
            let g = Foundation.exp(g2.nextFloat(-Foundation.log(2), Foundation.log(2)))
            #expect(a >= 1 / 1.5 - 1e-5 && a <= 1.5 + 1e-5 && g >= 0.5 - 1e-5 && g <= 2 + 1e-5)
            powers.append(g)
            for (j, u) in fractions.enumerated() {
                let expected = lo + (hi - lo) * min(1, a * (u > 0 ? Foundation.pow(u, g) : 0))
                #expect(abs(out.data[i * size + j] - expected) < 1e-5, "image \(i) pixel \(j)")
            }
            #expect(out.data[i * size] == lo, "background stays at the low end")
        }
        #expect(powers.contains { $0 < 0.8 } && powers.contains { $0 > 1.25 }, "gammas on both sides of 1")
        #expect(g1.next() == g2.next(), "seven draws per image with the photometric part")
        // Contrast alone also takes both draws; the geometry is unchanged by the photometric part.
        var g3 = SeededGenerator(seed: 4), g4 = SeededGenerator(seed: 4)
        _ = AffineAugmentation(contrast: 0.2).apply(x, rng: &g3)
        for _ in 0..<(7 * m) { _ = g4.next() }
        #expect(g3.next() == g4.next())
        let old = #"{"maxShift":2,"maxRotation":10,"maxScale":0.1,"maxShear":0.2,"flip":false}"#
        #expect(try JSONDecoder().decode(AffineAugmentation.self, from: Data(old.utf8)) == AffineAugmentation(),
                "files written before the photometric part read as off")
        let round = try JSONDecoder().decode(AffineAugmentation.self, from: JSONEncoder().encode(aug))
        #expect(round == aug)
    }

    /// Training with the term is deterministic for a seed and runs on both view modes.
    @Test func trainsDeterministically() throws {
        func run(_ views: ConsistencyViews) throws -> [Float] {
            let spec = try Presets.spec("mlp", inputShape: [6, 6, 1], parents: 2, k: 2, batchNormBeforeZ: true, hidden: 16)
            let net = try Network(spec: spec, seed: 4)
            let model = ACOLModel(network: net, gar: .reference, preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
            var g = SeededGenerator(seed: 2)
            let set = ImageSet(count: 40, height: 6, width: 6, channels: 1,
                               pixels: (0..<(40 * 36)).map { _ in UInt8(truncatingIfNeeded: g.next()) },
                               fineLabels: (0..<40).map { Int32($0 % 4) }, coarseLabels: (0..<40).map { Int32($0 % 2) })
            let t = Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 8, seed: 3,
                                                              consistency: ConsistencyConfig(weight: 1, marginalWeight: 0.5, views: views)))
            try t.fit(train: set)
            #expect(model.history.first?.loss.isFinite == true)
            return net.headDense.kernel.value
        }
        for v in ConsistencyViews.allCases {
            #expect(try run(v) == run(v))
        }
    }
}

@Suite struct AugmentationRangeTests {
    /// Settings outside the ranges are refused by the trainer (a scale of 1 could make a factor of
    /// 0, an infinite shift an image of NaN: both trapped in the sampling); the sampling itself
    /// treats a degenerate map as outside the image.
    @Test func settingsOutsideTheRangesAreRefused() throws {
        #expect(throws: Never.self) { try AffineAugmentation().validate() }
        for bad in [AffineAugmentation(maxShift: .infinity), AffineAugmentation(maxShift: 1e20), AffineAugmentation(maxRotation: .nan),
                    AffineAugmentation(maxScale: 1), AffineAugmentation(maxShear: -1), AffineAugmentation(contrast: 11)] {
            #expect(throws: ACOLError.self) { try bad.validate() }
            let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 2, k: 2))
            let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                                  preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
            var config = TrainConfig(epochs: 1, batchSize: 6, seed: 1)
            config.consistency?.augmentation = bad
            #expect(throws: ACOLError.self) { try Trainer(model: model, config: config).fit(train: NetworkTests.tinySet()) }
        }
        // Applied anyway (the library call does not validate), a collapsing scale gives zeros, not a trap.
        var rng = SeededGenerator(seed: 1)
        let x = Tensor(shape: [2, 6, 6, 1], data: (0..<72).map { Float($0 % 7) })
        let y = AffineAugmentation(maxShift: .infinity, maxScale: 1).apply(x, rng: &rng, shard: nil, range: (0, 1))
        #expect(y.shape == x.shape)
    }

    /// Label arrays that do not match the images are refused before training.
    @Test func labelCountsAreChecked() throws {
        let spec = NetworkSpec(inputShape: [6, 6, 1], layers: [.flatten, .dense(8), .relu], head: ACOLHeadSpec(parents: 2, k: 2))
        let model = ACOLModel(network: try Network(spec: spec, seed: 5), gar: .reference,
                              preprocessing: Preprocessing(height: 6, width: 6, channels: 1))
        var set = NetworkTests.tinySet()
        set.coarseLabels = Array(set.coarseLabels!.prefix(5))
        #expect(throws: ACOLError.invalidData("training set: 5 coarse labels for 20 images")) {
            try Trainer(model: model, config: TrainConfig(epochs: 1, batchSize: 6, seed: 1)).fit(train: set)
        }
    }
}
