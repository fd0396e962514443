/* The balance figure, two panels: the largest per-unit invariant drift
 * against the GD step (log-log, one curve per activation, a slope-1 guide
 * through the first activation's smallest step), and the matrix
 * factorisation runs' loss against iterations (log). */
#include <math.h>
#include <stdio.h>

#include "minima/experiment.h"
#include "plot/internal.h"

typedef struct {
    const mn_balance_result *r;
    int nact, nstep; /* rows are activations x steps, steps fastest */
} fig;

/* index a < nact: activation a's "step drift"; then one index per
 * factorisation run, "iteration loss". */
static mn_status write_data(FILE *f, const void *ctx)
{
    const fig *g = ctx;
    const mn_balance_result *r = g->r;
    for (int a = 0; a < g->nact; a++) {
        if (a) fputs("\n\n", f);
        for (int s = 0; s < g->nstep; s++) {
            const mn_balance_row *w = &r->rows[a * g->nstep + s];
            fprintf(f, "%.9g %.9g\n", w->step, w->unit_drift > 0 ? w->unit_drift : NAN);
        }
    }
    for (int k = 0; k < MN_BALANCE_NMF; k++) {
        fputs("\n\n", f);
        for (int t = 0; t < r->ntrace; t++) {
            const double v = r->trace[(size_t)k * r->ntrace + t];
            if (isfinite(v) && v > 0) fprintf(f, "%ld %.9g\n", t * r->trace_every, v);
        }
    }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const fig *g = ctx;
    const mn_balance_result *r = g->r;
    fprintf(f, "array colours[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', "
               "'#e377c2', '#7f7f7f']\n");
    mn_gp_terminals(f, prefix, 1200, 520);
    fprintf(f, "  set multiplot layout 1,2 title 'Du, Hu, Lee (2018): layers are automatically balanced'\n"
               "  set grid lt 1 lw 0.5 lc rgb '#d8d8d8'\n"
               "  set logscale xy\n"
               "  set format y '%%.0e'\n"
               "  set key left center box opaque\n"
               "  set title 'largest per-unit invariant drift over a fixed time'\n"
               "  set xlabel 'GD step'\n  set ylabel 'max_j |I_j(T) - I_j(0)|'\n"
               "  plot ");
    for (int a = 0; a < g->nact; a++) {
        fprintf(f, "%sdata index %d using 1:2 with linespoints lw 2 pt 7 lc rgb colours[%d] title ", a ? ", \\\n    " : "",
                a, a % 8 + 1);
        mn_gp_str(f, mn_act_name((mn_act)r->rows[a * g->nstep].act));
    }
    const mn_balance_row *h = &r->rows[g->nstep - 1];
    if (h->unit_drift > 0)
        fprintf(f, ", \\\n    %.9g * x with lines dt 2 lw 1.5 lc rgb '#555555' title 'proportional to the step'",
                h->unit_drift / h->step);
    fprintf(f, "\n  unset logscale x\n  set logscale y\n"
               "  set title 'matrix factorisation W2 W1 = M (rank 2), GD step %g'\n"
               "  set xlabel 'iteration'\n  set ylabel 'loss'\n  set key top right\n  plot ",
            r->mf[0].step);
    for (int k = 0; k < MN_BALANCE_NMF; k++)
        fprintf(f, "%sdata index %d using 1:2 with lines lw 2 lc rgb colours[%d] title 's = %g: |B(0)|_F = %.3g'",
                k ? ", \\\n    " : "", g->nact + k, k + 1, r->mf[k].scale, r->mf[k].imb0);
    fprintf(f, "\n  unset multiplot\n  unset output\n  unset logscale\n}\n");
    return MN_OK;
}

mn_status mn_balance_plot(const mn_balance_result *r, const char *prefix)
{
    if (!r || r->n < 1) return mn_fail(MN_EINVAL, "balance figure: nothing to plot");
    int nstep = 1;
    while (nstep < r->n && r->rows[nstep].act == r->rows[0].act) nstep++;
    const fig g = {r, r->n / nstep, nstep};
    if (g.nact * nstep != r->n) return mn_fail(MN_EINVAL, "balance figure: rows are not activations x steps");
    return mn_gp_figure(prefix, write_data, write_script, &g);
}
