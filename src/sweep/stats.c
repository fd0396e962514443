/* The statistics of summaries and experiment tables, once: the Wilson
 * interval and the median. */
#include <math.h>
#include <stdlib.h>

#include "minima/sweep.h"

void mn_wilson(double *lo, double *hi, long k, long n, double z)
{
    if (n <= 0) {
        *lo = 0.0, *hi = 1.0;
        return;
    }
    const double nn = (double)n, p = (double)k / nn, z2 = z * z;
    const double denom = 1.0 + z2 / nn;
    const double centre = (p + z2 / (2.0 * nn)) / denom;
    const double half = z / denom * sqrt(p * (1.0 - p) / nn + z2 / (4.0 * nn * nn));
    *lo = centre - half < 0.0 ? 0.0 : centre - half;
    *hi = centre + half > 1.0 ? 1.0 : centre + half;
    if (k == 0) *lo = 0.0; /* exact: no rounding residue at the ends */
    if (k == n) *hi = 1.0;
}

static int cmp_double(const void *a, const void *b)
{
    const double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double mn_median(double *v, long n)
{
    long k = 0;
    for (long i = 0; i < n; i++)
        if (!isnan(v[i])) v[k++] = v[i];
    if (k == 0) return NAN;
    qsort(v, (size_t)k, sizeof *v, cmp_double);
    return k % 2 ? v[k / 2] : 0.5 * (v[k / 2 - 1] + v[k / 2]);
}
