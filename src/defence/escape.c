/* The defence side of the attack-and-defence game: embed a point of a plain
 * network into the network with added neurons (a = 0 leaves its function
 * unchanged), and look for a descent direction out of a point, verified by
 * evaluating the loss, not inferred from derivatives alone. */
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"
#include "model/internal.h"

static int same_network(const mn_spec *a, const mn_spec *b)
{
    if (a->depth != b->depth || a->act != b->act || a->act_param != b->act_param || a->bias != b->bias ||
        a->skip != b->skip || a->frozen != b->frozen || a->loss != b->loss || a->loss_p != b->loss_p)
        return 0;
    for (int l = 0; l <= a->depth; l++)
        if (a->width[l] != b->width[l] || (l > 0 && a->layer[l] != b->layer[l])) return 0;
    return 1;
}

mn_status mn_embed(double *theta_aug, const mn_model *aug, const mn_model *plain, const double *theta,
                   const double *w0, double b0)
{
    if (plain->nelim != 0) return mn_fail(MN_EINVAL, "mn_embed: the plain model already has added neurons");
    if (aug->nelim == 0) return mn_fail(MN_EINVAL, "mn_embed: the augmented model has no added neurons");
    if (!same_network(&aug->spec, &plain->spec))
        return mn_fail(MN_EINVAL, "mn_embed: the two models differ in more than the eliminator");
    /* The plain layout is a prefix of the augmented one (added neurons come last). */
    memcpy(theta_aug, theta, plain->nparams * sizeof *theta);
    const int d = aug->spec.width[0];
    for (int j = 0; j < aug->nelim; j++) {
        double *p = theta_aug + mn_model_elim_offset(aug, j);
        p[0] = 0.0;
        for (int c = 0; c < d; c++) p[1 + c] = w0 ? w0[c] : 0.0;
        p[d + 1] = b0;
    }
    return MN_OK;
}

/* max_j |dL/da_j| at theta_aug; -1 when the evaluation overflows. */
static double max_da(const mn_model *aug, mn_work *work, const mn_data *data, const double *th, double *g)
{
    if (mn_eval(aug, work, data, th, NULL, g) != MN_OK) return -1.0;
    double m = 0;
    for (int j = 0; j < aug->nelim; j++) m = fmax(m, fabs(g[mn_model_elim_offset(aug, j)]));
    return m;
}

mn_status mn_embed_best(double *best, double *theta_aug, const mn_model *aug, mn_work *work,
                        const mn_data *data, int trials, uint64_t seed)
{
    const int d = aug->spec.width[0];
    const size_t P = aug->nparams;
    double *g = malloc(P * sizeof *g), *w = malloc((size_t)d * sizeof *w), *bw = calloc((size_t)d, sizeof *bw);
    if (!g || !w || !bw) {
        free(g), free(w), free(bw);
        return mn_fail(MN_ENOMEM, "out of memory in mn_embed_best");
    }
    static const double scale[4] = {0.25, 0.5, 1.0, 2.0};
    mn_rng r;
    mn_rng_seed(&r, seed);
    double top = -1.0;
    for (int t = 0; t < trials; t++) {
        for (int c = 0; c < d; c++) w[c] = scale[t % 4] * mn_rng_normal(&r);
        for (int j = 0; j < aug->nelim; j++) {
            double *p = theta_aug + mn_model_elim_offset(aug, j);
            p[0] = 0.0;
            memcpy(p + 1, w, (size_t)d * sizeof *w);
            p[d + 1] = 0.0;
        }
        double m = max_da(aug, work, data, theta_aug, g);
        if (m > top) top = m, memcpy(bw, w, (size_t)d * sizeof *w);
    }
    for (int j = 0; j < aug->nelim; j++) memcpy(theta_aug + mn_model_elim_offset(aug, j) + 1, bw, (size_t)d * sizeof *bw);
    free(g), free(w), free(bw);
    if (top < 0) return mn_fail(MN_ERANGE, "mn_embed_best: every trial overflowed exp");
    *best = top;
    return MN_OK;
}

