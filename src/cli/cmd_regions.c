/* minima regions rank | genuine: activation regions of one-hidden-layer
 * ReLU networks (the library's src/regions/). */
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* The options of regions rank; the table (src/run/options.c) checks kinds and ranges. */
typedef struct {
    int d0, n, trials, lp_trials, threads, widths[256], nw;
    uint64_t seed;
} rank_opts;

static mn_status rank_set(void *ctx, const mn_option *d, const char *v)
{
    rank_opts *o = ctx;
    const char *nm = d->name;
    if (!strcmp(nm, "json")) return MN_OK;
    if (!strcmp(nm, "width")) return mn_option_int_list(o->widths, 256, &o->nw, d, v);
    if (!strcmp(nm, "seed")) return mn_option_seed(&o->seed, d, v);
    int *dst = !strcmp(nm, "d0") ? &o->d0 : !strcmp(nm, "n") ? &o->n : !strcmp(nm, "trials") ? &o->trials : NULL;
    if (!dst) dst = !strcmp(nm, "lp-trials") ? &o->lp_trials : &o->threads;
    long l;
    const mn_status st = mn_option_int(&l, d, v);
    if (!st) *dst = (int)l;
    return st;
}

static int cmd_rank(int argc, char **argv)
{
    const char *cmd = "regions rank";
    rank_opts o = {.trials = 100, .threads = omp_get_max_threads(), .seed = 1};
    static const char intro[] =
        "usage: minima regions rank --d0 D --n N --width W1,W2,.. [options]\n"
        "Random activation regions as Karhadkar et al. sample them (X ~ N(0, I), W and b uniform in\n"
        "+-1/sqrt(d0), v ~ N(0, 1)); per width one JSON line with the count and fraction of regions\n"
        "whose Jacobian in (W, b) has full rank n. Rank: singular values above\n"
        "tol = s_max max(n, p) eps (numpy's matrix_rank); a smallest singular value within a\n"
        "factor 100 of tol is borderline and decided by the exact generic rank over GF(2^31 - 1).\n"
        "Lists: W1,W2,.. or A..B (step A) or A..B:S.\n\noptions:\n";
    const int r = cli_args(cmd, MN_CMD_RANK, intro, argc, argv, rank_set, NULL, &o);
    if (r) return r == 2 ? 0 : 1;
    const int d0 = o.d0, n = o.n, trials = o.trials, lp_trials = o.lp_trials, threads = o.threads, nw = o.nw;
    const int *widths = o.widths;
    const uint64_t seed = o.seed;
    if (!d0 || !n || !nw) return cli_bad(cmd, "--d0, --n and --width are required");
    if (lp_trials > trials) return cli_bad(cmd, "--lp-trials %d is more than --trials %d", lp_trials, trials);
    for (int k = 0; k < nw; k++)
        if ((long)widths[k] * (d0 + 1) < n)
            return cli_bad(cmd, "width %d is too small for any full rank: %d x (d0 + 1) = %ld columns < n = %d", widths[k],
                           widths[k], (long)widths[k] * (d0 + 1), n);
    for (int k = 0; k < nw; k++) {
        mn_region_cell cell;
        double t0 = omp_get_wtime();
        if (mn_region_sample_cell(&cell, d0, n, widths[k], trials, lp_trials, seed, threads)) return cli_error(cmd);
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        jw_int(&w, "d0", d0);
        jw_int(&w, "n", n);
        jw_int(&w, "width", widths[k]);
        jw_int(&w, "trials", trials);
        jw_int(&w, "full_rank", cell.full_rank);
        jw_num(&w, "full_rank_fraction", (double)cell.full_rank / trials);
        jw_str(&w, "tolerance", "s_max * max(n, p) * eps");
        jw_int(&w, "borderline", cell.borderline);
        jw_int(&w, "borderline_changed", cell.changed);
        if (lp_trials) {
            jw_int(&w, "lp_trials", lp_trials);
            jw_int(&w, "zero_loss", cell.zero_loss);
            jw_num(&w, "zero_loss_fraction", (double)cell.zero_loss / lp_trials);
            jw_int(&w, "zero_loss_open", cell.zero_loss_open);
        }
        jw_int(&w, "seed", (long long)seed);
        jw_num(&w, "seconds", omp_get_wtime() - t0);
        jw_end(&w);
    }
    return fflush(stdout) ? cli_bad(cmd, "cannot write the output") : 0;
}

static int cmd_genuine(int argc, char **argv)
{
    const char *cmd = "regions genuine";
    cli_opts o = {.cmd = cmd, .cmd_bit = MN_CMD_REGIONS};
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    int loss_given = 0;
    for (int i = 0; i < o.ngiven; i++) loss_given |= !strcmp(o.given[i], "loss");
    if (!loss_given) o.run.spec.loss = MN_LOSS_SQUARED; /* the cell analysis is for the squared loss */
    mn_data *data = NULL;
    mn_model *model = NULL;
    double *theta = NULL;
    int rc = 1;
    if (!o.run.arch) {
        mn_fail(MN_EINVAL, "--arch d-W-1 is required");
        goto fail;
    }
    if (mn_setting_build(&data, &model, &o.run)) goto fail;
    const size_t P = mn_model_nparams(model);
    if (!(theta = malloc(P * sizeof *theta))) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    if (o.params_path) {
        if (cli_read_params(o.params_path, theta, P)) goto fail;
    } else {
        mn_model_init(model, theta, o.run.seed, 1.0);
    }
    mn_region_point pt;
    if (mn_region_at(&pt, model, data, theta)) goto fail;
    const double ref = o.run.cert.global_loss, tol = o.run.cert.global_tol;
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_int(&w, "n", pt.n);
    jw_int(&w, "d0", pt.d0);
    jw_int(&w, "width", pt.d1);
    jw_str(&w, "point", o.params_path ? o.params_path : "init");
    jw_int(&w, "active_units", pt.active_units);
    jw_num(&w, "point_loss", pt.point_loss);
    jw_num(&w, "wall_angle", pt.wall_angle);
    jw_num(&w, "cell_loss", pt.cell.loss);
    jw_bool(&w, "genuine", pt.cell.genuine);
    jw_bool(&w, "on_wall_only", pt.cell.on_wall);
    jw_num(&w, "lp_margin", pt.cell.margin);
    jw_num(&w, "global_loss", ref);
    if (isnan(ref) && pt.cell.genuine) /* the global value unknown: undecided */
        jw_num(&w, "bad_genuine_minimum", NAN);
    else
        jw_bool(&w, "bad_genuine_minimum", pt.cell.genuine && pt.cell.loss > ref + tol);
    jw_end(&w);
    rc = fflush(stdout) ? cli_bad(cmd, "cannot write the output") : 0;
    goto done;
fail:
    cli_error(cmd);
done:
    free(theta);
    mn_model_free(model);
    mn_data_free(data);
    return rc;
}

int cmd_regions(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "rank")) return cmd_rank(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "genuine")) return cmd_genuine(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "--help") && strcmp(argv[1], "-h"))
        return cli_bad("regions", "unknown subcommand '%s' (expected rank or genuine)", argv[1]);
    FILE *f = argc > 1 ? stdout : stderr;
    fprintf(f, "usage: minima regions rank|genuine [options]   (minima regions rank --help)\n"
               "  rank     fraction of random activation regions whose Jacobian has full rank (Karhadkar et al.)\n"
               "  genuine  the cell of a point of a d-W-1 ReLU net: its least-squares minimum, genuine or not (Liu)\n");
    return f == stdout ? 0 : 1;
}
