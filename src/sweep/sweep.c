/* Network runs and the sweep: one certified run of a network on data
 * (mn_run_seeded), and a sweep's run list handed to the runner, with a
 * progress display.
 *
 * Determinism. A run depends only on its setting and its seed
 * (mn_sweep_seed), every thread has its own mn_work and optimiser, the model
 * and data are read-only, and OpenBLAS runs on one thread while the threads
 * work (its threaded kernels may round differently with the thread count;
 * one thread also avoids T x cores threads fighting for T cores). So the
 * stored results are bit-identical whatever --threads, the order in which
 * the runs finish, or the sharding. The pool, resume and commits are the
 * runner's (src/run/runner.c); a run here is the network kind's run. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "minima.h"
#include "minima/dist.h"
#include "minima/objective.h"
#include "minima/sweep.h"
#include "run/internal.h"

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The parameter norm and loss at iterations 0, 1, 2, .., each about 1.1
 * times the one before (300 cover 1e12 iterations). */
#define HIST_MAX 320
typedef struct {
    int n;
    long next, it[HIST_MAX];
    double norm[HIST_MAX], loss[HIST_MAX];
} history;

static void history_note(history *h, const mn_optim *opt, size_t P)
{
    const long it = mn_optim_iter(opt);
    if (!h || h->n == HIST_MAX || it < h->next) return;
    h->it[h->n] = it, h->norm[h->n] = mn_norm2(mn_optim_theta(opt), P, NULL), h->loss[h->n] = mn_optim_loss(opt);
    h->n++;
    h->next = it + 1 + it / 10;
}

/* Runs opt until its test leaves RUNNING or `steps` iterations. snap (P, may
 * be NULL) gets the point after snap_at iterations, if the run gets there;
 * h (may be NULL) the norms and losses along the way; s (may be NULL) its
 * progress hook every MN_PROGRESS_EVERY iterations and at the end (it only
 * reads: the run is the same with or without it). */
#define MN_PROGRESS_EVERY 256
static mn_status run_loop(mn_optim *opt, long steps, double gtol, mn_run_state *state, long snap_at,
                          double *snap, size_t P, history *h, const mn_sweep_setting *s)
{
    const int hook = s && s->progress;
    *state = mn_optim_test(opt, gtol);
    if (snap && mn_optim_iter(opt) == snap_at) memcpy(snap, mn_optim_theta(opt), P * sizeof *snap);
    history_note(h, opt, P);
    while (*state == MN_RUN_RUNNING && mn_optim_iter(opt) < steps) {
        mn_status st = mn_optim_iterate(opt);
        if (st) return st;
        if (snap && mn_optim_iter(opt) == snap_at) memcpy(snap, mn_optim_theta(opt), P * sizeof *snap);
        history_note(h, opt, P);
        *state = mn_optim_test(opt, gtol);
        if (hook && mn_optim_iter(opt) % MN_PROGRESS_EVERY == 0)
            s->progress(s->progress_ctx, mn_optim_iter(opt), steps, mn_optim_loss(opt), mn_optim_gnorm(opt), 0);
    }
    if (hook) s->progress(s->progress_ctx, mn_optim_iter(opt), steps, mn_optim_loss(opt), mn_optim_gnorm(opt), 1);
    return MN_OK;
}

/* Drift to infinity along a flat valley (units saturating, or large output
 * weights cancelling): over the last sixth of the run or more -- from the
 * last noted iteration at or before end / 1.2 -- the parameter norm grew by
 * more than a quarter while the loss fell by less than 1e-4 of its value. A
 * run settling into a minimum stops growing; one whose loss keeps improving
 * (logistic loss on separable data: the loss shrinks as the norm grows) is
 * left alone. Returns 1 and writes the evidence into why (len bytes). */
