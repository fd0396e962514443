/* Layer operators: the conv1d layer against its definition written out,
 * identity initialisation, the layer syntax, and the dense network built
 * through --layers being the --arch network. (Derivatives of
 * every layer are checked in test_derivs.c.) */
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

static mn_data *random_data(int n, int d, int m, uint64_t seed)
{
    mn_data *data;
    assert_int_equal(mn_data_alloc(&data, n, d, m), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, seed);
    for (int i = 0; i < n * d; i++) mn_data_x(data)[i] = 1.3 * mn_rng_normal(&r) + 0.2;
    for (int i = 0; i < n * m; i++) mn_data_y(data)[i] = mn_rng_normal(&r);
    return data;
}

/* f = conv1d(conv1d(x)) with linear units, against the sums written out:
 * z[k] = sum_j f[j] x[(k + j) mod D] + c. */
static void test_conv1d_definition(void **state)
{
    (void)state;
    const int D = 5, n = 3;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_layers(&s, "conv1d-conv1d", D), MN_OK);
    s.act = MN_ACT_LINEAR;
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    assert_int_equal(mn_model_nparams(m), 2 * (D + 1));
    mn_data *data = random_data(n, D, D, 3);
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, m, n), MN_OK);
    double th[12], out[15];
    for (int i = 0; i < 12; i++) th[i] = 0.37 * i - 1.1 + 0.05 * i * i;
    assert_int_equal(mn_predict(m, w, data, th, out), MN_OK);
    const double *x = mn_data_xc(data);
    for (int i = 0; i < n; i++) {
        double h[5], z[5];
        for (int k = 0; k < D; k++) {
            h[k] = th[D];
            for (int j = 0; j < D; j++) h[k] += th[j] * x[i * D + (k + j) % D];
        }
        for (int k = 0; k < D; k++) {
            z[k] = th[2 * D + 1];
            for (int j = 0; j < D; j++) z[k] += th[D + 1 + j] * h[(k + j) % D];
        }
        for (int k = 0; k < D; k++) assert_true(fabs(out[i * D + k] - z[k]) <= 1e-13 * (1 + fabs(z[k])));
    }
    mn_work_free(w);
    mn_data_free(data);
    mn_model_free(m);
}

/* --init identity: square layers are I (conv1d: e_0), the others are the
 * random draws they get without it; the linear network then computes its
 * last (non-square) layer of x. */
static void test_identity_init(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_layers(&s, "dense:4-conv1d-dense:4-dense:2", 4), MN_OK);
    s.act = MN_ACT_LINEAR;
    mn_model *mr, *mi;
    assert_int_equal(mn_model_alloc(&mr, &s), MN_OK);
    s.init = MN_INIT_IDENTITY;
    assert_int_equal(mn_model_alloc(&mi, &s), MN_OK);
    const size_t P = mn_model_nparams(mi);
    assert_int_equal(P, (16 + 4) + (4 + 1) + (16 + 4) + (8 + 2));
    double *tr = malloc(P * sizeof *tr), *ti = malloc(P * sizeof *ti);
    mn_model_init(mr, tr, 11, 1.0);
    mn_model_init(mi, ti, 11, 1.0);
    for (int l = 1; l <= 3; l++) {
        const double *W = ti + mn_model_w_offset(mi, l);
        const int nw = l == 2 ? 4 : 16;
        for (int i = 0; i < nw; i++) {
            const double want = l == 2 ? (i == 0) : (i % 5 == 0);
            assert_true(W[i] == want);
        }
    }
    const size_t o4 = mn_model_w_offset(mi, 4);
    for (size_t i = o4; i < P; i++) assert_true(ti[i] == tr[i]); /* W_4 random, b_4 = 0 */
    assert_true(ti[o4] != 0.0);
    /* f(x) = W_4 x */
    mn_data *data = random_data(3, 4, 2, 5);
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, mi, 3), MN_OK);
    double f[6];
    assert_int_equal(mn_predict(mi, w, data, ti, f), MN_OK);
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 2; k++) {
            double want = 0;
            for (int c = 0; c < 4; c++) want += ti[o4 + (size_t)k * 4 + c] * mn_data_xc(data)[i * 4 + c];
            assert_true(fabs(f[i * 2 + k] - want) <= 1e-14 * (1 + fabs(want)));
        }
    free(tr), free(ti);
    mn_work_free(w);
    mn_data_free(data);
    mn_model_free(mr);
    mn_model_free(mi);
    /* no square layer: refused */
    assert_int_equal(mn_spec_parse_arch(&s, "4-16-1"), MN_OK);
    mn_model *bad;
    assert_int_equal(mn_model_alloc(&bad, &s), MN_EINVAL);
    assert_null(bad);
    assert_non_null(strstr(mn_last_error(), "square"));
    mn_init in;
    assert_int_equal(mn_init_parse(&in, "identity"), MN_OK);
    assert_int_equal(in, MN_INIT_IDENTITY);
    assert_int_equal(mn_init_parse(&in, "orthogonal"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "orthogonal"));
}

