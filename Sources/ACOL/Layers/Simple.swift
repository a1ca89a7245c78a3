/// 2-D max pooling, window p x p, stride p, no padding (floor).
/// x: [m, H, W, C] -> y: [m, H / p, W / p, C].
public final class MaxPool2D: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameters: [Parameter] { [] }
    let h, w, c, p, oh, ow: Int
    /// For each output value, the flat index of the input that won.
    private var argmax: [Int32] = []
    private var batch = 0

    public init(inputShape: [Int], size: Int) {
        precondition(inputShape.count == 3, "MaxPool2D needs [H, W, C] input")
        h = inputShape[0]; w = inputShape[1]; c = inputShape[2]; p = size
        oh = h / p; ow = w / p
        spec = .maxPool2d(size)
        self.inputShape = inputShape
        outputShape = [oh, ow, c]
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        let outCount = m * oh * ow * c
        var y = [Float](repeating: 0, count: outCount)
        var arg = [Int32](repeating: 0, count: training ? outCount : 0)
        let (h, w, c, p, oh, ow) = (self.h, self.w, self.c, self.p, self.oh, self.ow)
        x.data.withUnsafeBufferPointer { xp in
            y.withUnsafeMutableBufferPointer { yp in
                arg.withUnsafeMutableBufferPointer { ap in
                    // The argmax buffer is empty at inference, but an empty array's baseAddress need not be
                    // nil (it can point at the shared empty-array storage): decide on `training`.
                    let xb = xp.baseAddress!, yb = yp.baseAddress!, ab = training ? ap.baseAddress : nil
                    parallelFor(m) { n in
                        for oy in 0..<oh {
                            for ox in 0..<ow {
                                let o = ((n * oh + oy) * ow + ox) * c
                                let first = ((n * h + oy * p) * w + ox * p) * c
                                for ch in 0..<c {
                                    var best = xb[first + ch], bi = first + ch
                                    for dy in 0..<p {
                                        for dx in 0..<p {
                                            let i = ((n * h + oy * p + dy) * w + ox * p + dx) * c + ch
                                            if xb[i] > best { best = xb[i]; bi = i }
                                        }
                                    }
                                    yb[o + ch] = best
                                    if let ab { ab[o + ch] = Int32(bi) }
                                }
                            }
                        }
                    }
                }
            }
        }
        if training { argmax = arg; batch = m }
        return Tensor(shape: [m, oh, ow, c], data: y)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        precondition(batch > 0, "MaxPool2D.backward without a training forward")
        var dx = [Float](repeating: 0, count: batch * h * w * c)
        dx.withUnsafeMutableBufferPointer { d in
            dy.data.withUnsafeBufferPointer { g in
                argmax.withUnsafeBufferPointer { a in
                    for i in 0..<a.count { d[Int(a[i])] += g[i] }
                }
            }
        }
        let m = batch
        batch = 0; argmax = []
        return Tensor(shape: [m, h, w, c], data: dx)
    }
}

/// y = max(0, x), any shape.
public final class ReLU: Layer {
    public let spec = LayerSpec.relu
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    private var output: [Float] = []

    public init(inputShape: [Int]) { self.inputShape = inputShape }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        var y = x
        y.data.withUnsafeMutableBufferPointer { p in
            for i in 0..<p.count where p[i] < 0 { p[i] = 0 }
        }
        if training { output = y.data }
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        var dx = dy
        dx.data.withUnsafeMutableBufferPointer { d in
            output.withUnsafeBufferPointer { y in
                for i in 0..<d.count where y[i] <= 0 { d[i] = 0 }
            }
        }
        output = []
        return dx
    }
}

/// Inverted dropout: in training each value is zeroed with probability `rate` and the rest are
/// scaled by 1 / (1 - rate); at inference the layer is the identity. Any shape.
public final class Dropout: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    let rate: Float
    private var mask: [Float] = []

    public init(inputShape: [Int], rate: Float) {
        self.inputShape = inputShape; self.rate = rate; spec = .dropout(rate)
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        guard training, rate > 0 else { return x }
        let keep = 1 - rate, scale = 1 / keep
        var m = [Float](repeating: 0, count: x.count)
        for i in 0..<m.count { m[i] = rng.nextUnitFloat() < keep ? scale : 0 }
        var y = x
        y.data.withUnsafeMutableBufferPointer { p in
            m.withUnsafeBufferPointer { q in for i in 0..<p.count { p[i] *= q[i] } }
        }
        mask = m
        return y
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard !mask.isEmpty else { return dy }
        var dx = dy
        dx.data.withUnsafeMutableBufferPointer { p in
            mask.withUnsafeBufferPointer { q in for i in 0..<p.count { p[i] *= q[i] } }
        }
        mask = []
        return dx
    }
}

/// [m, d1, d2, ...] -> [m, d1 * d2 * ...]. NHWC order is kept, so a Dense after Flatten sees
/// features in (y, x, channel) order.
public final class Flatten: Layer {
    public let spec = LayerSpec.flatten
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameters: [Parameter] { [] }

    public init(inputShape: [Int]) {
        self.inputShape = inputShape; outputShape = [inputShape.reduce(1, *)]
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        x.reshaped([x.rows, x.columns])
    }

    public func backward(_ dy: Tensor) -> Tensor {
        dy.reshaped([dy.rows] + inputShape)
    }
}
