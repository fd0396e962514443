/* experiment saddles, quick plan: GD's escape time grows saddle after
 * saddle by the factor the linearised dynamics predict, PGD's stays
 * bounded; near the linear network's certified saddle GD's time grows
 * with log(1 / distance) at the rate of the escape eigenvalue, PGD's does
 * not; the database resumes to the same numbers, whatever the threads. */
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

static mn_saddles_result *run(const char *db, int threads)
{
    mn_saddles_plan p;
    mn_saddles_plan_default(&p);
    assert_int_equal(mn_saddles_plan_set(&p, "quick", NULL), MN_OK);
    char t[16];
    snprintf(t, sizeof t, "%d", threads);
    assert_int_equal(mn_saddles_plan_set(&p, "threads", t), MN_OK);
    if (db) assert_int_equal(mn_saddles_plan_set(&p, "db", db), MN_OK);
    mn_saddles_result *r = NULL;
    assert_int_equal(mn_experiment_saddles(&r, &p), MN_OK);
    return r;
}

static void test_octopus_chain(void **state)
{
    (void)state;
    mn_saddles_result *r = run(NULL, 2);
    assert_int_equal(r->n, 14); /* d = 2..8, gd and pgd */
    const mn_saddles_row *gd = &r->rows[12], *pgd = &r->rows[13];
    assert_true(gd->d == 8 && !gd->pgd && pgd->d == 8 && pgd->pgd);
    for (int i = 0; i < 8; i++) assert_int_equal(gd->not_passed[i] + pgd->not_passed[i], 0);
    assert_int_equal(gd->subnormal + gd->stuck, 0);
    /* both start alike: before PGD's first perturbation it is GD */
    assert_true(gd->med[0] == pgd->med[0]);
    /* GD: each saddle slower than the one before from saddle 3 on, by the
     * factor 1 + kappa of docs/saddles.md once the start is forgotten; the
     * law is the linearisation's, so 10% per saddle is its accuracy, not slack */
    for (int i = 3; i < 8; i++) assert_true(gd->med[i] > gd->med[i - 1]);
    for (int i = 5; i < 8; i++) {
        const double q = gd->med[i] / gd->med[i - 1];
        assert_true(fabs(q / r->growth - 1) < 0.10);
    }
    /* PGD: bounded, saddles 6..8 within 10% of one another, far below GD */
    for (int i = 6; i < 8; i++) assert_true(fabs(pgd->med[i] / pgd->med[5] - 1) < 0.10);
    assert_true(gd->med[7] > 2.5 * pgd->med[7]);
    /* the linear network: GD's time grows by ln(100) / ln(1 + step |lambda_min|)
     * per factor 100 in the distance (to the rounding of iteration counts),
     * and never from the saddle itself; PGD's stops growing */
    const mn_saddles_net *n = &r->net;
    assert_true(r->has_net && n->cert.cls == MN_CLASS_SADDLE && n->cert.lambda_min < 0);
    const double per = log(100.0) / log(1 + n->step * fabs(n->cert.lambda_min));
    for (int k = 1; k + 1 < MN_SADDLES_NDELTA; k++) assert_true(fabs((n->gd[k] - n->gd[k - 1]) - per) <= 1.5);
    assert_int_equal(n->gd[MN_SADDLES_NDELTA - 1], -1);
    assert_true(n->delta[MN_SADDLES_NDELTA - 1] == 0 && n->pgd[MN_SADDLES_NDELTA - 1] > 0);
    for (int k = 0; k < MN_SADDLES_NDELTA; k++) assert_true(n->pgd[k] > 0 && n->pgd[k] <= n->pgd[2] + 2);
    mn_saddles_result_free(r);
}

static void test_resume(void **state)
{
    (void)state;
    const char *db = tmp_path("saddles.db");
    mn_saddles_result *a = run(db, 2), *b = run(db, 1);
    for (int k = 0; k < a->n; k++) {
        assert_int_equal(a->rows[k].loaded, 0);
        assert_int_equal(b->rows[k].loaded, 30);
        for (int j = 0; j < 30 * a->rows[k].d; j++) assert_true(a->rows[k].escape[j] == b->rows[k].escape[j]);
    }
    mn_saddles_result_free(a), mn_saddles_result_free(b);
    /* bit for bit whatever the thread count, without a database */
    a = run(NULL, 1), b = run(NULL, 2);
    for (int k = 0; k < a->n; k++)
        for (int j = 0; j < 30 * a->rows[k].d; j++) assert_true(a->rows[k].escape[j] == b->rows[k].escape[j]);
    for (int t = 0; t < a->ntrace; t++)
        assert_true(memcmp(&a->trace_gd[t], &b->trace_gd[t], sizeof(double)) == 0 &&
                    memcmp(&a->trace_pgd[t], &b->trace_pgd[t], sizeof(double)) == 0);
    mn_saddles_result_free(a), mn_saddles_result_free(b);
    mn_saddles_plan p;
    mn_saddles_plan_default(&p);
    assert_int_equal(mn_saddles_plan_set(&p, "dims", "1..4"), MN_EINVAL);
    assert_int_equal(mn_saddles_plan_set(&p, "dims", "3,3"), MN_OK);
    mn_saddles_result *r = NULL;
    assert_int_equal(mn_experiment_saddles(&r, &p), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "listed twice"));
    assert_int_equal(mn_saddles_plan_set(&p, "gamma", "0"), MN_EINVAL);
    assert_int_equal(mn_saddles_plan_set(&p, "lr", "1"), MN_EINVAL);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("saddles");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_octopus_chain),
        cmocka_unit_test(test_resume),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