static int norm_drifts(const history *h, const mn_optim *opt, size_t P, char *why, size_t len)
{
    const long end = mn_optim_iter(opt);
    int k = -1;
    for (int i = 0; i < h->n; i++)
        if (h->it[i] >= 1 && 1.2 * (double)h->it[i] <= (double)end) k = i;
    if (k < 0 || end < 8) return 0;
    const double n1 = mn_norm2(mn_optim_theta(opt), P, NULL), l1 = mn_optim_loss(opt);
    const double drop = h->loss[k] - l1;
    if (!(n1 > 1.25 * h->norm[k]) || !(drop < 1e-4 * fabs(l1))) return 0;
    snprintf(why, len,
             "parameter norm %.3g -> %.3g over iterations %ld..%ld while the loss fell by only %.3g (%.9g -> "
             "%.9g): the weights drift to infinity along a flat valley, not to a minimum",
             h->norm[k], n1, h->it[k], end, drop, h->loss[k], l1);
    return 1;
}

/* Saturation: when every hidden unit of a tanh / sigmoid network is past
 * mn_saturation_z on every sample, the gradient through the units vanishes
 * to rounding and the loss can only keep falling as the weights grow: an
 * asymptote at infinity, not a minimum, whatever the gradient norm says.
 * The certificate turns DIVERGED and why (len bytes) gets the evidence. */
static mn_status saturated(mn_cert *c, char *why, size_t len, const mn_sweep_setting *s, mn_work *work,
                           const double *theta)
{
    const mn_spec *sp = mn_model_spec(s->model);
    const double zs = mn_saturation_z(sp->act);
    if (!isfinite(zs)) return MN_OK;
    double margin;
    mn_status st = mn_preact_margin(s->model, work, s->data, theta, &margin);
    if (st || !(margin > zs)) return st == MN_ERANGE ? MN_OK : st;
    snprintf(why, len,
             "every hidden unit saturated on every sample: smallest |pre-activation| %.3g > %.3g (%s' < "
             "2.2e-16 of its peak), parameter norm %.3g: the loss falls only as the weights grow (was %s)",
             margin, zs, mn_act_name(sp->act), mn_norm2(theta, mn_model_nparams(s->model), NULL),
             mn_class_name(c->cls));
    c->cls = MN_CLASS_DIVERGED;
    return MN_OK;
}

mn_status mn_sweep_one(mn_run_row *row, const mn_sweep_setting *s, long restart, mn_work *work)
{
    mn_status st = mn_run_seeded(row, s, mn_sweep_seed(s->seed, s->canon, restart), work, NULL);
    row->setting = s->db_id;
    row->restart = restart;
    return st;
}

/* "running" at the step cap reads "max-steps". */
static const char *status_name(mn_run_state st)
{
    return st == MN_RUN_RUNNING ? "max-steps" : mn_run_state_name(st);
}

double mn_setting_run_bytes(const mn_sweep_setting *s)
{
    const size_t P = mn_model_nparams(s->model);
    const int n = mn_data_n(s->data), K = mn_model_spec(s->model)->width[mn_model_spec(s->model)->depth];
    const double d = sizeof(double);
    double b = 3 * d * (double)P;                  /* start / mid point, the stored end point */
    b += mn_work_bytes(s->model, n);               /* evaluation workspace */
    /* Newton refuses past 4000 parameters on its own (a clearer message) */
    if (s->opt.kind != MN_OPT_NEWTON || P <= 4000) b += mn_optim_bytes(P, P, n, &s->opt);
    if (s->polish && P <= 4000) {
        mn_opt_params pp = s->opt;
        pp.kind = MN_OPT_NEWTON;
        b += mn_optim_bytes(P, P, n, &pp);
    }
    b += (d + 1) * (double)P + d * (double)n * K;  /* certification: gradient, mask, outputs */
    b += mn_spectrum_bytes(P, P, s->cert.max_dense, s->cert.lanczos_iter);
    return b;
}

