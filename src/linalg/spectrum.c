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
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

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

/* Lanczos route (see the top of the file). */
static mn_status lanczos_extremes(const mn_objective *f, const double *x, int nf, int lanczos_iter,
                                  double lanczos_tol, double *lmin, double *lmax)
{
    const size_t P = f->n;
    const int kmax = mn_lanczos_steps((size_t)nf, lanczos_iter);
    mn_status st0 = mn_mem_check(lanczos_doubles(P, (size_t)nf, kmax) * sizeof(double), "Lanczos");
    if (st0) return st0;
    int *idx = malloc((size_t)nf * sizeof *idx);
    double *q = malloc((size_t)kmax * nf * sizeof *q);         /* Lanczos vectors (kmax x nf) */
    double *v = calloc(2 * P, sizeof *v), *hv = v ? v + P : NULL; /* full-length scratch (P) */
    double *w = malloc((size_t)nf * sizeof *w);
    double *alpha = malloc(5 * (size_t)kmax * sizeof *alpha);
    double *z = malloc((size_t)kmax * kmax * sizeof *z);
    if (!idx || !q || !v || !w || !alpha || !z) {
        free(idx), free(q), free(v), free(w), free(alpha), free(z);
        return mn_fail(MN_ENOMEM, "out of memory for Lanczos (%d x %d vectors)", kmax, nf);
    }
    double *beta = alpha + kmax, *d = beta + kmax, *e = d + kmax, *coef = e + kmax;
    for (size_t i = 0, j = 0; i < P; i++)
        if (!f->mask || f->mask[i]) idx[j++] = (int)i;
    mn_rng r;
    mn_rng_seed(&r, MN_LANCZOS_SEED);
    double nrm = 0;
    for (int i = 0; i < nf; i++) q[i] = mn_rng_normal(&r), nrm += q[i] * q[i];
    nrm = sqrt(nrm);
    for (int i = 0; i < nf; i++) q[i] /= nrm;
    mn_status st = MN_OK;
    double tmin = NAN, tmax = NAN;
    for (int k = 0; k < kmax && !st; k++) {
        const double *qk = q + (size_t)k * nf;
        for (int i = 0; i < nf; i++) v[idx[i]] = qk[i];
        st = mn_objective_hvp(f, x, v, hv);
        if (st) break;
        for (int i = 0; i < nf; i++) w[i] = hv[idx[i]];
        double a = 0;
        for (int i = 0; i < nf; i++) a += qk[i] * w[i];
        alpha[k] = a;
        /* Full reorthogonalisation, twice ("twice is enough"). */
        for (int pass = 0; pass < 2; pass++) {
            for (int j = 0; j <= k; j++) {
                const double *qj = q + (size_t)j * nf;
                double c = 0;
                for (int i = 0; i < nf; i++) c += qj[i] * w[i];
                coef[j] = c;
            }
            for (int j = 0; j <= k; j++) {
                const double *qj = q + (size_t)j * nf;
                for (int i = 0; i < nf; i++) w[i] -= coef[j] * qj[i];
            }
        }
        double b = 0;
        for (int i = 0; i < nf; i++) b += w[i] * w[i];
        b = sqrt(b);
        beta[k] = b;
        /* Ritz values of T_{k+1}: alpha[0..k] on the diagonal, beta[0..k-1] off it. */
        const int m = k + 1;
        memcpy(d, alpha, (size_t)m * sizeof *d);
        memcpy(e, beta, (size_t)k * sizeof *e);
        lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', m, d, e, z, m);
        if (info != 0) {
            st = mn_fail(MN_ELAPACK, "LAPACKE_dstev failed in Lanczos (info = %d)", (int)info);
            break;
        }
        tmin = d[0], tmax = d[m - 1];
        /* Residual of Ritz pair i: beta_k * |last component of its eigenvector|. */
        const double rmin = b * fabs(z[(size_t)(m - 1)]);                     /* z(m-1, 0) */
        const double rmax = b * fabs(z[(size_t)(m - 1) + (size_t)(m - 1) * m]); /* z(m-1, m-1) */
        const double scale = fmax(1.0, fmax(fabs(tmin), fabs(tmax)));
        if (b <= 1e-14 * scale) break; /* invariant subspace: Ritz values exact */
        if (rmin <= lanczos_tol * scale && rmax <= lanczos_tol * scale) break;
        if (k + 1 < kmax) {
            double *qn = q + (size_t)(k + 1) * nf;
            for (int i = 0; i < nf; i++) qn[i] = w[i] / b;
        }
    }
    if (!st) *lmin = tmin, *lmax = tmax;
    free(idx), free(q), free(v), free(w), free(alpha), free(z);
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
