/* minima experiment eliminate: does one added neuron remove bad local minima
 * in practice? A grid of (data set x loss x defence) settings, each run
 * `restarts` times through the sweep module (the same code as `minima
 * sweep`: cli_setting_build, mn_sweep_run, the SQLite database, so a re-run
 * resumes), then one line per setting: how the runs ended, what the added
 * neurons look like at the end, and what a run costs.
 *
 * The grid (default; --quick is smaller, see `params` below):
 *   data     separable (2-d, linear teacher), xor, spirals, teacher (10-d
 *            linear teacher, see below), each also with 10% of its labels
 *            flipped; or --data FILE.csv --label COL (standardised) and the
 *            same with 10% flipped;
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
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"
#include "minima/sweep.h"

#define MAXO 16 /* options of one setting */

/* The grid's sizes: the default and --quick. */
typedef struct {
    int n;           /* generated samples */
    int width;       /* hidden units of the base network */
    int wide;        /* hidden units of the "wider" defence */
    long steps;      /* optimiser steps */
    const char *lr;  /* GD step size (pgd: the same step, eta = c / l) */
    const char *pgd_l;
    long restarts;
} params;

static const params full = {.n = 200, .width = 4, .wide = 32, .steps = 8000, .lr = "0.1", .pgd_l = "5",
                            .restarts = 20};
static const params quick = {.n = 100, .width = 4, .wide = 32, .steps = 3000, .lr = "0.1", .pgd_l = "5",
                             .restarts = 3};

typedef struct {
    char data[48], loss[16], defence[16];
    int realizable; /* 1 yes, 0 no, -1 unknown (CSV data) */
    int nopt;
    const char *key[MAXO];
    char val[MAXO][256];
    /* built */
    mn_data *d;
    mn_model *model;
    char *canon, *json;
} eset;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: minima experiment eliminate [--data FILE.csv --label COL] [--restarts R] [--threads T]\n"
            "                                   [--db FILE] [--json] [--plot PREFIX] [--quick]\n"
            "\n"
            "Does one added neuron (Liang et al. 2018) remove bad local minima in practice? Runs the grid\n"
            "data x loss x defence through the sweep module (results in an SQLite database; a re-run\n"
            "resumes) and prints one line per setting:\n"
            "  data     separable, xor, spirals, teacher (10-d linear teacher), each also with 10%% of\n"
            "           the labels flipped; or --data FILE.csv --label COL (standardised) and the same\n"
            "           with 10%% flipped\n"
            "  loss     poly_hinge (meets the paper's assumption), logistic, squared (break it)\n"
            "  defence  none, liang (one output) or per-output (more than one), softplus\n"
            "           instead of relu, a wider network, the pgd optimiser\n"
            "\n"
            "  --data FILE.csv    CSV data with -1/+1 labels instead of the generated sets\n"
            "  --label COL        its label column(s)\n"
            "  --restarts R       runs per setting (default %ld; --quick %ld)\n"
            "  --threads T        OpenMP threads (default: all cores); results do not depend on it\n"
            "  --db FILE          SQLite database (default eliminate.db)\n"
            "  --json             one JSON object per setting and line instead of the table\n"
            "  --plot PREFIX      also draw PREFIX.png and PREFIX.svg (needs gnuplot)\n"
            "  --quick            a small grid (n %d, %ld steps, %ld restarts): about a minute\n"
            "  --help             this help\n",
            full.restarts, quick.restarts, quick.n, quick.steps, quick.restarts);
}

static void add(eset *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void add(eset *s, const char *key, const char *fmt, ...)
{
    for (int i = 0; i < s->nopt; i++) /* a later value replaces an earlier one */
        if (!strcmp(s->key[i], key)) {
            va_list ap;
            va_start(ap, fmt);
            vsnprintf(s->val[i], sizeof s->val[i], fmt, ap);
            va_end(ap);
            return;
        }
    if (s->nopt == MAXO) return; /* cannot happen: settings have fewer options */
    s->key[s->nopt] = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->val[s->nopt], sizeof s->val[s->nopt], fmt, ap);
    va_end(ap);
    s->nopt++;
}

