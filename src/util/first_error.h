/* The first failure among the threads of a parallel loop (not part of the
 * public API): its status and message (mn_last_error is thread-local), so the
 * caller can report it after the loop. Tasks check mn_first_error_seen to
 * stop early. */
#ifndef MN_UTIL_FIRST_ERROR_H
#define MN_UTIL_FIRST_ERROR_H

#include "minima.h"

typedef struct {
    int failed;
    mn_status st;
    char msg[512];
} mn_first_error;
/* Records st (!= MN_OK) unless a failure is already recorded. */
void mn_first_error_set(mn_first_error *e, mn_status st);
int mn_first_error_seen(mn_first_error *e);
/* After the loop: MN_OK, or the recorded failure made current again. */
mn_status mn_first_error_status(const mn_first_error *e);

#endif
