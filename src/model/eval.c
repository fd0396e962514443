/* Loss, gradient (backpropagation) and exact Hessian-vector products
 * (Pearlmutter's R-operator: forward-mode derivative of the backward pass)
 * for networks of layer operators (layer.h: dense, conv1d) with added
 * exponential neurons (elim.c). This file walks the layers; what a layer
 * computes lives in its operator.
 *
 * Notation, for samples i = 1..n and layers l = 1..L:
 *   Z_l = op_l(H_{l-1}; W_l) + b_l  (n x w_l),  H_0 = X (n x d)
 *         (dense: H_{l-1} W_l^T + 1 b_l^T)
 *   H_l = act(Z_l) for l < L;  F = Z_L + X S^T + sum_j a_j exp(X w_j + b_j) e_{k(j)}^T
 *   G_l = dL/dZ_l (n x w_l); G_L = dL/dF = loss'(F) / n.
 * The R-pass carries R{.} = d/dt (.)(theta + t v) at t = 0 through the same
 * graph, so hv = R{grad} is exact up to rounding. */
#include <cblas.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "layer.h"
#include "loss/loss.h"
#include "split.h"

struct mn_work {
    int n;                        /* capacity in samples */
    double *z[MN_MAX_DEPTH + 1];  /* pre-activations Z_l (n x w_l) */
    double *h[MN_MAX_DEPTH + 1];  /* H_l (n x w_l); h[L] = outputs F */
    double *g[MN_MAX_DEPTH + 1];  /* G_l = dL/dZ_l (n x w_l) */
    double *t[MN_MAX_DEPTH + 1];  /* T_l = G_l W_l = dL/dH_{l-1} (n x w_{l-1}), l >= 2; mn_hvp only */
    double *rz[MN_MAX_DEPTH + 1]; /* R{Z_l} */
    double *rh[MN_MAX_DEPTH + 1]; /* R{H_l}; rh[L] = R{F} */
    double *rg[MN_MAX_DEPTH + 1]; /* R{G_l} */
    double *rt;                   /* R{T_l} scratch (n x maxw) */
    double *u;                    /* added neurons' exponents X w_j + b_j (n x nelim) */
    double *e;                    /* exp(u) (n x nelim) */
    double *ru;                   /* R{u} (n x nelim) */
    double *mem;                  /* the one allocation behind all of the above */
    /* The point whose forward and backward passes Z, H, G, T hold (mn_hvp):
     * products at the same theta and data (Lanczos, trace probes) then run
     * the R-pass alone, on the same numbers, so the bits do not change. */
    int ready;
    double *at;            /* theta (P) */
    const mn_data *at_data;
    uint64_t at_hash;      /* of the data's contents (a view's caller may change them) */
};

/* Doubles per sample of the workspace: z, h, g and their R-forward twins
 * per layer, the layer input t, rt, and u, e, ru of the added neurons. */
static size_t work_per_sample(const mn_model *model)
{
    const mn_spec *s = &model->spec;
    size_t total = 0;
    for (int l = 1; l <= s->depth; l++) total += 6 * (size_t)s->width[l] + (size_t)s->width[l - 1];
    return total + (size_t)model->maxw + 3 * (size_t)model->nelim;
}

double mn_work_bytes(const mn_model *model, int n)
{
    return (double)work_per_sample(model) * (double)n * sizeof(double);
}

mn_status mn_work_alloc(mn_work **out, const mn_model *model, int n)
{
    *out = NULL;
    if (n < 1) return mn_fail(MN_EINVAL, "workspace for %d samples", n);
    const mn_spec *s = &model->spec;
    const int L = s->depth, E = model->nelim;
    const size_t total = work_per_sample(model);
    if (total > SIZE_MAX / sizeof(double) / (size_t)n)
        return mn_fail(MN_ENOMEM, "workspace for %d samples is too large", n);
    mn_status st = mn_mem_check(mn_work_bytes(model, n), "the evaluation workspace");
    if (st) return st;
    mn_work *w = calloc(1, sizeof *w);
    double *p = w ? malloc(total * (size_t)n * sizeof(double)) : NULL;
    double *at = p ? malloc(model->nparams * sizeof *at) : NULL;
    if (!at) {
        free(w), free(p);
        return mn_fail(MN_ENOMEM, "out of memory: workspace of %zu doubles", total * (size_t)n);
    }
    w->n = n;
    w->mem = p;
    w->at = at;
    for (int l = 1; l <= L; l++) {
        size_t sz = (size_t)n * (size_t)s->width[l];
        w->z[l] = p, p += sz;
        w->h[l] = p, p += sz;
        w->g[l] = p, p += sz;
        w->rz[l] = p, p += sz;
        w->rh[l] = p, p += sz;
        w->rg[l] = p, p += sz;
        w->t[l] = p, p += (size_t)n * (size_t)s->width[l - 1];
    }
    w->rt = p, p += (size_t)n * (size_t)model->maxw;
    w->u = p, p += (size_t)n * (size_t)E;
    w->e = p, p += (size_t)n * (size_t)E;
    w->ru = p;
    *out = w;
    return MN_OK;
}

