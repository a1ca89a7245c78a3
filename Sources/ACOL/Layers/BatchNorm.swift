/// Batch normalisation over every axis but the last (channels): 1-D on [m, C], 2-D on [m, H, W, C].
/// Training: y = gamma * (x - mean_b) / sqrt(var_b + eps) + beta with the batch statistics
/// (biased variance), and running = momentum * running + (1 - momentum) * batch (Keras convention;
/// the running variance takes the unbiased batch variance, as PyTorch does).
/// Inference: the running statistics.
public final class BatchNorm: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public let gamma: Parameter
    public let beta: Parameter
    public let runningMean: Parameter
    public let runningVar: Parameter
    public var parameters: [Parameter] { [gamma, beta, runningMean, runningVar] }
    let channels: Int
    /// Running-statistics momentum (Keras convention); only inference reads the running statistics.
    public var momentum: Float
    let epsilon: Float
    private var xhat: [Float] = []
    private var invStd: [Float] = []
    /// Rows the batch statistics of the last training forward were taken over (all processes').
    private var statRows = 0

    public init(inputShape: [Int], momentum: Float = 0.99, epsilon: Float = 1e-3) {
        self.inputShape = inputShape
        channels = inputShape.last ?? 1
        self.momentum = momentum; self.epsilon = epsilon
        spec = .batchNorm(momentum: momentum, epsilon: epsilon)
        gamma = Parameter(name: "gamma", shape: [channels], value: [Float](repeating: 1, count: channels))
        beta = Parameter(name: "beta", shape: [channels], value: [Float](repeating: 0, count: channels))
        runningMean = Parameter(name: "running_mean", shape: [channels],
                                value: [Float](repeating: 0, count: channels), trainable: false)
        runningVar = Parameter(name: "running_var", shape: [channels],
                               value: [Float](repeating: 1, count: channels), trainable: false)
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        forward(x, training: training, rng: &rng, shard: nil)
    }

    /// x [m, ..., C] -> y [m, ..., C]. With a shard, the per-channel sums (of x, then of the
    /// squared deviations from the whole batch's mean) and the row count are summed over the
    /// processes first, so the statistics are the whole batch's.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator, shard: BatchShard?) -> Tensor {
        let c = channels
        let rows = x.count / c
        var y = [Float](repeating: 0, count: x.count)
        if !training {
            var scale = [Float](repeating: 0, count: c), shift = [Float](repeating: 0, count: c)
            for j in 0..<c {
                scale[j] = gamma.value[j] / (runningVar.value[j] + epsilon).squareRoot()
                shift[j] = beta.value[j] - runningMean.value[j] * scale[j]
            }
            x.data.withUnsafeBufferPointer { xp in
                y.withUnsafeMutableBufferPointer { yp in
                    for r in 0..<rows { for j in 0..<c { yp[r * c + j] = xp[r * c + j] * scale[j] + shift[j] } }
                }
            }
            return Tensor(shape: x.shape, data: y)
        }
        // Statistics in Double for accuracy over large batches.
        var mean = [Double](repeating: 0, count: c), sq = [Double](repeating: 0, count: c)
        var count = rows
        x.data.withUnsafeBufferPointer { xp in
            for r in 0..<rows { for j in 0..<c { mean[j] += Double(xp[r * c + j]) } }
            if let shard {
                // [sum x per channel..., rows] over all processes.
                var part = mean + [Double(rows)]
                shard.reduction.sum(&part)
                mean = Array(part[0..<c]); count = Int(part[c].rounded())
            }
            for j in 0..<c { mean[j] /= Double(count) }
            for r in 0..<rows { for j in 0..<c { let d = Double(xp[r * c + j]) - mean[j]; sq[j] += d * d } }
        }
        shard?.reduction.sum(&sq)
        statRows = count
        var istd = [Float](repeating: 0, count: c)
        for j in 0..<c {
            let v = sq[j] / Double(count)
            istd[j] = Float(1 / (v + Double(epsilon)).squareRoot())
            let unbiased = count > 1 ? sq[j] / Double(count - 1) : v
            runningMean.value[j] = momentum * runningMean.value[j] + (1 - momentum) * Float(mean[j])
            runningVar.value[j] = momentum * runningVar.value[j] + (1 - momentum) * Float(unbiased)
        }
        var xh = [Float](repeating: 0, count: x.count)
        let meanF = mean.map { Float($0) }
        x.data.withUnsafeBufferPointer { xp in
            xh.withUnsafeMutableBufferPointer { hp in
                y.withUnsafeMutableBufferPointer { yp in
                    gamma.value.withUnsafeBufferPointer { g in
                        beta.value.withUnsafeBufferPointer { b in
                            for r in 0..<rows {
                                for j in 0..<c {
                                    let v = (xp[r * c + j] - meanF[j]) * istd[j]
                                    hp[r * c + j] = v
                                    yp[r * c + j] = g[j] * v + b[j]
                                }
                            }
                        }
                    }
                }
            }
        }
        xhat = xh; invStd = istd
        return Tensor(shape: x.shape, data: y)
    }

    /// dx = gamma * istd / N * (N * dy - sum(dy) - xhat * sum(dy * xhat)), per channel.
    public func backward(_ dy: Tensor) -> Tensor { backward(dy, shard: nil) }

    /// dy [m, ..., C] -> dx [m, ..., C]. With a shard, sum(dy) and sum(dy * xhat) are summed over
    /// the processes for dx, and N is the whole batch's row count; gamma's and beta's gradients
    /// keep this process's part (the trainer sums every parameter gradient afterwards).
    public func backward(_ dy: Tensor, shard: BatchShard?) -> Tensor {
        precondition(!xhat.isEmpty, "BatchNorm.backward without a training forward")
        let c = channels
        let rows = dy.count / c
        var sumDy = [Float](repeating: 0, count: c), sumDyX = [Float](repeating: 0, count: c)
        dy.data.withUnsafeBufferPointer { d in
            xhat.withUnsafeBufferPointer { h in
                for r in 0..<rows {
                    for j in 0..<c { sumDy[j] += d[r * c + j]; sumDyX[j] += d[r * c + j] * h[r * c + j] }
                }
            }
        }
        for j in 0..<c { beta.grad[j] = sumDy[j]; gamma.grad[j] = sumDyX[j] }
        var n = Float(rows)
        if let shard {
            var part = sumDy + sumDyX
            shard.reduction.sum(&part)
            sumDy = Array(part[0..<c]); sumDyX = Array(part[c..<(2 * c)])
            n = Float(statRows)
        }
        var dx = [Float](repeating: 0, count: dy.count)
        var k = [Float](repeating: 0, count: c)
        for j in 0..<c { k[j] = gamma.value[j] * invStd[j] / n }
        dy.data.withUnsafeBufferPointer { d in
            xhat.withUnsafeBufferPointer { h in
                dx.withUnsafeMutableBufferPointer { o in
                    for r in 0..<rows {
                        for j in 0..<c {
                            let i = r * c + j
                            o[i] = k[j] * (n * d[i] - sumDy[j] - h[i] * sumDyX[j])
                        }
                    }
                }
            }
        }
        xhat = []; invStd = []
        return Tensor(shape: dy.shape, data: dx)
    }
}
