/* minima certify: is a given point a bad local minimum, and does a defence
 * remove it? The point is certified in the plain network (gradient, Hessian
 * spectrum, class, and a search for a verified descent direction, higher
 * orders included); with --eliminate it is then embedded with a = 0 into the
 * augmented network, the added neurons' w chosen to make dL/da largest, and
 * the same search is run there. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void escape_json(jw *w, const char *key, const mn_escape *e)
{
    jw_obj(w, key);
    jw_bool(w, "escaped", e->escaped);
    jw_str(w, "order", e->order == 1 ? "gradient" : e->order == 2 ? "negative-curvature"
                       : e->order == 3 ? "higher-order" : "none");
    if (e->escaped) {
        jw_num(w, "slope", e->slope);
        jw_num(w, "curvature", e->curvature);
        jw_num(w, "step", e->step);
        jw_num(w, "decrease", e->decrease);
    }
    jw_num(w, "margin", e->margin);
    jw_end(w);
}

static void cert_json(jw *w, const mn_cert *c)
{
    jw_str(w, "class", mn_class_name(c->cls));
    jw_num(w, "loss", c->loss);
    jw_num(w, "grad_norm", c->gnorm);
    if (!isnan(c->lambda_min)) jw_num(w, "lambda_min", c->lambda_min);
    if (!isnan(c->lambda_max)) jw_num(w, "lambda_max", c->lambda_max);
    if (isfinite(c->kink_margin)) jw_num(w, "kink_margin", c->kink_margin);
    jw_bool(w, "near_kink", c->near_kink);
    if (!isnan(c->accuracy)) jw_num(w, "accuracy", c->accuracy);
}

int cmd_certify(int argc, char **argv)
{
    cli_opts o = {.cmd = "certify", .cmd_bit = MN_CMD_CERTIFY};
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    if (!o.point_path) {
        fprintf(stderr, "minima certify: --point FILE is required\n");
        return 1;
    }
    const mn_elim elim = o.run.spec.elim;
    o.run.spec.elim = MN_ELIM_NONE; /* the point belongs to the plain network */
    mn_data *data = NULL;
    mn_model *plain = NULL, *aug = NULL;
    mn_work *wp = NULL, *wa = NULL;
    double *theta = NULL, *dir = NULL, *ta = NULL, *da = NULL;
    int rc = 1;
    if (mn_setting_build(&data, &plain, &o.run)) goto fail;
    const size_t P = mn_model_nparams(plain);
    theta = malloc(P * sizeof *theta);
    dir = malloc(P * sizeof *dir);
    if (!theta || !dir) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    if (cli_read_params(o.point_path, theta, P)) goto fail;
    if (mn_work_alloc(&wp, plain, mn_data_n(data))) goto fail;
    mn_sweep_setting rs = {0};
    mn_setting_run(&rs, &o.run); /* its certificate options */
    const mn_cert_opts co = rs.cert;
    mn_cert cp;
    mn_escape ep;
    if (mn_certify(&cp, plain, wp, data, theta, 0, &co)) goto fail;
    if (mn_find_escape(&ep, dir, plain, wp, data, theta, co.eig_tol)) goto fail;

    mn_cert ca;
    mn_escape ea;
    double best = 0;
    if (elim != MN_ELIM_NONE) {
        mn_spec s = *mn_model_spec(plain); /* widths as built, --arch or default */
        s.elim = elim;
        if (mn_model_alloc(&aug, &s)) goto fail;
        const size_t PA = mn_model_nparams(aug);
        ta = malloc(PA * sizeof *ta);
        da = malloc(PA * sizeof *da);
        if (!ta || !da) {
            mn_fail(MN_ENOMEM, "out of memory");
            goto fail;
        }
        if (mn_work_alloc(&wa, aug, mn_data_n(data))) goto fail;
        if (mn_embed(ta, aug, plain, theta, NULL, 0.0)) goto fail;
        if (mn_embed_best(&best, ta, aug, wa, data, o.run.trials, o.run.seed)) goto fail;
        if (mn_certify(&ca, aug, wa, data, ta, 0, &co)) goto fail;
        if (mn_find_escape(&ea, da, aug, wa, data, ta, co.eig_tol)) goto fail;
    }
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_obj(&w, "point");
    jw_int(&w, "params", (long long)P);
    cert_json(&w, &cp);
    escape_json(&w, "escape", &ep);
    /* undecided (null) for a minimum when the global value is not known */
    const int bad = mn_cert_bad(&cp, ep.escaped, co.global_loss);
    if (bad < 0)
        jw_num(&w, "bad_local_minimum", NAN);
    else
        jw_bool(&w, "bad_local_minimum", bad);
    jw_num(&w, "global_loss", co.global_loss);
    jw_end(&w);
    if (aug) {
        jw_obj(&w, "defence");
        jw_str(&w, "eliminate", mn_elim_name(elim));
        jw_num(&w, "lambda", o.run.spec.lambda);
        jw_num(&w, "max_abs_dL_da", best);
        cert_json(&w, &ca);
        escape_json(&w, "escape", &ea);
        jw_str(&w, "verdict", ea.escaped ? "escaped" : "stays");
        jw_end(&w);
    }
    jw_end(&w);
    rc = fflush(stdout) ? 1 : 0;
    if (rc) fprintf(stderr, "minima certify: cannot write the output\n");
    goto done;
fail:
    cli_error("certify");
done:
    free(theta), free(dir), free(ta), free(da);
    mn_work_free(wp);
    mn_work_free(wa);
    mn_model_free(plain);
    mn_model_free(aug);
    mn_data_free(data);
    return rc;
}
