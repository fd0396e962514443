/* One restart of the Safran-Shamir protocol (the 2021 code of
 * ItaySafran/Overparameterization): Xavier initialisation w_i ~ N(0, I/k),
 * plain gradient descent with the fixed step 5/n until ||grad F|| <= 1e-9
 * (the shared optimiser, MN_OPT_GD, on the population objective; this file
 * drives it and owns the protocol's rules), then classification of the end
 * point. No iteration cap in the original:
 * here a generous safety cap, reported as not-converged, and a divergence
 * guard (non-finite value or ||theta|| > max_norm).
 *
 * The Newton steps below are this protocol's own, not the shared Newton
 * polish (MN_OPT_NEWTON): (c) is a chord Newton on one Cholesky factor of
 * H(W0) whose acceptance is a certified window, and mn_popul_refine is
 * undamped Newton by Cholesky; the shared one is Levenberg-Marquardt on a
 * fresh eigendecomposition every step (it must also work at saddles). Other
 * iterates, so other records: they stay.
 *
 * Two shortcuts, each off with its flag (the CLI's --no-shortcuts):
 *
 * (b) Early global classification. A run is global when it converges with
 *     F < global_tol (1e-3); spurious needs F >= global_tol. Once an iterate
 *     has F < global_tol, the run can end spurious only if GD later climbs
 *     back to F >= global_tol. GD with step eta decreases F at every step
 *     where eta < 2 / L_seg, L_seg the largest Hessian eigenvalue on the
 *     segment to the next iterate (descent lemma:
 *     F(W - eta g) <= F(W) - eta (1 - eta L_seg / 2) |g|^2). For the step 5/n
 *     this holds near the global minimum of n = k (eta lambda_max(H(I)) falls
 *     from 1.72 at k = 6 to 1.43 at k = 20, measured) but NOT globally: n
 *     units all parallel give lambda_max >= n/2 > 2/eta. So it is not a
 *     theorem for every trajectory; it is an empirical property of this
 *     protocol, and tests/test_popul.c checks it where it matters: run by
 *     run, the classes with the shortcut equal those of the full protocol
 *     (k = 6..9, 100 restarts, n = k and k + 1 with MN_POPUL_LONG=1; a
 *     smaller n = k + 1 subset by default), and in the full protocol F never
 *     returns to global_tol after first falling below it
 *     (mn_popul_run.max_f_after < global_tol in every run; F does take small
 *     upward steps near the degenerate global minima of n = k + 1, where GD
 *     crawls, but far below 1e-3). A run classified early is counted global
 *     (early = 1); it takes no Hessian.
 *
 * (c) Newton polishing. GD converges to a strict minimum W* linearly; Newton
 *     from the same place converges quadratically. Replacing GD's tail by
 *     Newton is exact if Newton finds the point GD was heading for. It is,
 *     when the ball B = B(W*, rho), rho = |W0 - W*| (W0 the GD iterate),
 *     satisfies 0 < eta H(xi) < 2 I for every xi in B: then the GD map
 *     T(W) = W - eta grad F(W) has |T(W) - W*| <= max_{xi in B} |I - eta H(xi)| |W - W*|
 *     < |W - W*| on B, so GD from W0 stays in B and converges to W*, the
 *     only critical point in B (F is strictly convex there). We check:
 *       1. H(W0) is positive definite (Cholesky) and the predicted Newton
 *          step |H(W0)^-1 grad F(W0)| is at most RHO_FRAC of r_smooth, the
 *          distance scale to the non-smooth set (a zero unit, or two units /
 *          a unit and a teacher unit parallel or antiparallel:
 *          r_smooth = min_i |w_i| min(1, min_j sin t(w_i, w_j), min_j sin t(w_i, e_j)));
 *       2. chord-Newton iterations with H(W0) converge (each gradient at most
 *          half the previous) to |grad F(W*)| <= gtol / 1000, and again
 *          rho <= RHO_FRAC r_smooth(W*);
 *       3. with tau = SAFETY ||H(W0) - H(W*)||_F (+ a floor), both
 *          H(W*) - tau I and (2/eta - tau) I - H(W*) are positive definite
 *          (Cholesky), i.e. the spectrum of H(W*) lies in (tau, 2/eta - tau).
 *     Step 3 bounds H on B by H(W*) +- tau. That uses the secant
 *     ||H(W0) - H(W*)|| as the scale of the Hessian's variation on B, with a
 *     factor SAFETY = 4 for other directions; F is real-analytic on B (rho is
 *     far below r_smooth), so its third derivatives have no reason to be
 *     much larger across B than along the segment — an assumption, not a
 *     proof (the Frobenius norm is itself ~2x the spectral norm Weyl's
 *     bound needs, measured at k = 20). tests/test_popul.c checks its
 *     consequence run by run against plain GD: same class, same distinct
 *     minimum, F within 1e-10, end points within 10 gtol / lambda_min (GD's
 *     own distance to the minimum). If any check fails GD simply goes on from
 *     W0 (the attempt leaves the trajectory untouched) and a later attempt is
 *     made once the gradient has shrunk (scheduling below). Minima whose
 *     Hessian has eigenvalues near 0 (e.g. two at ~4e-5 for k = 17, n = 18)
 *     never pass step 3 before GD itself converges: those runs are plain GD
 *     to the end, hundreds of thousands of steps. */
