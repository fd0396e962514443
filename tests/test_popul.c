/* The population model (include/minima/popul.h): closed forms against finite
 * differences and Monte Carlo, the fast arccosine, the symmetry test, and the
 * Safran-Shamir protocol's shortcuts against the plain protocol.
 *
 * Finite differences. 4-point central stencil
 *   f'(t) ~ [f(t-2h) - 8 f(t-h) + 8 f(t+h) - f(t+2h)] / (12 h),
 * truncation O(h^4 f^(5)), rounding ~ eps |f| / h. F and its gradient are
 * real-analytic away from zero units and from parallel / antiparallel pairs,
 * with derivatives of order m scaling like r^(3-m) in the distance r to such
 * a pair (the kernel behaves like r^3 there). At generic points (r ~ 1,
 * h = 1e-4) truncation ~ 1e-16 and rounding ~ 1e-12, so RTOL = 1e-8 relative
 * to the derivative's scale leaves a 10^4 margin while any wrong term (an
 * O(1) relative error) fails. Near t = 0 or pi (r = 1e-2) the stencil uses
 * h = 1e-5: it stays 500 h away from the non-smooth point, truncation
 * ~ (h/r)^4 r^-? stays below 1e-10, rounding ~ 1e-11. At exactly t = 0 or pi
 * the Hessian is continuous but only one-sided differentiable, so a central
 * stencil across it measures nothing useful: we test near, not at, and test
 * the value at t = 0 by continuity instead.
 *
 * Monte Carlo. N = 2e6 samples of x ~ N(0, I) with a fixed seed; the
 * tolerance is 5 standard errors from the sample variance (a correct formula
 * fails with probability ~6e-7 per compared number; the seed is fixed, so
 * the test is deterministic anyway), while the errors we guard against (a
 * missing factor or term) are O(1) relative, i.e. hundreds of standard
 * errors at this N. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "minima.h"
#include "minima/sweep.h"
#include "minima/popul.h"
#include "popul/internal.h" /* mn_popul_angle_terms */
#include "tmpdir.h"

#define RTOL 1e-8
#define PI 3.14159265358979323846

static double randn(mn_rng *r) { return mn_rng_normal(r); }

static double inf_norm(const double *a, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++) m = fmax(m, fabs(a[i]));
    return m;
}

typedef struct {
    mn_popul_spec spec;
    mn_popul_work *w;
    size_t P;
} prob;

static prob make(int n, int k, int elim, double lambda)
{
    prob p = {.spec = {.n = n, .k = k, .elim = elim, .lambda = lambda}};
    assert_int_equal(mn_popul_work_alloc(&p.w, &p.spec), MN_OK);
    p.P = mn_popul_nparams(&p.spec);
    return p;
}

static double loss_at(prob *p, const double *th)
{
    double l;
    assert_int_equal(mn_popul_eval(p->w, th, &l, NULL), MN_OK);
    return l;
}

/* Gradient against the stencil of F, coordinate by coordinate, and every
 * Hessian column against the stencil of the gradient. */
static void check_derivs(prob *p, const double *th, double h, const char *where)
{
    const size_t P = p->P;
    double *g = malloc(P * sizeof *g), *tmp = malloc(P * sizeof *tmp), *gg = malloc(P * sizeof *gg);
    double *col = malloc(P * sizeof *col), *H = malloc(P * P * sizeof *H);
    double l;
    assert_int_equal(mn_popul_eval(p->w, th, &l, g), MN_OK);
    const double gs = inf_norm(g, P);
    assert_true(gs > 1e-3); /* cannot pass with an all-zero gradient */
    const double t[4] = {-2 * h, -h, h, 2 * h}, cf[4] = {1, -8, 8, -1};
    for (size_t i = 0; i < P; i++) {
        double d = 0;
        for (int s = 0; s < 4; s++) {
            memcpy(tmp, th, P * sizeof *tmp);
            tmp[i] += t[s];
            d += cf[s] * loss_at(p, tmp);
        }
        d /= 12 * h;
        if (fabs(d - g[i]) > RTOL * (1 + gs))
            fail_msg("%s: dF/dtheta[%zu] = %.15g, finite difference %.15g", where, i, g[i], d);
    }
    assert_int_equal(mn_popul_hessian(p->w, th, H), MN_OK);
    const double hs = inf_norm(H, P * P);
    assert_true(hs > 1e-3);
    for (size_t j = 0; j < P; j++) {
        memset(col, 0, P * sizeof *col);
        for (int s = 0; s < 4; s++) {
            memcpy(tmp, th, P * sizeof *tmp);
            tmp[j] += t[s];
            assert_int_equal(mn_popul_eval(p->w, tmp, NULL, gg), MN_OK);
            for (size_t i = 0; i < P; i++) col[i] += cf[s] * gg[i] / (12 * h);
        }
        for (size_t i = 0; i < P; i++) {
            if (fabs(col[i] - H[i * P + j]) > RTOL * (1 + hs))
                fail_msg("%s: H[%zu][%zu] = %.15g, finite difference %.15g", where, i, j, H[i * P + j], col[i]);
            assert_true(H[i * P + j] == H[j * P + i]); /* symmetric by construction */
        }
    }
    free(g), free(tmp), free(gg), free(col), free(H);
}

