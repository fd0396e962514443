/* The runs of the dynamics experiments' plans (internal.h): loading the
 * stored ones, and the OpenMP pool that runs and stores the rest. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>

#include "experiment/internal.h"

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

mn_status mn_exp_pool(mn_run_row *runs, const unsigned char *done, const long *order, long no, int threads,
                      mn_db *db, mn_exp_job job, void *ctx, long *ndone)
{
    const int nth = threads > 0 ? threads : omp_get_max_threads();
    int first = MN_OK; /* the first error, as an int for the atomic read */
    long count = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(nth) reduction(+ : count)
    for (long o = 0; o < no; o++) {
        const long j = order[o];
        int seen;
#pragma omp atomic read
        seen = first;
        if (seen || done[j]) continue;
        mn_run_row *row = &runs[j];
        row->lambda_min = row->lambda_max = row->accuracy = NAN;
        row->kink_margin = INFINITY;
        row->elim_a = row->elim_b = row->elim_w_norm = row->elim_a_exp_b = NAN;
        row->grad_norm_before_polish = NAN;
        mn_status e = job(ctx, j, row);
        if (!e && db) {
#pragma omp critical(mn_exp_db)
            e = mn_db_insert(db, row, 1);
        }
        if (e) {
#pragma omp critical(mn_exp_err)
            {
                int cur;
#pragma omp atomic read
                cur = first;
                if (!cur) {
#pragma omp atomic write
                    first = (int)e;
                }
            }
        } else {
            count++;
        }
    }
    *ndone += count;
    return (mn_status)first;
}
