/* The landscape instruments (minima/instruments.h) against exact answers:
 * Lanczos eigenvalues against LAPACK on the dense Hessian, Hutchinson's
 * trace within 3 standard errors of the exact trace, the SLQ density's
 * integral and mean, slices against plain evaluations bit for bit, the
 * filter normalisation, the Bezier path on a ring of minima, the HVP cache,
 * and bit-identical results whatever the thread count. */
#include <cblas.h>
#include <math.h>
#include <omp.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/instruments.h"

typedef struct {
    mn_data *data;
    mn_model *model;
    mn_work *work;
    mn_objective *f;
    double *theta;
    size_t P;
} net;

/* A d-w-w-K softplus net on teacher data at a random point (not a critical
 * point: a generic Hessian with distinct eigenvalues of both signs). */
static void net_open(net *n, int d, int w, int k, int samples, uint64_t seed)
{
    mn_spec s;
    mn_spec_default(&s);
    s.depth = 3, s.width[0] = d, s.width[1] = w, s.width[2] = w, s.width[3] = k;
    s.act = MN_ACT_SOFTPLUS, s.act_param = 1.0, s.loss = MN_LOSS_SQUARED;
    assert_int_equal(mn_data_alloc(&n->data, samples, d, k), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, seed);
    double *x = mn_data_x(n->data), *y = mn_data_y(n->data);
    for (int i = 0; i < samples * d; i++) x[i] = mn_rng_normal(&r);
    for (int i = 0; i < samples * k; i++) y[i] = sin(2.385 * x[i % (samples * d)]) + 0.3 * mn_rng_normal(&r);
    assert_int_equal(mn_model_alloc(&n->model, &s), MN_OK);
    n->P = mn_model_nparams(n->model);
    n->theta = malloc(n->P * sizeof *n->theta);
    mn_model_init(n->model, n->theta, seed + 1, 1.0);
    for (size_t i = 0; i < n->P; i++) n->theta[i] += 0.3 * mn_rng_normal(&r); /* biases off zero too */
    assert_int_equal(mn_work_alloc(&n->work, n->model, samples), MN_OK);
    assert_int_equal(mn_net_objective_alloc(&n->f, n->model, n->work, n->data), MN_OK);
}

static void net_close(net *n)
{
    mn_objective_free(n->f);
    mn_work_free(n->work);
    mn_model_free(n->model);
    mn_data_free(n->data);
    free(n->theta);
}

/* Ascending eigenvalues of the dense Hessian (P). */
static double *dense_eigs(const net *n)
{
    double *H = malloc(n->P * n->P * sizeof *H), *ev = malloc(n->P * sizeof *ev);
    assert_int_equal(mn_objective_hessian(n->f, n->theta, H), MN_OK);
    assert_int_equal(mn_sym_eigvals(ev, H, (int)n->P), MN_OK);
    free(H);
    return ev;
}

static void test_extremes_match_lapack(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 6, 2, 40, 11);
    const int P = (int)n.P, K = 4;
    double *ev = dense_eigs(&n);
    const double scale = fmax(fabs(ev[0]), fabs(ev[P - 1]));
    assert_true(ev[0] < -1e-3 && ev[P - 1] > 1e-3); /* a saddle: both signs present */
    mn_lanczos_opts lo;
    mn_lanczos_opts_default(&lo);
    lo.tol = 1e-12;
    double vals[4], resid[4], *vecs = malloc((size_t)K * n.P * sizeof *vecs), *hv = malloc(n.P * sizeof *hv);
    for (int top = 0; top <= 1; top++) {
        int steps, conv;
        assert_int_equal(mn_hess_extreme(vals, resid, vecs, &steps, &conv, n.f, n.theta, K, top, &lo), MN_OK);
        assert_true(conv);
        for (int i = 0; i < K; i++) {
            const double want = top ? ev[P - 1 - i] : ev[i];
            assert_true(fabs(vals[i] - want) <= 1e-8 * scale);
            /* the Ritz vector is an eigenvector: ||H y - lambda y|| small, ||y|| = 1 */
            const double *y = vecs + (size_t)i * n.P;
            assert_int_equal(mn_objective_hvp(n.f, n.theta, y, hv), MN_OK);
            double r2 = 0, y2 = 0;
            for (size_t j = 0; j < n.P; j++) r2 += pow(hv[j] - vals[i] * y[j], 2), y2 += y[j] * y[j];
            assert_true(sqrt(r2) <= 1e-7 * scale);
            assert_true(fabs(y2 - 1) < 1e-10);
        }
    }
    free(ev), free(vecs), free(hv);
    net_close(&n);
}

