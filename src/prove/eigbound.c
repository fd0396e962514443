/* Rigorous eigenvalue bounds for symmetric matrices (docs/prove.md, step 3).
 *
 * Midpoint. M is a matrix of doubles. LAPACK gives M ~ Q diag(lambda) Q^T;
 * Q is only nearly orthogonal, so instead of trusting lambda we prove
 * M - mu I positive definite: X = Q^T (M - mu I) Q = Q^T M Q - mu Q^T Q is
 * computed in ball arithmetic, and when every Gershgorin disc of X lies in
 * (0, inf), X is positive definite; then Q is nonsingular (Q x = 0 would
 * give x^T X x = 0) and M - mu I = Q^-T X Q^-1 is positive definite too.
 *
 * Spread. For a symmetric H with |H_ab - M_ab| <= D_ab, Weyl's inequality
 * gives lambda_min(H) >= lambda_min(M) - |H - M|_2, and |H - M|_2 <=
 * rho(D) <= max_a sum_b D_ab (Perron-Frobenius: the spectral radius of a
 * nonnegative matrix bounds that of any matrix it dominates), as well as
 * |H - M|_2 <= |H - M|_F <= |D|_F. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "prove/internal.h"

#define PREC MN_PROVE_PREC

/* A bound of x (one of Arb's arb_get_*bound_arf) as a double rounded the
 * safe way. */
static double bound_d(void (*get)(arf_t, const arb_t, slong), const arb_t x, arf_rnd_t rnd)
{
    arf_t u;
    arf_init(u);
    get(u, x, PREC);
    const double d = arf_get_d(u, rnd);
    arf_clear(u);
    return d;
}

double pv_abs_upper(const arb_t x) { return bound_d(arb_get_abs_ubound_arf, x, ARF_RND_CEIL); }
double pv_upper(const arb_t x) { return bound_d(arb_get_ubound_arf, x, ARF_RND_CEIL); }
double pv_lower(const arb_t x) { return bound_d(arb_get_lbound_arf, x, ARF_RND_FLOOR); }

double pv_norm_upper(arb_srcptr G, int m)
{
    arb_t s, t;
    arb_init(s), arb_init(t);
    for (int i = 0; i < m; i++) {
        arb_sqr(t, G + i, PREC);
        arb_add(s, s, t, PREC);
    }
    arb_sqrtpos(s, s, PREC);
    const double d = pv_upper(s);
    arb_clear(s), arb_clear(t);
    return d;
}

void pv_midpoints(double *M, const arb_mat_t H)
{
    const slong P = arb_mat_nrows(H);
    for (slong a = 0; a < P; a++)
        for (slong b = 0; b < P; b++) M[a * P + b] = arf_get_d(arb_midref(arb_mat_entry(H, a, b)), ARF_RND_NEAR);
}

double pv_spread(const arb_mat_t H, const double *M)
{
    const slong P = arb_mat_nrows(H);
    arb_t d, row, fro;
    arb_init(d), arb_init(row), arb_init(fro);
    double best_row = 0;
    for (slong a = 0; a < P; a++) {
        arb_zero(row);
        for (slong b = 0; b < P; b++) {
            arb_set_d(d, M[a * P + b]);
            arb_sub(d, arb_mat_entry(H, a, b), d, PREC);
            arb_set_d(d, pv_abs_upper(d)); /* D_ab, rounded up */
            arb_add(row, row, d, PREC);
            arb_addmul(fro, d, d, PREC);
        }
        const double r = pv_upper(row);
        if (r > best_row) best_row = r;
    }
    arb_sqrtpos(fro, fro, PREC);
    const double f = pv_upper(fro);
    arb_clear(d), arb_clear(row), arb_clear(fro);
    return f < best_row ? f : best_row;
}

