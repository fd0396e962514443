/* The empirical loss of a one-hidden-layer network in ball arithmetic, over
 * the box theta +- r (docs/prove.md, "Networks on data").
 *
 * Network d-h-K, dense, hidden activation s, linear output:
 *   z_j = sum_l W1_jl x_l + b1_j,  f_k = sum_j W2_kj s(z_j) + b2_k,
 *   L = (1/N) sum_i loss(f(x_i), y_i).
 * With x_d = 1 standing for the bias (index l = d), per sample:
 *   df_k/dW1_jl = W2_kj s'(z_j) x_l,  df_k/dW2_kj = s(z_j),  df_k/db2_k = 1;
 *   d2f_k/dW1_jl dW1_jl' = W2_kj s''(z_j) x_l x_l',
 *   d2f_k/dW1_jl dW2_kj  = s'(z_j) x_l, every other pair 0;
 *   grad = J^T g,  Hess = J^T Hl J + sum_k g_k d2f_k,
 * g = dloss/df (K), Hl = d2loss/df2 (K x K), J = df/dtheta (K x P). The
 * eliminating neurons add a_j exp(w_j.x + b_j) to output 0 (liang) or j
 * (per-output), and (lambda / 2) a_j^2 to L, not averaged. Every
 * quantity is a ball containing its value for every parameter in the box. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "loss/loss.h"
#include "prove/internal.h"

#define PREC MN_PROVE_PREC

mn_status mn_prove_network_supported(const mn_model *model)
{
    const mn_spec *s = mn_model_spec(model);
    if (s->depth != 2 || s->layer[1] != MN_LAYER_DENSE || s->layer[2] != MN_LAYER_DENSE)
        return mn_fail(MN_EINVAL, "networks with one hidden dense layer only (d-h-K), not depth %d", s->depth);
    if (s->act == MN_ACT_RELU || s->act == MN_ACT_LEAKY_RELU)
        return mn_fail(MN_EINVAL, "%s is not twice differentiable at 0 (the proof needs C^2): use tanh, "
                                  "sigmoid, softplus, quadratic or linear",
                       mn_act_name(s->act));
    if (s->loss == MN_LOSS_SQUARED_HINGE || (s->loss == MN_LOSS_POLY_HINGE && !(s->loss_p > 2)))
        return mn_fail(MN_EINVAL, "the squared hinge max(1 - y f, 0)^2 is not twice differentiable at margin 1 "
                                  "(the proof needs C^2): use poly_hinge with p > 2, squared, logistic or softmax_ce");
    if (s->skip) return mn_fail(MN_EINVAL, "the skip connection is not implemented in the proof");
    if (s->frozen) return mn_fail(MN_EINVAL, "frozen layers are not implemented in the proof");
    return MN_OK;
}

void pv_net_init(pv_net *nb, const mn_model *model, const mn_data *data)
{
    const mn_spec *s = mn_model_spec(model);
    nb->model = model, nb->data = data;
    nb->d = s->width[0], nb->h = s->width[1], nb->K = s->width[2];
    nb->P = (int)mn_model_nparams(model);
    nb->th = _arb_vec_init(nb->P);
}

void pv_net_clear(pv_net *nb) { _arb_vec_clear(nb->th, nb->P); }

int pv_net_set(void *ctx, const double *c, double r, int *zero, char *why, size_t len)
{
    pv_net *nb = ctx;
    *zero = 0;
    if (len) why[0] = 0;
    for (int a = 0; a < nb->P; a++) {
        arb_set_d(nb->th + a, c[a]);
        mag_set_d(arb_radref(nb->th + a), r); /* rounded up */
    }
    return 0;
}

void pv_net_point(pv_net *nb, const double *theta)
{
    int zero;
    char why[8];
    pv_net_set(nb, theta, 0, &zero, why, sizeof why);
}