static void test_layer_syntax(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_layers(&s, "conv1d-dense:7-conv1d-dense:1", 6), MN_OK);
    assert_int_equal(s.depth, 4);
    const int want_w[5] = {6, 6, 7, 7, 1};
    const mn_layer_kind want_k[5] = {MN_LAYER_DENSE, MN_LAYER_CONV1D, MN_LAYER_DENSE, MN_LAYER_CONV1D,
                                     MN_LAYER_DENSE};
    for (int l = 0; l <= 4; l++) {
        assert_int_equal(s.width[l], want_w[l]);
        if (l > 0) assert_int_equal(s.layer[l], want_k[l]);
    }
    assert_string_equal(mn_layer_name(MN_LAYER_CONV1D), "conv1d");
    assert_string_equal(mn_layer_name(MN_LAYER_DENSE), "dense");
    assert_string_equal(mn_init_name(MN_INIT_IDENTITY), "identity");
    /* --arch resets the kinds: every layer dense again */
    assert_int_equal(mn_spec_parse_arch(&s, "6-6-7-7-1"), MN_OK);
    for (int l = 1; l <= 4; l++) assert_int_equal(s.layer[l], MN_LAYER_DENSE);
    const char *bad[] = {"", "-", "dense", "dense:", "dense:0", "dense:x", "dense:+3", "dense:100001",
                         "dense:4-", "conv1d:4", "conv2d", "dense:4--dense:1", "Dense:4", "dense:4:identity",
                         "dense:99999999999999999999", "dense:4,dense:1", " dense:4"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        assert_int_equal(mn_spec_parse_layers(&s, bad[i], 3), MN_EINVAL);
        assert_non_null(strstr(mn_last_error(), "--layers"));
    }
    char many[40 * 7 + 1] = "";
    for (int l = 0; l < MN_MAX_DEPTH + 1; l++) strcat(many, l ? "-conv1d" : "conv1d");
    assert_int_equal(mn_spec_parse_layers(&s, many, 3), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "more than"));
    /* a conv1d layer whose widths differ is refused by the model */
    assert_int_equal(mn_spec_parse_arch(&s, "3-4-1"), MN_OK);
    s.layer[1] = MN_LAYER_CONV1D;
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "conv1d"));
}

/* "dense:16-dense:1" is the network --arch 4-16-1 describes: the same spec
 * byte for byte, so the same layout, initialisation and arithmetic. */
static void test_layers_equal_arch(void **state)
{
    (void)state;
    mn_spec a, b;
    mn_spec_default(&a);
    mn_spec_default(&b);
    assert_int_equal(mn_spec_parse_arch(&a, "4-16-1"), MN_OK);
    assert_int_equal(mn_spec_parse_layers(&b, "dense:16-dense:1", 4), MN_OK);
    assert_memory_equal(&a, &b, sizeof a);
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &b), MN_OK);
    assert_int_equal(mn_model_nparams(m), 4 * 16 + 16 + 16 + 1);
    mn_model_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_conv1d_definition),
        cmocka_unit_test(test_identity_init),
        cmocka_unit_test(test_layer_syntax),
        cmocka_unit_test(test_layers_equal_arch),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
