/* The population loss of a two-layer ReLU student against the teacher V = I_k
 * with Gaussian inputs: value, gradient and Hessian in closed form.
 *
 * Kernel. g(u, v) = E[relu(u.x) relu(v.x)] = |u||v| kappa(t) / (2 pi),
 * kappa(t) = sin t + (pi - t) cos t, t = angle(u, v).
 *
 * Gradient. With u^ = u/|u|, c = cos t, s = sin t:
 *   G(u, v) = dg/du = (|v| s u^ + (pi - t) v) / (2 pi),   G(u, u) = u / 2,
 * so, F_ss = 1/2 sum_{ij} g(w_i, w_j) being symmetric,
 *   dF/dw_i = w_i / 2 + sum_{j != i} G(w_i, w_j) - sum_j G(w_i, e_j)
 *           = w_i/2 + (alpha_i - beta_i) w^_i + sum_{j != i} A_ij w_j - B_i,
 *   alpha_i = sum_{j != i} |w_j| s_ij / (2 pi),  beta_i = sum_j s(w_i, e_j) / (2 pi),
 *   A_ij = (pi - t_ij) / (2 pi),                  B_ij = (pi - t(w_i, e_j)) / (2 pi).
 * Value from the gradient (Euler): F_ss is 2-homogeneous in W and
 * F_st = sum g(w_i, e_j) is 1-homogeneous, so F_ss = W.grad F_ss / 2 and
 * F_st = W.grad F_st; F = F_ss - F_st + F_tt, F_tt = k/4 + k(k-1)/(4 pi).
 *
 * Hessian. Let q = v^ - c u^ (|q| = s; q^ = q/s is the unit normal to u in
 * the (u, v) plane). Differentiating t (dt/du = -q^/|u|) gives
 *   dG/du = h1(u, v) = |v| / (2 pi |u|) [s (I - u^u^T) + s q^q^T],
 *   dG/dv = h2(u, v) = (1 / 2 pi) [(pi - t) I + c (s u^u^T - s q^q^T) + s (u^ q^T + q u^T)],
 * the last being (1/2pi) [(pi - t) I + m v^T + n u^T] with n = q^ and
 * m = unit(u^ - c v^) written in the (u^, q^) frame, where it is the
 * symmetric [[s c, s^2], [s^2, -s c]]. So
 *   block (i, i) = I/2 + sum_{j != i} h1(w_i, w_j) - sum_j h1(w_i, e_j),
 *   block (i, j) = h2(w_i, w_j).
 * Every term carries a factor s, written through q rather than q^ where it
 * can be, so the formulas stay accurate as t -> 0 or pi; at exactly t = 0
 * or pi they take their (continuous) limits: h1 = 0, h2 = (pi - t) I / 2pi.
 * The third derivatives jump there (kappa(t) ~ pi - pi t^2/2 + t^3/3 near 0,
 * ~ (pi - t)^3 / 3 near pi), so the Hessian is continuous but only one-sided
 * differentiable at those angles. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "popul/internal.h"

/* ------------------------------------------------------------------ */
/* Square root by multiplications only. On the CPUs we measured, vector sqrt
 * costs ~20 divisions (2-3 ns per element); this costs ~16 multiply-adds.
 * Seed: the bit trick for 1/sqrt(x) (relative error < 3.5%); four Newton
 * steps y <- y (3/2 - x y^2 / 2) take it below 1e-20 (quadratic:
 * 0.035 -> 2e-3 -> 5e-6 -> 4e-11 -> 2e-21) plus rounding; then s = x y and one
 * Newton step on s. Valid for x in [0, 1e300]; measured error <= 1 ulp
 * over [0, 1] (tests/test_popul.c). */
static inline double sqrt_fast(double x)
{
    const double xe = x > 1e-300 ? x : 1e-300; /* x = 0 would give 0 * inf */
    uint64_t i;
    memcpy(&i, &xe, sizeof i);
    i = 0x5FE6EB50C7B537A9ULL - (i >> 1);
    double y;
    memcpy(&y, &i, sizeof y);
    const double h = 0.5 * xe;
    y = y * (1.5 - h * y * y);
    y = y * (1.5 - h * y * y);
    y = y * (1.5 - h * y * y);
    y = y * (1.5 - h * y * y);
    const double s = x * y;
    return s + 0.5 * y * (x - s * s);
}

/* acos without branches, so that loops over it vectorise.
 * The rational approximation of asin on [0, 1/2] is fdlibm's (e_asin.c,
 * |error| < 2^-58.75 relative), used two ways:
 *   |x| <= 1/2:  acos x = pi/2 - (x + x R(x^2))
 *   |x| >  1/2:  acos |x| = 2 asin(sqrt((1 - |x|)/2)),  acos(-|x|) = pi - acos|x|.
 * Measured error (tests/test_popul.c): at most 1 ulp of the result, so
 * <= 4.5e-16 absolute on [-1, 1]. */
