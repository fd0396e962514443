/* Paths between two points: the straight line, and a quadratic Bezier curve
 * phi(t) = (1-t)^2 a + 2t(1-t) c + t^2 b whose control point c is fitted by
 * L-BFGS to the mean loss at fixed nodes t_k (Garipov, Izmailov, Podoprikhin,
 * Vetrov, Wilson, NeurIPS 2018; they draw t at random, fixed nodes keep the
 * result deterministic). The fit is itself an objective in c:
 *   J(c) = (1/K) sum_k L(phi(t_k)),   grad J = (1/K) sum_k w_k grad L(phi(t_k)),
 *   H_J v = (1/K) sum_k w_k^2 H_L(phi(t_k)) v,   w_k = 2 t_k (1 - t_k),
 * minimised by the library's optimiser (mn_optim). Then a nudged elastic
 * band from the fitted curve (see minima/instruments.h), moved by FIRE. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "linalg/lanczos.h"
#include "minima/instruments.h"

void mn_path_opts_default(mn_path_opts *o)
{
    *o = (mn_path_opts){.points = 101, .nodes = 32, .steps = 500, .gtol = 1e-8};
    o->images = 15, o->neb_steps = 2000, o->neb_climb = 100, o->spring = 1.0, o->neb_tol = 1e-6;
}

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

/* max over the grid of v minus the larger end value, and where. */
static double barrier(const double *v, const double *t, int points, double *where)
{
    int imax = 0;
    for (int i = 1; i < points; i++)
        if (v[i] > v[imax] || isnan(v[i])) imax = i;
    *where = t[imax];
    return v[imax] - fmax(v[0], v[points - 1]);
}

void mn_path_free(mn_path *p)
{
    if (!p) return;
    free(p->t), free(p->control), free(p->band), free(p->image);
    free(p);
}

/* The band: M images between a and b; point j = 0..M+1 (a, the images, b). */
typedef struct {
    const mn_objective *f;
    const double *a, *b;
    int M;
    size_t n;
    double *x, *g, *e; /* images (M x n), their gradients (M x n), losses (M + 2: a, images, b) */
    double *tau;       /* (n) */
} band;

static const double *band_point(const band *bd, int j)
{
    return j == 0 ? bd->a : j == bd->M + 1 ? bd->b : bd->x + (size_t)(j - 1) * bd->n;
}

static int is_free(const mn_objective *f, size_t i) { return !f->mask || f->mask[i]; }

/* |u - v| over the free entries. */
static double free_dist(const mn_objective *f, const double *u, const double *v, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++)
        if (is_free(f, i)) s += (u[i] - v[i]) * (u[i] - v[i]);
    return sqrt(s);
}

/* The NEB forces F (M x n) at the images (losses and gradients refreshed);
 * *worst = the largest image force norm. climb: the highest image climbs. */
static mn_status band_forces(band *bd, double *F, int climb, double k, double *worst)
{
    const size_t n = bd->n;
    const int M = bd->M;
    int top = 1;
    for (int j = 1; j <= M; j++) {
        mn_status st = mn_objective_fdf(bd->f, bd->x + (size_t)(j - 1) * n, &bd->e[j], bd->g + (size_t)(j - 1) * n);
        if (st == MN_ERANGE) return mn_fail(MN_ERANGE, "path: the elastic band reached a point where the loss is not finite (image %d)", j);
        if (st) return st;
        if (bd->e[j] > bd->e[top]) top = j;
    }
    *worst = 0;
    for (int j = 1; j <= M; j++) {
        const double *xm = band_point(bd, j - 1), *xj = band_point(bd, j), *xp = band_point(bd, j + 1);
        const double em = bd->e[j - 1], ej = bd->e[j], ep = bd->e[j + 1];
        /* the improved tangent: toward the higher neighbour, blended at extrema */
        double wp, wm;
        if (ep > ej && ej > em) wp = 1, wm = 0;
        else if (ep < ej && ej < em) wp = 0, wm = 1;
        else {
            const double hi = fmax(fabs(ep - ej), fabs(em - ej)), lo = fmin(fabs(ep - ej), fabs(em - ej));
            wp = ep > em ? hi : lo, wm = ep > em ? lo : hi;
        }
        double *tau = bd->tau, nt = 0;
        for (size_t i = 0; i < n; i++) {
            tau[i] = is_free(bd->f, i) ? wp * (xp[i] - xj[i]) + wm * (xj[i] - xm[i]) : 0.0;
            nt += tau[i] * tau[i];
        }
        nt = sqrt(nt);
        if (nt > 0)
            for (size_t i = 0; i < n; i++) tau[i] /= nt;
        const double *g = bd->g + (size_t)(j - 1) * n;
        double gt = 0;
        for (size_t i = 0; i < n; i++) gt += g[i] * tau[i];
        const double spring = k * (free_dist(bd->f, xp, xj, n) - free_dist(bd->f, xj, xm, n));
        double *Fj = F + (size_t)(j - 1) * n, f2 = 0;
        for (size_t i = 0; i < n; i++) {
            if (!is_free(bd->f, i)) Fj[i] = 0.0;
            else if (climb && j == top) Fj[i] = -g[i] + 2.0 * gt * tau[i];
            else Fj[i] = -(g[i] - gt * tau[i]) + spring * tau[i];
            f2 += Fj[i] * Fj[i];
        }
        *worst = fmax(*worst, sqrt(f2));
    }
    return MN_OK;
}

