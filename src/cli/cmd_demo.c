/* minima demo: the main job (what `bash scripts/setup.sh` runs). In a few
 * seconds, what minima is for, in plain words:
 *   1. a bad local minimum where gradient descent stops (attack xor-trained),
 *      certified, and the verified escape Liang et al.'s neuron opens from it;
 *   2. one Safran-Shamir row on the population loss: how often gradient
 *      descent ends at a spurious minimum, the minimum proved spurious in
 *      ball arithmetic, and the same with one extra hidden unit.
 * Everything printed is computed here; nothing is written to disk. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <string.h>

#include "cli.h"
#include "minima/experiment.h"

#define CMD "demo"
#define DEMO_ATTACK "xor-trained"
#define DEMO_K 8
#define DEMO_RESTARTS 200

static const char intro[] =
    "usage: minima demo [--threads T]\n"
    "the main job (what scripts/setup.sh runs), a few seconds: a bad local minimum where gradient\n"
    "descent stops, certified, and the eliminating neuron's escape from it; then one Safran-Shamir\n"
    "row (k = 8, 200 runs): how often gradient descent ends at a spurious minimum, proved spurious\n"
    "in ball arithmetic, and how one extra hidden unit changes that. Ends with a verdict line.\n"
    "\noptions:\n";

static mn_status set_demo(void *ctx, const mn_option *d, const char *v)
{
    long t;
    mn_status st = mn_option_int(&t, d, v); /* "threads", the one option of demo */
    if (!st) *(int *)ctx = (int)t;
    return st;
}

static int find_attack(const char *name)
{
    for (int i = 0; i < mn_attack_count(); i++)
        if (!strcmp(mn_attack_name(i), name)) return i;
    return -1;
}

/* Part 1; *bad and *escaped say what was shown. */
static int part_attack(int *bad, int *escaped, double *loss)
{
    const int i = find_attack(DEMO_ATTACK);
    mn_attack_verdict v;
    if (i < 0 || mn_attack_judge(&v, i, 0.01)) return i < 0 ? cli_bad(CMD, "no attack " DEMO_ATTACK) : cli_error(CMD);
    const mn_cert *c = &v.plain;
    printf("1. Where gradient descent stops (minima attack %s):\n   %s.\n", DEMO_ATTACK, mn_attack_about(i));
    printf("   The end point: loss %.4f, about that of predicting 0 everywhere (1); training accuracy %.1f%%.\n",
           c->loss, 100 * c->accuracy);
    printf("   Certified: gradient norm %.2g, smallest Hessian eigenvalue %.2g (class %s); no verified\n"
           "   descent direction out of it (gradient, negative curvature, Hessian null directions):\n"
           "   %s.\n",
           c->gnorm, c->lambda_min, mn_class_name(c->cls),
           v.bad ? "a BAD LOCAL MINIMUM" : "NOT certified a bad local minimum");
    printf("   Add Liang et al.'s neuron a*exp(w.x + b) at a = 0 (the same function): |dL/da| = %.4g;\n", v.dlda);
    if (v.escape_aug.escaped)
        printf("   a step of %.3g along its %s escape direction lowers the loss from %.4f to\n"
               "   %.4f (verified by evaluating it): the neuron ESCAPES the bad minimum.\n",
               v.escape_aug.step, mn_escape_name(&v.escape_aug), v.aug.loss, v.aug.loss - v.escape_aug.decrease);
    else
        printf("   no verified descent direction: the neuron does NOT remove this minimum.\n");
    *bad = v.bad, *escaped = v.escape_aug.escaped, *loss = c->loss;
    return 0;
}

/* Part 2: rows n = k and n = k + 1. */
static int part_safran_shamir(int threads, double *spur, double *spur1, int *proved, double *floss)
{
    mn_ss_plan p;
    mn_ss_plan_default(&p);
    p.k[0] = DEMO_K, p.nk = 1;
    p.extra[0] = 0, p.extra[1] = 1, p.nextra = 2;
    p.restarts = DEMO_RESTARTS;
    p.prove = 1;
    p.threads = threads;
    mn_ss_result *r = NULL;
    if (mn_ss_plan_check(&p) || mn_experiment_safran_shamir(&r, &p)) return cli_error(CMD);
    const mn_popul_row *a = &r->rows[0], *b = &r->rows[1];
    printf("\n2. Spurious minima of two-layer ReLU networks (Safran & Shamir, ICML 2018): a student of n\n"
           "   ReLU units fit to a teacher of k = %d on the exact population loss (x ~ N(0, I)), plain\n"
           "   gradient descent from %d random (Xavier) starts.\n",
           a->k, a->restarts);
    printf("   n = %d: %.1f%% of the runs [95%% interval %.1f-%.1f] end at a spurious local minimum (loss\n"
           "   %.4f against 0 at the global one); %d distinct up to symmetry, %d of them PROVED a strict\n"
           "   local minimum with loss > 0 in ball arithmetic.\n",
           a->n, a->spurious_pct, a->spurious_lo, a->spurious_hi, a->mean_loss, a->distinct, r->nproved[0]);
    printf("   n = %d (one extra unit): %.1f%% [%.1f-%.1f].\n", b->n, b->spurious_pct, b->spurious_lo, b->spurious_hi);
    *spur = a->spurious_pct, *spur1 = b->spurious_pct, *proved = r->nproved[0], *floss = a->mean_loss;
    mn_ss_result_free(r);
    return 0;
}

int cmd_demo(int argc, char **argv)
{
    int threads = 0;
    const int r = cli_args(CMD, MN_CMD_DEMO, intro, argc, argv, set_demo, NULL, &threads);
    if (r) return r == 2 ? 0 : 1;
    const double t0 = omp_get_wtime();
    printf("minima demo: finding, certifying and eliminating bad local minima, in two short runs.\n\n");
    fflush(stdout);
    int bad = 0, escaped = 0, proved = 0;
    double loss = NAN, spur = NAN, spur1 = NAN, floss = NAN;
    if (part_attack(&bad, &escaped, &loss)) return 1;
    fflush(stdout);
    if (part_safran_shamir(threads, &spur, &spur1, &proved, &floss)) return 1;
    printf("\nverdict: ");
    if (bad && escaped && proved > 0)
        printf("gradient descent does stop at bad local minima. One (XOR, loss %.3f) was certified and the\n"
               "eliminating neuron opened a verified escape from it; another (k = %d, loss %.4f) was proved\n"
               "spurious, and %.1f%% of runs end at such minima, %.1f%% with one extra hidden unit.\n",
               loss, DEMO_K, floss, spur, spur1);
    else
        printf("NOT shown this time: bad minimum certified %s, escaped %s, spurious minima proved %d.\n",
               bad ? "yes" : "no", escaped ? "yes" : "no", proved);
    printf("(%.1f s. Next: minima attack all; minima experiment safran-shamir; minima --help.)\n",
           omp_get_wtime() - t0);
    if (bad && escaped && proved > 0) return 0;
    return cli_bad(CMD, "the demo did not show what it is meant to (see its verdict line)");
}
