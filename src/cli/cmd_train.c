/* minima train: one optimiser run from a seeded initialisation, an optional
 * Newton polish, and a JSON summary that certifies the end point. The run is
 * mn_run_seeded, the very function a sweep runs, so `train --seed S`
 * reproduces a sweep's run with seed S bit for bit. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"
#include "minima/sweep.h"

/* The progress line on stderr (a terminal, without --quiet): steps done of
 * the cap, loss, gradient norm, time; drawn from 0.25 s on, at most five
 * times a second, and ended with a newline once drawn. */
typedef struct {
    double t0, last;
    int drawn;
} train_progress;

static void show_progress(void *ctx, long iter, long steps, double loss, double gnorm, int final)
{
    train_progress *p = ctx;
    const double t = omp_get_wtime() - p->t0;
    if (final ? !p->drawn : t < 0.25 || t - p->last < 0.2) return;
    p->last = t, p->drawn = 1;
    fprintf(stderr, "\rtrain: step %ld/%ld (%.0f%%), loss %.6g, gradient norm %.3g, %.1f s, at most ~%.0f s left\033[K",
            iter, steps, 100.0 * (double)iter / (double)steps, loss, gnorm, t,
            iter > 0 ? t * (double)(steps - iter) / (double)iter : 0.0);
    fflush(stderr);
}

int cmd_train(int argc, char **argv)
{
    cli_opts o = {.cmd = "train", .cmd_bit = MN_CMD_TRAIN};
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_work *work = NULL;
    double *end = NULL, *hess = NULL, *evals = NULL;
    mn_run_row row = {0};
    int rc = 1;
    if (mn_setting_build(&data, &model, &o.run)) goto fail;
    const size_t P = mn_model_nparams(model);
    if (!(end = malloc(P * sizeof *end))) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    if (mn_work_alloc(&work, model, mn_data_n(data))) goto fail;
    mn_sweep_setting s = {.model = model, .data = data};
    mn_setting_run(&s, &o.run);
    train_progress prog = {.t0 = omp_get_wtime()};
    if (!o.quiet && isatty(STDERR_FILENO)) s.progress = show_progress, s.progress_ctx = &prog;
    const mn_status run_st = mn_run_seeded(&row, &s, o.run.seed, work, end);
    if (prog.drawn) fputc('\n', stderr);
    if (run_st) goto fail;
    /* Saved first: a failed write then leaves no summary claiming success. */
    if (o.save_params && cli_write_params(o.save_params, end, P)) goto fail;
    const int diverged = row.cls == MN_CLASS_DIVERGED;
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_str(&w, "status", row.status);
    if (row.reason[0]) jw_str(&w, "reason", row.reason);
    jw_str(&w, "optimizer", row.optimizer);
    jw_str(&w, "class", mn_class_name(row.cls));
    jw_num(&w, "loss", row.loss);
    jw_num(&w, "grad_norm", row.grad_norm);
    jw_num(&w, "theta_norm", row.theta_norm);
    jw_int(&w, "iterations", row.iterations);
    if (o.run.polish && !isnan(row.grad_norm_before_polish)) {
        jw_int(&w, "polish_iterations", row.polish_iterations);
        jw_num(&w, "grad_norm_before_polish", row.grad_norm_before_polish);
    }
    jw_int(&w, "params", (long long)P);
    jw_int(&w, "seed", (long long)o.run.seed);
    if (!diverged) {
        if (isfinite(row.lambda_min)) {
            jw_num(&w, "lambda_min", row.lambda_min);
            jw_num(&w, "lambda_max", row.lambda_max);
        } else {
            /* Not stationary: certification skipped the spectrum; report it
             * anyway where a dense Hessian is affordable. */
            unsigned char *mask = malloc(P);
            int nfree = 0;
            if (mask) {
                mn_model_free_mask(model, mask);
                for (size_t i = 0; i < P; i++) nfree += mask[i];
            }
            free(mask);
            /* (not with added neurons: the class judges the network without them) */
            if (nfree > 0 && nfree <= o.run.max_hessian && mn_model_nelim(model) == 0) {
                hess = malloc(P * P * sizeof *hess);
                evals = malloc(P * sizeof *evals);
                if (hess && evals && !cli_spectrum(model, work, data, end, hess, evals, &nfree)) {
                    jw_num(&w, "lambda_min", evals[0]);
                    jw_num(&w, "lambda_max", evals[nfree - 1]);
                }
            }
        }
        if (isfinite(row.accuracy)) jw_num(&w, "accuracy", row.accuracy);
        if (isfinite(row.kink_margin)) {
            jw_num(&w, "kink_margin", row.kink_margin);
            jw_bool(&w, "near_kink", row.near_kink);
        }
    }
    cli_neurons(&w, model, end);
    if (mn_model_nelim(model) > 0) {
        /* class, loss, grad_norm, lambdas and accuracy above judge the network
         * with the added neurons dropped; the defended point itself: */
        jw_num(&w, "defended_loss", row.defended_loss);
        jw_num(&w, "defended_grad_norm", row.defended_grad_norm);
        jw_bool(&w, "defended_critical", row.defended_critical);
        jw_num(&w, "neuron_largest_output", row.elim_output);
        jw_bool(&w, "drop_changes_prediction", row.drop_changes_prediction);
    }
    jw_end(&w);
    rc = fflush(stdout) ? 1 : 0;
    if (rc) fprintf(stderr, "minima train: cannot write the output\n");
    goto done;
fail:
    cli_error("train");
done:
    free(row.theta);
    free(end), free(hess), free(evals);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    return rc;
}
