/* minima experiment karhadkar | liu: the activation-region experiments of
 * Karhadkar, Murray, Tseran & Montufar (full-rank fraction over grids of
 * n, width and d0) and of Bo Liu (genuine cell minima on real data). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"

#define MAXV 64
/* LPs per cell by default: ~1 CPU s each at n = width = 100, d0 = 5, where a
 * rank costs ~1 ms */
#define KH_LP_TRIALS 10

typedef struct {
    int d0s[MAXV], nd0, ns[MAXV], nn, ws[MAXV], nw;
    double ratios[MAXV];
    int nratio;
    int trials, lp_trials, threads, json, do_d0, do_ratio;
    uint64_t seed;
    const char *plot, *db;
} kh_opts;

static mn_status kh_set(void *ctx, const mn_option *d, const char *v)
{
    kh_opts *o = ctx;
    const char *nm = d->name;
    if (!strcmp(nm, "grid")) {
        o->do_d0 = !strcmp(v, "d0") || !strcmp(v, "both");
        o->do_ratio = !strcmp(v, "ratio") || !strcmp(v, "both");
        if (!o->do_d0 && !o->do_ratio) return mn_fail(MN_EINVAL, "--grid '%s' is not one of d0, ratio, both", v);
        return MN_OK;
    }
    if (!strcmp(nm, "d0")) return mn_option_int_list(o->d0s, MAXV, &o->nd0, d, v);
    if (!strcmp(nm, "ratio")) return mn_option_real_list(o->ratios, MAXV, &o->nratio, d, v);
    if (!strcmp(nm, "n")) return mn_option_int_list(o->ns, MAXV, &o->nn, d, v);
    if (!strcmp(nm, "width")) return mn_option_int_list(o->ws, MAXV, &o->nw, d, v);
    if (!strcmp(nm, "seed")) return mn_option_seed(&o->seed, d, v);
    if (!strcmp(nm, "json")) return o->json = 1, MN_OK;
    if (!strcmp(nm, "plot")) return o->plot = v, MN_OK;
    if (!strcmp(nm, "db")) return o->db = v, MN_OK;
    int *dst = !strcmp(nm, "trials") ? &o->trials : !strcmp(nm, "lp-trials") ? &o->lp_trials : &o->threads;
    long l;
    const mn_status st = mn_option_int(&l, d, v);
    if (!st) *dst = (int)l;
    return st;
}

static int kh_parse(kh_opts *o, int argc, char **argv)
{
    const char *cmd = "experiment karhadkar";
    static const char intro[] =
        "usage: minima experiment karhadkar [options]\n"
        "Karhadkar, Murray, Tseran, Montufar, 'Mildly overparameterized ReLU networks have a favorable\n"
        "loss landscape': the fraction of random activation regions whose Jacobian in the hidden layer\n"
        "has full rank n (no bad differentiable local minimum there), over two grids:\n"
        "  d0 grid:    d0 constant (each --d0 value), n x width\n"
        "  ratio grid: d0 = max(1, round(ratio n)) (each --ratio value), n x width\n"
        "Cells with width (d0 + 1) < n cannot have rank n: fraction 0, no SVD run. --plot draws heatmaps\n"
        "PREFIX-d0.{png,svg}, PREFIX-ratio.{png,svg}, and PREFIX-d0-lp, PREFIX-ratio-lp: the fraction of\n"
        "the first --lp-trials regions of each cell (10) holding a zero-loss point (the region LP; 0: none).\n"
        "Lists: 1,2,3 or A..B (step A) or A..B:S. --db F stores every trial as a run (a cell is a\n"
        "setting) as it finishes; a re-run resumes, and minima summary F shows each cell's full-rank\n"
        "fraction as its class 'global' (rank n), the rest 'degenerate'.\n\noptions:\n";
    *o = (kh_opts){.nd0 = 4, .d0s = {1, 2, 3, 5}, .nratio = 4, .ratios = {0.25, 0.5, 1, 2}, .trials = 100, .lp_trials = -1,
                   .threads = omp_get_max_threads(), .do_d0 = 1, .do_ratio = 1, .seed = 1};
    if (mn_option_int_list(o->ns, MAXV, &o->nn, mn_option_find("n", MN_CMD_KARHADKAR, 0), "10..100") ||
        mn_option_int_list(o->ws, MAXV, &o->nw, mn_option_find("width", MN_CMD_KARHADKAR, 0), "10..100"))
        return cli_error(cmd);
    const int r = cli_args(cmd, MN_CMD_KARHADKAR, intro, argc, argv, kh_set, NULL, o);
    if (r) return r;
    if (o->lp_trials < 0) o->lp_trials = o->trials < KH_LP_TRIALS ? o->trials : KH_LP_TRIALS;
    if (o->lp_trials > o->trials) return cli_bad(cmd, "--lp-trials %d is more than --trials %d", o->lp_trials, o->trials);
    if (o->plot && (o->nd0 > 4 || o->nratio > 4))
        return cli_bad(cmd, "--plot draws at most 4 panels: give at most 4 --d0 and --ratio values");
    return 0;
}

