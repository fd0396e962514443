/* Tests of activation regions: the Jacobian against central differences of
 * the network output inside a region; the rank on constructed full-rank,
 * rank-deficient and borderline cases (the exact generic rank included);
 * the region LP on regions known to hold, to hold only on a wall, and not to
 * hold a zero-loss minimum; least squares and genuine minima; cells through
 * the runner, with and without a database; bad sizes. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include <lapacke.h>

#include "minima.h"
#include "minima/regions.h"
#include "tmpdir.h"

#define N 7
#define D0 3
#define D1 5
#define P (D1 * (D0 + 1))

/* f(x_i) = sum_j v_j relu(w_j . x_i + b_j), the network itself (no region). */
static double net(const double *x, const double *wb, const double *v)
{
    double f = 0.0;
    for (int j = 0; j < D1; j++) {
        double z = wb[j * (D0 + 1) + D0];
        for (int k = 0; k < D0; k++) z += wb[j * (D0 + 1) + k] * x[k];
        f += v[j] * (z > 0 ? z : 0.0);
    }
    return f;
}

static void random_net(double *X, double *wb, double *v, uint64_t seed)
{
    mn_rng r;
    mn_rng_seed(&r, seed);
    for (int k = 0; k < N * D0; k++) X[k] = mn_rng_normal(&r);
    for (int k = 0; k < P; k++) wb[k] = mn_rng_normal(&r);
    for (int j = 0; j < D1; j++) v[j] = 0.5 + mn_rng_uniform(&r) * (j % 2 ? -1.0 : 1.0);
}

/* W (D1 x D0) and b (D1) from the packed (w_j, b_j) rows. */
static void unpack(const double *wb, double *W, double *b)
{
    for (int j = 0; j < D1; j++) {
        for (int k = 0; k < D0; k++) W[j * D0 + k] = wb[j * (D0 + 1) + k];
        b[j] = wb[j * (D0 + 1) + D0];
    }
}

static void test_jacobian_vs_finite_differences(void **state)
{
    double X[N * D0], wb[P], v[D1], W[D1 * D0], b[D1], J[N * P];
    unsigned char A[N * D1];
    random_net(X, wb, v, 11);
    unpack(wb, W, b);
    mn_region_pattern(A, X, N, D0, W, b, D1);
    int on = 0, margin_ok = 1;
    for (int e = 0; e < N * D1; e++) on += A[e];
    assert_true(on > 0 && on < N * D1); /* both sides of the kink occur */
    /* a central difference with step h moves every pre-activation by at most
     * h (1 + max |x|): it must stay on its side of the kink */
    const double h = 1e-6;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < D1; j++) {
            double z = b[j], xmax = 1;
            for (int k = 0; k < D0; k++) z += W[j * D0 + k] * X[i * D0 + k], xmax += fabs(X[i * D0 + k]);
            margin_ok &= fabs(z) > 10 * h * xmax;
        }
    assert_true(margin_ok);
    mn_region_jacobian(J, A, X, N, D0, v, D1);
    double jmax = 0;
    for (int i = 0; i < N; i++)
        for (int c = 0; c < P; c++) {
            double save = wb[c];
            wb[c] = save + h;
            double fp = net(X + i * D0, wb, v);
            wb[c] = save - h;
            double fm = net(X + i * D0, wb, v);
            wb[c] = save;
            double fd = (fp - fm) / (2 * h);
            if (fabs(fd - J[i * P + c]) > 1e-8 * (1 + fabs(fd)))
                fail_msg("J[%d][%d] = %.12g, finite difference %.12g", i, c, J[i * P + c], fd);
            jmax = fmax(jmax, fabs(J[i * P + c]));
        }
    assert_true(jmax > 0.1); /* a zero Jacobian cannot pass */
}