/* f(x) = x^T A x / 2 with A = R D R^T, R two Householder reflections (so A
 * is dense), D with a triple top and a double bottom eigenvalue. */
#define QN 30
typedef struct {
    double a[QN * QN];
} quad;

static mn_status quad_fdf(void *p, const double *x, double *f, double *g)
{
    const quad *q = p;
    double v = 0;
    for (int i = 0; i < QN; i++) {
        double s = 0;
        for (int j = 0; j < QN; j++) s += q->a[i * QN + j] * x[j];
        v += 0.5 * x[i] * s;
        if (g) g[i] = s;
    }
    *f = v;
    return MN_OK;
}

static mn_status quad_hvp(void *p, const double *x, const double *v, double *hv)
{
    (void)x;
    const quad *q = p;
    for (int i = 0; i < QN; i++) {
        double s = 0;
        for (int j = 0; j < QN; j++) s += q->a[i * QN + j] * v[j];
        hv[i] = s;
    }
    return MN_OK;
}

/* A repeated extreme eigenvalue is reported with its multiplicity: a single
 * Krylov space holds one direction of each eigenspace, so Lanczos alone
 * reports 7.25 once and then 6.1 (deflated restarts find the other copies). */
static void test_repeated_eigenvalues(void **state)
{
    (void)state;
    static quad q;
    double d[QN], u[2][QN], x[QN];
    d[0] = d[1] = d[2] = 7.25, d[3] = 6.1, d[QN - 1] = d[QN - 2] = -3.7, d[QN - 3] = -2.385;
    for (int i = 4; i < QN - 3; i++) d[i] = 5.3 - 7.0 * (i - 4) / (QN - 8); /* 5.3 .. -1.7 */
    mn_rng r;
    mn_rng_seed(&r, 41);
    for (int h = 0; h < 2; h++) {
        double nrm = 0;
        for (int i = 0; i < QN; i++) u[h][i] = mn_rng_normal(&r), nrm += u[h][i] * u[h][i];
        for (int i = 0; i < QN; i++) u[h][i] /= sqrt(nrm);
    }
    for (int c = 0; c < QN; c++) { /* column c of A: R^T e_c, then D, then R */
        double col[QN] = {0};
        col[c] = 1.0;
        for (int h = 0; h < 2; h++) {
            double s = 0;
            for (int i = 0; i < QN; i++) s += u[h][i] * col[i];
            for (int i = 0; i < QN; i++) col[i] -= 2 * s * u[h][i];
        }
        for (int i = 0; i < QN; i++) col[i] *= d[i];
        for (int h = 1; h >= 0; h--) {
            double s = 0;
            for (int i = 0; i < QN; i++) s += u[h][i] * col[i];
            for (int i = 0; i < QN; i++) col[i] -= 2 * s * u[h][i];
        }
        for (int i = 0; i < QN; i++) q.a[i * QN + c] = col[i];
    }
    mn_objective f = {.n = QN, .params = &q, .fdf = quad_fdf, .hvp = quad_hvp};
    for (int i = 0; i < QN; i++) x[i] = 0.5 * mn_rng_normal(&r);
    mn_lanczos_opts lo;
    mn_lanczos_opts_default(&lo);
    lo.tol = 1e-12;
    const double want_top[4] = {7.25, 7.25, 7.25, 6.1}, want_bottom[3] = {-3.7, -3.7, -2.385};
    double vals[4], resid[4], vecs[4 * QN], hv[QN];
    for (int top = 0; top <= 1; top++) {
        const int K = top ? 4 : 3;
        int steps, conv;
        assert_int_equal(mn_hess_extreme(vals, resid, vecs, &steps, &conv, &f, x, K, top, &lo), MN_OK);
        assert_true(conv);
        for (int i = 0; i < K; i++) {
            assert_true(fabs(vals[i] - (top ? want_top[i] : want_bottom[i])) <= 1e-10);
            assert_int_equal(quad_hvp(&q, x, vecs + i * QN, hv), MN_OK);
            double r2 = 0;
            for (int j = 0; j < QN; j++) r2 += pow(hv[j] - vals[i] * vecs[i * QN + j], 2);
            assert_true(sqrt(r2) <= 1e-9);
            for (int k = 0; k <= i; k++) { /* the copies are orthonormal, not one vector twice */
                double dot = 0;
                for (int j = 0; j < QN; j++) dot += vecs[i * QN + j] * vecs[k * QN + j];
                assert_true(fabs(dot - (i == k)) <= 1e-9);
            }
        }
    }
}

