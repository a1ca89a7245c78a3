#ifndef ACOL_CZLIB_SHIM_H
#define ACOL_CZLIB_SHIM_H
#include <zlib.h>
/* inflateInit and inflateInit2 are macros over inflateInit_ / inflateInit2_ (they pass
   ZLIB_VERSION and sizeof(z_stream)) and do not import into Swift. */
static inline int acol_inflate_init(z_streamp strm) { return inflateInit(strm); }
/* window_bits: 15 for zlib streams, 15 + 16 for gzip, -15 for raw deflate. */
static inline int acol_inflate_init2(z_streamp strm, int window_bits) {
    return inflateInit2(strm, window_bits);
}
#endif
