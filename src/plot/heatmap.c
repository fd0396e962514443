/* Heatmaps (gnuplot `with image`): the full-rank and zero-loss fractions of
 * the region experiments over (width, n) grids; and tables of percentages
 * (rows x columns of named settings, each cell printed), the eliminate
 * experiment's figure. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot/internal.h"

static int even(const int *a, int n)
{
    for (int i = 2; i < n; i++)
        if (a[i] - a[i - 1] != a[1] - a[0]) return 0;
    return n < 2 || a[1] > a[0];
}

/* What both figures of this file draw: npanels x ny x nx values over the
 * axes x, y, and the figure's own arguments (heat_args or table_args). */
typedef struct {
    int npanels, nx, ny;
    const int *x, *y;
    const double *values;
    const void *args;
} grid;

/* Data: one gnuplot index per panel, lines "x y value" (NaN blank). */
static mn_status write_data(FILE *f, const void *ctx)
{
    const grid *g = ctx;
    for (int p = 0; p < g->npanels; p++) {
        if (p) fputs("\n\n", f);
        for (int i = 0; i < g->ny; i++) {
            for (int j = 0; j < g->nx; j++) {
                double v = g->values[((size_t)p * g->ny + i) * g->nx + j];
                if (isnan(v))
                    fprintf(f, "%d %d NaN\n", g->x[j], g->y[i]);
                else
                    fprintf(f, "%d %d %.6g\n", g->x[j], g->y[i], v);
            }
            fputc('\n', f);
        }
    }
    return MN_OK;
}

typedef struct {
    const char *title, *const *panels, *xlabel, *ylabel, *zlabel;
} heat_args;

