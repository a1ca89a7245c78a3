/// 2-D max pooling, window p x p, stride p, no padding (floor).
/// x: [m, H, W, C] -> y: [m, H / p, W / p, C].
/// Ties go to the first maximum in row-major window order. Training keeps x and y; backward finds
/// each window's winner again by comparing x with y (no index array), so both passes run over
/// contiguous channel vectors.
public final class MaxPool2D: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public let outputShape: [Int]
    public var parameters: [Parameter] { [] }
    let h, w, c, p, oh, ow: Int
    private var input: Tensor?
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []

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
        precondition(x.columns == h * w * c, "MaxPool2D: expected \([h, w, c]) per example, got \(x.shape)")
        reuse(&yBuf, count: m * oh * ow * c)
        let (h, w, c, p, oh, ow) = (self.h, self.w, self.c, self.p, self.oh, self.ow)
        x.data.withUnsafeBufferPointer { xp in
            yBuf.withUnsafeMutableBufferPointer { yp in
                let xb = xp.baseAddress!, yb = yp.baseAddress!
                parallelFor(m) { n in
                    for oy in 0..<oh {
                        for ox in 0..<ow {
                            let out = yb + ((n * oh + oy) * ow + ox) * c
                            let first = xb + ((n * h + oy * p) * w + ox * p) * c
                            out.update(from: first, count: c)
                            for dy in 0..<p {
                                for dx in 0..<p where dy > 0 || dx > 0 {
                                    let xi = first + (dy * w + dx) * c
                                    keepMaximum(out, xi, count: c)
                                }
                            }
                        }
                    }
                }
            }
        }
        input = training ? x : nil
        return Tensor(shape: [m, oh, ow, c], data: yBuf)
    }

    /// dy [m, OH, OW, C] -> dx [m, H, W, C]: each window's gradient goes to its first maximum.
    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("MaxPool2D.backward without a training forward") }
        let m = x.rows
        reuse(&dxBuf, count: m * h * w * c)
        let (h, w, c, p, oh, ow) = (self.h, self.w, self.c, self.p, self.oh, self.ow)
        dxBuf.withUnsafeMutableBufferPointer { d in
            // Rows and columns that no window covers (H or W not a multiple of p) stay zero.
            if h % p != 0 || w % p != 0 { d.update(repeating: 0) }
            x.data.withUnsafeBufferPointer { xp in
                yBuf.withUnsafeBufferPointer { yp in
                    dy.data.withUnsafeBufferPointer { gp in
                        let xb = xp.baseAddress!, yb = yp.baseAddress!, gb = gp.baseAddress!, db = d.baseAddress!
                        // One contiguous range of images per thread, one scratch row per thread.
                        let workers = max(1, min(Threads.count, m))
                        parallelParts(workers) { part in
                            var left = [Float](repeating: 0, count: c)
                            left.withUnsafeMutableBufferPointer { lp in
                                let r = lp.baseAddress!
                                for n in (m * part / workers)..<(m * (part + 1) / workers) { for oy in 0..<oh {
                                    for ox in 0..<ow {
                                        let o = ((n * oh + oy) * ow + ox) * c
                                        let yo = yb + o
                                        r.update(from: gb + o, count: c)
                                        let first = ((n * h + oy * p) * w + ox * p) * c
                                        for dyy in 0..<p {
                                            for dxx in 0..<p {
                                                let i = first + (dyy * w + dxx) * c
                                                // The first element equal to the maximum takes what is left.
                                                firstMaxGradient(x: xb + i, y: yo, left: r, dx: db + i, count: c)
                                            }
                                        }
                                    }
                                } }
                            }
                        }
                    }
                }
            }
        }
        input = nil
        return Tensor(shape: [m, h, w, c], data: dxBuf)
    }
}