mn_status mn_run_seeded(mn_run_row *row, const mn_sweep_setting *s, uint64_t seed, mn_work *work, double *end)
{
    const double t0 = now();
    memset(row, 0, sizeof *row);
    row->restart = -1;
    row->seed = seed;
    row->grad_norm_before_polish = NAN;
    snprintf(row->optimizer, sizeof row->optimizer, "%s", mn_opt_name(s->opt.kind));
    row->elim_a = row->elim_b = row->elim_w_norm = row->elim_a_exp_b = NAN;
    const size_t P = mn_model_nparams(s->model);
    const int nelim = mn_model_nelim(s->model);
    double *theta = malloc(P * sizeof *theta);
    double *mid = nelim > 0 ? malloc(P * sizeof *mid) : NULL; /* the point at half the step budget */
    if (!theta || (nelim > 0 && !mid)) {
        free(theta), free(mid);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    mn_model_init(s->model, theta, row->seed, s->frozen_value);
    mn_opt_params prm = s->opt;
    prm.seed = mn_seed_derive(row->seed, (const uint64_t[]){0x6f7074}, 1); /* as minima train */
    mn_optim *opt = NULL, *pol = NULL;
    mn_status st = mn_optim_alloc(&opt, s->model, work, s->data, &prm, theta);
    free(theta);
    if (st) {
        free(mid);
        return st;
    }
    mn_run_state state;
    history hist = {0};
    st = run_loop(opt, s->steps, s->gtol, &state, s->steps / 2, mid, P, &hist, s);
    const mn_optim *last = opt;
    int drifts = 0;
    if (!st && state == MN_RUN_RUNNING && nelim > 0) /* stopped on the step cap */
        drifts = mn_elim_drifts(s->model, s->data, mid, mn_optim_theta(opt), row->reason, sizeof row->reason);
    if (!st && state != MN_RUN_DIVERGED && !drifts)
        drifts = norm_drifts(&hist, opt, P, row->reason, sizeof row->reason);
    free(mid);
    if (!st && s->polish && state != MN_RUN_DIVERGED && !drifts) {
        mn_opt_params pp = prm;
        pp.kind = MN_OPT_NEWTON;
        pp.plateau_window = 0;
        mn_run_state ps;
        st = mn_optim_alloc(&pol, s->model, work, s->data, &pp, mn_optim_theta(opt));
        if (!st) st = run_loop(pol, 100, 0.0, &ps, -1, NULL, P, NULL, NULL);
        if (!st) last = pol, state = mn_optim_test(pol, s->gtol);
        if (!st) row->polish_iterations = mn_optim_iter(pol), row->grad_norm_before_polish = mn_optim_gnorm(opt);
    }
    snprintf(row->status, sizeof row->status, "%s", drifts ? "diverged" : status_name(state));
    /* Why it stalled, or PGD's second-order stop, is worth a reason too. */
    if (state != MN_RUN_DIVERGED && !drifts && *mn_optim_why(last) &&
        (state != MN_RUN_CONVERGED || (last == opt && s->opt.kind == MN_OPT_PGD)))
        snprintf(row->reason, sizeof row->reason, "%s", mn_optim_why(last));
    if (state == MN_RUN_DIVERGED && !drifts)
        snprintf(row->reason, sizeof row->reason, "%s",
                 *mn_optim_why(last) ? mn_optim_why(last) : "the optimiser diverged");
    /* The judged class (mn_judge): the original network, added neurons dropped. */
    mn_judgement jd = {.cert = {.cls = MN_CLASS_DIVERGED}};
    if (!st)
        st = mn_judge(&jd, s->model, s->data, mn_optim_theta(last), state == MN_RUN_DIVERGED || drifts, &s->cert);
    mn_cert c = jd.cert;
    if (!st && c.cls != MN_CLASS_DIVERGED && c.cls != MN_CLASS_GLOBAL)
        st = saturated(&c, row->reason, sizeof row->reason, s, work, mn_optim_theta(last));
    if (!st && c.cls == MN_CLASS_DIVERGED && !row->reason[0])
        snprintf(row->reason, sizeof row->reason, "the loss or the gradient is not finite at the end point");
    if (!st) {
        mn_elim_largest(s->model, mn_optim_theta(last), &row->elim_a, &row->elim_b, &row->elim_w_norm,
                        &row->elim_a_exp_b);
        row->iterations = mn_optim_iter(opt);
        row->loss = c.loss;
        row->grad_norm = c.gnorm;
        row->lambda_min = c.lambda_min;
        row->lambda_max = c.lambda_max;
        row->kink_margin = c.kink_margin;
        row->cls = c.cls;
        row->near_kink = c.near_kink;
        row->accuracy = c.accuracy;
        row->theta_norm = mn_norm2(mn_optim_theta(last), P, NULL);
        row->defended_loss = jd.defended_loss;
        row->defended_grad_norm = jd.defended_gnorm;
        row->defended_critical = jd.defended_critical;
        row->elim_output = jd.elim_output;
        row->drop_changes_prediction = jd.drop_changes_prediction;
        if (end) memcpy(end, mn_optim_theta(last), P * sizeof *end);
        if (c.cls == MN_CLASS_SPURIOUS || c.cls == MN_CLASS_MINIMUM) { /* kept for the catalogue of distinct minima */
            if (!(row->theta = malloc(P * sizeof *row->theta)))
                st = mn_fail(MN_ENOMEM, "out of memory");
            else
                memcpy(row->theta, mn_optim_theta(last), P * sizeof *row->theta), row->ntheta = P;
        }
    }
    mn_optim_free(pol);
    mn_optim_free(opt);
    row->seconds = now() - t0;
    return st;
}

/* ------------------------------------------------------------------ */
/* Progress: a redrawn bar on a terminal (at most 10 draws a second), else
 * a plain line at every 10% or 5 s, whichever comes first. */
typedef struct {
    FILE *f;
    int tty;
    long todo, done;
    double t0, last;
    long last_decile;
} progress;

static void fmt_time(char *buf, size_t n, double s)
{
    if (!isfinite(s) || s < 0) {
        snprintf(buf, n, "?");
        return;
    }
    long t = (long)(s + 0.5);
    if (t >= 3600)
        snprintf(buf, n, "%ld:%02ld:%02ld", t / 3600, t / 60 % 60, t % 60);
    else
        snprintf(buf, n, "%ld:%02ld", t / 60, t % 60);
}

static void progress_show(progress *p, int final)
{
    if (!p->f || p->todo == 0) return;
    const double t = now(), el = t - p->t0;
    const long decile = p->done * 10 / p->todo;
    if (!final) {
        if (p->done == p->todo) return; /* the final line follows */
        if (p->tty && t - p->last < 0.1) return;
        if (!p->tty && t - p->last < 5.0 && decile == p->last_decile) return;
    }
    p->last = t, p->last_decile = decile;
    const double rate = el > 0 ? (double)p->done / el : 0.0;
    char eta[32], elapsed[32];
    fmt_time(eta, sizeof eta, rate > 0 ? (double)(p->todo - p->done) / rate : NAN);
    fmt_time(elapsed, sizeof elapsed, el);
    const int pct = (int)(100 * p->done / p->todo);
    if (p->tty) {
        char bar[31];
        int fill = (int)(30 * p->done / p->todo);
        for (int i = 0; i < 30; i++) bar[i] = i < fill ? '#' : '.';
        bar[30] = '\0';
        fprintf(p->f, "\r[%s] %ld/%ld %3d%% %.3g runs/s %s %s\033[K", bar, p->done, p->todo, pct, rate,
                final ? "elapsed" : "ETA", final ? elapsed : eta);
        if (final) fputc('\n', p->f);
    } else {
        fprintf(p->f, "sweep: %ld/%ld runs (%d%%), %.3g runs/s, %s %s\n", p->done, p->todo, pct, rate,
                final ? "elapsed" : "ETA", final ? elapsed : eta);
    }
    fflush(p->f);
}

/* ------------------------------------------------------------------ */
static void announce(void *ctx, long todo, long stored, int threads)
{
    progress *pg = ctx;
    pg->todo = todo;
    pg->t0 = now();
    if (!pg->f || todo == 0) return;
    fprintf(pg->f, "sweep: %ld runs to do", todo);
    if (stored) fprintf(pg->f, " (%ld already stored)", stored);
    const int ranks = mn_dist_size();
    if (ranks > 1) fprintf(pg->f, " on %d MPI ranks,", ranks);
    fprintf(pg->f, " on %d thread%s%s\n", threads, threads == 1 ? "" : "s", ranks > 1 ? " each" : "");
    fflush(pg->f);
}

static void note_progress(void *ctx, long k, long ndone)
{
    (void)k;
    progress *pg = ctx;
    pg->done = ndone;
    progress_show(pg, 0);
}

mn_status mn_sweep_memory_check(const mn_sweep_setting *settings, int nsettings, int threads)
{
    /* threads runs at a time, each the largest; every data set once */
    double most = 0, data = 0;
    for (int i = 0; i < nsettings; i++) {
        const double b = mn_setting_run_bytes(&settings[i]);
        most = b > most ? b : most;
        int seen = 0;
        for (int j = 0; j < i && !seen; j++) seen = settings[j].data == settings[i].data;
        const mn_data *d = settings[i].data;
        if (!seen) data += (double)mn_data_n(d) * (mn_data_d(d) + mn_data_m(d)) * sizeof(double);
    }
    char what[96];
    snprintf(what, sizeof what, "the sweep (%d run%s at a time)", threads, threads == 1 ? "" : "s");
    return mn_mem_check(most * threads + data, what);
}

mn_status mn_sweep_run(mn_sweep_stats *stats, mn_db *db, const mn_sweep_setting *settings, int nsettings,
                       const mn_sweep_opts *o)
{
    memset(stats, 0, sizeof *stats);
    const double t0 = now();
    if (o->restarts < 1) return mn_fail(MN_EINVAL, "restarts must be >= 1 (got %ld)", o->restarts);
    const long R = o->restarts;
    if ((long)nsettings > 0x7fffffffL / R) return mn_fail(MN_EINVAL, "too many runs (settings x restarts)");
    mn_status sm = mn_sweep_memory_check(settings, nsettings, o->threads);
    if (sm) return sm;
    mn_status st = MN_OK;
    for (int s = 0; s < nsettings && !st; s++) { /* every setting's data checked before any run */
        char key[64];
        if (!settings[s].data || !db) continue; /* an MPI job: rank 0 alone has the database */
        mn_data_key(key, sizeof key, settings[s].data);
        st = mn_db_setting_data(db, settings[s].db_id, settings[s].canon, key);
    }
    if (st) return st;
    /* The runs, setting by setting (index s R + r: the shard rule). */
    const long n = (long)nsettings * R;
    mn_pending *list = malloc((size_t)n * sizeof *list + 1);
    if (!list) return mn_fail(MN_ENOMEM, "out of memory for %d x %ld runs", nsettings, R);
    const mn_run_kind *kind = mn_run_kind_named("network");
    for (long k = 0; k < n; k++)
        list[k] = (mn_pending){kind, &settings[k / R], settings[k / R].db_id, k % R, NULL};
    progress pg = {.f = o->progress, .t0 = now(), .last = 0, .last_decile = 0};
    pg.tty = o->tty >= 0 ? o->tty : (o->progress && isatty(fileno(o->progress)));
    /* what every rank of an MPI job must agree on (minima/dist.h) */
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &R, sizeof R);
    for (int s = 0; s < nsettings; s++) key = mn_hash_bytes(key, settings[s].canon, strlen(settings[s].canon) + 1);
    mn_runner_opts ro = {.threads = o->threads, .db = db, .shard = o->shard, .nshards = o->nshards, .key = key,
                         .started = announce, .finished = note_progress, .ctx = &pg};
    mn_runner_stats rst;
    st = mn_runner_run(&rst, NULL, list, n, &ro);
    stats->total = rst.total, stats->skipped = rst.skipped, stats->done = rst.done;
    if (pg.todo > 0 && !st)
        progress_show(&pg, 1);
    else if (pg.todo > 0 && pg.f && pg.tty)
        fputc('\n', pg.f);
    free(list);
    stats->seconds = now() - t0;
    return st;
}
