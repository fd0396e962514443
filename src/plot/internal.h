/* Shared by the figure files of src/plot/: gnuplot as a subprocess. */
#ifndef MN_PLOT_INTERNAL_H
#define MN_PLOT_INTERNAL_H

#include <stdio.h>

#include "minima.h"

/* s as a gnuplot single-quoted string (a quote is doubled). */
void mn_gp_str(FILE *f, const char *s);
/* Runs gnuplot on the script, its stderr to errpath; MN_EIO with gnuplot's
 * first error line when it fails, or when it is not on PATH. */
mn_status mn_gp_run(const char *script, const char *errpath);
/* A table of percentages as heat maps side by side: PREFIX.png and
 * PREFIX.svg, one panel per entry of panels (1..4), each nr rows (names
 * rows, top to bottom) x nc columns (names cols, on top) of values in
 * [0, 100] (values: npanels x nr x nc; NaN drawn blank with "-"), every
 * cell's value printed in it; note (may be NULL) one line under the panels.
 * MN_EIO when gnuplot is missing or fails. */
mn_status mn_plot_table(const char *prefix, const char *title, const char *const *panels, int npanels,
                        const char *const *cols, int nc, const char *const *rows, int nr, const double *values,
                        const char *note);

#endif
