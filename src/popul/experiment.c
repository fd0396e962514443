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
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/sweep.h"
#include "popul/internal.h"

/* The end point as the matrix the symmetry test compares: W, plus c as a
 * pinned last row with the eliminator. */
static void as_matrix(double *M, const double *th, const mn_popul_spec *s)
{
    const size_t nk = (size_t)s->n * s->k;
    memcpy(M, th, nk * sizeof *M);
    if (s->elim) memcpy(M + nk, th + nk + 1, (size_t)s->k * sizeof *M);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int m)
{
    if (m == 0) return NAN;
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

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
    const int rows = spec->n + (spec->elim ? 1 : 0), cols = spec->k;
    mn_popul_run *res = sl->res;
    int *rep = malloc((size_t)restarts * sizeof *rep);
    double *tmp = malloc((size_t)restarts * sizeof *tmp);
    double *Ma = malloc((size_t)rows * cols * sizeof *Ma), *Mb = malloc((size_t)rows * cols * sizeof *Mb);
    mn_status st = MN_OK;
    if (!rep || !tmp || !Ma || !Mb) {
        st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
        goto done;
    }
    /* Distinct spurious minima, in restart order. */
    int ndist = 0;
    for (int r = 0; r < restarts; r++) {
        if (res[r].cls != MN_POPUL_SPURIOUS) continue;
        as_matrix(Ma, sl->pts + (size_t)r * P, spec);
        int found = -1;
        for (int d = 0; d < ndist && found < 0; d++) {
            const mn_popul_run *q = &res[rep[d]];
            if (fabs(q->loss - res[r].loss) > 1e-8 * (1 + fabs(q->loss))) continue; /* F is invariant */
            if (spec->elim && (fabs(q->a - res[r].a) > opts->dedup_tol || fabs(q->b - res[r].b) > opts->dedup_tol))
                continue;
            as_matrix(Mb, sl->pts + (size_t)rep[d] * P, spec);
            if (mn_popul_equivalent(Ma, Mb, rows, cols, spec->elim ? 1 : 0, opts->dedup_tol)) found = d;
        }
        if (found < 0) rep[ndist] = r, found = ndist++;
        res[r].distinct = found;
    }
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
    mn_popul_wilson(&row->spurious_lo, &row->spurious_hi, ns, restarts);
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
            *med[f] = median(tmp, m);
        }
    }
done:
    free(rep), free(tmp), free(Ma), free(Mb);
    return st;
}

/* ------------------------------------------------------------------ */
/* Persistence (see minima/popul.h).                                    */

#define EARLY_REASON "early global: F < global_tol"

mn_status mn_popul_canon(char *buf, size_t len, const mn_popul_spec *spec, const mn_popul_opts *o,
                         uint64_t base_seed)
{
    char step[32] = "5/n", lam[48] = "";
    if (o->step > 0) snprintf(step, sizeof step, "%.17g", o->step);
    if (spec->elim) snprintf(lam, sizeof lam, " lambda=%.17g", spec->lambda);
    const int m = snprintf(buf, len,
                           "experiment=safran-shamir k=%d n=%d eliminate=%s%s step=%s gtol=%.17g global_tol=%.17g "
                           "max_iter=%ld max_norm=%.17g early_global=%d newton=%d seed=%llu",
                           spec->k, spec->n, spec->elim ? "liang" : "none", lam, step, o->gtol, o->global_tol,
                           o->max_iter, o->max_norm, o->early_global, o->newton, (unsigned long long)base_seed);
    if (m < 0 || (size_t)m >= len) return mn_fail(MN_EINVAL, "popul: canonical string longer than %zu", len);
    return MN_OK;
}

/* The same options as a JSON object (the settings table's options). */
static void options_json(char *buf, size_t len, const mn_popul_spec *spec, const mn_popul_opts *o,
                         uint64_t base_seed)
{
    snprintf(buf, len,
             "{\"experiment\":\"safran-shamir\",\"k\":%d,\"n\":%d,\"eliminate\":\"%s\",\"lambda\":%.17g,"
             "\"step\":%.17g,\"gtol\":%.17g,\"global_tol\":%.17g,\"max_iter\":%ld,\"max_norm\":%.17g,"
             "\"early_global\":%d,\"newton\":%d,\"seed\":%llu}",
             spec->k, spec->n, spec->elim ? "liang" : "none", spec->elim ? spec->lambda : 0.0,
             o->step > 0 ? o->step : 5.0 / spec->n, o->gtol, o->global_tol, o->max_iter, o->max_norm,
             o->early_global, o->newton, (unsigned long long)base_seed);
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
            char canon[512], json[768];
            if ((st = mn_popul_canon(canon, sizeof canon, &specs[s], opts, base_seed))) goto done;
            options_json(json, sizeof json, &specs[s], opts, base_seed);
            if ((st = mn_db_setting(&sl[s].id, db, canon, json))) goto done;
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
    mn_status worst = MN_OK;
    char why[256] = "";
#pragma omp parallel num_threads(nthr)
    {
        mn_popul_runner *R = NULL; /* sized for the row of the last task */
        mn_status mine = MN_OK;
#pragma omp for schedule(dynamic)
        for (long t = 0; t < ntask; t++) {
            if (mine) continue;
            const int s = order[t / restarts], r = (int)(t % restarts);
            if (sl[s].done[r]) continue;
            if (!R || !same_spec(&R->spec, &specs[s])) {
                mn_popul_runner_free(R);
                R = NULL;
                if ((mine = mn_popul_runner_alloc(&R, &specs[s]))) continue;
            }
            const double t0 = omp_get_wtime();
            mine = mn_popul_run_with(R, &sl[s].res[r], opts, base_seed, r, 0);
            if (mine) continue;
            double *pt = sl[s].pts + (size_t)r * sl[s].P;
            memcpy(pt, R->th, sl[s].P * sizeof *pt);
            /* GD end points are accurate to ||grad|| / lambda_min only, which
             * for flat minima exceeds dedup_tol: compare sharpened copies */
            if (sl[s].res[r].cls == MN_POPUL_SPURIOUS && !sl[s].res[r].polished) mine = mn_popul_refine(R, pt);
            const double t1 = omp_get_wtime();
            sl[s].res[r].seconds = t1 - t0;
#pragma omp critical(mn_popul_time)
            {
                sl[s].t_first = fmin(sl[s].t_first, t0);
                sl[s].t_last = fmax(sl[s].t_last, t1);
                ndone++, rows_done += !--sl[s].left;
                if (opts->progress) opts->progress(opts->progress_ctx, ndone, ntask, rows_done, nspecs);
            }
            if (pend && !mine) {
#pragma omp critical(mn_popul_db)
                {
                    to_db_row(&pend->rows[pend->n++], &sl[s].res[r], sl[s].id, pt, sl[s].P);
                    if (pend->n == PENDING_MAX || t1 - pend->last > 2.0) mine = flush(pend);
                }
            }
        }
        keep_error(&worst, why, sizeof why, mine);
        mn_popul_runner_free(R);
    }
    /* what finished is stored even when a run failed */
    if (pend && (st = flush(pend)) && !worst) goto restore;
    if (worst) {
        st = mn_fail(worst, "%s", why);
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
