#if canImport(Glibc)
import Glibc
#endif
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

/// Which OpenBLAS kernels run, and a fix for CPUs that OpenBLAS does not recognise.
///
/// OpenBLAS 0.3.21 (Debian 12) does not know recent Xeons (Sapphire Rapids and later) and falls
/// back to its generic "Prescott" kernels, about 5 times slower than the AVX-512 ones on the same
/// CPU (measured here: 1024^3 SGEMM at 27 GFLOP/s instead of 150 on 2 threads). OpenBLAS reads the
/// kernel choice from the environment variable OPENBLAS_CORETYPE once, when the library loads, so
/// an executable has to set it and start again: `relaunchWithTunedKernelsIfNeeded`.
public enum BLASInfo {
    /// The kernel family OpenBLAS uses ("SkylakeX", "Haswell", "Zen", "Prescott", ...).
    public static var coreName: String {
        guard let p = openblas_get_corename() else { return "unknown" }
        return String(cString: p)
    }

    /// A better kernel family when OpenBLAS fell back to its generic x86-64 kernels on a CPU with
    /// AVX-512 ("SkylakeX") or AVX2 + FMA ("Haswell"); nil when OpenBLAS's own choice stands.
    public static var recommendedCoreType: String? {
        guard ["prescott", "core2", "nehalem", "unknown", "katmai", "northwood"].contains(coreName.lowercased()) else {
            return nil
        }
        if acol_cpu_has_avx512f() != 0 { return "SkylakeX" }
        if acol_cpu_has_avx2_fma() != 0 { return "Haswell" }
        return nil
    }

    /// For executables, first thing in main: when OpenBLAS fell back to generic kernels and
    /// OPENBLAS_CORETYPE is not set, sets it to `recommendedCoreType` and re-executes the program
    /// with the same arguments (once). Returns normally when nothing needs doing or exec fails.
    public static func relaunchWithTunedKernelsIfNeeded() {
        guard getenv("OPENBLAS_CORETYPE") == nil, getenv("ACOL_BLAS_RELAUNCHED") == nil,
              let core = recommendedCoreType else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ACOL_BLAS_RELAUNCHED", "1", 1)
        var args: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        args.append(nil)
        execv("/proc/self/exe", &args)
        // exec failed: go on with the generic kernels.
        for a in args { free(a) }
    }
}
