/* Memory against the machine (src/util/memory.c and the estimates beside
 * each allocation): a network the machine cannot hold is refused at once
 * with the estimate, a dense Hessian past physical memory is refused before
 * it is allocated, Lanczos keeps a bounded number of vectors, and settings
 * that differ only in training options share one data set. */
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
#include "minima/objective.h"
#include "minima/sweep.h"

#define GIB (1024.0 * 1024.0 * 1024.0)

static void test_check(void **state)
{
    (void)state;
    const double phys = mn_phys_bytes();
    assert_true(phys > 64 * 1024.0 * 1024.0); /* a machine that runs the suite has more than 64 MiB */
    assert_int_equal(mn_mem_check(phys / 2, "half"), MN_OK);
    assert_int_equal(mn_mem_check(2 * phys, "twice the machine"), MN_ENOMEM);
    const char *e = mn_last_error();
    assert_non_null(strstr(e, "twice the machine needs about"));
    assert_non_null(strstr(e, "(estimate), more than the"));
    assert_int_equal(mn_mem_check(NAN, "nothing known"), MN_ENOMEM);
}

/* A 2-46000-46000-1 network (2,116,230,001 parameters, 0.99 x 2^31):
 * refused when the setting is built, before any parameter vector exists. */
static void test_huge_network_refused(void **state)
{
    (void)state;
    const char *keys[] = {"arch", "generate"}, *vals[] = {"2-46000-46000-1", "xor"};
    mn_options o;
    mn_data *data;
    mn_model *model;
    if (mn_phys_bytes() > 600 * GIB) skip(); /* the estimate is ~628 GiB: such a machine could try */
    assert_int_equal(mn_setting_from_pairs(&o, &data, &model, keys, vals, 2, NULL), MN_ENOMEM);
    assert_null(data);
    assert_null(model);
    assert_non_null(strstr(mn_last_error(), "one run of this network (2116230001 parameters, 200 samples) needs about"));
    /* the estimate itself: at least the parameter vector, and Lanczos bounded */
    const char *k2[] = {"arch", "generate"}, *v2[] = {"2-2000-1", "xor"};
    assert_int_equal(mn_setting_from_pairs(&o, &data, &model, k2, v2, 2, NULL), MN_OK);
    mn_sweep_setting s = {.model = model, .data = data};
    mn_setting_run(&s, &o);
    const double P = (double)mn_model_nparams(model), b = mn_setting_run_bytes(&s);
    assert_true(b > 8 * P);
    assert_true(b > mn_work_bytes(model, 200) + mn_optim_bytes((size_t)P, (size_t)P, 200, &s.opt));
    mn_model_free(model);
    mn_data_free(data);
}

/* An objective of n free parameters whose dense Hessian is never formed. */
static mn_status flat_fdf(void *params, const double *x, double *f, double *g)
{
    (void)params, (void)x;
    *f = 0;
    if (g) memset(g, 0, sizeof *g); /* not called here */
    return MN_OK;
}

static mn_status flat_hvp(void *params, const double *x, const double *v, double *hv)
{
    (void)params, (void)x, (void)v, (void)hv;
    fail_msg("the Hessian must not be formed");
    return MN_EINVAL;
}

static void test_dense_hessian_refused(void **state)
{
    (void)state;
    /* the free block and the full scratch: 2 n^2 doubles > physical memory */
    const size_t n = (size_t)sqrt(mn_phys_bytes() / 16.0) + 2;
    mn_objective f = {.n = n, .fdf = flat_fdf, .hvp = flat_hvp};
    double *x = calloc(n, sizeof *x), lmin, lmax;
    assert_non_null(x);
    assert_int_equal(mn_spectrum_extremes(&lmin, &lmax, &f, x, 0x7fffffff, 300, 1e-10), MN_ENOMEM);
    assert_non_null(strstr(mn_last_error(), "the dense Hessian needs about"));
    assert_true(mn_spectrum_bytes(n, n, 0x7fffffff, 300) > mn_phys_bytes());
    free(x);
}

/* Lanczos: 300 steps while they fit in MN_LANCZOS_MAX_BYTES, fewer past
 * that, never fewer than MN_LANCZOS_MIN_STEPS, never more than nf. */
static void test_lanczos_bound(void **state)
{
    (void)state;
    assert_int_equal(mn_lanczos_steps(50000, 300), 300);
    assert_int_equal(mn_lanczos_steps(120, 300), 120);
    assert_int_equal(mn_lanczos_steps(1000000, 300), (int)(MN_LANCZOS_MAX_BYTES / 8 / 1000000));
    assert_true(mn_lanczos_steps(1000000, 300) < 300);
    assert_int_equal(mn_lanczos_steps((size_t)1 << 31, 300), MN_LANCZOS_MIN_STEPS);
    const size_t nf = 4000000;
    const double b = mn_spectrum_bytes(nf, nf, 2000, 300);
    assert_true(b <= MN_LANCZOS_MAX_BYTES + 64.0 * nf); /* the vectors within the bound, plus scratch */
    assert_true(b >= (double)mn_lanczos_steps(nf, 300) * nf * 8);
}

/* Settings that differ in training options share one data set; another
 * sample count or seed builds another. */
static void test_data_shared(void **state)
{
    (void)state;
    mn_data_pool *pool;
    assert_int_equal(mn_data_pool_alloc(&pool), MN_OK);
    const char *keys[] = {"generate", "n", "noise", "lr", "optimizer", "arch"};
    const char *v[4][6] = {{"xor", "40", "0.1", "0.1", "gd", "2-3-1"},
                           {"xor", "40", "0.1", "0.2", "lbfgs", "2-5-1"},
                           {"xor", "60", "0.1", "0.1", "gd", "2-3-1"},
                           {"xor", "40", "0.2", "0.1", "gd", "2-3-1"}};
    mn_options o;
    mn_data *d[4];
    mn_model *m[4];
    for (int i = 0; i < 4; i++)
        assert_int_equal(mn_setting_from_pairs(&o, &d[i], &m[i], keys, v[i], 6, pool), MN_OK);
    assert_ptr_equal(d[0], d[1]);
    assert_ptr_not_equal(d[0], d[2]);
    assert_ptr_not_equal(d[0], d[3]);
    assert_int_equal(mn_data_n(d[2]), 60);
    assert_int_equal(mn_data_pool_count(pool), 3);
    /* a bad setting leaves the pool's data alone */
    const char *bad[6] = {"xor", "40", "0.1", "0.1", "gd", "2-3-3-3-x"};
    mn_data *db;
    mn_model *mb;
    assert_int_equal(mn_setting_from_pairs(&o, &db, &mb, keys, bad, 6, pool), MN_EINVAL);
    assert_int_equal(mn_data_n(d[0]), 40);
    for (int i = 0; i < 4; i++) mn_model_free(m[i]);
    mn_data_pool_free(pool); /* frees each data set once (valgrind / ASan check it) */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_check),         cmocka_unit_test(test_huge_network_refused),
        cmocka_unit_test(test_dense_hessian_refused), cmocka_unit_test(test_lanczos_bound),
        cmocka_unit_test(test_data_shared),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
