/* Built-in attacks: bad local minima whose badness is known by construction
 * or certified, each a (data, model, point) that `minima certify` checks.
 *
 * Liang, Sun, Li, Srikant (ICML 2018) give counterexamples for ReLU networks
 * on separable data and for quadratic / logistic losses; their concrete
 * numbers could not be read from any source we have, so the dead-unit
 * constructions below are ours (the paper's mechanism for ReLU: units
 * inactive on every sample cannot be revived by a small move). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"

typedef mn_status (*builder)(mn_spec *spec, mn_data **data, double **theta);

/* Every hidden unit of a one-hidden-layer ReLU network inactive on every
 * sample: bias below -(|w| max|x| + 1). The output is then the constant b2
 * and any small move keeps the units dead, so the point is a local minimum
 * exactly when b2 minimises the loss of a constant predictor. */
static mn_status dead_units(const mn_spec *spec, const mn_data *data, double b2, double **theta)
{
    mn_model *m;
    mn_status st = mn_model_alloc(&m, spec);
    if (st) return st;
    const size_t P = mn_model_nparams(m);
    const int d = spec->width[0], h = spec->width[1], n = mn_data_n(data);
    double *th = calloc(P, sizeof *th);
    if (!th) {
        mn_model_free(m);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    double xmax = 0;
    for (int i = 0; i < n * d; i++) xmax = fmax(xmax, fabs(mn_data_xc(data)[i]));
    double *w1 = th + mn_model_w_offset(m, 1), *b1 = th + mn_model_b_offset(m, 1);
    for (int u = 0; u < h; u++) {
        double wn = 0;
        for (int c = 0; c < d; c++) w1[u * d + c] = 0.5 * cos(1.7 * u + 0.9 * c), wn += fabs(w1[u * d + c]);
        b1[u] = -(wn * xmax + 1.0);
        th[mn_model_w_offset(m, 2) + u] = 0.75 - 0.5 * u;
    }
    th[mn_model_b_offset(m, 2)] = b2;
    mn_model_free(m);
    *theta = th;
    return MN_OK;
}

static mn_status dead_relu_hinge(mn_spec *spec, mn_data **data, double **theta)
{
    mn_spec_default(spec);
    mn_status st = mn_spec_parse_arch(spec, "2-4-1");
    spec->loss = MN_LOSS_POLY_HINGE;
    spec->loss_p = 3;
    if (!st) st = mn_gen_separable(data, 40, 2, 0.2, 1);
    if (st) return st;
    /* Best constant b for mean (1 - y b)_+^3 with a fraction q of +1 labels:
     * q (1 - b)^2 = (1 - q) (1 + b)^2. */
    double q = 0;
    for (int i = 0; i < 40; i++) q += mn_data_yc(*data)[i] > 0;
    q /= 40;
    double b2 = (sqrt(q) - sqrt(1 - q)) / (sqrt(q) + sqrt(1 - q));
    return dead_units(spec, *data, b2, theta);
}

static mn_status dead_relu_squared(mn_spec *spec, mn_data **data, double **theta)
{
    mn_spec_default(spec);
    mn_status st = mn_spec_parse_arch(spec, "2-3-1");
    spec->loss = MN_LOSS_SQUARED;
    if (!st) st = mn_gen_teacher_relu(data, 40, 2, 1);
    if (st) return st;
    double mean = 0;
    for (int i = 0; i < 40; i++) mean += mn_data_yc(*data)[i] / 40;
    return dead_units(spec, *data, mean, theta);
}

/* A bad minimum found by training: 2-2-1 ReLU network, polynomial hinge,
 * XOR (200 points), gradient descent from seed 4, step 0.2, to gradient norm
 * 1e-9. Rebuilt by running that training, so nothing is stored by hand. */
static mn_status xor_trained(mn_spec *spec, mn_data **data, double **theta)
{
    mn_spec_default(spec);
    mn_status st = mn_spec_parse_arch(spec, "2-2-1");
    spec->loss = MN_LOSS_POLY_HINGE;
    if (!st) st = mn_gen_xor(data, 200, 0.0, 1);
    if (st) return st;
    mn_model *m = NULL;
    mn_work *w = NULL;
    mn_optim *opt = NULL;
    double *th = NULL;
    if ((st = mn_model_alloc(&m, spec)) || (st = mn_work_alloc(&w, m, 200))) goto done;
    const size_t P = mn_model_nparams(m);
    if (!(th = malloc(P * sizeof *th))) {
        st = mn_fail(MN_ENOMEM, "out of memory");
        goto done;
    }
    mn_model_init(m, th, 4, 1.0);
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.lr = 0.2;
    if ((st = mn_optim_alloc(&opt, m, w, *data, &prm, th))) goto done;
    for (long it = 0; it < 100000 && mn_optim_test(opt, 1e-9) == MN_RUN_RUNNING; it++)
        if ((st = mn_optim_iterate(opt))) goto done;
    if (mn_optim_test(opt, 1e-9) != MN_RUN_CONVERGED) {
        st = mn_fail(MN_ERANGE, "attack xor-trained: the training run did not converge");
        goto done;
    }
    memcpy(th, mn_optim_theta(opt), P * sizeof *th);
    *theta = th;
    th = NULL;
done:
    free(th);
    mn_optim_free(opt);
    mn_work_free(w);
    mn_model_free(m);
    return st;
}

static const struct {
    const char *name, *about;
    builder build;
} attacks[] = {
    {"dead-relu-hinge", "2-4-1 ReLU, polynomial hinge (p = 3), 40 separable points, every hidden unit dead",
     dead_relu_hinge},
    {"dead-relu-squared", "2-3-1 ReLU, squared loss, 40 points of a 2-unit ReLU teacher, every hidden unit dead",
     dead_relu_squared},
    {"xor-trained", "2-2-1 ReLU, polynomial hinge, XOR (200 points): gradient descent from seed 4 stops here",
     xor_trained},
};
#define NATTACK ((int)(sizeof attacks / sizeof *attacks))

int mn_attack_count(void) { return NATTACK; }
const char *mn_attack_name(int i) { return i >= 0 && i < NATTACK ? attacks[i].name : NULL; }
const char *mn_attack_about(int i) { return i >= 0 && i < NATTACK ? attacks[i].about : NULL; }

mn_status mn_attack_build(int i, mn_spec *spec, mn_data **data, double **theta)
{
    *data = NULL;
    *theta = NULL;
    if (i < 0 || i >= NATTACK) return mn_fail(MN_EINVAL, "no attack number %d", i);
    mn_status st = attacks[i].build(spec, data, theta);
    if (st) {
        mn_data_free(*data);
        *data = NULL;
    }
    return st;
}

#define FOLLOW_STEPS 2000 /* L-BFGS steps at most when following an escape */

mn_status mn_attack_judge(mn_attack_verdict *v, int i, double lambda)
{
    memset(v, 0, sizeof *v);
    if (!(lambda >= 0) || !isfinite(lambda)) return mn_fail(MN_EINVAL, "lambda %g is not a finite number >= 0", lambda);
    mn_spec spec;
    mn_data *data = NULL;
    double *theta = NULL, *ta = NULL, *dir = NULL;
    mn_model *m = NULL, *aug = NULL;
    mn_work *w = NULL, *wa = NULL;
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.global_loss = 0; /* every attack's data are fitted exactly by some network of its size */
    mn_status st = mn_attack_build(i, &spec, &data, &theta);
    if (!st) st = mn_model_alloc(&m, &spec);
    if (!st) st = mn_work_alloc(&w, m, mn_data_n(data));
    const size_t P = m ? mn_model_nparams(m) : 0;
    if (!st && !(dir = malloc((P + 64) * sizeof *dir))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = mn_certify(&v->plain, m, w, data, theta, 0, &co);
    if (!st) st = mn_find_escape(&v->escape, dir, m, w, data, theta, co.eig_tol);
    v->bad = !st && mn_cert_bad(&v->plain, v->escape.escaped, co.global_loss) == 1;
    mn_spec sa = spec;
    sa.elim = MN_ELIM_LIANG;
    sa.lambda = lambda;
    if (!st) st = mn_model_alloc(&aug, &sa);
    if (!st) st = mn_work_alloc(&wa, aug, mn_data_n(data));
    const size_t PA = aug ? mn_model_nparams(aug) : 0;
    if (!st) {
        free(dir);
        ta = malloc(PA * sizeof *ta);
        dir = malloc(PA * sizeof *dir);
        if (!ta || !dir) st = mn_fail(MN_ENOMEM, "out of memory");
    }
    if (!st) st = mn_embed(ta, aug, m, theta, NULL, 0.0);
    if (!st) st = mn_embed_best(&v->dlda, ta, aug, wa, data, 64, 1);
    if (!st) st = mn_certify(&v->aug, aug, wa, data, ta, 0, &co);
    if (!st) st = mn_find_escape(&v->escape_aug, dir, aug, wa, data, ta, co.eig_tol);
    mn_opt_params op;
    mn_opt_params_default(&op);
    op.kind = MN_OPT_LBFGS;
    mn_cert_opts cz = co;
    cz.zero_error = 1;
    if (!st) st = mn_follow_escape(&v->followed, &v->followed_iterations, aug, data, ta, &op, FOLLOW_STEPS, 1e-8, &cz);
    free(theta), free(ta), free(dir);
    mn_work_free(w), mn_work_free(wa);
    mn_model_free(m), mn_model_free(aug);
    mn_data_free(data);
    return st;
}
