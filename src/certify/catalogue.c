/* A catalogue of end points up to permutations of hidden units.
 *
 * Permuting the units of hidden layer l (rows of W_l and entries of b_l, with
 * the columns of W_{l+1} permuted the same way) leaves the network's function
 * unchanged, so n restarts can land on n! copies of one minimum. The
 * canonical form picks one copy: for l = 1..L-1 in order, the units of layer
 * l are sorted lexicographically on (W_l row, b_l) -- the row read after the
 * permutation of layer l-1 has been applied to its columns -- and the
 * permutation carried into W_{l+1}'s columns. Two points are the same entry
 * when their canonical forms agree entrywise within tol * (1 + |x|).
 *
 * Limits, stated: units whose incoming weights agree to within the noise of
 * the run in their first differing entry can sort differently in two copies,
 * which then count as two entries (the catalogue over-counts, it never merges
 * different points); other symmetries (tanh's sign flip, ReLU's positive
 * rescaling) are not quotiented out. */
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

mn_status mn_canonicalize(double *canon, const mn_model *model, const double *theta)
{
    const mn_spec *s = mn_model_spec(model);
    const size_t P = mn_model_nparams(model);
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
