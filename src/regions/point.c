/* The cell of a point of a d-W-1 ReLU model: its pattern, a hash of it, the
 * distance to its walls, and the cell's least-squares minimum. */
#include "minima.h"
#include "minima/regions.h"

#include <math.h>
#include <stdlib.h>

#include "regions/internal.h"

uint64_t mn_region_key(const unsigned char *A, int n, int d1, const double *v)
{
    uint64_t h = 1469598103934665603ULL; /* FNV-1a, 64 bits */
    for (size_t e = 0; e < (size_t)n * d1; e++) h = (h ^ A[e]) * 1099511628211ULL;
    for (int j = 0; j < d1; j++) h = (h ^ (unsigned char)(v[j] > 0) ^ 0x10) * 1099511628211ULL;
    return h;
}

/* sin of the angle from (W, b) to the nearest wall: see mn_region_point. */
double mn_region_wall_angle(const double *X, int n, int d0, const double *W, const double *b, int d1)
{
    double best = INFINITY;
    for (int j = 0; j < d1; j++) {
        const double *w = W + (size_t)j * d0;
        double wn = b[j] * b[j];
        for (int k = 0; k < d0; k++) wn += w[k] * w[k];
        for (int i = 0; i < n; i++) {
            const double *x = X + (size_t)i * d0;
            double z = b[j], xn = 1.0;
            for (int k = 0; k < d0; k++) z += w[k] * x[k], xn += x[k] * x[k];
            double a = wn > 0 ? fabs(z) / sqrt(wn * xn) : 0.0;
            if (a < best) best = a;
        }
    }
    return best;
}

/* The network's parts, or MN_EINVAL naming what does not fit. */
static mn_status check_model(const mn_model *model, const mn_data *data)
{
    const mn_spec *s = mn_model_spec(model);
    if (s->depth != 2 || s->width[2] != 1)
        return mn_fail(MN_EINVAL, "the network must be d-W-1 (one hidden layer, one output)");
    if (s->act != MN_ACT_RELU) return mn_fail(MN_EINVAL, "the activation must be relu, not %s", mn_act_name(s->act));
    if (s->loss != MN_LOSS_SQUARED)
        return mn_fail(MN_EINVAL, "the loss must be squared, not %s", mn_loss_name(s->loss));
    if (!s->bias || s->skip || s->elim != MN_ELIM_NONE || s->frozen)
        return mn_fail(MN_EINVAL, "the cell analysis needs biases on, no skip, no added neurons, no frozen layer");
    return mn_model_check_data(model, data);
}

mn_status mn_region_at(mn_region_point *out, const mn_model *model, const mn_data *data, const double *theta)
{
    mn_status st = check_model(model, data);
    if (st) return st;
    const mn_spec *s = mn_model_spec(model);
    const int n = mn_data_n(data), d0 = s->width[0], d1 = s->width[1];
    const double *X = mn_data_xc(data), *y = mn_data_yc(data);
    const double *W = theta + mn_model_w_offset(model, 1), *b = theta + mn_model_b_offset(model, 1);
    const double *v = theta + mn_model_w_offset(model, 2);
    unsigned char *A = malloc((size_t)n * d1);
    mn_work *work = NULL;
    if (!A) return mn_fail(MN_ENOMEM, "out of memory");
    mn_region_pattern(A, X, n, d0, W, b, d1);
    *out = (mn_region_point){.n = n, .d0 = d0, .d1 = d1};
    for (int j = 0; j < d1; j++) {
        int on = 0;
        for (int i = 0; i < n && !on; i++) on = A[(size_t)i * d1 + j];
        out->active_units += on;
    }
    out->wall_angle = mn_region_wall_angle(X, n, d0, W, b, d1);
    st = mn_work_alloc(&work, model, n);
    if (!st) st = mn_eval(model, work, data, theta, &out->point_loss, NULL);
    if (!st) st = mn_region_genuine(&out->cell, A, X, n, d0, v, d1, 1, y);
    mn_work_free(work);
    free(A);
    return st;
}
