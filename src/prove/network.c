/* The proof for a point of a network's empirical loss (the argument of
 * src/prove/prove.c on the objective of src/prove/net_ball.c). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "prove/internal.h"

static int net_float_hess(void *ctx, const double *c, double *H)
{
    pv_net *nb = ctx;
    return mn_hessian(nb->model, nb->work, nb->data, c, H) != MN_OK;
}

/* Checks shared by the entry points: the model is covered, data fits, theta finite. */
static mn_status net_check(const mn_model *model, const mn_data *data, const double *theta)
{
    mn_status st = mn_prove_network_supported(model);
    if (st || (st = mn_model_check_data(model, data))) return st;
    const size_t P = mn_model_nparams(model);
    for (size_t a = 0; a < P; a++)
        if (!isfinite(theta[a])) return mn_fail(MN_EINVAL, "prove: parameter %zu is not finite", a + 1);
    return MN_OK;
}

mn_status mn_prove_network_loss(double *lo, double *hi, const mn_model *model, const mn_data *data,
                                const double *theta)
{
    mn_status st = net_check(model, data, theta);
    if (st) return st;
    pv_net nb;
    pv_net_init(&nb, model, data);
    pv_net_point(&nb, theta);
    arb_t F;
    arb_init(F);
    pv_net_eval(&nb, F, NULL, NULL);
    *lo = pv_lower(F), *hi = pv_upper(F);
    arb_clear(F);
    pv_net_clear(&nb);
    flint_cleanup();
    return MN_OK;
}

mn_status mn_prove_network(mn_prove_result *res, double *centre, const mn_model *model, const mn_data *data,
                           const double *theta, double global_upper)
{
    const double t0 = omp_get_wtime();
    pv_result_init(res);
    mn_status st = net_check(model, data, theta);
    if (st) return st;
    if (isinf(global_upper) || (!isnan(global_upper) && !isfinite(global_upper)))
        return mn_fail(MN_EINVAL, "prove: the global value's upper bound must be finite (or NaN: unknown)");
    const int P = (int)mn_model_nparams(model);
    pv_prover p;
    if ((st = pv_prover_alloc_buffers(&p, P))) return st;
    pv_net nb;
    pv_net_init(&nb, model, data);
    if ((st = mn_work_alloc(&nb.work, model, mn_data_n(data)))) {
        pv_net_clear(&nb);
        pv_prover_free(&p);
        return st;
    }
    p.obj = (pv_objective){.ctx = &nb, .set = pv_net_set, .eval = pv_net_eval, .float_hess = net_float_hess};
    p.global_upper = global_upper;
    double *c = malloc((size_t)P * sizeof *c);
    if (!c) st = mn_fail(MN_ENOMEM, "prove: out of memory");
    else {
        memcpy(c, theta, (size_t)P * sizeof *c);
        pv_prove_with(&p, res, c);
        if (centre) memcpy(centre, c, (size_t)P * sizeof *c);
    }
    free(c);
    mn_work_free(nb.work);
    pv_net_clear(&nb);
    pv_prover_free(&p);
    flint_cleanup();
    res->seconds = omp_get_wtime() - t0;
    return st;
}
