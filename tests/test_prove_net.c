/* Proofs for networks on data (mn_prove_network, src/prove/net_ball.c).
 *
 * Enclosures: over a box theta +- 1e-3 the ball loss, gradient and Hessian
 * must contain mn_eval's and mn_hessian's values (an independent code path,
 * itself checked against finite differences in test_derivs) at random
 * points of the box, for every supported activation and loss, with and
 * without the eliminating neurons (liang, per-output); at radius 0
 * the midpoints must agree with them to 1e-10 relative (a wrong term is an
 * O(1) error; the float code's rounding is ~1e-15). Float values are
 * allowed their own rounding (1e-13 relative) outside a ball's edge.
 * Proofs: a spurious minimum of tanh XOR (found by L-BFGS, parameters
 * below) is proved spurious against the loss of a better minimum; that
 * better one is proved but never spurious against itself, and with no bound
 * the answer is "unknown"; a random point and a saddle are not proved;
 * ReLU, the squared hinge, poly_hinge p = 2 and depth 3 are refused. */
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
#include "minima/prove.h"
#include "minima/sweep.h"
#include "prove/internal.h"

static uint64_t lcg = 88172645463325252ULL;
static double unif(void) /* in [-1, 1) */
{
    lcg ^= lcg << 13, lcg ^= lcg >> 7, lcg ^= lcg << 17;
    return (double)(lcg >> 11) / 4503599627370496.0 - 1.0;
}

/* Model and data from command-line style options (NULL-terminated pairs). */
static void build(mn_data **data, mn_model **model, const char *const *kv)
{
    mn_options o;
    mn_options_default(&o);
    for (; kv[0]; kv += 2)
        if (mn_options_set(&o, kv[0], kv[1])) fail_msg("%s", mn_last_error());
    assert_int_equal(mn_options_check(&o), MN_OK);
    assert_int_equal(mn_setting_build(data, model, &o), MN_OK);
}

static int near(const arb_t x, double v)
{
    const double s = 1e-13 * (1 + fabs(v));
    return pv_lower(x) - s <= v && v <= pv_upper(x) + s;
}

static double mid(const arb_t x) { return arf_get_d(arb_midref(x), ARF_RND_NEAR); }

static void check_setting(const char *const *kv)
{
    mn_data *data;
    mn_model *model;
    build(&data, &model, kv);
    const int P = (int)mn_model_nparams(model);
    mn_work *work;
    assert_int_equal(mn_work_alloc(&work, model, mn_data_n(data)), MN_OK);
    double *c = malloc(P * sizeof *c), *x = malloc(P * sizeof *x), *g = malloc(P * sizeof *g);
    double *H = malloc((size_t)P * P * sizeof *H);
    for (int a = 0; a < P; a++) c[a] = 0.8 * unif();
    pv_net nb;
    pv_net_init(&nb, model, data);
    arb_t F;
    arb_init(F);
    arb_ptr G = _arb_vec_init(P);
    arb_mat_t Hb;
    arb_mat_init(Hb, P, P);
    int zero;
    char why[8];
    double loss;
    /* radius 0: the midpoints are the float values */
    assert_int_equal(pv_net_set(&nb, c, 0, &zero, why, sizeof why), 0);
    pv_net_eval(&nb, F, G, Hb);
    assert_int_equal(mn_eval(model, work, data, c, &loss, g), MN_OK);
    assert_int_equal(mn_hessian(model, work, data, c, H), MN_OK);
    assert_true(fabs(mid(F) - loss) <= 1e-10 * (1 + fabs(loss)));
    for (int a = 0; a < P; a++) {
        assert_true(fabs(mid(G + a) - g[a]) <= 1e-10 * (1 + fabs(g[a])));
        for (int b = 0; b < P; b++) {
            const double h = H[(size_t)a * P + b];
            assert_true(fabs(mid(arb_mat_entry(Hb, a, b)) - h) <= 1e-10 * (1 + fabs(h)));
        }
    }
    /* radius 1e-3: the box's enclosures contain the values at its points */
    const double r = 1e-3;
    assert_int_equal(pv_net_set(&nb, c, r, &zero, why, sizeof why), 0);
    pv_net_eval(&nb, F, G, Hb);
    for (int t = 0; t < 6; t++) {
        for (int a = 0; a < P; a++) x[a] = c[a] + r * (t == 0 ? 1.0 : t == 1 ? -1.0 : unif());
        assert_int_equal(mn_eval(model, work, data, x, &loss, g), MN_OK);
        assert_int_equal(mn_hessian(model, work, data, x, H), MN_OK);
        assert_true(near(F, loss));
        for (int a = 0; a < P; a++) {
            assert_true(near(G + a, g[a]));
            for (int b = 0; b < P; b++) assert_true(near(arb_mat_entry(Hb, a, b), H[(size_t)a * P + b]));
        }
    }
    arb_clear(F);
    _arb_vec_clear(G, P);
    arb_mat_clear(Hb);
    pv_net_clear(&nb);
    free(c), free(x), free(g), free(H);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    flint_cleanup();
}