static const double pS0 = 1.66666666666666657415e-01, pS1 = -3.25565818622400915405e-01,
                    pS2 = 2.01212532134862925881e-01, pS3 = -4.00555345006794114027e-02,
                    pS4 = 7.91534994289814532176e-04, pS5 = 3.47933107596021167570e-05,
                    qS1 = -2.40339491173441421878e+00, qS2 = 2.02094576023350569471e+00,
                    qS3 = -6.88283971605453293030e-01, qS4 = 7.70381505559019352791e-02;
static const double pio2_hi = 1.57079632679489655800e+00, pio2_lo = 6.12323399573676603587e-17;

static inline double acos_fast(double x)
{
    x = x > 1.0 ? 1.0 : x < -1.0 ? -1.0 : x;
    const double a = fabs(x);
    const int big = a > 0.5;
    const double z = big ? 0.5 * (1.0 - a) : x * x;
    const double p = z * (pS0 + z * (pS1 + z * (pS2 + z * (pS3 + z * (pS4 + z * pS5)))));
    const double q = 1.0 + z * (qS1 + z * (qS2 + z * (qS3 + z * qS4)));
    const double r = p / q;
    const double s = sqrt_fast(z); /* used only when big */
    const double small_res = pio2_hi - (x - (pio2_lo - x * r));
    const double pos = 2.0 * (s + s * r);
    const double neg = 2.0 * (pio2_hi - (s + (s * r - pio2_lo)));
    return big ? (x > 0 ? pos : neg) : small_res;
}

double mn_popul_sqrt(double x) { return sqrt_fast(x); }
double mn_popul_acos(double x) { return acos_fast(x); }

double mn_popul_kernel(const double *u, const double *v, int d)
{
    double nu = 0, nv = 0, uv = 0;
    for (int l = 0; l < d; l++) {
        nu += u[l] * u[l];
        nv += v[l] * v[l];
        uv += u[l] * v[l];
    }
    nu = sqrt(nu), nv = sqrt(nv);
    if (nu == 0 || nv == 0) return 0;
    double c = uv / (nu * nv);
    c = c > 1 ? 1 : c < -1 ? -1 : c;
    double t = acos(c), s = sqrt(fmax(0.0, 1 - c * c));
    return nu * nv * (s + (MN_PI - t) * c) / (2 * MN_PI);
}

/* ------------------------------------------------------------------ */
size_t mn_popul_nparams(const mn_popul_spec *spec)
{
    return (size_t)spec->n * spec->k + (spec->elim ? (size_t)spec->k + 2 : 0);
}

mn_status mn_popul_check(const mn_popul_spec *spec)
{
    if (!spec) return mn_fail(MN_EINVAL, "popul: no spec");
    if (spec->k < 1 || spec->k > MN_POPUL_MAX_K)
        return mn_fail(MN_EINVAL, "popul: k = %d is out of range 1..%d", spec->k, MN_POPUL_MAX_K);
    if (spec->n < 1 || spec->n > MN_POPUL_MAX_N)
        return mn_fail(MN_EINVAL, "popul: n = %d is out of range 1..%d", spec->n, MN_POPUL_MAX_N);
    if (spec->elim != 0 && spec->elim != 1)
        return mn_fail(MN_EINVAL, "popul: elim = %d (expected 0 or 1)", spec->elim);
    if (spec->elim && !(spec->lambda >= 0 && isfinite(spec->lambda)))
        return mn_fail(MN_EINVAL, "popul: lambda = %g (expected a finite value >= 0)", spec->lambda);
    return MN_OK;
}

/* Rounds m doubles up to whole 64-byte lines, so that every array of the work
 * space starts on one (8-wide loads then never straddle two lines). */
static size_t lines(size_t m) { return (m + 7) & ~(size_t)7; }

mn_status mn_popul_work_alloc(mn_popul_work **out, const mn_popul_spec *spec)
{
    *out = NULL;
    mn_status st = mn_popul_check(spec);
    if (st) return st;
    const size_t n = (size_t)spec->n, k = (size_t)spec->k;
    const size_t np = (n + 7) & ~(size_t)7, kp = (k + 7) & ~(size_t)7;
    const size_t npair = n * (n - 1) / 2, nang = npair + n * k + kp;
    const size_t total =
        lines(n) + 3 * n * kp + k * np + 3 * lines(nang) + np + kp + lines(n) + lines(3 * (n + k) + 2 * k);
    mn_popul_work *w = calloc(1, sizeof *w);
    double *buf = aligned_alloc(64, total * sizeof *buf);
    int *off = malloc(n * sizeof *off);
    if (!w || !buf || !off) {
        free(w), free(buf), free(off);
        return mn_fail(MN_ENOMEM, "popul: out of memory for n = %zu, k = %zu", n, k);
    }
    memset(buf, 0, total * sizeof *buf); /* the zero padding is never written */
    w->spec = *spec;
    w->P = mn_popul_nparams(spec);
    w->npair = (int)npair;
    w->np = (int)np, w->kp = (int)kp;
    w->buf = buf;
    double *p = buf;
    w->nrm = p, p += lines(n);
    w->Wp = p, p += n * kp;
    w->U = p, p += n * kp;
    w->gs = p, p += n * kp;
    w->UT = p, p += k * np;
    w->cs = p, p += lines(nang);
    w->ak = p, p += lines(nang);
    w->sk = p, p += lines(nang);
    w->row = p, p += np;
    w->mask = p, p += kp;
    w->coef = p, p += lines(n);
    w->el = p;
    for (size_t l = 0; l < k; l++) w->mask[l] = 1.0;
    w->off = off;
    for (size_t i = 0, o = 0; i < n; i++) off[i] = (int)o, o += n - 1 - i;
    *out = w;
    return MN_OK;
}

