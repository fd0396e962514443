/* Lanczos with full reorthogonalisation (see lanczos.h). Shapes: nf free
 * parameters, Q (kmax x nf) row-major, T_m tridiagonal with alpha on the
 * diagonal and beta off it.
 *
 * Determinism: the dot products run over i in one fixed order per thread
 * (four interleaved partial sums, added in a fixed order), and the threads
 * split the work by vector j (dots) or by entry i (updates), never a sum:
 * the same start gives the same bits whatever the number of threads. */
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/lanczos.h"

#define PAR_MIN 4096 /* free parameters from which the loops go parallel */

static double dot4(const double *restrict a, const double *restrict b, int n)
{
    double s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    int i = 0;
    for (; i + 4 <= n; i += 4) {
        s0 += a[i] * b[i];
        s1 += a[i + 1] * b[i + 1];
        s2 += a[i + 2] * b[i + 2];
        s3 += a[i + 3] * b[i + 3];
    }
    for (; i < n; i++) s0 += a[i] * b[i];
    return (s0 + s1) + (s2 + s3);
}

mn_status mn_lanczos_alloc(mn_lanczos **out, const mn_objective *f, int kmax)
{
    *out = NULL;
    const size_t n = f->n, nf = mn_objective_nfree(f);
    if (nf < 1) return mn_fail(MN_EINVAL, "Lanczos: no free parameter");
    if (nf > (size_t)INT32_MAX) return mn_fail(MN_EINVAL, "Lanczos: %zu free parameters", nf);
    if (kmax < 1) return mn_fail(MN_EINVAL, "Lanczos: %d steps", kmax);
    if ((size_t)kmax > nf) kmax = (int)nf;
    const double kd = kmax; /* q (kmax x nf), alpha.. (5 kmax), s (kmax^2), v (2n), w (nf + 2 kmax) */
    mn_status st0 = mn_mem_check((kd * nf + 7 * kd + kd * kd + 2.0 * n + nf) * sizeof(double), "Lanczos");
    if (st0) return st0;
    mn_lanczos *lz = calloc(1, sizeof *lz);
    if (!lz) return mn_fail(MN_ENOMEM, "out of memory for Lanczos");
    lz->nf = (int)nf, lz->kmax = kmax;
    const size_t k = (size_t)kmax;
    lz->idx = malloc(nf * sizeof *lz->idx);
    lz->q = malloc(k * nf * sizeof *lz->q);
    lz->alpha = malloc(5 * k * sizeof *lz->alpha);
    lz->s = malloc(k * k * sizeof *lz->s);
    lz->v = calloc(2 * n, sizeof *lz->v);
    lz->w = malloc((nf + 2 * k) * sizeof *lz->w);
    if (!lz->idx || !lz->q || !lz->alpha || !lz->s || !lz->v || !lz->w) {
        mn_lanczos_free(lz);
        return mn_fail(MN_ENOMEM, "out of memory for Lanczos (%d x %zu vectors, %.3g GB)", kmax, nf,
                       (double)k * (double)nf * 8e-9);
    }
    lz->beta = lz->alpha + k, lz->theta = lz->beta + k, lz->resid = lz->theta + k, lz->e = lz->resid + k;
    lz->hv = lz->v + n;
    lz->coef = lz->w + nf;
    for (size_t i = 0, j = 0; i < n; i++)
        if (!f->mask || f->mask[i]) lz->idx[j++] = (int)i;
    *out = lz;
    return MN_OK;
}

void mn_lanczos_free(mn_lanczos *lz)
{
    if (!lz) return;
    free(lz->idx), free(lz->q), free(lz->alpha), free(lz->s), free(lz->v), free(lz->w), free(lz->lock_coef);
    free(lz);
}

mn_status mn_lanczos_lock(mn_lanczos *lz, const double *y, int nlock)
{
    if (nlock > lz->lock_cap) {
        double *c = realloc(lz->lock_coef, (size_t)nlock * sizeof *c);
        if (!c) return mn_fail(MN_ENOMEM, "out of memory for %d locked Lanczos vectors", nlock);
        lz->lock_coef = c, lz->lock_cap = nlock;
    }
    lz->lock = nlock > 0 ? y : NULL, lz->nlock = nlock > 0 ? nlock : 0;
    return MN_OK;
}

/* One classical Gram-Schmidt pass: w -= R^T (R w) for the rows R (rows x nf). */
static void project_out(double *restrict w, const double *r, int rows, int nf, double *restrict c)
{
#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
    for (int j = 0; j < rows; j++) c[j] = dot4(r + (size_t)j * nf, w, nf);
    /* Blocks of entries, each with the j order fixed (row by row: contiguous reads). */
    const int nblk = (nf + 1023) / 1024;
#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
    for (int bk = 0; bk < nblk; bk++) {
        const int i0 = bk * 1024, i1 = i0 + 1024 < nf ? i0 + 1024 : nf;
        for (int j = 0; j < rows; j++) {
            const double cj = c[j], *restrict rj = r + (size_t)j * nf;
            for (int i = i0; i < i1; i++) w[i] -= cj * rj[i];
        }
    }
}

