/* Parallel loops through libgomp's entry point GOMP_parallel, so that no -fopenmp is needed. */
#include "acol_parallel.h"

extern void GOMP_parallel(void (*fn)(void *), void *data, unsigned num_threads, unsigned flags);
extern int omp_get_thread_num(void);
extern int omp_get_num_threads(void);
extern int omp_in_parallel(void);

typedef struct {
    void (*body)(void *, int);
    void *ctx;
    int parts;
} job;

static void run_parts(void *p) {
    job *j = p;
    int threads = omp_get_num_threads();
    for (int part = omp_get_thread_num(); part < j->parts; part += threads) j->body(j->ctx, part);
}

void acol_parallel_parts(int parts, void (*body)(void *ctx, int part), void *ctx) {
    if (parts <= 1 || omp_in_parallel()) {
        for (int part = 0; part < parts; part++) body(ctx, part);
        return;
    }
    job j = {body, ctx, parts};
    GOMP_parallel(run_parts, &j, (unsigned)parts, 0);
}
