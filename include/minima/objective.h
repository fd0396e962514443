/*
 * minima/objective.h — one interface for everything minima minimises,
 * certifies and escapes from, in the spirit of GSL's multimin_function_fdf:
 * a dimension, a value with its gradient, Hessian-vector products, and
 * optional extras. The optimisers (mn_optim_alloc_objective), certification
 * (mn_certify_objective), the escape search (mn_find_escape_objective) and
 * the spectrum (mn_spectrum_extremes) take an objective and nothing else.
 *
 * Instances: the network on data (mn_net_objective_alloc), the Safran-Shamir
 * population loss (mn_popul_objective_alloc in minima/popul.h), analytic
 * test functions (mn_testfn_objective_alloc), the octopus of chained saddles
 * (mn_octopus_objective_alloc), the deep linear residual network's
 * population loss (mn_resid_objective_alloc), or a caller's own: fill an
 * mn_objective (n, params, fdf, and hvp or hessian) and pass its address;
 * see docs/example_objective.c. Every hook gets `params` first.
 *
 * Conventions are those of minima.h. A hook returns MN_OK, or MN_ERANGE with
 * a message (mn_fail) when a value at x is not finite: the optimisers then
 * mark the run diverged and certification classifies the point DIVERGED;
 * any other status is an error and is passed up.
 */
#ifndef MINIMA_OBJECTIVE_H
#define MINIMA_OBJECTIVE_H

#include "minima.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct mn_objective mn_objective;
struct mn_objective {
    size_t n;     /* dimension: parameters of x */
    void *params; /* passed to every hook */
    /* Required. f = f(x); when g != NULL also g = grad f(x) (n). */
    mn_status (*fdf)(void *params, const double *x, double *f, double *g);
    /* hv = H(x) v (n). At least one of hvp and hessian is required; a
     * missing one is derived from the other (n products, or H v). */
    mn_status (*hvp)(void *params, const double *x, const double *v, double *hv);
    /* The dense Hessian h (n x n, row-major, symmetric). */
    mn_status (*hessian)(void *params, const double *x, double *h);
    /* Optional. The "differentiable here?" check: margin = a distance scale
     * from x to the nearest point where f is not twice differentiable (a
     * ReLU kink, a zero unit); INFINITY when there is none. NULL: smooth. */
    mn_status (*kink)(void *params, const double *x, double *margin);
    /* Optional mask (n): 1 = free, 0 = held at its value. NULL: all free.
     * Optimisers move, and certificates measure, the free entries only. */
    const unsigned char *mask;
    /* Optional. 1: fdf and fdf_rows write 0 to g's frozen entries
     * themselves, so the optimisers need not zero them after every
     * evaluation. 0 (the zero default): they do. */
    int frozen_zero;
    /* Optional. 1: f >= 0 everywhere (the network's losses, the population
     * loss, rosenbrock, chain), so a value <= global_tol certifies a global
     * minimum even when the caller does not know the global value (mn_cert_opts
     * global_loss NaN). 0 (the zero default): nothing known. */
    int nonnegative;

    /* Optional extras of objectives with samples (the network on data). */
    int nsamples; /* samples the value averages over (0: none) */
    /* Value and gradient on the samples rows[0..nrows-1] only (minibatch SGD). */
    mn_status (*fdf_rows)(void *params, const int *rows, int nrows, const double *x, double *f, double *g);
    /* Training accuracy in [0, 1] (certificates' zero_error rule). NULL: NaN. */
    mn_status (*accuracy)(void *params, const double *x, double *acc);
    /* The largest output of a part that vanishes at every critical point
     * (the added neurons with lambda > 0), act >= 0: reported by
     * certificates, never a stopping rule. NULL: no such part. */
    mn_status (*activity)(void *params, const double *x, double *act);

    /* Set by the library's constructors: mn_objective_free releases params. */
    void (*destroy)(void *params);
};

/* Releases an objective made by one of the *_objective_alloc below (NULL is
 * fine). A caller's own objective is the caller's to release. */