void mn_popul_work_free(mn_popul_work *work)
{
    if (!work) return;
    free(work->buf);
    free(work->off);
    free(work);
}

/* ------------------------------------------------------------------ */
/* The hot loop of the experiment: one value-and-gradient evaluation, O(n^2 k)
 * multiply-adds and n(n-1)/2 + n k arccosines. Every inner loop runs over a
 * contiguous array so that it vectorises: the Gram matrix of the unit rows
 * is built row by row from U^T, the angles are one flat array, and the
 * products are axpys over rows. Compiled at -O3 in clones for AVX-512, AVX2
 * and the baseline, chosen at load time by the CPU: a given machine always
 * runs the same clone, so results do not depend on the thread count (they
 * may differ in the last bits between CPUs of different vector widths). */
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(MN_NO_CLONES)
#define MN_HOT \
    __attribute__((optimize("O3", "fp-contract=fast"), target_clones("default", "arch=haswell", "arch=x86-64-v4")))
#else
#define MN_HOT
#endif

/* (pi - t) / 2pi and sin t / 2pi for t = acos(c): with a = |c|, T = acos a
 * by acos_fast's two branches, pi - t = c < 0 ? T : pi - T, and
 * sin t = sqrt((1 - a)(1 + a)). (Sharing one polynomial for sqrt(1 - z)
 * between sin T = sqrt(1 - a^2) and sin T = 2 sin(T/2) cos(T/2) saves a
 * square root but measured slower here: the multiply-only root is cheap.) */
static inline void angle_terms(double c, double *ak, double *sk)
{
    const double inv2pi = 1.0 / (2 * MN_PI);
    c = c > 1.0 ? 1.0 : c < -1.0 ? -1.0 : c;
    const double a = fabs(c);
    const int big = a > 0.5;
    const double z = big ? 0.5 * (1.0 - a) : a * a;
    const double p = z * (pS0 + z * (pS1 + z * (pS2 + z * (pS3 + z * (pS4 + z * pS5)))));
    const double q = 1.0 + z * (qS1 + z * (qS2 + z * (qS3 + z * qS4)));
    const double r = p / q;
    const double s = sqrt_fast(z);
    const double T = big ? 2.0 * (s + s * r) : pio2_hi - (a - (pio2_lo - a * r));
    *ak = (c < 0 ? T : (pio2_hi - T) + pio2_hi + 2 * pio2_lo) * inv2pi;
    *sk = sqrt_fast((1.0 - a) * (1.0 + a)) * inv2pi;
}

void mn_popul_angle_terms(double c, double *ak, double *sk) { angle_terms(c, ak, sk); }

/* 8 doubles as one value (GCC / Clang vector extension); aligned(8) allows
 * unaligned loads through a cast pointer. */
typedef double v8d __attribute__((vector_size(64), aligned(8)));
typedef int64_t v8l __attribute__((vector_size(64), aligned(8)));  /* comparison results */
typedef uint64_t v8u __attribute__((vector_size(64), aligned(8))); /* bit patterns */
#define LD(p) (*(const v8d *)(p))
#define ST(p, v) (*(v8d *)(p) = (v))
/* Helpers of the MN_HOT functions: always inlined, so compiled per clone. */
#define MN_INLINE static inline __attribute__((always_inline))

#define hsum(v) ((((v)[0] + (v)[4]) + ((v)[1] + (v)[5])) + (((v)[2] + (v)[6]) + ((v)[3] + (v)[7])))

/* m ? x : y lane by lane, m from a comparison (all ones or zero). */
#define SEL(m, x, y) ((v8d)(((v8l)(x) & (m)) | ((v8l)(y) & ~(m))))
/* The statement for h = 0 .. N-1. */
#define XN(N, stmt)                                                                                  \
    for (int h = 0; h < (N); h++) {                                                                  \
        stmt;                                                                                        \
    }

/* sqrt_fast on N <= 8 vectors side by side (arrays, not vector arguments:
 * -Wpsabi). */
MN_INLINE void sqrt_fast_v(v8d *restrict out, const v8d *restrict x, const int N)
{
    v8d xe[8], y[8], h2[8], s[8];
    XN(N, xe[h] = SEL(x[h] > 1e-300, x[h], (v8d){0} + 1e-300));
    XN(N, y[h] = (v8d)(0x5FE6EB50C7B537A9ULL - ((v8u)xe[h] >> 1)));
    XN(N, h2[h] = 0.5 * xe[h]);
    for (int it = 0; it < 4; it++) XN(N, y[h] = y[h] * (1.5 - h2[h] * y[h] * y[h]));
    XN(N, s[h] = x[h] * y[h]);
    XN(N, out[h] = s[h] + 0.5 * y[h] * (x[h] - s[h] * s[h]));
}

