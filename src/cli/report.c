/* Certificates printed by the commands: Hessian spectra and added neurons. */
#include <math.h>
#include <stdlib.h>

#include "cli.h"

int cli_spectrum(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                 double *hess, double *evals, int *nfree)
{
    const size_t P = mn_model_nparams(model);
    unsigned char *mask = malloc(P);
    double *sub = malloc(P * P * sizeof *sub);
    mn_status st = mask && sub ? MN_OK : mn_fail(MN_ENOMEM, "out of memory for a %zu x %zu Hessian", P, P);
    if (!st) st = mn_hessian(model, work, data, theta, hess);
    if (!st) {
        mn_model_free_mask(model, mask);
        *nfree = mn_restrict(sub, hess, mask, (int)P);
        st = *nfree ? mn_sym_eigvals(evals, sub, *nfree) : MN_OK;
    }
    free(mask);
    free(sub);
    return st;
}

void cli_neurons(jw *w, const mn_model *model, const double *theta)
{
    const int d = mn_model_spec(model)->width[0];
    jw_arr(w, "neurons");
    for (int j = 0; j < mn_model_nelim(model); j++) {
        const double *p = theta + mn_model_elim_offset(model, j);
        double wn = 0;
        for (int c = 0; c < d; c++) wn += p[1 + c] * p[1 + c];
        jw_obj(w, NULL);
        jw_num(w, "a", p[0]);
        jw_num(w, "b", p[d + 1]);
        jw_num(w, "w_norm", sqrt(wn));
        /* a e^b stays finite on the divergent path a -> 0, b -> inf: evidence */
        jw_num(w, "a_exp_b", mn_elim_a_exp_b(p[0], p[d + 1]));
        jw_end(w);
    }
    jw_end(w);
}

void cli_classes_json(jw *w, const mn_summary *m)
{
    jw_obj(w, "classes");
    for (int c = 0; c < MN_NCLASS; c++) {
        jw_obj(w, mn_class_name((mn_class)c));
        jw_int(w, "count", m->count[c]);
        jw_num(w, "fraction", m->frac[c]);
        jw_num(w, "lo", m->lo[c]);
        jw_num(w, "hi", m->hi[c]);
        jw_end(w);
    }
    jw_end(w);
}
