/* The Safran-Shamir figure: four panels against k, one series per (n - k,
 * eliminator) among the rows, with 95% Wilson error bars: % of runs ending
 * at a spurious local minimum, at a global one, diverged, not converged.
 * The last three are there because 0% spurious can mean a cure or that few
 * runs end at all (the eliminating neuron: most of its runs diverge or do
 * not converge). Drawn by gnuplot as a subprocess, as in plot.c (see there
 * for why gnuplot). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"
#include "minima/popul.h"
#include "minima/sweep.h"
#include "plot/internal.h"

/* The panels: a class, its title. Spurious first (the row's own interval). */
static const struct {
    int cls;
    const char *title;
} panels[] = {
    {MN_CLASS_SPURIOUS, "% of runs ending at a spurious local minimum"},
    {MN_CLASS_GLOBAL, "% of runs ending at a global minimum"},
    {MN_CLASS_DIVERGED, "% of runs diverged"},
    {MN_CLASS_NOT_CONVERGED, "% of runs not converged at the step cap"},
};
#define NPANEL ((int)(sizeof panels / sizeof *panels))

/* One series: rows with the same n - k and eliminator. lambda is part of
 * the key with the eliminator: rows at two penalties are two curves. */
typedef struct {
    int d, elim;
    double lambda;
} series;

/* Legend order: plain before eliminator, then by n - k, then by lambda. */
static int cmp_series(const void *pa, const void *pb)
{
    const series *a = pa, *b = pb;
    if (a->elim != b->elim) return a->elim - b->elim;
    if (a->d != b->d) return a->d < b->d ? -1 : 1;
    return a->elim ? (a->lambda > b->lambda) - (a->lambda < b->lambda) : 0; /* finite: checked */
}

static int same_series(const series *a, const series *b) { return cmp_series(a, b) == 0; }

/* Row order within a series: by k (ties keep input order). */
typedef struct {
    const mn_popul_row *row;
    int s, i; /* series index, input index */
} item;

static int cmp_item(const void *pa, const void *pb)
{
    const item *a = pa, *b = pb;
    if (a->s != b->s) return a->s - b->s;
    if (a->row->k != b->row->k) return a->row->k - b->row->k;
    return a->i - b->i;
}

static void series_label(char *buf, size_t len, const series *s)
{
    int o = s->d == 0 ? snprintf(buf, len, "n = k")
                      : snprintf(buf, len, "n = k %c %d", s->d > 0 ? '+' : '-', abs(s->d));
    if (s->elim) snprintf(buf + o, len - (size_t)o, ", eliminating neuron (lambda = %g)", s->lambda);
}

static void put_num(FILE *f, double x)
{
    if (isfinite(x))
        fprintf(f, " %.6g", x);
    else
        fputs(" NaN", f); /* a row with no restarts: gnuplot skips the point */
}

/* What the two writers draw from. */
typedef struct {
    const item *it;
    const series *ser;
    int nrows, nser, kmin, kmax;
    double dodge;
} fig;

/* Data: one gnuplot index (blocks two blank lines apart) per series, lines
 * "x k" then "pct lo hi" per panel, sorted by k; x is k nudged sideways by
 * `dodge` per series so error bars at the same k do not hide one another. */