/* The cells of both grids, in printing order: grid (d0, then ratio), panel,
 * n, width; *ncell of them. */
static mn_region_cell *kh_cells(const kh_opts *o, int *ncell)
{
    const size_t per = (size_t)o->nn * o->nw;
    mn_region_cell *cells = malloc((size_t)(o->nd0 + o->nratio) * per * sizeof *cells);
    int m = 0;
    for (int g = 0; g < 2 && cells; g++) {
        if (!(g ? o->do_ratio : o->do_d0)) continue;
        for (int p = 0; p < (g ? o->nratio : o->nd0); p++)
            for (int a = 0; a < o->nn; a++)
                for (int b = 0; b < o->nw; b++) {
                    const int n = o->ns[a];
                    cells[m++] = (mn_region_cell){.d0 = g ? (int)fmax(1.0, round(o->ratios[p] * n)) : o->d0s[p],
                                                  .n = n, .d1 = o->ws[b]};
                }
    }
    *ncell = m;
    return cells;
}

/* One grid's rows (panels = d0 values or ratios), its cells from `cell` on;
 * fractions kept for the figures. */
static void kh_grid(const kh_opts *o, int ratio_grid, const mn_region_cell *cell, double *frac, double *lpfrac)
{
    const int np = ratio_grid ? o->nratio : o->nd0;
    for (int p = 0; p < np; p++)
        for (int a = 0; a < o->nn; a++)
            for (int b = 0; b < o->nw; b++) {
                const size_t k = ((size_t)p * o->nn + a) * o->nw + b;
                const mn_region_cell *c = &cell[k];
                frac[k] = (double)c->full_rank / o->trials;
                lpfrac[k] = o->lp_trials ? (double)c->zero_loss / o->lp_trials : NAN;
                if (o->json) {
                    jw j;
                    jw_begin(&j, stdout);
                    jw_obj(&j, NULL);
                    jw_str(&j, "grid", ratio_grid ? "ratio" : "d0");
                    if (ratio_grid) jw_num(&j, "ratio", o->ratios[p]);
                    jw_int(&j, "d0", c->d0);
                    jw_int(&j, "n", c->n);
                    jw_int(&j, "width", c->d1);
                    jw_int(&j, "trials", o->trials);
                    jw_int(&j, "full_rank", c->full_rank);
                    jw_num(&j, "full_rank_fraction", frac[k]);
                    jw_bool(&j, "structural", c->structural);
                    jw_int(&j, "borderline", c->borderline);
                    jw_int(&j, "borderline_changed", c->changed);
                    if (o->lp_trials) {
                        jw_int(&j, "lp_trials", o->lp_trials);
                        jw_int(&j, "zero_loss", c->zero_loss);
                        jw_num(&j, "zero_loss_fraction", lpfrac[k]);
                        jw_int(&j, "zero_loss_open", c->zero_loss_open);
                    }
                    jw_end(&j);
                } else {
                    printf("%-5s %6g %5d %5d %6d %7d %9.3f %10d %8d", ratio_grid ? "ratio" : "d0",
                           ratio_grid ? o->ratios[p] : (double)c->d0, c->d0, c->n, c->d1, o->trials, frac[k],
                           c->borderline, c->changed);
                    if (o->lp_trials) printf(" %9d %9.3f", o->lp_trials, lpfrac[k]);
                    putchar('\n');
                }
            }
}

