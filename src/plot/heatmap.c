/* Heatmaps (gnuplot `with image`): the full-rank and zero-loss fractions of
 * the region experiments over (width, n) grids. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot/internal.h"

static int even(const int *a, int n)
{
    for (int i = 2; i < n; i++)
        if (a[i] - a[i - 1] != a[1] - a[0]) return 0;
    return n < 2 || a[1] > a[0];
}

/* What the two writers draw from. */
typedef struct {
    const char *title, *xlabel, *ylabel, *zlabel;
    const char *const *panels;
    int npanels, nx, ny;
    const int *x, *y;
    const double *values;
} fig;

/* Data: one gnuplot index per panel, lines "x y value" (NaN blank). */
static mn_status write_data(FILE *f, const void *ctx)
{
    const fig *g = ctx;
    const int npanels = g->npanels, nx = g->nx, ny = g->ny, *x = g->x, *y = g->y;
    const double *values = g->values;
    for (int p = 0; p < npanels; p++) {
        if (p) fputs("\n\n", f);
        for (int i = 0; i < ny; i++) {
            for (int j = 0; j < nx; j++) {
                double v = values[((size_t)p * ny + i) * nx + j];
                if (isnan(v))
                    fprintf(f, "%d %d NaN\n", x[j], y[i]);
                else
                    fprintf(f, "%d %d %.6g\n", x[j], y[i], v);
            }
            fputc('\n', f);
        }
    }
    return MN_OK;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const fig *g = ctx;
    const int npanels = g->npanels, nx = g->nx, ny = g->ny, *x = g->x, *y = g->y;
    const double hx = nx > 1 ? (x[1] - x[0]) / 2.0 : 0.5, hy = ny > 1 ? (y[1] - y[0]) / 2.0 : 0.5;
    const int cols = npanels > 1 ? 2 : 1, rows = (npanels + 1) / 2;
    fprintf(f, "# minima heatmap figure (generated)\n");
    mn_gp_terminals(f, prefix, 520 * cols, 460 * rows + 40);
    fprintf(f, "  set multiplot layout %d,%d title ",
            rows, cols);
    mn_gp_str(f, g->title);
    fprintf(f, "\n  set xrange [%g:%g]\n  set yrange [%g:%g]\n  set cbrange [0:1]\n"
               "  set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
               "  set xlabel ",
            x[0] - hx, x[nx - 1] + hx, y[0] - hy, y[ny - 1] + hy);
    mn_gp_str(f, g->xlabel);
    fprintf(f, "\n  set ylabel ");
    mn_gp_str(f, g->ylabel);
    fprintf(f, "\n  set cblabel ");
    mn_gp_str(f, g->zlabel);
    fprintf(f, "\n  set tics out nomirror\n  set size ratio -1\n");
    for (int p = 0; p < npanels; p++) {
        fprintf(f, "  set title ");
        mn_gp_str(f, g->panels[p]);
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
    const fig g = {title, xlabel, ylabel, zlabel, panels, npanels, nx, ny, x, y, values};
    return mn_gp_figure(prefix, write_data, write_script, &g);
}
