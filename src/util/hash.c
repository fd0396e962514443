/* FNV-1a (64 bit): a fast, stable, platform-independent hash of bytes, for
 * keys (canonical strings, data contents), not for security. */
#include "minima.h"

uint64_t mn_hash_bytes(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++) h = (h ^ b[i]) * 0x100000001b3ULL;
    return h;
}
