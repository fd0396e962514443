/* Optimisers as initialise / iterate / test loops (GSL style): the caller
 * owns the loop, so sweeps, the CLI and tests share one implementation.
 * This file: the loop, stopping rules, first-order methods (GD, momentum,
 * Nesterov, Adam, minibatch SGD) and perturbed GD. L-BFGS and the Newton
 * polish live in lbfgs.c and newton.c. */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

static const char *const opt_names[MN_NOPT] = {"gd",    "momentum", "nesterov", "adam",
                                               "sgd",   "lbfgs",    "newton",   "pgd"};

const char *mn_opt_name(mn_opt_kind k) { return (unsigned)k < MN_NOPT ? opt_names[k] : "unknown"; }

mn_status mn_opt_parse(mn_opt_kind *out, const char *name)
{
    for (int k = 0; k < MN_NOPT; k++)
        if (!strcmp(name, opt_names[k])) {
            *out = (mn_opt_kind)k;
            return MN_OK;
        }
    return mn_fail(MN_EINVAL, "unknown optimizer '%s' (expected gd|momentum|nesterov|adam|sgd|lbfgs|newton|pgd)",
                   name);
}

const char *mn_run_state_name(mn_run_state s)
{
    switch (s) {
    case MN_RUN_RUNNING: return "running";
    case MN_RUN_CONVERGED: return "converged";
    case MN_RUN_DIVERGED: return "diverged";
    case MN_RUN_STALLED: return "stalled";
    }
    return "unknown";
}

void mn_opt_params_default(mn_opt_params *prm)
{
    *prm = (mn_opt_params){
        .kind = MN_OPT_GD,
        .lr = 0.1,
        .max_norm = 1e8,
        .momentum = 0.9,
        .beta1 = 0.9,
        .beta2 = 0.999,
        .eps = 1e-8,
        .batch = 32,
        .seed = 1,
        .memory = 10,
        .damping = 1e-10,
        .pgd_eps = 1e-3,
        .pgd_c = 0.5,
        .pgd_delta = 0.1,
        .pgd_rho = 1.0,
        .pgd_l = 1.0,
        .pgd_df = NAN,
        .plateau_window = 0,
        .plateau_tol = 1e-9,
    };
}

/* ------------------------------------------------------------------ */
/* Evaluation and acceptance.                                          */

/* A value just computed (status st) at x: a non-finite one is not an error
 * but a bad point (*bad = 1, the reason in o->why); frozen entries of g are
 * zeroed. */
static mn_status took(mn_optim *o, mn_status st, double *g, int *bad)
{
    *bad = 0;
    if (st == MN_ERANGE) {
        *bad = 1;
        snprintf(o->why, sizeof o->why, "%s", mn_last_error());
        return MN_OK;
    }
    if (st) return st;
    if ((size_t)o->nf < o->P && !o->f->frozen_zero)
        for (size_t i = 0; i < o->P; i++)
            if (!o->mask[i]) g[i] = 0.0;
    return MN_OK;
}

mn_status mn__optim_eval_at(mn_optim *o, const double *x, double *f, double *g, int *bad)
{
    return took(o, mn_objective_fdf(o->f, x, f, g), g, bad);
}

/* The same on the samples rows[0..nrows-1] (a minibatch). */
static mn_status eval_rows(mn_optim *o, const int *rows, int nrows, const double *x, double *f, double *g, int *bad)
{
    return took(o, o->f->fdf_rows(o->f->params, rows, nrows, x, f, g), g, bad);
}

double mn__optim_norm(const mn_optim *o, const double *g)
{
    return mn_norm2(g, o->P, NULL); /* frozen entries are 0 */
}

/* Divergence at an accepted point: a gradient norm past DBL_MAX (its
 * components finite: mn_norm2 is scaled) or a parameter norm past max_norm. */
