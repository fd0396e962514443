/* mn_popul_plot (include/minima/popul.h): the figure's files, bad arguments,
 * and gnuplot missing or failing. The drawing itself is gnuplot's; here we
 * check only that both formats arrive whole, or that nothing does. Tests that
 * need gnuplot are skipped when it is not installed. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/popul.h"
#include "minima/sweep.h"

#define NROWS 7

/* Two series (n = k at k = 5..8, n = k + 1 at k = 5..7), given out of k
 * order; counts out of 800 restarts so the intervals are not symmetric. */
static void make_rows(mn_popul_row *rows, mn_popul_spec *specs)
{
    static const int k[NROWS] = {7, 5, 8, 6, 6, 7, 5}, d[NROWS] = {0, 0, 0, 0, 1, 1, 1};
    static const int spur[NROWS] = {91, 3, 187, 22, 4, 17, 0};
    for (int i = 0; i < NROWS; i++) {
        memset(&rows[i], 0, sizeof rows[i]);
        specs[i] = (mn_popul_spec){k[i] + d[i], k[i], 0, 0.0};
        rows[i].k = k[i], rows[i].n = k[i] + d[i], rows[i].restarts = 800;
        rows[i].count[MN_CLASS_SPURIOUS] = spur[i];
        rows[i].spurious_pct = 100.0 * spur[i] / 800;
        mn_wilson(&rows[i].spurious_lo, &rows[i].spurious_hi, spur[i], 800, MN_Z95);
        rows[i].spurious_lo *= 100, rows[i].spurious_hi *= 100;
    }
}

static int exists(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0;
}

/* 1 when an executable gnuplot is on PATH */
static int have_gnuplot(void)
{
    const char *path = getenv("PATH");
    char dirs[4096], file[4200];
    snprintf(dirs, sizeof dirs, "%s", path ? path : "");
    for (char *save = NULL, *p = strtok_r(dirs, ":", &save); p; p = strtok_r(NULL, ":", &save)) {
        snprintf(file, sizeof file, "%s/gnuplot", *p ? p : ".");
        if (access(file, X_OK) == 0) return 1;
    }
    return 0;
}

typedef struct {
    char dir[64];                 /* mkdtemp folder under /tmp */
    char prefix[128], png[160], svg[160];
} fixture;

static int setup(void **state)
{
    fixture *fx = calloc(1, sizeof *fx);
    if (!fx) return -1;
    snprintf(fx->dir, sizeof fx->dir, "/tmp/test_popul_plot-XXXXXX");
    if (!mkdtemp(fx->dir)) return free(fx), -1;
    snprintf(fx->prefix, sizeof fx->prefix, "%s/fig", fx->dir);
    snprintf(fx->png, sizeof fx->png, "%s.png", fx->prefix);
    snprintf(fx->svg, sizeof fx->svg, "%s.svg", fx->prefix);
    *state = fx;
    return 0;
}

static int teardown(void **state)
{
    fixture *fx = *state;
    char path[200];
    remove(fx->png), remove(fx->svg);
    snprintf(path, sizeof path, "%s/gnuplot", fx->dir), remove(path);
    snprintf(path, sizeof path, "%s/bin", fx->dir), rmdir(path);
    rmdir(fx->dir);
    free(fx);
    return 0;
}

/* Both files, whole: PNG signature, an <svg element. */
static void test_writes_png_and_svg(void **state)
{
    fixture *fx = *state;
    if (!have_gnuplot()) skip();
    mn_popul_row rows[NROWS];
    mn_popul_spec specs[NROWS];
    make_rows(rows, specs);
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, fx->prefix), MN_OK);
    unsigned char sig[8] = {0};
    FILE *f = fopen(fx->png, "rb");
    assert_non_null(f);
    assert_int_equal(fread(sig, 1, 8, f), 8);
    fclose(f);
    assert_memory_equal(sig, "\x89PNG\r\n\x1a\n", 8);
    static char text[1 << 20];
    assert_non_null(f = fopen(fx->svg, "r"));
    size_t len = fread(text, 1, sizeof text - 1, f);
    fclose(f);
    text[len] = '\0';
    assert_non_null(strstr(text, "<svg"));
    assert_non_null(strstr(text, "n = k + 1")); /* both series in the legend */
    assert_non_null(strstr(text, "n = k<"));
}

