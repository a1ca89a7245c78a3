import Foundation

public enum OptimizerKind: String, Codable, Sendable {
    case sgd, adam
}

/// Optimiser settings. SGD: lr / (1 + decay * step), momentum, Nesterov. Adam: beta1, beta2, eps.
public struct OptimizerConfig: Codable, Equatable, Sendable {
    public var kind: OptimizerKind
    public var learningRate: Float
    public var momentum: Float
    public var nesterov: Bool
    public var decay: Float
    public var beta1: Float
    public var beta2: Float
    public var epsilon: Float

    public init(kind: OptimizerKind, learningRate: Float, momentum: Float = 0, nesterov: Bool = false,
                decay: Float = 0, beta1: Float = 0.9, beta2: Float = 0.999, epsilon: Float = 1e-7) {
        self.kind = kind; self.learningRate = learningRate; self.momentum = momentum
        self.nesterov = nesterov; self.decay = decay; self.beta1 = beta1; self.beta2 = beta2
        self.epsilon = epsilon
    }

    /// The reference: SGD lr 0.01, decay 1e-6, momentum 0.95, Nesterov.
    public static let sgdReference = OptimizerConfig(kind: .sgd, learningRate: 0.01, momentum: 0.95,
                                                     nesterov: true, decay: 1e-6)
    public static let adamDefault = OptimizerConfig(kind: .adam, learningRate: 1e-3)
}

/// SGD (momentum, Nesterov, Keras-style decay lr / (1 + decay * step)) and Adam (Keras form),
/// applied to every trainable parameter; max-norm constraints are applied after each step.
public final class Optimizer {
    public let config: OptimizerConfig
    /// Updates done so far.
    public private(set) var step: Int = 0

    public init(_ config: OptimizerConfig) { self.config = config }

    /// The learning rate of the next update.
    public var currentLearningRate: Float {
        config.kind == .sgd ? config.learningRate / (1 + config.decay * Float(step)) : config.learningRate
    }

    public func update(_ parameters: [Parameter]) {
        let lr = currentLearningRate
        step += 1
        switch config.kind {
        case .sgd:
            let mu = config.momentum
            for p in parameters where p.trainable {
                if mu == 0 {
                    p.value.withUnsafeMutableBufferPointer { w in
                        p.grad.withUnsafeBufferPointer { g in for i in 0..<w.count { w[i] -= lr * g[i] } }
                    }
                } else {
                    if p.slots.isEmpty { p.slots = [[Float](repeating: 0, count: p.value.count)] }
                    let nesterov = config.nesterov
                    p.value.withUnsafeMutableBufferPointer { w in
                        p.grad.withUnsafeBufferPointer { g in
                            p.slots[0].withUnsafeMutableBufferPointer { v in
                                let wb = w.baseAddress!, gb = g.baseAddress!, vb = v.baseAddress!
                                // Memory-bound: large tensors are updated in slices on all threads.
                                let n = w.count, slices = n >= 1 << 16 ? (n + (1 << 15) - 1) >> 15 : 1
                                parallelFor(slices) { part in
                                    let lo = n * part / slices, hi = n * (part + 1) / slices
                                    if nesterov {
                                        for i in lo..<hi {
                                            let vi = mu * vb[i] - lr * gb[i]
                                            vb[i] = vi
                                            wb[i] += mu * vi - lr * gb[i]
                                        }
                                    } else {
                                        for i in lo..<hi {
                                            let vi = mu * vb[i] - lr * gb[i]
                                            vb[i] = vi
                                            wb[i] += vi
                                        }
                                    }
                                }
                            }
                        }
                    }
                }
                p.applyMaxNorm()
            }
        case .adam:
            let t = Float(step)
            let b1 = config.beta1, b2 = config.beta2, eps = config.epsilon
            let lrT = lr * (1 - powf(b2, t)).squareRoot() / (1 - powf(b1, t))
            for p in parameters where p.trainable {
                if p.slots.isEmpty {
                    p.slots = [[Float](repeating: 0, count: p.value.count), [Float](repeating: 0, count: p.value.count)]
                }
                // Both moments are taken out of `slots` first: two nested mutable accesses to
                // p.slots[0] and p.slots[1] overlap on `slots` and trap (exclusivity check).
                var mom = p.slots[0], vel = p.slots[1]
                p.slots = []   // so mom and vel are uniquely referenced (no copy on write)
                defer { p.slots = [mom, vel] }
                p.value.withUnsafeMutableBufferPointer { w in
                    p.grad.withUnsafeBufferPointer { g in
                        mom.withUnsafeMutableBufferPointer { m in
                            vel.withUnsafeMutableBufferPointer { v in
                                for i in 0..<w.count {
                                    m[i] = b1 * m[i] + (1 - b1) * g[i]
                                    v[i] = b2 * v[i] + (1 - b2) * g[i] * g[i]
                                    w[i] -= lrT * m[i] / (v[i].squareRoot() + eps)
                                }
                            }
                        }
                    }
                }
                p.applyMaxNorm()
            }
        }
    }
}
