/* Table rows of the Safran-Shamir experiment: the restarts of all rows are
 * one list of runs for the runner (src/run/runner.c; the largest problems
 * first so that the short runs of the small rows fill the end), each row
 * then reduced on its own.
 *
 * Determinism: run r of row (k, n) starts from seed mn_seed_derive(base,
 * {k, n, r}) and writes only its own result slot and end point, so the runs
 * do not depend on the schedule; OpenBLAS is held at one thread while they
 * run (each LAPACK call is then the same sequential code whatever the thread
 * count). The reduction (distinct minima, means) is sequential in restart
 * order, and the eigenvalues of the distinct minima are again one slot per
 * minimum. So the rows are bit-identical for every thread count.
 *
 * Distinct minima are compared on end points sharpened by Newton steps
 * (mn_popul_refine) when GD, not the certified polish, ended the run: a GD
 * end point is only within ||grad|| / lambda_min of the minimum, 3e-5 for
 * the flattest minima met (lambda_min ~ 4e-5), above dedup_tol. */
#include <cblas.h>
#include <cjson/cJSON.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/dist.h"
#include "minima/sweep.h"
#include "popul/internal.h"
#include "run/internal.h"
#include "util/first_error.h"

/* One row's results while the runner runs, then its reduction. */
typedef struct {
    mn_popul_task t;     /* what the runner's runs write */
    unsigned char *done; /* (restarts) 1: loaded from the database, 2: with its lambda_min */
    int left;            /* runs still to do (progress) */
    int *rep;            /* (restarts) the first run of each distinct minimum */
    double *lmin;        /* (restarts) the smallest Hessian eigenvalue of each */
    int ndist;
    double reduce_s;     /* wall seconds of its reduction (summed over its parts) */
} slot;

/* The distinct spurious minima of a row, in restart order (res[].distinct,
 * rep, ndist). Sequential; rows run it concurrently (nothing shared). */
static mn_status row_distinct(slot *sl, const mn_popul_spec *spec, const mn_popul_opts *opts, int restarts)
{
    const size_t P = sl->t.P;
    mn_popul_run *res = sl->t.res;
    int *idx = malloc((size_t)restarts * sizeof *idx); /* run of each spurious minimum */
    int *lab = malloc((size_t)restarts * sizeof *lab);
    double *sl_loss = malloc((size_t)restarts * sizeof *sl_loss), *sa = malloc((size_t)restarts * sizeof *sa),
           *sb = malloc((size_t)restarts * sizeof *sb);
    const double **pts = malloc((size_t)restarts * sizeof *pts);
    mn_status st = MN_OK;
    if (!idx || !lab || !sl_loss || !sa || !sb || !pts) {
        st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
        goto done;
    }
    int nsp = 0;
    for (int r = 0; r < restarts; r++) {
        res[r].distinct = -1;
        if (res[r].cls != MN_CLASS_SPURIOUS) continue;
        idx[nsp] = r, pts[nsp] = sl->t.pts + (size_t)r * P;
        sl_loss[nsp] = res[r].loss, sa[nsp] = res[r].a, sb[nsp] = res[r].b;
        nsp++;
    }
    if ((st = mn_popul_distinct(lab, &sl->ndist, pts, sl_loss, sa, sb, nsp, spec, opts->dedup_tol))) goto done;
    for (int i = 0; i < nsp; i++) res[idx[i]].distinct = lab[i];
    for (int i = nsp - 1; i >= 0; i--) sl->rep[lab[i]] = idx[i]; /* the first run of each */
done:
    free(idx), free(lab), free(sl_loss), free(sa), free(sb), free(pts);
    return st;
}

/* The smallest Hessian eigenvalue of each distinct minimum of every row (at
 * its first run), one task per minimum through the run pool of
 * minima/dist.h: this process's threads (rank 0's own work in an MPI job,
 * solo), each with an mn_popul_runner for the row at hand. Task i is
 * minimum dmin[i] of row row[i]. */