/* ------------------------------------------------------------------ */
static void test_acos(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 2385);
    double worst = 0, at = 0, worst_ulp = 0;
    for (int i = 0; i < 2000000; i++) {
        double x = 2 * mn_rng_uniform(&r) - 1;
        double ref = acos(x), e = fabs(mn_popul_acos(x) - ref);
        if (e > worst) worst = e, at = x;
        if (ref > 0) worst_ulp = fmax(worst_ulp, e / (nextafter(ref, 4.0) - ref));
    }
    /* near the branch points +-1/2 and the ends +-1, to the last bits */
    const double spots[] = {-1, -0.5, 0, 0.5, 1};
    for (int s = 0; s < 5; s++)
        for (int m = -2000; m <= 2000; m++) {
            double x = spots[s] + m * 0x1p-52;
            if (x < -1 || x > 1) continue;
            double e = fabs(mn_popul_acos(x) - acos(x));
            if (e > worst) worst = e, at = x;
        }
    for (int m = 1; m < 60; m++) {
        double x = 1 - ldexp(1, -m), e = fmax(fabs(mn_popul_acos(x) - acos(x)), fabs(mn_popul_acos(-x) - acos(-x)));
        if (e > worst) worst = e, at = x;
    }
    if (worst > 4.5e-16 || worst_ulp > 1.0)
        fail_msg("acos error %.3g (%.2f ulp) at x = %.17g", worst, worst_ulp, at);
    print_message("fast acos: max |error| = %.3g, %.2f ulp (bounds 4.5e-16, 1 ulp)\n", worst, worst_ulp);
    assert_true(mn_popul_acos(1.5) == 0.0 && fabs(mn_popul_acos(-1.5) - PI) < 4e-16); /* clamped */
}

/* The gradient's per-angle terms against libm, over [-1, 1] and at the ends:
 * |(pi - acos c)/2pi| error <= 1.2e-16 (about 1 ulp at 1/2), sin t / 2pi
 * within 1 ulp (the reference's expression, sqrt((1 - a)(1 + a)) / 2pi, with
 * the correctly rounded root; the kernel multiplies by a rounded 1/2pi). */
static void test_angle_terms(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 4);
    double wa = 0, ws = 0;
    for (int i = 0; i < 2000000; i++) {
        const double near_end = (i % 2 ? 1 : -1) * (1 - ldexp(mn_rng_uniform(&r), -(i % 50)));
        const double c = i < 1000000 ? 2 * mn_rng_uniform(&r) - 1 : near_end;
        double a, s;
        mn_popul_angle_terms(c, &a, &s);
        const double ra = (PI - acos(c)) / (2 * PI), rs = sqrt((1 - c) * (1 + c)) / (2 * PI);
        wa = fmax(wa, fabs(a - ra));
        if (rs > 0) ws = fmax(ws, fabs(s - rs) / (nextafter(rs, 1.0) - rs));
    }
    if (wa > 1.2e-16 || ws > 1.0) fail_msg("angle terms: |err| %.3g, sin %.2f ulp", wa, ws);
    print_message("angle terms: max |error| %.3g ((pi - t)/2pi), %.2f ulp (sin t/2pi)\n", wa, ws);
}

static void test_kernel_values(void **state)
{
    (void)state;
    const double u[3] = {0.7, -1.2, 2.385}, v[3] = {-0.3, 0.4, 1.1}, e1[2] = {1, 0}, e2[2] = {0, 1};
    const double nu2 = 0.49 + 1.44 + 2.385 * 2.385;
    assert_true(fabs(mn_popul_kernel(u, u, 3) - nu2 / 2) < 1e-14); /* g(u, u) = |u|^2 / 2 */
    const double mu[3] = {-0.7, 1.2, -2.385};
    assert_true(fabs(mn_popul_kernel(u, mu, 3)) < 1e-14); /* disjoint supports */
    assert_true(fabs(mn_popul_kernel(e1, e2, 2) - 1 / (2 * PI)) < 1e-15);
    /* symmetric and 1-homogeneous in each argument */
    const double g = mn_popul_kernel(u, v, 3);
    assert_true(fabs(g - mn_popul_kernel(v, u, 3)) < 1e-15);
    const double u2[3] = {2.5 * u[0], 2.5 * u[1], 2.5 * u[2]};
    assert_true(fabs(mn_popul_kernel(u2, v, 3) - 2.5 * g) < 1e-14);
}

/* F = 0 at W = I and at every row permutation (n = k), and at a split unit
 * (n = k + 1); the gradient vanishes there too. */
