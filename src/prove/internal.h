/* Internals of the proofs (src/prove/): the population loss of Safran and
 * Shamir in ball arithmetic, and the rigorous eigenvalue bounds. */
#ifndef MN_PROVE_INTERNAL_H
#define MN_PROVE_INTERNAL_H

#include <stddef.h>

#include <arb.h>
#include <arb_mat.h>

#include "minima/popul.h"
#include "minima/prove.h"
#include <lapacke.h>

/* Working precision in bits: the centre's gradient must come out at its
 * true size (~1e-15 for a double point next to a minimum), far below the
 * rounding of 53-bit arithmetic over O(n^2 k) terms. */
#define MN_PROVE_PREC 128

/* Balls for every quantity of the loss over the box c +- r (coordinate-wise:
 * it contains the Euclidean ball B(c, r)). Angles are stored for every pair:
 * entry i * (n + k) + j is the angle between unit i and unit j (j < n), or
 * teacher unit e_l (j = n + l); the diagonal i = j is not used. */
typedef struct {
    int n, k;
    arb_ptr W;    /* (n k) the box */
    arb_ptr nrm2; /* (n) |w_i|^2 */
    arb_ptr nrm;  /* (n) |w_i| */
    arb_ptr U;    /* (n k) w_i / |w_i| */
    arb_ptr cs;   /* (n (n + k)) cos t */
    arb_ptr sn;   /* (n (n + k)) sin t */
    arb_ptr pt;   /* (n (n + k)) pi - t */
    arb_t pi, inv2pi;
} pv_box;

void pv_box_init(pv_box *b, int n, int k);
void pv_box_clear(pv_box *b);
/* Sets the box c +- r (c: n x k doubles, r >= 0). Returns 0, or 1 when the
 * box may contain a point where a unit is 0 or two units (or a unit and a
 * teacher unit) are parallel or antiparallel; then why (len bytes) names it,
 * e.g. "units 3 and 9 are parallel" (units numbered from 1, as the rows of a
 * point file), and *zero = 1 when it is a zero unit. */
int pv_box_set(pv_box *b, const double *c, double r, int *zero, char *why, size_t len);
/* Over the box: a lower bound of min_i |w_i| and an upper bound of the
 * largest |cos| of any pair (student-student or student-teacher). */
void pv_box_margins(double *norm_lower, double *cos_upper, const pv_box *b);
/* F over the box. */
void pv_value(arb_t F, const pv_box *b);
/* grad F (n k) over the box. */
void pv_grad(arb_ptr G, const pv_box *b);
/* The Hessian (n k x n k, initialised by the caller) over the box; entries
 * (a, b) and (b, a) are the same ball. */
void pv_hess(arb_mat_t H, const pv_box *b);

/* Upper bound (a double, rounded up) of the ball's largest |x|, and lower
 * and upper bounds of its values. */
double pv_abs_upper(const arb_t x);
double pv_upper(const arb_t x);
double pv_lower(const arb_t x);
/* sqrt(sum G_i^2) rounded up. */
double pv_norm_upper(arb_srcptr G, int m);

/* A rigorous lower bound on the smallest eigenvalue of the symmetric P x P
 * double matrix M, from its float eigenvectors Q: Gershgorin's discs of
 * Q^T (M - mu I) Q in ball arithmetic (docs/prove.md, step 3). *mu = -inf
 * when no positive bound is proved; *lmin_float receives LAPACK's value. */
mn_status pv_lambda_lower(double *mu, double *lmin_float, const double *M, int P);
/* *ok = 1 when M - mu I is proved positive definite (the same discs). */
mn_status pv_positive_above(int *ok, const double *M, int P, double mu);
/* Upper bound of |H - M|_2 over every symmetric matrix H in the enclosure
 * (min of the largest row sum and the Frobenius norm of the entrywise
 * deviations |h - M_ab|). */
double pv_spread(const arb_mat_t H, const double *M);
/* M (P x P) = the enclosure's midpoints rounded to doubles. */
void pv_midpoints(double *M, const arb_mat_t H);

/* An objective for the argument (src/prove/prove.c): set the box c +- r
 * (0, or 1 with why when the box may leave the region where the objective
 * is C^2; *zero = 1 when the point itself is not differentiable), then
 * enclose F, grad F (P) and the Hessian (P x P) over it (any may be NULL).
 * float_hess (may be NULL: the enclosure's midpoints then) gives the
 * Hessian at c in doubles, for the Newton steps that choose the centre. */
typedef struct {
    void *ctx;
    int (*set)(void *ctx, const double *c, double r, int *zero, char *why, size_t len);
    void (*eval)(void *ctx, arb_t F, arb_ptr G, arb_mat_t H);
    int (*float_hess)(void *ctx, const double *c, double *H);
} pv_objective;

/* A one-hidden-layer network on data in balls (src/prove/net_ball.c). */
typedef struct {
    const mn_model *model;
    const mn_data *data;
    int d, h, K, P;
    arb_ptr th; /* (P) the box */
    mn_work *work; /* float Hessians (Newton) */
} pv_net;
void pv_net_init(pv_net *nb, const mn_model *model, const mn_data *data);
void pv_net_clear(pv_net *nb);
int pv_net_set(void *ctx, const double *c, double r, int *zero, char *why, size_t len);
void pv_net_eval(void *ctx, arb_t F, arb_ptr G, arb_mat_t H);
/* The box of radius 0 at theta (P): the network is smooth everywhere. */
void pv_net_point(pv_net *nb, const double *theta);

/* Buffers of one proof for one size (src/prove/prove.c). */
typedef struct {
    int n, k, P;
    pv_objective obj;
    double global_upper; /* spurious when loss_lower > it; NaN: unknown */
    pv_box box;
    arb_ptr G;     /* (P) */
    arb_mat_t H;   /* (P x P) */
    arb_t F;
    double *M;     /* (P x P) midpoint at the centre */
    double *Hf;    /* (P x P) float Hessian (centre search) */
    double *step;  /* (P) */
    double *cand;  /* (P) */
    lapack_int *ipiv;
    mn_popul_work *work;
} pv_prover;
/* The population objective's buffers (obj set to it, global_upper 0). */
mn_status pv_prover_alloc(pv_prover *p, int n, int k);
/* The buffers for an objective of P parameters (obj, global_upper set by the caller). */
mn_status pv_prover_alloc_buffers(pv_prover *p, int P);
void pv_prover_free(pv_prover *p);
/* lower(F - g^2 / (2 mu)): the value bound of the argument. */
double pv_loss_lower(const arb_t F, double g, double mu);
/* Steps 1-4 of the argument on p->obj; c (P) is the point on entry, the
 * centre on return. */
void pv_prove_with(pv_prover *p, mn_prove_result *res, double *c);
void pv_result_init(mn_prove_result *res);

#endif