/* A local descent direction, verified by evaluation. Along the ladder of
 * steps t = 2^-1 .. 2^-40, take the first step where the loss drops by more
 * than the rounding margin, and the run of smaller steps that keep dropping
 * it. The run must span 10 halvings, or at least 4 halvings with each drop
 * at most 64 times the next (2^6: a power law c t^k with k <= 6, as an
 * escape of order k shows, until rounding swallows it). A loss that is flat
 * at small steps and drops only at a large one (a dead unit waking up after
 * a finite move, a jump over a barrier) is not a local escape and fails.
 * Records the smallest verified step and its drop. A step whose evaluation
 * overflows counts as no drop. */
static int verify(mn_escape *e, const mn_objective *f, const double *th, const double *dir, double l0,
                  double *tmp)
{
    const size_t P = f->n;
    double dec[41];
    for (int k = 1; k <= 40; k++) {
        double t = ldexp(1.0, -k), l;
        for (size_t i = 0; i < P; i++) tmp[i] = th[i] + t * dir[i];
        dec[k] = mn_objective_fdf(f, tmp, &l, NULL) == MN_OK ? l0 - l : -INFINITY;
    }
    int k0 = 1;
    while (k0 <= 40 && !(dec[k0] > e->margin)) k0++;
    if (k0 > 40) return 0;
    int k = k0, power_law = 1;
    while (k < 40 && k - k0 < 10 && dec[k + 1] > e->margin) {
        power_law &= dec[k] <= 64 * dec[k + 1];
        k++;
    }
    if (!(k - k0 >= 10 || (k - k0 >= 4 && power_law))) return 0;
    e->escaped = 1;
    e->step = ldexp(1.0, -k);
    e->decrease = dec[k];
    return 1;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

mn_status mn_find_escape_objective(mn_escape *out, double *dir, const mn_objective *f, const double *theta,
                                   double eig_tol)
{
    memset(out, 0, sizeof *out);
    out->lambda_min = NAN;
    mn_status st = mn_objective_check(f);
    if (st) return st;
    const size_t P = f->n;
    unsigned char *mask = malloc(P);
    double *g = malloc(P * sizeof *g), *tmp = malloc(P * sizeof *tmp), *hv = malloc(P * sizeof *hv);
    double *sub = NULL, *ev = NULL;
    st = mask && g && tmp && hv ? MN_OK : mn_fail(MN_ENOMEM, "out of memory in mn_find_escape");
    double l0 = 0;
    if (!st) st = mn_objective_fdf(f, theta, &l0, g);
    if (st) goto done;
    if (f->mask)
        memcpy(mask, f->mask, P);
    else
        memset(mask, 1, P);
    int nf = 0;
    for (size_t i = 0; i < P; i++) {
        if (!mask[i]) g[i] = 0.0;
        nf += mask[i];
    }
    out->gnorm = mn_norm2(g, P, NULL); /* scaled: a finite gradient gives a unit direction */
    out->margin = 64 * DBL_EPSILON * (1 + fabs(l0));
    /* First order: the negative gradient. */
    if (out->gnorm > 0) {
        for (size_t i = 0; i < P; i++) dir[i] = -g[i] / out->gnorm;
        out->slope = -out->gnorm;
        if (verify(out, f, theta, dir, l0, tmp)) {
            out->order = 1;
            st = mn_objective_hvp(f, theta, dir, hv);
            out->curvature = st ? NAN : dot(dir, hv, P);
            goto done;
        }
    }
    if (nf > 4000) {
        st = mn_fail(MN_EINVAL, "mn_find_escape: %d free parameters; the dense Hessian stops at 4000", nf);
        goto done;
    }
    sub = malloc((size_t)nf * nf * sizeof *sub);
    ev = malloc((size_t)nf * sizeof *ev);
    if (!sub || !ev) {
        st = mn_fail(MN_ENOMEM, "out of memory for a %d x %d Hessian", nf, nf);
        goto done;
    }
    if ((st = mn_objective_free_hessian(f, theta, sub, NULL))) goto done;
    if ((st = mn_sym_eig(ev, sub, nf))) goto done;
    out->lambda_min = ev[0];
    /* Eigenvector q (column q of sub) spread back over the free parameters. */
    for (int q = 0; q < nf; q++) {
        int order = ev[q] < -eig_tol ? 2 : fabs(ev[q]) <= eig_tol ? 3 : 0;
        if (!order) break; /* ascending: the rest are clearly positive */
        for (int sgn = 1; sgn >= -1; sgn -= 2) {
            size_t r = 0;
            for (size_t i = 0; i < P; i++) dir[i] = mask[i] ? sgn * sub[r++ * nf + q] : 0.0;
            /* Along a negative-curvature direction, take the sign that does not climb. */
            if (order == 2 && sgn == 1 && dot(g, dir, P) > 0) continue;
            out->slope = dot(g, dir, P);
            out->curvature = ev[q];
            if (verify(out, f, theta, dir, l0, tmp)) {
                out->order = order;
                goto done;
            }
        }
    }
    /* Higher order: a decrease of order 3 or more may need a combination of
     * null directions (f = w3 w2 w1 x at 0 falls only along w1 w2 w3 > 0),
     * so also try seeded random unit combinations of the null space. */
    int k0 = 0, k1 = 0; /* null directions: columns k0..k1-1 */
    while (k0 < nf && ev[k0] < -eig_tol) k0++;
    for (k1 = k0; k1 < nf && fabs(ev[k1]) <= eig_tol; k1++) continue;
    if (k1 - k0 >= 2) {
        mn_rng r;
        mn_rng_seed(&r, 0x6d696e696d61ULL);
        double *c = malloc((size_t)(k1 - k0) * sizeof *c);
        if (!c) {
            st = mn_fail(MN_ENOMEM, "out of memory in mn_find_escape");
            goto done;
        }
        for (int trial = 0; trial < 64; trial++) {
            double cn = 0;
            for (int q = k0; q < k1; q++) c[q - k0] = mn_rng_normal(&r), cn += c[q - k0] * c[q - k0];
            cn = sqrt(cn);
            size_t rr = 0;
            for (size_t i = 0; i < P; i++) {
                double v = 0;
                if (mask[i]) {
                    for (int q = k0; q < k1; q++) v += c[q - k0] * sub[rr * nf + q];
                    rr++;
                }
                dir[i] = v / cn;
            }
            out->slope = dot(g, dir, P);
            out->curvature = 0.0;
            if (verify(out, f, theta, dir, l0, tmp)) {
                out->order = 3;
                free(c);
                goto done;
            }
        }
        free(c);
    }
    memset(dir, 0, P * sizeof *dir);
    out->slope = out->curvature = 0.0;
done:
    free(mask), free(g), free(tmp), free(hv), free(sub), free(ev);
    return st;
}

mn_status mn_find_escape(mn_escape *out, double *dir, const mn_model *model, mn_work *work,
                         const mn_data *data, const double *theta, double eig_tol)
{
    mn_objective *f;
    mn_status st = mn_net_objective_alloc(&f, model, work, data);
    if (!st) st = mn_find_escape_objective(out, dir, f, theta, eig_tol);
    else memset(out, 0, sizeof *out);
    mn_objective_free(f);
    return st;
}

mn_status mn_follow_escape(mn_judgement *out, long *iterations, const mn_model *model, const mn_data *data,
                           const double *theta, const mn_opt_params *prm, long steps, double gtol,
                           const mn_cert_opts *opts)
{
    *iterations = 0;
    mn_work *w = NULL;
    mn_optim *o = NULL;
    mn_status st = mn_work_alloc(&w, model, mn_data_n(data));
    if (!st) st = mn_optim_alloc(&o, model, w, data, prm, theta);
    mn_run_state s = MN_RUN_RUNNING;
    if (!st) s = mn_optim_test(o, gtol);
    while (!st && s == MN_RUN_RUNNING && mn_optim_iter(o) < steps) {
        st = mn_optim_iterate(o);
        if (!st) s = mn_optim_test(o, gtol);
    }
    if (!st) *iterations = mn_optim_iter(o);
    if (!st) st = mn_judge(out, model, data, mn_optim_theta(o), s == MN_RUN_DIVERGED, opts);
    mn_optim_free(o);
    mn_work_free(w);
    return st;
}

const char *mn_escape_name(const mn_escape *e)
{
    if (!e->escaped) return "none";
    return e->order == 1 ? "gradient" : e->order == 2 ? "negative-curvature" : e->order == 3 ? "higher-order" : "none";
}
