/* The saddles figure, two panels: the objective against iterations for GD
 * and PGD from one start in the largest d (the paper's d = 10 figure), and
 * the median iterations to escape saddle i against i for both methods
 * (log scale, quartile bars). gnuplot as a subprocess, as in plot.c. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minima/experiment.h"
#include "plot/internal.h"

static void put(FILE *f, double x) { isfinite(x) ? fprintf(f, " %.9g", x) : fputs(" NaN", f); }

/* index 0: "iter f_gd f_pgd"; index 1, 2: "i med q1 q3" of GD and PGD in the largest d. */
static mn_status write_data(const char *path, const mn_saddles_result *r, const mn_saddles_row *gd,
                            const mn_saddles_row *pgd)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    for (int t = 0; t < r->ntrace; t++) {
        fprintf(f, "%ld", r->trace_iter[t]);
        put(f, r->trace_gd[t]);
        put(f, r->trace_pgd[t]);
        fputc('\n', f);
    }
    for (int m = 0; m < 2; m++) {
        const mn_saddles_row *w = m ? pgd : gd;
        fputs("\n\n", f);
        for (int i = 0; i < w->d; i++) {
            fprintf(f, "%d", i + 1);
            put(f, w->med[i]);
            put(f, w->q1[i]);
            put(f, w->q3[i]);
            fputc('\n', f);
        }
    }
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

static mn_status write_script(const char *path, const char *data, const char *prefix, const mn_saddles_result *r,
                              int d, int restarts, double gd_last)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    fprintf(f, "# minima saddles figure (generated)\ndata = ");
    mn_gp_str(f, data);
    fprintf(f, "\ndo for [fmt in 'png svg'] {\n"
               "  if (fmt eq 'png') {\n"
               "    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "      set terminal pngcairo size 1200,520 noenhanced font 'sans,11'\n"
               "    } else {\n"
               "      set terminal png size 1200,520 noenhanced\n"
               "    }\n"
               "  } else {\n"
               "    set terminal svg size 1200,520 noenhanced font 'sans,11' background '#ffffff'\n"
               "  }\n"
               "  set output ");
    mn_gp_str(f, prefix);
    fprintf(f, " . '.' . fmt\n"
               "  set multiplot layout 1,2 title 'Du et al. (2017) octopus, d = %d: gamma = %g, L = %g, step %.3g'\n"
               "  set grid lt 1 lw 0.5 lc rgb '#d8d8d8'\n"
               "  set key top right box opaque\n"
               "  set title 'objective against iterations (one start)'\n"
               "  set xlabel 'iteration'\n  set ylabel 'f(x)'\n"
               "  plot data index 0 using 1:2 with lines lw 2 lc rgb '#d62728' title 'GD', \\\n"
               "       data index 0 using 1:3 with lines lw 2 lc rgb '#1f77b4' title 'PGD'\n"
               "  set title 'iterations to escape saddle i (median of %d starts, bars: quartiles)'\n"
               "  set xlabel 'saddle i'\n  set ylabel 'iterations (log scale)'\n"
               "  set logscale y\n  set xrange [0.5:%d.5]\n  set xtics 1\n  set key top left\n"
               "  theory(x) = %.9g * %.9g ** (x - %d)\n"
               "  plot data index 1 using 1:2:3:4 with yerrorlines lw 2 pt 7 lc rgb '#d62728' title 'GD', \\\n"
               "       data index 2 using 1:2:3:4 with yerrorlines lw 2 pt 5 lc rgb '#1f77b4' title 'PGD', \\\n"
               "       [1:%d] theory(x) with lines dt 2 lw 1.5 lc rgb '#555555' title sprintf('GD theory: x %%.3f per saddle', %.9g)\n"
               "  unset multiplot\n  unset output\n"
               "  unset logscale y\n  set autoscale x\n  set xtics autofreq\n}\n",
            d, r->oct.gamma, r->oct.L, r->step, restarts, d, gd_last, r->growth, d, d, r->growth);
    int bad = ferror(f);
    bad |= fclose(f) != 0;
    return bad ? mn_fail(MN_EIO, "cannot write '%s'", path) : MN_OK;
}

mn_status mn_saddles_plot(const mn_saddles_result *r, const char *prefix)
{
    if (!r || !prefix || !*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    int k = 0; /* the largest d's GD row; its PGD row follows */
    for (int j = 0; j + 1 < r->n; j += 2)
        if (r->rows[j].d > r->rows[k].d) k = j;
    if (r->n < 2 || r->ntrace < 1) return mn_fail(MN_EINVAL, "saddles figure: nothing to plot");
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/minima-plot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) return mn_fail(MN_EIO, "cannot make a temporary folder in '%s': %s", dir, strerror(errno));
    char data[4200], script[4200], err[4200], png[4200], svg[4200];
    snprintf(data, sizeof data, "%s/saddles.dat", dir);
    snprintf(script, sizeof script, "%s/figure.gp", dir);
    snprintf(err, sizeof err, "%s/gnuplot.err", dir);
    snprintf(png, sizeof png, "%s.png", prefix);
    snprintf(svg, sizeof svg, "%s.svg", prefix);
    remove(png), remove(svg);
    mn_status st = write_data(data, r, &r->rows[k], &r->rows[k + 1]);
    if (!st) st = write_script(script, data, prefix, r, r->rows[k].d, r->rows[k].restarts,
                                r->rows[k].med[r->rows[k].d - 1]);
    if (!st) st = mn_gp_run(script, err);
    for (int m = 0; !st && m < 2; m++) {
        struct stat sb;
        if (stat(m ? svg : png, &sb) != 0 || sb.st_size == 0)
            st = mn_fail(MN_EIO, "gnuplot did not write '%s'", m ? svg : png);
    }
    if (st) remove(png), remove(svg);
    remove(data), remove(script), remove(err);
    rmdir(dir);
    return st;
}
