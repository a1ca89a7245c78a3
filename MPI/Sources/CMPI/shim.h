// Open MPI for Swift: MPI_COMM_WORLD, MPI_SUM and the datatypes are macros over globals, which
// do not import into Swift, so the few calls acol-mpi makes are wrapped here.
#ifndef ACOL_CMPI_SHIM_H
#define ACOL_CMPI_SHIM_H
#include <mpi.h>

/// MPI_Init; returns MPI_SUCCESS or the error code.
static inline int acol_mpi_init(void) {
    int done = 0;
    MPI_Initialized(&done);
    if (done) return MPI_SUCCESS;
    return MPI_Init(NULL, NULL);
}
static inline int acol_mpi_rank(void) { int r = 0; MPI_Comm_rank(MPI_COMM_WORLD, &r); return r; }
static inline int acol_mpi_size(void) { int s = 1; MPI_Comm_size(MPI_COMM_WORLD, &s); return s; }
/// Ranks on this node (a communicator split by shared memory).
static inline int acol_mpi_local_size(void) {
    MPI_Comm local;
    if (MPI_Comm_split_type(MPI_COMM_WORLD, MPI_COMM_TYPE_SHARED, 0, MPI_INFO_NULL, &local) != MPI_SUCCESS) return 1;
    int s = 1;
    MPI_Comm_size(local, &s);
    MPI_Comm_free(&local);
    return s;
}
/// In-place sum over all ranks of `count` doubles / floats.
static inline int acol_mpi_sum_double(double *x, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, x, count, MPI_DOUBLE, MPI_SUM, MPI_COMM_WORLD);
}
static inline int acol_mpi_sum_float(float *x, int count) {
    return MPI_Allreduce(MPI_IN_PLACE, x, count, MPI_FLOAT, MPI_SUM, MPI_COMM_WORLD);
}
static inline int acol_mpi_finalize(void) { return MPI_Finalize(); }
static inline void acol_mpi_abort(int code) { MPI_Abort(MPI_COMM_WORLD, code); }
#endif
