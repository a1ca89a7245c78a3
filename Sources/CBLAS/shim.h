#ifndef ACOL_CBLAS_SHIM_H
#define ACOL_CBLAS_SHIM_H
#include <cblas.h>
#endif
