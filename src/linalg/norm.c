/* Euclidean norm that neither overflows nor underflows on the way. */
#include <float.h>
#include <math.h>

#include "minima.h"

double mn_norm2(const double *x, size_t n, const unsigned char *mask)
{
    /* The plain sum first: bit for bit what sqrt(sum x^2) always gave where
     * it was right (results stored before this function stay reproducible). */
    double s2 = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask || mask[i]) s2 += x[i] * x[i];
    if (isnan(s2) || (s2 >= DBL_MIN && s2 <= DBL_MAX)) return sqrt(s2);
    /* Overflowed (some |x_i| > ~1e154) or underflowed: scale by the largest
     * magnitude, as LAPACK's dnrm2 does. Infinite entries give INFINITY. */
    double big = 0;
    for (size_t i = 0; i < n; i++)
        if ((!mask || mask[i]) && fabs(x[i]) > big) big = fabs(x[i]);
    if (big == 0 || isinf(big)) return big;
    double t = 0;
    for (size_t i = 0; i < n; i++)
        if (!mask || mask[i]) t += (x[i] / big) * (x[i] / big);
    return big * sqrt(t); /* INFINITY only when the norm itself exceeds DBL_MAX */
}
