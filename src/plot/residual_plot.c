/* The residual experiment's figure (mn_resid_plot, plot/internal.h): one
 * panel per family among the rows, each a gnuplot data block per curve. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "plot/internal.h"

typedef struct {
    const mn_resid_row *rows;
    int n;
    /* per family: its distinct curve keys (kappa / mu, or depth), in row order */
    double key[MN_RESID_NFAMILY][MN_RESID_MAX_LIST];
    int nkey[MN_RESID_NFAMILY];
    double eps; /* the convergence threshold, drawn on the distance panel */
} fig;

static double curve_key(const mn_resid_row *r) { return r->family == MN_RESID_DISTANCE ? r->depth : r->param; }
static double x_of(const mn_resid_row *r) { return r->family == MN_RESID_DISTANCE ? r->param : r->depth; }

static void put(FILE *f, double v)
{
    if (isfinite(v) && v > 0)
        fprintf(f, " %.9g", v);
    else
        fputs(" NaN", f); /* not drawn (log axes) */
}

/* Blocks in the order: family, then its keys; lines "x y" by increasing x. */
static mn_status write_data(FILE *f, const void *ctx)
{
    const fig *g = ctx;
    int first = 1;
    for (int fam = 0; fam < MN_RESID_NFAMILY; fam++)
        for (int k = 0; k < g->nkey[fam]; k++) {
            if (!first) fputs("\n\n", f);
            first = 0;
            fprintf(f, "# %s, key %g\n", mn_resid_family_name((mn_resid_family)fam), g->key[fam][k]);
            double last = -INFINITY;
            for (;;) { /* rows of this curve by increasing x (a few dozen: selection is fine) */
                const mn_resid_row *best = NULL;
                for (int i = 0; i < g->n; i++) {
                    const mn_resid_row *r = &g->rows[i];
                    if ((int)r->family != fam || curve_key(r) != g->key[fam][k] || x_of(r) <= last) continue;
                    if (!best || x_of(r) < x_of(best)) best = r;
                }
                if (!best) break;
                last = x_of(best);
                fprintf(f, "%.9g", last);
                if (fam == MN_RESID_PD) put(f, best->iter_median);
                else if (fam == MN_RESID_NEGATIVE) put(f, 1 + best->gap_min);
                else put(f, best->loss_max);
                fputc('\n', f);
            }
        }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const fig *g = ctx;
    int panels = 0;
    for (int fam = 0; fam < MN_RESID_NFAMILY; fam++) panels += g->nkey[fam] > 0;
    mn_gp_terminals(f, prefix, 480 * panels + 100, 620);
    fprintf(f, "  set multiplot layout 1,%d title 'Bartlett, Helmbold & Long: GD from the identity on "
               "(1/2)||Theta_L...Theta_1 - Phi||^2'\n"
               "  set grid lt 1 lw 0.5 lc rgb '#d8d8d8'\n  set logscale xy\n  set format y '%%g'\n  set key below samplen 2\n",
            panels);
    int index = 0;
    for (int fam = 0; fam < MN_RESID_NFAMILY; fam++) {
        if (!g->nkey[fam]) continue;
        if (fam == MN_RESID_PD)
            fprintf(f, "  set title 'symmetric positive definite Phi'\n  set xlabel 'depth L'\n"
                       "  set ylabel 'GD steps to loss <= eps (median)'\n  set xrange [0.8:*]\n  set yrange [*:*]\n  plot ");
        else if (fam == MN_RESID_NEGATIVE)
            fprintf(f, "  set title 'symmetric Phi with eigenvalue -mu'\n  set xlabel 'depth L'\n"
                       "  set ylabel 'lowest loss / proven floor (mu^2/2)'\n  set xrange [0.8:*]\n  set yrange [*:*]\n"
                       "  plot 1 with lines dt 2 lc rgb '#000000' title 'floor (L >= 2)', ");
        else
            fprintf(f, "  set title 'Phi = I + s G / ||G|| (G Gaussian)'\n  set xlabel 's = ||Phi - I||_2'\n"
                       "  unset logscale x\n  set ylabel 'lowest loss (largest over the targets)'\n  set xrange [0:*]\n  set yrange [*:*]\n"
                       "  plot %.9g with lines dt 2 lc rgb '#000000' title 'eps', ",
                    g->eps);
        for (int k = 0; k < g->nkey[fam]; k++, index++)
            fprintf(f, "%sdata index %d using 1:2 with linespoints lw 1.5 pt 7 ps 1 title '%s = %g'",
                    k ? ", \\\n    " : "", index, fam == MN_RESID_PD ? "kappa" : fam == MN_RESID_NEGATIVE ? "mu" : "L",
                    g->key[fam][k]);
        fputc('\n', f);
    }
    fprintf(f, "  unset multiplot\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_resid_plot(const mn_resid_row *rows, int n, double eps, const char *prefix)
{
    if (n < 1) return mn_fail(MN_EINVAL, "nothing to plot: no rows");
    fig g = {.rows = rows, .n = n, .eps = eps};
    for (int i = 0; i < n; i++) {
        const int fam = rows[i].family;
        const double k = curve_key(&rows[i]);
        int j = 0;
        while (j < g.nkey[fam] && g.key[fam][j] != k) j++;
        if (j == g.nkey[fam] && j < MN_RESID_MAX_LIST) g.key[fam][g.nkey[fam]++] = k;
    }
    return mn_gp_figure(prefix, write_data, write_script, &g);
}