/* Moves the images by FIRE (Bitzek et al. 2006: velocity Verlet with the
 * velocity turned toward the force, restarts when power turns negative);
 * no image moves more than a tenth of the start spacing per step. The NEB
 * force is not a gradient, and a band can drift (on the XOR networks its
 * images slid into lower ground far from the ends while the force grew):
 * without convergence, the band kept is the one whose highest image was
 * lowest (best found). */
static mn_status band_relax(band *bd, mn_path *p, const mn_path_opts *o)
{
    const size_t N = (size_t)bd->M * bd->n;
    double *F = malloc(3 * N * sizeof *F), *v = F ? F + N : NULL, *keep = F ? v + N : NULL;
    if (!F) return mn_fail(MN_ENOMEM, "out of memory for the elastic band");
    double best = INFINITY;
    memset(v, 0, N * sizeof *v);
    const double seg = free_dist(bd->f, bd->a, bd->b, bd->n) / (bd->M + 1), cap = 0.1 * seg;
    double fbig = 0, dt = 0, dtmax = 0, alpha = 0.1;
    int npos = 0;
    mn_status st = MN_OK;
    long step = 0;
    for (;; step++) {
        if ((st = band_forces(bd, F, step >= o->neb_climb, o->spring, &fbig))) break;
        if (fbig <= o->neb_tol || step >= o->neb_steps) break;
        double top = -INFINITY;
        for (int j = 1; j <= bd->M; j++) top = fmax(top, bd->e[j]);
        if (top < best) best = top, memcpy(keep, bd->x, N * sizeof *keep);
        if (step == 0) { /* the first step moves the strongest-pushed image 1% of the spacing */
            dt = sqrt(0.01 * seg / fbig), dtmax = 10 * dt;
            if (!(dt > 0) || !isfinite(dt)) break; /* a and b coincide */
        }
        double pw = 0, vn = 0, fn = 0;
        for (size_t i = 0; i < N; i++) pw += F[i] * v[i], vn += v[i] * v[i], fn += F[i] * F[i];
        if (pw > 0) {
            const double mix = alpha * sqrt(vn) / sqrt(fn);
            for (size_t i = 0; i < N; i++) v[i] = (1 - alpha) * v[i] + mix * F[i];
            if (++npos > 5) dt = fmin(1.1 * dt, dtmax), alpha *= 0.99;
        } else {
            memset(v, 0, N * sizeof *v);
            dt *= 0.5, alpha = 0.1, npos = 0;
        }
        for (size_t i = 0; i < N; i++) v[i] += dt * F[i];
        double big = 0;
        for (int j = 0; j < bd->M; j++) {
            double s = 0;
            for (size_t i = 0; i < bd->n; i++) s += v[(size_t)j * bd->n + i] * v[(size_t)j * bd->n + i];
            big = fmax(big, dt * sqrt(s));
        }
        const double shrink = big > cap ? cap / big : 1.0;
        for (size_t i = 0; i < N; i++) bd->x[i] += shrink * dt * v[i];
    }
    p->band_force = fbig, p->band_steps = step, p->band_converged = fbig <= o->neb_tol;
    double top = -INFINITY;
    for (int j = 1; j <= bd->M; j++) top = fmax(top, bd->e[j]);
    if (!st && !p->band_converged && best < top) { /* back to the best band, its losses refreshed */
        memcpy(bd->x, keep, N * sizeof *keep);
        st = band_forces(bd, F, 0, o->spring, &fbig);
        p->band_force = fbig;
    }
    free(F);
    return st;
}

