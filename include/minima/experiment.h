/*
 * minima/experiment.h — the experiments as library plans: each is a plan
 * (its options, set by name from strings through the option table of
 * minima/sweep.h, like the command line does), one call that runs it
 * (resuming from a database), and a result the caller prints. `minima
 * experiment NAME` is parse -> call -> print over these.
 *
 *   eliminate       does one added neuron (Liang et al. 2018) remove bad
 *                   local minima in practice? data x loss x defence settings,
 *                   network runs through the sweep runner (src/experiment/eliminate.c)
 *   arena           every defence the papers propose (softplus, the eliminating
 *                   neuron over lambda, width through N, quadratic activation
 *                   with k through sqrt(2n), perturbed GD) under GD and L-BFGS,
 *                   judged alike by mn_judge (src/experiment/arena.c)
 *   safran-shamir   Safran & Shamir (ICML 2018) Tables 1-2 on the population
 *                   loss of minima/popul.h (src/experiment/safran_shamir.c)
 *   saddles         Du et al. (NeurIPS 2017): GD vs perturbed GD through the
 *                   octopus's chain of saddles, and near a certified saddle
 *                   of a linear network (src/experiment/saddles.c)
 *   balance         Du, Hu, Lee (NeurIPS 2018): the per-unit invariants of
 *                   homogeneous networks under GD, drift against the step;
 *                   matrix factorisation from unbalanced starts
 *                   (src/experiment/balance.c)
 *   residual        Bartlett, Helmbold & Long (ICML 2018): GD from the
 *                   identity on deep linear residual nets (src/experiment/residual.c)
 *   implicit-bias   Gunasekar, Lee, Soudry & Srebro (NeurIPS 2018): the direction
 *                   GD's linear predictor takes, fully connected vs convolutional
 *                   (src/experiment/implicit_bias.c, max_margin.c)
 *
 * Conventions are those of minima.h: mn_status returns with a one-line
 * mn_last_error(), outputs first, every *_free accepts NULL.
 */
#ifndef MINIMA_EXPERIMENT_H
#define MINIMA_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "minima.h"
#include "minima/objective.h"
#include "minima/popul.h"
#include "minima/prove.h"
#include "minima/sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* eliminate                                                           */

typedef struct {
    int quick;             /* the small grid (n 100, 3000 steps, 3 restarts) */
    const char *data_path; /* CSV data with -1/+1 labels instead of the generated sets (NULL: none) */
    const char *label;     /* its label column(s) */
    long restarts;         /* runs per setting; <= 0: the grid's (20; quick 3) */
    int threads;           /* <= 0: all cores */
    const char *db_path;   /* SQLite database ("eliminate.db") */
    const char *plot;      /* figure PREFIX.png / PREFIX.svg by gnuplot (NULL: none) */
    FILE *progress;        /* the runner's progress lines (NULL: none) */
} mn_elim_plan;

/* One setting of the grid: what it is, in words. */
typedef struct {
    char data[48];    /* "xor", "spirals+flip0.1", "csv", ... */
    char loss[16];    /* poly_hinge | logistic | squared */
    char defence[16]; /* none | liang | per-output | softplus | wider | pgd */
    int realizable;   /* 1 yes, 0 no, -1 unknown (CSV data) */
} mn_elim_cell;

typedef struct {
    int n;               /* settings, data outermost, then flip, loss, defence */
    mn_elim_cell *cells; /* (n) */
    mn_summary *summary; /* (n) their summaries (mn_summarize, no catalogue) */
    long restarts;       /* per setting */
    long done, skipped;  /* runs done now, runs found stored */
    double seconds;      /* wall time of the runs */
} mn_elim_result;

void mn_elim_plan_default(mn_elim_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL). */
mn_status mn_elim_plan_set(mn_elim_plan *p, const char *name, const char *value);
/* Builds every setting (a bad data file fails here, before the database is
 * touched), runs what the database does not hold yet, summarises, and draws
 * the figure when asked. */
mn_status mn_experiment_eliminate(mn_elim_result **out, const mn_elim_plan *p);
void mn_elim_result_free(mn_elim_result *r);

