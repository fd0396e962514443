/* The runner (run/internal.h): the one engine behind sweeps and
 * experiments. Its steps, each in one place:
 *   1. which listed runs are this process's (mine: the shard; a
 *      distributed runner decides it here),
 *   2. which of those are stored already (resume: mn_db_done),
 *   3. each remaining run once, by an OpenMP pool (schedule(dynamic, 1), in
 *      list order as threads free up; each thread keeps one scratch per
 *      setting it meets),
 *   4. the finished rows committed in list order (commit_ready).
 *
 * Determinism. A run depends only on its setting and restart (the kind's
 * run derives its seed from them), every thread has its own scratch, the
 * settings are read-only, and OpenBLAS runs on one thread while the pool
 * works (its threaded kernels may round differently with the thread count).
 * So the stored results are bit-identical whatever the thread count, the
 * finishing order or the sharding, and so is the order of the rows in the
 * database. */
#include <cblas.h> /* OpenBLAS: openblas_{get,set}_num_threads */
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "run/internal.h"

#define BATCH 256         /* rows per transaction at most, by default */
#define BATCH_SECONDS 0.1 /* and one as a run finishes once this long has passed since the last */

/* Step 1: 1 when list index k is this process's. */
static int mine(long k, const mn_runner_opts *o)
{
    return k % o->nshards == o->shard;
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
    if (!st && o->started) o->started(o->ctx, ntodo, stats->skipped, o->threads);
    if (st || ntodo == 0) {
        if (state && st) memset(state, MN_PENDING_OTHER, (size_t)n);
        free(todo), free(c->slot), free(c);
        return st;
    }

    /* Step 3. One OpenBLAS thread for the whole parallel region: set here,
     * once, so no thread writes the setting while others compute. */
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    int failed = 0;
    mn_status fst = MN_OK;
    char fmsg[512] = "";
    long ndone = 0;
#pragma omp parallel num_threads(o->threads)
    {
        void *scratch = NULL;
        const mn_pending *owner = NULL; /* the run whose setting the scratch is for */
#pragma omp for schedule(dynamic, 1)
        for (long i = 0; i < ntodo; i++) {
            int stop;
#pragma omp atomic read
            stop = failed;
            if (stop) continue;
            const mn_pending *p = &list[todo[i]];
            mn_status rs = MN_OK;
            if (!owner || owner->kind != p->kind || owner->setting != p->setting) {
                if (owner && owner->kind->scratch_free) owner->kind->scratch_free(scratch);
                scratch = NULL, owner = NULL;
                rs = p->kind->scratch_alloc ? p->kind->scratch_alloc(&scratch, p->setting) : MN_OK;
                if (!rs) owner = p;
            }
            mn_run_row *row = rs ? NULL : calloc(1, sizeof *row);
            if (!rs && !row) rs = mn_fail(MN_ENOMEM, "out of memory");
            if (!rs) rs = p->kind->run(row, p->setting, p->restart, scratch);
#pragma omp critical(mn_runner)
            {
                if (!rs) {
                    ndone++;
                    if (o->finished) o->finished(o->ctx, todo[i], ndone);
                    if (o->db) {
                        c->slot[i] = row, row = NULL;
                        if (!failed) rs = commit_ready(c, 0);
                    }
                }
                if (rs && !failed) { /* the message is thread-local */
                    fst = rs;
                    snprintf(fmsg, sizeof fmsg, "%s", mn_last_error());
#pragma omp atomic write
                    failed = 1;
                }
            }
            release(row);
        }
        if (owner && owner->kind->scratch_free) owner->kind->scratch_free(scratch);
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);

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
