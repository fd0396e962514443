/* Shared by the figure files of src/plot/: gnuplot as a subprocess. */
#ifndef MN_PLOT_INTERNAL_H
#define MN_PLOT_INTERNAL_H

#include <stdio.h>

#include "minima.h"
#include "minima/experiment.h"

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
/* The same with the font size in points (mn_gp_terminals: 11). */
void mn_gp_terminals_font(FILE *f, const char *prefix, int width, int height, int points);


/* The residual experiment's figure PREFIX.png / .svg: steps to eps against
 * depth (pd, one curve per kappa), lowest loss / floor against depth
 * (negative, one curve per mu), lowest loss against ||Phi - I|| (distance,
 * one curve per depth; eps drawn). */
mn_status mn_resid_plot(const mn_resid_row *rows, int n, double eps, const char *prefix);

/* The implicit-bias experiment's figure: |DFT(beta)| / max against the
 * frequency on data set 0, one panel per network, a curve per depth, with
 * the SVM (fully connected) and l1-DFT LP (convolutional) solutions. */
mn_status mn_ib_plot(const mn_ib_result *r, const char *prefix);

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
