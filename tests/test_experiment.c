/* The run layer from C: the option table parses each value once with its
 * range, the setting recipe builds a stored setting's model, and the
 * Safran-Shamir plan gives the rows of mn_popul_experiment, which summary
 * then reads from the database with the same distinct minima. */
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

static void test_option_table(void **state)
{
    (void)state;
    mn_options o;
    mn_options_default(&o);
    assert_int_equal(mn_options_set(&o, "lr", "fast"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "--lr 'fast' is not a finite number"));
    assert_int_equal(mn_options_set(&o, "lr", "0"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "out of range"));
    assert_int_equal(mn_options_set(&o, "lr", "0.375"), MN_OK);
    assert_true(o.opt.lr == 0.375);
    assert_int_equal(mn_options_set(&o, "steps", "-5"), MN_EINVAL);
    assert_int_equal(mn_options_set(&o, "steps", "1234"), MN_OK);
    assert_int_equal(o.steps, 1234);
    assert_int_equal(mn_options_set(&o, "polish", "on"), MN_OK);
    assert_int_equal(o.polish, 1);
    assert_int_equal(mn_options_set(&o, "polish", "off"), MN_OK);
    assert_int_equal(o.polish, 0);
    assert_int_equal(mn_options_set(&o, "polish", "yes"), MN_EINVAL);
    assert_int_equal(mn_options_set(&o, "eliminate", "liang"), MN_OK);
    assert_int_equal(o.spec.elim, MN_ELIM_LIANG);
    assert_int_equal(mn_options_set(&o, "frobnicate", "1"), MN_EINVAL);
    /* --slope needs leaky_relu: checked between options, once */
    assert_int_equal(mn_options_set(&o, "slope", "0.25"), MN_OK);
    assert_int_equal(mn_options_check(&o), MN_EINVAL);
    assert_int_equal(mn_options_set(&o, "act", "leaky_relu"), MN_OK);
    assert_int_equal(mn_options_check(&o), MN_OK);
    assert_true(o.spec.act_param == 0.25);
    /* one name, two meanings in disjoint commands; prefixes within a command */
    const mn_option *k_gen = mn_option_find("k", MN_CMD_TRAIN, 0), *k_ss = mn_option_find("k", MN_CMD_SAFRAN, 0);
    assert_true(k_gen && k_ss && k_gen != k_ss && k_gen->kind == MN_OPTION_INT && k_ss->kind == MN_OPTION_TEXT);
    const mn_option *st = mn_option_find("ste", MN_CMD_SAFRAN, 1);
    assert_true(st && !strcmp(st->name, "step"));
    assert_null(mn_option_find("ste", MN_CMD_SAFRAN, 0));
    assert_null(mn_option_find("s", MN_CMD_TRAIN, 1)); /* seed, steps, skip, ...: ambiguous */
}

/* List values: ranges A..B:S and comma lists, each element checked against
 * the entry's range, every rejection one mn_fail line naming the option. */
static void test_option_lists(void **state)
{
    (void)state;
    int v[8], n = -1;
    const mn_option *w = mn_option_find("width", MN_CMD_RANK, 0), *r = mn_option_find("ratio", MN_CMD_KARHADKAR, 0);
    assert_true(w && r && w->kind == MN_OPTION_TEXT && mn_option_find("width", MN_CMD_LIU, 0)->kind == MN_OPTION_INT);
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "10..40"), MN_OK);
    assert_int_equal(n, 4);
    assert_true(v[0] == 10 && v[3] == 40);
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "5..50:20"), MN_OK);
    assert_true(n == 3 && v[0] == 5 && v[1] == 25 && v[2] == 45);
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "7,3,9"), MN_OK);
    assert_true(n == 3 && v[0] == 7 && v[1] == 3 && v[2] == 9);
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "10..5"), MN_EINVAL); /* A > B */
    assert_non_null(strstr(mn_last_error(), "--width '10..5' is not a range"));
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "0,3"), MN_EINVAL); /* below lo = 1 */
    assert_non_null(strstr(mn_last_error(), "out of range"));
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "1..9"), MN_EINVAL); /* 9 values > max 8 */
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "1,,2"), MN_EINVAL);
    assert_int_equal(mn_option_int_list(v, 8, &n, w, "1..4:0"), MN_EINVAL);
    double x[4];
    assert_int_equal(mn_option_real_list(x, 4, &n, r, "0.25,2"), MN_OK);
    assert_true(n == 2 && x[0] == 0.25 && x[1] == 2.0);
    assert_int_equal(mn_option_real_list(x, 4, &n, r, "0"), MN_EINVAL); /* below lo = 1e-3 */
    assert_int_equal(mn_option_real_list(x, 4, &n, r, "0.5,nan"), MN_EINVAL);
}

