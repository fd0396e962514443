/* Table rows of the Safran-Shamir experiment: the restarts of all rows are
 * one pool of tasks for OpenMP (schedule(dynamic), the largest problems
 * first so that the short tasks of the small rows fill the end), each row
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

/* One row's results while the pool runs. */
typedef struct {
    mn_popul_run *res;   /* (restarts) */
    double *pts;         /* (restarts x P) end points */
    unsigned char *done; /* (restarts) 1: loaded from the database, 2: with its lambda_min */
    int64_t id;          /* settings.id in the database */
    double t_first, t_last;
    size_t P;
    int left; /* runs still to do (progress) */
} slot;

/* Field by field: a struct's padding bytes are not comparable. */
static int same_spec(const mn_popul_spec *a, const mn_popul_spec *b)
{
    return a->n == b->n && a->k == b->k && a->elim == b->elim && a->lambda == b->lambda;
}

/* Record the first failure of any thread (message kept: it is thread-local). */
static void keep_error(mn_status *worst, char *why, size_t len, mn_status mine)
{
#pragma omp critical(mn_popul_err)
    if (mine && !*worst) {
        *worst = mine;
        strncpy(why, mn_last_error(), len - 1);
    }
}

/* The distinct minima, eigenvalues and summary of one row. */
static mn_status reduce_row(mn_popul_row *row, slot *sl, const mn_popul_spec *spec, const mn_popul_opts *opts,
                            int restarts, int nthr)
{
    const size_t P = sl->P;
    mn_popul_run *res = sl->res;
    int *rep = malloc((size_t)restarts * sizeof *rep); /* run of each distinct minimum */
    int *idx = malloc((size_t)restarts * sizeof *idx);  /* run of each spurious minimum */
    int *lab = malloc((size_t)restarts * sizeof *lab);
    double *tmp = malloc((size_t)restarts * sizeof *tmp);
    double *sl_loss = malloc((size_t)restarts * sizeof *sl_loss), *sa = malloc((size_t)restarts * sizeof *sa),
           *sb = malloc((size_t)restarts * sizeof *sb);
    const double **pts = malloc((size_t)restarts * sizeof *pts);
    mn_status st = MN_OK;
    if (!rep || !idx || !lab || !tmp || !sl_loss || !sa || !sb || !pts) {
        st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
        goto done;
    }
    /* Distinct spurious minima, in restart order. */
    int nsp = 0, ndist = 0;
    for (int r = 0; r < restarts; r++) {
        res[r].distinct = -1;
        if (res[r].cls != MN_POPUL_SPURIOUS) continue;
        idx[nsp] = r, pts[nsp] = sl->pts + (size_t)r * P;
        sl_loss[nsp] = res[r].loss, sa[nsp] = res[r].a, sb[nsp] = res[r].b;
        nsp++;
    }
    if ((st = mn_popul_distinct(lab, &ndist, pts, sl_loss, sa, sb, nsp, spec, opts->dedup_tol))) goto done;
    for (int i = 0; i < nsp; i++) res[idx[i]].distinct = lab[i];
    for (int i = nsp - 1; i >= 0; i--) rep[lab[i]] = idx[i]; /* the first run of each */
    /* The smallest Hessian eigenvalue, once per distinct minimum. */
    double *lmin = tmp; /* (ndist) */
    mn_status worst = MN_OK;
    char why[256] = "";
#pragma omp parallel num_threads(nthr)
    {
        mn_popul_runner *R = NULL;
        mn_status mine = mn_popul_runner_alloc(&R, spec);
#pragma omp for schedule(dynamic)
        for (int d = 0; d < ndist; d++) {
            lmin[d] = NAN;
            if (mine) continue;
            /* computed at this same point by the call that stored it */
            if (sl->done[rep[d]] == 2) {
                lmin[d] = res[rep[d]].lambda_min;
                continue;
            }
            mine = mn_popul_hessian(R->w, sl->pts + (size_t)rep[d] * P, R->L);
            if (!mine) mine = mn_sym_eigvals(R->ev, R->L, (int)P);
            if (!mine) lmin[d] = R->ev[0];
        }
        keep_error(&worst, why, sizeof why, mine);
        mn_popul_runner_free(R);
    }
    if (worst) {
        st = mn_fail(worst, "%s", why);
        goto done;
    }
    /* The row. */
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
        if (q->cls == MN_POPUL_SPURIOUS) {
            q->lambda_min = lmin[q->distinct];
            sl_sum += q->lambda_min, sf += q->loss;
        }
    }
    const int ns = row->count[MN_POPUL_SPURIOUS];
    row->spurious_pct = 100.0 * ns / restarts;
    mn_wilson(&row->spurious_lo, &row->spurious_hi, ns, restarts, MN_Z95);
    row->spurious_lo *= 100, row->spurious_hi *= 100; /* in % */
    row->mean_lambda_min = ns ? sl_sum / ns : NAN;
    row->mean_loss = ns ? sf / ns : NAN;
    row->distinct = ndist;
    row->median_abs_a = row->median_a_exp_b = row->median_b = row->median_c_norm = NAN;
    if (spec->elim) {
        /* the neuron at the end of the runs that did not diverge */
        double *med[4] = {&row->median_abs_a, &row->median_a_exp_b, &row->median_b, &row->median_c_norm};
        for (int f = 0; f < 4; f++) {
            int m = 0;
            for (int r = 0; r < restarts; r++) {
                const mn_popul_run *q = &res[r];
                if (q->cls == MN_POPUL_DIVERGED) continue;
                tmp[m++] = f == 0 ? fabs(q->a) : f == 1 ? q->a_exp_b : f == 2 ? q->b : q->c_norm;
            }
            *med[f] = mn_median(tmp, m);
        }
    }
