/* Shared by the one-process pool (dist.c) and the MPI pool (mpi.c). */
#ifndef MN_DIST_INTERNAL_H
#define MN_DIST_INTERNAL_H

#include <stdio.h>

#include "minima/dist.h"

/* The first failure of the pool, and the results committed (both under
 * critical(mn_dist_commit)). */
typedef struct {
    int failed; /* read and written atomically */
    mn_status status;
    char msg[512];
    long committed;
} mn_dist_failure;

void mn_dist_note_failure(mn_dist_failure *f, mn_status st, const char *prefix);
int mn_dist_failed(mn_dist_failure *f);
/* Runs a task into buf (result_bytes) and commits it; failures noted in f. */
mn_status mn_dist_do_one(const mn_dist_job *j, void **tls, long task, unsigned char *buf, mn_dist_failure *f);
/* After the pool: every task committed, or a failure (a lost task is a bug). */
void mn_dist_check_all(mn_dist_failure *f, long n);
mn_status mn_dist_run_local(const mn_dist_job *j, const long *tasks, long n);
#ifdef MN_HAVE_MPI
mn_status mn_dist_run_mpi(const mn_dist_job *j, const long *tasks, long n);
#endif

#endif