/* angle_terms on N <= 4 vectors of 8 lanes, statement by statement over the
 * vectors (and the two roots of each together): per lane the polynomial /
 * division / root sequence is one long dependency chain, and several
 * independent ones side by side keep the FMA pipes busy. Lane by lane the
 * operations are angle_terms' own, so are the bits. Written out (rather
 * than left to GCC's vectoriser) because that evaluates the rational
 * polynomial and its division twice, once per branch under masks. */
MN_INLINE void angle_terms_v(const double *restrict cp, double *restrict ak, double *restrict sk, const int N)
{
    const double inv2pi = 1.0 / (2 * MN_PI);
    const v8d one = (v8d){0} + 1.0;
    v8d c[4], a[4], p[4], q[4], r[4], T[4], x[8], rt[8]; /* x: z, then (1 - a)(1 + a) */
    v8l big[4];
    XN(N, c[h] = LD(cp + 8 * h));
    XN(N, c[h] = SEL(c[h] > 1.0, one, SEL(c[h] < -1.0, -one, c[h])));
    XN(N, a[h] = (v8d)((v8u)c[h] & 0x7FFFFFFFFFFFFFFFULL));
    XN(N, big[h] = a[h] > 0.5);
    XN(N, x[h] = SEL(big[h], 0.5 * (1.0 - a[h]), a[h] * a[h]));
    XN(N, x[N + h] = (1.0 - a[h]) * (1.0 + a[h]));
    XN(N, p[h] = x[h] * (pS0 + x[h] * (pS1 + x[h] * (pS2 + x[h] * (pS3 + x[h] * (pS4 + x[h] * pS5))))));
    XN(N, q[h] = 1.0 + x[h] * (qS1 + x[h] * (qS2 + x[h] * (qS3 + x[h] * qS4))));
    XN(N, r[h] = p[h] / q[h]);
    sqrt_fast_v(rt, x, 2 * N);
    XN(N, T[h] = SEL(big[h], 2.0 * (rt[h] + rt[h] * r[h]), pio2_hi - (a[h] - (pio2_lo - a[h] * r[h]))));
    XN(N, ST(ak + 8 * h, SEL(c[h] < 0, T[h], (pio2_hi - T[h]) + pio2_hi + 2 * pio2_lo) * inv2pi));
    XN(N, ST(sk + 8 * h, rt[N + h] * inv2pi));
}

/* All m angles, 32 at a time, then 8: the last step runs up to 7 past m,
 * into the slack (kp >= 8) at the end of cs / ak / sk. */
MN_HOT static void angles(double *restrict ak, double *restrict sk, const double *restrict cs, int m)
{
    int t = 0;
    for (; t + 24 < m; t += 32) angle_terms_v(cs + t, ak + t, sk + t, 4);
    for (; t < m; t += 8) angle_terms_v(cs + t, ak + t, sk + t, 1);
}

/* Row tiles. A single row's sums over l (Gram) or j (products) are chains
 * of dependent multiply-adds (latency-bound); R rows x NB 8-column blocks at
 * once keep R NB independent chains in flight, each summed in the same order
 * as alone, so the results do not change. 8 to 12 chains keep AVX-512's two
 * FMA pipes busy (measured: 12 beat 9 for NB = 3); narrower units would
 * spill them, so they get fewer rows. */
static int tile_rows(int nb)
{
    static const int wide[5] = {0, 4, 4, 4, 3}, narrow[5] = {0, 4, 2, 1, 1};
    return __builtin_cpu_supports("avx512f") ? wide[nb] : narrow[nb];
}

/* The macro instantiates a tile for constant R (rows) and NB (blocks). */
#define MN_TILES(F, R, NB, ...)                                                                      \
    switch ((R) * 8 + (NB)) {                                                                        \
    case 9: F(__VA_ARGS__, 1, 1); break;                                                             \
    case 10: F(__VA_ARGS__, 1, 2); break;                                                            \
    case 11: F(__VA_ARGS__, 1, 3); break;                                                            \
    case 12: F(__VA_ARGS__, 1, 4); break;                                                            \
    case 17: F(__VA_ARGS__, 2, 1); break;                                                            \
    case 18: F(__VA_ARGS__, 2, 2); break;                                                            \
    case 19: F(__VA_ARGS__, 2, 3); break;                                                            \
    case 20: F(__VA_ARGS__, 2, 4); break;                                                            \
    case 25: F(__VA_ARGS__, 3, 1); break;                                                            \
    case 26: F(__VA_ARGS__, 3, 2); break;                                                            \
    case 27: F(__VA_ARGS__, 3, 3); break;                                                            \
    case 28: F(__VA_ARGS__, 3, 4); break;                                                            \
    case 33: F(__VA_ARGS__, 4, 1); break;                                                            \
    case 34: F(__VA_ARGS__, 4, 2); break;                                                            \
    case 35: F(__VA_ARGS__, 4, 3); break;                                                            \
    default: F(__VA_ARGS__, 4, 4); break;                                                            \
    }

