/* Karhadkar's grid cells through the one runner: the "regions" run kind (a
 * setting is a cell, a run one trial of it) and mn_region_sample_cells,
 * which lists the trials, loads the stored ones and lets the runner do the
 * rest. The row layout is minima/regions.h's. */
#include "minima.h"
#include "minima/regions.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/dist.h"
#include "regions/internal.h"
#include "run/internal.h"

#define CANON_PREFIX "experiment=karhadkar "

/* ------------------------------------------------------------------ */
/* The run kind. */

int mn_region_task_claims(const char *json, const char *canon)
{
    (void)json;
    return !strncmp(canon, CANON_PREFIX, strlen(CANON_PREFIX));
}

/* No trial is a spurious minimum (classes global and degenerate only). */
mn_status mn_region_task_distinct(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                                  const mn_run_row *rows, long nr, mn_model_builder build, void *ctx)
{
    (void)db, (void)setting, (void)json, (void)canon, (void)build, (void)ctx;
    *count = 0;
    for (long r = 0; r < nr; r++)
        if (mn_class_is_spurious(rows[r].cls)) *count = -1; /* not a row this kind writes */
    return MN_OK;
}

mn_status mn_region_task_scratch(void **scratch, const void *task)
{
    const mn_region_task *t = task;
    mn_region_draw *d = NULL;
    mn_status st = mn_region_draw_alloc(&d, t->d0, t->n, t->d1);
    *scratch = d;
    return st;
}

void mn_region_task_scratch_free(void *scratch)
{
    mn_region_draw_free(scratch);
}

size_t mn_region_task_npoint(const void *task)
{
    (void)task;
    return 0; /* no end point: a trial is not a point of a landscape */
}

/* A row (made now, stored, or received from another rank) into the
 * task's result slot: the one reading of the layout. */
void mn_region_task_take(const mn_run_row *row, const void *task)
{
    const mn_region_task *t = task;
    mn_region_trial_result *q = &t->res[row->restart];
    q->full = row->cls == MN_CLASS_GLOBAL;
    q->border = row->near_kink != 0;
    q->changed = q->border && (row->cls == MN_CLASS_GLOBAL) != (row->iterations == t->n);
    q->zero = row->restart < t->lp_trials && row->accuracy == 1.0;
    q->open = q->zero && row->kink_margin > MN_REGION_INTERIOR;
}

mn_status mn_region_task_run(mn_run_row *row, const void *task, long restart, void *scratch)
{
    const mn_region_task *t = task;
    const double t0 = omp_get_wtime();
    mn_rank_info ri;
    mn_region_lp_result lp;
    const int with_lp = restart < t->lp_trials;
    mn_status st = mn_region_trial(&ri, with_lp ? &lp : NULL, scratch, restart, t->seed);
    if (st) {
        char msg[400];
        snprintf(msg, sizeof msg, "%s", mn_last_error());
        return mn_fail(st, "cell d0 = %d, n = %d, width = %d, trial %ld: %s", t->d0, t->n, t->d1, restart, msg);
    }
    row->setting = t->db_id;
    row->restart = restart;
    row->seed = mn_region_trial_seed(t->d0, t->n, t->d1, restart, t->seed);
    snprintf(row->optimizer, sizeof row->optimizer, "%s",
             ri.rank < 0 ? "structural" : ri.gram ? "gram" : ri.borderline ? "svd+exact" : "svd");
    row->iterations = ri.svd_rank;
    row->cls = ri.rank == t->n ? MN_CLASS_GLOBAL : MN_CLASS_DEGENERATE;
    row->near_kink = ri.borderline;
    if (ri.borderline)
        snprintf(row->reason, sizeof row->reason, "borderline: SVD rank %d, exact generic rank %d", ri.svd_rank,
                 ri.exact_rank);
    row->lambda_min = ri.smin, row->lambda_max = ri.smax;
    row->loss = row->grad_norm = row->theta_norm = NAN;
    row->elim_a = row->elim_b = row->elim_w_norm = row->elim_a_exp_b = NAN;
    row->accuracy = with_lp ? (double)lp.feasible : NAN;
    row->kink_margin = with_lp ? lp.margin : NAN;
    row->seconds = omp_get_wtime() - t0;
    mn_region_task_take(row, t);
    return MN_OK;
}