static void test_global_zero(void **state)
{
    (void)state;
    const int k = 7;
    prob p = make(k, k, 0, 0);
    double W[8 * 7], g[8 * 7], l;
    const int perm[7] = {3, 0, 6, 2, 5, 1, 4};
    for (int rep = 0; rep < 2; rep++) {
        memset(W, 0, sizeof W);
        for (int i = 0; i < k; i++) W[i * k + (rep ? perm[i] : i)] = 1;
        assert_int_equal(mn_popul_eval(p.w, W, &l, g), MN_OK);
        assert_true(fabs(l) < 1e-13);
        assert_true(inf_norm(g, (size_t)k * k) < 1e-13);
    }
    mn_popul_work_free(p.w);
    prob q = make(k + 1, k, 0, 0);
    memset(W, 0, sizeof W);
    for (int i = 0; i < k; i++) W[i * k + i] = 1;
    W[2 * k + 2] = 0.3, W[k * k + 2] = 0.7; /* e_3 = 0.3 e_3 + 0.7 e_3 */
    assert_int_equal(mn_popul_eval(q.w, W, &l, g), MN_OK);
    assert_true(fabs(l) < 1e-13);
    assert_true(inf_norm(g, (size_t)(k + 1) * k) < 1e-13);
    /* and F > 0 with a gradient away from it */
    W[0] = 0.9;
    assert_int_equal(mn_popul_eval(q.w, W, &l, g), MN_OK);
    assert_true(l > 1e-4 && inf_norm(g, (size_t)(k + 1) * k) > 1e-3);
    mn_popul_work_free(q.w);
}

static void test_fd_generic(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 7);
    const int sizes[3][2] = {{5, 4}, {7, 6}, {3, 5}};
    for (int s = 0; s < 3; s++) {
        prob p = make(sizes[s][0], sizes[s][1], 0, 0);
        double *th = malloc(p.P * sizeof *th);
        for (int rep = 0; rep < 3; rep++) {
            for (size_t i = 0; i < p.P; i++) th[i] = 0.8 * randn(&r);
            check_derivs(&p, th, 1e-4, "generic point");
        }
        free(th);
        mn_popul_work_free(p.w);
    }
}

/* Rotate unit direction a towards b (orthonormalised) by angle t. */
static void rotate(double *out, const double *a, const double *b, double t, double scale, int k)
{
    double na = 0, ab = 0;
    for (int l = 0; l < k; l++) na += a[l] * a[l], ab += a[l] * b[l];
    na = sqrt(na);
    double perp[64], np = 0;
    for (int l = 0; l < k; l++) perp[l] = b[l] - ab / (na * na) * a[l], np += perp[l] * perp[l];
    np = sqrt(np);
    for (int l = 0; l < k; l++) out[l] = scale * (cos(t) * a[l] / na + sin(t) * perp[l] / np);
}

/* Pairs at angles 1e-2 and pi - 1e-2 (student-student and student-teacher). */
static void test_fd_near_kinks(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 11);
    const int n = 5, k = 4;
    prob p = make(n, k, 0, 0);
    double th[20], b[4], e2[4] = {0, 1, 0, 0}, e1[4] = {1, 0, 0, 0};
    for (int rep = 0; rep < 4; rep++) {
        for (int i = 0; i < n * k; i++) th[i] = 0.8 * randn(&r);
        for (int l = 0; l < k; l++) b[l] = randn(&r);
        const double t = rep % 2 ? 1e-2 : PI - 1e-2;
        rotate(th + k, th, b, t, 1.3, k);      /* w_1 at angle t from w_0 */
        rotate(th + 3 * k, e1, e2, t, 0.9, k); /* w_3 at angle t from e_1 */
        check_derivs(&p, th, 1e-5, rep % 2 ? "angles near 0" : "angles near pi");
    }
    /* At exactly t = 0 / pi the Hessian is the continuous limit. */
    double H0[400], H1[400];
    for (int rep = 0; rep < 2; rep++) {
        for (int i = 0; i < n * k; i++) th[i] = 0.8 * randn(&r);
        double n0 = 0;
        for (int l = 0; l < k; l++) n0 += th[l] * th[l];
        for (int l = 0; l < k; l++) th[k + l] = (rep ? -1.7 : 1.7) / sqrt(n0) * th[l];
        for (int l = 0; l < k; l++) th[3 * k + l] = (l == 0) * 0.9;
        assert_int_equal(mn_popul_hessian(p.w, th, H0), MN_OK);
        for (int l = 0; l < k; l++) b[l] = randn(&r);
        rotate(th + k, th, b, rep ? PI - 1e-7 : 1e-7, 1.7, k);
        rotate(th + 3 * k, e1, e2, 1e-7, 0.9, k);
        assert_int_equal(mn_popul_hessian(p.w, th, H1), MN_OK);
        for (int i = 0; i < 400; i++)
            if (fabs(H0[i] - H1[i]) > 1e-6)
                fail_msg("t = %s: H[%d][%d] = %.12g at the limit, %.12g at 1e-7 from it", rep ? "pi" : "0", i / 20,
                         i % 20, H0[i], H1[i]);
    }
    mn_popul_work_free(p.w);
}

static void test_fd_elim(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 13);
    const int sizes[2][2] = {{4, 3}, {3, 5}};
    for (int s = 0; s < 2; s++) {
        prob p = make(sizes[s][0], sizes[s][1], 1, 0.37);
        double *th = malloc(p.P * sizeof *th);
        const size_t ao = (size_t)sizes[s][0] * sizes[s][1];
        for (int rep = 0; rep < 3; rep++) {
            for (size_t i = 0; i < p.P; i++) th[i] = 0.8 * randn(&r);
            th[ao] = 0.7 * randn(&r);
            for (int l = 0; l < sizes[s][1]; l++) th[ao + 1 + l] *= 0.5;
            th[p.P - 1] = 0.4 * randn(&r);
            check_derivs(&p, th, 1e-4, "eliminator");
        }
        free(th);
        mn_popul_work_free(p.w);
    }
}

