/* Layer operators (not part of the public API): one table entry per
 * mn_layer_kind, each defined in its own file (layer_dense.c,
 * layer_conv1d.c), which eval.c walks layer by layer.
 *
 * Shapes, for n samples and a layer from `in` = w_{l-1} to `out` = w_l units:
 *   h (n x in) the layer's input, z (n x out) its pre-activations,
 *   g (n x out) = dL/dz, t (n x in) = dL/dh, all row-major;
 *   w: the layer's weights (nweights(in, out) numbers), b: its bias (nbias(out)).
 *
 * Every layer here is bilinear in (w, h) plus a bias, so its R-operator
 * (Pearlmutter: R{.} = d/dt (.)(theta + t v)) is made of the same three
 * maps, with V the weights' and vb the bias' direction:
 *   R{z}  = forward(h, V) + forward(R{h}, w) + bias_add(vb)
 *   R{dw} = grad_w(R{g}, h) + grad_w(g, R{h})
 *   R{t}  = grad_in(R{g}, w) + grad_in(g, V)
 * (eval.c composes them in this order). A layer that is not bilinear would
 * need R functions of its own in this table. */
#ifndef MN_MODEL_LAYER_H
#define MN_MODEL_LAYER_H

#include <stddef.h>

#include "minima.h"

typedef struct {
    const char *name;
    size_t (*nweights)(int in, int out);
    int (*nbias)(int out);
    /* 1 when in -> out is a shape this layer can have */
    int (*shape_ok)(int in, int out);
    /* 1 when the layer is square (has an identity) */
    int (*square)(int in, int out);
    /* w = the identity map (only for square layers) */
    void (*identity)(int in, int out, double *w);
    /* z = (layer with weights w, no bias)(h) + beta z */
    void (*forward)(int n, int in, int out, const double *h, const double *w, double beta, double *z);
    /* dw += dL/dw for dL/dz = g and input h */
    void (*grad_w)(int n, int in, int out, const double *g, const double *h, double *dw);
    /* t = dL/dh for dL/dz = g and weights w, + beta t */
    void (*grad_in)(int n, int in, int out, const double *g, const double *w, double beta, double *t);
    /* z = the bias broadcast over the n samples */
    void (*bias_fill)(int n, int out, const double *b, double *z);
    /* z += the bias direction vb broadcast (the R-pass) */
    void (*bias_add)(int n, int out, const double *vb, double *z);
    /* db += dL/db for dL/dz = g */
    void (*bias_grad)(int n, int out, const double *g, double *db);
} mn_layer_op;

extern const mn_layer_op mn_layer_dense;
extern const mn_layer_op mn_layer_conv1d;

static inline const mn_layer_op *mn_layer_op_of(mn_layer_kind k)
{
    return k == MN_LAYER_CONV1D ? &mn_layer_conv1d : &mn_layer_dense;
}

/* Activations, elementwise over cnt entries (layer_act.c):
 *   forward   h = act(z)
 *   backward  g = g act'(z), in place (g holds t = dL/dh on entry)
 *   rforward  rh = act'(z) rz
 *   rbackward rg = rt act'(z) + t act''(z) rz */
void mn_act_forward(mn_act a, double prm, size_t cnt, const double *z, double *h);
void mn_act_backward(mn_act a, double prm, size_t cnt, const double *z, double *g);
void mn_act_rforward(mn_act a, double prm, size_t cnt, const double *z, const double *rz, double *rh);
void mn_act_rbackward(mn_act a, double prm, size_t cnt, const double *z, const double *rz, const double *rt,
                      const double *t, double *rg);

#endif