static void test_k_larger_than_p(void **state)
{
    (void)state;
    net n;
    net_open(&n, 2, 2, 1, 10, 3);
    mn_lanczos_opts lo;
    mn_lanczos_opts_default(&lo);
    double v[64], r[64];
    int steps, conv;
    assert_int_equal(mn_hess_extreme(v, r, NULL, &steps, &conv, n.f, n.theta, (int)n.P + 1, 1, &lo), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "larger than"));
    net_close(&n);
}

static void test_trace_within_3se(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 6, 2, 40, 12);
    double *ev = dense_eigs(&n), exact = 0;
    for (size_t i = 0; i < n.P; i++) exact += ev[i];
    double tr, se;
    assert_int_equal(mn_hess_trace(&tr, &se, n.f, n.theta, 200, 5), MN_OK);
    assert_true(se > 0);
    assert_true(fabs(tr - exact) <= 3 * se);
    free(ev);
    net_close(&n);
}

static void test_density_integral_and_mean(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 6, 2, 40, 13);
    double *ev = dense_eigs(&n), exact = 0;
    for (size_t i = 0; i < n.P; i++) exact += ev[i];
    mn_density_opts o;
    mn_density_opts_default(&o);
    o.probes = 30, o.steps = 20, o.npoints = 4000;
    mn_density *d = NULL;
    assert_int_equal(mn_hess_density(&d, n.f, n.theta, &o), MN_OK);
    double integral = 0, first = 0, wsum = 0;
    for (int g = 1; g < d->npoints; g++) {
        const double h = d->grid[g] - d->grid[g - 1];
        integral += 0.5 * h * (d->values[g] + d->values[g - 1]);
        first += 0.5 * h * (d->grid[g] * d->values[g] + d->grid[g - 1] * d->values[g - 1]);
    }
    for (int j = 0; j < d->nnodes; j++) wsum += d->weights[j];
    const double width = d->grid[d->npoints - 1] - d->grid[0];
    assert_true(fabs(integral - 1) < 1e-6);
    assert_true(fabs(wsum - 1) < 1e-12);
    assert_true(fabs(first - d->mean) < 1e-6 * width); /* the grid's mean is the nodes' mean */
    assert_true(d->mean_se > 0);
    assert_true(fabs(d->mean - exact / n.P) <= 3 * d->mean_se); /* mean = trace / P */
    /* nodes inside the spectrum (Ritz values interlace) */
    for (int j = 0; j < d->nnodes; j++) assert_true(d->nodes[j] >= ev[0] - 1e-9 && d->nodes[j] <= ev[n.P - 1] + 1e-9);
    mn_density_free(d);
    free(ev);
    net_close(&n);
}

static void test_slice_reproduces_eval(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 5, 1, 30, 14);
    double *d1 = malloc(n.P * sizeof *d1), *d2 = malloc(n.P * sizeof *d2), *end = malloc(n.P * sizeof *end);
    double *th = malloc(n.P * sizeof *th);
    assert_int_equal(mn_direction(d1, n.model, n.theta, MN_DIR_FILTER, 1), MN_OK);
    assert_int_equal(mn_direction(d2, n.model, n.theta, MN_DIR_RANDOM, 2), MN_OK);
    for (size_t i = 0; i < n.P; i++) end[i] = n.theta[i] + 0.7 * d2[i] - 0.2;
    const double a[3] = {-0.75, 0.0, 0.4}, b[2] = {-0.3, 0.55};
    double loss[6], acc[6], want;
    mn_plane p = {.n = n.P, .origin = n.theta, .d1 = d1, .d2 = d2};
    assert_int_equal(mn_slice(loss, acc, n.f, &p, a, 3, b, 2), MN_OK);
    for (int i = 0; i < 2; i++)
        for (int j = 0; j < 3; j++) {
            for (size_t k = 0; k < n.P; k++) th[k] = n.theta[k] + a[j] * d1[k] + b[i] * d2[k];
            assert_int_equal(mn_eval(n.model, n.work, n.data, th, &want, NULL), MN_OK);
            assert_memory_equal(&loss[i * 3 + j], &want, sizeof want);
            assert_true(isnan(acc[i * 3 + j])); /* squared loss: no accuracy */
        }
    /* toward a second point: a = 0 and a = 1 are the two points exactly */
    const double t[2] = {0.0, 1.0};
    mn_plane q = {.n = n.P, .origin = n.theta, .end = end};
    assert_int_equal(mn_slice(loss, NULL, n.f, &q, t, 2, NULL, 1), MN_OK);
    assert_int_equal(mn_eval(n.model, n.work, n.data, n.theta, &want, NULL), MN_OK);
    assert_memory_equal(&loss[0], &want, sizeof want);
    assert_int_equal(mn_eval(n.model, n.work, n.data, end, &want, NULL), MN_OK);
    assert_memory_equal(&loss[1], &want, sizeof want);
    free(d1), free(d2), free(end), free(th);
    net_close(&n);
}

