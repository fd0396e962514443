/*
 * minima/popul.h — the population (infinite-data) loss of a two-layer ReLU
 * network against a ReLU teacher with Gaussian inputs, and the protocol of
 * Safran & Shamir (ICML 2018), "Spurious Local Minima are Common in
 * Two-Layer ReLU Neural Networks", Tables 1 and 2.
 *
 * Model. Student x -> sum_{i<n} relu(w_i.x) with output weights 1,
 * W (n x k, row i = w_i); teacher x -> sum_{j<k} relu(x_j), i.e. V = I_k;
 * x ~ N(0, I_k).
 *   F(W) = 1/2 E[(student(x) - teacher(x))^2]
 *        = 1/2 sum_{i,j} g(w_i, w_j) - sum_{i,j} g(w_i, e_j) + 1/2 sum_{i,j} g(e_i, e_j)
 * with the kernel g(u, v) = E[relu(u.x) relu(v.x)]
 *                         = |u| |v| (sin t + (pi - t) cos t) / (2 pi),  t = angle(u, v).
 * F is twice continuously differentiable wherever every w_i != 0. Its
 * third derivatives are bounded but jump where two units (or a unit and a
 * teacher unit) are parallel or antiparallel (t = 0 or pi): there the
 * kernel's second derivative is one-sided (g ~ t^3 / 3 as t -> pi).
 *
 * Eliminating neuron (Liang et al., NeurIPS 2018), optional: the output gets
 * a * exp(c.x + b) added and the objective becomes
 *   F~(W, a, c, b) = 1/2 E[(student + a e^{c.x+b} - teacher)^2] + (lambda/2) a^2,
 * all in closed form (E[e^{2(c.x+b)}] = e^{2b + 2|c|^2};
 * E[e^{c.x+b} relu(u.x)] = e^{b + |c|^2/2} (mu Phi(mu/s) + s phi(mu/s)),
 * mu = u.c, s = |u|).
 *
 * Parameter vector theta: W row-major (n x k), then, with the eliminator,
 * a, c (k), b — the order libminima uses for added neurons.
 *
 * Conventions are those of minima.h: mn_status returns, outputs first, the
 * caller owns what it passes in; NULL is fine for every *_free.
 */
#ifndef MINIMA_POPUL_H
#define MINIMA_POPUL_H

#include <stddef.h>
#include <stdint.h>

#include "minima.h"
#include "minima/record.h"
#include "minima/objective.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MN_POPUL_MAX_K 256 /* teacher units (= input dimension) */
#define MN_POPUL_MAX_N 256 /* student units */

typedef struct {
    int n;         /* student units, 1..MN_POPUL_MAX_N */
    int k;         /* teacher units = input dimension, 1..MN_POPUL_MAX_K */
    int elim;      /* 0: none; 1: one eliminating neuron a*exp(c.x + b) */
    double lambda; /* penalty (lambda/2) a^2, >= 0 (used when elim = 1) */
} mn_popul_spec;

/* Number of parameters: n k, plus k + 2 with the eliminator. */
size_t mn_popul_nparams(const mn_popul_spec *spec);
/* MN_EINVAL (with a message) for sizes out of range or a bad lambda. */
mn_status mn_popul_check(const mn_popul_spec *spec);

/* The kernel g(u, v) above for u, v in R^d (0 when either is 0). */
double mn_popul_kernel(const double *u, const double *v, int d);
/* The arccosine the fast gradient uses (vectorisable, branch-free): for
 * x in [-1, 1] it is within 1 ulp of the result of acos(x), so within
 * 4.5e-16 (measured over 2e6 random points and near -1, -1/2, 0, 1/2, 1 in
 * tests/test_popul.c); arguments outside [-1, 1] are clamped. */
double mn_popul_acos(double x);
/* The square root it uses: the hardware's, correctly rounded (the same bits
 * as sqrt(x) at every vector width; tests/test_popul.c). */
double mn_popul_sqrt(double x);

