/* Activation regions: the pattern of a point, the Jacobian of the outputs in
 * the hidden layer, least squares inside a region, and the genuine-minimum
 * test built from them. */
#include "minima.h"
#include "minima/regions.h"

#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mn_region_pattern(unsigned char *A, const double *X, int n, int d0, const double *W, const double *b, int d1)
{
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d0;
        for (int j = 0; j < d1; j++) {
            const double *w = W + (size_t)j * d0;
            double z = b ? b[j] : 0.0;
            for (int k = 0; k < d0; k++) z += w[k] * x[k];
            A[(size_t)i * d1 + j] = z > 0.0;
        }
    }
}

void mn_region_jacobian(double *J, const unsigned char *A, const double *X, int n, int d0, const double *v, int d1)
{
    const size_t p = (size_t)d1 * (d0 + 1);
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d0;
        double *row = J + (size_t)i * p;
        for (int j = 0; j < d1; j++) {
            double *blk = row + (size_t)j * (d0 + 1), s = A[(size_t)i * d1 + j] ? v[j] : 0.0;
            for (int k = 0; k < d0; k++) blk[k] = s * x[k];
            blk[d0] = s;
        }
    }
}

mn_status mn_region_lsq(double *fit, double *loss, const unsigned char *A, const double *X, int n, int d0,
                        const double *v, int d1, int out_bias, const double *y)
{
    if (n < 1 || n > MN_REGION_MAX_N || d0 < 1 || d1 < 1 || d1 > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "region lsq: sizes n = %d, d0 = %d, d1 = %d out of range", n, d0, d1);
    const int p = d1 * (d0 + 1), q = p + (out_bias != 0), ld = n > q ? n : q;
    /* M (n x q) column-major: J then the ones column; rhs (max(n, q)) */
    double *M = malloc((size_t)n * q * sizeof *M), *rhs = calloc((size_t)ld, sizeof *rhs),
           *sv = malloc((size_t)(n < q ? n : q) * sizeof *sv), *J = malloc((size_t)n * p * sizeof *J);
    if (!M || !rhs || !sv || !J) {
        free(M), free(rhs), free(sv), free(J);
        return mn_fail(MN_ENOMEM, "region lsq: out of memory (%d x %d)", n, q);
    }
    mn_region_jacobian(J, A, X, n, d0, v, d1);
    for (int c = 0; c < p; c++)
        for (int i = 0; i < n; i++) M[(size_t)c * n + i] = J[(size_t)i * p + c];
    if (out_bias)
        for (int i = 0; i < n; i++) M[(size_t)p * n + i] = 1.0;
    memcpy(rhs, y, (size_t)n * sizeof *rhs);
    double *M0 = J; /* J is no longer needed: keep a copy of M to form the fit */
    if (n * (size_t)q > (size_t)n * p) {
        M0 = realloc(J, (size_t)n * q * sizeof *M0);
        if (!M0) {
            free(M), free(rhs), free(sv), free(J);
            return mn_fail(MN_ENOMEM, "region lsq: out of memory (%d x %d)", n, q);
        }
    }
    memcpy(M0, M, (size_t)n * q * sizeof *M0);
    lapack_int rank = 0;
    /* rcond: singular values below max(n, q) eps s_max count as zero, the
     * tolerance of mn_region_rank */
    lapack_int info = LAPACKE_dgelsd(LAPACK_COL_MAJOR, n, q, 1, M, n, rhs, ld, sv, (double)ld * DBL_EPSILON, &rank);
    mn_status st = MN_OK;
    if (info != 0) {
        st = mn_fail(MN_ELAPACK, "region lsq: LAPACKE_dgelsd failed (info = %d)", (int)info);
    } else {
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            double f = 0.0;
            for (int c = 0; c < q; c++) f += M0[(size_t)c * n + i] * rhs[c];
            fit[i] = f;
            s += 0.5 * (f - y[i]) * (f - y[i]);
        }
        *loss = s / n;
    }
    free(M), free(rhs), free(sv), free(M0);
    return st;
}

mn_status mn_region_genuine(mn_region_genuine_result *out, const unsigned char *A, const double *X, int n,
                            int d0, const double *v, int d1, int out_bias, const double *y)
{
    if (n < 1 || n > MN_REGION_MAX_N)
        return mn_fail(MN_EINVAL, "region genuine: n = %d out of range 1..%d", n, MN_REGION_MAX_N);
    double *fit = malloc((size_t)n * sizeof *fit);
    if (!fit) return mn_fail(MN_ENOMEM, "region genuine: out of memory");
    mn_region_lp_result lp;
    mn_status st = mn_region_lsq(fit, &out->loss, A, X, n, d0, v, d1, out_bias, y);
    if (!st) st = mn_region_lp(&lp, NULL, A, X, n, d0, v, d1, out_bias, fit);
    free(fit);
    if (st) return st;
    out->genuine = lp.interior;
    out->on_wall = lp.feasible && !lp.interior;
    out->margin = lp.margin;
    return MN_OK;
}
