/* minima experiment residual: parse -> call -> print over the library's
 * plan (src/experiment/residual.c): Bartlett, Helmbold & Long (ICML 2018),
 * GD from the identity on deep linear residual networks. One table row per
 * (family, depth, parameter), or one JSON object per line with --json. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment residual"

static const char intro[] =
    "usage: minima experiment residual [--quick] [--depth LIST] [--kappa LIST] [--mu LIST] [--dist LIST]\n"
    "                                  [--restarts R] [--db FILE] [--json] [--plot PREFIX]\n"
    "\n"
    "Bartlett, Helmbold & Long (ICML 2018): h(x) = Theta_L ... Theta_1 x with every Theta_i = I at\n"
    "the start, plain GD on the population loss (1/2)||Theta_L ... Theta_1 - Phi||_F^2 (isotropic\n"
    "inputs), step C / (L max(1, ||Phi||_2)^2), until the loss is <= eps or --max-iter steps. Targets\n"
    "Phi (d x d, random eigenvectors or directions from --seed):\n"
    "  pd        symmetric positive definite, condition number kappa (eigenvalues kappa^-1/2..kappa^1/2)\n"
    "  negative  symmetric, one eigenvalue -mu, the others 0.5..2: for L >= 2 the loss of GD from the\n"
    "            identity never goes below its floor mu^2/2 (docs/residual.md)\n"
    "  distance  I + s G / ||G||_2, G Gaussian (not symmetric)\n"
    "--db stores every run (its end point too) and a re-run loads what is stored.\n"
    "\noptions:\n";

typedef struct {
    mn_resid_plan plan;
    int json;
} args;

static mn_status set(void *ctx, const mn_option *d, const char *v)
{
    args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_resid_plan_set(&a->plan, d->name, v);
}

static void cell(double x, const char *fmt, int width)
{
    if (isfinite(x))
        printf(fmt, width, x);
    else
        printf(" %*s", width, "-");
}

int cmd_experiment_residual(int argc, char **argv)
{
    args a = {.json = 0};
    mn_resid_plan_default(&a.plan);
    const int r = cli_args(CMD, MN_CMD_RESIDUAL, intro, argc, argv, set, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    const double t0 = omp_get_wtime();
    mn_resid_result *res = NULL;
    if (mn_experiment_residual(&res, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_resid_result_free(res);
        return 0;
    }
    const mn_resid_plan *p = &res->plan;
    if (!a.json)
        printf("# Bartlett, Helmbold & Long: GD from Theta_i = I on (1/2)||Theta_L..Theta_1 - Phi||^2, d = %d,\n"
               "# step %g / (L max(1, ||Phi||)^2), converged: loss <= %g within %ld steps; %d target(s) per row, seed %llu%s%s\n"
               "%-8s %5s %7s %5s %5s %6s %10s %9s %11s %11s %6s %11s %10s %7s\n",
               p->d, p->step_scale, p->eps, p->max_iter, p->restarts, (unsigned long long)p->seed,
               p->db_path ? "; database " : "", p->db_path ? p->db_path : "", "family", "L", "param", "runs", "det<0", "conv",
               "med_steps", "max_steps", "max_loss", "floor", "above", "min_gap", "asym", "seconds");
    for (int i = 0; i < res->n; i++) {
        const mn_resid_row *w = &res->rows[i];
        const char *fam = mn_resid_family_name(w->family);
        const int floored = w->family == MN_RESID_NEGATIVE && w->depth >= 2;
        if (a.json) {
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_str(&j, "family", fam);
            jw_int(&j, "depth", w->depth);
            jw_num(&j, w->family == MN_RESID_PD ? "kappa" : w->family == MN_RESID_NEGATIVE ? "mu" : "s", w->param);
            jw_int(&j, "restarts", w->restarts);
            jw_int(&j, "converged", w->converged);
            jw_int(&j, "negative_det", w->neg_det);
            jw_num(&j, "steps_median", w->iter_median);
            jw_int(&j, "steps_max", w->iter_max);
            jw_num(&j, "loss_max", w->loss_max);
            jw_num(&j, "floor", w->floor);
            if (floored) jw_int(&j, "above_floor", w->above_floor);
            jw_num(&j, "gap_min", w->gap_min);
            jw_num(&j, "asymmetry", w->asym);
            jw_num(&j, "step", w->step);
            jw_int(&j, "loaded", w->loaded);
            jw_num(&j, "seconds", w->seconds);
            jw_end(&j);
        } else {
            printf("%-8s %5d %7g %5d %5d %6d", fam, w->depth, w->param, w->restarts, w->neg_det, w->converged);
            cell(w->iter_median, " %*.0f", 10);
            if (w->iter_max >= 0) printf(" %9ld", w->iter_max);
            else printf(" %9s", "-");
            cell(w->loss_max, " %*.4g", 11);
            cell(w->floor, " %*.4g", 11);
            if (floored) printf(" %4d/%-1d", w->above_floor, w->restarts);
            else printf(" %6s", "-");
            cell(w->gap_min, " %*.3g", 11);
            cell(w->asym, " %*.2g", 10);
            printf(" %7.2f\n", w->seconds);
        }
    }
    if (!a.json)
        printf("# (runs: targets Phi; det<0: targets with a negative determinant; conv: runs reaching loss <= eps; steps over the converged runs; max_loss: the\n"
               "# largest over the runs of each run's lowest loss; floor: (1/2) sum of the squared negative eigenvalues\n"
               "# of Phi, proven for L >= 2; above: runs whose loss never went below it; min_gap: least (lowest loss -\n"
               "# floor) / floor; asym: largest max_i ||Theta_i - Theta_1|| / ||Theta_1|| at the end point.)\n"
               "# runs done %ld, loaded %ld; total wall time %.2f s\n",
               res->done, res->skipped, omp_get_wtime() - t0);
    mn_resid_result_free(res);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
