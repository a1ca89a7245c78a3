import Foundation
#if canImport(Glibc)
import Glibc
#endif
internal import CBLAS

/// The single choke point for matrix products: every GEMM in the library goes through here.
/// Row-major C = alpha * op(A) * op(B) + beta * C, op(A) is m x k, op(B) is k x n.
@inline(__always)
func gemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
          alpha: Float = 1, a: UnsafePointer<Float>, lda: Int,
          b: UnsafePointer<Float>, ldb: Int,
          beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, backend: GemmBackend = GemmBackend.current) {
    if m == 0 || n == 0 { return }
    if k == 0 {
        // BLAS leaves C * beta; make that explicit.
        for i in 0..<m { for j in 0..<n { c[i * ldc + j] *= beta } }
        return
    }
    if backend == .oneDNN,
       oneDNNGemm(transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, a: a, lda: lda, b: b, ldb: ldb,
                  beta: beta, c: c, ldc: ldc) { return }
    cblas_sgemm(CblasRowMajor, transA ? CblasTrans : CblasNoTrans, transB ? CblasTrans : CblasNoTrans,
                Int32(m), Int32(n), Int32(k), alpha, a, Int32(lda), b, Int32(ldb), beta, c, Int32(ldc))
}

/// Which library runs the single-threaded matrix products of `gemm`: OpenBLAS or oneDNN's sgemm.
/// ACOL_GEMM=openblas / onednn in the environment; oneDNN by default (measured faster on the MLP,
/// docs/benchmarks.md).
public enum GemmBackend: String, Sendable, CaseIterable {
    case openBLAS = "openblas"
    case oneDNN = "onednn"

    nonisolated(unsafe) public static var current: GemmBackend = {
        if let s = ProcessInfo.processInfo.environment["ACOL_GEMM"], let b = GemmBackend(rawValue: s.lowercased()) {
            return b
        }
        return .oneDNN
    }()
}

/// Threads used by the library's parallel loops and GEMMs.
///
/// BLAS itself always runs on one thread: the library splits every large GEMM into blocks of C
/// (`parallelGemm`) and convolutions into per-thread image ranges on its own threads. Mixing the
/// two models cost ~14 % of a CNN step here: OpenBLAS's idle workers spin in sched_yield after
/// each threaded call and compete with the library's threads for the same cores.
public enum Threads {
    nonisolated(unsafe) private static var current: Int = 0

    /// Sets the number of threads (1 or more). 0 keeps the default (OpenBLAS's own choice:
    /// OPENBLAS_NUM_THREADS or the number of cores).
    public static func set(_ n: Int) {
        guard n > 0 else { return }
        current = n
        openblas_set_num_threads(1)
    }

    /// Runs body(part) for part in 0..<parts on the library's worker threads (OpenMP's, the
    /// ones the layers run on), returning when all parts have run.
    public static func run(parts: Int, _ body: (Int) -> Void) {
        parallelParts(parts, body)
    }

    /// The thread count in force.
    public static var count: Int {
        if current == 0 {
            current = max(1, Int(openblas_get_num_threads()))
            openblas_set_num_threads(1)
        }
        return current
    }
}

