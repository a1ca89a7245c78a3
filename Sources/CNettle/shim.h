#ifndef ACOL_CNETTLE_SHIM_H
#define ACOL_CNETTLE_SHIM_H
/* libnettle's SHA-256 (the names are macros over nettle_sha256_*, which import as they are). */
#include <nettle/sha2.h>
#endif
