/* Judging a run, one rule for every defence (minima.h, mn_judge): the
 * original network after the defence is removed gets mn_certify's rule; the
 * defended point is described beside it. Added neurons sit at the end of the
 * parameter vector (mn_model_elim_offset), so the original network's
 * parameters are theta's first P0 entries. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"

/* 1 when the two output tables (n x K) predict differently on some sample:
 * the argmax for softmax, else the sign of each output. */
static int predictions_differ(const double *f, const double *g, int n, int K, int softmax)
{
    for (int i = 0; i < n; i++) {
        const double *a = f + (size_t)i * K, *b = g + (size_t)i * K;
        if (softmax) {
            int ka = 0, kb = 0;
            for (int k = 1; k < K; k++) ka = a[k] > a[ka] ? k : ka, kb = b[k] > b[kb] ? k : kb;
            if (ka != kb) return 1;
        } else {
            for (int k = 0; k < K; k++)
                if ((a[k] > 0) != (b[k] > 0)) return 1;
        }
    }
    return 0;
}

/* The defended objective at theta: value, free-gradient norm (NaN when not
 * finite) and the outputs (n x K) with the defence in place. *finite = 0
 * when an evaluation overflowed. */
static mn_status defended(mn_judgement *out, double *f, int *finite, const mn_model *model, mn_work *work,
                          const mn_data *data, const double *theta)
{
    const size_t P = mn_model_nparams(model);
    double *g = malloc(P * sizeof *g);
    unsigned char *mask = malloc(P);
    if (!g || !mask) {
        free(g), free(mask);
        return mn_fail(MN_ENOMEM, "out of memory in mn_judge");
    }
    mn_model_free_mask(model, mask);
    double loss = NAN;
    mn_status st = mn_eval(model, work, data, theta, &loss, g);
    if (!st) st = mn_predict(model, work, data, theta, f);
    *finite = st != MN_ERANGE && isfinite(loss);
    if (st == MN_ERANGE) st = MN_OK;
    if (!st && *finite) {
        out->defended_loss = loss;
        out->defended_gnorm = mn_norm2(g, P, mask);
    }
    if (!st) st = mn_elim_activity(&out->elim_output, model, data, theta);
    free(g), free(mask);
    return st;
}

mn_status mn_judge(mn_judgement *out, const mn_model *model, const mn_data *data, const double *theta,
                   int diverged, const mn_cert_opts *opts)
{
    mn_cert_opts def;
    if (!opts) mn_cert_opts_default(&def), opts = &def;
    memset(out, 0, sizeof *out);
    out->defended_loss = out->defended_gnorm = NAN;
    const mn_spec *sp = mn_model_spec(model);
    const int n = mn_data_n(data), K = sp->width[sp->depth];
    mn_spec s0 = *sp;
    s0.elim = MN_ELIM_NONE;
    mn_model *orig = NULL;
    mn_work *wd = NULL, *wo = NULL;
    double *fd = malloc((size_t)n * (size_t)K * sizeof *fd), *fo = malloc((size_t)n * (size_t)K * sizeof *fo);
    mn_status st = fd && fo ? MN_OK : mn_fail(MN_ENOMEM, "out of memory in mn_judge");
    if (!st) st = mn_model_alloc(&orig, &s0);
    if (!st) st = mn_work_alloc(&wd, model, n);
    if (!st) st = mn_work_alloc(&wo, orig, n);
    int finite = 0;
    if (!st) st = defended(out, fd, &finite, model, wd, data, theta);
    /* The original network's parameters: theta without the added neurons'. */
    if (!st) st = mn_certify(&out->cert, orig, wo, data, theta, diverged || !finite, opts);
    int fo_ok = 0;
    if (!st && isfinite(out->cert.loss)) {
        st = mn_predict(orig, wo, data, theta, fo);
        fo_ok = !st;
        if (st == MN_ERANGE) st = MN_OK;
    }
    if (!st && mn_model_nelim(model) > 0)
        out->drop_changes_prediction =
            !finite || !fo_ok || predictions_differ(fd, fo, n, K, sp->loss == MN_LOSS_SOFTMAX_CE);
    /* the squared loss's certificate has no accuracy: mn_accuracy's sign
     * accuracy on labels -1 / +1, else none */
    if (fo_ok && isnan(out->cert.accuracy) && sp->loss == MN_LOSS_SQUARED &&
        mn_accuracy(orig, wo, data, theta, &out->cert.accuracy))
        out->cert.accuracy = NAN;
    out->defended_critical = !diverged && finite && out->defended_gnorm <= opts->gtol;
    free(fd), free(fo);
    mn_work_free(wd), mn_work_free(wo);
    mn_model_free(orig);
    return st;
}
