/* The objective interface's hooks with their fallbacks (a Hessian from
 * products, products from a Hessian), and the Hessian restricted to the free
 * parameters, shared by certification, the Newton polish, the escape search
 * and the spectrum. */
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

void mn_objective_free(mn_objective *f)
{
    if (!f) return;
    if (f->destroy) f->destroy(f->params);
    free(f);
}

mn_status mn_objective_check(const mn_objective *f)
{
    if (!f) return mn_fail(MN_EINVAL, "objective: NULL");
    if (f->n < 1) return mn_fail(MN_EINVAL, "objective: dimension 0");
    if (!f->fdf) return mn_fail(MN_EINVAL, "objective: no value/gradient function (fdf)");
    if (!f->hvp && !f->hessian) return mn_fail(MN_EINVAL, "objective: neither Hessian-vector products nor a Hessian");
    if (f->fdf_rows && f->nsamples < 1) return mn_fail(MN_EINVAL, "objective: minibatches over %d samples", f->nsamples);
    return MN_OK;
}

size_t mn_objective_nfree(const mn_objective *f)
{
    if (!f->mask) return f->n;
    size_t nf = 0;
    for (size_t i = 0; i < f->n; i++) nf += f->mask[i] != 0;
    return nf;
}

mn_status mn_objective_fdf(const mn_objective *f, const double *x, double *val, double *g)
{
    return f->fdf(f->params, x, val, g);
}

mn_status mn_objective_hvp(const mn_objective *f, const double *x, const double *v, double *hv)
{
    if (f->hvp) return f->hvp(f->params, x, v, hv);
    const size_t n = f->n;
    double *h = malloc(n * n * sizeof *h);
    if (!h) return mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", n, n);
    mn_status st = f->hessian(f->params, x, h);
    for (size_t i = 0; i < n && !st; i++) {
        double s = 0;
        for (size_t j = 0; j < n; j++) s += h[i * n + j] * v[j];
        hv[i] = s;
    }
    free(h);
    return st;
}

/* Columns c of the free block from products with unit vectors e (n, zero on
 * entry and exit), then symmetrised: the same numbers a full Hessian from n
 * products gives, restricted. idx (nf): the free indices. */
static mn_status by_products(const mn_objective *f, const double *x, const size_t *idx, size_t nf, double *sub,
                             double *e, double *col)
{
    for (size_t c = 0; c < nf; c++) {
        e[idx[c]] = 1.0;
        mn_status st = mn_objective_hvp(f, x, e, col);
        e[idx[c]] = 0.0;
        if (st) return st;
        for (size_t r = 0; r < nf; r++) sub[r * nf + c] = col[idx[r]];
    }
    /* Each column is exact up to rounding; average with its row. */
    for (size_t i = 0; i < nf; i++)
        for (size_t j = i + 1; j < nf; j++) {
            double a = 0.5 * (sub[i * nf + j] + sub[j * nf + i]);
            sub[i * nf + j] = sub[j * nf + i] = a;
        }
    return MN_OK;
}

mn_status mn_objective_hessian(const mn_objective *f, const double *x, double *h)
{
    if (f->hessian) return f->hessian(f->params, x, h);
    const size_t n = f->n;
    double *e = calloc(2 * n, sizeof *e);
    size_t *idx = malloc(n * sizeof *idx);
    mn_status st = e && idx ? MN_OK : mn_fail(MN_ENOMEM, "out of memory for a Hessian of %zu parameters", n);
    for (size_t i = 0; i < n && !st; i++) idx[i] = i;
    if (!st) st = by_products(f, x, idx, n, h, e, e + n);
    free(e), free(idx);
    return st;
}

/* Column by column (one product per free parameter) when most parameters
 * are frozen in a large model: the full n x n would not fit comfortably. */
static int by_column(const mn_objective *f, size_t nf) { return nf < f->n && f->n > 4096; }

size_t mn_objective_hessian_scratch(const mn_objective *f)
{
    return by_column(f, mn_objective_nfree(f)) ? 2 * f->n : f->n * f->n;
}

mn_status mn_objective_free_hessian(const mn_objective *f, const double *x, double *sub, double *scratch)
{
    const size_t n = f->n, nf = mn_objective_nfree(f);
    double *own = NULL;
    if (!scratch) {
        scratch = own = malloc(mn_objective_hessian_scratch(f) * sizeof *own);
        if (!own) return mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", n, n);
    }
    mn_status st = MN_OK;
    if (!by_column(f, nf)) {
        st = mn_objective_hessian(f, x, scratch);
        if (!st && f->mask)
            mn_restrict(sub, scratch, f->mask, (int)n);
        else if (!st)
            memcpy(sub, scratch, n * n * sizeof *sub);
    } else {
        size_t *idx = malloc(nf * sizeof *idx);
        if (!idx) st = mn_fail(MN_ENOMEM, "out of memory for %zu free indices", nf);
        for (size_t i = 0, j = 0; i < n && !st; i++)
            if (f->mask[i]) idx[j++] = i;
        memset(scratch, 0, n * sizeof *scratch);
        if (!st) st = by_products(f, x, idx, nf, sub, scratch, scratch + n);
        free(idx);
    }
    free(own);
    return st;
}