static void test_setting_model(void **state)
{
    (void)state;
    mn_model *m = NULL;
    assert_int_equal(mn_setting_model(&m, "{\"arch\":\"2-3-1\",\"generate\":\"xor\",\"eliminate\":\"liang\"}", NULL),
                     MN_OK);
    assert_int_equal((int)mn_model_nparams(m), 2 * 3 + 3 + 3 + 1 + (1 + 2 + 1)); /* W1 b1 W2 b2, a w b */
    mn_model_free(m);
    /* without --arch the widths come from the data: <d>-8-<outputs> */
    assert_int_equal(mn_setting_model(&m, "{\"generate\":\"separable\",\"dim\":\"3\"}", NULL), MN_OK);
    assert_int_equal((int)mn_model_nparams(m), 3 * 8 + 8 + 8 + 1);
    mn_model_free(m);
    assert_int_equal(mn_setting_model(&m, "{\"lr\":\"fast\"}", NULL), MN_EINVAL);
    assert_null(m);
}

static void test_safran_shamir_plan(void **state)
{
    (void)state;
    mn_ss_plan p;
    mn_ss_plan_default(&p);
    assert_int_equal(mn_ss_plan_set(&p, "k", "9..6"), MN_EINVAL);
    assert_int_equal(mn_ss_plan_set(&p, "eliminate", "none,none"), MN_EINVAL);
    assert_int_equal(mn_ss_plan_set(&p, "k", "8"), MN_OK);
    assert_int_equal(mn_ss_plan_set(&p, "extra", "0"), MN_OK);
    assert_int_equal(mn_ss_plan_set(&p, "restarts", "36"), MN_OK);
    assert_int_equal(mn_ss_plan_set(&p, "seed", "2385"), MN_OK);
    assert_int_equal(mn_ss_plan_set(&p, "threads", "2"), MN_OK);
    assert_int_equal(mn_ss_plan_set(&p, "db", tmp_path("ss.db")), MN_OK);
    mn_ss_result *r = NULL;
    assert_int_equal(mn_experiment_safran_shamir(&r, &p), MN_OK);
    assert_int_equal(r->n, 1);
    /* the plan's row is the library's row, bit for bit */
    mn_popul_row ref;
    const mn_popul_spec spec = {.n = 8, .k = 8};
    assert_int_equal(mn_popul_experiment(&ref, NULL, &spec, &p.opts, 36, 2385, 2), MN_OK);
    assert_memory_equal(r->rows[0].count, ref.count, sizeof ref.count);
    assert_int_equal(r->rows[0].distinct, ref.distinct);
    assert_true(ref.count[MN_CLASS_SPURIOUS] > 0 && ref.distinct > 0); /* the checks below are not vacuous */
    assert_true(r->rows[0].mean_loss == ref.mean_loss || (isnan(ref.mean_loss) && isnan(r->rows[0].mean_loss)));
    /* summary reads the rows back: options as strings, the same distinct minima */
    mn_db *db = NULL;
    assert_int_equal(mn_db_open(&db, tmp_path("ss.db"), 0), MN_OK);
    mn_summary *s = NULL;
    int n = 0;
    assert_int_equal(mn_summarize(&s, &n, db, NULL, 0, NULL, NULL), MN_OK);
    assert_int_equal(n, 1);
    assert_int_equal(s[0].n, 36);
    assert_int_equal(s[0].count[MN_CLASS_SPURIOUS], ref.count[MN_CLASS_SPURIOUS]);
    assert_int_equal(s[0].distinct_spurious, ref.distinct);
    assert_non_null(strstr(s[0].json, "\"k\":\"8\""));
    mn_summary_free(s, n);
    mn_db_close(db);
    mn_ss_result_free(r);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("experiment");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_option_table),
        cmocka_unit_test(test_option_lists),
        cmocka_unit_test(test_setting_model),
        cmocka_unit_test(test_safran_shamir_plan),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