done:
    free(rep), free(idx), free(lab), free(tmp), free(sl_loss), free(sa), free(sb), free(pts);
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

mn_status mn_popul_canon(char *buf, size_t len, const mn_popul_spec *spec, const mn_popul_opts *o,
                         uint64_t base_seed)
{
    const char *key[NPAIR];
    char val[NPAIR][32];
    const int n = setting_pairs(key, val, spec, o, base_seed);
    size_t at = 0;
    for (int i = 0; i < n; i++) {
        const int m = snprintf(buf + at, len - at, "%s%s=%s", i ? " " : "", key[i], val[i]);
        if (m < 0 || (size_t)m >= len - at) return mn_fail(MN_EINVAL, "popul: canonical string longer than %zu", len);
        at += (size_t)m;
    }
    return MN_OK;
}

/* The same options as a JSON object of strings (the settings table's
 * options, as minima/sweep.h says): *json malloc'ed. */
static mn_status options_json(char **json, const mn_popul_spec *spec, const mn_popul_opts *o, uint64_t base_seed)
{
    const char *key[NPAIR];
    char val[NPAIR][32];
    const int n = setting_pairs(key, val, spec, o, base_seed);
    cJSON *j = cJSON_CreateObject();
    for (int i = 0; j && i < n; i++)
        if (!cJSON_AddStringToObject(j, key[i], val[i])) cJSON_Delete(j), j = NULL;
    *json = j ? cJSON_PrintUnformatted(j) : NULL;
    cJSON_Delete(j);
    return *json ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
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

static const mn_class class_map[MN_POPUL_NCLASS] = {
    [MN_POPUL_GLOBAL] = MN_CLASS_GLOBAL,       [MN_POPUL_SPURIOUS] = MN_CLASS_SPURIOUS,
    [MN_POPUL_SADDLE] = MN_CLASS_SADDLE,       [MN_POPUL_NOT_CONVERGED] = MN_CLASS_NOT_CONVERGED,
    [MN_POPUL_DIVERGED] = MN_CLASS_DIVERGED,
};

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
    d->cls = class_map[q->cls];
    d->elim_a = q->a, d->elim_b = q->b, d->elim_w_norm = q->c_norm, d->elim_a_exp_b = q->a_exp_b;
    const char *why = q->early                             ? EARLY_REASON
                      : q->cls == MN_POPUL_DIVERGED      ? "non-finite value or |theta| > max_norm"
                      : q->cls == MN_POPUL_NOT_CONVERGED ? "max_iter GD steps"
                                                         : "";
    snprintf(d->reason, sizeof d->reason, "%s", why);
    d->seconds = q->seconds;
    d->theta = q->cls == MN_POPUL_SPURIOUS ? pt : NULL;
    d->ntheta = d->theta ? P : 0;
}

