/* The Safran-Shamir population loss as an objective: the closed-form value,
 * gradient and Hessian of src/popul, and the distance scale to the set where
 * F is not smooth (a zero unit; two units, or a unit and a teacher unit,
 * parallel or antiparallel) as its "differentiable here?" check. */
#include <stdlib.h>

#include "popul/internal.h"

static mn_status popul_fdf(void *p, const double *x, double *f, double *g) { return mn_popul_eval(p, x, f, g); }

static mn_status popul_hessian(void *p, const double *x, double *h) { return mn_popul_hessian(p, x, h); }

static mn_status popul_kink(void *p, const double *x, double *margin)
{
    *margin = mn_popul_smooth_radius(&((mn_popul_work *)p)->spec, x);
    return MN_OK;
}

static void popul_destroy(void *p) { mn_popul_work_free(p); }

void mn_popul_objective_view(mn_objective *f, mn_popul_work *w)
{
    *f = (mn_objective){.n = w->P, .params = w, .fdf = popul_fdf, .hessian = popul_hessian, .kink = popul_kink};
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
