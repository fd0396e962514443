/* The objective interface: every instance's derivatives against central
 * differences, the engine (optimisers, certification, escape search,
 * spectrum) on objectives whose critical points are known by construction,
 * and the network forms equal to the objective forms bit for bit. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>
#include <lapacke.h>

#include "minima.h"
#include "minima/objective.h"
#include "minima/popul.h"
#include "popul/internal.h" /* the padded view the protocol's GD iterates on */

static void random_point(double *x, size_t n, double scale, uint64_t seed)
{
    mn_rng r;
    mn_rng_seed(&r, seed);
    for (size_t i = 0; i < n; i++) x[i] = scale * mn_rng_normal(&r);
}

/* Gradient and Hessian-vector products against central differences
 * (step h, relative error <= tol of the largest entry), and the dense
 * Hessian (from whichever hook is missing) against the products. The
 * gradient must not vanish at x: the check cannot pass on zeros. */
static void check_derivatives(const mn_objective *f, const double *x, double h, double tol)
{
    const size_t n = f->n;
    double *g = malloc(n * sizeof *g), *xp = malloc(n * sizeof *xp), *v = malloc(n * sizeof *v);
    double *hv = malloc(n * sizeof *hv), *gp = malloc(n * sizeof *gp), *gm = malloc(n * sizeof *gm);
    double *H = malloc(n * n * sizeof *H);
    double fx, fp, fm;
    assert_int_equal(mn_objective_fdf(f, x, &fx, g), MN_OK);
    double gmax = 0;
    for (size_t i = 0; i < n; i++) gmax = fmax(gmax, fabs(g[i]));
    assert_true(gmax > 1e-3);
    for (size_t i = 0; i < n; i++) {
        memcpy(xp, x, n * sizeof *xp);
        xp[i] = x[i] + h;
        assert_int_equal(mn_objective_fdf(f, xp, &fp, NULL), MN_OK);
        xp[i] = x[i] - h;
        assert_int_equal(mn_objective_fdf(f, xp, &fm, NULL), MN_OK);
        assert_true(fabs((fp - fm) / (2 * h) - g[i]) <= tol * gmax);
    }
    random_point(v, n, 1.0, 2385);
    assert_int_equal(mn_objective_hvp(f, x, v, hv), MN_OK);
    for (size_t i = 0; i < n; i++) xp[i] = x[i] + h * v[i];
    assert_int_equal(mn_objective_fdf(f, xp, &fp, gp), MN_OK);
    for (size_t i = 0; i < n; i++) xp[i] = x[i] - h * v[i];
    assert_int_equal(mn_objective_fdf(f, xp, &fm, gm), MN_OK);
    double hmax = 0;
    for (size_t i = 0; i < n; i++) hmax = fmax(hmax, fabs(hv[i]));
    assert_true(hmax > 1e-3);
    for (size_t i = 0; i < n; i++) assert_true(fabs((gp[i] - gm[i]) / (2 * h) - hv[i]) <= tol * hmax);
    assert_int_equal(mn_objective_hessian(f, x, H), MN_OK);
    for (size_t i = 0; i < n; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++) {
            assert_true(H[i * n + j] == H[j * n + i]);
            s += H[i * n + j] * v[j];
        }
        assert_true(fabs(s - hv[i]) <= 1e-12 * hmax);
    }
    free(g), free(xp), free(v), free(hv), free(gp), free(gm), free(H);
}

static void test_testfn_derivatives(void **state)
{
    (void)state;
    static const int dims[MN_NTESTFN] = {7, 4, 5};
    for (int t = 0; t < MN_NTESTFN; t++) {
        mn_objective *f;
        assert_int_equal(mn_testfn_objective_alloc(&f, (mn_testfn)t, dims[t]), MN_OK);
        assert_int_equal((int)f->n, dims[t]);
        double x[8];
        random_point(x, f->n, 0.9, 17 + (uint64_t)t);
        check_derivatives(f, x, 1e-5, 1e-7);
        mn_objective_free(f);
    }
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_CHAIN, 2), MN_EINVAL);
    assert_int_equal(mn_testfn_objective_alloc(&f, (mn_testfn)MN_NTESTFN, 3), MN_EINVAL);
    assert_string_equal(mn_testfn_name(MN_TESTFN_SADDLE), "saddle");
}

