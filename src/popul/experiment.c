/* Table rows of the Safran-Shamir experiment: the restarts of all rows are
 * one pool of tasks for OpenMP (schedule(dynamic), the largest problems
 * first so that the short tasks of the small rows fill the end), each row
 * then reduced on its own.
 *
 * Determinism: run r of row (k, n) starts from seed mn_seed_derive(base,
 * {k, n, r}) and writes only its own result slot and end point, so the runs
 * do not depend on the schedule; OpenBLAS is held at one thread while they
 * run (each LAPACK call is then the same sequential code whatever the thread
 * count). The reduction (distinct minima, means) is sequential in restart
 * order, and the eigenvalues of the distinct minima are again one slot per
 * minimum. So the rows are bit-identical for every thread count.
 *
 * Distinct minima are compared on end points sharpened by Newton steps
 * (mn_popul_refine) when GD, not the certified polish, ended the run: a GD
 * end point is only within ||grad|| / lambda_min of the minimum, 3e-5 for
 * the flattest minima met (lambda_min ~ 4e-5), above dedup_tol. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "popul/internal.h"

/* The end point as the matrix the symmetry test compares: W, plus c as a
 * pinned last row with the eliminator. */
static void as_matrix(double *M, const double *th, const mn_popul_spec *s)
{
    const size_t nk = (size_t)s->n * s->k;
    memcpy(M, th, nk * sizeof *M);
    if (s->elim) memcpy(M + nk, th + nk + 1, (size_t)s->k * sizeof *M);
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int m)
{
    if (m == 0) return NAN;
    qsort(v, (size_t)m, sizeof *v, cmp_double);
    return m % 2 ? v[m / 2] : 0.5 * (v[m / 2 - 1] + v[m / 2]);
}

/* One row's results while the pool runs. */
typedef struct {
    mn_popul_run *res; /* (restarts) */
    double *pts;       /* (restarts x P) end points */
    double t_first, t_last;
    size_t P;
} slot;

/* Record the first failure of any thread (message kept: it is thread-local). */
static void keep_error(mn_status *worst, char *why, size_t len, mn_status mine)
{
#pragma omp critical(mn_popul_err)
    if (mine && !*worst) {
        *worst = mine;
        strncpy(why, mn_last_error(), len - 1);
    }
}

/* The distinct minima, eigenvalues and summary of one row. */
static mn_status reduce_row(mn_popul_row *row, slot *sl, const mn_popul_spec *spec, const mn_popul_opts *opts,
                            int restarts, int nthr)
{
    const size_t P = sl->P;
    const int rows = spec->n + (spec->elim ? 1 : 0), cols = spec->k;
    mn_popul_run *res = sl->res;
    int *rep = malloc((size_t)restarts * sizeof *rep);
    double *tmp = malloc((size_t)restarts * sizeof *tmp);
    double *Ma = malloc((size_t)rows * cols * sizeof *Ma), *Mb = malloc((size_t)rows * cols * sizeof *Mb);
    mn_status st = MN_OK;
    if (!rep || !tmp || !Ma || !Mb) {
        st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
        goto done;
    }
    /* Distinct spurious minima, in restart order. */
    int ndist = 0;
    for (int r = 0; r < restarts; r++) {
        if (res[r].cls != MN_POPUL_SPURIOUS) continue;
        as_matrix(Ma, sl->pts + (size_t)r * P, spec);
        int found = -1;
        for (int d = 0; d < ndist && found < 0; d++) {
            const mn_popul_run *q = &res[rep[d]];
            if (fabs(q->loss - res[r].loss) > 1e-8 * (1 + fabs(q->loss))) continue; /* F is invariant */
            if (spec->elim && (fabs(q->a - res[r].a) > opts->dedup_tol || fabs(q->b - res[r].b) > opts->dedup_tol))
                continue;
            as_matrix(Mb, sl->pts + (size_t)rep[d] * P, spec);
            if (mn_popul_equivalent(Ma, Mb, rows, cols, spec->elim ? 1 : 0, opts->dedup_tol)) found = d;
        }
        if (found < 0) rep[ndist] = r, found = ndist++;
        res[r].distinct = found;
    }
    /* The smallest Hessian eigenvalue, once per distinct minimum. */
    double *lmin = tmp; /* (ndist) */
    mn_status worst = MN_OK;
    char why[256] = "";
#pragma omp parallel num_threads(nthr)
    {
        mn_popul_runner *R = NULL;
        mn_status mine = mn_popul_runner_alloc(&R, spec);
#pragma omp for schedule(dynamic)
        for (int d = 0; d < ndist; d++) {
            lmin[d] = NAN;
            if (mine) continue;
            mine = mn_popul_hessian(R->w, sl->pts + (size_t)rep[d] * P, R->L);
            if (!mine) mine = mn_sym_eigvals(R->ev, R->L, (int)P);
            if (!mine) lmin[d] = R->ev[0];
        }
        keep_error(&worst, why, sizeof why, mine);
        mn_popul_runner_free(R);
    }
    if (worst) {
        st = mn_fail(worst, "%s", why);
        goto done;
    }
    /* The row. */
    memset(row, 0, sizeof *row);
    row->k = spec->k, row->n = spec->n, row->restarts = restarts;
    double sl_sum = 0, sf = 0;
    for (int r = 0; r < restarts; r++) {
        mn_popul_run *q = &res[r];
        row->count[q->cls]++;
        row->early += q->early, row->polished += q->polished;
        row->steps += q->iters;
        if (q->cls == MN_POPUL_SPURIOUS) {
            q->lambda_min = lmin[q->distinct];
            sl_sum += q->lambda_min, sf += q->loss;
        }
    }
    const int ns = row->count[MN_POPUL_SPURIOUS];
    row->spurious_pct = 100.0 * ns / restarts;
    mn_popul_wilson(&row->spurious_lo, &row->spurious_hi, ns, restarts);
    row->mean_lambda_min = ns ? sl_sum / ns : NAN;
    row->mean_loss = ns ? sf / ns : NAN;
    row->distinct = ndist;
    row->median_abs_a = row->median_a_exp_b = NAN;
    if (spec->elim) {
        int m = 0;
        for (int r = 0; r < restarts; r++)
            if (res[r].cls != MN_POPUL_DIVERGED) tmp[m++] = fabs(res[r].a);
        row->median_abs_a = median(tmp, m);
        m = 0;
        for (int r = 0; r < restarts; r++)
            if (res[r].cls != MN_POPUL_DIVERGED) tmp[m++] = res[r].a_exp_b;
        row->median_a_exp_b = median(tmp, m);
    }
done:
    free(rep), free(tmp), free(Ma), free(Mb);
    return st;
}

