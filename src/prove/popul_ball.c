/* The Safran-Shamir population loss, its gradient and its Hessian in ball
 * arithmetic (Arb), over a box of weights. Re-derived here, independent of
 * the float kernel (src/popul/kernel.c), which the tests compare against.
 *
 * Kernel: g(u, v) = E[relu(u.x) relu(v.x)] = |u||v| (s + (pi - t) c) / 2pi,
 * c = cos t = u^.v^, s = sin t, t = angle(u, v); g(u, u) = |u|^2 / 2.
 *   F = 1/2 sum_i |w_i|^2 / 2 + sum_{i<j} g(w_i, w_j) - sum_{i,l} g(w_i, e_l) + F_tt,
 *   F_tt = 1/2 sum_{l,m} g(e_l, e_m) = k/4 + k(k - 1) / (4 pi).
 * Gradient: dg/du = G(u, v) = (|v| s u^ + (pi - t) v) / 2pi, so
 *   dF/dw_i = w_i / 2 + sum_{j != i} G(w_i, w_j) - sum_l G(w_i, e_l).
 * Hessian, with q = v^ - c u^ and p = u^ - c v^ (|q| = |p| = s):
 *   dG/du = |v| / (2 pi |u|) [s (I - u^u^T) + q q^T / s]        (h1)
 *   dG/dv = (1 / 2pi) [(pi - t) I + s u^ v^T + q p^T / s]       (h2)
 * (dt/du = -q / (s |u|), d(s)/du = c dt/du, d(u^)/du = (I - u^u^T) / |u|,
 * v = |v| (c u^ + q)), so
 *   block (i, i) = I/2 + sum_{j != i} h1(w_i, w_j) - sum_l h1(w_i, e_l),
 *   block (i, j) = h2(w_i, w_j).
 * Every formula is evaluated on balls, so it encloses the exact value over
 * the whole box; the 1/s and 1/|u| factors need the box to avoid parallel
 * pairs and zero units, which pv_box_set proves (or refuses). */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "prove/internal.h"

#define PREC MN_PROVE_PREC

void pv_box_init(pv_box *b, int n, int k)
{
    b->n = n, b->k = k;
    const slong m = (slong)n * (n + k);
    b->W = _arb_vec_init((slong)n * k);
    b->U = _arb_vec_init((slong)n * k);
    b->nrm2 = _arb_vec_init(n);
    b->nrm = _arb_vec_init(n);
    b->cs = _arb_vec_init(m);
    b->sn = _arb_vec_init(m);
    b->pt = _arb_vec_init(m);
    arb_init(b->pi), arb_init(b->inv2pi);
    arb_const_pi(b->pi, PREC);
    arb_mul_2exp_si(b->inv2pi, b->pi, 1);
    arb_inv(b->inv2pi, b->inv2pi, PREC);
}

void pv_box_clear(pv_box *b)
{
    const slong m = (slong)b->n * (b->n + b->k);
    _arb_vec_clear(b->W, (slong)b->n * b->k);
    _arb_vec_clear(b->U, (slong)b->n * b->k);
    _arb_vec_clear(b->nrm2, b->n);
    _arb_vec_clear(b->nrm, b->n);
    _arb_vec_clear(b->cs, m), _arb_vec_clear(b->sn, m), _arb_vec_clear(b->pt, m);
    arb_clear(b->pi), arb_clear(b->inv2pi);
}

/* c in (-1, 1) for every value of the ball? */
static int inside_unit(const arb_t c)
{
    arb_t one;
    arb_init(one);
    arb_one(one);
    int ok = arb_lt(c, one);
    arb_neg(one, one);
    ok = ok && arb_gt(c, one);
    arb_clear(one);
    return ok;
}

/* s = sqrt((1 - c)(1 + c)), pi - t = pi - acos c, for c inside (-1, 1). */
static void angle(arb_t s, arb_t pt, const arb_t c, const arb_t pi)
{
    arb_t a, b;
    arb_init(a), arb_init(b);
    arb_sub_si(a, c, 1, PREC);
    arb_neg(a, a);
    arb_add_si(b, c, 1, PREC);
    arb_mul(a, a, b, PREC);
    arb_sqrt(s, a, PREC);
    arb_acos(b, c, PREC);
    arb_sub(pt, pi, b, PREC);
    arb_clear(a), arb_clear(b);
}

