/* oneDNN 2.x convolutions and sgemm for acol (see include/acol_dnnl.h). */
#include "acol_dnnl.h"
#include <dnnl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* libgomp, which oneDNN's OpenMP build runs on (omp.h is not on clang's include path). */
extern void omp_set_num_threads(int);

static dnnl_engine_t engine;
static int engine_ok;
static pthread_once_t engine_once = PTHREAD_ONCE_INIT;
static void engine_init(void) { engine_ok = dnnl_engine_create(&engine, dnnl_cpu, 0) == dnnl_success; }

enum { ARG_MAX = 6 };

/* One primitive with its scratchpad. */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_memory_t scratch;
} step;

/* A reorder between the caller's HWIO kernel and a primitive's kernel layout; prim NULL when the
   layouts are the same. */
typedef struct {
    dnnl_primitive_t prim;
    dnnl_memory_t inner; /* the primitive-side buffer, owned */
} reorder;

struct acol_conv {
    int threads;
    dnnl_stream_t stream;
    step fwd, bwd_data, bwd_weights;
    reorder w_fwd, w_bwd, dw;
    /* memories over caller buffers (handles set per call) */
    dnnl_memory_t x, y, dy, dx, w_user, b, db, dw_user;
    char impl[96];
};

static int ok(dnnl_status_t s) { return s == dnnl_success; }

static dnnl_memory_t wrap(const dnnl_memory_desc_t *md, void *handle) {
    dnnl_memory_t m = NULL;
    if (!ok(dnnl_memory_create(&m, md, engine, handle))) return NULL;
    return m;
}

static int make_step(step *s, const_dnnl_primitive_desc_t pd) {
    if (!ok(dnnl_primitive_create(&s->prim, pd))) return 0;
    const dnnl_memory_desc_t *smd = dnnl_primitive_desc_query_md(pd, dnnl_query_scratchpad_md, 0);
    if (smd && dnnl_memory_desc_get_size(smd) > 0) {
        s->scratch = wrap(smd, DNNL_MEMORY_ALLOCATE);
        if (!s->scratch) return 0;
    }
    return 1;
}

/* from -> to, with an owned buffer on the primitive side (`to` when forward, else `from`). */
static int make_reorder(reorder *r, const dnnl_memory_desc_t *from, const dnnl_memory_desc_t *to, int inner_is_to) {
    const dnnl_memory_desc_t *inner = inner_is_to ? to : from;
    r->inner = wrap(inner, DNNL_MEMORY_ALLOCATE);
    if (!r->inner) return 0;
    if (dnnl_memory_desc_equal(from, to)) return 1;
    dnnl_primitive_desc_t pd;
    if (!ok(dnnl_reorder_primitive_desc_create(&pd, from, engine, to, engine, NULL))) return 0;
    int made = ok(dnnl_primitive_create(&r->prim, pd));
    dnnl_primitive_desc_destroy(pd);
    return made;
}

static void free_step(step *s) {
    if (s->prim) dnnl_primitive_destroy(s->prim);
    if (s->scratch) dnnl_memory_destroy(s->scratch);
}

static void free_reorder(reorder *r) {
    if (r->prim) dnnl_primitive_destroy(r->prim);
    if (r->inner) dnnl_memory_destroy(r->inner);
}

void acol_conv_destroy(acol_conv *c) {
    if (!c) return;
    free_step(&c->fwd); free_step(&c->bwd_data); free_step(&c->bwd_weights);
    free_reorder(&c->w_fwd); free_reorder(&c->w_bwd); free_reorder(&c->dw);
    dnnl_memory_t ms[] = {c->x, c->y, c->dy, c->dx, c->w_user, c->b, c->db, c->dw_user};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) if (ms[i]) dnnl_memory_destroy(ms[i]);
    if (c->stream) dnnl_stream_destroy(c->stream);
    free(c);
}

