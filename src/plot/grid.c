/* A categorical heat map (gnuplot `with image` on the cell indices, named
 * tics, each cell labelled with its percentage): the arena's figure. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "minima/sweep.h"
#include "plot/internal.h"

/* Data: lines "col row value" (NaN blank), the rows top-down. */
typedef struct {
    const char *title;
    const char *const *rows;
    int nrows;
    const char *const *cols;
    int ncols;
    const double *values; /* (nrows x ncols) fractions in 0..1 */
} grid_args;

static mn_status write_data(FILE *f, const void *ctx)
{
    const grid_args *g = ctx;
    for (int i = 0; i < g->nrows; i++) {
        for (int j = 0; j < g->ncols; j++) {
            const double x = g->values[(size_t)i * g->ncols + j];
            if (isnan(x))
                fprintf(f, "%d %d NaN\n", j, g->nrows - 1 - i);
            else
                fprintf(f, "%d %d %.6g\n", j, g->nrows - 1 - i, x);
        }
        fputc('\n', f);
    }
    return MN_OK;
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

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const grid_args *g = ctx;
    mn_gp_terminals(f, prefix, 260 + 78 * g->ncols, 190 + 30 * g->nrows);
    fputs("  set title ", f);
    mn_gp_str(f, g->title);
    fprintf(f, "\n  set xrange [-0.5:%g]\n  set yrange [-0.5:%g]\n  set cbrange [0:100]\n"
               "  set cblabel '%% of runs'\n"
               "  set palette defined (0 '#b2182b', 50 '#f7f7f7', 100 '#2166ac')\n"
               "  set tics scale 0\n  set xtics rotate by 35 right\n",
            g->ncols - 0.5, g->nrows - 0.5);
    tics(f, "xtics", g->cols, g->ncols, 0);
    tics(f, "ytics", g->rows, g->nrows, 1);
    fprintf(f, "  plot data using 1:2:($3*100) with image notitle, \\\n"
               "       data using 1:2:(strcol(3) eq 'NaN' ? '' : sprintf('%%.0f', $3*100)) with labels notitle\n"
               "  unset output\n}\n");
    return MN_OK;
}

mn_status mn_plot_grid(const char *prefix, const char *title, const char *const *rows, int nrows,
                       const char *const *cols, int ncols, const double *values)
{
    if (nrows < 1 || nrows > 32 || ncols < 1 || ncols > 32)
        return mn_fail(MN_EINVAL, "grid heat map: %d x %d cells (1..32 rows and columns)", nrows, ncols);
    const grid_args g = {title, rows, nrows, cols, ncols, values};
    return mn_gp_figure(prefix, write_data, write_script, &g);
}
