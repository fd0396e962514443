/* Shared by the files of src/regions/. */
#ifndef MN_REGIONS_INTERNAL_H
#define MN_REGIONS_INTERNAL_H

#include "minima.h"
#include "minima/regions.h"

/* sin of the angle from (W, b) to the nearest wall of its cell (see
 * mn_region_point.wall_angle). */
double mn_region_wall_angle(const double *X, int n, int d0, const double *W, const double *b, int d1);

/* The first failure among the threads of a parallel loop: its status and
 * message (mn_last_error is thread-local), so the caller can report it after
 * the loop. Tasks check first_failed to stop early. */
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
