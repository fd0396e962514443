/* The added (eliminating) neurons a_j exp(w_j . x + b_j), all in one place:
 * their part of the network's forward, backward and R passes (called by
 * eval.c), their activity, the largest one, the drift detector, and the
 * one exp-overflow guard MN_EXP_MAX (minima.h).
 *
 * Neuron j adds a_j e_ij, e_ij = exp(u_ij), u_ij = w_j . x_i + b_j, to output
 * k(j) (0 for liang, j for per-output); its parameters lie at
 * mn_model_elim_offset(j) as a, w (d), b. Shapes: x (n x d), f, g, rg
 * (n x K), u, e, ru (n x E). */
#include <math.h>
#include <stdio.h>

#include "internal.h"

static int out_of(const mn_model *m, int j) { return m->spec.elim == MN_ELIM_LIANG ? 0 : j; }

double mn_elim_a_exp_b(double a, double b)
{
    if (a == 0.0) return 0.0;
    return b > MN_EXP_MAX ? copysign(INFINITY, a) : a * exp(b);
}

mn_status mn_elim_forward(const mn_model *m, int n, const double *x, const double *th, double *u, double *e,
                          double *f)
{
    const int d = m->spec.width[0], K = m->spec.width[m->spec.depth], E = m->nelim;
    for (int j = 0; j < E; j++) {
        const double *pj = th + mn_model_elim_offset(m, j); /* a, w (d), b */
        const int k = out_of(m, j);
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * d;
            double uij = pj[d + 1];
            for (int c = 0; c < d; c++) uij += pj[1 + c] * xi[c];
            if (!(uij <= MN_EXP_MAX))
                return mn_fail(MN_ERANGE,
                               "added neuron %d: exponent w.x+b = %g at sample %d overflows exp "
                               "(|a| = %g, b = %g)",
                               j + 1, uij, i + 1, fabs(pj[0]), pj[d + 1]);
            u[(size_t)i * E + j] = uij;
            e[(size_t)i * E + j] = exp(uij);
            f[(size_t)i * K + k] += pj[0] * exp(uij);
        }
    }
    return MN_OK;
}

double mn_elim_penalty(const mn_model *m, const double *th)
{
    double pen = 0.0;
    for (int j = 0; j < m->nelim; j++) {
        double a = th[mn_model_elim_offset(m, j)];
        pen += a * a;
    }
    return 0.5 * m->spec.lambda * pen;
}

void mn_elim_backward(const mn_model *m, int n, const double *x, const double *th, const double *g,
                      const double *e, double *grad)
{
    const int d = m->spec.width[0], K = m->spec.width[m->spec.depth], E = m->nelim;
    for (int j = 0; j < E; j++) {
        const size_t o = mn_model_elim_offset(m, j);
        const double a = th[o];
        const int k = out_of(m, j);
        double *ga = grad + o, *gw = grad + o + 1, *gb = grad + o + d + 1;
        for (int i = 0; i < n; i++) {
            const double ge = g[(size_t)i * K + k] * e[(size_t)i * E + j];
            const double *xi = x + (size_t)i * d;
            *ga += ge;
            *gb += a * ge;
            for (int c = 0; c < d; c++) gw[c] += a * ge * xi[c];
        }
        *ga += m->spec.lambda * a;
    }
}

void mn_elim_rforward(const mn_model *m, int n, const double *x, const double *th, const double *v,
                      const double *e, double *ru, double *rf)
{
    const int d = m->spec.width[0], K = m->spec.width[m->spec.depth], E = m->nelim;
    for (int j = 0; j < E; j++) {
        const size_t o = mn_model_elim_offset(m, j);
        const double a = th[o], va = v[o], vb = v[o + d + 1];
        const double *vw = v + o + 1;
        const int k = out_of(m, j);
        for (int i = 0; i < n; i++) {
            const double *xi = x + (size_t)i * d;
            double r = vb;
            for (int c = 0; c < d; c++) r += vw[c] * xi[c];
            const double eij = e[(size_t)i * E + j];
            ru[(size_t)i * E + j] = r;
            rf[(size_t)i * K + k] += va * eij + a * eij * r;
        }
    }
}

void mn_elim_rbackward(const mn_model *m, int n, const double *x, const double *th, const double *v,
                       const double *g, const double *rg, const double *e, const double *ru, double *hv)
{
    const int d = m->spec.width[0], K = m->spec.width[m->spec.depth], E = m->nelim;
    for (int j = 0; j < E; j++) {
        const size_t o = mn_model_elim_offset(m, j);
        const double a = th[o], va = v[o];
        const int k = out_of(m, j);
        double *ha = hv + o, *hw = hv + o + 1, *hb = hv + o + d + 1;
        for (int i = 0; i < n; i++) {
            const size_t ij = (size_t)i * E + j;
            const double gi = g[(size_t)i * K + k], rgi = rg[(size_t)i * K + k];
            const double eij = e[ij], rui = ru[ij];
            const double *xi = x + (size_t)i * d;
            *ha += rgi * eij + gi * eij * rui;
            const double rb = rgi * a * eij + gi * va * eij + gi * a * eij * rui; /* R{g a e} */
            *hb += rb;
            for (int c = 0; c < d; c++) hw[c] += rb * xi[c];
        }
        *ha += m->spec.lambda * va;
    }
}

