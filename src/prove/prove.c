/* The proof for one point of the Safran-Shamir population loss (the
 * argument and its constants: docs/prove.md).
 *
 * 1. The point given must be smooth: no zero unit, no parallel or
 *    antiparallel pair (F is not differentiable at a zero unit; at a
 *    parallel pair it is C^2 but our Hessian enclosure divides by sin t).
 * 2. Centre: Newton steps from the point (float Hessian, ball gradient),
 *    kept while the rigorous gradient bound shrinks. Only a choice of centre:
 *    nothing below trusts it.
 * 3. At the centre (box of radius 0): F in [F_lo, F_hi], g >= |grad F|, the
 *    Hessian's midpoint M (doubles) with lambda_min(M) >= lambda_mid proved.
 * 4. Radius search: for r, the Hessian enclosure over the box c +- r gives
 *    spread(r) >= |H(x) - M|_2, so every Hessian on the ball has smallest
 *    eigenvalue >= mu(r) = lambda_mid - spread(r). Proved when g < mu(r) r.
 *    spread grows about linearly, spread(r) ~ L r, so mu(r) r peaks at
 *    r* = lambda_mid / (2 L): try r = 2 g / mu(0) first, then r* (kept
 *    when it works: the critical point is then unique on a larger ball). */
#include <cblas.h>
#include <lapacke.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/popul.h"
#include "prove/internal.h"
#include "util/first_error.h"

#define PREC MN_PROVE_PREC

void pv_prover_free(pv_prover *p)
{
    if (p->G) _arb_vec_clear(p->G, p->P), arb_mat_clear(p->H), arb_clear(p->F);
    if (p->work) pv_box_clear(&p->box);
    free(p->M), free(p->Hf), free(p->step), free(p->cand), free(p->ipiv);
    mn_popul_work_free(p->work);
    memset(p, 0, sizeof *p);
}

mn_status pv_prover_alloc_buffers(pv_prover *p, int P)
{
    memset(p, 0, sizeof *p);
    p->P = P;
    const size_t Pz = (size_t)P;
    p->M = malloc(Pz * Pz * sizeof *p->M);
    p->Hf = malloc(Pz * Pz * sizeof *p->Hf);
    p->step = malloc(Pz * sizeof *p->step);
    p->cand = malloc(Pz * sizeof *p->cand);
    p->ipiv = malloc(Pz * sizeof *p->ipiv);
    if (!p->M || !p->Hf || !p->step || !p->cand || !p->ipiv) {
        pv_prover_free(p);
        return mn_fail(MN_ENOMEM, "prove: out of memory for %d parameters", P);
    }
    p->G = _arb_vec_init(P);
    arb_mat_init(p->H, P, P);
    arb_init(p->F);
    return MN_OK;
}

/* The population objective; ctx is the pv_prover. */
static int popul_set(void *ctx, const double *c, double r, int *zero, char *why, size_t len)
{
    return pv_box_set(&((pv_prover *)ctx)->box, c, r, zero, why, len);
}

static void popul_eval(void *ctx, arb_t F, arb_ptr G, arb_mat_t H)
{
    const pv_box *b = &((pv_prover *)ctx)->box;
    if (F) pv_value(F, b);
    if (G) pv_grad(G, b);
    if (H) pv_hess(H, b);
}

static int popul_float_hess(void *ctx, const double *c, double *H)
{
    return mn_popul_hessian(((pv_prover *)ctx)->work, c, H) != MN_OK;
}

mn_status pv_prover_alloc(pv_prover *p, int n, int k)
{
    const mn_popul_spec spec = {.n = n, .k = k};
    mn_status st = mn_popul_check(&spec);
    if (st) return st;
    if ((st = pv_prover_alloc_buffers(p, n * k))) return st;
    p->n = n, p->k = k;
    if ((st = mn_popul_work_alloc(&p->work, &spec))) {
        pv_prover_free(p);
        return st;
    }
    pv_box_init(&p->box, n, k);
    p->obj = (pv_objective){.ctx = p, .set = popul_set, .eval = popul_eval, .float_hess = popul_float_hess};
    p->global_upper = 0;
    return MN_OK;
}

