/* The two max-margin predictors the implicit-bias experiment compares GD
 * with (minima/experiment.h):
 *   l2   the hard-margin SVM without bias, min (1/2)||beta||^2 s.t.
 *        y_i <x_i, beta> >= 1, by dual coordinate ascent: the dual
 *        max sum a - (1/2)||sum a_i y_i x_i||^2 over a >= 0 has only bound
 *        constraints (no bias: no equality), so each coordinate step is an
 *        exact clipped Newton step (Hsieh et al. 2008 with C = infinity).
 *        Checked by its KKT conditions, reported to the caller.
 *   l1-DFT  min sum_k |DFT(beta)_k| s.t. the same margins, an LP for GLPK
 *        with |z| replaced by the m-gon max_j Re(z e^{-i 2 pi j / m}),
 *        which lies in [cos(pi/m) |z|, |z|]. */
#include <glpk.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima/experiment.h"

#define TWO_PI 6.283185307179586476925286766559

static double dot(const double *a, const double *b, int d)
{
    double s = 0;
    for (int k = 0; k < d; k++) s += a[k] * b[k];
    return s;
}

mn_status mn_svm_hard_margin(double *beta, mn_svm_kkt *kkt, const double *x, const double *y, int n, int d)
{
    if (n < 1 || d < 1) return mn_fail(MN_EINVAL, "svm: %d samples of %d features", n, d);
    double *a = calloc((size_t)n, sizeof *a), *q = malloc((size_t)n * sizeof *q);
    if (!a || !q) {
        free(a), free(q);
        return mn_fail(MN_ENOMEM, "svm: out of memory (%d samples)", n);
    }
    mn_status st = MN_OK;
    for (int i = 0; i < n && !st; i++) {
        q[i] = dot(x + (size_t)i * d, x + (size_t)i * d, d);
        if (!(q[i] > 0) || (y[i] != 1 && y[i] != -1)) st = mn_fail(MN_EINVAL, "svm: sample %d is zero or its label is not -1/+1", i);
    }
    memset(beta, 0, (size_t)d * sizeof *beta);
    long sweep = 0;
    double viol = INFINITY;
    /* sweeps until the largest projected-gradient violation of the dual is
     * below 1e-13 (margins are O(1)); 10^6 sweeps at most */
    for (; !st && sweep < 1000000 && viol > 1e-13; sweep++) {
        viol = 0;
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * d;
            const double g = y[i] * dot(xi, beta, d) - 1; /* minus the dual gradient */
            const double pg = a[i] > 0 ? fabs(g) : fmax(-g, 0);
            viol = fmax(viol, pg);
            const double na = fmax(0, a[i] - g / q[i]);
            if (na != a[i]) {
                const double s = (na - a[i]) * y[i];
                for (int k = 0; k < d; k++) beta[k] += s * xi[k];
                a[i] = na;
            }
        }
    }
    if (!st) { /* beta afresh from a (no drift from the updates), then the KKT conditions */
        memset(beta, 0, (size_t)d * sizeof *beta);
        double asum = 0;
        for (int i = 0; i < n; i++) {
            for (int k = 0; k < d; k++) beta[k] += a[i] * y[i] * x[(size_t)i * d + k];
            asum += a[i];
        }
        kkt->sweeps = sweep;
        kkt->min_margin = INFINITY, kkt->slackness = 0, kkt->support = 0;
        for (int i = 0; i < n; i++) {
            const double m = y[i] * dot(x + (size_t)i * d, beta, d);
            kkt->min_margin = fmin(kkt->min_margin, m);
            kkt->slackness = fmax(kkt->slackness, a[i] * fabs(m - 1));
            kkt->support += a[i] > 0;
        }
        const double bb = dot(beta, beta, d);
        kkt->norm = sqrt(bb);
        kkt->gap = bb > 0 ? fabs(bb - asum) / bb : INFINITY; /* primal - dual = ||beta||^2 - sum a */
        if (!(kkt->min_margin >= 1 - 1e-9) || !(kkt->gap <= 1e-9))
            st = mn_fail(MN_ERANGE, "svm: no hard-margin solution after %ld sweeps (min margin %.3g, duality gap %.3g): "
                                    "the data are not linearly separable through the origin",
                         sweep, kkt->min_margin, kkt->gap);
    }
    free(a), free(q);
    return st;
}

