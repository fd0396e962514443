/* The same inputs give bit-identical loss, gradient, Hessian-vector product
 * and eigenvalues whatever OpenBLAS's thread count (sizes large enough for
 * OpenBLAS to split its work across threads), and whatever the OpenMP thread
 * count over which minima cuts an evaluation's samples and units. */
#include <cblas.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"

static void run(int threads, const mn_model *m, const mn_data *data, const double *th, const double *v,
                double *out /* 1 + 2P */)
{
    openblas_set_num_threads(threads);
    const size_t P = mn_model_nparams(m);
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, m, mn_data_n(data)), MN_OK);
    assert_int_equal(mn_hvp(m, w, data, th, v, out + 1 + P, out, out + 1), MN_OK);
    mn_work_free(w);
}

static void test_blas_threads(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "48-192-160-1"), MN_OK);
    s.act = MN_ACT_TANH;
    s.elim = MN_ELIM_LIANG;
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    mn_data *data;
    const int n = 3000, d = 48;
    assert_int_equal(mn_data_alloc(&data, n, d, 1), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, 2385);
    for (int i = 0; i < n * d; i++) mn_data_x(data)[i] = 0.3 * mn_rng_normal(&r);
    for (int i = 0; i < n; i++) mn_data_y(data)[i] = mn_rng_normal(&r);
    const size_t P = mn_model_nparams(m);
    double *th = malloc(P * sizeof *th), *v = malloc(P * sizeof *v);
    double *a = malloc((1 + 2 * P) * sizeof *a), *b = malloc((1 + 2 * P) * sizeof *b);
    mn_model_init(m, th, 11, 1.0);
    th[mn_model_elim_offset(m, 0)] = 0.1;
    for (size_t i = 0; i < P; i++) v[i] = mn_rng_normal(&r);
    run(1, m, data, th, v, a);
    run(2, m, data, th, v, b);
    assert_memory_equal(a, b, (1 + 2 * P) * sizeof *a);

    /* Eigenvalues of a 300 x 300 symmetric matrix. */
    const int k = 300;
    double *h1 = malloc((size_t)k * k * sizeof *h1), *h2 = malloc((size_t)k * k * sizeof *h2);
    double *e1 = malloc(k * sizeof *e1), *e2 = malloc(k * sizeof *e2);
    for (int i = 0; i < k; i++)
        for (int j = 0; j <= i; j++) h1[i * k + j] = h1[j * k + i] = mn_rng_normal(&r);
    memcpy(h2, h1, (size_t)k * k * sizeof *h1);
    openblas_set_num_threads(2);
    assert_int_equal(mn_sym_eigvals(e1, h1, k), MN_OK);
    openblas_set_num_threads(1);
    assert_int_equal(mn_sym_eigvals(e2, h2, k), MN_OK);
    assert_memory_equal(e1, e2, k * sizeof *e1);
    for (int i = 1; i < k; i++) assert_true(e1[i - 1] <= e1[i]);
    free(h1), free(h2), free(e1), free(e2), free(th), free(v), free(a), free(b);
    mn_data_free(data);
    mn_model_free(m);
}

/* loss, gradient, H v and predictions (out: 1 + 2P + n K) with `threads` OpenMP threads */
static void run_omp(int threads, const mn_model *m, const mn_data *data, const double *th, const double *v,
                    double *out)
{
    omp_set_num_threads(threads);
    const size_t P = mn_model_nparams(m);
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, m, mn_data_n(data)), MN_OK);
    assert_int_equal(mn_eval(m, w, data, th, out, out + 1), MN_OK);
    assert_int_equal(mn_hvp(m, w, data, th, v, out + 1 + P, NULL, NULL), MN_OK);
    assert_int_equal(mn_predict(m, w, data, th, out + 1 + 2 * P), MN_OK);
    mn_work_free(w);
}

/* Nets large enough that the passes run in parallel blocks of samples, with a
 * ragged last block (n not a multiple of the block or of 64 rows), every
 * layer kind, a skip and added neurons: 1, 2 and 3 OpenMP threads (OpenBLAS
 * on one) give the same bits. */
static void test_omp_threads(void **state)
{
    (void)state;
    const struct {
        const char *arch;
        mn_act act;
        mn_loss loss;
        int skip, conv, n;
        mn_elim elim;
    } nets[] = {
        {"40-96-80-1", MN_ACT_RELU, MN_LOSS_SQUARED, 0, 0, 1300, MN_ELIM_LIANG},
        {"24-64-64-3", MN_ACT_TANH, MN_LOSS_SOFTMAX_CE, 1, 1, 1003, MN_ELIM_NONE},
    };
    const int bt = openblas_get_num_threads(), ot = omp_get_max_threads();
    openblas_set_num_threads(1);
    for (size_t c = 0; c < sizeof nets / sizeof nets[0]; c++) {
        mn_spec s;
        mn_spec_default(&s);
        assert_int_equal(mn_spec_parse_arch(&s, nets[c].arch), MN_OK);
        s.act = nets[c].act, s.loss = nets[c].loss, s.skip = nets[c].skip, s.elim = nets[c].elim;
        if (nets[c].conv) s.layer[2] = MN_LAYER_CONV1D;
        mn_model *m;
        assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
        const int n = nets[c].n, d = s.width[0], K = s.width[s.depth];
        mn_data *data;
        assert_int_equal(mn_data_alloc(&data, n, d, 1), MN_OK);
        mn_rng r;
        mn_rng_seed(&r, 2385 + c);
        for (int i = 0; i < n * d; i++) mn_data_x(data)[i] = mn_rng_normal(&r);
        for (int i = 0; i < n; i++) mn_data_y(data)[i] = s.loss == MN_LOSS_SQUARED ? mn_rng_normal(&r) : i % K;
        const size_t P = mn_model_nparams(m), len = 1 + 2 * P + (size_t)n * K;
        double *th = malloc(P * sizeof *th), *v = malloc(P * sizeof *v);
        double *one = malloc(len * sizeof *one), *many = malloc(len * sizeof *many);
        mn_model_init(m, th, 5 + c, 1.0);
        for (int j = 0; j < mn_model_nelim(m); j++) th[mn_model_elim_offset(m, j)] = 0.1;
        for (size_t i = 0; i < P; i++) v[i] = mn_rng_normal(&r);
        run_omp(1, m, data, th, v, one);
        for (int t = 2; t <= 3; t++) {
            run_omp(t, m, data, th, v, many);
            assert_memory_equal(one, many, len * sizeof *one);
        }
        free(th), free(v), free(one), free(many);
        mn_data_free(data);
        mn_model_free(m);
    }
    openblas_set_num_threads(bt), omp_set_num_threads(ot);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_blas_threads), cmocka_unit_test(test_omp_threads)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
