/* The runner (run/internal.h): the one engine behind sweeps and
 * experiments. Its steps, each in one place:
 *   1. which listed runs are this process's (mine: the shard; in an MPI job
 *      rank 0 holds them all and the others none: rank 0 hands them out),
 *   2. which of those are stored already (resume: mn_db_done),
 *   3. each remaining run once, by the run pool of minima/dist.h (OpenMP
 *      threads, schedule(dynamic, 1), in list order as threads free up; or
 *      the ranks of an MPI job), each thread keeping one scratch per
 *      setting it meets; a run travels as flat bytes (its row, then its end
 *      point) to the pool's single writer,
 *   4. the finished rows committed in list order (commit_ready).
 *
 * Determinism. A run depends only on its setting and restart (the kind's
 * run derives its seed from them), every thread has its own scratch, the
 * settings are read-only, and OpenBLAS runs on one thread while the pool
 * works (its threaded kernels may round differently with the thread count).
 * So the stored results are bit-identical whatever the thread count, the
 * rank count, the finishing order or the sharding, and so is the order of
 * the rows in the database. */
#include <cblas.h> /* OpenBLAS: openblas_{get,set}_num_threads */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "minima/dist.h"
#include "run/internal.h"

#define BATCH 256         /* rows per transaction at most, by default */
#define BATCH_SECONDS 0.1 /* and one as a run finishes once this long has passed since the last */

/* Step 1: 1 when list index k is this process's. */
static int mine(long k, const mn_runner_opts *o)
{
    return k % o->nshards == o->shard && (!mn_dist_sharing() || mn_dist_rank() == 0);
}

/* A finished run: its rows (one for most kinds). */
typedef struct {
    int n;
    mn_run_row row[];
} finished_run;

/* Finished runs waiting for their turn (slot[i] of the i-th run to do, NULL
 * until it finishes), committed from `next` on. */
typedef struct {
    mn_db *db;
    finished_run **slot; /* (ntodo) */
    long ntodo, next, committed;
    int per_commit; /* rows per transaction at most, <= BATCH (a run's rows share one) */
    double last; /* time of the last commit */
    mn_run_row batch[BATCH];
} committer;

static void release(finished_run *f)
{
    for (int j = 0; f && j < f->n; j++) free(f->row[j].theta);
    free(f);
}

/* Inserts the rows of the runs slot[from..to) that are finished (the others
 * skipped: only after a failure are there any), per_commit rows at a time,
 * a run's rows in one transaction. */
static mn_status insert_range(committer *c, long from, long to)
{
    mn_status st = MN_OK;
    int m = 0, runs = 0;
    for (long i = from; i <= to && !st; i++) {
        const finished_run *f = i < to ? c->slot[i] : NULL;
        if (m > 0 && (i == to || (f && m + f->n > c->per_commit))) {
            st = mn_db_insert(c->db, c->batch, m);
            if (!st) c->committed += runs;
            m = runs = 0;
        }
        for (int j = 0; f && j < f->n; j++) c->batch[m++] = f->row[j];
        runs += f != NULL;
    }
    for (long i = from; i < to; i++) release(c->slot[i]), c->slot[i] = NULL;
    c->last = omp_get_wtime();
    return st;
}

/* Step 4: as a run finishes, commits the finished prefix of the list once
 * it holds per_commit rows or BATCH_SECONDS have passed since the last
 * commit (force: now). */
static mn_status commit_ready(committer *c, int force)
{
    long m = c->next;
    while (m < c->ntodo && c->slot[m]) m++;
    if (m == c->next || (!force && m - c->next < c->per_commit && omp_get_wtime() - c->last < BATCH_SECONDS)) return MN_OK;
    const long from = c->next;
    c->next = m;
    return insert_range(c, from, m);
}

/* ------------------------------------------------------------------ */
/* Step 3 through the run pool (minima/dist.h): task k is list index k; its
 * result is its rows (theta NULL), then each row's ntheta end-point
 * doubles in turn. */
typedef struct {
    const mn_pending *list;
    long n;
    const long *todo; /* (ntodo) list indices to run, increasing */
    long ntodo, ndone;
    committer *c;
    const mn_runner_opts *o;
    int take; /* an MPI job: every finished run to its kind's take */
} pool;

/* Rows a run of p fills. */
static int rows_of(const mn_pending *p)
{
    return p->kind->rows ? p->kind->rows(p->setting) : 1;
}

/* A thread's scratch and the run whose setting it is for. */
typedef struct {
    const mn_pending *owner;
    void *scratch;
} scratch_of;

static void scratch_release(void *ctx, void *tls)
{
    (void)ctx;
    scratch_of *t = tls;
    if (t->owner && t->owner->kind->scratch_free) t->owner->kind->scratch_free(t->scratch);
    free(t);
}

