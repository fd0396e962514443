/* Small real data sets by name: the CSV files Debian's python3-sklearn ships
 * in sklearn/datasets/data. Their format is not a header of column names:
 * the sklearn files start with "n_samples,n_features,class names..." and
 * every row is d features then the class index; digits.csv.gz has no first
 * line at all (1797 rows of 64 pixel values and the digit). zlib reads the
 * gzip file and, transparently, the plain ones. */
#include "minima.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#define MN_SKLEARN_DATA "/usr/lib/python3/dist-packages/sklearn/datasets/data"
#define LINE_MAX_LEN 8192 /* the longest row (breast_cancer) is ~ 250 bytes */

typedef struct {
    const char *name, *file;
    int header; /* 1: a first line "n,d,class names" */
    int n, d, k;
} dataset;

static const dataset sets[] = {
    {"iris", "iris.csv", 1, 150, 4, 3},
    {"wine", "wine_data.csv", 1, 178, 13, 3},
    {"breast_cancer", "breast_cancer.csv", 1, 569, 30, 2},
    {"digits", "digits.csv.gz", 0, 1797, 64, 10},
};
#define NSETS ((int)(sizeof sets / sizeof *sets))

static const char *const label_names[] = {"class", "pm1", "01", "ovr"};

mn_status mn_labelling_parse(mn_labelling *out, const char *name)
{
    for (int i = 0; i < 4; i++)
        if (name && !strcmp(name, label_names[i])) {
            *out = (mn_labelling)i;
            return MN_OK;
        }
    return mn_fail(MN_EINVAL, "unknown labelling '%s' (expected class|pm1|01|ovr)", name ? name : "(null)");
}

const char *mn_labelling_name(mn_labelling l) { return (unsigned)l < 4 ? label_names[l] : "?"; }

const char *mn_dataset_names(void) { return "iris|wine|breast_cancer|digits"; }

/* Splits a row of exactly `want` comma-separated numbers into v. */
static mn_status parse_row(double *v, char *line, int want, const char *path, long lineno)
{
    char *p = line;
    for (int c = 0; c < want; c++) {
        char *end;
        errno = 0;
        v[c] = strtod(p, &end);
        if (end == p || errno == ERANGE)
            return mn_fail(MN_EFORMAT, "%s:%ld:%d: not a number", path, lineno, c + 1);
        p = end;
        if (c + 1 < want && *p++ != ',')
            return mn_fail(MN_EFORMAT, "%s:%ld: expected %d fields, found %d", path, lineno, want, c + 1);
    }
    p += strspn(p, " \r\n");
    if (*p) return mn_fail(MN_EFORMAT, "%s:%ld: expected %d fields, found more", path, lineno, want);
    return MN_OK;
}

/* The labels of class c (0..k-1) in row i of y (n x m). */
static void put_label(double *yi, mn_labelling lab, int c, int k, int positive)
{
    switch (lab) {
    case MN_LABELS_CLASS: yi[0] = c; break;
    case MN_LABELS_PM1: yi[0] = c == positive ? 1.0 : -1.0; break;
    case MN_LABELS_01: yi[0] = c == positive ? 1.0 : 0.0; break;
    case MN_LABELS_OVR:
        for (int j = 0; j < k; j++) yi[j] = j == c ? 1.0 : -1.0;
        break;
    }
}

/* Reads the rows of set s from f into *out (n x d features, labels as asked). */
static mn_status read_rows(mn_data **out, gzFile f, const char *path, const dataset *s, mn_labelling lab,
                           int positive)
{
    char line[LINE_MAX_LEN];
    double v[128]; /* d + 1 <= 65 */
    long lineno = 0;
    int m = lab == MN_LABELS_OVR ? s->k : 1;
    if (s->header) {
        lineno++;
        if (!gzgets(f, line, sizeof line)) return mn_fail(MN_EFORMAT, "%s: empty file", path);
        char *end;
        long n = strtol(line, &end, 10), d = *end == ',' ? strtol(end + 1, &end, 10) : -1;
        if (n != s->n || d != s->d)
            return mn_fail(MN_EFORMAT, "%s:1: expected first line '%d,%d,<class names>'", path, s->n, s->d);
    }
    mn_status st = mn_data_alloc(out, s->n, s->d, m);
    if (st) return st;
    double *x = mn_data_x(*out), *y = mn_data_y(*out);
    for (int i = 0; i < s->n; i++) {
        lineno++;
        if (!gzgets(f, line, sizeof line))
            return mn_fail(MN_EFORMAT, "%s: %d data rows, expected %d", path, i, s->n);
        if ((st = parse_row(v, line, s->d + 1, path, lineno))) return st;
        int c = (int)v[s->d];
        if (c != v[s->d] || c < 0 || c >= s->k)
            return mn_fail(MN_EFORMAT, "%s:%ld: class '%g' is not an integer in 0..%d", path, lineno, v[s->d],
                           s->k - 1);
        memcpy(x + (size_t)i * s->d, v, (size_t)s->d * sizeof *x);
        put_label(y + (size_t)i * m, lab, c, s->k, positive);
    }
    if (gzgets(f, line, sizeof line) && line[strspn(line, " \r\n")])
        return mn_fail(MN_EFORMAT, "%s:%ld: more than the %d expected data rows", path, lineno + 1, s->n);
    return MN_OK;
}

mn_status mn_data_load_dataset(mn_data **out, const char *name, mn_labelling lab, int positive, const char *dir)
{
    if (!out) return mn_fail(MN_EINVAL, "dataset: output pointer is NULL");
    *out = NULL;
    const dataset *s = NULL;
    for (int i = 0; i < NSETS; i++)
        if (name && !strcmp(name, sets[i].name)) s = &sets[i];
    if (!s) return mn_fail(MN_EINVAL, "unknown dataset '%s' (expected %s)", name ? name : "(null)", mn_dataset_names());
    if ((unsigned)lab > MN_LABELS_OVR) return mn_fail(MN_EINVAL, "dataset: bad labelling %d", (int)lab);
    int binary = lab == MN_LABELS_PM1 || lab == MN_LABELS_01;
    if (binary && positive < 0) {
        if (s->k != 2)
            return mn_fail(MN_EINVAL, "dataset '%s' has %d classes: a %s labelling needs a positive class 0..%d",
                           name, s->k, mn_labelling_name(lab), s->k - 1);
        positive = 1;
    }
    if (binary && positive >= s->k)
        return mn_fail(MN_EINVAL, "dataset '%s': positive class %d out of range 0..%d", name, positive, s->k - 1);
    if (!binary && positive >= 0)
        return mn_fail(MN_EINVAL, "dataset: a positive class applies to the pm1 and 01 labellings only");
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", dir ? dir : MN_SKLEARN_DATA, s->file);
    gzFile f = gzopen(path, "rb");
    if (!f)
        return mn_fail(MN_EIO, "cannot open '%s' (dataset '%s'; Debian package python3-sklearn): %s", path, name,
                       errno ? strerror(errno) : "zlib error");
    mn_status st = read_rows(out, f, path, s, lab, positive);
    gzclose(f);
    if (st) {
        mn_data_free(*out);
        *out = NULL;
    }
    return st;
}
