/* Certification of an end point: loss, free-gradient norm, the extreme
 * eigenvalues of the free-parameter Hessian, the ReLU kink margin, and a
 * class (global / spurious / saddle / degenerate / not-converged / diverged).
 *
 * Spectrum. Up to opts->max_dense free parameters the Hessian is formed
 * exactly (P exact Hessian-vector products, symmetrised) and all its
 * eigenvalues computed by LAPACK. Beyond, Lanczos on exact Hessian-vector
 * products (mn_hvp) gives the two extreme eigenvalues:
 *   - start vector: standard normal entries from xoshiro seeded with
 *     MN_LANCZOS_SEED, restricted to the free parameters, normalised, so
 *     the same point always gives the same numbers;
 *   - full reorthogonalisation (classical Gram-Schmidt, applied twice) against
 *     every earlier Lanczos vector, so no ghost eigenvalues appear and the
 *     memory is lanczos_iter x nfree doubles;
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
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"

#define MN_LANCZOS_SEED 0x4c616e637a6f73ULL /* "Lanczos" */

const char *mn_class_name(mn_class c)
{
    switch (c) {
    case MN_CLASS_GLOBAL: return "global";
    case MN_CLASS_SPURIOUS: return "spurious";
    case MN_CLASS_SADDLE: return "saddle";
    case MN_CLASS_DEGENERATE: return "degenerate";
    case MN_CLASS_NOT_CONVERGED: return "not-converged";
    case MN_CLASS_DIVERGED: return "diverged";
    }
    return "unknown";
}

void mn_cert_opts_default(mn_cert_opts *o)
{
    o->gtol = 1e-6;
    o->eig_tol = 1e-8;
    o->global_loss = 0.0;
    o->global_tol = 1e-6;
    o->zero_error = 0;
    o->max_dense = 2000;
    o->kink_tol = 1e-6;
    o->lanczos_iter = 300;
    o->lanczos_tol = 1e-10;
    o->elim_tol = 1e-4;
}

/* Dense route: the free block of the exact Hessian, all eigenvalues. */
static mn_status dense_extremes(const mn_model *model, mn_work *work, const mn_data *data,
                                const double *theta, const unsigned char *mask, int nf, double *lmin,
                                double *lmax)
{
    const size_t P = mn_model_nparams(model);
    /* mn_hessian needs P x P; with many frozen parameters the free columns
     * alone (one exact product each) are cheaper in memory. */
    const int by_column = (size_t)nf < P && P > 4096;
    double *hess = malloc((by_column ? 2 * P : P * P) * sizeof *hess);
    double *sub = malloc((size_t)nf * nf * sizeof *sub);
    double *ev = malloc((size_t)nf * sizeof *ev);
    mn_status st = hess && sub && ev ? MN_OK
                                     : mn_fail(MN_ENOMEM, "out of memory for a %d x %d Hessian", nf, nf);
    if (!st && !by_column) {
        st = mn_hessian(model, work, data, theta, hess);
        if (!st) mn_restrict(sub, hess, mask, (int)P);
    } else if (!st) {
        double *e = hess, *col = hess + P;
        memset(e, 0, P * sizeof *e);
        for (size_t i = 0, c = 0; i < P && !st; i++) {
            if (!mask[i]) continue;
            e[i] = 1.0;
            st = mn_hvp(model, work, data, theta, e, col, NULL, NULL);
            e[i] = 0.0;
            for (size_t j = 0, r = 0; j < P; j++)
                if (mask[j]) sub[r++ * nf + c] = col[j];
            c++;
        }
        for (int i = 0; i < nf; i++) /* symmetrise as mn_hessian does */
            for (int j = i + 1; j < nf; j++) {
                double a = 0.5 * (sub[(size_t)i * nf + j] + sub[(size_t)j * nf + i]);
                sub[(size_t)i * nf + j] = sub[(size_t)j * nf + i] = a;
            }
    }
    if (!st) st = mn_sym_eigvals(ev, sub, nf);
    if (!st) *lmin = ev[0], *lmax = ev[nf - 1];
    free(hess), free(sub), free(ev);
    return st;
}

/* Lanczos route (see the top of the file). */
static mn_status lanczos_extremes(const mn_model *model, mn_work *work, const mn_data *data,
                                  const double *theta, const unsigned char *mask, int nf,
                                  const mn_cert_opts *o, double *lmin, double *lmax)
{
    const size_t P = mn_model_nparams(model);
    const int kmax = o->lanczos_iter < nf ? o->lanczos_iter : nf;
    if (kmax < 1) return mn_fail(MN_EINVAL, "lanczos_iter %d must be positive", o->lanczos_iter);
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
        if (mask[i]) idx[j++] = (int)i;
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
        st = mn_hvp(model, work, data, theta, v, hv, NULL, NULL);
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
        if (rmin <= o->lanczos_tol * scale && rmax <= o->lanczos_tol * scale) break;
        if (k + 1 < kmax) {
            double *qn = q + (size_t)(k + 1) * nf;
            for (int i = 0; i < nf; i++) qn[i] = w[i] / b;
        }
    }
    if (!st) *lmin = tmin, *lmax = tmax;
    free(idx), free(q), free(v), free(w), free(alpha), free(z);
    return st;
}

