/* Exact derivatives against finite differences, for every activation x loss x
 * eliminator on random networks and data (double precision).
 *
 * Stencil: the 4-point central difference
 *   f'(t) ~ [f(t-2h) - 8 f(t-h) + 8 f(t+h) - f(t+2h)] / (12 h),
 * truncation error O(h^4 f^(5)), rounding error ~ eps |f| / h. With h = 1e-4
 * and O(1) data the two are ~1e-16 and ~1e-12, so the tolerances below
 * (1e-8 relative to the derivative's scale) leave a 10^4 margin over rounding
 * and would catch any wrong term, whose error is O(1) relative.
 * Kinks: ReLU / leaky ReLU units and hinge losses are not differentiable at 0.
 * A point whose pre-activations or hinge arguments lie within MARGIN of a kink
 * is redrawn rather than tested (stencil shifts are < 10 h |x| << MARGIN), and
 * the test counts and bounds how many points it had to skip. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"

#define H 1e-4
#define MARGIN 0.05
#define RTOL 1e-8

static double randn(mn_rng *r) { return mn_rng_normal(r); }

typedef struct {
    mn_model *m;
    mn_work *w;
    mn_data *data;
    double *th;
    size_t P;
} problem;

/* Random data fitting the spec: n samples, labels suiting the loss. */
static mn_data *make_data(const mn_spec *s, int n, mn_rng *r)
{
    const int d = s->width[0], K = s->width[s->depth];
    const int m = s->loss == MN_LOSS_SOFTMAX_CE ? 1 : K;
    mn_data *data;
    assert_int_equal(mn_data_alloc(&data, n, d, m), MN_OK);
    double *x = mn_data_x(data), *y = mn_data_y(data);
    for (int i = 0; i < n * d; i++) x[i] = 0.8 * randn(r);
    for (int i = 0; i < n * m; i++) {
        if (s->loss == MN_LOSS_SOFTMAX_CE)
            y[i] = (double)(mn_rng_u64(r) % (uint64_t)K);
        else if (mn_loss_is_margin(s->loss))
            y[i] = mn_rng_uniform(r) < 0.5 ? -1.0 : 1.0;
        else
            y[i] = 1.3 * randn(r);
    }
    return data;
}

/* Distance of the point to the nearest kink of the activation or the loss. */
static double kink_distance(const problem *p)
{
    const mn_spec *s = mn_model_spec(p->m);
    double km;
    assert_int_equal(mn_kink_margin(p->m, p->w, p->data, p->th, &km), MN_OK);
    if (s->loss == MN_LOSS_POLY_HINGE || s->loss == MN_LOSS_SQUARED_HINGE) {
        const int n = mn_data_n(p->data), K = s->width[s->depth];
        double *f = malloc((size_t)n * K * sizeof *f);
        assert_int_equal(mn_predict(p->m, p->w, p->data, p->th, f), MN_OK);
        const double *y = mn_data_yc(p->data);
        for (int i = 0; i < n * K; i++) km = fmin(km, fabs(1.0 - y[i] * f[i]));
        free(f);
    }
    return km;
}

static double loss_at(const problem *p, const double *th)
{
    double l;
    assert_int_equal(mn_eval(p->m, p->w, p->data, th, &l, NULL), MN_OK);
    return l;
}

/* 4-point stencil of loss (scalar) along direction v. */
static double fd_dir(const problem *p, const double *v, double *tmp)
{
    double f[4];
    const double t[4] = {-2 * H, -H, H, 2 * H};
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < p->P; i++) tmp[i] = p->th[i] + t[k] * v[i];
        f[k] = loss_at(p, tmp);
    }
    return (f[0] - 8 * f[1] + 8 * f[2] - f[3]) / (12 * H);
}

/* 4-point stencil of the gradient along v: approximates H v. */
static void fd_grad_dir(const problem *p, const double *v, double *out, double *tmp, double *g)
{
    const double t[4] = {-2 * H, -H, H, 2 * H}, c[4] = {1, -8, 8, -1};
    memset(out, 0, p->P * sizeof *out);
    for (int k = 0; k < 4; k++) {
        for (size_t i = 0; i < p->P; i++) tmp[i] = p->th[i] + t[k] * v[i];
        assert_int_equal(mn_eval(p->m, p->w, p->data, tmp, NULL, g), MN_OK);
        for (size_t i = 0; i < p->P; i++) out[i] += c[k] * g[i] / (12 * H);
    }
}

