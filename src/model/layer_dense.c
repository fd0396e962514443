/* The dense layer z = W h + b: W (out x in) row-major, b (out), through
 * OpenBLAS (see layer.h for the operator's contract). */
#include <cblas.h>
#include <omp.h>
#include <string.h>

#include "layer.h"

/* Threads without changing bits. OpenBLAS's own threads round differently
 * with their count; callers who need the same bits for any thread count (the
 * landscape instruments, sweeps) run it on one thread. Then a large product
 * is cut here into blocks of output rows, one single-threaded GEMM each on
 * OpenMP threads, the blocks starting at multiples of 64 rows: OpenBLAS's
 * kernels then give every entry the bits of the uncut product (measured on
 * this machine's Zen 3 kernels: cuts at other rows change them, through
 * the kernels' row tails), and tests/test_instruments.c checks 1 against 4
 * threads. */
#define SPLIT_MIN 1000000.0 /* multiply-adds from which a product is cut */
#define SPLIT_ROWS 64

static int split_threads(int rows, int a, int b)
{
    if ((double)rows * a * b < SPLIT_MIN || omp_in_parallel() || openblas_get_num_threads() != 1) return 1;
    const int t = omp_get_max_threads(), most = rows / SPLIT_ROWS;
    return t < most ? t : most > 1 ? most : 1;
}

/* Block c of t over rows: [split_at(c), split_at(c + 1)). */
static int split_at(int rows, int c, int t)
{
    return c == t ? rows : (int)((long)rows * c / t) / SPLIT_ROWS * SPLIT_ROWS;
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
    if (out == 1) { /* dw (in) += X^T g */
        cblas_dgemv(CblasRowMajor, CblasTrans, n, in, 1.0, x, in, g, 1, 1.0, dw, 1);
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
