/*
 * minima/regions.h — activation regions of one-hidden-layer ReLU networks.
 *
 * The network on n samples x_i in R^d0 with d1 hidden units:
 *     f(x_i) = sum_j v_j relu(w_j . x_i + b_j)   (+ c when out_bias)
 * An activation region (cell) is a fixed on/off pattern A (n x d1, bytes 0/1,
 * A_ij = 1 when w_j . x_i + b_j > 0). Inside it, f is linear in the hidden
 * layer (W, b): f = J vec(W, b) (+ c) with the Jacobian
 *     J (n x d1 (d0 + 1)), column block j = v_j A_ij (x_i, 1),
 * so rank questions (Karhadkar, Murray, Tseran, Montufar) and whether a
 * cell holds a minimum of the squared loss (Bo Liu) are linear algebra and
 * linear programs.
 *
 * Shapes: X (n x d0), W (d1 x d0), b (d1), v (d1), A (n x d1); row-major.
 * Conventions of minima.h: mn_status with mn_last_error(), outputs first.
 */
#ifndef MINIMA_REGIONS_H
#define MINIMA_REGIONS_H

#define MN_REGION_MAX_N 100000 /* samples in one region */
#define MN_REGION_BORDER 100.0 /* a smallest singular value within this factor of the tolerance is borderline */
#define MN_REGION_INTERIOR 1e-6 /* LP margins above this count as the open region's interior */

/* A_ij = (w_j . x_i + b_j > 0). b may be NULL (no hidden bias). */
void mn_region_pattern(unsigned char *A, const double *X, int n, int d0, const double *W, const double *b, int d1);

/* The Jacobian above (n x d1 (d0 + 1)). */
void mn_region_jacobian(double *J, const unsigned char *A, const double *X, int n, int d0, const double *v, int d1);

/* Rank of J with a stated tolerance and a second, exact check of borderline
 * cases.
 *   tol = smax * max(n, p) * DBL_EPSILON, p = d1 (d0 + 1): numpy's and
 *   torch.linalg.matrix_rank's default; svd_rank counts singular values
 *   (LAPACK dgesdd) above it.
 *   Borderline: tol / 100 <= s_n <= 100 tol (s_n the n-th singular value).
 *   Those are decided by the exact generic rank (mn_region_generic_rank),
 *   the rank J has for almost every data set with this pattern. */
typedef struct {
    int rank;          /* the decided rank: svd_rank, or exact_rank when borderline */
    int svd_rank;      /* singular values > tol */
    double smax, smin; /* largest and n-th singular value (smin = 0 when p < n) */
    double tol;
    int borderline;    /* 1: decided by the exact check */
    int exact_rank;    /* generic rank over GF(2^31 - 1) (-1 when not computed) */
} mn_rank_info;
/* Errors: MN_EINVAL (sizes), MN_ENOMEM, MN_ELAPACK. Runs LAPACK on the
 * calling thread's BLAS settings: call with one BLAS thread inside parallel
 * loops. */
mn_status mn_region_rank(mn_rank_info *out, const unsigned char *A, const double *X, int n, int d0,
                         const double *v, int d1, uint64_t seed);

/* The rank of J's structure over the prime field GF(q), q = 2^31 - 1, with
 * x_i replaced by seeded uniform field elements (the bias column stays 1,
 * every v_j != 0 only scales a block). Every minor of J is a polynomial in
 * the data of degree <= n, so (Schwartz-Zippel) the result equals the
 * generic rank with probability >= 1 - n / q, and never exceeds it. Exact
 * integer arithmetic: no tolerance. -1 on allocation failure. */
int mn_region_generic_rank(const unsigned char *A, int n, int d0, int d1, uint64_t seed);

/* Least squares inside the region (loss (1/n) sum_i (1/2)(f_i - y_i)^2 of the
 * minima squared loss): fit (n) = the projection of y onto the range of J
 * (plus the ones column with out_bias), i.e. the outputs of every minimiser
 * of the region's quadratic extended past its walls. *loss its value.
 * Rank-deficient J is fine (LAPACK dgelsd, rcond as mn_region_rank's tol). */
mn_status mn_region_lsq(double *fit, double *loss, const unsigned char *A, const double *X, int n, int d0,
                        const double *v, int d1, int out_bias, const double *y);

/* The linear program of a region (GLPK simplex, presolver on):
 *   maximise t over (W, b, c, t), 0 <= t <= 1, subject to
 *     sum_j v_j A_ij ((x_i, 1) . (w_j, b_j)) (+ c) = target_i    (n rows)
 *     (2 A_ij - 1) ((x_i, 1) . (w_j, b_j)) >= t                   (n d1 rows)
 * feasible: some (W, b) of the closed region (sign constraints >= 0) has
 * outputs exactly target; interior: also one with every pre-activation at
 * least MN_REGION_INTERIOR away from 0 on its side, a point of the open,
 * differentiable region. With target = y this is Karhadkar et al.'s test of a
 * zero-loss global minimum in the region; with target = the region's
 * least-squares fit it is the test of a genuine minimum (mn_region_genuine). */
typedef struct {
    int feasible, interior;
    double margin; /* the optimal t (NaN when infeasible) */
} mn_region_lp_result;
/* wb (d1 x (d0 + 1), may be NULL): a solution (w_j, b_j) when feasible.
 * Errors: MN_EINVAL, MN_ENOMEM, MN_ERANGE (the solver failed: message
 * names GLPK's code). */
mn_status mn_region_lp(mn_region_lp_result *out, double *wb, const unsigned char *A, const double *X, int n,
                       int d0, const double *v, int d1, int out_bias, const double *target);

/* Bo Liu's question for one cell: its least-squares minimum (mn_region_lsq)
 * is genuine when some point of the open cell attains it (mn_region_lp on
 * the fitted outputs, interior). Every local minimum of the loss that lies in
 * a differentiable cell is such a point, and every such point is a local
 * minimum (the loss is the cell's convex quadratic around it). */
typedef struct {
    double loss;   /* the cell's least-squares loss */
    int genuine;   /* 1: attained inside the open cell */
    int on_wall;   /* attained on the closed cell only (margin 0) */
    double margin; /* LP margin (NaN: not attained in the closed cell) */
} mn_region_genuine_result;
mn_status mn_region_genuine(mn_region_genuine_result *out, const unsigned char *A, const double *X, int n,
                            int d0, const double *v, int d1, int out_bias, const double *y);

#endif