void mn_objective_free(mn_objective *f);
/* Checks the required hooks and the dimension (MN_EINVAL names the gap). */
mn_status mn_objective_check(const mn_objective *f);
/* Number of free parameters (f->n without a mask). */
size_t mn_objective_nfree(const mn_objective *f);

/* Hooks with their fallbacks. */
mn_status mn_objective_fdf(const mn_objective *f, const double *x, double *val, double *g);
mn_status mn_objective_hvp(const mn_objective *f, const double *x, const double *v, double *hv);
mn_status mn_objective_hessian(const mn_objective *f, const double *x, double *h);
/* The Hessian restricted to the free parameters: sub (nf x nf, symmetric),
 * nf = mn_objective_nfree. With many frozen parameters (n > 4096) it is
 * formed column by column from nf products (2 n scratch doubles), else from
 * the full Hessian (n x n scratch). scratch may be NULL (allocated here). */
mn_status mn_objective_free_hessian(const mn_objective *f, const double *x, double *sub, double *scratch);
/* Scratch doubles mn_objective_free_hessian needs. */
size_t mn_objective_hessian_scratch(const mn_objective *f);

/* The extreme eigenvalues of the free-parameter Hessian at x: all of them
 * by LAPACK when nf <= max_dense, else Lanczos on Hessian-vector products
 * (at most lanczos_iter steps, full reorthogonalisation, a fixed seeded
 * start; stops when both extreme Ritz residuals are <= lanczos_tol *
 * max(1, |Ritz value|)). Deterministic. nf must be >= 1. */
mn_status mn_spectrum_extremes(double *lmin, double *lmax, const mn_objective *f, const double *x, int max_dense,
                               int lanczos_iter, double lanczos_tol);
/* Lanczos keeps one vector of nf doubles per step, all of them (full
 * reorthogonalisation): the steps are capped so that they take at most
 * MN_LANCZOS_MAX_BYTES, but never below MN_LANCZOS_MIN_STEPS (a constant
 * bound, not the machine's, so results do not depend on the machine; up to
 * ~894,000 free parameters the default 300 steps fit). The Lanczos steps
 * for nf free parameters, and the bytes mn_spectrum_extremes allocates. */
#define MN_LANCZOS_MAX_BYTES ((size_t)2 << 30)
#define MN_LANCZOS_MIN_STEPS 30
int mn_lanczos_steps(size_t nf, int lanczos_iter);
double mn_spectrum_bytes(size_t P, size_t nf, int max_dense, int lanczos_iter);

/* ------------------------------------------------------------------ */
/* Instances.                                                          */

/* The network on data: L(theta) of mn_eval, its exact Hessian-vector products
 * and Hessian (mn_hvp, mn_hessian), the free mask of frozen layers, the kink
 * margin, accuracy (margin and softmax losses), the added neurons' largest
 * output, and minibatches (copies of the samples, kept
 * for the last two batch sizes). model, work and data must outlive the
 * objective; like work, it serves one thread at a time. */
mn_status mn_net_objective_alloc(mn_objective **out, const mn_model *model, mn_work *work, const mn_data *data);

/* Analytic test functions (dimension n):
 *   ROSENBROCK  sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2, n >= 2;
 *               global minimum 0 at (1, ..., 1), a curved narrow valley;
 *   SADDLE      x_0^4 / 4 - x_0^2 / 2 + (1/2) sum_{i>=1} x_i^2, n >= 2;
 *               a strict saddle at 0 (Hessian eigenvalues -1, 1, ..., 1),
 *               global minima -1/4 at x_0 = +-1, the rest 0;
 *   CHAIN       (1/2) (1 - x_0 x_1 ... x_{n-1})^2, n >= 3, the loss of a
 *               scalar deep linear network w_n ... w_1 x on (x, y) = (1, 1);
 *               at 0 a degenerate saddle (gradient and Hessian 0, the loss
 *               falls only at order n), global minima 0 where the product is 1. */
