/* The population loss of a deep linear residual network (Bartlett, Helmbold
 * and Long 2018): h(x) = Theta_L ... Theta_1 x with isotropic inputs,
 * f = (1/2) ||Theta_L ... Theta_1 - Phi||_F^2 (see minima/objective.h).
 * Exact gradient and Hessian-vector products by the product rule over the
 * prefix products B_i = Theta_i ... Theta_1 and the suffix products
 * A_i = Theta_L ... Theta_{i+1}; tests/test_residual.c checks both against
 * central differences. Small d: plain loops, summed in a fixed order. */
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

typedef struct {
    int d, L;
    double *phi;    /* (d x d) the target */
    double *B, *dB; /* (L + 1) x (d x d): B_i = Theta_i ... Theta_1 (B_0 = I) and its derivative */
    double *A, *dA; /* (d x d) running suffix product and its derivative */
    double *E, *dE; /* (d x d) residual B_L - Phi and its derivative */
    double *M, *T;  /* (d x d) scratch */
} resid;

/* c (+)= op(a) op(b), d x d row-major; ta / tb: transpose a / b. */
static void mm(double *c, const double *a, int ta, const double *b, int tb, int d, int acc)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += (ta ? a[k * d + i] : a[i * d + k]) * (tb ? b[j * d + k] : b[k * d + j]);
            c[i * d + j] = acc ? c[i * d + j] + s : s;
        }
}

static void eye(double *a, int d)
{
    memset(a, 0, (size_t)d * d * sizeof *a);
    for (int i = 0; i < d; i++) a[i * d + i] = 1;
}

/* B_i for i = 0..L and E = B_L - Phi. */
static void forward(resid *r, const double *x)
{
    const int d = r->d, dd = d * d;
    eye(r->B, d);
    for (int i = 1; i <= r->L; i++) mm(r->B + (size_t)i * dd, x + (size_t)(i - 1) * dd, 0, r->B + (size_t)(i - 1) * dd, 0, d, 0);
    for (int k = 0; k < dd; k++) r->E[k] = r->B[(size_t)r->L * dd + k] - r->phi[k];
}

static mn_status resid_fdf(void *p, const double *x, double *f, double *g)
{
    resid *r = p;
    const int d = r->d, dd = d * d;
    forward(r, x);
    double s = 0;
    for (int k = 0; k < dd; k++) s += r->E[k] * r->E[k];
    *f = s / 2;
    if (!g) return MN_OK;
    /* dF/dTheta_i = A_i^T E B_{i-1}^T, i = L..1, A_L = I, A_{i-1} = A_i Theta_i */
    eye(r->A, d);
    for (int i = r->L; i >= 1; i--) {
        const double *th = x + (size_t)(i - 1) * dd;
        mm(r->M, r->A, 1, r->E, 0, d, 0);
        mm(g + (size_t)(i - 1) * dd, r->M, 0, r->B + (size_t)(i - 1) * dd, 1, d, 0);
        mm(r->T, r->A, 0, th, 0, d, 0);
        memcpy(r->A, r->T, (size_t)dd * sizeof *r->A);
    }
    return MN_OK;
}

/* The derivative of the gradient along v: with dB_i = V_i B_{i-1} +
 * Theta_i dB_{i-1}, dE = dB_L and dA_{i-1} = dA_i Theta_i + A_i V_i,
 * H v for layer i = dA_i^T E B_{i-1}^T + A_i^T dE B_{i-1}^T + A_i^T E dB_{i-1}^T. */
static mn_status resid_hvp(void *p, const double *x, const double *v, double *hv)
{
    resid *r = p;
    const int d = r->d, dd = d * d;
    forward(r, x);
    memset(r->dB, 0, (size_t)dd * sizeof *r->dB);
    for (int i = 1; i <= r->L; i++) {
        double *db = r->dB + (size_t)i * dd;
        mm(db, v + (size_t)(i - 1) * dd, 0, r->B + (size_t)(i - 1) * dd, 0, d, 0);
        mm(db, x + (size_t)(i - 1) * dd, 0, r->dB + (size_t)(i - 1) * dd, 0, d, 1);
    }
    memcpy(r->dE, r->dB + (size_t)r->L * dd, (size_t)dd * sizeof *r->dE);
    eye(r->A, d);
    memset(r->dA, 0, (size_t)dd * sizeof *r->dA);
    for (int i = r->L; i >= 1; i--) {
        const double *th = x + (size_t)(i - 1) * dd, *vi = v + (size_t)(i - 1) * dd;
        const double *b = r->B + (size_t)(i - 1) * dd, *db = r->dB + (size_t)(i - 1) * dd;
        double *h = hv + (size_t)(i - 1) * dd;
        mm(r->M, r->dA, 1, r->E, 0, d, 0);
        mm(r->M, r->A, 1, r->dE, 0, d, 1);
        mm(h, r->M, 0, b, 1, d, 0);
        mm(r->M, r->A, 1, r->E, 0, d, 0);
        mm(h, r->M, 0, db, 1, d, 1);
        mm(r->T, r->dA, 0, th, 0, d, 0);
        mm(r->T, r->A, 0, vi, 0, d, 1);
        memcpy(r->dA, r->T, (size_t)dd * sizeof *r->dA);
        mm(r->T, r->A, 0, th, 0, d, 0);
        memcpy(r->A, r->T, (size_t)dd * sizeof *r->A);
    }
    return MN_OK;
}

static void resid_destroy(void *p)
{
    resid *r = p;
    if (!r) return;
    free(r->phi), free(r->B), free(r->dB), free(r->A), free(r->dA), free(r->E), free(r->dE), free(r->M), free(r->T);
    free(r);
}

mn_status mn_resid_objective_alloc(mn_objective **out, int d, int L, const double *phi)
{
    *out = NULL;
    if (d < 1 || d > MN_RESID_MAX_D || L < 1 || L > MN_RESID_MAX_L || !phi)
        return mn_fail(MN_EINVAL, "residual objective: d %d (1..%d), depth %d (1..%d) and a target are needed", d,
                       MN_RESID_MAX_D, L, MN_RESID_MAX_L);
    const size_t dd = (size_t)d * d;
    resid *r = calloc(1, sizeof *r);
    mn_objective *f = calloc(1, sizeof *f);
    if (r) {
        r->d = d, r->L = L;
        r->phi = malloc(dd * sizeof *r->phi);
        r->B = malloc((size_t)(L + 1) * dd * sizeof *r->B);
        r->dB = malloc((size_t)(L + 1) * dd * sizeof *r->dB);
        r->A = malloc(dd * sizeof *r->A), r->dA = malloc(dd * sizeof *r->dA);
        r->E = malloc(dd * sizeof *r->E), r->dE = malloc(dd * sizeof *r->dE);
        r->M = malloc(dd * sizeof *r->M), r->T = malloc(dd * sizeof *r->T);
    }
    if (!f || !r || !r->phi || !r->B || !r->dB || !r->A || !r->dA || !r->E || !r->dE || !r->M || !r->T) {
        resid_destroy(r), free(f);
        return mn_fail(MN_ENOMEM, "residual objective: out of memory (d %d, depth %d)", d, L);
    }
    memcpy(r->phi, phi, dd * sizeof *phi);
    *f = (mn_objective){.n = (size_t)L * dd, .params = r, .fdf = resid_fdf, .hvp = resid_hvp,
                        .destroy = resid_destroy};
    *out = f;
    return MN_OK;
}
