#ifndef ACOL_CPNG_SHIM_H
#define ACOL_CPNG_SHIM_H
#include <png.h>
/* PNG_IMAGE_VERSION and the format macros are plain integers and import; the
   size macros do not, so the Swift side recomputes them. */
static inline unsigned int acol_png_image_version(void) { return PNG_IMAGE_VERSION; }
/* Bytes per pixel of a png_image format (PNG_IMAGE_PIXEL_SIZE does not import). */
static inline unsigned int acol_png_pixel_size(png_uint_32 format) { return PNG_IMAGE_PIXEL_SIZE(format); }
#endif