int pv_box_set(pv_box *b, const double *c, double r, int *zero, char *why, size_t len)
{
    const int n = b->n, k = b->k, m = n + k;
    *zero = 0;
    for (int e = 0; e < n * k; e++) {
        arb_set_d(b->W + e, c[e]);
        mag_set_d(arb_radref(b->W + e), r);
    }
    for (int i = 0; i < n; i++) {
        /* arb_sqr, not x * x: the square of a ball that contains 0 is >= 0 */
        arb_zero(b->nrm2 + i);
        for (int l = 0; l < k; l++) {
            arb_t sq;
            arb_init(sq);
            arb_sqr(sq, b->W + i * k + l, PREC);
            arb_add(b->nrm2 + i, b->nrm2 + i, sq, PREC);
            arb_clear(sq);
        }
        if (!arb_is_positive(b->nrm2 + i)) {
            *zero = 1;
            snprintf(why, len, "unit %d is zero", i + 1);
            return 1;
        }
        arb_sqrt(b->nrm + i, b->nrm2 + i, PREC);
        for (int l = 0; l < k; l++) arb_div(b->U + i * k + l, b->W + i * k + l, b->nrm + i, PREC);
    }
    for (int i = 0; i < n; i++) {
        for (int j = 0; j < m; j++) {
            if (j == i || (j < n && j < i)) continue; /* pairs once, mirrored below */
            arb_ptr cij = b->cs + i * m + j;
            if (j < n) arb_dot(cij, NULL, 0, b->U + i * k, 1, b->U + j * k, 1, k, PREC);
            else arb_set(cij, b->U + i * k + (j - n));
            if (!inside_unit(cij)) {
                const char *rel = arf_sgn(arb_midref(cij)) > 0 ? "parallel" : "antiparallel";
                if (j < n) snprintf(why, len, "units %d and %d are %s", i + 1, j + 1, rel);
                else snprintf(why, len, "unit %d is %s to teacher unit %d", i + 1, rel, j - n + 1);
                return 1;
            }
            angle(b->sn + i * m + j, b->pt + i * m + j, cij, b->pi);
            if (j < n) {
                arb_set(b->cs + j * m + i, cij);
                arb_set(b->sn + j * m + i, b->sn + i * m + j);
                arb_set(b->pt + j * m + i, b->pt + i * m + j);
            }
        }
    }
    return 0;
}

void pv_value(arb_t F, const pv_box *b)
{
    const int n = b->n, k = b->k, m = n + k;
    arb_t acc, kap, t;
    arb_init(acc), arb_init(kap), arb_init(t);
    /* 1/2 sum_i g(w_i, w_i) = sum_i |w_i|^2 / 4 */
    arb_zero(acc);
    for (int i = 0; i < n; i++) arb_add(acc, acc, b->nrm2 + i, PREC);
    arb_mul_2exp_si(F, acc, -2);
    /* sum_{i<j} |w_i||w_j| kappa - sum_{i,l} |w_i| kappa, all over 2 pi */
    arb_zero(acc);
    for (int i = 0; i < n; i++)
        for (int j = i + 1; j < m; j++) {
            const int e = i * m + j;
            arb_mul(kap, b->pt + e, b->cs + e, PREC);
            arb_add(kap, kap, b->sn + e, PREC);
            arb_mul(kap, kap, b->nrm + i, PREC);
            if (j < n) arb_addmul(acc, kap, b->nrm + j, PREC);
            else arb_sub(acc, acc, kap, PREC);
        }
    arb_addmul(F, acc, b->inv2pi, PREC);
    /* F_tt = k/4 + k (k - 1) / (4 pi) = k/4 + k (k - 1) / 2 * inv2pi */
    arb_set_si(t, k);
    arb_mul_2exp_si(t, t, -2);
    arb_add(F, F, t, PREC);
    arb_mul_si(t, b->inv2pi, (slong)k * (k - 1), PREC);
    arb_mul_2exp_si(t, t, -1);
    arb_add(F, F, t, PREC);
    arb_clear(acc), arb_clear(kap), arb_clear(t);
}

void pv_grad(arb_ptr G, const pv_box *b)
{
    const int n = b->n, k = b->k, m = n + k;
    arb_t su, t;
    arb_init(su), arb_init(t);
    for (int i = 0; i < n; i++) {
        arb_ptr gi = G + i * k;
        /* 2 pi dF/dw_i = pi w_i + (sum_{j != i} |w_j| s_ij - sum_l s_il) u^_i
         *               + sum_{j != i} (pi - t_ij) w_j - sum_l (pi - t_il) e_l */
        arb_zero(su);
        for (int j = 0; j < m; j++) {
            if (j == i) continue;
            if (j < n) arb_addmul(su, b->nrm + j, b->sn + i * m + j, PREC);
            else arb_sub(su, su, b->sn + i * m + j, PREC);
        }
        for (int l = 0; l < k; l++) {
            arb_mul(gi + l, b->pi, b->W + i * k + l, PREC);
            arb_addmul(gi + l, su, b->U + i * k + l, PREC);
            arb_sub(gi + l, gi + l, b->pt + i * m + n + l, PREC);
        }
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            for (int l = 0; l < k; l++) arb_addmul(gi + l, b->pt + i * m + j, b->W + j * k + l, PREC);
        }
        for (int l = 0; l < k; l++) arb_mul(gi + l, gi + l, b->inv2pi, PREC);
    }
    arb_clear(su), arb_clear(t);
}

