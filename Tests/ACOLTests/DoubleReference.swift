import Foundation
import Testing
@testable import ACOL

/// Independent Double-precision forward passes of every layer and of the ACOL objective, written
/// straight from the definitions (naive loops, no BLAS, no im2col), for the finite-difference
/// checks "in Double": each Float32 layer's analytic gradient is compared with central differences
/// of its Double twin (step 1e-6), after checking that the twin computes what the layer computes.
enum DoubleReference {
    /// y = x W + b. x [m, i], W [i, o], b [o] -> y [m, o].
    static func dense(_ x: [Double], m: Int, _ w: [Double], _ b: [Double], inputs: Int, units: Int) -> [Double] {
        var y = [Double](repeating: 0, count: m * units)
        for r in 0..<m {
            for o in 0..<units {
                var s = b[o]
                for i in 0..<inputs { s += x[r * inputs + i] * w[i * units + o] }
                y[r * units + o] = s
            }
        }
        return y
    }

    /// 2-D convolution (cross-correlation, as Keras), stride 1. x [m, H, W, C], K [kh, kw, C, F],
    /// b [F] -> y [m, OH, OW, F]; 'same' pads (k - 1) / 2 before and the rest after.
    static func conv2d(_ x: [Double], m: Int, h: Int, w: Int, c: Int, _ k: [Double], kh: Int, kw: Int, f: Int,
                       _ b: [Double], padding: Padding) -> [Double] {
        let (oh, ow, pt, pl) = padding == .same ? (h, w, (kh - 1) / 2, (kw - 1) / 2) : (h - kh + 1, w - kw + 1, 0, 0)
        var y = [Double](repeating: 0, count: m * oh * ow * f)
        for n in 0..<m { for oy in 0..<oh { for ox in 0..<ow { for fo in 0..<f {
            var s = b[fo]
            for u in 0..<kh { for v in 0..<kw {
                let iy = oy + u - pt, ix = ox + v - pl
                guard iy >= 0, iy < h, ix >= 0, ix < w else { continue }
                for ci in 0..<c { s += x[((n * h + iy) * w + ix) * c + ci] * k[((u * kw + v) * c + ci) * f + fo] }
            } }
            y[((n * oh + oy) * ow + ox) * f + fo] = s
        } } } }
        return y
    }

    /// p x p max-pooling, stride p, floor. x [m, H, W, C] -> [m, H / p, W / p, C].
    static func maxPool(_ x: [Double], m: Int, h: Int, w: Int, c: Int, p: Int) -> [Double] {
        let oh = h / p, ow = w / p
        var y = [Double](repeating: 0, count: m * oh * ow * c)
        for n in 0..<m { for oy in 0..<oh { for ox in 0..<ow { for ch in 0..<c {
            var best = -Double.infinity
            for u in 0..<p { for v in 0..<p { best = max(best, x[((n * h + oy * p + u) * w + ox * p + v) * c + ch]) } }
            y[((n * oh + oy) * ow + ox) * c + ch] = best
        } } } }
        return y
    }

    static func relu(_ x: [Double]) -> [Double] { x.map { max($0, 0) } }

    /// Training-mode batch normalisation over rows of [rows, C] (biased batch variance).
    static func batchNorm(_ x: [Double], channels c: Int, _ gamma: [Double], _ beta: [Double], epsilon: Double) -> [Double] {
        let rows = x.count / c
        var y = [Double](repeating: 0, count: x.count)
        for j in 0..<c {
            var mean = 0.0
            for r in 0..<rows { mean += x[r * c + j] }
            mean /= Double(rows)
            var v = 0.0
            for r in 0..<rows { v += (x[r * c + j] - mean) * (x[r * c + j] - mean) }
            v /= Double(rows)
            for r in 0..<rows { y[r * c + j] = gamma[j] * (x[r * c + j] - mean) / (v + epsilon).squareRoot() + beta[j] }
        }
        return y
    }

