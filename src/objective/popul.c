/* The Safran-Shamir population loss as an objective: the closed-form value,
 * gradient and Hessian of src/popul, and the distance scale to the set where
 * F is not smooth (a zero unit; two units, or a unit and a teacher unit,
 * parallel or antiparallel) as its "differentiable here?" check. */
#include <stdlib.h>
#include <string.h>

#include "popul/internal.h"

static mn_status popul_fdf(void *p, const double *x, double *f, double *g) { return mn_popul_eval(p, x, f, g); }

static mn_status popul_hessian(void *p, const double *x, double *h) { return mn_popul_hessian(p, x, h); }

static mn_status popul_kink(void *p, const double *x, double *margin)
{
    *margin = mn_popul_smooth_radius(&((mn_popul_work *)p)->spec, x);
    return MN_OK;
}

/* The padded layout (n x kp): value and gradient with no copies; the
 * Hessian through the plain one (zero rows and columns on the padding). */
static mn_status padded_fdf(void *p, const double *x, double *f, double *g) { return mn_popul_eval_padded(p, x, f, g); }

static mn_status padded_hessian(void *p, const double *x, double *h)
{
    mn_popul_work *w = p;
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    const size_t P = w->P, Pp = (size_t)n * kp;
    double *W = malloc(P * sizeof *W), *H = malloc(P * P * sizeof *H);
    mn_status st = W && H ? MN_OK : mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", P, P);
    if (!st) {
        for (size_t r = 0; r < P; r++) W[r] = x[(r / k) * kp + r % k];
        st = mn_popul_hessian(w, W, H);
    }
    if (!st) {
        memset(h, 0, Pp * Pp * sizeof *h);
        for (size_t r = 0; r < P; r++)
            for (size_t c = 0; c < P; c++) h[((r / k) * kp + r % k) * Pp + (c / k) * kp + c % k] = H[r * P + c];
    }
    free(W), free(H);
    return st;
}

void mn_popul_objective_view_padded(mn_objective *f, mn_popul_work *w, unsigned char *mask)
{
    const int n = w->spec.n, k = w->spec.k, kp = w->kp;
    for (int i = 0; i < n; i++)
        for (int c = 0; c < kp; c++) mask[(size_t)i * kp + c] = c < k;
    *f = (mn_objective){.n = (size_t)n * kp,
                        .params = w,
                        .fdf = padded_fdf,
                        .hessian = padded_hessian,
                        .mask = kp > k ? mask : NULL,
                        .frozen_zero = 1, /* the kernel's gradient has zero padding */
                        .nonnegative = 1};
}

static void popul_destroy(void *p) { mn_popul_work_free(p); }

void mn_popul_objective_view(mn_objective *f, mn_popul_work *w)
{
    *f = (mn_objective){.n = w->P, .params = w, .fdf = popul_fdf, .hessian = popul_hessian, .kink = popul_kink,
                        .nonnegative = 1}; /* F >= 0, 0 at the teacher */
}

mn_status mn_popul_objective_alloc(mn_objective **out, const mn_popul_spec *spec)
{
    *out = NULL;
    mn_popul_work *w;
    mn_status st = mn_popul_work_alloc(&w, spec);
    if (st) return st;
    mn_objective *f = calloc(1, sizeof *f);
    if (!f) {
        mn_popul_work_free(w);
        return mn_fail(MN_ENOMEM, "out of memory for a population objective");
    }
    mn_popul_objective_view(f, w);
    f->destroy = popul_destroy;
    *out = f;
    return MN_OK;
}
