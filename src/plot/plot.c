/* Figures of a sweep summary, drawn by gnuplot as a subprocess.
 *
 * Why gnuplot and not PLplot (or cairo by hand): gnuplot is a program, not a
 * library, so libminima links nothing for figures and a missing plotter
 * costs only the figures, reported in one line; one generated script writes
 * both PNG and SVG; it is packaged everywhere (Debian's gnuplot-nox has no X
 * dependency) and the script plus data file it reads are plain text a user
 * can rerun and edit. PLplot would add a C dependency and its own device
 * set-up for each format for no better figure.
 *
 * The figure: top, the fraction of runs in each class per setting as grouped
 * bars with 95% Wilson error bars (classes no run reached are left out; past
 * DENSE settings, one stacked bar per setting instead); bottom, every run's
 * final loss per setting (log scale, points jittered sideways, coloured by
 * class). Losses are clipped to [1e-16, 1e20]. A setting is named by its
 * short label (the options that differ between the settings; "setting ID"
 * when none do), its key=value pairs stacked under the tick when they are
 * few and fit the bar group's width, else on one rotated line. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "minima.h"
#include "minima/sweep.h"
#include "plot/internal.h"

extern char **environ;

#define LOSS_FLOOR 1e-16
#define LOSS_CEIL 1e20 /* a diverged run's loss would squash every other point */
#define DENSE 24 /* settings past which the figure turns compact (see write_script) */

void mn_gp_str(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++) {
        if (*s == '\'') fputc('\'', f);
        fputc(*s, f);
    }
    fputc('\'', f);
}

/* s as a gnuplot double-quoted string with every space turned into a line
 * break: a setting's key=value pairs stack under its tick. */
static void gp_label(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == ' ')
            fputs("\\n", f);
        else if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

/* s as a one-line gnuplot double-quoted string (rotated tick labels). */
static void gp_label1(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '"' || *s == '\\')
            fprintf(f, "\\%c", *s);
        else if ((unsigned char)*s >= 0x20)
            fputc(*s, f);
    }
    fputc('"', f);
}

/* The name of setting i under its tick (buf: 32 bytes at least). */
static const char *tick_name(const mn_summary *s, char *buf, size_t len)
{
    if (s->short_label && s->short_label[0]) return s->short_label;
    snprintf(buf, len, "setting %lld", (long long)s->id);
    return buf;
}

/* The longest name in characters, its most words (lines gp_label gives it)
 * and its longest word. */
static void name_sizes(const mn_summary *s, int n, int *chars, int *lines, int *word)
{
    *chars = *lines = *word = 1;
    for (int i = 0; i < n; i++) {
        char buf[48];
        const char *t = tick_name(&s[i], buf, sizeof buf);
        int k = 1, w = 0;
        for (const char *p = t; *p; p++) {
            k += *p == ' ';
            w = *p == ' ' ? 0 : w + 1;
            *word = w > *word ? w : *word;
        }
        *lines = k > *lines ? k : *lines;
        *chars = (int)strlen(t) > *chars ? (int)strlen(t) : *chars;
    }
}

/* s as a double-quoted data-file field (no quotes or backslashes inside). */
static void data_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) fputc(*s == '"' || *s == '\\' ? '\'' : *s == '\n' ? ' ' : *s, f);
    fputc('"', f);
}

/* What the summary figure's two writers read. */
typedef struct {
    const mn_summary *s;
    int n;
    mn_db *db;
} summary_fig;

/* The figure's one data file: gnuplot's index 0 the fractions, index 1
 * (after two blank lines) every run's loss. */
