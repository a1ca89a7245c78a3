import Testing
@testable import ACOL

// Shared helpers of the core-library tests: closeness checks and finite-difference gradient checks.

/// |found - expected| <= rel * |expected| + floor.
func isClose(_ found: Double, _ expected: Double, rel: Double = 1e-5, floor: Double = 1e-7) -> Bool {
    abs(found - expected) <= rel * abs(expected) + floor
}

/// Expects two scalars to agree to `rel` (with an absolute `floor` for values near 0).
func expectClose(_ found: Double, _ expected: Double, rel: Double = 1e-5, floor: Double = 1e-7,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(isClose(found, expected, rel: rel, floor: floor),
            "\(what): found \(found), expected \(expected)", sourceLocation: sourceLocation)
}

/// Expects two arrays to agree element-wise to `rel`; the absolute floor is `floor` times the
/// largest expected magnitude (so tiny entries of a vector are judged on the vector's scale).
func expectClose(_ found: [Double], _ expected: [Double], rel: Double = 1e-5, floor: Double = 1e-6,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    #expect(found.count == expected.count, "\(what): \(found.count) values, expected \(expected.count)",
            sourceLocation: sourceLocation)
    guard found.count == expected.count else { return }
    let scale = expected.map(abs).max() ?? 0
    var bad: [String] = []
    for i in 0..<found.count where !isClose(found[i], expected[i], rel: rel, floor: floor * max(scale, 1e-30)) {
        bad.append("[\(i)] \(found[i]) vs \(expected[i])")
    }
    let differing = bad.count   // a count, so a failure does not print the whole list
    #expect(differing == 0, "\(what): \(bad.count) of \(found.count) differ: \(bad.prefix(6).joined(separator: "; "))",
            sourceLocation: sourceLocation)
}

func expectClose(_ found: [Float], _ expected: [Double], rel: Double = 1e-5, floor: Double = 1e-6,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    expectClose(found.map(Double.init), expected, rel: rel, floor: floor, what, sourceLocation: sourceLocation)
}

/// Uniform values in [-1, 1) from a seeded generator.
func randomValues(_ count: Int, seed: UInt64, lo: Float = -1, hi: Float = 1) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in g.nextFloat(lo, hi) }
}

/// Values with magnitude in [0.2, 1.2) and random sign: away from ReLU's kink at 0 by more
/// than any finite-difference step used here.
func awayFromZero(_ count: Int, seed: UInt64) -> [Float] {
    var g = SeededGenerator(seed: seed)
    return (0..<count).map { _ in
        let m = g.nextFloat(0.2, 1.2)
        return g.nextUnitFloat() < 0.5 ? -m : m
    }
}

/// Distinct values spaced `gap` apart in a seeded random order, centred on 0: no ties in max-pool
/// windows, and no order change under a finite-difference step smaller than gap / 2.
func distinctValues(_ count: Int, seed: UInt64, gap: Float = 0.05) -> [Float] {
    var g = SeededGenerator(seed: seed)
    let order = Array(0..<count).shuffled(using: &g)
    return order.map { Float($0 - count / 2) * gap }
}

/// Finite-difference gradient checks.
///
/// The layers compute in Float32, so "in Double" means: the scalar test loss L = sum(y * r)
/// (r a fixed random tensor) is accumulated in Double, each central difference
/// (L(v + h) - L(v - h)) / (v+h - (v-h)) divides by the step *actually taken* in Float32 (so
/// rounding of v +- h does not bias it), and everything is compared in Double.
///
/// Step and tolerance: with inputs of order 1, h = 1e-2 (1e-3 where the function is strongly
/// curved) keeps the O(h^2) truncation error of central differences near 1e-4 or below, while
/// the Float32 rounding noise of L (about 1e-7 * |L| per evaluation) contributes at most about
/// 1e-5 / h. A real bug (a transposed kernel, a wrong stride, a missing term of the BatchNorm or
/// GAR gradient, a sign error) changes gradient entries by O(1) relative amounts, so the checks
/// ask for a relative error below `normTolerance` (1e-2 by default) on the whole gradient vector
/// and for every entry |numeric - analytic| <= rtol * |analytic| + atol (rtol 1e-2, atol 1e-3
/// times the vector's largest entry). Breaking the code on purpose (e.g. transposing the Conv2D
/// kernel in backward, dropping the mean term of the BatchNorm gradient, flipping a GAR sign) makes
/// these checks fail by orders of magnitude.
struct GradientCheck {
    var rtol = 1e-2
    var atol = 1e-3
    var normTolerance = 1e-2

