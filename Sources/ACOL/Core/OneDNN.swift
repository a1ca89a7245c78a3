import Foundation
internal import CDNNL

/// Which code runs the convolutions: oneDNN's primitives (the default) or the library's own
/// im2col + GEMM lowering (`Conv2D`), which is also the fallback wherever oneDNN cannot make a
/// primitive. Both compute the same function; the tests compare them.
public enum ConvolutionBackend: String, Sendable, CaseIterable {
    case oneDNN = "onednn"
    case im2col

    /// The backend in force: ACOL_CONV=im2col (or onednn) in the environment, else oneDNN.
    nonisolated(unsafe) public static var current: ConvolutionBackend = {
        if let s = ProcessInfo.processInfo.environment["ACOL_CONV"], let b = ConvolutionBackend(rawValue: s.lowercased()) {
            return b
        }
        return .oneDNN
    }()
}

/// One oneDNN convolution of a fixed geometry and batch size: forward (bias and an optional
/// fused ReLU), and when made for training, backward data and backward weights.
/// x [n, H, W, C], kernel [kh, kw, C, F] (HWIO), y [n, OH, OW, F]; stride 1.
final class OneDNNConvolution {
    struct Key: Equatable {
        let n: Int, training: Bool, relu: Bool, threads: Int
    }
    let key: Key
    private let handle: OpaquePointer

    /// nil when oneDNN cannot make the primitives (the caller uses im2col instead).
    init?(_ g: Lowering, filters f: Int, padBottom pb: Int, padRight pr: Int, key: Key) {
        guard let h = acol_conv_create(Int32(key.n), Int32(g.h), Int32(g.w), Int32(g.c), Int32(f),
                                       Int32(g.kh), Int32(g.kw), Int32(g.pt), Int32(g.pl), Int32(pb), Int32(pr),
                                       key.relu ? 1 : 0, key.training ? 1 : 0, Int32(key.threads)) else { return nil }
        handle = h
        self.key = key
    }

    deinit { acol_conv_destroy(handle) }

    /// The oneDNN implementation of the forward primitive, e.g. "brgconv:avx512_core".
    var implementation: String { String(cString: acol_conv_implementation(handle)) }

    /// y = conv(x, kernel) + bias (then ReLU when fused). False on failure.
    func forward(_ x: UnsafePointer<Float>, kernel: UnsafePointer<Float>, bias: UnsafePointer<Float>,
                 into y: UnsafeMutablePointer<Float>) -> Bool {
        acol_conv_forward(handle, x, kernel, bias, y) == 0
    }

    /// dx = the gradient of the convolution's input for the output gradient dy.
    func backwardData(_ dy: UnsafePointer<Float>, kernel: UnsafePointer<Float>, into dx: UnsafeMutablePointer<Float>) -> Bool {
        acol_conv_backward_data(handle, dy, kernel, dx) == 0
    }

    /// dkernel [kh, kw, C, F] and dbias [F], overwritten.
    func backwardWeights(_ x: UnsafePointer<Float>, _ dy: UnsafePointer<Float>,
                         kernelGradient dk: UnsafeMutablePointer<Float>, biasGradient db: UnsafeMutablePointer<Float>) -> Bool {
        acol_conv_backward_weights(handle, x, dy, dk, db) == 0
    }
}

/// oneDNN's sgemm (row-major), as `gemm`, on `threads` threads. False when oneDNN refused the call.
@inline(__always)
func oneDNNGemm(threads: Int = 1, transA: Bool, transB: Bool, m: Int, n: Int, k: Int, alpha: Float, a: UnsafePointer<Float>, lda: Int,
                b: UnsafePointer<Float>, ldb: Int, beta: Float, c: UnsafeMutablePointer<Float>, ldc: Int) -> Bool {
    acol_dnnl_sgemm(Int32(threads), transA ? 1 : 0, transB ? 1 : 0, Int64(m), Int64(n), Int64(k), alpha, a, Int64(lda),
                    b, Int64(ldb), beta, c, Int64(ldc)) == 0
}

/// What runs the arithmetic, for progress lines: e.g. "convolutions and matrix products on oneDNN"
/// or "convolutions on im2col + OpenBLAS SkylakeX, matrix products on OpenBLAS SkylakeX".
public enum ComputeLibraries {
    public static var summary: String {
        let gemm = GemmBackend.current == .oneDNN ? "oneDNN" : "OpenBLAS \(BLASInfo.coreName)"
        let conv = ConvolutionBackend.current == .oneDNN ? "oneDNN" : "im2col + \(gemm)"
        return conv == gemm ? "convolutions and matrix products on \(gemm)" : "convolutions on \(conv), matrix products on \(gemm)"
    }
}
