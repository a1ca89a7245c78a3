/// y = x W + b.  x: [m, in] (any trailing shape is flattened), W: [in, out], b: [out], y: [m, out].
public final class Dense: Layer {
    public let spec: LayerSpec
    public let inputShape: [Int]
    public let outputShape: [Int]
    public let kernel: Parameter
    public let bias: Parameter
    public var parameters: [Parameter] { [kernel, bias] }
    private var input: Tensor?
    private var yBuf: [Float] = []
    private var dxBuf: [Float] = []
    let inFeatures: Int
    let units: Int
    /// Set by `Network` when a ReLU follows: y = max(0, x W + b) in one pass, and backward masks
    /// dy by y > 0 (the ReLU layer then passes values through).
    var fusedReLU = false
    /// Set by `Network` on its first weighted layer when dL/dx is not wanted.
    var skipsInputGradient = false
    private var dyMasked: [Float] = []

    public init(inputShape: [Int], units: Int, maxNorm: Float? = nil, initializer: WeightInitializer = .glorotUniform,
                rng: inout SeededGenerator) {
        let n = inputShape.reduce(1, *)
        self.spec = .dense(units, maxNorm: maxNorm)
        self.inputShape = inputShape
        self.outputShape = [units]
        self.inFeatures = n
        self.units = units
        let (w, b) = initialWeights(initializer, count: n * units, units: units, fanIn: n, fanOut: units, rng: &rng)
        kernel = Parameter(name: "kernel", shape: [n, units], value: w, maxNorm: maxNorm)
        bias = Parameter(name: "bias", shape: [units], value: b)
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        precondition(x.columns == inFeatures, "Dense: expected \(inFeatures) features, got \(x.columns)")
        if training { input = x } else { input = nil }
        reuse(&yBuf, count: m * units)
        let relu = fusedReLU
        let units = self.units
        yBuf.withUnsafeMutableBufferPointer { yp in
            let yb = yp.baseAddress!
            x.data.withUnsafeBufferPointer { xp in
                kernel.value.withUnsafeBufferPointer { wp in
                    bias.value.withUnsafeBufferPointer { bp in
                        let bb = bp.baseAddress!
                        // The bias (and ReLU) on each block of y by the thread that computed it.
                        parallelGemm(m: m, n: units, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                                     b: wp.baseAddress!, ldb: units, c: yb, ldc: units) { rows, cols in
                            addBias(yb, rows: rows, columns: cols, stride: units, bb, relu: relu)
                        }
                    }
                }
            }
        }
        return Tensor(shape: [m, units], data: yBuf)
    }

    public func backward(_ dyIn: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Dense.backward without a training forward") }
        let m = x.rows
        let dy = gradientThroughFusedReLU(dyIn, output: yBuf, fused: fusedReLU, scratch: &dyMasked)
        // dW [in, out] = x^T [in, m] . dy [m, out]
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                kernel.grad.withUnsafeMutableBufferPointer { gp in
                    parallelGemm(transA: true, m: inFeatures, n: units, k: m, a: xp.baseAddress!, lda: inFeatures,
                         b: dp.baseAddress!, ldb: units, c: gp.baseAddress!, ldc: units)
                }
            }
        }
        // db [out] = column sums of dy
        bias.grad.withUnsafeMutableBufferPointer { g in
            dy.data.withUnsafeBufferPointer { d in columnSums(d.baseAddress!, rows: m, n: units, into: g.baseAddress!) }
        }
        if skipsInputGradient { input = nil; return Tensor(shape: [0], data: []) }
        // dx [m, in] = dy [m, out] . W^T [out, in]
        reuse(&dxBuf, count: m * inFeatures)
        dy.data.withUnsafeBufferPointer { dp in
            kernel.value.withUnsafeBufferPointer { wp in
                dxBuf.withUnsafeMutableBufferPointer { xp in
                    parallelGemm(transB: true, m: m, n: inFeatures, k: units, a: dp.baseAddress!, lda: units,
                         b: wp.baseAddress!, ldb: units, c: xp.baseAddress!, ldc: inFeatures)
                }
            }
        }
        input = nil
        return Tensor(shape: x.shape, data: dxBuf)
    }
}