typedef struct {
    slot *sl;
    const mn_popul_spec *specs;
    const int *row, *dmin; /* (ntask) */
    double *secs;          /* (ntask) wall seconds of each */
} lmin_pass;

typedef struct {
    mn_popul_runner *R;
    int row; /* whose spec R has */
} lmin_tls;

typedef struct {
    double v, secs;
} lmin_result;

static mn_status lmin_run(void *ctx, void **tls, long i, void *result, size_t *len)
{
    const lmin_pass *c = ctx;
    const double t0 = omp_get_wtime();
    const int s = c->row[i];
    const slot *sl = &c->sl[s];
    const int r = sl->rep[c->dmin[i]];
    lmin_result out = {NAN, 0};
    mn_status st = MN_OK;
    if (sl->done[r] == 2) { /* computed at this same point by the call that stored it */
        out.v = sl->t.res[r].lambda_min;
    } else {
        lmin_tls *t = *tls;
        if (!t && !(t = *tls = calloc(1, sizeof *t))) {
            st = mn_fail(MN_ENOMEM, "popul: out of memory");
        } else if (!t->R || t->row != s) { /* tasks come row by row */
            mn_popul_runner_free(t->R), t->R = NULL;
            st = mn_popul_runner_alloc(&t->R, &c->specs[s]);
            t->row = s;
        }
        if (!st) st = mn_popul_hessian(t->R->w, sl->t.pts + (size_t)r * sl->t.P, t->R->L);
        if (!st) st = mn_sym_eigvals(t->R->ev, t->R->L, (int)sl->t.P);
        if (!st) out.v = t->R->ev[0];
    }
    out.secs = omp_get_wtime() - t0;
    memcpy(result, &out, sizeof out);
    *len = sizeof out;
    return st;
}

static void lmin_free(void *ctx, void *tls)
{
    (void)ctx;
    lmin_tls *t = tls;
    if (t) mn_popul_runner_free(t->R);
    free(t);
}

static mn_status lmin_commit(void *ctx, long i, const void *result, size_t len)
{
    (void)len;
    const lmin_pass *c = ctx;
    lmin_result out;
    memcpy(&out, result, sizeof out);
    c->sl[c->row[i]].lmin[c->dmin[i]] = out.v;
    c->secs[i] = out.secs;
    return MN_OK;
}

/* The summary of one row from its runs, distinct minima and their
 * eigenvalues. The row is made from the runs in memory (the experiment
 * runs without a database too), so it cannot be mn_summarize's; it uses
 * the shared pieces (mn_wilson, mn_median, mn_popul_distinct, which the
 * summary's population run kind calls too) and gives the summary's numbers
 * for the same runs (spurious % and interval, mean loss and lambda_min;
 * tests/cli_db.sh compares them). Its own, on purpose: lambda_min once per
 * distinct minimum (the Hessian is P x P), and the added neuron's medians
 * over the runs that did not diverge (a diverged run stopped where its norm
 * passed max_norm: its neuron says nothing about where training settles),
 * including |c|, the population neuron's direction, which network rows do
 * not have. */
