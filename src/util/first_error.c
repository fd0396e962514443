/* The first failure of a parallel loop (util/first_error.h). */
#include <stdio.h>

#include "util/first_error.h"

void mn_first_error_set(mn_first_error *e, mn_status st)
{
#pragma omp critical(mn_first_error)
    if (!e->failed) {
        e->st = st;
        snprintf(e->msg, sizeof e->msg, "%s", mn_last_error());
#pragma omp atomic write
        e->failed = 1;
    }
}

int mn_first_error_seen(mn_first_error *e)
{
    int f;
#pragma omp atomic read
    f = e->failed;
    return f;
}

mn_status mn_first_error_status(const mn_first_error *e) { return e->failed ? mn_fail(e->st, "%s", e->msg) : MN_OK; }