static void test_bad_arguments(void **state)
{
    fixture *fx = *state;
    mn_popul_row rows[NROWS];
    mn_popul_spec specs[NROWS];
    make_rows(rows, specs);
    assert_int_equal(mn_popul_plot(rows, specs, 0, fx->prefix), MN_EINVAL);
    assert_true(strlen(mn_last_error()) > 0 && !strchr(mn_last_error(), '\n'));
    assert_int_equal(mn_popul_plot(rows, specs, -3, fx->prefix), MN_EINVAL);
    assert_int_equal(mn_popul_plot(NULL, specs, NROWS, fx->prefix), MN_EINVAL);
    assert_int_equal(mn_popul_plot(rows, NULL, NROWS, fx->prefix), MN_EINVAL);
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, NULL), MN_EINVAL);
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, ""), MN_EINVAL);
    specs[2].elim = 1, specs[2].lambda = -1; /* a spec no experiment accepts */
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, fx->prefix), MN_EINVAL);
    make_rows(rows, specs);
    rows[3].k = 9; /* rows and specs out of step */
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, fx->prefix), MN_EINVAL);
    assert_false(exists(fx->png) || exists(fx->svg));
}

/* mn_popul_plot with PATH set to `path` for the call (restored after). */
static mn_status plot_with_path(const char *path, const mn_popul_row *rows, const mn_popul_spec *specs,
                                const char *prefix)
{
    char *saved = getenv("PATH") ? strdup(getenv("PATH")) : NULL;
    setenv("PATH", path, 1);
    mn_status st = mn_popul_plot(rows, specs, NROWS, prefix);
    if (saved)
        setenv("PATH", saved, 1);
    else
        unsetenv("PATH");
    free(saved);
    return st;
}

/* PATH without gnuplot: MN_EIO saying so, and an old figure at the prefix
 * is removed rather than left to pass for a new one. */
static void test_no_gnuplot(void **state)
{
    fixture *fx = *state;
    mn_popul_row rows[NROWS];
    mn_popul_spec specs[NROWS];
    make_rows(rows, specs);
    FILE *f = fopen(fx->png, "w");
    assert_non_null(f);
    fputs("old", f), fclose(f);
    char empty[100];
    snprintf(empty, sizeof empty, "%s/bin", fx->dir);
    assert_int_equal(mkdir(empty, 0700), 0);
    mn_status st = plot_with_path(empty, rows, specs, fx->prefix);
    assert_int_equal(st, MN_EIO);
    assert_non_null(strstr(mn_last_error(), "gnuplot not found"));
    assert_false(exists(fx->png) || exists(fx->svg));
}

/* A gnuplot that writes half a PNG and fails: MN_EIO with its message, and
 * the half-written file is gone. */
static void test_gnuplot_fails(void **state)
{
    fixture *fx = *state;
    mn_popul_row rows[NROWS];
    mn_popul_spec specs[NROWS];
    make_rows(rows, specs);
    char fake[200];
    snprintf(fake, sizeof fake, "%s/gnuplot", fx->dir);
    FILE *f = fopen(fake, "w");
    assert_non_null(f);
    fprintf(f, "#!/bin/sh\nprintf '\\211PNG' > '%s'\necho 'line 3: all went wrong' >&2\nexit 1\n", fx->png);
    fclose(f);
    assert_int_equal(chmod(fake, 0700), 0);
    mn_status st = plot_with_path(fx->dir, rows, specs, fx->prefix);
    assert_int_equal(st, MN_EIO);
    assert_non_null(strstr(mn_last_error(), "all went wrong"));
    assert_false(exists(fx->png) || exists(fx->svg));
    /* one that exits 0 having written only the PNG: the SVG is missed */
    assert_non_null(f = fopen(fake, "w"));
    fprintf(f, "#!/bin/sh\nprintf '\\211PNG' > '%s'\n", fx->png);
    fclose(f);
    st = plot_with_path(fx->dir, rows, specs, fx->prefix);
    assert_int_equal(st, MN_EIO);
    assert_non_null(strstr(mn_last_error(), "did not write"));
    assert_false(exists(fx->png) || exists(fx->svg));
}

/* An output gnuplot cannot open (a missing folder): MN_EIO, nothing written. */
static void test_unwritable_prefix(void **state)
{
    fixture *fx = *state;
    if (!have_gnuplot()) skip();
    mn_popul_row rows[NROWS];
    mn_popul_spec specs[NROWS];
    make_rows(rows, specs);
    char prefix[200];
    snprintf(prefix, sizeof prefix, "%s/no-such-folder/fig", fx->dir);
    assert_int_equal(mn_popul_plot(rows, specs, NROWS, prefix), MN_EIO);
    assert_non_null(strstr(mn_last_error(), "gnuplot"));
    char png[220];
    snprintf(png, sizeof png, "%s.png", prefix);
    assert_false(exists(png));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_writes_png_and_svg, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bad_arguments, setup, teardown),
        cmocka_unit_test_setup_teardown(test_no_gnuplot, setup, teardown),
        cmocka_unit_test_setup_teardown(test_gnuplot_fails, setup, teardown),
        cmocka_unit_test_setup_teardown(test_unwritable_prefix, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
