/* The rank of a region's Jacobian: singular values with numpy's tolerance,
 * and borderline cases decided by an exact rank over a prime field. */
#include "minima.h"
#include "minima/regions.h"

#include <cblas.h>
#include <float.h>
#include <lapacke.h>
#include <math.h>
#include <stdlib.h>

#define Q 2147483647ULL /* 2^31 - 1, prime: products of two residues fit 64 bits */

static uint64_t pow_mod(uint64_t a, uint64_t e)
{
    uint64_t r = 1;
    for (; e; e >>= 1, a = a * a % Q)
        if (e & 1) r = r * a % Q;
    return r;
}

int mn_region_generic_rank(const unsigned char *A, int n, int d0, int d1, uint64_t seed)
{
    const size_t p = (size_t)d1 * (d0 + 1);
    uint64_t *M = malloc((size_t)n * p * sizeof *M), *x = malloc((size_t)n * d0 * sizeof *x);
    if (!M || !x) {
        free(M), free(x);
        return -1;
    }
    mn_rng r;
    mn_rng_seed(&r, seed);
    for (size_t k = 0; k < (size_t)n * d0; k++) x[k] = mn_rng_u64(&r) % Q;
    for (int i = 0; i < n; i++)
        for (int j = 0; j < d1; j++) {
            uint64_t *blk = M + (size_t)i * p + (size_t)j * (d0 + 1);
            int on = A[(size_t)i * d1 + j];
            for (int k = 0; k < d0; k++) blk[k] = on ? x[(size_t)i * d0 + k] : 0;
            blk[d0] = (uint64_t)on;
        }
    /* Gaussian elimination on the rows: rank = pivots found */
    int rank = 0;
    for (size_t c = 0; c < p && rank < n; c++) {
        int piv = -1;
        for (int i = rank; i < n && piv < 0; i++)
            if (M[(size_t)i * p + c]) piv = i;
        if (piv < 0) continue;
        uint64_t *pr = M + (size_t)piv * p, *rr = M + (size_t)rank * p;
        for (size_t k = c; k < p; k++) {
            uint64_t t = pr[k];
            pr[k] = rr[k];
            rr[k] = t;
        }
        uint64_t inv = pow_mod(rr[c], Q - 2);
        for (int i = rank + 1; i < n; i++) {
            uint64_t *ri = M + (size_t)i * p;
            if (!ri[c]) continue;
            uint64_t f = ri[c] * inv % Q;
            for (size_t k = c; k < p; k++) ri[k] = (ri[k] + (Q - f) * rr[k]) % Q;
        }
        rank++;
    }
    free(M), free(x);
    return rank;
}

/* The sure case from the Gram matrix G = J J^T (n x n), which is cheap to
 * form from the structure, G_ik = (x~_i . x~_k) sum_j v_j^2 A_ij A_kj
 * (n^2 (d1 + d0) flops, where the SVD of J costs 2 n^2 p): the two Gram
 * matrices B B^T (B = A diag(v), n x d1) and X X^T by BLAS dsyrk, then their
 * product entrywise (1 + x_i . x_k for the bias). Its computed
 * eigenvalues mu are within delta = 10 (n + p) eps trace(G) of sigma^2
 * (forming G and a backward stable eigensolver, generously bounded). When
 * mu_min - delta > (100 tol_hi)^2, tol_hi being the largest tolerance
 * sigma_max could give, the SVD would find s_n > 100 tol: rank n, not
 * borderline. Returns 1 then (out filled), 0 when unsure, -1 on failure. */
