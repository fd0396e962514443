/* The eliminate experiment's plan: does one added neuron remove bad local
 * minima in practice? A grid of (data set x loss x defence) settings, each
 * run `restarts` times by the sweep runner into a database (a re-run
 * resumes), then summarised per setting.
 *
 * The grid (default; quick is smaller, see `params` below):
 *   data     separable (2-d, linear teacher), xor, spirals, teacher (10-d
 *            linear teacher, see below), each also with 10% of its labels
 *            flipped; or a CSV file (standardised) and the same with 10%
 *            flipped;
 *   loss     poly_hinge (p = 3: meets Liang et al.'s assumption), logistic
 *            and squared (break it: no minimiser at a finite negative
 *            argument, resp. not monotone);
 *   defence  none; liang (one a e^{w.x+b} neuron, lambda = 0.01) for one
 *            output, per-output (one such neuron per output) for more;
 *            softplus instead of relu; a wider network (over-
 *            parameterisation); the pgd optimiser instead of gd.
 * Every setting is plain GD (pgd for that defence) from the library's
 * initialisation, certified with --zero-error (zero training error counts
 * as global for the margin losses) and, on realizable data with a margin
 * loss, a global value of 0 (known there; elsewhere the summary classifies
 * against the best found). The "teacher" data set: the library has
 * no generator of -1/+1 labels from a random two-layer network, so it is
 * `--generate separable --dim 10`, labels sign(u.x) of a random unit u: a
 * teacher network with one hidden unit, realizable by every student here,
 * in a higher dimension than the other sets. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/internal.h"
#include "minima/dist.h"
#include "minima/experiment.h"
#include "plot/internal.h"

/* The grid's sizes: the default and quick. */
typedef struct {
    int n;          /* generated samples */
    int width;      /* hidden units of the base network */
    int wide;       /* hidden units of the "wider" defence */
    long steps;     /* optimiser steps */
    const char *lr; /* GD step size (pgd: the same step, eta = c / l) */
    const char *pgd_l;
    long restarts;
} params;

static const params full = {.n = 200, .width = 4, .wide = 32, .steps = 8000, .lr = "0.1", .pgd_l = "5",
                            .restarts = 20};
static const params quick = {.n = 100, .width = 4, .wide = 32, .steps = 3000, .lr = "0.1", .pgd_l = "5",
                             .restarts = 3};

typedef struct {
    const char *name;
    const char *gen; /* generator, or NULL for the CSV file */
    int dim;         /* separable's --dim (0: default) */
    int realizable;
} source;

static const source sources[] = {
    {"separable", "separable", 0, 1},
    {"xor", "xor", 0, 1},
    {"spirals", "spirals", 0, 0},
    {"teacher", "separable", 10, 1},
};

static const char *const losses[] = {"poly_hinge", "logistic", "squared"};
static const char *const defences[] = {"none", "liang", "per-output", "softplus", "wider", "pgd"};
#define FLIP "0.1"

/* Data options of source src (NULL: the CSV file). */
static void data_opts(mn_xset *s, const source *src, const mn_elim_plan *p, int n)
{
    if (src) {
        mn_xset_add(s, "generate", "%s", src->gen);
        mn_xset_add(s, "n", "%d", n);
        if (src->dim) mn_xset_add(s, "dim", "%d", src->dim);
    } else {
        mn_xset_add(s, "data", "%s", p->data_path);
        mn_xset_add(s, "label", "%s", p->label);
        mn_xset_add(s, "standardize", "on");
    }
}

/* Features and label columns of a data source, from one build. */
static mn_status probe(int *d, int *m, const source *src, const mn_elim_plan *p, int n)
{
    mn_xset s = {.nopt = 0};
    data_opts(&s, src, p, n);
    mn_xset_add(&s, "loss", "logistic"); /* -1/+1 labels are needed by the margin losses */
    return mn_xset_probe(NULL, d, m, &s);
}

void mn_elim_plan_default(mn_elim_plan *p)
{
    memset(p, 0, sizeof *p);
    p->db_path = "eliminate.db";
}