static void test_enclosures_contain_float(void **state)
{
    (void)state;
    static const char *const s1[] = {"generate", "xor", "n", "30", "noise", "0.1", "arch", "2-3-1", "act", "tanh",
                                     "loss", "squared", NULL};
    static const char *const s2[] = {"generate", "xor", "n", "30", "noise", "0.1", "arch", "2-3-1", "act", "sigmoid",
                                     "loss", "logistic", NULL};
    static const char *const s3[] = {"generate", "xor", "n", "30", "noise", "0.3", "arch", "2-2-1", "act", "softplus",
                                     "sharpness", "2", "loss", "poly_hinge", "p", "3", NULL};
    static const char *const s4[] = {"dataset", "iris", "standardize", "on", "arch", "4-2-3", "act", "quadratic",
                                     "loss", "softmax_ce", NULL};
    static const char *const s5[] = {"generate", "spirals", "n", "20", "arch", "2-3-1", "act", "linear", "no-bias",
                                     "on", "loss", "poly_hinge", "p", "2.5", NULL};
    static const char *const s6[] = {"generate", "xor", "n", "30", "noise", "0.1", "arch", "2-2-1", "act", "tanh",
                                     "loss", "logistic", "eliminate", "liang", "lambda", "0.3", NULL};
    static const char *const s7[] = {"dataset", "iris", "standardize", "on", "arch", "4-2-3", "act", "softplus",
                                     "loss", "softmax_ce", "eliminate", "per-output", NULL};
    check_setting(s1);
    check_setting(s2);
    check_setting(s3);
    check_setting(s4);
    check_setting(s5);
    check_setting(s6);
    check_setting(s7);
}

static const char *const xor221[] = {"generate", "xor", "n", "100", "noise", "0.1", "arch", "2-2-1", "act", "tanh",
                                     NULL};
/* Two end points of `minima train --generate xor --n 100 --noise 0.1
 * --optimizer lbfgs --polish --steps 3000 --arch 2-2-1 --act tanh --seed S
 * --save-params`: seed 3 (loss 0.7355) and seed 1 (loss 0.4363). */
static const double seed3[9] = {-9.6254686732816612, -10.311618944850647, -1.6851750014007321, -1.7332042372688472, -3.2825133891525149, 0.44102679078809076, 0.61263541826025192, -0.71155385153025075, 0.37762153058310743};
static const double seed1[9] = {2.0358350338297964, -2.519496462796639, 1.1850412559904084, -1.406860082453699,
                                 -1.1757833361297019, 0.33626551457145071, -1.3961627904261864, 1.594937842069218,
                                 -0.840456408308767};