static void check_norm(mn_optim *o)
{
    if (!isfinite(o->gnorm)) {
        double big = 0;
        for (size_t i = 0; i < o->P; i++) big = fmax(big, fabs(o->grad[i]));
        o->diverged = 1;
        snprintf(o->why, sizeof o->why, "gradient norm exceeds %g (largest component %g)", DBL_MAX, big);
        return;
    }
    const double tn = mn_norm2(o->theta, o->P, NULL);
    if (!(tn <= o->prm.max_norm)) {
        o->diverged = 1;
        snprintf(o->why, sizeof o->why, "parameter norm %g exceeds max_norm %g", tn, o->prm.max_norm);
    }
}

/* gnorm and the divergence tests at the current point (the caller's with
 * skip_norms: gnorm stays NaN). */
static void norms(mn_optim *o)
{
    if (o->prm.skip_norms) return;
    o->gnorm = mn__optim_norm(o, o->grad); /* frozen entries are 0 */
    check_norm(o);
}

void mn__optim_accept(mn_optim *o, const double *x, double f, const double *g)
{
    if (x != o->theta) memcpy(o->theta, x, o->P * sizeof *x);
    if (g != o->grad) memcpy(o->grad, g, o->P * sizeof *g);
    o->loss = f;
    norms(o);
}

/* Evaluate at theta itself; a non-finite value marks the run diverged. */
static mn_status evaluate(mn_optim *o)
{
    int bad;
    mn_status st = mn__optim_eval_at(o, o->theta, &o->loss, o->grad, &bad);
    if (st) return st;
    if (bad) {
        o->diverged = 1;
        return MN_OK;
    }
    norms(o);
    return MN_OK;
}

/* ------------------------------------------------------------------ */
/* Allocation.                                                         */

static mn_status check_params(const mn_opt_params *p)
{
    if ((unsigned)p->kind >= MN_NOPT) return mn_fail(MN_EINVAL, "unknown optimizer kind %d", (int)p->kind);
    if (!(p->lr > 0 && isfinite(p->lr))) return mn_fail(MN_EINVAL, "step size %g must be positive", p->lr);
    if (!(p->max_norm > 0)) return mn_fail(MN_EINVAL, "max_norm %g must be positive", p->max_norm);
    if (!(p->momentum >= 0 && p->momentum < 1)) return mn_fail(MN_EINVAL, "momentum %g must be in [0, 1)", p->momentum);
    if (!(p->beta1 >= 0 && p->beta1 < 1)) return mn_fail(MN_EINVAL, "beta1 %g must be in [0, 1)", p->beta1);
    if (!(p->beta2 >= 0 && p->beta2 < 1)) return mn_fail(MN_EINVAL, "beta2 %g must be in [0, 1)", p->beta2);
    if (!(p->eps > 0 && isfinite(p->eps))) return mn_fail(MN_EINVAL, "eps %g must be positive", p->eps);
    if (p->batch < 1) return mn_fail(MN_EINVAL, "batch size %d must be at least 1", p->batch);
    if (p->memory < 1 || p->memory > 1000) return mn_fail(MN_EINVAL, "L-BFGS memory %d must be in 1..1000", p->memory);
    if (!(p->damping >= 0 && isfinite(p->damping))) return mn_fail(MN_EINVAL, "damping %g must be >= 0", p->damping);
    if (!(p->pgd_eps > 0 && isfinite(p->pgd_eps))) return mn_fail(MN_EINVAL, "pgd eps %g must be positive", p->pgd_eps);
    if (!(p->pgd_c > 0 && p->pgd_c <= 1)) return mn_fail(MN_EINVAL, "pgd c %g must be in (0, 1]", p->pgd_c);
    if (!(p->pgd_delta > 0 && p->pgd_delta < 1)) return mn_fail(MN_EINVAL, "pgd delta %g must be in (0, 1)", p->pgd_delta);
    if (!(p->pgd_rho > 0 && isfinite(p->pgd_rho))) return mn_fail(MN_EINVAL, "pgd rho %g must be positive", p->pgd_rho);
    if (!(p->pgd_l > 0 && isfinite(p->pgd_l))) return mn_fail(MN_EINVAL, "pgd l %g must be positive", p->pgd_l);
    if (!(isnan(p->pgd_df) || (p->pgd_df > 0 && isfinite(p->pgd_df))))
        return mn_fail(MN_EINVAL, "pgd Delta_f %g must be positive", p->pgd_df);
    if (p->plateau_window < 0) return mn_fail(MN_EINVAL, "plateau window %d must be >= 0", p->plateau_window);
    if (!(p->plateau_tol >= 0 && isfinite(p->plateau_tol)))
        return mn_fail(MN_EINVAL, "plateau tolerance %g must be >= 0", p->plateau_tol);
    if (p->skip_norms && p->kind != MN_OPT_GD && p->kind != MN_OPT_MOMENTUM && p->kind != MN_OPT_NESTEROV &&
        p->kind != MN_OPT_ADAM)
        return mn_fail(MN_EINVAL, "skip_norms: %s reads the gradient norm (GD, momentum, nesterov, adam only)",
                       mn_opt_name(p->kind));
    return MN_OK;
}