/* The stored runs of a row into its slot (done, res, pts). */
static mn_status load_row(slot *sl, mn_db *db, const mn_popul_spec *spec, uint64_t base_seed, int restarts)
{
    mn_run_row *dr = NULL;
    long m = 0;
    mn_status st = mn_db_runs(&dr, &m, db, sl->id);
    for (long i = 0; i < m && !st; i++) {
        const mn_run_row *d = &dr[i];
        if (d->restart < 0 || d->restart >= restarts) continue;
        const int r = (int)d->restart;
        mn_popul_run *q = &sl->res[r];
        memset(q, 0, sizeof *q);
        q->n = spec->n, q->k = spec->k, q->restart = r;
        const uint64_t idx[3] = {(uint64_t)spec->k, (uint64_t)spec->n, (uint64_t)r};
        q->seed = mn_seed_derive(base_seed, idx, 3);
        int c = 0;
        while (c < MN_POPUL_NCLASS && class_map[c] != d->cls) c++;
        if (c == MN_POPUL_NCLASS) {
            st = mn_fail(MN_EFORMAT, "popul: stored run %d of setting %lld has class %s", r, (long long)sl->id,
                         mn_class_name(d->cls));
            break;
        }
        q->cls = (mn_popul_class)c;
        q->early = !strcmp(d->reason, EARLY_REASON);
        q->polished = !strcmp(d->optimizer, "gd+newton");
        q->iters = d->iterations;
        q->loss = d->loss, q->gnorm = d->grad_norm, q->lambda_min = d->lambda_min;
        q->orth_err = q->max_f_after = NAN;
        q->a = d->elim_a, q->b = d->elim_b, q->c_norm = d->elim_w_norm, q->a_exp_b = d->elim_a_exp_b;
        q->distinct = -1;
        q->seconds = d->seconds;
        if (q->cls == MN_POPUL_SPURIOUS) {
            double *th = NULL;
            size_t np = 0;
            if ((st = mn_db_point(&th, &np, db, sl->id, r))) break;
            if (np != sl->P)
                st = mn_fail(MN_EFORMAT, "popul: stored end point of run %d of setting %lld: %zu values, not %zu", r,
                             (long long)sl->id, np, sl->P);
            else memcpy(sl->pts + (size_t)r * sl->P, th, sl->P * sizeof *th);
            free(th);
        }
        sl->done[r] = isnan(q->lambda_min) ? 1 : 2;
    }
    free(dr);
    return st;
}

/* Runs finished but not yet stored, shared by the threads (under the
 * critical section mn_popul_db). */
#define PENDING_MAX 256
typedef struct {
    mn_db *db;
    mn_run_row rows[PENDING_MAX];
    int n;
    double last; /* omp_get_wtime() of the last flush */
} pending;

static mn_status flush(pending *p)
{
    mn_status st = p->n ? mn_db_insert(p->db, p->rows, p->n) : MN_OK;
    p->n = 0;
    p->last = omp_get_wtime();
    return st;
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
        if (sl->res[r].cls == MN_POPUL_SPURIOUS && sl->done[r] != 2) rs[m] = r, v[m++] = sl->res[r].lambda_min;
    if (!st && m) st = mn_db_set_lambda_min(db, sl->id, rs, v, m);
    free(rs), free(v);
    return st;
}

/* The runs through the run pool (minima/dist.h): task t is restart
 * t % restarts of row order[t / restarts]; its result is the run, then its
 * end point (P doubles). */
typedef struct {
    const mn_popul_spec *specs;
    const mn_popul_opts *opts;
    const int *order;
    slot *sl;
    pending *pend;
    int restarts, nspecs, rows_done;
    uint64_t base_seed;
    long ndone, ntask;
} popul_job;