static mn_status row_summary(mn_popul_row *row, slot *sl, const mn_popul_spec *spec, int restarts)
{
    mn_popul_run *res = sl->t.res;
    double *tmp = malloc((size_t)restarts * sizeof *tmp);
    if (!tmp) return mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
    memset(row, 0, sizeof *row);
    row->k = spec->k, row->n = spec->n, row->restarts = restarts;
    double sl_sum = 0, sf = 0;
    for (int r = 0; r < restarts; r++) {
        mn_popul_run *q = &res[r];
        row->count[q->cls]++;
        row->early += q->early, row->polished += q->polished;
        row->steps += q->iters;
        row->run_seconds += q->seconds;
        row->loaded += sl->done[r] != 0;
        if (q->cls == MN_CLASS_SPURIOUS) {
            q->lambda_min = sl->lmin[q->distinct];
            sl_sum += q->lambda_min, sf += q->loss;
        }
    }
    const int ns = row->count[MN_CLASS_SPURIOUS];
    row->spurious_pct = 100.0 * ns / restarts;
    mn_wilson(&row->spurious_lo, &row->spurious_hi, ns, restarts, MN_Z95);
    row->spurious_lo *= 100, row->spurious_hi *= 100; /* in % */
    row->mean_lambda_min = ns ? sl_sum / ns : NAN;
    row->mean_loss = ns ? sf / ns : NAN;
    row->distinct = sl->ndist;
    row->median_abs_a = row->median_a_exp_b = row->median_b = row->median_c_norm = NAN;
    if (spec->elim) {
        /* the neuron at the end of the runs that did not diverge */
        double *med[4] = {&row->median_abs_a, &row->median_a_exp_b, &row->median_b, &row->median_c_norm};
        for (int f = 0; f < 4; f++) {
            int m = 0;
            for (int r = 0; r < restarts; r++) {
                const mn_popul_run *q = &res[r];
                if (q->cls == MN_CLASS_DIVERGED) continue;
                tmp[m++] = f == 0 ? fabs(q->a) : f == 1 ? q->a_exp_b : f == 2 ? q->b : q->c_norm;
            }
            *med[f] = mn_median(tmp, m);
        }
    }
    free(tmp);
    return MN_OK;
}

/* The reductions of every row: distinct minima (rows concurrently, each
 * sequential in restart order), then the eigenvalues of all rows' distinct
 * minima as one pool of tasks, then the summaries in row order. Each row's
 * numbers depend only on its own runs, so they are those of reducing it
 * alone, bit for bit, whatever the thread count. order: the rows by
 * decreasing size (the largest reductions start first). */
static mn_status reduce_rows(mn_popul_row *rows, slot *sl, const int *order, const mn_popul_spec *specs,
                             int nspecs, const mn_popul_opts *opts, int restarts, int nthr)
{
    mn_first_error err = {0};
#pragma omp parallel for schedule(dynamic, 1) num_threads(nthr)
    for (int o = 0; o < nspecs; o++) {
        const int s = order[o];
        const double t0 = omp_get_wtime();
        const mn_status e = mn_first_error_seen(&err) ? MN_OK : row_distinct(&sl[s], &specs[s], opts, restarts);
        if (e) mn_first_error_set(&err, e);
        sl[s].reduce_s = omp_get_wtime() - t0;
    }
    mn_status st = mn_first_error_status(&err);
    if (st) return st;
    long ntask = 0;
    for (int s = 0; s < nspecs; s++) ntask += sl[s].ndist;
    long *task = malloc((size_t)(ntask > 0 ? ntask : 1) * sizeof *task);
    int *row = malloc((size_t)(ntask > 0 ? ntask : 1) * sizeof *row);
    int *dmin = malloc((size_t)(ntask > 0 ? ntask : 1) * sizeof *dmin);
    double *secs = calloc((size_t)(ntask > 0 ? ntask : 1), sizeof *secs);
    if (!task || !row || !dmin || !secs) st = mn_fail(MN_ENOMEM, "popul: out of memory for %ld minima", ntask);
    for (long i = 0, o = 0; !st && o < nspecs; o++) /* the rows in the order above */
        for (int d = 0; d < sl[order[o]].ndist; d++, i++) task[i] = i, row[i] = order[o], dmin[i] = d;
    if (!st) {
        lmin_pass lp = {.sl = sl, .specs = specs, .row = row, .dmin = dmin, .secs = secs};
        const mn_dist_job job = {.ctx = &lp, .result_bytes = sizeof(lmin_result), .threads = nthr,
                                 .run = lmin_run, .tls_free = lmin_free, .commit = lmin_commit};
        const int solo = mn_dist_solo(1);
        st = mn_dist_run(&job, task, ntask);
        mn_dist_solo(solo);
    }
    for (long i = 0; !st && i < ntask; i++) sl[row[i]].reduce_s += secs[i];
    for (int s = 0; s < nspecs && !st; s++) {
        const double t0 = omp_get_wtime();
        st = row_summary(&rows[s], &sl[s], &specs[s], restarts);
        sl[s].reduce_s += omp_get_wtime() - t0;
    }
    free(task), free(row), free(dmin), free(secs);
    return st;
}