#include <cblas.h> /* OpenBLAS: openblas_{get,set}_num_threads */
#include <lapacke.h>
#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "popul/internal.h"

#define RHO_FRAC 0.05
#define SAFETY 4.0

void mn_popul_opts_default(mn_popul_opts *o)
{
    o->step = 0;
    o->gtol = 1e-9;
    o->global_tol = 1e-3;
    o->max_iter = 5000000; /* 7x the longest run of the default tables (688229 steps) */
    o->max_norm = 1e6;
    o->early_global = 1;
    o->newton = 1;
    o->dedup_tol = 1e-6;
    o->progress = NULL;
    o->progress_ctx = NULL;
}

static mn_status check_opts(const mn_popul_opts *o)
{
    if (!(o->step >= 0) || !isfinite(o->step)) return mn_fail(MN_EINVAL, "popul: step = %g", o->step);
    if (!(o->gtol > 0)) return mn_fail(MN_EINVAL, "popul: gtol = %g (expected > 0)", o->gtol);
    if (!(o->global_tol > 0)) return mn_fail(MN_EINVAL, "popul: global_tol = %g (expected > 0)", o->global_tol);
    if (o->max_iter < 1) return mn_fail(MN_EINVAL, "popul: max_iter = %ld (expected >= 1)", o->max_iter);
    if (!(o->max_norm > 0)) return mn_fail(MN_EINVAL, "popul: max_norm = %g (expected > 0)", o->max_norm);
    if (!(o->dedup_tol > 0)) return mn_fail(MN_EINVAL, "popul: dedup_tol = %g (expected > 0)", o->dedup_tol);
    return MN_OK;
}

/* ------------------------------------------------------------------ */
mn_status mn_popul_runner_alloc(mn_popul_runner **out, const mn_popul_spec *spec)
{
    *out = NULL;
    mn_popul_runner *R = calloc(1, sizeof *R);
    if (!R) return mn_fail(MN_ENOMEM, "popul: out of memory");
    mn_status st = mn_popul_work_alloc(&R->w, spec);
    if (st) {
        free(R);
        return st;
    }
    R->spec = *spec;
    const size_t P = R->P = mn_popul_nparams(spec);
    R->th = malloc(P * sizeof(double));
    R->th0 = malloc(P * sizeof(double));
    R->g = malloc(P * sizeof(double));
    R->p = malloc(P * sizeof(double));
    R->H = malloc(P * P * sizeof(double));
    R->L = malloc(P * P * sizeof(double));
    R->ev = malloc(P * sizeof(double));
    mn_popul_objective_view(&R->f, R->w);
    const size_t Pp = (size_t)spec->n * R->w->kp;
    R->thp = calloc(Pp, sizeof(double));
    R->maskp = malloc(Pp);
    if (!R->th || !R->th0 || !R->g || !R->p || !R->H || !R->L || !R->ev || !R->thp || !R->maskp) {
        mn_popul_runner_free(R);
        return mn_fail(MN_ENOMEM, "popul: out of memory for %zu parameters", P);
    }
    mn_popul_objective_view_padded(&R->fp, R->w, R->maskp);
    *out = R;
    return MN_OK;
}

