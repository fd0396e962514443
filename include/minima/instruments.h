/*
 * minima/instruments.h — landscape instruments on any objective: the top or
 * bottom Hessian eigenvalues (Lanczos), the Hessian trace (Hutchinson), the
 * spectral density (stochastic Lanczos quadrature), loss slices along
 * directions, and paths between two points (straight line and an optimised
 * quadratic Bezier curve) with their barriers.
 *
 * Everything works on the free parameters of an objective (minima/objective.h)
 * through exact Hessian-vector products, so it applies to the network on
 * data and to the Safran-Shamir population loss alike. Memory is O(steps x
 * free parameters) for the Lanczos vectors and O(n) besides: no n x n matrix
 * is ever formed here. Every random draw comes from the seed given, and the
 * loops sum in an order that does not depend on the thread count (OpenMP
 * threads the Gram-Schmidt loops; OpenBLAS, whose threaded GEMMs round
 * differently with the thread count, runs on one thread inside these
 * functions): the same seed gives the same bits.
 *
 * Conventions are those of minima.h.
 */
#ifndef MINIMA_INSTRUMENTS_H
#define MINIMA_INSTRUMENTS_H

#include "minima/objective.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Lanczos controls (mn_lanczos_opts_default gives the values in parentheses). */
typedef struct {
    int steps;     /* Lanczos steps at most (300); memory steps x free parameters doubles */
    double tol;    /* stop when every wanted Ritz residual ||H y - theta y|| is
                      <= tol * max(1, max |theta|) (1e-10) */
    uint64_t seed; /* the start vector's draws (1) */
} mn_lanczos_opts;
void mn_lanczos_opts_default(mn_lanczos_opts *o);

/* The k largest (top = 1: vals descending) or smallest (top = 0: vals
 * ascending) eigenvalues of the free-parameter Hessian at x, by Lanczos with
 * full reorthogonalisation from a Gaussian start vector, then deflated
 * restarts: the converged Ritz vectors are locked and Lanczos runs again on
 * their orthogonal complement (a new start, round r seeded as probe r of
 * the trace) until its extreme eigenvalue does not lie
 * beyond the k-th found by more than tol * max(1, |theta|): a repeated
 * eigenvalue, of which one Krylov space holds a single direction, is
 * reported with its multiplicity (each check costs a run to convergence of
 * one Ritz pair). resid (k): each Ritz pair's residual norm
 * ||H y - theta y||, which bounds the distance from vals[i] to an eigenvalue
 * of H. vecs (k x n, row-major; may be NULL): the unit Ritz vectors,
 * orthonormal, 0 at frozen parameters. *steps: Lanczos steps taken, all runs;
 * *converged: 1 when every residual met the tolerance and the last check
 * converged (else the values are the best estimates after o->steps steps).
 * Memory: k x free parameters doubles besides the Lanczos vectors.
 * MN_EINVAL when k < 1 or k is larger than the free parameters (the line
 * names both). */
mn_status mn_hess_extreme(double *vals, double *resid, double *vecs, int *steps, int *converged,
                          const mn_objective *f, const double *x, int k, int top, const mn_lanczos_opts *o);

/* The trace of the free-parameter Hessian by Hutchinson's estimator with
 * `probes` Rademacher vectors z (entries +-1 on the free parameters, probe i
 * drawn from mn_seed_derive(seed, {i}, 1)): *trace = mean of z^T H z, *se =
 * its standard error (sample standard deviation / sqrt(probes); NaN for one
 * probe). probes >= 1. */
mn_status mn_hess_trace(double *trace, double *se, const mn_objective *f, const double *x, int probes,
                        uint64_t seed);

/* Spectral density by stochastic Lanczos quadrature (Lin, Saad, Yang 2016;
 * Ghorbani, Krishnan, Xiao 2019): for each of `probes` Gaussian start
 * vectors (probe i from mn_seed_derive(seed, {i}, 1)), `steps` Lanczos steps
 * (fewer at an invariant subspace) give Ritz values theta_j and weights
 * tau_j = (first component of T's eigenvector j)^2, which sum to 1. The
 * density is
 *     phi(t) = (1/probes) sum_probes sum_j tau_j N(t; theta_j, sigma^2),
 * a probability density: it integrates to 1 and its mean, the mean of the
 * nodes, is (1/probes) sum v^T H v / v^T v, an estimate of trace / nfree.
 * sigma = sigma_rel x (largest - smallest node) (1e-300 when all nodes are
 * equal); the grid has npoints equally spaced points from the smallest node
 * - 8 sigma to the largest + 8 sigma. */