static mn_status popul_task(void *ctx, void **tls, long t, void *result, size_t *len)
{
    const popul_job *J = ctx;
    const int s = J->order[t / J->restarts], r = (int)(t % J->restarts);
    mn_popul_runner *R = *tls;
    mn_status st = MN_OK;
    if (!R || !same_spec(&R->spec, &J->specs[s])) {
        mn_popul_runner_free(R);
        *tls = NULL;
        if ((st = mn_popul_runner_alloc(&R, &J->specs[s]))) return st;
        *tls = R;
    }
    const size_t P = J->sl[s].P;
    mn_popul_run q;
    double *pt = (double *)((unsigned char *)result + sizeof q);
    const double t0 = omp_get_wtime();
    if ((st = mn_popul_run_with(R, &q, J->opts, J->base_seed, r, 0))) return st;
    memcpy(pt, R->th, P * sizeof *pt);
    /* GD end points are accurate to ||grad|| / lambda_min only, which for
     * flat minima exceeds dedup_tol: compare sharpened copies */
    if (q.cls == MN_POPUL_SPURIOUS && !q.polished && (st = mn_popul_refine(R, pt))) return st;
    q.seconds = omp_get_wtime() - t0;
    memcpy(result, &q, sizeof q);
    *len = sizeof q + P * sizeof *pt;
    return MN_OK;
}

static void popul_tls_free(void *ctx, void *tls)
{
    mn_popul_runner_free(tls);
}

