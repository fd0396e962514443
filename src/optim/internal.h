/* The optimiser's state, shared by optim.c (loop, first-order methods, PGD),
 * lbfgs.c and newton.c. Not part of the public API. */
#ifndef MN_OPTIM_INTERNAL_H
#define MN_OPTIM_INTERNAL_H

#include "minima/objective.h"

struct mn_optim {
    const mn_objective *f; /* what is minimised */
    mn_objective *own;     /* f when the optimiser made it (mn_optim_alloc), else NULL */
    mn_opt_params prm;
    size_t P;
    int nf;              /* free parameters */
    double *theta;       /* (P) current point */
    double *grad;        /* (P) gradient at theta, frozen entries zeroed */
    unsigned char *mask; /* (P) 1 = trainable */
    double loss, gnorm;
    long iter;
    int diverged;  /* terminal: non-finite value or norm past max_norm */
    int stopped;   /* terminal: PGD's second-order stop (converged) */
    int stalled;   /* terminal: line search / Newton failure; or the plateau rule */
    char why[512];

    double *hist; /* (plateau_window + 1) loss history, a ring */

    /* momentum, Nesterov (v); Adam (v = first moment, s = second moment) */
    double *v, *s;

    /* SGD */
    int *perm;  /* (n) sample order of the current epoch */
    mn_rng rng; /* SGD order; PGD perturbations */

    /* L-BFGS: pairs (s_i, y_i) in a ring of `memory` slots */
    double *ls, *ly, *lrho, *lalpha; /* (memory x P), (memory x P), (memory), (memory) */
    double *xt, *gt, *dir;           /* (P) trial point, its gradient, direction */
    int lcount, lhead;

    /* Newton */
    double *hess, *sub, *ev, *cf; /* (mn_objective_hessian_scratch), (nf x nf), (nf), (nf) */
    int *idx;                     /* (nf) free parameter indices */
    double mu;

    /* PGD */
    double *xs;                        /* (P) x~: the point before the last perturbation */
    double fs;                         /* f(x~) */
    long t_noise, t_thres;
    double eta, radius, g_thres, f_thres, chi;
};

/* Evaluate loss and (masked) gradient at x: returns MN_OK with *bad = 1
 * and the reason in o->why when the value is not finite. */
mn_status mn__optim_eval_at(mn_optim *o, const double *x, double *f, double *g, int *bad);
/* Free-gradient norm of g (P). */
double mn__optim_norm(const mn_optim *o, const double *g);
/* Sets theta = x (P) with its loss f and gradient g; checks max_norm. */
void mn__optim_accept(mn_optim *o, const double *x, double f, const double *g);

mn_status mn__lbfgs_alloc(mn_optim *o);
double mn__lbfgs_doubles(size_t P, int memory);  /* what mn__lbfgs_alloc allocates */
mn_status mn__lbfgs_step(mn_optim *o);
mn_status mn__newton_alloc(mn_optim *o);
double mn__newton_doubles(size_t P, size_t nf);  /* what mn__newton_alloc allocates */
mn_status mn__newton_step(mn_optim *o);

#endif