void mn_work_free(mn_work *work)
{
    if (!work) return;
    free(work->mem);
    free(work->at);
    free(work);
}

/* The per-sample parts of the passes run over blocks of ROW_BLOCK samples
 * (rows), in parallel when the work is large (split.h): a block's layers
 * follow each other while its Z, H (ROW_BLOCK x w_l) are still in cache, and
 * the elementwise passes run on every thread. The blocks start at multiples
 * of MN_SPLIT_ROWS, so each product has the bits of the uncut one whatever
 * the thread count; sums over samples (weight and bias gradients, the loss)
 * stay whole, in their fixed order. */
#define ROW_BLOCK 256

typedef struct {
    const mn_model *m;
    mn_work *w;
    const double *x;  /* inputs (n x d) */
    const double *th; /* theta (P) */
    int keep_t;       /* backward: keep T_l for the R-pass */
} pass;

/* fn(p, r0, r1) for the blocks [r0, r1) of n rows, `mac` multiply-adds per
 * row. When OpenBLAS runs threads of its own, one block: its threads then
 * share each product (measured: 0.2 evaluations/s of 64-256-256-1, n = 10000,
 * against 0.7 on one OpenBLAS thread under load 14 with 256-row blocks, each
 * block's products a handful of its thread hand-offs). */
static void over_blocks(const pass *p, int n, double mac, void (*fn)(const pass *, int, int))
{
    const int rb = openblas_get_num_threads() == 1 ? ROW_BLOCK : n;
    const int nb = (n + rb - 1) / rb, t = mn_split_threads(mac * n, nb);
    if (t == 1) {
        for (int b = 0; b < nb; b++) fn(p, b * rb, b == nb - 1 ? n : (b + 1) * rb);
        return;
    }
#pragma omp parallel for schedule(dynamic) num_threads(t)
    for (int b = 0; b < nb; b++) fn(p, b * rb, b == nb - 1 ? n : (b + 1) * rb);
}

/* Multiply-adds per sample of the layers' products (one direction). */
static double layer_mac(const mn_spec *s)
{
    double mac = 0.0;
    for (int l = 1; l <= s->depth; l++) mac += (double)s->width[l - 1] * s->width[l];
    return mac;
}

/* Z_l, H_l of rows [r0, r1) for every layer; H_L = Z_L (without skip or added neurons). */
static void forward_rows(const pass *p, int r0, int r1)
{
    const mn_spec *s = &p->m->spec;
    const int rows = r1 - r0, L = s->depth;
    const double *hin = p->x + (size_t)r0 * s->width[0];
    for (int l = 1; l <= L; l++) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        const int wo = s->width[l], wi = s->width[l - 1];
        double *z = p->w->z[l] + (size_t)r0 * wo, *h = p->w->h[l] + (size_t)r0 * wo;
        if (s->bias) op->bias_fill(rows, wo, p->th + p->m->b_off[l], z);
        op->forward(rows, wi, wo, hin, p->th + p->m->w_off[l], s->bias ? 1.0 : 0.0, z);
        if (l < L) {
            mn_act_forward(s->act, s->act_param, (size_t)rows * wo, z, h);
        } else {
            memcpy(h, z, (size_t)rows * wo * sizeof *h);
        }
        hin = h;
    }
}

