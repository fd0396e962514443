/* Newton polish: drive a point near a critical point to one whose gradient
 * is zero to rounding, whatever the critical point's index (a minimum, a
 * saddle): certification then classifies the point itself, not a nearby one.
 *
 * Each step forms the objective's exact Hessian H on the free parameters
 * (mn_objective_free_hessian), eigen-decomposes it H = Q diag(lambda) Q^T
 * (LAPACK dsyevd on one thread: deterministic), and solves the gradient
 * equations g(x) = 0 by Levenberg-Marquardt with Jacobian H:
 *   d = -(H^2 + mu I)^{-1} H g = -sum_k lambda_k / (lambda_k^2 + mu) (q_k . g) q_k.
 * mu -> 0 gives Newton's step on the non-singular part; directions with
 * |lambda_k| << sqrt(mu) (flat directions of a degenerate point) are damped,
 * not inverted. The merit function is ||g||: a step is taken only when it
 * lowers it, and mu is divided by 10 (at least (eps max|lambda|)^2); a
 * rejected trial multiplies mu by 10 (to at least the initial damping) and
 * tries again, 40 times at most, after which the run is STALLED: the
 * gradient cannot be lowered in double precision (or, from a poor start,
 * the point sits on a ReLU kink, where the gradient jumps, or has no
 * critical point near enough for the local model). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

#define MN_NEWTON_MAX_FREE 4000

double mn__newton_doubles(size_t P, size_t nf)
{
    /* the Hessian scratch (as mn_objective_hessian_scratch), the free block,
     * its eigenvalues and two vectors */
    const double hsz = nf < P && P > 4096 ? 2.0 * (double)P : (double)P * (double)P;
    return hsz + (double)nf * (double)nf + 2.0 * (double)nf + 2.0 * (double)P;
}

mn_status mn__newton_alloc(mn_optim *o)
{
    const size_t P = o->P, nf = (size_t)o->nf;
    if (nf > MN_NEWTON_MAX_FREE)
        return mn_fail(MN_EINVAL, "Newton polish needs the dense Hessian: %zu free parameters > %d", nf,
                       MN_NEWTON_MAX_FREE);
    const size_t hsz = mn_objective_hessian_scratch(o->f);
    o->hess = malloc((hsz + nf * nf + 2 * nf + 2 * P) * sizeof *o->hess);
    o->idx = malloc((nf ? nf : 1) * sizeof *o->idx);
    if (!o->hess || !o->idx) return mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", P, P);
    o->sub = o->hess + hsz;
    o->ev = o->sub + nf * nf;
    o->cf = o->ev + nf;
    o->xt = o->cf + nf;
    o->gt = o->xt + P;
    for (size_t i = 0, j = 0; i < P; i++)
        if (o->mask[i]) o->idx[j++] = (int)i;
    o->mu = NAN;
    return MN_OK;
}

mn_status mn__newton_step(mn_optim *o)
{
    const int nf = o->nf;
    if (nf == 0 || o->gnorm == 0.0) {
        o->stalled = 1;
        snprintf(o->why, sizeof o->why, "Newton polish: nothing to do (gradient norm %g)", o->gnorm);
        return MN_OK;
    }
    mn_status st = mn_objective_free_hessian(o->f, o->theta, o->sub, o->hess);
    if (st == MN_ERANGE) { /* non-finite curvature at a finite point */
        o->diverged = 1;
        snprintf(o->why, sizeof o->why, "Newton polish: %s", mn_last_error());
        return MN_OK;
    }
    if (st) return st;
    st = mn_sym_eig(o->ev, o->sub, nf); /* columns of sub: eigenvectors */
    if (st) return st;
    const double lmax = fmax(fabs(o->ev[0]), fabs(o->ev[nf - 1]));
    if (lmax == 0.0) {
        o->stalled = 1;
        snprintf(o->why, sizeof o->why, "Newton polish: the Hessian is zero (gradient norm %g)", o->gnorm);
        return MN_OK;
    }
    const double mu0 = o->prm.damping * lmax * lmax;
    const double mu_floor = (DBL_EPSILON * lmax) * (DBL_EPSILON * lmax);
    if (isnan(o->mu)) o->mu = fmax(mu0, mu_floor);
    /* c_k = q_k . g over the free parameters. */
    for (int k = 0; k < nf; k++) {
        double c = 0;
        for (int r = 0; r < nf; r++) c += o->sub[(size_t)r * nf + k] * o->grad[o->idx[r]];
        o->cf[k] = c;
    }
    double *coef = malloc((size_t)nf * sizeof *coef);
    if (!coef) return mn_fail(MN_ENOMEM, "out of memory in the Newton polish");
    for (int trial = 0; trial < 40; trial++) {
        for (int k = 0; k < nf; k++) {
            const double den = o->ev[k] * o->ev[k] + o->mu;
            coef[k] = den > 0 ? -o->ev[k] / den * o->cf[k] : 0.0;
        }
        memcpy(o->xt, o->theta, o->P * sizeof *o->xt);
        for (int r = 0; r < nf; r++) {
            double dr = 0;
            for (int k = 0; k < nf; k++) dr += o->sub[(size_t)r * nf + k] * coef[k];
            o->xt[o->idx[r]] += dr;
        }
        double ft;
        int bad;
        st = mn__optim_eval_at(o, o->xt, &ft, o->gt, &bad);
        if (st) break;
        if (!bad && mn__optim_norm(o, o->gt) < o->gnorm) {
            o->why[0] = '\0';
            o->mu = fmax(o->mu / 10, mu_floor);
            mn__optim_accept(o, o->xt, ft, o->gt);
            free(coef);
            return MN_OK;
        }
        o->mu = fmax(o->mu * 10, mu0 > 0 ? mu0 : mu_floor);
    }
    free(coef);
    if (st) return st;
    o->stalled = 1;
    snprintf(o->why, sizeof o->why,
             "Newton polish: no step lowers the gradient norm %.3g (rounding level if tiny; else a kink "
             "or no critical point nearby)",
             o->gnorm);
    return MN_OK;
}
