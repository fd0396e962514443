/* The implicit-bias experiment's figure (mn_ib_plot, plot/internal.h):
 * |DFT(beta)| / max per frequency on data set 0, a panel per network. */
#include <stdio.h>

#include "plot/internal.h"

/* Blocks: the rows in order, then the SVM, then the LP; lines "k value". */
static mn_status write_data(FILE *f, const void *ctx)
{
    const mn_ib_result *r = ctx;
    const int d = r->plan.d;
    for (int b = 0; b < r->n + 2; b++) {
        if (b) fputs("\n\n", f);
        for (int k = 0; k < d; k++) fprintf(f, "%d %.9g\n", k, r->spectra[(size_t)b * d + k]);
    }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const mn_ib_result *r = ctx;
    int panels = 0;
    for (int c = 0; c < 2; c++) panels += r->plan.nets >> c & 1;
    mn_gp_terminals(f, prefix, 560 * panels + 100, 620);
    fprintf(f, "  set multiplot layout 1,%d title 'Gunasekar et al.: |DFT(beta)| of GD''s linear predictor "
               "(logistic loss, data set 0, %ld steps)'\n"
               "  set grid lt 1 lw 0.5 lc rgb '#d8d8d8'\n  set key below samplen 2\n"
               "  set xlabel 'frequency k'\n  set ylabel '|DFT(beta)_k| / max_k'\n"
               "  set xrange [-0.5:%d.5]\n  set yrange [0:1.05]\n",
            panels, r->plan.max_iter, r->plan.d - 1);
    for (int c = 0; c < 2; c++) {
        if (!(r->plan.nets >> c & 1)) continue;
        fprintf(f, "  set title '%s'\n  plot ", c ? "L-layer circular convolutional (conv1d x (L-1), dense:1)"
                                                 : "L-layer fully connected (dense:d x (L-1), dense:1)");
        int first = 1;
        for (int q = 0; q < r->n; q++) {
            if (r->rows[q].conv != c) continue;
            fprintf(f, "%sdata index %d using 1:2 with linespoints lw 1.5 pt 7 ps 0.9 title 'GD, L = %d'",
                    first ? "" : ", \\\n    ", q, r->rows[q].depth);
            first = 0;
        }
        fprintf(f, ", \\\n    data index %d using 1:2 with lines dt 2 lw 2 lc rgb '#000000' title '%s'\n",
                r->n + c, c ? "l1-DFT max margin (LP, predicted for L = 2)" : "hard-margin SVM (predicted)");
    }
    fprintf(f, "  unset multiplot\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_ib_plot(const mn_ib_result *r, const char *prefix)
{
    if (!r || r->n < 1) return mn_fail(MN_EINVAL, "nothing to plot: no rows");
    return mn_gp_figure(prefix, write_data, write_script, r);
}