/* ------------------------------------------------------------------ */
/* Monte Carlo: F and the gradient as sample means over x ~ N(0, I). */
static void mc_check(int n, int k, int elim, uint64_t seed)
{
    prob p = make(n, k, elim, 0.37);
    const size_t P = p.P, ao = (size_t)n * k;
    mn_rng r;
    mn_rng_seed(&r, seed);
    double *th = malloc(P * sizeof *th), *g = malloc(P * sizeof *g);
    for (size_t i = 0; i < P; i++) th[i] = 0.8 * randn(&r);
    if (elim) {
        th[ao] = 0.6;
        for (int l = 0; l < k; l++) th[ao + 1 + l] *= 0.3;
        th[P - 1] = -0.2;
    }
    double F;
    assert_int_equal(mn_popul_eval(p.w, th, &F, g), MN_OK);
    assert_true(inf_norm(g, P) > 1e-2);
    const long N = 2000000;
    /* per-sample quantities: f = r^2/2, d_i = dF/dtheta_i as a sample */
    double *s1 = calloc(P + 1, sizeof *s1), *s2 = calloc(P + 1, sizeof *s2), *d = malloc(P * sizeof *d);
    double x[16];
    for (long t = 0; t < N; t++) {
        for (int l = 0; l < k; l++) x[l] = randn(&r);
        double res = 0;
        for (int j = 0; j < k; j++) res -= x[j] > 0 ? x[j] : 0;
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int l = 0; l < k; l++) z += th[i * k + l] * x[l];
            res += z > 0 ? z : 0;
        }
        double e = 0;
        if (elim) {
            double z = th[P - 1];
            for (int l = 0; l < k; l++) z += th[ao + 1 + l] * x[l];
            e = exp(z);
            res += th[ao] * e;
        }
        for (int i = 0; i < n; i++) {
            double z = 0;
            for (int l = 0; l < k; l++) z += th[i * k + l] * x[l];
            for (int l = 0; l < k; l++) d[i * k + l] = z > 0 ? res * x[l] : 0;
        }
        if (elim) {
            const double a = th[ao];
            d[ao] = res * e;
            for (int l = 0; l < k; l++) d[ao + 1 + l] = res * a * e * x[l];
            d[P - 1] = res * a * e;
        }
        const double f = 0.5 * res * res;
        s1[P] += f, s2[P] += f * f;
        for (size_t i = 0; i < P; i++) s1[i] += d[i], s2[i] += d[i] * d[i];
    }
    double pen = 0;
    if (elim) {
        const double a = th[ao];
        pen = 0.5 * 0.37 * a * a;
    }
    for (size_t i = 0; i <= P; i++) {
        const double mean = s1[i] / N, var = s2[i] / N - mean * mean, se = sqrt(var / N);
        double exact = i == P ? F - pen : g[i];
        if (elim && i == ao) exact -= 0.37 * th[ao]; /* the penalty is not in the expectation */
        if (fabs(mean - exact) > 5 * se + 1e-12)
            fail_msg("n=%d k=%d elim=%d: %s[%zu] = %.8g, Monte Carlo %.8g +- %.2g", n, k, elim,
                     i == P ? "F" : "grad", i, exact, mean, se);
        assert_true(se < 0.05 * (fabs(exact) + 0.05)); /* the test has power */
    }
    free(th), free(g), free(s1), free(s2), free(d);
    mn_popul_work_free(p.w);
}

static void test_monte_carlo(void **state)
{
    (void)state;
    mc_check(3, 4, 0, 101);
    mc_check(2, 3, 1, 202);
}

/* ------------------------------------------------------------------ */
static void test_sqrt(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 99);
    double worst = 0;
    for (int i = 0; i < 1000000; i++) {
        const double x = i < 500000 ? mn_rng_uniform(&r) : ldexp(mn_rng_uniform(&r), -(i % 200));
        const double ref = sqrt(x), e = fabs(mn_popul_sqrt(x) - ref);
        if (ref > 0) worst = fmax(worst, e / (nextafter(ref, 2.0) - ref));
    }
    assert_true(mn_popul_sqrt(0.0) == 0.0 && mn_popul_sqrt(1.0) == 1.0);
    if (worst > 0) fail_msg("sqrt error %.2f ulp", worst);
    print_message("kernel sqrt: max error %.2f ulp (correctly rounded: bound 0)\n", worst);
}

/* The dispatch picks the widest level the CPU supports, as GCC's own
 * feature tests see it; a level the CPU lacks is refused. */
