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
/* Square roots are the hardware's (sqrtsd, sqrtpd, vsqrtpd at every width,
 * fsqrt on AArch64): IEEE 754 makes them correctly rounded, so every vector
 * width and every CPU gives the same bits. On Zen 3 they also measured
 * fastest: a 4-lane angle vector took 32 cycles with vsqrtpd against 52-62
 * with the earlier multiply-only Newton root (bench/README.md). */
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
    const double s = sqrt(z); /* used only when big */
    const double small_res = pio2_hi - (x - (pio2_lo - x * r));
    const double pos = 2.0 * (s + s * r);
    const double neg = 2.0 * (pio2_hi - (s + (s * r - pio2_lo)));
    return big ? (x > 0 ? pos : neg) : small_res;
}

double mn_popul_sqrt(double x) { return sqrt(x); }
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
    for (size_t i = n; i < np; i++) w->row[i] = 1.0;
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
 * products are axpys over rows.
 *
 * Instruction-set levels. The hot functions are compiled once per x86-64
 * level (1: baseline SSE2, 2: SSE4.2, 3: AVX2 + FMA, 4: AVX-512) and one is
 * chosen by feature tests (__builtin_cpu_supports("x86-64-vN"), which also
 * checks that the OS saves the wider registers); other CPUs and compilers
 * get level 1. Levels 1-2 run kernel_vec.h at 2 doubles per vector, 3 at
 * 4, 4 at 8. Bits: every level computes the same operations element by
 * element, sums across lanes in one fixed order and never contracts a
 * multiply and an add into an FMA (fp-contract=off below), so every level
 * gives bit-identical results (tests/test_popul.c). What that costs: little
 * on Zen 3, whose two FP add pipes work beside the two multiply/FMA pipes;
 * more on cores whose adds share the multiply pipes. */
/* no-math-errno: sqrt is then one instruction, without a branch to set errno
 * (its arguments are never negative). */
#if defined(__GNUC__) && !defined(__clang__)
#define MN_HOT __attribute__((optimize("O3", "fp-contract=off", "no-math-errno")))
#else
#define MN_HOT
#endif
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__) && !defined(MN_NO_LEVELS)
#define MN_X86_LEVELS 1
#else
#define MN_X86_LEVELS 0
#endif
#if MN_X86_LEVELS
#include <immintrin.h> /* declares the AVX and AVX-512 builtins (kernel_vec.h) */
#endif

int mn_popul_isa_best(void)
{
#if MN_X86_LEVELS
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v4")) return 4;
    if (__builtin_cpu_supports("x86-64-v3")) return 3;
    if (__builtin_cpu_supports("x86-64-v2")) return 2;
#endif
    return 1;
}

static int isa_chosen; /* 0: not chosen yet, then the level in use */

int mn_popul_isa_level(void)
{
    int lv = __atomic_load_n(&isa_chosen, __ATOMIC_RELAXED);
    if (!lv) {
        lv = mn_popul_isa_best();
        __atomic_store_n(&isa_chosen, lv, __ATOMIC_RELAXED);
    }
    return lv;
}

mn_status mn_popul_isa_select(int level)
{
    const int best = mn_popul_isa_best();
    if (level < 0 || level > best)
        return mn_fail(MN_EINVAL, "popul: instruction-set level %d is not available (this CPU: 1..%d)", level, best);
    __atomic_store_n(&isa_chosen, level ? level : best, __ATOMIC_RELAXED);
    return MN_OK;
}

/* Defines ret name(params) that runs name##_at(args..., level) compiled for
 * the level in use; name##_at is MN_INLINE and gets its level as a constant. */
#if MN_X86_LEVELS
#define MN_AT(lv) MN_HOT __attribute__((target("arch=x86-64-v" #lv)))
#define MN_LEVELS(ret, name, params, ...)                                                            \
    MN_AT(4) static ret name##_v4 params { return name##_at(__VA_ARGS__, 4); }                       \
    MN_AT(3) static ret name##_v3 params { return name##_at(__VA_ARGS__, 3); }                       \
    MN_AT(2) static ret name##_v2 params { return name##_at(__VA_ARGS__, 2); }                       \
    MN_HOT static ret name##_v1 params { return name##_at(__VA_ARGS__, 1); }                         \
    static ret name params                                                                           \
    {                                                                                                \
        switch (mn_popul_isa_level()) {                                                              \
        case 4: return name##_v4(__VA_ARGS__);                                                       \
        case 3: return name##_v3(__VA_ARGS__);                                                       \
        case 2: return name##_v2(__VA_ARGS__);                                                       \
        default: return name##_v1(__VA_ARGS__);                                                      \
        }                                                                                            \
    }
