/* minima experiment balance: parse -> call -> print over the library's plan
 * (src/experiment/balance.c): the per-unit invariants of Du, Hu, Lee
 * (NeurIPS 2018) under GD at several steps, and matrix factorisation from
 * unbalanced starts. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment balance"

static const char intro[] =
    "usage: minima experiment balance [--acts LIST] [--steps LIST] [--horizon T] [--threads T] [--db FILE]\n"
    "                                 [--plot PREFIX] [--json] [--quick]\n"
    "\n"
    "Du, Hu, Lee (NeurIPS 2018): under gradient flow every hidden unit of a ReLU, leaky ReLU or\n"
    "linear network keeps I_j = |incoming weights and bias|^2 - |outgoing weights|^2. GD from one\n"
    "start of a 4-8-8-1 network (squared loss, 200 samples of the ReLU teacher) runs T / step\n"
    "iterations at each step; the drift of I_j over that fixed time should shrink in proportion\n"
    "to the step (tanh and sigmoid: no invariant, the controls). Then the factorisation\n"
    "W2 W1 = M (8 x 6, rank 2) from balanced and unbalanced starts: GD converges, and the\n"
    "imbalance B = W1 W1^T - W2^T W2 stays what it was. --db stores each run's end point.\n"
    "\noptions:\n";

typedef struct {
    mn_balance_plan plan;
    int json;
} bal_args;

static mn_status set_bal(void *ctx, const mn_option *d, const char *v)
{
    bal_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_balance_plan_set(&a->plan, d->name, v);
}

/* drift(step) / drift(previous, larger step) of row i (NaN for the first step). */
static double ratio(const mn_balance_result *r, int i, int nstep)
{
    return i % nstep ? r->rows[i].unit_drift / r->rows[i - 1].unit_drift : NAN;
}

int cmd_experiment_balance(int argc, char **argv)
{
    bal_args a = {.json = 0};
    mn_balance_plan_default(&a.plan);
    const int rc = cli_args(CMD, MN_CMD_BALANCE, intro, argc, argv, set_bal, NULL, &a);
    if (rc) return rc == 2 ? 0 : 1;
    mn_balance_result *r = NULL;
    if (mn_experiment_balance(&r, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_balance_result_free(r);
        return 0;
    }
    const int nstep = a.plan.nstep;
    int loaded = 0;
    for (int i = 0; i < r->n; i++) loaded += r->rows[i].loaded;
    fprintf(stderr, "experiment balance: %d runs (%d loaded from the database), %.3g s\n", r->n, loaded, r->seconds);
    if (a.json) {
        for (int i = 0; i < r->n; i++) {
            const mn_balance_row *w = &r->rows[i];
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_str(&j, "part", "invariants");
            jw_str(&j, "act", mn_act_name((mn_act)w->act));
            jw_num(&j, "step", w->step);
            jw_int(&j, "iterations", w->iterations);
            jw_num(&j, "horizon", a.plan.horizon);
            jw_num(&j, "loss0", w->loss0);
            jw_num(&j, "loss", w->loss);
            jw_num(&j, "unit_drift", w->unit_drift);
            jw_num(&j, "layer_drift", w->layer_drift);
            jw_num(&j, "unit_scale", w->unit_scale);
            jw_num(&j, "ratio_to_previous_step", ratio(r, i, nstep));
            jw_int(&j, "loaded", w->loaded);
            jw_end(&j);
        }
        for (int k = 0; k < MN_BALANCE_NMF; k++) {
            const mn_balance_mf *m = &r->mf[k];
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_str(&j, "part", "factorisation");
            jw_num(&j, "scale", m->scale);
            jw_num(&j, "step", m->step);
            jw_int(&j, "iterations", m->iterations);
            jw_num(&j, "loss0", m->loss0);
            jw_num(&j, "loss", m->loss);
            jw_num(&j, "imbalance0", m->imb0);
            jw_num(&j, "imbalance", m->imb);
            jw_num(&j, "imbalance_change", m->imb_change);
            jw_end(&j);
        }
    } else {
        printf("# 4-8-8-1, biases, squared loss, 200 ReLU-teacher samples; one start (seed %llu), GD for T = %g\n"
               "# (leaky_relu slope 0.1). unit_drift = max_j |I_j(T) - I_j(0)| over the 16 hidden units, layer_drift\n"
               "# = max_l |D_l(T) - D_l(0)|, D_l = |W_l|^2 + |b_l|^2 - |W_l+1|^2; ratio = drift / drift at the step before\n",
               (unsigned long long)a.plan.seed, a.plan.horizon);
        printf("%-11s %8s %9s %11s %11s %12s %12s %8s %10s\n", "act", "step", "iters", "loss0", "loss(T)",
               "unit_drift", "layer_drift", "ratio", "max|I(0)|");
        for (int i = 0; i < r->n; i++) {
            const mn_balance_row *w = &r->rows[i];
            printf("%-11s %8g %9ld %11.5g %11.5g %12.4g %12.4g %8.3f %10.4g\n", mn_act_name((mn_act)w->act), w->step,
                   w->iterations, w->loss0, w->loss, w->unit_drift, w->layer_drift, ratio(r, i, nstep), w->unit_scale);
        }
        printf("# factorisation W2 W1 = M (8 x 6, rank 2) as the 6-4-8 linear net on e_1..e_6; start 0.1 x the\n"
               "# documented initialisation, then W1 x s, W2 / s; GD until the loss is 1e-12 of its start\n");
        printf("%6s %8s %10s %11s %11s %12s %12s %14s\n", "s", "step", "iters", "loss0", "loss", "|B(0)|_F",
               "|B(end)|_F", "|B(end)-B(0)|");
        for (int k = 0; k < MN_BALANCE_NMF; k++) {
            const mn_balance_mf *m = &r->mf[k];
            printf("%6g %8g %10ld %11.5g %11.3g %12.5g %12.5g %14.3g\n", m->scale, m->step, m->iterations, m->loss0,
                   m->loss, m->imb0, m->imb, m->imb_change);
        }
    }
    mn_balance_result_free(r);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
