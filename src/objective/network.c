/* The network on data as an objective: L(theta) = mn_eval, exact products
 * and Hessians (mn_hvp, mn_hessian), the free mask of frozen layers, and the
 * network's own facts as optional hooks (kink margin, accuracy, the added
 * neurons' activity, minibatches). */
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

typedef struct {
    const mn_model *model;
    mn_work *work;
    const mn_data *data;
    unsigned char *mask; /* (P) */
    mn_data *batch[2];   /* minibatch copies, kept for their sizes (the full ones, the last) */
} net;

static mn_status net_fdf(void *p, const double *x, double *f, double *g)
{
    net *c = p;
    return mn_eval(c->model, c->work, c->data, x, f, g);
}

static mn_status net_hvp(void *p, const double *x, const double *v, double *hv)
{
    net *c = p;
    return mn_hvp(c->model, c->work, c->data, x, v, hv, NULL, NULL);
}

static mn_status net_hessian(void *p, const double *x, double *h)
{
    net *c = p;
    return mn_hessian(c->model, c->work, c->data, x, h);
}

static mn_status net_kink(void *p, const double *x, double *margin)
{
    net *c = p;
    return mn_kink_margin(c->model, c->work, c->data, x, margin);
}

static mn_status net_accuracy(void *p, const double *x, double *acc)
{
    net *c = p;
    return mn_accuracy(c->model, c->work, c->data, x, acc);
}

/* The added neurons' largest output over the samples. */
static mn_status net_activity(void *p, const double *x, double *act)
{
    net *c = p;
    return mn_elim_activity(act, c->model, c->data, x);
}

/* The samples rows[] copied, in order, into a data set of nrows samples. */
static mn_status net_fdf_rows(void *p, const int *rows, int nrows, const double *x, double *f, double *g)
{
    net *c = p;
    const int d = mn_data_d(c->data), m = mn_data_m(c->data);
    int slot = 0;
    while (slot < 2 && c->batch[slot] && mn_data_n(c->batch[slot]) != nrows) slot++;
    if (slot == 2) { /* a third size: replace the second */
        mn_data_free(c->batch[1]);
        c->batch[1] = NULL, slot = 1;
    }
    if (!c->batch[slot]) {
        mn_status st = mn_data_alloc(&c->batch[slot], nrows, d, m);
        if (st) return st;
    }
    mn_data *bd = c->batch[slot];
    const double *xs = mn_data_xc(c->data), *ys = mn_data_yc(c->data);
    double *bx = mn_data_x(bd), *by = mn_data_y(bd);
    for (int k = 0; k < nrows; k++) {
        const int i = rows[k];
        memcpy(bx + (size_t)k * d, xs + (size_t)i * d, (size_t)d * sizeof *xs);
        memcpy(by + (size_t)k * m, ys + (size_t)i * m, (size_t)m * sizeof *ys);
    }
    return mn_eval(c->model, c->work, bd, x, f, g);
}

static void net_destroy(void *p)
{
    net *c = p;
    if (!c) return;
    mn_data_free(c->batch[0]);
    mn_data_free(c->batch[1]);
    free(c->mask);
    free(c);
}

mn_status mn_net_objective_alloc(mn_objective **out, const mn_model *model, mn_work *work, const mn_data *data)
{
    *out = NULL;
    const size_t P = mn_model_nparams(model);
    mn_objective *f = calloc(1, sizeof *f);
    net *c = f ? calloc(1, sizeof *c) : NULL;
    unsigned char *mask = c ? malloc(P) : NULL;
    if (!mask) {
        free(f), free(c);
        return mn_fail(MN_ENOMEM, "out of memory for a network objective");
    }
    *c = (net){.model = model, .work = work, .data = data, .mask = mask};
    mn_model_free_mask(model, mask);
    const mn_spec *s = mn_model_spec(model);
    *f = (mn_objective){
        .n = P,
        .params = c,
        .fdf = net_fdf,
        .hvp = net_hvp,
        .hessian = net_hessian,
        .kink = net_kink,
        .mask = mask,
        .nonnegative = 1, /* every loss and the added neurons' penalty are >= 0 */
        .nsamples = mn_data_n(data),
        .fdf_rows = net_fdf_rows,
        .accuracy = s->loss == MN_LOSS_SQUARED ? NULL : net_accuracy,
        .activity = mn_model_nelim(model) > 0 ? net_activity : NULL,
        .destroy = net_destroy,
    };
    *out = f;
    return MN_OK;
}
