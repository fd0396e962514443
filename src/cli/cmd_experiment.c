/* minima experiment safran-shamir: Tables 1 and 2 of Safran & Shamir (ICML
 * 2018) on the closed-form population loss (include/minima/popul.h): per
 * (k, n = k + extra) row, `restarts` GD runs from Xavier initialisations,
 * classified global / spurious / saddle / degenerate / not-converged / diverged.
 * One table row per line, or one JSON object per line with --json. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

typedef struct {
    mn_ss_plan plan;
    int json;
    int quiet; /* --quiet: no progress line */
} exp_args;

static const char intro[] =
    "usage: minima experiment safran-shamir [options]\n"
    "\n"
    "Safran & Shamir (ICML 2018), Tables 1 (n = k) and 2 (n = k + 1): a student of n ReLU\n"
    "units fit to the teacher V = I_k under x ~ N(0, I_k) on the exact population loss;\n"
    "Xavier init, plain GD with step 5/n until ||grad|| <= 1e-9; a converged point with\n"
    "F >= 1e-3 and a positive definite Hessian is a spurious local minimum. Run r of row\n"
    "(k, n) uses the seed mn_seed_derive(S, {k, n, r}); --db stores every run in a sweep\n"
    "database (created if absent) and loads the runs already there, so a killed experiment\n"
    "resumes where it stopped.\n\noptions:\n";

static mn_status set_exp(void *ctx, const mn_option *d, const char *v)
{
    exp_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    if (!strcmp(d->name, "quiet")) return a->quiet = 1, MN_OK;
    return mn_ss_plan_set(&a->plan, d->name, v);
}


/* The progress line on stderr: rows and runs done, rate, elapsed time and
 * an estimate of the rest from the pace of the runs done here so far (the
 * largest rows run first, so it errs long): redrawn at most twice a second
 * on a terminal, else (an MPI job's rank 0: its stderr is a pipe) one line
 * every 5 s. */
typedef struct {
    double t0, last;
    long first; /* runs done before the first run here (loaded) */
    int tty;
} progress;

static void show_progress(void *ctx, long runs_done, long runs_total, int rows_done, int rows_total)
{
    progress *p = ctx;
    const double t = omp_get_wtime() - p->t0;
    if (p->first < 0) p->first = runs_done - 1;
    if (runs_done < runs_total && t - p->last < (p->tty ? 0.5 : 5.0)) return;
    p->last = t;
    const double rate = (double)(runs_done - p->first) / (t > 1e-9 ? t : 1e-9);
    fprintf(stderr, "%ssafran-shamir: rows %d/%d, runs %ld/%ld, %.3g runs/s, %.0f s elapsed, ~%.0f s left%s",
            p->tty ? "\r" : "", rows_done, rows_total, runs_done, runs_total, rate, t,
            (double)(runs_total - runs_done) / rate, p->tty ? " \033[K" : "\n");
    if (p->tty && runs_done == runs_total) fputc('\n', stderr);
    fflush(stderr);
}

