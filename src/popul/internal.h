/* Internals of the population model shared by the files of src/popul/. */
#ifndef MN_POPUL_INTERNAL_H
#define MN_POPUL_INTERNAL_H

#include <math.h>

#include "minima/popul.h"

#define MN_PI 3.14159265358979323846

struct mn_popul_work {
    mn_popul_spec spec;
    size_t P;      /* parameters */
    int npair;     /* n (n - 1) / 2 student pairs */
    int np, kp;    /* n and k rounded up to multiples of 8 (row strides) */
    double *buf;   /* the one allocation below points into */
    double *nrm;   /* (n) |w_i| */
    double *Wp;    /* (n x kp) W, zero-padded */
    double *U;     /* (n x kp) unit rows w_i / |w_i|, zero-padded */
    double *gs;    /* (n x kp) gradient of the student-student part (Euler: F_ss = W.gs / 2) */
    double *UT;    /* (k x np) U transposed, zero-padded */
    double *cs;    /* (npair + n k + kp) cosines: student pairs (i < j, row i at off[i]), then U
                    * (rows of k), then slack */
    double *ak;    /* (npair + n k + kp) (pi - t) / (2 pi) for the same angles */
    double *sk;    /* (npair + n k + kp) sin t / (2 pi) */
    int *off;      /* (n) start of row i's pairs in cs / ak / sk */
    double *row;   /* (np) squared norms |w_i|^2, 1 in the padding */
    double *mask;  /* (kp) 1 for the k real columns, 0 for the padding */
    double *coef;  /* (n) alpha_i */
    double *el;    /* (3 (n + k) + 2 k) eliminator scratch */
    double nn[2];  /* |grad W|^2, |W|^2 of the plain part at the last evaluation, summed
                    * in the kernel's lane order (the protocol's GD tests read them) */
};

/* Per-thread buffers for runs of one problem size. */
typedef struct {
    mn_popul_spec spec;
    mn_popul_work *w;
    size_t P;
    double *th, *th0, *g, *p; /* (P) */
    double *H, *L;            /* (P x P) */
    double *ev;               /* (P) eigenvalues / scratch */
    mn_objective f;           /* F on w (mn_popul_objective_view) */
    mn_objective fp;          /* the plain model's F on the padded layout (GD) */
    double *thp;              /* (n x kp) the GD start, padded */
    unsigned char *maskp;     /* (n x kp) fp's mask: 0 on the padding */
} mn_popul_runner;
mn_status mn_popul_runner_alloc(mn_popul_runner **out, const mn_popul_spec *spec);
void mn_popul_runner_free(mn_popul_runner *R);
/* One restart with the runner's buffers; the end point stays in R->th.
 * want_lmin: compute the smallest Hessian eigenvalue of spurious end points
 * (the experiment does it once per distinct minimum instead). */
mn_status mn_popul_run_with(mn_popul_runner *R, mn_popul_run *out, const mn_popul_opts *o, uint64_t base_seed,
                            int restart, int want_lmin);

/* A row of the experiment as a setting of the runner's population kind
 * (src/run/kinds.c): run r writes res[r], pts[r P .. (r + 1) P) and
 * span[2 r], span[2 r + 1] (omp_get_wtime at its start and end), nothing
 * else. The scratch is an mn_popul_runner for spec. */
typedef struct {
    mn_popul_spec spec;
    const mn_popul_opts *opts;
    uint64_t base_seed;
    int64_t db_id;      /* settings.id (0 without a database) */
    size_t P;
    mn_popul_run *res;  /* (restarts) */
    double *pts;        /* (restarts x P) end points, Newton-sharpened (mn_popul_refine) */
    double *span;       /* (2 restarts) */
} mn_popul_task;
mn_status mn_popul_task_scratch(void **scratch, const void *task);
void mn_popul_task_scratch_free(void *scratch);
mn_status mn_popul_task_run(mn_run_row *row, const void *task, long restart, void *scratch);
/* P, and (rank 0 of an MPI job) a run made anywhere into res and pts. */
size_t mn_popul_task_npoint(const void *task);
void mn_popul_task_take(const mn_run_row *row, const void *task);

/* Newton steps with fresh Hessians from x (P, overwritten), kept while the
 * gradient shrinks, to ||grad|| <= 1e-13: sharpens GD end points (accurate
 * only to ||grad|| / lambda_min) before minima are compared. Uses R's
 * buffers except th. */
mn_status mn_popul_refine(mn_popul_runner *R, double *x);

/* Loss and gradient of the plain model on W (n x k); grad (n x k) may be NULL.
 * Returns MN_ERANGE when a row of W is 0 or a value is not finite. */
mn_status mn_popul_eval_plain(mn_popul_work *w, const double *W, double *loss, double *grad);
/* The same on the padded layout (n x kp, zero padding): Gp (n x kp, may be
 * NULL) receives the gradient with zero padding; no copies. */
mn_status mn_popul_eval_padded(mn_popul_work *w, const double *Wp, double *loss, double *Gp);
/* The per-angle terms of the gradient, (pi - acos c) / 2pi and
 * sqrt(1 - c^2) / 2pi, exactly as the vectorised loop computes them. */
void mn_popul_angle_terms(double c, double *ak, double *sk);
/* Adds the eliminator's terms to loss / grad (full P) given the plain ones. */
mn_status mn_popul_elim_eval(mn_popul_work *w, const double *theta, double *loss, double *grad);
/* Adds the eliminator's blocks to the Hessian (P x P) holding the plain one. */
void mn_popul_elim_hessian(mn_popul_work *w, const double *theta, double *hess);

/* f = F on w as an objective (minima/objective.h) that borrows w: nothing
 * to release. */
void mn_popul_objective_view(mn_objective *f, mn_popul_work *w);
/* The plain model's F on the padded layout (n x kp; the padding, masked out
 * by mask (n kp, filled here), stays 0): the protocol's GD iterates on it
 * with no copies. Borrows w and mask. */
void mn_popul_objective_view_padded(mn_objective *f, mn_popul_work *w, unsigned char *mask);

/* Distance scale from W (the first n k entries of theta) to where F stops
 * being smooth: min_i |w_i| min(1, min_j sin t(w_i, w_j), min_j sin t(w_i, e_j)). */
double mn_popul_smooth_radius(const mn_popul_spec *s, const double *W);

/* Standard normal density and distribution function. */
static inline double mn_phi(double z) { return 0.39894228040143267794 * exp(-0.5 * z * z); }
static inline double mn_Phi(double z) { return 0.5 * erfc(-z * 0.70710678118654752440); }

#endif
