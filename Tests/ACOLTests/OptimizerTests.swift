import Foundation
import Testing
@testable import ACOL

/// One or two optimiser steps against values worked out by hand (Keras semantics).
@Suite struct OptimizerTests {
    /// w0 = [1, -2]; gradients g1 = [0.5, -1] then g2 = [0.25, 2].
    static func parameter() -> Parameter { Parameter(name: "w", shape: [2], value: [1, -2]) }

    static func twoSteps(_ config: OptimizerConfig) -> (Parameter, Optimizer, [Float]) {
        let p = parameter()
        let opt = Optimizer(config)
        p.grad = [0.5, -1]
        opt.update([p])
        let afterOne = p.value
        p.grad = [0.25, 2]
        opt.update([p])
        return (p, opt, afterOne)
    }

    static func expect(_ found: [Float], _ expected: [Double], _ what: String,
                       sourceLocation: SourceLocation = #_sourceLocation) {
        expectClose(found, expected, rel: 1e-6, floor: 1e-7, what, sourceLocation: sourceLocation)
    }

    /// lr 0.1, momentum 0.9, Nesterov, decay 0.5. The first update uses t = 0 (lr_1 = 0.1), the
    /// second t = 1 (lr_2 = 0.1 / 1.5), as Keras reads `iterations` before incrementing it.
    ///   v1 = -0.1 g1 = [-0.05, 0.1];   w1 = w0 + 0.9 v1 - 0.1 g1 = [0.905, -1.81]
    ///   v2 = 0.9 v1 - g2 / 15 = [-0.045 - 1/60, 0.09 - 2/15] = [-0.0616667, -0.0433333]
    ///   w2 = w1 + 0.9 v2 - g2 / 15 = [0.905 - 0.0555 - 1/60, -1.81 - 0.039 - 2/15]
    ///      = [0.8328333, -1.9823333]
    @Test func sgdNesterovMomentumDecay() {
        let (p, opt, w1) = Self.twoSteps(OptimizerConfig(kind: .sgd, learningRate: 0.1, momentum: 0.9,
                                                           nesterov: true, decay: 0.5))
        Self.expect(w1, [0.905, -1.81], "w after one step")
        Self.expect(p.value, [0.905 - 0.0555 - 1.0 / 60, -1.81 - 0.039 - 2.0 / 15], "w after two steps")
        Self.expect(p.slots[0], [-0.045 - 1.0 / 60, 0.09 - 2.0 / 15], "velocity")
        #expect(opt.step == 2)
        #expect(abs(opt.currentLearningRate - 0.05) < 1e-8)   // 0.1 / (1 + 0.5 * 2)
    }

    /// Plain momentum 0.9, no Nesterov, no decay: w += v.
    ///   v1 = [-0.05, 0.1], w1 = [0.95, -1.9]; v2 = 0.9 v1 - 0.1 g2 = [-0.07, -0.11],
    ///   w2 = [0.88, -2.01].
    @Test func sgdMomentum() {
        let (p, _, w1) = Self.twoSteps(OptimizerConfig(kind: .sgd, learningRate: 0.1, momentum: 0.9))
        Self.expect(w1, [0.95, -1.9], "w after one step")
        Self.expect(p.value, [0.88, -2.01], "w after two steps")
    }

    /// Plain SGD: w -= lr g. w1 = [0.95, -1.9], w2 = [0.925, -2.1].
    @Test func sgdPlain() {
        let (p, _, w1) = Self.twoSteps(OptimizerConfig(kind: .sgd, learningRate: 0.1))
        Self.expect(w1, [0.95, -1.9], "w after one step")
        Self.expect(p.value, [0.925, -2.1], "w after two steps")
    }

    /// Adam (Keras form): t = step count, lr_t = lr sqrt(1 - b2^t) / (1 - b1^t),
    /// m = b1 m + (1 - b1) g, v = b2 v + (1 - b2) g^2, w -= lr_t m / (sqrt(v) + eps), eps 1e-7.
    /// Expected values computed here in Double from those formulas.
    @Test func adamTwoSteps() {
        let lr = 0.01, b1 = 0.9, b2 = 0.999, eps = 1e-7
        let (p, _, w1) = Self.twoSteps(OptimizerConfig(kind: .adam, learningRate: Float(lr)))
        var w = [1.0, -2.0], m = [0.0, 0.0], v = [0.0, 0.0]
        var after: [[Double]] = []
        for (t, g) in [[0.5, -1.0], [0.25, 2.0]].enumerated() {
            let step = Double(t + 1)
            let lrT = lr * (1 - pow(b2, step)).squareRoot() / (1 - pow(b1, step))
            for i in 0..<2 {
                m[i] = b1 * m[i] + (1 - b1) * g[i]
                v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                w[i] -= lrT * m[i] / (v[i].squareRoot() + eps)
            }
            after.append(w)
        }
        // First Adam step moves every weight by about lr against the sign of its gradient.
        Self.expect(w1, after[0], "w after one step")
        #expect(abs(Double(w1[0]) - 0.99) < 1e-4 && abs(Double(w1[1]) + 1.99) < 1e-4)
        Self.expect(p.value, after[1], "w after two steps")
        // 1 - beta2 is 1 - Float(0.999) = 0.00099998713 in Float32: 1.3e-5 relative.
        expectClose(p.slots[0], m, rel: 1e-4, floor: 1e-7, "first moment")
        expectClose(p.slots[1], v, rel: 1e-4, floor: 1e-7, "second moment")
    }

    /// Non-trainable parameters (BatchNorm running statistics) are never touched.
    @Test func nonTrainableUntouched() {
        let p = Parameter(name: "running_mean", shape: [2], value: [1, 2], trainable: false)
        for config in [OptimizerConfig.sgdReference, .adamDefault] {
            Optimizer(config).update([p])
            #expect(p.value == [1, 2])
        }
    }

    /// Max-norm after the step: each unit's (last axis) incoming weights are rescaled to norm c
    /// when larger, and left alone otherwise.
    @Test func maxNorm() {
        // Kernel [3 inputs, 2 units]; unit 0 has norm 5 (3, 4, 0), unit 1 norm 0.3.
        let p = Parameter(name: "kernel", shape: [3, 2], value: [3, 0.1, 4, 0.2, 0, 0.2], maxNorm: 1)
        Optimizer(OptimizerConfig(kind: .sgd, learningRate: 0.1)).update([p])   // zero gradient
        Self.expect(p.value, [0.6, 0.1, 0.8, 0.2, 0, 0.2], "max-norm kernel")
        // A conv kernel [kh, kw, Cin, F] = [1, 2, 1, 2]: norms over kh * kw * Cin per filter.
        let k = Parameter(name: "kernel", shape: [1, 2, 1, 2], value: [6, 1, 8, 1], maxNorm: 2)
        k.grad = [0, 0, 0, 0]
        Optimizer(.adamDefault).update([k])
        Self.expect(k.value, [1.2, 1, 1.6, 1], "max-norm conv kernel")
        // Applied after the gradient step, and only where a constraint is set.
        let q = Parameter(name: "kernel", shape: [1, 1], value: [0.9], maxNorm: 1)
        q.grad = [-1]
        Optimizer(OptimizerConfig(kind: .sgd, learningRate: 0.5)).update([q])   // 0.9 + 0.5 = 1.4 -> 1
        Self.expect(q.value, [1], "max-norm after the step")
        let b = Parameter(name: "bias", shape: [1], value: [0.9])
        b.grad = [-1]
        Optimizer(OptimizerConfig(kind: .sgd, learningRate: 0.5)).update([b])
        Self.expect(b.value, [1.4], "no constraint")
    }
}
