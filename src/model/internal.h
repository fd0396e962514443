/* Internals shared by the model's files (not part of the public API). */
#ifndef MN_MODEL_INTERNAL_H
#define MN_MODEL_INTERNAL_H

#include "minima.h"

#include <math.h>

struct mn_model {
    mn_spec spec;
    size_t nparams;
    size_t w_off[MN_MAX_DEPTH + 1]; /* layer l (1-based): W_l offset (conv1d: its filter) */
    size_t b_off[MN_MAX_DEPTH + 1]; /* layer l: b_l offset, SIZE_MAX if no bias */
    size_t s_off;                   /* skip S offset, SIZE_MAX if none */
    size_t e_off;                   /* first added neuron's a */
    int nelim;                      /* added neurons */
    int maxw;                       /* widest layer, inputs included */
};

/* Activation s(z) and its first two derivatives at z. */
static inline void mn_act_eval3(mn_act a, double prm, double z, double *s, double *d1, double *d2)
{
    switch (a) {
    case MN_ACT_RELU:
        *s = z > 0 ? z : 0.0;
        *d1 = z > 0 ? 1.0 : 0.0;
        *d2 = 0.0;
        return;
    case MN_ACT_LEAKY_RELU:
        *s = z > 0 ? z : prm * z;
        *d1 = z > 0 ? 1.0 : prm;
        *d2 = 0.0;
        return;
    case MN_ACT_SOFTPLUS: {
        /* log(1 + e^{bz}) / b, written to neither overflow nor cancel. */
        double bz = prm * z;
        double sg = bz >= 0 ? 1.0 / (1.0 + exp(-bz)) : exp(bz) / (1.0 + exp(bz));
        *s = (bz > 0 ? bz + log1p(exp(-bz)) : log1p(exp(bz))) / prm;
        *d1 = sg;
        *d2 = prm * sg * (1.0 - sg);
        return;
    }
    case MN_ACT_SIGMOID: {
        double sg = z >= 0 ? 1.0 / (1.0 + exp(-z)) : exp(z) / (1.0 + exp(z));
        *s = sg;
        *d1 = sg * (1.0 - sg);
        *d2 = sg * (1.0 - sg) * (1.0 - 2.0 * sg);
        return;
    }
    case MN_ACT_TANH: {
        double t = tanh(z);
        *s = t;
        *d1 = 1.0 - t * t;
        *d2 = -2.0 * t * (1.0 - t * t);
        return;
    }
    case MN_ACT_QUADRATIC:
        *s = z * z;
        *d1 = 2.0 * z;
        *d2 = 2.0;
        return;
    case MN_ACT_LINEAR:
    default:
        *s = z;
        *d1 = 1.0;
        *d2 = 0.0;
        return;
    }
}

/* 1 when the activation has a kink at 0 (derivatives one-sided there). */
static inline int mn_act_has_kink(mn_act a) { return a == MN_ACT_RELU || a == MN_ACT_LEAKY_RELU; }

/* The added neurons' part of the passes (elim.c; shapes there):
 *   forward   u, e = exp(u) (n x E); f (n x K) += a e; MN_ERANGE past MN_EXP_MAX
 *   penalty   (lambda/2) sum_j a_j^2
 *   backward  grad += their gradient, from g = dL/df (n x K)
 *   rforward  ru = R{u}; rf += R{a e}
 *   rbackward hv += their rows of H v, from g and rg = R{g} */
mn_status mn_elim_forward(const mn_model *m, int n, const double *x, const double *th, double *u, double *e,
                          double *f);
double mn_elim_penalty(const mn_model *m, const double *th);
void mn_elim_backward(const mn_model *m, int n, const double *x, const double *th, const double *g,
                      const double *e, double *grad);
void mn_elim_rforward(const mn_model *m, int n, const double *x, const double *th, const double *v,
                      const double *e, double *ru, double *rf);
void mn_elim_rbackward(const mn_model *m, int n, const double *x, const double *th, const double *v,
                       const double *g, const double *rg, const double *e, const double *ru, double *hv);

#endif
