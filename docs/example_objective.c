/* A user's objective f(x, y) = (x - 1)^2 + 2 (y - x^2)^2 (minimum 0 at (1, 1)): L-BFGS, then a certificate. */
#include <stdio.h>
#include "minima/objective.h"
static mn_status fdf(void *params, const double *x, double *f, double *g)
{
    const double u = x[1] - x[0] * x[0];
    *f = (x[0] - 1) * (x[0] - 1) + 2 * u * u;
    if (g) g[0] = 2 * (x[0] - 1) - 8 * x[0] * u, g[1] = 4 * u;
    return MN_OK;
}
static mn_status hessian(void *params, const double *x, double *h) /* (2 x 2) */
{
    h[0] = 2 - 8 * (x[1] - x[0] * x[0]) + 16 * x[0] * x[0], h[1] = h[2] = -8 * x[0], h[3] = 4;
    return MN_OK;
}
int main(void)
{
    const mn_objective f = {.n = 2, .fdf = fdf, .hessian = hessian, .nonnegative = 1}; /* a sum of squares */
    mn_opt_params prm;
    mn_opt_params_default(&prm), prm.kind = MN_OPT_LBFGS;
    mn_optim *opt;
    mn_cert c;
    if (mn_optim_alloc_objective(&opt, &f, &prm, (const double[2]){-1.5, 2.385})) return fprintf(stderr, "%s\n", mn_last_error()), 1;
    while (mn_optim_test(opt, 1e-10) == MN_RUN_RUNNING && mn_optim_iter(opt) < 1000) mn_optim_iterate(opt);
    if (mn_certify_objective(&c, &f, mn_optim_theta(opt), 0, NULL)) return fprintf(stderr, "%s\n", mn_last_error()), 1;
    printf("(%.6f, %.6f) after %ld steps: class %s, gradient norm %.1e, smallest eigenvalue %.6f\n", mn_optim_theta(opt)[0],
           mn_optim_theta(opt)[1], mn_optim_iter(opt), mn_class_name(c.cls), c.gnorm, c.lambda_min);
    mn_optim_free(opt);
    return c.cls != MN_CLASS_GLOBAL;
}
