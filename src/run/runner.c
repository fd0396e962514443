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

/* Finished rows waiting for their turn (slot[i] of the i-th run to do, NULL
 * until it finishes), committed from `next` on. */
typedef struct {
    mn_db *db;
    mn_run_row **slot; /* (ntodo) */
    long ntodo, next, committed;
    int per_commit; /* rows per transaction at most, <= BATCH */
    double last; /* time of the last commit */
    mn_run_row batch[BATCH];
} committer;

static void release(mn_run_row *row)
{
    if (row) free(row->theta);
    free(row);
}

/* Inserts rows slot[from..to) that are finished (the others skipped: only
 * after a failure are there any), BATCH at a time. */
static mn_status insert_range(committer *c, long from, long to)
{
    mn_status st = MN_OK;
    int m = 0;
    for (long i = from; i <= to && !st; i++) {
        if (m == c->per_commit || (i == to && m > 0)) {
            st = mn_db_insert(c->db, c->batch, m);
            if (!st) c->committed += m;
            m = 0;
        }
        if (i < to && c->slot[i]) c->batch[m++] = *c->slot[i];
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
 * result is the row (theta NULL), then its ntheta end-point doubles. */
typedef struct {
    const mn_pending *list;
    const long *todo; /* (ntodo) list indices to run, increasing */
    long ntodo, ndone;
    committer *c;
    const mn_runner_opts *o;
    int take; /* an MPI job: every finished run to its kind's take */
} pool;

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
    mn_run_row row;
    memset(&row, 0, sizeof row); /* the padding too: the bytes may travel */
    mn_status rs = p->kind->run(&row, p->setting, p->restart, t->scratch);
    const size_t nt = !rs && row.theta ? row.ntheta : 0;
    if (!rs && nt > p->kind->npoint(p->setting))
        rs = mn_fail(MN_EINVAL, "run %ld: an end point of %zu values, more than %zu", k, nt,
                     p->kind->npoint(p->setting));
    if (!rs) {
        if (nt) memcpy((unsigned char *)result + sizeof row, row.theta, nt * sizeof *row.theta);
        free(row.theta);
        row.theta = NULL, row.ntheta = nt;
        memcpy(result, &row, sizeof row);
        *len = sizeof row + nt * sizeof(double);
    } else {
        free(row.theta);
    }
    return rs;
}

/* The pool's single writer (one call at a time; rank 0 in an MPI job). */
static mn_status take_one(void *ctx, long k, const void *result, size_t len)
{
    pool *P = ctx;
    mn_run_row row;
    if (k < 0 || len < sizeof row) return mn_fail(MN_EINVAL, "run %ld: a result of %zu bytes", k, len);
    memcpy(&row, result, sizeof row);
    if (len != sizeof row + row.ntheta * sizeof(double))
        return mn_fail(MN_EINVAL, "run %ld: a result of %zu bytes, not %zu", k, len,
                       sizeof row + row.ntheta * sizeof(double));
    long lo = 0, hi = P->ntodo; /* k's place in todo */
    while (lo < hi) {
        const long mid = lo + (hi - lo) / 2;
        if (P->todo[mid] < k) lo = mid + 1;
        else hi = mid;
    }
    if (lo == P->ntodo || P->todo[lo] != k || P->c->slot[lo]) return mn_fail(MN_EINVAL, "run %ld: not expected", k);
    const mn_pending *p = &P->list[k];
    row.setting = p->db_id; /* the ids are rank 0's: other ranks have no database */
    row.theta = NULL;
    if (row.ntheta) {
        if (!(row.theta = malloc(row.ntheta * sizeof *row.theta))) return mn_fail(MN_ENOMEM, "out of memory");
        memcpy(row.theta, (const unsigned char *)result + sizeof row, row.ntheta * sizeof *row.theta);
    }
    if (P->take && p->kind->take) p->kind->take(&row, p->setting);
    P->ndone++;
    if (P->o->finished) P->o->finished(P->o->ctx, k, P->ndone);
    if (!P->o->db) {
        free(row.theta);
        return MN_OK;
    }
    mn_run_row *keep = malloc(sizeof *keep);
    if (!keep) {
        free(row.theta);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    *keep = row;
    P->c->slot[lo] = keep;
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
    for (long k = 0; k < n; k++) maxr = list[k].restart + 1 > maxr ? list[k].restart + 1 : maxr;
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
    pool P = {.list = list, .todo = todo, .ntodo = ntodo, .c = c, .o = o, .take = mn_dist_sharing()};
    const mn_dist_job job = {.ctx = &P, .result_bytes = sizeof(mn_run_row) + maxp * sizeof(double),
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