/* Forward pass: fills Z, H, F, and the added neurons' u and e. */
static mn_status forward(const mn_model *m, mn_work *w, const mn_data *data, const double *th)
{
    const mn_spec *s = &m->spec;
    const int n = mn_data_n(data), L = s->depth, d = s->width[0], K = s->width[L];
    const double *x = mn_data_xc(data);
    if (n > w->n) return mn_fail(MN_EINVAL, "workspace holds %d samples, the data has %d", w->n, n);
    w->ready = 0;
    const pass p = {m, w, x, th, 0};
    over_blocks(&p, n, layer_mac(s), forward_rows);
    double *f = w->h[L];
    if (s->skip) mn_layer_dense.forward(n, d, K, x, th + m->s_off, 1.0, f);
    return mn_elim_forward(m, n, x, th, w->u, w->e, f);
}

/* Loss and G_L = loss'(F)/n; optional R-part: R{G_L} from R{F}. */
static double output_loss(const mn_model *m, mn_work *w, const mn_data *data, const double *th, int rmode)
{
    const mn_spec *s = &m->spec;
    const int n = mn_data_n(data), L = s->depth, K = s->width[L], my = mn_data_m(data);
    const double *y = mn_data_yc(data);
    double sum = 0.0;
    for (int i = 0; i < n; i++) {
        size_t o = (size_t)i * K;
        sum += mn_loss_sample(s->loss, s->loss_p, K, w->h[L] + o, y + (size_t)i * my, w->g[L] + o,
                              rmode ? w->rh[L] + o : NULL, rmode ? w->rg[L] + o : NULL);
    }
    const double inv = 1.0 / n;
    for (size_t i = 0; i < (size_t)n * K; i++) w->g[L][i] *= inv;
    if (rmode)
        for (size_t i = 0; i < (size_t)n * K; i++) w->rg[L][i] *= inv;
    return sum * inv + mn_elim_penalty(m, th);
}

/* T_l = G_l W_l and G_{l-1} = T_l act'(Z_{l-1}) of rows [r0, r1), l = L..2;
 * T_l is kept only for the R-pass (mn_hvp), else it lives in G_{l-1}. */
static void backward_rows(const pass *p, int r0, int r1)
{
    const mn_spec *s = &p->m->spec;
    const int rows = r1 - r0;
    for (int l = s->depth; l >= 2; l--) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        const int wo = s->width[l], wi = s->width[l - 1];
        double *gp = p->w->g[l - 1] + (size_t)r0 * wi;
        op->grad_in(rows, wi, wo, p->w->g[l] + (size_t)r0 * wo, p->th + p->m->w_off[l], 0.0, gp);
        if (p->keep_t) memcpy(p->w->t[l] + (size_t)r0 * wi, gp, (size_t)rows * wi * sizeof *gp);
        mn_act_backward(s->act, s->act_param, (size_t)rows * wi, p->w->z[l - 1] + (size_t)r0 * wi, gp);
    }
}

/* Backward pass: grad (P) from G_L, and T_l when keep_t. Needs forward() and output_loss(). */
static void backward(const mn_model *m, mn_work *w, const mn_data *data, const double *th, double *grad, int keep_t)
{
    const mn_spec *s = &m->spec;
    const int n = mn_data_n(data), L = s->depth, d = s->width[0], K = s->width[L];
    const double *x = mn_data_xc(data);
    const pass p = {m, w, x, th, keep_t};
    over_blocks(&p, n, layer_mac(s) - (double)s->width[0] * s->width[1], backward_rows);
    /* The sums over samples, each over all n rows in one fixed order. */
    memset(grad, 0, m->nparams * sizeof *grad);
    for (int l = L; l >= 1; l--) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        const int wo = s->width[l], wi = s->width[l - 1];
        op->grad_w(n, wi, wo, w->g[l], l > 1 ? w->h[l - 1] : x, grad + m->w_off[l]);
        if (s->bias) op->bias_grad(n, wo, w->g[l], grad + m->b_off[l]);
    }
    if (s->skip) mn_layer_dense.grad_w(n, d, K, w->g[L], x, grad + m->s_off);
    mn_elim_backward(m, n, x, th, w->g[L], w->e, grad);
}