typedef struct {
    const char *name;
    const char *gen;  /* generator, or NULL for the CSV file */
    int dim;          /* separable's --dim (0: default) */
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
static void data_opts(eset *s, const source *src, const char *path, const char *label, int n)
{
    if (src) {
        add(s, "generate", "%s", src->gen);
        add(s, "n", "%d", n);
        if (src->dim) add(s, "dim", "%d", src->dim);
    } else {
        add(s, "data", "%s", path);
        add(s, "label", "%s", label);
        add(s, "standardize", "on");
    }
}

/* Features and label columns of a data source, from one build. */
static int probe(int *d, int *m, const source *src, const char *path, const char *label, int n)
{
    eset s = {.nopt = 0};
    data_opts(&s, src, path, label, n);
    add(&s, "loss", "logistic"); /* -1/+1 labels are needed by the margin losses */
    const char *vals[MAXO];
    for (int i = 0; i < s.nopt; i++) vals[i] = s.val[i];
    cli_opts so;
    mn_data *data = NULL;
    mn_model *model = NULL;
    int r = cli_setting_build(&so, &data, &model, s.key, vals, s.nopt);
    if (r == 2) {
        cli_bad("experiment eliminate", "%s", mn_last_error());
    } else if (r == 0) {
        *d = mn_data_d(data), *m = mn_data_m(data);
    }
    mn_model_free(model);
    mn_data_free(data);
    return r != 0;
}

static double pct(const mn_summary *m, long k) { return m->n ? 100.0 * (double)k / (double)m->n : NAN; }

static void cell(FILE *f, double x, const char *fmt, int width)
{
    if (isfinite(x) || isinf(x))
        fprintf(f, fmt, width, x);
    else
        fprintf(f, "%*s", width, "-");
}

static void table(FILE *f, const eset *e, const mn_summary *s, int n)
{
    fprintf(f, "%-18s %-10s %-10s %4s %6s %6s %6s %7s %6s %6s %9s %9s %7s %7s %8s %6s\n", "data", "loss",
            "defence", "runs", "global", "0-err", "spur.", "sad/deg", "diverg", "n-conv", "med|a|", "med|a|e^b",
            "med b", "med it", "med ms", "us/it");
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        fprintf(f, "%-18s %-10s %-10s %4ld", e[i].data, e[i].loss, e[i].defence, m->n);
        cell(f, pct(m, m->count[MN_CLASS_GLOBAL]), " %*.1f", 6);
        cell(f, m->with_accuracy ? pct(m, m->zero_error) : NAN, " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_SPURIOUS]), " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_SADDLE] + m->count[MN_CLASS_DEGENERATE]), " %*.1f", 7);
        cell(f, pct(m, m->count[MN_CLASS_DIVERGED]), " %*.1f", 6);
        cell(f, pct(m, m->count[MN_CLASS_NOT_CONVERGED]), " %*.1f", 6);
        cell(f, m->median_abs_a, " %*.3g", 9);
        cell(f, m->median_abs_a_exp_b, " %*.3g", 9);
        cell(f, m->median_b, " %*.3g", 7);
        cell(f, m->median_iterations, " %*.0f", 7);
        cell(f, 1e3 * m->median_seconds, " %*.3g", 8);
        cell(f, 1e6 * m->median_seconds_per_iteration, " %*.3g", 6);
        fputc('\n', f);
    }
    fprintf(f,
            "(%% of runs: global = certified global, zero training error counting as global for the margin "
            "losses; 0-err = training accuracy 1 (sign(f) = y, squared loss included) whatever the class; "
            "spur. = strict local minimum above the global value; sad/deg = saddle or degenerate critical "
            "point; diverg = diverged: non-finite values, parameter norm past 1e8, or an added neuron "
            "drifting to infinity (|a| -> 0, b -> +inf; see the database's reason column); n-conv = not "
            "converged at the step cap (also: added neurons still active). med = median over the runs: "
            "|a|, |a| e^b and b of the added neuron with the largest |a| e^b at the end point, iterations, "
            "milliseconds per run, microseconds per iteration. realizable: separable, xor, teacher without flipped labels.)\n");
}