/* ------------------------------------------------------------------ */
/* Persistence (see minima/popul.h).                                    */

#define EARLY_REASON "early global: F < global_tol"

/* A row's setting as option pairs (values as the canonical string writes
 * them; lambda only with the eliminator). Returns the number of pairs. */
enum { NPAIR = 13 };
static int setting_pairs(const char **key, char val[NPAIR][32], const mn_popul_spec *spec, const mn_popul_opts *o,
                         uint64_t base_seed)
{
    int n = 0;
#define PAIR(k, ...) (key[n] = (k), snprintf(val[n], sizeof val[n], __VA_ARGS__), n++)
    PAIR("experiment", "safran-shamir");
    PAIR("k", "%d", spec->k);
    PAIR("n", "%d", spec->n);
    PAIR("eliminate", "%s", spec->elim ? "liang" : "none");
    if (spec->elim) PAIR("lambda", "%.17g", spec->lambda);
    if (o->step > 0) PAIR("step", "%.17g", o->step);
    else PAIR("step", "5/n");
    PAIR("gtol", "%.17g", o->gtol);
    PAIR("global_tol", "%.17g", o->global_tol);
    PAIR("max_iter", "%ld", o->max_iter);
    PAIR("max_norm", "%.17g", o->max_norm);
    PAIR("early_global", "%d", o->early_global);
    PAIR("newton", "%d", o->newton);
    PAIR("seed", "%llu", (unsigned long long)base_seed);
#undef PAIR
    return n;
}

/* The canonical string (the setting's pairs in their order) and, when json
 * is not NULL, the same pairs as a JSON object of strings (the settings
 * table's options, as minima/sweep.h says): malloc'ed. */
static mn_status setting_strings(char **canon, char **json, const mn_popul_spec *spec, const mn_popul_opts *o,
                                 uint64_t base_seed)
{
    const char *key[NPAIR], *vp[NPAIR];
    char val[NPAIR][32];
    const int n = setting_pairs(key, val, spec, o, base_seed);
    for (int i = 0; i < n; i++) vp[i] = val[i];
    return mn_canon_listed(canon, json, key, vp, n);
}

mn_status mn_popul_canon(char *buf, size_t len, const mn_popul_spec *spec, const mn_popul_opts *o,
                         uint64_t base_seed)
{
    char *c;
    mn_status st = setting_strings(&c, NULL, spec, o, base_seed);
    if (st) return st;
    if (strlen(c) >= len) st = mn_fail(MN_EINVAL, "popul: canonical string longer than %zu", len);
    else memcpy(buf, c, strlen(c) + 1);
    free(c);
    return st;
}

/* A number of a settings JSON object, written as a string (or, by versions
 * before 0.1's run layer, as a number); NAN when absent or not a number. */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    if (cJSON_IsNumber(v)) return v->valuedouble;
    if (!cJSON_IsString(v)) return NAN;
    char *end;
    const double x = strtod(v->valuestring, &end);
    return end != v->valuestring && !*end ? x : NAN;
}