/* Row i of res (its proofs with --prove). */
static void print_row(const exp_args *o, const mn_ss_result *res, int i)
{
    const mn_popul_row *r = &res->rows[i];
    const mn_popul_spec *spec = &res->specs[i];
    const double m = r->restarts;
    if (o->json) {
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        jw_int(&w, "k", r->k);
        jw_int(&w, "n", r->n);
        jw_int(&w, "restarts", r->restarts);
        jw_str(&w, "eliminate", spec->elim ? "liang" : "none");
        jw_num(&w, "spurious_pct", r->spurious_pct);
        jw_num(&w, "spurious_lo", r->spurious_lo);
        jw_num(&w, "spurious_hi", r->spurious_hi);
        jw_num(&w, "mean_lambda_min", r->mean_lambda_min);
        jw_num(&w, "mean_loss", r->mean_loss);
        jw_int(&w, "distinct", r->distinct);
        jw_num(&w, "global_pct", 100 * r->count[MN_CLASS_GLOBAL] / m);
        jw_num(&w, "saddle_pct", 100 * r->count[MN_CLASS_SADDLE] / m);
        jw_num(&w, "degenerate_pct", 100 * r->count[MN_CLASS_DEGENERATE] / m);
        jw_num(&w, "not_converged_pct", 100 * r->count[MN_CLASS_NOT_CONVERGED] / m);
        jw_num(&w, "diverged_pct", 100 * r->count[MN_CLASS_DIVERGED] / m);
        jw_int(&w, "early_global", r->early);
        jw_int(&w, "polished", r->polished);
        jw_int(&w, "gd_steps", r->steps);
        if (spec->elim) {
            jw_num(&w, "lambda", spec->lambda);
            jw_num(&w, "median_abs_a", r->median_abs_a);
            jw_num(&w, "median_a_exp_b", r->median_a_exp_b);
            jw_num(&w, "median_b", r->median_b);
            jw_num(&w, "median_c_norm", r->median_c_norm);
        }
        jw_int(&w, "loaded", r->loaded);
        if (res->proofs) {
            jw_int(&w, "proved", res->nproved[i]);
            jw_arr(&w, "not_proved");
            for (int d = 0; d < res->nproofs[i]; d++)
                if (!res->proofs[i][d].spurious) {
                    jw_obj(&w, NULL);
                    jw_int(&w, "minimum", d);
                    jw_str(&w, "reason", res->proofs[i][d].reason);
                    jw_end(&w);
                }
            jw_end(&w);
            jw_num(&w, "prove_seconds", res->prove_seconds[i]);
        }
        /* timings last: comparisons cut from "seconds" on */
        jw_num(&w, "seconds", r->seconds);
        jw_num(&w, "run_seconds", r->run_seconds);
        jw_end(&w);
    } else {
        printf("%4d %4d %6d %9.1f  [%5.1f, %5.1f] %10.5f %9.5f %8d %8.1f %7.1f %7.1f %8.1f %9.1f", r->k, r->n,
               r->restarts, r->spurious_pct, r->spurious_lo, r->spurious_hi, r->mean_lambda_min, r->mean_loss,
               r->distinct, 100 * r->count[MN_CLASS_GLOBAL] / m, 100 * r->count[MN_CLASS_SADDLE] / m,
               100 * r->count[MN_CLASS_DEGENERATE] / m,
               100 * r->count[MN_CLASS_NOT_CONVERGED] / m, 100 * r->count[MN_CLASS_DIVERGED] / m);
        if (o->plan.nelim > 1 || o->plan.elim[0]) {
            if (spec->elim)
                printf(" %5s %8.3g %8.3g %8.3g %9.3g", "liang", r->median_abs_a, r->median_b, r->median_c_norm,
                       r->median_a_exp_b);
            else
                printf(" %5s %8s %8s %8s %9s", "none", "-", "-", "-", "-");
        }
        if (res->proofs) printf(" %4d/%-3d", res->nproved[i], res->nproofs[i]);
        printf(" %8.2f\n", r->seconds);
        for (int d = 0; res->proofs && d < res->nproofs[i]; d++)
            if (!res->proofs[i][d].spurious)
                printf("#   minimum %d of k = %d, n = %d not proved spurious: %s\n", d, r->k, r->n,
                       res->proofs[i][d].reason);
    }
    fflush(stdout);
}

int cmd_experiment_safran_shamir(int argc, char **argv)
{
    exp_args a = {.json = 0};
    mn_ss_plan_default(&a.plan);
    const int r = cli_args("experiment safran-shamir", MN_CMD_SAFRAN, intro, argc, argv, set_exp, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    if (mn_ss_plan_check(&a.plan)) return cli_error("experiment safran-shamir");
    const double t0 = omp_get_wtime();
    progress prog = {.t0 = t0, .last = -1, .first = -1, .tty = isatty(STDERR_FILENO)};
    if (!a.quiet && (prog.tty || mn_dist_size() > 1))
        a.plan.opts.progress = show_progress, a.plan.opts.progress_ctx = &prog;
    const mn_ss_plan *p = &a.plan;
    mn_ss_result *res = NULL;
    if (mn_experiment_safran_shamir(&res, p)) return cli_error("experiment safran-shamir");
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_ss_result_free(res);
        return 0;
    }
    const int any_elim = p->nelim > 1 || p->elim[0];
    if (!a.json) {
        char step[32] = "5/n";
        if (p->opts.step > 0) snprintf(step, sizeof step, "%g", p->opts.step);
        printf("# Safran & Shamir (ICML 2018): n = k + extra ReLU units vs teacher V = I_k, x ~ N(0, I_k);\n"
               "# Xavier init, GD step %s to ||grad|| <= %g; spurious: F >= %g and Hessian > %g I.\n"
               "# %d restarts per row, seed %llu%s",
               step, p->opts.gtol, p->opts.global_tol, MN_EIG_TOL, p->restarts, (unsigned long long)p->seed,
               p->opts.newton ? "; shortcuts: early global (F < 1e-3), certified Newton polish" : "; no shortcuts");
        if (any_elim) printf("; eliminator: Liang a*exp(c.x+b), lambda %g", p->lambda);
        if (p->db_path) printf("; database %s", p->db_path);
        printf("\n%4s %4s %6s %9s  %14s %10s %9s %8s %8s %7s %7s %8s %9s", "k", "n", "runs", "spur%", "[95% Wilson]",
               "mean_lmin", "mean_F", "distinct", "global%", "saddle%", "degen%", "noconv%", "diverged%");
        if (any_elim) printf(" %5s %8s %8s %8s %9s", "elim", "med|a|", "med_b", "med|c|", "med_a*e^b");
        if (p->prove) printf(" %8s", "proved");
        printf(" %8s\n", "seconds"); /* a row's wall span: rows run as one pool, their spans overlap */
    }
    for (int i = 0; i < res->n; i++) print_row(&a, res, i);
    if (!a.json && res->proofs) {
        int nproved = 0, nfound = 0;
        for (int i = 0; i < res->n; i++) nproved += res->nproved[i], nfound += res->nproofs[i];
        printf("# proofs: %d of %d distinct spurious minima proved spurious, %.2f s wall\n", nproved, nfound,
               res->prove_total_seconds);
    }
    if (!a.json) printf("# total wall time %.2f s\n", omp_get_wtime() - t0);
    mn_ss_result_free(res);
    return fflush(stdout) ? cli_bad("experiment safran-shamir", "cannot write the output") : 0;
}

