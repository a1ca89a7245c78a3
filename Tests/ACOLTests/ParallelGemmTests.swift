import Testing
@testable import ACOL

/// `parallelGemm` splits C by rows or by columns over threads; every transpose combination and
/// both split directions must give the naive product (and beta must accumulate).
@Suite struct ParallelGemmTests {
    @Test(arguments: [(false, false), (true, false), (false, true), (true, true)], GemmBackend.allCases)
    func matchesNaiveProduct(transposes: (Bool, Bool), backend: GemmBackend) {
        let (transA, transB) = transposes
        // (m, n, k): tall C (split by rows) and wide C (split by columns), big enough to split.
        for (m, n, k) in [(97, 31, 113), (29, 103, 111)] {
            for threads in [1, 2, 3] {
                let a = randomValues(m * k, seed: 1), b = randomValues(k * n, seed: 2)
                let c0 = randomValues(m * n, seed: 3)
                let lda = transA ? m : k, ldb = transB ? k : n
                var c = c0
                a.withUnsafeBufferPointer { ap in
                    b.withUnsafeBufferPointer { bp in
                        c.withUnsafeMutableBufferPointer { cp in
                            parallelGemm(transA: transA, transB: transB, m: m, n: n, k: k, a: ap.baseAddress!, lda: lda,
                                         b: bp.baseAddress!, ldb: ldb, beta: 0.5, c: cp.baseAddress!, ldc: n,
                                         threads: threads, backend: backend)
                        }
                    }
                }
                var expected = [Double](repeating: 0, count: m * n)
                for i in 0..<m {
                    for j in 0..<n {
                        var s = 0.5 * Double(c0[i * n + j])
                        for p in 0..<k {
                            let av = transA ? a[p * lda + i] : a[i * lda + p]
                            let bv = transB ? b[j * ldb + p] : b[p * ldb + j]
                            s += Double(av) * Double(bv)
                        }
                        expected[i * n + j] = s
                    }
                }
                expectClose(c, expected, rel: 1e-4, floor: 1e-5,
                            "parallelGemm \(backend) transA=\(transA) transB=\(transB) \(m)x\(n)x\(k) threads \(threads)")
            }
        }
    }
}

@Suite struct KernelChoiceTests {
    @Test func theKernelFamilyFollowsCPUFeaturesNotNames() {
        // AVX-512 CPUs get SkylakeX kernels whatever OpenBLAS called them (Zen 5 -> Haswell).
        #expect(BLASInfo.recommendedCoreType(current: "Haswell", avx512: true, avx2: true) == "SkylakeX")
        #expect(BLASInfo.recommendedCoreType(current: "Prescott", avx512: true, avx2: true) == "SkylakeX")
        #expect(BLASInfo.recommendedCoreType(current: "Zen", avx512: true, avx2: true) == "SkylakeX")
        #expect(BLASInfo.recommendedCoreType(current: "SkylakeX", avx512: true, avx2: true) == nil)
        #expect(BLASInfo.recommendedCoreType(current: "SapphireRapids", avx512: true, avx2: true) == nil)
        // Without AVX-512: only the generic fallback is corrected.
        #expect(BLASInfo.recommendedCoreType(current: "Prescott", avx512: false, avx2: true) == "Haswell")
        #expect(BLASInfo.recommendedCoreType(current: "Zen", avx512: false, avx2: true) == nil)
        #expect(BLASInfo.recommendedCoreType(current: "Prescott", avx512: false, avx2: false) == nil)
    }
}
