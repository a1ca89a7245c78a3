import Dispatch

/// 2-D convolution, stride 1, 'same' or 'valid' padding, lowered to GEMMs over cache-sized chunks (im2col).
/// x: [m, H, W, C] -> y: [m, OH, OW, F]; kernel [kh, kw, C, F] (HWIO, as Keras/TensorFlow), bias [F].
/// 'same' pads (kh - 1) / 2 rows on top and the rest below (TensorFlow's rule), likewise for columns.
public final class Conv2D: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let kernel: Parameter
    public let bias: Parameter
    public var parameters: [Parameter] { [kernel, bias] }

    let h, w, c, f, kh, kw, oh, ow, padTop, padLeft: Int
    /// Columns of the im2col matrix: kh * kw * C.
    var kdim: Int { kh * kw * c }
    private var input: Tensor?
    /// Set by `Network` when a ReLU follows (see `Dense.fusedReLU`).
    var fusedReLU = false
    /// Set by `Network` on its first weighted layer when dL/dx is not wanted.
    var skipsInputGradient = false
    private var dyMasked: [Float] = []
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []

    public init(inputShape: [Int], filters: Int, kernel ks: [Int], padding: Padding, maxNorm: Float? = nil,
                rng: inout SeededGenerator) {
        precondition(inputShape.count == 3, "Conv2D needs [H, W, C] input")
        h = inputShape[0]; w = inputShape[1]; c = inputShape[2]; f = filters
        kh = ks[0]; kw = ks.count > 1 ? ks[1] : ks[0]
        switch padding {
        case .same: oh = h; ow = w; padTop = (kh - 1) / 2; padLeft = (kw - 1) / 2
        case .valid: oh = h - kh + 1; ow = w - kw + 1; padTop = 0; padLeft = 0
        }
        spec = LayerSpec(type: .conv2d, filters: filters, kernel: [kh, kw], padding: padding, maxNorm: maxNorm)
        self.inputShape = inputShape
        outputShape = [oh, ow, f]
        let fanIn = kh * kw * c, fanOut = kh * kw * f
        kernel = Parameter(name: "kernel", shape: [kh, kw, c, f],
                           value: glorotUniform(count: fanIn * f, fanIn: fanIn, fanOut: fanOut, rng: &rng),
                           maxNorm: maxNorm)
        bias = Parameter(name: "bias", shape: [f], value: [Float](repeating: 0, count: f))
    }

    /// The lowering of the forward pass: x [.., H, W, C] -> cols [.., OH * OW, kh * kw * C].
    var forwardLowering: Lowering { Lowering(h: h, w: w, c: c, kh: kh, kw: kw, oh: oh, ow: ow, pt: padTop, pl: padLeft) }

    /// The lowering of dL/dx as a correlation of dy [.., OH, OW, F] with the kernel turned by 180
    /// degrees: dx[y, x, c] = sum dy[y + u - (kh - 1 - padTop), x + v - (kw - 1 - padLeft), f] *
    /// K[kh - 1 - u, kw - 1 - v, c, f]. A GEMM of the same shape as the forward's, with no scatter.
    var inputGradientLowering: Lowering {
        Lowering(h: oh, w: ow, c: f, kh: kh, kw: kw, oh: h, ow: w, pt: kh - 1 - padTop, pl: kw - 1 - padLeft)
    }

    /// Images per im2col chunk: the chunk's columns stay within about 2 MiB (cache-sized), so
    /// the lowering never materialises the whole batch.
    private var chunkImages: Int {
        max(1, (2 << 20) / max(1, max(oh * ow * kdim, h * w * kh * kw * f) * 4))
    }

    /// Columns of one image in the larger of the two lowerings.
    private var columnsPerImage: Int { max(oh * ow * kdim, h * w * kh * kw * f) }

    /// Worker w's image range when m images are split over `workers`.
    private func range(_ part: Int, of workers: Int, _ m: Int) -> Range<Int> {
        (m * part / workers)..<(m * (part + 1) / workers)
    }

    /// Forward and backward split the batch into one contiguous range of images per thread; each
    /// thread lowers its images a cache-sized chunk at a time and multiplies with single-threaded
    /// BLAS. Kernel gradients are summed per thread and then in thread order (deterministic for a
    /// given thread count).
    /// x [m, H, W, C] -> y [m, OH, OW, F]
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        precondition(x.columns == h * w * c, "Conv2D: expected \([h, w, c]) per example, got \(x.shape)")
        reuse(&yBuf, count: m * oh * ow * f)
        let workers = max(1, min(Threads.count, m))
        let chunk = chunkImages, kd = kdim, f = self.f, per = oh * ow
        ensureWorkspace(workers: workers, size: chunk * columnsPerImage)
        let relu = fusedReLU
        let ws = workspace
        let low = forwardLowering
        withSingleThreadedBLAS(workers > 1) {
            x.data.withUnsafeBufferPointer { xp in
                yBuf.withUnsafeMutableBufferPointer { yp in
                    kernel.value.withUnsafeBufferPointer { kp in
                        bias.value.withUnsafeBufferPointer { bp in
                            let xb = xp.baseAddress!, yb = yp.baseAddress!, kb = kp.baseAddress!, bb = bp.baseAddress!
                            parallelParts(workers) { part in
                                let cols = ws[part]
                                let r = self.range(part, of: workers, m)
                                var n0 = r.lowerBound
                                while n0 < r.upperBound {
                                    let cnt = min(chunk, r.upperBound - n0)
                                    im2col(low, xb, from: n0, count: cnt, into: cols)
                                    let out = yb + n0 * per * f
                                    gemm(m: cnt * per, n: f, k: kd, a: cols, lda: kd, b: kb, ldb: f, c: out, ldc: f)
                                    addBias(out, rows: cnt * per, bb, f, relu: relu, parallel: false)
                                    n0 += cnt
                                }
                            }
                        }
                    }
                }
            }
        }
        input = training ? x : nil
        return Tensor(shape: [m, oh, ow, f], data: yBuf)
    }

    /// dy [m, OH, OW, F] -> dx [m, H, W, C]; kernel gradient [kh, kw, C, F], bias gradient [F].
    public func backward(_ dyIn: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Conv2D.backward without a training forward") }
        let m = x.rows
        var dy = dyIn
        if fusedReLU {
            maskByPositive(dyIn.data, yBuf, into: &dyMasked)
            dy = Tensor(shape: dyIn.shape, data: dyMasked)
        }
        let per = oh * ow, kd = kdim, f = self.f, chunk = chunkImages
        bias.grad.withUnsafeMutableBufferPointer { g in
            dy.data.withUnsafeBufferPointer { d in columnSums(d.baseAddress!, rows: m * per, n: f, into: g.baseAddress!) }
        }
        let workers = max(1, min(Threads.count, m))
        ensureWorkspace(workers: workers, size: chunk * columnsPerImage)
        let ws = workspace
        let wantDx = !skipsInputGradient
        if wantDx { reuse(&dxBuf, count: m * h * w * c) }
        let low = forwardLowering, back = inputGradientLowering
        // The kernel turned by 180 degrees with its channel axes swapped: [kh, kw, F, C].
        var turned = [Float](repeating: 0, count: kh * kw * f * c)
        if wantDx {
            kernel.value.withUnsafeBufferPointer { k in
                for u in 0..<kh { for v in 0..<kw { for fo in 0..<f { for ci in 0..<c {
                    turned[((u * kw + v) * f + fo) * c + ci] = k[(((kh - 1 - u) * kw + (kw - 1 - v)) * c + ci) * f + fo]
                } } } }
            }
        }
        let hwc = h * w * c, hw = h * w, bd = back.kdim
        if partialGrads.count != workers * kd * f { partialGrads = [Float](repeating: 0, count: workers * kd * f) }
        withSingleThreadedBLAS(workers > 1) {
            x.data.withUnsafeBufferPointer { xp in
                dy.data.withUnsafeBufferPointer { dp in
                        dxBuf.withUnsafeMutableBufferPointer { dxp in
                            partialGrads.withUnsafeMutableBufferPointer { gp in
                              turned.withUnsafeBufferPointer { tp in
                                let xb = xp.baseAddress!, db = dp.baseAddress!, tb = tp.baseAddress!
                                let dxb = dxp.baseAddress, gb = gp.baseAddress!
                                parallelParts(workers) { part in
                                    let cols = ws[part]
                                    let dK = gb + part * kd * f
                                    let r = self.range(part, of: workers, m)
                                    var n0 = r.lowerBound, first = true
                                    while n0 < r.upperBound {
                                        let cnt = min(chunk, r.upperBound - n0)
                                        let dyc = db + n0 * per * f
                                        im2col(low, xb, from: n0, count: cnt, into: cols)
                                        // dK [kdim, F] (+)= cols^T [kdim, rows] . dy [rows, F]
                                        gemm(transA: true, m: kd, n: f, k: cnt * per, a: cols, lda: kd, b: dyc, ldb: f,
                                             beta: first ? 0 : 1, c: dK, ldc: f)
                                        if wantDx {
                                            // dx [cnt * H * W, C] = lower(dy) [cnt * H * W, kh * kw * F] . turned [kh * kw * F, C]
                                            im2col(back, db, from: n0, count: cnt, into: cols)
                                            gemm(m: cnt * hw, n: c, k: bd, a: cols, lda: bd, b: tb, ldb: c,
                                                 c: dxb! + n0 * hwc, ldc: c)
                                        }
                                        first = false
                                        n0 += cnt
                                    }
                                    if r.isEmpty { dK.update(repeating: 0, count: kd * f) }
                                }
                              }
                            }
                        }
                }
            }
        }
        // Sum the per-thread kernel gradients in thread order.
        kernel.grad.withUnsafeMutableBufferPointer { g in
            partialGrads.withUnsafeBufferPointer { pg in
                for i in 0..<(kd * f) { g[i] = pg[i] }
                for part in 1..<max(workers, 1) {
                    let base = part * kd * f
                    for i in 0..<(kd * f) { g[i] += pg[base + i] }
                }
            }
        }
        input = nil
        if !wantDx { return Tensor(shape: [0], data: []) }
        return Tensor(shape: [m, h, w, c], data: dxBuf)
    }

    /// Per-thread im2col buffers, kept between steps.
    private var workspace: [UnsafeMutablePointer<Float>] = []
    private var workspaceSize = 0
    private var partialGrads: [Float] = []

    private func ensureWorkspace(workers: Int, size: Int) {
        if workspace.count >= workers && workspaceSize >= size { return }
        for p in workspace { p.deallocate() }
        workspace = (0..<workers).map { _ in
            let p = UnsafeMutablePointer<Float>.allocate(capacity: size)
            p.initialize(repeating: 0, count: size)
            return p
        }
        workspaceSize = size
    }

    deinit { for p in workspace { p.deallocate() } }
}