static int kh_plot(const kh_opts *o, int ratio_grid, const double *vals, int lp)
{
    const int np = ratio_grid ? o->nratio : o->nd0;
    char names[4][64], prefix[4200], title[300];
    const char *panels[4];
    for (int p = 0; p < np; p++) {
        if (ratio_grid)
            snprintf(names[p], sizeof names[p], "d0 = %g n", o->ratios[p]);
        else
            snprintf(names[p], sizeof names[p], "d0 = %d", o->d0s[p]);
        panels[p] = names[p];
    }
    snprintf(prefix, sizeof prefix, "%s-%s%s", o->plot, ratio_grid ? "ratio" : "d0", lp ? "-lp" : "");
    snprintf(title, sizeof title, "%s of random activation regions (%d trials per cell)%s",
             lp ? "Zero-loss global minimum in the region (LP)" : "Full-rank Jacobian", lp ? o->lp_trials : o->trials,
             ratio_grid ? ", d0 proportional to n" : ", d0 constant");
    if (mn_plot_heatmaps(prefix, title, panels, np, "hidden width d1", o->ws, o->nw, "samples n", o->ns, o->nn,
                         "fraction", vals))
        return cli_error("experiment karhadkar");
    if (!o->json) printf("# figure %s.png, %s.svg\n", prefix, prefix);
    return 0;
}

int cmd_experiment_karhadkar(int argc, char **argv)
{
    const char *cmd = "experiment karhadkar";
    kh_opts o;
    int r = kh_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    const size_t per = (size_t)MAXV * o.nn * o.nw;
    int ncell = 0;
    mn_region_cell *cells = kh_cells(&o, &ncell);
    double *frac = malloc(per * sizeof *frac), *lpfrac = malloc(per * sizeof *lpfrac);
    if (!cells || !frac || !lpfrac) {
        free(cells), free(frac), free(lpfrac);
        return cli_bad(cmd, "out of memory");
    }
    const double t0 = omp_get_wtime();
    const mn_region_cells_opts ro = {.trials = o.trials, .lp_trials = o.lp_trials, .threads = o.threads,
                                     .seed = o.seed, .db_path = o.db};
    mn_region_cells_stats rs;
    int rc = 0;
    if (mn_region_sample_cells(cells, ncell, &ro, &rs)) {
        rc = cli_error(cmd);
        goto done;
    }
    if (!o.json) {
        printf("# Karhadkar et al.: X ~ N(0, I), W, b ~ U(+-1/sqrt(d0)), v ~ N(0, 1); full rank: rank n with\n"
               "# tol = s_max max(n, p) eps, borderline (s_n within 100x of tol) decided by the exact generic\n"
               "# rank over GF(2^31 - 1); seed %llu, %d threads\n",
               (unsigned long long)o.seed, o.threads);
        if (o.lp_trials)
            printf("# zero_loss: of the first %d regions of each cell, those holding a zero-loss point for targets\n"
                   "# y ~ N(0, 1) (the region LP, GLPK)\n",
                   o.lp_trials);
        printf("%-5s %6s %5s %5s %6s %7s %9s %10s %8s", "grid", "value", "d0", "n", "width", "trials", "full_rank",
               "borderline", "changed");
        if (o.lp_trials) printf(" %9s %9s", "lp_trials", "zero_loss");
        putchar('\n');
    }
    const mn_region_cell *next = cells;
    for (int g = 0; g < 2 && !rc; g++) {
        if (!(g ? o.do_ratio : o.do_d0)) continue;
        kh_grid(&o, g, next, frac, lpfrac);
        next += (size_t)(g ? o.nratio : o.nd0) * o.nn * o.nw;
        if (o.plot && mn_dist_rank() == 0) rc = kh_plot(&o, g, frac, 0); /* MPI: rank 0 alone has the counts */
        if (!rc && o.plot && o.lp_trials && mn_dist_rank() == 0) rc = kh_plot(&o, g, lpfrac, 1);
    }
    if (!rc && !o.json)
        printf("# %ld distinct cells: %ld trials run now, %ld loaded from the database; total wall time %.2f s\n",
               rs.cells, rs.run, rs.stored, omp_get_wtime() - t0);
done:
    free(cells), free(frac), free(lpfrac);
    return rc;
}

/* The options of experiment liu: its own, and the data options (run options
 * for the library's data recipe). */
typedef struct {
    mn_liu_opts lo;
    mn_options run;
    int samples, json, has_data;
} liu_opts;

