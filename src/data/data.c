/* Data sets: n samples, d features (x, n x d), m label columns (y, n x m),
 * both row-major, held in one allocation with the struct (or, for a view,
 * in the caller's arrays). */
#include "minima.h"

#include <limits.h>
#include <math.h>
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

/* Values in x and y together stay below INT_MAX so that every flat index
 * i * d + j elsewhere in the library fits an int. */
#define MN_DATA_MAX_VALUES ((int64_t)INT_MAX)

struct mn_data {
    int n, d, m;
    double *x; /* n x d */
    double *y; /* n x m; points just past x (zero length) when m = 0 */
    double buf[]; /* x then y; empty for a view */
};

static mn_status check_sizes(int n, int d, int m)
{
    if (n < 1) return mn_fail(MN_EINVAL, "data: need at least 1 sample (n = %d)", n);
    if (d < 1) return mn_fail(MN_EINVAL, "data: need at least 1 feature (d = %d)", d);
    if (m < 0) return mn_fail(MN_EINVAL, "data: label columns must be >= 0 (m = %d)", m);
    int64_t count = (int64_t)n * ((int64_t)d + m); /* < 2^63: no overflow */
    if (count > MN_DATA_MAX_VALUES || (uint64_t)count > (SIZE_MAX - sizeof(mn_data)) / sizeof(double))
        return mn_fail(MN_EINVAL, "data: %d x (%d + %d) values exceed the limit of %lld",
                       n, d, m, (long long)MN_DATA_MAX_VALUES);
    return MN_OK;
}

mn_status mn_data_alloc(mn_data **out, int n, int d, int m)
{
    if (!out) return mn_fail(MN_EINVAL, "data: output pointer is NULL");
    *out = NULL;
    mn_status st = check_sizes(n, d, m);
    if (st) return st;
    const size_t count = (size_t)n * ((size_t)d + (size_t)m);
    if ((st = mn_mem_check((double)count * sizeof(double), "the data set"))) return st;
    mn_data *data = calloc(1, sizeof(mn_data) + count * sizeof(double));
    if (!data)
        return mn_fail(MN_ENOMEM, "data: out of memory for %d x (%d + %d) values", n, d, m);
    data->n = n;
    data->d = d;
    data->m = m;
    data->x = data->buf;
    data->y = data->buf + (size_t)n * (size_t)d;
    *out = data;
    return MN_OK;
}

mn_status mn_data_view(mn_data **out, int n, int d, int m, const double *x, const double *y)
{
    if (!out) return mn_fail(MN_EINVAL, "data: output pointer is NULL");
    *out = NULL;
    mn_status st = check_sizes(n, d, m);
    if (st) return st;
    if (!x || (m > 0 && !y)) return mn_fail(MN_EINVAL, "data view: x or y is NULL");
    mn_data *data = malloc(sizeof(mn_data));
    if (!data) return mn_fail(MN_ENOMEM, "data view: out of memory");
    data->n = n;
    data->d = d;
    data->m = m;
    /* Never written by the library's readers; the caller owns the arrays. */
    data->x = (double *)(uintptr_t)x;
    data->y = m > 0 ? (double *)(uintptr_t)y : data->x + (size_t)n * (size_t)d;
    *out = data;
    return MN_OK;
}

void mn_data_free(mn_data *data) { free(data); }

int mn_data_n(const mn_data *data) { return data ? data->n : 0; }
int mn_data_d(const mn_data *data) { return data ? data->d : 0; }
int mn_data_m(const mn_data *data) { return data ? data->m : 0; }
double *mn_data_x(mn_data *data) { return data ? data->x : NULL; }
double *mn_data_y(mn_data *data) { return data ? data->y : NULL; }
const double *mn_data_xc(const mn_data *data) { return data ? data->x : NULL; }
const double *mn_data_yc(const mn_data *data) { return data ? data->y : NULL; }

void mn_data_key(char *key, size_t len, const mn_data *data)
{
    const size_t nx = (size_t)data->n * data->d, ny = (size_t)data->n * data->m;
    uint64_t h = mn_hash_bytes(MN_FNV_OFFSET, data->x, nx * sizeof *data->x);
    h = mn_hash_bytes(h, data->y, ny * sizeof *data->y);
    snprintf(key, len, "fnv1a64:%016" PRIx64 " n=%d d=%d m=%d", h, data->n, data->d, data->m);
}

/* Row of the first NaN or infinity in column j of x (n x d), or -1. */
static int first_nonfinite(const double *x, int n, int d, int j)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(x[(size_t)i * d + j])) return i;
    return -1;
}

/* Column j of x (n x d), all finite, scaled by a power of two s (exact) so that every
 * |v * s| <= 2^24 and nothing can overflow: gives s and the mean and population
 * std of v * s. Returns 0 when the column is constant. */
static int column_stats(const double *x, int n, int d, int j, double *s, double *mean,
                        double *std)
{
    double lo = x[j], hi = x[j];
    for (int i = 1; i < n; i++) {
        double v = x[(size_t)i * d + j];
        lo = v < lo ? v : lo;
        hi = v > hi ? v : hi;
    }
    if (lo == hi) return 0;
    int e;
    frexp(fmax(fabs(lo), fabs(hi)), &e);
    e = e < -1000 ? -1000 : e > 1000 ? 1000 : e; /* keep s itself finite and normal */
    double sc = ldexp(1.0, -e), sum = 0.0, corr = 0.0, ss = 0.0;
    for (int i = 0; i < n; i++) sum += x[(size_t)i * d + j] * sc;
    double mu = sum / n;
    for (int i = 0; i < n; i++) corr += x[(size_t)i * d + j] * sc - mu;
    mu += corr / n; /* second pass: corrects the rounding of the first */
    for (int i = 0; i < n; i++) {
        double t = x[(size_t)i * d + j] * sc - mu;
        ss += t * t;
    }
    double sd = sqrt(ss / n);
    if (!(sd > 0.0)) return 0;
    *s = sc;
    *mean = mu;
    *std = sd;
    return 1;
}

mn_status mn_data_standardize(mn_data *data)
{
    if (!data) return mn_fail(MN_EINVAL, "standardize: data is NULL");
    double sc, mu, sd;
    /* Check every column first so a failure leaves the data untouched. */
    for (int j = 0; j < data->d; j++) {
        int bad = first_nonfinite(data->x, data->n, data->d, j);
        if (bad >= 0)
            return mn_fail(MN_EINVAL, "feature %d has a non-finite value in sample %d; cannot standardize",
                           j, bad);
        if (!column_stats(data->x, data->n, data->d, j, &sc, &mu, &sd))
            return mn_fail(MN_EINVAL, "feature %d is constant; cannot standardize", j);
    }
    for (int j = 0; j < data->d; j++) {
        column_stats(data->x, data->n, data->d, j, &sc, &mu, &sd);
        for (int i = 0; i < data->n; i++) {
            double *v = &data->x[(size_t)i * data->d + j];
            *v = (*v * sc - mu) / sd;
        }
    }
    return MN_OK;
}