static double inf_norm(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

/* Draw a random point away from kinks; returns the number of redraws. */
static int draw_point(problem *p, mn_rng *r)
{
    const mn_spec *s = mn_model_spec(p->m);
    for (int tries = 0; tries < 200; tries++) {
        for (size_t i = 0; i < p->P; i++) p->th[i] = 0.6 * randn(r);
        for (int j = 0; j < mn_model_nelim(p->m); j++) {
            size_t o = mn_model_elim_offset(p->m, j);
            p->th[o] = 0.7 * randn(r);                        /* a != 0 */
            for (int c = 0; c <= s->width[0]; c++) p->th[o + 1 + c] *= 0.5; /* modest exponents */
        }
        if (kink_distance(p) > MARGIN) return tries;
    }
    fail_msg("no point away from kinks in 200 draws (%s)", mn_act_name(s->act));
    return -1;
}

/* Every derivative of the network s (its act, loss, elim, skip set) on n
 * random samples at one random point away from kinks; `what` names it in
 * failures. */
static void check_spec(const mn_spec s, const char *what, int n, uint64_t seed, int *redraws)
{
    const mn_act act = s.act;
    const mn_loss loss = s.loss;
    const mn_elim elim = s.elim;
    const int skip = s.skip;
    problem p = {0};
    assert_int_equal(mn_model_alloc(&p.m, &s), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, seed);
    p.data = make_data(&s, n, &r);
    assert_int_equal(mn_model_check_data(p.m, p.data), MN_OK);
    assert_int_equal(mn_work_alloc(&p.w, p.m, n), MN_OK);
    p.P = mn_model_nparams(p.m);
    const size_t P = p.P;
    p.th = malloc(P * sizeof(double));
    double *g = malloc(P * sizeof *g), *g2 = malloc(P * sizeof *g2), *v = malloc(P * sizeof *v);
    double *hv = malloc(P * sizeof *hv), *fd = malloc(P * sizeof *fd), *tmp = malloc(P * sizeof *tmp);
    double *hess = malloc(P * P * sizeof *hess);
    *redraws += draw_point(&p, &r);

    double l;
    assert_int_equal(mn_eval(p.m, p.w, p.data, p.th, &l, g), MN_OK);
    double gs = inf_norm(g, P);
    assert_true(gs > 1e-6); /* the check cannot pass on an all-zero gradient */

    /* Gradient, coordinate by coordinate. */
    for (size_t i = 0; i < P; i++) {
        memset(v, 0, P * sizeof *v);
        v[i] = 1.0;
        double d = fd_dir(&p, v, tmp);
        if (fabs(d - g[i]) > RTOL * (1 + gs))
            fail_msg("%s %s/%s/%s skip=%d: dL/dtheta[%zu] = %.12g, finite difference %.12g", what,
                     mn_act_name(act), mn_loss_name(loss), mn_elim_name(elim), skip, i, g[i], d);
    }
    /* Hessian-vector product along a random direction. */
    for (size_t i = 0; i < P; i++) v[i] = randn(&r);
    double lh;
    assert_int_equal(mn_hvp(p.m, p.w, p.data, p.th, v, hv, &lh, g2), MN_OK);
    assert_true(lh == l);
    for (size_t i = 0; i < P; i++) assert_true(g2[i] == g[i]);
    fd_grad_dir(&p, v, fd, tmp, g2);
    double hs = inf_norm(hv, P);
    assert_true(hs > 1e-6);
    for (size_t i = 0; i < P; i++)
        if (fabs(fd[i] - hv[i]) > RTOL * (1 + hs))
            fail_msg("%s %s/%s/%s skip=%d: (Hv)[%zu] = %.12g, finite difference %.12g", what,
                     mn_act_name(act), mn_loss_name(loss), mn_elim_name(elim), skip, i, hv[i], fd[i]);
    /* Full Hessian: each column against finite differences of the gradient,
     * and H v against the product it must equal. */
    assert_int_equal(mn_hessian(p.m, p.w, p.data, p.th, hess), MN_OK);
    double *col = malloc(P * sizeof *col);
    for (size_t j = 0; j < P; j++) {
        memset(tmp, 0, P * sizeof *tmp);
        double *e = malloc(P * sizeof *e);
        memset(e, 0, P * sizeof *e);
        e[j] = 1.0;
        fd_grad_dir(&p, e, col, tmp, g2);
        free(e);
        for (size_t i = 0; i < P; i++)
            if (fabs(col[i] - hess[i * P + j]) > RTOL * (1 + hs))
                fail_msg("%s %s/%s/%s: H[%zu][%zu] = %.12g, finite difference %.12g", what, mn_act_name(act),
                         mn_loss_name(loss), mn_elim_name(elim), i, j, hess[i * P + j], col[i]);
    }
    for (size_t i = 0; i < P; i++) {
        double acc = 0;
        for (size_t j = 0; j < P; j++) acc += hess[i * P + j] * v[j];
        assert_true(fabs(acc - hv[i]) <= 1e-12 * (1 + hs) * (double)P);
    }
    free(col);
    /* Liang et al.'s identity a dL/da - dL/db = lambda a^2 (d f/d b = a d f/d a). */
    if (elim == MN_ELIM_LIANG) {
        size_t o = mn_model_elim_offset(p.m, 0);
        double a = p.th[o], lhs = a * g[o] - g[o + s.width[0] + 1];
        assert_true(fabs(lhs - s.lambda * a * a) <= 64 * 2.2e-16 * (1 + gs) * (1 + fabs(a)));
    }
    free(g), free(g2), free(v), free(hv), free(fd), free(tmp), free(hess), free(p.th);
    mn_work_free(p.w);
    mn_data_free(p.data);
    mn_model_free(p.m);
}

/* The spec of one combination: act, loss, eliminator, skip, and layers
 * (the layer syntax; NULL: the MLP 3-4-3-K) on 3 or `d` inputs. */
static mn_spec combo_spec(mn_act act, mn_loss loss, mn_elim elim, int skip, const char *layers, int d)
{
    mn_spec s;
    mn_spec_default(&s);
    const int K = loss == MN_LOSS_SOFTMAX_CE ? 3 : elim == MN_ELIM_PER_OUTPUT ? 2 : 1;
    if (layers) {
        assert_int_equal(mn_spec_parse_layers(&s, layers, d), MN_OK);
    } else {
        assert_int_equal(mn_spec_parse_arch(&s, "3-4-3-1"), MN_OK);
        s.width[s.depth] = K;
    }
    s.act = act;
    s.act_param = act == MN_ACT_SOFTPLUS ? 2.385 : 0.13;
    s.loss = loss;
    s.elim = elim;
    s.lambda = 0.37;
    s.skip = skip;
    return s;
}

/* One combination of act x loss x eliminator: the MLP 3-4-3-K, or (conv)
 * conv1d layers in three places: in front, between dense layers, as the
 * output layer, biases on and off. Returns the networks checked. */
static int check_combo(mn_act a, mn_loss l, mn_elim e, int conv, int *redraws)
{
    uint64_t idx[4] = {(uint64_t)a, (uint64_t)l, (uint64_t)e, 0};
    if (!conv) {
        check_spec(combo_spec(a, l, e, (a + l + e) % 2, NULL, 3), "3-4-3-K", 7, mn_seed_derive(2385, idx, 3),
                   redraws);
        return 1;
    }
    const int K = l == MN_LOSS_SOFTMAX_CE ? 3 : e == MN_ELIM_PER_OUTPUT ? 2 : 1;
    char front[64], middle[64], last[64];
    snprintf(front, sizeof front, "conv1d-conv1d-dense:%d", K);
    snprintf(middle, sizeof middle, "dense:4-conv1d-dense:%d", K);
    snprintf(last, sizeof last, "dense:%d-conv1d", K);
    const char *layers[3] = {front, middle, K == 1 ? NULL : last};
    const int d[3] = {4, 3, 4};
    int n = 0;
    for (int c = 0; c < 3; c++) {
        if (!layers[c]) continue;
        mn_spec s = combo_spec(a, l, e, (a + l + e + c) % 2, layers[c], d[c]);
        /* no bias: a ReLU sample with every unit of a layer off gives the next
         * layer's pre-activations exactly 0 (a kink by construction) */
        s.bias = a == MN_ACT_RELU || (a + e + c) % 3 != 0;
        idx[3] = (uint64_t)c;
        /* 4 samples: a conv layer has d pre-activations per sample that must all
         * keep off the ReLU kink */
        check_spec(s, layers[c], 4, mn_seed_derive(2385, idx, 4), redraws);
        n++;
    }
    return n;
}

/* Every activation x loss x eliminator; returns the networks checked. */
static int all_combinations(int conv)
{
    int redraws = 0, combos = 0, networks = 0;
    for (int a = MN_ACT_RELU; a <= MN_ACT_LINEAR; a++)
        for (int l = MN_LOSS_SQUARED; l <= MN_LOSS_SQUARED_HINGE; l++)
            for (int e = MN_ELIM_NONE; e <= MN_ELIM_PER_OUTPUT; e++) {
                if (e == MN_ELIM_LIANG && l == MN_LOSS_SOFTMAX_CE) continue; /* needs K = 1 */
                networks += check_combo((mn_act)a, (mn_loss)l, (mn_elim)e, conv, &redraws);
                combos++;
            }
    assert_int_equal(combos, 7 * (5 * 3 - 1)); /* liang + softmax is invalid */
    /* Redraws are for kinks only; a flood of them means the check is vacuous. */
    assert_true(redraws < networks * 20);
    print_message("%d networks checked (%s), %d points redrawn for kinks\n", networks, conv ? "conv1d" : "MLP",
                  redraws);
    return networks;
}

static void test_all_combinations(void **state)
{
    (void)state;
    assert_int_equal(all_combinations(0), 7 * (5 * 3 - 1));
}

static void test_conv1d_combinations(void **state)
{
    (void)state;
    /* three placements, the output one only where K > 1 */
    assert_true(all_combinations(1) > 2 * 7 * (5 * 3 - 1));
}

/* Frozen layers: mask marks them, the derivatives are still true derivatives. */
static void test_frozen_mask(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "3-5-1"), MN_OK);
    s.frozen = 1u << 1; /* the output layer */
    s.elim = MN_ELIM_LIANG;
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    size_t P = mn_model_nparams(m);
    assert_int_equal(P, 3 * 5 + 5 + 5 + 1 + 1 + 3 + 1);
    unsigned char *mask = malloc(P);
    mn_model_free_mask(m, mask);
    for (size_t i = 0; i < P; i++) assert_int_equal(mask[i], !(i >= 20 && i < 26));
    double *th = malloc(P * sizeof *th);
    mn_model_init(m, th, 7, 1.0);
    for (size_t i = 20; i < 25; i++) assert_true(th[i] == 1.0);
    assert_true(th[25] == 0.0);
    assert_true(th[mn_model_elim_offset(m, 0)] == 0.0);
    free(th), free(mask);
    mn_model_free(m);
}

