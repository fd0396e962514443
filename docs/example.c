/* The installed library in a dozen calls: noisy XOR data, a 2-2-1 tanh network,
 * L-BFGS to a critical point, the point certified. Build it against an
 * installed minima:
 *   cc example.c $(pkg-config --cflags --libs minima) -o example
 * Prints: loss, gradient norm, class and smallest Hessian eigenvalue. */
#include <minima.h>
#include <stdio.h>
#include <stdlib.h>

static int fail(const char *what)
{
    fprintf(stderr, "example: %s: %s\n", what, mn_last_error());
    return 1;
}

int main(void)
{
    mn_spec spec;
    mn_spec_default(&spec);
    spec.act = MN_ACT_TANH;
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_work *work = NULL;
    mn_optim *opt = NULL;
    if (mn_spec_parse_arch(&spec, "2-2-1")) return fail("arch");
    if (mn_gen_xor(&data, 100, 0.1, 1)) return fail("data");
    if (mn_model_alloc(&model, &spec) || mn_work_alloc(&work, model, mn_data_n(data))) return fail("model");
    const size_t P = mn_model_nparams(model);
    double *theta = malloc(P * sizeof *theta);
    if (!theta) return fail("theta");
    mn_model_init(model, theta, 1, 1.0);

    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_LBFGS;
    if (mn_optim_alloc(&opt, model, work, data, &prm, theta)) return fail("optimiser");
    while (mn_optim_iter(opt) < 5000 && mn_optim_test(opt, 1e-9) == MN_RUN_RUNNING)
        if (mn_optim_iterate(opt)) return fail("iterate");

    mn_cert cert;
    if (mn_certify(&cert, model, work, data, mn_optim_theta(opt), 0, NULL)) return fail("certify");
    printf("minima %s: %zu parameters, %ld L-BFGS steps, loss %.6f, gradient norm %.1e, %s, lambda_min %.3g\n",
           MN_VERSION, P, mn_optim_iter(opt), cert.loss, cert.gnorm, mn_class_name(cert.cls), cert.lambda_min);
    mn_optim_free(opt);
    free(theta);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    return 0;
}
