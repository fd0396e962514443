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

/* Ritz pair j of the last run into slot `at` of the found list (values v,
 * residuals r, free-coordinate vectors y: k x nf), shifting the later ones
 * down one slot (the last falls off). */
static void found_insert(double *v, double *r, double *y, int k, int nfound, int at, const mn_lanczos *lz, int j)
{
    const size_t nf = (size_t)lz->nf;
    const int last = nfound < k ? nfound : k - 1;
    for (int i = last; i > at; i--) {
        v[i] = v[i - 1], r[i] = r[i - 1];
        memcpy(y + (size_t)i * nf, y + (size_t)(i - 1) * nf, nf * sizeof *y);
    }
    v[at] = lz->theta[j], r[at] = lz->resid[j];
    mn_lanczos_ritz_free(lz, j, y + (size_t)at * nf);
}

/* Lanczos with deflation: a run converges the wanted Ritz pairs, which are
 * locked; a further run on the complement of the locked vectors (from a new
 * start) looks for an eigenvalue beyond the k-th found (another copy of a
 * repeated eigenvalue, which a single Krylov space sees only once in exact
 * arithmetic) and, if one is, inserts it and looks again. A run that stops at
 * an invariant subspace gives its exact Ritz pairs and the next run the rest. */
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
    mn_status st0 = mn_mem_check((double)k * (double)nf * sizeof(double), "the locked Lanczos vectors");
    if (st0) return st0;
    mn_lanczos *lz = NULL;
    if ((st = mn_lanczos_alloc(&lz, f, o->steps))) return st;
    double *start = malloc(nf * sizeof *start), *y = malloc((size_t)k * nf * sizeof *y);
    if (!start || !y) {
        free(start), free(y);
        mn_lanczos_free(lz);
        return mn_fail(MN_ENOMEM, "out of memory for the locked Lanczos vectors");
    }
    const double sgn = top ? 1.0 : -1.0; /* "beyond" is larger for top, smaller for bottom */
    int nfound = 0, total = 0, ok = 1;
    for (int round = 0; !st && (size_t)nfound < nf; round++) {
        if (round > 2 * k + 2) { /* each round adds a pair: more would mean the check keeps failing */
            ok = 0;
            break;
        }
        const int need = k - nfound, want = need > 0 ? need : 1;
        mn_rng r;
        probe_rng(&r, o->seed, round);
        for (size_t i = 0; i < nf; i++) start[i] = mn_rng_normal(&r);
        if ((st = mn_lanczos_lock(lz, y, nfound < k ? nfound : k))) break;
        if ((st = mn_lanczos_run(lz, f, x, start, top ? 0 : want, top ? want : 0, o->tol))) break;
        const int m = lz->m, got = want < m ? want : m;
        total += m;
        const double scale = fmax(1.0, fmax(fabs(lz->theta[0]), fabs(lz->theta[m - 1])));
        int run_ok = 1;
        for (int i = 0; i < got; i++) run_ok &= lz->resid[top ? m - 1 - i : i] <= o->tol * scale;
        if (need > 0) { /* append, keeping the list sorted (vals descending for top) */
            for (int i = 0; i < got; i++) {
                const int j = top ? m - 1 - i : i;
                int at = nfound;
                while (at > 0 && sgn * lz->theta[j] > sgn * vals[at - 1]) at--;
                found_insert(vals, resid, y, k, nfound, at, lz, j);
                nfound++;
            }
            if (!run_ok) { /* out of steps: the best estimates, no check */
                ok = 0;
                break;
            }
            continue;
        }
        /* the check: the extreme eigenvalue on the complement of the k found */
        const int j = top ? m - 1 : 0;
        if (!run_ok) {
            ok = 0;
            break;
        }
        if (!(sgn * lz->theta[j] > sgn * vals[k - 1] + o->tol * scale)) break;
        int at = k - 1;
        while (at > 0 && sgn * lz->theta[j] > sgn * vals[at - 1]) at--;
        found_insert(vals, resid, y, k, nfound, at, lz, j);
    }
    if (!st) {
        for (int i = 0; i < k && vecs; i++) mn_lanczos_expand(lz, y + (size_t)i * nf, vecs + (size_t)i * f->n, f->n);
        *steps = total;
        *converged = ok;
    }
    free(start), free(y);
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
