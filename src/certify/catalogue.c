/* A catalogue of end points up to the symmetries of hidden units.
 *
 * Two parameter vectors that compute the same function for every input count
 * as one minimum. The symmetries quotiented out, for each hidden layer l:
 *  - permutations: rows of W_l and entries of b_l, with the columns of
 *    W_{l+1} permuted the same way (every activation);
 *  - per-unit rescaling of a homogeneous unit, u = (W_l row j, b_l[j]):
 *    relu / leaky_relu / linear (act(cz) = c act(z), c > 0): u -> c u and
 *    column j of W_{l+1} -> / c; quadratic (act(cz) = c^2 act(z)): that
 *    column -> / c^2;
 *  - per-unit sign flips u -> -u: tanh and linear (odd: column j of W_{l+1}
 *    negated), quadratic (even: column unchanged), and sigmoid when biases
 *    are on: sigmoid(-z) = 1 - sigmoid(z), so column j of W_{l+1} is negated
 *    and added to b_{l+1} (without biases there is no such symmetry).
 * The canonical form picks one copy: for l = 1..L-1 in order, each unit's
 * u (read after layer l-1's changes reached W_l's columns) is scaled to
 * unit 2-norm where rescaling is a symmetry, then given the sign that makes
 * its entry of largest magnitude (the first of equal ones) positive where a
 * flip is; then the units are sorted lexicographically on u and the
 * permutation carried into W_{l+1}'s columns. Two points are the same entry
 * when their canonical forms agree entrywise within tol * (1 + |x|).
 *
 * Limits, stated: units whose u agree to within the noise of the run in
 * their first differing entry can sort differently in two copies, and a
 * unit whose two largest |entries| tie to within that noise can take either
 * sign; such copies count as two entries (the catalogue over-counts, it never
 * merges different points). Symmetries beyond these are not quotiented out:
 * a linear layer's full GL(n) (only its diagonal and permutations are),
 * data-dependent ones (dead ReLU units, whose outgoing weights do not matter
 * on the data), softplus's softplus(-z) = softplus(z) - z. Skip weights and
 * added neurons are left as they are. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"

struct mn_catalogue {
    const mn_model *model;
    double tol;
    size_t P;
    int n, cap;
    mn_catalogue_entry *e;
    double *canon; /* (cap x P) representatives */
    double *tmp;   /* (P) */
};

/* Sort context: rows of a (w x stride) matrix compared on k entries + bias. */
typedef struct {
    const double *w, *b;
    int k;
} rowkey;

static int cmp_rows(const rowkey *rk, int i, int j)
{
    for (int c = 0; c < rk->k; c++) {
        double a = rk->w[(size_t)i * rk->k + c], b = rk->w[(size_t)j * rk->k + c];
        if (a < b) return -1;
        if (a > b) return 1;
    }
    if (rk->b) {
        if (rk->b[i] < rk->b[j]) return -1;
        if (rk->b[i] > rk->b[j]) return 1;
    }
    return i < j ? -1 : i > j; /* stable */
}

/* Insertion sort of perm by row key (widths are small; deterministic). */
static void sort_units(int *perm, int n, const rowkey *rk)
{
    for (int i = 1; i < n; i++) {
        int v = perm[i], j = i - 1;
        while (j >= 0 && cmp_rows(rk, perm[j], v) > 0) perm[j + 1] = perm[j], j--;
        perm[j + 1] = v;
    }
}

/* The per-unit symmetries of an activation (see the head of the file). */
typedef struct {
    int degree; /* act(cz) = c^degree act(z) for c > 0; 0: no rescaling */
    int flip;   /* 0 none, 1 odd, 2 even, 3 sigmoid (needs b_{l+1}) */
} unit_sym;