/* Gram tile: rows i .. i+R-1 of U against columns jb .. jb+8NB-1 (from
 * U^T, k x np), into rb (rows of MN_POPUL_MAX_N). */
MN_INLINE void gram_tile(double *restrict rb, const double *restrict U, const double *restrict UT, int i, int jb,
                         int k, int np, int kp, const int R, const int NB)
{
    v8d acc[4][4];
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) acc[r][b] = (v8d){0};
    for (int l = 0; l < k; l++) {
        const double *restrict ut = UT + (size_t)l * np + jb;
        for (int r = 0; r < R; r++) {
            const double u = U[(size_t)(i + r) * kp + l];
            for (int b = 0; b < NB; b++) acc[r][b] += u * LD(ut + 8 * b);
        }
    }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) ST(rb + (size_t)r * MN_POPUL_MAX_N + jb + 8 * b, acc[r][b]);
}

/* Cosines of the student pairs, packed row by row: row i holds
 * j = i+1 .. n-1 at cs + off[i]. C_ij = U_i . U_j from U^T (k x np), by
 * tiles of rows, each from the first row's 8-block of j (later rows of a
 * tile compute a few unused entries). Rows are stored 8 at a time: up to 7
 * values past a row's end, rewritten by the next row or, after the last,
 * by the teacher cosines (written after this). */
MN_HOT static void gram_packed(double *restrict cs, const int *restrict off, const double *restrict U,
                               const double *restrict UT, int n, int np, int k, int kp)
{
    double rb[4 * MN_POPUL_MAX_N + 8] __attribute__((aligned(64)));
    for (int i = 0; i < n - 1;) {
        const int j0 = (i + 1) & ~7, nbt = (n - j0 + 7) / 8;
        int R = tile_rows(nbt < 4 ? nbt : 4);
        R = R < n - 1 - i ? R : n - 1 - i;
        for (int jb = j0; jb < n; jb += 32) {
            const int nb = (n - jb + 7) / 8 < 4 ? (n - jb + 7) / 8 : 4;
            MN_TILES(gram_tile, R, nb, rb, U, UT, i, jb, k, np, kp)
        }
        for (int r = 0; r < R; r++, i++) {
            const double *restrict src = rb + (size_t)r * MN_POPUL_MAX_N + i + 1;
            double *restrict dst = cs + off[i];
            for (int t = 0; t < n - 1 - i; t += 8) {
                ST(dst + t, LD(src + t));
                __asm__("" : "+r"(t)); /* no memcpy call for these few lines */
            }
        }
    }
}

/* Products tile: G_i = W_i / 2 + sum_j A_ij W_j (j = 0 .. n-1 in order, the
 * zero diagonal term included) for rows i .. i+R-1, columns lb .. lb+8NB-1,
 * with A read from the packed upper triangle ak (row j at off[j]): for
 * j < i the tile's entries A_{i+r, j} lie side by side in row j, for
 * j >= i+R each row r reads its own packed row, in between (the diagonal
 * block) entry by entry. (No full copy of A: its mirror cost n^2 scalar
 * stores.) */
MN_INLINE void sym_tile(double *restrict G, const double *restrict ak, const int *restrict off,
                        const double *restrict Wp, int i, int lb, int n, int kp, const int R, const int NB)
{
    v8d acc[4][4];
    const double *restrict ar[4]; /* ar[r][j] = A_{i+r, j} for j > i+r */
    for (int r = 0; r < R; r++) {
        ar[r] = ak + off[i + r] - (i + r + 1);
        for (int b = 0; b < NB; b++) acc[r][b] = 0.5 * LD(Wp + (size_t)(i + r) * kp + lb + 8 * b);
    }
    for (int j = 0; j < i; j++) {
        const double *restrict aj = ak + off[j] - (j + 1) + i; /* aj[r] = A_{i+r, j} */
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = aj[r];
            for (int b = 0; b < NB; b++) acc[r][b] += a * LD(wj + 8 * b);
        }
    }
    for (int j = i; j < i + R; j++) {
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = j < i + r ? ak[off[j] - (j + 1) + i + r] : j > i + r ? ar[r][j] : 0.0;
            for (int b = 0; b < NB; b++) acc[r][b] += a * LD(wj + 8 * b);
        }
    }
    for (int j = i + R; j < n; j++) {
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = ar[r][j];
            for (int b = 0; b < NB; b++) acc[r][b] += a * LD(wj + 8 * b);
        }
    }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) ST(G + (size_t)(i + r) * kp + lb + 8 * b, acc[r][b]);
}

/* G_i = W_i / 2 + sum_{j != i} A_ij W_j with A symmetric, given as the
 * packed upper triangle ak (row i at off[i]), by tiles of rows and up to
 * four 8-column blocks. Also alpha_i = sum_{j != i} S_ij |w_j| from the
 * packed sk (loops left as they were: GCC sums al in its own mixed order of
 * products and multiply-adds, which the results depend on). */