static void json_lines(FILE *f, const eset *e, const mn_summary *s, int n)
{
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        jw w;
        jw_begin(&w, f);
        jw_obj(&w, NULL);
        jw_str(&w, "data", e[i].data);
        if (e[i].realizable >= 0) jw_bool(&w, "realizable", e[i].realizable);
        jw_str(&w, "loss", e[i].loss);
        jw_str(&w, "defence", e[i].defence);
        jw_str(&w, "options", m->canon);
        jw_int(&w, "id", (long long)m->id);
        jw_int(&w, "runs", m->n);
        cli_classes_json(&w, m);
        jw_num(&w, "global", m->frac[MN_CLASS_GLOBAL]);
        jw_num(&w, "zero_error", m->with_accuracy && m->n ? (double)m->zero_error / (double)m->n : NAN);
        jw_num(&w, "spurious", m->frac[MN_CLASS_SPURIOUS]);
        jw_num(&w, "saddle_or_degenerate", m->n ? m->frac[MN_CLASS_SADDLE] + m->frac[MN_CLASS_DEGENERATE] : NAN);
        jw_num(&w, "diverged", m->frac[MN_CLASS_DIVERGED]);
        jw_num(&w, "not_converged", m->frac[MN_CLASS_NOT_CONVERGED]);
        jw_num(&w, "median_abs_a", m->median_abs_a);
        jw_num(&w, "median_abs_a_exp_b", m->median_abs_a_exp_b);
        jw_num(&w, "median_b", m->median_b);
        jw_num(&w, "median_iterations", m->median_iterations);
        jw_num(&w, "median_seconds", m->median_seconds);
        jw_num(&w, "median_seconds_per_iteration", m->median_seconds_per_iteration);
        jw_num(&w, "mean_seconds", m->mean_seconds);
        jw_end(&w); /* the outermost end writes the newline */
    }
}

/* Short labels for the figure: "xor+f logit liang". */
static mn_status plot_labels(mn_summary *s, const eset *e, int n)
{
    for (int i = 0; i < n; i++) {
        const char *l = e[i].loss;
        const char *ls = !strcmp(l, "poly_hinge") ? "hinge" : !strcmp(l, "logistic") ? "logit" : "sq";
        char buf[160];
        snprintf(buf, sizeof buf, "%s %s %s", e[i].data, ls, e[i].defence);
        char *nl = malloc(strlen(buf) + 1);
        if (!nl) return mn_fail(MN_ENOMEM, "out of memory");
        strcpy(nl, buf);
        free(s[i].label);
        s[i].label = nl;
    }
    return MN_OK;
}