static unit_sym act_symmetry(const mn_spec *s)
{
    switch (s->act) {
    case MN_ACT_RELU:
    case MN_ACT_LEAKY_RELU: return (unit_sym){1, 0};
    case MN_ACT_LINEAR: return (unit_sym){1, 1};
    case MN_ACT_QUADRATIC: return (unit_sym){2, 2};
    case MN_ACT_TANH: return (unit_sym){0, 1};
    case MN_ACT_SIGMOID: return (unit_sym){0, s->bias ? 3 : 0};
    case MN_ACT_SOFTPLUS: break;
    }
    return (unit_sym){0, 0};
}

/* Unit j of a hidden layer: w its incoming row (wi), b its bias (or NULL),
 * Wn the next layer's weights (wo x wl), bn its biases (or NULL). */
static void normalize_unit(unit_sym u, double *w, double *b, int wi, double *Wn, double *bn, int wo, int wl, int j)
{
    if (u.degree) {
        double nrm = 0;
        for (int c = 0; c < wi; c++) nrm = hypot(nrm, w[c]);
        if (b) nrm = hypot(nrm, *b);
        if (nrm > 0 && isfinite(nrm)) {
            for (int c = 0; c < wi; c++) w[c] /= nrm;
            if (b) *b /= nrm;
            const double out = u.degree == 2 ? nrm * nrm : nrm;
            for (int r = 0; r < wo; r++) Wn[(size_t)r * wl + j] *= out;
        }
    }
    if (!u.flip) return;
    double big = b ? *b : 0, mag = b ? fabs(*b) : 0; /* the bias comes last: weights win ties */
    for (int c = wi - 1; c >= 0; c--)
        if (fabs(w[c]) >= mag) mag = fabs(w[c]), big = w[c];
    if (!(big < 0)) return;
    for (int c = 0; c < wi; c++) w[c] = -w[c];
    if (b) *b = -*b;
    for (int r = 0; r < wo; r++) {
        double *v = &Wn[(size_t)r * wl + j];
        if (u.flip == 3) bn[r] += *v; /* v sigmoid(z) = v - v sigmoid(-z) */
        if (u.flip != 2) *v = -*v;
    }
}

mn_status mn_canonicalize(double *canon, const mn_model *model, const double *theta)
{
    const mn_spec *s = mn_model_spec(model);
    const size_t P = mn_model_nparams(model);
    const unit_sym usym = act_symmetry(s);
    int maxw = 0;
    for (int l = 1; l < s->depth; l++) maxw = s->width[l] > maxw ? s->width[l] : maxw;
    if (canon != theta) memcpy(canon, theta, P * sizeof *canon);
    if (maxw == 0) return MN_OK;
    size_t bufsz = 0; /* the largest of W_l, W_{l+1} and b_l over hidden layers l */
    for (int l = 1; l < s->depth; l++) {
        size_t a = (size_t)s->width[l] * s->width[l - 1], b = (size_t)s->width[l + 1] * s->width[l];
        bufsz = a > bufsz ? a : bufsz;
        bufsz = b > bufsz ? b : bufsz;
    }
    int *perm = malloc((size_t)maxw * sizeof *perm);
    double *buf = malloc(bufsz * sizeof *buf);
    if (!perm || !buf) {
        free(perm), free(buf);
        return mn_fail(MN_ENOMEM, "out of memory in mn_canonicalize");
    }
    for (int l = 1; l < s->depth; l++) {
        /* A conv1d layer's units share one filter: permuting them is no symmetry. */
        if (s->layer[l] != MN_LAYER_DENSE || s->layer[l + 1] != MN_LAYER_DENSE) continue;
        const int wl = s->width[l], wi = s->width[l - 1], wo = s->width[l + 1];
        double *W = canon + mn_model_w_offset(model, l);
        double *b = s->bias ? canon + mn_model_b_offset(model, l) : NULL;
        double *Wn = canon + mn_model_w_offset(model, l + 1);
        double *bn = s->bias ? canon + mn_model_b_offset(model, l + 1) : NULL;
        for (int j = 0; j < wl; j++)
            normalize_unit(usym, W + (size_t)j * wi, b ? b + j : NULL, wi, Wn, bn, wo, wl, j);
        for (int j = 0; j < wl; j++) perm[j] = j;
        rowkey rk = {W, b, wi};
        sort_units(perm, wl, &rk);
        /* Rows of W_l and entries of b_l in the new order. */
        for (int j = 0; j < wl; j++) memcpy(buf + (size_t)j * wi, W + (size_t)perm[j] * wi, (size_t)wi * sizeof *W);
        memcpy(W, buf, (size_t)wl * wi * sizeof *W);
        if (b) {
            for (int j = 0; j < wl; j++) buf[j] = b[perm[j]];
            memcpy(b, buf, (size_t)wl * sizeof *b);
        }
        /* Columns of W_{l+1} (wo x wl) likewise. */
        for (int r = 0; r < wo; r++)
            for (int j = 0; j < wl; j++) buf[(size_t)r * wl + j] = Wn[(size_t)r * wl + perm[j]];
        memcpy(Wn, buf, (size_t)wo * wl * sizeof *Wn);
    }
    free(perm), free(buf);
    return MN_OK;
}