mn_status mn_elim_plan_set(mn_elim_plan *p, const char *name, const char *v)
{
    const mn_option *o;
    mn_status st = mn_option_of(&o, name, MN_CMD_ELIMINATE, "experiment eliminate", v);
    if (st) return st;
    long l;
    if (!strcmp(name, "quick")) p->quick = 1;
    else if (!strcmp(name, "data")) p->data_path = v;
    else if (!strcmp(name, "label")) p->label = v;
    else if (!strcmp(name, "db")) p->db_path = v;
    else if (!strcmp(name, "plot")) p->plot = v;
    else if (!strcmp(name, "restarts") && !(st = mn_option_int(&l, o, v))) p->restarts = l;
    else if (!strcmp(name, "threads") && !(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    return st;
}

/* The figure: rows (data, loss) top to bottom in grid order, columns the
 * defences; panels % certified global, % diverged, % not converged, every
 * cell printed (what 120 bars side by side could not show at a glance:
 * which defence helps where, and whether a 0% global is runs diverging or
 * runs still going at the step cap). Row names "data, loss" fit NAMELEN:
 * mn_elim_cell.data (48) + ", " + .loss (16). */
#define NAMELEN 72
static int index_of(char names[][NAMELEN], int n, const char *name)
{
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name)) return i;
    return -1;
}