static void test_isa_dispatch(void **state)
{
    (void)state;
    int want = 1;
#if defined(__GNUC__) && !defined(__clang__) && defined(__x86_64__)
    __builtin_cpu_init();
    if (__builtin_cpu_supports("x86-64-v2")) want = 2;
    if (__builtin_cpu_supports("x86-64-v3")) want = 3;
    if (__builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
        __builtin_cpu_supports("avx512cd") && __builtin_cpu_supports("avx512dq") &&
        __builtin_cpu_supports("avx512vl") && want == 3)
        want = 4;
#endif
    assert_int_equal(mn_popul_isa_best(), want);
    assert_int_equal(mn_popul_isa_level(), want);
    if (want < 4) assert_int_equal(mn_popul_isa_select(want + 1), MN_EINVAL);
    assert_int_equal(mn_popul_isa_select(-1), MN_EINVAL);
    assert_int_equal(mn_popul_isa_level(), want); /* a refused choice changes nothing */
    assert_int_equal(mn_popul_isa_select(1), MN_OK);
    assert_int_equal(mn_popul_isa_level(), 1);
    assert_int_equal(mn_popul_isa_select(0), MN_OK);
    assert_int_equal(mn_popul_isa_level(), want);
}

/* Every level this CPU runs gives the same bits as level 1: value,
 * gradient (plain and padded entry points), Hessian, and a whole GD run,
 * at sizes that leave every tile and vector remainder in play. */
static void test_isa_bits(void **state)
{
    (void)state;
    static const int sizes[][2] = {{1, 1}, {3, 5}, {8, 8}, {9, 13}, {14, 14}, {17, 9}, {21, 20}, {40, 33}};
    const int best = mn_popul_isa_best();
    mn_rng r;
    mn_rng_seed(&r, 2385);
    for (size_t c = 0; c < sizeof sizes / sizeof *sizes; c++) {
        prob p = make(sizes[c][0], sizes[c][1], 0, 0);
        const size_t P = p.P;
        double *th = malloc(P * sizeof *th), *g = malloc(P * sizeof *g), *g1 = malloc(P * sizeof *g1);
        double *H = malloc(P * P * sizeof *H), *H1 = malloc(P * P * sizeof *H1);
        for (size_t i = 0; i < P; i++) th[i] = randn(&r) / sqrt((double)sizes[c][1]);
        double l1 = 0, l;
        for (int lv = 1; lv <= best; lv++) {
            assert_int_equal(mn_popul_isa_select(lv), MN_OK);
            assert_int_equal(mn_popul_eval(p.w, th, &l, g), MN_OK);
            assert_int_equal(mn_popul_hessian(p.w, th, H), MN_OK);
            if (lv == 1) {
                l1 = l;
                memcpy(g1, g, P * sizeof *g);
                memcpy(H1, H, P * P * sizeof *H);
                assert_true(inf_norm(g, P) > 1e-3); /* a live point */
                continue;
            }
            if (memcmp(&l, &l1, sizeof l) || memcmp(g, g1, P * sizeof *g) || memcmp(H, H1, P * P * sizeof *H))
                fail_msg("n = %d, k = %d: level %d differs from level 1", sizes[c][0], sizes[c][1], lv);
        }
        free(th), free(g), free(g1), free(H), free(H1);
        mn_popul_work_free(p.w);
    }
    /* one restart of the protocol (GD on the padded layout, Newton polish) */
    const mn_popul_spec spec = {.n = 9, .k = 8};
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    const size_t P = mn_popul_nparams(&spec);
    double *e1 = malloc(P * sizeof *e1), *e = malloc(P * sizeof *e);
    mn_popul_run q1, q;
    for (int lv = 1; lv <= best; lv++) {
        assert_int_equal(mn_popul_isa_select(lv), MN_OK);
        assert_int_equal(mn_popul_run_one(lv == 1 ? &q1 : &q, lv == 1 ? e1 : e, &spec, &o, 7, 3), MN_OK);
        if (lv == 1) continue;
        assert_true(q.iters == q1.iters && q.cls == q1.cls);
        assert_memory_equal(&q.loss, &q1.loss, sizeof q.loss);
        assert_memory_equal(e, e1, P * sizeof *e);
    }
    assert_true(q1.iters > 100);
    free(e1), free(e);
    assert_int_equal(mn_popul_isa_select(0), MN_OK);
}

/* The one Wilson interval (minima/sweep.h) in %, as the tables print it. */
static void wilson_pct(double *lo, double *hi, int s, int m)
{
    mn_wilson(lo, hi, s, m, MN_Z95);
    *lo *= 100, *hi *= 100;
}

static void test_wilson(void **state)
{
    (void)state;
    double lo, hi;
    wilson_pct(&lo, &hi, 0, 10); /* upper = z^2 / (n + z^2) */
    assert_true(lo == 0 && fabs(hi - 100 * 3.841459 / 13.841459) < 1e-4);
    wilson_pct(&lo, &hi, 5, 10);
    assert_true(fabs(lo - 23.659309) < 1e-4 && fabs(hi - 76.340691) < 1e-4);
    wilson_pct(&lo, &hi, 7, 7);
    assert_true(hi == 100 && lo > 50 && lo < 70);
}

static void permute(double *out, const double *A, int rows, int cols, const int *pr, const int *pc)
{
    for (int i = 0; i < rows; i++)
        for (int j = 0; j < cols; j++) out[pr[i] * cols + pc[j]] = A[i * cols + j];
}

