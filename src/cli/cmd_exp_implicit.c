/* minima experiment implicit-bias: parse -> call -> print over the
 * library's plan (src/experiment/implicit_bias.c): Gunasekar, Lee, Soudry
 * & Srebro (NeurIPS 2018), the direction GD's linear predictor takes. One
 * table row per (network, depth), or one JSON object per line with --json. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment implicit-bias"

static const char intro[] =
    "usage: minima experiment implicit-bias [--quick] [--depth LIST] [--nets fc,conv] [--restarts R]\n"
    "                                       [--max-iter N] [--lr X] [--db FILE] [--json] [--plot PREFIX]\n"
    "\n"
    "Gunasekar, Lee, Soudry & Srebro (NeurIPS 2018): on separable data (x ~ N(0, I_d), y = sign <x, w*>,\n"
    "w* one cosine (--teacher frequency, the default) or Gaussian (--teacher gaussian))\n"
    "plain GD on the logistic loss of an L-layer linear network without biases, from minima's random\n"
    "start. The end-to-end predictor beta (f(x) = <x, beta>) should turn towards\n"
    "  fc    (dense layers)                     the hard-margin SVM direction, whatever L;\n"
    "  conv  (L-1 full-width circular conv1d)   a stationary point of min ||DFT(beta)||_{2/L} s.t.\n"
    "        margins >= 1: for L = 2 the l1-in-frequency max-margin predictor, solved here as a GLPK\n"
    "        LP (|z| replaced by an M-gon: within a factor 1/cos(pi/M)); sparser in frequency as L grows.\n"
    "The SVM is solved by dual coordinate ascent and checked by its KKT conditions. --db stores every\n"
    "run with its end point; a re-run loads what is stored. --json: one object per data set (\"record\":\n"
    "\"data_set\": the solvers' checks), then one per row (\"record\": \"row\").\n"
    "\noptions:\n";

typedef struct {
    mn_ib_plan plan;
    int json;
} args;

static mn_status set(void *ctx, const mn_option *d, const char *v)
{
    args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_ib_plan_set(&a->plan, d->name, v);
}

int cmd_experiment_implicit_bias(int argc, char **argv)
{
    args a = {.json = 0};
    mn_ib_plan_default(&a.plan);
    const int r = cli_args(CMD, MN_CMD_IMPLICIT, intro, argc, argv, set, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    const double t0 = omp_get_wtime();
    mn_ib_result *res = NULL;
    if (mn_experiment_implicit_bias(&res, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_ib_result_free(res);
        return 0;
    }
    const mn_ib_plan *p = &res->plan;
    if (a.json) {
        for (int s = 0; s < res->ndata; s++) {
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_str(&j, "record", "data_set");
            jw_int(&j, "data_set", s);
            jw_num(&j, "svm_min_margin", res->svm[s].min_margin);
            jw_num(&j, "svm_slackness", res->svm[s].slackness);
            jw_num(&j, "svm_duality_gap", res->svm[s].gap);
            jw_int(&j, "svm_support", res->svm[s].support);
            jw_int(&j, "svm_sweeps", res->svm[s].sweeps);
            jw_num(&j, "l1_lp_value", res->l1[s].lower);
            jw_num(&j, "l1_of_lp_beta", res->l1[s].upper);
            jw_num(&j, "l1_bound", res->l1[s].bound);
            jw_num(&j, "l1_min_margin", res->l1[s].min_margin);
            jw_end(&j);
        }
    } else {
        printf("# Gunasekar et al.: GD (step %g, %ld steps) on the logistic loss, d = %d, n = %d, %s teacher, %d data set(s), seed %llu%s%s\n",
               p->lr, p->max_iter, p->d, p->n, p->teacher_freq ? "frequency" : "gaussian", res->ndata, (unsigned long long)p->seed, p->db_path ? "; database " : "",
               p->db_path ? p->db_path : "");
        for (int s = 0; s < res->ndata; s++)
            printf("# data set %d: SVM min margin %.12f, slackness %.2g, duality gap %.2g, %d support vectors, %ld sweeps;\n"
                   "#   l1-DFT LP: value %.6f <= optimum <= %.6f (guarantee x%.6f), min margin %.9f\n",
                   s, res->svm[s].min_margin, res->svm[s].slackness, res->svm[s].gap, res->svm[s].support,
                   res->svm[s].sweeps, res->l1[s].lower, res->l1[s].upper, res->l1[s].bound, res->l1[s].min_margin);
        printf("# effective frequencies (sum|b|)^2/sum|b|^2 of b = DFT(beta), 1..%d: SVM %.2f, l1-DFT LP %.2f\n"
               "%-5s %5s %5s %9s %9s %9s %9s %8s %8s %8s %10s %8s %8s\n",
               p->d, res->svm_eff, res->l1_eff, "net", "L", "runs", "cos_svm", "min", "cos_l1", "min", "eff_freq", "l2/svm", "l1/lp",
               "max_loss", "min_acc", "seconds");
    }
    for (int i = 0; i < res->n; i++) {
        const mn_ib_row *w = &res->rows[i];
        if (a.json) {
            jw j;
            jw_begin(&j, stdout);
            jw_obj(&j, NULL);
            jw_str(&j, "record", "row");
            jw_str(&j, "net", w->conv ? "conv" : "fc");
            jw_int(&j, "depth", w->depth);
            jw_int(&j, "restarts", w->restarts);
            jw_num(&j, "cos_svm_mean", w->cos_svm_mean);
            jw_num(&j, "cos_svm_min", w->cos_svm_min);
            if (isfinite(w->cos_l1_mean)) jw_num(&j, "cos_l1_mean", w->cos_l1_mean), jw_num(&j, "cos_l1_min", w->cos_l1_min);
            jw_num(&j, "eff_freq", w->eff_freq);
            jw_num(&j, "l2_ratio", w->l2_ratio);
            jw_num(&j, "l1_ratio", w->l1_ratio);
            jw_num(&j, "loss_max", w->loss_max);
            jw_num(&j, "accuracy_min", w->acc_min);
            jw_int(&j, "loaded", w->loaded);
            jw_num(&j, "seconds", w->seconds);
            jw_end(&j);
        } else {
            printf("%-5s %5d %5d %9.6f %9.6f", w->conv ? "conv" : "fc", w->depth, w->restarts, w->cos_svm_mean, w->cos_svm_min);
            if (isfinite(w->cos_l1_mean)) printf(" %9.6f %9.6f", w->cos_l1_mean, w->cos_l1_min);
            else printf(" %9s %9s", "-", "-");
            printf(" %8.2f", w->eff_freq);
            for (int k = 0; k < 2; k++) { /* NaN: beta does not separate a data set */
                const double v = k ? w->l1_ratio : w->l2_ratio;
                if (isfinite(v)) printf(" %8.4f", v);
                else printf(" %8s", "-");
            }
            printf(" %10.3g %8.3f %8.2f\n", w->loss_max, w->acc_min, w->seconds);
        }
    }
    if (!a.json)
        printf("# (cos_svm, cos_l1: cosine of GD's beta to the SVM / l1-DFT LP solution, mean and min over the data\n"
               "# sets; eff_freq: mean effective number of frequencies of beta; l2/svm, l1/lp: beta scaled to margin 1,\n"
               "# its norm over the SVM's and its l1-DFT norm over the LP's value, largest over the data sets (1 at\n"
               "# the predicted optimum); loss, accuracy: training, at the end.)\n"
               "# runs done %ld, loaded %ld; total wall time %.2f s\n",
               res->done, res->skipped, omp_get_wtime() - t0);
    mn_ib_result_free(res);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
