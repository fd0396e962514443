/* minima regions rank | genuine: activation regions of one-hidden-layer
 * ReLU networks (the library's src/regions/). */
#include <getopt.h>
#include <omp.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lists.h"

static void usage_rank(FILE *f)
{
    fprintf(f,
            "usage: minima regions rank --d0 D --n N --width W1,W2,.. [--trials T] [--lp-trials L]\n"
            "                           [--seed S] [--threads T] [--json]\n"
            "Random activation regions as Karhadkar et al. sample them (X ~ N(0, I), W and b uniform in\n"
            "+-1/sqrt(d0), v ~ N(0, 1)); per width one JSON line with the count and fraction of regions\n"
            "whose Jacobian in (W, b) has full rank n. Rank: singular values above\n"
            "tol = s_max max(n, p) eps (numpy's matrix_rank); a smallest singular value within a\n"
            "factor 100 of tol is borderline and decided by the exact generic rank over GF(2^31 - 1).\n"
            "  --d0 D          input dimension, 1..10000\n"
            "  --n N           samples, 1..10000\n"
            "  --width LIST    hidden widths: W1,W2,.. or A..B (step A) or A..B:S; each needs\n"
            "                  width (d0 + 1) >= n, the least for a rank n\n"
            "  --trials T      regions per width (100)\n"
            "  --lp-trials L   of them, also the LP test of a zero-loss minimum in the region, y ~ N(0, 1) (0)\n"
            "  --seed S        base seed (1)\n"
            "  --threads T     OpenMP threads (all cores)\n"
            "  --json          JSON lines (the default and only format)\n");
}

static int cmd_rank(int argc, char **argv)
{
    const char *cmd = "regions rank";
    int d0 = 0, n = 0, trials = 100, lp_trials = 0, threads = omp_get_max_threads(), widths[256], nw = 0;
    long lv;
    uint64_t seed = 1;
    static const struct option opts[] = {{"d0", 1, 0, 'd'},      {"n", 1, 0, 'n'},       {"width", 1, 0, 'w'},
                                         {"trials", 1, 0, 't'},  {"lp-trials", 1, 0, 'l'}, {"seed", 1, 0, 's'},
                                         {"threads", 1, 0, 'T'}, {"json", 0, 0, 'j'},    {"help", 0, 0, 'h'},
                                         {0, 0, 0, 0}};
    opterr = 0;
    optind = 1;
    int c;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        int bad = 0;
        switch (c) {
        case 'd': bad = cli_long(cmd, "d0", optarg, 1, 10000, &lv), d0 = (int)lv; break;
        case 'n': bad = cli_long(cmd, "n", optarg, 1, 10000, &lv), n = (int)lv; break;
        case 'w': bad = cli_int_list(cmd, "width", optarg, 1, 100000, widths, 256, &nw); break;
        case 't': bad = cli_long(cmd, "trials", optarg, 1, 1000000, &lv), trials = (int)lv; break;
        case 'l': bad = cli_long(cmd, "lp-trials", optarg, 0, 1000000, &lv), lp_trials = (int)lv; break;
        case 's': bad = cli_u64(cmd, "seed", optarg, &seed); break;
        case 'T': bad = cli_long(cmd, "threads", optarg, 1, 4096, &lv), threads = (int)lv; break;
        case 'j': break;
        case 'h': usage_rank(stdout); return 0;
        case ':': return cli_bad(cmd, "option '%s' needs a value", argv[optind - 1]);
        default: return cli_bad(cmd, "unknown option '%s' (see minima %s --help)", argv[optind - 1], cmd);
        }
        if (bad) return 1;
    }
    if (optind < argc) return cli_bad(cmd, "unexpected argument '%s'", argv[optind]);
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
    int loss_given = 0;
    for (int i = 1; i < argc; i++) loss_given |= !strncmp(argv[i], "--loss", 6);
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
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