acol_conv *acol_conv_create(int n, int h, int w, int c, int f, int kh, int kw,
                            int pt, int pl, int pb, int pr, int relu, int training, int threads) {
    pthread_once(&engine_once, engine_init);
    if (!engine_ok || n < 1 || h < 1 || w < 1 || c < 1 || f < 1 || kh < 1 || kw < 1) return NULL;
    int oh = h + pt + pb - kh + 1, ow = w + pl + pr - kw + 1;
    if (oh < 1 || ow < 1) return NULL;
    acol_conv *cv = calloc(1, sizeof *cv);
    if (!cv) return NULL;
    cv->threads = threads > 0 ? threads : 1;
    dnnl_primitive_attr_t attr = NULL;
    dnnl_post_ops_t post = NULL;
    dnnl_primitive_desc_t fpd = NULL, dpd = NULL, wpd = NULL;
    int good = 0;

    dnnl_dims_t xd = {n, c, h, w}, yd = {n, f, oh, ow}, wd = {f, c, kh, kw}, bd = {f};
    dnnl_dims_t strides = {1, 1}, lpad = {pt, pl}, rpad = {pb, pr};
    dnnl_memory_desc_t x_md, y_md, w_any, w_user_md, b_md;
    if (!ok(dnnl_memory_desc_init_by_tag(&x_md, 4, xd, dnnl_f32, dnnl_nhwc))) goto done;
    if (!ok(dnnl_memory_desc_init_by_tag(&y_md, 4, yd, dnnl_f32, dnnl_nhwc))) goto done;
    if (!ok(dnnl_memory_desc_init_by_tag(&w_any, 4, wd, dnnl_f32, dnnl_format_tag_any))) goto done;
    if (!ok(dnnl_memory_desc_init_by_tag(&w_user_md, 4, wd, dnnl_f32, dnnl_hwio))) goto done;
    if (!ok(dnnl_memory_desc_init_by_tag(&b_md, 1, bd, dnnl_f32, dnnl_a))) goto done;

    if (!ok(dnnl_primitive_attr_create(&attr))) goto done;
    if (!ok(dnnl_primitive_attr_set_scratchpad_mode(attr, dnnl_scratchpad_mode_user))) goto done;
    dnnl_primitive_attr_t fattr = attr;
    dnnl_primitive_attr_t rattr = NULL;
    if (relu) {
        if (!ok(dnnl_primitive_attr_clone(&rattr, attr))) goto done;
        if (!ok(dnnl_post_ops_create(&post))) goto done;
        if (!ok(dnnl_post_ops_append_eltwise(post, 1.0f, dnnl_eltwise_relu, 0.0f, 0.0f))) goto done;
        if (!ok(dnnl_primitive_attr_set_post_ops(rattr, post))) goto done;
        fattr = rattr;
    }
    dnnl_convolution_desc_t fd;
    if (!ok(dnnl_convolution_forward_desc_init(&fd, training ? dnnl_forward_training : dnnl_forward_inference,
                                               dnnl_convolution_direct, &x_md, &w_any, &b_md, &y_md,
                                               strides, lpad, rpad))) goto relu_done;
    if (!ok(dnnl_primitive_desc_create(&fpd, &fd, fattr, engine, NULL))) goto relu_done;
    if (!make_step(&cv->fwd, fpd)) goto relu_done;
    const char *impl = NULL;
    if (ok(dnnl_primitive_desc_query(fpd, dnnl_query_impl_info_str, 0, &impl)) && impl)
        strncpy(cv->impl, impl, sizeof cv->impl - 1);
    if (!make_reorder(&cv->w_fwd, &w_user_md, dnnl_primitive_desc_query_md(fpd, dnnl_query_weights_md, 0), 1))
        goto relu_done;

    if (training) {
        dnnl_convolution_desc_t dd, wdd;
        if (!ok(dnnl_convolution_backward_data_desc_init(&dd, dnnl_convolution_direct, &x_md, &w_any, &y_md,
                                                         strides, lpad, rpad))) goto relu_done;
        if (!ok(dnnl_primitive_desc_create(&dpd, &dd, attr, engine, fpd))) goto relu_done;
        if (!make_step(&cv->bwd_data, dpd)) goto relu_done;
        if (!make_reorder(&cv->w_bwd, &w_user_md, dnnl_primitive_desc_query_md(dpd, dnnl_query_weights_md, 0), 1))
            goto relu_done;
        if (!ok(dnnl_convolution_backward_weights_desc_init(&wdd, dnnl_convolution_direct, &x_md, &w_any, &b_md,
                                                            &y_md, strides, lpad, rpad))) goto relu_done;
        if (!ok(dnnl_primitive_desc_create(&wpd, &wdd, attr, engine, fpd))) goto relu_done;
        if (!make_step(&cv->bwd_weights, wpd)) goto relu_done;
        if (!make_reorder(&cv->dw, dnnl_primitive_desc_query_md(wpd, dnnl_query_diff_weights_md, 0), &w_user_md, 0))
            goto relu_done;
    }
    if (!ok(dnnl_stream_create(&cv->stream, engine, dnnl_stream_default_flags))) goto relu_done;
    cv->x = wrap(&x_md, DNNL_MEMORY_NONE); cv->y = wrap(&y_md, DNNL_MEMORY_NONE);
    cv->dy = wrap(&y_md, DNNL_MEMORY_NONE); cv->dx = wrap(&x_md, DNNL_MEMORY_NONE);
    cv->w_user = wrap(&w_user_md, DNNL_MEMORY_NONE); cv->dw_user = wrap(&w_user_md, DNNL_MEMORY_NONE);
    cv->b = wrap(&b_md, DNNL_MEMORY_NONE); cv->db = wrap(&b_md, DNNL_MEMORY_NONE);
    good = cv->x && cv->y && cv->dy && cv->dx && cv->w_user && cv->dw_user && cv->b && cv->db;
relu_done:
    if (rattr) dnnl_primitive_attr_destroy(rattr);
done:
    if (fpd) dnnl_primitive_desc_destroy(fpd);
    if (dpd) dnnl_primitive_desc_destroy(dpd);
    if (wpd) dnnl_primitive_desc_destroy(wpd);
    if (post) dnnl_post_ops_destroy(post);
    if (attr) dnnl_primitive_attr_destroy(attr);
    if (!good) { acol_conv_destroy(cv); return NULL; }
    return cv;
}