mn_status mn_popul_setting_parse(mn_popul_spec *spec, mn_popul_opts *o, uint64_t *base_seed, const char *json,
                                 const char *canon)
{
    cJSON *j = cJSON_Parse(json);
    const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "experiment");
    const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "eliminate");
    const cJSON *step = cJSON_GetObjectItemCaseSensitive(j, "step");
    if (!cJSON_IsString(ex) || strcmp(ex->valuestring, "safran-shamir") != 0 || !cJSON_IsString(el)) {
        cJSON_Delete(j);
        return mn_fail(MN_EFORMAT, "not a safran-shamir setting");
    }
    *spec = (mn_popul_spec){.k = (int)jnum(j, "k"), .n = (int)jnum(j, "n"), .elim = !strcmp(el->valuestring, "liang")};
    spec->lambda = spec->elim ? jnum(j, "lambda") : 0;
    mn_popul_opts_default(o);
    const double sv = jnum(j, "step");
    o->step = (cJSON_IsString(step) && !strcmp(step->valuestring, "5/n")) || sv == 5.0 / spec->n ? 0 : sv;
    o->gtol = jnum(j, "gtol"), o->global_tol = jnum(j, "global_tol");
    o->max_iter = (long)jnum(j, "max_iter"), o->max_norm = jnum(j, "max_norm");
    o->early_global = (int)jnum(j, "early_global"), o->newton = (int)jnum(j, "newton");
    const cJSON *sd = cJSON_GetObjectItemCaseSensitive(j, "seed");
    *base_seed = cJSON_IsString(sd) ? strtoull(sd->valuestring, NULL, 10) : (uint64_t)jnum(j, "seed");
    cJSON_Delete(j);
    /* the canonical string must come back the same, or this is not the setting */
    char again[512];
    if (mn_popul_check(spec) || mn_popul_canon(again, sizeof again, spec, o, *base_seed) || strcmp(again, canon))
        return mn_fail(MN_EFORMAT, "stored safran-shamir options do not give back their canonical string");
    return MN_OK;
}

/* A run as a database row; theta points into the caller's end point. */
static void to_db_row(mn_run_row *d, const mn_popul_run *q, int64_t id, double *pt, size_t P)
{
    memset(d, 0, sizeof *d);
    d->setting = id;
    d->restart = q->restart;
    d->seed = q->seed;
    snprintf(d->optimizer, sizeof d->optimizer, "%s", q->polished ? "gd+newton" : "gd");
    d->iterations = q->iters;
    d->loss = q->loss, d->grad_norm = q->gnorm, d->lambda_min = q->lambda_min;
    d->lambda_max = d->kink_margin = d->accuracy = NAN;
    d->theta_norm = pt ? mn_norm2(pt, P, NULL) : NAN; /* pt: the run's end point */
    d->cls = q->cls;
    d->elim_a = q->a, d->elim_b = q->b, d->elim_w_norm = q->c_norm, d->elim_a_exp_b = q->a_exp_b;
    const char *why = q->early                             ? EARLY_REASON
                      : q->cls == MN_CLASS_DIVERGED      ? "non-finite value or |theta| > max_norm"
                      : q->cls == MN_CLASS_NOT_CONVERGED ? "max_iter GD steps"
                                                         : "";
    snprintf(d->reason, sizeof d->reason, "%s", why);
    d->seconds = q->seconds;
    d->theta = q->cls == MN_CLASS_SPURIOUS ? pt : NULL;
    d->ntheta = d->theta ? P : 0;
}

/* A stored or received run (d: restart r of t's row) into t->res[r]; the
 * values a row does not hold are NaN (orth_err, max_f_after) or -1
 * (distinct, set by the reduction). */
static void run_of_row(const mn_popul_task *t, const mn_run_row *d, int r)
{
    mn_popul_run *q = &t->res[r];
    memset(q, 0, sizeof *q);
    q->n = t->spec.n, q->k = t->spec.k, q->restart = r;
    const uint64_t idx[3] = {(uint64_t)t->spec.k, (uint64_t)t->spec.n, (uint64_t)r};
    q->seed = mn_seed_derive(t->base_seed, idx, 3);
    q->cls = d->cls;
    q->early = !strcmp(d->reason, EARLY_REASON);
    q->polished = !strcmp(d->optimizer, "gd+newton");
    q->iters = d->iterations;
    q->loss = d->loss, q->gnorm = d->grad_norm, q->lambda_min = d->lambda_min;
    q->orth_err = q->max_f_after = NAN;
    q->a = d->elim_a, q->b = d->elim_b, q->c_norm = d->elim_w_norm, q->a_exp_b = d->elim_a_exp_b;
    q->distinct = -1;
    q->seconds = d->seconds;
}