/* ------------------------------------------------------------------ */
/* The cells of a call. */

static mn_status cell_strings(char **canon, char **json, const mn_region_task *t)
{
    const char *key[6] = {"experiment", "d0", "n", "width", "lp_trials", "seed"};
    char val[6][32];
    const char *vp[6] = {"karhadkar", val[1], val[2], val[3], val[4], val[5]};
    snprintf(val[1], sizeof val[1], "%d", t->d0);
    snprintf(val[2], sizeof val[2], "%d", t->n);
    snprintf(val[3], sizeof val[3], "%d", t->d1);
    snprintf(val[4], sizeof val[4], "%d", t->lp_trials);
    snprintf(val[5], sizeof val[5], "%llu", (unsigned long long)t->seed);
    return mn_canon_listed(canon, json, key, vp, 6);
}

/* The stored trials of a cell into its slots; *loaded counts them. */
static mn_status load_cell(const mn_region_task *t, mn_db *db, int trials, long *loaded)
{
    mn_run_row *rows = NULL;
    long m = 0;
    mn_status st = mn_db_runs(&rows, &m, db, t->db_id);
    for (long i = 0; i < m && !st; i++)
        if (rows[i].restart >= 0 && rows[i].restart < trials) mn_region_task_take(&rows[i], t), ++*loaded;
    free(rows);
    return st;
}

/* Cost of a trial, for the list's order (largest first: the last runs to
 * finish are short ones). */
static double cost(const mn_region_task *t)
{
    return (double)t->n * t->d1 * (t->d0 + 1);
}

