/* Tests of the data module: allocation, CSV reading (good files and every
 * rejected input, with status and "file:line:col: reason"), standardizing,
 * and the generators (determinism, labels, margins). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "minima.h"

#define assert_close(a, b, tol)                                                           \
    do {                                                                                  \
        double a_ = (a), b_ = (b);                                                        \
        if (!(fabs(a_ - b_) <= (tol)))                                                    \
            fail_msg("%s = %.17g, expected %.17g (tol %g)", #a, a_, b_, (double)(tol));   \
    } while (0)

/* ---- temp files: made with mkstemp, removed by each test's teardown ---- */

static char tmp_paths[128][32];
static int ntmp;

/* Writes len bytes to a new file under /tmp; returns its path. */
static const char *write_tmp(const char *text, size_t len)
{
    assert_true(ntmp < 128);
    char *path = tmp_paths[ntmp++];
    strcpy(path, "/tmp/mn_test_XXXXXX");
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    FILE *f = fdopen(fd, "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(text, 1, len, f), len);
    assert_int_equal(fclose(f), 0);
    return path;
}

static const char *csv(const char *text) { return write_tmp(text, strlen(text)); }

static int remove_tmp(void **state)
{
    for (int i = 0; i < ntmp; i++) unlink(tmp_paths[i]);
    ntmp = 0;
    return 0;
}

static mn_data *read_ok(const char *text, const char *label)
{
    mn_data *d = NULL;
    mn_status st = mn_data_read_csv(&d, csv(text), label);
    if (st != MN_OK) fail_msg("read_csv failed: %s", mn_last_error());
    assert_non_null(d);
    return d;
}

/* The last error is one line and contains want. */
static void check_msg(const char *want)
{
    const char *msg = mn_last_error();
    if (!strstr(msg, want)) fail_msg("error '%s' lacks '%s'", msg, want);
    assert_null(strchr(msg, '\n'));
}

/* Reading path fails with st; the message contains path followed by want. */
static void expect_path_err(const char *path, const char *label, mn_status st, const char *want)
{
    mn_data *d = (mn_data *)&d; /* not NULL: the reader must clear it */
    char full[512];
    assert_int_equal(mn_data_read_csv(&d, path, label), st);
    assert_null(d);
    snprintf(full, sizeof full, "%s%s", path, want);
    check_msg(full);
}

static void expect_err(const char *text, const char *label, mn_status st, const char *want)
{
    expect_path_err(csv(text), label, st, want);
}

static void check_values(const double *got, const double *want, int n)
{
    for (int i = 0; i < n; i++) assert_close(got[i], want[i], 0.0);
}

/* ---- allocation ---- */

static void test_alloc(void **state)
{
    mn_data *d = NULL;
    assert_int_equal(mn_data_alloc(&d, 3, 2, 1), MN_OK);
    assert_int_equal(mn_data_n(d), 3);
    assert_int_equal(mn_data_d(d), 2);
    assert_int_equal(mn_data_m(d), 1);
    double *x = mn_data_x(d), *y = mn_data_y(d);
    for (int i = 0; i < 6; i++) assert_close(x[i], 0.0, 0.0);
    for (int i = 0; i < 3; i++) y[i] = 2.385 * i; /* y must not overlap x */
    for (int i = 0; i < 6; i++) x[i] = -1.25;
    assert_close(mn_data_yc(d)[2], 4.77, 0.0);
    assert_true(mn_data_xc(d) == x);
    mn_data_free(d);
    assert_int_equal(mn_data_alloc(&d, 4, 3, 0), MN_OK); /* no labels is fine */
    assert_int_equal(mn_data_m(d), 0);
    mn_data_free(d);
    mn_data_free(NULL);
}

static void test_alloc_bad(void **state)
{
    mn_data *d = NULL;
    assert_int_equal(mn_data_alloc(&d, 0, 2, 1), MN_EINVAL);
    check_msg("n = 0");
    assert_null(d);
    assert_int_equal(mn_data_alloc(&d, 3, 0, 1), MN_EINVAL);
    check_msg("d = 0");
    assert_int_equal(mn_data_alloc(&d, 3, 2, -1), MN_EINVAL);
    check_msg("m = -1");
    assert_int_equal(mn_data_alloc(&d, INT_MAX, INT_MAX, INT_MAX), MN_EINVAL);
    check_msg("exceed the limit");
    assert_int_equal(mn_data_alloc(&d, 1 << 16, 1 << 15, 0), MN_EINVAL); /* 2^31 values */
    assert_null(d);
    assert_int_equal(mn_data_alloc(NULL, 1, 1, 1), MN_EINVAL);
}

/* A view reads the caller's arrays in place and evaluates exactly as a copy
 * does; freeing it leaves them alone; sizes are checked as for alloc. */
static void test_view(void **state)
{
    mn_data *own = NULL, *view = NULL;
    assert_int_equal(mn_gen_xor(&own, 30, 0.1, 7), MN_OK);
    const int n = mn_data_n(own);
    double *x = malloc(sizeof(double) * n * 2), *y = malloc(sizeof(double) * n);
    assert_non_null(x);
    assert_non_null(y);
    memcpy(x, mn_data_xc(own), sizeof(double) * n * 2);
    memcpy(y, mn_data_yc(own), sizeof(double) * n);
    assert_int_equal(mn_data_view(&view, n, 2, 1, x, y), MN_OK);
    assert_true(mn_data_xc(view) == x && mn_data_yc(view) == y);
    assert_int_equal(mn_data_n(view), n);
    mn_spec spec;
    mn_spec_default(&spec);
    spec.act = MN_ACT_TANH;
    assert_int_equal(mn_spec_parse_arch(&spec, "2-3-1"), MN_OK);
    mn_model *m = NULL;
    mn_work *w = NULL;
    assert_int_equal(mn_model_alloc(&m, &spec), MN_OK);
    assert_int_equal(mn_work_alloc(&w, m, n), MN_OK);
    const size_t P = mn_model_nparams(m);
    double theta[64], g1[64], g2[64], l1, l2;
    mn_model_init(m, theta, 3, 1.0);
    assert_int_equal(mn_eval(m, w, own, theta, &l1, g1), MN_OK);
    assert_int_equal(mn_eval(m, w, view, theta, &l2, g2), MN_OK);
    assert_true(l1 == l2);
    assert_memory_equal(g1, g2, P * sizeof(double));
    x[0] += 0.25; /* the view sees the caller's change */
    assert_int_equal(mn_eval(m, w, view, theta, &l2, NULL), MN_OK);
    assert_true(l1 != l2);
    mn_data_free(view);
    assert_true(x[0] == mn_data_xc(own)[0] + 0.25); /* still the caller's */
    assert_int_equal(mn_data_view(&view, n, 2, 0, x, NULL), MN_OK); /* no labels */
    assert_int_equal(mn_data_m(view), 0);
    mn_data_free(view);
    assert_int_equal(mn_data_view(&view, n, 2, 1, x, NULL), MN_EINVAL);
    check_msg("x or y is NULL");
    assert_null(view);
    assert_int_equal(mn_data_view(&view, 0, 2, 1, x, y), MN_EINVAL);
    check_msg("n = 0");
    assert_int_equal(mn_data_view(&view, 1 << 16, 1 << 15, 0, x, NULL), MN_EINVAL);
    check_msg("exceed the limit");
    mn_work_free(w);
    mn_model_free(m);
    mn_data_free(own);
    free(x), free(y);
}

/* ---- CSV: good files ---- */

static void test_csv_label_by_name(void **state)
{
    mn_data *d = read_ok("a,b,y\n2.385,-1.25,3.5\n-0.75,4.125,-2.385\n1e-3,  7 ,0.5\n", "y");
    assert_int_equal(mn_data_n(d), 3);
    assert_int_equal(mn_data_d(d), 2);
    assert_int_equal(mn_data_m(d), 1);
    check_values(mn_data_xc(d), (double[]){2.385, -1.25, -0.75, 4.125, 1e-3, 7}, 6);
    check_values(mn_data_yc(d), (double[]){3.5, -2.385, 0.5}, 3);
    mn_data_free(d);
}

static void test_csv_label_by_index(void **state)
{
    mn_data *d = read_ok("a,b,y\n2.385,-1.25,3.5\n-0.75,4.125,-2.385\n", "0");
    assert_int_equal(mn_data_d(d), 2);
    check_values(mn_data_xc(d), (double[]){-1.25, 3.5, 4.125, -2.385}, 4);
    check_values(mn_data_yc(d), (double[]){2.385, -0.75}, 2);
    mn_data_free(d);
    /* a column literally named "2" wins over index 2 */
    d = read_ok("2,x,z\n2.385,-1.25,3.5\n", "2");
    check_values(mn_data_yc(d), (double[]){2.385}, 1);
    check_values(mn_data_xc(d), (double[]){-1.25, 3.5}, 2);
    mn_data_free(d);
}

static void test_csv_two_labels(void **state)
{
    /* labels in the order given, features in file order */
    mn_data *d = read_ok("a,y1,b,y2\n2.385,-1.25,3.5,6.75\n-0.75,4.125,-2.385,8.5\n", " y2 , 1");
    assert_int_equal(mn_data_d(d), 2);
    assert_int_equal(mn_data_m(d), 2);
    check_values(mn_data_xc(d), (double[]){2.385, 3.5, -0.75, -2.385}, 4);
    check_values(mn_data_yc(d), (double[]){6.75, -1.25, 8.5, 4.125}, 4);
    mn_data_free(d);
}

static void test_csv_crlf_bom_quotes(void **state)
{
    mn_data *d = read_ok("\xEF\xBB\xBF\"a\", \"b,c\" ,y\r\n 2.385 , -1.5,3\r\n\r\n4.5,\"6.25\",-7\r\n\r\n  \r\n",
                         "y");
    assert_int_equal(mn_data_n(d), 2);
    check_values(mn_data_xc(d), (double[]){2.385, -1.5, 4.5, 6.25}, 4);
    check_values(mn_data_yc(d), (double[]){3, -7}, 2);
    mn_data_free(d);
    d = read_ok("\xEF\xBB\xBFy,x\n2.385,1.5", "y"); /* BOM on a name; no final newline */
    assert_int_equal(mn_data_n(d), 1);
    check_values(mn_data_yc(d), (double[]){2.385}, 1);
    check_values(mn_data_xc(d), (double[]){1.5}, 1);
    mn_data_free(d);
    d = read_ok("x,y\r\n-2.385,1.5\r", "y"); /* CRLF cut after the CR */
    check_values(mn_data_xc(d), (double[]){-2.385}, 1);
    mn_data_free(d);
}

static void test_csv_long_line_and_no_label(void **state)
{
    enum { COLS = 20000 }; /* lines of ~120 kB: far below the 16 MiB bound */
    size_t cap = (size_t)COLS * 3 * 9 + 64, len = 0; /* 3 lines, <= 9 bytes a field */
    char *text = malloc(cap);
    assert_non_null(text);
    for (int c = 0; c < COLS; c++) len += (size_t)sprintf(text + len, c ? ",c%d" : "c%d", c);
    for (int r = 0; r < 2; r++) {
        text[len++] = '\n';
        for (int c = 0; c < COLS; c++) len += (size_t)sprintf(text + len, c ? ",%d.5" : "%d.5", c + r);
    }
    text[len] = '\0';
    mn_data *d = read_ok(text, "c19999");
    free(text);
    assert_int_equal(mn_data_d(d), COLS - 1);
    assert_close(mn_data_xc(d)[COLS - 2], 19998.5, 0.0);
    assert_close(mn_data_xc(d)[COLS - 1], 1.5, 0.0);
    check_values(mn_data_yc(d), (double[]){19999.5, 20000.5}, 2);
    mn_data_free(d);
    d = read_ok("a,b\n2.385,1.5\n", NULL); /* no label: every column a feature */
    assert_int_equal(mn_data_d(d), 2);
    assert_int_equal(mn_data_m(d), 0);
    mn_data_free(d);
}

/* ---- CSV: bad files ---- */

static void test_csv_not_a_number(void **state)
{
    expect_err("a,b,c\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,abc\n", "c",
               MN_EFORMAT, ":7:3: not a number: 'abc'");
    expect_err("a,b\n2.385,1.5x\n", "b", MN_EFORMAT, ":2:2: not a number: '1.5x'");
    expect_err("a,b\n2.385,1.5 2\n", "b", MN_EFORMAT, ":2:2: not a number: '1.5 2'");
    expect_err("a,b\n2.385,-\n", "b", MN_EFORMAT, ":2:2: not a number: '-'");
    expect_err("a,b\n1.5,,2\n", "b", MN_EFORMAT, ":2: expected 2 fields, found 3");
    expect_err("a,b\n2.385,\n", "b", MN_EFORMAT, ":2:2: empty field");
    expect_err("a,b\n2.385, \"\" \n", "b", MN_EFORMAT, ":2:2: empty field");
    /* blank lines count in the line numbers */
    expect_err("a,b\n2.385,1.5\n\n\n3.5,x\n", "b", MN_EFORMAT, ":5:2: not a number: 'x'");
    /* a long field is cut short in the message */
    expect_err("a,b\n2.385,1234567890123456789012345678901234567890zzzz\n", "b", MN_EFORMAT,
               ":2:2: not a number: '1234567890123456789012345678901234567890...'");
}

static void test_csv_non_finite(void **state)
{
    const char *bad[] = {"nan", "NaN", "-nan", "inf", "-inf", "INF", "Infinity", "-infinity", "1e999",
                         "-2.385e400", "nan(123)"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[128], want[128];
        snprintf(text, sizeof text, "a,b,c\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n1.5,2.5,3.5\n"
                                    "1.5,2.5,3.5\n1.5,2.5,3.5\n1.5, %s ,3.5\n", bad[i]);
        snprintf(want, sizeof want, ":9:2: non-finite value '%s'", bad[i]);
        expect_err(text, "c", MN_EFORMAT, want);
    }
    mn_data *d = read_ok("a,b\n1e-400,2.385\n", "b"); /* underflow to 0 is finite: fine */
    assert_close(mn_data_xc(d)[0], 0.0, 1e-300);
    mn_data_free(d);
}

static void test_csv_field_count(void **state)
{
    expect_err("a,b,c,d,y\n1,2,3,4,5\n1,2,3,4,5\n1,2,3,4\n", "y", MN_EFORMAT, ":4: expected 5 fields, found 4");
    expect_err("a,b,y\n1,2,3\n1,2,3,4\n", "y", MN_EFORMAT, ":3: expected 3 fields, found 4");
    expect_err("a,b,y\n1,2,3,\n", "y", MN_EFORMAT, ":2: expected 3 fields, found 4");
}

static void test_csv_labels_bad(void **state)
{
    expect_err("a,b,c\n1,2,3\n", "y", MN_EFORMAT, ": label column 'y' not found (columns: a, b, c)");
    expect_err("a,,\"x,z\"\n1,2,3\n", "y", MN_EFORMAT, ": label column 'y' not found (columns: a, '', x,z)");
    expect_err("a,b,c\n1,2,3\n", "7", MN_EFORMAT, ": label column index 7 out of range (file has 3 columns)");
    expect_err("a,b,c\n1,2,3\n", "99999999999999999999999", MN_EFORMAT,
               ": label column index 99999999999999999999999 out of range (file has 3 columns)");
    expect_err("a,b\n1,2\n", "a,b", MN_EFORMAT, ": no feature columns (every column is a label)");
    expect_err("a,b,c\n1,2,3\n", "c,2", MN_EINVAL, ": label column '2' given twice");
    expect_err("a,b,c\n1,2,3\n", "a,,b", MN_EINVAL, ": empty column name in label list 'a,,b'");
    expect_err("a,b,a\n1,2,3\n", "a", MN_EFORMAT, ": label column 'a' is ambiguous (2 columns have that name)");
}

static void test_csv_empty(void **state)
{
    expect_err("", "y", MN_EFORMAT, ": empty file");
    expect_err("\n\r\n  \n", "y", MN_EFORMAT, ": empty file");
    expect_err("\xEF\xBB\xBF", "y", MN_EFORMAT, ": empty file");
    expect_err("a,y\n", "y", MN_EFORMAT, ": no data rows");
    expect_err("a,y\r\n\r\n\r\n", "y", MN_EFORMAT, ": no data rows");
    expect_err("a,y", "y", MN_EFORMAT, ": no data rows");
}

static void test_csv_syntax(void **state)
{
    expect_err("a,\"b,y\n1,2\n", "a", MN_EFORMAT, ":1:2: unterminated quote");
    expect_err("a,\"b\"c,y\n1,2,3\n", "a", MN_EFORMAT, ":1:2: text after closing quote");
    expect_path_err(write_tmp("a,y\n1.5,2\0x\n", 12), "y", MN_EFORMAT, ":2: NUL byte in line (binary file?)");
    /* quotes with "" inside a name */
    mn_data *d = read_ok("\"say \"\"hi\"\"\",y\n2.385,1\n", "say \"hi\"");
    check_values(mn_data_yc(d), (double[]){2.385}, 1);
    mn_data_free(d);
}

static void test_csv_io(void **state)
{
    mn_data *d = (mn_data *)&d;
    assert_int_equal(mn_data_read_csv(&d, "/tmp/mn_no_such_file.csv", "y"), MN_EIO);
    assert_null(d);
    check_msg("cannot open '/tmp/mn_no_such_file.csv': No such file or directory");
    assert_int_equal(mn_data_read_csv(&d, "/tmp", "y"), MN_EIO);
    check_msg("cannot read '/tmp': Is a directory");
    assert_int_equal(mn_data_read_csv(&d, NULL, "y"), MN_EINVAL);
    assert_int_equal(mn_data_read_csv(NULL, "/tmp/x.csv", "y"), MN_EINVAL);
}

/* Random bytes, commas and newlines: must fail or succeed, never crash. */
static void test_csv_fuzz(void **state)
{
    const char alphabet[] = "0123456789.,,,\n\n\r\"\" -+eExnaifNI\t\xEF\xBB\xBF\0";
    mn_rng r;
    mn_rng_seed(&r, 2385);
    for (int t = 0; t < 300; t++) {
        char text[256];
        size_t len = (size_t)(mn_rng_u64(&r) % sizeof text);
        for (size_t i = 0; i < len; i++) text[i] = alphabet[mn_rng_u64(&r) % (sizeof alphabet - 1)];
        mn_data *d = NULL;
        mn_status st = mn_data_read_csv(&d, write_tmp(text, len), t % 2 ? "0" : "1,0");
        assert_true(st == MN_OK || st == MN_EFORMAT || st == MN_EINVAL);
        assert_true((st == MN_OK) == (d != NULL));
        if (st) assert_null(strchr(mn_last_error(), '\n'));
        mn_data_free(d);
        remove_tmp(NULL);
    }
}

/* ---- standardize ---- */

static void test_standardize(void **state)
{
    mn_data *d = NULL;
    assert_int_equal(mn_data_alloc(&d, 5, 3, 1), MN_OK);
    double x[15] = {2.385, -1.25, 1e300, 3.75, 4.125, -2e300, -0.5, 7.5, 3e299, 1.125, -3.5, 5e299, 6.25, 0.875, -1e300};
    memcpy(mn_data_x(d), x, sizeof x);
    mn_data_y(d)[0] = 2.385;
    assert_int_equal(mn_data_standardize(d), MN_OK);
    for (int j = 0; j < 3; j++) {
        double mean = 0.0, var = 0.0;
        for (int i = 0; i < 5; i++) mean += mn_data_xc(d)[i * 3 + j] / 5;
        for (int i = 0; i < 5; i++) var += pow(mn_data_xc(d)[i * 3 + j] - mean, 2) / 5;
        assert_close(mean, 0.0, 1e-12);
        assert_close(var, 1.0, 1e-12);
    }
    assert_close(mn_data_yc(d)[0], 2.385, 0.0); /* labels untouched */
    mn_data_free(d);
}

static void test_standardize_bad(void **state)
{
    mn_data *d = NULL;
    assert_int_equal(mn_data_alloc(&d, 3, 4, 1), MN_OK);
    double x[12] = {2.385, -1.25, 0.1, 1.5, 3.75, 4.125, 0.1, 1.5, -0.5, 7.5, 0.1, -1.5};
    memcpy(mn_data_x(d), x, sizeof x);
    assert_int_equal(mn_data_standardize(d), MN_EINVAL);
    check_msg("feature 2 is constant; cannot standardize");
    assert_memory_equal(mn_data_xc(d), x, sizeof x); /* left as it was */
    mn_data_x(d)[2] = 2.385;
    mn_data_x(d)[7] = NAN;
    assert_int_equal(mn_data_standardize(d), MN_EINVAL);
    check_msg("feature 3 has a non-finite value in sample 1");
    mn_data_free(d);
    assert_int_equal(mn_data_alloc(&d, 1, 2, 0), MN_OK); /* one sample: every feature constant */
    assert_int_equal(mn_data_standardize(d), MN_EINVAL);
    check_msg("feature 0 is constant");
    mn_data_free(d);
    assert_int_equal(mn_data_standardize(NULL), MN_EINVAL);
}

/* ---- generators ---- */

typedef mn_status (*gen_fn)(mn_data **, int, uint64_t);
static mn_status gen_xor(mn_data **o, int n, uint64_t s) { return mn_gen_xor(o, n, 0.125, s); }
static mn_status gen_spirals(mn_data **o, int n, uint64_t s) { return mn_gen_spirals(o, n, 0.125, s); }
static mn_status gen_sep(mn_data **o, int n, uint64_t s) { return mn_gen_separable(o, n, 4, 0.75, s); }
static mn_status gen_teacher(mn_data **o, int n, uint64_t s) { return mn_gen_teacher_relu(o, n, 3, s); }

static int same_data(const mn_data *a, const mn_data *b)
{
    size_t nx = (size_t)mn_data_n(a) * (size_t)mn_data_d(a), ny = (size_t)mn_data_n(a) * (size_t)mn_data_m(a);
    return mn_data_n(a) == mn_data_n(b) && mn_data_d(a) == mn_data_d(b) && mn_data_m(a) == mn_data_m(b) &&
           memcmp(mn_data_xc(a), mn_data_xc(b), nx * sizeof(double)) == 0 &&
           memcmp(mn_data_yc(a), mn_data_yc(b), ny * sizeof(double)) == 0;
}

static void test_gen_deterministic(void **state)
{
    gen_fn gens[] = {gen_xor, gen_spirals, gen_sep, gen_teacher};
    for (int g = 0; g < 4; g++) {
        mn_data *a = NULL, *b = NULL, *c = NULL;
        assert_int_equal(gens[g](&a, 101, 2385), MN_OK);
        assert_int_equal(gens[g](&b, 101, 2385), MN_OK);
        assert_int_equal(gens[g](&c, 101, 2386), MN_OK);
        assert_true(same_data(a, b));
        assert_false(same_data(a, c));
        mn_data_free(a);
        mn_data_free(b);
        mn_data_free(c);
    }
}

static void check_pm1(const mn_data *d, int *npos)
{
    *npos = 0;
    assert_int_equal(mn_data_m(d), 1);
    for (int i = 0; i < mn_data_n(d); i++) {
        double y = mn_data_yc(d)[i];
        assert_true(y == 1.0 || y == -1.0);
        *npos += y > 0;
    }
}

static void test_gen_xor(void **state)
{
    mn_data *d = NULL;
    int npos;
    assert_int_equal(mn_gen_xor(&d, 2000, 0.0, 7), MN_OK);
    assert_int_equal(mn_data_d(d), 2);
    check_pm1(d, &npos);
    assert_true(npos > 900 && npos < 1100);
    for (int i = 0; i < 2000; i++) {
        const double *x = mn_data_xc(d) + 2 * i;
        assert_true(fabs(x[0]) <= 1.0 && fabs(x[1]) <= 1.0);
        assert_true(mn_data_yc(d)[i] == (x[0] * x[1] < 0 ? -1.0 : 1.0));
    }
    /* noise moves the points but not the labels of the clean points */
    mn_data *e = NULL;
    assert_int_equal(mn_gen_xor(&e, 2000, 0.25, 7), MN_OK);
    assert_memory_equal(mn_data_yc(d), mn_data_yc(e), 2000 * sizeof(double));
    assert_false(memcmp(mn_data_xc(d), mn_data_xc(e), 4000 * sizeof(double)) == 0);
    mn_data_free(d);
    mn_data_free(e);
}

static void test_gen_spirals(void **state)
{
    mn_data *d = NULL;
    int npos;
    assert_int_equal(mn_gen_spirals(&d, 7, 0.0, 11), MN_OK);
    check_pm1(d, &npos);
    assert_int_equal(npos, 4); /* odd n: the extra point goes to +1 */
    mn_data_free(d);
    assert_int_equal(mn_gen_spirals(&d, 1000, 0.0, 11), MN_OK);
    check_pm1(d, &npos);
    assert_int_equal(npos, 500);
    for (int i = 0; i < 1000; i++) {
        const double *x = mn_data_xc(d) + 2 * i;
        double rad = hypot(x[0], x[1]);
        assert_true(rad > 1.0 / 7 - 1e-12 && rad <= 1.0);
    }
    mn_data_free(d);
}

static void test_gen_separable(void **state)
{
    mn_data *d = NULL;
    int npos;
    /* d = 1: u = +-1, so |x| >= margin and y = sign(x) up to one global sign */
    assert_int_equal(mn_gen_separable(&d, 40000, 1, 1.5, 3), MN_OK);
    check_pm1(d, &npos);
    double flip = mn_data_yc(d)[0] * (mn_data_xc(d)[0] < 0 ? -1.0 : 1.0), mabs = 0.0;
    for (int i = 0; i < 40000; i++) {
        double x = mn_data_xc(d)[i];
        assert_true(fabs(x) >= 1.5);
        assert_true(mn_data_yc(d)[i] == flip * (x < 0 ? -1.0 : 1.0));
        mabs += fabs(x) / 40000;
    }
    assert_close(mabs, 1.9386771666225429, 0.015); /* E|z| given |z| >= 1.5 */
    mn_data_free(d);
    assert_int_equal(mn_gen_separable(&d, 40000, 1, 0.5, 3), MN_OK); /* the small-margin sampler */
    mabs = 0.0;
    for (int i = 0; i < 40000; i++) mabs += fabs(mn_data_xc(d)[i]) / 40000;
    assert_close(mabs, 1.1410777703680648, 0.015);
    mn_data_free(d);
    /* d = 4: points of opposite labels are >= 2 margin apart */
    assert_int_equal(mn_gen_separable(&d, 400, 4, 2.385, 5), MN_OK);
    check_pm1(d, &npos);
    assert_true(npos > 100 && npos < 300);
    const double *x = mn_data_xc(d), *y = mn_data_yc(d);
    for (int i = 0; i < 400; i++)
        for (int k = i + 1; k < 400; k++) {
            if (y[i] == y[k]) continue;
            double s = 0.0;
            for (int j = 0; j < 4; j++) s += pow(x[i * 4 + j] - x[k * 4 + j], 2);
            assert_true(sqrt(s) >= 2 * 2.385 - 1e-12);
        }
    mn_data_free(d);
    /* the largest margin allowed still finishes fast; margin 0 is fine */
    assert_int_equal(mn_gen_separable(&d, 2000, 10, 5.0, 9), MN_OK);
    mn_data_free(d);
    assert_int_equal(mn_gen_separable(&d, 50, 3, 0.0, 9), MN_OK);
    mn_data_free(d);
}

static void test_gen_teacher(void **state)
{
    mn_data *d = NULL;
    assert_int_equal(mn_gen_teacher_relu(&d, 500, 4, 13), MN_OK);
    assert_int_equal(mn_data_d(d), 4);
    assert_int_equal(mn_data_m(d), 1);
    int pos = 0;
    for (int i = 0; i < 500; i++) {
        double s = 0.0;
        for (int j = 0; j < 4; j++) {
            double v = mn_data_xc(d)[i * 4 + j];
            s += v > 0 ? v : 0.0;
            pos += v > 0;
        }
        assert_true(mn_data_yc(d)[i] == s);
    }
    assert_true(pos > 800 && pos < 1200);
    mn_data_free(d);
}

static void test_gen_bad(void **state)
{
    mn_data *d = (mn_data *)&d;
    assert_int_equal(mn_gen_xor(&d, 0, 0.1, 1), MN_EINVAL);
    assert_null(d);
    check_msg("xor: need at least 1 sample (n = 0)");
    assert_int_equal(mn_gen_xor(&d, 10, -0.1, 1), MN_EINVAL);
    check_msg("xor: noise must be finite and >= 0 (got -0.1)");
    assert_int_equal(mn_gen_xor(&d, 10, NAN, 1), MN_EINVAL);
    assert_int_equal(mn_gen_spirals(&d, -3, 0.1, 1), MN_EINVAL);
    check_msg("spirals: need at least 1 sample (n = -3)");
    assert_int_equal(mn_gen_spirals(&d, 10, INFINITY, 1), MN_EINVAL);
    check_msg("spirals: noise must be finite and >= 0 (got inf)");
    assert_int_equal(mn_gen_separable(&d, 10, 0, 0.5, 1), MN_EINVAL);
    check_msg("separable: need at least 1 feature (d = 0)");
    assert_int_equal(mn_gen_separable(&d, 10, 2, 5.5, 1), MN_EINVAL);
    check_msg("separable: margin must be in [0, 5] (got 5.5)");
    assert_int_equal(mn_gen_separable(&d, 10, 2, -0.5, 1), MN_EINVAL);
    assert_int_equal(mn_gen_separable(&d, 10, 2, NAN, 1), MN_EINVAL);
    assert_int_equal(mn_gen_separable(&d, 0, 2, 0.5, 1), MN_EINVAL);
    assert_int_equal(mn_gen_separable(&d, INT_MAX, INT_MAX, 0.5, 1), MN_EINVAL);
    check_msg("exceed the limit");
    assert_int_equal(mn_gen_teacher_relu(&d, 10, 0, 1), MN_EINVAL);
    check_msg("teacher_relu: need at least 1 feature (k = 0)");
    assert_int_equal(mn_gen_teacher_relu(&d, 0, 3, 1), MN_EINVAL);
    assert_null(d);
}

/* ---- bounds: a line past 16 MiB, a blank label list ---- */
static void test_csv_bounds(void **state)
{
    (void)state;
    const size_t big = ((size_t)1 << 24) + 10;
    char *text = malloc(big + 16);
    assert_non_null(text);
    strcpy(text, "a,y\n1,");
    memset(text + 6, '0', big);
    strcpy(text + 6 + big, "\n");
    expect_path_err(write_tmp(text, strlen(text)), "y", MN_EFORMAT, ":2: line longer than 16777216 bytes");
    free(text);
    mn_data *d = (mn_data *)&d;
    assert_int_equal(mn_data_read_csv(&d, csv("a,y\n1,2\n"), " "), MN_EINVAL);
    assert_null(d);
    check_msg("the label list ' ' is empty");
}

/* ---- parameter files ---- */
static void expect_params(const char *text, size_t len, size_t P, mn_status st, const char *want)
{
    double th[4] = {0};
    assert_int_equal(mn_params_read(th, P, write_tmp(text, len)), st);
    if (want) check_msg(want);
}

static void test_params_read(void **state)
{
    (void)state;
    double th[3];
    assert_int_equal(mn_params_read(th, 3, csv("2.385 -1.5\n\t0.25\r\n")), MN_OK);
    check_values(th, (double[]){2.385, -1.5, 0.25}, 3);
    assert_int_equal(mn_params_read(th, 3, csv("\xEF\xBB\xBF""2.385\n-1.5\n0.25\n")), MN_OK); /* BOM */
    check_values(th, (double[]){2.385, -1.5, 0.25}, 3);
    expect_params("1.5\0abc\n2 3\n", 12, 3, MN_EFORMAT, "NUL byte at byte 4 (binary file?)");
    expect_params("1 2 3 4", 7, 3, MN_EFORMAT, "the model has 3 parameters but the file holds more numbers");
    expect_params("1 2", 3, 3, MN_EFORMAT, "the model has 3 parameters but the file holds 2 numbers");
    expect_params("\xE2\x80\x8B""1.5 2 3", 11, 3, MN_EFORMAT, "number 1 '\\xe2\\x80\\x8b1.5' is not a number");
    expect_params("\xEF\xBB""1 2 3", 7, 3, MN_EFORMAT, "byte 1 is 0xef but no UTF-8 byte-order mark follows");
    expect_params("1 nan 3", 7, 3, MN_EFORMAT, "number 2 'nan' is not finite");
    char longtok[300];
    memset(longtok, '1', 299);
    longtok[299] = '\0';
    expect_params(longtok, 299, 3, MN_EFORMAT, "number 1 is longer than 128 bytes");
    assert_int_equal(mn_params_read(th, 3, "/dev/zero"), MN_EFORMAT); /* ends at once */
    check_msg("/dev/zero: NUL byte at byte 1");
    assert_int_equal(mn_params_read(th, 3, "/tmp/mn_no_such_params"), MN_EIO);
    check_msg("cannot open params file '/tmp/mn_no_such_params'");
}

/* Every test removes its temp files, pass or fail. */
#define T(f) cmocka_unit_test_teardown(f, remove_tmp)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(test_alloc),
        T(test_alloc_bad),
        T(test_view),
        T(test_csv_label_by_name),
        T(test_csv_label_by_index),
        T(test_csv_two_labels),
        T(test_csv_crlf_bom_quotes),
        T(test_csv_long_line_and_no_label),
        T(test_csv_not_a_number),
        T(test_csv_non_finite),
        T(test_csv_field_count),
        T(test_csv_labels_bad),
        T(test_csv_empty),
        T(test_csv_syntax),
        T(test_csv_io),
        T(test_csv_fuzz),
        T(test_csv_bounds),
        T(test_params_read),
        T(test_standardize),
        T(test_standardize_bad),
        T(test_gen_deterministic),
        T(test_gen_xor),
        T(test_gen_spirals),
        T(test_gen_separable),
        T(test_gen_teacher),
        T(test_gen_bad),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
