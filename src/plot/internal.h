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
/* Opens gnuplot's `do for [fmt in 'png svg'] {` loop: the terminal of each
 * format at w x h pixels (pngcairo when there is one) and the output
 * PREFIX.fmt; the caller's commands follow and it closes the loop with
 * "  unset output\n}\n". */
void mn_gp_terminal(FILE *f, const char *prefix, int w, int h);
/* One figure PREFIX.png and PREFIX.svg from one data file: in a fresh
 * temporary folder, write(ctx, data_path, script_path) writes both files,
 * gnuplot runs the script, and both figures must then exist and be
 * non-empty (else MN_EIO, and neither is left). The folder is removed. */
typedef mn_status (*mn_gp_writer)(void *ctx, const char *data, const char *script);
mn_status mn_gp_draw(const char *prefix, mn_gp_writer write, void *ctx);

#endif
