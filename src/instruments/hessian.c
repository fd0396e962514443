/* Hessian instruments on exact Hessian-vector products: the top / bottom K
 * eigenpairs (Lanczos), the trace (Hutchinson) and the spectral density
 * (stochastic Lanczos quadrature). The Lanczos loop is linalg/lanczos.c. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/lanczos.h"
#include "minima/instruments.h"

#define PROBE_TAG 0x70726f6265ULL /* "probe": separates probe seeds from other uses of a seed */

void mn_lanczos_opts_default(mn_lanczos_opts *o) { *o = (mn_lanczos_opts){.steps = 300, .tol = 1e-10, .seed = 1}; }

void mn_density_opts_default(mn_density_opts *o)
{
    *o = (mn_density_opts){.probes = 10, .steps = 100, .sigma_rel = 0.01, .npoints = 1000, .seed = 1};
}

/* The rng of probe i of a seed. */
static void probe_rng(mn_rng *r, uint64_t seed, int i)
{
    const uint64_t idx[2] = {PROBE_TAG, (uint64_t)i};
    mn_rng_seed(r, mn_seed_derive(seed, idx, 2));
}

static mn_status hess_extreme(double *vals, double *resid, double *vecs, int *steps, int *converged,
                          const mn_objective *f, const double *x, int k, int top, const mn_lanczos_opts *o)
{
    mn_status st = mn_objective_check(f);
    if (st) return st;
    const size_t nf = mn_objective_nfree(f);
    if (k < 1) return mn_fail(MN_EINVAL, "K = %d eigenvalues: K must be at least 1", k);
    if ((size_t)k > nf) return mn_fail(MN_EINVAL, "K = %d is larger than the %zu free parameters", k, nf);
    if (o->steps < k) return mn_fail(MN_EINVAL, "%d Lanczos steps cannot give %d eigenvalues", o->steps, k);
    if (!(o->tol > 0)) return mn_fail(MN_EINVAL, "Lanczos tolerance %g must be positive", o->tol);
    mn_lanczos *lz = NULL;
    if ((st = mn_lanczos_alloc(&lz, f, o->steps))) return st;
    double *start = malloc(nf * sizeof *start);
    if (!start) {
        mn_lanczos_free(lz);
        return mn_fail(MN_ENOMEM, "out of memory for a start vector");
    }
    mn_rng r;
    probe_rng(&r, o->seed, 0);
    for (size_t i = 0; i < nf; i++) start[i] = mn_rng_normal(&r);
    st = mn_lanczos_run(lz, f, x, start, top ? 0 : k, top ? k : 0, o->tol);
    if (!st && lz->m < k) /* an invariant subspace smaller than k: another start would be needed */
        st = mn_fail(MN_EINVAL, "Lanczos found an invariant subspace of dimension %d < K = %d at this point", lz->m,
                     k);
    if (!st) {
        const int m = lz->m;
        const double scale = fmax(1.0, fmax(fabs(lz->theta[0]), fabs(lz->theta[m - 1])));
        int ok = 1;
        for (int i = 0; i < k; i++) {
            const int j = top ? m - 1 - i : i;
            vals[i] = lz->theta[j];
            resid[i] = lz->resid[j];
            ok &= resid[i] <= o->tol * scale;
            if (vecs) mn_lanczos_ritz_vector(lz, j, vecs + (size_t)i * f->n, f->n);
        }
        *steps = m;
        *converged = ok;
    }
    free(start);
    mn_lanczos_free(lz);
    return st;
}

static mn_status hess_trace(double *trace, double *se, const mn_objective *f, const double *x, int probes,
                        uint64_t seed)
{
    mn_status st = mn_objective_check(f);
    if (st) return st;
    if (probes < 1) return mn_fail(MN_EINVAL, "%d trace probes: at least 1 is needed", probes);
    const size_t n = f->n;
    double *z = calloc(2 * n, sizeof *z), *hz = z ? z + n : NULL;
    double *val = malloc((size_t)probes * sizeof *val);
    if (!z || !val) {
        free(z), free(val);
        return mn_fail(MN_ENOMEM, "out of memory for trace probes");
    }
    for (int p = 0; p < probes && !st; p++) {
        mn_rng r;
        probe_rng(&r, seed, p);
        for (size_t i = 0; i < n; i++) z[i] = (!f->mask || f->mask[i]) ? (mn_rng_u64(&r) >> 63 ? 1.0 : -1.0) : 0.0;
        st = mn_objective_hvp(f, x, z, hz);
        double s = 0;
        for (size_t i = 0; i < n && !st; i++) s += z[i] * hz[i];
        val[p] = s;
    }
    if (!st) {
        double mean = 0, ss = 0;
        for (int p = 0; p < probes; p++) mean += val[p];
        mean /= probes;
        for (int p = 0; p < probes; p++) ss += (val[p] - mean) * (val[p] - mean);
        *trace = mean;
        *se = probes > 1 ? sqrt(ss / (probes - 1) / probes) : NAN;
    }
    free(z), free(val);
    return st;
}

