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
 *   the rank J has for almost every data set with this pattern.
 *   Shortcut: when p >= n, the eigenvalues of G = J J^T (formed from the
 *   structure, n^2 (d1 + d0) flops) are computed first; if even with their
 *   error bound (10 (n + p) eps trace G) they prove s_n > 100 tol, the rank is
 *   n and no SVD is run. Otherwise the SVD of J decides as above. */
typedef struct {
    int rank;          /* the decided rank: svd_rank, or exact_rank when borderline */
    int svd_rank;      /* singular values > tol */
    double smax, smin; /* largest and n-th singular value (smin = 0 when p < n) */
    double tol;
    int borderline;    /* 1: decided by the exact check */
    int exact_rank;    /* generic rank over GF(2^31 - 1) (-1 when not computed) */
    int gram;          /* 1: decided by the Gram shortcut below (smax, smin from G's eigenvalues) */
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

/* ------------------------------------------------------------------ */
/* Random regions, as Karhadkar et al. sample them: X ~ N(0, I) (n x d0),
 * W and b uniform in +-1/sqrt(d0) (PyTorch's nn.Linear default), v ~ N(0, 1),
 * and for the LP targets y ~ N(0, 1). Trial t draws from the stream
 * mn_seed_derive(seed, {d0, n, d1, t}, 4): results do not depend on the
 * thread count or order. */
typedef struct {
    int d0, n, d1;
    int trials;        /* regions sampled for the rank */
    int full_rank;     /* of them with rank n (mn_region_rank) */
    int borderline;    /* of them decided by the exact check */
    int changed;       /* borderline cases where the exact rank changed the SVD's answer */
    int structural;    /* 1: d1 (d0 + 1) < n, every rank < n: no SVD was run */
    int lp_trials;     /* regions given the zero-loss LP (the first lp_trials trials) */
    int zero_loss;     /* of them holding a zero-loss point in the closed region */
    int zero_loss_open; /* ... in the open region (margin > MN_REGION_INTERIOR) */
} mn_region_cell;
/* One grid cell: `trials` regions for the rank, the first lp_trials of them
 * (<= trials) also for the LP, on `threads` OpenMP threads (OpenBLAS at one
 * thread meanwhile). Errors: MN_EINVAL (sizes), MN_ENOMEM, MN_ELAPACK,
 * MN_ERANGE (GLPK failed). */
mn_status mn_region_sample_cell(mn_region_cell *out, int d0, int n, int d1, int trials, int lp_trials,
                                uint64_t seed, int threads);

/* Many cells at once (experiment karhadkar's grids), each trial a run of the
 * one runner (minima/sweep.h's engine): all trials of all cells share the
 * threads, and with a database they are stored as they finish and a re-run
 * resumes. A cell is a setting of the database, canonical string
 *   experiment=karhadkar d0=D n=N width=W lp_trials=L seed=S
 * and trial t its run with restart t, so a re-run with more trials adds
 * trials to the stored ones; the LP's trial count is part of the setting.
 * A trial's row (minima/record.h) says, in the runs table's columns:
 *   class       global: rank n (the region holds no bad differentiable local
 *               minimum); degenerate: rank < n (the rank test is silent)
 *   iterations  the SVD's rank (singular values above tol; n when the Gram
 *               shortcut decided; -1 when d1 (d0 + 1) < n, no SVD)
 *   near_kink   1: borderline, the rank decided by the exact check (reason
 *               says both ranks)
 *   lambda_min, lambda_max   the n-th and the largest singular value of J
 *   accuracy    the LP's answer: 1 a zero-loss point in the closed region,
 *               0 none, NULL when the trial had no LP (t >= lp_trials)
 *   kink_margin the LP's margin t* (inside the open region when > 1e-6)
 *   optimizer   how the rank was decided: gram, svd, svd+exact, structural
 *   seed        the trial's stream; loss, grad_norm, theta_norm: NULL.
 * Duplicate cells (the ratio grid meets the d0 grid) run once. Results do
 * not depend on threads, on the order the trials finish or on resuming. */
typedef struct {
    int trials, lp_trials, threads;
    uint64_t seed;
    const char *db_path; /* NULL: nothing stored */
} mn_region_cells_opts;
typedef struct {
    long cells;  /* distinct cells */
    long stored; /* trials found in the database */
    long run;    /* trials run now */
} mn_region_cells_stats;
/* cells (ncells): d0, n, d1 given; the counts filled (as mn_region_sample_cell).
 * stats may be NULL. Errors: those of mn_region_sample_cell, and the
 * database's (MN_EIO, MN_EFORMAT). */
mn_status mn_region_sample_cells(mn_region_cell *cells, int ncells, const mn_region_cells_opts *o,
                                 mn_region_cells_stats *stats);

/* ------------------------------------------------------------------ */
/* Cells of a trained network (Bo Liu): a d-W-1 ReLU model of minima.h with
 * biases (f = v . relu(W x + b) + c), the squared loss, no skip, no added
 * neurons; data with one label column. */
typedef struct {
    int n, d0, d1;
    int active_units;  /* units on for at least one sample */
    double point_loss; /* the model's loss at theta (mn_eval) */
    double wall_angle; /* min over i, j of |(x_i,1).(w_j,b_j)| / (|(x_i,1)| |(w_j,b_j)|): the sine of the
                          angle from the point to the nearest wall of its cell (0: on a wall) */
    mn_region_genuine_result cell; /* the cell's least-squares minimum, c free */
} mn_region_point;
/* MN_EINVAL names what does not fit (architecture, activation, loss,
 * bias, skip, eliminator, label columns). */
mn_status mn_region_at(mn_region_point *out, const mn_model *model, const mn_data *data, const double *theta);
/* FNV-1a hash of a point's cell: the pattern A and the signs of v (a unit
 * whose v_j changes sign changes the cell of the (W, b, v) loss). */
uint64_t mn_region_key(const unsigned char *A, int n, int d1, const double *v);

/* Liu's experiment on one data set (samples x d0, one label column), a
 * one-hidden-layer net of d1 units:
 *  - cells: for every k = 0..d1, `cells` random cells with k units active
 *    (W, b uniform in +-1/sqrt(d0), v ~ N(0, 1); the other d1 - k units'
 *    biases set below every sample's pre-activation, so they are dead); for
 *    each its least-squares loss and genuineness (mn_region_genuine, c
 *    free). Rows are indexed by the units actually active.
 *  - gradient descent: `starts` runs of `steps` plain GD steps (step lr,
 *    mn_model_init, squared loss) from seeds derived from seed; the number
 *    of distinct cells (mn_region_key) at each run's iterates, the walls
 *    its path crosses, and whether it ends in the cell where it started.
 *  - best: the lowest loss seen (genuine cells, GD end points): the
 *    reference of "bad" (a genuine cell minimum above best + tol). It is the
 *    best found, not a certified global value.
 * Deterministic in seed whatever the thread count. */
typedef struct {
    int d1, cells, starts;
    long steps;
    double lr, tol;
    uint64_t seed;
    int threads;
} mn_liu_opts;
typedef struct {
    int k;          /* active units */
    int cells;      /* sampled */
    int genuine;    /* cell minimum attained inside the open cell */
    int on_wall;    /* attained on the closed cell only */
    int bad;        /* genuine and loss > best + tol */
    double loss_min, loss_median; /* of the cells' least-squares losses */
    double angle_median;          /* of the sampled points' wall_angle */
} mn_liu_row;
typedef struct {
    int starts;
    /* distinct cells at a run's iterates (steps + 1 points): a lower bound
     * of the distinct cells on its path, the straight segments between
     * iterates */
    double visited_mean;
    int visited_min, visited_max;
    /* walls that path crosses (exact: each pre-activation and v_j is affine
     * on a segment); 1 + crossed bounds the distinct cells on it from above */
    double crossed_mean;
    long crossed_min, crossed_max;
    int stayed;            /* runs ending in the cell they started in */
    double loss_median;    /* GD end losses */
    double best;           /* best loss seen in the whole experiment */
} mn_liu_gd;
/* rows: d1 + 1 entries (k = 0..d1; a row with no cell has cells = 0). */
mn_status mn_region_liu(mn_liu_row *rows, mn_liu_gd *gd, const mn_data *data, const mn_liu_opts *o);

/* Heatmaps by gnuplot: PREFIX.png and PREFIX.svg, one panel per entry of
 * panels (1..4, laid out 2 x 2), each an ny x nx grid of values in [0, 1]
 * (values: npanels x ny x nx; NaN: not computed, drawn blank) over the
 * integer axes x (nx) and y (ny), which must be evenly spaced. MN_EIO when
 * gnuplot is missing or fails. */
mn_status mn_plot_heatmaps(const char *prefix, const char *title, const char *const *panels, int npanels,
                           const char *xlabel, const int *x, int nx, const char *ylabel, const int *y, int ny,
                           const char *zlabel, const double *values);

#endif
