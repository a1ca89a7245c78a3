import Dispatch

/// 2-D convolution, stride 1, 'same' or 'valid' padding, lowered to one GEMM per batch (im2col).
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
    private var cols: [Float] = []
    /// Set by `Network` when a ReLU follows (see `Dense.fusedReLU`).
    var fusedReLU = false
    /// Set by `Network` on its first weighted layer when dL/dx is not wanted.
    var skipsInputGradient = false
    private var dyMasked: [Float] = []
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []
    private var batch = 0

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

    /// cols [m * OH * OW, kh * kw * C] from x [m, H, W, C].
    private func im2col(_ x: UnsafePointer<Float>, m: Int, into out: UnsafeMutablePointer<Float>) {
        let (h, w, c, kh, kw, oh, ow, pt, pl) = (self.h, self.w, self.c, self.kh, self.kw, self.oh, self.ow,
                                                  self.padTop, self.padLeft)
        let kd = kdim
        parallelFor(m) { n in
            let xi = x + n * h * w * c
            var row = out + n * oh * ow * kd
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var dst = row
                    for ky in 0..<kh {
                        let iy = oy + ky - pt
                        if iy < 0 || iy >= h {
                            dst.update(repeating: 0, count: kw * c); dst += kw * c; continue
                        }
                        for kx in 0..<kw {
                            let ix = ox + kx - pl
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

    /// dx [m, H, W, C] += col2im(dcols [m * OH * OW, kh * kw * C]).
    private func col2im(_ dcols: UnsafePointer<Float>, m: Int, into dx: UnsafeMutablePointer<Float>) {
        let (h, w, c, kh, kw, oh, ow, pt, pl) = (self.h, self.w, self.c, self.kh, self.kw, self.oh, self.ow,
                                                  self.padTop, self.padLeft)
        let kd = kdim
        parallelFor(m) { n in
            let xi = dx + n * h * w * c
            var row = dcols + n * oh * ow * kd
            for oy in 0..<oh {
                for ox in 0..<ow {
                    var src = row
                    for ky in 0..<kh {
                        let iy = oy + ky - pt
                        if iy < 0 || iy >= h { src += kw * c; continue }
                        for kx in 0..<kw {
                            let ix = ox + kx - pl
                            if ix >= 0 && ix < w {
                                let d = xi + (iy * w + ix) * c
                                for ch in 0..<c { d[ch] += src[ch] }
                            }
                            src += c
                        }
                    }
                    row += kd
                }
            }
        }
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        precondition(x.columns == h * w * c, "Conv2D: expected \([h, w, c]) per example, got \(x.shape)")
        let rows = m * oh * ow
        // The im2col buffer is kept between steps (it is the largest allocation of a CNN).
        reuse(&cols, count: rows * kdim)
        x.data.withUnsafeBufferPointer { xp in
            cols.withUnsafeMutableBufferPointer { cp in im2col(xp.baseAddress!, m: m, into: cp.baseAddress!) }
        }
        reuse(&yBuf, count: rows * f)
        let relu = fusedReLU
        yBuf.withUnsafeMutableBufferPointer { yp in
            let yb = yp.baseAddress!
            cols.withUnsafeBufferPointer { cp in
                kernel.value.withUnsafeBufferPointer { kp in
                    gemm(m: rows, n: f, k: kdim, a: cp.baseAddress!, lda: kdim, b: kp.baseAddress!, ldb: f,
                         c: yb, ldc: f)
                }
            }
            bias.value.withUnsafeBufferPointer { b in addBias(yb, rows: rows, b.baseAddress!, f, relu: relu) }
        }
        batch = training ? m : 0
        return Tensor(shape: [m, oh, ow, f], data: yBuf)
    }

    public func backward(_ dyIn: Tensor) -> Tensor {
        precondition(batch > 0, "Conv2D.backward without a training forward")
        let m = batch
        var dy = dyIn
        if fusedReLU {
            maskByPositive(dyIn.data, yBuf, into: &dyMasked)
            dy = Tensor(shape: dyIn.shape, data: dyMasked)
        }
        let rows = m * oh * ow
        cols.withUnsafeBufferPointer { cp in
            dy.data.withUnsafeBufferPointer { dp in
                // dK [kdim, F] = cols^T [kdim, rows] . dy [rows, F]
                kernel.grad.withUnsafeMutableBufferPointer { gp in
                    gemm(transA: true, m: kdim, n: f, k: rows, a: cp.baseAddress!, lda: kdim,
                         b: dp.baseAddress!, ldb: f, c: gp.baseAddress!, ldc: f)
                }
            }
        }
        bias.grad.withUnsafeMutableBufferPointer { g in
            dy.data.withUnsafeBufferPointer { d in columnSums(d.baseAddress!, rows: rows, n: f, into: g.baseAddress!) }
        }
        if skipsInputGradient { batch = 0; return Tensor(shape: [0], data: []) }
        // dcols [rows, kdim] = dy [rows, F] . K^T [F, kdim]; reuse the cols buffer.
        dy.data.withUnsafeBufferPointer { dp in
            kernel.value.withUnsafeBufferPointer { kp in
                cols.withUnsafeMutableBufferPointer { cp in
                    gemm(transB: true, m: rows, n: kdim, k: f, a: dp.baseAddress!, lda: f,
                         b: kp.baseAddress!, ldb: f, c: cp.baseAddress!, ldc: kdim)
                }
            }
        }
        reuse(&dxBuf, count: m * h * w * c)
        cols.withUnsafeBufferPointer { cp in
            dxBuf.withUnsafeMutableBufferPointer { xp in
                xp.update(repeating: 0)
                col2im(cp.baseAddress!, m: m, into: xp.baseAddress!)
            }
        }
        batch = 0
        return Tensor(shape: [m, h, w, c], data: dxBuf)
    }
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
