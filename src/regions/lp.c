/* The linear program of a region (minima/regions.h) through GLPK's simplex. */
#include "minima.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>

/* Column of weight k (0..d0, d0 = bias) of unit j; GLPK counts from 1. */
#define COL(j, k) (1 + (j) * (d0 + 1) + (k))

mn_status mn_region_lp(mn_region_lp_result *out, double *wb, const unsigned char *A, const double *X, int n,
                       int d0, const double *v, int d1, int out_bias, const double *target)
{
    if (n < 1 || n > MN_REGION_MAX_N || d0 < 1 || d0 > MN_MAX_WIDTH || d1 < 1 || d1 > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "region lp: sizes n = %d, d0 = %d, d1 = %d out of range", n, d0, d1);
    for (int i = 0; i < n; i++)
        if (!isfinite(target[i])) return mn_fail(MN_EINVAL, "region lp: target %d is not finite", i);
    const int p = d1 * (d0 + 1), cb = p + 1, ct = p + 1 + (out_bias != 0), rows = n + n * d1;
    /* nonzeros: an equality row holds the active units' blocks (+ c), a
     * sign row one block and t */
    size_t nnz = (size_t)n * d1 * (d0 + 2) + (size_t)n;
    for (size_t e = 0; e < (size_t)n * d1; e++) nnz += A[e] ? (size_t)(d0 + 1) : 0;
    int *ia = malloc((nnz + 1) * sizeof *ia), *ja = malloc((nnz + 1) * sizeof *ja);
    double *ar = malloc((nnz + 1) * sizeof *ar);
    if (!ia || !ja || !ar) {
        free(ia), free(ja), free(ar);
        return mn_fail(MN_ENOMEM, "region lp: out of memory (%zu nonzeros)", nnz);
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_rows(lp, rows);
    glp_add_cols(lp, ct);
    for (int c = 1; c <= p; c++) glp_set_col_bnds(lp, c, GLP_FR, 0.0, 0.0);
    if (out_bias) glp_set_col_bnds(lp, cb, GLP_FR, 0.0, 0.0);
    glp_set_col_bnds(lp, ct, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(lp, ct, 1.0);
    size_t e = 0;
    for (int i = 0; i < n; i++) {
        const double *x = X + (size_t)i * d0;
        glp_set_row_bnds(lp, 1 + i, GLP_FX, target[i], target[i]);
        for (int j = 0; j < d1; j++) {
            int r = 1 + n + i * d1 + j;
            double sgn = A[(size_t)i * d1 + j] ? 1.0 : -1.0;
            glp_set_row_bnds(lp, r, GLP_LO, 0.0, 0.0);
            for (int k = 0; k <= d0; k++) {
                double xk = k < d0 ? x[k] : 1.0;
                if (A[(size_t)i * d1 + j]) ++e, ia[e] = 1 + i, ja[e] = COL(j, k), ar[e] = v[j] * xk;
                ++e, ia[e] = r, ja[e] = COL(j, k), ar[e] = sgn * xk;
            }
            ++e, ia[e] = r, ja[e] = ct, ar[e] = -1.0;
        }
        if (out_bias) ++e, ia[e] = 1 + i, ja[e] = cb, ar[e] = 1.0;
    }
    /* entries that are exactly 0 (x_ik = 0, v_j = 0) are not stored: GLPK
     * rejects none, but they would only cost time */
    size_t m = 0;
    for (size_t k = 1; k <= e; k++)
        if (ar[k] != 0.0) ++m, ia[m] = ia[k], ja[m] = ja[k], ar[m] = ar[k];
    glp_load_matrix(lp, (int)m, ia, ja, ar);
    free(ia), free(ja), free(ar);
    glp_smcp prm;
    glp_init_smcp(&prm);
    prm.msg_lev = GLP_MSG_OFF;
    prm.presolve = GLP_ON;
    int ret = glp_simplex(lp, &prm);
    mn_status st = MN_OK;
    out->feasible = out->interior = 0;
    out->margin = NAN;
    if (ret == GLP_ENOPFS) {
        /* the presolver proved the rows infeasible */
    } else if (ret != 0) {
        st = mn_fail(MN_ERANGE, "region lp: GLPK glp_simplex failed (code %d)", ret);
    } else if (glp_get_status(lp) == GLP_OPT) {
        out->feasible = 1;
        out->margin = glp_get_obj_val(lp);
        out->interior = out->margin > MN_REGION_INTERIOR;
        if (wb)
            for (int c = 1; c <= p; c++) wb[c - 1] = glp_get_col_prim(lp, c);
    } else if (glp_get_status(lp) != GLP_NOFEAS) {
        st = mn_fail(MN_ERANGE, "region lp: GLPK ended with status %d (not optimal, not infeasible)",
                     glp_get_status(lp));
    }
    glp_delete_prob(lp);
    return st;
}
