/* Analytic test functions (see minima/objective.h): a curved valley
 * (Rosenbrock), a strict saddle, and the degenerate saddle of a scalar deep
 * linear chain. Exact derivatives; tests/test_objective.c checks each
 * against central differences. Rosenbrock gives products only and the chain
 * a dense Hessian only, so both fallbacks of the interface are exercised. */
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

typedef struct {
    int n;
} testfn;

static const char *const names[MN_NTESTFN] = {"rosenbrock", "saddle", "chain"};

const char *mn_testfn_name(mn_testfn t) { return (unsigned)t < MN_NTESTFN ? names[t] : "unknown"; }

/* Rosenbrock: sum_{i<n-1} 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2. */
static mn_status rosen_fdf(void *p, const double *x, double *f, double *g)
{
    const int n = ((testfn *)p)->n;
    double s = 0;
    if (g) memset(g, 0, (size_t)n * sizeof *g);
    for (int i = 0; i + 1 < n; i++) {
        const double u = x[i + 1] - x[i] * x[i], v = 1 - x[i];
        s += 100 * u * u + v * v;
        if (g) {
            g[i] += -400 * x[i] * u - 2 * v;
            g[i + 1] += 200 * u;
        }
    }
    *f = s;
    return MN_OK;
}

/* H is tridiagonal: H_ii = 1200 x_i^2 - 400 x_{i+1} + 2 (+ 200 from the term
 * before), H_{i,i+1} = -400 x_i. */
static mn_status rosen_hvp(void *p, const double *x, const double *v, double *hv)
{
    const int n = ((testfn *)p)->n;
    memset(hv, 0, (size_t)n * sizeof *hv);
    for (int i = 0; i + 1 < n; i++) {
        const double hii = 1200 * x[i] * x[i] - 400 * x[i + 1] + 2, hij = -400 * x[i];
        hv[i] += hii * v[i] + hij * v[i + 1];
        hv[i + 1] += hij * v[i] + 200 * v[i + 1];
    }
    return MN_OK;
}

/* Strict saddle: x_0^4 / 4 - x_0^2 / 2 + (1/2) sum_{i>=1} x_i^2. */
static mn_status saddle_fdf(void *p, const double *x, double *f, double *g)
{
    const int n = ((testfn *)p)->n;
    double s = x[0] * x[0] * x[0] * x[0] / 4 - x[0] * x[0] / 2;
    for (int i = 1; i < n; i++) s += x[i] * x[i] / 2;
    *f = s;
    if (g) {
        g[0] = x[0] * x[0] * x[0] - x[0];
        for (int i = 1; i < n; i++) g[i] = x[i];
    }
    return MN_OK;
}

static mn_status saddle_hvp(void *p, const double *x, const double *v, double *hv)
{
    const int n = ((testfn *)p)->n;
    hv[0] = (3 * x[0] * x[0] - 1) * v[0];
    for (int i = 1; i < n; i++) hv[i] = v[i];
    return MN_OK;
}

static mn_status saddle_hessian(void *p, const double *x, double *h)
{
    const int n = ((testfn *)p)->n;
    memset(h, 0, (size_t)n * n * sizeof *h);
    h[0] = 3 * x[0] * x[0] - 1;
    for (int i = 1; i < n; i++) h[(size_t)i * n + i] = 1;
    return MN_OK;
}

/* Product of x over all indices but i and j (j = -1: only i left out);
 * no division, so zeros are fine. */
static double prod_but(const double *x, int n, int i, int j)
{
    double q = 1;
    for (int k = 0; k < n; k++)
        if (k != i && k != j) q *= x[k];
    return q;
}

/* Chain: (1/2) (1 - prod x)^2; with r = 1 - prod x and q_i = prod_{k != i} x_k,
 * g_i = -r q_i, H_ii = q_i^2, H_ij = q_i q_j - r q_ij (i != j). */
static mn_status chain_fdf(void *p, const double *x, double *f, double *g)
{
    const int n = ((testfn *)p)->n;
    const double r = 1 - prod_but(x, n, -1, -1);
    *f = 0.5 * r * r;
    if (g)
        for (int i = 0; i < n; i++) g[i] = -r * prod_but(x, n, i, -1);
    return MN_OK;
}

static mn_status chain_hessian(void *p, const double *x, double *h)
{
    const int n = ((testfn *)p)->n;
    const double r = 1 - prod_but(x, n, -1, -1);
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            const double qi = prod_but(x, n, i, -1), qj = prod_but(x, n, j, -1);
            h[(size_t)i * n + j] = i == j ? qi * qi : qi * qj - r * prod_but(x, n, i, j);
        }
    return MN_OK;
}

mn_status mn_testfn_objective_alloc(mn_objective **out, mn_testfn kind, int n)
{
    *out = NULL;
    const int nmin = kind == MN_TESTFN_CHAIN ? 3 : 2;
    if ((unsigned)kind >= MN_NTESTFN) return mn_fail(MN_EINVAL, "unknown test function %d", (int)kind);
    if (n < nmin || n > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "test function %s: dimension %d (expected %d..%d)", names[kind], n, nmin,
                       MN_MAX_WIDTH);
    mn_objective *f = calloc(1, sizeof *f);
    testfn *c = f ? malloc(sizeof *c) : NULL;
    if (!c) {
        free(f);
        return mn_fail(MN_ENOMEM, "out of memory for a test function");
    }
    c->n = n;
    *f = (mn_objective){.n = (size_t)n, .params = c, .destroy = free};
    switch (kind) {
    case MN_TESTFN_ROSENBROCK: f->fdf = rosen_fdf, f->hvp = rosen_hvp, f->nonnegative = 1; break;
    case MN_TESTFN_SADDLE: f->fdf = saddle_fdf, f->hvp = saddle_hvp, f->hessian = saddle_hessian; break;
    case MN_TESTFN_CHAIN: f->fdf = chain_fdf, f->hessian = chain_hessian, f->nonnegative = 1; break;
    }
    *out = f;
    return MN_OK;
}