static mn_status sgd_alloc(mn_optim *o)
{
    const int n = o->f->nsamples;
    if (!o->f->fdf_rows || n < 1) return mn_fail(MN_EINVAL, "SGD needs an objective with samples (minibatches)");
    o->perm = malloc((size_t)n * sizeof *o->perm);
    if (!o->perm) return mn_fail(MN_ENOMEM, "out of memory for SGD");
    for (int i = 0; i < n; i++) o->perm[i] = i;
    mn_rng_seed(&o->rng, o->prm.seed);
    return MN_OK;
}

/* PGD's constants from its parameters (see the header). */
static void pgd_setup(mn_optim *o)
{
    const mn_opt_params *p = &o->prm;
    const double c = p->pgd_c, l = p->pgd_l, eps = p->pgd_eps, rho = p->pgd_rho;
    double df = isnan(p->pgd_df) ? fmax(o->loss, 1e-12) : p->pgd_df;
    const double dim = o->nf > 0 ? o->nf : 1;
    o->chi = 3.0 * fmax(log(dim * l * df / (c * eps * eps * p->pgd_delta)), 4.0);
    o->eta = c / l;
    o->radius = sqrt(c) * eps / (o->chi * o->chi * l);
    o->g_thres = sqrt(c) * eps / (o->chi * o->chi);
    o->f_thres = c / (o->chi * o->chi * o->chi) * sqrt(eps * eps * eps / rho);
    o->t_thres = (long)ceil(o->chi / (c * c) * l / sqrt(rho * eps));
    o->t_noise = -o->t_thres - 1;
    mn_rng_seed(&o->rng, p->seed);
}

double mn_optim_bytes(size_t P, size_t nf, int nsamples, const mn_opt_params *prm)
{
    double d = 2.0 * (double)P + (double)P / sizeof(double) + (prm->plateau_window + 1.0); /* theta, grad, mask */
    switch (prm->kind) {
    case MN_OPT_MOMENTUM:
    case MN_OPT_NESTEROV:
    case MN_OPT_PGD: d += (double)P; break;
    case MN_OPT_ADAM: d += 2.0 * (double)P; break;
    case MN_OPT_SGD: d += (double)nsamples * sizeof(int) / sizeof(double); break;
    case MN_OPT_LBFGS: d += mn__lbfgs_doubles(P, prm->memory); break;
    case MN_OPT_NEWTON: d += mn__newton_doubles(P, nf); break;
    case MN_OPT_GD: break;
    }
    return d * sizeof(double);
}