typedef struct {
    int probes, steps;  /* (10, 100) */
    double sigma_rel;   /* Gaussian broadening relative to the spectrum's width (0.01) */
    int npoints;        /* grid points (1000) */
    uint64_t seed;      /* (1) */
} mn_density_opts;
void mn_density_opts_default(mn_density_opts *o);
typedef struct {
    int nnodes;             /* probes x (steps taken) */
    double *nodes, *weights; /* (nnodes): the Ritz values, tau / probes (they sum to 1) */
    double sigma;           /* the broadening used */
    int npoints;
    double *grid, *values;  /* (npoints): t and phi(t) */
    double mean;            /* sum weights x nodes */
    double mean_se;         /* standard error of the mean over the probes (NaN for one probe) */
} mn_density;
mn_status mn_hess_density(mn_density **out, const mn_objective *f, const double *x, const mn_density_opts *o);
void mn_density_free(mn_density *d);

/* ------------------------------------------------------------------ */
/* Slices: the loss on a line or plane through parameter space.         */

/* The point of a slice at coordinates (a, b), n parameters:
 *   end == NULL: theta = origin + a d1 + b d2 (d2 NULL: 1-D, b unused);
 *   end != NULL: theta = (1 - a) origin + a end + b d2 (d1 unused), so a = 0
 *                and a = 1 give the two end points exactly. */
typedef struct {
    size_t n;
    const double *origin, *d1, *d2, *end;
} mn_plane;
void mn_plane_point(double *theta, const mn_plane *p, double a, double b);

/* The objective (and, when f->accuracy exists and acc != NULL, the
 * accuracy; NaN otherwise) at every grid point: loss[i * na + j] at
 * (a[j], b[i]), nb = 1 and b = NULL for 1-D. A point where the objective is
 * not finite gets NaN (the slice goes on). */
mn_status mn_slice(double *loss, double *acc, const mn_objective *f, const mn_plane *p, const double *a, int na,
                   const double *b, int nb);

/* Directions for slices (n = mn_model_nparams; 0 at frozen parameters). */
typedef enum {
    MN_DIR_RANDOM, /* Gaussian entries, scaled to unit norm */
    MN_DIR_FILTER, /* Li et al. 2018: Gaussian, then each unit's incoming weights
                      (a row of W_l, a conv1d filter, a row of S, an added neuron's
                      (a, w, b)) scaled to that unit's norm in theta; biases 0 */
    MN_DIR_EIG,    /* a unit eigenvector of the Hessian (the first direction the top
                      one, the second the next): mn_hess_extreme */
    MN_DIR_TOWARD  /* toward a second point: mn_plane's end */
} mn_dir_kind;
#define MN_NDIR 4
/* "random", "filter", "eig", "toward". */
const char *mn_dir_name(mn_dir_kind k);
/* MN_EINVAL naming the known kinds for any other name. */
mn_status mn_dir_parse(mn_dir_kind *out, const char *name);
/* A random or filter-normalised direction d (P) at theta, drawn from seed. */
mn_status mn_direction(double *d, const mn_model *model, const double *theta, mn_dir_kind kind, uint64_t seed);

/* ------------------------------------------------------------------ */
/* Paths between two points a and b (n parameters each).               */

