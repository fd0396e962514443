/* One 64-bit hash (FNV-1a) of the population model's value, gradient and
 * Hessian bits at fixed points: k = 1..24, n = k-3..k+3, five points each
 * (840 points), from a fixed xorshift stream. Two builds of the same source
 * print the same hash exactly when they compute the same bits: what
 * bench/popul_cross.sh compares across instruction-set levels and across
 * architectures (AArch64 under qemu-user).
 *
 *   popul_bits [LEVEL]      LEVEL: the x86-64 level to run (default: the best)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "minima/popul.h"

static uint64_t hash = 1469598103934665603ULL;

static void mix(const void *p, size_t n)
{
    const unsigned char *c = p;
    for (size_t i = 0; i < n; i++) hash = (hash ^ c[i]) * 1099511628211ULL;
}

int main(int argc, char **argv)
{
    if (argc > 1 && mn_popul_isa_select(atoi(argv[1])))
        return fprintf(stderr, "popul_bits: %s\n", mn_last_error()), 1;
    uint64_t s = 88172645463325252ULL;
    for (int k = 1; k <= 24; k++)
        for (int n = k > 3 ? k - 3 : 1; n <= k + 3; n++) {
            mn_popul_spec sp = {.k = k, .n = n};
            mn_popul_work *w;
            if (mn_popul_work_alloc(&w, &sp)) return fprintf(stderr, "popul_bits: %s\n", mn_last_error()), 1;
            const size_t P = mn_popul_nparams(&sp);
            double *th = malloc(P * sizeof *th), *g = malloc(P * sizeof *g), *H = malloc(P * P * sizeof *H);
            if (!th || !g || !H) return fprintf(stderr, "popul_bits: out of memory\n"), 1;
            for (int t = 0; t < 5; t++) {
                /* entries uniform in (-1, 1) / (t + 1): several scales */
                for (size_t i = 0; i < P; i++) {
                    s ^= s << 13, s ^= s >> 7, s ^= s << 17;
                    th[i] = ((double)(s >> 11) / 9007199254740992.0 - 0.5) * 2 / (t + 1);
                }
                double F;
                if (mn_popul_eval(w, th, &F, g) || mn_popul_hessian(w, th, H))
                    return fprintf(stderr, "popul_bits: %s\n", mn_last_error()), 1;
                mix(&F, sizeof F), mix(g, P * sizeof *g), mix(H, P * P * sizeof *H);
            }
            free(th), free(g), free(H);
            mn_popul_work_free(w);
        }
    printf("%016llx level %d\n", (unsigned long long)hash, mn_popul_isa_level());
    return 0;
}