/* Rigorous |grad F(x)| upper bound at the point x (+inf when x is not smooth). */
static double grad_bound_at(pv_prover *p, const double *x)
{
    char why[128];
    int zero;
    if (p->obj.set(p->obj.ctx, x, 0, &zero, why, sizeof why)) return INFINITY;
    p->obj.eval(p->obj.ctx, NULL, p->G, NULL);
    return pv_norm_upper(p->G, p->P);
}

/* Step 2: Newton steps from c (overwritten), at most 8, each kept only when
 * the gradient bound shrinks. */
static void newton_centre(pv_prover *p, double *c)
{
    const int P = p->P;
    double g = grad_bound_at(p, c);
    for (int it = 0; it < 8 && g > 0; it++) {
        if (p->obj.float_hess) {
            if (p->obj.float_hess(p->obj.ctx, c, p->Hf)) return;
        } else {
            p->obj.eval(p->obj.ctx, NULL, NULL, p->H);
            pv_midpoints(p->Hf, p->H); /* p->G still holds the gradient at c */
        }
        for (int a = 0; a < P; a++) p->step[a] = arf_get_d(arb_midref(p->G + a), ARF_RND_NEAR);
        if (LAPACKE_dsysv(LAPACK_ROW_MAJOR, 'U', P, 1, p->Hf, P, p->ipiv, p->step, 1) != 0) return;
        for (int a = 0; a < P; a++) p->cand[a] = c[a] - p->step[a];
        const double g2 = grad_bound_at(p, p->cand);
        if (!(g2 < g)) break;
        memcpy(c, p->cand, (size_t)P * sizeof *c);
        g = g2;
        /* p->G now holds the gradient at the new c */
    }
}

/* a < b r, exactly (53-bit products fit in the working precision) */
static int less_than_product(double a, double b, double r)
{
    arb_t x, y;
    arb_init(x), arb_init(y);
    arb_set_d(x, b);
    arb_set_d(y, r);
    arb_mul(y, x, y, PREC);
    arb_set_d(x, a);
    const int ok = arb_lt(x, y);
    arb_clear(x), arb_clear(y);
    return ok;
}

/* Step 4 at one radius: 0 proved (mu, spread set), 1 not smooth (why),
 * 2 not positive definite, 3 g >= mu r. */
static int try_radius(pv_prover *p, const double *c, double r, double g, double lmid, double *mu, double *spread,
                      char *why, size_t len)
{
    int zero;
    if (p->obj.set(p->obj.ctx, c, r, &zero, why, len)) return 1;
    p->obj.eval(p->obj.ctx, NULL, NULL, p->H);
    *spread = pv_spread(p->H, p->M);
    arb_t m, sp;
    arb_init(m), arb_init(sp);
    arb_set_d(m, lmid);
    arb_set_d(sp, *spread);
    arb_sub(m, m, sp, PREC);
    *mu = pv_lower(m);
    arb_clear(m), arb_clear(sp);
    if (!(*mu > 0)) return 2;
    return less_than_product(g, *mu, r) ? 0 : 3;
}

/* |x - y| rounded up */
static double dist_upper(const double *x, const double *y, int P)
{
    arb_ptr d = _arb_vec_init(P);
    for (int a = 0; a < P; a++) {
        arb_set_d(d + a, x[a]);
        arb_t t;
        arb_init(t);
        arb_set_d(t, y[a]);
        arb_sub(d + a, d + a, t, PREC);
        arb_clear(t);
    }
    const double v = pv_norm_upper(d, P);
    _arb_vec_clear(d, P);
    return v;
}