static int parse_long(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return cli_bad("experiment eliminate", "%s: '%s' is not an integer", opt, s);
    if (v < lo || v > hi) return cli_bad("experiment eliminate", "%s %s is out of range [%ld, %ld]", opt, s, lo, hi);
    *out = v;
    return 0;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int cmd_experiment_eliminate(int argc, char **argv)
{
    const char *path = NULL, *label = NULL, *db_path = "eliminate.db", *plot = NULL;
    long restarts = -1, threads = 0;
    int json = 0, is_quick = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *val = NULL;
        char name[32];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (strncmp(a, "--", 2))
            return cli_bad("experiment eliminate",
                           "unexpected argument '%s' (see minima experiment eliminate --help)", a);
        const char *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name)
            return cli_bad("experiment eliminate", "unknown option '%s' (see minima experiment eliminate --help)", a);
        memcpy(name, a, len);
        name[len] = '\0';
        static const char *const with_value[] = {"--data", "--label", "--restarts", "--threads", "--db", "--plot"};
        int takes = 0;
        for (size_t k = 0; k < sizeof with_value / sizeof *with_value; k++) takes |= !strcmp(name, with_value[k]);
        if (takes) {
            val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!val || !*val) return cli_bad("experiment eliminate", "option '%s' needs a value", name);
        } else if (eq) {
            return cli_bad("experiment eliminate", "option '%s' takes no value", name);
        }
        if (!strcmp(name, "--data"))
            path = val;
        else if (!strcmp(name, "--label"))
            label = val;
        else if (!strcmp(name, "--restarts")) {
            if (parse_long(name, val, 1, 1000000, &restarts)) return 1;
        } else if (!strcmp(name, "--threads")) {
            if (parse_long(name, val, 1, 4096, &threads)) return 1;
        } else if (!strcmp(name, "--db"))
            db_path = val;
        else if (!strcmp(name, "--plot"))
            plot = val;
        else if (!strcmp(name, "--json"))
            json = 1;
        else if (!strcmp(name, "--quick"))
            is_quick = 1;
        else
            return cli_bad("experiment eliminate", "unknown option '%s' (see minima experiment eliminate --help)", a);
    }
    if (path && !label) return cli_bad("experiment eliminate", "--data needs --label to name the label column");
    if (label && !path) return cli_bad("experiment eliminate", "--label applies to --data only");
    const params *P = is_quick ? &quick : &full;
    if (restarts < 0) restarts = P->restarts;
    if (threads == 0) threads = omp_get_max_threads();

    /* The data sources and their shapes. */
    const int nsrc = path ? 1 : (int)(sizeof sources / sizeof *sources);
    int dims[8], outs[8];
    for (int k = 0; k < nsrc; k++)
        if (probe(&dims[k], &outs[k], path ? NULL : &sources[k], path, label, P->n)) return 1;

    /* The settings, data outermost, then flip, loss, defence. */
    const int nl = (int)(sizeof losses / sizeof *losses), nd = (int)(sizeof defences / sizeof *defences);
    const int cap = nsrc * 2 * nl * nd;
    eset *e = calloc((size_t)cap, sizeof *e);
    if (!e) return cli_bad("experiment eliminate", "out of memory");
    int ns = 0;
    for (int k = 0; k < nsrc; k++)
        for (int fl = 0; fl < 2; fl++)
            for (int li = 0; li < nl; li++)
                for (int di = 0; di < nd; di++) {
                    const char *def = defences[di];
                    if (!strcmp(def, "per-output") && outs[k] < 2) continue; /* the same as liang */
                    if (!strcmp(def, "liang") && outs[k] > 1) continue;      /* one output only */
                    eset *s = &e[ns++];
                    const char *base = path ? "csv" : sources[k].name;
                    snprintf(s->data, sizeof s->data, "%s%s", base, fl ? "+flip" FLIP : "");
                    snprintf(s->loss, sizeof s->loss, "%s", losses[li]);
                    snprintf(s->defence, sizeof s->defence, "%s", def);
                    s->realizable = path ? -1 : fl ? 0 : sources[k].realizable;
                    data_opts(s, path ? NULL : &sources[k], path, label, P->n);
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

    mn_sweep_setting *set = calloc((size_t)ns, sizeof *set);
    int64_t *ids = calloc((size_t)ns, sizeof *ids);
    mn_db *db = NULL;
    mn_summary *sum = NULL;
    int nsum = 0, rc = 1;
    if (!set || !ids) {
        cli_bad("experiment eliminate", "out of memory");
        goto out;
    }
    for (int i = 0; i < ns; i++) {
        eset *s = &e[i];
        const char *vals[MAXO];
        for (int j = 0; j < s->nopt; j++) vals[j] = s->val[j];
        if (mn_canon(&s->canon, &s->json, s->key, vals, s->nopt)) {
            cli_bad("experiment eliminate", "%s", mn_last_error());
            goto out;
        }
        cli_opts so;
        int br = cli_setting_build(&so, &s->d, &s->model, s->key, vals, s->nopt);
        if (br == 1) goto out; /* the message is printed */
        if (br) {
            cli_bad("experiment eliminate", "setting %s: %s", s->canon, mn_last_error());
            goto out;
        }
        mn_sweep_setting *t = &set[i];
        t->model = s->model;
        t->data = s->d;
        cli_run_setting(&so, t);
        t->canon = s->canon;
    }
    if (mn_db_open(&db, db_path, 1)) {
        cli_bad("experiment eliminate", "%s", mn_last_error());
        goto out;
    }
    for (int i = 0; i < ns; i++) {
        if (mn_db_setting(&set[i].db_id, db, e[i].canon, e[i].json)) {
            cli_bad("experiment eliminate", "%s", mn_last_error());
            goto out;
        }
        ids[i] = set[i].db_id;
    }
    const double t0 = now();
    mn_sweep_opts so = {.restarts = restarts, .threads = (int)threads, .shard = 0, .nshards = 1,
                        .progress = stderr, .tty = -1};
    mn_sweep_stats st;
    if (mn_sweep_run(&st, db, set, ns, &so)) {
        cli_bad("experiment eliminate", "%s", mn_last_error());
        goto out;
    }
    fprintf(stderr,
            "experiment eliminate: %d settings x %ld restarts: %ld runs done now, %ld already stored, %.3g s "
            "(database %s)\n",
            ns, restarts, st.done, st.skipped, now() - t0, db_path);
    if (mn_summarize(&sum, &nsum, db, ids, ns, NULL, NULL)) {
        cli_bad("experiment eliminate", "%s", mn_last_error());
        goto out;
    }
    if (json)
        json_lines(stdout, e, sum, nsum);
    else
        table(stdout, e, sum, nsum);
    if (plot && (plot_labels(sum, e, nsum) || mn_plot_summary(sum, nsum, db, plot))) {
        cli_bad("experiment eliminate", "%s", mn_last_error());
        goto out;
    }
    rc = fflush(stdout) ? cli_bad("experiment eliminate", "cannot write the output") : 0;
out:
    for (int i = 0; i < ns; i++) {
        mn_model_free(e[i].model);
        mn_data_free(e[i].d);
        free(e[i].canon), free(e[i].json);
    }
    free(e), free(set), free(ids);
    mn_summary_free(sum, nsum);
    mn_db_close(db);
    return rc;
}
