/* The saddles experiment (Du, Jin, Lee, Jordan, Poczos, Singh, NeurIPS
 * 2017): GD and perturbed GD (Jin et al. 2017, MN_OPT_PGD) from random
 * starts near the first saddle of the octopus (minima/objective.h), the
 * iterations each takes to pass every saddle of the chain, stored per
 * (d, method, saddle) setting in a database and resumed from it (a run of
 * the kind mn_kind_saddles on the one runner: threads or MPI ranks); then both
 * started near the certified saddle at the origin of a linear network. */
#include <float.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "minima/dist.h"
#include "minima/experiment.h"

void mn_saddles_plan_default(mn_saddles_plan *p)
{
    memset(p, 0, sizeof *p);
    for (int d = 2; d <= 10; d++) p->dims[p->ndims++] = d;
    p->gamma = 1, p->L = 0.6, p->c = 0.5, p->pgd_eps = 0.1, p->init = 0.1;
    p->restarts = 1000;
    p->max_iter = 1000000;
    p->seed = 1;
    p->network = 1;
}

mn_status mn_saddles_plan_set(mn_saddles_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_SADDLES, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment saddles", name);
    if (v && !*v && (!strcmp(name, "plot") || !strcmp(name, "db")))
        return mn_fail(MN_EINVAL, "option '--%s' needs a non-empty value", name);
    long l;
    mn_status st = MN_OK;
    if (!strcmp(name, "quick")) {
        p->quick = 1, p->ndims = 0, p->restarts = 30;
        for (int d = 2; d <= 8; d++) p->dims[p->ndims++] = d;
    } else if (!strcmp(name, "no-network")) {
        p->network = 0;
    } else if (!strcmp(name, "dims")) {
        if (!mn__exp_parse_list(v, 2, MN_OCTOPUS_MAX_D, p->dims, &p->ndims, MN_OCTOPUS_MAX_D))
            st = mn_fail(MN_EINVAL, "--dims '%s': expected A..B, A or A,B,.. with values 2..%d", v, MN_OCTOPUS_MAX_D);
    } else if (!strcmp(name, "restarts")) {
        if (!(st = mn_option_int(&l, o, v))) p->restarts = (int)l;
    } else if (!strcmp(name, "threads")) {
        if (!(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    } else if (!strcmp(name, "max-iter")) {
        if (!(st = mn_option_int(&l, o, v))) p->max_iter = l;
    } else if (!strcmp(name, "seed")) {
        st = mn_option_seed(&p->seed, o, v);
    } else if (!strcmp(name, "gamma")) {
        st = mn_option_real(&p->gamma, o, v);
    } else if (!strcmp(name, "stable")) {
        st = mn_option_real(&p->L, o, v);
    } else if (!strcmp(name, "c")) {
        st = mn_option_real(&p->c, o, v);
    } else if (!strcmp(name, "pgd-eps")) {
        st = mn_option_real(&p->pgd_eps, o, v);
    } else if (!strcmp(name, "init")) {
        st = mn_option_real(&p->init, o, v);
    } else if (!strcmp(name, "db")) {
        p->db_path = v;
    } else if (!strcmp(name, "plot")) {
        p->plot = v;
    } else {
        st = mn_fail(MN_EINVAL, "option '--%s' does not apply to 'experiment saddles'", name);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* One run through the chain.                                          */

/* The optimiser's parameters for the octopus c started with value f0:
 * GD with step c / ell; PGD with ell, rho, eps and Delta_f = f0 - fmin. */
static void octo_params(mn_opt_params *prm, const mn_saddles_plan *p, const mn_octopus *c, int pgd, double f0,
                        uint64_t seed)
{
    mn_opt_params_default(prm);
    prm->kind = pgd ? MN_OPT_PGD : MN_OPT_GD;
    prm->lr = p->c / c->ell;
    prm->pgd_c = p->c, prm->pgd_l = c->ell, prm->pgd_rho = c->rho, prm->pgd_eps = p->pgd_eps;
    prm->pgd_df = fmax(f0 - c->fmin, 1e-12);
    prm->seed = seed;
    prm->max_norm = 1e6;
}

/* The seed of run r's start in dimension d (the same for both methods);
 * top bit cleared, as the database stores it. */
static uint64_t start_seed(const mn_saddles_plan *p, int d, long r)
{
    return mn_seed_derive(p->seed, (const uint64_t[]){(uint64_t)d, (uint64_t)r}, 2) >> 1;
}

static void octo_start(double *x0, const mn_saddles_plan *p, const mn_octopus *c, long r)
{
    mn_rng g;
    mn_rng_seed(&g, start_seed(p, c->d, r));
    for (int i = 0; i < c->d; i++) x0[i] = p->init * c->m * (2 * mn_rng_uniform(&g) - 1);
}

/* Flags of a run. */
enum { STUCK = 1, SUBNORMAL = 2 };

/* One run: tpass[i] = the iteration at which |x_i| first reached s1 (once
 * saddles 0..i-1 were passed), -1 when not passed; fpass[i] the value then;
 * flags: STUCK (GD at a floating-point fixed point before the minimum),
 * SUBNORMAL (a coordinate not yet passed fell below DBL_MIN: its escape
 * time then measures rounding, not the function).
 * trace (may be NULL): f every `every` iterations into trace[0..ntrace). */
static mn_status octo_run(long *tpass, double *fpass, int *flags, char *why, size_t whylen, const mn_objective *f,
                          const mn_octopus *c, const mn_saddles_plan *p, int pgd, long r, double *trace, int ntrace,
                          long every)
{
    const int d = c->d;
    double *x0 = malloc(2 * (size_t)d * sizeof *x0);
    if (!x0) return mn_fail(MN_ENOMEM, "out of memory for a run");
    double *prev = x0 + d;
    octo_start(x0, p, c, r);
    double f0;
    mn_status st = mn_objective_fdf(f, x0, &f0, NULL);
    mn_opt_params prm;
    octo_params(&prm, p, c, pgd, f0,
                mn_seed_derive(p->seed, (const uint64_t[]){(uint64_t)d, (uint64_t)r, 1}, 3));
    mn_optim *o = NULL;
    if (!st) st = mn_optim_alloc_objective(&o, f, &prm, x0);
    for (int i = 0; i < d; i++) tpass[i] = -1, fpass[i] = NAN;
    *flags = 0, why[0] = 0;
    int i = 0;
    while (!st) {
        const double *x = mn_optim_theta(o);
        const long t = mn_optim_iter(o);
        if (trace && t % every == 0 && t / every < ntrace) trace[t / every] = mn_optim_loss(o);
        while (i < d && fabs(x[i]) >= c->s1) tpass[i] = t, fpass[i++] = mn_optim_loss(o);
        for (int j = i; j < d; j++)
            if (fabs(x[j]) < DBL_MIN) *flags |= SUBNORMAL;
        if (i == d && (!trace || t >= every * (ntrace - 1))) break;
        if (t >= p->max_iter) {
            if (i < d) snprintf(why, whylen, "saddle %d not passed within %ld iterations", i + 1, p->max_iter);
            break;
        }
        const mn_run_state s = mn_optim_test(o, 0.0);
        if (s != MN_RUN_RUNNING) {
            if (i < d) snprintf(why, whylen, "stopped before saddle %d was passed: %s", i + 1, mn_optim_why(o));
            break;
        }
        memcpy(prev, x, (size_t)d * sizeof *prev);
        st = mn_optim_iterate(o);
        /* GD at a floating-point fixed point never moves again (an escape
         * coordinate that underflowed); PGD still perturbs later */
        if (!st && !pgd && !memcmp(prev, mn_optim_theta(o), (size_t)d * sizeof *prev)) {
            if (i < d) {
                *flags |= STUCK;
                snprintf(why, whylen, "GD stuck at a floating-point fixed point before saddle %d (|x_%d| = %g)",
                         i + 1, i + 1, fabs(prev[i]));
            }
            if (!trace) break;
        }
    }
    /* a PGD run that stopped at the minimum stays there */
    for (long t = o && i == d ? mn_optim_iter(o) / every + 1 : ntrace; !st && trace && t < ntrace; t++)
        trace[t] = mn_optim_loss(o);
    mn_optim_free(o);
    free(x0);
    return st;
}

/* ------------------------------------------------------------------ */
/* Database: one setting per (d, method, saddle i); run r's row of it holds
 * the iteration of passing saddle i.                                   */

static mn_status setting_canon(char **canon, char **json, const mn_saddles_plan *p, int d, int pgd, int i)
{
    char vd[16], vi[16], vg[32], vl[32], vc[32], ve[32], vx[32], vm[32], vs[32];
    snprintf(vd, sizeof vd, "%d", d);
    snprintf(vi, sizeof vi, "%d", i + 1);
    mn_num_shortest(vg, sizeof vg, p->gamma);
    mn_num_shortest(vl, sizeof vl, p->L);
    mn_num_shortest(vc, sizeof vc, p->c);
    mn_num_shortest(ve, sizeof ve, p->pgd_eps);
    mn_num_shortest(vx, sizeof vx, p->init);
    snprintf(vm, sizeof vm, "%ld", p->max_iter);
    snprintf(vs, sizeof vs, "%llu", (unsigned long long)p->seed);
    const char *keys[] = {"experiment", "d", "optimizer", "saddle", "gamma", "stable", "c", "pgd-eps", "init",
                          "max-iter", "seed"};
    const char *vals[] = {"saddles", vd, pgd ? "pgd" : "gd", vi, vg, vl, vc, pgd ? ve : "-", vx, vm, vs};
    return mn_canon(canon, json, keys, vals, 11);
}

/* A (d, method) pair: the runner's setting of the kind mn_kind_saddles,
 * whose run r fills one row per saddle (settings ids[0..d)) and writes
 * tp[r d .. (r + 1) d) and flags[r]. */
typedef struct {
    const mn_saddles_plan *p;
    const mn_objective *f; /* the octopus in dimension d */
    int d, pgd;
    int64_t *ids; /* (d) setting ids (0 without a database) */
    unsigned char *done;
    long *tp;   /* (restarts x d) iterations of passing each saddle, -1: not passed */
    int *flags; /* (restarts) */
} cell;

/* Row i (saddle i) of a run, stored or just made, into the cell's results:
 * the one reading of a row, whoever made it. */
static void from_row(const cell *k, int i, const mn_run_row *row)
{
    const long r = row->restart;
    k->tp[r * k->d + i] = row->cls == MN_CLASS_NOT_CONVERGED ? -1 : row->iterations;
    if (strstr(row->reason, "stuck")) k->flags[r] |= STUCK;
    if (strstr(row->reason, "subnormal")) k->flags[r] |= SUBNORMAL;
}

/* Runs stored for cell k: iterations of passing each saddle into tp. */
static mn_status load_cell(mn_db *db, const cell *k, int restarts)
{
    for (int i = 0; i < k->d; i++) {
        mn_run_row *rows = NULL;
        long n = 0;
        mn_status st = mn_db_runs(&rows, &n, db, k->ids[i]);
        if (st) return st;
        for (long j = 0; j < n; j++)
            if (rows[j].restart < restarts && k->done[rows[j].restart]) from_row(k, i, &rows[j]);
        free(rows);
    }
    return MN_OK;
}

static void row_for(mn_run_row *w, const cell *k, int i, long r, uint64_t seed, const long *tp, const double *fp, int flags,
                    const char *why, double secs)
{
    memset(w, 0, sizeof *w);
    w->setting = k->ids[i];
    w->restart = r;
    w->seed = seed;
    snprintf(w->optimizer, sizeof w->optimizer, "%s", k->pgd ? "pgd" : "gd");
    w->iterations = tp[i] >= 0 ? tp[i] : 0;
    w->loss = fp[i];
    w->grad_norm = w->lambda_min = w->lambda_max = w->accuracy = w->theta_norm = NAN;
    w->elim_a = w->elim_b = w->elim_w_norm = w->elim_a_exp_b = NAN;
    w->kink_margin = INFINITY;
    w->cls = tp[i] >= 0 ? MN_CLASS_SADDLE : MN_CLASS_NOT_CONVERGED;
    /* the run's flags on every row: any row of it gives them back */
    snprintf(w->reason, sizeof w->reason, "%s%s%s", tp[i] < 0 ? why : "", flags & STUCK ? " [stuck]" : "",
             flags & SUBNORMAL ? " [subnormal]" : "");
    w->seconds = secs;
}

/* The kind's run: restart r of cell k through the chain, one row per saddle. */
static mn_status cell_run(mn_run_row *rows, const void *setting, long r, void *scratch)
{
    (void)scratch;
    const cell *k = setting;
    const int d = k->d;
    long tp[MN_OCTOPUS_MAX_D];
    double fp[MN_OCTOPUS_MAX_D];
    char why[300];
    int flags;
    mn_octopus c;
    mn_status st = mn_octopus_init(&c, d, k->p->gamma, k->p->L);
    const double t0 = omp_get_wtime();
    if (!st) st = octo_run(tp, fp, &flags, why, sizeof why, k->f, &c, k->p, k->pgd, r, NULL, 0, 1);
    const double secs = omp_get_wtime() - t0;
    for (int i = 0; !st && i < d; i++) row_for(&rows[i], k, i, r, start_seed(k->p, d, r), tp, fp, flags, why, secs);
    k->flags[r] = 0;
    for (int i = 0; !st && i < d; i++) from_row(k, i, &rows[i]);
    return st;
}

static int cell_rows(const void *setting)
{
    return ((const cell *)setting)->d;
}

static size_t cell_npoint(const void *setting)
{
    (void)setting;
    return 0; /* no end points: a row holds the iteration of passing its saddle */
}

/* Rank 0 of an MPI job: a run's rows into the cell's results. */
static void cell_take(const mn_run_row *rows, const void *setting)
{
    const cell *k = setting;
    k->flags[rows[0].restart] = 0;
    for (int i = 0; i < k->d; i++) from_row(k, i, &rows[i]);
}

static int claims(const char *json, const char *canon)
{
    (void)json;
    return mn_run_canon_is(canon, "saddles");
}

const mn_run_kind mn_kind_saddles = {"saddles", 0, claims, mn_run_distinct_none, NULL, NULL,
                                     cell_run, cell_npoint, cell_take, cell_rows};

/* ------------------------------------------------------------------ */
/* Summaries.                                                          */

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* The q-quantile of v (n >= 1; sorted here), linear between order statistics. */
static double quantile(double *v, int n, double q)
{
    qsort(v, (size_t)n, sizeof *v, cmp_double);
    const double at = q * (n - 1);
    const int lo = (int)floor(at), hi = lo + 1 < n ? lo + 1 : lo;
    if (isinf(v[hi])) return at == lo ? v[lo] : INFINITY;
    return v[lo] + (at - lo) * (v[hi] - v[lo]);
}

static mn_status summarise(mn_saddles_row *w, const long *tp, const int *flags, int R)
{
    const int d = w->d;
    w->escape = malloc((size_t)R * d * sizeof *w->escape);
    w->med = malloc(3 * (size_t)d * sizeof *w->med);
    w->not_passed = calloc((size_t)d, sizeof *w->not_passed);
    double *v = malloc((size_t)R * sizeof *v);
    if (!w->escape || !w->med || !w->not_passed || !v) {
        free(v);
        return mn_fail(MN_ENOMEM, "out of memory for a summary");
    }
    w->q1 = w->med + d, w->q3 = w->med + 2 * d;
    for (int r = 0; r < R; r++) {
        long before = 0;
        w->stuck += (flags[r] & STUCK) != 0;
        w->subnormal += (flags[r] & SUBNORMAL) != 0;
        for (int i = 0; i < d; i++) {
            const long t = tp[(size_t)r * d + i];
            w->escape[(size_t)r * d + i] = t >= 0 && before >= 0 ? (double)(t - before) : INFINITY;
            before = t >= 0 && before >= 0 ? t : -1;
        }
    }
    for (int i = 0; i < d; i++) {
        for (int r = 0; r < R; r++) {
            v[r] = w->escape[(size_t)r * d + i];
            w->not_passed[i] += isinf(v[r]);
        }
        w->med[i] = quantile(v, R, 0.5);
        w->q1[i] = quantile(v, R, 0.25);
        w->q3[i] = quantile(v, R, 0.75);
    }
    for (int r = 0; r < R; r++) {
        const long t = tp[(size_t)r * d + d - 1];
        v[r] = t >= 0 ? (double)t : INFINITY;
    }
    w->med_total = quantile(v, R, 0.5);
    free(v);
    return MN_OK;
}

/* ------------------------------------------------------------------ */
/* The octopus runs of every (d, method), in parallel.                 */

static mn_status octopus_part(mn_saddles_result *res, const mn_saddles_plan *p, mn_db *db)
{
    const int R = p->restarts, ncell = 2 * p->ndims;
    cell *cells = calloc((size_t)ncell, sizeof *cells);
    mn_objective **fs = calloc((size_t)p->ndims, sizeof *fs);
    mn_pending *list = calloc((size_t)ncell * R, sizeof *list);
    mn_status st = cells && fs && list ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    for (int j = 0; !st && j < p->ndims; j++) st = mn_octopus_objective_alloc(&fs[j], p->dims[j], p->gamma, p->L);
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &R, sizeof R); /* what every MPI rank must agree on */
    for (int k = 0; !st && k < ncell; k++) {
        cell *q = &cells[k];
        q->p = p, q->f = fs[k / 2];
        q->d = p->dims[k / 2], q->pgd = k % 2;
        q->ids = calloc((size_t)q->d, sizeof *q->ids);
        q->done = calloc((size_t)R, 1);
        q->tp = malloc((size_t)R * q->d * sizeof *q->tp);
        q->flags = calloc((size_t)R, sizeof *q->flags);
        if (!q->ids || !q->done || !q->tp || !q->flags) st = mn_fail(MN_ENOMEM, "out of memory");
        for (int i = 0; !st && i < q->d; i++) {
            char *canon = NULL, *json = NULL;
            st = setting_canon(&canon, &json, p, q->d, q->pgd, i);
            if (!st) key = mn_hash_bytes(key, canon, strlen(canon) + 1);
            if (!st && db) st = mn_db_setting(&q->ids[i], db, canon, json);
            free(canon), free(json);
        }
        /* a restart is stored when its last saddle's row is (one transaction) */
        if (!st && db) st = mn_db_done(q->done, db, q->ids[q->d - 1], R);
        if (!st && db) st = load_cell(db, q, R);
        for (int r = 0; r < R; r++) res->rows[k].loaded += q->done[r];
    }
    /* the runs, largest d first (the runner skips those stored) */
    long n = 0;
    for (int k = ncell - 1; !st && k >= 0; k--)
        for (int r = 0; r < R; r++)
            list[n++] = (mn_pending){&mn_kind_saddles, &cells[k], cells[k].ids[cells[k].d - 1], r, cells[k].ids};
    const int nthr = p->threads > 0 ? p->threads : omp_get_max_threads();
    mn_runner_opts ro = {.threads = nthr, .db = db, .shard = 0, .nshards = 1, .key = key};
    mn_runner_stats rs;
    if (!st) st = mn_runner_run(&rs, NULL, list, n, &ro);
    /* in an MPI job rank 0 alone holds the results */
    for (int k = 0; !st && mn_dist_rank() == 0 && k < ncell; k++) {
        res->rows[k].d = cells[k].d, res->rows[k].pgd = cells[k].pgd, res->rows[k].restarts = R;
        st = summarise(&res->rows[k], cells[k].tp, cells[k].flags, R);
    }
    for (int k = 0; cells && k < ncell; k++) free(cells[k].ids), free(cells[k].done), free(cells[k].tp), free(cells[k].flags);
    for (int j = 0; fs && j < p->ndims; j++) mn_objective_free(fs[j]);
    free(cells), free(fs), free(list);
    return st;
}

/* Objective against iterations of restart 0 in the largest d, both methods,
 * sampled every `every` iterations over the median GD time and a little more. */
static mn_status trace_part(mn_saddles_result *res, const mn_saddles_plan *p)
{
    int j = 0;
    for (int k = 1; k < p->ndims; k++)
        if (p->dims[k] > p->dims[j]) j = k;
    const int d = p->dims[j];
    const mn_saddles_row *gd = &res->rows[2 * j];
    double span = isfinite(gd->med_total) ? 1.2 * gd->med_total : (double)p->max_iter;
    span = fmin(span, (double)p->max_iter);
    const int n = 600;
    const long every = (long)ceil(span / (n - 1)) > 0 ? (long)ceil(span / (n - 1)) : 1;
    res->ntrace = n;
    res->trace_iter = malloc((size_t)n * sizeof *res->trace_iter);
    res->trace_gd = malloc(2 * (size_t)n * sizeof *res->trace_gd);
    if (!res->trace_iter || !res->trace_gd) return mn_fail(MN_ENOMEM, "out of memory for the trace");
    res->trace_pgd = res->trace_gd + n;
    for (int i = 0; i < n; i++) res->trace_iter[i] = i * every, res->trace_gd[i] = res->trace_pgd[i] = NAN;
    mn_objective *f = NULL;
    mn_status st = mn_octopus_objective_alloc(&f, d, p->gamma, p->L);
    long tpass[MN_OCTOPUS_MAX_D];
    double fpass[MN_OCTOPUS_MAX_D];
    char why[300];
    int flags;
    for (int m = 0; !st && m < 2; m++)
        st = octo_run(tpass, fpass, &flags, why, sizeof why, f, &res->oct, p, m, 0, m ? res->trace_pgd : res->trace_gd,
                      n, every);
    mn_objective_free(f);
    return st;
}

/* ------------------------------------------------------------------ */
/* The linear network: the origin of a 4-4-1 linear net (no biases,
 * squared loss) on the ReLU teacher's data is a strict saddle.         */

static mn_status net_escape(long *iters, const mn_objective *f, const mn_opt_params *prm, const double *x0,
                            double target, long cap)
{
    mn_optim *o = NULL;
    mn_status st = mn_optim_alloc_objective(&o, f, prm, x0);
    *iters = -1;
    while (!st && mn_optim_iter(o) < cap) {
        if (mn_optim_loss(o) <= target) {
            *iters = mn_optim_iter(o);
            break;
        }
        if (mn_optim_test(o, 0.0) != MN_RUN_RUNNING) break;
        st = mn_optim_iterate(o);
    }
    mn_optim_free(o);
    return st;
}

static mn_status network_part(mn_saddles_net *net, const mn_saddles_plan *p)
{
    mn_spec spec;
    mn_spec_default(&spec);
    spec.act = MN_ACT_LINEAR, spec.bias = 0, spec.loss = MN_LOSS_SQUARED;
    snprintf(net->arch, sizeof net->arch, "4-4-1");
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_work *work = NULL;
    mn_objective *f = NULL;
    double *x = NULL;
    mn_status st = mn_spec_parse_arch(&spec, net->arch);
    if (!st) st = mn_gen_teacher_relu(&data, 200, 4, p->seed);
    if (!st) st = mn_model_alloc(&model, &spec);
    if (!st) st = mn_work_alloc(&work, model, mn_data_n(data));
    if (!st) st = mn_net_objective_alloc(&f, model, work, data);
    const size_t P = f ? f->n : 0;
    if (!st && !(x = calloc(2 * P, sizeof *x))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = mn_certify_objective(&net->cert, f, x, 0, NULL);
    if (!st && net->cert.cls != MN_CLASS_SADDLE)
        st = mn_fail(MN_EINVAL, "saddles: the origin of the %s linear net was certified %s, not a saddle", net->arch,
                     mn_class_name(net->cert.cls));
    const double ell = fmax(fabs(net->cert.lambda_min), fabs(net->cert.lambda_max));
    mn_opt_params gd, pgd;
    mn_opt_params_default(&gd);
    gd.lr = p->c / ell;
    pgd = gd;
    pgd.kind = MN_OPT_PGD, pgd.pgd_c = p->c, pgd.pgd_l = ell, pgd.pgd_eps = p->pgd_eps;
    pgd.seed = mn_seed_derive(p->seed, (const uint64_t[]){2}, 1);
    net->step = gd.lr;
    net->cap = 100000;
    mn_rng g;
    mn_rng_seed(&g, mn_seed_derive(p->seed, (const uint64_t[]){1}, 1));
    double *u = x + P, un = 0;
    for (size_t i = 0; i < P; i++) u[i] = mn_rng_normal(&g), un += u[i] * u[i];
    const double target = 0.99 * net->cert.loss;
    for (int k = 0; !st && k < MN_SADDLES_NDELTA; k++) {
        net->delta[k] = k + 1 < MN_SADDLES_NDELTA ? pow(10.0, -2.0 * (k + 1)) : 0;
        for (size_t i = 0; i < P; i++) x[i] = net->delta[k] * u[i] / sqrt(un);
        st = net_escape(&net->gd[k], f, &gd, x, target, net->cap);
        if (!st) st = net_escape(&net->pgd[k], f, &pgd, x, target, net->cap);
    }
    free(x);
    mn_objective_free(f);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    return st;
}

void mn_saddles_result_free(mn_saddles_result *r)
{
    if (!r) return;
    for (int k = 0; r->rows && k < r->n; k++) free(r->rows[k].escape), free(r->rows[k].med), free(r->rows[k].not_passed);
    free(r->rows), free(r->trace_iter), free(r->trace_gd);
    free(r);
}

mn_status mn_experiment_saddles(mn_saddles_result **out, const mn_saddles_plan *p)
{
    *out = NULL;
    if (p->ndims < 1 || p->restarts < 1) return mn_fail(MN_EINVAL, "saddles: no dimensions or no restarts");
    int dmax = p->dims[0];
    for (int j = 0; j < p->ndims; j++) {
        for (int k = 0; k < j; k++)
            if (p->dims[k] == p->dims[j]) return mn_fail(MN_EINVAL, "--dims: %d listed twice", p->dims[j]);
        dmax = p->dims[j] > dmax ? p->dims[j] : dmax;
    }
    mn_saddles_result *r = calloc(1, sizeof *r);
    if (!r) return mn_fail(MN_ENOMEM, "out of memory");
    mn_status st = mn_octopus_init(&r->oct, dmax, p->gamma, p->L);
    if (st) {
        free(r);
        return st;
    }
    /* PGD's constants in the largest d, from the origin's value (as a run's) */
    {
        mn_opt_params prm;
        octo_params(&prm, p, &r->oct, 1, 0.0, 1);
        mn_objective *f = NULL;
        mn_optim *o = NULL;
        double *x0 = calloc((size_t)dmax, sizeof *x0);
        st = x0 ? mn_octopus_objective_alloc(&f, dmax, p->gamma, p->L) : mn_fail(MN_ENOMEM, "out of memory");
        if (!st) st = mn_optim_alloc_objective(&o, f, &prm, x0);
        if (!st) st = mn_optim_pgd_constants(o, &r->pgd_radius, &r->pgd_g_thres, &r->pgd_t_thres);
        r->step = prm.lr;
        mn_optim_free(o), mn_objective_free(f), free(x0);
    }
    mn_db *db = NULL;
    /* in an MPI job rank 0 alone writes the database and sums up (minima/dist.h) */
    const int worker = mn_dist_rank() > 0;
    if (!st && p->db_path && !worker) st = mn_db_open(&db, p->db_path, 1);
    const double t0 = omp_get_wtime();
    r->n = 2 * p->ndims;
    if (!st && !(r->rows = calloc((size_t)r->n, sizeof *r->rows))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = octopus_part(r, p, db);
    mn_db_close(db);
    r->growth = 1 - log(1 - r->step * p->L) / log(1 + r->step * p->gamma);
    r->growth_measured = NAN;
    for (int k = 0; !st && !worker && k < r->n; k += 2)
        if (r->rows[k].d == dmax && dmax >= 6)
            r->growth_measured = pow(r->rows[k].med[dmax - 1] / r->rows[k].med[dmax - 5], 0.25);
    if (!st && !worker) st = trace_part(r, p);
    if (!st && !worker && p->network) st = network_part(&r->net, p), r->has_net = !st;
    if (!st && !worker && p->plot) st = mn_saddles_plot(r, p->plot);
    r->seconds = omp_get_wtime() - t0;
    if (st) {
        mn_saddles_result_free(r);
        return st;
    }
    *out = r;
    return MN_OK;
}