/// out = x where x > out (strictly: on a tie the earlier value stays), eight lanes at a time.
@inline(__always)
private func keepMaximum(_ out: UnsafeMutablePointer<Float>, _ x: UnsafePointer<Float>, count c: Int) {
    typealias V = SIMD8<Float>
    let orw = UnsafeMutableRawPointer(out), xr = UnsafeRawPointer(x)
    var ch = 0
    while ch + 8 <= c {
        let o = orw.loadUnaligned(fromByteOffset: ch * 4, as: V.self), v = xr.loadUnaligned(fromByteOffset: ch * 4, as: V.self)
        orw.storeBytes(of: o.replacing(with: v, where: v .> o), toByteOffset: ch * 4, as: V.self)
        ch += 8
    }
    while ch < c { if x[ch] > out[ch] { out[ch] = x[ch] }; ch += 1 }
}

/// For one window element over `count` channels: dx = left where x == y (and left becomes 0),
/// else dx = 0. Eight lanes at a time, branch-free.
@inline(__always)
private func firstMaxGradient(x: UnsafePointer<Float>, y: UnsafePointer<Float>, left: UnsafeMutablePointer<Float>,
                              dx: UnsafeMutablePointer<Float>, count c: Int) {
    typealias V = SIMD8<Float>
    let xr = UnsafeRawPointer(x), yr = UnsafeRawPointer(y)
    let lr = UnsafeMutableRawPointer(left), dr = UnsafeMutableRawPointer(dx)
    let zero = V(repeating: 0)
    var ch = 0
    while ch + 8 <= c {
        let hit = xr.loadUnaligned(fromByteOffset: ch * 4, as: V.self) .== yr.loadUnaligned(fromByteOffset: ch * 4, as: V.self)
        let l = lr.loadUnaligned(fromByteOffset: ch * 4, as: V.self)
        dr.storeBytes(of: zero.replacing(with: l, where: hit), toByteOffset: ch * 4, as: V.self)
        lr.storeBytes(of: l.replacing(with: 0, where: hit), toByteOffset: ch * 4, as: V.self)
        ch += 8
    }
    while ch < c {
        let hit = x[ch] == y[ch]
        dx[ch] = hit ? left[ch] : 0
        left[ch] = hit ? 0 : left[ch]
        ch += 1
    }
}

/// y = max(0, x), any shape.
public final class ReLU: Layer {
    public let spec = LayerSpec.relu
    public let inputShape: [Int]
    public var outputShape: [Int] { inputShape }
    public var parameters: [Parameter] { [] }
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []
    /// Set by `Network` when the layer before applies this ReLU itself: values pass through.
    var passthrough = false

    public init(inputShape: [Int]) { self.inputShape = inputShape }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        if passthrough { return x }
        reuse(&yBuf, count: x.count)
        x.data.withUnsafeBufferPointer { xp in
            yBuf.withUnsafeMutableBufferPointer { yp in
                for i in 0..<xp.count { yp[i] = max(xp[i], 0) }
            }
        }
        return Tensor(shape: x.shape, data: yBuf)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        if passthrough { return dy }
        reuse(&dxBuf, count: dy.count)
        dy.data.withUnsafeBufferPointer { d in
            yBuf.withUnsafeBufferPointer { y in
                dxBuf.withUnsafeMutableBufferPointer { o in
                    maskByPositive(d.baseAddress!, y.baseAddress!, o.baseAddress!, count: d.count)
                }
            }
        }
        return Tensor(shape: dy.shape, data: dxBuf)
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
    private var active = false
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []

    public init(inputShape: [Int], rate: Float) {
        self.inputShape = inputShape; self.rate = rate; spec = .dropout(rate)
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        forward(x, training: training, rng: &rng, shard: nil)
    }