/* R-pass: hv (P) = H v. Needs forward(), output_loss() and backward(). */
static void rpass(const mn_model *m, mn_work *w, const mn_data *data, const double *th, const double *v,
                  double *hv)
{
    const mn_spec *s = &m->spec;
    const int n = mn_data_n(data), L = s->depth, d = s->width[0], K = s->width[L];
    const double *x = mn_data_xc(data);
    /* Forward R (layer.h): R{Z_l} = op(H_{l-1}; V_l) + op(R{H_{l-1}}; W_l) + vb_l. */
    for (int l = 1; l <= L; l++) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        const int wo = s->width[l], wi = s->width[l - 1];
        double *rz = w->rz[l];
        op->forward(n, wi, wo, l > 1 ? w->h[l - 1] : x, v + m->w_off[l], 0.0, rz);
        if (l > 1) op->forward(n, wi, wo, w->rh[l - 1], th + m->w_off[l], 1.0, rz);
        if (s->bias) op->bias_add(n, wo, v + m->b_off[l], rz);
        if (l < L) {
            mn_act_rforward(s->act, s->act_param, (size_t)n * wo, w->z[l], rz, w->rh[l]);
        } else {
            memcpy(w->rh[L], rz, (size_t)n * wo * sizeof *rz);
        }
    }
    double *rf = w->rh[L];
    if (s->skip) mn_layer_dense.forward(n, d, K, x, v + m->s_off, 1.0, rf);
    mn_elim_rforward(m, n, x, th, v, w->e, w->ru, rf);
    output_loss(m, w, data, th, 1); /* R{G_L}; recomputes G_L identically */

    /* Backward R. */
    memset(hv, 0, m->nparams * sizeof *hv);
    for (int l = L; l >= 1; l--) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        const int wo = s->width[l], wi = s->width[l - 1];
        double *dv = hv + m->w_off[l];
        op->grad_w(n, wi, wo, w->rg[l], l > 1 ? w->h[l - 1] : x, dv);
        if (l > 1) op->grad_w(n, wi, wo, w->g[l], w->rh[l - 1], dv);
        if (s->bias) op->bias_grad(n, wo, w->rg[l], hv + m->b_off[l]);
        if (l == 1) break;
        /* R{T} = op^T(R{G_l}; W_l) + op^T(G_l; V_l); R{G_{l-1}} = R{T} act' + T act'' R{Z_{l-1}}. */
        double *rt = w->rt;
        op->grad_in(n, wi, wo, w->rg[l], th + m->w_off[l], 0.0, rt);
        op->grad_in(n, wi, wo, w->g[l], v + m->w_off[l], 1.0, rt);
        mn_act_rbackward(s->act, s->act_param, (size_t)n * wi, w->z[l - 1], w->rz[l - 1], rt, w->t[l],
                         w->rg[l - 1]);
    }
    if (s->skip) mn_layer_dense.grad_w(n, d, K, w->rg[L], x, hv + m->s_off);
    mn_elim_rbackward(m, n, x, th, v, w->g[L], w->rg[L], w->e, w->ru, hv);
}

static mn_status check_finite(const double *v, size_t n, const char *what)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(v[i])) return mn_fail(MN_ERANGE, "%s[%zu] is not finite (%g)", what, i, v[i]);
    return MN_OK;
}

static mn_status forward_loss(const mn_model *m, mn_work *w, const mn_data *data, const double *th,
                              double *loss)
{
    mn_status st = forward(m, w, data, th);
    if (st) return st;
    double l = output_loss(m, w, data, th, 0);
    if (!isfinite(l)) return mn_fail(MN_ERANGE, "the loss is not finite (%g)", l);
    if (loss) *loss = l;
    return MN_OK;
}

mn_status mn_eval(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                  double *loss, double *grad)
{
    mn_status st = forward_loss(model, work, data, theta, loss);
    if (st || !grad) return st;
    backward(model, work, data, theta, grad, 0);
    return check_finite(grad, model->nparams, "gradient");
}

static uint64_t data_hash(const mn_data *data)
{
    const size_t n = (size_t)mn_data_n(data);
    uint64_t h = mn_hash_bytes(MN_FNV_OFFSET, mn_data_xc(data), n * (size_t)mn_data_d(data) * sizeof(double));
    return mn_hash_bytes(h, mn_data_yc(data), n * (size_t)mn_data_m(data) * sizeof(double));
}

