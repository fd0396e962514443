/* minima experiment karhadkar | liu: the activation-region experiments of
 * Karhadkar, Murray, Tseran & Montufar (full-rank fraction over grids of
 * n, width and d0) and of Bo Liu (genuine cell minima on real data). */
#include <getopt.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lists.h"

#define MAXV 64

typedef struct {
    int d0s[MAXV], nd0, ns[MAXV], nn, ws[MAXV], nw;
    double ratios[MAXV];
    int nratio;
    int trials, lp_trials, threads, json, do_d0, do_ratio;
    uint64_t seed;
    const char *plot;
} kh_opts;

static void kh_usage(FILE *f)
{
    fprintf(f,
            "usage: minima experiment karhadkar [--grid d0|ratio|both] [--d0 1,2,3,5] [--ratio 0.25,0.5,1,2]\n"
            "         [--n 10..100] [--width 10..100] [--trials 100] [--lp-trials 0] [--seed S]\n"
            "         [--threads T] [--json] [--plot PREFIX]\n"
            "Karhadkar, Murray, Tseran, Montufar, 'Mildly overparameterized ReLU networks have a favorable\n"
            "loss landscape': the fraction of random activation regions whose Jacobian in the hidden layer\n"
            "has full rank n (no bad differentiable local minimum there), over two grids:\n"
            "  d0 grid:    d0 constant (each --d0 value), n x width\n"
            "  ratio grid: d0 = max(1, round(ratio n)) (each --ratio value), n x width\n"
            "Cells with width (d0 + 1) < n cannot have rank n: fraction 0, no SVD run.\n"
            "  --trials T      regions per cell (100)\n"
            "  --lp-trials L   of them, also the LP: a zero-loss global minimum in the region, y ~ N(0, 1) (0)\n"
            "  --plot PREFIX   heatmaps PREFIX-d0.{png,svg}, PREFIX-ratio.{png,svg} (and -lp- ones with L > 0)\n"
            "  --threads T     OpenMP threads (all cores); results do not depend on it\n"
            "Lists: 1,2,3 or A..B (step A) or A..B:S. Not stored in a results database (the grid takes\n"
            "seconds); rerunning recomputes.\n");
}

static int kh_parse(kh_opts *o, int argc, char **argv)
{
    const char *cmd = "experiment karhadkar";
    static const struct option opts[] = {
        {"grid", 1, 0, 'g'},  {"d0", 1, 0, 'd'},      {"ratio", 1, 0, 'r'},    {"n", 1, 0, 'n'},
        {"width", 1, 0, 'w'}, {"trials", 1, 0, 't'},  {"lp-trials", 1, 0, 'l'}, {"seed", 1, 0, 's'},
        {"threads", 1, 0, 'T'}, {"json", 0, 0, 'j'}, {"plot", 1, 0, 'p'},     {"help", 0, 0, 'h'},
        {0, 0, 0, 0}};
    *o = (kh_opts){.nd0 = 4, .d0s = {1, 2, 3, 5}, .nratio = 4, .ratios = {0.25, 0.5, 1, 2}, .trials = 100,
                   .threads = omp_get_max_threads(), .do_d0 = 1, .do_ratio = 1, .seed = 1};
    cli_int_list(cmd, "n", "10..100", 1, 10000, o->ns, MAXV, &o->nn);
    cli_int_list(cmd, "width", "10..100", 1, 100000, o->ws, MAXV, &o->nw);
    opterr = 0;
    optind = 1;
    int c;
    long lv;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'g':
            o->do_d0 = !strcmp(optarg, "d0") || !strcmp(optarg, "both");
            o->do_ratio = !strcmp(optarg, "ratio") || !strcmp(optarg, "both");
            if (!o->do_d0 && !o->do_ratio) return cli_bad(cmd, "--grid '%s': expected d0, ratio or both", optarg);
            break;
        case 'd': bad = cli_int_list(cmd, "d0", optarg, 1, 10000, o->d0s, MAXV, &o->nd0); break;
        case 'r': bad = cli_num_list(cmd, "ratio", optarg, 1e-3, 100, o->ratios, MAXV, &o->nratio); break;
        case 'n': bad = cli_int_list(cmd, "n", optarg, 1, 10000, o->ns, MAXV, &o->nn); break;
        case 'w': bad = cli_int_list(cmd, "width", optarg, 1, 100000, o->ws, MAXV, &o->nw); break;
        case 't': bad = cli_long(cmd, "trials", optarg, 1, 1000000, &lv), o->trials = (int)lv; break;
        case 'l': bad = cli_long(cmd, "lp-trials", optarg, 0, 1000000, &lv), o->lp_trials = (int)lv; break;
        case 's': bad = cli_u64(cmd, "seed", optarg, &o->seed); break;
        case 'T': bad = cli_long(cmd, "threads", optarg, 1, 4096, &lv), o->threads = (int)lv; break;
        case 'j': o->json = 1; break;
        case 'p': o->plot = optarg; break;
        case 'h': kh_usage(stdout); return 2;
        case ':': return cli_bad(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_bad(cmd, "unknown option '%s' (see minima %s --help)", argv[optind - 1], cmd);
        }
        if (bad) return 1;
    }
    if (optind < argc) return cli_bad(cmd, "unexpected argument '%s'", argv[optind]);
    if (o->lp_trials > o->trials) return cli_bad(cmd, "--lp-trials %d is more than --trials %d", o->lp_trials, o->trials);
    if (o->plot && (o->nd0 > 4 || o->nratio > 4))
        return cli_bad(cmd, "--plot draws at most 4 panels: give at most 4 --d0 and --ratio values");
    return 0;
}