/* ------------------------------------------------------------------ */
/* arena                                                               */

typedef struct {
    int quick;           /* the small grid (n 40, iris the only real data, 3 restarts) */
    long restarts;       /* runs per setting; <= 0: the grid's (10; quick 3) */
    int threads;         /* <= 0: all cores */
    const char *db_path; /* SQLite database ("arena.db") */
    const char *plot;    /* heat map PREFIX.png / PREFIX.svg by gnuplot (NULL: none) */
    FILE *progress;      /* the runner's progress lines (NULL: none) */
    double lambdas[8];   /* the eliminating neuron's penalties (nlambda of them; 0: 0.01, 0.1, 1, 10) */
    int nlambda;
} mn_arena_plan;

/* One setting: data, defence and optimiser, in words. */
typedef struct {
    char data[48];      /* "separable", "xor", "iris", "breast_cancer", "wine", "xor:logistic" (data:loss
                         * where the loss is not poly_hinge), "quad-n50-d10" (Du & Lee's n, d) */
    char family[16];    /* none | softplus | liang | per-output | width | quadratic | pgd */
    char defence[32];   /* "none", "liang(0.1)", "per-out(1)", "width=N", "quad(k=10)", ... (no spaces) */
    char optimizer[8];  /* gd | lbfgs | pgd */
    double param;       /* lambda, width or k (NaN: none) */
} mn_arena_cell;

typedef struct {
    int n;                 /* settings: each data set over optimisers and defences, then Du & Lee */
    mn_arena_cell *cells;  /* (n) */
    mn_summary *summary;   /* (n) mn_summarize: class = mn_judge's, zero_error = accuracy 1 after removal */
    long restarts, done, skipped;
    double seconds;        /* wall time of the runs */
    int dulee_n, dulee_d;  /* Du & Lee data: samples and features */
    int dulee_k[4];        /* its hidden-unit counts, through sqrt(2 dulee_n) */
} mn_arena_result;

