/* Bo Liu's experiment: random cells with a given number of active units,
 * their least-squares minima and whether these are genuine; and how many
 * cells gradient descent passes through. */
#include "minima.h"
#include "minima/regions.h"

#include <cblas.h> /* openblas_{get,set}_num_threads */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "regions/internal.h"

typedef struct {
    int active, genuine, on_wall;
    double loss, angle;
} cell_res;

/* Cell (k, c): W, b, v drawn, then d1 - k units (a seeded random subset)
 * made dead on every sample; the cell's least-squares minimum. */
static mn_status one_cell(cell_res *r, const mn_data *data, int d1, int k, int c, uint64_t seed, double *W,
                          double *b, double *v, int *perm, unsigned char *A)
{
    const int n = mn_data_n(data), d0 = mn_data_d(data);
    const double *X = mn_data_xc(data);
    const uint64_t idx[3] = {0x63656c6cULL, (uint64_t)k, (uint64_t)c};
    mn_rng g;
    mn_rng_seed(&g, mn_seed_derive(seed, idx, 3));
    const double bound = 1.0 / sqrt((double)d0);
    for (size_t e = 0; e < (size_t)d1 * d0; e++) W[e] = bound * (2.0 * mn_rng_uniform(&g) - 1.0);
    for (int j = 0; j < d1; j++) b[j] = bound * (2.0 * mn_rng_uniform(&g) - 1.0);
    for (int j = 0; j < d1; j++) v[j] = mn_rng_normal(&g);
    for (int j = 0; j < d1; j++) perm[j] = j;
    for (int j = 0; j < d1 - k; j++) { /* partial Fisher-Yates: the units to kill */
        int t = j + (int)(mn_rng_uniform(&g) * (d1 - j));
        int u = perm[t];
        perm[t] = perm[j], perm[j] = u;
        double zmax = -INFINITY;
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int q = 0; q < d0; q++) z += W[(size_t)u * d0 + q] * X[(size_t)i * d0 + q];
            zmax = fmax(zmax, z);
        }
        b[u] = -zmax - 1.0;
    }
    mn_region_pattern(A, X, n, d0, W, b, d1);
    r->active = 0;
    for (int j = 0; j < d1; j++) {
        int on = 0;
        for (int i = 0; i < n && !on; i++) on = A[(size_t)i * d1 + j];
        r->active += on;
    }
    r->angle = mn_region_wall_angle(X, n, d0, W, b, d1);
    mn_region_genuine_result gr;
    mn_status st = mn_region_genuine(&gr, A, X, n, d0, v, d1, 1, mn_data_yc(data));
    if (st) return st;
    r->loss = gr.loss, r->genuine = gr.genuine, r->on_wall = gr.on_wall;
    return MN_OK;
}