mn_status mn_hvp(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                 const double *v, double *hv, double *loss, double *grad)
{
    const size_t P = model->nparams;
    if (!loss && !grad && work->ready && work->at_data == data && !memcmp(work->at, theta, P * sizeof *theta) &&
        work->at_hash == data_hash(data)) {
        rpass(model, work, data, theta, v, hv);
        return check_finite(hv, P, "Hessian-vector product");
    }
    mn_status st = forward_loss(model, work, data, theta, loss);
    if (st) return st;
    /* backward() is needed for T_l and G_l even when grad is not wanted. */
    double *g = grad ? grad : malloc(P * sizeof *g);
    if (!g) return mn_fail(MN_ENOMEM, "out of memory in mn_hvp");
    backward(model, work, data, theta, g, 1);
    st = check_finite(g, P, "gradient");
    if (!grad) free(g);
    if (st) return st;
    work->ready = 1, work->at_data = data, work->at_hash = data_hash(data);
    memcpy(work->at, theta, P * sizeof *theta);
    rpass(model, work, data, theta, v, hv);
    return check_finite(hv, P, "Hessian-vector product");
}

mn_status mn_hessian(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                     double *hess)
{
    const size_t P = model->nparams;
    double *e = calloc(2 * P, sizeof *e);
    if (!e) return mn_fail(MN_ENOMEM, "out of memory in mn_hessian");
    double *g = e + P;
    mn_status st = forward_loss(model, work, data, theta, NULL);
    if (!st) {
        backward(model, work, data, theta, g, 1);
        for (size_t i = 0; i < P; i++) {
            e[i] = 1.0;
            rpass(model, work, data, theta, e, hess + i * P);
            e[i] = 0.0;
        }
        /* Column i is exact up to rounding; average with row i so H is symmetric. */
        for (size_t i = 0; i < P; i++)
            for (size_t j = i + 1; j < P; j++) {
                double a = 0.5 * (hess[i * P + j] + hess[j * P + i]);
                hess[i * P + j] = hess[j * P + i] = a;
            }
        st = check_finite(hess, P * P, "Hessian");
    }
    free(e);
    return st;
}

mn_status mn_predict(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                     double *out)
{
    mn_status st = forward(model, work, data, theta);
    if (st) return st;
    const int L = model->spec.depth;
    memcpy(out, work->h[L], (size_t)mn_data_n(data) * model->spec.width[L] * sizeof *out);
    return MN_OK;
}

mn_status mn_preact_margin(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                           double *margin)
{
    *margin = INFINITY;
    if (model->spec.depth < 2) return MN_OK;
    mn_status st = forward(model, work, data, theta);
    if (st) return st;
    const int n = mn_data_n(data);
    for (int l = 1; l < model->spec.depth; l++)
        for (size_t i = 0; i < (size_t)n * model->spec.width[l]; i++)
            if (fabs(work->z[l][i]) < *margin) *margin = fabs(work->z[l][i]);
    return MN_OK;
}

mn_status mn_kink_margin(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                         double *margin)
{
    *margin = INFINITY;
    return mn_act_has_kink(model->spec.act) ? mn_preact_margin(model, work, data, theta, margin) : MN_OK;
}

mn_status mn_accuracy(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                      double *acc)
{
    const mn_spec *s = &model->spec;
    const int n = mn_data_n(data), K = s->width[s->depth], m = mn_data_m(data);
    const double *y = mn_data_yc(data);
    if (s->loss == MN_LOSS_SQUARED) { /* a sign classifier only on labels -1 / +1 */
        int pm1 = K == m;
        for (size_t i = 0; pm1 && i < (size_t)n * (size_t)m; i++) pm1 = y[i] == 1.0 || y[i] == -1.0;
        if (!pm1) return mn_fail(MN_EINVAL, "accuracy is undefined for the squared loss unless every label is -1 or +1");
    }
    mn_status st = forward(model, work, data, theta);
    if (st) return st;
    const double *f = work->h[s->depth];
    int right = 0;
    for (int i = 0; i < n; i++) {
        const double *fi = f + (size_t)i * K, *yi = y + (size_t)i * m;
        int ok = 1;
        if (s->loss == MN_LOSS_SOFTMAX_CE) {
            int best = 0;
            for (int k = 1; k < K; k++) best = fi[k] > fi[best] ? k : best;
            ok = best == mn_loss_class(yi[0]);
        } else {
            for (int k = 0; k < K; k++) ok &= yi[k] * fi[k] > 0;
        }
        right += ok;
    }
    *acc = (double)right / n;
    return MN_OK;
}