/* Instruction-set level of the kernel's evaluations. On x86-64 (GCC): 1
 * baseline, 2 x86-64-v2 (SSE4.2), 3 x86-64-v3 (AVX2 + FMA), 4 x86-64-v4
 * (AVX-512); 1 elsewhere. Every level gives bit-identical results (see
 * src/popul/kernel.c); the levels differ only in speed.
 * mn_popul_isa_best: the widest level this CPU (and OS) supports.
 * mn_popul_isa_level: the level in use, mn_popul_isa_best() unless selected. */
int mn_popul_isa_best(void);
int mn_popul_isa_level(void);
/* Selects the level for later evaluations, 0 = the widest supported (for
 * benchmarks and tests); MN_EINVAL for a level the CPU lacks. Process-wide:
 * call it while no evaluation runs. */
mn_status mn_popul_isa_select(int level);

/* Scratch space for one problem size (one per thread). */
typedef struct mn_popul_work mn_popul_work;
mn_status mn_popul_work_alloc(mn_popul_work **out, const mn_popul_spec *spec);
void mn_popul_work_free(mn_popul_work *work);

/* Objective and gradient (P = mn_popul_nparams) at theta; loss or grad may be
 * NULL. MN_ERANGE when a unit is exactly 0 (F is not differentiable there) or
 * a value turns non-finite (an exponent of the eliminator overflows). */
mn_status mn_popul_eval(mn_popul_work *work, const double *theta, double *loss, double *grad);
/* Exact Hessian (P x P, row-major, symmetric) in closed form. */
mn_status mn_popul_hessian(mn_popul_work *work, const double *theta, double *hess);
/* F as an objective (minima/objective.h): value, gradient, the closed-form
 * Hessian, and as its "differentiable here?" check the distance scale to the
 * set where F is not smooth, min_i |w_i| min(1, min_j sin t(w_i, w_j),
 * min_j sin t(w_i, e_j)). Release with mn_objective_free. */
mn_status mn_popul_objective_alloc(mn_objective **out, const mn_popul_spec *spec);

/* ------------------------------------------------------------------ */
/* The Safran-Shamir protocol: random restarts of plain gradient descent.  */

/* A run's class is minima.h's mn_class, decided by mn_class_decide (the
 * rules every run kind shares) from the protocol's facts:
 *   DIVERGED       a non-finite value or parameter norm past max_norm;
 *   GLOBAL         F < global_tol at the end (or earlier: see early);
 *   NOT_CONVERGED  the safety cap on iterations was reached;
 *   SPURIOUS       converged, F >= global_tol, the Hessian minus MN_EIG_TOL I
 *                  positive definite (Cholesky, or the polish's certified
 *                  window when its margin is at least MN_EIG_TOL);
 *   SADDLE         converged, F >= global_tol, smallest eigenvalue < -MN_EIG_TOL;
 *   DEGENERATE     converged, F >= global_tol, smallest eigenvalue within
 *                  +-MN_EIG_TOL (the second-order test is inconclusive). */

typedef struct {
    double step;       /* GD step; 0 means the protocol's 5/n */
    double gtol;       /* stop when ||grad|| <= gtol (1e-9) */
    double global_tol; /* F below this at the end is a global minimum (1e-3) */
    long max_iter;     /* safety cap on GD steps, reported as not-converged (5e6: the
                        * longest run of the default tables took 688229) */
    double max_norm;   /* ||theta|| past this is divergence (1e6) */
    int early_global;  /* shortcut (b): stop once F < global_tol (1) */
    int newton;        /* shortcut (c): certified Newton polishing (1) */
    double dedup_tol;  /* max-abs tolerance for equal minima up to symmetry (1e-6) */
    /* Progress of mn_popul_experiment_db / _many (NULL: none, the default):
     * called after each run, one call at a time, from the worker threads,
     * with the runs done (loaded ones included) of runs_total and the rows
     * whose runs are all done. Not part of what a run depends on. */
    void (*progress)(void *ctx, long runs_done, long runs_total, int rows_done, int rows_total);
    void *progress_ctx;
} mn_popul_opts;
/* The documented defaults in parentheses above; no shortcuts when both flags
 * are cleared. */
