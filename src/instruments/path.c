/* Paths between two points: the straight line, and a quadratic Bezier curve
 * phi(t) = (1-t)^2 a + 2t(1-t) c + t^2 b whose control point c is fitted by
 * L-BFGS to the mean loss at fixed nodes t_k (Garipov, Izmailov, Podoprikhin,
 * Vetrov, Wilson, NeurIPS 2018; they draw t at random, fixed nodes keep the
 * result deterministic). The fit is itself an objective in c:
 *   J(c) = (1/K) sum_k L(phi(t_k)),   grad J = (1/K) sum_k w_k grad L(phi(t_k)),
 *   H_J v = (1/K) sum_k w_k^2 H_L(phi(t_k)) v,   w_k = 2 t_k (1 - t_k),
 * minimised by the library's optimiser (mn_optim). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/lanczos.h"
#include "minima/instruments.h"

void mn_path_opts_default(mn_path_opts *o) { *o = (mn_path_opts){.points = 101, .nodes = 32, .steps = 500, .gtol = 1e-8}; }

typedef struct {
    const mn_objective *f;
    const double *a, *b;
    int nodes;
    double *phi, *g, *hv; /* (n) each */
} bezier;

static double node_t(int k, int nodes) { return (k + 0.5) / nodes; }

static void curve_point(double *phi, const double *a, const double *c, const double *b, size_t n, double t)
{
    const double u = 1.0 - t;
    for (size_t i = 0; i < n; i++) phi[i] = u * u * a[i] + 2.0 * t * u * c[i] + t * t * b[i];
}

static mn_status bezier_fdf(void *p, const double *c, double *val, double *g)
{
    bezier *z = p;
    const size_t n = z->f->n;
    double sum = 0;
    if (g) memset(g, 0, n * sizeof *g);
    for (int k = 0; k < z->nodes; k++) {
        const double t = node_t(k, z->nodes), w = 2.0 * t * (1.0 - t);
        curve_point(z->phi, z->a, c, z->b, n, t);
        double l;
        mn_status st = mn_objective_fdf(z->f, z->phi, &l, g ? z->g : NULL);
        if (st) return st;
        sum += l;
        if (g)
            for (size_t i = 0; i < n; i++) g[i] += w * z->g[i];
    }
    *val = sum / z->nodes;
    if (g)
        for (size_t i = 0; i < n; i++) g[i] /= z->nodes;
    return MN_OK;
}

static mn_status bezier_hvp(void *p, const double *c, const double *v, double *hv)
{
    bezier *z = p;
    const size_t n = z->f->n;
    memset(hv, 0, n * sizeof *hv);
    for (int k = 0; k < z->nodes; k++) {
        const double t = node_t(k, z->nodes), w = 2.0 * t * (1.0 - t);
        curve_point(z->phi, z->a, c, z->b, n, t);
        mn_status st = mn_objective_hvp(z->f, z->phi, v, z->hv);
        if (st) return st;
        for (size_t i = 0; i < n; i++) hv[i] += w * w * z->hv[i] / z->nodes;
    }
    return MN_OK;
}

void mn_path_free(mn_path *p)
{
    if (!p) return;
    free(p->t), free(p->control);
    free(p);
}

/* max over the grid of v minus the larger end value, and where. */
static double barrier(const double *v, const double *t, int points, double *where)
{
    int imax = 0;
    for (int i = 1; i < points; i++)
        if (v[i] > v[imax] || isnan(v[i])) imax = i;
    *where = t[imax];
    return v[imax] - fmax(v[0], v[points - 1]);
}

static mn_status path_between(mn_path **out, const mn_objective *f, const double *a, const double *b,
                          const mn_path_opts *o)
{
    *out = NULL;
    mn_status st = mn_objective_check(f);
    if (st) return st;
    if (o->points < 2 || o->nodes < 1 || o->steps < 0)
        return mn_fail(MN_EINVAL, "path: %d points, %d nodes, %ld steps", o->points, o->nodes, o->steps);
    const size_t n = f->n;
    mn_path *p = calloc(1, sizeof *p);
    double *scratch = malloc(3 * n * sizeof *scratch), *phi = malloc(n * sizeof *phi);
    if (p) p->t = malloc(3 * (size_t)o->points * sizeof *p->t), p->control = malloc(n * sizeof *p->control);
    if (!p || !scratch || !phi || !p->t || !p->control) {
        st = mn_fail(MN_ENOMEM, "out of memory for a path");
        goto done;
    }
    p->points = o->points;
    p->line = p->t + o->points, p->curve = p->line + o->points;
    for (size_t i = 0; i < n; i++) p->control[i] = 0.5 * a[i] + 0.5 * b[i];
    bezier z = {.f = f, .a = a, .b = b, .nodes = o->nodes, .phi = scratch, .g = scratch + n, .hv = scratch + 2 * n};
    mn_objective jf = {.n = n, .params = &z, .fdf = bezier_fdf, .hvp = bezier_hvp, .mask = f->mask};
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_LBFGS;
    prm.max_norm = 1e300;
    mn_optim *opt = NULL;
    if ((st = mn_optim_alloc_objective(&opt, &jf, &prm, p->control))) goto done;
    mn_run_state rs = mn_optim_test(opt, o->gtol);
    while (rs == MN_RUN_RUNNING && mn_optim_iter(opt) < o->steps && !st) {
        st = mn_optim_iterate(opt);
        rs = mn_optim_test(opt, o->gtol);
    }
    if (!st) {
        memcpy(p->control, mn_optim_theta(opt), n * sizeof *p->control);
        p->iterations = mn_optim_iter(opt);
        p->state = mn_run_state_name(rs);
    }
    mn_optim_free(opt);
    if (st) goto done;
    const mn_plane line = {.n = n, .origin = a, .end = b};
    for (int i = 0; i < o->points && !st; i++) {
        const double t = (double)i / (o->points - 1);
        p->t[i] = t;
        mn_plane_point(phi, &line, t, 0.0);
        st = mn_objective_fdf(f, phi, &p->line[i], NULL);
        if (st == MN_ERANGE) p->line[i] = INFINITY, st = MN_OK; /* not finite there: the highest barrier */
        if (st || i == 0 || i == o->points - 1) { /* the curve passes through a and b exactly */
            p->curve[i] = p->line[i];
            continue;
        }
        curve_point(phi, a, p->control, b, n, t);
        st = mn_objective_fdf(f, phi, &p->curve[i], NULL);
        if (st == MN_ERANGE) p->curve[i] = INFINITY, st = MN_OK;
    }
    if (st) goto done;
    p->loss_a = p->line[0], p->loss_b = p->line[o->points - 1];
    p->barrier_line = barrier(p->line, p->t, o->points, &p->t_line);
    p->barrier_curve = barrier(p->curve, p->t, o->points, &p->t_curve);
done:
    free(scratch), free(phi);
    if (st) mn_path_free(p);
    else *out = p;
    return st;
}

mn_status mn_path_between(mn_path **out, const mn_objective *f, const double *a, const double *b,
                          const mn_path_opts *o)
{
    const int blas = mn_blas_serial();
    mn_status st = path_between(out, f, a, b, o);
    mn_blas_restore(blas);
    return st;
}