/* The population loss: plain and with the eliminator. Its third derivatives
 * jump only on the non-smooth set, far from a random point. */
static void test_popul_derivatives(void **state)
{
    (void)state;
    for (int elim = 0; elim <= 1; elim++) {
        mn_popul_spec s = {.n = 4, .k = 3, .elim = elim, .lambda = 0.37};
        mn_objective *f;
        assert_int_equal(mn_popul_objective_alloc(&f, &s), MN_OK);
        assert_int_equal((int)f->n, (int)mn_popul_nparams(&s));
        double x[32];
        random_point(x, f->n, 0.6, 99);
        check_derivatives(f, x, 1e-5, 1e-6);
        double margin;
        assert_int_equal(f->kink(f->params, x, &margin), MN_OK);
        assert_true(margin > 1e-3 && isfinite(margin));
        mn_objective_free(f);
    }
}

/* The padded view (n x kp, padding held at 0) is the plain objective: the
 * same value and gradient bit for bit, the same Hessian entries, the same
 * free-parameter spectrum (k = 3: five padding columns per row). */
/* The residual network's loss: derivatives at a point off the identity
 * (d 3, depth 4, layers I + 0.3 N(0, 1), a non-symmetric target), and at
 * the identity start every layer's gradient is I - Phi. */
static void test_residual_derivatives(void **state)
{
    (void)state;
    enum { D = 3, L = 4, N = L * D * D };
    double phi[D * D], x[N], g[N], f;
    random_point(phi, D * D, 1.0, 17);
    random_point(x, N, 0.3, 18);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < D; i++) x[l * D * D + i * D + i] += 1;
    mn_objective *obj;
    assert_int_equal(mn_resid_objective_alloc(&obj, D, L, phi), MN_OK);
    assert_int_equal((int)obj->n, N);
    check_derivatives(obj, x, 1e-5, 1e-6);
    memset(x, 0, sizeof x);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < D; i++) x[l * D * D + i * D + i] = 1;
    assert_int_equal(mn_objective_fdf(obj, x, &f, g), MN_OK);
    double want = 0;
    for (int k = 0; k < D * D; k++) {
        const double e = (k % (D + 1) == 0) - phi[k];
        want += e * e / 2;
        for (int l = 0; l < L; l++) assert_true(fabs(g[l * D * D + k] - e) <= 1e-15);
    }
    assert_true(fabs(f - want) <= 1e-14);
    mn_objective_free(obj);
    assert_int_equal(mn_resid_objective_alloc(&obj, 0, L, phi), MN_EINVAL);
    assert_null(obj);
}

static void test_popul_padded(void **state)
{
    (void)state;
    mn_popul_spec s = {.n = 4, .k = 3};
    mn_popul_work *w;
    assert_int_equal(mn_popul_work_alloc(&w, &s), MN_OK);
    const int kp = w->kp, P = 12, Pp = 4 * kp;
    assert_true(kp > 3);
    mn_objective f, fp;
    unsigned char *mask = malloc((size_t)Pp);
    mn_popul_objective_view(&f, w);
    mn_popul_objective_view_padded(&fp, w, mask);
    assert_int_equal((int)fp.n, Pp);
    assert_int_equal((int)mn_objective_nfree(&fp), P);
    double x[12], g[12], H[144], F, Fp;
    double *xp = calloc((size_t)Pp, sizeof *xp), *gp = malloc((size_t)Pp * sizeof *gp);
    double *Hp = malloc((size_t)Pp * Pp * sizeof *Hp);
    random_point(x, P, 0.6, 41);
    for (int r = 0; r < P; r++) xp[(r / 3) * kp + r % 3] = x[r];
    assert_int_equal(mn_objective_fdf(&f, x, &F, g), MN_OK);
    assert_int_equal(mn_objective_fdf(&fp, xp, &Fp, gp), MN_OK);
    assert_true(F == Fp);
    assert_true(sqrt(w->nn[1]) > 0);
    /* the padding of gp comes out 0: the view's frozen_zero promise */
    assert_true(fp.frozen_zero && !f.frozen_zero);
    for (int r = 0; r < Pp; r++) assert_true(gp[r] == (r % kp < 3 ? g[(r / kp) * 3 + r % kp] : 0.0));
    assert_int_equal(mn_objective_hessian(&f, x, H), MN_OK);
    assert_int_equal(mn_objective_hessian(&fp, xp, Hp), MN_OK);
    for (int r = 0; r < Pp; r++)
        for (int c = 0; c < Pp; c++) {
            const int in = r % kp < 3 && c % kp < 3;
            const double want = in ? H[((r / kp) * 3 + r % kp) * P + (c / kp) * 3 + c % kp] : 0.0;
            assert_true(Hp[(size_t)r * Pp + c] == want);
        }
    double l1, u1, l2, u2;
    assert_int_equal(mn_spectrum_extremes(&l1, &u1, &f, x, 100, 10, 1e-10), MN_OK);
    assert_int_equal(mn_spectrum_extremes(&l2, &u2, &fp, xp, 100, 10, 1e-10), MN_OK);
    assert_true(l1 == l2 && u1 == u2);
    free(xp), free(gp), free(Hp), free(mask);
    mn_popul_work_free(w);
}