void mn_popul_opts_default(mn_popul_opts *opts);

/* One restart: the seam for persistence (one row per run in a database). */
typedef struct {
    int n, k, restart;
    uint64_t seed;      /* mn_seed_derive(base, {k, n, restart}) */
    mn_class cls;
    int early;          /* 1: classified global by shortcut (b), before convergence */
    int polished;       /* 1: end point reached by certified Newton steps (c) */
    int newton_tries;   /* polishing attempts (each one Hessian and Cholesky at least) */
    long iters;         /* GD steps taken */
    double loss;        /* F (or F~) at the end point */
    double gnorm;       /* gradient norm at the end point */
    double lambda_min;  /* smallest Hessian eigenvalue (NaN when not computed) */
    double orth_err;    /* ||W^T W - I||_F when n = k (NaN otherwise) */
    double a, b, c_norm, a_exp_b; /* eliminator at the end (NaN without) */
    double max_f_after; /* largest F seen after F first fell below global_tol (NaN: never) */
    int distinct;       /* index of its spurious minimum within the row, or -1 */
    double seconds;     /* wall seconds of the run in its thread (0 from mn_popul_run_one) */
} mn_popul_run;

/* Runs restart `restart` from seed mn_seed_derive(base_seed, {k, n, restart});
 * theta_out (P, may be NULL) receives the end point. lambda_min is filled
 * only for converged points with F >= global_tol. Holds OpenBLAS at one
 * thread while it runs (so the result is the experiment's, bit for bit):
 * do not call it concurrently with code that sets OpenBLAS's thread count. */
mn_status mn_popul_run_one(mn_popul_run *out, double *theta_out, const mn_popul_spec *spec,
                           const mn_popul_opts *opts, uint64_t base_seed, int restart);

/* One table row. */
typedef struct {
    int k, n, restarts;
    int count[MN_NCLASS];       /* runs per class (mn_class) */
    int early, polished;        /* runs that took shortcut (b) / (c) */
    long long steps;            /* GD steps (gradient evaluations of the GD loop) over all runs */
    double spurious_pct, spurious_lo, spurious_hi; /* % with a 95% Wilson interval */
    double mean_lambda_min;     /* over the spurious runs (NaN when none) */
    double mean_loss;           /* over the spurious runs (NaN when none) */
    int distinct;               /* distinct spurious minima up to symmetry */
    double median_abs_a, median_a_exp_b, median_b, median_c_norm; /* eliminator, over the runs not
                                                                   * diverged (NaN without) */
    double seconds;             /* wall seconds of the row (see mn_popul_experiment) */
    double run_seconds;         /* sum of the runs' seconds, runs loaded from a database included */
    int loaded;                 /* runs loaded from a database instead of run (mn_popul_experiment_db) */
} mn_popul_row;

/* The restarts of one row, in parallel (threads <= 0: OpenMP's default),
 * results bit-identical for every thread count (OpenBLAS is held at one
 * thread meanwhile, then restored). runs (restarts, may be NULL) receives
 * every run in restart order. Spurious minima equal up to permuting the
 * student units and, jointly, the input coordinates with the teacher units
 * (entries within dedup_tol) count once; the Hessian's eigenvalues are
 * computed once per distinct minimum, at its first-found representative.
 * row->seconds: wall time from the start of the row's first run to the end
 * of its last, plus its reduction. */
mn_status mn_popul_experiment(mn_popul_row *row, mn_popul_run *runs, const mn_popul_spec *spec,
                              const mn_popul_opts *opts, int restarts, uint64_t base_seed,
                              int threads);
