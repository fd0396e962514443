/* Proofs of spurious minima (include/minima/prove.h, src/prove/).
 *
 * Enclosures: the ball value, gradient and Hessian over a box must contain
 * the float kernel's values (src/popul/kernel.c, an independent derivation)
 * at random points of the box; at a box of radius 0 their midpoints must
 * agree with the float values to rounding (1e-12 relative).
 * Finite differences: the ball gradient's midpoints against the 4-point
 * central stencil of the ball value's midpoints, and the Hessian's against
 * the stencil of the gradient's. The midpoints carry 128 bits, so rounding
 * is ~1e-38 / h, and truncation O(h^4 f^(5)) with h = 1e-3 at generic
 * points (distance ~1 to a parallel pair) is ~1e-12; RTOL = 1e-8 leaves a
 * 10^4 margin while any wrong term (an O(1) relative error) fails.
 * Proofs: a spurious minimum found by gradient descent is proved spurious;
 * a global minimum (a permutation of I) never is; a random point, a saddle
 * and a split unit are not proved, each for its reason; certificates hold,
 * and fail when a claim is tightened in its last digit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/popul.h"
#include "minima/prove.h"
#include "prove/internal.h"
#include "tmpdir.h"

#define RTOL 1e-8

static uint64_t lcg = 88172645463325252ULL;
static double unif(void) /* in [-1, 1) */
{
    lcg ^= lcg << 13, lcg ^= lcg >> 7, lcg ^= lcg << 17;
    return (double)(lcg >> 11) / 4503599627370496.0 - 1.0;
}

static double mid(const arb_t x) { return arf_get_d(arb_midref(x), ARF_RND_NEAR); }

/* Float value, gradient and Hessian at W (n x k). */
static void floats(double *F, double *G, double *H, int n, int k, const double *W)
{
    const mn_popul_spec spec = {.n = n, .k = k};
    mn_popul_work *w = NULL;
    assert_int_equal(mn_popul_work_alloc(&w, &spec), MN_OK);
    assert_int_equal(mn_popul_eval(w, W, F, G), MN_OK);
    assert_int_equal(mn_popul_hessian(w, W, H), MN_OK);
    mn_popul_work_free(w);
}

static int inside(const arb_t x, double v) { return pv_lower(x) <= v && v <= pv_upper(x); }

static void test_enclosures_contain_float(void **state)
{
    (void)state;
    enum { n = 4, k = 3, P = n * k };
    const double r = 1e-5;
    double c[P], x[P], F, G[P], H[P * P];
    for (int a = 0; a < P; a++) c[a] = unif();
    pv_box b;
    pv_box_init(&b, n, k);
    int zero;
    char why[128];
    assert_int_equal(pv_box_set(&b, c, r, &zero, why, sizeof why), 0);
    arb_t Fb;
    arb_init(Fb);
    arb_ptr Gb = _arb_vec_init(P);
    arb_mat_t Hb;
    arb_mat_init(Hb, P, P);
    pv_value(Fb, &b);
    pv_grad(Gb, &b);
    pv_hess(Hb, &b);
    int widths_small = pv_upper(Fb) - pv_lower(Fb) < 1e-3;
    for (int t = 0; t < 20; t++) {
        for (int a = 0; a < P; a++) x[a] = c[a] + r * unif();
        floats(&F, G, H, n, k, x);
        assert_true(inside(Fb, F));
        for (int a = 0; a < P; a++) assert_true(inside(Gb + a, G[a]));
        for (int a = 0; a < P * P; a++) assert_true(inside(arb_mat_entry(Hb, a / P, a % P), H[a]));
    }
    /* the enclosures are not vacuous */
    assert_true(widths_small);
    for (int a = 0; a < P * P; a++) assert_true(pv_upper(arb_mat_entry(Hb, a / P, a % P)) - pv_lower(arb_mat_entry(Hb, a / P, a % P)) < 1e-2);
    /* radius 0: the midpoints are the float values to rounding */
    assert_int_equal(pv_box_set(&b, c, 0, &zero, why, sizeof why), 0);
    pv_value(Fb, &b);
    pv_grad(Gb, &b);
    pv_hess(Hb, &b);
    floats(&F, G, H, n, k, c);
    assert_true(fabs(mid(Fb) - F) <= 1e-12 * (1 + fabs(F)));
    for (int a = 0; a < P; a++) assert_true(fabs(mid(Gb + a) - G[a]) <= 1e-12 * (1 + fabs(G[a])));
    for (int a = 0; a < P * P; a++) assert_true(fabs(mid(arb_mat_entry(Hb, a / P, a % P)) - H[a]) <= 1e-12 * (1 + fabs(H[a])));
    arb_clear(Fb);
    _arb_vec_clear(Gb, P);
    arb_mat_clear(Hb);
    pv_box_clear(&b);
    flint_cleanup();
}