/* The band from the fitted curve, relaxed, then evaluated along its length. */
static mn_status band_path(mn_path *p, const mn_objective *f, const double *a, const double *b, const mn_path_opts *o)
{
    const size_t n = f->n, M = (size_t)o->images;
    mn_status st = mn_mem_check((4.0 * M + 4) * (double)n * sizeof(double), "the elastic band");
    if (st) return st;
    p->images = o->images;
    p->band = malloc((o->points + 3 * M + 1) * sizeof *p->band);
    p->image = malloc(M * n * sizeof *p->image);
    double *g = malloc((M * n + M + 2 + 2 * n) * sizeof *g);
    if (!p->band || !p->image || !g) {
        free(g);
        return mn_fail(MN_ENOMEM, "out of memory for the elastic band (%d images)", o->images);
    }
    p->image_loss = p->band + o->points, p->image_t = p->image_loss + M;
    double *cum = p->image_t + M; /* (M + 1) cumulative lengths to points 1..M+1 */
    band bd = {.f = f, .a = a, .b = b, .M = o->images, .n = n, .x = p->image, .g = g, .e = g + M * n};
    bd.tau = bd.e + M + 2;
    double *phi = bd.tau + n;
    bd.e[0] = p->loss_a, bd.e[M + 1] = p->loss_b;
    for (size_t j = 0; j < M; j++) curve_point(p->image + j * n, a, p->control, b, n, (double)(j + 1) / (M + 1));
    if (!(st = band_relax(&bd, p, o))) {
        double len = 0;
        for (int j = 1; j <= o->images + 1; j++) {
            len += free_dist(f, band_point(&bd, j), band_point(&bd, j - 1), n);
            cum[j - 1] = len;
        }
        for (size_t j = 0; j < M; j++) p->image_loss[j] = bd.e[j + 1], p->image_t[j] = len > 0 ? cum[j] / len : 0;
        int seg = 0;
        for (int i = 0; i < o->points && !st; i++) {
            const double s = len * i / (o->points - 1);
            if (i == 0 || i == o->points - 1) {
                p->band[i] = i ? p->loss_b : p->loss_a;
                continue;
            }
            while (seg < o->images && cum[seg] < s) seg++;
            const double s0 = seg ? cum[seg - 1] : 0, w = cum[seg] > s0 ? (s - s0) / (cum[seg] - s0) : 0;
            const double *u = band_point(&bd, seg), *v = band_point(&bd, seg + 1);
            for (size_t q = 0; q < n; q++) phi[q] = (1 - w) * u[q] + w * v[q];
            st = mn_objective_fdf(f, phi, &p->band[i], NULL);
            if (st == MN_ERANGE) p->band[i] = INFINITY, st = MN_OK;
        }
        if (!st) {
            p->barrier_band = barrier(p->band, p->t, o->points, &p->t_band);
            for (size_t j = 0; j < M; j++) {
                const double h = p->image_loss[j] - fmax(p->loss_a, p->loss_b);
                if (h > p->barrier_band) p->barrier_band = h, p->t_band = p->image_t[j];
            }
        }
    }
    free(g);
    return st;
}

static mn_status path_between(mn_path **out, const mn_objective *f, const double *a, const double *b,
                          const mn_path_opts *o)
{
    *out = NULL;
    mn_status st = mn_objective_check(f);
    if (st) return st;
    if (o->points < 2 || o->nodes < 1 || o->steps < 0)
        return mn_fail(MN_EINVAL, "path: %d points, %d nodes, %ld steps", o->points, o->nodes, o->steps);
    if (o->images < 0 || o->neb_steps < 0 || !(o->spring >= 0) || !isfinite(o->spring) || !(o->neb_tol > 0))
        return mn_fail(MN_EINVAL, "path: elastic band of %d images, %ld steps, spring %g, tolerance %g (images, steps, "
                                  "spring >= 0, tolerance > 0)",
                       o->images, o->neb_steps, o->spring, o->neb_tol);
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
    if (o->images > 0) st = band_path(p, f, a, b, o);
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