/* One grid (panels = d0 values or ratios): rows printed, fractions kept. */
static int kh_grid(const kh_opts *o, int ratio_grid, double *frac, double *lpfrac)
{
    const char *cmd = "experiment karhadkar";
    const int np = ratio_grid ? o->nratio : o->nd0;
    for (int p = 0; p < np; p++)
        for (int a = 0; a < o->nn; a++)
            for (int b = 0; b < o->nw; b++) {
                const int n = o->ns[a], w = o->ws[b];
                int d0 = o->d0s[p];
                if (ratio_grid) d0 = (int)fmax(1.0, round(o->ratios[p] * n));
                mn_region_cell cell;
                if (mn_region_sample_cell(&cell, d0, n, w, o->trials, o->lp_trials, o->seed, o->threads))
                    return cli_error(cmd);
                const size_t k = ((size_t)p * o->nn + a) * o->nw + b;
                frac[k] = (double)cell.full_rank / o->trials;
                lpfrac[k] = o->lp_trials ? (double)cell.zero_loss / o->lp_trials : NAN;
                if (o->json) {
                    jw j;
                    jw_begin(&j, stdout);
                    jw_obj(&j, NULL);
                    jw_str(&j, "grid", ratio_grid ? "ratio" : "d0");
                    if (ratio_grid) jw_num(&j, "ratio", o->ratios[p]);
                    jw_int(&j, "d0", d0);
                    jw_int(&j, "n", n);
                    jw_int(&j, "width", w);
                    jw_int(&j, "trials", o->trials);
                    jw_int(&j, "full_rank", cell.full_rank);
                    jw_num(&j, "full_rank_fraction", frac[k]);
                    jw_bool(&j, "structural", cell.structural);
                    jw_int(&j, "borderline", cell.borderline);
                    jw_int(&j, "borderline_changed", cell.changed);
                    if (o->lp_trials) {
                        jw_int(&j, "lp_trials", o->lp_trials);
                        jw_int(&j, "zero_loss", cell.zero_loss);
                        jw_num(&j, "zero_loss_fraction", lpfrac[k]);
                        jw_int(&j, "zero_loss_open", cell.zero_loss_open);
                    }
                    jw_end(&j);
                } else {
                    printf("%-5s %6g %5d %5d %6d %7d %9.3f %10d %8d", ratio_grid ? "ratio" : "d0",
                           ratio_grid ? o->ratios[p] : (double)d0, d0, n, w, o->trials, frac[k], cell.borderline,
                           cell.changed);
                    if (o->lp_trials) printf(" %9d %9.3f", o->lp_trials, lpfrac[k]);
                    putchar('\n');
                }
            }
    return 0;
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
    kh_opts o;
    int r = kh_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    const size_t cells = (size_t)MAXV * o.nn * o.nw;
    double *frac = malloc(cells * sizeof *frac), *lpfrac = malloc(cells * sizeof *lpfrac);
    if (!frac || !lpfrac) {
        free(frac), free(lpfrac);
        return cli_bad("experiment karhadkar", "out of memory");
    }
    if (!o.json) {
        printf("# Karhadkar et al.: X ~ N(0, I), W, b ~ U(+-1/sqrt(d0)), v ~ N(0, 1); full rank: rank n with\n"
               "# tol = s_max max(n, p) eps, borderline (s_n within 100x of tol) decided by the exact generic\n"
               "# rank over GF(2^31 - 1); seed %llu, %d threads\n",
               (unsigned long long)o.seed, o.threads);
        printf("%-5s %6s %5s %5s %6s %7s %9s %10s %8s", "grid", "value", "d0", "n", "width", "trials", "full_rank",
               "borderline", "changed");
        if (o.lp_trials) printf(" %9s %9s", "lp_trials", "zero_loss");
        putchar('\n');
    }
    int rc = 0;
    const double t0 = omp_get_wtime();
    for (int g = 0; g < 2 && !rc; g++) {
        if (!(g ? o.do_ratio : o.do_d0)) continue;
        double t1 = omp_get_wtime();
        rc = kh_grid(&o, g, frac, lpfrac);
        if (!rc && !o.json)
            printf("# %s grid: %.2f s\n", g ? "ratio" : "d0", omp_get_wtime() - t1);
        if (!rc && o.plot) rc = kh_plot(&o, g, frac, 0);
        if (!rc && o.plot && o.lp_trials) rc = kh_plot(&o, g, lpfrac, 1);
    }
    if (!rc && !o.json) printf("# total wall time %.2f s\n", omp_get_wtime() - t0);
    free(frac), free(lpfrac);
    return rc;
}

