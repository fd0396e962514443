/* Rigorous eigenvalue bounds for symmetric matrices (docs/prove.md, step 3).
 *
 * Midpoint. M is a symmetric matrix of doubles. LAPACK's smallest
 * eigenvalue lambda_1 of M is not trusted: for mu just below it we prove
 * M - mu I positive definite by a Cholesky factorisation in ball arithmetic,
 * which then gives lambda_min(M) > mu.
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

/* M - mu I positive definite, proved: Arb's Cholesky of the exact matrix
 * M - mu I (balls at PREC bits) succeeds only when every pivot is certainly
 * positive, which makes the matrix positive definite (each leading minor is
 * the product of the squared pivots). One P^3/6 pass, against the three
 * P x P ball products a rotation by the float eigenvectors needs. */
static int cholesky_positive(const double *M, int P, double mu)
{
    arb_mat_t A, L;
    arb_mat_init(A, P, P), arb_mat_init(L, P, P);
    for (int a = 0; a < P; a++)
        for (int b = 0; b < P; b++) arb_set_d(arb_mat_entry(A, a, b), M[(size_t)a * P + b]);
    arb_t m;
    arb_init(m);
    arb_set_d(m, mu);
    for (int a = 0; a < P; a++) arb_sub(arb_mat_entry(A, a, a), arb_mat_entry(A, a, a), m, PREC);
    arb_clear(m);
    const int ok = arb_mat_cho(L, A, PREC) != 0;
    arb_mat_clear(A), arb_mat_clear(L);
    return ok;
}

/* LAPACK's eigenvalues of M (ascending, P), for the candidate mu. */
static mn_status float_eigenvalues(double *ev, const double *M, int P)
{
    double *A = malloc((size_t)P * P * sizeof *A);
    if (!A) return mn_fail(MN_ENOMEM, "prove: out of memory for a %d x %d matrix", P, P);
    memcpy(A, M, (size_t)P * P * sizeof *A);
    mn_status st = mn_sym_eigvals(ev, A, P);
    free(A);
    return st;
}

mn_status pv_lambda_lower(double *mu, double *lmin_float, const double *M, int P)
{
    *mu = -INFINITY;
    *lmin_float = NAN;
    double *ev = malloc((size_t)P * sizeof *ev);
    if (!ev) return mn_fail(MN_ENOMEM, "prove: out of memory");
    mn_status st = float_eigenvalues(ev, M, P);
    if (!st) {
        *lmin_float = ev[0];
        /* mu as close below LAPACK's smallest eigenvalue as the proof allows */
        static const double frac[] = {1e-9, 1e-7, 1e-5, 1e-3, 1e-2, 0.1, 0.5};
        for (size_t f = 0; ev[0] > 0 && f < sizeof frac / sizeof *frac; f++) {
            const double m = ev[0] * (1 - frac[f]);
            if (cholesky_positive(M, P, m)) {
                *mu = m;
                break;
            }
        }
    }
    free(ev);
    return st;
}

mn_status pv_positive_above(int *ok, const double *M, int P, double mu)
{
    *ok = cholesky_positive(M, P, mu);
    return MN_OK;
}
