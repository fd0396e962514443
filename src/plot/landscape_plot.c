/* Figures of the landscape instruments (minima/instruments.h): the spectral
 * density on a symmetric-log axis, 1-D and 2-D loss slices, and paths, each
 * a data file and a gnuplot script for mn_gp_figure. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/instruments.h"
#include "plot/internal.h"

typedef mn_status (*writer)(FILE *data, FILE *script, const void *ctx);

/* The instruments' writers write data and script together; mn_gp_figure
 * asks for them in turn, so the script is kept in memory in between. */
typedef struct {
    writer write;
    const void *ctx;
    char **script;
    size_t *len;
} opened;

static mn_status write_both(FILE *fd, const void *ctx)
{
    const opened *o = ctx;
    FILE *ms = open_memstream(o->script, o->len);
    if (!ms) return mn_fail(MN_ENOMEM, "out of memory for a figure's script");
    mn_status st = o->write(fd, ms, o->ctx);
    if (fclose(ms) != 0 && !st) st = mn_fail(MN_ENOMEM, "out of memory for a figure's script");
    return st;
}

static mn_status copy_script(FILE *f, const char *prefix, const void *ctx)
{
    (void)prefix;
    const opened *o = ctx;
    fwrite(*o->script, 1, *o->len, f);
    return MN_OK;
}

static mn_status figure(const char *prefix, writer write, const void *ctx)
{
    char *script = NULL;
    size_t len = 0;
    const opened o = {write, ctx, &script, &len};
    mn_status st = mn_gp_figure(prefix, write_both, copy_script, &o);
    free(script);
    return st;
}

/* ---- density ---- */
typedef struct {
    const mn_density *d;
    const double *top;
    int ntop;
    const char *title, *prefix;
} density_ctx;

static double symlog(double t, double t0) { return copysign(log10(1.0 + fabs(t) / t0), t); }