static mn_status plot_table(const char *prefix, const mn_elim_cell *e, const mn_summary *s, int n)
{
    enum { MAXC = 16, NP = 3 };
    char cols[MAXC][NAMELEN];
    char (*rows)[NAMELEN] = calloc((size_t)n, sizeof *rows); /* at most one row per setting */
    const char **rp = malloc((size_t)n * sizeof *rp);
    double *v = malloc((size_t)NP * (size_t)n * MAXC * sizeof *v);
    if (!rows || !rp || !v) {
        free(rows), free(rp), free(v);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    int nr = 0, nc = 0;
    for (int i = 0; i < n; i++) {
        char r[NAMELEN];
        snprintf(r, sizeof r, "%s, %s", e[i].data, e[i].loss);
        if (index_of(rows, nr, r) < 0) snprintf(rows[nr++], NAMELEN, "%s", r);
        if (index_of(cols, nc, e[i].defence) < 0 && nc < MAXC) snprintf(cols[nc++], NAMELEN, "%s", e[i].defence);
    }
    for (size_t k = 0; k < (size_t)NP * (size_t)n * MAXC; k++) v[k] = NAN;
    static const mn_class cls[NP] = {MN_CLASS_GLOBAL, MN_CLASS_DIVERGED, MN_CLASS_NOT_CONVERGED};
    for (int i = 0; i < n; i++) {
        char r[NAMELEN];
        snprintf(r, sizeof r, "%s, %s", e[i].data, e[i].loss);
        const int y = index_of(rows, nr, r), x = index_of(cols, nc, e[i].defence);
        for (int p = 0; p < NP && x >= 0 && s[i].n > 0; p++)
            v[((size_t)p * nr + y) * nc + x] = 100.0 * (double)s[i].count[cls[p]] / (double)s[i].n;
    }
    const char *cp[MAXC];
    for (int j = 0; j < nc; j++) cp[j] = cols[j];
    for (int i = 0; i < nr; i++) rp[i] = rows[i];
    static const char *const panels[NP] = {"% of runs certified global", "% of runs diverged",
                                           "% of runs not converged at the step cap"};
    char title[160], note[240];
    /* the runs the database holds per setting (a larger earlier --restarts leaves more) */
    long lo = s[0].n, hi = s[0].n;
    for (int i = 1; i < n; i++) lo = s[i].n < lo ? s[i].n : lo, hi = s[i].n > hi ? s[i].n : hi;
    if (lo == hi)
        snprintf(title, sizeof title, "Does the added neuron help gradient descent? %ld runs per cell", lo);
    else
        snprintf(title, sizeof title, "Does the added neuron help gradient descent? %ld to %ld runs per cell", lo, hi);
    snprintf(note, sizeof note, "global: zero training error counts as global for the margin losses. "
                                "The rest of a cell's runs (100 - the three panels) ended at spurious, saddle "
                                "or degenerate points.");
    mn_status st = mn_plot_table(prefix, title, panels, NP, cp, nc, rp, nr, v, note);
    free(rows), free(rp), free(v);
    return st;
}

void mn_elim_result_free(mn_elim_result *r)
{
    if (!r) return;
    mn_summary_free(r->summary, r->n);
    free(r->cells);
    free(r);
}

mn_status mn_experiment_eliminate(mn_elim_result **out, const mn_elim_plan *p)
{
    *out = NULL;
    if (p->data_path && !p->label) return mn_fail(MN_EINVAL, "--data needs --label to name the label column");
    if (p->label && !p->data_path) return mn_fail(MN_EINVAL, "--label applies to --data only");
    const params *P = p->quick ? &quick : &full;
    const long restarts = p->restarts > 0 ? p->restarts : P->restarts;
    const int threads = p->threads > 0 ? p->threads : omp_get_max_threads();

    /* The data sources and their shapes. */
    const int nsrc = p->data_path ? 1 : (int)(sizeof sources / sizeof *sources);
    int dims[8], outs[8];
    for (int k = 0; k < nsrc; k++) {
        mn_status st = probe(&dims[k], &outs[k], p->data_path ? NULL : &sources[k], p, P->n);
        if (st) return st;
    }

    /* The settings, data outermost, then flip, loss, defence. */
    const int nl = (int)(sizeof losses / sizeof *losses), nd = (int)(sizeof defences / sizeof *defences);
    const int cap = nsrc * 2 * nl * nd;
    mn_xset *e = calloc((size_t)cap, sizeof *e);
    mn_elim_result *res = calloc(1, sizeof *res);
    mn_elim_cell *cells = calloc((size_t)cap, sizeof *cells);
    int64_t *ids = calloc((size_t)cap, sizeof *ids);
    mn_db *db = NULL;
    int ns = 0;
    mn_status st = e && res && cells && ids ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    for (int k = 0; k < nsrc && !st; k++)
        for (int fl = 0; fl < 2; fl++)
            for (int li = 0; li < nl; li++)
                for (int di = 0; di < nd; di++) {
                    const char *def = defences[di];
                    if (!strcmp(def, "per-output") && outs[k] < 2) continue; /* the same as liang */
                    if (!strcmp(def, "liang") && outs[k] > 1) continue;      /* one output only */
                    mn_xset *s = &e[ns];
                    mn_elim_cell *c = &cells[ns++];
                    const char *base = p->data_path ? "csv" : sources[k].name;
                    snprintf(c->data, sizeof c->data, "%s%s", base, fl ? "+flip" FLIP : "");
                    snprintf(c->loss, sizeof c->loss, "%s", losses[li]);
                    snprintf(c->defence, sizeof c->defence, "%s", def);
                    c->realizable = p->data_path ? -1 : fl ? 0 : sources[k].realizable;
                    data_opts(s, p->data_path ? NULL : &sources[k], p, P->n);
                    if (fl) mn_xset_add(s, "flip", FLIP);
                    mn_xset_add(s, "loss", "%s", losses[li]);
                    mn_xset_add(s, "arch", "%d-%d-%d", dims[k], P->width, outs[k]);
                    mn_xset_add(s, "steps", "%ld", P->steps);
                    mn_xset_add(s, "lr", "%s", P->lr);
                    mn_xset_add(s, "zero-error", "on");
                    /* zero-error realizable data: a margin loss reaches 0 (poly_hinge at a
                     * scaled zero-error network, logistic as an infimum), so the global
                     * value is known; elsewhere it is not, and the summary classifies the
                     * minima against the best found */
                    s->global_zero = c->realizable == 1 && strcmp(losses[li], "squared");
                    if (!strcmp(def, "liang") || !strcmp(def, "per-output")) mn_xset_add(s, "eliminate", "%s", def);
                    if (!strcmp(def, "softplus")) mn_xset_add(s, "act", "softplus");
                    if (!strcmp(def, "wider")) mn_xset_add(s, "arch", "%d-%d-%d", dims[k], P->wide, outs[k]);
                    if (!strcmp(def, "pgd")) mn_xset_add(s, "optimizer", "pgd"), mn_xset_add(s, "pgd-l", "%s", P->pgd_l);
                }
    mn_xset_result xr = {0};
    if (!st) st = mn_xset_run(&xr, &db, ids, e, ns, p->db_path, restarts, threads, p->progress);
    if (!st) res->summary = xr.summary, res->n = xr.n, res->done = xr.done, res->skipped = xr.skipped,
             res->seconds = xr.seconds;
    if (res) res->cells = cells, res->restarts = restarts;
    if (!st && p->plot && mn_dist_rank() == 0) st = plot_table(p->plot, cells, res->summary, res->n);
    free(e), free(ids);
    mn_db_close(db);
    if (st) {
        if (res) mn_elim_result_free(res);
        else free(cells);
        return st;
    }
    *out = res;
    return MN_OK;
}
