/* minima experiment saddles: parse -> call -> print over the library's plan
 * (src/experiment/saddles.c): GD against perturbed GD on the octopus's
 * chain of saddles (Du et al., NeurIPS 2017), then near the certified
 * saddle of a linear network. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define CMD "experiment saddles"

static const char intro[] =
    "usage: minima experiment saddles [--dims LIST] [--restarts R] [--db FILE] [--plot PREFIX] [--json] [--quick]\n"
    "\n"
    "Du, Jin, Lee, Jordan, Poczos, Singh (NeurIPS 2017): GD can take exponential time to escape\n"
    "saddle points, perturbed GD (Jin et al. 2017) cannot. On the octopus (docs/saddles.md), a\n"
    "chain of d strict saddles, GD and PGD (same step c / ell, same random starts near the first\n"
    "saddle) are timed through every saddle: iterations to pass saddle i (|x_i| >= s1) after\n"
    "passing saddle i - 1. Then both start at distance delta from the certified saddle at the\n"
    "origin of a 4-4-1 linear network; iterations until the loss is 1% below the saddle's.\n"
    "--db stores every run (one setting per d, method, saddle) and a re-run resumes.\n"
    "\noptions:\n";

typedef struct {
    mn_saddles_plan plan;
    int json;
} sad_args;

static mn_status set_sad(void *ctx, const mn_option *d, const char *v)
{
    sad_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    return mn_saddles_plan_set(&a->plan, d->name, v);
}

/* An iteration count, or "never" for one that did not happen. */
static void iters(char *buf, size_t n, double v)
{
    if (isfinite(v))
        snprintf(buf, n, "%.0f", v);
    else
        snprintf(buf, n, "never");
}

static void json_rows(const mn_saddles_result *r)
{
    for (int k = 0; k < r->n; k++) {
        const mn_saddles_row *w = &r->rows[k];
        jw j;
        jw_begin(&j, stdout);
        jw_obj(&j, NULL);
        jw_str(&j, "part", "octopus");
        jw_int(&j, "d", w->d);
        jw_str(&j, "method", w->pgd ? "pgd" : "gd");
        jw_int(&j, "restarts", w->restarts);
        jw_num(&j, "median_total", w->med_total);
        jw_nums(&j, "median_escape", w->med, (size_t)w->d);
        jw_nums(&j, "q1_escape", w->q1, (size_t)w->d);
        jw_nums(&j, "q3_escape", w->q3, (size_t)w->d);
        jw_arr(&j, "not_passed");
        for (int i = 0; i < w->d; i++) jw_int(&j, NULL, w->not_passed[i]);
        jw_end(&j);
        jw_int(&j, "stuck", w->stuck);
        jw_int(&j, "subnormal", w->subnormal);
        jw_int(&j, "loaded", w->loaded);
        if (!w->pgd) jw_num(&j, "growth_theory", r->growth);
        jw_end(&j);
    }
    if (r->has_net) {
        const mn_saddles_net *n = &r->net;
        jw j;
        jw_begin(&j, stdout);
        jw_obj(&j, NULL);
        jw_str(&j, "part", "network");
        jw_str(&j, "arch", n->arch);
        jw_str(&j, "class", mn_class_name(n->cert.cls));
        jw_num(&j, "loss", n->cert.loss);
        jw_num(&j, "lambda_min", n->cert.lambda_min);
        jw_num(&j, "lambda_max", n->cert.lambda_max);
        jw_num(&j, "step", n->step);
        jw_nums(&j, "delta", n->delta, MN_SADDLES_NDELTA);
        jw_arr(&j, "gd");
        for (int k = 0; k < MN_SADDLES_NDELTA; k++) jw_int(&j, NULL, n->gd[k]);
        jw_end(&j);
        jw_arr(&j, "pgd");
        for (int k = 0; k < MN_SADDLES_NDELTA; k++) jw_int(&j, NULL, n->pgd[k]);
        jw_end(&j);
        jw_int(&j, "cap", n->cap);
        jw_end(&j);
    }
}