/* s, s', s'' of the activation at the ball z */
static void act3(arb_t s, arb_t s1, arb_t s2, const arb_t z, mn_act a, double prm)
{
    arb_t t, u;
    arb_init(t), arb_init(u);
    switch (a) {
    case MN_ACT_TANH:
        arb_tanh(s, z, PREC);
        arb_sqr(t, s, PREC);
        arb_one(s1);
        arb_sub(s1, s1, t, PREC); /* 1 - tanh^2 */
        arb_mul(s2, s, s1, PREC);
        arb_mul_si(s2, s2, -2, PREC);
        break;
    case MN_ACT_SIGMOID:
    case MN_ACT_SOFTPLUS: {
        /* sigmoid(b z) = 1 / (1 + exp(-b z)), b = 1 for the sigmoid */
        const double b = a == MN_ACT_SOFTPLUS ? prm : 1.0;
        arb_set_d(u, b);
        arb_mul(t, z, u, PREC); /* b z */
        arb_neg(s1, t);
        arb_exp(s1, s1, PREC);
        arb_add_ui(s1, s1, 1, PREC);
        arb_inv(s1, s1, PREC); /* sg */
        arb_one(s2);
        arb_sub(s2, s2, s1, PREC);
        arb_mul(s2, s2, s1, PREC); /* sg (1 - sg) */
        if (a == MN_ACT_SIGMOID) {
            arb_set(s, s1);
            arb_set(s1, s2);
            arb_mul_2exp_si(t, s, 1);
            arb_sub_ui(t, t, 1, PREC);
            arb_neg(t, t);
            arb_mul(s2, s2, t, PREC); /* sg (1 - sg) (1 - 2 sg) */
        } else {
            arb_exp(s, t, PREC);
            arb_log1p(s, s, PREC);
            arb_div(s, s, u, PREC); /* log(1 + exp(b z)) / b */
            arb_mul(s2, s2, u, PREC);
        }
        break;
    }
    case MN_ACT_QUADRATIC:
        arb_sqr(s, z, PREC);
        arb_mul_2exp_si(s1, z, 1);
        arb_set_ui(s2, 2);
        break;
    default: /* linear */
        arb_set(s, z);
        arb_one(s1);
        arb_zero(s2);
        break;
    }
    arb_clear(t), arb_clear(u);
}

/* loss, g (K), Hl (K x K) at the outputs f of one sample */
/* phi(z), phi'(z), phi''(z) of a margin loss (src/loss/loss.c): logistic
 * log(1 + e^z); poly hinge max(1 + z, 0)^p, p > 2 (C^2 across the kink:
 * over a ball that straddles it, each is in [0, its value at the top]). */
static void margin3(arb_t phi, arb_t d1, arb_t d2, const arb_t z, mn_loss kind, double p)
{
    arb_t t, e;
    arb_init(t), arb_init(e);
    if (kind == MN_LOSS_LOGISTIC) {
        arb_neg(t, z);
        arb_exp(t, t, PREC);
        arb_add_ui(t, t, 1, PREC);
        arb_inv(d1, t, PREC); /* sigmoid(z) */
        arb_sub_ui(t, d1, 1, PREC);
        arb_neg(t, t);
        arb_mul(d2, d1, t, PREC);
        arb_exp(phi, z, PREC);
        arb_log1p(phi, phi, PREC);
    } else {
        arb_add_ui(t, z, 1, PREC);
        if (arb_is_nonpositive(t)) arb_zero(phi), arb_zero(d1), arb_zero(d2);
        else {
            const int straddles = !arb_is_positive(t);
            if (straddles) { /* its top: the three are increasing in t >= 0 */
                arf_t hi;
                arf_init(hi);
                arb_get_ubound_arf(hi, t, PREC);
                arb_set_arf(t, hi);
                arf_clear(hi);
            }
            arb_set_d(e, p - 2);
            arb_pow(d2, t, e, PREC); /* t^(p-2) */
            arb_mul(d1, d2, t, PREC);
            arb_mul(phi, d1, t, PREC);
            arb_set_d(e, p);
            arb_mul(d1, d1, e, PREC);
            arb_mul(d2, d2, e, PREC);
            arb_set_d(e, p - 1);
            arb_mul(d2, d2, e, PREC);
            if (straddles) {
                arb_zero(e);
                arb_union(phi, phi, e, PREC), arb_union(d1, d1, e, PREC), arb_union(d2, d2, e, PREC);
            }
        }
    }
    arb_clear(t), arb_clear(e);
}