static mn_status run_one(void *ctx, void **tls, long k, void *result, size_t *len)
{
    const pool *P = ctx;
    const mn_pending *p = &P->list[k];
    scratch_of *t = *tls;
    if (!t && !(t = *tls = calloc(1, sizeof *t))) return mn_fail(MN_ENOMEM, "out of memory");
    if (!t->owner || t->owner->kind != p->kind || t->owner->setting != p->setting) {
        if (t->owner && t->owner->kind->scratch_free) t->owner->kind->scratch_free(t->scratch);
        t->scratch = NULL, t->owner = NULL;
        mn_status rs = p->kind->scratch_alloc ? p->kind->scratch_alloc(&t->scratch, p->setting) : MN_OK;
        if (rs) return rs;
        t->owner = p;
    }
    const int nr = rows_of(p);
    mn_run_row *row = calloc((size_t)nr, sizeof *row); /* the padding zeroed too: the bytes may travel */
    if (!row) return mn_fail(MN_ENOMEM, "out of memory");
    mn_status rs = p->kind->run(row, p->setting, p->restart, t->scratch);
    size_t nt = 0;
    for (int j = 0; j < nr; j++) {
        if (rs || !row[j].theta) row[j].ntheta = 0;
        nt += row[j].ntheta;
    }
    if (!rs && nt > p->kind->npoint(p->setting))
        rs = mn_fail(MN_EINVAL, "run %ld: end points of %zu values, more than %zu", k, nt, p->kind->npoint(p->setting));
    unsigned char *at = (unsigned char *)result + nr * sizeof *row;
    for (int j = 0; j < nr; j++) {
        if (!rs && row[j].ntheta) memcpy(at, row[j].theta, row[j].ntheta * sizeof(double));
        at += row[j].ntheta * sizeof(double);
        free(row[j].theta);
        row[j].theta = NULL;
    }
    if (!rs) {
        memcpy(result, row, nr * sizeof *row);
        *len = nr * sizeof *row + nt * sizeof(double);
    }
    free(row);
    return rs;
}

/* The pool's single writer (one call at a time; rank 0 in an MPI job). */
static mn_status take_one(void *ctx, long k, const void *result, size_t len)
{
    pool *P = ctx;
    if (k < 0 || k >= P->n) return mn_fail(MN_EINVAL, "run %ld: not listed", k);
    const mn_pending *p = &P->list[k];
    const int nr = rows_of(p);
    if (len < nr * sizeof(mn_run_row)) return mn_fail(MN_EINVAL, "run %ld: a result of %zu bytes", k, len);
    finished_run *f = malloc(sizeof *f + nr * sizeof *f->row);
    if (!f) return mn_fail(MN_ENOMEM, "out of memory");
    memcpy(f->row, result, nr * sizeof *f->row);
    f->n = nr;
    size_t want = nr * sizeof *f->row;
    for (int j = 0; j < nr; j++) want += f->row[j].ntheta * sizeof(double), f->row[j].theta = NULL;
    if (len != want) {
        free(f);
        return mn_fail(MN_EINVAL, "run %ld: a result of %zu bytes, not %zu", k, len, want);
    }
    long lo = 0, hi = P->ntodo; /* k's place in todo */
    while (lo < hi) {
        const long mid = lo + (hi - lo) / 2;
        if (P->todo[mid] < k) lo = mid + 1;
        else hi = mid;
    }
    if (lo == P->ntodo || P->todo[lo] != k || P->c->slot[lo]) {
        free(f);
        return mn_fail(MN_EINVAL, "run %ld: not expected", k);
    }
    const unsigned char *at = (const unsigned char *)result + nr * sizeof *f->row;
    for (int j = 0; j < nr; j++) {
        mn_run_row *row = &f->row[j];
        row->setting = p->ids ? p->ids[j] : p->db_id; /* the ids are rank 0's: other ranks have no database */
        if (!row->ntheta) continue;
        if (!(row->theta = malloc(row->ntheta * sizeof *row->theta))) {
            release(f);
            return mn_fail(MN_ENOMEM, "out of memory");
        }
        memcpy(row->theta, at, row->ntheta * sizeof *row->theta);
        at += row->ntheta * sizeof *row->theta;
    }
    if (P->take && p->kind->take) p->kind->take(f->row, p->setting);
    P->ndone++;
    if (P->o->finished) P->o->finished(P->o->ctx, k, P->ndone);
    if (!P->o->db) {
        release(f);
        return MN_OK;
    }
    P->c->slot[lo] = f;
    return commit_ready(P->c, 0);
}

/* What every rank of an MPI job must agree on: the caller's key, the list's
 * length and restarts, and the shard. */
static uint64_t list_key(const mn_pending *list, long n, const mn_runner_opts *o)
{
    const long ctl[3] = {n, o->shard, o->nshards};
    uint64_t h = mn_hash_bytes(o->key, ctl, sizeof ctl);
    for (long k = 0; k < n; k++) h = mn_hash_bytes(h, &list[k].restart, sizeof list[k].restart);
    return h;
}