static void test_filter_normalisation(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 5, 2, 10, 15);
    double *d = malloc(n.P * sizeof *d);
    assert_int_equal(mn_direction(d, n.model, n.theta, MN_DIR_FILTER, 9), MN_OK);
    const mn_spec *s = mn_model_spec(n.model);
    for (int l = 1; l <= s->depth; l++) {
        const int wo = s->width[l], wi = s->width[l - 1];
        for (int k = 0; k < wo; k++) {
            const size_t o = mn_model_w_offset(n.model, l) + (size_t)k * wi;
            double nd = 0, nt = 0;
            for (int i = 0; i < wi; i++) nd += d[o + i] * d[o + i], nt += n.theta[o + i] * n.theta[o + i];
            assert_true(nt > 0);
            assert_true(fabs(sqrt(nd) - sqrt(nt)) <= 1e-12 * sqrt(nt));
        }
        for (int k = 0; k < wo; k++) assert_true(d[mn_model_b_offset(n.model, l) + k] == 0.0);
    }
    mn_dir_kind k;
    assert_int_equal(mn_dir_parse(&k, "sideways"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "unknown direction kind 'sideways'"));
    free(d);
    net_close(&n);
}

/* f = (|x|^2 - 1)^2 in 2-D: a ring of minima. A straight line between two
 * points of the ring passes near the centre (f = 1 there); a curve can go
 * round. */
static mn_status ring_fdf(void *p, const double *x, double *f, double *g)
{
    (void)p;
    const double r = x[0] * x[0] + x[1] * x[1] - 1;
    *f = r * r;
    if (g) g[0] = 4 * r * x[0], g[1] = 4 * r * x[1];
    return MN_OK;
}

static mn_status ring_hvp(void *p, const double *x, const double *v, double *hv)
{
    (void)p;
    const double r = x[0] * x[0] + x[1] * x[1] - 1, xv = x[0] * v[0] + x[1] * v[1];
    hv[0] = 8 * x[0] * xv + 4 * r * v[0];
    hv[1] = 8 * x[1] * xv + 4 * r * v[1];
    return MN_OK;
}

static double ring_mean(const double *a, const double *c, const double *b, int nodes)
{
    double s = 0, x[2], f;
    for (int k = 0; k < nodes; k++) {
        const double t = (k + 0.5) / nodes, u = 1 - t;
        for (int i = 0; i < 2; i++) x[i] = u * u * a[i] + 2 * t * u * c[i] + t * t * b[i];
        ring_fdf(NULL, x, &f, NULL);
        s += f;
    }
    return s / nodes;
}

