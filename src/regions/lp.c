/* The linear program of a region (minima/regions.h) by GLPK's simplex, with
 * the sign rows added as cuts.
 *
 *   max t  s.t.  sum_j v_j A_ij x~_i . w_j (+ c) = target_i     (n rows, always present)
 *                s_ij x~_i . w_j - t >= 0                        (n d1 sign rows, s_ij = 2 A_ij - 1)
 *                0 <= t <= 1;  w_j = (w_j, b_j), c free.
 *
 * All n d1 sign rows at once make a 10,000-row basis at n = d1 = 100, and
 * seconds per LP. Most rows are slack at the optimum, so they are added
 * only when violated: solve with the rows present (a relaxation), add the
 * most violated sign rows, re-solve by the dual simplex from the previous
 * basis; stop when every sign row holds. Exact, not a heuristic: an
 * infeasible relaxation means an infeasible LP, and an optimum of the
 * relaxation that satisfies every row is an optimum of the LP. */
#include "minima.h"
#include "minima/regions.h"

#include <glpk.h>
#include <math.h>
#include <stdlib.h>

/* Column of weight k (0..d0, d0 = bias) of unit j; GLPK counts from 1. */
#define COL(j, k) (1 + (j) * (d0 + 1) + (k))

typedef struct {
    double viol; /* how far the row is violated, relative to its scale */
    int row;     /* i * d1 + j */
} cut;

static int cmp_cut(const void *a, const void *b)
{
    const cut *x = a, *y = b;
    if (x->viol != y->viol) return x->viol > y->viol ? -1 : 1;
    return x->row - y->row; /* ties in index order: deterministic */
}

mn_status mn_region_lp(mn_region_lp_result *out, double *wb, const unsigned char *A, const double *X, int n,
                       int d0, const double *v, int d1, int out_bias, const double *target)
{
    if (n < 1 || n > MN_REGION_MAX_N || d0 < 1 || d0 > MN_MAX_WIDTH || d1 < 1 || d1 > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "region lp: sizes n = %d, d0 = %d, d1 = %d out of range", n, d0, d1);
    for (int i = 0; i < n; i++)
        if (!isfinite(target[i])) return mn_fail(MN_EINVAL, "region lp: target %d is not finite", i);
    const int p = d1 * (d0 + 1), cb = p + 1, ct = p + 1 + (out_bias != 0);
    const int nrows = n * d1, batch = 2 * (p + 2) > 200 ? 2 * (p + 2) : 200;
    const size_t rowlen = (size_t)d1 * (d0 + 1) + 2;
    int *ind = malloc((rowlen + 1) * sizeof *ind);
    double *val = malloc((rowlen + 1) * sizeof *val), *x = malloc((size_t)(ct + 1) * sizeof *x);
    unsigned char *added = calloc((size_t)nrows, 1);
    cut *cuts = malloc((size_t)nrows * sizeof *cuts);
    if (!ind || !val || !x || !added || !cuts) {
        free(ind), free(val), free(x), free(added), free(cuts);
        return mn_fail(MN_ENOMEM, "region lp: out of memory (n = %d, width = %d)", n, d1);
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MAX);
    glp_add_cols(lp, ct);
    for (int c = 1; c < ct; c++) glp_set_col_bnds(lp, c, GLP_FR, 0.0, 0.0);
    glp_set_col_bnds(lp, ct, GLP_DB, 0.0, 1.0);
    glp_set_obj_coef(lp, ct, 1.0);
    glp_add_rows(lp, n);
    for (int i = 0; i < n; i++) {
        int len = 0;
        for (int j = 0; j < d1; j++)
            if (A[(size_t)i * d1 + j] && v[j] != 0.0)
                for (int k = 0; k <= d0; k++) {
                    double xk = k < d0 ? X[(size_t)i * d0 + k] : 1.0;
                    if (xk != 0.0) ++len, ind[len] = COL(j, k), val[len] = v[j] * xk;
                }
        if (out_bias) ++len, ind[len] = cb, val[len] = 1.0;
        glp_set_mat_row(lp, 1 + i, len, ind, val);
        glp_set_row_bnds(lp, 1 + i, GLP_FX, target[i], target[i]);
    }
    glp_smcp prm;
    glp_init_smcp(&prm);
    prm.msg_lev = GLP_MSG_OFF;
    mn_status st = MN_OK;
    out->feasible = out->interior = 0;
    out->margin = NAN;
    for (;;) {
        int ret = glp_simplex(lp, &prm);
        if (ret != 0) {
            st = mn_fail(MN_ERANGE, "region lp: GLPK glp_simplex failed (code %d)", ret);
            break;
        }
        int status = glp_get_status(lp);
        if (status == GLP_NOFEAS) break; /* the relaxation, hence the LP, is infeasible */
        if (status != GLP_OPT) {
            st = mn_fail(MN_ERANGE, "region lp: GLPK ended with status %d (not optimal, not infeasible)", status);
            break;
        }
        for (int c = 1; c <= ct; c++) x[c] = glp_get_col_prim(lp, c);
        const double t = x[ct];
        int ncut = 0;
        for (int r = 0; r < nrows; r++) {
            if (added[r]) continue;
            const int i = r / d1, j = r % d1;
            double z = x[COL(j, d0)], scale = 1.0 + fabs(z);
            for (int k = 0; k < d0; k++) {
                double term = X[(size_t)i * d0 + k] * x[COL(j, k)];
                z += term, scale += fabs(term);
            }
            double m = (A[r] ? z : -z) - t;
            if (m < -1e-9 * scale) cuts[ncut++] = (cut){-m / scale, r};
        }
        if (!ncut) { /* every sign row holds: optimal for the LP */
            out->feasible = 1;
            out->margin = t;
            out->interior = t > MN_REGION_INTERIOR;
            if (wb)
                for (int c = 1; c <= p; c++) wb[c - 1] = x[c];
            break;
        }
        qsort(cuts, (size_t)ncut, sizeof *cuts, cmp_cut);
        if (ncut > batch) ncut = batch;
        int first = glp_add_rows(lp, ncut);
        for (int q = 0; q < ncut; q++) {
            const int r = cuts[q].row, i = r / d1, j = r % d1;
            const double s = A[r] ? 1.0 : -1.0;
            int len = 0;
            for (int k = 0; k <= d0; k++) {
                double xk = k < d0 ? X[(size_t)i * d0 + k] : 1.0;
                if (xk != 0.0) ++len, ind[len] = COL(j, k), val[len] = s * xk;
            }
            ++len, ind[len] = ct, val[len] = -1.0;
            glp_set_mat_row(lp, first + q, len, ind, val);
            glp_set_row_bnds(lp, first + q, GLP_LO, 0.0, 0.0);
            added[r] = 1;
        }
        prm.meth = GLP_DUALP; /* the old basis stays dual feasible: the dual simplex restarts from it */
    }
    glp_delete_prob(lp);
    free(ind), free(val), free(x), free(added), free(cuts);
    return st;
}