MN_HOT static void sym_products(double *restrict G, double *restrict alpha, const double *restrict ak,
                                const double *restrict sk, const int *restrict off, const double *restrict Wp,
                                const double *restrict nrm, int n, int kp)
{
    for (int i = 0; i < n; i++) alpha[i] = 0;
    for (int i = 0; i < n; i++) {
        const double *restrict si = sk + off[i] - (i + 1); /* si[j], j > i */
        double al = 0;
        for (int j = i + 1; j < n; j++) al += si[j] * nrm[j];
        for (int j = i + 1; j < n; j++) alpha[j] += si[j] * nrm[i];
        alpha[i] += al;
    }
    for (int lb = 0; lb < kp; lb += 32) {
        const int nb = (kp - lb) / 8 < 4 ? (kp - lb) / 8 : 4, R = tile_rows(nb);
        for (int i = 0; i < n; i += R) {
            const int r = R < n - i ? R : n - i;
            MN_TILES(sym_tile, r, nb, G, ak, off, Wp, i, lb, n, kp)
        }
    }
}

/* Lanes of a and b (0..7 from a, 8..15 from b). */
#ifdef __clang__
#define SHUF(a, b, ...) __builtin_shufflevector(a, b, __VA_ARGS__)
#else
#define SHUF(a, b, ...) __builtin_shuffle(a, b, (v8l){__VA_ARGS__})
#endif

/* Transposes the 8 x 8 block t (rows) in registers. */
MN_INLINE void transpose8(v8d *restrict t)
{
    v8d a[8], b[8];
    for (int r = 0; r < 8; r += 2) {
        a[r] = SHUF(t[r], t[r + 1], 0, 8, 2, 10, 4, 12, 6, 14);
        a[r + 1] = SHUF(t[r], t[r + 1], 1, 9, 3, 11, 5, 13, 7, 15);
    }
    for (int r = 0; r < 8; r += 4)
        for (int q = r; q < r + 2; q++) {
            b[q] = SHUF(a[q], a[q + 2], 0, 1, 8, 9, 4, 5, 12, 13);
            b[q + 2] = SHUF(a[q], a[q + 2], 2, 3, 10, 11, 6, 7, 14, 15);
        }
    for (int q = 0; q < 4; q++) {
        t[q] = SHUF(b[q], b[q + 4], 0, 1, 2, 3, 8, 9, 10, 11);
        t[q + 4] = SHUF(b[q], b[q + 4], 4, 5, 6, 7, 12, 13, 14, 15);
    }
}

/* Everything of one evaluation but the angles: norms, unit rows, the two
 * products, and the assembly of the gradient and the value. Wp, Gp: W and
 * its gradient in the padded layout (n x kp, zero padding); the padding of
 * Gp comes out 0. nn[0] = |grad|^2, nn[1] = |W|^2. */
MN_HOT static int eval_core(mn_popul_work *w, const double *restrict Wp0, double *loss, double *restrict Gp0,
                            double *restrict nn)
{
    const int n = w->spec.n, k = w->spec.k, npair = w->npair, np = w->np, kp = w->kp;
    /* Wp and Gp on whole cache lines (the work space is): an 8-wide load
     * that straddles two lines costs two, and the products load W's rows n
     * times over. Copying changes no value. */
    const int copy = ((uintptr_t)Wp0 & 63) != 0;
    double *restrict Wa = w->Wp;
    double *Gp = ((uintptr_t)Gp0 & 63) ? w->gs : Gp0; /* may be Gp0: not restrict */
    double *restrict nrm = w->nrm, *restrict U = w->U, *restrict cs = w->cs;
    double *restrict ak = w->ak, *restrict sk = w->sk, *restrict coef = w->coef;
    double *restrict UT = w->UT, *restrict s2 = w->row;
    const v8d *restrict mask = (const v8d *)w->mask;

    for (int i = 0; i < n; i++) {
        const double *restrict wi = Wp0 + (size_t)i * kp;
        v8d acc = {0};
        for (int lb = 0; lb < kp; lb += 8) {
            const v8d x = LD(wi + lb);
            acc += x * x;
            if (copy) ST(Wa + (size_t)i * kp + lb, x);
        }
        s2[i] = hsum(acc);
    }
    const double *restrict Wp = copy ? Wa : Wp0;
    double wn2 = 0;
    for (int i = 0; i < n; i++) {
        if (!(s2[i] > 0) || !(s2[i] < INFINITY)) return i + 1;
        wn2 += s2[i];
    }
    for (int i = 0; i < n; i++) nrm[i] = sqrt_fast(s2[i]);
    for (int i = 0; i < n; i++) coef[i] = 1.0 / nrm[i];
    /* unit rows, and U^T by 8 x 8 transposes of them in registers (rows
     * past n are 0, as is U^T's padding) */
    for (int ib = 0; ib < n; ib += 8) {
        const int nr = n - ib < 8 ? n - ib : 8;
        for (int lb = 0; lb < kp; lb += 8) {
            v8d t[8];
            for (int r = 0; r < 8; r++) t[r] = (v8d){0};
            for (int r = 0; r < nr; r++) {
                t[r] = LD(Wp + (size_t)(ib + r) * kp + lb) * coef[ib + r];
                ST(U + (size_t)(ib + r) * kp + lb, t[r]);
            }
            transpose8(t);
            for (int c = 0; c < 8 && lb + c < k; c++) ST(UT + (size_t)(lb + c) * np + ib, t[c]);
        }
    }
    gram_packed(cs, w->off, U, UT, n, np, k, kp);
    /* teacher cosines: U's entries, packed rows of k after the pairs (each
     * row stored 8 at a time, the overlap rewritten by the next row, the
     * buffer has slack at the end) */
    for (int i = 0; i < n; i++)
        for (int lb = 0; lb < kp; lb += 8) ST(cs + npair + (size_t)i * k + lb, LD(U + (size_t)i * kp + lb));
    angles(ak, sk, cs, npair + n * k);
    /* gs = W/2 + alpha U + A W */
    sym_products(Gp, coef, ak, sk, w->off, Wp, nrm, n, kp);
    /* teacher part: grad F_st_i = beta_i U_i + B_i (loads past the k teacher
     * angles of a row are masked out); the value by Euler */
    v8d vss = {0}, vst = {0}, vgg = {0};
    for (int i = 0; i < n; i++) {
        const double *restrict ui = U + (size_t)i * kp, *restrict wi = Wp + (size_t)i * kp;
        const double *restrict ai = ak + npair + (size_t)i * k, *restrict si = sk + npair + (size_t)i * k;
        const double *g = Gp + (size_t)i * kp;
        v8d vb = {0};
        for (int lb = 0; lb < kp; lb += 8) vb += LD(si + lb) * mask[lb / 8];
        const double beta = hsum(vb), al = coef[i];
        for (int lb = 0; lb < kp; lb += 8) {
            const v8d gsv = LD(g + lb) + al * LD(ui + lb);
            const v8d gt = beta * LD(ui + lb) + LD(ai + lb) * mask[lb / 8];
            const v8d gv = gsv - gt;
            vss += LD(wi + lb) * gsv;
            vst += LD(wi + lb) * gt;
            vgg += gv * gv;
            ST(Gp0 + (size_t)i * kp + lb, gv);
        }
    }
    *loss = 0.5 * hsum(vss) - hsum(vst) + 0.25 * k + k * (k - 1.0) / (4 * MN_PI);
    nn[0] = hsum(vgg);
    nn[1] = wn2;
    return 0;
}