    /// x [m, ...] -> y [m, ...]. With a shard, the mask of each local row is the one a single
    /// process draws for that row of the whole batch (the draws of the other processes' rows are
    /// skipped), and the generator ends where the single process's ends: every process keeps the
    /// same generator state, and the step equals one process's.
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator, shard: BatchShard?) -> Tensor {
        active = training && rate > 0
        guard active else { return x }
        let keep = 1 - rate, scale = 1 / keep
        reuse(&mask, count: x.count)
        reuse(&yBuf, count: x.count)
        mask.withUnsafeMutableBufferPointer { q in
            x.data.withUnsafeBufferPointer { p in
                yBuf.withUnsafeMutableBufferPointer { y in
                    if let shard, x.rows > 0 {
                        dropoutMask(x: p.baseAddress!, mask: q.baseAddress!, y: y.baseAddress!, perRow: q.count / x.rows,
                                    shard: shard, keep: keep, scale: scale, rng: &rng)
                    } else {
                        dropoutMask(x: p.baseAddress!, mask: q.baseAddress!, y: y.baseAddress!, count: q.count,
                                    keep: keep, scale: scale, rng: &rng)
                    }
                }
            }
        }
        return Tensor(shape: x.shape, data: yBuf)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard active else { return dy }
        reuse(&dxBuf, count: dy.count)
        dy.data.withUnsafeBufferPointer { p in
            mask.withUnsafeBufferPointer { q in
                dxBuf.withUnsafeMutableBufferPointer { o in for i in 0..<p.count { o[i] = p[i] * q[i] } }
            }
        }
        return Tensor(shape: dy.shape, data: dxBuf)
    }
}

/// mask[i] = scale with probability keep, else 0; y = x * mask. Each 64-bit draw gives two
/// 24-bit uniforms (bits 40-63 and 16-39), and the generator is copied into a local so its state
/// stays in registers (through the inout it would round-trip memory on every draw).
private func dropoutMask(x: UnsafePointer<Float>, mask: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                         count: Int, keep: Float, scale: Float, rng: inout SeededGenerator) {
    var g = rng
    // u < keep  <=>  24-bit integer < keep * 2^24 (exact: both sides are integers below 2^24).
    let threshold = UInt64((Double(keep) * Double(1 << 24)).rounded(.up))
    var i = 0
    while i < count {
        let r = g.next()
        let s0: Float = (r >> 40) < threshold ? scale : 0
        mask[i] = s0; y[i] = x[i] * s0
        if i + 1 < count {
            let s1: Float = ((r >> 16) & 0xFF_FFFF) < threshold ? scale : 0
            mask[i + 1] = s1; y[i + 1] = x[i + 1] * s1
        }
        i += 2
    }
    rng = g
}

/// The mask of `dropoutMask` over the whole batch of `shard.globalRows` rows of `perRow`
/// elements, computed only for the local rows (the global rows of `shard.segments`, in order):
/// element e of the whole batch takes half e % 2 of draw e / 2, draws of other rows are skipped,
/// and the generator ends after the whole batch's draws.
private func dropoutMask(x: UnsafePointer<Float>, mask: UnsafeMutablePointer<Float>, y: UnsafeMutablePointer<Float>,
                         perRow: Int, shard: BatchShard, keep: Float, scale: Float, rng: inout SeededGenerator) {
    var g = rng
    let threshold = UInt64((Double(keep) * Double(1 << 24)).rounded(.up))
    var drawn = 0            // draws taken from g
    var last: UInt64 = 0     // the latest draw (index drawn - 1)
    var i = 0                // local element
    for seg in shard.segments {
        for e in (seg.lowerBound * perRow)..<(seg.upperBound * perRow) {
            let k = e >> 1
            if k >= drawn {
                while drawn < k { _ = g.next(); drawn += 1 }
                last = g.next(); drawn += 1
            }
            let bits = e & 1 == 0 ? last >> 40 : (last >> 16) & 0xFF_FFFF
            let s: Float = bits < threshold ? scale : 0
            mask[i] = s; y[i] = x[i] * s
            i += 1
        }
    }
    let total = (shard.globalRows * perRow + 1) / 2
    while drawn < total { _ = g.next(); drawn += 1 }
    rng = g
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
