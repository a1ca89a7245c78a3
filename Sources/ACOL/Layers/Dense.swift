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

    public init(inputShape: [Int], units: Int, maxNorm: Float? = nil, rng: inout SeededGenerator) {
        let n = inputShape.reduce(1, *)
        self.spec = .dense(units, maxNorm: maxNorm)
        self.inputShape = inputShape
        self.outputShape = [units]
        self.inFeatures = n
        self.units = units
        kernel = Parameter(name: "kernel", shape: [n, units],
                           value: glorotUniform(count: n * units, fanIn: n, fanOut: units, rng: &rng),
                           maxNorm: maxNorm)
        bias = Parameter(name: "bias", shape: [units], value: [Float](repeating: 0, count: units))
    }

    public func forward(_ x: Tensor, training: Bool, rng: inout SeededGenerator) -> Tensor {
        let m = x.rows
        precondition(x.columns == inFeatures, "Dense: expected \(inFeatures) features, got \(x.columns)")
        if training { input = x } else { input = nil }
        reuse(&yBuf, count: m * units)
        yBuf.withUnsafeMutableBufferPointer { yp in
            let yb = yp.baseAddress!
            bias.value.withUnsafeBufferPointer { b in
                for i in 0..<m { (yb + i * units).update(from: b.baseAddress!, count: units) }
            }
            x.data.withUnsafeBufferPointer { xp in
                kernel.value.withUnsafeBufferPointer { wp in
                    gemm(m: m, n: units, k: inFeatures, a: xp.baseAddress!, lda: inFeatures,
                         b: wp.baseAddress!, ldb: units, beta: 1, c: yb, ldc: units)
                }
            }
        }
        return Tensor(shape: [m, units], data: yBuf)
    }

    public func backward(_ dy: Tensor) -> Tensor {
        guard let x = input else { preconditionFailure("Dense.backward without a training forward") }
        let m = x.rows
        // dW [in, out] = x^T [in, m] . dy [m, out]
        x.data.withUnsafeBufferPointer { xp in
            dy.data.withUnsafeBufferPointer { dp in
                kernel.grad.withUnsafeMutableBufferPointer { gp in
                    gemm(transA: true, m: inFeatures, n: units, k: m, a: xp.baseAddress!, lda: inFeatures,
                         b: dp.baseAddress!, ldb: units, c: gp.baseAddress!, ldc: units)
                }
            }
        }
        // db [out] = column sums of dy
        bias.grad.withUnsafeMutableBufferPointer { g in
            for j in 0..<units { g[j] = 0 }
            dy.data.withUnsafeBufferPointer { d in
                for i in 0..<m { for j in 0..<units { g[j] += d[i * units + j] } }
            }
        }
        // dx [m, in] = dy [m, out] . W^T [out, in]
        reuse(&dxBuf, count: m * inFeatures)
        dy.data.withUnsafeBufferPointer { dp in
            kernel.value.withUnsafeBufferPointer { wp in
                dxBuf.withUnsafeMutableBufferPointer { xp in
                    gemm(transB: true, m: m, n: inFeatures, k: units, a: dp.baseAddress!, lda: units,
                         b: wp.baseAddress!, ldb: units, c: xp.baseAddress!, ldc: inFeatures)
                }
            }
        }
        input = nil
        return Tensor(shape: x.shape, data: dxBuf)
    }
}