static int gram_sure(mn_rank_info *out, const unsigned char *A, const double *X, int n, int d0, const double *v,
                     int d1)
{
    const int p = d1 * (d0 + 1);
    double *G = malloc((size_t)n * n * sizeof *G), *mu = malloc((size_t)n * sizeof *mu),
           *B = malloc((size_t)n * d1 * sizeof *B), *XX = malloc((size_t)n * n * sizeof *XX);
    if (!G || !mu || !B || !XX) {
        free(G), free(mu), free(B), free(XX);
        return -1;
    }
    for (size_t e = 0; e < (size_t)n * d1; e++) B[e] = A[e] ? v[e % (size_t)d1] : 0.0;
    /* lower triangles, row-major */
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d1, 1.0, B, d1, 0.0, G, n);
    cblas_dsyrk(CblasRowMajor, CblasLower, CblasNoTrans, n, d0, 1.0, X, d0, 0.0, XX, n);
    free(B);
    double trace = 0.0;
    for (int i = 0; i < n; i++) {
        for (int k = 0; k <= i; k++) {
            const size_t ik = (size_t)i * n + k;
            G[ik] *= 1.0 + XX[ik];
            G[(size_t)k * n + i] = G[ik];
        }
        trace += G[(size_t)i * n + i];
    }
    free(XX);
    int sure = 0;
    if (trace > 0.0 && mn_sym_eigvals(mu, G, n) == MN_OK) {
        const double eps = DBL_EPSILON, delta = 10.0 * (n + p) * eps * trace;
        const double tol_hi = sqrt(mu[n - 1] + delta) * (double)(n > p ? n : p) * eps;
        if (mu[0] - delta > (MN_REGION_BORDER * tol_hi) * (MN_REGION_BORDER * tol_hi)) {
            sure = 1;
            *out = (mn_rank_info){.rank = n, .svd_rank = n, .smax = sqrt(mu[n - 1]), .smin = sqrt(mu[0]),
                                  .tol = sqrt(mu[n - 1]) * (double)(n > p ? n : p) * eps, .exact_rank = -1,
                                  .gram = 1};
        }
    }
    free(G), free(mu);
    return sure;
}

mn_status mn_region_rank(mn_rank_info *out, const unsigned char *A, const double *X, int n, int d0,
                         const double *v, int d1, uint64_t seed)
{
    if (n < 1 || n > MN_REGION_MAX_N || d0 < 1 || d0 > MN_MAX_WIDTH || d1 < 1 || d1 > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "region rank: sizes n = %d, d0 = %d, d1 = %d out of range", n, d0, d1);
    const int p = d1 * (d0 + 1), k = n < p ? n : p;
    if (p >= n) {
        int g = gram_sure(out, A, X, n, d0, v, d1);
        if (g < 0) return mn_fail(MN_ENOMEM, "region rank: out of memory (%d x %d Gram matrix)", n, n);
        if (g) return MN_OK;
    }
    double *J = malloc((size_t)n * p * sizeof *J), *s = malloc((size_t)k * sizeof *s);
    if (!J || !s) {
        free(J), free(s);
        return mn_fail(MN_ENOMEM, "region rank: out of memory (%d x %d)", n, p);
    }
    mn_region_jacobian(J, A, X, n, d0, v, d1);
    /* row-major J (n x p) is column-major J^T (p x n): same singular values,
     * no transposing copy */
    lapack_int info = LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', p, n, J, p, s, NULL, 1, NULL, 1);
    free(J);
    if (info != 0) {
        free(s);
        return mn_fail(MN_ELAPACK, "region rank: LAPACKE_dgesdd failed (info = %d)", (int)info);
    }
    out->smax = s[0];
    out->smin = k == n ? s[n - 1] : 0.0;
    out->tol = s[0] * (double)(n > p ? n : p) * DBL_EPSILON;
    out->svd_rank = 0;
    for (int i = 0; i < k; i++) out->svd_rank += s[i] > out->tol;
    free(s);
    out->rank = out->svd_rank;
    out->exact_rank = -1;
    out->gram = 0;
    out->borderline = k == n && out->smin >= out->tol / MN_REGION_BORDER && out->smin <= out->tol * MN_REGION_BORDER;
    if (out->borderline) {
        out->exact_rank = mn_region_generic_rank(A, n, d0, d1, seed);
        if (out->exact_rank < 0) return mn_fail(MN_ENOMEM, "region rank: out of memory (exact rank)");
        out->rank = out->exact_rank;
    }
    return MN_OK;
}
