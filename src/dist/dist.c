/* The run pool of minima/dist.h: one process (OpenMP threads) here, an MPI
 * job in dist/mpi.c; starting and ending MPI. */
#include <stdlib.h>
#include <string.h>

#include "dist/internal.h"

int mn_dist_have_mpi(void)
{
#ifdef MN_HAVE_MPI
    return 1;
#else
    return 0;
#endif
}

static int g_solo;

int mn_dist_solo(int on)
{
    const int was = g_solo;
    g_solo = on;
    return was;
}

int mn_dist_sharing(void)
{
    return mn_dist_size() > 1 && !g_solo;
}

#ifndef MN_HAVE_MPI
/* Started by a launcher for several ranks, each would run the whole job
 * and write the same database: refused. */
mn_status mn_dist_init(int *argc, char ***argv)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++) {
        const char *v = getenv(vars[i]);
        if (v && atol(v) > 1)
            return mn_fail(MN_EINVAL, "started by an MPI launcher for %ld ranks, but built without MPI (install "
                                      "libopenmpi-dev and rebuild, or run one process)",
                           atol(v));
    }
    return MN_OK;
}
void mn_dist_finish(int status) {}
int mn_dist_rank(void)
{
    return 0;
}
int mn_dist_size(void)
{
    return 1;
}
#endif

/* The first failure of any thread: its status and message (thread-local,
 * hence copied by the thread that failed). Call under critical(mn_dist_commit). */
void mn_dist_note_failure(mn_dist_failure *f, mn_status st, const char *prefix)
{
    if (!st || f->failed) return;
    f->status = st;
    snprintf(f->msg, sizeof f->msg, "%s%s", prefix ? prefix : "", mn_last_error());
#pragma omp atomic write
    f->failed = 1;
}

int mn_dist_failed(mn_dist_failure *f)
{
    int v;
#pragma omp atomic read
    v = f->failed;
    return v;
}

void mn_dist_check_all(mn_dist_failure *f, long n)
{
    if (!f->failed && f->committed != n)
        mn_dist_note_failure(f, mn_fail(MN_EINVAL, "dist: %ld of %ld runs committed", f->committed, n), NULL);
}

/* Runs one task and, on success, commits it (one commit at a time). */
mn_status mn_dist_do_one(const mn_dist_job *j, void **tls, long task, unsigned char *buf, mn_dist_failure *f)
{
    size_t len = 0;
    mn_status rs = j->run(j->ctx, tls, task, buf, &len);
    if (!rs && len > j->result_bytes)
        rs = mn_fail(MN_EINVAL, "task %ld: a result of %zu bytes, more than the %zu announced", task, len,
                     j->result_bytes);
#pragma omp critical(mn_dist_commit)
    {
        if (!rs && !f->failed) rs = j->commit(j->ctx, task, buf, len);
        f->committed += !rs;
        mn_dist_note_failure(f, rs, NULL);
    }
    return rs;
}

/* One process: the tasks in list order, one at a time per thread. */
mn_status mn_dist_run_local(const mn_dist_job *j, const long *tasks, long n)
{
    mn_dist_failure f = {0};
#pragma omp parallel num_threads(j->threads)
    {
        void *tls = NULL;
        unsigned char *buf = malloc(j->result_bytes + 1);
        if (!buf) {
            mn_status e = mn_fail(MN_ENOMEM, "out of memory for a result of %zu bytes", j->result_bytes);
#pragma omp critical(mn_dist_commit)
            mn_dist_note_failure(&f, e, NULL);
        }
#pragma omp for schedule(dynamic, 1)
        for (long k = 0; k < n; k++)
            if (!mn_dist_failed(&f)) mn_dist_do_one(j, &tls, tasks[k], buf, &f);
        if (tls) j->tls_free(j->ctx, tls);
        free(buf);
    }
    mn_dist_check_all(&f, n);
    return f.failed ? mn_fail(f.status, "%s", f.msg) : MN_OK;
}

mn_status mn_dist_run(const mn_dist_job *j, const long *tasks, long ntasks)
{
    if (j->threads < 1) return mn_fail(MN_EINVAL, "threads must be >= 1 (got %d)", j->threads);
    if (!j->run || !j->commit || !j->tls_free) return mn_fail(MN_EINVAL, "dist: a callback is missing");
#ifdef MN_HAVE_MPI
    if (mn_dist_sharing()) return mn_dist_run_mpi(j, tasks, ntasks);
#endif
    if (ntasks < 0) return mn_fail(MN_EINVAL, "dist: %ld tasks", ntasks);
    return mn_dist_run_local(j, tasks, ntasks);
}