/* Several rows as one pool of restarts (largest problems first), which keeps
 * every thread busy to the end: rows[i] is what mn_popul_experiment gives for
 * specs[i], bit for bit. runs (nspecs pointers, may be NULL, as may each)
 * receives each row's runs. Rows run concurrently, so their seconds overlap;
 * the table's wall time is the caller's to measure. */
mn_status mn_popul_experiment_many(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs,
                                   int nspecs, const mn_popul_opts *opts, int restarts,
                                   uint64_t base_seed, int threads);

/* Persistence in a sweep database (minima/sweep.h). Each row is a setting
 * with the canonical string below; each run a row of its runs table:
 * optimizer "gd" or "gd+newton" (polished), iterations = GD steps, reason
 * "early global: F < global_tol" for shortcut (b), elim_w_norm = |c|, the
 * end point (theta) for spurious runs only (the points the distinct-minima
 * test compares: Newton-sharpened GD end points), lambda_min written once
 * the row is reduced. Not stored: newton_tries, orth_err, max_f_after
 * (0, NaN, NaN for loaded runs); nothing a row reports depends on them. */
/* "experiment=safran-shamir k=.. n=.. eliminate=none|liang [lambda=..]
 * step=.. gtol=.. global_tol=.. max_iter=.. max_norm=.. early_global=..
 * newton=.. seed=.." (doubles as %.17g; step 0 is written 5/n): everything
 * a run's result depends on. MN_EINVAL when it does not fit in len. The
 * settings table's options hold the same pairs as a JSON object of strings. */
mn_status mn_popul_canon(char *buf, size_t len, const mn_popul_spec *spec, const mn_popul_opts *opts,
                         uint64_t base_seed);
/* The row of a settings table entry (its options JSON, strings or, in
 * databases of earlier versions, numbers, and its canonical string): spec,
 * opts (dedup_tol at its default) and base seed. MN_EFORMAT when the entry
 * is not a Safran-Shamir row or its options do not give back its canonical
 * string. */
mn_status mn_popul_setting_parse(mn_popul_spec *spec, mn_popul_opts *opts, uint64_t *base_seed, const char *json,
                                 const char *canon);
/* mn_popul_experiment_many with a database (db may be NULL: the same as
 * mn_popul_experiment_many): runs already stored for a row's setting are
 * loaded instead of run, the others stored as they finish by the runner
 * (in list order, transactions at most 0.1 s apart: see src/run/internal.h),
 * and the row's spurious runs get their lambda_min. Rows are
 * bit-identical to an uninterrupted run's, timing aside. */
mn_status mn_popul_experiment_db(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs, int nspecs,
                                 const mn_popul_opts *opts, int restarts, uint64_t base_seed, int threads,
                                 mn_db *db);

/* Figure of % spurious (95% Wilson intervals) against k, one series per
 * (n - k, eliminator) present among the rows: PREFIX.png and PREFIX.svg by
 * gnuplot. specs[i] describes rows[i]. MN_EIO when gnuplot is missing or
 * fails, MN_EINVAL for no rows. */
mn_status mn_popul_plot(const mn_popul_row *rows, const mn_popul_spec *specs, int nrows, const char *prefix);

/* 1 when A and B (rows x cols, row-major) are equal within tol up to a
 * permutation of the first `rows - pinned` rows and a permutation of the
 * columns (the last `pinned` rows stay in place but have their columns
 * permuted with the rest). */
int mn_popul_equivalent(const double *A, const double *B, int rows, int cols, int pinned, double tol);

/* Distinct minima among m end points pts[i] (P each) with losses loss[i]
 * and, with the eliminator, a[i] and b[i] (NULL without): equal up to
 * the symmetries of mn_popul_equivalent within tol, with losses within 1e-8
 * relative and a, b within tol. label[i] gets the index of the distinct
 * minimum of point i (numbered in order of first appearance). */
mn_status mn_popul_distinct(int *label, int *ndistinct, const double *const *pts, const double *loss,
                            const double *a, const double *b, int m, const mn_popul_spec *spec, double tol);

#ifdef __cplusplus
}
#endif
#endif