/* Every experiment, in the order `minima --help` and `minima experiment
 * --help` list them: the dispatcher and both help lists read this one
 * table, so a new experiment is one line here. */
static const struct {
    const char *name;
    int (*run)(int argc, char **argv); /* argv[0] is the name */
    const char *about;
} experiments[] = {
    {"safran-shamir", cmd_experiment_safran_shamir,
     "Safran-Shamir Tables 1-2: spurious minima of two-layer ReLU nets, population loss"},
    {"eliminate", cmd_experiment_eliminate, "does Liang et al.'s added neuron remove bad minima of gradient descent?"},
    {"karhadkar", cmd_experiment_karhadkar, "random activation regions of full Jacobian rank (Karhadkar et al.)"},
    {"liu", cmd_experiment_liu, "genuine bad minima of activation regions, and the cells gradient descent visits (Liu)"},
    {"arena", cmd_experiment_arena, "every defence against the attacks and real data, judged alike on the network without it"},
    {"saddles", cmd_experiment_saddles, "GD vs perturbed GD through a chain of saddles (Du et al. 2017)"},
    {"balance", cmd_experiment_balance, "layers stay balanced under gradient descent (Du, Hu, Lee 2018)"},
    {"residual", cmd_experiment_residual, "identity-initialised deep linear residual nets (Bartlett, Helmbold, Long)"},
    {"implicit-bias", cmd_experiment_implicit_bias, "the direction GD picks: fully connected vs convolutional (Gunasekar et al. 2018)"},
};
#define NEXPERIMENT ((int)(sizeof experiments / sizeof *experiments))

void cli_experiment_list(FILE *f, const char *indent)
{
    for (int i = 0; i < NEXPERIMENT; i++) fprintf(f, "%s%-14s %s\n", indent, experiments[i].name, experiments[i].about);
}

static void experiment_names(char *buf, size_t len)
{
    size_t o = 0;
    buf[0] = '\0';
    for (int i = 0; i < NEXPERIMENT && o < len; i++)
        o += (size_t)snprintf(buf + o, len - o, "%s%s", i ? ", " : "", experiments[i].name);
}

int cmd_experiment(int argc, char **argv)
{
    char names[512];
    experiment_names(names, sizeof names);
    if (argc < 2 || (argv[1][0] == '-' && strcmp(argv[1], "--help") && strcmp(argv[1], "-h")))
        return cli_bad("experiment", "which experiment? (minima experiment NAME [options], NAME one of %s)", names);
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        printf("usage: minima experiment NAME [options]   (minima experiment NAME --help for its options)\n\n"
               "experiments:\n");
        cli_experiment_list(stdout, "  ");
        return 0;
    }
    for (int i = 0; i < NEXPERIMENT; i++)
        if (!strcmp(argv[1], experiments[i].name)) return experiments[i].run(argc - 1, argv + 1);
    return cli_bad("experiment", "unknown experiment '%s' (available: %s)", argv[1], names);
}
