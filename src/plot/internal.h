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

#endif
