/* minima experiment eliminate: parse -> call -> print over the library's
 * plan (src/experiment/eliminate.c): does one added neuron remove bad local
 * minima in practice? One line per setting of the data x loss x defence
 * grid: how the runs ended, what the added neurons look like at the end,
 * and what a run costs. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment eliminate"

static const char intro[] =
    "usage: minima experiment eliminate [--data FILE.csv --label COL] [--restarts R] [--threads T]\n"
    "                                   [--db FILE] [--json] [--plot PREFIX] [--quick]\n"
    "\n"
    "Does one added neuron (Liang et al. 2018) remove bad local minima in practice? Runs the grid\n"
    "data x loss x defence through the sweep module (results in an SQLite database; a re-run\n"
    "resumes) and prints one line per setting:\n"
    "  data     separable, xor, spirals, teacher (10-d linear teacher), each also with 10% of\n"
    "           the labels flipped; or --data FILE.csv --label COL (standardised) and the same\n"
    "           with 10% flipped\n"
    "  loss     poly_hinge (meets the paper's assumption), logistic, squared (break it)\n"
    "  defence  none, liang (one output) or per-output (more than one), softplus\n"
    "           instead of relu, a wider network, the pgd optimiser\n"
    "\noptions:\n";

static double pct(const mn_summary *m, long k) { return m->n ? 100.0 * (double)k / (double)m->n : NAN; }

static void cell(FILE *f, double x, const char *fmt, int width)
{
    if (isfinite(x) || isinf(x))
        fprintf(f, fmt, width, x);
    else
        fprintf(f, "%*s", width, "-");
}

static void table(FILE *f, const mn_elim_cell *e, const mn_summary *s, int n)
{
    fprintf(f, "%-18s %-10s %-10s %4s %6s %6s %6s %6s %7s %7s %6s %6s %9s %9s %7s %7s %8s %6s\n", "data", "loss",
            "defence", "runs", "global", "best", "0-err", "spur.", "spur.bf", "sad/deg", "diverg", "n-conv", "med|a|", "med|a|e^b",
            "med b", "med it", "med ms", "us/it");
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        fprintf(f, "%-18s %-10s %-10s %4ld", e[i].data, e[i].loss, e[i].defence, m->n);
        cell(f, pct(m, m->count[MN_CLASS_GLOBAL]), " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_BEST_FOUND]), " %*.1f", 6);
        cell(f, m->with_accuracy ? pct(m, m->zero_error) : NAN, " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_SPURIOUS]), " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_SPURIOUS_VS_BEST]), " %*.1f", 7);
        cell(f, pct(m, m->count[MN_CLASS_SADDLE] + m->count[MN_CLASS_DEGENERATE]), " %*.1f", 7);
        cell(f, pct(m, m->count[MN_CLASS_DIVERGED]), " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_NOT_CONVERGED]), " %*.1f", 6);
        cell(f, m->median_abs_a, " %*.3g", 9);
        cell(f, m->median_abs_a_exp_b, " %*.3g", 9);
        cell(f, m->median_b, " %*.3g", 7);
        cell(f, m->median_iterations, " %*.0f", 7);
        cell(f, 1e3 * m->median_seconds, " %*.3g", 8);
        cell(f, 1e6 * m->median_seconds_per_iteration, " %*.3g", 6);
        fputc('\n', f);
    }
    fprintf(f,
            "(%% of runs: global = certified global, zero training error counting as global for the margin "
            "losses, and on realizable data the global value 0 for poly_hinge and logistic; best = a strict "
            "local minimum at the best loss any run of the setting found (the global value unknown: flipped "
            "labels, squared loss, CSV data; best found, not proven global); 0-err = training accuracy 1 "
            "(sign(f) = y, squared loss included) whatever the class; spur. = strict local minimum above the "
            "global value 0; spur.bf = strict local minimum above the best found; sad/deg = saddle or degenerate critical "
            "point; diverg = diverged: non-finite values, parameter norm past 1e8, or an added neuron "
            "drifting to infinity (|a| -> 0, b -> +inf; see the database's reason column); n-conv = not "
            "converged at the step cap (also: added neurons still active). med = median over the runs: "
            "|a|, |a| e^b and b of the added neuron with the largest |a| e^b at the end point, iterations, "
            "milliseconds per run, microseconds per iteration. realizable: separable, xor, teacher without flipped labels.)\n");
}

static void json_lines(FILE *f, const mn_elim_cell *e, const mn_summary *s, int n)
{
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        jw w;
        jw_begin(&w, f);
        jw_obj(&w, NULL);
        jw_str(&w, "data", e[i].data);
        if (e[i].realizable >= 0) jw_bool(&w, "realizable", e[i].realizable);
        jw_str(&w, "loss", e[i].loss);
        jw_str(&w, "defence", e[i].defence);
        jw_str(&w, "options", m->canon);
        jw_int(&w, "id", (long long)m->id);
        jw_int(&w, "runs", m->n);
        cli_classes_json(&w, m);
        jw_num(&w, "global", m->frac[MN_CLASS_GLOBAL]);
        jw_num(&w, "zero_error", m->with_accuracy && m->n ? (double)m->zero_error / (double)m->n : NAN);
        jw_num(&w, "spurious", m->frac[MN_CLASS_SPURIOUS]);
        jw_num(&w, "best_found", m->frac[MN_CLASS_BEST_FOUND]);
        jw_num(&w, "spurious_vs_best_found", m->frac[MN_CLASS_SPURIOUS_VS_BEST]);
        jw_num(&w, "best_loss", m->best_loss);
        jw_num(&w, "saddle_or_degenerate", m->n ? m->frac[MN_CLASS_SADDLE] + m->frac[MN_CLASS_DEGENERATE] : NAN);
        jw_num(&w, "diverged", m->frac[MN_CLASS_DIVERGED]);
        jw_num(&w, "not_converged", m->frac[MN_CLASS_NOT_CONVERGED]);
        jw_num(&w, "median_abs_a", m->median_abs_a);
        jw_num(&w, "median_abs_a_exp_b", m->median_abs_a_exp_b);
        jw_num(&w, "median_b", m->median_b);
        jw_num(&w, "median_iterations", m->median_iterations);
        jw_num(&w, "median_seconds", m->median_seconds);
        jw_num(&w, "median_seconds_per_iteration", m->median_seconds_per_iteration);
        jw_num(&w, "mean_seconds", m->mean_seconds);
        jw_end(&w); /* the outermost end writes the newline */
    }
}

typedef struct {
    mn_elim_plan plan;
    int json;
} elim_args;

static mn_status set_elim(void *ctx, const mn_option *d, const char *v)
{
    elim_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_elim_plan_set(&a->plan, d->name, v);
}

int cmd_experiment_eliminate(int argc, char **argv)
{
    elim_args a = {.json = 0};
    mn_elim_plan_default(&a.plan);
    a.plan.progress = stderr;
    const int r = cli_args(CMD, MN_CMD_ELIMINATE, intro, argc, argv, set_elim, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    mn_elim_result *res = NULL;
    if (mn_experiment_eliminate(&res, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_elim_result_free(res);
        return 0;
    }
    fprintf(stderr,
            "experiment eliminate: %d settings x %ld restarts: %ld runs done now, %ld already stored, %.3g s "
            "(database %s)\n",
            res->n, res->restarts, res->done, res->skipped, res->seconds, a.plan.db_path);
    if (a.json)
        json_lines(stdout, res->cells, res->summary, res->n);
    else
        table(stdout, res->cells, res->summary, res->n);
    mn_elim_result_free(res);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
