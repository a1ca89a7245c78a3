#ifndef ACOL_PARALLEL_H
#define ACOL_PARALLEL_H
/* The library's parallel loops on OpenMP's threads (libgomp), the runtime oneDNN runs on: one set
   of worker threads for the convolutions and for everything else, so that workers spinning after
   one parallel region are the ones the next region uses rather than competitors for the cores. */

/* Calls body(ctx, part) once for each part in 0 ..< parts, on up to `parts` threads, and returns
   when all have run. Parts are dealt to threads in a fixed order (part p to thread p mod
   threads); inside another parallel region it runs them all on the calling thread. */
void acol_parallel_parts(int parts, void (*body)(void *ctx, int part), void *ctx);
#endif