static mn_status core_status(mn_popul_work *w, const double *Wp, int bad, double l)
{
    if (bad) {
        const double *wi = Wp + (size_t)(bad - 1) * w->kp;
        double s = 0;
        for (int q = 0; q < w->spec.k; q++) s += wi[q] * wi[q];
        return mn_fail(MN_ERANGE, "popul: unit %d has norm %g (F is not differentiable at 0)", bad - 1, sqrt(s));
    }
    if (!isfinite(l)) return mn_fail(MN_ERANGE, "popul: the loss is not finite");
    return MN_OK;
}

mn_status mn_popul_eval_padded(mn_popul_work *w, const double *Wp, double *loss, double *Gp)
{
    double l = NAN;
    const int bad = eval_core(w, Wp, &l, Gp ? Gp : w->gs, w->nn);
    mn_status st = core_status(w, Wp, bad, l);
    if (!st && loss) *loss = l;
    return st;
}

mn_status mn_popul_eval_plain(mn_popul_work *w, const double *W, double *loss, double *grad)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    double *Wp = w->Wp, *Gp = w->gs, l = NAN;
    for (int i = 0; i < n; i++) memcpy(Wp + (size_t)i * kp, W + (size_t)i * k, (size_t)k * sizeof *Wp);
    const int bad = eval_core(w, Wp, &l, Gp, w->nn);
    mn_status st = core_status(w, Wp, bad, l);
    if (st) return st;
    if (grad)
        for (int i = 0; i < n; i++) memcpy(grad + (size_t)i * k, Gp + (size_t)i * kp, (size_t)k * sizeof *grad);
    if (loss) *loss = l;
    return MN_OK;
}

mn_status mn_popul_eval(mn_popul_work *w, const double *theta, double *loss, double *grad)
{
    double l;
    mn_status st = mn_popul_eval_plain(w, theta, &l, grad);
    if (st) return st;
    if (w->spec.elim) {
        if (grad) memset(grad + (size_t)w->spec.n * w->spec.k, 0, ((size_t)w->spec.k + 2) * sizeof *grad);
        st = mn_popul_elim_eval(w, theta, &l, grad);
        if (st) return st;
    }
    if (loss) *loss = l;
    return MN_OK;
}

/* ------------------------------------------------------------------ */
/* The Hessian, block by block (formulas at the top of the file).
 * Diagonal block i: I/2 + sum_j c_j [s_j (I - u^u^T) + q_j q_j^T / s_j], the
 * sum over the other units (c_j = |w_j| / (2 pi |w_i|)) and the teacher
 * units (c_j = -1 / (2 pi |w_i|)); so it is (1/2 + sum_j c_j s_j)(I - u^u^T)
 * + u^u^T / 2 + sum_j (c_j / s_j) q_j q_j^T, a scaled projector plus rank-one
 * terms, accumulated row by row. Off-diagonal block (i, j) = h2(w_i, w_j) is
 * symmetric, so block (j, i) is the same matrix. */
