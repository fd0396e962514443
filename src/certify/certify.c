/* Certification of an end point: loss, free-gradient norm, the extreme
 * eigenvalues of the free-parameter Hessian (mn_spectrum_extremes: dense up
 * to max_dense free parameters, Lanczos beyond), the kink margin, and a
 * class (global / spurious / minimum / saddle / degenerate / not-converged /
 * diverged), on any objective; mn_certify is the network's form. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

const char *mn_class_name(mn_class c)
{
    switch (c) {
    case MN_CLASS_GLOBAL: return "global";
    case MN_CLASS_SPURIOUS: return "spurious";
    case MN_CLASS_SADDLE: return "saddle";
    case MN_CLASS_DEGENERATE: return "degenerate";
    case MN_CLASS_NOT_CONVERGED: return "not-converged";
    case MN_CLASS_DIVERGED: return "diverged";
    case MN_CLASS_MINIMUM: return "minimum";
    case MN_CLASS_BEST_FOUND: return "best-found";
    case MN_CLASS_SPURIOUS_VS_BEST: return "spurious (vs best found)";
    }
    return "unknown";
}

int mn_curvature_sign(double lambda_min, double eig_tol)
{
    return lambda_min > eig_tol ? 1 : lambda_min < -eig_tol ? -1 : 0;
}

mn_class mn_class_decide(const mn_class_facts *f)
{
    if (f->diverged) return MN_CLASS_DIVERGED;
    if (f->global) return MN_CLASS_GLOBAL;
    if (!f->stationary) return MN_CLASS_NOT_CONVERGED;
    return f->curvature > 0 ? MN_CLASS_SPURIOUS : f->curvature < 0 ? MN_CLASS_SADDLE : MN_CLASS_DEGENERATE;
}

int mn_class_is_spurious(mn_class c) { return c == MN_CLASS_SPURIOUS || c == MN_CLASS_SPURIOUS_VS_BEST; }

int mn_cert_bad(const mn_cert *c, int escaped, double global_loss)
{
    const int candidate = c->cls == MN_CLASS_SPURIOUS || c->cls == MN_CLASS_DEGENERATE || c->cls == MN_CLASS_MINIMUM;
    if (!candidate || escaped) return 0;
    return isnan(global_loss) && c->cls != MN_CLASS_SPURIOUS ? -1 : 1;
}

mn_class mn_class_vs_best(mn_class c, double loss, double best, double global_tol)
{
    if (c != MN_CLASS_MINIMUM) return c;
    return loss <= best + global_tol ? MN_CLASS_BEST_FOUND : MN_CLASS_SPURIOUS_VS_BEST;
}

void mn_cert_opts_default(mn_cert_opts *o)
{
    o->gtol = 1e-6;
    o->eig_tol = MN_EIG_TOL;
    o->global_loss = NAN; /* unknown unless the caller knows it */
    o->global_tol = 1e-6;
    o->zero_error = 0;
    o->max_dense = 2000;
    o->kink_tol = 1e-6;
    o->lanczos_iter = 300;
    o->lanczos_tol = 1e-10;
}

mn_status mn_certify_objective(mn_cert *out, const mn_objective *f, const double *theta, int diverged,
                               const mn_cert_opts *opts)
{
    mn_cert_opts def;
    if (!opts) mn_cert_opts_default(&def), opts = &def;
    *out = (mn_cert){.cls = MN_CLASS_DIVERGED, .loss = NAN, .gnorm = NAN, .lambda_min = NAN,
                     .lambda_max = NAN, .kink_margin = NAN, .near_kink = 0, .accuracy = NAN,
                     .elim_activity = NAN};
    if (!(opts->gtol >= 0) || !(opts->eig_tol >= 0) || !(opts->global_tol >= 0) || isinf(opts->global_loss) ||
        !(opts->kink_tol >= 0) || opts->max_dense < 0 || opts->lanczos_iter < 1 || !(opts->lanczos_tol > 0))
        return mn_fail(MN_EINVAL, "certification tolerances must be non-negative and finite");
    mn_status st = mn_objective_check(f);
    if (st) return st;
    const size_t P = f->n;
    double *grad = malloc(P * sizeof *grad);
    if (!grad) return mn_fail(MN_ENOMEM, "out of memory in mn_certify");
    const size_t nf = mn_objective_nfree(f);
    int finite = 1;
    for (size_t i = 0; i < P; i++) finite &= isfinite(theta[i]) != 0;
    st = finite ? mn_objective_fdf(f, theta, &out->loss, grad) : MN_ERANGE;
    if (st == MN_ERANGE || !finite) {
        /* A non-finite value at the point: diverged whatever the caller says. */
        out->loss = NAN;
        free(grad);
        return MN_OK;
    }
    if (st) goto done;
    out->gnorm = mn_norm2(grad, P, f->mask); /* scaled: finite whenever the norm is */
    out->kink_margin = INFINITY;
    if (f->kink && (st = f->kink(f->params, theta, &out->kink_margin))) goto done;
    out->near_kink = out->kink_margin <= opts->kink_tol;
    if (f->accuracy && (st = f->accuracy(f->params, theta, &out->accuracy))) goto done;
    out->elim_activity = 0.0;
    if (f->activity && (st = f->activity(f->params, theta, &out->elim_activity))) goto done;
    /* cls stays DIVERGED, the evidence above filled in: the caller says so, or
     * the gradient norm is past DBL_MAX (its components finite). */
    mn_class_facts facts = {.diverged = diverged || !isfinite(out->gnorm)};
    /* The reference: the known global value, else 0 for an objective that is
     * never negative (reaching it proves a global minimum), else none. */
    const double ref = !isnan(opts->global_loss) ? opts->global_loss : f->nonnegative ? 0.0 : NAN;
    facts.global = (!isnan(ref) && out->loss <= ref + opts->global_tol) || (opts->zero_error && out->accuracy == 1.0);
    facts.stationary = out->gnorm <= opts->gtol;
    /* The spectrum is computed whenever it can inform the class (a stationary
     * point) or certify a global one; a point that is neither is left NaN. */
    if (!facts.diverged && nf > 0 && (facts.stationary || facts.global)) {
        st = mn_spectrum_extremes(&out->lambda_min, &out->lambda_max, f, theta, opts->max_dense,
                                  opts->lanczos_iter, opts->lanczos_tol);
        if (st) goto done;
    }
    facts.curvature = nf > 0 ? mn_curvature_sign(out->lambda_min, opts->eig_tol) : 0; /* nothing free: degenerate */
    out->cls = mn_class_decide(&facts);
    /* a strict minimum with no global value to compare it with: summaries
     * compare it with the best found (mn_class_vs_best) */
    if (out->cls == MN_CLASS_SPURIOUS && isnan(opts->global_loss)) out->cls = MN_CLASS_MINIMUM;
done:
    free(grad);
    return st;
}

mn_status mn_certify(mn_cert *out, const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, int diverged, const mn_cert_opts *opts)
{
    mn_objective *f;
    mn_status st = mn_net_objective_alloc(&f, model, work, data);
    if (!st) st = mn_certify_objective(out, f, theta, diverged, opts);
    mn_objective_free(f);
    return st;
}