#else
#define MN_LEVELS(ret, name, params, ...)                                                            \
    MN_HOT static ret name params { return name##_at(__VA_ARGS__, 1); }
#endif

/* (pi - t) / 2pi and sin t / 2pi for t = acos(c): with a = |c|, T = acos a
 * by acos_fast's two branches, pi - t = c < 0 ? T : pi - T, and
 * sin t = sqrt((1 - a)(1 + a)). (Sharing one polynomial for sqrt(1 - z)
 * between sin T = sqrt(1 - a^2) and sin T = 2 sin(T/2) cos(T/2) saves a
 * square root but measured slower with the earlier multiply-only root.) */
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
    const double s = sqrt(z);
    const double T = big ? 2.0 * (s + s * r) : pio2_hi - (a - (pio2_lo - a * r));
    *ak = (c < 0 ? T : (pio2_hi - T) + pio2_hi + 2 * pio2_lo) * inv2pi;
    *sk = sqrt((1.0 - a) * (1.0 + a)) * inv2pi;
}

void mn_popul_angle_terms(double c, double *ak, double *sk) { angle_terms(c, ak, sk); }

/* Helpers of the hot functions: always inlined, so compiled per level. */
#define MN_INLINE static inline __attribute__((always_inline))
/* Vector loads, stores and m ? x : y lane by lane (m from a comparison: all
 * ones or zero) for a GCC / Clang vector type T, TL its int64 twin. */
#define VLD(T, p) (*(const T *)(p))
#define VST(T, p, v) (*(T *)(p) = (v))
#define VSEL(T, TL, m, x, y) ((T)(((TL)(x) & (m)) | ((TL)(y) & ~(m))))
/* The statement for h = 0 .. N-1. */
#define XN(N, stmt)                                                                                  \
    for (int h = 0; h < (N); h++) {                                                                  \
        stmt;                                                                                        \
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

/* One copy of the evaluation per vector width (kernel_vec.h). */
#define MN_VW 2
#define MN_W(x) x##_w2
#include "popul/kernel_vec.h"
#undef MN_VW
#undef MN_W
#if MN_X86_LEVELS
#define MN_VW 4
#define MN_W(x) x##_w4
#include "popul/kernel_vec.h"
#undef MN_VW
#undef MN_W
#define MN_VW 8
#define MN_W(x) x##_w8
#include "popul/kernel_vec.h"
#undef MN_VW
#undef MN_W
#endif

/* Each level's width: 16-byte vectors for levels 1 and 2, 32 for 3, 64 for 4. */
MN_INLINE int eval_core_at(mn_popul_work *w, const double *restrict Wp0, double *loss, double *restrict Gp0,
                           double *restrict nn, const int lv)
{
#if MN_X86_LEVELS
    if (lv == 4) return eval_core_w8(w, Wp0, loss, Gp0, nn);
    if (lv == 3) return eval_core_w4(w, Wp0, loss, Gp0, nn);
#endif
    return eval_core_w2(w, Wp0, loss, Gp0, nn);
}
MN_LEVELS(int, eval_core, (mn_popul_work * w, const double *restrict Wp0, double *loss, double *restrict Gp0,
                           double *restrict nn),
          w, Wp0, loss, Gp0, nn)


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
 * symmetric, so block (j, i) is the same matrix, written row by row from
 * the same products (its entries are those of (i, j), bit for bit).
 *
 * sym = 1 (the plain model, H complete here): each diagonal block is made
 * exactly symmetric, entry pairs replaced by their mean, as symmetrize does;
 * the off-diagonal blocks already are (symmetrize's mean 0.5 (x + x) is x
 * there unless 2x overflows), so H comes out bit for bit as symmetrize
 * would leave it. Returns 0 when symmetrize would have found a value that is
 * not finite: an entry of a diagonal block, or 2x for an x of the others
 * (exponent field 0x7FE or 0x7FF); 1 otherwise. sym = 0: the blocks as
 * computed (the eliminator adds its terms, then symmetrize), returns 1. */
#define MN_EXP_BITS 0x7FF0000000000000ULL
#define MN_EXP_HALF 0x7FE0000000000000ULL /* |x| >= 2^1023: 2x overflows */
MN_INLINE int exp_at_least(const double *restrict x, int m, uint64_t lim)
{
    int bad = 0;
    for (int c = 0; c < m; c++) {
        uint64_t b;
        memcpy(&b, x + c, sizeof b);
        bad |= (b & MN_EXP_BITS) >= lim;
    }
    return bad;
}

MN_INLINE int hess_blocks_at(double *restrict H, size_t ld, const mn_popul_work *w, double *restrict Q,
                            double *restrict cq, int sym, const int lv)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    const double inv2pi = 1.0 / (2 * MN_PI);
    int bad = 0;
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
        if (sym)
            for (int a = 0; a < k; a++)
                for (int b = a + 1; b < k; b++) {
                    const double v = 0.5 * (B[a * ld + b] + B[b * ld + a]);
                    B[a * ld + b] = B[b * ld + a] = v;
                }
        /* off-diagonal blocks (i, j), j > i, and their mirror (j, i):
         * entry (a, b) of (i, j) = fu[a] u^[b] + fq[a] q[b] (+ the diagonal) */
        double *restrict fu = Q + (size_t)kp, *restrict fq = Q + 2 * (size_t)kp;
        for (int j = i + 1; j < n; j++) {
            const double *restrict uj = w->U + (size_t)j * kp;
            double *restrict q = Q;
            double c = 0, s2 = 0;
            for (int l = 0; l < k; l++) c += ui[l] * uj[l];
            for (int l = 0; l < k; l++) q[l] = uj[l] - c * ui[l], s2 += q[l] * q[l];
            const double s = sqrt(s2), t = atan2(s, c);
            const double qq = s > 0 ? c / s : 0; /* c s q^q^T = c q q^T / s */
            const double dg = inv2pi * (MN_PI - t);
            for (int a = 0; a < k; a++) fu[a] = inv2pi * (c * s * ui[a] + s * q[a]), fq[a] = inv2pi * (s * ui[a] - qq * q[a]);
            double *restrict Bij = H + (size_t)i * k * ld + (size_t)j * k;
            double *restrict Bji = H + (size_t)j * k * ld + (size_t)i * k;
            for (int a = 0; a < k; a++) {
                double *restrict r = Bij + a * ld;
                for (int b = 0; b < k; b++) r[b] = fu[a] * ui[b] + fq[a] * q[b];
                r[a] += dg;
            }
            for (int b = 0; b < k; b++) {
                double *restrict r = Bji + b * ld;
                for (int a = 0; a < k; a++) r[a] = fu[a] * ui[b] + fq[a] * q[b];
                r[b] += dg;
            }
        }
        /* block row i is complete: (i, j < i) came as mirrors */
        if (sym)
            for (int a = 0; a < k; a++) {
                const double *restrict row = H + ((size_t)i * k + a) * ld;
                bad |= exp_at_least(row, i * k, MN_EXP_HALF) | exp_at_least(row + i * k, k, MN_EXP_BITS) |
                       exp_at_least(row + (i + 1) * k, (n - i - 1) * k, MN_EXP_HALF);
            }
    }
    return !bad;
}

