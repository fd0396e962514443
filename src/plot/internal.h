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
/* A figure's two writers: the data (the script's `data` variable names the
 * file) and the script body, which ends its loop over the formats. */
typedef mn_status (*mn_gp_data_writer)(FILE *f, const void *ctx);
typedef mn_status (*mn_gp_script_writer)(FILE *f, const char *prefix, const void *ctx);
/* PREFIX.png and PREFIX.svg from the two writers (src/plot/figure.c). */
mn_status mn_gp_figure(const char *prefix, mn_gp_data_writer data, mn_gp_script_writer script, const void *ctx);
/* Opens the loop "do for [fmt in 'png svg'] {", its terminal (width x height)
 * and output PREFIX.fmt; the caller closes it with "unset output\n}". */
void mn_gp_terminals(FILE *f, const char *prefix, int width, int height);

#endif
