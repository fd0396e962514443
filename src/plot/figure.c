/* One gnuplot figure from a caller's data and script writers: a private
 * temporary folder, gnuplot run on the script, PREFIX.png and PREFIX.svg
 * checked to exist (gnuplot can exit 0 without writing an unwritable
 * output), nothing left behind on failure. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "plot/internal.h"

mn_status mn_gp_figure(const char *prefix, mn_gp_data_writer data_fn, mn_gp_script_writer script_fn, const void *ctx)
{
    if (!prefix || !*prefix || strlen(prefix) > 4000)
        return mn_fail(MN_EINVAL, "bad figure prefix (empty or over 4000 characters)");
    const char *tmpdir = getenv("TMPDIR");
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/minima-plot-XXXXXX", tmpdir && *tmpdir ? tmpdir : "/tmp");
    if (!mkdtemp(dir)) return mn_fail(MN_EIO, "cannot make a temporary folder in '%s': %s", dir, strerror(errno));
    char data[4200], script[4200], err[4200], png[4200], svg[4200];
    snprintf(data, sizeof data, "%s/figure.dat", dir);
    snprintf(script, sizeof script, "%s/figure.gp", dir);
    snprintf(err, sizeof err, "%s/gnuplot.err", dir);
    snprintf(png, sizeof png, "%s.png", prefix);
    snprintf(svg, sizeof svg, "%s.svg", prefix);
    remove(png), remove(svg); /* so an old figure is never taken for a new one */
    FILE *f = fopen(data, "w");
    mn_status st = f ? data_fn(f, ctx) : mn_fail(MN_EIO, "cannot write '%s': %s", data, strerror(errno));
    if (f && (ferror(f) | (fclose(f) != 0)) && !st) st = mn_fail(MN_EIO, "cannot write '%s'", data);
    if (!st) {
        FILE *g = fopen(script, "w");
        st = g ? MN_OK : mn_fail(MN_EIO, "cannot write '%s': %s", script, strerror(errno));
        if (g) {
            fputs("data = ", g);
            mn_gp_str(g, data);
            fputc('\n', g);
            st = script_fn(g, prefix, ctx);
            if ((ferror(g) | (fclose(g) != 0)) && !st) st = mn_fail(MN_EIO, "cannot write '%s'", script);
        }
    }
    if (!st) st = mn_gp_run(script, err);
    for (int k = 0; !st && k < 2; k++) {
        struct stat sb;
        if (stat(k ? svg : png, &sb) != 0 || sb.st_size == 0)
            st = mn_fail(MN_EIO, "gnuplot did not write '%s'", k ? svg : png);
    }
    if (st) remove(png), remove(svg); /* a failed gnuplot may have left one half-written */
    remove(data), remove(script), remove(err);
    rmdir(dir);
    return st;
}

void mn_gp_terminals(FILE *f, const char *prefix, int width, int height)
{
    mn_gp_terminals_font(f, prefix, width, height, 11);
}

void mn_gp_terminals_font(FILE *f, const char *prefix, int width, int height, int points)
{
    fprintf(f, "do for [fmt in 'png svg'] {\n"
               "  if (fmt eq 'png') {\n"
               "    if (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
               "      set terminal pngcairo size %d,%d noenhanced font 'sans,%d'\n"
               "    } else {\n"
               "      set terminal png size %d,%d noenhanced\n"
               "    }\n"
               "  } else {\n"
               "    set terminal svg size %d,%d noenhanced font 'sans,%d' background '#ffffff'\n"
               "  }\n"
               "  set output ",
            width, height, points, width, height, width, height, points);
    mn_gp_str(f, prefix);
    fputs(" . '.' . fmt\n", f);
}
