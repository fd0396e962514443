/* The runs of the dynamics experiments' plans (internal.h): loading the
 * stored ones, and their settings as settings of a run kind, run by the
 * one runner (src/run/runner.c). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/internal.h"
#include "minima/dist.h"

mn_status mn_exp_load(mn_run_row *runs, unsigned char *done, long *loaded, mn_db *db, int64_t setting, int nr)
{
    mn_status st = mn_db_done(done, db, setting, nr);
    mn_run_row *dr = NULL;
    long m = 0;
    if (!st) st = mn_db_runs(&dr, &m, db, setting);
    for (long k = 0; !st && k < m; k++) {
        const long r = dr[k].restart;
        if (r < 0 || r >= nr || !done[r]) continue;
        runs[r] = dr[k];
        runs[r].theta = NULL;
        st = mn_db_point(&runs[r].theta, &runs[r].ntheta, db, setting, r);
        (*loaded)++;
    }
    free(dr);
    return st;
}

/* row into slot, its end point copied (NULL, and caught by mn_exp_run, when
 * there is no memory for it). */
static void keep(mn_run_row *slot, const mn_run_row *row)
{
    free(slot->theta);
    *slot = *row;
    slot->theta = row->ntheta ? malloc(row->ntheta * sizeof *slot->theta) : NULL;
    if (slot->theta) memcpy(slot->theta, row->theta, row->ntheta * sizeof *slot->theta);
    else slot->ntheta = 0;
}

mn_status mn_exp_kind_run(mn_run_row *row, const void *setting, long restart, void *scratch)
{
    (void)scratch;
    const mn_exp_setting *s = setting;
    row->lambda_min = row->lambda_max = row->accuracy = NAN;
    row->kink_margin = INFINITY;
    row->elim_a = row->elim_b = row->elim_w_norm = row->elim_a_exp_b = NAN;
    row->grad_norm_before_polish = NAN;
    mn_status st = s->job(s->ctx, s->first + restart, row);
    if (!st && row->ntheta != s->npoint)
        st = mn_fail(MN_EINVAL, "run %ld: an end point of %zu values, not %zu", s->first + restart, row->ntheta,
                     s->npoint);
    if (!st) keep(&s->runs[restart], row);
    return st;
}

size_t mn_exp_kind_npoint(const void *setting)
{
    return ((const mn_exp_setting *)setting)->npoint;
}

void mn_exp_kind_take(const mn_run_row *row, const void *setting)
{
    const mn_exp_setting *s = setting;
    keep(&s->runs[row->restart], row);
}

mn_status mn_exp_run(long *ndone, const mn_pending *list, long n, int threads, mn_db *db, uint64_t key)
{
    mn_runner_opts ro = {.threads = threads > 0 ? threads : omp_get_max_threads(), .db = db, .shard = 0, .nshards = 1, .key = key};
    mn_runner_stats rs;
    mn_status st = mn_runner_run(&rs, NULL, list, n, &ro);
    if (st) return st;
    *ndone += rs.done;
    if (mn_dist_rank() > 0) return MN_OK; /* rank 0 holds the results */
    for (long k = 0; k < n; k++) {
        const mn_exp_setting *s = list[k].setting;
        const mn_run_row *q = &s->runs[list[k].restart];
        if (!q->theta || q->ntheta != s->npoint)
            return mn_fail(MN_EFORMAT, "run %ld: no end point of %zu values (stored without one, or out of memory)",
                           s->first + list[k].restart, s->npoint);
    }
    return MN_OK;
}
