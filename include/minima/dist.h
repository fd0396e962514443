/*
 * minima/dist.h — a list of independent runs shared by the threads of one
 * process (OpenMP) or by the processes of an MPI job (Open MPI), results
 * committed by one writer. The runner (src/run/runner.c) runs every
 * sweep and experiment through it.
 *
 * The engine knows nothing about what a run is: the caller gives the runs
 * still to do as task ids in a fixed order, a "run one" callback (pure: the
 * result depends on the task id only, never on the thread, rank or order)
 * that writes the result as flat bytes, and a "commit" callback that stores
 * one result.
 *
 * One process (no MPI, or an MPI job of one rank): `threads` OpenMP threads
 * take the tasks one at a time in list order (schedule(dynamic, 1)); each
 * result is committed as soon as it is done, one commit at a time.
 *
 * An MPI job of N > 1 ranks: every rank calls mn_dist_run with the same
 * runs (the same key, below). Rank 0 alone holds the task list and calls
 * commit: it is the single writer of the database (one SQLite file opened by
 * one process: no locking over network file systems, no shards to merge, and
 * resume reads what that one writer committed). Rank 0 runs tasks on its own
 * `threads` threads and, on one more thread, hands chunks of the list to
 * the other ranks as they ask (a rank asks again while it still has work:
 * its threads never wait for a round trip), and commits the results they
 * send back. A rank of T threads asks for W = T tasks (or, when its tasks
 * take less than 5 ms, as many as fill 5 ms of its T threads) while fewer
 * than W wait in its queue; a chunk is min(W, max(1, unassigned / (2 N)))
 * tasks: whole
 * chunks while the list is long, single tasks at the end, so runs whose
 * times differ by 100x still end together. Results are
 * committed in the order they arrive; a database keyed by (setting,
 * restart) does not depend on that order.
 *
 * Failures. A run or commit that fails stops the hand-out; the runs in
 * flight finish, and every rank returns the first failure (rank 0 with its
 * message, "rank R: ..." for a failure on rank R). A rank killed, or the
 * whole job killed, loses only the runs handed out and not yet committed:
 * a re-run does the rest. Ranks whose keys differ stop before any run with
 * one line naming the first rank that differs.
 *
 * Conventions are those of minima.h: mn_status returns with a one-line
 * mn_last_error().
 */
#ifndef MINIMA_DIST_H
#define MINIMA_DIST_H

#include <stddef.h>
#include <stdint.h>

#include "minima.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Starts MPI when this process was started by an MPI launcher (mpirun,
 * mpiexec, srun: their environment names a rank), and does nothing
 * otherwise: the same binary runs as an ordinary program. Call once, first
 * thing in main. MN_EIO when MPI cannot start. */
mn_status mn_dist_init(int *argc, char ***argv);
/* Ends MPI (when mn_dist_init started it). status: the process's exit
 * status; a non-zero one on a rank of a job of N > 1 skips MPI_Finalize
 * (which would wait for ranks that may be blocked waiting for this one),
 * so the launcher ends the job. */
void mn_dist_finish(int status);
/* This process's rank and the job's size: 0 and 1 without MPI. */
int mn_dist_rank(void);
int mn_dist_size(void);
/* 1 when built with MPI. */
int mn_dist_have_mpi(void);
/* While solo is on, mn_dist_run runs this rank's tasks alone, as one
 * process does (for work only one rank does, e.g. rank 0 re-reading stored
 * results): it is then not a call every rank must make. Returns the
 * previous value. Call outside parallel regions. */
int mn_dist_solo(int on);
/* 1 when mn_dist_run now shares its runs over the ranks of an MPI job
 * (more than one rank, solo off). */
int mn_dist_sharing(void);

typedef struct {
    void *ctx;           /* passed to every callback */
    size_t result_bytes; /* the largest result of one run, bytes */
    int threads;         /* threads running tasks on this rank, >= 1 */
    /* 64-bit hash of the options that define the runs (the runners hash
     * their settings' canonical strings and the restarts): every rank must
     * pass the same. */
    uint64_t key;
    /* Runs task `task` and writes its result (at most result_bytes bytes)
     * into `result`, *len = bytes written. *tls is the calling thread's own
     * state (NULL at its first call; the callback may allocate it).
     * Called on every rank, from several threads at once. */
    mn_status (*run)(void *ctx, void **tls, long task, void *result, size_t *len);
    /* Frees a thread's state (called once per thread that had one). */
    void (*tls_free)(void *ctx, void *tls);
    /* Stores one result: rank 0 only, one call at a time. */
    mn_status (*commit)(void *ctx, long task, const void *result, size_t len);
} mn_dist_job;

/* Runs the tasks (on rank 0: the ids to run, in order, ntasks >= 0; other
 * ranks receive theirs from rank 0 and ignore tasks and ntasks). Returns
 * when every task is committed or the first failure; in an MPI job every
 * rank returns rank 0's status. */
mn_status mn_dist_run(const mn_dist_job *job, const long *tasks, long ntasks);

#ifdef __cplusplus
}
#endif
#endif