mn_status mn_optim_alloc_objective(mn_optim **out, const mn_objective *f, const mn_opt_params *prm,
                                   const double *theta0)
{
    *out = NULL;
    mn_status st = check_params(prm);
    if (!st) st = mn_objective_check(f);
    if (!st && prm->kind != MN_OPT_NEWTON) /* Newton refuses past 4000 free parameters first */
        st = mn_mem_check(mn_optim_bytes(f->n, mn_objective_nfree(f), f->nsamples, prm), "the optimiser");
    if (st) return st;
    mn_optim *o = calloc(1, sizeof *o);
    const size_t P = f->n;
    void *mem = o ? malloc(P * (2 * sizeof(double) + 1)) : NULL;
    if (!mem) {
        free(o);
        return mn_fail(MN_ENOMEM, "out of memory allocating an optimiser");
    }
    o->f = f, o->prm = *prm, o->P = P;
    if (prm->skip_norms) o->gnorm = NAN;
    o->theta = mem;
    o->grad = o->theta + P;
    o->mask = (unsigned char *)(o->grad + P);
    memcpy(o->theta, theta0, P * sizeof *o->theta);
    if (f->mask)
        memcpy(o->mask, f->mask, P);
    else
        memset(o->mask, 1, P);
    for (size_t i = 0; i < P; i++) o->nf += o->mask[i] != 0;
    if (prm->plateau_window > 0) {
        o->hist = malloc(((size_t)prm->plateau_window + 1) * sizeof *o->hist);
        if (!o->hist) st = mn_fail(MN_ENOMEM, "out of memory for the plateau window");
    }
    switch (prm->kind) {
    case MN_OPT_MOMENTUM:
    case MN_OPT_NESTEROV:
        o->v = calloc(P, sizeof *o->v);
        if (!o->v) st = mn_fail(MN_ENOMEM, "out of memory for momentum");
        break;
    case MN_OPT_ADAM:
        o->v = calloc(2 * P, sizeof *o->v);
        if (!o->v) st = mn_fail(MN_ENOMEM, "out of memory for Adam");
        o->s = o->v ? o->v + P : NULL;
        break;
    case MN_OPT_SGD:
        if (!st) st = sgd_alloc(o);
        break;
    case MN_OPT_LBFGS:
        if (!st) st = mn__lbfgs_alloc(o);
        break;
    case MN_OPT_NEWTON:
        if (!st) st = mn__newton_alloc(o);
        break;
    case MN_OPT_PGD:
        o->xs = malloc(P * sizeof *o->xs);
        if (!o->xs) st = mn_fail(MN_ENOMEM, "out of memory for PGD");
        break;
    case MN_OPT_GD: break;
    }
    if (!st) st = evaluate(o);
    if (st) {
        mn_optim_free(o);
        return st;
    }
    if (o->hist) o->hist[0] = o->loss;
    if (prm->kind == MN_OPT_PGD) pgd_setup(o);
    *out = o;
    return MN_OK;
}

mn_status mn_optim_alloc(mn_optim **out, const mn_model *model, mn_work *work, const mn_data *data,
                         const mn_opt_params *prm, const double *theta0)
{
    *out = NULL;
    mn_objective *f;
    mn_status st = mn_net_objective_alloc(&f, model, work, data);
    if (!st) st = mn_optim_alloc_objective(out, f, prm, theta0);
    if (st) {
        mn_objective_free(f);
        return st;
    }
    (*out)->own = f;
    return MN_OK;
}

void mn_optim_free(mn_optim *opt)
{
    if (!opt) return;
    mn_objective_free(opt->own);
    free(opt->hist);
    free(opt->v);
    free(opt->perm);
    free(opt->ls);
    free(opt->hess);
    free(opt->idx);
    free(opt->xs);
    free(opt->theta);
    free(opt);
}

/* ------------------------------------------------------------------ */
/* First-order steps.                                                  */

static mn_status step_gd(mn_optim *o)
{
    const double lr = o->prm.lr;
    for (size_t i = 0; i < o->P; i++) o->theta[i] -= lr * o->grad[i];
    return evaluate(o);
}

static mn_status step_momentum(mn_optim *o)
{
    const double mu = o->prm.momentum, lr = o->prm.lr;
    for (size_t i = 0; i < o->P; i++) {
        o->v[i] = mu * o->v[i] - lr * o->grad[i];
        o->theta[i] += o->v[i];
    }
    return evaluate(o);
}

