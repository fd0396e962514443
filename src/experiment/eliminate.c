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
 * as global for the margin losses). The "teacher" data set: the library has
 * no generator of -1/+1 labels from a random two-layer network, so it is
 * `--generate separable --dim 10`, labels sign(u.x) of a random unit u: a
 * teacher network with one hidden unit, realizable by every student here,
 * in a higher dimension than the other sets. */
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minima/experiment.h"
#include "plot/internal.h"

#define MAXO 16 /* options of one setting */

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

/* One setting as option pairs, and what it builds. */
typedef struct {
    int nopt;
    const char *key[MAXO];
    char val[MAXO][256];
    mn_data *d;
    mn_model *model;
    char *canon, *json;
} eset;

static void add(eset *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(eset *s, const char *key, const char *fmt, ...)
{
    int i = 0;
    while (i < s->nopt && strcmp(s->key[i], key)) i++; /* a later value replaces an earlier one */
    if (i == MAXO) return; /* cannot happen: settings have fewer options */
    if (i == s->nopt) s->key[s->nopt++] = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->val[i], sizeof s->val[i], fmt, ap);
    va_end(ap);
}

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
static void data_opts(eset *s, const source *src, const mn_elim_plan *p, int n)
{
    if (src) {
        add(s, "generate", "%s", src->gen);
        add(s, "n", "%d", n);
        if (src->dim) add(s, "dim", "%d", src->dim);
    } else {
        add(s, "data", "%s", p->data_path);
        add(s, "label", "%s", p->label);
        add(s, "standardize", "on");
    }
}

static void vals_of(const char **vals, const eset *s)
{
    for (int i = 0; i < s->nopt; i++) vals[i] = s->val[i];
}

/* Features and label columns of a data source, from one build. */
static mn_status probe(int *d, int *m, const source *src, const mn_elim_plan *p, int n)
{
    eset s = {.nopt = 0};
    data_opts(&s, src, p, n);
    add(&s, "loss", "logistic"); /* -1/+1 labels are needed by the margin losses */
    const char *vals[MAXO];
    vals_of(vals, &s);
    mn_options o;
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_status st = mn_setting_from_pairs(&o, &data, &model, s.key, vals, s.nopt);
    if (!st) *d = mn_data_d(data), *m = mn_data_m(data);
    mn_model_free(model);
    mn_data_free(data);
    return st;
}

void mn_elim_plan_default(mn_elim_plan *p)
{
    memset(p, 0, sizeof *p);
    p->db_path = "eliminate.db";
}

mn_status mn_elim_plan_set(mn_elim_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_ELIMINATE, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment eliminate", name);
    if (v && !*v && !strcmp(name, "plot")) return mn_fail(MN_EINVAL, "option '--plot' needs a non-empty value");
    long l;
    mn_status st = MN_OK;
    if (!strcmp(name, "quick")) p->quick = 1;
    else if (!strcmp(name, "data")) p->data_path = v;
    else if (!strcmp(name, "label")) p->label = v;
    else if (!strcmp(name, "db")) p->db_path = v;
    else if (!strcmp(name, "plot")) p->plot = v;
    else if (!strcmp(name, "restarts") && !(st = mn_option_int(&l, o, v))) p->restarts = l;
    else if (!strcmp(name, "threads") && !(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    return st;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
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
    eset *e = calloc((size_t)cap, sizeof *e);
    mn_elim_result *res = calloc(1, sizeof *res);
    mn_elim_cell *cells = calloc((size_t)cap, sizeof *cells);
    mn_sweep_setting *set = calloc((size_t)cap, sizeof *set);
    int64_t *ids = calloc((size_t)cap, sizeof *ids);
    mn_db *db = NULL;
    int ns = 0;
    mn_status st = e && res && cells && set && ids ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    for (int k = 0; k < nsrc && !st; k++)
        for (int fl = 0; fl < 2; fl++)
            for (int li = 0; li < nl; li++)
                for (int di = 0; di < nd; di++) {
                    const char *def = defences[di];
                    if (!strcmp(def, "per-output") && outs[k] < 2) continue; /* the same as liang */
                    if (!strcmp(def, "liang") && outs[k] > 1) continue;      /* one output only */
                    eset *s = &e[ns];
                    mn_elim_cell *c = &cells[ns++];
                    const char *base = p->data_path ? "csv" : sources[k].name;
                    snprintf(c->data, sizeof c->data, "%s%s", base, fl ? "+flip" FLIP : "");
                    snprintf(c->loss, sizeof c->loss, "%s", losses[li]);
                    snprintf(c->defence, sizeof c->defence, "%s", def);
                    c->realizable = p->data_path ? -1 : fl ? 0 : sources[k].realizable;
                    data_opts(s, p->data_path ? NULL : &sources[k], p, P->n);
                    if (fl) add(s, "flip", FLIP);
                    add(s, "loss", "%s", losses[li]);
                    add(s, "arch", "%d-%d-%d", dims[k], P->width, outs[k]);
                    add(s, "steps", "%ld", P->steps);
                    add(s, "lr", "%s", P->lr);
                    add(s, "zero-error", "on");
                    if (!strcmp(def, "liang") || !strcmp(def, "per-output")) add(s, "eliminate", "%s", def);
                    if (!strcmp(def, "softplus")) add(s, "act", "softplus");
                    if (!strcmp(def, "wider")) add(s, "arch", "%d-%d-%d", dims[k], P->wide, outs[k]);
                    if (!strcmp(def, "pgd")) add(s, "optimizer", "pgd"), add(s, "pgd-l", "%s", P->pgd_l);
                }
    /* every setting built before anything is written */
    for (int i = 0; i < ns && !st; i++) {
        eset *s = &e[i];
        const char *vals[MAXO];
        vals_of(vals, s);
        if ((st = mn_canon(&s->canon, &s->json, s->key, vals, s->nopt))) break;
        mn_options o;
        if ((st = mn_setting_from_pairs(&o, &s->d, &s->model, s->key, vals, s->nopt))) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", mn_last_error());
            st = mn_fail(st, "setting %s: %s", s->canon, msg);
            break;
        }
        mn_sweep_setting *t = &set[i];
        t->model = s->model;
        t->data = s->d;
        mn_setting_run(t, &o);
        t->canon = s->canon;
    }
    if (!st) st = mn_db_open(&db, p->db_path, 1);
    for (int i = 0; i < ns && !st; i++) {
        st = mn_db_setting(&set[i].db_id, db, e[i].canon, e[i].json);
        ids[i] = set[i].db_id;
    }
    if (!st) {
        const double t0 = now();
        mn_sweep_opts so = {.restarts = restarts, .threads = threads, .shard = 0, .nshards = 1,
                            .progress = p->progress, .tty = -1};
        mn_sweep_stats ss;
        st = mn_sweep_run(&ss, db, set, ns, &so);
        res->done = ss.done, res->skipped = ss.skipped, res->seconds = now() - t0;
    }
    if (!st) st = mn_summarize(&res->summary, &res->n, db, ids, ns, NULL, NULL);
    if (res) res->cells = cells, res->restarts = restarts;
    if (!st && p->plot) st = plot_table(p->plot, cells, res->summary, res->n);
    for (int i = 0; e && i < ns; i++) {
        mn_model_free(e[i].model);
        mn_data_free(e[i].d);
        free(e[i].canon), free(e[i].json);
    }
    free(e), free(set), free(ids);
    mn_db_close(db);
    if (st) {
        if (res) mn_elim_result_free(res);
        else free(cells);
        return st;
    }
    *out = res;
    return MN_OK;
}
