/* Model layout: validation, parameter offsets, initialisation, data checks. */
#include "internal.h"
#include "layer.h"

#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "loss/loss.h"

/* Parameters are counted in size_t but kept below 2^31 so BLAS int sizes hold. */
#define MN_MAX_PARAMS ((size_t)1 << 31)

static mn_status validate(const mn_spec *s)
{
    if (s->depth < 1 || s->depth > MN_MAX_DEPTH)
        return mn_fail(MN_EINVAL, "depth %d must be between 1 and %d", s->depth, MN_MAX_DEPTH);
    for (int l = 0; l <= s->depth; l++)
        if (s->width[l] < 1 || s->width[l] > MN_MAX_WIDTH)
            return mn_fail(MN_EINVAL, "width %d of layer %d must be between 1 and %d", s->width[l], l,
                           MN_MAX_WIDTH);
    int square = 0;
    for (int l = 1; l <= s->depth; l++) {
        if ((int)s->layer[l] < 0 || s->layer[l] > MN_LAYER_CONV1D)
            return mn_fail(MN_EINVAL, "layer %d: unknown layer kind", l);
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        if (!op->shape_ok(s->width[l - 1], s->width[l]))
            return mn_fail(MN_EINVAL, "layer %d: a %s layer cannot map %d units to %d", l, op->name,
                           s->width[l - 1], s->width[l]);
        square |= op->square(s->width[l - 1], s->width[l]);
    }
    if (s->init != MN_INIT_RANDOM && s->init != MN_INIT_IDENTITY)
        return mn_fail(MN_EINVAL, "unknown initialisation");
    if (s->init == MN_INIT_IDENTITY && !square)
        return mn_fail(MN_EINVAL,
                       "--init identity needs a square layer (dense W -> W, or conv1d); the network has none");
    if ((int)s->act < 0 || s->act > MN_ACT_LINEAR) return mn_fail(MN_EINVAL, "unknown activation");
    if ((int)s->loss < 0 || s->loss > MN_LOSS_SQUARED_HINGE) return mn_fail(MN_EINVAL, "unknown loss");
    if (!isfinite(s->act_param)) return mn_fail(MN_EINVAL, "activation parameter must be finite");
    if (s->act == MN_ACT_SOFTPLUS && !(s->act_param > 0))
        return mn_fail(MN_EINVAL, "softplus sharpness %g must be positive", s->act_param);
    if (s->loss == MN_LOSS_POLY_HINGE && !(s->loss_p >= 2 && s->loss_p <= 64))
        return mn_fail(MN_EINVAL, "polynomial hinge exponent p = %g must be in [2, 64]", s->loss_p);
    int K = s->width[s->depth];
    if (s->loss == MN_LOSS_SOFTMAX_CE && K < 2)
        return mn_fail(MN_EINVAL, "softmax_ce needs at least 2 outputs, the architecture has %d", K);
    if (!(isfinite(s->lambda) && s->lambda >= 0))
        return mn_fail(MN_EINVAL, "lambda %g must be finite and >= 0", s->lambda);
    switch (s->elim) {
    case MN_ELIM_NONE:
    case MN_ELIM_PER_OUTPUT:
        break;
    case MN_ELIM_LIANG:
        if (K != 1)
            return mn_fail(MN_EINVAL,
                           "--eliminate liang needs a single output, the architecture has %d "
                           "(use per-output)",
                           K);
        break;
    case MN_ELIM_PER_LAYER:
        return mn_fail(MN_EINVAL, "--eliminate per-layer is not implemented (see README: the "
                                  "construction could not be verified)");
    default:
        return mn_fail(MN_EINVAL, "unknown eliminator");
    }
    if (s->depth < 64 && (s->frozen >> s->depth) != 0)
        return mn_fail(MN_EINVAL, "frozen layer beyond the network's %d layers", s->depth);
    return MN_OK;
}