/* Look-ahead form: theta holds phi = x + mu v and grad = g(phi). */
static mn_status step_nesterov(mn_optim *o)
{
    const double mu = o->prm.momentum, lr = o->prm.lr;
    for (size_t i = 0; i < o->P; i++) {
        o->theta[i] += mu * mu * o->v[i] - (1.0 + mu) * lr * o->grad[i];
        o->v[i] = mu * o->v[i] - lr * o->grad[i];
    }
    return evaluate(o);
}

static mn_status step_adam(mn_optim *o)
{
    const double b1 = o->prm.beta1, b2 = o->prm.beta2, lr = o->prm.lr, eps = o->prm.eps;
    const double t = (double)(o->iter + 1);
    const double c1 = 1.0 - pow(b1, t), c2 = 1.0 - pow(b2, t);
    for (size_t i = 0; i < o->P; i++) {
        if (!o->mask[i]) continue;
        const double g = o->grad[i];
        o->v[i] = b1 * o->v[i] + (1.0 - b1) * g;
        o->s[i] = b2 * o->s[i] + (1.0 - b2) * g * g;
        o->theta[i] -= lr * (o->v[i] / c1) / (sqrt(o->s[i] / c2) + eps);
    }
    return evaluate(o);
}

/* One epoch: Fisher-Yates reshuffle from the optimiser's stream, then a
 * step per minibatch; o->grad serves as the minibatch gradient buffer. */
static mn_status step_sgd(mn_optim *o)
{
    const int n = o->f->nsamples;
    const int B = o->prm.batch < n ? o->prm.batch : n;
    for (int i = n - 1; i > 0; i--) {
        int j = (int)(mn_rng_uniform(&o->rng) * (i + 1));
        int t = o->perm[i];
        o->perm[i] = o->perm[j], o->perm[j] = t;
    }
    for (int start = 0; start < n; start += B) {
        const int nb = start + B <= n ? B : n - start;
        double f;
        int bad;
        mn_status st = eval_rows(o, o->perm + start, nb, o->theta, &f, o->grad, &bad);
        if (st) return st;
        if (bad) { /* the point is the one before this step: evaluate it in full */
            char why[sizeof o->why];
            snprintf(why, sizeof why, "%s", o->why);
            st = evaluate(o);
            o->diverged = 1;
            snprintf(o->why, sizeof o->why, "epoch %ld, minibatch at sample %d: %.400s", o->iter + 1, start + 1, why);
            return st;
        }
        for (size_t i = 0; i < o->P; i++) o->theta[i] -= o->prm.lr * o->grad[i];
        check_norm(o); /* within the epoch too: a blow-up stops at once */
        if (o->diverged) {
            char why[sizeof o->why];
            snprintf(why, sizeof why, "%s", o->why);
            st = evaluate(o); /* loss and gradient at the point, for the record */
            snprintf(o->why, sizeof o->why, "epoch %ld: %.480s", o->iter + 1, why);
            return st;
        }
    }
    return evaluate(o);
}

/* A uniform sample from the ball of radius r over the free parameters. */
static void ball_sample(mn_optim *o, double *dx, double r)
{
    double n2 = 0;
    for (size_t i = 0; i < o->P; i++) {
        dx[i] = o->mask[i] ? mn_rng_normal(&o->rng) : 0.0;
        n2 += dx[i] * dx[i];
    }
    const double rad = r * pow(mn_rng_uniform(&o->rng), 1.0 / (o->nf > 0 ? o->nf : 1));
    const double scale = n2 > 0 ? rad / sqrt(n2) : 0.0;
    for (size_t i = 0; i < o->P; i++) dx[i] *= scale;
}