/* The stored runs of a row into its slot (done, res, pts). */
static mn_status load_row(slot *sl, mn_db *db, int restarts)
{
    mn_run_row *dr = NULL;
    long m = 0;
    mn_status st = mn_db_runs(&dr, &m, db, sl->t.db_id);
    for (long i = 0; i < m && !st; i++) {
        const mn_run_row *d = &dr[i];
        if (d->restart < 0 || d->restart >= restarts) continue;
        const int r = (int)d->restart;
        run_of_row(&sl->t, d, r);
        if (d->cls == MN_CLASS_SPURIOUS) {
            double *th = NULL;
            size_t np = 0;
            if ((st = mn_db_point(&th, &np, db, sl->t.db_id, r))) break;
            if (np != sl->t.P)
                st = mn_fail(MN_EFORMAT, "popul: stored end point of run %d of setting %lld: %zu values, not %zu", r,
                             (long long)sl->t.db_id, np, sl->t.P);
            else memcpy(sl->t.pts + (size_t)r * sl->t.P, th, sl->t.P * sizeof *th);
            free(th);
        }
        sl->done[r] = isnan(d->lambda_min) ? 1 : 2;
    }
    free(dr);
    return st;
}

size_t mn_popul_task_npoint(const void *task)
{
    return ((const mn_popul_task *)task)->P;
}

/* Rank 0 of an MPI job: the runs' rows are all it sees (a spurious run's
 * row carries its end point, the only one the reduction reads). */
void mn_popul_task_take(const mn_run_row *row, const void *task)
{
    const mn_popul_task *t = task;
    const int r = (int)row->restart;
    run_of_row(t, row, r);
    if (row->theta && row->ntheta == t->P) memcpy(t->pts + (size_t)r * t->P, row->theta, t->P * sizeof *row->theta);
}

/* After the reduction: the spurious runs' lambda_min (one value per distinct
 * minimum), for the runs that do not have it stored yet. */
static mn_status store_lambda_min(mn_db *db, const slot *sl, int restarts)
{
    long *rs = malloc((size_t)restarts * sizeof *rs);
    double *v = malloc((size_t)restarts * sizeof *v);
    mn_status st = MN_OK;
    if (!rs || !v) st = mn_fail(MN_ENOMEM, "popul: out of memory");
    int m = 0;
    for (int r = 0; r < restarts && !st; r++)
        if (sl->t.res[r].cls == MN_CLASS_SPURIOUS && sl->done[r] != 2) rs[m] = r, v[m++] = sl->t.res[r].lambda_min;
    if (!st && m) st = mn_db_set_lambda_min(db, sl->t.db_id, rs, v, m);
    free(rs), free(v);
    return st;
}

mn_status mn_popul_task_scratch(void **scratch, const void *task)
{
    mn_popul_runner *R = NULL;
    mn_status st = mn_popul_runner_alloc(&R, &((const mn_popul_task *)task)->spec);
    *scratch = R;
    return st;
}

void mn_popul_task_scratch_free(void *scratch)
{
    mn_popul_runner_free(scratch);
}

mn_status mn_popul_task_run(mn_run_row *row, const void *task, long restart, void *scratch)
{
    const mn_popul_task *t = task;
    mn_popul_runner *R = scratch;
    const int r = (int)restart;
    mn_popul_run *q = &t->res[r];
    const double t0 = omp_get_wtime();
    mn_status st = mn_popul_run_with(R, q, t->opts, t->base_seed, r, 0);
    if (st) return st;
    double *pt = t->pts + (size_t)r * t->P;
    memcpy(pt, R->th, t->P * sizeof *pt);
    /* GD end points are accurate to ||grad|| / lambda_min only, which for
     * flat minima exceeds dedup_tol: compare sharpened copies */
    if (q->cls == MN_CLASS_SPURIOUS && !q->polished) st = mn_popul_refine(R, pt);
    const double t1 = omp_get_wtime();
    q->seconds = t1 - t0;
    t->span[2 * r] = t0, t->span[2 * r + 1] = t1;
    if (st) return st;
    to_db_row(row, q, t->db_id, pt, t->P);
    if (row->theta) { /* the runner frees the row's copy */
        if (!(row->theta = malloc(t->P * sizeof *row->theta))) return mn_fail(MN_ENOMEM, "out of memory");
        memcpy(row->theta, pt, t->P * sizeof *row->theta);
    }
    return MN_OK;
}

