/// A weight tensor (or a statistic such as a running mean) with its gradient and optimiser state.
public final class Parameter {
    /// Name inside its layer: "kernel", "bias", "gamma", "beta", "running_mean", "running_var".
    public let name: String
    public let shape: [Int]
    public var value: [Float]
    public var grad: [Float]
    /// false for statistics updated by the layer itself (BatchNorm running mean and variance).
    public let trainable: Bool
    /// Max-norm constraint on each output unit's incoming weights (the last axis indexes units).
    public var maxNorm: Float?
    /// Optimiser state (momentum, Adam moments), created lazily by the optimiser.
    var slots: [[Float]] = []

    public init(name: String, shape: [Int], value: [Float], trainable: Bool = true, maxNorm: Float? = nil) {
        precondition(shape.reduce(1, *) == value.count)
        self.name = name; self.shape = shape; self.value = value
        self.grad = trainable ? [Float](repeating: 0, count: value.count) : []
        self.trainable = trainable; self.maxNorm = maxNorm
    }

    /// Rescales each unit's incoming weights to norm at most `maxNorm` (Keras max_norm, axis 0).
    func applyMaxNorm() {
        guard let c = maxNorm, let units = shape.last, units > 0 else { return }
        let fanIn = value.count / units
        value.withUnsafeMutableBufferPointer { w in
            var norms = [Float](repeating: 0, count: units)
            for i in 0..<fanIn { for u in 0..<units { norms[u] += w[i * units + u] * w[i * units + u] } }
            for u in 0..<units {
                let n = norms[u].squareRoot()
                norms[u] = n > c ? c / (n + 1e-7) : 1
            }
            for i in 0..<fanIn { for u in 0..<units { w[i * units + u] *= norms[u] } }
        }
    }
}

/// A layer of a network body. Forward caches what backward needs; backward takes dL/dy and
/// returns dL/dx, writing (not adding) the gradients of the layer's parameters.
public protocol Layer: AnyObject {
    var spec: LayerSpec { get }
    /// Shape of one example in and out (without the batch axis).
    var inputShape: [Int] { get }
    var outputShape: [Int] { get }
    /// Weights and statistics, in a fixed order.
    var parameters: [Parameter] { get }
    /// x: [m, inputShape...] -> y: [m, outputShape...]
    func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor
    /// dy: [m, outputShape...] -> dx: [m, inputShape...]
    func backward(_ dy: Tensor) -> Tensor
    /// As `forward`, for this process's rows of a batch split over processes (`shard`; nil: the
    /// whole batch is here). Layers with batch statistics (BatchNorm) reduce them over the
    /// processes; layers with per-row random draws (Dropout) draw what one process would draw for
    /// these rows of the whole batch. The default is `forward`.
    func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator, shard: BatchShard?) -> Tensor
    /// As `backward`, for this process's rows (the shard of the last forward).
    func backward(_ dy: Tensor, shard: BatchShard?) -> Tensor
}

extension Layer {
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator, shard: BatchShard?) -> Tensor {
        forward(x, training: training, rng: &rng)
    }
    public func backward(_ dy: Tensor, shard: BatchShard?) -> Tensor { backward(dy) }
}

/// Glorot-uniform initial values: U(-l, l), l = sqrt(6 / (fanIn + fanOut)).
func glorotUniform(count: Int, fanIn: Int, fanOut: Int, rng: inout SeededGenerator) -> [Float] {
    let limit = (6.0 / Float(fanIn + fanOut)).squareRoot()
    return (0..<count).map { _ in rng.nextFloat(-limit, limit) }
}

/// Initial (weights, biases) of a layer with `count` weights and `units` biases.
func initialWeights(_ initializer: WeightInitializer, count: Int, units: Int, fanIn: Int, fanOut: Int,
                    rng: inout SeededGenerator) -> (weights: [Float], biases: [Float]) {
    switch initializer {
    case .glorotUniform:
        return (glorotUniform(count: count, fanIn: fanIn, fanOut: fanOut, rng: &rng), [Float](repeating: 0, count: units))
    case .fanInUniform:
        let limit = 1 / Float(fanIn).squareRoot()
        let w = (0..<count).map { _ in rng.nextFloat(-limit, limit) }
        let b = (0..<units).map { _ in rng.nextFloat(-limit, limit) }
        return (w, b)
    }
}
