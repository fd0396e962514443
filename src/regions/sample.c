/* Random activation regions (Karhadkar et al.'s sampling): one trial of a
 * grid cell, its network, data and targets drawn from its own stream, the
 * rank of its Jacobian and, when asked, the zero-loss LP. */
#include "minima.h"
#include "minima/regions.h"

#include <math.h>
#include <stdlib.h>

#include "regions/internal.h"

void mn_region_draw_free(mn_region_draw *d)
{
    if (!d) return;
    free(d->X), free(d->W), free(d->b), free(d->v), free(d->y), free(d->A);
    free(d);
}

mn_status mn_region_draw_alloc(mn_region_draw **out, int d0, int n, int d1)
{
    mn_region_draw *d = *out = calloc(1, sizeof *d);
    if (d) {
        d->d0 = d0, d->n = n, d->d1 = d1;
        d->X = malloc((size_t)n * d0 * sizeof *d->X);
        d->W = malloc((size_t)d1 * d0 * sizeof *d->W);
        d->b = malloc((size_t)d1 * sizeof *d->b);
        d->v = malloc((size_t)d1 * sizeof *d->v);
        d->y = malloc((size_t)n * sizeof *d->y);
        d->A = malloc((size_t)n * d1);
    }
    if (d && d->X && d->W && d->b && d->v && d->y && d->A) return MN_OK;
    mn_region_draw_free(d);
    *out = NULL;
    return mn_fail(MN_ENOMEM, "regions: out of memory (n = %d, width = %d)", n, d1);
}

uint64_t mn_region_trial_seed(int d0, int n, int d1, long t, uint64_t seed)
{
    const uint64_t idx[4] = {(uint64_t)d0, (uint64_t)n, (uint64_t)d1, (uint64_t)t};
    return mn_seed_derive(seed, idx, 4);
}

/* Trial t's network, data, targets and pattern. */
static void draw_trial(mn_region_draw *d, long t, uint64_t seed)
{
    const int d0 = d->d0, n = d->n, d1 = d->d1;
    mn_rng r;
    mn_rng_seed(&r, mn_region_trial_seed(d0, n, d1, t, seed));
    const double bound = 1.0 / sqrt((double)d0);
    for (size_t k = 0; k < (size_t)n * d0; k++) d->X[k] = mn_rng_normal(&r);
    for (size_t k = 0; k < (size_t)d1 * d0; k++) d->W[k] = bound * (2.0 * mn_rng_uniform(&r) - 1.0);
    for (int j = 0; j < d1; j++) d->b[j] = bound * (2.0 * mn_rng_uniform(&r) - 1.0);
    for (int j = 0; j < d1; j++) d->v[j] = mn_rng_normal(&r);
    for (int i = 0; i < n; i++) d->y[i] = mn_rng_normal(&r);
    mn_region_pattern(d->A, d->X, n, d0, d->W, d->b, d1);
}

mn_status mn_region_trial(mn_rank_info *ri, mn_region_lp_result *lp, mn_region_draw *d, long t, uint64_t seed)
{
    draw_trial(d, t, seed);
    const int structural = (long)d->d1 * (d->d0 + 1) < d->n;
    mn_status st = MN_OK;
    if (structural) /* every rank < n: no SVD */
        *ri = (mn_rank_info){.rank = -1, .svd_rank = -1, .smax = NAN, .smin = NAN, .tol = NAN, .exact_rank = -1};
    else
        st = mn_region_rank(ri, d->A, d->X, d->n, d->d0, d->v, d->d1, mn_seed_derive(seed, (uint64_t[]){(uint64_t)t}, 1));
    if (!st && lp) st = mn_region_lp(lp, NULL, d->A, d->X, d->n, d->d0, d->v, d->d1, 0, d->y);
    return st;
}