mn_status mn_runner_run(mn_runner_stats *stats, unsigned char *state, const mn_pending *list, long n,
                        const mn_runner_opts *o)
{
    memset(stats, 0, sizeof *stats);
    if (state) memset(state, MN_PENDING_OTHER, (size_t)(n > 0 ? n : 0));
    if (o->threads < 1) return mn_fail(MN_EINVAL, "threads must be >= 1 (got %d)", o->threads);
    if (o->nshards < 1 || o->shard < 0 || o->shard >= o->nshards)
        return mn_fail(MN_EINVAL, "shard %ld/%ld: need 0 <= shard < shards", o->shard, o->nshards);
    if (n <= 0) return MN_OK;
    long maxr = 0;
    int maxrows = 1;
    for (long k = 0; k < n; k++) {
        maxr = list[k].restart + 1 > maxr ? list[k].restart + 1 : maxr;
        const int nr = rows_of(&list[k]);
        if (nr < 1 || nr > BATCH || (nr > 1 && o->db && !list[k].ids))
            return mn_fail(MN_EINVAL, "run %ld: %d rows per run (1..%d, and each row's setting id)", k, nr, BATCH);
        maxrows = nr > maxrows ? nr : maxrows;
    }
    long *todo = malloc((size_t)n * sizeof *todo);
    unsigned char *done = malloc((size_t)maxr + 1);
    committer *c = calloc(1, sizeof *c);
    if (!todo || !done || !c) {
        free(todo), free(done), free(c);
        return mn_fail(MN_ENOMEM, "out of memory for %ld runs", n);
    }
    /* Steps 1 and 2. */
    mn_status st = MN_OK;
    long ntodo = 0;
    int64_t done_of = 0;
    int have_done = 0;
    for (long k = 0; k < n && !st; k++) {
        if (!mine(k, o)) continue;
        stats->total++;
        if (o->db && (!have_done || list[k].db_id != done_of)) {
            st = mn_db_done(done, o->db, list[k].db_id, maxr);
            done_of = list[k].db_id, have_done = !st;
        }
        const int stored = o->db && !st && list[k].restart >= 0 && done[list[k].restart];
        if (state) state[k] = stored ? MN_PENDING_STORED : MN_PENDING_RUN;
        if (stored)
            stats->skipped++;
        else
            todo[ntodo++] = k;
    }
    free(done);
    c->db = o->db, c->ntodo = ntodo, c->last = omp_get_wtime();
    c->per_commit = o->batch > 0 && o->batch < BATCH ? o->batch : BATCH;
    c->slot = calloc((size_t)(ntodo > 0 ? ntodo : 1), sizeof *c->slot);
    if (!st && !c->slot) st = mn_fail(MN_ENOMEM, "out of memory for %ld runs", ntodo);
    if (!st && o->started && (!mn_dist_sharing() || mn_dist_rank() == 0))
        o->started(o->ctx, ntodo, stats->skipped, o->threads);
    if (st || (ntodo == 0 && !mn_dist_sharing())) { /* an MPI job's ranks all call the pool */
        if (state && st) memset(state, MN_PENDING_OTHER, (size_t)n);
        free(todo), free(c->slot), free(c);
        return st;
    }

    /* Step 3. One OpenBLAS thread for the whole parallel region: set here,
     * once, so no thread writes the setting while others compute. */
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    size_t maxp = 0;
    for (long k = 0; k < n; k++) {
        const size_t p = list[k].kind->npoint(list[k].setting);
        maxp = p > maxp ? p : maxp;
    }
    pool P = {.list = list, .n = n, .todo = todo, .ntodo = ntodo, .c = c, .o = o, .take = mn_dist_sharing()};
    const mn_dist_job job = {.ctx = &P, .result_bytes = maxrows * sizeof(mn_run_row) + maxp * sizeof(double),
                             .threads = o->threads, .key = list_key(list, n, o), .run = run_one,
                             .tls_free = scratch_release, .commit = take_one};
    mn_status fst = mn_dist_run(&job, todo, ntodo);
    int failed = fst != MN_OK;
    char fmsg[512] = "";
    if (failed) snprintf(fmsg, sizeof fmsg, "%s", mn_last_error());
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    const long ndone = P.ndone;

    /* What finished is stored, even after a failure. */
    if (o->db) {
        mn_status cs = failed ? insert_range(c, c->next, ntodo) : commit_ready(c, 1);
        if (cs && !failed) fst = cs, failed = 1, snprintf(fmsg, sizeof fmsg, "%s", mn_last_error());
    }
    stats->done = o->db ? c->committed : ndone;
    for (long i = 0; i < ntodo; i++) release(c->slot[i]);
    free(todo), free(c->slot), free(c);
    return failed ? mn_fail(fst, "%s", fmsg) : MN_OK;
}
