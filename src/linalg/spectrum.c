/* The extreme eigenvalues of an objective's free-parameter Hessian: the one
 * spectrum helper of certification (and of whoever needs lambda_min).
 *
 * Up to max_dense free parameters the Hessian is formed exactly
 * (mn_objective_free_hessian) and all its eigenvalues computed by LAPACK.
 * Beyond, Lanczos on exact Hessian-vector products gives the two extreme
 * eigenvalues:
 *   - start vector: standard normal entries from xoshiro seeded with
 *     MN_LANCZOS_SEED, restricted to the free parameters, normalised, so
 *     the same point always gives the same numbers;
 *   - full reorthogonalisation (classical Gram-Schmidt, applied twice) against
 *     every earlier Lanczos vector, so no ghost eigenvalues appear and the
 *     memory is steps x nfree doubles, the steps capped by
 *     MN_LANCZOS_MAX_BYTES (mn_lanczos_steps);
 *   - after each step the tridiagonal T_j is diagonalised (LAPACK dstev) and a
 *     Ritz pair (theta, s) has residual ||H y - theta y|| = beta_j |s_j|,
 *     which bounds |theta - lambda| for some eigenvalue lambda; the run stops
 *     when both extreme residuals are <= lanczos_tol * max(1, |theta|max), at
 *     an invariant subspace (beta_j ~ 0: then the Ritz values are exact), or
 *     after lanczos_iter steps (then the values are the best estimates; the
 *     Ritz values always lie inside [lambda_min, lambda_max], so lambda_min
 *     is over- and lambda_max under-estimated, never the reverse).
 * ARPACK would do the same with implicit restarts and less memory; for the
 * sizes certified here (tens of thousands of parameters, a few hundred
 * steps) the plain method is simpler, has no extra dependency, and its
 * determinism is easy to see. */
#include <limits.h>
#include <math.h>
#include <stdlib.h>

#include "linalg/lanczos.h"
#include "minima/objective.h"

#define MN_LANCZOS_SEED 0x4c616e637a6f73ULL /* "Lanczos" */

int mn_lanczos_steps(size_t nf, int lanczos_iter)
{
    size_t k = MN_LANCZOS_MAX_BYTES / sizeof(double) / (nf > 0 ? nf : 1);
    if (k < MN_LANCZOS_MIN_STEPS) k = MN_LANCZOS_MIN_STEPS;
    if (k > (size_t)lanczos_iter) k = (size_t)lanczos_iter;
    if (k > nf) k = nf;
    return (int)k;
}

/* The dense route's doubles: the free block, its eigenvalues and the full
 * Hessian scratch of mn_objective_free_hessian (2 P doubles when it goes column by
 * column: some parameter frozen, P > 4096). */
static double dense_doubles(size_t P, size_t nf)
{
    return (double)nf * (double)nf + (double)nf + (nf < P && P > 4096 ? 2.0 * (double)P : (double)P * (double)P);
}

/* The Lanczos route's doubles (the allocations of lanczos_extremes). */
static double lanczos_doubles(size_t P, size_t nf, int k)
{
    return (double)k * (double)nf + 2.0 * (double)P + 1.5 * (double)nf + 5.0 * k + (double)k * k;
}

double mn_spectrum_bytes(size_t P, size_t nf, int max_dense, int lanczos_iter)
{
    if (nf < 1) return 0;
    const double d = nf <= (size_t)(max_dense > 0 ? max_dense : 0) ? dense_doubles(P, nf)
                                                                    : lanczos_doubles(P, nf, mn_lanczos_steps(nf, lanczos_iter));
    return d * sizeof(double);
}

/* Dense route: the free block of the exact Hessian, all eigenvalues. */
static mn_status dense_extremes(const mn_objective *f, const double *x, int nf, double *lmin, double *lmax)
{
    mn_status st0 = mn_mem_check(dense_doubles(f->n, (size_t)nf) * sizeof(double), "the dense Hessian");
    if (st0) return st0;
    double *sub = malloc((size_t)nf * nf * sizeof *sub);
    double *ev = malloc((size_t)nf * sizeof *ev);
    mn_status st = sub && ev ? MN_OK : mn_fail(MN_ENOMEM, "out of memory for a %d x %d Hessian", nf, nf);
    if (!st) st = mn_objective_free_hessian(f, x, sub, NULL);
    if (!st) st = mn_sym_eigvals(ev, sub, nf);
    if (!st) *lmin = ev[0], *lmax = ev[nf - 1];
    free(sub), free(ev);
    return st;
}

/* Lanczos route (see the top of the file and linalg/lanczos.h). */
static mn_status lanczos_extremes(const mn_objective *f, const double *x, int nf, int lanczos_iter,
                                  double lanczos_tol, double *lmin, double *lmax)
{
    mn_lanczos *lz = NULL;
    mn_status st = mn_lanczos_alloc(&lz, f, mn_lanczos_steps((size_t)nf, lanczos_iter));
    double *start = st ? NULL : malloc((size_t)nf * sizeof *start);
    if (!st && !start) st = mn_fail(MN_ENOMEM, "out of memory for Lanczos");
    if (!st) {
        mn_rng r;
        mn_rng_seed(&r, MN_LANCZOS_SEED);
        for (int i = 0; i < nf; i++) start[i] = mn_rng_normal(&r);
        st = mn_lanczos_run(lz, f, x, start, 1, 1, lanczos_tol);
    }
    if (!st) *lmin = lz->theta[0], *lmax = lz->theta[lz->m - 1];
    free(start);
    mn_lanczos_free(lz);
    return st;
}

mn_status mn_spectrum_extremes(double *lmin, double *lmax, const mn_objective *f, const double *x, int max_dense,
                               int lanczos_iter, double lanczos_tol)
{
    const size_t nf = mn_objective_nfree(f);
    if (nf < 1) return mn_fail(MN_EINVAL, "spectrum: no free parameter");
    if (nf > INT_MAX) return mn_fail(MN_EINVAL, "spectrum: %zu free parameters", nf);
    if (lanczos_iter < 1) return mn_fail(MN_EINVAL, "lanczos_iter %d must be positive", lanczos_iter);
    if (!(lanczos_tol > 0)) return mn_fail(MN_EINVAL, "lanczos_tol %g must be positive", lanczos_tol);
    return (int)nf <= max_dense ? dense_extremes(f, x, (int)nf, lmin, lmax)
                                : lanczos_extremes(f, x, (int)nf, lanczos_iter, lanczos_tol, lmin, lmax);
}