mn_status mn_popul_experiment_many(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs,
                                   int nspecs, const mn_popul_opts *opts, int restarts, uint64_t base_seed,
                                   int threads)
{
    if (nspecs < 1) return mn_fail(MN_EINVAL, "popul: no rows to run");
    if (restarts < 1) return mn_fail(MN_EINVAL, "popul: restarts = %d (expected >= 1)", restarts);
    for (int s = 0; s < nspecs; s++) {
        mn_status st = mn_popul_check(&specs[s]);
        if (st) return st;
    }
    slot *sl = calloc((size_t)nspecs, sizeof *sl);
    int *order = malloc((size_t)nspecs * sizeof *order);
    mn_status st = MN_OK;
    if (!sl || !order) {
        free(sl), free(order);
        return mn_fail(MN_ENOMEM, "popul: out of memory for %d rows", nspecs);
    }
    for (int s = 0; s < nspecs; s++) {
        sl[s].P = mn_popul_nparams(&specs[s]);
        sl[s].res = runs && runs[s] ? runs[s] : malloc((size_t)restarts * sizeof *sl[s].res);
        sl[s].pts = malloc((size_t)restarts * sl[s].P * sizeof *sl[s].pts);
        sl[s].t_first = INFINITY, sl[s].t_last = -INFINITY;
        if (!sl[s].res || !sl[s].pts) {
            st = mn_fail(MN_ENOMEM, "popul: out of memory for %d restarts", restarts);
            goto done;
        }
    }
    /* tasks: the rows by decreasing size (stable), each row's restarts in order */
    for (int s = 0; s < nspecs; s++) order[s] = s;
    for (int a = 1; a < nspecs; a++) {
        const int v = order[a];
        int b = a - 1;
        while (b >= 0 && sl[order[b]].P < sl[v].P) order[b + 1] = order[b], b--;
        order[b + 1] = v;
    }
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    const int nthr = threads > 0 ? threads : omp_get_max_threads();
    const long ntask = (long)nspecs * restarts;
    mn_status worst = MN_OK;
    char why[256] = "";
#pragma omp parallel num_threads(nthr)
    {
        mn_popul_runner *R = NULL; /* sized for the row of the last task */
        mn_status mine = MN_OK;
#pragma omp for schedule(dynamic)
        for (long t = 0; t < ntask; t++) {
            if (mine) continue;
            const int s = order[t / restarts], r = (int)(t % restarts);
            if (!R || memcmp(&R->spec, &specs[s], sizeof R->spec) != 0) {
                mn_popul_runner_free(R);
                R = NULL;
                if ((mine = mn_popul_runner_alloc(&R, &specs[s]))) continue;
            }
            const double t0 = omp_get_wtime();
            mine = mn_popul_run_with(R, &sl[s].res[r], opts, base_seed, r, 0);
            if (mine) continue;
            double *pt = sl[s].pts + (size_t)r * sl[s].P;
            memcpy(pt, R->th, sl[s].P * sizeof *pt);
            /* GD end points are accurate to ||grad|| / lambda_min only, which
             * for flat minima exceeds dedup_tol: compare sharpened copies */
            if (sl[s].res[r].cls == MN_POPUL_SPURIOUS && !sl[s].res[r].polished) mine = mn_popul_refine(R, pt);
            const double t1 = omp_get_wtime();
#pragma omp critical(mn_popul_time)
            {
                sl[s].t_first = fmin(sl[s].t_first, t0);
                sl[s].t_last = fmax(sl[s].t_last, t1);
            }
        }
        keep_error(&worst, why, sizeof why, mine);
        mn_popul_runner_free(R);
    }
    if (worst) {
        st = mn_fail(worst, "%s", why);
        goto restore;
    }
    for (int s = 0; s < nspecs; s++) {
        const double t0 = omp_get_wtime();
        if ((st = reduce_row(&rows[s], &sl[s], &specs[s], opts, restarts, nthr))) goto restore;
        rows[s].seconds = (sl[s].t_last - sl[s].t_first) + (omp_get_wtime() - t0);
    }
restore:
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
done:
    for (int s = 0; s < nspecs; s++) {
        if (!(runs && runs[s])) free(sl[s].res);
        free(sl[s].pts);
    }
    free(sl), free(order);
    return st;
}

mn_status mn_popul_experiment(mn_popul_row *row, mn_popul_run *runs, const mn_popul_spec *spec,
                              const mn_popul_opts *opts, int restarts, uint64_t base_seed, int threads)
{
    if (!spec) return mn_fail(MN_EINVAL, "popul: no spec");
    mn_popul_run *rv[1] = {runs};
    return mn_popul_experiment_many(row, rv, spec, 1, opts, restarts, base_seed, threads);
}