mn_status mn_elim_activity(double *out, const mn_model *model, const mn_data *data, const double *theta)
{
    *out = 0.0;
    const int E = model->nelim, n = mn_data_n(data), d = mn_data_d(data);
    if (d != model->spec.width[0])
        return mn_fail(MN_EINVAL, "the data has %d features, the model %d inputs", d, model->spec.width[0]);
    const double *x = mn_data_xc(data);
    for (int j = 0; j < E; j++) {
        const double *p = theta + mn_model_elim_offset(model, j); /* a, w (d), b */
        for (int i = 0; i < n; i++) {
            double u = p[d + 1];
            for (int c = 0; c < d; c++) u += p[1 + c] * x[(size_t)i * d + c];
            const double v = p[0] == 0.0 ? 0.0 : u > MN_EXP_MAX ? INFINITY : fabs(p[0]) * exp(u);
            if (!(v <= *out)) *out = v; /* NaN propagates */
        }
    }
    return MN_OK;
}

int mn_elim_largest(const mn_model *model, const double *theta, double *a, double *b, double *w_norm,
                    double *a_exp_b)
{
    const int d = model->spec.width[0];
    int best = -1;
    double best_log = 0;
    for (int j = 0; j < model->nelim; j++) {
        const double *p = theta + mn_model_elim_offset(model, j);
        const double lg = p[0] != 0 ? log(fabs(p[0])) + p[d + 1] : -INFINITY; /* log(|a| e^b) */
        if (best < 0 || lg > best_log) best = j, best_log = lg;
    }
    double va = NAN, vb = NAN, vw = NAN, vab = NAN;
    if (best >= 0) {
        const double *p = theta + mn_model_elim_offset(model, best);
        double w2 = 0;
        for (int c = 0; c < d; c++) w2 += p[1 + c] * p[1 + c];
        va = p[0], vb = p[d + 1], vw = sqrt(w2);
        vab = mn_elim_a_exp_b(va, vb);
    }
    if (a) *a = va;
    if (b) *b = vb;
    if (w_norm) *w_norm = vw;
    if (a_exp_b) *a_exp_b = vab;
    return best;
}

/* The largest exponent max_i (w_j . x_i + b_j) of neuron j over the samples. */
static double top_exponent(const double *p, const double *x, int n, int d)
{
    double top = -INFINITY;
    for (int i = 0; i < n; i++) {
        double u = p[d + 1];
        for (int c = 0; c < d; c++) u += p[1 + c] * x[(size_t)i * d + c];
        if (!(u <= top)) top = u; /* NaN propagates */
    }
    return top;
}

int mn_elim_drifts(const mn_model *model, const mn_data *data, const double *mid, const double *end, char *why,
                   size_t len)
{
    const int d = model->spec.width[0], n = mn_data_n(data);
    if (mn_data_d(data) != d) return 0;
    const double *x = mn_data_xc(data);
    for (int j = 0; j < model->nelim; j++) {
        const size_t o = mn_model_elim_offset(model, j);
        const double a0 = fabs(mid[o]), a1 = fabs(end[o]);
        const double u0 = top_exponent(mid + o, x, n, d), u1 = top_exponent(end + o, x, n, d);
        if (!(a1 > 0 && a0 > 1.2 * a1 && u1 > u0 + 0.25)) continue;
        /* log of the largest output changes by log(a1/a0) + u1 - u0; finite means within log 4. */
        const double dlog = log(a1 / a0) + (u1 - u0);
        if (fabs(dlog) > log(4.0)) continue;
        double w0 = 0, w1 = 0;
        for (int c = 0; c < d; c++) w0 += mid[o + 1 + c] * mid[o + 1 + c], w1 += end[o + 1 + c] * end[o + 1 + c];
        snprintf(why, len,
                 "added neuron %d drifts to infinity: |a| %.3g -> %.3g, largest exponent max_i w.x_i+b %.3g -> "
                 "%.3g (b %.3g -> %.3g, |w| %.3g -> %.3g), largest output %.3g -> %.3g (a -> 0 while the exponent "
                 "grows: a path to infinity, not to a critical point, all of which have a = 0)",
                 j + 1, a0, a1, u0, u1, mid[o + d + 1], end[o + d + 1], sqrt(w0), sqrt(w1), a0 * exp(u0),
                 a1 * exp(u1));
        return 1;
    }
    return 0;
}
