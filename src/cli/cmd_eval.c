/* minima eval: loss, gradient and Hessian at given parameters, as one JSON
 * object. The stable interface other tools use to cross-check derivatives. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cmd_eval(int argc, char **argv)
{
    cli_opts o = {.cmd = "eval", .cmd_bit = MN_CMD_EVAL};
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    if (!o.params_path) {
        fprintf(stderr, "minima eval: --params FILE is required\n");
        return 1;
    }
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_work *work = NULL;
    double *theta = NULL, *grad = NULL, *hess = NULL, *evals = NULL;
    int rc = 1;
    if (mn_setting_build(&data, &model, &o.run)) goto fail;
    const size_t P = mn_model_nparams(model);
    if (o.hessian && P > 20000) {
        mn_fail(MN_EINVAL, "--hessian: %zu parameters is past the 20000 a dense Hessian allows", P);
        goto fail;
    }
    theta = malloc(P * sizeof *theta);
    grad = malloc(P * sizeof *grad);
    if (!theta || !grad) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    if (cli_read_params(o.params_path, theta, P)) goto fail;
    if (mn_work_alloc(&work, model, mn_data_n(data))) goto fail;
    double loss;
    if (mn_eval(model, work, data, theta, &loss, grad)) goto fail;
    int nfree = 0;
    if (o.hessian) {
        hess = malloc(P * P * sizeof *hess);
        evals = malloc(P * sizeof *evals);
        if (!hess || !evals) {
            mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", P, P);
            goto fail;
        }
        if (cli_spectrum(model, work, data, theta, hess, evals, &nfree)) goto fail;
    }
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_int(&w, "params", (long long)P);
    jw_num(&w, "loss", loss);
    jw_nums(&w, "grad", grad, P);
    if (o.hessian) {
        jw_arr(&w, "hessian");
        for (size_t i = 0; i < P; i++) jw_nums(&w, NULL, hess + i * P, P);
        jw_end(&w);
        jw_int(&w, "free_params", nfree);
        jw_nums(&w, "eigenvalues", evals, (size_t)nfree);
    }
    jw_end(&w);
    rc = fflush(stdout) ? 1 : 0;
    if (rc) fprintf(stderr, "minima eval: cannot write the output\n");
    goto done;
fail:
    cli_error("eval");
done:
    free(theta), free(grad), free(hess), free(evals);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    return rc;
}