static mn_status write_data(FILE *f, const void *ctx)
{
    const summary_fig *c = ctx;
    const mn_summary *s = c->s;
    const int n = c->n;
    fprintf(f, "# index 0: index label then frac lo hi for each class in mn_class order\n");
    for (int i = 0; i < n; i++) {
        char buf[48];
        fprintf(f, "%d ", i);
        data_str(f, tick_name(&s[i], buf, sizeof buf));
        for (int k = 0; k < MN_NCLASS; k++)
            fprintf(f, " %.6g %.6g %.6g", s[i].n ? s[i].frac[k] : 0.0, s[i].lo[k], s[i].hi[k]);
        fputc('\n', f);
    }
    fprintf(f, "\n\n# index 1: x (setting index + jitter) loss class\n");
    mn_status st = MN_OK;
    int any = 0;
    for (int i = 0; i < n && !st; i++) {
        mn_run_row *rows;
        long nr;
        if ((st = mn_db_runs(&rows, &nr, c->db, s[i].id))) break;
        for (long r = 0; r < nr; r++) {
            if (!isfinite(rows[r].loss)) continue;
            /* a deterministic jitter in [-0.3, 0.3] from the restart index */
            double jit = 0.6 * (double)((rows[r].restart * 0x9E3779B1UL) % 1000) / 999.0 - 0.3;
            const mn_class k = mn_class_vs_best(rows[r].cls, rows[r].loss, s[i].best_loss, s[i].global_tol);
            fprintf(f, "%.6f %.9g %d\n", i + jit, fmin(fmax(rows[r].loss, LOSS_FLOOR), LOSS_CEIL), (int)k);
            any = 1;
        }
        free(rows);
    }
    if (!any) fprintf(f, "0 NaN 0\n"); /* gnuplot refuses an empty block */
    return st;
}

static mn_status write_script(FILE *f, const char *prefix, const void *ctx)
{
    const summary_fig *fig = ctx;
    const mn_summary *s = fig->s;
    const int n = fig->n;
    int present[MN_NCLASS] = {0};
    for (int i = 0; i < n; i++)
        for (int c = 0; c < MN_NCLASS; c++) present[c] |= s[i].count[c] > 0;
    /* Up to DENSE settings: grouped bars with error bars. More: one stacked
     * bar per setting (the fractions add up to 1; the intervals are in
     * `minima summary`). Names stacked one word a line under the tick when
     * they have at most STACK_MAX words and the longest word fits the
     * group's slot (~7 px a character at 10 pt, the slot widened up to a
     * 4000 px figure); otherwise one rotated line each. */
    enum { STACK_MAX = 5 };
    const int dense = n > DENSE;
    int chars, words, word;
    name_sizes(s, n, &chars, &words, &word);
    chars = chars > 80 ? 80 : chars;
    const int slot = dense ? 22 : word * 7 + 16 > 130 ? word * 7 + 16 : 130;
    const int stack = !dense && words <= STACK_MAX && n * slot + 250 <= 4000;
    const int lines = stack ? words : (chars * 6 + 13) / 14;
    int W = n * (stack ? slot : dense ? 22 : 60) + 300;
    W = W < 900 ? 900 : W > (dense ? 8000 : 4000) ? (dense ? 8000 : 4000) : W;
    const int H = 700 + 2 * 14 * (lines > 40 ? 40 : lines);
    fprintf(f, "# minima summary figure (generated)\nfrac = data\nloss = data\n");
    fprintf(f, "array names[%d] = [", MN_NCLASS);
    for (int k = 0; k < MN_NCLASS; k++) {
        if (k) fputs(", ", f);
        mn_gp_str(f, mn_class_name((mn_class)k));
    }
    fprintf(f, "]\n# colours per class: global, spurious, saddle, degenerate, not-converged, diverged, minimum,\n"
               "# best-found (a paler global), spurious (vs best found) (a paler spurious)\n"
               "array colours[%d] = ['#2ca02c', '#d62728', '#ff7f0e', '#9467bd', '#7f7f7f', '#1f77b4', '#8c564b', "
               "'#98df8a', '#ff9896']\n",
            MN_NCLASS);
    mn_gp_terminals_font(f, prefix, W, H, 10);
    fprintf(f, "  set multiplot layout 2,1\n"
               "  set xrange [-0.5:%d.5]\n"
               "  set key outside right top vertical\n"
               "  set lmargin 12\n  set rmargin 22\n"
               "  set grid ytics\n"
               "  unset logscale y\n"
               "  set yrange [0:1.05]\n"
               "  set ylabel 'fraction of runs%s'\n"
               "  set title 'Class of the end point per setting'\n"
               "  set style data histogram\n"
               "  set style histogram %s\n"
               "  set style fill solid 0.8 border -1\n"
               "  set boxwidth %s\n"
               "  set bmargin %d\n"
               "  set xtics nomirror %s(",
            n - 1, dense ? "" : " (95% Wilson)", dense ? "rowstacked" : "errorbars gap 1 lw 1", dense ? "0.8" : "0.9", lines + 2,
            stack ? "" : "rotate by 90 right ");
    for (int i = 0; i < n; i++) {
        char buf[48];
        const char *t = tick_name(&s[i], buf, sizeof buf);
        fprintf(f, "%s", i ? ", " : "");
        if (stack)
            gp_label(f, t);
        else
            gp_label1(f, t);
        fprintf(f, " %d", i);
    }
    fprintf(f, ")\n  plot ");
    int first = 1;
    for (int c = 0; c < MN_NCLASS; c++) {
        if (!present[c]) continue;
        if (dense)
            fprintf(f, "%sfrac index 0 using %d title names[%d] lc rgb colours[%d]", first ? "" : ", \\\n    ",
                    3 + 3 * c, c + 1, c + 1);
        else
            fprintf(f, "%sfrac index 0 using %d:%d:%d title names[%d] lc rgb colours[%d]",
                    first ? "" : ", \\\n    ", 3 + 3 * c, 4 + 3 * c, 5 + 3 * c, c + 1, c + 1);
        first = 0;
    }
    if (first) fprintf(f, "frac index 0 using 3:4:5 title 'no runs' lc rgb '#cccccc'");
    fprintf(f, "\n"
               "  set title 'Final training loss of every run'\n"
               "  set ylabel 'loss (log scale, clipped to [1e-16, 1e20])'\n"
               "  set logscale y\n"
               "  set yrange [*:*]\n"
               "  set format y '%%.0e'\n"
               "  plot ");
    first = 1;
    for (int c = 0; c < MN_NCLASS; c++) {
        if (!present[c]) continue;
        fprintf(f, "%sloss index 1 using 1:($3 == %d ? $2 : 1/0) with points pt 7 ps 0.6 lc rgb colours[%d] title names[%d]",
                first ? "" : ", \\\n    ", c, c + 1, c + 1);
        first = 0;
    }
    if (first) fprintf(f, "loss index 1 using 1:2 with points title 'no runs'");
    fprintf(f, "\n  unset multiplot\n  unset output\n"
               "  unset logscale y\n  set format y '%%g'\n  unset xtics\n  set xtics\n}\n");
    return MN_OK;
}