/* Every Gershgorin disc of X - mu Y inside (0, inf)? */
static int gershgorin_positive(const arb_mat_t X, const arb_mat_t Y, double mu)
{
    const slong P = arb_mat_nrows(X);
    arb_t m, e, off;
    arb_init(m), arb_init(e), arb_init(off);
    arb_set_d(m, mu);
    int ok = 1;
    for (slong a = 0; a < P && ok; a++) {
        arb_zero(off);
        for (slong b = 0; b < P; b++) {
            arb_set(e, arb_mat_entry(X, a, b));
            arb_submul(e, m, arb_mat_entry(Y, a, b), PREC);
            if (b == a) continue;
            arb_set_d(e, pv_abs_upper(e));
            arb_add(off, off, e, PREC);
        }
        arb_set(e, arb_mat_entry(X, a, a));
        arb_submul(e, m, arb_mat_entry(Y, a, a), PREC);
        arb_sub(e, e, off, PREC);
        ok = arb_is_positive(e);
    }
    arb_clear(m), arb_clear(e), arb_clear(off);
    return ok;
}

/* X = Q^T M Q and Y = Q^T Q in balls, Q the float eigenvectors of M (A
 * holds them on return of mn_sym_eig); ev (P) receives LAPACK's eigenvalues. */
static mn_status rotate(arb_mat_t X, arb_mat_t Y, double *ev, const double *M, int P)
{
    double *A = malloc((size_t)P * P * sizeof *A);
    if (!A) return mn_fail(MN_ENOMEM, "prove: out of memory for a %d x %d matrix", P, P);
    memcpy(A, M, (size_t)P * P * sizeof *A);
    mn_status st = mn_sym_eig(ev, A, P);
    if (st) {
        free(A);
        return st;
    }
    arb_mat_t Q, QT, Mm, Z;
    arb_mat_init(Q, P, P), arb_mat_init(QT, P, P), arb_mat_init(Mm, P, P), arb_mat_init(Z, P, P);
    for (int a = 0; a < P; a++)
        for (int b = 0; b < P; b++) {
            arb_set_d(arb_mat_entry(Q, a, b), A[(size_t)a * P + b]);
            arb_set_d(arb_mat_entry(Mm, a, b), M[(size_t)a * P + b]);
        }
    arb_mat_transpose(QT, Q);
    arb_mat_mul(Z, Mm, Q, PREC);
    arb_mat_mul(X, QT, Z, PREC);
    arb_mat_mul(Y, QT, Q, PREC);
    arb_mat_clear(Q), arb_mat_clear(QT), arb_mat_clear(Mm), arb_mat_clear(Z);
    free(A);
    return MN_OK;
}

mn_status pv_lambda_lower(double *mu, double *lmin_float, const double *M, int P)
{
    *mu = -INFINITY;
    *lmin_float = NAN;
    double *ev = malloc((size_t)P * sizeof *ev);
    if (!ev) return mn_fail(MN_ENOMEM, "prove: out of memory");
    arb_mat_t X, Y;
    arb_mat_init(X, P, P), arb_mat_init(Y, P, P);
    mn_status st = rotate(X, Y, ev, M, P);
    if (!st) {
        *lmin_float = ev[0];
        /* mu as close below LAPACK's smallest eigenvalue as the discs allow */
        static const double frac[] = {1e-9, 1e-7, 1e-5, 1e-3, 1e-2, 0.1, 0.5};
        for (size_t f = 0; ev[0] > 0 && f < sizeof frac / sizeof *frac; f++) {
            const double m = ev[0] * (1 - frac[f]);
            if (gershgorin_positive(X, Y, m)) {
                *mu = m;
                break;
            }
        }
    }
    arb_mat_clear(X), arb_mat_clear(Y);
    free(ev);
    return st;
}

mn_status pv_positive_above(int *ok, const double *M, int P, double mu)
{
    *ok = 0;
    double *ev = malloc((size_t)P * sizeof *ev);
    if (!ev) return mn_fail(MN_ENOMEM, "prove: out of memory");
    arb_mat_t X, Y;
    arb_mat_init(X, P, P), arb_mat_init(Y, P, P);
    mn_status st = rotate(X, Y, ev, M, P);
    if (!st) *ok = gershgorin_positive(X, Y, mu);
    arb_mat_clear(X), arb_mat_clear(Y);
    free(ev);
    return st;
}
