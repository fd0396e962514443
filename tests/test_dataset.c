/* Tests of the named real data sets (Debian python3-sklearn's CSV files):
 * shapes, known rows and class counts, every labelling, and rejected input
 * (unknown name, labelling without a positive class, missing folder,
 * damaged files in a scratch folder). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "minima.h"
#include "tmpdir.h"

static mn_data *load(const char *name, mn_labelling lab, int positive)
{
    mn_data *d = NULL;
    if (mn_data_load_dataset(&d, name, lab, positive, NULL)) fail_msg("%s: %s", name, mn_last_error());
    return d;
}

/* Rows per class value in label column 0. */
static void count_classes(const mn_data *d, int *count, int k)
{
    memset(count, 0, (size_t)k * sizeof *count);
    const double *y = mn_data_yc(d);
    for (int i = 0; i < mn_data_n(d); i++) count[(int)y[(size_t)i * mn_data_m(d)]]++;
}

static void test_iris_classes(void **state)
{
    mn_data *d = load("iris", MN_LABELS_CLASS, -1);
    assert_int_equal(mn_data_n(d), 150);
    assert_int_equal(mn_data_d(d), 4);
    assert_int_equal(mn_data_m(d), 1);
    const double *x = mn_data_xc(d);
    /* first row of iris.csv: 5.1,3.5,1.4,0.2,0; last: 5.9,3.0,5.1,1.8,2 */
    assert_true(x[0] == 5.1 && x[1] == 3.5 && x[2] == 1.4 && x[3] == 0.2);
    assert_true(x[149 * 4] == 5.9 && x[149 * 4 + 3] == 1.8);
    int c[3];
    count_classes(d, c, 3);
    assert_int_equal(c[0], 50);
    assert_int_equal(c[1], 50);
    assert_int_equal(c[2], 50);
    mn_data_free(d);
}

static void test_breast_cancer_binary(void **state)
{
    mn_data *d = load("breast_cancer", MN_LABELS_PM1, -1); /* two classes: 1 (benign) is +1 */
    assert_int_equal(mn_data_d(d), 30);
    int pos = 0, neg = 0;
    for (int i = 0; i < mn_data_n(d); i++) {
        double y = mn_data_yc(d)[i];
        pos += y == 1.0;
        neg += y == -1.0;
    }
    assert_int_equal(pos, 357);
    assert_int_equal(neg, 212);
    mn_data_free(d);
    d = load("breast_cancer", MN_LABELS_01, 0); /* malignant as 1 */
    double s = 0;
    for (int i = 0; i < mn_data_n(d); i++) s += mn_data_yc(d)[i];
    assert_true(s == 212);
    mn_data_free(d);
}

static void test_digits_gzip_and_ovr(void **state)
{
    mn_data *d = load("digits", MN_LABELS_OVR, -1);
    assert_int_equal(mn_data_n(d), 1797);
    assert_int_equal(mn_data_d(d), 64);
    assert_int_equal(mn_data_m(d), 10);
    const double *x = mn_data_xc(d), *y = mn_data_yc(d);
    /* first image starts 0,0,5,13,9,1 and is a 0 */
    assert_true(x[2] == 5 && x[3] == 13 && x[4] == 9 && x[5] == 1);
    assert_true(y[0] == 1 && y[1] == -1);
    for (int i = 0; i < 1797; i++) {
        int plus = 0;
        for (int k = 0; k < 10; k++) plus += y[i * 10 + k] == 1.0;
        assert_int_equal(plus, 1);
    }
    mn_data_free(d);
    mn_data *c = load("digits", MN_LABELS_CLASS, -1), *b = load("digits", MN_LABELS_PM1, 3);
    int cnt[10];
    count_classes(c, cnt, 10);
    int n3 = 0;
    for (int i = 0; i < 1797; i++) {
        assert_true((mn_data_yc(b)[i] == 1.0) == (mn_data_yc(c)[i] == 3.0));
        n3 += mn_data_yc(b)[i] == 1.0;
    }
    assert_int_equal(n3, cnt[3]);
    assert_int_equal(cnt[0], 178); /* sklearn's documented class sizes */
    assert_int_equal(cnt[3], 183);
    mn_data_free(c);
    mn_data_free(b);
}

static void expect_fail(mn_status want, const char *name, mn_labelling lab, int positive, const char *dir,
                        const char *msg)
{
    mn_data *d = (mn_data *)1;
    assert_int_equal(mn_data_load_dataset(&d, name, lab, positive, dir), want);
    assert_null(d);
    if (!strstr(mn_last_error(), msg)) fail_msg("message '%s' lacks '%s'", mn_last_error(), msg);
}

static void write_file(const char *name, const char *text)
{
    FILE *f = fopen(tmp_path(name), "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_bad_input(void **state)
{
    expect_fail(MN_EINVAL, "mnist", MN_LABELS_CLASS, -1, NULL, "unknown dataset 'mnist'");
    expect_fail(MN_EINVAL, "iris", MN_LABELS_PM1, -1, NULL, "needs a positive class");
    expect_fail(MN_EINVAL, "iris", MN_LABELS_PM1, 3, NULL, "out of range");
    expect_fail(MN_EINVAL, "iris", MN_LABELS_OVR, 1, NULL, "applies to the pm1 and 01");
    expect_fail(MN_EIO, "iris", MN_LABELS_CLASS, -1, "/nonexistent-folder", "cannot open");
    mn_labelling l;
    assert_int_equal(mn_labelling_parse(&l, "ovr"), MN_OK);
    assert_int_equal(l, MN_LABELS_OVR);
    assert_int_equal(mn_labelling_parse(&l, "onehot"), MN_EINVAL);

    /* damaged copies of iris.csv in a scratch folder */
    assert_int_equal(tmpdir_make("dataset"), 0);
    write_file("iris.csv", "151,4,a,b,c\n5.1,3.5,1.4,0.2,0\n");
    expect_fail(MN_EFORMAT, "iris", MN_LABELS_CLASS, -1, tmpdir_path, ":1: expected first line '150,4");
    write_file("iris.csv", "150,4,a,b,c\n5.1,3.5,1.4,0.2,0\n5.1,3.5,1.4,0.2,7\n");
    expect_fail(MN_EFORMAT, "iris", MN_LABELS_CLASS, -1, tmpdir_path, ":3: class '7'");
    write_file("iris.csv", "150,4,a,b,c\n5.1,3.5,1.4,0.2\n");
    expect_fail(MN_EFORMAT, "iris", MN_LABELS_CLASS, -1, tmpdir_path, ":2: expected 5 fields");
    write_file("iris.csv", "150,4,a,b,c\n5.1,x,1.4,0.2,0\n");
    expect_fail(MN_EFORMAT, "iris", MN_LABELS_CLASS, -1, tmpdir_path, ":2:2: not a number");
    write_file("iris.csv", "150,4,a,b,c\n5.1,3.5,1.4,0.2,0\n");
    expect_fail(MN_EFORMAT, "iris", MN_LABELS_CLASS, -1, tmpdir_path, "1 data rows, expected 150");
    assert_int_equal(tmpdir_remove(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_iris_classes),
        cmocka_unit_test(test_breast_cancer_binary),
        cmocka_unit_test(test_digits_gzip_and_ovr),
        cmocka_unit_test(test_bad_input),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