void mn_popul_runner_free(mn_popul_runner *R)
{
    if (!R) return;
    mn_popul_work_free(R->w);
    free(R->th), free(R->th0), free(R->g), free(R->p), free(R->H), free(R->L), free(R->ev);
    free(R->thp), free(R->maskp);
    free(R);
}

static double norm2(const double *a, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * a[i];
    return sqrt(s);
}

/* Cholesky of the symmetric a (P x P, overwritten); 1 when positive definite. */
static int chol(double *a, size_t P)
{
    /* the _work variants skip LAPACKE's O(P^2) NaN scan (H is checked finite) */
    return LAPACKE_dpotrf_work(LAPACK_COL_MAJOR, 'L', (lapack_int)P, a, (lapack_int)P) == 0;
}

/* Distance scale to where F stops being smooth (see the top of the file). */
double mn_popul_smooth_radius(const mn_popul_spec *s, const double *W)
{
    const int n = s->n, k = s->k;
    double r = INFINITY;
    for (int i = 0; i < n; i++) {
        const double *wi = W + (size_t)i * k;
        const double ni = norm2(wi, (size_t)k);
        double m = 1.0;
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            const double *wj = W + (size_t)j * k;
            const double nj = norm2(wj, (size_t)k);
            double c = 0;
            for (int l = 0; l < k; l++) c += wi[l] * wj[l];
            c /= ni * nj;
            m = fmin(m, sqrt(fmax(0.0, 1 - c * c)));
        }
        for (int l = 0; l < k; l++) {
            const double c = wi[l] / ni;
            m = fmin(m, sqrt(fmax(0.0, 1 - c * c)));
        }
        r = fmin(r, ni * m);
    }
    return r;
}

/* th, g (P; g may be NULL) from GD's current point and gradient, padded
 * or not. */
static void unpad(const mn_popul_runner *R, const mn_optim *gd, double *th, double *g)
{
    const int n = R->spec.n, k = R->spec.k, kp = R->w->kp;
    const double *x = mn_optim_theta(gd), *gx = mn_optim_grad(gd);
    if (R->spec.elim) {
        memcpy(th, x, R->P * sizeof *th);
        if (g) memcpy(g, gx, R->P * sizeof *g);
        return;
    }
    for (int i = 0; i < n; i++) {
        memcpy(th + (size_t)i * k, x + (size_t)i * kp, (size_t)k * sizeof *th);
        if (g) memcpy(g + (size_t)i * k, gx + (size_t)i * kp, (size_t)k * sizeof *g);
    }
}

enum { POLISH_OK, POLISH_NOT_PD, POLISH_FAR, POLISH_FAILED };

/* Shortcut (c). In: R->th (W0) with gradient R->g (norm gn0). On success
 * R->th holds W*, R->g its gradient, *gn its norm, and R->H the Hessian at
 * W*. On failure R->th and R->g are restored, and *next says at which
 * gradient norm the next attempt should come: late in GD the gradient lies
 * mostly along the slowest mode, so mu ~ |g| / |H^-1 g|, rho ~ |g| / mu, and
 * the window check needs tau ~ SAFETY L3 rho < mu, L3 = the Hessian's
 * variation per unit distance measured by a failed attempt. */
