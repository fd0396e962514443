/* The saddles figure, two panels: the objective against iterations for GD
 * and PGD from one start in the largest d (the paper's d = 10 figure), and
 * the median iterations to escape saddle i against i for both methods
 * (log scale, quartile bars, GD's predicted growth dashed). */
#include <math.h>
#include <stdio.h>

#include "minima/experiment.h"
#include "plot/internal.h"

typedef struct {
    const mn_saddles_result *r;
    const mn_saddles_row *gd, *pgd; /* the largest d's rows */
} fig;

static void put(FILE *f, double x) { isfinite(x) ? fprintf(f, " %.9g", x) : fputs(" NaN", f); }

/* index 0: "iter f_gd f_pgd"; index 1, 2: "i med q1 q3" of GD and PGD. */
static mn_status write_data(FILE *f, const void *ctx)
{
    const fig *g = ctx;
    const mn_saddles_result *r = g->r;
    for (int t = 0; t < r->ntrace; t++) {
        fprintf(f, "%ld", r->trace_iter[t]);
        put(f, r->trace_gd[t]);
        put(f, r->trace_pgd[t]);
        fputc('\n', f);
    }
    for (int m = 0; m < 2; m++) {
        const mn_saddles_row *w = m ? g->pgd : g->gd;
        fputs("\n\n", f);
        for (int i = 0; i < w->d; i++) {
            fprintf(f, "%d", i + 1);
            put(f, w->med[i]);
            put(f, w->q1[i]);
            put(f, w->q3[i]);
            fputc('\n', f);
        }
    }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const fig *g = ctx;
    const mn_saddles_result *r = g->r;
    const int d = g->gd->d;
    mn_gp_terminals(f, prefix, 1200, 520);
    fprintf(f, "  set multiplot layout 1,2 title 'Du et al. (2017) octopus, d = %d: gamma = %g, L = %g, step %.3g'\n"
               "  set grid lt 1 lw 0.5 lc rgb '#d8d8d8'\n"
               "  set key top right box opaque\n"
               "  set title 'objective against iterations (one start)'\n"
               "  set xlabel 'iteration'\n  set ylabel 'f(x)'\n"
               "  plot data index 0 using 1:2 with lines lw 2 lc rgb '#d62728' title 'GD', \\\n"
               "       data index 0 using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'PGD'\n"
               "  set title 'iterations to escape saddle i (median of %d starts, bars: quartiles)'\n"
               "  set xlabel 'saddle i'\n  set ylabel 'iterations (log scale)'\n"
               "  set logscale y\n  set xrange [0.5:%d.5]\n  set xtics 1\n  set key top left\n"
               "  theory(x) = %.9g * %.9g ** (x - %d)\n"
               "  plot data index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#d62728' title 'GD', \\\n"
               "       data index 2 using 1:2:3:4 with yerrorlines lw 2 pt 5 lc rgb '#1f77b4' title 'PGD', \\\n"
               "       [1:%d] theory(x) with lines dt 2 lw 1.5 lc rgb '#555555' title sprintf('GD theory: x %%.3f per "
               "saddle', %.9g)\n"
               "  unset multiplot\n  unset output\n"
               "  unset logscale y\n  set autoscale x\n  set xtics autofreq\n}\n",
            d, r->oct.gamma, r->oct.L, r->step, g->gd->restarts, d, g->gd->med[d - 1], r->growth, d, d, r->growth);
    return MN_OK;
}

mn_status mn_saddles_plot(const mn_saddles_result *r, const char *prefix)
{
    if (!r || r->n < 2 || r->ntrace < 1) return mn_fail(MN_EINVAL, "saddles figure: nothing to plot");
    int k = 0; /* the largest d's GD row; its PGD row follows */
    for (int j = 0; j + 1 < r->n; j += 2)
        if (r->rows[j].d > r->rows[k].d) k = j;
    const fig g = {r, &r->rows[k], &r->rows[k + 1]};
    return mn_gp_figure(prefix, write_data, write_script, &g);
}