static mn_status liu_set(void *ctx, const mn_option *d, const char *v)
{
    liu_opts *o = ctx;
    const char *nm = d->name;
    long l = 0;
    mn_status st = MN_OK;
    if (!strcmp(nm, "json")) return o->json = 1, MN_OK;
    if (!strcmp(nm, "lr")) return mn_option_real(&o->lo.lr, d, v);
    if (!strcmp(nm, "tol")) return mn_option_real(&o->lo.tol, d, v);
    if (!strcmp(nm, "steps")) return mn_option_int(&o->lo.steps, d, v);
    int *own = !strcmp(nm, "width") ? &o->lo.d1 : !strcmp(nm, "samples") ? &o->samples : NULL;
    if (!own) own = !strcmp(nm, "cells") ? &o->lo.cells : !strcmp(nm, "starts") ? &o->lo.starts : NULL;
    if (!own && !strcmp(nm, "threads")) own = &o->lo.threads;
    if (own) {
        if (!(st = mn_option_int(&l, d, v))) *own = (int)l;
        return st;
    }
    o->has_data |= !strcmp(nm, "dataset") || !strcmp(nm, "generate") || !strcmp(nm, "data");
    return mn_options_set(&o->run, nm, v);
}

/* A seeded subset of `keep` samples (all when keep is 0 or >= n), the
 * features scaled by 1 / max |x|. */
static mn_status liu_data(mn_data **out, const mn_data *in, int keep, uint64_t seed)
{
    const int n = mn_data_n(in), d = mn_data_d(in), m = mn_data_m(in), k = keep && keep < n ? keep : n;
    int *idx = malloc((size_t)n * sizeof *idx);
    if (!idx) return mn_fail(MN_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) idx[i] = i;
    mn_rng r;
    mn_rng_seed(&r, mn_seed_derive(seed, (const uint64_t[]){0x73756273ULL}, 1));
    for (int i = 0; i < k && k < n; i++) { /* partial Fisher-Yates */
        int j = i + (int)(mn_rng_uniform(&r) * (n - i)), t = idx[i];
        idx[i] = idx[j], idx[j] = t;
    }
    mn_status st = mn_data_alloc(out, k, d, m);
    if (st) {
        free(idx);
        return st;
    }
    double scale = 0;
    for (size_t e = 0; e < (size_t)n * d; e++) scale = fmax(scale, fabs(mn_data_xc(in)[e]));
    scale = scale > 0 ? 1.0 / scale : 1.0;
    for (int i = 0; i < k; i++) {
        for (int q = 0; q < d; q++) mn_data_x(*out)[(size_t)i * d + q] = scale * mn_data_xc(in)[(size_t)idx[i] * d + q];
        for (int q = 0; q < m; q++) mn_data_y(*out)[(size_t)i * m + q] = mn_data_yc(in)[(size_t)idx[i] * m + q];
    }
    free(idx);
    return MN_OK;
}

