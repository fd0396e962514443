/* Heatmaps (gnuplot `with image`): the full-rank and zero-loss fractions of
 * the region experiments over (width, n) grids; and tables of percentages
 * (rows x columns of named settings, each cell printed), the eliminate
 * experiment's figure. */
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

/* Writes the script for the data file at `data` (ctx: the caller's). */
typedef mn_status (*script_fn)(const char *path, const char *data, const char *prefix, const void *ctx);

typedef struct {
    const char *title, *const *panels, *xlabel, *ylabel, *zlabel;
    int npanels;
    const int *x, *y;
    int nx, ny;
} heat_args;

static mn_status heat_script(const char *path, const char *data, const char *prefix, const void *ctx)
{
    const heat_args *a = ctx;
    return write_script(path, data, prefix, a->title, a->panels, a->npanels, a->xlabel, a->ylabel, a->zlabel, a->x,
                        a->nx, a->y, a->ny);
}

/* The data (npanels x ny x nx values over the axes x, y), the script, gnuplot,
 * and both files checked, in a temporary folder removed after. */
static mn_status draw(const char *prefix, int npanels, const int *x, int nx, const int *y, int ny, const double *values,
                      script_fn script_writer, const void *ctx)
{
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/minima-plot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) return mn_fail(MN_EIO, "cannot make a temporary folder in '%s': %s", dir, strerror(errno));
    char data[4200], script[4200], err[4200], png[4200], svg[4200];
    snprintf(data, sizeof data, "%s/heatmap.dat", dir);
    snprintf(script, sizeof script, "%s/figure.gp", dir);
    snprintf(err, sizeof err, "%s/gnuplot.err", dir);
    snprintf(png, sizeof png, "%s.png", prefix);
    snprintf(svg, sizeof svg, "%s.svg", prefix);
    remove(png), remove(svg);
    mn_status st = write_data(data, npanels, x, nx, y, ny, values);
    if (!st) st = script_writer(script, data, prefix, ctx);
    if (!st) st = mn_gp_run(script, err);
    for (int k = 0; !st && k < 2; k++) {
        struct stat sb;
        if (stat(k ? svg : png, &sb) != 0 || sb.st_size == 0)
            st = mn_fail(MN_EIO, "gnuplot did not write '%s'", k ? svg : png);
    }
    if (st) remove(png), remove(svg);
    remove(data), remove(script), remove(err);
    rmdir(dir);
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
    const heat_args a = {title, panels, xlabel, ylabel, zlabel, npanels, x, y, nx, ny};
    return draw(prefix, npanels, x, nx, y, ny, values, heat_script, &a);
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

static mn_status table_script(const char *path, const char *data, const char *prefix, const void *ctx)
{
    const table_args *a = ctx;
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    int rchars = 1, cchars = 1;
    for (int i = 0; i < a->nr; i++) rchars = (int)strlen(a->rows[i]) > rchars ? (int)strlen(a->rows[i]) : rchars;
    for (int j = 0; j < a->nc; j++) cchars = (int)strlen(a->cols[j]) > cchars ? (int)strlen(a->cols[j]) : cchars;
    /* cells ~ 64 x 24 px (wider for long column names), row names (left of
     * the first panel only) ~7 px a character at 11 pt, 30 px between panels */
    const int cw = cchars * 8 + 12 > 64 ? cchars * 8 + 12 : 64, ch = 24, gap = 30;
    const int left = rchars * 7 + 30, pw = a->nc * cw + gap;
    const int W = left + pw * a->npanels + 10, H = a->nr * ch + 150;
    fprintf(f, "# minima table figure (generated)\ndata = ");
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
            W, H, W, H, W, H);
    mn_gp_str(f, prefix);
    fprintf(f, " . '.' . fmt\n  set multiplot title ");
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
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
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
    mn_status st = draw(prefix, npanels, x, nc, y, nr, values, table_script, &a);
    free(x), free(y);
    return st;
}
