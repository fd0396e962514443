/* minima experiment arena: parse -> call -> print over the library's plan
 * (src/experiment/arena.c): every defence, under GD and L-BFGS, judged on
 * the network with the defence removed. One line per setting. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment arena"

static const char intro[] =
    "usage: minima experiment arena [--restarts R] [--threads T] [--db FILE] [--json] [--plot PREFIX] [--quick]\n"
    "                               [--lambda LIST]\n"
    "\n"
    "The attack-defence arena: every defence the papers propose on the same data, under GD and\n"
    "L-BFGS, judged alike -- on the original network after the defence is removed (the added\n"
    "neuron dropped; extra width or another activation kept), with the certificate of a plain run.\n"
    "  data      separable (2-d), xor, iris, breast_cancer, wine (standardised; iris and wine one\n"
    "            output per class; --quick: no breast_cancer, wine); polynomial hinge loss, d-4-K\n"
    "            ReLU base network; also the logistic and squared losses on separable and xor\n"
    "  defences  none, softplus, the eliminating neuron (one per output where K > 1) with lambda\n"
    "            0.01 / 0.1 / 1 / 10 (--lambda), width N/4 and N (N samples; breast_cancer also\n"
    "            N/16, N/2, 2N), perturbed GD\n"
    "  Du & Lee  quadratic activation, squared loss, hidden units k through sqrt(2n)\n"
    "Results go to an SQLite database (a re-run resumes).\n"
    "\noptions:\n";

static double pct(const mn_summary *m, long k) { return m->n ? 100.0 * (double)k / (double)m->n : NAN; }

static void num(FILE *f, double x, const char *fmt, int width)
{
    if (isfinite(x))
        fprintf(f, fmt, width, x);
    else
        fprintf(f, "%*s", width, "-");
}

static void table(FILE *f, const mn_arena_result *r)
{
    fprintf(f, "%-20s %-13s %-5s %4s %6s %6s %6s %7s %6s %6s %7s %6s\n", "data", "defence", "opt", "runs",
            "0-err", "global", "spur.", "sad/deg", "diverg", "n-conv", "med it", "us/it");
    for (int i = 0; i < r->n; i++) {
        const mn_summary *m = &r->summary[i];
        const mn_arena_cell *c = &r->cells[i];
        fprintf(f, "%-20s %-13s %-5s %4ld", c->data, c->defence, c->optimizer, m->n);
        num(f, m->with_accuracy ? pct(m, m->zero_error) : NAN, " %*.1f", 6);
        num(f, pct(m, m->count[MN_CLASS_GLOBAL]), " %*.1f", 6);
        num(f, pct(m, m->count[MN_CLASS_SPURIOUS]), " %*.1f", 6);
        num(f, pct(m, m->count[MN_CLASS_SADDLE] + m->count[MN_CLASS_DEGENERATE]), " %*.1f", 7);
        num(f, pct(m, m->count[MN_CLASS_DIVERGED]), " %*.1f", 6);
        num(f, pct(m, m->count[MN_CLASS_NOT_CONVERGED]), " %*.1f", 6);
        num(f, m->median_iterations, " %*.0f", 7);
        num(f, 1e6 * m->median_seconds_per_iteration, " %*.3g", 6);
        fputc('\n', f);
    }
    fprintf(f,
            "(%% of runs, every run judged on the network with the defence removed (the added neuron "
            "dropped) by the certificate of a plain run: 0-err = zero training error after removal (sign(f) = y; "
            "any class, diverged runs included where the outputs are finite); global = certified global (zero "
            "training error counts for the hinge loss; loss <= 1e-6 for the squared loss); spur. = strict local "
            "minimum above the global value; sad/deg = saddle or degenerate critical point; diverg = diverged "
            "(non-finite values, parameter norm past 1e8, or an added neuron drifting to infinity); n-conv = "
            "not at a critical point at the step cap. med it = median iterations; us/it = median microseconds "
            "per iteration. Du & Lee: sqrt(2n) = %.3g.)\n",
            sqrt(2.0 * r->dulee_n));
}

static void json_lines(FILE *f, const mn_arena_result *r)
{
    for (int i = 0; i < r->n; i++) {
        const mn_summary *m = &r->summary[i];
        const mn_arena_cell *c = &r->cells[i];
        jw w;
        jw_begin(&w, f);
        jw_obj(&w, NULL);
        jw_str(&w, "data", c->data);
        jw_str(&w, "family", c->family);
        jw_str(&w, "defence", c->defence);
        jw_str(&w, "optimizer", c->optimizer);
        jw_num(&w, "param", c->param);
        jw_str(&w, "options", m->canon);
        jw_int(&w, "id", (long long)m->id);
        jw_int(&w, "runs", m->n);
        cli_classes_json(&w, m);
        jw_num(&w, "zero_error", m->with_accuracy && m->n ? (double)m->zero_error / (double)m->n : NAN);
        jw_num(&w, "global", m->frac[MN_CLASS_GLOBAL]);
        jw_num(&w, "spurious", m->frac[MN_CLASS_SPURIOUS]);
        jw_num(&w, "diverged", m->frac[MN_CLASS_DIVERGED]);
        jw_num(&w, "not_converged", m->frac[MN_CLASS_NOT_CONVERGED]);
        jw_num(&w, "median_iterations", m->median_iterations);
        jw_num(&w, "median_seconds_per_iteration", m->median_seconds_per_iteration);
        jw_end(&w);
    }
}

typedef struct {
    mn_arena_plan plan;
    int json;
} arena_args;

static mn_status set_arena(void *ctx, const mn_option *d, const char *v)
{
    arena_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_arena_plan_set(&a->plan, d->name, v);
}

int cmd_experiment_arena(int argc, char **argv)
{
    arena_args a = {.json = 0};
    mn_arena_plan_default(&a.plan);
    a.plan.progress = stderr;
    const int r = cli_args(CMD, MN_CMD_ARENA, intro, argc, argv, set_arena, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    mn_arena_result *res = NULL;
    if (mn_experiment_arena(&res, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_arena_result_free(res);
        return 0;
    }
    fprintf(stderr,
            "experiment arena: %d settings x %ld restarts: %ld runs done now, %ld already stored, %.3g s "
            "(database %s)\n",
            res->n, res->restarts, res->done, res->skipped, res->seconds, a.plan.db_path);
    if (a.json)
        json_lines(stdout, res);
    else
        table(stdout, res);
    mn_arena_result_free(res);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