static mn_status step_pgd(mn_optim *o)
{
    const long t = o->iter;
    if (o->gnorm <= o->g_thres && t - o->t_noise > o->t_thres) {
        memcpy(o->xs, o->theta, o->P * sizeof *o->xs);
        o->fs = o->loss;
        o->t_noise = t;
        ball_sample(o, o->grad, o->radius); /* grad is recomputed below */
        for (size_t i = 0; i < o->P; i++) o->theta[i] += o->grad[i];
        mn_status st = evaluate(o);
        if (st || o->diverged) return st;
    }
    if (t - o->t_noise == o->t_thres && o->loss - o->fs > -o->f_thres) {
        const double drop = o->fs - o->loss;
        memcpy(o->theta, o->xs, o->P * sizeof *o->xs);
        mn_status st = evaluate(o);
        if (st || o->diverged) return st;
        o->stopped = 1;
        snprintf(o->why, sizeof o->why,
                 "converged to a second-order point: the loss fell by %.3g < f_thres %.3g in %ld steps "
                 "after a perturbation of radius %.3g",
                 drop, o->f_thres, o->t_thres, o->radius);
        return MN_OK;
    }
    for (size_t i = 0; i < o->P; i++) o->theta[i] -= o->eta * o->grad[i];
    return evaluate(o);
}

/* ------------------------------------------------------------------ */
/* The loop.                                                           */

/* Plateau rule: relative decrease over the last W iterations below tol. */
static void plateau(mn_optim *o)
{
    const int W = o->prm.plateau_window;
    if (W <= 0 || o->prm.kind == MN_OPT_PGD || o->diverged || o->stalled) return;
    o->hist[o->iter % (W + 1)] = o->loss;
    if (o->iter < W) return;
    const double old = o->hist[(o->iter - W) % (W + 1)];
    const double rel = (old - o->loss) / fmax(fabs(old), 1e-300);
    if (rel < o->prm.plateau_tol) {
        o->stalled = 1;
        snprintf(o->why, sizeof o->why, "plateau: relative loss decrease %.3g < %.3g over %d iterations", rel,
                 o->prm.plateau_tol, W);
    }
}

mn_status mn_optim_iterate(mn_optim *o)
{
    if (o->diverged || o->stopped || o->stalled) return MN_OK;
    mn_status st = MN_OK;
    switch (o->prm.kind) {
    case MN_OPT_GD: st = step_gd(o); break;
    case MN_OPT_MOMENTUM: st = step_momentum(o); break;
    case MN_OPT_NESTEROV: st = step_nesterov(o); break;
    case MN_OPT_ADAM: st = step_adam(o); break;
    case MN_OPT_SGD: st = step_sgd(o); break;
    case MN_OPT_LBFGS: st = mn__lbfgs_step(o); break;
    case MN_OPT_NEWTON: st = mn__newton_step(o); break;
    case MN_OPT_PGD: st = step_pgd(o); break;
    }
    if (st) return st;
    o->iter++;
    plateau(o);
    return MN_OK;
}

mn_run_state mn_optim_test(const mn_optim *o, double gtol)
{
    if (o->diverged) return MN_RUN_DIVERGED;
    if (o->prm.kind == MN_OPT_PGD ? o->stopped : o->gnorm <= gtol) return MN_RUN_CONVERGED;
    if (o->stalled) return MN_RUN_STALLED;
    return MN_RUN_RUNNING;
}

const double *mn_optim_theta(const mn_optim *o) { return o->theta; }
const double *mn_optim_grad(const mn_optim *o) { return o->grad; }
double mn_optim_loss(const mn_optim *o) { return o->loss; }
double mn_optim_gnorm(const mn_optim *o) { return o->gnorm; }
long mn_optim_iter(const mn_optim *o) { return o->iter; }
const char *mn_optim_why(const mn_optim *o) { return o->why; }

mn_status mn_optim_pgd_constants(const mn_optim *o, double *radius, double *g_thres, long *t_thres)
{
    if (o->prm.kind != MN_OPT_PGD) return mn_fail(MN_EINVAL, "PGD constants of a %s optimiser", mn_opt_name(o->prm.kind));
    *radius = o->radius, *g_thres = o->g_thres, *t_thres = o->t_thres;
    return MN_OK;
}