    /// Compares an analytic gradient with a numeric one, on the entries where `smooth` is true
    /// (at most `maxSkipped` of them may be skipped).
    func compare(analytic: [Double], numeric: (gradient: [Double], smooth: [Bool]), maxSkipped: Double = 0.1,
                 _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
        let keep = numeric.smooth.indices.filter { numeric.smooth[$0] }
        let skipped = numeric.smooth.count - keep.count
        #expect(Double(skipped) <= maxSkipped * Double(numeric.smooth.count),
                "\(what): \(skipped) of \(numeric.smooth.count) entries sit on a kink", sourceLocation: sourceLocation)
        compare(analytic: keep.map { analytic[$0] }, numeric: keep.map { numeric.gradient[$0] }, what,
                sourceLocation: sourceLocation)
    }

    /// Compares an analytic gradient with a numeric one.
    func compare(analytic: [Double], numeric: [Double], _ what: String,
                 sourceLocation: SourceLocation = #_sourceLocation) {
        #expect(analytic.count == numeric.count, "\(what): sizes differ", sourceLocation: sourceLocation)
        guard analytic.count == numeric.count, !analytic.isEmpty else { return }
        var diff2 = 0.0, ref2 = 0.0
        let scale = max(analytic.map(abs).max()!, numeric.map(abs).max()!)
        var bad: [String] = []
        for i in 0..<analytic.count {
            let d = numeric[i] - analytic[i]
            diff2 += d * d; ref2 += numeric[i] * numeric[i]
            if abs(d) > rtol * abs(numeric[i]) + atol * scale {
                bad.append("[\(i)] analytic \(analytic[i]) numeric \(numeric[i])")
            }
        }
        let relNorm = diff2.squareRoot() / max(ref2.squareRoot(), 1e-12)
        #expect(scale > 0, "\(what): the gradient is identically zero, the check proves nothing",
                sourceLocation: sourceLocation)
        #expect(relNorm < normTolerance, "\(what): relative error of the gradient norm \(relNorm)",
                sourceLocation: sourceLocation)
        let differing = bad.count
        #expect(differing == 0, "\(what): \(bad.count) of \(analytic.count) entries differ: \(bad.prefix(5).joined(separator: "; "))",
                sourceLocation: sourceLocation)
    }

    /// Central differences of `loss` over `count` values read by `get` and written by `set`
    /// (each restored afterwards). Setter closures, not inout, so the loss may read the same
    /// storage (a parameter's value) without an exclusivity conflict.
    static func numeric(count: Int, get: (Int) -> Float, set: (Int, Float) -> Void, h: Float,
                        loss: () -> Double) -> [Double] {
        var out = [Double](repeating: 0, count: count)
        for i in 0..<count {
            let v = get(i)
            let up = v + h, down = v - h
            set(i, up)
            let lp = loss()
            set(i, down)
            let lm = loss()
            set(i, v)
            out[i] = (lp - lm) / (Double(up) - Double(down))
        }
        return out
    }

    /// Central differences, plus for each entry whether the loss is smooth there at the scale of
    /// the step: the forward and backward one-sided differences must agree to `smoothness`
    /// (relative to the largest central difference). Where a ReLU input or a max-pool winner
    /// switches inside [v - h, v + h] they differ by the jump of the slope, and the central
    /// difference means nothing; such entries are reported as not smooth. The analytic gradient
    /// plays no part in that decision, so a wrong gradient cannot hide behind it.
    static func numericWithKinks(count: Int, get: (Int) -> Float, set: (Int, Float) -> Void, h: Float,
                                 smoothness: Double = 2e-2, loss: () -> Double) -> (gradient: [Double], smooth: [Bool]) {
        var central = [Double](repeating: 0, count: count)
        var oneSided = [(Double, Double)](repeating: (0, 0), count: count)
        for i in 0..<count {
            let v = get(i)
            let up = v + h, down = v - h
            let l0 = loss()
            set(i, up)
            let lp = loss()
            set(i, down)
            let lm = loss()
            set(i, v)
            central[i] = (lp - lm) / (Double(up) - Double(down))
            oneSided[i] = ((lp - l0) / (Double(up) - Double(v)), (l0 - lm) / (Double(v) - Double(down)))
        }
        let scale = central.map(abs).max() ?? 0
        let smooth = oneSided.map { abs($0.0 - $0.1) <= smoothness * scale }
        return (central, smooth)
    }

    /// Central differences over the values of a parameter.
    static func numeric(_ p: Parameter, h: Float, loss: () -> Double) -> [Double] {
        numeric(count: p.value.count, get: { p.value[$0] }, set: { p.value[$0] = $1 }, h: h, loss: loss)
    }
}

/// sum(y * r) in Double.
func dotLoss(_ y: Tensor, _ r: [Float]) -> Double {
    precondition(y.count == r.count)
    var s = 0.0
    for i in 0..<r.count { s += Double(y.data[i]) * Double(r[i]) }
    return s
}

/// Checks dL/dx and dL/dparameter of one layer for L = sum(layer(x) * r), in training mode.
/// The generator is re-seeded before every forward pass, so Dropout draws the same mask each time.
func checkLayerGradients(_ layer: Layer, input: Tensor, h: Float = 1e-2, check: GradientCheck = GradientCheck(),
                         seed: UInt64 = 99, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    var rng = SeededGenerator(seed: seed)
    let y0 = layer.forward(input, training: true, rng: &rng)
    let r = randomValues(y0.count, seed: 12345)
    let dx = layer.backward(Tensor(shape: y0.shape, data: r))
    #expect(dx.shape == input.shape, "\(what): dx shape \(dx.shape)", sourceLocation: sourceLocation)
    let paramGrads = layer.parameters.filter(\.trainable).map { $0.grad.map(Double.init) }

    func loss(_ x: Tensor) -> Double {
        var g = SeededGenerator(seed: seed)
        return dotLoss(layer.forward(x, training: true, rng: &g), r)
    }
    var x = input
    let nx = GradientCheck.numeric(count: x.count, get: { x.data[$0] }, set: { x.data[$0] = $1 }, h: h) { loss(x) }
    check.compare(analytic: dx.data.map(Double.init), numeric: nx, "\(what) dL/dx", sourceLocation: sourceLocation)

    for (p, grad) in zip(layer.parameters.filter(\.trainable), paramGrads) {
        let np = GradientCheck.numeric(p, h: h) { loss(input) }
        check.compare(analytic: grad, numeric: np, "\(what) dL/d\(p.name)", sourceLocation: sourceLocation)
    }
}