/* 4-point stencils of the ball midpoints: value -> gradient, gradient -> Hessian. */
static void test_finite_differences(void **state)
{
    (void)state;
    enum { n = 3, k = 4, P = n * k };
    const double h = 1e-3;
    double c[P], x[P];
    for (int a = 0; a < P; a++) c[a] = unif();
    pv_box b;
    pv_box_init(&b, n, k);
    int zero;
    char why[128];
    arb_t F;
    arb_init(F);
    arb_ptr G = _arb_vec_init(P), Gs = _arb_vec_init(P);
    arb_mat_t H;
    arb_mat_init(H, P, P);
    assert_int_equal(pv_box_set(&b, c, 0, &zero, why, sizeof why), 0);
    pv_grad(G, &b);
    pv_hess(H, &b);
    double gscale = 0, hscale = 0;
    for (int a = 0; a < P; a++) gscale = fmax(gscale, fabs(mid(G + a)));
    for (int a = 0; a < P * P; a++) hscale = fmax(hscale, fabs(mid(arb_mat_entry(H, a / P, a % P))));
    assert_true(gscale > 1e-2 && hscale > 1e-2); /* not a test of zeros */
    static const double wt[4] = {1, -8, 8, -1}, st[4] = {-2, -1, 1, 2};
    for (int a = 0; a < P; a++) {
        double fd = 0, fdg[P];
        memset(fdg, 0, sizeof fdg);
        for (int s = 0; s < 4; s++) {
            memcpy(x, c, sizeof x);
            x[a] += st[s] * h;
            assert_int_equal(pv_box_set(&b, x, 0, &zero, why, sizeof why), 0);
            pv_value(F, &b);
            pv_grad(Gs, &b);
            fd += wt[s] * mid(F);
            for (int e = 0; e < P; e++) fdg[e] += wt[s] * mid(Gs + e);
        }
        fd /= 12 * h;
        assert_true(fabs(fd - mid(G + a)) <= RTOL * gscale);
        for (int e = 0; e < P; e++) assert_true(fabs(fdg[e] / (12 * h) - mid(arb_mat_entry(H, e, a))) <= RTOL * hscale);
    }
    arb_clear(F);
    _arb_vec_clear(G, P), _arb_vec_clear(Gs, P);
    arb_mat_clear(H);
    pv_box_clear(&b);
    flint_cleanup();
}

/* Rotated diag(1, 2, 3, 4): the bound is <= 1 and close to it; with a
 * negative eigenvalue nothing positive is proved. */
static void test_lambda_lower(void **state)
{
    (void)state;
    enum { P = 4 };
    const double d[P] = {1, 2, 3, 4};
    double Q[P * P], M[P * P], mu, lf;
    /* Q: Householder I - 2 v v^T / |v|^2, v = (1, 2, 3, 4) */
    const double v[P] = {1, 2, 3, 4};
    for (int a = 0; a < P; a++)
        for (int e = 0; e < P; e++) Q[a * P + e] = (a == e) - 2 * v[a] * v[e] / 30.0;
    for (int sign = 1; sign >= -1; sign -= 2) {
        for (int a = 0; a < P; a++)
            for (int e = 0; e < P; e++) {
                double s = 0;
                for (int l = 0; l < P; l++) s += Q[a * P + l] * (l == 0 ? sign * d[l] : d[l]) * Q[e * P + l];
                M[a * P + e] = s;
            }
        for (int a = 0; a < P; a++)
            for (int e = 0; e < a; e++) M[a * P + e] = M[e * P + a];
        assert_int_equal(pv_lambda_lower(&mu, &lf, M, P), MN_OK);
        if (sign > 0) {
            assert_true(mu <= 1 && mu > 1 - 1e-6);
            int ok;
            assert_int_equal(pv_positive_above(&ok, M, P, 1.001), MN_OK);
            assert_false(ok);
        } else {
            assert_true(mu == -INFINITY && lf < -0.99);
        }
    }
    flint_cleanup();
}