static mn_status write_density(FILE *fd, FILE *f, const void *ctx)
{
    const density_ctx *c = ctx;
    const mn_density *d = c->d;
    const double t0 = d->sigma;
    double vmax = 0;
    for (int g = 0; g < d->npoints; g++) vmax = fmax(vmax, d->values[g]);
    const double vmin = vmax * 1e-10;
    for (int g = 0; g < d->npoints; g++)
        fprintf(fd, "%.9g %.9g %.9g\n", symlog(d->grid[g], t0), d->grid[g], fmax(d->values[g], vmin));
    const double s0 = symlog(d->grid[0], t0), s1 = symlog(d->grid[d->npoints - 1], t0);
    fprintf(f, "# minima spectrum density figure (generated)\n");
    mn_gp_terminals(f, c->prefix, 900, 520);
    fprintf(f, "  set title ");
    mn_gp_str(f, c->title);
    fprintf(f, "\n  set xlabel 'Hessian eigenvalue (symmetric log axis: sign(t) log10(1 + |t| / %.3g))'\n"
               "  set ylabel 'density'\n  set logscale y\n  set key below\n  set format y '1e%%T'\n  set tics out nomirror\n"
               "  set xrange [%.9g:%.9g]\n  set yrange [%.9g:%.9g]\n  set grid xtics lc rgb '#dddddd'\n",
            t0, s0, s1, vmin, vmax * 3);
    /* Ticks at whole decades of the symlog axis, labelled with the eigenvalue there. */
    fprintf(f, "  set xtics (");
    const double step = s1 - s0 < 6 ? 0.5 : 1.0; /* half decades on a short axis */
    int first = 1;
    for (double k = floor(s0); k <= ceil(s1) + 1e-9; k += step) {
        const double t = copysign(t0 * (pow(10.0, fabs(k)) - 1.0), k);
        fprintf(f, "%s'%.2g' %g", first ? "" : ", ", t, k);
        first = 0;
    }
    fprintf(f, ")\n  unset object\n  unset arrow\n");
    if (s0 < 0) /* the negative eigenvalues' side */
        fprintf(f, "  set object 1 rect from %.9g, graph 0 to 0, graph 1 fc rgb '#fde0dd' fs solid 0.6 noborder behind\n"
                   "  set label 1 'negative eigenvalues' at graph 0.02, graph 0.95 tc rgb '#c51b8a'\n",
                s0);
    for (int i = 0; i < c->ntop && i < 50; i++)
        fprintf(f, "  set arrow %d from %.9g, graph 0 to %.9g, graph 1 nohead dt 2 lc rgb '#31a354'\n", i + 1,
                symlog(c->top[i], t0), symlog(c->top[i], t0));
    fprintf(f, "  plot data using 1:3 with lines lw 2 lc rgb '#08519c' title 'SLQ density'");
    if (c->ntop) fprintf(f, ", NaN with lines dt 2 lc rgb '#31a354' title 'top eigenvalues (Lanczos)'");
    fprintf(f, "\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_plot_density(const mn_density *d, const double *top, int ntop, const char *title, const char *prefix)
{
    if (!d || d->npoints < 2) return mn_fail(MN_EINVAL, "density figure: no density");
    const density_ctx c = {d, top, ntop, title, prefix};
    return figure(prefix, write_density, &c);
}

/* ---- slices ---- */
typedef struct {
    const double *loss, *acc, *a, *b;
    int na, nb;
    const char *xlabel, *ylabel, *title, *prefix;
} slice_ctx;

static mn_status write_slice(FILE *fd, FILE *f, const void *ctx)
{
    const slice_ctx *c = ctx;
    for (int i = 0; i < c->nb; i++) {
        for (int j = 0; j < c->na; j++) {
            const size_t k = (size_t)i * c->na + j;
            fprintf(fd, "%.9g %.9g %.12g %.9g\n", c->a[j], c->b ? c->b[i] : 0.0, c->loss[k],
                    c->acc ? c->acc[k] : NAN);
        }
        fputc('\n', fd);
    }
    fprintf(f, "# minima slice figure (generated)\n");
    mn_gp_terminals(f, c->prefix, c->nb > 1 ? 760 : 860, c->nb > 1 ? 640 : 500);
    fprintf(f, "  set title ");
    mn_gp_str(f, c->title);
    fprintf(f, "\n  set xlabel ");
    mn_gp_str(f, c->xlabel);
    fprintf(f, "\n  set tics out nomirror\n");
    if (c->nb == 1) {
        fprintf(f, "  set ylabel 'loss'\n  set logscale y\n");
        if (c->acc)
            fprintf(f, "  set y2label 'accuracy'\n  set y2range [0:1.02]\n  set y2tics\n"
                       "  plot data using 1:3 with linespoints pt 7 ps 0.5 lw 2 lc rgb '#08519c' title 'loss', "
                       "data using 1:4 axes x1y2 with lines lw 2 dt 2 lc rgb '#e6550d' title 'accuracy'\n");
        else
            fprintf(f, "  plot data using 1:3 with linespoints pt 7 ps 0.5 lw 2 lc rgb '#08519c' title 'loss'\n");
    } else {
        fprintf(f, "  set ylabel ");
        mn_gp_str(f, c->ylabel);
        fprintf(f, "\n  set view map\n  set size ratio -1\n  set pm3d map interpolate 2,2\n"
                   "  set palette rgb 33,13,10\n  set cblabel 'log10 loss'\n  set contour base\n"
                   "  set cntrparam levels 14\n  unset clabel\n  set key off\n"
                   "  splot data using 1:2:(log10($3)) with pm3d, "
                   "data using 1:2:(log10($3)) with lines nosurface lc rgb '#202020'\n");
    }
    fprintf(f, "  unset output\n}\n");
    return MN_OK;
}

mn_status mn_plot_slice(const double *loss, const double *acc, const double *a, int na, const double *b, int nb,
                        const char *xlabel, const char *ylabel, const char *title, const char *prefix)
{
    if (na < 2 || nb < 1 || (nb > 1 && (!b || nb < 2)))
        return mn_fail(MN_EINVAL, "slice figure: a %d x %d grid (at least 2 points per axis)", na, nb);
    const slice_ctx c = {loss, acc, a, b, na, nb, xlabel, ylabel ? ylabel : "", title, prefix};
    return figure(prefix, write_slice, &c);
}

/* ---- paths ---- */
typedef struct {
    const mn_path *p;
    const char *title, *prefix;
} path_ctx;

static mn_status write_path(FILE *fd, FILE *f, const void *ctx)
{
    const path_ctx *c = ctx;
    const mn_path *p = c->p;
    for (int i = 0; i < p->points; i++)
        fprintf(fd, "%.9g %.12g %.12g %.12g\n", p->t[i], p->line[i], p->curve[i], p->images ? p->band[i] : NAN);
    fprintf(f, "# minima path figure (generated)\n");
    mn_gp_terminals(f, c->prefix, 860, 500);
    fprintf(f, "  set title ");
    mn_gp_str(f, c->title);
    fprintf(f, "\n  set xlabel 't (0: A, 1: B)'\n  set ylabel 'loss'\n  set logscale y\n  set tics out nomirror\n"
               "  set key top right\n"
               "  plot data using 1:2 with lines lw 2 lc rgb '#e6550d' title sprintf('straight line, barrier %%.3g', "
               "%.9g), data using 1:3 with lines lw 2 lc rgb '#08519c' title sprintf('Bezier curve, barrier %%.3g', "
               "%.9g)",
            p->barrier_line, p->barrier_curve);
    if (p->images)
        fprintf(f, ", data using 1:4 with lines lw 2 lc rgb '#31a354' title sprintf('elastic band (t: length "
                   "fraction), barrier %%.3g', %.9g)",
                p->barrier_band);
    fprintf(f, "\n  unset output\n}\n");
    return MN_OK;
}

mn_status mn_plot_path(const mn_path *p, const char *title, const char *prefix)
{
    if (!p || p->points < 2) return mn_fail(MN_EINVAL, "path figure: no path");
    const path_ctx c = {p, title, prefix};
    return figure(prefix, write_path, &c);
}