mn_status mn_region_sample_cells(mn_region_cell *cells, int ncells, const mn_region_cells_opts *o,
                                 mn_region_cells_stats *stats)
{
    mn_region_cells_stats none;
    if (!stats) stats = &none;
    memset(stats, 0, sizeof *stats);
    if (ncells < 1) return mn_fail(MN_EINVAL, "regions: no cells");
    if (o->trials < 1 || o->lp_trials < 0 || o->lp_trials > o->trials || o->threads < 1)
        return mn_fail(MN_EINVAL, "regions: trials = %d, lp trials = %d, threads = %d out of range", o->trials,
                       o->lp_trials, o->threads);
    for (int c = 0; c < ncells; c++) {
        const int d0 = cells[c].d0, n = cells[c].n, d1 = cells[c].d1;
        if (d0 < 1 || d0 > MN_MAX_WIDTH || n < 1 || n > MN_REGION_MAX_N || d1 < 1 || d1 > MN_MAX_WIDTH)
            return mn_fail(MN_EINVAL, "regions: d0 = %d, n = %d, width = %d out of range", d0, n, d1);
    }
    /* the distinct cells (task of cell c: of[c]) */
    mn_region_task *task = calloc((size_t)ncells, sizeof *task);
    int *of = malloc((size_t)ncells * sizeof *of), *order = malloc((size_t)ncells * sizeof *order), nt = 0;
    mn_pending *list = NULL;
    mn_db *db = NULL;
    mn_status st = MN_OK;
    if (!task || !of || !order) {
        st = mn_fail(MN_ENOMEM, "regions: out of memory for %d cells", ncells);
        goto done;
    }
    for (int c = 0; c < ncells; c++) {
        int k = 0;
        while (k < nt && !(task[k].d0 == cells[c].d0 && task[k].n == cells[c].n && task[k].d1 == cells[c].d1)) k++;
        if (k == nt) {
            task[nt] = (mn_region_task){.d0 = cells[c].d0, .n = cells[c].n, .d1 = cells[c].d1,
                                        .lp_trials = o->lp_trials, .seed = o->seed};
            if (!(task[nt++].res = calloc((size_t)o->trials, sizeof *task->res))) {
                st = mn_fail(MN_ENOMEM, "regions: out of memory for %d trials", o->trials);
                goto done;
            }
        }
        of[c] = k;
    }
    stats->cells = nt;
    /* in an MPI job rank 0 alone holds the database (minima/dist.h) and,
     * after the runner, the results */
    if (o->db_path && mn_dist_rank() == 0 && (st = mn_db_open(&db, o->db_path, 1))) goto done;
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &o->trials, sizeof o->trials);
    for (int k = 0; k < nt && !st; k++) {
        char *canon = NULL, *json = NULL;
        st = cell_strings(&canon, &json, &task[k]);
        if (!st) key = mn_hash_bytes(key, canon, strlen(canon) + 1);
        if (!st && db) st = mn_db_setting(&task[k].db_id, db, canon, json);
        if (!st && db) st = load_cell(&task[k], db, o->trials, &stats->stored);
        free(canon), free(json);
    }
    if (st) goto done;
    /* the runs: the cells by decreasing cost (stable), each cell's trials in order */
    for (int k = 0; k < nt; k++) order[k] = k;
    for (int a = 1; a < nt; a++) {
        const int v = order[a];
        int b = a - 1;
        while (b >= 0 && cost(&task[order[b]]) < cost(&task[v])) order[b + 1] = order[b], b--;
        order[b + 1] = v;
    }
    const long nrun = (long)nt * o->trials;
    if (!(list = malloc((size_t)nrun * sizeof *list))) {
        st = mn_fail(MN_ENOMEM, "regions: out of memory for %ld trials", nrun);
        goto done;
    }
    const mn_run_kind *kind = mn_run_kind_named("regions");
    for (long r = 0; r < nrun; r++) {
        const mn_region_task *t = &task[order[r / o->trials]];
        list[r] = (mn_pending){.kind = kind, .setting = t, .db_id = t->db_id, .restart = r % o->trials};
    }
    const mn_runner_opts ro = {.threads = o->threads, .db = db, .shard = 0, .nshards = 1, .key = key};
    mn_runner_stats rs;
    if ((st = mn_runner_run(&rs, NULL, list, nrun, &ro))) goto done;
    if (rs.skipped != stats->stored) {
        st = mn_fail(MN_EFORMAT, "regions: %ld trials stored, %ld loaded: the database changed under the experiment",
                     rs.skipped, stats->stored);
        goto done;
    }
    stats->run = rs.done;
    for (int c = 0; c < ncells; c++) {
        const mn_region_task *t = &task[of[c]];
        mn_region_cell *out = &cells[c];
        *out = (mn_region_cell){.d0 = t->d0, .n = t->n, .d1 = t->d1, .trials = o->trials, .lp_trials = o->lp_trials,
                                .structural = (long)t->d1 * (t->d0 + 1) < t->n};
        for (int r = 0; r < o->trials; r++) {
            const mn_region_trial_result *q = &t->res[r];
            out->full_rank += q->full, out->borderline += q->border, out->changed += q->changed;
            out->zero_loss += q->zero, out->zero_loss_open += q->open;
        }
    }
done:
    mn_db_close(db);
    for (int k = 0; task && k < nt; k++) free(task[k].res);
    free(task), free(of), free(order), free(list);
    return st;
}

mn_status mn_region_sample_cell(mn_region_cell *out, int d0, int n, int d1, int trials, int lp_trials,
                                uint64_t seed, int threads)
{
    *out = (mn_region_cell){.d0 = d0, .n = n, .d1 = d1};
    const mn_region_cells_opts o = {.trials = trials, .lp_trials = lp_trials, .threads = threads, .seed = seed};
    return mn_region_sample_cells(out, 1, &o, NULL);
}