static mn_status write_data(FILE *f, const void *ctx)
{
    const fig *g = ctx;
    const item *it = g->it;
    const int nrows = g->nrows, nser = g->nser;
    const double dodge = g->dodge;
    fprintf(f, "# x k, then pct lo%% hi%% of: spurious global diverged not-converged; one block per series\n");
    for (int r = 0; r < nrows; r++) {
        if (r && it[r].s != it[r - 1].s) fputs("\n\n", f);
        const mn_popul_row *w = it[r].row;
        fprintf(f, "%.6g %d", w->k + dodge * (it[r].s - (nser - 1) / 2.0), w->k);
        put_num(f, w->spurious_pct);
        put_num(f, w->spurious_lo);
        put_num(f, w->spurious_hi);
        for (int p = 1; p < NPANEL; p++) {
            const long c = w->count[panels[p].cls], m = w->restarts;
            double lo = NAN, hi = NAN;
            if (m > 0) mn_wilson(&lo, &hi, c, m, MN_Z95);
            put_num(f, m > 0 ? 100.0 * (double)c / (double)m : NAN);
            put_num(f, 100 * lo);
            put_num(f, 100 * hi);
        }
        fputc('\n', f);
    }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const fig *g = ctx;
    const series *ser = g->ser;
    const int nser = g->nser, kmin = g->kmin, kmax = g->kmax;
    const int span = kmax - kmin, step = span <= 24 ? 1 : (span + 23) / 24; /* integer ticks, at most ~25 */
    fprintf(f, "# minima population figure (generated)\n"
               "array colours[8] = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', "
               "'#e377c2', '#7f7f7f']\n");
    mn_gp_terminals(f, prefix, 1400, 1000);
    /* y a little past 0..100 so markers and caps at the ends are not cut by the border */
    fprintf(f, "  set multiplot layout 2,2 title 'Safran & Shamir: two-layer ReLU nets, population loss; "
               "how the runs end (error bars: 95%% Wilson intervals)'\n"
               "  set xlabel 'k (teacher units)'\n"
               "  set xrange [%g:%g]\n"
               "  set xtics %d, %d out nomirror\n"
               "  set format x '%%.0f'\n"
               "  set yrange [-3:103]\n"
               "  set ytics 0, 10, 100\n"
               "  set grid xtics ytics lt 1 lw 0.5 lc rgb '#d8d8d8'\n"
               "  set key top left Left reverse box opaque samplen 2\n"
               "  set bars 0.5\n"
               "  if (GPVAL_VERSION >= 5.4) { set errorbars dt solid }\n", /* solid bars on dashed curves */
            kmin - 0.6, kmax + 0.6, kmin, step);
    for (int p = 0; p < NPANEL; p++) {
        fprintf(f, "  set title '%s'\n  set ylabel '%%'\n%s  plot ", panels[p].title, p == 1 ? "  unset key\n" : "");
        for (int s = 0; s < nser; s++) {
            char label[200];
            series_label(label, sizeof label, &ser[s]);
            /* the eliminator's curves dashed with open markers, the plain ones solid; the legend in the first panel */
            fprintf(f, "%sdata index %d using 1:%d:%d:%d with yerrorlines lw 1.5 ps 1.2 pt %d dt %d lc rgb colours[%d] title ",
                    s ? ", \\\n    " : "", s, 3 + 3 * p, 4 + 3 * p, 5 + 3 * p, ser[s].elim ? 6 : 7,
                    ser[s].elim ? 2 : 1, s % 8 + 1);
            mn_gp_str(f, label);
        }
        fputc('\n', f);
    }
    fprintf(f, "  unset multiplot\n  set key\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_popul_plot(const mn_popul_row *rows, const mn_popul_spec *specs, int nrows, const char *prefix)
{
    if (!rows || !specs || !prefix) return mn_fail(MN_EINVAL, "mn_popul_plot: rows, specs and prefix must not be NULL");
    if (nrows < 1) return mn_fail(MN_EINVAL, "nothing to plot: no rows");
    if (!*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    for (int i = 0; i < nrows; i++) { /* sizes in range, and rows[i] really from specs[i] */
        mn_status st = mn_popul_check(&specs[i]);
        if (st) return st;
        if (rows[i].k != specs[i].k || rows[i].n != specs[i].n)
            return mn_fail(MN_EINVAL, "mn_popul_plot: row %d has (n, k) = (%d, %d) but its spec (%d, %d)", i,
                           rows[i].n, rows[i].k, specs[i].n, specs[i].k);
    }
    item *it = malloc((size_t)nrows * sizeof *it);
    series *ser = malloc((size_t)nrows * sizeof *ser);
    if (!it || !ser) {
        free(it), free(ser);
        return mn_fail(MN_ENOMEM, "mn_popul_plot: out of memory for %d rows", nrows);
    }
    /* distinct series, sorted; then each row's series index */
    int nser = 0, kmin = rows[0].k, kmax = rows[0].k;
    for (int i = 0; i < nrows; i++) {
        series s = {specs[i].n - specs[i].k, specs[i].elim != 0, specs[i].lambda};
        int j = 0;
        while (j < nser && !same_series(&ser[j], &s)) j++;
        if (j == nser) ser[nser++] = s;
        kmin = rows[i].k < kmin ? rows[i].k : kmin;
        kmax = rows[i].k > kmax ? rows[i].k : kmax;
    }
    qsort(ser, (size_t)nser, sizeof *ser, cmp_series);
    for (int i = 0; i < nrows; i++) {
        series s = {specs[i].n - specs[i].k, specs[i].elim != 0, specs[i].lambda};
        int j = 0;
        while (j < nser - 1 && !same_series(&ser[j], &s)) j++;
        it[i] = (item){&rows[i], j, i};
    }
    qsort(it, (size_t)nrows, sizeof *it, cmp_item);
    const double dodge = nser > 1 ? fmin(0.08, 0.5 / (nser - 1)) : 0; /* series spread over <= 0.5 in k */

    const fig g = {it, ser, nrows, nser, kmin, kmax, dodge};
    mn_status st = mn_gp_figure(prefix, write_data, write_script, &g);
    free(it), free(ser);
    return st;
}