static void shuffle(int *p, int m, mn_rng *r)
{
    for (int i = 0; i < m; i++) p[i] = i;
    for (int i = m - 1; i > 0; i--) {
        int j = (int)(mn_rng_u64(r) % (uint64_t)(i + 1)), t = p[i];
        p[i] = p[j], p[j] = t;
    }
}

static void test_equivalent(void **state)
{
    (void)state;
    mn_rng r;
    mn_rng_seed(&r, 5);
    enum { R = 7, C = 5 };
    double A[R * C], B[R * C], D[R * C];
    int pr[R], pc[C];
    for (int t = 0; t < R * C; t++) A[t] = randn(&r);
    for (int rep = 0; rep < 20; rep++) {
        shuffle(pr, R, &r), shuffle(pc, C, &r);
        permute(B, A, R, C, pr, pc);
        for (int t = 0; t < R * C; t++) D[t] = B[t] + 1e-9 * randn(&r);
        assert_true(mn_popul_equivalent(A, D, R, C, 0, 1e-6));
        D[rep % (R * C)] += 1e-3; /* one entry off */
        assert_false(mn_popul_equivalent(A, D, R, C, 0, 1e-6));
    }
    /* the same multiset of entries, not equivalent */
    const double a[4] = {1, 2, 3, 4}, b[4] = {1, 2, 4, 3};
    assert_false(mn_popul_equivalent(a, b, 2, 2, 0, 1e-6));
    /* symmetric structures (the minima's): x on the diagonal, y off it, one
     * distinguished row; permuted copies match, a changed structure does not */
    double S[6 * 6], T[6 * 6], U2[6 * 6];
    for (int i = 0; i < 6; i++)
        for (int j = 0; j < 6; j++) S[i * 6 + j] = i == j ? (i < 2 ? -0.63 : 0.997) : (i < 2 ? 0.26 : -0.035);
    for (int rep = 0; rep < 10; rep++) {
        int qr[6], qc[6];
        shuffle(qr, 6, &r), shuffle(qc, 6, &r);
        permute(T, S, 6, 6, qr, qc);
        assert_true(mn_popul_equivalent(S, T, 6, 6, 0, 1e-6));
    }
    memcpy(U2, S, sizeof S);
    U2[2 * 6 + 2] = 0.26, U2[2 * 6 + 0] = 0.997; /* move a diagonal entry off the diagonal */
    assert_false(mn_popul_equivalent(S, U2, 6, 6, 0, 1e-6));
    /* a pinned last row is never exchanged with the others */
    double P1[3 * 2] = {1, 2, 3, 4, 5, 6}, P2[3 * 2] = {3, 4, 1, 2, 5, 6}, P3[3 * 2] = {5, 6, 3, 4, 1, 2};
    assert_true(mn_popul_equivalent(P1, P2, 3, 2, 1, 1e-9));
    assert_true(mn_popul_equivalent(P1, P3, 3, 2, 0, 1e-9));
    assert_false(mn_popul_equivalent(P1, P3, 3, 2, 1, 1e-9));
}

/* ------------------------------------------------------------------ */
/* The protocol. */

/* Timings zeroed: the runs' and the row's, so results compare bit for bit. */
static void untime(mn_popul_row *row, mn_popul_run *runs, int restarts)
{
    row->seconds = row->run_seconds = 0;
    for (int r = 0; r < restarts; r++) runs[r].seconds = 0;
}

static mn_popul_run *rows_of(int k, int n, int restarts, const mn_popul_opts *o, int threads, mn_popul_row *row)
{
    mn_popul_spec s = {.n = n, .k = k};
    mn_popul_run *runs = malloc((size_t)restarts * sizeof *runs);
    assert_non_null(runs);
    if (mn_popul_experiment(row, runs, &s, o, restarts, 2385, threads)) fail_msg("%s", mn_last_error());
    untime(row, runs, restarts);
    return runs;
}

/* Bit-identical whatever the thread count. */
static void test_determinism(void **state)
{
    (void)state;
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    const int sizes[2][2] = {{9, 9}, {8, 9}};
    for (int s = 0; s < 2; s++) {
        mn_popul_row r1, r2;
        mn_popul_run *a = rows_of(sizes[s][0], sizes[s][1], 60, &o, 1, &r1);
        mn_popul_run *b = rows_of(sizes[s][0], sizes[s][1], 60, &o, 2, &r2);
        assert_memory_equal(a, b, 60 * sizeof *a);
        assert_memory_equal(&r1, &r2, sizeof r1);
        /* run_one gives the same run, with its eigenvalue */
        for (int r = 0; r < 60; r++) {
            if (a[r].cls != MN_CLASS_SPURIOUS) continue;
            mn_popul_spec sp = {.n = sizes[s][1], .k = sizes[s][0]};
            mn_popul_run one;
            assert_int_equal(mn_popul_run_one(&one, NULL, &sp, &o, 2385, r), MN_OK);
            assert_int_equal(one.cls, a[r].cls);
            assert_int_equal(one.iters, a[r].iters);
            if (one.loss != a[r].loss)
                fail_msg("run %d: loss %.17g alone, %.17g in the experiment", r, one.loss, a[r].loss);
            assert_true(fabs(one.lambda_min - a[r].lambda_min) < 1e-8);
            break;
        }
        free(a), free(b);
    }
}