mn_status mn_model_alloc(mn_model **out, const mn_spec *spec)
{
    *out = NULL;
    mn_status st = validate(spec);
    if (st) return st;
    mn_model *m = calloc(1, sizeof *m);
    if (!m) return mn_fail(MN_ENOMEM, "out of memory allocating a model");
    m->spec = *spec;
    const int L = spec->depth, d = spec->width[0], K = spec->width[L];
    size_t off = 0;
    m->maxw = 0;
    for (int l = 0; l <= L; l++) m->maxw = spec->width[l] > m->maxw ? spec->width[l] : m->maxw;
    for (int l = 1; l <= L; l++) {
        const mn_layer_op *op = mn_layer_op_of(spec->layer[l]);
        m->w_off[l] = off;
        off += op->nweights(spec->width[l - 1], spec->width[l]);
        m->b_off[l] = spec->bias ? off : SIZE_MAX;
        if (spec->bias) off += (size_t)op->nbias(spec->width[l]);
        if (off >= MN_MAX_PARAMS) break;
    }
    m->s_off = spec->skip ? off : SIZE_MAX;
    if (spec->skip) off += (size_t)K * (size_t)d;
    m->nelim = spec->elim == MN_ELIM_LIANG ? 1 : spec->elim == MN_ELIM_PER_OUTPUT ? K : 0;
    m->e_off = off;
    off += (size_t)m->nelim * (size_t)(d + 2);
    if (off >= MN_MAX_PARAMS) {
        free(m);
        return mn_fail(MN_EINVAL, "the model has more than 2^31 parameters");
    }
    m->nparams = off;
    *out = m;
    return MN_OK;
}

void mn_model_free(mn_model *model) { free(model); }
const mn_spec *mn_model_spec(const mn_model *model) { return &model->spec; }
size_t mn_model_nparams(const mn_model *model) { return model->nparams; }
int mn_model_nelim(const mn_model *model) { return model->nelim; }
size_t mn_model_w_offset(const mn_model *model, int l) { return model->w_off[l]; }
size_t mn_model_b_offset(const mn_model *model, int l) { return model->b_off[l]; }

size_t mn_model_elim_offset(const mn_model *model, int j)
{
    return model->e_off + (size_t)j * (size_t)(model->spec.width[0] + 2);
}

static size_t layer_size(const mn_model *m, int l)
{
    const mn_spec *s = &m->spec;
    const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
    return op->nweights(s->width[l - 1], s->width[l]) + (s->bias ? (size_t)op->nbias(s->width[l]) : 0);
}

void mn_model_free_mask(const mn_model *model, unsigned char *mask)
{
    memset(mask, 1, model->nparams);
    for (int l = 1; l <= model->spec.depth; l++)
        if (model->spec.frozen >> (l - 1) & 1) memset(mask + model->w_off[l], 0, layer_size(model, l));
}

void mn_model_init(const mn_model *model, double *theta, uint64_t seed, double frozen_value)
{
    const mn_spec *s = &model->spec;
    mn_rng r;
    mn_rng_seed(&r, seed);
    memset(theta, 0, model->nparams * sizeof *theta);
    for (int l = 1; l <= s->depth; l++) {
        const mn_layer_op *op = mn_layer_op_of(s->layer[l]);
        size_t nw = op->nweights(s->width[l - 1], s->width[l]);
        double sd = 1.0 / sqrt((double)s->width[l - 1]);
        int frozen = s->frozen >> (l - 1) & 1;
        for (size_t i = 0; i < nw; i++)
            theta[model->w_off[l] + i] = frozen ? frozen_value : sd * mn_rng_normal(&r);
        if (s->init == MN_INIT_IDENTITY && !frozen && op->square(s->width[l - 1], s->width[l]))
            op->identity(s->width[l - 1], s->width[l], theta + model->w_off[l]);
    }
}

mn_status mn_model_check_data(const mn_model *model, const mn_data *data)
{
    const mn_spec *s = &model->spec;
    const int K = s->width[s->depth], n = mn_data_n(data), m = mn_data_m(data);
    if (mn_data_d(data) != s->width[0])
        return mn_fail(MN_EINVAL, "the data has %d features but the architecture's input width is %d",
                       mn_data_d(data), s->width[0]);
    const double *y = mn_data_yc(data);
    if (s->loss == MN_LOSS_SOFTMAX_CE) {
        if (m != 1)
            return mn_fail(MN_EINVAL, "softmax_ce takes one label column of class indices, the data has %d",
                           m);
        for (int i = 0; i < n; i++) {
            double c = y[i];
            int ok = c == floor(c) && c >= 0 && c < K;
            if (!ok && K == 2 && c == -1) ok = 1; /* -1/+1 labels name classes 0/1 */
            if (!ok)
                return mn_fail(MN_EINVAL, "sample %d: label %g is not a class index in 0..%d", i + 1, c,
                               K - 1);
        }
        return MN_OK;
    }
    if (m != K)
        return mn_fail(MN_EINVAL, "the data has %d label column(s) but the network has %d output(s)", m, K);
    if (mn_loss_is_margin(s->loss))
        for (int i = 0; i < n * m; i++)
            if (y[i] != 1.0 && y[i] != -1.0)
                return mn_fail(MN_EINVAL, "sample %d: label %g; the %s loss takes labels -1 and +1",
                               i / m + 1, y[i], mn_loss_name(s->loss));
    return MN_OK;
}