MN_LEVELS(int, hess_blocks,
          (double *restrict H, size_t ld, const mn_popul_work *w, double *restrict Q, double *restrict cq, int sym),
          H, ld, w, Q, cq, sym)

/* Exact symmetry (blocks are symmetric up to rounding) and a finiteness
 * check; returns 0 when a value is not finite. */
MN_INLINE int symmetrize_at(double *restrict H, size_t P, const int lv)
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
MN_LEVELS(int, symmetrize, (double *restrict H, size_t P), H, P)

mn_status mn_popul_hessian(mn_popul_work *w, const double *theta, double *hess)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    const size_t P = w->P;
    /* norms and unit rows (and the checks) as in the evaluation */
    mn_status st = mn_popul_eval_plain(w, theta, NULL, NULL);
    if (st) return st;
    /* Q: n + k rows of kp (at least 3 for the off-diagonal blocks' q, fu, fq) */
    double *Q = malloc((size_t)(n + k + 2) * kp * sizeof *Q), *cq = malloc((size_t)(n + k) * sizeof *cq);
    if (!Q || !cq) {
        free(Q), free(cq);
        return mn_fail(MN_ENOMEM, "popul: out of memory for the Hessian");
    }
    int ok;
    if (w->spec.elim) {
        memset(hess, 0, P * P * sizeof *hess);
        hess_blocks(hess, P, w, Q, cq, 0);
        mn_popul_elim_hessian(w, theta, hess);
        ok = symmetrize(hess, P);
    } else {
        ok = hess_blocks(hess, P, w, Q, cq, 1); /* symmetric as it comes */
    }
    free(Q), free(cq);
    if (!ok) return mn_fail(MN_ERANGE, "popul: the Hessian is not finite");
    return MN_OK;
}