static int polish(mn_popul_runner *R, const mn_popul_opts *o, double eta, double gn0, double *gn, double *next,
                  double *cvar, double *margin)
{
    const size_t P = R->P;
    double *th = R->th, *g = R->g, *H = R->H, *L = R->L, *p = R->p, *th0 = R->th0;
    const lapack_int Pl = (lapack_int)P;
    *next = 0.1 * gn0;
    memcpy(th0, th, P * sizeof *th);
    memcpy(R->ev, g, P * sizeof *g); /* keep grad(W0) to restore */
    if (mn_popul_hessian(R->w, th, H)) return POLISH_NOT_PD;
    memcpy(L, H, P * P * sizeof *L);
    if (!chol(L, P)) return POLISH_NOT_PD;
    memcpy(p, g, P * sizeof *p);
    LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', Pl, 1, L, Pl, p, Pl);
    const double rs0 = mn_popul_smooth_radius(&R->spec, th);
    const double step0 = norm2(p, P), mu_est = gn0 / step0;
    if (!(step0 <= RHO_FRAC * rs0)) {
        *next = gn0 * fmin(0.5, fmax(0.01, fmin(0.7 * RHO_FRAC * rs0 / step0, 0.7 * mu_est * mu_est / *cvar / gn0)));
        return POLISH_FAR;
    }
    /* chord Newton with the factor of H(W0) */
    double gprev = gn0, gcur = gn0;
    const double target = o->gtol * 1e-3;
    for (int it = 0; it < 60; it++) {
        for (size_t i = 0; i < P; i++) th[i] -= p[i];
        double F;
        if (mn_popul_eval(R->w, th, &F, g)) goto restore;
        gcur = norm2(g, P);
        if (!isfinite(gcur)) goto restore;
        if (gcur <= target) break;
        if (gcur > 0.5 * gprev) {
            /* stalled: fine at the rounding floor, a failure above it */
            if (gcur <= o->gtol * 1e-2) break;
            goto restore;
        }
        gprev = gcur;
        memcpy(p, g, P * sizeof *p);
        LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', Pl, 1, L, Pl, p, Pl);
    }
    if (!(gcur <= o->gtol * 1e-2)) goto restore;
    double rho = 0;
    for (size_t i = 0; i < P; i++) rho += (th[i] - th0[i]) * (th[i] - th0[i]);
    rho = sqrt(rho);
    if (!(rho <= RHO_FRAC * fmin(rs0, mn_popul_smooth_radius(&R->spec, th)))) goto restore;
    /* Hessian at W*, its distance to H(W0), and the spectral window */
    if (mn_popul_hessian(R->w, th, L)) goto restore;
    double d2 = 0, h2 = 0;
    for (size_t i = 0; i < P * P; i++) d2 += (L[i] - H[i]) * (L[i] - H[i]), h2 += L[i] * L[i];
    memcpy(H, L, P * P * sizeof *H); /* H = H(W*) */
    const double tau = SAFETY * sqrt(d2) + 1e-12 * sqrt(h2);
    /* if the window fails: shrink rho (and with it tau) below mu */
    if (rho > 0 && tau > 0) {
        *cvar = 1.2 * tau / rho;
        *next = fmin(0.5 * gn0, fmax(0.01 * gn0, 0.7 * mu_est * mu_est / *cvar));
    }
    for (size_t i = 0; i < P; i++) L[i * P + i] -= tau;
    if (!chol(L, P)) goto restore;
    for (size_t i = 0; i < P * P; i++) L[i] = -H[i];
    for (size_t i = 0; i < P; i++) L[i * P + i] += 2.0 / eta - tau;
    if (!chol(L, P)) goto restore;
    *gn = gcur;
    *margin = tau;
    return POLISH_OK;
restore:
    memcpy(th, th0, P * sizeof *th);
    memcpy(g, R->ev, P * sizeof *g);
    return POLISH_FAILED;
}

mn_status mn_popul_refine(mn_popul_runner *R, double *x)
{
    const size_t P = R->P;
    const lapack_int Pl = (lapack_int)P;
    double *g = R->g, *p = R->p, *L = R->L, F, gn;
    mn_status st = mn_popul_eval(R->w, x, &F, g);
    if (st) return st;
    gn = norm2(g, P);
    for (int it = 0; it < 8 && gn > 1e-13; it++) {
        if ((st = mn_popul_hessian(R->w, x, L))) return st;
        if (!chol(L, P)) break;
        memcpy(p, g, P * sizeof *p);
        LAPACKE_dpotrs_work(LAPACK_COL_MAJOR, 'L', Pl, 1, L, Pl, p, Pl);
        memcpy(R->th0, x, P * sizeof *x);
        for (size_t i = 0; i < P; i++) R->th0[i] -= p[i];
        double F2;
        if (mn_popul_eval(R->w, R->th0, &F2, g)) break;
        const double g2 = norm2(g, P);
        if (!(g2 < gn)) break;
        memcpy(x, R->th0, P * sizeof *x);
        gn = g2;
    }
    return MN_OK;
}

/* Smallest eigenvalue of the Hessian at R->th: the shared spectrum helper,
 * always dense (P is small). */
static mn_status lambda_min_at(mn_popul_runner *R, double *lmin)
{
    double lmax;
    return mn_spectrum_extremes(lmin, &lmax, &R->f, R->th, INT_MAX, 1, 1.0);
}

