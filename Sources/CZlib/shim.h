#ifndef ACOL_CZLIB_SHIM_H
#define ACOL_CZLIB_SHIM_H
#include <zlib.h>
#endif
