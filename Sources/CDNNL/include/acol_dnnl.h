#ifndef ACOL_DNNL_H
#define ACOL_DNNL_H
/* oneDNN 2.x behind a small C interface (the 2.x API passes arrays and op descriptors that do not
   import into Swift well). Everything is float32, stride 1, NHWC activations and HWIO kernels,
   the layouts of acol's Conv2D; oneDNN picks its own blocked kernel layout and the reorders to and
   from it happen here. A handle owns its primitives and their scratchpads: it may be used from one
   thread at a time; different handles may run concurrently. */
#include <stdint.h>

typedef struct acol_conv acol_conv;

/* Returns NULL when oneDNN cannot make these primitives (the caller falls back to im2col).
   n images of h x w x c -> oh x ow x f, a kh x kw window, zero padding pt / pl on top / left and
   pb / pr at the bottom / right; relu != 0 fuses max(0, .) into the forward output; training != 0
   also makes the two backward primitives. The primitives run on `threads` OpenMP threads. */
acol_conv *acol_conv_create(int n, int h, int w, int c, int f, int kh, int kw,
                            int pt, int pl, int pb, int pr, int relu, int training, int threads);
void acol_conv_destroy(acol_conv *conv);

/* x [n, h, w, c], kernel [kh, kw, c, f], bias [f] -> y [n, oh, ow, f]. 0 on success. */
int acol_conv_forward(acol_conv *conv, const float *x, const float *kernel, const float *bias, float *y);
/* dy [n, oh, ow, f], kernel -> dx [n, h, w, c]. */
int acol_conv_backward_data(acol_conv *conv, const float *dy, const float *kernel, float *dx);
/* x, dy -> dkernel [kh, kw, c, f] (overwritten), dbias [f] (overwritten). */
int acol_conv_backward_weights(acol_conv *conv, const float *x, const float *dy, float *dkernel, float *dbias);

/* Row-major C = alpha op(A) op(B) + beta C (oneDNN's sgemm) on `threads` OpenMP threads (one when
   called inside a parallel region). */
int acol_dnnl_sgemm(int threads, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc);

/* The implementation oneDNN chose for a handle's forward primitive, e.g. "brgconv:avx512_core". */
const char *acol_conv_implementation(const acol_conv *conv);
#endif