static void test_rank_full_and_deficient(void **state)
{
    /* n = 4, d0 = 1, d1 = 2: unit 1 on samples 0,1, unit 2 on samples 2,3:
     * J is block diagonal with blocks (x_i, 1): full rank 4 */
    const double X[4] = {2.385, -0.731, 1.25, 0.4};
    const double v[2] = {1.5, -0.75};
    const unsigned char stair[8] = {1, 0, 1, 0, 0, 1, 0, 1};
    const unsigned char all[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    const unsigned char dead[8] = {1, 0, 1, 0, 1, 0, 1, 0};
    mn_rank_info ri;
    assert_int_equal(mn_region_rank(&ri, stair, X, 4, 1, v, 2, 1), MN_OK);
    assert_int_equal(ri.rank, 4);
    assert_int_equal(ri.borderline, 0);
    assert_true(ri.smin > 1e3 * ri.tol);
    assert_int_equal(mn_region_generic_rank(stair, 4, 1, 2, 7), 4);
    /* both units on every sample: J = [v1 X~, v2 X~], rank 2 */
    assert_int_equal(mn_region_rank(&ri, all, X, 4, 1, v, 2, 1), MN_OK);
    assert_int_equal(ri.rank, 2);
    assert_int_equal(mn_region_generic_rank(all, 4, 1, 2, 7), 2);
    /* unit 2 dead: rank 2 */
    assert_int_equal(mn_region_rank(&ri, dead, X, 4, 1, v, 2, 1), MN_OK);
    assert_int_equal(ri.rank, 2);
    assert_int_equal(mn_region_generic_rank(dead, 4, 1, 2, 7), 2);
    /* fewer columns than samples: p = 2 < n = 3, smin reported as 0 */
    const unsigned char one[3] = {1, 1, 1};
    assert_int_equal(mn_region_rank(&ri, one, X, 3, 1, v, 1, 1), MN_OK);
    assert_int_equal(ri.rank, 2);
    assert_true(ri.smin == 0.0);
}

/* The Gram shortcut decides only sure full-rank cases, and its singular
 * values agree with LAPACK's SVD of J. */
static void test_rank_gram_shortcut(void **state)
{
    enum { n = 30, d0 = 2, d1 = 40, p = d1 * (d0 + 1) };
    static double X[n * d0], W[d1 * d0], b[d1], v[d1], J[n * p], sv[n];
    static unsigned char A[n * d1];
    mn_rng r;
    mn_rng_seed(&r, 99);
    for (int k = 0; k < n * d0; k++) X[k] = mn_rng_normal(&r);
    for (int k = 0; k < d1 * d0; k++) W[k] = mn_rng_normal(&r);
    for (int j = 0; j < d1; j++) b[j] = mn_rng_normal(&r), v[j] = mn_rng_normal(&r);
    mn_region_pattern(A, X, n, d0, W, b, d1);
    mn_rank_info ri;
    assert_int_equal(mn_region_rank(&ri, A, X, n, d0, v, d1, 1), MN_OK);
    assert_int_equal(ri.gram, 1);
    assert_int_equal(ri.rank, n);
    mn_region_jacobian(J, A, X, n, d0, v, d1);
    assert_int_equal(LAPACKE_dgesdd(LAPACK_COL_MAJOR, 'N', p, n, J, p, sv, NULL, 1, NULL, 1), 0);
    if (fabs(ri.smin - sv[n - 1]) > 1e-6 * sv[0] || fabs(ri.smax - sv[0]) > 1e-10 * sv[0])
        fail_msg("Gram smin %.12g smax %.12g, SVD %.12g %.12g", ri.smin, ri.smax, sv[n - 1], sv[0]);
    /* a sample with no active unit: a zero row, never full rank, SVD path */
    for (int j = 0; j < d1; j++) A[j] = 0;
    assert_int_equal(mn_region_rank(&ri, A, X, n, d0, v, d1, 1), MN_OK);
    assert_int_equal(ri.gram, 0);
    assert_true(ri.rank < n);
}

static void test_rank_borderline(void **state)
{
    /* two samples 2^-46 apart, one unit on both: J = [[x, 1], [x + delta, 1]]
     * has s_2 ~ delta / |J|, within a factor 100 of tol = s_1 2 eps: the
     * exact check decides, and the structure is generically of rank 2 */
    const double X[2] = {0.5, 0.5 + ldexp(1.0, -46)};
    const double v[1] = {1.0};
    const unsigned char A[2] = {1, 1};
    mn_rank_info ri;
    assert_int_equal(mn_region_rank(&ri, A, X, 2, 1, v, 1, 3), MN_OK);
    assert_int_equal(ri.borderline, 1);
    assert_int_equal(ri.exact_rank, 2);
    assert_int_equal(ri.rank, 2);
    /* well apart: not borderline, no exact rank computed */
    const double Y[2] = {0.5, -1.25};
    assert_int_equal(mn_region_rank(&ri, A, Y, 2, 1, v, 1, 3), MN_OK);
    assert_int_equal(ri.borderline, 0);
    assert_int_equal(ri.exact_rank, -1);
}

/* Outputs of wb (the LP's solution) in region A, and the smallest signed
 * margin of its pre-activations (>= 0 when wb lies in the closed region). */
static void check_solution(const double *wb, const unsigned char *A, const double *X, int n, int d0,
                           const double *v, int d1, const double *target)
{
    for (int i = 0; i < n; i++) {
        double f = 0;
        for (int j = 0; j < d1; j++) {
            double z = wb[j * (d0 + 1) + d0];
            for (int k = 0; k < d0; k++) z += wb[j * (d0 + 1) + k] * X[i * d0 + k];
            assert_true((A[i * d1 + j] ? z : -z) >= -1e-7);
            f += A[i * d1 + j] ? v[j] * z : 0.0;
        }
        if (fabs(f - target[i]) > 1e-7) fail_msg("sample %d: output %.12g, target %.12g", i, f, target[i]);
    }
}

static void test_lp_zero_loss_minimum(void **state)
{
    /* targets made by a network: its own region holds a zero-loss point */
    double X[N * D0], wb[P], v[D1], W[D1 * D0], b[D1], y[N], sol[P];
    unsigned char A[N * D1];
    random_net(X, wb, v, 5);
    unpack(wb, W, b);
    mn_region_pattern(A, X, N, D0, W, b, D1);
    for (int i = 0; i < N; i++) y[i] = net(X + i * D0, wb, v);
    mn_region_lp_result r;
    assert_int_equal(mn_region_lp(&r, sol, A, X, N, D0, v, D1, 0, y), MN_OK);
    assert_int_equal(r.feasible, 1);
    assert_int_equal(r.interior, 1);
    check_solution(sol, A, X, N, D0, v, D1, y);

    /* not held: one unit on all of x = (-1, 0, 1) must be affine, and the
     * V-shaped targets (1, 0, 1) are not */
    const double x3[3] = {-1, 0, 1}, yv[3] = {1, 0, 1}, v1[1] = {1};
    const unsigned char on3[3] = {1, 1, 1};
    assert_int_equal(mn_region_lp(&r, NULL, on3, x3, 3, 1, v1, 1, 0, yv), MN_OK);
    assert_int_equal(r.feasible, 0);
    assert_true(isnan(r.margin));
    /* not held by the sign constraints alone: the equations (w x + b = y at
     * x = 0, 1) are solvable, but y < 0 on an active sample is not */
    const double x2[2] = {0, 1}, yneg[2] = {-1, -2};
    const unsigned char on2[2] = {1, 1};
    assert_int_equal(mn_region_lp(&r, NULL, on2, x2, 2, 1, v1, 1, 0, yneg), MN_OK);
    assert_int_equal(r.feasible, 0);
    /* held on the wall only: w x + b = (0, 1) forces b = 0, a pre-activation
     * exactly at the kink */
    const double ywall[2] = {0, 1};
    assert_int_equal(mn_region_lp(&r, sol, on2, x2, 2, 1, v1, 1, 0, ywall), MN_OK);
    assert_int_equal(r.feasible, 1);
    assert_int_equal(r.interior, 0);
    assert_true(fabs(r.margin) <= 1e-9);
    /* an output bias c makes it interior: c = -1, w = 1, b = 1 */
    assert_int_equal(mn_region_lp(&r, NULL, on2, x2, 2, 1, v1, 1, 1, ywall), MN_OK);
    assert_int_equal(r.interior, 1);
}

static void test_lsq_and_genuine(void **state)
{
    const double x3[3] = {-1, 0, 1}, yv[3] = {1, 0, 1}, v1[1] = {1};
    const unsigned char on3[3] = {1, 1, 1};
    double fit[3], loss;
    /* the best affine fit of (1, 0, 1) is 2/3 everywhere: loss (1/3)(1/2)(1/9 + 4/9 + 1/9) = 1/9 */
    assert_int_equal(mn_region_lsq(fit, &loss, on3, x3, 3, 1, v1, 1, 0, yv), MN_OK);
    for (int i = 0; i < 3; i++) assert_true(fabs(fit[i] - 2.0 / 3.0) < 1e-12);
    assert_true(fabs(loss - 1.0 / 9.0) < 1e-12);
    mn_region_genuine_result g;
    assert_int_equal(mn_region_genuine(&g, on3, x3, 3, 1, v1, 1, 0, yv), MN_OK);
    assert_int_equal(g.genuine, 1); /* w = 0, b = 2/3 > 0 lies inside */
    assert_true(fabs(g.loss - 1.0 / 9.0) < 1e-12);
    /* with v = -1 the fit 2/3 needs pre-activations -2/3 < 0 on active samples: not genuine */
    const double vneg[1] = {-1};
    assert_int_equal(mn_region_genuine(&g, on3, x3, 3, 1, vneg, 1, 0, yv), MN_OK);
    assert_int_equal(g.genuine, 0);
    assert_int_equal(g.on_wall, 0);
}

/* Cells through the runner: duplicates run once and get the same counts,
 * each cell equals mn_region_sample_cell's, the thread count changes
 * nothing, and a database run, then a resumed one, gives them again. */
static void test_sample_cells(void **state)
{
    (void)state;
    mn_region_cell c[4] = {{.d0 = 2, .n = 12, .d1 = 8}, {.d0 = 3, .n = 20, .d1 = 4},
                           {.d0 = 2, .n = 12, .d1 = 8}, {.d0 = 1, .n = 30, .d1 = 10}};
    mn_region_cells_opts o = {.trials = 9, .lp_trials = 3, .threads = 1, .seed = 5};
    mn_region_cells_stats st;
    assert_int_equal(mn_region_sample_cells(c, 4, &o, &st), MN_OK);
    assert_int_equal(st.cells, 3);
    assert_int_equal(st.run, 27);
    assert_memory_equal(&c[0], &c[2], sizeof c[0]);
    assert_int_equal(c[3].structural, 1); /* 10 x 2 < 30 */
    assert_int_equal(c[3].full_rank, 0);
    for (int k = 0; k < 4; k++) {
        mn_region_cell one;
        assert_int_equal(mn_region_sample_cell(&one, c[k].d0, c[k].n, c[k].d1, 9, 3, 5, 2), MN_OK);
        assert_memory_equal(&one, &c[k], sizeof one);
    }
    assert_true(c[0].full_rank > 0 && c[0].zero_loss <= 3 && c[0].zero_loss_open <= c[0].zero_loss);
    mn_region_cell d[4];
    for (int k = 0; k < 4; k++) d[k] = (mn_region_cell){.d0 = c[k].d0, .n = c[k].n, .d1 = c[k].d1};
    o.threads = 3;
    o.db_path = tmp_path("cells.db");
    assert_int_equal(mn_region_sample_cells(d, 4, &o, &st), MN_OK);
    assert_memory_equal(d, c, sizeof d);
    assert_int_equal(st.stored, 0);
    assert_int_equal(mn_region_sample_cells(d, 4, &o, &st), MN_OK);
    assert_memory_equal(d, c, sizeof d);
    assert_int_equal(st.stored, 27);
    assert_int_equal(st.run, 0);
    o.lp_trials = 10; /* more LP trials than trials */
    assert_int_equal(mn_region_sample_cells(d, 4, &o, NULL), MN_EINVAL);
}

static void test_bad_sizes(void **state)
{
    const double X[2] = {0, 1}, v[1] = {1};
    const unsigned char A[2] = {1, 1};
    mn_rank_info ri;
    mn_region_lp_result r;
    assert_int_equal(mn_region_rank(&ri, A, X, 0, 1, v, 1, 1), MN_EINVAL);
    assert_int_equal(mn_region_rank(&ri, A, X, 2, 0, v, 1, 1), MN_EINVAL);
    assert_int_equal(mn_region_lp(&r, NULL, A, X, 2, 1, v, 0, 0, X), MN_EINVAL);
    const double bad[2] = {0, NAN};
    assert_int_equal(mn_region_lp(&r, NULL, A, X, 2, 1, v, 1, 0, bad), MN_EINVAL);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("regions");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_jacobian_vs_finite_differences),
        cmocka_unit_test(test_rank_full_and_deficient),
        cmocka_unit_test(test_rank_gram_shortcut),
        cmocka_unit_test(test_rank_borderline),
        cmocka_unit_test(test_lp_zero_loss_minimum),
        cmocka_unit_test(test_lsq_and_genuine),
        cmocka_unit_test(test_sample_cells),
        cmocka_unit_test(test_bad_sizes),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