/* The straight line and the quadratic Bezier curve
 *     phi(t) = (1 - t)^2 a + 2 t (1 - t) c + t^2 b
 * (Garipov et al. 2018) whose control point c minimises the mean loss over
 * `nodes` fixed values t_k = (k + 1/2) / nodes, by L-BFGS (mn_optim) from
 * c = (a + b) / 2 for at most `steps` iterations (frozen parameters stay at
 * their midpoint). Both are then evaluated at `points` equally spaced t in
 * [0, 1] (t = 0 and 1 are a and b exactly). The barrier of a path is
 * max_t L(phi(t)) - max(L(a), L(b)) (>= 0 on the grid).
 *
 * And a nudged elastic band (Henkelman, Uberuaga, Jonsson 2000: improved
 * tangents, climbing image) of `images` interior points started on the
 * fitted curve at t = j / (images + 1): image j feels the loss gradient
 * across the band's tangent tau_j and a spring k (|x_{j+1} - x_j| -
 * |x_j - x_{j-1}|) tau_j along it; after `neb_climb` steps the highest image
 * climbs (its force is -g + 2 (g.tau) tau, no spring), so it converges to
 * the saddle on the band. The images move by FIRE (Bitzek et al. 2006) until
 * every image's force norm is <= neb_tol or `neb_steps` steps; frozen
 * parameters stay on the curve. The band is the polyline a, x_1, ..,
 * x_images, b, evaluated at `points` equally spaced fractions of its length;
 * its barrier is the larger of the grid's and the images' (the climbing
 * image is the saddle estimate). Without convergence the band reported is
 * the one, of all steps, whose highest image was lowest (best found). k is in loss per squared parameter unit;
 * only the spacing depends on it. images = 0: no band. */
typedef struct {
    int points; /* (101) */
    int nodes;  /* (32) */
    long steps; /* L-BFGS iterations at most (500) */
    double gtol; /* stop when the mean-loss gradient norm is <= gtol (1e-8) */
    int images;     /* NEB interior images (15; 0: none) */
    long neb_steps; /* FIRE steps at most (2000) */
    long neb_climb; /* steps before the highest image climbs (100; >= neb_steps: never) */
    double spring;  /* k (1) */
    double neb_tol; /* stop when every image's force norm is <= neb_tol (1e-6) */
} mn_path_opts;
void mn_path_opts_default(mn_path_opts *o);
typedef struct {
    int points;
    double *t, *line, *curve; /* (points): t, loss on the line, loss on the curve */
    double loss_a, loss_b;
    double barrier_line, barrier_curve;
    double t_line, t_curve;   /* where each maximum is */
    double *control;          /* c (n) */
    long iterations;          /* L-BFGS steps taken */
    const char *state;        /* the optimiser's final state: "converged", "stalled", "running", "diverged" */
    /* The band (NULL / 0 without images). */
    int images;
    double *band;             /* (points) loss along the band at the fractions t of its length */
    double *image;            /* the images x_1..x_images (images x n, row-major) */
    double *image_loss;       /* (images) */
    double *image_t;          /* (images) each image's fraction of the band's length */
    double barrier_band, t_band;
    double band_force;        /* the largest image force norm at the end */
    long band_steps;          /* FIRE steps taken */
    int band_converged;       /* 1: every force norm <= neb_tol */
} mn_path;
mn_status mn_path_between(mn_path **out, const mn_objective *f, const double *a, const double *b,
                          const mn_path_opts *o);
void mn_path_free(mn_path *p);

/* ------------------------------------------------------------------ */
/* Figures by gnuplot (PREFIX.png and PREFIX.svg; MN_EIO when gnuplot is
 * missing or fails).                                                   */

/* The density on a symmetric-log eigenvalue axis, s(t) = sign(t) log10(1 +
 * |t| / t0) with t0 = the broadening sigma, log-scaled density, the negative
 * side shaded, and the top eigenvalues marked (ntop may be 0). */
mn_status mn_plot_density(const mn_density *d, const double *top, int ntop, const char *title, const char *prefix);
/* A 1-D slice (nb = 1: loss and accuracy against a) or a 2-D slice
 * (filled contours of the loss, log-scaled, over the (a, b) grid). acc may
 * be NULL. */
mn_status mn_plot_slice(const double *loss, const double *acc, const double *a, int na, const double *b, int nb,
                        const char *xlabel, const char *ylabel, const char *title, const char *prefix);
/* The loss along the line and the optimised curve against t. */
mn_status mn_plot_path(const mn_path *p, const char *title, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