void mn_arena_plan_default(mn_arena_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * quick, restarts, threads, db, plot. */
mn_status mn_arena_plan_set(mn_arena_plan *p, const char *name, const char *value);
/* Builds every setting, runs what the database does not hold yet,
 * summarises, and draws the heat map when asked. */
mn_status mn_experiment_arena(mn_arena_result **out, const mn_arena_plan *p);
/* Setting i's success rate: the share of its runs with zero training error
 * after removal (hinge rows), or certified global, loss <= 1e-6 (the Du &
 * Lee rows, squared loss); NaN without runs. */
double mn_arena_success(const mn_arena_result *r, int i);
/* The heat map of a result: rows data x optimiser, columns defences, each
 * cell mn_arena_success in percent. */
mn_status mn_arena_plot(const mn_arena_result *r, const char *prefix);
void mn_arena_result_free(mn_arena_result *r);

/* ------------------------------------------------------------------ */
/* safran-shamir                                                       */

#define MN_SS_MAX_LIST 256

typedef struct {
    int k[MN_SS_MAX_LIST], nk;         /* teacher sizes (6..20) */
    int extra[MN_SS_MAX_LIST], nextra; /* n - k (0, 1) */
    int elim[2], nelim;                /* eliminator values: 0 none, 1 liang (none) */
    double lambda;                     /* the eliminator's penalty (0.01) */
    int restarts;                      /* per row (1000) */
    uint64_t seed;                     /* base seed (1) */
    int threads;                       /* <= 0: all cores */
    mn_popul_opts opts;                /* mn_popul_opts_default; --step, --max-iter, --no-shortcuts;
                                          the caller may set its progress hook */
    int prove;                         /* prove each row's distinct spurious minima (minima/prove.h) */
    const char *db_path;               /* store and resume (NULL: none) */
    const char *plot;                  /* figure PREFIX (NULL: none); with a database, of every
                                          row stored there with this seed and these shortcuts */
} mn_ss_plan;

typedef struct {
    int n;                /* rows: eliminator values, then extra values, each over the k values */
    mn_popul_spec *specs; /* (n) */
    mn_popul_row *rows;   /* (n) */
    /* With prove (else NULL): per row, the proofs of its distinct spurious
     * minima (nproofs[i] of them, mn_prove_popul_row), how many were proved
     * spurious, and the wall time of the row's proofs (s). */
    mn_prove_result **proofs;
    int *nproofs, *nproved;
    double *prove_seconds;
    double prove_total_seconds; /* wall time of all proofs */
} mn_ss_result;

void mn_ss_plan_default(mn_ss_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * k, extra (lists "A..B", "A" or "A,B,.."), eliminate ("none", "liang",
 * "none,liang"), lambda, restarts, seed, threads, step, max-iter,
 * no-shortcuts, prove, db, plot. */
mn_status mn_ss_plan_set(mn_ss_plan *p, const char *name, const char *value);
/* What holds between options (k + extra within MN_POPUL_MAX_N). */
mn_status mn_ss_plan_check(const mn_ss_plan *p);
/* All rows as one pool of restarts (mn_popul_experiment_db), the database
 * opened first (a bad path fails at once), then the proofs (prove), then the
 * figure. */
mn_status mn_experiment_safran_shamir(mn_ss_result **out, const mn_ss_plan *p);
void mn_ss_result_free(mn_ss_result *r);

/* ------------------------------------------------------------------ */
/* saddles                                                             */

typedef struct {
    int quick;                     /* d = 2..8, 30 restarts */
    int dims[MN_OCTOPUS_MAX_D], ndims; /* octopus dimensions (2..10) */
    double gamma, L;               /* the octopus's curvatures (1, 0.6) */
    double c;                      /* both methods step c / ell, ell the octopus's bound (0.5) */
    double pgd_eps;                /* PGD's epsilon (0.1); its other constants from ell, rho */
    double init;                   /* start uniform in [-init m, init m]^d (0.1) */
    int restarts;                  /* random starts per dimension (1000; quick 30) */
    long max_iter;                 /* iterations per run at most (1000000) */
    uint64_t seed;                 /* base seed (1) */
    int threads;                   /* <= 0: all cores */
    int network;                   /* also the linear network part (1) */
    const char *db_path;           /* store and resume the octopus runs (NULL: none) */
    const char *plot;              /* figure PREFIX.png / .svg (NULL: none) */
} mn_saddles_plan;

/* The octopus runs of one (d, method): escape[r * d + i] = iterations
 * between passing saddle i (0-based; passing = |x_i| >= s1) and the one
 * before it (from the start for i = 0); INFINITY when run r did not pass it
 * (the iteration cap, or GD stuck at a floating-point fixed point: stuck). */
typedef struct {
    int d, pgd;
    int restarts;
    double *escape;           /* (restarts x d) */
    double *med, *q1, *q3;    /* (d) median and quartiles of escape over restarts (INFINITY counts) */
    int *not_passed;          /* (d) restarts that did not pass saddle i */
    int stuck;                /* restarts GD left at a fixed point before the minimum */
    int subnormal;            /* restarts in which a coordinate fell below DBL_MIN before its
                                 saddle was passed: escape times then measure rounding */
    double med_total;         /* median iterations to pass every saddle */
    long loaded;              /* restarts loaded from the database */
} mn_saddles_row;

/* The linear network part: a certified saddle and, per start distance,
 * the iterations GD and PGD took to bring the loss 1% below its value there
 * (-1: not within the cap). */
#define MN_SADDLES_NDELTA 6
typedef struct {
    char arch[32];
    mn_cert cert;          /* at the saddle (the origin) */
    double step;           /* GD step = PGD's c / ell, ell = max |eigenvalue| there */
    double delta[MN_SADDLES_NDELTA]; /* start = saddle + delta u, |u| = 1 */
    long gd[MN_SADDLES_NDELTA], pgd[MN_SADDLES_NDELTA];
    long cap;
} mn_saddles_net;

typedef struct {
    mn_octopus oct;             /* constants of the largest d */
    double step, pgd_radius, pgd_g_thres; /* the step and PGD's perturbation radius and trigger, largest d */
    long pgd_t_thres;
    /* GD's escape time per saddle once the start is forgotten: it grows by
     * growth = 1 + kappa, kappa = -ln(1 - step L) / ln(1 + step gamma)
     * (docs/saddles.md); growth_measured = (med[d-1] / med[d-5])^(1/4) of
     * the largest d's GD row (NaN below d = 6) */
    double growth, growth_measured;
    int n;                      /* rows: dimensions in order, gd then pgd */
    mn_saddles_row *rows;       /* (n) */
    int ntrace;                 /* objective against iterations, largest d, restart 0 */
    long *trace_iter;           /* (ntrace) */
    double *trace_gd, *trace_pgd; /* (ntrace) NaN once a run has stopped */
    int has_net;
    mn_saddles_net net;
    double seconds;
} mn_saddles_result;

void mn_saddles_plan_default(mn_saddles_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * quick, dims ("A..B", "A" or "A,B,.."), gamma, stable, c, pgd-eps, init,
 * restarts, max-iter, seed, threads, no-network, db, plot. */
mn_status mn_saddles_plan_set(mn_saddles_plan *p, const char *name, const char *value);
/* Runs what the database lacks, loads the rest, summarises, runs the
 * network part and draws the figure when asked. */
mn_status mn_experiment_saddles(mn_saddles_result **out, const mn_saddles_plan *p);
void mn_saddles_result_free(mn_saddles_result *r);
/* The figure: objective against iterations (largest d, restart 0) and the
 * median escape time against the saddle index (log scale, quartile bars),
 * PREFIX.png and PREFIX.svg by gnuplot (src/plot/saddles_plot.c). */
mn_status mn_saddles_plot(const mn_saddles_result *r, const char *prefix);

/* ------------------------------------------------------------------ */
/* balance                                                             */

#define MN_BALANCE_MAX_STEPS 8
typedef struct {
    int quick;                          /* steps 0.02, 0.01; horizon 10; smaller factorisation budget */
    int act[5], nact;                   /* activations (relu, leaky_relu, linear, tanh, sigmoid) */
    double step[MN_BALANCE_MAX_STEPS];  /* GD steps, each run for horizon / step iterations */
    int nstep;                          /* (0.04, 0.02, 0.01, 0.005) */
    double horizon;                     /* time horizon T = step x iterations (20) */
    uint64_t seed;                      /* data and initialisation (1) */
    const char *db_path;                /* store and resume (NULL: none) */
    const char *plot;                   /* figure PREFIX (NULL: none) */
    int threads;                        /* OpenMP threads of the runs (0: all); results do not depend on it */
} mn_balance_plan;

/* One (activation, step) run of GD on the 4-8-8-1 network from the same
 * start: the invariants I_j = |incoming weights and bias of unit j|^2 -
 * |outgoing weights of j|^2 of the 16 hidden units, and the layer
 * differences D_l = |W_l|_F^2 + |b_l|^2 - |W_{l+1}|_F^2 (l = 1, 2). */
typedef struct {
    int act;
    double step;
    long iterations;
    double loss0, loss;     /* at the start and at time T */
    double unit_drift;      /* max_j |I_j(T) - I_j(0)| */
    double layer_drift;     /* max_l |D_l(T) - D_l(0)| */
    double unit_scale;      /* max_j |I_j(0)|, for scale */
    int loaded;
} mn_balance_row;

/* Matrix factorisation M (8 x 6, rank 2) = W2 W1, W1 4 x 6, W2 8 x 4,
 * as the 6-4-8 linear network on the inputs e_1..e_6; imbalance
 * B = W1 W1^T - W2^T W2 (4 x 4), constant under gradient flow. */
typedef struct {
    double scale;              /* W1 x scale, W2 / scale at the start (1: balanced in law) */
    double step;
    long iterations;
    double loss0, loss;
    double imb0, imb;          /* |B|_F at the start and the end */
    double imb_change;         /* |B(end) - B(0)|_F */
} mn_balance_mf;

#define MN_BALANCE_NMF 3
typedef struct {
    int n;                     /* rows: activations x steps (steps fastest) */
    mn_balance_row *rows;
    mn_balance_mf mf[MN_BALANCE_NMF];
    int ntrace;                /* the factorisation runs' loss every trace_every iterations */
    long trace_every;
    double *trace;             /* (MN_BALANCE_NMF x ntrace) */
    double seconds;
} mn_balance_result;

void mn_balance_plan_default(mn_balance_plan *p);
/* quick, acts ("relu,tanh"), steps ("0.04,0.02"), horizon, seed, threads, db, plot. */
mn_status mn_balance_plan_set(mn_balance_plan *p, const char *name, const char *value);
mn_status mn_experiment_balance(mn_balance_result **out, const mn_balance_plan *p);
void mn_balance_result_free(mn_balance_result *r);
/* Drift against step (log-log, one curve per activation, slope-1 guide) and
 * the factorisation runs' loss against iterations (src/plot/balance_plot.c). */
mn_status mn_balance_plot(const mn_balance_result *r, const char *prefix);
/* residual                                                            */

/* Bartlett, Helmbold & Long (ICML 2018): GD from Theta_i = I on the
 * population loss (1/2) ||Theta_L ... Theta_1 - Phi||_F^2
 * (mn_resid_objective_alloc) for three families of d x d targets Phi:
 *   pd        symmetric positive definite, eigenvalues kappa^(-1/2) ..
 *             kappa^(1/2) (geometric), random eigenvectors;
 *   negative  symmetric with one eigenvalue -mu, the others 0.5 .. 2;
 *   distance  I + s G / ||G||_2 with G Gaussian (not symmetric).
 * The step is step_scale / (L max(1, ||Phi||_2)^2). A run converges when
 * the loss is <= eps; for symmetric Phi and L >= 2 the loss of exact GD
 * never goes below the floor (1/2) sum over negative eigenvalues lambda of
 * lambda^2 (docs/residual.md). */
#define MN_RESID_MAX_LIST 32

typedef enum { MN_RESID_PD, MN_RESID_NEGATIVE, MN_RESID_DISTANCE } mn_resid_family;
#define MN_RESID_NFAMILY 3
const char *mn_resid_family_name(mn_resid_family f); /* "pd", "negative", "distance" */

typedef struct {
    int quick;                                 /* the small grid (defaults of the lists below) */
    int d;                                     /* Phi is d x d (8) */
    int depth[MN_RESID_MAX_LIST], ndepth;      /* 0: 1,2,4,8,16,32,64 (quick 1,2,8) */
    double kappa[MN_RESID_MAX_LIST]; int nkappa; /* pd condition numbers; 0: 2,8,32 (quick 2,8) */
    double mu[MN_RESID_MAX_LIST]; int nmu;     /* negative eigenvalues -mu; 0: 0.1,0.5,1 (quick 0.5) */
    double dist[MN_RESID_MAX_LIST]; int ndist; /* ||Phi - I||_2; 0: 0.25,0.5,0.75,1,1.5,2 (quick 0.5,2) */
    int families;                              /* bits 1 << mn_resid_family; 0: all */
    int restarts;                              /* distance targets per setting; <= 0: 3 (quick 1); the
                                                  symmetric families take one: GD from I depends only on
                                                  the spectrum of a symmetric Phi (docs/residual.md) */
    double eps;                                /* converged: loss <= eps (1e-8) */
    double step_scale;                         /* (0.5) */
    long max_iter;                             /* GD steps per run; <= 0: 20000 (quick 5000) */
    uint64_t seed;                             /* base seed of the targets (1) */
    int threads;                               /* <= 0: all cores */
    const char *db_path;                       /* store and resume (NULL: none) */
    const char *plot;                          /* figure PREFIX (NULL: none) */
} mn_resid_plan;

typedef struct {
    mn_resid_family family;
    int depth;
    double param;          /* kappa, mu or s */
    int restarts, converged, loaded;
    double iter_median;    /* median steps to eps over the converged runs (NaN: none) */
    long iter_max;         /* most steps to eps over the converged runs (-1: none) */
    double loss_max;       /* largest final loss over the runs */
    double floor;          /* the proven floor, largest over the runs (0 for pd; NaN for distance) */
    int above_floor;       /* runs whose loss never went below floor (1 - 1e-12) (negative, L >= 2) */
    int neg_det;           /* targets with det Phi < 0 (every negative target; some distance ones) */
    double gap_min;        /* least (lowest loss - floor) / floor over the runs (negative family) */
    double asym;           /* largest max_i ||Theta_i - Theta_1||_F / ||Theta_1||_F at the end */
    double step;           /* the step of restart 0 */
    double seconds;        /* wall time of the runs done now */
} mn_resid_row;

typedef struct {
    int n;              /* rows: family, then depth, then parameter */
    mn_resid_row *rows; /* (n) */
    mn_resid_plan plan; /* the plan with its defaults resolved */
    long done, skipped; /* runs done now, runs found stored */
} mn_resid_result;

void mn_resid_plan_default(mn_resid_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * quick, d, depth, kappa, mu, dist, family, restarts, eps, step-scale,
 * max-iter, seed, threads, db, plot. */
mn_status mn_resid_plan_set(mn_resid_plan *p, const char *name, const char *value);
/* Runs what the database does not hold, summarises, draws the figure. */
mn_status mn_experiment_residual(mn_resid_result **out, const mn_resid_plan *p);
void mn_resid_result_free(mn_resid_result *r);

/* ------------------------------------------------------------------ */
/* implicit-bias                                                       */

/* Gunasekar, Lee, Soudry & Srebro (NeurIPS 2018): on linearly separable
 * data with the logistic loss, GD's end-to-end linear predictor beta
 * (f(x) = <x, beta>) of an L-layer linear network converges in direction
 * to the hard-margin SVM solution when the layers are fully connected, and
 * to a stationary point of min ||DFT(beta)||_{2/L} s.t. y_i <x_i, beta> >= 1
 * when the first L - 1 layers are full-width circular convolutions
 * (src/experiment/implicit_bias.c). The comparison points: */

/* The hard-margin SVM through the origin, min (1/2)||beta||^2 s.t.
 * y_i <x_i, beta> >= 1 (x: n x d row-major, y: -1/+1), by dual coordinate
 * ascent, with its KKT conditions measured: */
typedef struct {
    double min_margin; /* primal feasibility: min_i y_i <x_i, beta> (>= 1 - 1e-9, else an error) */
    double slackness;  /* complementary slackness: max_i a_i |y_i <x_i, beta> - 1| */
    double gap;        /* duality gap (||beta||^2 - sum a) / ||beta||^2 (<= 1e-9, else an error) */
    double norm;       /* ||beta|| = 1 / the margin */
    int support;       /* support vectors (a_i > 0) */
    long sweeps;       /* coordinate sweeps done */
} mn_svm_kkt;
/* beta (d). Stationarity holds by construction (beta = sum a_i y_i x_i).
 * MN_ERANGE (one line) when the data are not separable through the origin. */
mn_status mn_svm_hard_margin(double *beta, mn_svm_kkt *kkt, const double *x, const double *y, int n, int d);

/* min sum_k |DFT(beta)_k| s.t. y_i <x_i, beta> >= 1 as a GLPK LP, |z|
 * replaced by the regular m-gon max_j Re(z e^{-2 pi i j / m}) (m >= 4),
 * which lies in [cos(pi/m) |z|, |z|]: */
typedef struct {
    double lower;      /* the LP's value: <= the true minimum */
    double upper;      /* sum_k |DFT(beta)_k| of the LP's beta: >= the true minimum */
    double bound;      /* 1 / cos(pi / m): upper <= bound * lower, the approximation's guarantee */
    double min_margin; /* min_i y_i <x_i, beta> */
} mn_l1dft_info;
mn_status mn_l1dft_margin(double *beta, mn_l1dft_info *info, const double *x, const double *y, int n, int d, int m);
/* |DFT(beta)_k|, k = 0..d-1 (unnormalised, e^{-2 pi i k j / d}). */
void mn_dft_abs(double *mag, const double *beta, int d);

/* The experiment. Data: x_i ~ N(0, I_d), y_i = sign <x_i, w*> with w* one
 * cosine of a random frequency (or Gaussian), a fresh set per restart. Networks without biases, linear
 * units, logistic loss: fully connected dense:d x (L-1) then dense:1, or
 * convolutional conv1d x (L-1) then dense:1 (L = 1: both are <w, x>);
 * mn_model_init's random start, plain GD with step lr for max_iter steps;
 * beta read off the network as f(e_j). */
#define MN_IB_MAX_LIST 16

typedef struct {
    int quick;                           /* the small grid (defaults below) */
    int d, n;                            /* features (16) and samples (32) */
    int depth[MN_IB_MAX_LIST], ndepth;   /* 0: 1,2,3,5 (quick 1,2,3) */
    int nets;                            /* bit 0 fully connected, bit 1 convolutional; 0: both */
    int teacher_freq;                    /* 1 (default): w* one frequency pair, cos(2 pi k0 j / d + phi); 0: Gaussian */
    int restarts;                        /* data sets; <= 0: 3 (quick 1) */
    double lr;                           /* GD step (0.05) */
    long max_iter;                       /* GD steps; <= 0: 100000 (quick 20000) */
    int directions;                      /* m of the m-gon in the l1-DFT LP (64) */
    uint64_t seed;                       /* base seed of data and initialisations (1) */
    int threads;                         /* <= 0: all cores */
    const char *db_path;                 /* store and resume (NULL: none) */
    const char *plot;                    /* figure PREFIX (NULL: none) */
} mn_ib_plan;

typedef struct {
    int conv;                /* 0 fully connected, 1 convolutional */
    int depth;
    int restarts, loaded;
    double cos_svm_mean, cos_svm_min; /* cosine of beta to the SVM direction over the data sets */
    double cos_l1_mean, cos_l1_min;   /* to the l1-DFT LP solution (NaN unless conv with L = 2) */
    double eff_freq;         /* mean (sum_k |b_k|)^2 / sum_k |b_k|^2, b = DFT(beta): 1..d, lower is sparser */
    /* beta scaled to margin 1 against the two optima, largest over the data
     * sets: ||beta|| / ||beta_svm|| (>= 1; 1 at the SVM direction) and
     * sum_k |DFT(beta)_k| / the LP's value (>= 1 / cos(pi/m); about 1 at the
     * l1-DFT optimum). NaN when beta does not separate the data. */
    double l2_ratio, l1_ratio;
    double loss_max;         /* largest final training loss */
    double acc_min;          /* smallest training accuracy */
    double seconds;          /* wall time of the runs done now */
} mn_ib_row;

typedef struct {
    int n;                    /* rows: networks (fc, conv), then depths */
    mn_ib_row *rows;          /* (n) */
    mn_ib_plan plan;          /* the plan with its defaults resolved */
    int ndata;                /* data sets (= restarts) */
    mn_svm_kkt *svm;          /* (ndata) the SVM's KKT measures */
    mn_l1dft_info *l1;        /* (ndata) the LP's bracket */
    double svm_eff, l1_eff;   /* mean effective frequencies of the SVM and LP solutions */
    /* |DFT(beta)| / its largest entry on data set 0 (d each): per row, then SVM, then LP */
    double *spectra;          /* ((n + 2) x d) */
    long done, skipped;       /* runs done now, runs found stored */
} mn_ib_result;

void mn_ib_plan_default(mn_ib_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * quick, d, n, depth, nets, restarts, lr, max-iter, directions, seed,
 * threads, db, plot. */
mn_status mn_ib_plan_set(mn_ib_plan *p, const char *name, const char *value);
mn_status mn_experiment_implicit_bias(mn_ib_result **out, const mn_ib_plan *p);
void mn_ib_result_free(mn_ib_result *r);

#ifdef __cplusplus
}
#endif
#endif