typedef enum { MN_TESTFN_ROSENBROCK, MN_TESTFN_SADDLE, MN_TESTFN_CHAIN } mn_testfn;
#define MN_NTESTFN 3
/* "rosenbrock", "saddle", "chain". */
const char *mn_testfn_name(mn_testfn t);
mn_status mn_testfn_objective_alloc(mn_objective **out, mn_testfn kind, int n);

/* The octopus (Du, Jin, Lee, Jordan, Poczos, Singh, NeurIPS 2017; our own
 * closed form, proved in docs/saddles.md): on R^d,
 *   f(x) = sum_i (L/2) x_i^2 + sigma(x_{i-1}) b(x_i),  sigma(x_0) = 1,
 *   b(t) = -(L + gamma) (1 - exp(-t^2/2)), sigma a C^2 switch from 0 (|s| <= s0)
 *   to 1 (|s| >= s1). Saddle i (1..d) is x_j = +-m for j < i, 0 from i on,
 *   with Hessian diag(w''(m), .., -gamma, L, .., L): one escape direction, e_i.
 *   The minima are the 2^d points (+-m, .., +-m), value fmin. Gradient and
 *   Hessian are globally Lipschitz with the constants ell and rho. */
#define MN_OCTOPUS_MAX_D 64
typedef struct {
    int d;
    double gamma, L; /* escape and stable curvatures at the saddles */
    double m;        /* well bottom sqrt(2 ln((L + gamma) / L)) */
    double s0, s1;   /* the switch sigma runs over |s| in [s0, s1] = [0.1 m, 0.9 m] */
    double ell, rho; /* Lipschitz constants of the gradient and the Hessian (bounds) */
    double fmin;     /* global minimum value d (L m^2 / 2 - gamma) */
} mn_octopus;
/* The constants of the octopus (d in 1..MN_OCTOPUS_MAX_D, curvatures in (0, 1000]). */
mn_status mn_octopus_init(mn_octopus *c, int d, double gamma, double L);
mn_status mn_octopus_objective_alloc(mn_objective **out, int d, double gamma, double L);
/* The population loss of a deep linear residual network (Bartlett, Helmbold
 * and Long, ICML 2018) with isotropic inputs:
 *   f(Theta_1, ..., Theta_L) = (1/2) ||Theta_L ... Theta_1 - Phi||_F^2,
 * x = [Theta_1; ...; Theta_L], each d x d row-major (n = L d^2); phi (d x d,
 * row-major) is copied. Exact gradient and Hessian-vector products
 * (O(L d^3) each); one thread at a time. d in 1..MN_RESID_MAX_D, L in
 * 1..MN_RESID_MAX_L. */
#define MN_RESID_MAX_D 64
#define MN_RESID_MAX_L 1024
mn_status mn_resid_objective_alloc(mn_objective **out, int d, int L, const double *phi);

/* ------------------------------------------------------------------ */
/* The engine on any objective. The network forms in minima.h
 * (mn_optim_alloc, mn_certify, mn_find_escape) are these on
 * mn_net_objective_alloc's objective.                                 */

/* mn_optim_alloc on an objective (n = f->n; f must outlive the optimiser).
 * MN_OPT_SGD needs an objective with samples (fdf_rows, nsamples >= 1). */
mn_status mn_optim_alloc_objective(mn_optim **out, const mn_objective *f, const mn_opt_params *prm,
                                   const double *theta0);
/* mn_certify on an objective: the kink margin, accuracy and activity come
 * from the hooks (INFINITY, NaN and 0 without them). */
mn_status mn_certify_objective(mn_cert *out, const mn_objective *f, const double *theta, int diverged,
                               const mn_cert_opts *opts);
/* mn_find_escape on an objective. */
mn_status mn_find_escape_objective(mn_escape *out, double *dir, const mn_objective *f, const double *theta,
                                   double eig_tol);

#ifdef __cplusplus
}
#endif
#endif