/* Rows pooled into one task list equal the rows run one by one. */
static void test_many_rows(void **state)
{
    (void)state;
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    const mn_popul_spec specs[3] = {{.n = 8, .k = 8}, {.n = 8, .k = 7}, {.n = 10, .k = 9}};
    mn_popul_row many[3], one;
    mn_popul_run *rv[3];
    for (int s = 0; s < 3; s++) rv[s] = malloc(50 * sizeof **rv);
    assert_int_equal(mn_popul_experiment_many(many, rv, specs, 3, &o, 50, 2385, 2), MN_OK);
    for (int s = 0; s < 3; s++) {
        mn_popul_run *a = rows_of(specs[s].k, specs[s].n, 50, &o, 1, &one);
        /* rows_of uses the same base seed */
        untime(&many[s], rv[s], 50);
        assert_memory_equal(a, rv[s], 50 * sizeof *a);
        assert_memory_equal(&one, &many[s], sizeof one);
        free(a), free(rv[s]);
    }
}

/* Shortcut (b): classes with early global classification equal those of the
 * full protocol run by run, and in the full protocol F never climbs back to
 * global_tol once below it. MN_POPUL_LONG=1: the brief's subset, k = 6..9,
 * 100 restarts, n = k and k + 1 (~15 s); default: n = k for k = 6..9 with
 * 100 restarts and n = k + 1 for k = 6, 7 with 20 (the full protocol needs
 * ~60000 steps per global run at n = k + 1, whose minima are degenerate). */
static void test_shortcut_early_global(void **state)
{
    (void)state;
    const int lng = getenv("MN_POPUL_LONG") != NULL;
    mn_popul_opts full, early;
    mn_popul_opts_default(&full);
    full.early_global = full.newton = 0;
    early = full;
    early.early_global = 1;
    int runs_total = 0, early_total = 0;
    for (int extra = 0; extra <= 1; extra++)
        for (int k = 6; k <= (extra && !lng ? 7 : 9); k++) {
            const int R = extra && !lng ? 20 : 100;
            mn_popul_row ra, rb;
            mn_popul_run *a = rows_of(k, k + extra, R, &full, 0, &ra);
            mn_popul_run *b = rows_of(k, k + extra, R, &early, 0, &rb);
            for (int r = 0; r < R; r++) {
                if (a[r].cls != b[r].cls)
                    fail_msg("k=%d n=%d run %d: %s in full, %s with the shortcut", k, k + extra, r,
                             mn_class_name(a[r].cls), mn_class_name(b[r].cls));
                if (!isnan(a[r].max_f_after) && !(a[r].max_f_after < full.global_tol))
                    fail_msg("k=%d n=%d run %d: F back at %g after falling below %g", k, k + extra, r,
                             a[r].max_f_after, full.global_tol);
                early_total += b[r].early;
            }
            for (int c = 0; c < MN_NCLASS; c++) assert_int_equal(ra.count[c], rb.count[c]);
            assert_int_equal(ra.distinct, rb.distinct);
            runs_total += R;
            free(a), free(b);
        }
    assert_true(early_total > runs_total / 2); /* the shortcut was taken */
    print_message("early global: %d of %d runs classified early, all as the full protocol\n", early_total,
                  runs_total);
}

/* Shortcut (c): polished runs against plain GD to ||grad|| <= 1e-9: the same
 * class and distinct minimum, F within 1e-10, lambda_min within 1e-6, and end
 * points within 10 gtol / lambda_min (GD's own distance to the minimum). */
static void test_shortcut_newton(void **state)
{
    (void)state;
    mn_popul_opts gd, nt;
    mn_popul_opts_default(&gd);
    gd.newton = 0;
    nt = gd;
    nt.newton = 1;
    const int cases[][3] = {{7, 7, 100}, {8, 8, 100}, {9, 9, 100}, {10, 10, 60}, {12, 12, 40}, {14, 15, 40}};
    int polished = 0, compared = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const int k = cases[c][0], n = cases[c][1], R = cases[c][2];
        mn_popul_row ra, rb;
        mn_popul_run *a = rows_of(k, n, R, &gd, 0, &ra);
        mn_popul_run *b = rows_of(k, n, R, &nt, 0, &rb);
        assert_int_equal(ra.distinct, rb.distinct);
        mn_popul_spec sp = {.n = n, .k = k};
        const size_t P = mn_popul_nparams(&sp);
        double *x = malloc(P * sizeof *x), *y = malloc(P * sizeof *y);
        for (int r = 0; r < R; r++) {
            if (a[r].cls != b[r].cls)
                fail_msg("k=%d n=%d run %d: %s by GD, %s polished", k, n, r, mn_class_name(a[r].cls),
                         mn_class_name(b[r].cls));
            if (b[r].cls != MN_CLASS_SPURIOUS) continue;
            polished += b[r].polished;
            assert_int_equal(a[r].distinct, b[r].distinct);
            assert_true(fabs(a[r].loss - b[r].loss) < 1e-10);
            assert_true(fabs(a[r].lambda_min - b[r].lambda_min) < 1e-6);
            if (compared < 40 && b[r].polished) {
                mn_popul_run ga, gb;
                assert_int_equal(mn_popul_run_one(&ga, x, &sp, &gd, 2385, r), MN_OK);
                assert_int_equal(mn_popul_run_one(&gb, y, &sp, &nt, 2385, r), MN_OK);
                double d = 0;
                for (size_t i = 0; i < P; i++) d = fmax(d, fabs(x[i] - y[i]));
                if (!(d <= 10 * gd.gtol / ga.lambda_min))
                    fail_msg("k=%d n=%d run %d: polished end point %.3g from GD's", k, n, r, d);
                assert_true(gb.iters < ga.iters);
                compared++;
            }
        }
        free(x), free(y), free(a), free(b);
    }
    assert_true(polished > 50 && compared >= 20);
    print_message("Newton polish: %d polished runs, classes and minima as plain GD; %d end points compared\n",
                  polished, compared);
}