/* Progress over the whole table: runs loaded count as done. */
typedef struct {
    slot *sl;
    const int *order;
    int restarts, nspecs, rows_done;
    long loaded, total;
    const mn_popul_opts *opts;
} table_progress;

static void note_run(void *ctx, long k, long ndone)
{
    table_progress *p = ctx;
    slot *sl = &p->sl[p->order[k / p->restarts]];
    p->rows_done += !--sl->left;
    if (p->opts->progress) p->opts->progress(p->opts->progress_ctx, p->loaded + ndone, p->total, p->rows_done, p->nspecs);
}

mn_status mn_popul_experiment_db(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs, int nspecs,
                                 const mn_popul_opts *opts, int restarts, uint64_t base_seed, int threads,
                                 mn_db *db)
{
    if (nspecs < 1) return mn_fail(MN_EINVAL, "popul: no rows to run");
    if (restarts < 1) return mn_fail(MN_EINVAL, "popul: restarts = %d (expected >= 1)", restarts);
    for (int s = 0; s < nspecs; s++) {
        mn_status st = mn_popul_check(&specs[s]);
        if (st) return st;
    }
    const long ntask = (long)nspecs * restarts;
    slot *sl = calloc((size_t)nspecs, sizeof *sl);
    int *order = malloc((size_t)nspecs * sizeof *order);
    mn_pending *list = malloc((size_t)ntask * sizeof *list);
    mn_status st = MN_OK;
    if (!sl || !order || !list) {
        free(sl), free(order), free(list);
        return mn_fail(MN_ENOMEM, "popul: out of memory for %d rows", nspecs);
    }
    for (int s = 0; s < nspecs; s++) {
        mn_popul_task *t = &sl[s].t;
        *t = (mn_popul_task){.spec = specs[s], .opts = opts, .base_seed = base_seed, .P = mn_popul_nparams(&specs[s])};
        t->res = runs && runs[s] ? runs[s] : malloc((size_t)restarts * sizeof *t->res);
        t->pts = malloc((size_t)restarts * t->P * sizeof *t->pts);
        t->span = malloc((size_t)restarts * 2 * sizeof *t->span);
        sl[s].done = calloc((size_t)restarts, 1);
        sl[s].rep = malloc((size_t)restarts * sizeof *sl[s].rep);
        sl[s].lmin = malloc((size_t)restarts * sizeof *sl[s].lmin);
        if (!t->res || !t->pts || !t->span || !sl[s].done || !sl[s].rep || !sl[s].lmin) {
            st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
            goto done;
        }
        for (int r = 0; r < 2 * restarts; r++) t->span[r] = NAN;
        if (db) {
            char *canon = NULL, *json = NULL;
            if ((st = setting_strings(&canon, &json, &specs[s], opts, base_seed))) goto done;
            st = mn_db_setting(&t->db_id, db, canon, json);
            free(canon), free(json);
            if (st) goto done;
            /* the results of the runs the runner will find stored */
            if ((st = load_row(&sl[s], db, restarts))) goto done;
        }
    }
    /* the runs: the rows by decreasing size (stable), each row's restarts in order */
    for (int s = 0; s < nspecs; s++) order[s] = s;
    for (int a = 1; a < nspecs; a++) {
        const int v = order[a];
        int b = a - 1;
        while (b >= 0 && sl[order[b]].t.P < sl[v].t.P) order[b + 1] = order[b], b--;
        order[b + 1] = v;
    }
    const mn_run_kind *kind = mn_run_kind_named("population");
    for (long k = 0; k < ntask; k++) {
        const mn_popul_task *t = &sl[order[k / restarts]].t;
        list[k] = (mn_pending){kind, t, t->db_id, k % restarts, NULL};
    }
    table_progress pg = {.sl = sl, .order = order, .restarts = restarts, .nspecs = nspecs, .total = ntask,
                         .opts = opts};
    for (int s = 0; s < nspecs; s++) {
        for (int r = 0; r < restarts; r++) sl[s].left += !sl[s].done[r];
        pg.loaded += restarts - sl[s].left, pg.rows_done += !sl[s].left;
    }
    /* what every rank of an MPI job must agree on (minima/dist.h) */
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &restarts, sizeof restarts);
    for (int s = 0; s < nspecs && !st; s++) {
        char *canon = NULL;
        if (!(st = setting_strings(&canon, NULL, &specs[s], opts, base_seed)))
            key = mn_hash_bytes(key, canon, strlen(canon) + 1);
        free(canon);
    }
    if (st) goto done;
    const int nthr = threads > 0 ? threads : omp_get_max_threads();
    mn_runner_opts ro = {.threads = nthr, .db = db, .shard = 0, .nshards = 1, .key = key, .finished = note_run,
                         .ctx = &pg};
    mn_runner_stats rst;
    if ((st = mn_runner_run(&rst, NULL, list, ntask, &ro))) goto done;
    if (rst.skipped != pg.loaded) {
        st = mn_fail(MN_EFORMAT, "popul: %ld runs stored, %ld loaded: the database changed under the experiment",
                     rst.skipped, pg.loaded);
        goto done;
    }
    /* In an MPI job rank 0 alone holds the results: the other ranks leave
     * the rows to it. */
    if (mn_dist_sharing() && mn_dist_rank() > 0) {
        memset(rows, 0, (size_t)nspecs * sizeof *rows);
        goto done;
    }
    /* The reductions, with OpenBLAS at one thread as in the runs. */
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    st = reduce_rows(rows, sl, order, specs, nspecs, opts, restarts, nthr);
    for (int s = 0; s < nspecs && !st; s++) {
        const double t0 = omp_get_wtime();
        double first = INFINITY, last = -INFINITY; /* NaN (loaded runs) compare false */
        for (int r = 0; r < restarts; r++) {
            if (sl[s].t.span[2 * r] < first) first = sl[s].t.span[2 * r];
            if (sl[s].t.span[2 * r + 1] > last) last = sl[s].t.span[2 * r + 1];
        }
        if (db && (st = store_lambda_min(db, &sl[s], restarts))) break;
        /* a row all loaded from the database took no time here */
        rows[s].seconds = (last > first ? last - first : 0) + sl[s].reduce_s + (omp_get_wtime() - t0);
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
done:
    for (int s = 0; s < nspecs; s++) {
        if (!(runs && runs[s])) free(sl[s].t.res);
        free(sl[s].t.pts), free(sl[s].t.span), free(sl[s].done), free(sl[s].rep), free(sl[s].lmin);
    }
    free(sl), free(order), free(list);
    return st;
}

mn_status mn_popul_experiment_many(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs,
                                   int nspecs, const mn_popul_opts *opts, int restarts, uint64_t base_seed,
                                   int threads)
{
    return mn_popul_experiment_db(rows, runs, specs, nspecs, opts, restarts, base_seed, threads, NULL);
}

mn_status mn_popul_experiment(mn_popul_row *row, mn_popul_run *runs, const mn_popul_spec *spec,
                              const mn_popul_opts *opts, int restarts, uint64_t base_seed, int threads)
{
    if (!spec) return mn_fail(MN_EINVAL, "popul: no spec");
    mn_popul_run *rv[1] = {runs};
    return mn_popul_experiment_many(row, rv, spec, 1, opts, restarts, base_seed, threads);
}