mn_status mn_certify(mn_cert *out, const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, int diverged, const mn_cert_opts *opts)
{
    mn_cert_opts def;
    if (!opts) mn_cert_opts_default(&def), opts = &def;
    *out = (mn_cert){.cls = MN_CLASS_DIVERGED, .loss = NAN, .gnorm = NAN, .lambda_min = NAN,
                     .lambda_max = NAN, .kink_margin = NAN, .near_kink = 0, .accuracy = NAN,
                     .elim_activity = NAN};
    if (!(opts->gtol >= 0) || !(opts->eig_tol >= 0) || !(opts->global_tol >= 0) || !isfinite(opts->global_loss) ||
        !(opts->kink_tol >= 0) || opts->max_dense < 0 || opts->lanczos_iter < 1 || !(opts->lanczos_tol > 0) ||
        !(opts->elim_tol >= 0))
        return mn_fail(MN_EINVAL, "certification tolerances must be non-negative and finite");
    const size_t P = mn_model_nparams(model);
    unsigned char *mask = malloc(P);
    double *grad = malloc(P * sizeof *grad);
    if (!mask || !grad) {
        free(mask), free(grad);
        return mn_fail(MN_ENOMEM, "out of memory in mn_certify");
    }
    mn_model_free_mask(model, mask);
    int nf = 0;
    for (size_t i = 0; i < P; i++) nf += mask[i] != 0;
    int finite = 1;
    for (size_t i = 0; i < P; i++) finite &= isfinite(theta[i]) != 0;
    mn_status st = finite ? mn_eval(model, work, data, theta, &out->loss, grad) : MN_ERANGE;
    if (st == MN_ERANGE || !finite) {
        /* A non-finite value at the point: diverged whatever the caller says. */
        out->loss = NAN;
        free(mask), free(grad);
        return MN_OK;
    }
    if (st) goto done;
    out->gnorm = mn_norm2(grad, P, mask); /* scaled: finite whenever the norm is */
    st = mn_kink_margin(model, work, data, theta, &out->kink_margin);
    if (st) goto done;
    out->near_kink = out->kink_margin <= opts->kink_tol;
    if (mn_model_spec(model)->loss != MN_LOSS_SQUARED) {
        st = mn_accuracy(model, work, data, theta, &out->accuracy);
        if (st) goto done;
    }
    st = mn_elim_activity(&out->elim_activity, model, data, theta);
    if (st) goto done;
    /* cls stays DIVERGED, the evidence above filled in: the caller says so, or
     * the gradient norm is past DBL_MAX (its components finite). */
    if (diverged || !isfinite(out->gnorm)) goto done;
    const int active = mn_model_spec(model)->lambda > 0 && !(out->elim_activity <= opts->elim_tol);
    if (active) { /* near no minimum of the augmented loss (see the header) */
        out->cls = MN_CLASS_NOT_CONVERGED;
        goto done;
    }
    const int is_global = out->loss <= opts->global_loss + opts->global_tol ||
                          (opts->zero_error && out->accuracy == 1.0);
    const int stationary = out->gnorm <= opts->gtol;
    /* The spectrum is computed whenever it can inform the class (a stationary
     * point) or certify a global one; a point that is neither is left NaN. */
    if (nf > 0 && (stationary || is_global)) {
        st = nf <= opts->max_dense
                 ? dense_extremes(model, work, data, theta, mask, nf, &out->lambda_min, &out->lambda_max)
                 : lanczos_extremes(model, work, data, theta, mask, nf, opts, &out->lambda_min,
                                    &out->lambda_max);
        if (st) goto done;
    }
    if (is_global)
        out->cls = MN_CLASS_GLOBAL;
    else if (!stationary)
        out->cls = MN_CLASS_NOT_CONVERGED;
    else if (nf == 0)
        out->cls = MN_CLASS_DEGENERATE; /* nothing free: no curvature to certify */
    else if (out->lambda_min < -opts->eig_tol)
        out->cls = MN_CLASS_SADDLE;
    else if (out->lambda_min > opts->eig_tol)
        out->cls = MN_CLASS_SPURIOUS;
    else
        out->cls = MN_CLASS_DEGENERATE;
done:
    free(mask), free(grad);
    return st;
}