static mn_status popul_commit(void *ctx, long t, const void *result, size_t len)
{
    popul_job *J = ctx;
    const int s = J->order[t / J->restarts], r = (int)(t % J->restarts);
    slot *sl = &J->sl[s];
    if (len != sizeof *sl->res + sl->P * sizeof(double))
        return mn_fail(MN_EINVAL, "popul: run %ld: a result of %zu bytes, not %zu", t, len,
                       sizeof *sl->res + sl->P * sizeof(double));
    double *pt = sl->pts + (size_t)r * sl->P;
    memcpy(&sl->res[r], result, sizeof *sl->res);
    memcpy(pt, (const unsigned char *)result + sizeof *sl->res, sl->P * sizeof *pt);
    /* the row's wall span, on this process's clock (runs may come from other ranks) */
    const double t1 = omp_get_wtime();
    sl->t_first = fmin(sl->t_first, t1 - sl->res[r].seconds);
    sl->t_last = fmax(sl->t_last, t1);
    J->ndone++, J->rows_done += !--sl->left;
    if (J->opts->progress) J->opts->progress(J->opts->progress_ctx, J->ndone, J->ntask, J->rows_done, J->nspecs);
    if (!J->pend) return MN_OK;
    to_db_row(&J->pend->rows[J->pend->n++], &sl->res[r], sl->id, pt, sl->P);
    return J->pend->n == PENDING_MAX || t1 - J->pend->last > 2.0 ? flush(J->pend) : MN_OK;
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
    slot *sl = calloc((size_t)nspecs, sizeof *sl);
    int *order = malloc((size_t)nspecs * sizeof *order);
    pending *pend = db ? calloc(1, sizeof *pend) : NULL;
    mn_status st = MN_OK;
    if (!sl || !order || (db && !pend)) {
        free(sl), free(order), free(pend);
        return mn_fail(MN_ENOMEM, "popul: out of memory for %d rows", nspecs);
    }
    for (int s = 0; s < nspecs; s++) {
        sl[s].P = mn_popul_nparams(&specs[s]);
        sl[s].res = runs && runs[s] ? runs[s] : malloc((size_t)restarts * sizeof *sl[s].res);
        sl[s].pts = malloc((size_t)restarts * sl[s].P * sizeof *sl[s].pts);
        sl[s].done = calloc((size_t)restarts, 1);
        sl[s].t_first = INFINITY, sl[s].t_last = -INFINITY;
        if (!sl[s].res || !sl[s].pts || !sl[s].done) {
            st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
            goto done;
        }
        if (db) {
            char canon[512], *json = NULL;
            if ((st = mn_popul_canon(canon, sizeof canon, &specs[s], opts, base_seed))) goto done;
            if ((st = options_json(&json, &specs[s], opts, base_seed))) goto done;
            st = mn_db_setting(&sl[s].id, db, canon, json);
            free(json);
            if (st) goto done;
            if ((st = load_row(&sl[s], db, &specs[s], base_seed, restarts))) goto done;
        }
    }
    if (pend) pend->db = db, pend->last = omp_get_wtime();
    /* tasks: the rows by decreasing size (stable), each row's restarts in order */
    for (int s = 0; s < nspecs; s++) order[s] = s;
    for (int a = 1; a < nspecs; a++) {
        const int v = order[a];
        int b = a - 1;
        while (b >= 0 && sl[order[b]].P < sl[v].P) order[b + 1] = order[b], b--;
        order[b + 1] = v;
    }
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    const int nthr = threads > 0 ? threads : omp_get_max_threads();
    const long ntask = (long)nspecs * restarts;
    long ndone = 0; /* progress: runs done, rows done */
    int rows_done = 0;
    for (int s = 0; s < nspecs; s++) {
        for (int r = 0; r < restarts; r++) sl[s].left += !sl[s].done[r];
        ndone += restarts - sl[s].left, rows_done += !sl[s].left;
    }
    /* In an MPI job rank 0 alone holds the database and the results: the
     * other ranks run what it hands out, then leave the rows to it. */
    const int worker = mn_dist_rank() > 0;
    long *list = malloc((size_t)ntask * sizeof *list);
    if (!list) {
        st = mn_fail(MN_ENOMEM, "popul: out of memory for %ld runs", ntask);
        goto restore;
    }
    long npend = 0;
    uint64_t key = 0xcbf29ce484222325ULL;
    size_t maxp = 0;
    for (long t = 0; t < ntask; t++)
        if (!worker && !sl[order[t / restarts]].done[t % restarts]) list[npend++] = t;
    for (int s = 0; s < nspecs && !st; s++) { /* what every rank must agree on */
        char canon[512];
        st = mn_popul_canon(canon, sizeof canon, &specs[s], opts, base_seed);
        key = mn_hash_bytes(key, canon, strlen(canon) + 1);
        if (sl[s].P > maxp) maxp = sl[s].P;
    }
    key = mn_hash_bytes(key, &restarts, sizeof restarts);
    popul_job J = {.specs = specs, .opts = opts, .order = order, .sl = sl, .pend = pend, .restarts = restarts,
                   .nspecs = nspecs, .rows_done = rows_done, .base_seed = base_seed, .ndone = ndone, .ntask = ntask};
    const mn_dist_job job = {.ctx = &J, .result_bytes = sizeof(mn_popul_run) + maxp * sizeof(double),
                             .threads = nthr, .key = key, .run = popul_task, .tls_free = popul_tls_free,
                             .commit = popul_commit};
    if (!st) st = mn_dist_run(&job, list, npend);
    free(list);
    /* what finished is stored even when a run failed */
    if (pend) {
        mn_status fs = flush(pend);
        if (!st) st = fs;
    }
    if (st) goto restore;
    if (worker) {
        memset(rows, 0, (size_t)nspecs * sizeof *rows);
        goto restore;
    }
    for (int s = 0; s < nspecs; s++) {
        const double t0 = omp_get_wtime();
        if ((st = reduce_row(&rows[s], &sl[s], &specs[s], opts, restarts, nthr))) goto restore;
        if (db && (st = store_lambda_min(db, &sl[s], restarts))) goto restore;
        /* a row all loaded from the database took no time here */
        const double span = sl[s].t_last > sl[s].t_first ? sl[s].t_last - sl[s].t_first : 0;
        rows[s].seconds = span + (omp_get_wtime() - t0);
    }
restore:
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
done:
    for (int s = 0; s < nspecs; s++) {
        if (!(runs && runs[s])) free(sl[s].res);
        free(sl[s].pts), free(sl[s].done);
    }
    free(sl), free(order), free(pend);
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