/* A spurious end point of gradient descent at n = k = 8 (12.7% of runs). */
static int find_spurious(double *W, int k)
{
    const mn_popul_spec spec = {.n = k, .k = k};
    mn_popul_opts o;
    mn_popul_opts_default(&o);
    for (int r = 0; r < 60; r++) {
        mn_popul_run run;
        assert_int_equal(mn_popul_run_one(&run, W, &spec, &o, 1, r), MN_OK);
        if (run.cls == MN_CLASS_SPURIOUS) return 1;
    }
    return 0;
}

static void test_spurious_proved_and_split_refused(void **state)
{
    (void)state;
    enum { k = 8, P = k * k };
    double W[P], C[P], F, G[P], *H = malloc(P * P * sizeof *H);
    assert_non_null(H);
    assert_true(find_spurious(W, k));
    mn_prove_result r;
    assert_int_equal(mn_prove_population(&r, C, k, k, W), MN_OK);
    assert_true(r.proved);
    assert_true(r.spurious);
    assert_true(r.loss_lower > 0 && r.loss_lower <= r.loss_upper);
    assert_true(r.grad_upper < r.lambda_lower * r.radius);
    floats(&F, G, H, k, k, C);
    assert_true(F >= r.loss_lower - 1e-14 && F <= r.loss_upper + 1e-14);
    assert_true(r.within < 1e-6);
    free(H);
    /* split unit 1 into two parallel halves: n = k + 1, the same function */
    double S[(k + 1) * k];
    memcpy(S, W, sizeof W);
    for (int l = 0; l < k; l++) S[l] = 0.5 * W[l], S[k * k + l] = 0.5 * W[l];
    assert_int_equal(mn_prove_population(&r, NULL, k + 1, k, S), MN_OK);
    assert_false(r.proved);
    assert_false(r.spurious);
    assert_non_null(strstr(r.reason, "units 1 and 9 are parallel"));
    flint_cleanup();
}

/* W = a permutation of I: F = 0, the global minimum, never spurious (the
 * units lie on the teacher's: refused as not smooth). A slightly moved
 * copy is not a critical point of positive value either. */
static void test_global_never_spurious(void **state)
{
    (void)state;
    enum { k = 5, P = k * k };
    static const int perm[k] = {2, 0, 4, 1, 3};
    double W[P] = {0};
    for (int i = 0; i < k; i++) W[i * k + perm[i]] = 1;
    mn_prove_result r;
    assert_int_equal(mn_prove_population(&r, NULL, k, k, W), MN_OK);
    assert_false(r.proved);
    assert_false(r.spurious);
    assert_non_null(strstr(r.reason, "parallel to teacher unit"));
    for (int a = 0; a < P; a++) W[a] += 1e-3 * unif();
    assert_int_equal(mn_prove_population(&r, NULL, k, k, W), MN_OK);
    assert_false(r.spurious);
    flint_cleanup();
}

static void test_random_not_proved(void **state)
{
    (void)state;
    enum { n = 6, k = 6, P = n * k };
    for (int t = 0; t < 3; t++) {
        double W[P];
        for (int a = 0; a < P; a++) W[a] = unif() / sqrt(k);
        mn_prove_result r;
        assert_int_equal(mn_prove_population(&r, NULL, n, k, W), MN_OK);
        assert_false(r.proved);
        assert_false(r.spurious);
        assert_true(strlen(r.reason) > 0);
    }
    flint_cleanup();
}

/* A saddle at n = k = 3: rows the cyclic shifts of (b, a, a) (found by
 * Newton's method from random starts; the prover's own Newton steps
 * sharpen it). The float Hessian's smallest eigenvalue there is negative. */