/* exp overflow in the added neuron is reported, never silent. */
static void test_exp_overflow(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "2-3-1"), MN_OK);
    s.elim = MN_ELIM_LIANG;
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    mn_data *data;
    assert_int_equal(mn_data_alloc(&data, 2, 2, 1), MN_OK);
    double *x = mn_data_x(data);
    x[0] = 1.5, x[1] = -0.5, x[2] = 0.25, x[3] = 2.0;
    mn_data_y(data)[0] = 1.0, mn_data_y(data)[1] = -1.0;
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, m, 2), MN_OK);
    size_t P = mn_model_nparams(m);
    double *th = calloc(P, sizeof *th);
    size_t o = mn_model_elim_offset(m, 0);
    th[o] = 1e-3;
    th[o + 3] = 800.0; /* b: exp(800) overflows */
    double l;
    assert_int_equal(mn_eval(m, w, data, th, &l, NULL), MN_ERANGE);
    assert_non_null(strstr(mn_last_error(), "overflows exp"));
    free(th);
    mn_work_free(w);
    mn_data_free(data);
    mn_model_free(m);
}

static void test_spec_errors(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    const char *bad[] = {"", "4", "4-0-1", "4--1", "4-16-x", "-4-1", "4-100001-1", "4-16-1-"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(mn_spec_parse_arch(&s, bad[i]), MN_EINVAL);
        assert_true(strlen(mn_last_error()) > 10);
    }
    assert_int_equal(mn_spec_parse_arch(&s, "4-16-16-2"), MN_OK);
    assert_int_equal(s.depth, 3);
    mn_model *m;
    s.elim = MN_ELIM_LIANG; /* two outputs */
    assert_int_equal(mn_model_alloc(&m, &s), MN_EINVAL);
    assert_null(m);
    s.elim = MN_ELIM_NONE;
    s.lambda = -1;
    assert_int_equal(mn_model_alloc(&m, &s), MN_EINVAL);
    s.lambda = 0.1;
    s.loss = MN_LOSS_POLY_HINGE;
    s.loss_p = 1.5;
    assert_int_equal(mn_model_alloc(&m, &s), MN_EINVAL);
    mn_act a;
    assert_int_equal(mn_act_parse(&a, "relu6"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "relu6"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_all_combinations),
        cmocka_unit_test(test_conv1d_combinations),
        cmocka_unit_test(test_frozen_mask),
        cmocka_unit_test(test_exp_overflow),
        cmocka_unit_test(test_spec_errors),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