static void liu_usage(FILE *f)
{
    fprintf(f,
            "usage: minima experiment liu [data options] [--width W] [--samples N] [--cells C] [--starts S]\n"
            "         [--steps T] [--lr X] [--tol X] [--seed S] [--threads T] [--json]\n"
            "Bo Liu, 'Understanding global loss landscape of one-hidden-layer ReLU networks': a d-W-1 ReLU\n"
            "net with biases and the squared loss. For every k = 0..W, C random cells with k units active:\n"
            "the cell's least-squares minimum and whether it is genuine (attained inside the open cell, by\n"
            "an LP); bad = genuine with a loss above the best found + tol. Then S plain GD runs: the\n"
            "distinct cells each passes through, and whether it ends in the cell it started in.\n"
            "  data options   --dataset NAME [--labels pm1 --positive C] (default: --dataset digits\n"
            "                 --positive 0), --generate NAME [--n N ...], or --data FILE --label COL\n"
            "  --samples N    a seeded subset of N samples (200; 0: all)\n"
            "  --width W      hidden units (8)\n"
            "  --cells C      cells per active-unit count (20)\n"
            "  --starts S     GD runs (20); --steps T steps each (2000); --lr X step (0.05)\n"
            "  --tol X        bad: loss > best found + X (1e-6)\n"
            "Features are scaled by 1 / max |x| (digits: pixels 0..16 to 0..1).\n");
}

/* The options of experiment liu that are its own; the rest go to cli_parse. */
typedef struct {
    mn_liu_opts lo;
    int samples, json;
} liu_opts;