const char *acol_conv_implementation(const acol_conv *c) { return c ? c->impl : ""; }

static int set(dnnl_memory_t m, const void *p) { return ok(dnnl_memory_set_data_handle(m, (void *)p)); }

static int run(acol_conv *c, dnnl_primitive_t p, int nargs, dnnl_exec_arg_t *args) {
    omp_set_num_threads(c->threads); /* per calling thread; acol_dnnl_sgemm sets 1 */
    if (!ok(dnnl_primitive_execute(p, c->stream, nargs, args))) return 1;
    return ok(dnnl_stream_wait(c->stream)) ? 0 : 1;
}

/* The caller's HWIO kernel into the primitive's layout (r->inner). */
static int kernel_in(acol_conv *c, reorder *r, const float *kernel) {
    if (!r->prim) {
        void *dst = NULL;
        if (!ok(dnnl_memory_get_data_handle(r->inner, &dst))) return 1;
        const dnnl_memory_desc_t *md;
        if (!ok(dnnl_memory_get_memory_desc(r->inner, &md))) return 1;
        memcpy(dst, kernel, dnnl_memory_desc_get_size(md));
        return 0;
    }
    if (!set(c->w_user, kernel)) return 1;
    dnnl_exec_arg_t a[] = {{DNNL_ARG_FROM, c->w_user}, {DNNL_ARG_TO, r->inner}};
    return run(c, r->prim, 2, a);
}

static int with_scratch(dnnl_exec_arg_t *args, int n, const step *s) {
    if (s->scratch) { args[n].arg = DNNL_ARG_SCRATCHPAD; args[n].memory = s->scratch; n++; }
    return n;
}

int acol_conv_forward(acol_conv *c, const float *x, const float *kernel, const float *bias, float *y) {
    if (!c || !c->fwd.prim) return 1;
    if (kernel_in(c, &c->w_fwd, kernel)) return 1;
    if (!set(c->x, x) || !set(c->y, y) || !set(c->b, bias)) return 1;
    dnnl_exec_arg_t a[ARG_MAX] = {{DNNL_ARG_SRC, c->x}, {DNNL_ARG_WEIGHTS, c->w_fwd.inner},
                                  {DNNL_ARG_BIAS, c->b}, {DNNL_ARG_DST, c->y}};
    return run(c, c->fwd.prim, with_scratch(a, 4, &c->fwd), a);
}

int acol_conv_backward_data(acol_conv *c, const float *dy, const float *kernel, float *dx) {
    if (!c || !c->bwd_data.prim) return 1;
    if (kernel_in(c, &c->w_bwd, kernel)) return 1;
    if (!set(c->dy, dy) || !set(c->dx, dx)) return 1;
    dnnl_exec_arg_t a[ARG_MAX] = {{DNNL_ARG_DIFF_DST, c->dy}, {DNNL_ARG_WEIGHTS, c->w_bwd.inner},
                                  {DNNL_ARG_DIFF_SRC, c->dx}};
    return run(c, c->bwd_data.prim, with_scratch(a, 3, &c->bwd_data), a);
}

int acol_conv_backward_weights(acol_conv *c, const float *x, const float *dy, float *dkernel, float *dbias) {
    if (!c || !c->bwd_weights.prim) return 1;
    if (!set(c->x, x) || !set(c->dy, dy) || !set(c->db, dbias)) return 1;
    dnnl_memory_t dw = c->dw.prim ? c->dw.inner : c->dw_user;
    if (!c->dw.prim && !set(c->dw_user, dkernel)) return 1;
    dnnl_exec_arg_t a[ARG_MAX] = {{DNNL_ARG_SRC, c->x}, {DNNL_ARG_DIFF_DST, c->dy},
                                  {DNNL_ARG_DIFF_WEIGHTS, dw}, {DNNL_ARG_DIFF_BIAS, c->db}};
    if (run(c, c->bwd_weights.prim, with_scratch(a, 4, &c->bwd_weights), a)) return 1;
    if (!c->dw.prim) return 0;
    if (!set(c->dw_user, dkernel)) return 1;
    dnnl_exec_arg_t r[] = {{DNNL_ARG_FROM, c->dw.inner}, {DNNL_ARG_TO, c->dw_user}};
    return run(c, c->dw.prim, 2, r);
}

int acol_dnnl_sgemm(int threads, int trans_a, int trans_b, int64_t m, int64_t n, int64_t k, float alpha,
                    const float *a, int64_t lda, const float *b, int64_t ldb, float beta, float *c, int64_t ldc) {
    omp_set_num_threads(threads > 0 ? threads : 1);
    return ok(dnnl_sgemm(trans_a ? 'T' : 'N', trans_b ? 'T' : 'N', m, n, k, alpha, a, lda, b, ldb, beta, c, ldc)) ? 0 : 1;
}