mn_status mn_gp_run(const char *script, const char *errpath)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    char *argv[] = {"gnuplot", (char *)script, NULL};
    pid_t pid;
    int rc = posix_spawnp(&pid, "gnuplot", &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc == ENOENT)
        return mn_fail(MN_EIO, "gnuplot not found on PATH: install it (Debian: apt-get install gnuplot-nox) "
                               "to draw figures");
    if (rc) return mn_fail(MN_EIO, "cannot start gnuplot: %s", strerror(rc));
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) return mn_fail(MN_EIO, "waiting for gnuplot: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return MN_OK;
    char line[300] = "";
    FILE *e = fopen(errpath, "r");
    if (e) { /* the first non-blank line that says something */
        char buf[300];
        while (fgets(buf, sizeof buf, e)) {
            buf[strcspn(buf, "\n")] = '\0';
            if (strspn(buf, " \t^") < strlen(buf)) {
                snprintf(line, sizeof line, "%s", buf + strspn(buf, " \t"));
                if (strstr(buf, "line")) break; /* gnuplot's '"script" line N: message' */
            }
        }
        fclose(e);
    }
    if (WIFEXITED(status))
        return mn_fail(MN_EIO, "gnuplot failed (exit %d): %s", WEXITSTATUS(status), line);
    return mn_fail(MN_EIO, "gnuplot was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

mn_status mn_plot_summary(const mn_summary *s, int n, mn_db *db, const char *prefix)
{
    if (n < 1) return mn_fail(MN_EINVAL, "nothing to plot: the database has no settings");
    const summary_fig c = {s, n, db};
    return mn_gp_figure(prefix, write_data, write_script, &c);
}
