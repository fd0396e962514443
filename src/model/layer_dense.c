/* The dense layer z = W h + b: W (out x in) row-major, b (out), through
 * OpenBLAS (see layer.h for the operator's contract). */
#include <cblas.h>
#include <string.h>

#include "layer.h"

static size_t dense_nweights(int in, int out) { return (size_t)out * (size_t)in; }
static int dense_nbias(int out) { return out; }
static int dense_shape_ok(int in, int out) { return in >= 1 && out >= 1; }
static int dense_square(int in, int out) { return in == out; }

static void dense_identity(int in, int out, double *w)
{
    memset(w, 0, (size_t)out * (size_t)in * sizeof *w);
    for (int k = 0; k < out; k++) w[(size_t)k * in + k] = 1.0;
}

/* Y (n x out) = X (n x in) W^T (W: out x in) + beta Y. */
static void gemm_nt(int n, int in, int out, const double *x, const double *w, double beta, double *y)
{
    if (out == 1) { /* y (n) = X w: a matrix-vector product, no GEMM packing */
        cblas_dgemv(CblasRowMajor, CblasNoTrans, n, in, 1.0, x, in, w, 1, beta, y, 1);
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, n, out, in, 1.0, x, in, w, in, beta, y, out);
}

/* D (out x in) += G^T (n x out)^T X (n x in): a weight gradient. */
static void gemm_tn(int n, int in, int out, const double *g, const double *x, double *dw)
{
    if (out == 1) { /* dw (in) += X^T g */
        cblas_dgemv(CblasRowMajor, CblasTrans, n, in, 1.0, x, in, g, 1, 1.0, dw, 1);
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, out, in, n, 1.0, g, out, x, in, 1.0, dw, in);
}

/* Y (n x in) = G (n x out) W (out x in) + beta Y. */
static void gemm_nn(int n, int in, int out, const double *g, const double *w, double beta, double *y)
{
    if (out == 1) { /* Y (n x in) = g w^T + beta Y: an outer product, written out */
        for (int i = 0; i < n; i++) {
            double *restrict yi = y + (size_t)i * in;
            const double gi = g[i];
            if (beta == 0.0)
                for (int c = 0; c < in; c++) yi[c] = gi * w[c];
            else
                for (int c = 0; c < in; c++) yi[c] = beta * yi[c] + gi * w[c];
        }
        return;
    }
    cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, n, in, out, 1.0, g, out, w, in, beta, y, in);
}

/* Z (n x w) = 1 b^T: the bias broadcast, so the GEMM can accumulate with beta = 1
 * (OpenBLAS then skips its separate zeroing pass over C). */
static void dense_bias_fill(int n, int w, const double *restrict b, double *restrict z)
{
    for (int i = 0; i < n; i++) memcpy(z + (size_t)i * w, b, (size_t)w * sizeof *z);
}

static void dense_bias_add(int n, int w, const double *restrict vb, double *restrict z)
{
    for (int i = 0; i < n; i++)
        for (int k = 0; k < w; k++) z[(size_t)i * w + k] += vb[k];
}

/* db (w) += column sums of G (n x w), in a fixed order. */
static void dense_bias_grad(int n, int w, const double *restrict g, double *restrict db)
{
    if (w == 1) { /* one output: keep the running sum in a register */
        double s0 = db[0];
        for (int i = 0; i < n; i++) s0 += g[i];
        db[0] = s0;
        return;
    }
    for (int i = 0; i < n; i++)
        for (int k = 0; k < w; k++) db[k] += g[(size_t)i * w + k];
}

const mn_layer_op mn_layer_dense = {
    .name = "dense",
    .nweights = dense_nweights,
    .nbias = dense_nbias,
    .shape_ok = dense_shape_ok,
    .square = dense_square,
    .identity = dense_identity,
    .forward = gemm_nt,
    .grad_w = gemm_tn,
    .grad_in = gemm_nn,
    .bias_fill = dense_bias_fill,
    .bias_add = dense_bias_add,
    .bias_grad = dense_bias_grad,
};