/// `gemm` with C split into blocks over `Threads.count` threads, each a single-threaded GEMM:
/// by rows of C when it is taller than wide, else by columns. Products too small to pay for a
/// thread hand-off run on the calling thread. Each element of C is computed by exactly one
/// single-threaded call, so a given thread count always gives the same result.
/// `epilogue(rows, columns)`, when given, runs on the thread that computed that block of C right
/// after it (while the block is in cache), e.g. a bias and a ReLU.
func parallelGemm(transA: Bool = false, transB: Bool = false, m: Int, n: Int, k: Int,
                  a: UnsafePointer<Float>, lda: Int, b: UnsafePointer<Float>, ldb: Int,
                  beta: Float = 0, c: UnsafeMutablePointer<Float>, ldc: Int, threads: Int = Threads.count,
                  backend: GemmBackend = GemmBackend.current,
                  epilogue: ((_ rows: Range<Int>, _ columns: Range<Int>) -> Void)? = nil) {
    let workers = min(threads, max(m, n))
    if workers <= 1 || m * n * k < 1 << 18 {
        gemm(transA: transA, transB: transB, m: m, n: n, k: k, a: a, lda: lda, b: b, ldb: ldb, beta: beta, c: c, ldc: ldc,
             backend: backend)
        epilogue?(0..<m, 0..<n)
        return
    }
    let byRows = m >= n
    parallelParts(workers) { part in
        if byRows {
            let r0 = m * part / workers, r1 = m * (part + 1) / workers
            // Rows r0..<r1 of op(A): row-major A shifts by rows, a transposed A by columns.
            let ap = transA ? a + r0 : a + r0 * lda
            gemm(transA: transA, transB: transB, m: r1 - r0, n: n, k: k, a: ap, lda: lda, b: b, ldb: ldb,
                 beta: beta, c: c + r0 * ldc, ldc: ldc, backend: backend)
            epilogue?(r0..<r1, 0..<n)
        } else {
            let c0 = n * part / workers, c1 = n * (part + 1) / workers
            let bp = transB ? b + c0 * ldb : b + c0
            gemm(transA: transA, transB: transB, m: m, n: c1 - c0, k: k, a: a, lda: lda, b: bp, ldb: ldb,
                 beta: beta, c: c + c0, ldc: ldc, backend: backend)
            epilogue?(0..<m, c0..<c1)
        }
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

    /// A better kernel family, decided from the CPU's features rather than its name: "SkylakeX"
    /// on any CPU with AVX-512 F/BW/DQ/VL whose OpenBLAS kernels are not already AVX-512 ones
    /// (OpenBLAS 0.3.21 gives AMD Zen 4/5 its AVX2 "Haswell" kernels, and recent Xeons it does not
    /// know its generic ones); "Haswell" on a CPU with AVX2 + FMA that fell back to generic
    /// kernels; nil when OpenBLAS's own choice stands. (SkylakeX kernels measured 1.3-1.8x the
    /// Haswell ones' GEMM speed on Zen 5, docs/benchmarks.md.)
    public static var recommendedCoreType: String? {
        recommendedCoreType(current: coreName, avx512: acol_cpu_has_avx512_skx() != 0, avx2: acol_cpu_has_avx2_fma() != 0)
    }

    static func recommendedCoreType(current: String, avx512: Bool, avx2: Bool) -> String? {
        let name = current.lowercased()
        if avx512 && !["skylakex", "cooperlake", "sapphirerapids"].contains(name) { return "SkylakeX" }
        let generic = ["prescott", "core2", "nehalem", "unknown", "katmai", "northwood"].contains(name)
        if generic && avx2 { return "Haswell" }
        return nil
    }

    /// For executables, first thing in main: when the kernels OpenBLAS loaded are weaker than
    /// the CPU can run (`recommendedCoreType`; also when OPENBLAS_CORETYPE asked for them, as some
    /// machines set it for every process), sets OPENBLAS_CORETYPE to the better family and
    /// re-executes the program with the same arguments (once). ACOL_BLAS_CORETYPE=NAME forces a
    /// family instead (e.g. to compare kernels). Returns normally when nothing needs doing or
    /// exec fails.
    public static func relaunchWithTunedKernelsIfNeeded() {
        guard getenv("ACOL_BLAS_RELAUNCHED") == nil else { return }
        let forced = getenv("ACOL_BLAS_CORETYPE").map { String(cString: $0) }.flatMap { $0.isEmpty ? nil : $0 }
        guard let core = forced ?? recommendedCoreType, core.lowercased() != coreName.lowercased() else { return }
        setenv("OPENBLAS_CORETYPE", core, 1)
        setenv("ACOL_BLAS_RELAUNCHED", "1", 1)
        var args: [UnsafeMutablePointer<CChar>?] = CommandLine.arguments.map { strdup($0) }
        args.append(nil)
        execv("/proc/self/exe", &args)
        // exec failed: go on with the generic kernels.
        for a in args { free(a) }
    }
}