/* W = I for n = k: the global minimum F = 0, on the non-smooth set (every
 * unit parallel to a teacher unit): certified global, flagged near a kink. */
static void test_popul_global(void **state)
{
    (void)state;
    mn_popul_spec s = {.n = 3, .k = 3};
    mn_objective *f;
    assert_int_equal(mn_popul_objective_alloc(&f, &s), MN_OK);
    double W[9] = {1, 0, 0, 0, 1, 0, 0, 0, 1};
    mn_cert c;
    assert_int_equal(mn_certify_objective(&c, f, W, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    assert_true(fabs(c.loss) < 1e-15 && c.gnorm < 1e-14);
    assert_true(c.kink_margin == 0.0 && c.near_kink);
    assert_true(c.lambda_min > 0.01);
    assert_true(isnan(c.accuracy) && c.elim_activity == 0.0);
    W[4] = 0; /* a zero unit: F is not differentiable there */
    double F;
    assert_int_equal(mn_objective_fdf(f, W, &F, NULL), MN_ERANGE);
    assert_int_equal(mn_certify_objective(&c, f, W, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DIVERGED);
    mn_objective_free(f);
}

/* Rosenbrock in 6 dimensions has, besides its global minimum (1, ..., 1),
 * a local one near x_0 = -1 (f ~ 3.97). L-BFGS from the classic start
 * (-1.2, 1, 1, ...) ends there: certified spurious, with no escape; from
 * (0.5, ..., 0.5) it reaches the global minimum. Newton from a point near
 * (1, ..., 1) lands there too. */
static mn_optim *lbfgs_to_end(const mn_objective *f, const double *x0)
{
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.kind = MN_OPT_LBFGS;
    p.lr = 1e-3;
    mn_optim *o;
    assert_int_equal(mn_optim_alloc_objective(&o, f, &p, x0), MN_OK);
    while (mn_optim_test(o, 1e-10) == MN_RUN_RUNNING && mn_optim_iter(o) < 5000)
        assert_int_equal(mn_optim_iterate(o), MN_OK);
    assert_int_equal(mn_optim_test(o, 1e-10), MN_RUN_CONVERGED);
    return o;
}

static void test_rosenbrock(void **state)
{
    (void)state;
    const int n = 6;
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_ROSENBROCK, n), MN_OK);
    const double classic[6] = {-1.2, 1, 1, 1, 1, 1}, half[6] = {0.5, 0.5, 0.5, 0.5, 0.5, 0.5};
    mn_optim *o = lbfgs_to_end(f, classic);
    mn_cert c;
    /* the global value unknown to the caller: a strict minimum, no more */
    assert_int_equal(mn_certify_objective(&c, f, mn_optim_theta(o), 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_MINIMUM);
    mn_cert_opts known;
    mn_cert_opts_default(&known);
    known.global_loss = 0; /* rosenbrock's, at (1, ..., 1) */
    assert_int_equal(mn_certify_objective(&c, f, mn_optim_theta(o), 0, &known), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_SPURIOUS);
    assert_true(c.loss > 3.9 && c.loss < 4.0 && mn_optim_theta(o)[0] < -0.9);
    assert_true(c.lambda_min > 1e-3 && isinf(c.kink_margin) && !c.near_kink);
    mn_escape e;
    double dir[6];
    assert_int_equal(mn_find_escape_objective(&e, dir, f, mn_optim_theta(o), 1e-8), MN_OK);
    assert_true(!e.escaped && e.order == 0);
    mn_optim_free(o);
    o = lbfgs_to_end(f, half);
    for (int i = 0; i < n; i++) assert_true(fabs(mn_optim_theta(o)[i] - 1) < 1e-8);
    assert_int_equal(mn_certify_objective(&c, f, mn_optim_theta(o), 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    assert_true(c.lambda_min > 1e-3 && c.lambda_max > 100);
    mn_optim_free(o);

    mn_opt_params p;
    mn_opt_params_default(&p);
    double x1[6];
    for (int i = 0; i < n; i++) x1[i] = 1 + 0.01 * (i % 2 ? 1 : -1);
    p.kind = MN_OPT_NEWTON;
    assert_int_equal(mn_optim_alloc_objective(&o, f, &p, x1), MN_OK);
    while (mn_optim_test(o, 1e-13) == MN_RUN_RUNNING && mn_optim_iter(o) < 100)
        assert_int_equal(mn_optim_iterate(o), MN_OK);
    assert_true(mn_optim_gnorm(o) < 1e-9);
    for (int i = 0; i < n; i++) assert_true(fabs(mn_optim_theta(o)[i] - 1) < 1e-10);
    mn_optim_free(o);
    mn_objective_free(f);
}

/* The strict saddle at 0: certified saddle with lambda = -1 and 1; the
 * escape search finds negative curvature; GD from next to it reaches a
 * global minimum (-1/4 at x_0 = +-1). */
/* The octopus (docs/saddles.md): exact derivatives; saddle i certified a
 * strict saddle with lambda_min = -gamma along e_i and the rest as stated;
 * the minimum global; the gradient's and the Hessian's Lipschitz bounds ell
 * and rho never exceeded on random pairs (the Hessian difference's spectral
 * norm, by LAPACK). */
static void test_octopus(void **state)
{
    (void)state;
    enum { d = 6 };
    mn_objective *f;
    mn_octopus c;
    assert_int_equal(mn_octopus_init(&c, d, 1.25, 0.6), MN_OK);
    assert_int_equal(mn_octopus_objective_alloc(&f, d, 1.25, 0.6), MN_OK);
    double x[d], y[d], gx[d], gy[d], Hx[d * d], Hy[d * d], ev[d], F;
    for (int t = 0; t < 4; t++) { /* points where the switches are part open */
        random_point(x, d, 0.5 * c.m, 31 + (uint64_t)t);
        check_derivatives(f, x, 1e-5, 1e-6);
    }
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.global_loss = c.fmin;
    for (int i = 0; i <= d; i++) { /* saddle i + 1; i = d: the minimum */
        for (int j = 0; j < d; j++) x[j] = j < i ? (j % 2 ? -c.m : c.m) : 0;
        mn_cert ct;
        assert_int_equal(mn_certify_objective(&ct, f, x, 0, &co), MN_OK);
        assert_true(ct.gnorm <= 1e-14);
        assert_int_equal(mn_objective_hessian(f, x, Hx), MN_OK);
        if (i < d) {
            assert_int_equal(ct.cls, MN_CLASS_SADDLE);
            assert_true(fabs(ct.lambda_min + 1.25) <= 1e-12 && Hx[i * d + i] == ct.lambda_min);
            for (int j = 0; j < d; j++) /* one negative direction, the rest >= min(L, w''(m)) */
                if (j != i) assert_true(Hx[j * d + j] >= 0.6 - 1e-12);
        } else {
            assert_int_equal(ct.cls, MN_CLASS_GLOBAL);
            assert_true(fabs(ct.loss - c.fmin) <= 1e-12 && ct.lambda_min > 0);
        }
    }
    double worst_g = 0, worst_h = 0;
    for (int t = 0; t < 400; t++) {
        random_point(x, d, (t % 4 + 1) * 0.5 * c.m, 1000 + (uint64_t)t);
        random_point(y, d, 1.0, 5000 + (uint64_t)t);
        const double r = pow(10.0, -(t % 5)); /* distances 1 .. 1e-4 */
        double n2 = 0, dg = 0;
        for (int j = 0; j < d; j++) y[j] = x[j] + r * y[j], n2 += (y[j] - x[j]) * (y[j] - x[j]);
        assert_int_equal(mn_objective_fdf(f, x, &F, gx), MN_OK);
        assert_int_equal(mn_objective_fdf(f, y, &F, gy), MN_OK);
        for (int j = 0; j < d; j++) dg += (gx[j] - gy[j]) * (gx[j] - gy[j]);
        assert_int_equal(mn_objective_hessian(f, x, Hx), MN_OK);
        assert_int_equal(mn_objective_hessian(f, y, Hy), MN_OK);
        for (int j = 0; j < d * d; j++) Hy[j] -= Hx[j];
        assert_int_equal(LAPACKE_dsyev(LAPACK_ROW_MAJOR, 'N', 'U', d, Hy, d, ev), 0);
        const double dh = fmax(fabs(ev[0]), fabs(ev[d - 1]));
        worst_g = fmax(worst_g, sqrt(dg / n2)), worst_h = fmax(worst_h, dh / sqrt(n2));
    }
    assert_true(worst_g <= c.ell && worst_h <= c.rho);
    assert_true(worst_g > 0.1 * c.ell); /* the pairs did probe the curvature */
    mn_objective_free(f);
    assert_int_equal(mn_octopus_objective_alloc(&f, 0, 1, 1), MN_EINVAL);
    assert_null(f);
    assert_int_equal(mn_octopus_init(&c, 3, 1, 0), MN_EINVAL);
}

static void test_strict_saddle(void **state)
{
    (void)state;
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_SADDLE, 3), MN_OK);
    double x[3] = {0, 0, 0}, dir[3];
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.global_loss = -0.25;
    mn_cert c;
    assert_int_equal(mn_certify_objective(&c, f, x, 0, &co), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_SADDLE);
    assert_true(c.lambda_min == -1.0 && c.lambda_max == 1.0);
    mn_escape e;
    assert_int_equal(mn_find_escape_objective(&e, dir, f, x, 1e-8), MN_OK);
    assert_true(e.escaped && e.order == 2 && e.decrease > 0);
    assert_true(fabs(fabs(dir[0]) - 1) < 1e-15 && dir[1] == 0 && dir[2] == 0);
    double x0[3] = {1e-3, 0.5, -0.4};
    mn_opt_params p;
    mn_opt_params_default(&p);
    mn_optim *o;
    assert_int_equal(mn_optim_alloc_objective(&o, f, &p, x0), MN_OK);
    while (mn_optim_test(o, 1e-9) == MN_RUN_RUNNING && mn_optim_iter(o) < 10000)
        assert_int_equal(mn_optim_iterate(o), MN_OK);
    assert_int_equal(mn_optim_test(o, 1e-9), MN_RUN_CONVERGED);
    assert_int_equal(mn_certify_objective(&c, f, mn_optim_theta(o), 0, &co), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    assert_true(fabs(mn_optim_theta(o)[0] - 1) < 1e-8);
    mn_optim_free(o);
    mn_objective_free(f);
}

/* The chain at 0: gradient and Hessian vanish; certified degenerate, and
 * only a third-order look (a combination of null directions) escapes. At a
 * point with product 1 it is global and degenerate in the flat directions. */
static void test_chain(void **state)
{
    (void)state;
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_CHAIN, 3), MN_OK);
    double x[3] = {0, 0, 0}, dir[3];
    mn_cert c;
    assert_int_equal(mn_certify_objective(&c, f, x, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DEGENERATE);
    assert_true(c.gnorm == 0 && c.lambda_min == 0 && c.lambda_max == 0);
    mn_escape e;
    assert_int_equal(mn_find_escape_objective(&e, dir, f, x, 1e-8), MN_OK);
    assert_true(e.escaped && e.order == 3);
    assert_true(dir[0] * dir[1] * dir[2] > 0);
    double y[3] = {2.385, 0.5, 1 / (2.385 * 0.5)};
    assert_int_equal(mn_certify_objective(&c, f, y, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    assert_true(fabs(c.lambda_min) < 1e-12 && c.lambda_max > 1);
    mn_objective_free(f);
}

/* Lanczos (max_dense 0) against the dense route on a 60-dimensional
 * Rosenbrock; and a mask: frozen entries never move and the spectrum is
 * that of the free block. */
static void test_spectrum_and_mask(void **state)
{
    (void)state;
    const int n = 60;
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_ROSENBROCK, n), MN_OK);
    double x[60];
    random_point(x, n, 0.5, 5);
    double dmin, dmax, lmin, lmax;
    assert_int_equal(mn_spectrum_extremes(&dmin, &dmax, f, x, 2000, 300, 1e-10), MN_OK);
    assert_int_equal(mn_spectrum_extremes(&lmin, &lmax, f, x, 0, 300, 1e-10), MN_OK);
    assert_true(dmin < 0 && dmax > 100);
    assert_true(fabs(lmin - dmin) <= 1e-8 * fabs(dmax) && fabs(lmax - dmax) <= 1e-8 * fabs(dmax));

    unsigned char mask[60];
    for (int i = 0; i < n; i++) mask[i] = i % 3 != 0;
    mn_objective g = *f; /* the same function, a third of it held */
    g.mask = mask;
    assert_int_equal((int)mn_objective_nfree(&g), 40);
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.kind = MN_OPT_LBFGS;
    p.lr = 1e-3;
    mn_optim *o;
    assert_int_equal(mn_optim_alloc_objective(&o, &g, &p, x), MN_OK);
    for (int it = 0; it < 50; it++) assert_int_equal(mn_optim_iterate(o), MN_OK);
    double f0;
    assert_int_equal(mn_objective_fdf(&g, x, &f0, NULL), MN_OK);
    assert_true(mn_optim_loss(o) < 0.5 * f0);
    int moved = 0;
    for (int i = 0; i < n; i++) {
        if (!mask[i]) assert_true(mn_optim_theta(o)[i] == x[i]);
        moved += mask[i] && mn_optim_theta(o)[i] != x[i];
    }
    assert_true(moved == 40);
    mn_optim_free(o);
    /* the free block's spectrum lies inside the full one's (Cauchy interlacing) */
    assert_int_equal(mn_spectrum_extremes(&lmin, &lmax, &g, x, 2000, 300, 1e-10), MN_OK);
    assert_true(lmin >= dmin - 1e-9 && lmax <= dmax + 1e-9 && lmin < lmax);
    mn_objective_free(f);
}

/* The network forms are the objective forms on mn_net_objective_alloc: the
 * same iterates, certificates and escapes bit for bit, SGD included. */
static void test_network_forms(void **state)
{
    (void)state;
    mn_data *data;
    assert_int_equal(mn_gen_xor(&data, 40, 0.1, 7), MN_OK);
    mn_spec sp;
    mn_spec_default(&sp);
    assert_int_equal(mn_spec_parse_arch(&sp, "2-3-1"), MN_OK);
    sp.act = MN_ACT_TANH;
    sp.loss = MN_LOSS_LOGISTIC;
    sp.elim = MN_ELIM_LIANG;
    mn_model *m;
    mn_work *w;
    assert_int_equal(mn_model_alloc(&m, &sp), MN_OK);
    assert_int_equal(mn_work_alloc(&w, m, 40), MN_OK);
    const size_t P = mn_model_nparams(m);
    double *th = malloc(P * sizeof *th), *d1 = malloc(P * sizeof *d1), *d2 = malloc(P * sizeof *d2);
    mn_model_init(m, th, 3, 0.0);
    mn_objective *f;
    assert_int_equal(mn_net_objective_alloc(&f, m, w, data), MN_OK);
    assert_true(f->accuracy && f->activity && f->fdf_rows && f->nsamples == 40);
    for (int kind = 0; kind < MN_NOPT; kind++) {
        mn_opt_params p;
        mn_opt_params_default(&p);
        p.kind = (mn_opt_kind)kind;
        p.batch = 7;
        p.lr = 0.05;
        mn_optim *a, *b;
        assert_int_equal(mn_optim_alloc(&a, m, w, data, &p, th), MN_OK);
        assert_int_equal(mn_optim_alloc_objective(&b, f, &p, th), MN_OK);
        for (int it = 0; it < 20; it++) {
            assert_int_equal(mn_optim_iterate(a), MN_OK);
            assert_int_equal(mn_optim_iterate(b), MN_OK);
        }
        assert_memory_equal(mn_optim_theta(a), mn_optim_theta(b), P * sizeof *th);
        assert_true(mn_optim_loss(a) == mn_optim_loss(b));
        assert_int_equal(mn_optim_test(a, 1e-6), mn_optim_test(b, 1e-6));
        mn_optim_free(a), mn_optim_free(b);
    }
    mn_cert c1, c2;
    assert_int_equal(mn_certify(&c1, m, w, data, th, 0, NULL), MN_OK);
    assert_int_equal(mn_certify_objective(&c2, f, th, 0, NULL), MN_OK);
    assert_int_equal(c1.cls, c2.cls);
    assert_memory_equal(&c1.loss, &c2.loss, 5 * sizeof(double)); /* loss .. kink_margin */
    assert_int_equal(c1.near_kink, c2.near_kink);
    assert_memory_equal(&c1.accuracy, &c2.accuracy, 2 * sizeof(double));
    assert_true(c1.accuracy >= 0 && c1.accuracy <= 1);
    mn_escape e1, e2;
    assert_int_equal(mn_find_escape(&e1, d1, m, w, data, th, 1e-8), MN_OK);
    assert_int_equal(mn_find_escape_objective(&e2, d2, f, th, 1e-8), MN_OK);
    assert_true(e1.escaped == e2.escaped && e1.order == e2.order);
    assert_memory_equal(&e1.slope, &e2.slope, 7 * sizeof(double)); /* slope .. lambda_min */
    assert_memory_equal(d1, d2, P * sizeof *d1);
    mn_objective_free(f);
    free(th), free(d1), free(d2);
    mn_work_free(w);
    mn_model_free(m);
    mn_data_free(data);
}

/* Bad objectives and options are refused with a message. */
static void test_errors(void **state)
{
    (void)state;
    mn_objective *f;
    assert_int_equal(mn_testfn_objective_alloc(&f, MN_TESTFN_SADDLE, 2), MN_OK);
    double x[2] = {0.3, 0.2};
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.kind = MN_OPT_SGD;
    mn_optim *o;
    assert_int_equal(mn_optim_alloc_objective(&o, f, &p, x), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "samples"));
    assert_null(o);
    mn_objective g = *f;
    g.hvp = NULL, g.hessian = NULL;
    p.kind = MN_OPT_GD;
    assert_int_equal(mn_optim_alloc_objective(&o, &g, &p, x), MN_EINVAL);
    mn_cert c;
    assert_int_equal(mn_certify_objective(&c, &g, x, 0, NULL), MN_EINVAL);
    g = *f;
    g.fdf = NULL;
    mn_escape e;
    double dir[2];
    assert_int_equal(mn_find_escape_objective(&e, dir, &g, x, 1e-8), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "fdf"));
    g = *f;
    g.n = 0;
    assert_int_equal(mn_objective_check(&g), MN_EINVAL);
    double l, u;
    unsigned char none[2] = {0, 0};
    g = *f;
    g.mask = none;
    assert_int_equal(mn_spectrum_extremes(&l, &u, &g, x, 10, 10, 1e-10), MN_EINVAL);
    mn_objective_free(f);
    mn_objective_free(NULL);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_testfn_derivatives), cmocka_unit_test(test_popul_derivatives),
        cmocka_unit_test(test_residual_derivatives),
        cmocka_unit_test(test_popul_padded),       cmocka_unit_test(test_popul_global),
        cmocka_unit_test(test_rosenbrock),
        cmocka_unit_test(test_strict_saddle),      cmocka_unit_test(test_chain),
        cmocka_unit_test(test_spectrum_and_mask),  cmocka_unit_test(test_network_forms),
        cmocka_unit_test(test_errors),            cmocka_unit_test(test_octopus),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