void mn_dft_abs(double *mag, const double *beta, int d)
{
    for (int k = 0; k < d; k++) {
        double re = 0, im = 0;
        for (int j = 0; j < d; j++) {
            const double t = TWO_PI * (double)((long)k * j % d) / d;
            re += beta[j] * cos(t), im -= beta[j] * sin(t);
        }
        mag[k] = hypot(re, im);
    }
}

mn_status mn_l1dft_margin(double *beta, mn_l1dft_info *info, const double *x, const double *y, int n, int d, int m)
{
    if (n < 1 || d < 1 || m < 4) return mn_fail(MN_EINVAL, "l1-dft lp: %d samples, %d features, %d directions (>= 4)", n, d, m);
    /* columns 1..d: beta (free); d+1..2d: t_k >= 0. Rows: n margins, then d m facets
     * t_k - sum_j cos(theta + 2 pi k j / d) beta_j >= 0 (Re(DFT_k e^{-i theta}) <= t_k). */
    int *ind = malloc((size_t)(d + 2) * sizeof *ind);
    double *val = malloc((size_t)(d + 2) * sizeof *val), *mag = malloc((size_t)d * sizeof *mag);
    if (!ind || !val || !mag) {
        free(ind), free(val), free(mag);
        return mn_fail(MN_ENOMEM, "l1-dft lp: out of memory (%d features)", d);
    }
    glp_prob *lp = glp_create_prob();
    glp_set_obj_dir(lp, GLP_MIN);
    glp_add_cols(lp, 2 * d);
    for (int c = 1; c <= d; c++) glp_set_col_bnds(lp, c, GLP_FR, 0, 0);
    for (int c = d + 1; c <= 2 * d; c++) glp_set_col_bnds(lp, c, GLP_LO, 0, 0), glp_set_obj_coef(lp, c, 1);
    glp_add_rows(lp, n + d * m);
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < d; j++) ind[1 + j] = 1 + j, val[1 + j] = y[i] * x[(size_t)i * d + j];
        glp_set_mat_row(lp, 1 + i, d, ind, val);
        glp_set_row_bnds(lp, 1 + i, GLP_LO, 1, 0);
    }
    for (int k = 0; k < d; k++)
        for (int q = 0; q < m; q++) {
            const double th = TWO_PI * q / m;
            for (int j = 0; j < d; j++) ind[1 + j] = 1 + j, val[1 + j] = -cos(th + TWO_PI * (double)((long)k * j % d) / d);
            ind[1 + d] = d + 1 + k, val[1 + d] = 1;
            const int row = n + k * m + q + 1;
            glp_set_mat_row(lp, row, d + 1, ind, val);
            glp_set_row_bnds(lp, row, GLP_LO, 0, 0);
        }
    glp_smcp prm;
    glp_init_smcp(&prm);
    prm.msg_lev = GLP_MSG_OFF;
    prm.presolve = GLP_ON;
    mn_status st = MN_OK;
    const int ret = glp_simplex(lp, &prm);
    if (ret) st = mn_fail(MN_ERANGE, "l1-dft lp: GLPK glp_simplex failed (code %d)", ret);
    else if (glp_get_status(lp) != GLP_OPT)
        st = mn_fail(MN_ERANGE, "l1-dft lp: no optimum (GLPK status %d): the data are not linearly separable through the origin",
                     glp_get_status(lp));
    if (!st) {
        for (int j = 0; j < d; j++) beta[j] = glp_get_col_prim(lp, 1 + j);
        mn_dft_abs(mag, beta, d);
        info->lower = glp_get_obj_val(lp);
        info->upper = 0;
        for (int k = 0; k < d; k++) info->upper += mag[k];
        info->bound = 1 / cos((TWO_PI / 2) / m);
        info->min_margin = INFINITY;
        for (int i = 0; i < n; i++) info->min_margin = fmin(info->min_margin, y[i] * dot(x + (size_t)i * d, beta, d));
    }
    glp_delete_prob(lp);
    free(ind), free(val), free(mag);
    return st;
}