void pv_hess(arb_mat_t H, const pv_box *b)
{
    const int n = b->n, k = b->k, m = n + k;
    arb_ptr q = _arb_vec_init(k), p = _arb_vec_init(k), sq = _arb_vec_init(k);
    arb_t al, coef, t;
    arb_init(al), arb_init(coef), arb_init(t);
    for (int i = 0; i < n; i++) {
        arb_srcptr ui = b->U + i * k;
        const slong o = (slong)i * k;
        /* block (i, i) = I/2 + alpha (I - u^u^T) + sum_j (c_j / s_j) q_j q_j^T,
         * alpha = sum_j c_j s_j, c_j = |w_j| / (2 pi |w_i|) for the other
         * units, -1 / (2 pi |w_i|) for the teacher units (upper triangle) */
        arb_zero(al);
        for (int a = 0; a < k; a++)
            for (int c = a; c < k; c++) arb_zero(arb_mat_entry(H, o + a, o + c));
        for (int j = 0; j < m; j++) {
            if (j == i) continue;
            const int e = i * m + j;
            /* q = v^ - c u^ */
            for (int l = 0; l < k; l++) {
                arb_mul(q + l, b->cs + e, ui + l, PREC);
                arb_neg(q + l, q + l);
                if (j < n) arb_add(q + l, q + l, b->U + j * k + l, PREC);
                else if (l == j - n) arb_add_si(q + l, q + l, 1, PREC);
            }
            if (j < n) arb_div(coef, b->nrm + j, b->nrm + i, PREC);
            else arb_inv(coef, b->nrm + i, PREC), arb_neg(coef, coef);
            arb_mul(coef, coef, b->inv2pi, PREC);
            arb_addmul(al, coef, b->sn + e, PREC);
            arb_div(t, coef, b->sn + e, PREC);
            for (int l = 0; l < k; l++) arb_mul(sq + l, t, q + l, PREC);
            for (int a = 0; a < k; a++)
                for (int c = a; c < k; c++) arb_addmul(arb_mat_entry(H, o + a, o + c), sq + a, q + c, PREC);
        }
        for (int a = 0; a < k; a++)
            for (int c = a; c < k; c++) {
                arb_ptr h = arb_mat_entry(H, o + a, o + c);
                /* alpha (delta_ac - u_a u_c) + delta_ac / 2 */
                arb_mul(t, ui + a, ui + c, PREC);
                arb_neg(t, t);
                if (a == c) arb_add_si(t, t, 1, PREC);
                arb_addmul(h, al, t, PREC);
                if (a == c) {
                    arb_set_d(t, 0.5);
                    arb_add(h, h, t, PREC);
                }
                arb_set(arb_mat_entry(H, o + c, o + a), h);
            }
        /* blocks (i, j) = h2(w_i, w_j), j > i, and (j, i) = its transpose */
        for (int j = i + 1; j < n; j++) {
            const int e = i * m + j;
            arb_srcptr uj = b->U + j * k;
            const slong oj = (slong)j * k;
            for (int l = 0; l < k; l++) {
                arb_mul(q + l, b->cs + e, ui + l, PREC);
                arb_sub(q + l, uj + l, q + l, PREC); /* q = u_j^ - c u_i^ */
                arb_mul(p + l, b->cs + e, uj + l, PREC);
                arb_sub(p + l, ui + l, p + l, PREC); /* p = u_i^ - c u_j^ */
                arb_div(p + l, p + l, b->sn + e, PREC);
                arb_mul(sq + l, b->sn + e, ui + l, PREC); /* s u_i^ */
            }
            for (int a = 0; a < k; a++)
                for (int c = 0; c < k; c++) {
                    arb_ptr h = arb_mat_entry(H, o + a, oj + c);
                    arb_mul(h, sq + a, uj + c, PREC);
                    arb_addmul(h, q + a, p + c, PREC);
                    if (a == c) arb_add(h, h, b->pt + e, PREC);
                    arb_mul(h, h, b->inv2pi, PREC);
                    arb_set(arb_mat_entry(H, oj + c, o + a), h);
                }
        }
    }
    _arb_vec_clear(q, k), _arb_vec_clear(p, k), _arb_vec_clear(sq, k);
    arb_clear(al), arb_clear(coef), arb_clear(t);
}

void pv_box_margins(double *norm_lower, double *cos_upper, const pv_box *b)
{
    const int n = b->n, m = n + b->k;
    double nl = INFINITY, cu = 0;
    for (int i = 0; i < n; i++) {
        const double v = pv_lower(b->nrm + i);
        if (v < nl) nl = v;
        for (int j = 0; j < m; j++) {
            if (j == i) continue;
            const double c = pv_abs_upper(b->cs + i * m + j);
            if (c > cu) cu = c;
        }
    }
    *norm_lower = nl, *cos_upper = cu;
}