static void loss3(arb_t l, arb_ptr g, arb_mat_t Hl, arb_srcptr f, const double *y, mn_loss kind, double p, int K)
{
    arb_t t, u;
    arb_init(t), arb_init(u);
    arb_zero(l);
    arb_mat_zero(Hl);
    if (kind == MN_LOSS_SQUARED) {
        for (int k = 0; k < K; k++) {
            arb_set_d(t, y[k]);
            arb_sub(g + k, f + k, t, PREC);
            arb_sqr(t, g + k, PREC);
            arb_mul_2exp_si(t, t, -1);
            arb_add(l, l, t, PREC);
            arb_one(arb_mat_entry(Hl, k, k));
        }
    } else if (kind == MN_LOSS_LOGISTIC || kind == MN_LOSS_POLY_HINGE) {
        /* z = -y f: loss phi(z), g = -y phi'(z), Hl = y^2 phi''(z) */
        for (int k = 0; k < K; k++) {
            arb_set_d(u, y[k]);
            arb_mul(t, u, f + k, PREC);
            arb_neg(t, t);
            margin3(t, g + k, arb_mat_entry(Hl, k, k), t, kind, p);
            arb_add(l, l, t, PREC);
            arb_mul(g + k, g + k, u, PREC);
            arb_neg(g + k, g + k);
            arb_sqr(u, u, PREC);
            arb_mul(arb_mat_entry(Hl, k, k), arb_mat_entry(Hl, k, k), u, PREC);
        }
    } else { /* softmax CE: lse(f) - f_c, g = p - e_c, Hl = diag(p) - p p^T */
        const int c = mn_loss_class(y[0]);
        arb_zero(t);
        for (int k = 0; k < K; k++) {
            arb_exp(u, f + k, PREC);
            arb_add(t, t, u, PREC);
        }
        arb_log(l, t, PREC);
        arb_sub(l, l, f + c, PREC);
        for (int k = 0; k < K; k++) {
            arb_sub(u, f + k, l, PREC);
            arb_sub(u, u, f + c, PREC); /* f_k - lse */
            arb_exp(g + k, u, PREC);    /* p_k */
        }
        for (int k = 0; k < K; k++) {
            for (int q = 0; q < K; q++) {
                arb_mul(u, g + k, g + q, PREC);
                arb_neg(arb_mat_entry(Hl, k, q), u);
            }
            arb_add(arb_mat_entry(Hl, k, k), arb_mat_entry(Hl, k, k), g + k, PREC);
        }
        arb_sub_ui(g + c, g + c, 1, PREC);
    }
    arb_clear(t), arb_clear(u);
}