/* w -= Y^T (Y w) for the locked vectors, then w -= Q[0..k]^T (Q[0..k] w);
 * the pair twice ("twice is enough"). */
static void reorthogonalise(mn_lanczos *lz, double *w, int k)
{
    for (int pass = 0; pass < 2; pass++) {
        if (lz->nlock) project_out(w, lz->lock, lz->nlock, lz->nf, lz->lock_coef);
        if (k >= 0) project_out(w, lz->q, k + 1, lz->nf, lz->coef);
    }
}

mn_status mn_lanczos_run(mn_lanczos *lz, const mn_objective *f, const double *x, const double *start, int nlo,
                         int nhi, double tol)
{
    const int nf = lz->nf, kmax = lz->kmax;
    memcpy(lz->w, start, (size_t)nf * sizeof *lz->w);
    reorthogonalise(lz, lz->w, -1); /* into the complement of the locked vectors */
    const double nrm = sqrt(dot4(lz->w, lz->w, nf));
    if (!(nrm > 0) || !isfinite(nrm)) return mn_fail(MN_EINVAL, "Lanczos: start vector of norm %g", nrm);
    for (int i = 0; i < nf; i++) lz->q[i] = lz->w[i] / nrm;
    if (nlo > kmax) nlo = kmax;
    if (nhi > kmax) nhi = kmax;
    lz->m = 0;
    for (int k = 0; k < kmax; k++) {
        const double *qk = lz->q + (size_t)k * nf;
        for (int i = 0; i < nf; i++) lz->v[lz->idx[i]] = qk[i];
        mn_status st = mn_objective_hvp(f, x, lz->v, lz->hv);
        if (st) return st;
        for (int i = 0; i < nf; i++) lz->w[i] = lz->hv[lz->idx[i]];
        lz->alpha[k] = dot4(qk, lz->w, nf);
        reorthogonalise(lz, lz->w, k);
        const double b = sqrt(dot4(lz->w, lz->w, nf));
        lz->beta[k] = b;
        const int m = k + 1;
        lz->m = m;
        memcpy(lz->theta, lz->alpha, (size_t)m * sizeof *lz->theta);
        memcpy(lz->e, lz->beta, (size_t)k * sizeof *lz->e);
        lapack_int info = LAPACKE_dstev(LAPACK_COL_MAJOR, 'V', m, lz->theta, lz->e, lz->s, m);
        if (info != 0) return mn_fail(MN_ELAPACK, "LAPACKE_dstev failed in Lanczos (info = %d)", (int)info);
        for (int i = 0; i < m; i++) lz->resid[i] = b * fabs(lz->s[(size_t)i * m + (m - 1)]);
        const double scale = fmax(1.0, fmax(fabs(lz->theta[0]), fabs(lz->theta[m - 1])));
        if (b <= 1e-14 * scale) { /* invariant subspace: the Ritz values are exact */
            for (int i = 0; i < m; i++) lz->resid[i] = 0.0;
            break;
        }
        if (nlo + nhi > 0 && (nlo <= m && nhi <= m)) {
            int ok = 1;
            for (int i = 0; i < nlo && ok; i++) ok = lz->resid[i] <= tol * scale;
            for (int i = 0; i < nhi && ok; i++) ok = lz->resid[m - 1 - i] <= tol * scale;
            if (ok) break;
        }
        if (k + 1 < kmax) {
            double *qn = lz->q + (size_t)(k + 1) * nf;
            for (int i = 0; i < nf; i++) qn[i] = lz->w[i] / b;
        }
    }
    return MN_OK;
}

void mn_lanczos_ritz_free(const mn_lanczos *lz, int i, double *y)
{
    const int nf = lz->nf, m = lz->m;
    const double *si = lz->s + (size_t)i * m;
#pragma omp parallel for schedule(static) if (nf >= PAR_MIN)
    for (int r = 0; r < nf; r++) {
        double a = 0;
        for (int j = 0; j < m; j++) a += si[j] * lz->q[(size_t)j * nf + r];
        y[r] = a;
    }
}

void mn_lanczos_expand(const mn_lanczos *lz, const double *yf, double *y, size_t n)
{
    memset(y, 0, n * sizeof *y);
    for (int r = 0; r < lz->nf; r++) y[lz->idx[r]] = yf[r];
}