double pv_loss_lower(const arb_t F, double g, double mu)
{
    arb_t a, m;
    arb_init(a), arb_init(m);
    arb_set_d(a, g);
    arb_set_d(m, mu);
    arb_sqr(a, a, PREC);
    arb_div(a, a, m, PREC);
    arb_mul_2exp_si(a, a, -1);
    arb_sub(a, F, a, PREC);
    const double v = pv_lower(a);
    arb_clear(a), arb_clear(m);
    return v;
}

/* The value's bounds and upper(shift + g / mu). */
static void final_bounds(mn_prove_result *res, const arb_t F)
{
    res->loss_lower = pv_loss_lower(F, res->grad_upper, res->lambda_lower);
    res->loss_upper = pv_upper(F);
    arb_t g, m;
    arb_init(g), arb_init(m);
    arb_set_d(g, res->grad_upper);
    arb_set_d(m, res->lambda_lower);
    arb_div(g, g, m, PREC);
    arb_set_d(m, res->shift);
    arb_add(g, g, m, PREC);
    res->within = pv_upper(g);
    arb_clear(g), arb_clear(m);
}

static void fail(mn_prove_result *res, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(mn_prove_result *res, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(res->reason, sizeof res->reason, fmt, ap);
    va_end(ap);
}

void pv_result_init(mn_prove_result *res)
{
    memset(res, 0, sizeof *res);
    res->radius = res->shift = res->within = res->grad_upper = res->lambda_lower = NAN;
    res->lambda_mid = res->hess_spread = res->loss_lower = res->loss_upper = NAN;
}

void pv_prove_with(pv_prover *p, mn_prove_result *res, double *c)
{
    const int P = p->P;
    char why[160];
    int zero;
    if (p->obj.set(p->obj.ctx, c, 0, &zero, why, sizeof why)) {
        if (zero) fail(res, "not differentiable: %s", why);
        else fail(res, "not smooth: %s (F is C^2 but not C^3 there; the proof's ball must avoid it)", why);
        return;
    }
    double *given = malloc((size_t)P * sizeof *given);
    if (!given) {
        fail(res, "out of memory");
        return;
    }
    memcpy(given, c, (size_t)P * sizeof *c);
    newton_centre(p, c);
    res->shift = dist_upper(c, given, P);
    free(given);
    /* step 3 at the centre */
    p->obj.set(p->obj.ctx, c, 0, &zero, why, sizeof why); /* smooth: Newton kept only smooth points */
    p->obj.eval(p->obj.ctx, p->F, p->G, p->H);
    const double g = pv_norm_upper(p->G, P);
    res->grad_upper = g;
    res->loss_upper = pv_upper(p->F);
    pv_midpoints(p->M, p->H);
    double lmid, lfloat;
    if (pv_lambda_lower(&lmid, &lfloat, p->M, P)) {
        fail(res, "eigenvalues: %s", mn_last_error());
        return;
    }
    if (!(lfloat > 0)) {
        fail(res, "Hessian not positive definite at the centre, %.3g from the point (smallest eigenvalue %.3g)",
             res->shift, lfloat);
        return;
    }
    if (!(lmid > 0)) {
        fail(res, "Hessian not proved positive definite at the centre (smallest eigenvalue %.3g)", lfloat);
        return;
    }
    res->lambda_mid = lmid;
    const double spread0 = pv_spread(p->H, p->M);
    const double mu0 = lmid - spread0;
    if (!(mu0 > 0)) {
        fail(res, "Hessian not proved positive definite at the centre (smallest eigenvalue %.3g)", lfloat);
        return;
    }
    /* step 4 */
    const double rmin = g / mu0;
    double r = rmin > 0 ? 2 * rmin : 1e-12;
    double mu = NAN, spread = NAN;
    int out = try_radius(p, c, r, g, lmid, &mu, &spread, why, sizeof why);
    /* then r* (a larger ball when r worked: uniqueness on more; the last
     * chance when it did not) */
    if (out != 1 && spread > 0) {
        const double rs = lmid / (2 * (spread / r));
        if (rs > rmin && rs != r) {
            char why2[160];
            double mu2, sp2;
            if (try_radius(p, c, rs, g, lmid, &mu2, &sp2, why2, sizeof why2) == 0) out = 0, r = rs, mu = mu2, spread = sp2;
        }
    }
    if (out == 1) {
        fail(res, "gradient too large for any radius: |grad| <= %.3g needs r > %.3g, and that ball is not smooth (%s)",
             g, rmin, why);
        return;
    }
    if (out == 2) {
        fail(res, "Hessian not positive definite on the ball: |grad| <= %.3g needs r > %.3g, where the enclosure "
                  "spreads by %.3g > %.3g", g, rmin, spread, lmid);
        return;
    }
    if (out == 3) {
        fail(res, "gradient too large for any radius: |grad| <= %.3g, smallest eigenvalue >= %.3g at the centre, "
                  "but at r = %.3g only >= %.3g", g, lmid, r, mu);
        return;
    }
    res->proved = 1;
    res->radius = r;
    res->lambda_lower = mu;
    res->hess_spread = spread;
    final_bounds(res, p->F);
    if (isnan(p->global_upper)) {
        fail(res, "a strict local minimum; spurious unknown: no upper bound of the global value given");
        return;
    }
    res->spurious = res->loss_lower > p->global_upper;
    if (!res->spurious) {
        if (p->global_upper == 0) fail(res, "a strict local minimum, but its value is not proved > 0");
        else fail(res, "a strict local minimum, but its value is not proved > %.17g (the global value's upper bound)",
                  p->global_upper);
    }
}

static mn_status check_point(int n, int k, const double *W)
{
    const size_t P = (size_t)n * k;
    for (size_t a = 0; a < P; a++)
        if (!isfinite(W[a]))
            return mn_fail(MN_EINVAL, "prove: entry %zu (unit %zu, coordinate %zu) is not finite", a + 1, a / k + 1,
                           a % k + 1);
    return MN_OK;
}

mn_status mn_prove_population(mn_prove_result *res, double *centre, int n, int k, const double *W)
{
    const double t0 = omp_get_wtime();
    pv_result_init(res);
    pv_prover p;
    mn_status st = pv_prover_alloc(&p, n, k);
    if (st) return st;
    if ((st = check_point(n, k, W))) {
        pv_prover_free(&p);
        return st;
    }
    double *c = malloc((size_t)p.P * sizeof *c);
    if (!c) {
        pv_prover_free(&p);
        return mn_fail(MN_ENOMEM, "prove: out of memory");
    }
    memcpy(c, W, (size_t)p.P * sizeof *c);
    pv_prove_with(&p, res, c);
    if (centre) memcpy(centre, c, (size_t)p.P * sizeof *c);
    free(c);
    pv_prover_free(&p);
    flint_cleanup(); /* Arb's per-thread caches */
    res->seconds = omp_get_wtime() - t0;
    return MN_OK;
}

mn_status mn_prove_population_many(mn_prove_result *res, int n, int k, const double *points, int m, int threads)
{
    if (m < 0) return mn_fail(MN_EINVAL, "prove: %d points", m);
    const mn_popul_spec spec = {.n = n, .k = k};
    mn_status st = mn_popul_check(&spec);
    if (st) return st;
    const size_t P = (size_t)n * k;
    /* LAPACK one thread per proof: the threads here are over points */
    const int blas = openblas_get_num_threads();
    if (blas != 1) openblas_set_num_threads(1);
    mn_first_error err = {0};
#pragma omp parallel for schedule(dynamic) num_threads(threads > 0 ? threads : omp_get_max_threads())
    for (int i = 0; i < m; i++) {
        const mn_status s = mn_prove_population(&res[i], NULL, n, k, points + (size_t)i * P);
        if (s) mn_first_error_set(&err, s);
    }
    if (blas != 1) openblas_set_num_threads(blas);
    return mn_first_error_status(&err);
}
