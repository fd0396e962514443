/* The dense layer z = W h + b: W (out x in) row-major, b (out), through
 * OpenBLAS (see layer.h for the operator's contract). */
#include <cblas.h>
#include <string.h>

#include "layer.h"
#include "split.h"

/* A large product is cut into blocks of output rows (split.h), one
 * single-threaded GEMM each on OpenMP threads. */
static int split_threads(int rows, int a, int b)
{
    return mn_split_threads((double)rows * a * b, rows / MN_SPLIT_ROWS);
}

/* Block c of t over rows: [split_at(c), split_at(c + 1)). */
static int split_at(int rows, int c, int t)
{
    return c == t ? rows : (int)((long)rows * c / t) / MN_SPLIT_ROWS * MN_SPLIT_ROWS;
}

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
    const int t = split_threads(n, in, out);
#pragma omp parallel for schedule(static) num_threads(t) if (t > 1)
    for (int c = 0; c < t; c++) { /* rows (samples) [r0, r1) */
        const int r0 = split_at(n, c, t), r1 = split_at(n, c + 1, t);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasTrans, r1 - r0, out, in, 1.0, x + (size_t)r0 * in, in, w, in,
                    beta, y + (size_t)r0 * out, out);
    }
}

/* D (out x in) += G^T (n x out)^T X (n x in): a weight gradient. */
static void gemm_tn(int n, int in, int out, const double *g, const double *x, double *dw)
{
    if (out == 1) { /* dw (in) += X^T g, large ones cut by columns (entries of dw) */
        const int t = split_threads(in, n, 1);
        if (t == 1) { /* no parallel region: its cost shows on small nets */
            cblas_dgemv(CblasRowMajor, CblasTrans, n, in, 1.0, x, in, g, 1, 1.0, dw, 1);
            return;
        }
#pragma omp parallel for schedule(static) num_threads(t)
        for (int c = 0; c < t; c++) { /* columns [c0, c1) */
            const int c0 = split_at(in, c, t), c1 = split_at(in, c + 1, t);
            cblas_dgemv(CblasRowMajor, CblasTrans, n, c1 - c0, 1.0, x + c0, in, g, 1, 1.0, dw + c0, 1);
        }
        return;
    }
    const int t = split_threads(out, in, n);
#pragma omp parallel for schedule(static) num_threads(t) if (t > 1)
    for (int c = 0; c < t; c++) { /* rows (units) [r0, r1) of dw */
        const int r0 = split_at(out, c, t), r1 = split_at(out, c + 1, t);
        cblas_dgemm(CblasRowMajor, CblasTrans, CblasNoTrans, r1 - r0, in, n, 1.0, g + r0, out, x, in, 1.0,
                    dw + (size_t)r0 * in, in);
    }
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
    const int t = split_threads(n, in, out);
#pragma omp parallel for schedule(static) num_threads(t) if (t > 1)
    for (int c = 0; c < t; c++) { /* rows (samples) [r0, r1) */
        const int r0 = split_at(n, c, t), r1 = split_at(n, c + 1, t);
        cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r1 - r0, in, out, 1.0, g + (size_t)r0 * out, out, w,
                    in, beta, y + (size_t)r0 * in, in);
    }
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

/* db[k0, k1) += column sums of G (n x w) over i = 0..n-1, in order. */
static void colsum_add(int n, int w, int k0, int k1, const double *restrict g, double *restrict db)
{
    for (int i = 0; i < n; i++) {
        const double *restrict gi = g + (size_t)i * w;
        for (int k = k0; k < k1; k++) db[k] += gi[k];
    }
}

/* db (w) += column sums of G (n x w); large ones cut by columns (multiples
 * of 8: whole cache lines) across threads, each column's order unchanged. */
static void dense_bias_grad(int n, int w, const double *restrict g, double *restrict db)
{
    if (w == 1) { /* one output: keep the running sum in a register */
        double s0 = db[0];
        for (int i = 0; i < n; i++) s0 += g[i];
        db[0] = s0;
        return;
    }
    const int t = mn_split_threads((double)n * w, w / 8);
    if (t == 1) {
        colsum_add(n, w, 0, w, g, db);
        return;
    }
#pragma omp parallel for schedule(static) num_threads(t)
    for (int c = 0; c < t; c++)
        colsum_add(n, w, c == 0 ? 0 : w * c / t / 8 * 8, c == t - 1 ? w : w * (c + 1) / t / 8 * 8, g, db);
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