static void test_saddle_not_proved(void **state)
{
    (void)state;
    enum { k = 3, P = k * k };
    const double a = 0.6594530930380952, b = -0.31818006961015394;
    const double W[P] = {b, a, a, a, a, b, a, b, a};
    double F, G[P], H[P * P], ev[P];
    floats(&F, G, H, k, k, W);
    assert_int_equal(mn_sym_eigvals(ev, H, P), MN_OK);
    assert_true(ev[0] < -0.01);
    mn_prove_result r;
    assert_int_equal(mn_prove_population(&r, NULL, k, k, W), MN_OK);
    assert_false(r.proved);
    assert_non_null(strstr(r.reason, "Hessian not positive definite"));
    flint_cleanup();
}

/* Rewrites one claim of a certificate in place, as text (the other numbers
 * keep their exact digits). */
static void alter(const char *in, const char *out, const char *key, double (*f)(double))
{
    FILE *fp = fopen(in, "r");
    assert_non_null(fp);
    static char text[1 << 20];
    const size_t len = fread(text, 1, sizeof text - 1, fp);
    fclose(fp);
    text[len] = 0;
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\":", key);
    char *at = strstr(text, pat);
    assert_non_null(at);
    at += strlen(pat);
    while (*at == ' ' || *at == '\t') at++;
    char *end;
    const double v = strtod(at, &end);
    assert_true(end > at);
    fp = fopen(out, "w");
    assert_non_null(fp);
    fprintf(fp, "%.*s%.17g%s", (int)(at - text), text, f(v), end);
    fclose(fp);
}
static double ulp_down(double v) { return nextafter(v, -INFINITY); }
static double ulp_up(double v) { return nextafter(v, INFINITY); }

static void test_certificate(void **state)
{
    (void)state;
    enum { k = 8, P = k * k };
    double W[P], C[P];
    assert_true(find_spurious(W, k));
    mn_prove_result r, rc;
    assert_int_equal(mn_prove_population(&r, C, k, k, W), MN_OK);
    assert_true(r.proved);
    const char *path = tmp_path("cert.json"), *bad = tmp_path("bad.json");
    assert_int_equal(mn_prove_cert_write(path, &r, C, k, k), MN_OK);
    int ok = 0;
    char why[256];
    assert_int_equal(mn_prove_cert_check(&ok, why, sizeof why, &rc, path), MN_OK);
    assert_true(ok);
    assert_true(rc.spurious);
    /* a claim tightened by one unit in the last place no longer follows */
    static const char *tighter[][2] = {{"grad_upper", "d"}, {"hess_spread", "d"}, {"lambda_lower", "u"},
                                       {"loss_lower", "u"}, {"loss_upper", "d"}};
    for (size_t t = 0; t < sizeof tighter / sizeof *tighter; t++) {
        alter(path, bad, tighter[t][0], tighter[t][1][0] == 'd' ? ulp_down : ulp_up);
        assert_int_equal(mn_prove_cert_check(&ok, why, sizeof why, &rc, bad), MN_OK);
        assert_false(ok);
        assert_non_null(strstr(why, tighter[t][0]));
    }
    /* looser claims still hold */
    alter(path, bad, "loss_lower", ulp_down);
    assert_int_equal(mn_prove_cert_check(&ok, why, sizeof why, &rc, bad), MN_OK);
    assert_true(ok);
    alter(path, bad, "grad_upper", ulp_up);
    assert_int_equal(mn_prove_cert_check(&ok, why, sizeof why, &rc, bad), MN_OK);
    assert_true(ok);
    /* not a certificate */
    assert_int_not_equal(mn_prove_cert_check(&ok, why, sizeof why, &rc, tmp_path("none.json")), MN_OK);
    flint_cleanup();
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("prove");
}
static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_enclosures_contain_float),
        cmocka_unit_test(test_finite_differences),
        cmocka_unit_test(test_lambda_lower),
        cmocka_unit_test(test_spurious_proved_and_split_refused),
        cmocka_unit_test(test_global_never_spurious),
        cmocka_unit_test(test_random_not_proved),
        cmocka_unit_test(test_saddle_not_proved),
        cmocka_unit_test(test_certificate),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