static mn_status heat_script(FILE *f, const char *prefix, const void *ctx)
{
    const grid *g = ctx;
    const heat_args *a = g->args;
    const int *x = g->x, *y = g->y, nx = g->nx, ny = g->ny, npanels = g->npanels;
    const double hx = nx > 1 ? (x[1] - x[0]) / 2.0 : 0.5, hy = ny > 1 ? (y[1] - y[0]) / 2.0 : 0.5;
    const int cols = npanels > 1 ? 2 : 1, rows = (npanels + 1) / 2;
    fprintf(f, "# minima heatmap figure (generated)\n");
    mn_gp_terminals(f, prefix, 520 * cols, 460 * rows + 40);
    fprintf(f, "  set multiplot layout %d,%d title ", rows, cols);
    mn_gp_str(f, a->title);
    fprintf(f, "\n  set xrange [%g:%g]\n  set yrange [%g:%g]\n  set cbrange [0:1]\n"
               "  set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
               "  set xlabel ",
            x[0] - hx, x[nx - 1] + hx, y[0] - hy, y[ny - 1] + hy);
    mn_gp_str(f, a->xlabel);
    fprintf(f, "\n  set ylabel ");
    mn_gp_str(f, a->ylabel);
    fprintf(f, "\n  set cblabel ");
    mn_gp_str(f, a->zlabel);
    fprintf(f, "\n  set tics out nomirror\n  set size ratio -1\n");
    for (int p = 0; p < npanels; p++) {
        fprintf(f, "  set title ");
        mn_gp_str(f, a->panels[p]);
        fprintf(f, "\n  plot data index %d using 1:2:3 with image notitle\n", p);
    }
    fprintf(f, "  unset multiplot\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_plot_heatmaps(const char *prefix, const char *title, const char *const *panels, int npanels,
                           const char *xlabel, const int *x, int nx, const char *ylabel, const int *y, int ny,
                           const char *zlabel, const double *values)
{
    if (!prefix || !*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    if (npanels < 1 || npanels > 4 || nx < 1 || ny < 1)
        return mn_fail(MN_EINVAL, "heatmaps: %d panels of %d x %d (1..4 panels, non-empty grids)", npanels, ny, nx);
    if (!even(x, nx) || !even(y, ny))
        return mn_fail(MN_EINVAL, "heatmaps: the axes must be increasing and evenly spaced");
    const heat_args a = {title, panels, xlabel, ylabel, zlabel};
    const grid g = {npanels, nx, ny, x, y, values, &a};
    return mn_gp_figure(prefix, write_data, heat_script, &g);
}

/* ------------------------------------------------------------------ */
/* Tables of percentages. */

typedef struct {
    const char *title, *note, *const *panels, *const *cols, *const *rows;
    int npanels, nc, nr;
} table_args;

/* set AXIStics OPTS('name' 0, 'name' 1, ..) */
static void tics(FILE *f, const char *axis, const char *const *names, int n, const char *opts)
{
    fprintf(f, "  set %stics %s(", axis, opts);
    for (int i = 0; i < n; i++) {
        fprintf(f, "%s", i ? ", " : "");
        mn_gp_str(f, names[i]);
        fprintf(f, " %d", i);
    }
    fprintf(f, ")\n");
}

static mn_status table_script(FILE *f, const char *prefix, const void *ctx)
{
    const table_args *a = ((const grid *)ctx)->args;
    int rchars = 1, cchars = 1;
    for (int i = 0; i < a->nr; i++) rchars = (int)strlen(a->rows[i]) > rchars ? (int)strlen(a->rows[i]) : rchars;
    for (int j = 0; j < a->nc; j++) cchars = (int)strlen(a->cols[j]) > cchars ? (int)strlen(a->cols[j]) : cchars;
    /* cells ~ 64 x 24 px (wider for long column names), row names (left of
     * the first panel only) ~7 px a character at 11 pt, 30 px between panels */
    const int cw = cchars * 8 + 12 > 64 ? cchars * 8 + 12 : 64, ch = 24, gap = 30;
    const int left = rchars * 7 + 30, pw = a->nc * cw + gap;
    const int W = left + pw * a->npanels + 10, H = a->nr * ch + 150;
    fprintf(f, "# minima table figure (generated)\n");
    mn_gp_terminals(f, prefix, W, H);
    fprintf(f, "  set multiplot title ");
    mn_gp_str(f, a->title);
    fprintf(f, "\n  unset colorbox\n  set cbrange [0:100]\n"
               "  set palette defined (0 '#ffffff', 50 '#6baed6', 100 '#08306b')\n"
               "  set xrange [-0.5:%g]\n  set yrange [%g:-0.5]\n"
               "  set tics out nomirror scale 0\n"
               "  set border 0\n",
            a->nc - 0.5, a->nr - 0.5);
    /* column names on top: the x2 axis, linked to x */
    fprintf(f, "  unset xtics\n  set link x2\n");
    tics(f, "x2", a->cols, a->nc, "");
    tics(f, "y", a->rows, a->nr, "");
    if (a->note) {
        fprintf(f, "  set label 99 ");
        mn_gp_str(f, a->note);
        fprintf(f, " at screen 0.01, screen %.4f left font 'sans,10'\n", 20.0 / H);
    }
    for (int p = 0; p < a->npanels; p++) {
        /* panel p's box in screen coordinates: title row on top, note below */
        const double x0 = (double)(left + p * pw) / W, x1 = (double)(left + p * pw + a->nc * cw) / W;
        if (p == 1) fprintf(f, "  unset ytics\n");
        const double y1 = 1.0 - 100.0 / H, y0 = y1 - (double)(a->nr * ch) / H;
        fprintf(f, "  set lmargin at screen %.4f\n  set rmargin at screen %.4f\n"
                   "  set tmargin at screen %.4f\n  set bmargin at screen %.4f\n  set label 98 ",
                x0, x1, y1, y0);
        /* the panel's title above its column names */
        mn_gp_str(f, a->panels[p]);
        fprintf(f, " at screen %.4f, screen %.4f center font 'sans,12'\n", (x0 + x1) / 2, 1.0 - 50.0 / H);
        /* numbers: black on light cells, white on dark ones; blank cells (NaN) print "-" */
        fprintf(f, "  plot data index %d using 1:2:3 with image notitle, \\\n"
                   "    '' index %d using 1:2:(strcol(3) eq 'NaN' ? '-' : $3 < 55 ? sprintf('%%.0f', $3) : '') "
                   "with labels tc rgb '#000000' notitle, \\\n"
                   "    '' index %d using 1:2:(strcol(3) ne 'NaN' && $3 >= 55 ? sprintf('%%.0f', $3) : '') "
                   "with labels tc rgb '#ffffff' notitle\n  unset label 98\n",
                p, p, p);
    }
    fprintf(f, "  unset multiplot\n  unset output\n  unset label 99\n}\n");
    return MN_OK;
}

mn_status mn_plot_table(const char *prefix, const char *title, const char *const *panels, int npanels,
                        const char *const *cols, int nc, const char *const *rows, int nr, const double *values,
                        const char *note)
{
    if (!prefix || !*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    if (npanels < 1 || npanels > 4 || nc < 1 || nr < 1 || nc > 64 || nr > 256)
        return mn_fail(MN_EINVAL, "table figure: %d panels of %d x %d (1..4 panels, 1..256 rows, 1..64 columns)",
                       npanels, nr, nc);
    int *x = malloc((size_t)nc * sizeof *x), *y = malloc((size_t)nr * sizeof *y);
    if (!x || !y) {
        free(x), free(y);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    for (int j = 0; j < nc; j++) x[j] = j;
    for (int i = 0; i < nr; i++) y[i] = i;
    const table_args a = {title, note, panels, cols, rows, npanels, nc, nr};
    const grid g = {npanels, nc, nr, x, y, values, &a};
    mn_status st = mn_gp_figure(prefix, write_data, table_script, &g);
    free(x), free(y);
    return st;
}