/// Runs body(i) for i in 0..<n, split over `Threads.count` workers when n is large enough.
func parallelFor(_ n: Int, _ body: (Int) -> Void) {
    let t = min(Threads.count, n)
    if t <= 1 || n < 4 {
        for i in 0..<n { body(i) }
        return
    }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: t) { part in
            let lo = n * part / t, hi = n * (part + 1) / t
            for i in lo..<hi { body(i) }
        }
    }
}

/// Runs body(part) for part in 0..<parts, concurrently when parts > 1.
func parallelParts(_ parts: Int, _ body: (Int) -> Void) {
    if parts <= 1 { body(0); return }
    withoutActuallyEscaping(body) { body in
        DispatchQueue.concurrentPerform(iterations: parts) { body($0) }
    }
}

/// Runs `body` with BLAS on one thread (when `enabled`), for code that calls BLAS from several
/// threads of its own; restores the thread count afterwards.
func withSingleThreadedBLAS(_ enabled: Bool, _ body: () -> Void) {
    guard enabled else { body(); return }
    Threads.setBLAS(1)
    body()
    Threads.setBLAS(Threads.count)
}

/// Geometry of an im2col lowering: images [H, W, C], a kh x kw window, an OH x OW output grid,
/// pt / pl rows and columns of zero padding on top and left.
struct Lowering {
    let h, w, c, kh, kw, oh, ow, pt, pl: Int
    /// Columns of the lowered matrix: kh * kw * C.
    var kdim: Int { kh * kw * c }
}