    /// The ACOL loss of ACOL.md on Z [m, n_p * k]: mean cross-entropy of the pooled parents plus
    /// c_a * a + c_b * (1 - b) + c_F * ||Z||^2 (sum or mean), GAR over all nodes or per parent,
    /// symmetric form averaging the max(0, Z) and max(0, -Z) terms.
    static func objective(_ z: [Double], m: Int, parents np: Int, k: Int, labels: [Int32]?, gar: GARConfig) -> Double {
        let n = np * k
        var ce = 0.0
        if np > 1, let labels {
            for i in 0..<m {
                let row = Array(z[(i * n)..<((i + 1) * n)])
                let mx = row.max()!
                let e = row.map { ($0 - mx).exp }
                let total = e.reduce(0, +)
                var y = 0.0
                for j in 0..<n where j % np == Int(labels[i]) { y += e[j] / total }
                ce -= y.log
            }
            ce /= Double(m)
        }
        func block(_ cols: [Int], sign: Double) -> (Double, Double) {
            let q = cols.count
            var nm = [Double](repeating: 0, count: q * q)
            for i in 0..<m {
                for a in 0..<q { for b in 0..<q {
                    nm[a * q + b] += max(0, sign * z[i * n + cols[a]]) * max(0, sign * z[i * n + cols[b]])
                } }
            }
            var trN = 0.0, sumN = 0.0, trV = 0.0, sumV = 0.0
            for a in 0..<q {
                trN += nm[a * q + a]
                for b in 0..<q {
                    sumN += nm[a * q + b]
                    sumV += nm[a * q + a] * nm[b * q + b]
                }
                trV += nm[a * q + a] * nm[a * q + a]
            }
            let eps = Double(gar.epsilon), d = Double(q - 1)
            return ((sumN - trN) / (d * trN + eps), (sumV - trV) / (d * trV + eps))
        }
        let blocks: [[Int]] = gar.scope == .allNodes || np == 1
            ? [Array(0..<n)]
            : (0..<np).map { p in (0..<k).map { d in d * np + p } }
        let signs: [Double] = gar.symmetric ? [1, -1] : [1]
        var a = 0.0, b = 0.0
        for cols in blocks { for s in signs {
            let (ab, bb) = block(cols, sign: s)
            a += ab; b += bb
        } }
        let w = Double(blocks.count * signs.count)
        a /= w; b /= w
        var frob = z.reduce(0) { $0 + $1 * $1 }
        if gar.frobenius == .mean { frob /= Double(z.count) }
        return ce + Double(gar.cA) * a + Double(gar.cB) * (1 - b) + Double(gar.cF) * frob
    }
}

private extension Double {
    var exp: Double { Foundation.exp(self) }
    var log: Double { Foundation.log(self) }
}

/// Central differences in Double of a Double function of `x`, one entry at a time.
func doubleNumericGradient(_ x: [Double], h: Double = 1e-6, _ f: ([Double]) -> Double) -> [Double] {
    var v = x
    return (0..<x.count).map { i in
        let orig = v[i]
        v[i] = orig + h
        let up = f(v)
        v[i] = orig - h
        let down = f(v)
        v[i] = orig
        return (up - down) / (2 * h)
    }
}

/// The tolerance of the Double checks: the analytic gradients are Float32 (about 1e-7 relative
/// rounding per operation, sums of at most a few hundred terms here), the central differences in
/// Double with h = 1e-6 are exact to about 1e-9 relative on these smooth, order-1 functions. So
/// 1e-4 relative per entry (plus 1e-5 of the vector's scale) leaves a margin of ten over the
/// Float rounding, while any real error in a gradient is O(1).
let doubleCheck = GradientCheck(rtol: 1e-4, atol: 1e-5, normTolerance: 1e-4)

/// Checks one layer in Double: its Float forward against `reference` (the Double twin, given x and
/// the trainable parameters' values), then its Float analytic dL/dx and dL/dparameters against
/// central differences of L = sum(reference(x, params) * r) in Double.
func checkLayerInDouble(_ layer: Layer, input: Tensor, seed: UInt64 = 99, _ what: String,
                        sourceLocation: SourceLocation = #_sourceLocation,
                        reference: @escaping ([Double], [[Double]]) -> [Double]) {
    var rng = SeededGenerator(seed: seed)
    let y = layer.forward(input, training: true, rng: &rng)
    let r = randomValues(y.count, seed: 4321).map(Double.init)
    let dx = layer.backward(Tensor(shape: y.shape, data: r.map(Float.init)))
    let params = layer.parameters.filter(\.trainable)
    let grads = params.map { $0.grad.map(Double.init) }
    let x0 = input.data.map(Double.init)
    let p0 = params.map { $0.value.map(Double.init) }

    expectClose(y.data, reference(x0, p0), rel: 1e-5, floor: 1e-6, "\(what) forward vs its Double twin",
                sourceLocation: sourceLocation)
    func loss(_ x: [Double], _ p: [[Double]]) -> Double {
        zip(reference(x, p), r).reduce(0) { $0 + $1.0 * $1.1 }
    }
    doubleCheck.compare(analytic: dx.data.map(Double.init), numeric: doubleNumericGradient(x0) { loss($0, p0) },
                        "\(what) dL/dx (Double)", sourceLocation: sourceLocation)
    for (i, p) in params.enumerated() {
        let numeric = doubleNumericGradient(p0[i]) { v in
            var q = p0
            q[i] = v
            return loss(x0, q)
        }
        doubleCheck.compare(analytic: grads[i], numeric: numeric, "\(what) dL/d\(p.name) (Double)",
                            sourceLocation: sourceLocation)
    }
}
