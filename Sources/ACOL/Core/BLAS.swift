import CBLAS

/// The single choke point for matrix products: every GEMM in the library goes through here.
/// Row-major C = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n.
@inline(__always)
func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
          b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS leaves C * beta; make that explicit.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        return
    }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Threads used by BLAS and by the library's own parallel loops.
public enum Threads {
    nonisolated(unsafe) private static var current: Int = 0

    /// Sets the number of threads (1 or more). 0 keeps BLAS's own choice.
    public static func set(_ n: Int) {
        guard n > 0 else { return }
        current = n
        openblas_set_num_threads(Int32(n))
    }

    /// Sets BLAS's thread count only (the library's own count is unchanged).
    static func setBLAS(_ n: Int) {
        openblas_set_num_threads(Int32(n))
    }

    /// The thread count in force (BLAS's own count when never set).
    public static var count: Int {
        current > 0 ? current : Int(openblas_get_num_threads())
    }
}