/// cols [count * OH * OW, kh * kw * C] from images n0 ..< n0 + count of x [m, H, W, C].
func im2col(_ g: Lowering, _ x: UnsafePointer<Float>, from n0: Int, count: Int, into out: UnsafeMutablePointer<Float>) {
    let (h, w, c, kh, kw, oh, ow, pt, pl) = (g.h, g.w, g.c, g.kh, g.kw, g.oh, g.ow, g.pt, g.pl)
    let kd = g.kdim
    for n in 0..<count {
        let xi = x + (n0 + n) * h * w * c
        var row = out + n * oh * ow * kd
        for oy in 0..<oh {
            for ox in 0..<ow {
                var dst = row
                for ky in 0..<kh {
                    let iy = oy + ky - pt
                    if iy < 0 || iy >= h {
                        dst.update(repeating: 0, count: kw * c); dst += kw * c; continue
                    }
                    let ix0 = ox - pl
                    if ix0 >= 0 && ix0 + kw <= w {
                        // The whole kernel row is inside the image: one contiguous copy.
                        dst.update(from: xi + (iy * w + ix0) * c, count: kw * c)
                        dst += kw * c
                        continue
                    }
                    for kx in 0..<kw {
                        let ix = ix0 + kx
                        if ix < 0 || ix >= w { dst.update(repeating: 0, count: c) }
                        else { dst.update(from: xi + (iy * w + ix) * c, count: c) }
                        dst += c
                    }
                }
                row += kd
            }
        }
    }
}
