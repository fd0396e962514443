/* experiment balance, quick plan (steps 0.02 and 0.01 over T = 10): for
 * ReLU, leaky ReLU and linear units the invariants' drift halves when the
 * step halves (the first-order change vanishes exactly by homogeneity, the
 * second-order one sums to O(step) over the fixed time: ratio 1/2 + O(step),
 * and at step 0.02 the O(step) term is below 0.05); for tanh and sigmoid it
 * does not shrink (the flow itself moves them); matrix factorisation
 * converges from every start and keeps its imbalance; the database gives
 * back the same numbers. */
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
#include "minima/experiment.h"
#include "tmpdir.h"

static mn_balance_result *run(const char *db)
{
    mn_balance_plan p;
    mn_balance_plan_default(&p);
    assert_int_equal(mn_balance_plan_set(&p, "quick", NULL), MN_OK);
    if (db) assert_int_equal(mn_balance_plan_set(&p, "db", db), MN_OK);
    mn_balance_result *r = NULL;
    assert_int_equal(mn_experiment_balance(&r, &p), MN_OK);
    return r;
}

static void test_drift(void **state)
{
    (void)state;
    const char *db = tmp_path("balance.db");
    mn_balance_result *r = run(db);
    assert_int_equal(r->n, 10); /* 5 activations x 2 steps */
    for (int a = 0; a < 5; a++) {
        const mn_balance_row *big = &r->rows[2 * a], *small = &r->rows[2 * a + 1];
        assert_true(big->step == 0.02 && small->step == 0.01 && small->iterations == 1000);
        assert_true(small->loss < 0.5 * small->loss0); /* GD did move: the test is not on a still point */
        const double q = small->unit_drift / big->unit_drift;
        if (big->act == MN_ACT_TANH || big->act == MN_ACT_SIGMOID) {
            assert_true(q > 0.9 && small->unit_drift > 0.05);
        } else {
            assert_true(fabs(q - 0.5) < 0.05);
            assert_true(fabs(small->layer_drift / big->layer_drift - 0.5) < 0.05);
            assert_true(small->unit_drift < 0.01 * small->unit_scale);
        }
    }
    for (int k = 0; k < MN_BALANCE_NMF; k++) {
        const mn_balance_mf *m = &r->mf[k];
        assert_true(m->loss <= 1e-6 * m->loss0);
        /* the imbalance is kept up to GD's second-order terms: B changes by
         * step^2 (G1 G1^T - G2^T G2) per step, |.|_F <= step^2 |grad|^2, and the
         * descent lemma sums step |grad|^2 to at most 2 (loss0 - loss) while
         * step x smoothness <= 1 */
        assert_true(m->imb_change <= 2 * m->step * (m->loss0 - m->loss));
        assert_true(m->imb_change < 0.1 * m->imb0); /* and small against what the flow keeps exactly */
    }
    assert_true(r->mf[2].imb0 > 50 * r->mf[0].imb0); /* the starts do differ */
    mn_balance_result *b = run(db);
    for (int i = 0; i < r->n; i++) {
        assert_int_equal(b->rows[i].loaded, 1);
        assert_true(b->rows[i].unit_drift == r->rows[i].unit_drift && b->rows[i].loss == r->rows[i].loss);
    }
    mn_balance_result_free(r), mn_balance_result_free(b);
}

static void test_plan_errors(void **state)
{
    (void)state;
    mn_balance_plan p;
    mn_balance_plan_default(&p);
    assert_int_equal(mn_balance_plan_set(&p, "acts", "relu,quadratic"), MN_EINVAL);
    assert_int_equal(mn_balance_plan_set(&p, "acts", "relu,relu"), MN_EINVAL);
    assert_int_equal(mn_balance_plan_set(&p, "steps", "0.1,0"), MN_EINVAL);
    assert_int_equal(mn_balance_plan_set(&p, "steps", "0.1,"), MN_EINVAL);
    assert_int_equal(mn_balance_plan_set(&p, "restarts", "3"), MN_EINVAL);
    assert_int_equal(mn_balance_plan_set(&p, "acts", "tanh,linear"), MN_OK);
    assert_int_equal(p.nact, 2);
    assert_int_equal(mn_balance_plan_set(&p, "horizon", "1e6"), MN_OK);
    assert_int_equal(mn_balance_plan_set(&p, "steps", "0.001"), MN_OK);
    mn_balance_result *r = NULL;
    assert_int_equal(mn_experiment_balance(&r, &p), MN_EINVAL); /* 1e9 iterations */
    assert_non_null(strstr(mn_last_error(), "iterations"));
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("balance");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_drift),
        cmocka_unit_test(test_plan_errors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