static void test_path_on_ring(void **state)
{
    (void)state;
    mn_objective f = {.n = 2, .fdf = ring_fdf, .hvp = ring_hvp};
    /* the ring's derivatives against central differences */
    const double x0[2] = {0.37, -0.81}, v[2] = {0.6, -0.2}, h = 1e-6;
    double g[2], hv[2], xp[2], xm[2], fp, fm, gp[2], gm[2], f0;
    ring_fdf(NULL, x0, &f0, g);
    ring_hvp(NULL, x0, v, hv);
    for (int i = 0; i < 2; i++) {
        memcpy(xp, x0, sizeof xp), memcpy(xm, x0, sizeof xm);
        xp[i] += h, xm[i] -= h;
        ring_fdf(NULL, xp, &fp, NULL), ring_fdf(NULL, xm, &fm, NULL);
        assert_true(fabs((fp - fm) / (2 * h) - g[i]) < 1e-7);
    }
    for (int i = 0; i < 2; i++) xp[i] = x0[i] + h * v[i], xm[i] = x0[i] - h * v[i];
    ring_fdf(NULL, xp, &fp, gp), ring_fdf(NULL, xm, &fm, gm);
    for (int i = 0; i < 2; i++) assert_true(fabs((gp[i] - gm[i]) / (2 * h) - hv[i]) < 1e-7);

    const double a[2] = {-cos(0.2), sin(0.2)}, b[2] = {cos(0.2), sin(0.2)};
    mn_path_opts o;
    mn_path_opts_default(&o);
    mn_path *p = NULL;
    assert_int_equal(mn_path_between(&p, &f, a, b, &o), MN_OK);
    assert_true(p->loss_a < 1e-15 && p->loss_b < 1e-15);
    /* the line's maximum is at t = 1/2, x = (0, sin 0.2) up to rounding */
    const double want = pow(sin(0.2) * sin(0.2) - 1, 2);
    assert_true(fabs(p->barrier_line - want) < 1e-12);
    assert_true(p->barrier_curve < 0.1 * p->barrier_line);
    assert_string_equal(p->state, "converged");
    /* the fitted control point is stationary for the mean loss (central differences) */
    for (int i = 0; i < 2; i++) {
        double cp[2] = {p->control[0], p->control[1]}, cm[2] = {p->control[0], p->control[1]};
        cp[i] += 1e-5, cm[i] -= 1e-5;
        assert_true(fabs(ring_mean(a, cp, b, o.nodes) - ring_mean(a, cm, b, o.nodes)) / 2e-5 < 1e-6);
    }
    mn_path_free(p);
}

/* A curved valley: f = (x^2 - 1)^2 + c (y - 0.7 (1 - x^2)^2)^2, c = 2.385,
 * minima (+-1, 0) at f = 0, the valley's saddle (0, 0.7) at f = 1; the
 * straight line crosses x = 0 at f(0, 0) = 1 + 0.49 c, a quadratic Bezier
 * curve cannot follow the quartic valley. */
#define VC 2.385
static mn_status valley_fdf(void *p, const double *x, double *f, double *g)
{
    (void)p;
    const double u = 1 - x[0] * x[0], q = x[1] - 0.7 * u * u, qx = 2.8 * x[0] * u;
    *f = u * u + VC * q * q;
    if (g) g[0] = -4 * x[0] * u + 2 * VC * q * qx, g[1] = 2 * VC * q;
    return MN_OK;
}

static mn_status valley_hessian(void *p, const double *x, double *h)
{
    (void)p;
    const double u = 1 - x[0] * x[0], q = x[1] - 0.7 * u * u, qx = 2.8 * x[0] * u, qxx = 2.8 - 8.4 * x[0] * x[0];
    h[0] = 12 * x[0] * x[0] - 4 + 2 * VC * (qx * qx + q * qxx);
    h[1] = h[2] = 2 * VC * qx;
    h[3] = 2 * VC;
    return MN_OK;
}

/* The elastic band finds the valley's saddle: its climbing image converges to
 * (0, 0.7), the barrier to 1, below the line's and the Bezier curve's. */
static void test_band_in_valley(void **state)
{
    (void)state;
    const double x0[2] = {0.43, 0.385}, hstep = 1e-6;
    double g[2], h[4], f0, gp[2], gm[2], fp, fm;
    valley_fdf(NULL, x0, &f0, g), valley_hessian(NULL, x0, h);
    for (int i = 0; i < 2; i++) { /* gradient and Hessian against central differences */
        double xp[2] = {x0[0], x0[1]}, xm[2] = {x0[0], x0[1]};
        xp[i] += hstep, xm[i] -= hstep;
        valley_fdf(NULL, xp, &fp, gp), valley_fdf(NULL, xm, &fm, gm);
        assert_true(fabs((fp - fm) / (2 * hstep) - g[i]) < 1e-7);
        for (int j = 0; j < 2; j++) assert_true(fabs((gp[j] - gm[j]) / (2 * hstep) - h[j * 2 + i]) < 1e-6);
    }
    mn_objective f = {.n = 2, .fdf = valley_fdf, .hessian = valley_hessian};
    const double a[2] = {-1, 0}, b[2] = {1, 0};
    mn_path_opts o;
    mn_path_opts_default(&o);
    o.neb_tol = 1e-9;
    mn_path *p = NULL;
    assert_int_equal(mn_path_between(&p, &f, a, b, &o), MN_OK);
    assert_true(fabs(p->barrier_line - (1 + 0.49 * VC)) < 1e-12);
    assert_true(p->barrier_curve > 1.01); /* the quadratic family misses the valley */
    assert_true(p->band_converged);
    assert_true(fabs(p->barrier_band - 1) < 1e-6);
    int top = 0;
    for (int j = 1; j < p->images; j++)
        if (p->image_loss[j] > p->image_loss[top]) top = j;
    assert_true(fabs(p->image[2 * top]) < 1e-4 && fabs(p->image[2 * top + 1] - 0.7) < 1e-4);
    mn_path_free(p);
}

