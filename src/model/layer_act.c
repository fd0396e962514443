/* Activations as elementwise operators: forward, backward and their
 * R-operator parts (see layer.h). The switch is outside the loops so the
 * cheap ones vectorise; the others go through mn_act_eval3 per element. */
#include <string.h>

#include "internal.h"
#include "layer.h"

void mn_act_forward(mn_act a, double prm, size_t cnt, const double *restrict z, double *restrict h)
{
    switch (a) {
    case MN_ACT_RELU:
        for (size_t i = 0; i < cnt; i++) h[i] = z[i] > 0 ? z[i] : 0.0;
        return;
    case MN_ACT_LEAKY_RELU:
        for (size_t i = 0; i < cnt; i++) {
            const double zi = z[i];
            h[i] = zi * (zi > 0 ? 1.0 : prm);
        }
        return;
    case MN_ACT_QUADRATIC:
        for (size_t i = 0; i < cnt; i++) h[i] = z[i] * z[i];
        return;
    case MN_ACT_LINEAR:
        memcpy(h, z, cnt * sizeof *h);
        return;
    default:
        for (size_t i = 0; i < cnt; i++) {
            double d1, d2;
            mn_act_eval3(a, prm, z[i], &h[i], &d1, &d2);
        }
        return;
    }
}

/* In place, g = t: the same products as t * d1 from mn_act_eval3 (the
 * backward pass writes T = G_l W_l straight into G_{l-1}'s rows). */
void mn_act_backward(mn_act a, double prm, size_t cnt, const double *restrict z, double *restrict g)
{
    switch (a) {
    case MN_ACT_RELU:
        for (size_t i = 0; i < cnt; i++) {
            const double ti = g[i]; /* loaded unconditionally: the select vectorises */
            g[i] = z[i] > 0 ? ti : 0.0;
        }
        return;
    case MN_ACT_LEAKY_RELU:
        for (size_t i = 0; i < cnt; i++) {
            const double ti = g[i];
            g[i] = ti * (z[i] > 0 ? 1.0 : prm);
        }
        return;
    case MN_ACT_QUADRATIC:
        for (size_t i = 0; i < cnt; i++) g[i] = g[i] * (2.0 * z[i]);
        return;
    case MN_ACT_LINEAR:
        for (size_t i = 0; i < cnt; i++) g[i] = g[i] * 1.0;
        return;
    default:
        for (size_t i = 0; i < cnt; i++) {
            double a0, d1, d2;
            mn_act_eval3(a, prm, z[i], &a0, &d1, &d2);
            g[i] = g[i] * d1;
        }
        return;
    }
}

/* The piecewise-linear activations (act'' = 0 off the kink) get loops of
 * their own: the generic ones call mn_act_eval3 per entry, 6% of a
 * Hessian-vector product's time on the 64-512-512-10 digits network (perf). */
void mn_act_rforward(mn_act a, double prm, size_t cnt, const double *restrict z, const double *restrict rz,
                     double *restrict rh)
{
    switch (a) {
    case MN_ACT_RELU:
        for (size_t i = 0; i < cnt; i++) {
            const double ri = rz[i];
            rh[i] = z[i] > 0 ? ri : 0.0;
        }
        return;
    case MN_ACT_LEAKY_RELU:
        for (size_t i = 0; i < cnt; i++) rh[i] = (z[i] > 0 ? 1.0 : prm) * rz[i];
        return;
    default:
        break;
    }
    for (size_t i = 0; i < cnt; i++) {
        double a0, d1, d2;
        mn_act_eval3(a, prm, z[i], &a0, &d1, &d2);
        rh[i] = d1 * rz[i];
    }
}

void mn_act_rbackward(mn_act a, double prm, size_t cnt, const double *restrict z, const double *restrict rz,
                      const double *restrict rt, const double *restrict t, double *restrict rg)
{
    if (a == MN_ACT_RELU || a == MN_ACT_LEAKY_RELU) { /* act'' = 0: rg = act'(z) rt, rforward's products */
        mn_act_rforward(a, prm, cnt, z, rt, rg);
        return;
    }
    for (size_t i = 0; i < cnt; i++) {
        double a0, d1, d2;
        mn_act_eval3(a, prm, z[i], &a0, &d1, &d2);
        rg[i] = rt[i] * d1 + t[i] * d2 * rz[i];
    }
}
