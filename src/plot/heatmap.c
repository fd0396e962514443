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

/* Data: one gnuplot index per panel, lines "x y value" (NaN blank). */
static mn_status write_data(const char *path, int npanels, const int *x, int nx, const int *y, int ny,
                            const double *values)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
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
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

static mn_status write_script(const char *path, const char *data, const char *prefix, const char *title,
                              const char *const *panels, int npanels, const char *xlabel, const char *ylabel,
                              const char *zlabel, const int *x, int nx, const int *y, int ny)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    const double hx = nx > 1 ? (x[1] - x[0]) / 2.0 : 0.5, hy = ny > 1 ? (y[1] - y[0]) / 2.0 : 0.5;
    const int cols = npanels > 1 ? 2 : 1, rows = (npanels + 1) / 2;
    fprintf(f, "# minima heatmap figure (generated)\ndata = ");
    mn_gp_str(f, data);
    fprintf(f, "\ndo for [fmt in 'png svg'] {\n"
               "  if (fmt eq 'png') {\n"
               "    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "      set terminal pngcairo size %d,%d noenhanced font 'sans,11'\n"
               "    } else {\n"
               "      set terminal png size %d,%d noenhanced\n"
               "    }\n"
               "  } else {\n"
               "    set terminal svg size %d,%d noenhanced font 'sans,11' background '#ffffff'\n"
               "  }\n"
               "  set output ",
            520 * cols, 460 * rows + 40, 520 * cols, 460 * rows + 40, 520 * cols, 460 * rows + 40);
    mn_gp_str(f, prefix);
    fprintf(f, " . '.' . fmt\n"
               "  set multiplot layout %d,%d title ",
            rows, cols);
    mn_gp_str(f, title);
    fprintf(f, "\n  set xrange [%g:%g]\n  set yrange [%g:%g]\n  set cbrange [0:1]\n"
               "  set palette defined (0 '#ffffff', 0.5 '#6baed6', 1 '#08306b')\n"
               "  set xlabel ",
            x[0] - hx, x[nx - 1] + hx, y[0] - hy, y[ny - 1] + hy);
    mn_gp_str(f, xlabel);
    fprintf(f, "\n  set ylabel ");
    mn_gp_str(f, ylabel);
    fprintf(f, "\n  set cblabel ");
    mn_gp_str(f, zlabel);
    fprintf(f, "\n  set tics out nomirror\n  set size ratio -1\n");
    for (int p = 0; p < npanels; p++) {
        fprintf(f, "  set title ");
        mn_gp_str(f, panels[p]);
        fprintf(f, "\n  plot data index %d using 1:2:3 with image notitle\n", p);
    }
    fprintf(f, "  unset multiplot\n  unset output\n}\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

typedef struct {
    const char *title;
    const char *const *panels;
    int npanels;
    const char *xlabel, *ylabel, *zlabel;
    const int *x;
    int nx;
    const int *y;
    int ny;
    const double *values;
    const char *prefix;
} hm_args;

static mn_status hm_write(void *ctx, const char *data, const char *script)
{
    const hm_args *h = ctx;
    mn_status st = write_data(data, h->npanels, h->x, h->nx, h->y, h->ny, h->values);
    if (!st)
        st = write_script(script, data, h->prefix, h->title, h->panels, h->npanels, h->xlabel, h->ylabel, h->zlabel,
                          h->x, h->nx, h->y, h->ny);
    return st;
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
    const hm_args h = {title, panels, npanels, xlabel, ylabel, zlabel, x, nx, y, ny, values, prefix};
    return mn_gp_draw(prefix, hm_write, (void *)&h);
}
