/* Random activation regions (Karhadkar et al.'s sampling) and the counts of
 * one grid cell: full-rank Jacobians, and regions holding a zero-loss point. */
#include "minima.h"
#include "minima/regions.h"

#include <cblas.h> /* openblas_{get,set}_num_threads */
#include <math.h>
#include <stdlib.h>

#include "regions/internal.h"

typedef struct {
    double *X, *W, *b, *v, *y;
    unsigned char *A;
} draw;

static void draw_free(draw *d)
{
    free(d->X), free(d->W), free(d->b), free(d->v), free(d->y), free(d->A);
}

static int draw_alloc(draw *d, int d0, int n, int d1)
{
    d->X = malloc((size_t)n * d0 * sizeof *d->X);
    d->W = malloc((size_t)d1 * d0 * sizeof *d->W);
    d->b = malloc((size_t)d1 * sizeof *d->b);
    d->v = malloc((size_t)d1 * sizeof *d->v);
    d->y = malloc((size_t)n * sizeof *d->y);
    d->A = malloc((size_t)n * d1);
    return d->X && d->W && d->b && d->v && d->y && d->A;
}

/* Trial t's network, data, targets and pattern. */
static void draw_trial(draw *d, int d0, int n, int d1, int t, uint64_t seed)
{
    const uint64_t idx[4] = {(uint64_t)d0, (uint64_t)n, (uint64_t)d1, (uint64_t)t};
    mn_rng r;
    mn_rng_seed(&r, mn_seed_derive(seed, idx, 4));
    const double bound = 1.0 / sqrt((double)d0);
    for (size_t k = 0; k < (size_t)n * d0; k++) d->X[k] = mn_rng_normal(&r);
    for (size_t k = 0; k < (size_t)d1 * d0; k++) d->W[k] = bound * (2.0 * mn_rng_uniform(&r) - 1.0);
    for (int j = 0; j < d1; j++) d->b[j] = bound * (2.0 * mn_rng_uniform(&r) - 1.0);
    for (int j = 0; j < d1; j++) d->v[j] = mn_rng_normal(&r);
    for (int i = 0; i < n; i++) d->y[i] = mn_rng_normal(&r);
    mn_region_pattern(d->A, d->X, n, d0, d->W, d->b, d1);
}

mn_status mn_region_sample_cell(mn_region_cell *out, int d0, int n, int d1, int trials, int lp_trials,
                                uint64_t seed, int threads)
{
    if (d0 < 1 || d0 > MN_MAX_WIDTH || n < 1 || n > MN_REGION_MAX_N || d1 < 1 || d1 > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "regions: d0 = %d, n = %d, width = %d out of range", d0, n, d1);
    if (trials < 1 || lp_trials < 0 || lp_trials > trials || threads < 1)
        return mn_fail(MN_EINVAL, "regions: trials = %d, lp trials = %d, threads = %d out of range", trials,
                       lp_trials, threads);
    *out = (mn_region_cell){.d0 = d0, .n = n, .d1 = d1, .trials = trials, .lp_trials = lp_trials};
    out->structural = (long)d1 * (d0 + 1) < n;
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    int full = 0, border = 0, changed = 0, zero = 0, open = 0;
    mn_first_error err = {0};
#pragma omp parallel num_threads(threads) reduction(+ : full, border, changed, zero, open)
    {
        draw d = {0};
        int ok = draw_alloc(&d, d0, n, d1);
#pragma omp for schedule(dynamic, 1)
        for (int t = 0; t < trials; t++) {
            if (mn_first_error_seen(&err)) continue;
            mn_status st = ok ? MN_OK : mn_fail(MN_ENOMEM, "regions: out of memory (n = %d, width = %d)", n, d1);
            if (!st) draw_trial(&d, d0, n, d1, t, seed);
            if (!st && !out->structural) {
                mn_rank_info ri;
                st = mn_region_rank(&ri, d.A, d.X, n, d0, d.v, d1, mn_seed_derive(seed, (uint64_t[]){(uint64_t)t}, 1));
                if (!st) {
                    full += ri.rank == n;
                    border += ri.borderline;
                    changed += ri.borderline && (ri.rank == n) != (ri.svd_rank == n);
                }
            }
            if (!st && t < lp_trials) {
                mn_region_lp_result lp;
                st = mn_region_lp(&lp, NULL, d.A, d.X, n, d0, d.v, d1, 0, d.y);
                if (!st) zero += lp.feasible, open += lp.interior;
            }
            if (st) mn_first_error_set(&err, st);
        }
        draw_free(&d);
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    if (err.failed) return mn_first_error_status(&err);
    out->full_rank = full, out->borderline = border, out->changed = changed;
    out->zero_loss = zero, out->zero_loss_open = open;
    return MN_OK;
}
