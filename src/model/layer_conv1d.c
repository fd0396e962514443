/* The circular 1-D convolution with a full-width filter (see minima.h):
 *   z[k] = sum_{j=0}^{D-1} f[j] h[(k + j) mod D] + c,   k = 0..D-1,
 * filter f (D), one shared bias c. As a matrix z = C(f) h + c 1 with the
 * circulant C[k][m] = f[(m - k) mod D], so
 *   dL/df[j] = sum_k g[k] h[(k + j) mod D],   dL/dh[m] = sum_k g[k] f[(m - k) mod D],
 *   dL/dc = sum_k g[k].
 * Direct sums, O(n D^2): D is the input width (tens of features here). */
#include <string.h>

#include "layer.h"

static size_t conv_nweights(int in, int out) { return (size_t)in; }
static int conv_nbias(int out) { return 1; }
static int conv_shape_ok(int in, int out) { return in >= 1 && in == out; }
static int conv_square(int in, int out) { return 1; }

static void conv_identity(int in, int out, double *f)
{
    memset(f, 0, (size_t)in * sizeof *f);
    f[0] = 1.0; /* z[k] = h[k] */
}

static void conv_forward(int n, int D, int out, const double *h, const double *f, double beta, double *z)
{
    for (int i = 0; i < n; i++) {
        const double *hi = h + (size_t)i * D;
        double *zi = z + (size_t)i * D;
        for (int k = 0; k < D; k++) {
            double s = 0.0;
            for (int j = 0; j < D - k; j++) s += f[j] * hi[k + j];
            for (int j = D - k; j < D; j++) s += f[j] * hi[k + j - D];
            zi[k] = beta == 0.0 ? s : beta * zi[k] + s;
        }
    }
}

static void conv_grad_w(int n, int D, int out, const double *g, const double *h, double *df)
{
    for (int j = 0; j < D; j++) {
        double s = 0.0;
        for (int i = 0; i < n; i++) {
            const double *gi = g + (size_t)i * D, *hi = h + (size_t)i * D;
            for (int k = 0; k < D - j; k++) s += gi[k] * hi[k + j];
            for (int k = D - j; k < D; k++) s += gi[k] * hi[k + j - D];
        }
        df[j] += s;
    }
}

static void conv_grad_in(int n, int D, int out, const double *g, const double *f, double beta, double *t)
{
    for (int i = 0; i < n; i++) {
        const double *gi = g + (size_t)i * D;
        double *ti = t + (size_t)i * D;
        for (int m = 0; m < D; m++) {
            double s = 0.0; /* k <= m: f[m - k]; k > m: f[m - k + D] */
            for (int k = 0; k <= m; k++) s += gi[k] * f[m - k];
            for (int k = m + 1; k < D; k++) s += gi[k] * f[m - k + D];
            ti[m] = beta == 0.0 ? s : beta * ti[m] + s;
        }
    }
}

static void conv_bias_fill(int n, int D, const double *b, double *z)
{
    for (size_t i = 0; i < (size_t)n * D; i++) z[i] = b[0];
}

static void conv_bias_add(int n, int D, const double *vb, double *z)
{
    for (size_t i = 0; i < (size_t)n * D; i++) z[i] += vb[0];
}

static void conv_bias_grad(int n, int D, const double *g, double *db)
{
    double s = db[0];
    for (size_t i = 0; i < (size_t)n * D; i++) s += g[i];
    db[0] = s;
}

const mn_layer_op mn_layer_conv1d = {
    .name = "conv1d",
    .nweights = conv_nweights,
    .nbias = conv_nbias,
    .shape_ok = conv_shape_ok,
    .square = conv_square,
    .identity = conv_identity,
    .forward = conv_forward,
    .grad_w = conv_grad_w,
    .grad_in = conv_grad_in,
    .bias_fill = conv_bias_fill,
    .bias_add = conv_bias_add,
    .bias_grad = conv_bias_grad,
};