typedef struct {
    int visited, stayed;
    long crossed; /* walls crossed by the straight segments between iterates */
    double loss;
} gd_res;

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static int cmp_dbl(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* GD run s: the distinct cells at its iterates, and the walls its path
 * crosses. Along the segment between two iterates every pre-activation
 * (x_i, 1).(w_j, b_j) and every v_j is affine, so it changes sign at most
 * once: the walls crossed in a step are the entries where the patterns (and
 * the signs of v) of its two ends differ. */
static mn_status one_run(gd_res *r, const mn_model *model, mn_work *work, const mn_data *data, const mn_liu_opts *o,
                         int s, uint64_t *keys, unsigned char *A, double *theta)
{
    unsigned char *prev = malloc((size_t)mn_data_n(data) * o->d1 + (size_t)o->d1);
    if (!prev) return mn_fail(MN_ENOMEM, "liu: out of memory");
    const int n = mn_data_n(data), d0 = mn_data_d(data), d1 = o->d1;
    const uint64_t idx[2] = {0x6764ULL, (uint64_t)s};
    mn_model_init(model, theta, mn_seed_derive(o->seed, idx, 2), 1.0);
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_GD;
    prm.lr = o->lr;
    mn_optim *opt = NULL;
    mn_status st = mn_optim_alloc(&opt, model, work, data, &prm, theta);
    if (st) {
        free(prev);
        return st;
    }
    const size_t ow = mn_model_w_offset(model, 1), ob = mn_model_b_offset(model, 1), ov = mn_model_w_offset(model, 2);
    long t = 0;
    const size_t na = (size_t)n * d1;
    r->crossed = 0;
    for (;; t++) {
        const double *th = mn_optim_theta(opt);
        mn_region_pattern(A, mn_data_xc(data), n, d0, th + ow, th + ob, d1);
        keys[t] = mn_region_key(A, n, d1, th + ov);
        for (size_t e = 0; e < na + d1; e++) {
            const unsigned char now = e < na ? A[e] : th[ov + e - na] > 0;
            r->crossed += t > 0 && now != prev[e];
            prev[e] = now;
        }
        if (t == o->steps || mn_optim_test(opt, 0.0) == MN_RUN_DIVERGED) break;
        if ((st = mn_optim_iterate(opt))) break;
    }
    r->loss = mn_optim_loss(opt);
    mn_optim_free(opt);
    free(prev);
    if (st) return st;
    r->stayed = keys[0] == keys[t];
    qsort(keys, (size_t)t + 1, sizeof *keys, cmp_u64);
    r->visited = 1;
    for (long i = 1; i <= t; i++) r->visited += keys[i] != keys[i - 1];
    return MN_OK;
}

mn_status mn_region_liu(mn_liu_row *rows, mn_liu_gd *gd, const mn_data *data, const mn_liu_opts *o)
{
    const int n = mn_data_n(data), d0 = mn_data_d(data), d1 = o->d1;
    if (mn_data_m(data) != 1) return mn_fail(MN_EINVAL, "liu: the data must have one label column, not %d", mn_data_m(data));
    if (d1 < 1 || d1 > 1000 || o->cells < 1 || o->starts < 0 || o->steps < 0 || !(o->lr > 0) || !(o->tol >= 0) ||
        o->threads < 1)
        return mn_fail(MN_EINVAL, "liu: width %d, cells %d, starts %d, steps %ld, lr %g, tol %g out of range", d1,
                       o->cells, o->starts, o->steps, o->lr, o->tol);
    const int ncell = (d1 + 1) * o->cells;
    cell_res *cr = calloc((size_t)ncell, sizeof *cr);
    gd_res *gr = calloc((size_t)(o->starts ? o->starts : 1), sizeof *gr);
    double *tmp = malloc((size_t)(ncell > o->starts ? ncell : o->starts + 1) * sizeof *tmp);
    mn_spec spec;
    mn_spec_default(&spec);
    spec.depth = 2, spec.width[0] = d0, spec.width[1] = d1, spec.width[2] = 1;
    mn_model *model = NULL;
    mn_status st = cr && gr && tmp ? mn_model_alloc(&model, &spec) : mn_fail(MN_ENOMEM, "liu: out of memory");
    if (!st) st = mn_model_check_data(model, data);
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    mn_first_error err = {0};
    const size_t P = model ? mn_model_nparams(model) : 0;
#pragma omp parallel num_threads(o->threads) if (!st)
    {
        double *W = malloc((size_t)d1 * d0 * sizeof *W), *b = malloc((size_t)d1 * sizeof *b),
               *v = malloc((size_t)d1 * sizeof *v), *theta = malloc((P + 1) * sizeof *theta);
        int *perm = malloc((size_t)d1 * sizeof *perm);
        unsigned char *A = malloc((size_t)n * d1);
        uint64_t *keys = malloc((size_t)(o->steps + 1) * sizeof *keys);
        mn_work *work = NULL;
        int ok = W && b && v && theta && perm && A && keys && !st && !mn_work_alloc(&work, model, n);
        /* cells first, then the GD runs, one task list */
#pragma omp for schedule(dynamic, 1)
        for (int task = 0; task < ncell + o->starts; task++) {
            if (st || mn_first_error_seen(&err)) continue;
            mn_status ts = ok ? MN_OK : mn_fail(MN_ENOMEM, "liu: out of memory");
            if (!ts && task < ncell)
                ts = one_cell(&cr[task], data, d1, task / o->cells, task % o->cells, o->seed, W, b, v, perm, A);
            else if (!ts)
                ts = one_run(&gr[task - ncell], model, work, data, o, task - ncell, keys, A, theta);
            if (ts) mn_first_error_set(&err, ts);
        }
        free(W), free(b), free(v), free(theta), free(perm), free(A), free(keys);
        mn_work_free(work);
    }
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    if (!st) st = mn_first_error_status(&err);
    if (!st) {
        double best = INFINITY;
        for (int c = 0; c < ncell; c++)
            if (cr[c].genuine) best = fmin(best, cr[c].loss);
        for (int s = 0; s < o->starts; s++) best = fmin(best, gr[s].loss);
        for (int k = 0; k <= d1; k++) {
            mn_liu_row *r = &rows[k];
            *r = (mn_liu_row){.k = k, .loss_min = NAN, .loss_median = NAN, .angle_median = NAN};
            int m = 0;
            for (int c = 0; c < ncell; c++) {
                if (cr[c].active != k) continue;
                r->cells++, r->genuine += cr[c].genuine, r->on_wall += cr[c].on_wall;
                r->bad += cr[c].genuine && cr[c].loss > best + o->tol;
                tmp[m++] = cr[c].loss;
            }
            if (!m) continue;
            qsort(tmp, (size_t)m, sizeof *tmp, cmp_dbl);
            r->loss_min = tmp[0], r->loss_median = tmp[m / 2];
            m = 0;
            for (int c = 0; c < ncell; c++)
                if (cr[c].active == k) tmp[m++] = cr[c].angle;
            qsort(tmp, (size_t)m, sizeof *tmp, cmp_dbl);
            r->angle_median = tmp[m / 2];
        }
        *gd = (mn_liu_gd){.starts = o->starts, .best = best, .loss_median = NAN, .visited_mean = NAN,
                          .crossed_mean = NAN};
        if (o->starts) {
            gd->visited_min = gr[0].visited, gd->visited_max = gr[0].visited, gd->visited_mean = 0;
            gd->crossed_mean = 0;
            for (int s = 0; s < o->starts; s++) {
                gd->visited_mean += (double)gr[s].visited / o->starts;
                if (gr[s].visited < gd->visited_min) gd->visited_min = gr[s].visited;
                if (gr[s].visited > gd->visited_max) gd->visited_max = gr[s].visited;
                gd->crossed_mean += (double)gr[s].crossed / o->starts;
                if (s == 0 || gr[s].crossed < gd->crossed_min) gd->crossed_min = gr[s].crossed;
                if (gr[s].crossed > gd->crossed_max) gd->crossed_max = gr[s].crossed;
                gd->stayed += gr[s].stayed;
                tmp[s] = gr[s].loss;
            }
            qsort(tmp, (size_t)o->starts, sizeof *tmp, cmp_dbl);
            gd->loss_median = tmp[o->starts / 2];
        }
    }
    mn_model_free(model);
    free(cr), free(gr), free(tmp);
    return st;
}