MN_HOT static void hess_blocks(double *restrict H, size_t ld, const mn_popul_work *w, double *restrict Q,
                               double *restrict cq)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    const double inv2pi = 1.0 / (2 * MN_PI);
    for (int i = 0; i < n; i++) {
        const double *restrict ui = w->U + (size_t)i * kp;
        double proj = 0; /* sum_j c_j s_j */
        int m = 0;       /* rank-one terms q_j (rows of Q, k each), weights cq */
        for (int j = 0; j < n + k; j++) {
            if (j == i) continue;
            double c = 0, s2 = 0;
            double *restrict q = Q + (size_t)m * kp;
            if (j < n) {
                const double *restrict uj = w->U + (size_t)j * kp;
                for (int l = 0; l < k; l++) c += ui[l] * uj[l];
                for (int l = 0; l < k; l++) q[l] = uj[l] - c * ui[l], s2 += q[l] * q[l];
            } else {
                c = ui[j - n]; /* q = e_j - c u^ */
                for (int l = 0; l < k; l++) q[l] = -c * ui[l];
                q[j - n] += 1.0;
                for (int l = 0; l < k; l++) s2 += q[l] * q[l];
            }
            const double s = sqrt(s2);
            if (s == 0) continue; /* h1 = 0 at t = 0 or pi */
            const double cj = (j < n ? w->nrm[j] : -1.0) * inv2pi / w->nrm[i];
            proj += cj * s;
            cq[m++] = cj / s;
        }
        double *restrict B = H + (size_t)i * k * ld + (size_t)i * k;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) B[a * ld + b] = (0.5 + proj) * ((a == b) - ui[a] * ui[b]) + 0.5 * ui[a] * ui[b];
        for (int t = 0; t < m; t++) {
            const double *restrict q = Q + (size_t)t * kp;
            for (int a = 0; a < k; a++) {
                const double f = cq[t] * q[a];
                double *restrict Ba = B + a * ld;
                for (int b = 0; b < k; b++) Ba[b] += f * q[b];
            }
        }
        /* off-diagonal blocks (i, j), j > i, and their mirror (j, i) */
        for (int j = i + 1; j < n; j++) {
            const double *restrict uj = w->U + (size_t)j * kp;
            double *restrict q = Q;
            double c = 0, s2 = 0;
            for (int l = 0; l < k; l++) c += ui[l] * uj[l];
            for (int l = 0; l < k; l++) q[l] = uj[l] - c * ui[l], s2 += q[l] * q[l];
            const double s = sqrt(s2), t = atan2(s, c);
            const double qq = s > 0 ? c / s : 0; /* c s q^q^T = c q q^T / s */
            double *restrict Bij = H + (size_t)i * k * ld + (size_t)j * k;
            double *restrict Bji = H + (size_t)j * k * ld + (size_t)i * k;
            for (int a = 0; a < k; a++) {
                const double fu = inv2pi * (c * s * ui[a] + s * q[a]), fq = inv2pi * (s * ui[a] - qq * q[a]);
                double *restrict r = Bij + a * ld;
                for (int b = 0; b < k; b++) r[b] = fu * ui[b] + fq * q[b];
                r[a] += inv2pi * (MN_PI - t);
            }
            for (int a = 0; a < k; a++)
                for (int b = 0; b < k; b++) Bji[b * ld + a] = Bij[a * ld + b];
        }
    }
}

/* Exact symmetry (blocks are symmetric up to rounding) and a finiteness
 * check; returns 0 when a value is not finite. */
MN_HOT static int symmetrize(double *restrict H, size_t P)
{
    int ok = 1;
    for (size_t i = 0; i < P; i++) {
        for (size_t j = i + 1; j < P; j++) {
            const double v = 0.5 * (H[i * P + j] + H[j * P + i]);
            H[i * P + j] = H[j * P + i] = v;
        }
        for (size_t j = 0; j < P; j++) ok &= H[i * P + j] - H[i * P + j] == 0; /* NaN, inf -> 0 */
    }
    return ok;
}

mn_status mn_popul_hessian(mn_popul_work *w, const double *theta, double *hess)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    const size_t P = w->P;
    /* norms and unit rows (and the checks) as in the evaluation */
    mn_status st = mn_popul_eval_plain(w, theta, NULL, NULL);
    if (st) return st;
    double *Q = malloc((size_t)(n + k) * kp * sizeof *Q), *cq = malloc((size_t)(n + k) * sizeof *cq);
    if (!Q || !cq) {
        free(Q), free(cq);
        return mn_fail(MN_ENOMEM, "popul: out of memory for the Hessian");
    }
    if (w->spec.elim) memset(hess, 0, P * P * sizeof *hess);
    hess_blocks(hess, P, w, Q, cq);
    free(Q), free(cq);
    if (w->spec.elim) mn_popul_elim_hessian(w, theta, hess);
    if (!symmetrize(hess, P)) return mn_fail(MN_ERANGE, "popul: the Hessian is not finite");
    return MN_OK;
}