/* Products at one point reuse its forward and backward passes: the same bits
 * as a fresh workspace, and new data contents are noticed. */
static void test_hvp_cache(void **state)
{
    (void)state;
    net n;
    net_open(&n, 3, 5, 2, 20, 16);
    mn_work *fresh;
    assert_int_equal(mn_work_alloc(&fresh, n.model, 20), MN_OK);
    double *v = malloc(n.P * sizeof *v), *h1 = malloc(n.P * sizeof *h1), *h2 = malloc(n.P * sizeof *h2);
    assert_int_equal(mn_direction(v, n.model, n.theta, MN_DIR_RANDOM, 4), MN_OK);
    assert_int_equal(mn_hvp(n.model, n.work, n.data, n.theta, v, h1, NULL, NULL), MN_OK);
    assert_int_equal(mn_hvp(n.model, n.work, n.data, n.theta, v, h1, NULL, NULL), MN_OK); /* cached */
    assert_int_equal(mn_hvp(n.model, fresh, n.data, n.theta, v, h2, NULL, NULL), MN_OK);
    assert_memory_equal(h1, h2, n.P * sizeof *h1);
    mn_data_x(n.data)[0] += 0.5; /* same data object, new contents */
    assert_int_equal(mn_hvp(n.model, n.work, n.data, n.theta, v, h1, NULL, NULL), MN_OK);
    mn_work_free(fresh);
    assert_int_equal(mn_work_alloc(&fresh, n.model, 20), MN_OK);
    assert_int_equal(mn_hvp(n.model, fresh, n.data, n.theta, v, h2, NULL, NULL), MN_OK);
    assert_memory_equal(h1, h2, n.P * sizeof *h1);
    mn_work_free(fresh);
    free(v), free(h1), free(h2);
    net_close(&n);
}

/* A net past the size where the loops and OpenBLAS go parallel. */
static void run_all(const net *n, double *out)
{
    mn_lanczos_opts lo;
    mn_lanczos_opts_default(&lo);
    lo.steps = 30;
    double resid[2];
    int steps, conv;
    assert_int_equal(mn_hess_extreme(out, resid, NULL, &steps, &conv, n->f, n->theta, 2, 1, &lo), MN_OK);
    assert_int_equal(mn_hess_trace(out + 2, out + 3, n->f, n->theta, 3, 7), MN_OK);
    mn_density_opts o;
    mn_density_opts_default(&o);
    o.probes = 2, o.steps = 10, o.npoints = 50;
    mn_density *d;
    assert_int_equal(mn_hess_density(&d, n->f, n->theta, &o), MN_OK);
    memcpy(out + 4, d->values, 50 * sizeof *out);
    mn_density_free(d);
}

static void test_threads_same_bits(void **state)
{
    (void)state;
    net n;
    net_open(&n, 20, 140, 3, 300, 17); /* P = 23103; products cut in 4 (samples) and 2 (units) */
    double one[54], many[54];
    const int bt = openblas_get_num_threads(), ot = omp_get_max_threads();
    openblas_set_num_threads(1), omp_set_num_threads(1);
    run_all(&n, one);
    openblas_set_num_threads(4), omp_set_num_threads(4);
    run_all(&n, many);
    openblas_set_num_threads(bt), omp_set_num_threads(ot);
    assert_memory_equal(one, many, sizeof one);
    net_close(&n);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_extremes_match_lapack),
        cmocka_unit_test(test_repeated_eigenvalues),
        cmocka_unit_test(test_k_larger_than_p),
        cmocka_unit_test(test_trace_within_3se),
        cmocka_unit_test(test_density_integral_and_mean),
        cmocka_unit_test(test_slice_reproduces_eval),
        cmocka_unit_test(test_filter_normalisation),
        cmocka_unit_test(test_path_on_ring),
        cmocka_unit_test(test_band_in_valley),
        cmocka_unit_test(test_hvp_cache),
        cmocka_unit_test(test_threads_same_bits),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