/* The eliminator through the protocol: runs end classified, medians finite. */
static void test_protocol_elim(void **state)
{
    (void)state;
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    mn_popul_spec s = {.n = 6, .k = 6, .elim = 1, .lambda = 0.01};
    mn_popul_row row;
    assert_int_equal(mn_popul_experiment(&row, NULL, &s, &o, 20, 7, 0), MN_OK);
    int tot = 0;
    for (int c = 0; c < MN_NCLASS; c++) tot += row.count[c];
    assert_int_equal(tot, 20);
    assert_true(isfinite(row.median_abs_a) && isfinite(row.median_a_exp_b));
    /* bad arguments are refused with a message */
    mn_popul_spec bad = {.n = 0, .k = 6};
    assert_int_equal(mn_popul_experiment(&row, NULL, &bad, &o, 20, 7, 0), MN_EINVAL);
    assert_true(strlen(mn_last_error()) > 0);
    assert_int_equal(mn_popul_experiment(&row, NULL, &s, &o, 0, 7, 0), MN_EINVAL);
}

/* A database of runs: a second call loads them and gives the same row and
 * runs; a damaged stored end point is refused with a message, not used. */
static void test_database(void **state)
{
    (void)state;
    assert_int_equal(tmpdir_make("popul"), 0);
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    const mn_popul_spec s = {.n = 8, .k = 8};
    mn_popul_row fresh, first, again;
    mn_popul_run *a = rows_of(8, 8, 40, &o, 2, &fresh), b[40], c[40];
    mn_db *db;
    assert_int_equal(mn_db_open(&db, tmp_path("p.db"), 1), MN_OK);
    mn_popul_run *rb[1] = {b}, *rc[1] = {c};
    assert_int_equal(mn_popul_experiment_db(&first, rb, &s, 1, &o, 40, 2385, 2, db), MN_OK);
    assert_int_equal(mn_popul_experiment_db(&again, rc, &s, 1, &o, 40, 2385, 2, db), MN_OK);
    assert_int_equal(first.loaded, 0);
    assert_int_equal(again.loaded, 40);
    assert_true(first.count[MN_CLASS_SPURIOUS] > 0); /* end points stored and compared */
    untime(&first, b, 40), untime(&again, c, 40);
    first.loaded = again.loaded = fresh.loaded = 0;
    assert_memory_equal(&fresh, &first, sizeof fresh);
    assert_memory_equal(&fresh, &again, sizeof fresh);
    for (int r = 0; r < 40; r++) {
        assert_int_equal(c[r].cls, a[r].cls);
        assert_int_equal(c[r].iters, a[r].iters);
        assert_true(c[r].loss == a[r].loss);
        assert_int_equal(c[r].distinct, a[r].distinct);
    }
    mn_db_close(db);
    /* a stored end point of the wrong size */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tmp_path("p.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "UPDATE runs SET theta = zeroblob(8) WHERE theta IS NOT NULL", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(mn_db_open(&db, tmp_path("p.db"), 0), MN_OK);
    assert_int_equal(mn_popul_experiment_db(&again, NULL, &s, 1, &o, 40, 2385, 2, db), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "stored end point"));
    mn_db_close(db);
    free(a);
    assert_int_equal(tmpdir_remove(), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_acos),          cmocka_unit_test(test_angle_terms),
        cmocka_unit_test(test_kernel_values),
        cmocka_unit_test(test_global_zero),   cmocka_unit_test(test_fd_generic),
        cmocka_unit_test(test_fd_near_kinks), cmocka_unit_test(test_fd_elim),
        cmocka_unit_test(test_monte_carlo),   cmocka_unit_test(test_sqrt),
        cmocka_unit_test(test_isa_dispatch),  cmocka_unit_test(test_isa_bits),
        cmocka_unit_test(test_wilson),        cmocka_unit_test(test_equivalent),
        cmocka_unit_test(test_determinism),   cmocka_unit_test(test_many_rows),
        cmocka_unit_test(test_shortcut_early_global),
        cmocka_unit_test(test_shortcut_newton), cmocka_unit_test(test_protocol_elim),
        cmocka_unit_test(test_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
