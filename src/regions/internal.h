/* Shared by the files of src/regions/. */
#ifndef MN_REGIONS_INTERNAL_H
#define MN_REGIONS_INTERNAL_H

#include "minima.h"
#include "minima/regions.h"
#include "minima/sweep.h"
#include "util/first_error.h"

/* sin of the angle from (W, b) to the nearest wall of its cell (see
 * mn_region_point.wall_angle). */
double mn_region_wall_angle(const double *X, int n, int d0, const double *W, const double *b, int d1);

/* One trial's buffers for a cell (d0, n, d1): X (n x d0), W (d1 x d0), b,
 * v (d1), targets y (n), pattern A (n x d1). */
typedef struct {
    int d0, n, d1;
    double *X, *W, *b, *v, *y;
    unsigned char *A;
} mn_region_draw;
mn_status mn_region_draw_alloc(mn_region_draw **out, int d0, int n, int d1);
void mn_region_draw_free(mn_region_draw *d);
/* The stream trial t of cell (d0, n, d1) draws from. */
uint64_t mn_region_trial_seed(int d0, int n, int d1, long t, uint64_t seed);
/* Trial t of the cell d was allocated for (mn_region_sample_cell's
 * sampling): draws it into d, decides the rank (ri->rank = -1, no SVD, when
 * d1 (d0 + 1) < n) and, when lp is not NULL, runs the zero-loss LP. */
mn_status mn_region_trial(mn_rank_info *ri, mn_region_lp_result *lp, mn_region_draw *d, long t, uint64_t seed);

/* ------------------------------------------------------------------ */
/* Karhadkar's trials as runs of the runner (src/regions/cells.c, the
 * "regions" entry of src/run/kinds.c): a setting is a cell (d0, n, d1,
 * lp_trials, seed), a run is a trial t (restart t). What a trial found,
 * as a run row stores it and as the cell's counts read it: */
typedef struct {
    unsigned char full;    /* rank n */
    unsigned char border;  /* decided by the exact check */
    unsigned char changed; /* ... which changed the SVD's answer */
    unsigned char zero;    /* LP run (t < lp_trials): a zero-loss point in the closed region */
    unsigned char open;    /* ... in the open region */
} mn_region_trial_result;
typedef struct {
    int d0, n, d1, lp_trials;
    uint64_t seed;
    int64_t db_id;               /* settings.id (0 without a database) */
    mn_region_trial_result *res; /* (trials): run t writes res[t], nothing else */
} mn_region_task;
int mn_region_task_claims(const char *json, const char *canon);
mn_status mn_region_task_distinct(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                                  const mn_run_row *rows, long nr, mn_model_builder build, void *ctx);
mn_status mn_region_task_scratch(void **scratch, const void *task);
void mn_region_task_scratch_free(void *scratch);
mn_status mn_region_task_run(mn_run_row *row, const void *task, long restart, void *scratch);
size_t mn_region_task_npoint(const void *task);
void mn_region_task_take(const mn_run_row *row, const void *task);

#endif