static void table(const mn_saddles_result *r, const mn_saddles_plan *p)
{
    const mn_octopus *c = &r->oct;
    printf("# octopus: gamma %g, L %g, well bottom m %.4g, switch [%.4g, %.4g], ell %.4g, rho %.4g\n"
           "# GD and PGD step %.4g (c %g / ell); PGD eps %g: radius %.3g, trigger ||g|| <= %.3g, %ld steps between "
           "perturbations (d = %d)\n"
           "# %d starts uniform in [-%g m, %g m]^d per d, seed %llu; escape of saddle i: iterations from passing\n"
           "# saddle i-1 to |x_i| >= s1; 'never': not within %ld iterations or GD stuck at a floating-point fixed point;\n"
           "# subnormal: starts in which a coordinate fell below DBL_MIN before its saddle (times then measure rounding)\n",
           c->gamma, c->L, c->m, c->s0, c->s1, c->ell, c->rho, r->step, p->c, p->pgd_eps, r->pgd_radius,
           r->pgd_g_thres, r->pgd_t_thres, c->d, p->restarts, p->init, p->init, (unsigned long long)p->seed,
           p->max_iter);
    printf("%4s %6s %6s %12s %12s %12s %10s %7s %7s %9s\n", "d", "method", "starts", "med_total", "med_esc_1",
           "med_esc_d", "esc_d/1", "never", "stuck", "subnormal");
    for (int k = 0; k < r->n; k++) {
        const mn_saddles_row *w = &r->rows[k];
        char a[32], b[32], t[32];
        iters(t, sizeof t, w->med_total);
        iters(a, sizeof a, w->med[0]);
        iters(b, sizeof b, w->med[w->d - 1]);
        printf("%4d %6s %6d %12s %12s %12s %10.3g %7d %7d %9d\n", w->d, w->pgd ? "pgd" : "gd", w->restarts, t, a, b,
               w->med[w->d - 1] / w->med[0], w->not_passed[w->d - 1], w->stuck, w->subnormal);
    }
    int k = 0;
    for (int j = 0; j + 1 < r->n; j += 2)
        if (r->rows[j].d > r->rows[k].d) k = j;
    const mn_saddles_row *gd = &r->rows[k], *pgd = &r->rows[k + 1];
    printf("# per saddle, d = %d: median [quartiles] of the iterations to escape saddle i\n", gd->d);
    printf("%4s %28s %28s\n", "i", "gd", "pgd");
    for (int i = 0; i < gd->d; i++) {
        char m1[32], a1[32], b1[32], m2[32], a2[32], b2[32], x[112], y[112];
        iters(m1, sizeof m1, gd->med[i]), iters(a1, sizeof a1, gd->q1[i]), iters(b1, sizeof b1, gd->q3[i]);
        iters(m2, sizeof m2, pgd->med[i]), iters(a2, sizeof a2, pgd->q1[i]), iters(b2, sizeof b2, pgd->q3[i]);
        snprintf(x, sizeof x, "%s [%s, %s]", m1, a1, b1);
        snprintf(y, sizeof y, "%s [%s, %s]", m2, a2, b2);
        printf("%4d %28s %28s\n", i + 1, x, y);
    }
    printf("# GD's escape time per saddle grows by x %.4f (measured over the last 4 saddles), theory x %.4f\n",
           r->growth_measured, r->growth);
    if (r->has_net) {
        const mn_saddles_net *n = &r->net;
        printf("# linear network %s (no biases, squared loss, ReLU-teacher data): the origin certified %s,\n"
               "# loss %.6g, Hessian eigenvalues [%.4g, %.4g]; step %.4g = c / max |eigenvalue|; start = origin + "
               "delta u;\n# iterations until the loss is 1%% below the saddle's ('never': not within %ld)\n",
               n->arch, mn_class_name(n->cert.cls), n->cert.loss, n->cert.lambda_min, n->cert.lambda_max, n->step,
               n->cap);
        printf("%10s %10s %10s\n", "delta", "gd", "pgd");
        for (int k2 = 0; k2 < MN_SADDLES_NDELTA; k2++) {
            char g1[32], g2[32];
            iters(g1, sizeof g1, n->gd[k2] >= 0 ? (double)n->gd[k2] : INFINITY);
            iters(g2, sizeof g2, n->pgd[k2] >= 0 ? (double)n->pgd[k2] : INFINITY);
            printf("%10.0e %10s %10s\n", n->delta[k2], g1, g2);
        }
    }
}

int cmd_experiment_saddles(int argc, char **argv)
{
    sad_args a = {.json = 0};
    mn_saddles_plan_default(&a.plan);
    const int r = cli_args(CMD, MN_CMD_SADDLES, intro, argc, argv, set_sad, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    mn_saddles_result *res = NULL;
    if (mn_experiment_saddles(&res, &a.plan)) return cli_error(CMD);
    if (mn_dist_rank() > 0) { /* rank 0 prints the table */
        mn_saddles_result_free(res);
        return 0;
    }
    long loaded = 0;
    for (int k = 0; k < res->n; k++) loaded += res->rows[k].loaded;
    fprintf(stderr, "experiment saddles: %d dimensions x 2 methods x %d starts (%ld loaded from the database), %.3g s\n",
            a.plan.ndims, a.plan.restarts, loaded, res->seconds);
    if (a.json)
        json_rows(res);
    else
        table(res, &a.plan);
    mn_saddles_result_free(res);
    return fflush(stdout) ? cli_bad(CMD, "cannot write the output") : 0;
}