mn_status mn_popul_run_with(mn_popul_runner *R, mn_popul_run *out, const mn_popul_opts *o, uint64_t base_seed,
                            int restart, int want_lmin)
{
    const mn_popul_spec *s = &R->spec;
    const int n = s->n, k = s->k;
    const size_t P = R->P;
    double *th = R->th, *g = R->g;
    mn_status st = check_opts(o);
    if (st) return st;
    memset(out, 0, sizeof *out);
    out->n = n, out->k = k, out->restart = restart;
    out->lambda_min = out->orth_err = NAN;
    out->a = out->b = out->c_norm = out->a_exp_b = NAN;
    out->max_f_after = NAN;
    out->distinct = -1;
    const uint64_t idx[3] = {(uint64_t)k, (uint64_t)n, (uint64_t)restart};
    out->seed = mn_seed_derive(base_seed, idx, 3);
    mn_rng rng;
    mn_rng_seed(&rng, out->seed);
    /* Xavier: W ~ N(0, I/k); the eliminator (libminima's init) a = 0,
     * c ~ N(0, I/k), b = 0 */
    const double sd = 1.0 / sqrt((double)k);
    for (size_t i = 0; i < (size_t)n * k; i++) th[i] = sd * mn_rng_normal(&rng);
    if (s->elim) {
        const size_t ao = (size_t)n * k;
        th[ao] = 0;
        for (int l = 0; l < k; l++) th[ao + 1 + l] = sd * mn_rng_normal(&rng);
        th[ao + 1 + k] = 0;
    }
    const double eta = o->step > 0 ? o->step : 5.0 / n;
    /* GD is the shared optimiser's (theta -= eta grad F), driven here: the
     * protocol's own rules decide when it stops. */
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_GD, prm.lr = eta;
    /* The plain model iterates on the padded layout (no copies per step)
     * and tests its norms below, on the kernel's |grad|^2 and |W|^2: the
     * optimiser computes none (skip_norms). */
    const int padded = !s->elim;
    prm.max_norm = s->elim ? o->max_norm : INFINITY;
    prm.skip_norms = padded;
    if (padded)
        for (int i = 0; i < n; i++) memcpy(R->thp + (size_t)i * R->w->kp, th + (size_t)i * k, (size_t)k * sizeof *th);
    mn_optim *gd;
    if ((st = mn_optim_alloc_objective(&gd, padded ? &R->fp : &R->f, &prm, padded ? R->thp : th))) return st;
    /* When to try (c): the window check passes once tau ~ C rho < mu with
     * rho ~ |g| / mu, i.e. |g| < mu^2 / C; mu is read off GD's own
     * contraction, |g_{t+16}| / |g_t| -> (1 - eta mu)^16 in the linear regime
     * (two consecutive estimates within 10%), C starts at 8 and is measured
     * by failed attempts. Scheduling only: it decides when the checks run,
     * never what they accept. */
    double F = NAN, gn = NAN, next_try = 1e-3, cvar = 8.0, pred = INFINITY, g16 = NAN, mu16 = NAN, tau = 0;
    long it = 0;
    int converged = 0, diverged = 0, in_th = 0; /* the current point is in th (else in gd) */
    for (;;) {
        /* Diverged: a zero unit or a non-finite value (F and |g| stay those
         * of the point before), or, with the added neuron, ||theta|| >
         * max_norm (those of the point). Without it, the norms as the
         * kernel sums them (the records have always used those bits). */
        F = mn_optim_loss(gd);
        if (s->elim) gn = mn_optim_gnorm(gd);
        if (mn_optim_test(gd, 0.0) == MN_RUN_DIVERGED) {
            diverged = 1;
            break;
        }
        if (!s->elim) {
            const double gk = sqrt(R->w->nn[0]);
            /* |grad| past DBL_MAX as the optimiser's scaled norm measures it
             * (what its divergence test read before skip_norms): diverged,
             * gn staying that of the point before, as then */
            if (!isfinite(gk) && !isfinite(mn_norm2(mn_optim_grad(gd), R->fp.n, NULL))) {
                diverged = 1;
                break;
            }
            gn = gk;
        }
        if (!isfinite(gn) || (!s->elim && !(sqrt(R->w->nn[1]) <= o->max_norm))) {
            diverged = 1;
            break;
        }
        if (F < o->global_tol) out->max_f_after = isnan(out->max_f_after) ? F : fmax(out->max_f_after, F);
        if (gn <= o->gtol) {
            converged = 1;
            break;
        }
        if (o->early_global && F < o->global_tol) {
            out->early = 1;
            break;
        }
        if (o->newton && (it & 15) == 0) {
            const double q = gn / g16, mu = (1 - pow(q, 1.0 / 16)) / eta;
            pred = mu > 0 && fabs(mu - mu16) < 0.1 * mu ? 0.7 * mu * mu / cvar : INFINITY;
            mu16 = mu, g16 = gn;
        }
        if (o->newton && gn <= fmin(next_try, pred) && F >= o->global_tol) {
            unpad(R, gd, th, g);
            double gnew, next = 0.1 * gn;
            out->newton_tries++;
            const int r = polish(R, o, eta, gn, &gnew, &next, &cvar, &tau);
            if (r == POLISH_OK) {
                out->polished = 1;
                in_th = 1;
                gn = gnew;
                mn_popul_eval(R->w, th, &F, NULL);
                converged = 1;
                break;
            }
            next_try = next;
        }
        if (it >= o->max_iter) break;
        if ((st = mn_optim_iterate(gd))) {
            mn_optim_free(gd);
            return st;
        }
        it++;
    }
    if (!in_th) unpad(R, gd, th, NULL);
    mn_optim_free(gd);
    out->iters = it;
    out->loss = F;
    out->gnorm = gn;
    /* The shared class rules (mn_class_decide) on the protocol's facts. */
    mn_class_facts facts = {.diverged = diverged, .stationary = converged};
    facts.global = out->early || (converged && F < o->global_tol);
    if (converged && !facts.global) {
        if (out->polished && tau >= MN_EIG_TOL) {
            facts.curvature = 1; /* H(W*) > tau I was checked */
        } else {
            /* H - eig_tol I positive definite (Cholesky): lambda_min > eig_tol; else the eigenvalue decides */
            if (!out->polished && (st = mn_popul_hessian(R->w, th, R->H))) return st; /* polished: H(W*) */
            memcpy(R->L, R->H, P * P * sizeof(double));
            for (size_t i = 0; i < P; i++) R->L[i * P + i] -= MN_EIG_TOL;
            if (chol(R->L, P)) {
                facts.curvature = 1;
            } else {
                if ((st = lambda_min_at(R, &out->lambda_min))) return st;
                facts.curvature = mn_curvature_sign(out->lambda_min, MN_EIG_TOL);
            }
        }
        if (facts.curvature > 0 && want_lmin && isnan(out->lambda_min) &&
            (st = lambda_min_at(R, &out->lambda_min)))
            return st;
    }
    const mn_class cls = mn_class_decide(&facts);
    out->cls = cls;
    if (n == k && cls != MN_CLASS_DIVERGED) {
        /* ||W^T W - I||_F */
        double e2 = 0;
        for (int a = 0; a < k; a++)
            for (int b = 0; b < k; b++) {
                double v = 0;
                for (int i = 0; i < n; i++) v += th[(size_t)i * k + a] * th[(size_t)i * k + b];
                v -= a == b;
                e2 += v * v;
            }
        out->orth_err = sqrt(e2);
    }
    if (s->elim) {
        const size_t ao = (size_t)n * k;
        out->a = th[ao];
        out->b = th[ao + 1 + k];
        out->c_norm = norm2(th + ao + 1, (size_t)k);
        out->a_exp_b = out->a * exp(out->b);
    }
    return MN_OK;
}

mn_status mn_popul_run_one(mn_popul_run *out, double *theta_out, const mn_popul_spec *spec,
                           const mn_popul_opts *opts, uint64_t base_seed, int restart)
{
    mn_popul_runner *R;
    mn_status st = mn_popul_runner_alloc(&R, spec);
    if (st) return st;
    /* one OpenBLAS thread, as in mn_popul_experiment: the same factorisations
     * round the same way, so a run reproduces the experiment's bit for bit */
    const int blas_threads = openblas_get_num_threads();
    if (blas_threads != 1) openblas_set_num_threads(1);
    st = mn_popul_run_with(R, out, opts, base_seed, restart, 1);
    if (blas_threads != 1) openblas_set_num_threads(blas_threads);
    if (!st && theta_out) memcpy(theta_out, R->th, R->P * sizeof *theta_out);
    mn_popul_runner_free(R);
    return st;
}