int cmd_experiment_liu(int argc, char **argv)
{
    const char *cmd = "experiment liu";
    liu_opts o = {.lo = {.d1 = 8, .cells = 20, .starts = 20, .steps = 2000, .lr = 0.05, .tol = 1e-6,
                         .threads = omp_get_max_threads()},
                  .samples = 200};
    static const char intro[] =
        "usage: minima experiment liu [options]\n"
        "Bo Liu, 'Understanding global loss landscape of one-hidden-layer ReLU networks': a d-W-1 ReLU\n"
        "net with biases and the squared loss. For every k = 0..W, C random cells with k units active:\n"
        "the cell's least-squares minimum and whether it is genuine (attained inside the open cell, by\n"
        "an LP); bad = genuine with a loss above the best found + tol. Then S plain GD runs: the\n"
        "distinct cells each passes through, and whether it ends in the cell it started in.\n"
        "Data: --dataset NAME [--labels pm1 --positive C] (default: --dataset digits --positive 0),\n"
        "--generate NAME [--n N ...], or --data FILE --label COL. Features are scaled by 1 / max |x|\n"
        "(digits: pixels 0..16 to 0..1).\n\noptions:\n";
    mn_options_default(&o.run);
    const int r = cli_args(cmd, MN_CMD_LIU, intro, argc, argv, liu_set, NULL, &o);
    if (r) return r == 2 ? 0 : 1;
    if (!o.has_data && /* the MNIST stand-in: digit 0 against the rest */
        (mn_options_set(&o.run, "dataset", "digits") || mn_options_set(&o.run, "positive", "0")))
        return cli_error(cmd);
    if (mn_options_check(&o.run)) return cli_error(cmd);
    o.lo.seed = o.run.seed;
    o.run.spec.loss = MN_LOSS_SQUARED;
    mn_data *full = NULL, *data = NULL;
    mn_model *unused = NULL;
    mn_liu_row *rows = malloc((size_t)(o.lo.d1 + 1) * sizeof *rows);
    mn_liu_gd gd;
    int rc = 1;
    const double t0 = omp_get_wtime();
    if (!rows) mn_fail(MN_ENOMEM, "out of memory");
    else if (!mn_setting_build(&full, &unused, &o.run) && !liu_data(&data, full, o.samples, o.run.seed) &&
             !mn_region_liu(rows, &gd, data, &o.lo))
        rc = 0;
    if (rc) {
        cli_error(cmd);
    } else if (o.json) {
        for (int k = 0; k <= o.lo.d1; k++) {
            const mn_liu_row *w = &rows[k];
            if (!w->cells) continue;
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_int(&j, "active_units", w->k);
            jw_int(&j, "cells", w->cells);
            jw_int(&j, "genuine", w->genuine);
            jw_int(&j, "on_wall", w->on_wall);
            jw_int(&j, "bad_genuine", w->bad);
            jw_num(&j, "bad_fraction", (double)w->bad / w->cells);
            jw_num(&j, "loss_min", w->loss_min);
            jw_num(&j, "loss_median", w->loss_median);
            jw_num(&j, "wall_angle_median", w->angle_median);
            jw_end(&j);
        }
        jw j;
        jw_begin(&j, stdout);
        jw_obj(&j, NULL);
        jw_str(&j, "gd", "summary");
        jw_int(&j, "n", mn_data_n(data));
        jw_int(&j, "d0", mn_data_d(data));
        jw_int(&j, "width", o.lo.d1);
        jw_int(&j, "starts", gd.starts);
        jw_num(&j, "cells_visited_mean", gd.visited_mean);
        jw_int(&j, "cells_visited_min", gd.visited_min);
        jw_int(&j, "cells_visited_max", gd.visited_max);
        jw_num(&j, "walls_crossed_mean", gd.crossed_mean);
        jw_int(&j, "walls_crossed_min", gd.crossed_min);
        jw_int(&j, "walls_crossed_max", gd.crossed_max);
        jw_int(&j, "ended_in_first_cell", gd.stayed);
        jw_num(&j, "gd_loss_median", gd.loss_median);
        jw_num(&j, "best_loss_found", gd.best);
        jw_num(&j, "seconds", omp_get_wtime() - t0);
        jw_end(&j);
    } else {
        printf("# Liu: %d samples x %d features, d-%d-1 ReLU, squared loss; %d cells per k; best loss found %.6g\n"
               "# bad = genuine cell minimum with loss > best found + %g (best found, not a certified global)\n",
               mn_data_n(data), mn_data_d(data), o.lo.d1, o.lo.cells, gd.best, o.lo.tol);
        printf("%6s %6s %8s %8s %6s %9s %12s %12s %12s\n", "active", "cells", "genuine", "on_wall", "bad", "bad_frac",
               "loss_min", "loss_median", "wall_angle");
        for (int k = 0; k <= o.lo.d1; k++) {
            const mn_liu_row *w = &rows[k];
            if (w->cells)
                printf("%6d %6d %8d %8d %6d %9.3f %12.6g %12.6g %12.3g\n", w->k, w->cells, w->genuine, w->on_wall,
                       w->bad, (double)w->bad / w->cells, w->loss_min, w->loss_median, w->angle_median);
        }
        printf("# wall_angle: median over the cells of the sine of the angle from the sampled point to its nearest\n"
               "# wall (exact for the point; the cell holds that cone around it: a lower bound of the cell's size)\n");
        printf("# GD: %d runs of %ld steps (lr %g): distinct cells at the iterates mean %.1f (min %d, max %d); walls\n"
               "# crossed by the path through the iterates mean %.1f (min %ld, max %ld): the path's distinct cells lie\n"
               "# between the two; %d of %d ended in their first cell; median end loss %.6g\n# %.2f s\n",
               gd.starts, o.lo.steps, o.lo.lr, gd.visited_mean, gd.visited_min, gd.visited_max, gd.crossed_mean,
               gd.crossed_min, gd.crossed_max, gd.stayed, gd.starts, gd.loss_median, omp_get_wtime() - t0);
    }
    free(rows);
    mn_data_free(full), mn_data_free(data), mn_model_free(unused);
    return rc;
}