void pv_net_eval(void *ctx, arb_t F, arb_ptr G, arb_mat_t H)
{
    pv_net *nb = ctx;
    const mn_spec *s = mn_model_spec(nb->model);
    const int d = nb->d, h = nb->h, K = nb->K, P = nb->P, N = mn_data_n(nb->data), m = mn_data_m(nb->data);
    const size_t w1 = mn_model_w_offset(nb->model, 1), b1 = mn_model_b_offset(nb->model, 1);
    const size_t w2 = mn_model_w_offset(nb->model, 2), b2 = mn_model_b_offset(nb->model, 2);
    const int bias = b1 != SIZE_MAX;
    const double *X = mn_data_xc(nb->data), *Y = mn_data_yc(nb->data);
    arb_srcptr th = nb->th;
    arb_ptr z = _arb_vec_init(h), sv = _arb_vec_init(h), s1 = _arb_vec_init(h), s2 = _arb_vec_init(h);
    arb_ptr f = _arb_vec_init(K), g = _arb_vec_init(K), gw = _arb_vec_init(h);
    arb_mat_t J, JT, T, Hl, Hs;
    arb_mat_init(J, K, P), arb_mat_init(JT, P, K), arb_mat_init(T, K, P), arb_mat_init(Hl, K, K);
    arb_mat_init(Hs, H ? P : 1, H ? P : 1);
    const int E = mn_model_nelim(nb->model);
    arb_ptr ee = _arb_vec_init(E > 0 ? E : 1); /* exp(w.x + b) of each added neuron */
    arb_t l, t, x, lam;
    arb_init(l), arb_init(t), arb_init(x), arb_init(lam);
    if (F) arb_zero(F);
    if (G) _arb_vec_zero(G, P);
    if (H) arb_mat_zero(H);
    for (int i = 0; i < N; i++) {
        const double *xi = X + (size_t)i * d;
        for (int j = 0; j < h; j++) {
            if (bias) arb_set(z + j, th + b1 + j);
            else arb_zero(z + j);
            for (int q = 0; q < d; q++) {
                arb_set_d(x, xi[q]);
                arb_addmul(z + j, th + w1 + (size_t)j * d + q, x, PREC);
            }
            act3(sv + j, s1 + j, s2 + j, z + j, s->act, s->act_param);
        }
        for (int k = 0; k < K; k++) {
            if (bias) arb_set(f + k, th + b2 + k);
            else arb_zero(f + k);
            for (int j = 0; j < h; j++) arb_addmul(f + k, th + w2 + (size_t)k * h + j, sv + j, PREC);
        }
        for (int j = 0; j < E; j++) { /* f_out(j) += a exp(w.x + b) */
            const size_t o = mn_model_elim_offset(nb->model, j);
            arb_set(ee + j, th + o + d + 1);
            for (int q = 0; q < d; q++) {
                arb_set_d(x, xi[q]);
                arb_addmul(ee + j, th + o + 1 + q, x, PREC);
            }
            arb_exp(ee + j, ee + j, PREC);
            arb_addmul(f + (s->elim == MN_ELIM_LIANG ? 0 : j), th + o, ee + j, PREC);
        }
        loss3(l, g, Hl, f, Y + (size_t)i * m, s->loss, s->loss_p, K);
        if (F) arb_add(F, F, l, PREC);
        if (!G && !H) continue;
        arb_mat_zero(J);
        for (int k = 0; k < K; k++) {
            for (int j = 0; j < h; j++) {
                arb_mul(t, th + w2 + (size_t)k * h + j, s1 + j, PREC); /* W2_kj s'(z_j) */
                for (int q = 0; q < d; q++) {
                    arb_set_d(x, xi[q]);
                    arb_mul(arb_mat_entry(J, k, w1 + (size_t)j * d + q), t, x, PREC);
                }
                if (bias) arb_set(arb_mat_entry(J, k, b1 + j), t);
                arb_set(arb_mat_entry(J, k, w2 + (size_t)k * h + j), sv + j);
            }
            if (bias) arb_one(arb_mat_entry(J, k, b2 + k));
        }
        for (int j = 0; j < E; j++) { /* d/da = e, d/dw_q = a e x_q, d/db = a e */
            const size_t o = mn_model_elim_offset(nb->model, j);
            const int k = s->elim == MN_ELIM_LIANG ? 0 : j;
            arb_set(arb_mat_entry(J, k, o), ee + j);
            arb_mul(t, th + o, ee + j, PREC);
            for (int q = 0; q < d; q++) {
                arb_set_d(x, xi[q]);
                arb_mul(arb_mat_entry(J, k, o + 1 + q), t, x, PREC);
            }
            arb_set(arb_mat_entry(J, k, o + d + 1), t);
        }
        if (G)
            for (int a = 0; a < P; a++)
                for (int k = 0; k < K; k++) arb_addmul(G + a, arb_mat_entry(J, k, a), g + k, PREC);
        if (!H) continue;
        arb_mat_mul(T, Hl, J, PREC);
        arb_mat_transpose(JT, J);
        arb_mat_mul(Hs, JT, T, PREC);
        arb_mat_add(H, H, Hs, PREC);
        /* sum_k g_k d2f_k */
        for (int j = 0; j < h; j++) {
            arb_zero(gw + j);
            for (int k = 0; k < K; k++) arb_addmul(gw + j, g + k, th + w2 + (size_t)k * h + j, PREC);
            arb_mul(gw + j, gw + j, s2 + j, PREC); /* (sum_k g_k W2_kj) s''(z_j) */
            for (int q = 0; q <= d - !bias; q++) {
                const size_t a = q < d ? w1 + (size_t)j * d + q : b1 + j;
                const double xq = q < d ? xi[q] : 1.0;
                for (int q2 = 0; q2 <= d - !bias; q2++) {
                    const size_t b = q2 < d ? w1 + (size_t)j * d + q2 : b1 + j;
                    arb_set_d(x, xq);
                    arb_set_d(t, q2 < d ? xi[q2] : 1.0);
                    arb_mul(x, x, t, PREC); /* x_l x_l', exact in 128 bits */
                    arb_addmul(arb_mat_entry(H, a, b), gw + j, x, PREC);
                }
                for (int k = 0; k < K; k++) {
                    const size_t b = w2 + (size_t)k * h + j;
                    arb_set_d(x, xq);
                    arb_mul(t, g + k, s1 + j, PREC);
                    arb_mul(t, t, x, PREC);
                    arb_add(arb_mat_entry(H, a, b), arb_mat_entry(H, a, b), t, PREC);
                    arb_add(arb_mat_entry(H, b, a), arb_mat_entry(H, b, a), t, PREC);
                }
            }
        }
        /* sum_k g_k d2f_k of the added neurons, with (w, b) as v_q and
         * x~ = (x, 1): (a, v_q) e x~_q, (v_q, v_q') a e x~_q x~_q' */
        for (int j = 0; j < E; j++) {
            const size_t o = mn_model_elim_offset(nb->model, j);
            arb_mul(t, g + (s->elim == MN_ELIM_LIANG ? 0 : j), ee + j, PREC); /* g e */
            for (int q = 0; q <= d; q++) {
                const double xq = q < d ? xi[q] : 1.0;
                arb_set_d(x, xq);
                arb_mul(x, x, t, PREC); /* g e x~_q */
                arb_add(arb_mat_entry(H, o, o + 1 + q), arb_mat_entry(H, o, o + 1 + q), x, PREC);
                arb_add(arb_mat_entry(H, o + 1 + q, o), arb_mat_entry(H, o + 1 + q, o), x, PREC);
                arb_mul(x, x, th + o, PREC); /* g a e x~_q */
                for (int q2 = 0; q2 <= d; q2++) {
                    arb_set_d(l, q2 < d ? xi[q2] : 1.0);
                    arb_addmul(arb_mat_entry(H, o + 1 + q, o + 1 + q2), x, l, PREC);
                }
            }
        }
    }
    /* the mean over samples; the true Hessian is symmetric: one ball for both */
    arb_set_ui(t, (unsigned long)N);
    if (F) arb_div(F, F, t, PREC);
    if (G) _arb_vec_scalar_div(G, G, P, t, PREC);
    arb_set_d(lam, s->lambda);
    for (int j = 0; j < E; j++) { /* + (lambda / 2) a^2 */
        const size_t o = mn_model_elim_offset(nb->model, j);
        arb_mul(x, lam, th + o, PREC);
        if (G) arb_add(G + o, G + o, x, PREC);
        arb_mul(x, x, th + o, PREC);
        arb_mul_2exp_si(x, x, -1);
        if (F) arb_add(F, F, x, PREC);
    }
    if (H) {
        arb_mat_scalar_div_arb(H, H, t, PREC);
        for (int j = 0; j < E; j++) { /* the penalty's lambda on each a */
            const size_t o = mn_model_elim_offset(nb->model, j);
            arb_add(arb_mat_entry(H, o, o), arb_mat_entry(H, o, o), lam, PREC);
        }
        for (int a = 0; a < P; a++)
            for (int b = a + 1; b < P; b++) arb_set(arb_mat_entry(H, b, a), arb_mat_entry(H, a, b));
    }
    arb_clear(l), arb_clear(t), arb_clear(x), arb_clear(lam);
    _arb_vec_clear(ee, E > 0 ? E : 1);
    arb_mat_clear(J), arb_mat_clear(JT), arb_mat_clear(T), arb_mat_clear(Hl), arb_mat_clear(Hs);
    _arb_vec_clear(z, h), _arb_vec_clear(sv, h), _arb_vec_clear(s1, h), _arb_vec_clear(s2, h);
    _arb_vec_clear(f, K), _arb_vec_clear(g, K), _arb_vec_clear(gw, h);
}