static void test_xor_minima(void **state)
{
    (void)state;
    mn_data *data;
    mn_model *model;
    build(&data, &model, xor221);
    double lo, hi;
    assert_int_equal(mn_prove_network_loss(&lo, &hi, model, data, seed1), MN_OK);
    assert_true(lo <= hi && hi - lo < 1e-12);
    mn_prove_result r;
    assert_int_equal(mn_prove_network(&r, NULL, model, data, seed3, hi), MN_OK);
    assert_true(r.proved);
    assert_true(r.spurious);
    assert_true(r.loss_lower > hi && r.loss_lower <= r.loss_upper);
    assert_true(r.grad_upper < r.lambda_lower * r.radius);
    /* the better point against itself: proved, never spurious */
    assert_int_equal(mn_prove_network(&r, NULL, model, data, seed1, hi), MN_OK);
    assert_true(r.proved);
    assert_false(r.spurious);
    assert_true(r.loss_lower <= hi);
    /* no bound: proved, spurious unknown */
    assert_int_equal(mn_prove_network(&r, NULL, model, data, seed3, NAN), MN_OK);
    assert_true(r.proved);
    assert_false(r.spurious);
    assert_non_null(strstr(r.reason, "unknown"));
    /* a random point */
    double x[9];
    for (int a = 0; a < 9; a++) x[a] = 2 * unif();
    assert_int_equal(mn_prove_network(&r, NULL, model, data, x, hi), MN_OK);
    assert_false(r.proved);
    assert_false(r.spurious);
    assert_true(strlen(r.reason) > 0);
    mn_model_free(model);
    mn_data_free(data);
}

/* theta = 0 but b2 = mean(y): critical (every unit is tanh(0) = 0 and W2 =
 * 0), and for separable data the W1-W2 block mean((b2 - y) x) is not zero,
 * so the Hessian [[0, C], [C^T, 0]]-like is indefinite: a saddle. */
static void test_saddle_not_proved(void **state)
{
    (void)state;
    static const char *const kv[] = {"generate", "separable", "n", "40", "arch", "2-2-1", "act", "tanh", "loss",
                                     "squared", NULL};
    mn_data *data;
    mn_model *model;
    build(&data, &model, kv);
    const int P = (int)mn_model_nparams(model), n = mn_data_n(data);
    double th[9] = {0}, ybar = 0, H[81], ev[9], g[9], loss;
    assert_int_equal(P, 9);
    for (int i = 0; i < n; i++) ybar += mn_data_yc(data)[i] / n;
    th[mn_model_b_offset(model, 2)] = ybar;
    mn_work *work;
    assert_int_equal(mn_work_alloc(&work, model, n), MN_OK);
    assert_int_equal(mn_eval(model, work, data, th, &loss, g), MN_OK);
    for (int a = 0; a < P; a++) assert_true(fabs(g[a]) < 1e-14);
    assert_int_equal(mn_hessian(model, work, data, th, H), MN_OK);
    assert_int_equal(mn_sym_eigvals(ev, H, P), MN_OK);
    assert_true(ev[0] < -1e-3); /* a saddle indeed */
    mn_prove_result r;
    assert_int_equal(mn_prove_network(&r, NULL, model, data, th, 10.0), MN_OK);
    assert_false(r.proved);
    assert_non_null(strstr(r.reason, "not positive definite"));
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
}

static void refused(const char *const *kv, const char *words)
{
    mn_data *data;
    mn_model *model;
    build(&data, &model, kv);
    double th[64] = {0};
    assert_true(mn_model_nparams(model) <= 64);
    for (size_t a = 0; a < mn_model_nparams(model); a++) th[a] = unif();
    mn_prove_result r;
    assert_int_equal(mn_prove_network(&r, NULL, model, data, th, NAN), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), words));
    mn_model_free(model);
    mn_data_free(data);
}

static void test_refused(void **state)
{
    (void)state;
    static const char *const relu[] = {"generate", "xor", "n", "20", "arch", "2-2-1", "act", "relu", NULL};
    static const char *const hinge[] = {"generate", "xor", "n", "20", "arch", "2-2-1", "act", "tanh", "loss",
                                        "squared_hinge", NULL};
    static const char *const p2[] = {"generate", "xor", "n", "20", "arch", "2-2-1", "act", "tanh", "loss",
                                     "poly_hinge", "p", "2", NULL};
    static const char *const deep[] = {"generate", "xor", "n", "20", "arch", "2-2-2-1", "act", "tanh", NULL};
    refused(relu, "relu is not twice differentiable");
    refused(hinge, "not twice differentiable at margin 1");
    refused(p2, "not twice differentiable at margin 1");
    refused(deep, "one hidden dense layer");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enclosures_contain_float),
        cmocka_unit_test(test_xor_minima),
        cmocka_unit_test(test_saddle_not_proved),
        cmocka_unit_test(test_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