mn_status mn_catalogue_alloc(mn_catalogue **out, const mn_model *model, double tol)
{
    *out = NULL;
    if (!(tol >= 0 && isfinite(tol))) return mn_fail(MN_EINVAL, "catalogue tolerance %g must be >= 0", tol);
    mn_catalogue *c = calloc(1, sizeof *c);
    const size_t P = mn_model_nparams(model);
    double *tmp = c ? malloc(P * sizeof *tmp) : NULL;
    if (!tmp) {
        free(c);
        return mn_fail(MN_ENOMEM, "out of memory for a catalogue");
    }
    c->model = model, c->tol = tol, c->P = P, c->tmp = tmp;
    *out = c;
    return MN_OK;
}

void mn_catalogue_free(mn_catalogue *c)
{
    if (!c) return;
    free(c->e), free(c->canon), free(c->tmp);
    free(c);
}

static int same(const double *a, const double *b, size_t P, double tol)
{
    for (size_t i = 0; i < P; i++)
        if (!(fabs(a[i] - b[i]) <= tol * (1.0 + fabs(a[i])))) return 0;
    return 1;
}

mn_status mn_catalogue_add(mn_catalogue *c, const double *theta, const mn_cert *cert, long run, int *index)
{
    mn_status st = mn_canonicalize(c->tmp, c->model, theta);
    if (st) return st;
    for (int i = 0; i < c->n; i++) {
        if (c->e[i].cls != cert->cls || !same(c->canon + (size_t)i * c->P, c->tmp, c->P, c->tol)) continue;
        mn_catalogue_entry *e = &c->e[i];
        e->count++;
        if (cert->loss < e->loss_lo) e->loss_lo = cert->loss;
        if (cert->loss > e->loss_hi) e->loss_hi = cert->loss;
        if (index) *index = i;
        return MN_OK;
    }
    if (c->n == c->cap) {
        int cap = c->cap ? 2 * c->cap : 8;
        mn_catalogue_entry *e = realloc(c->e, (size_t)cap * sizeof *e);
        if (e) c->e = e;
        double *cn = e ? realloc(c->canon, (size_t)cap * c->P * sizeof *cn) : NULL;
        if (!cn) return mn_fail(MN_ENOMEM, "out of memory growing the catalogue to %d entries", cap);
        c->canon = cn, c->cap = cap;
    }
    memcpy(c->canon + (size_t)c->n * c->P, c->tmp, c->P * sizeof *c->tmp);
    c->e[c->n] = (mn_catalogue_entry){.cls = cert->cls, .count = 1, .first_run = run, .cert = *cert,
                                      .loss_lo = cert->loss, .loss_hi = cert->loss};
    if (index) *index = c->n;
    c->n++;
    return MN_OK;
}

int mn_catalogue_count(const mn_catalogue *c) { return c->n; }

const mn_catalogue_entry *mn_catalogue_get(const mn_catalogue *c, int i, const double **theta)
{
    if (i < 0 || i >= c->n) return NULL;
    if (theta) *theta = c->canon + (size_t)i * c->P;
    return &c->e[i];
}
