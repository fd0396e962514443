/* Loss slices along directions: the points of a line or plane (mn_plane),
 * the objective on a grid of them, and the random and filter-normalised
 * directions of Li, Xu, Taylor, Studer, Goldstein (NeurIPS 2018). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/lanczos.h"
#include "minima/instruments.h"
#include "model/internal.h"

static const char *const dir_names[MN_NDIR] = {"random", "filter", "eig", "toward"};

const char *mn_dir_name(mn_dir_kind k) { return (unsigned)k < MN_NDIR ? dir_names[k] : "?"; }

mn_status mn_dir_parse(mn_dir_kind *out, const char *name)
{
    for (int i = 0; i < MN_NDIR; i++)
        if (!strcmp(name, dir_names[i])) {
            *out = (mn_dir_kind)i;
            return MN_OK;
        }
    return mn_fail(MN_EINVAL, "unknown direction kind '%s' (random|filter|eig|toward)", name);
}

void mn_plane_point(double *theta, const mn_plane *p, double a, double b)
{
    for (size_t i = 0; i < p->n; i++) {
        double t = p->end ? (1.0 - a) * p->origin[i] + a * p->end[i] : p->origin[i] + a * p->d1[i];
        theta[i] = p->d2 ? t + b * p->d2[i] : t;
    }
}

static mn_status slice(double *loss, double *acc, const mn_objective *f, const mn_plane *p, const double *a, int na,
                   const double *b, int nb)
{
    mn_status st = mn_objective_check(f);
    if (st) return st;
    if (na < 1 || nb < 1) return mn_fail(MN_EINVAL, "slice: a %d x %d grid", na, nb);
    if (p->n != f->n) return mn_fail(MN_EINVAL, "slice: a plane in %zu dimensions for %zu parameters", p->n, f->n);
    if (!p->end && !p->d1) return mn_fail(MN_EINVAL, "slice: no first direction");
    if (nb > 1 && (!b || !p->d2)) return mn_fail(MN_EINVAL, "slice: a 2-D grid needs a second direction");
    double *theta = malloc(f->n * sizeof *theta);
    if (!theta) return mn_fail(MN_ENOMEM, "out of memory for a slice point");
    for (int i = 0; i < nb && !st; i++)
        for (int j = 0; j < na && !st; j++) {
            const size_t k = (size_t)i * na + j;
            mn_plane_point(theta, p, a[j], b ? b[i] : 0.0);
            st = mn_objective_fdf(f, theta, &loss[k], NULL);
            if (st == MN_ERANGE) { /* not finite here: a hole in the slice, not an error */
                loss[k] = NAN, st = MN_OK;
                if (acc) acc[k] = NAN;
                continue;
            }
            if (acc && !st) {
                acc[k] = NAN;
                if (f->accuracy) st = f->accuracy(f->params, theta, &acc[k]);
            }
        }
    free(theta);
    return st;
}

/* Scales d[off .. off+len) to the norm of theta's same entries (0 when d's is 0). */
static void match_norm(double *d, const double *theta, size_t off, size_t len)
{
    double nd = 0, nt = 0;
    for (size_t i = off; i < off + len; i++) nd += d[i] * d[i], nt += theta[i] * theta[i];
    const double s = nd > 0 ? sqrt(nt / nd) : 0.0;
    for (size_t i = off; i < off + len; i++) d[i] *= s;
}

mn_status mn_direction(double *d, const mn_model *model, const double *theta, mn_dir_kind kind, uint64_t seed)
{
    if (kind != MN_DIR_RANDOM && kind != MN_DIR_FILTER)
        return mn_fail(MN_EINVAL, "direction '%s' is not a random draw", mn_dir_name(kind));
    const size_t P = model->nparams;
    unsigned char *mask = malloc(P);
    if (!mask) return mn_fail(MN_ENOMEM, "out of memory for a direction");
    mn_model_free_mask(model, mask);
    mn_rng r;
    mn_rng_seed(&r, seed);
    for (size_t i = 0; i < P; i++) d[i] = mn_rng_normal(&r);
    const mn_spec *s = &model->spec;
    if (kind == MN_DIR_RANDOM) {
        for (size_t i = 0; i < P; i++) d[i] = mask[i] ? d[i] : 0.0;
        const double nrm = mn_norm2(d, P, NULL);
        for (size_t i = 0; i < P; i++) d[i] /= nrm;
    } else {
        for (int l = 1; l <= s->depth; l++) {
            const int wo = s->width[l], wi = s->width[l - 1];
            if (s->layer[l] == MN_LAYER_CONV1D)
                match_norm(d, theta, model->w_off[l], (size_t)wo); /* one filter */
            else
                for (int k = 0; k < wo; k++) match_norm(d, theta, model->w_off[l] + (size_t)k * wi, (size_t)wi);
            if (s->bias) { /* Li et al. leave biases out of the direction */
                const size_t nb = s->layer[l] == MN_LAYER_CONV1D ? 1 : (size_t)wo;
                memset(d + model->b_off[l], 0, nb * sizeof *d);
            }
        }
        if (s->skip)
            for (int k = 0; k < s->width[s->depth]; k++)
                match_norm(d, theta, model->s_off + (size_t)k * s->width[0], (size_t)s->width[0]);
        for (int j = 0; j < model->nelim; j++) /* an added neuron (a, w, b) is one unit */
            match_norm(d, theta, mn_model_elim_offset(model, j), (size_t)s->width[0] + 2);
        for (size_t i = 0; i < P; i++) d[i] = mask[i] ? d[i] : 0.0;
    }
    free(mask);
    return MN_OK;
}

mn_status mn_slice(double *loss, double *acc, const mn_objective *f, const mn_plane *p, const double *a, int na,
                   const double *b, int nb)
{
    const int blas = mn_blas_serial();
    mn_status st = slice(loss, acc, f, p, a, na, b, nb);
    mn_blas_restore(blas);
    return st;
}
