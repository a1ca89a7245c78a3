import Dispatch
import Foundation

/// 2-D convolution, stride 1, 'same' or 'valid' padding: oneDNN's convolution primitives
/// (`OneDNNConvolution`), or lowered to GEMMs over cache-sized chunks (im2col) where
/// `ConvolutionBackend.current` says so or oneDNN cannot make a primitive.
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
                initializer: WeightInitializer = .glorotUniform, rng: inout SeededGenerator) {
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
        let (w, b) = initialWeights(initializer, count: fanIn * f, units: f, fanIn: fanIn, fanOut: fanOut, rng: &rng)
        kernel = Parameter(name: "kernel", shape: [kh, kw, c, f], value: w, maxNorm: maxNorm)
        bias = Parameter(name: "bias", shape: [f], value: b)
    }

    /// The lowering of the forward pass: x [.., H, W, C] -> cols [.., OH * OW, kh * kw * C].
    var forwardLowering: Lowering { Lowering(h: h, w: w, c: c, kh: kh, kw: kw, oh: oh, ow: ow, pt: padTop, pl: padLeft) }

    /// The lowering of dL/dx as a correlation of dy [.., OH, OW, F] with the kernel turned by 180
    /// degrees: dx[y, x, c] = sum dy[y + u - (kh - 1 - padTop), x + v - (kw - 1 - padLeft), f] *
    /// K[kh - 1 - u, kw - 1 - v, c, f]. A GEMM of the same shape as the forward's, with no scatter.
    var inputGradientLowering: Lowering {
        Lowering(h: oh, w: ow, c: f, kh: kh, kw: kw, oh: h, ow: w, pt: kh - 1 - padTop, pl: kw - 1 - padLeft)
    }

    /// Rows of a lowered matrix with `columns` columns per im2col chunk: the chunk stays within
    /// `Conv2D.chunkBytes` (cache-sized), so the lowering never materialises a whole image set
    /// and the GEMM reads its input from cache.
    private func chunkRows(columns: Int) -> Int { max(16, Conv2D.chunkBytes / (columns * 4)) }

    /// Bytes of one im2col chunk (per thread). ACOL_CONV_CHUNK_KB overrides it for experiments.
    static let chunkBytes: Int = {
        if let s = ProcessInfo.processInfo.environment["ACOL_CONV_CHUNK_KB"], let kb = Int(s), kb > 0 { return kb << 10 }
        return 256 << 10
    }()

    /// Workspace floats per thread: one chunk of the larger of the two lowerings.
    private var workspaceFloats: Int {
        max(chunkRows(columns: kdim) * kdim, chunkRows(columns: kh * kw * f) * kh * kw * f)
    }

    /// Worker w's image range when m images are split over `workers`.
    private func range(_ part: Int, of workers: Int, _ m: Int) -> Range<Int> {
        (m * part / workers)..<(m * (part + 1) / workers)
    }

    /// Forward and backward split the batch into one contiguous range of images per thread; each
    /// thread lowers its images a cache-sized chunk at a time and multiplies with (single-threaded)
    /// BLAS. Kernel gradients are summed per thread and then in thread order (deterministic for a
    /// given thread count).
    /// x [m, H, W, C] -> y [m, OH, OW, F]
    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        precondition(x.columns == h * w * c, "Conv2D: expected \([h, w, c]) per example, got \(x.shape)")
        reuse(&yBuf, count: m * oh * ow * f)
        forwardConv = nil
        if let conv = oneDNN(images: m, training: training) {
            let done = x.data.withUnsafeBufferPointer { xp in
                yBuf.withUnsafeMutableBufferPointer { yp in
                    kernel.value.withUnsafeBufferPointer { kp in
                        bias.value.withUnsafeBufferPointer { bp in
                            conv.forward(xp.baseAddress!, kernel: kp.baseAddress!, bias: bp.baseAddress!, into: yp.baseAddress!)
                        }
                    }
                }
            }
            if done {
                input = training ? x : nil
                forwardConv = training ? conv : nil
                return Tensor(shape: [m, oh, ow, f], data: yBuf)
            }
            oneDNNUnavailable = true
        }
        let workers = max(1, min(Threads.count, m))
        let kd = kdim, f = self.f, per = oh * ow, chunk = chunkRows(columns: kd)
        ensureWorkspace(workers: workers, size: workspaceFloats)
        let relu = fusedReLU
        let ws = workspace
        let low = forwardLowering
        x.data.withUnsafeBufferPointer { xp in
            yBuf.withUnsafeMutableBufferPointer { yp in
                kernel.value.withUnsafeBufferPointer { kp in
                    bias.value.withUnsafeBufferPointer { bp in
                        let xb = xp.baseAddress!, yb = yp.baseAddress!, kb = kp.baseAddress!, bb = bp.baseAddress!
                        parallelParts(workers) { part in
                            let cols = ws[part]
                            let images = self.range(part, of: workers, m)
                            var r0 = images.lowerBound * per
                            while r0 < images.upperBound * per {
                                let r1 = min(r0 + chunk, images.upperBound * per)
                                im2col(low, xb, rows: r0..<r1, into: cols)
                                let out = yb + r0 * f
                                gemm(m: r1 - r0, n: f, k: kd, a: cols, lda: kd, b: kb, ldb: f, c: out, ldc: f)
                                addBias(out, rows: r1 - r0, bb, f, relu: relu, parallel: false)
                                r0 = r1
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
        let dy = gradientThroughFusedReLU(dyIn, output: yBuf, fused: fusedReLU, scratch: &dyMasked)
        if let conv = forwardConv, backwardWithOneDNN(conv, x: x, dy: dy) {
            input = nil; forwardConv = nil
            if skipsInputGradient { return Tensor(shape: [0], data: []) }
            return Tensor(shape: [m, h, w, c], data: dxBuf)
        }
        forwardConv = nil
        let per = oh * ow, kd = kdim, f = self.f
        bias.grad.withUnsafeMutableBufferPointer { g in
            dy.data.withUnsafeBufferPointer { d in columnSums(d.baseAddress!, rows: m * per, n: f, into: g.baseAddress!) }
        }
        let workers = max(1, min(Threads.count, m))
        ensureWorkspace(workers: workers, size: workspaceFloats)
        let ws = workspace
        let wantDx = !skipsInputGradient
        if wantDx { reuse(&dxBuf, count: m * h * w * c) }
        let low = forwardLowering, back = inputGradientLowering
        let chunk = chunkRows(columns: kd), backChunk = chunkRows(columns: back.kdim)
        // The kernel turned by 180 degrees with its channel axes swapped: [kh, kw, F, C].
        var turned = [Float](repeating: 0, count: kh * kw * f * c)
        if wantDx {
            kernel.value.withUnsafeBufferPointer { k in
                for u in 0..<kh { for v in 0..<kw { for fo in 0..<f { for ci in 0..<c {
                    turned[((u * kw + v) * f + fo) * c + ci] = k[(((kh - 1 - u) * kw + (kw - 1 - v)) * c + ci) * f + fo]
                } } } }
            }
        }
        let hw = h * w, bd = back.kdim
        if partialGrads.count != workers * kd * f { partialGrads = [Float](repeating: 0, count: workers * kd * f) }
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
                                let images = self.range(part, of: workers, m)
                                dK.update(repeating: 0, count: kd * f)
                                // dK [kdim, F] += cols^T [kdim, rows] . dy [rows, F]
                                var r0 = images.lowerBound * per
                                while r0 < images.upperBound * per {
                                    let r1 = min(r0 + chunk, images.upperBound * per)
                                    im2col(low, xb, rows: r0..<r1, into: cols)
                                    gemm(transA: true, m: kd, n: f, k: r1 - r0, a: cols, lda: kd, b: db + r0 * f, ldb: f,
                                         beta: 1, c: dK, ldc: f)
                                    r0 = r1
                                }
                                guard wantDx else { return }
                                // dx [rows, C] = lower(dy) [rows, kh * kw * F] . turned [kh * kw * F, C],
                                // rows over the input grid (H * W per image).
                                r0 = images.lowerBound * hw
                                while r0 < images.upperBound * hw {
                                    let r1 = min(r0 + backChunk, images.upperBound * hw)
                                    im2col(back, db, rows: r0..<r1, into: cols)
                                    gemm(m: r1 - r0, n: c, k: bd, a: cols, lda: bd, b: tb, ldb: c, c: dxb! + r0 * c, ldc: c)
                                    r0 = r1
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

    // MARK: oneDNN

    /// The oneDNN primitives made so far, one per batch size and mode (newest last, at most 4).
    private var convs: [OneDNNConvolution] = []
    /// The primitives of the last training forward, for its backward.
    private var forwardConv: OneDNNConvolution?
    /// Set when oneDNN could not make or run a primitive for this layer: im2col from then on.
    private var oneDNNUnavailable = false

    /// This layer's backend; nil follows `ConvolutionBackend.current` (tests set it per layer).
    var backend: ConvolutionBackend?

    /// The oneDNN convolution for `images` images, made on first use; nil for im2col.
    private func oneDNN(images n: Int, training: Bool) -> OneDNNConvolution? {
        guard (backend ?? ConvolutionBackend.current) == .oneDNN, !oneDNNUnavailable else { return nil }
        let key = OneDNNConvolution.Key(n: n, training: training, relu: fusedReLU, threads: Threads.count)
        if let i = convs.firstIndex(where: { $0.key == key }) {
            let conv = convs.remove(at: i)
            convs.append(conv)
            return conv
        }
        let pb = oh - h + kh - 1 - padTop, pr = ow - w + kw - 1 - padLeft
        guard let conv = OneDNNConvolution(forwardLowering, filters: f, padBottom: pb, padRight: pr, key: key) else {
            oneDNNUnavailable = true
            return nil
        }
        if convs.count >= 4 { convs.removeFirst() }
        convs.append(conv)
        return conv
    }

    /// The oneDNN implementation this layer's forward runs ("im2col" when it is not oneDNN).
    public var implementation: String {
        guard (backend ?? ConvolutionBackend.current) == .oneDNN, !oneDNNUnavailable, let conv = convs.last else {
            return "im2col"
        }
        return "oneDNN " + conv.implementation
    }

    /// Kernel and bias gradients and (unless skipped) dx into dxBuf with oneDNN. dy [m, OH, OW, F]
    /// is the gradient after the fused ReLU. False when oneDNN failed (nothing is then relied on).
    private func backwardWithOneDNN(_ conv: OneDNNConvolution, x: Tensor, dy: Tensor) -> Bool {
        let m = x.rows
        let wantDx = !skipsInputGradient
        if wantDx { reuse(&dxBuf, count: m * h * w * c) }
        let done = x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                kernel.grad.withUnsafeMutableBufferPointer { kg in
                    bias.grad.withUnsafeMutableBufferPointer { bg in
                        conv.backwardWeights(xp.baseAddress!, dp.baseAddress!, kernelGradient: kg.baseAddress!,
                                             biasGradient: bg.baseAddress!)
                    }
                }
            }
        }
        guard done else { oneDNNUnavailable = true; return false }
        guard wantDx else { return true }
        let dxDone = dy.data.withUnsafeBufferPointer { dp in
            kernel.value.withUnsafeBufferPointer { kp in
                dxBuf.withUnsafeMutableBufferPointer { dxp in
                    conv.backwardData(dp.baseAddress!, kernel: kp.baseAddress!, into: dxp.baseAddress!)
                }
            }
        }
        if !dxDone { oneDNNUnavailable = true }
        return dxDone
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

/// Geometry of an im2col lowering: images [H, W, C], a kh x kw window, an OH x OW output grid,
/// pt / pl rows and columns of zero padding on top and left.
struct Lowering {
    let h, w, c, kh, kw, oh, ow, pt, pl: Int
    /// Columns of the lowered matrix: kh * kw * C.
    var kdim: Int { kh * kw * c }
}

/// cols [rows.count, kh * kw * C]: rows r0 ..< r1 of the lowering of x [m, H, W, C], where row
/// n * OH * OW + oy * OW + ox holds the kh x kw x C window of output (oy, ox) of image n.
func im2col(_ g: Lowering, _ x: UnsafePointer<Float>, rows: Range<Int>, into out: UnsafeMutablePointer<Float>) {
    let (h, w, c, kh, kw, oh, ow, pt, pl) = (g.h, g.w, g.c, g.kh, g.kw, g.oh, g.ow, g.pt, g.pl)
    let kd = g.kdim, per = oh * ow
    var n = rows.lowerBound / per, oy = (rows.lowerBound % per) / ow, ox = rows.lowerBound % ow
    var xi = x + n * h * w * c
    var row = out
    for _ in rows {
        var dst = row
        for ky in 0..<kh {
            let iy = oy + ky - pt
            if iy < 0 || iy >= h {
                dst.update(repeating: 0, count: kw * c); dst += kw * c; continue
            }
            let ix0 = ox - pl
            if ix0 >= 0 && ix0 + kw <= w {
                // The whole kernel row is inside the image: one contiguous copy (an inline loop
                // when it is short, e.g. 3 values for one channel, where a memmove call would
                // cost more than the copy).
                let src = xi + (iy * w + ix0) * c, len = kw * c
                if len <= 16 { for j in 0..<len { dst[j] = src[j] } }
                else { dst.update(from: src, count: len) }
                dst += len
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
        ox += 1
        if ox == ow {
            ox = 0; oy += 1
            if oy == oh { oy = 0; n += 1; xi += h * w * c }
        }
    }
}