void mn_density_free(mn_density *d)
{
    if (!d) return;
    free(d->nodes), free(d->grid);
    free(d);
}

static mn_status hess_density(mn_density **out, const mn_objective *f, const double *x, const mn_density_opts *o)
{
    *out = NULL;
    mn_status st = mn_objective_check(f);
    if (st) return st;
    if (o->probes < 1 || o->steps < 1)
        return mn_fail(MN_EINVAL, "density: %d probes x %d steps (both must be >= 1)", o->probes, o->steps);
    if (o->npoints < 2) return mn_fail(MN_EINVAL, "density: %d grid points (at least 2)", o->npoints);
    if (!(o->sigma_rel > 0) || !isfinite(o->sigma_rel))
        return mn_fail(MN_EINVAL, "density: broadening %g must be positive", o->sigma_rel);
    const size_t nf = mn_objective_nfree(f);
    mn_lanczos *lz = NULL;
    if ((st = mn_lanczos_alloc(&lz, f, o->steps))) return st;
    const int kmax = lz->kmax;
    mn_density *d = calloc(1, sizeof *d);
    double *start = malloc(nf * sizeof *start), *pmean = malloc((size_t)o->probes * sizeof *pmean);
    if (d) d->nodes = malloc(2 * (size_t)o->probes * kmax * sizeof *d->nodes);
    if (d) d->grid = malloc(2 * (size_t)o->npoints * sizeof *d->grid);
    if (!d || !start || !pmean || !d->nodes || !d->grid) {
        st = mn_fail(MN_ENOMEM, "out of memory for the density");
        goto done;
    }
    d->weights = d->nodes + (size_t)o->probes * kmax;
    d->values = d->grid + o->npoints;
    d->npoints = o->npoints;
    for (int p = 0; p < o->probes && !st; p++) {
        mn_rng r;
        probe_rng(&r, o->seed, p);
        for (size_t i = 0; i < nf; i++) start[i] = mn_rng_normal(&r);
        if ((st = mn_lanczos_run(lz, f, x, start, 0, 0, 0.0))) break;
        const int m = lz->m;
        pmean[p] = 0;
        for (int j = 0; j < m; j++) {
            const double s0 = lz->s[(size_t)j * m]; /* first component of eigenvector j */
            d->nodes[d->nnodes] = lz->theta[j];
            d->weights[d->nnodes++] = s0 * s0 / o->probes;
            pmean[p] += s0 * s0 * lz->theta[j];
        }
    }
    if (st) goto done;
    double lo = INFINITY, hi = -INFINITY, mean = 0, ss = 0;
    for (int j = 0; j < d->nnodes; j++) lo = fmin(lo, d->nodes[j]), hi = fmax(hi, d->nodes[j]);
    for (int p = 0; p < o->probes; p++) mean += pmean[p];
    mean /= o->probes;
    for (int p = 0; p < o->probes; p++) ss += (pmean[p] - mean) * (pmean[p] - mean);
    d->mean = 0;
    for (int j = 0; j < d->nnodes; j++) d->mean += d->weights[j] * d->nodes[j];
    d->mean_se = o->probes > 1 ? sqrt(ss / (o->probes - 1) / o->probes) : NAN;
    d->sigma = hi > lo ? o->sigma_rel * (hi - lo) : fmax(1e-300, o->sigma_rel * fabs(hi));
    const double g0 = lo - 8 * d->sigma, g1 = hi + 8 * d->sigma, c = 1.0 / (d->sigma * 2.5066282746310002); /* sqrt(2 pi) */
    for (int g = 0; g < d->npoints; g++) {
        const double t = g0 + (g1 - g0) * g / (d->npoints - 1);
        double v = 0;
        for (int j = 0; j < d->nnodes; j++) {
            const double u = (t - d->nodes[j]) / d->sigma;
            v += d->weights[j] * exp(-0.5 * u * u);
        }
        d->grid[g] = t, d->values[g] = c * v;
    }
done:
    free(start), free(pmean);
    mn_lanczos_free(lz);
    if (st) mn_density_free(d);
    else *out = d;
    return st;
}

mn_status mn_hess_extreme(double *vals, double *resid, double *vecs, int *steps, int *converged,
                          const mn_objective *f, const double *x, int k, int top, const mn_lanczos_opts *o)
{
    const int blas = mn_blas_serial();
    mn_status st = hess_extreme(vals, resid, vecs, steps, converged, f, x, k, top, o);
    mn_blas_restore(blas);
    return st;
}

mn_status mn_hess_trace(double *trace, double *se, const mn_objective *f, const double *x, int probes,
                        uint64_t seed)
{
    const int blas = mn_blas_serial();
    mn_status st = hess_trace(trace, se, f, x, probes, seed);
    mn_blas_restore(blas);
    return st;
}

mn_status mn_hess_density(mn_density **out, const mn_objective *f, const double *x, const mn_density_opts *o)
{
    const int blas = mn_blas_serial();
    mn_status st = hess_density(out, f, x, o);
    mn_blas_restore(blas);
    return st;
}