static int liu_own(liu_opts *o, const char *name, const char *val)
{
    const char *cmd = "experiment liu";
    long lv;
    char *end;
    if (!strcmp(name, "--width")) return cli_long(cmd, "width", val, 1, 1000, &lv) || ((o->lo.d1 = (int)lv), 0);
    if (!strcmp(name, "--samples")) return cli_long(cmd, "samples", val, 0, 100000, &lv) || ((o->samples = (int)lv), 0);
    if (!strcmp(name, "--cells")) return cli_long(cmd, "cells", val, 1, 100000, &lv) || ((o->lo.cells = (int)lv), 0);
    if (!strcmp(name, "--starts")) return cli_long(cmd, "starts", val, 0, 100000, &lv) || ((o->lo.starts = (int)lv), 0);
    if (!strcmp(name, "--steps")) return cli_long(cmd, "steps", val, 0, 10000000, &o->lo.steps);
    if (!strcmp(name, "--threads")) return cli_long(cmd, "threads", val, 1, 4096, &lv) || ((o->lo.threads = (int)lv), 0);
    double *dst = !strcmp(name, "--lr") ? &o->lo.lr : &o->lo.tol;
    double v = strtod(val, &end);
    if (end == val || *end || !isfinite(v) || v < 0 || (dst == &o->lo.lr && v == 0))
        return cli_bad(cmd, "%s: '%s' is not a %s number", name, val, dst == &o->lo.lr ? "positive" : "non-negative");
    *dst = v;
    return 0;
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
    static const char *const own[] = {"--width", "--samples", "--cells", "--starts", "--steps",
                                      "--lr",    "--tol",     "--threads"};
    char **rest = malloc((size_t)(argc + 4) * sizeof *rest);
    if (!rest) return cli_bad(cmd, "out of memory");
    int nr = 0, has_data = 0;
    rest[nr++] = argv[0];
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            free(rest);
            liu_usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "--json")) {
            o.json = 1;
            continue;
        }
        int mine = 0;
        for (size_t k = 0; k < sizeof own / sizeof *own; k++) mine |= !strcmp(argv[i], own[k]);
        if (mine) {
            if (i + 1 == argc) {
                free(rest);
                return cli_bad(cmd, "option '%s' needs a value", argv[i]);
            }
            if (liu_own(&o, argv[i], argv[i + 1])) {
                free(rest);
                return 1;
            }
            i++;
            continue;
        }
        has_data |= !strcmp(argv[i], "--dataset") || !strcmp(argv[i], "--generate") || !strcmp(argv[i], "--data");
        rest[nr++] = argv[i];
    }
    if (!has_data) { /* the MNIST stand-in: digit 0 against the rest */
        rest[nr++] = "--dataset", rest[nr++] = "digits", rest[nr++] = "--positive", rest[nr++] = "0";
    }
    rest[nr] = NULL;
    cli_opts co = {.cmd = cmd, .cmd_bit = MN_CMD_REGIONS};
    int r = cli_parse(&co, nr, rest);
    free(rest);
    if (r) return r == 2 ? 0 : 1;
    o.lo.seed = co.run.seed;
    co.run.spec.loss = MN_LOSS_SQUARED;
    co.run.arch = NULL;
    mn_data *full = NULL, *data = NULL;
    mn_model *unused = NULL;
    mn_liu_row *rows = malloc((size_t)(o.lo.d1 + 1) * sizeof *rows);
    mn_liu_gd gd;
    int rc = 1;
    const double t0 = omp_get_wtime();
    if (!rows) mn_fail(MN_ENOMEM, "out of memory");
    else if (!mn_setting_build(&full, &unused, &co.run) && !liu_data(&data, full, o.samples, co.run.seed) &&
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
        printf("# GD: %d runs of %ld steps (lr %g): distinct cells visited mean %.1f (min %d, max %d); %d of %d "
               "ended in their first cell; median end loss %.6g\n# %.2f s\n",
               gd.starts, o.lo.steps, o.lo.lr, gd.visited_mean, gd.visited_min, gd.visited_max, gd.stayed, gd.starts,
               gd.loss_median, omp_get_wtime() - t0);
    }
    free(rows);
    mn_data_free(full), mn_data_free(data), mn_model_free(unused);
    return rc;
}
