#ifndef ACOL_CBLAS_SHIM_H
#define ACOL_CBLAS_SHIM_H
#include <cblas.h>

/* CPU features, for choosing an OpenBLAS kernel family when OpenBLAS does not know the CPU. */
static inline int acol_cpu_has_avx512f(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512f") ? 1 : 0;
#else
    return 0;
#endif
}

/* What OpenBLAS's SkylakeX kernels use: AVX-512 F, BW, DQ and VL (Skylake-SP and later Xeons,
   AMD Zen 4 and Zen 5). */
static inline int acol_cpu_has_avx512_skx(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
            __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl")) ? 1 : 0;
#else
    return 0;
#endif
}

static inline int acol_cpu_has_avx2_fma(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_cpu_init();
    return (__builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma")) ? 1 : 0;
#else
    return 0;
#endif
}
#endif
