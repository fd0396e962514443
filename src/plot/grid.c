/* A categorical heat map (gnuplot `with image` on the cell indices, named
 * tics, each cell labelled with its percentage): the arena's figure. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "minima/sweep.h"
#include "plot/internal.h"

/* Data: lines "col row value" (NaN blank), the rows top-down. */
static mn_status write_data(const char *path, int nrows, int ncols, const double *v)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    for (int i = 0; i < nrows; i++) {
        for (int j = 0; j < ncols; j++) {
            const double x = v[(size_t)i * ncols + j];
            if (isnan(x))
                fprintf(f, "%d %d NaN\n", j, nrows - 1 - i);
            else
                fprintf(f, "%d %d %.6g\n", j, nrows - 1 - i, x);
        }
        fputc('\n', f);
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

static void tics(FILE *f, const char *axis, const char *const *names, int n, int reverse)
{
    fprintf(f, "  set %s (", axis);
    for (int i = 0; i < n; i++) {
        if (i) fputs(", ", f);
        mn_gp_str(f, names[i]);
        fprintf(f, " %d", reverse ? n - 1 - i : i);
    }
    fputs(")\n", f);
}

static mn_status write_script(const char *path, const char *data, const char *prefix, const char *title,
                              const char *const *rows, int nrows, const char *const *cols, int ncols)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    const int w = 260 + 78 * ncols, h = 190 + 30 * nrows;
    fprintf(f, "# minima grid heat map (generated)\ndata = ");
    mn_gp_str(f, data);
    fprintf(f, "\ndo for [fmt in 'png svg'] {\n"
               "  if (fmt eq 'png') {\n"
               "    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "      set terminal pngcairo size %d,%d noenhanced font 'sans,10'\n"
               "    } else {\n"
               "      set terminal png size %d,%d noenhanced\n"
               "    }\n"
               "  } else {\n"
               "    set terminal svg size %d,%d noenhanced font 'sans,10' background '#ffffff'\n"
               "  }\n"
               "  set output ",
            w, h, w, h, w, h);
    mn_gp_str(f, prefix);
    fprintf(f, " . '.' . fmt\n  set title ");
    mn_gp_str(f, title);
    fprintf(f, "\n  set xrange [-0.5:%g]\n  set yrange [-0.5:%g]\n  set cbrange [0:100]\n"
               "  set cblabel '%% of runs'\n"
               "  set palette defined (0 '#b2182b', 50 '#f7f7f7', 100 '#2166ac')\n"
               "  set tics scale 0\n  set xtics rotate by 35 right\n",
            ncols - 0.5, nrows - 0.5);
    tics(f, "xtics", cols, ncols, 0);
    tics(f, "ytics", rows, nrows, 1);
    fprintf(f, "  plot data using 1:2:($3*100) with image notitle, \\\n"
               "       data using 1:2:(strcol(3) eq 'NaN' ? '' : sprintf('%%.0f', $3*100)) with labels notitle\n"
               "  unset output\n}\n");
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

typedef struct {
    const char *prefix, *title;
    const char *const *rows;
    int nrows;
    const char *const *cols;
    int ncols;
    const double *values;
} grid_args;

static mn_status grid_write(void *ctx, const char *data, const char *script)
{
    const grid_args *g = ctx;
    mn_status st = write_data(data, g->nrows, g->ncols, g->values);
    if (!st) st = write_script(script, data, g->prefix, g->title, g->rows, g->nrows, g->cols, g->ncols);
    return st;
}

mn_status mn_plot_grid(const char *prefix, const char *title, const char *const *rows, int nrows,
                       const char *const *cols, int ncols, const double *values)
{
    if (!prefix || !*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    if (nrows < 1 || nrows > 32 || ncols < 1 || ncols > 32)
        return mn_fail(MN_EINVAL, "grid heat map: %d x %d cells (1..32 rows and columns)", nrows, ncols);
    const grid_args g = {prefix, title, rows, nrows, cols, ncols, values};
    return mn_gp_draw(prefix, grid_write, (void *)&g);
}
