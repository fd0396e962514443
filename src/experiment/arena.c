/* The attack-defence arena (issue 11): every defence the papers propose, on
 * the same data, under GD and under L-BFGS, judged alike (mn_judge: the
 * network with the defence removed, the same certificate as a plain run).
 * A grid of settings run by the sweep runner into a database (a re-run
 * resumes), summarised per setting.
 *
 * The grid (default; quick: smaller n, iris the only real data, fewer
 * restarts):
 *   data      separable (2-d, linear teacher), xor, and Debian's
 *             python3-sklearn files, standardised: iris, breast_cancer
 *             (class 1 = +1), wine (iris and wine one-vs-rest, one output
 *             per class; not wine and breast_cancer in quick); polynomial
 *             hinge loss (p = 3), zero training error counts as global;
 *             base network d-4-K ReLU;
 *   defences  none; softplus instead of ReLU (Liang et al. ICML 2018's
 *             smooth activation); the eliminating neuron a e^{w.x+b}
 *             (Liang et al. NeurIPS 2018; one per output where K > 1) with
 *             lambda 0.01, 0.1, 1, 10; width N/4 and N (Nguyen & Hein
 *             2017: a layer as wide as the N samples), on breast_cancer
 *             also N/16, N/2 and 2N; perturbed GD (Jin et al. 2017);
 *   losses    also logistic and squared on the generated data (no defence,
 *             softplus, the neuron);
 *   optimisers GD (step 0.1) and L-BFGS for every defence but PGD.
 * And Du & Lee (ICML 2018): quadratic activation, no biases, squared loss on
 *   n samples with -1/+1 labels in d dimensions (d (d+1)/2 >= n, so zero
 *   loss is reachable), hidden units k through sqrt(2n):
 *   k = sqrt(2n) / 4, / 2, x 1, x 2 (rounded up). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/internal.h"
#include "minima/dist.h"
#include "minima/experiment.h"

typedef struct {
    int n;           /* generated samples */
    long gd_steps;   /* GD and PGD steps */
    long lbfgs_steps;
    int nsrc;        /* data sources, the first nsrc of source_names */
    int qn, qd;      /* Du & Lee data: samples, features */
    long restarts;
} aparams;

/* quick: separable, xor and iris (the per-output neuron's three outputs) */
static const aparams full = {.n = 100, .gd_steps = 4000, .lbfgs_steps = 2000, .nsrc = 5, .qn = 50, .qd = 10,
                             .restarts = 10};
static const aparams quick = {.n = 40, .gd_steps = 2000, .lbfgs_steps = 1000, .nsrc = 3, .qn = 20, .qd = 6,
                              .restarts = 3};

#define WIDTH 4
#define LR "0.1"
#define PGD_L "5"
/* the eliminating neuron's penalties without --lambda */
static const double default_lambdas[] = {0.01, 0.1, 1, 10};
#define MAXLAMBDA ((int)(sizeof ((mn_arena_plan *)0)->lambdas / sizeof *((mn_arena_plan *)0)->lambdas))

void mn_arena_plan_default(mn_arena_plan *p)
{
    memset(p, 0, sizeof *p);
    p->db_path = "arena.db";
}

mn_status mn_arena_plan_set(mn_arena_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_ARENA, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment arena", name);
    if (v && !*v && !strcmp(name, "plot")) return mn_fail(MN_EINVAL, "option '--plot' needs a non-empty value");
    long l;
    mn_status st = MN_OK;
    if (!strcmp(name, "quick")) p->quick = 1;
    else if (!strcmp(name, "db")) p->db_path = v;
    else if (!strcmp(name, "plot")) p->plot = v;
    else if (!strcmp(name, "restarts") && !(st = mn_option_int(&l, o, v))) p->restarts = l;
    else if (!strcmp(name, "threads") && !(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    else if (!strcmp(name, "lambda")) st = mn_option_real_list(p->lambdas, MAXLAMBDA, &p->nlambda, o, v);
    return st;
}

void mn_arena_result_free(mn_arena_result *r)
{
    if (!r) return;
    mn_summary_free(r->summary, r->n);
    free(r->cells);
    free(r);
}

/* The data options of source k: 0 separable, 1 xor, 2 iris, 3 breast_cancer,
 * 4 wine. Real data standardised; breast_cancer one output (class 1 = +1),
 * iris and wine one -1/+1 output per class (one-vs-rest). */
static const char *const source_names[] = {"separable", "xor", "iris", "breast_cancer", "wine"};
static void data_opts(mn_xset *s, int k, int n)
{
    if (k >= 2) {
        mn_xset_add(s, "dataset", "%s", source_names[k]);
        if (k == 3) mn_xset_add(s, "positive", "1");
        else mn_xset_add(s, "labels", "ovr");
        mn_xset_add(s, "standardize", "on");
    } else {
        mn_xset_add(s, "generate", "%s", source_names[k]);
        mn_xset_add(s, "n", "%d", n);
    }
}

/* The optimiser options of a setting: gd, lbfgs or pgd. */
static void optimiser_opts(mn_xset *s, const char *opt, const aparams *P)
{
    mn_xset_add(s, "optimizer", "%s", opt);
    mn_xset_add(s, "steps", "%ld", strcmp(opt, "lbfgs") ? P->gd_steps : P->lbfgs_steps);
    mn_xset_add(s, "lr", LR);
    if (!strcmp(opt, "pgd")) mn_xset_add(s, "pgd-l", PGD_L);
}

static mn_arena_cell *cell(mn_arena_cell *c, const char *data, const char *family, double param,
                           const char *defence, const char *opt)
{
    snprintf(c->data, sizeof c->data, "%s", data);
    snprintf(c->family, sizeof c->family, "%s", family);
    snprintf(c->defence, sizeof c->defence, "%s", defence);
    snprintf(c->optimizer, sizeof c->optimizer, "%s", opt);
    c->param = param;
    return c;
}

/* The eliminating neuron with penalty lambda: Liang et al.'s one neuron on
 * one output, one per output on several ("per-out"). */
static void neuron_opts(mn_xset *s, mn_arena_cell *c, const char *data, int outs, const char *lambda,
                        const char *opt)
{
    const char *fam = outs > 1 ? "per-output" : "liang";
    char name[32];
    mn_xset_add(s, "eliminate", "%s", fam);
    mn_xset_add(s, "lambda", "%s", lambda);
    snprintf(name, sizeof name, "%s(%s)", outs > 1 ? "per-out" : "liang", lambda);
    cell(c, data, fam, atof(lambda), name, opt);
}

/* The next setting of the grid, e[*m] and cells[*m]: data source k, the
 * loss (zero training error counts as global but for the squared loss), a
 * d-width-outs network, the optimiser; NULL (failed) when the grid is full. */
static mn_xset *next(mn_arena_cell **c, mn_xset *e, mn_arena_cell *cells, int *m, int cap, int k, const char *loss,
                     int d, int width, int outs, const char *opt, const aparams *P)
{
    if (*m == cap) return mn_fail(MN_EINVAL, "arena: grid larger than planned"), NULL;
    mn_xset *s = &e[*m];
    *c = &cells[(*m)++];
    data_opts(s, k, P->n);
    mn_xset_add(s, "loss", "%s", loss);
    if (strcmp(loss, "squared")) mn_xset_add(s, "zero-error", "on");
    mn_xset_add(s, "arch", "%d-%d-%d", d, width, outs);
    optimiser_opts(s, opt, P);
    return s;
}

/* Every setting of the grid into e and cells; returns how many. */
static mn_status build(int *ns, mn_xset *e, mn_arena_cell *cells, int cap, const aparams *P, int *dulee_k,
                       char (*lambdas)[24], int NLAMBDA)
{
    static const char *const opts[] = {"gd", "lbfgs"};
    int m = 0;
    int dims[8], nouts[8], nsamples[8];
    for (int k = 0; k < P->nsrc; k++) {
        int d = 0, outs = 0, n = P->n;
        mn_xset probe = {.nopt = 0};
        data_opts(&probe, k, P->n);
        mn_xset_add(&probe, "loss", "poly_hinge");
        mn_status st = mn_xset_probe(&n, &d, &outs, &probe);
        if (st) return st;
        dims[k] = d, nouts[k] = outs, nsamples[k] = n;
        for (int oi = 0; oi < 3; oi++) {
            const char *opt = oi < 2 ? opts[oi] : "pgd";
            /* defences: none, softplus, liang x lambda, width N/4, width N (pgd: none only) */
            for (int di = 0; di < 4 + NLAMBDA; di++) {
                if (oi == 2 && di > 0) break;
                const int width = di == 2 + NLAMBDA ? (n + 3) / 4 : di == 3 + NLAMBDA ? n : WIDTH;
                mn_arena_cell *c;
                mn_xset *s = next(&c, e, cells, &m, cap, k, "poly_hinge", d, width, outs, opt, P);
                if (!s) return MN_EINVAL;
                char name[32];
                if (oi == 2) {
                    cell(c, source_names[k], "pgd", NAN, "pgd", opt);
                } else if (di == 0) {
                    cell(c, source_names[k], "none", NAN, "none", opt);
                } else if (di == 1) {
                    mn_xset_add(s, "act", "softplus");
                    cell(c, source_names[k], "softplus", NAN, "softplus", opt);
                } else if (di < 2 + NLAMBDA) {
                    neuron_opts(s, c, source_names[k], outs, lambdas[di - 2], opt);
                } else {
                    snprintf(name, sizeof name, "width=%s", di == 2 + NLAMBDA ? "N/4" : "N");
                    cell(c, source_names[k], "width", width, name, opt);
                }
            }
        }
    }
    /* The logistic and squared losses on the generated data: no defence,
     * softplus, the neuron over lambda. Logistic: zero training error counts
     * as global (its infimum 0 is approached as the margin grows); squared:
     * the global value is unknown, minima against the best found. */
    static const char *const losses[] = {"logistic", "squared"};
    for (int k = 0; k < 2; k++)
        for (int li = 0; li < 2; li++)
            for (int oi = 0; oi < 2; oi++)
                for (int di = 0; di < 2 + NLAMBDA; di++) {
                    mn_arena_cell *c;
                    mn_xset *s = next(&c, e, cells, &m, cap, k, losses[li], dims[k], WIDTH, nouts[k], opts[oi], P);
                    if (!s) return MN_EINVAL;
                    char data[48];
                    snprintf(data, sizeof data, "%s:%s", source_names[k], losses[li]);
                    if (di == 0) {
                        cell(c, data, "none", NAN, "none", opts[oi]);
                    } else if (di == 1) {
                        mn_xset_add(s, "act", "softplus");
                        cell(c, data, "softplus", NAN, "softplus", opts[oi]);
                    } else {
                        neuron_opts(s, c, data, nouts[k], lambdas[di - 2], opts[oi]);
                    }
                }
    /* Nguyen & Hein on breast_cancer: width through N (N/4 and N above). */
    for (int k = 3; k < P->nsrc && !strcmp(source_names[k], "breast_cancer"); k++)
        for (int oi = 0; oi < 2; oi++)
            for (int wi = 0; wi < 3; wi++) {
                static const char *const wname[] = {"N/16", "N/2", "2N"};
                const int n = nsamples[k];
                const int width = wi == 0 ? (n + 15) / 16 : wi == 1 ? (n + 1) / 2 : 2 * n;
                mn_arena_cell *c;
                if (!next(&c, e, cells, &m, cap, k, "poly_hinge", dims[k], width, nouts[k], opts[oi], P))
                    return MN_EINVAL;
                char name[32];
                snprintf(name, sizeof name, "width=%s", wname[wi]);
                cell(c, source_names[k], "width", width, name, opts[oi]);
            }
    /* Du & Lee: k through sqrt(2n). */
    const double r = sqrt(2.0 * P->qn);
    const int ks[4] = {(int)ceil(r / 4), (int)ceil(r / 2), (int)ceil(r), 2 * (int)ceil(r)};
    for (int oi = 0; oi < 2; oi++)
        for (int i = 0; i < 4; i++) {
            if (m == cap) return mn_fail(MN_EINVAL, "arena: grid larger than planned");
            dulee_k[i] = ks[i];
            mn_xset *s = &e[m];
            mn_arena_cell *c = &cells[m++];
            mn_xset_add(s, "generate", "separable");
            mn_xset_add(s, "n", "%d", P->qn);
            mn_xset_add(s, "dim", "%d", P->qd);
            mn_xset_add(s, "loss", "squared");
            mn_xset_add(s, "act", "quadratic");
            mn_xset_add(s, "no-bias", "on");
            mn_xset_add(s, "arch", "%d-%d-1", P->qd, ks[i]);
            optimiser_opts(s, opts[oi], P);
            char data[48], name[32];
            snprintf(data, sizeof data, "quad-n%d-d%d", P->qn, P->qd);
            snprintf(name, sizeof name, "quad(k=%d)", ks[i]);
            cell(c, data, "quadratic", ks[i], name, opts[oi]);
        }
    *ns = m;
    return MN_OK;
}

mn_status mn_experiment_arena(mn_arena_result **out, const mn_arena_plan *p)
{
    *out = NULL;
    const aparams *P = p->quick ? &quick : &full;
    const long restarts = p->restarts > 0 ? p->restarts : P->restarts;
    const int threads = p->threads > 0 ? p->threads : omp_get_max_threads();
    /* the penalties as option values (0.01, 0.1, 1, 10 as in earlier databases) */
    char lambdas[MAXLAMBDA][24];
    const int NLAMBDA = p->nlambda > 0 ? p->nlambda : (int)(sizeof default_lambdas / sizeof *default_lambdas);
    for (int i = 0; i < NLAMBDA; i++)
        mn_num_shortest(lambdas[i], sizeof lambdas[i], p->nlambda > 0 ? p->lambdas[i] : default_lambdas[i]);
    const int cap = 5 * 3 * (4 + NLAMBDA) + 8 * (2 + NLAMBDA) + 6 + 8;
    mn_xset *e = calloc((size_t)cap, sizeof *e);
    mn_arena_result *res = calloc(1, sizeof *res);
    mn_arena_cell *cells = calloc((size_t)cap, sizeof *cells);
    int64_t *ids = calloc((size_t)cap, sizeof *ids);
    mn_db *db = NULL;
    int ns = 0;
    mn_status st = e && res && cells && ids ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = build(&ns, e, cells, cap, P, res->dulee_k, lambdas, NLAMBDA);
    mn_xset_result xr = {0};
    if (!st) st = mn_xset_run(&xr, &db, ids, e, ns, p->db_path, restarts, threads, p->progress);
    if (res) res->cells = cells, res->restarts = restarts;
    if (!st) {
        res->summary = xr.summary, res->n = xr.n, res->done = xr.done, res->skipped = xr.skipped;
        res->seconds = xr.seconds;
        res->dulee_n = P->qn, res->dulee_d = P->qd;
    }
    if (!st && p->plot && mn_dist_rank() == 0) st = mn_arena_plot(res, p->plot);
    free(e), free(ids);
    mn_db_close(db);
    if (st) {
        if (res) mn_arena_result_free(res);
        else free(cells);
        return st;
    }
    *out = res;
    return MN_OK;
}

/* The figure: rows data x optimiser (PGD in the GD row: it is GD with
 * perturbations), columns the defences, each cell the share of successful
 * runs (mn_arena_success; NaN: no such setting). */
double mn_arena_success(const mn_arena_result *r, int i)
{
    const mn_summary *m = &r->summary[i];
    if (m->n == 0) return NAN;
    if (!strcmp(r->cells[i].family, "quadratic")) return m->frac[MN_CLASS_GLOBAL];
    return (double)m->zero_error / (double)m->n;
}

/* A column's place among its family's ("width=N/16" < "width=N/4" < ... <
 * "width=2N": the fraction of N); 0 for the others, kept in their order. */
static double col_rank(const char *col)
{
    if (strncmp(col, "width=", 6)) return 0;
    char *end;
    double a = strtod(col + 6, &end);
    if (end == col + 6) a = 1;
    return *end == 'N' && end[1] == '/' ? a / atof(end + 2) : a;
}

/* Columns grouped by family (the name before '(' or '='), families in their
 * order of first appearance, each by col_rank; ci renumbered to match. */
static void order_columns(const char **cols, int nc, int *ci, int n)
{
    int group[32], perm[32], inv[32];
    for (int b = 0; b < nc; b++) {
        const size_t len = strcspn(cols[b], "(=");
        group[b] = b;
        for (int g = 0; g < b && group[b] == b; g++)
            if (strcspn(cols[g], "(=") == len && !strncmp(cols[g], cols[b], len)) group[b] = group[g];
        perm[b] = b;
    }
    for (int i = 1; i < nc; i++) /* insertion sort: stable, nc <= 32 */
        for (int k = i; k > 0; k--) {
            const int x = perm[k - 1], y = perm[k];
            if (group[x] < group[y] || (group[x] == group[y] && col_rank(cols[x]) <= col_rank(cols[y]))) break;
            perm[k - 1] = y, perm[k] = x;
        }
    const char *tmp[32];
    for (int b = 0; b < nc; b++) tmp[b] = cols[perm[b]], inv[perm[b]] = b;
    for (int b = 0; b < nc; b++) cols[b] = tmp[b];
    for (int i = 0; i < n; i++) ci[i] = ci[i] < nc ? inv[ci[i]] : ci[i];
}

mn_status mn_arena_plot(const mn_arena_result *r, const char *prefix)
{
    const char *rows[32], *cols[32];
    char rowbuf[32][64], colbuf[32][32];
    int nr = 0, nc = 0;
    int *ri = malloc((size_t)r->n * sizeof *ri), *ci = malloc((size_t)r->n * sizeof *ci);
    if (!ri || !ci) {
        free(ri), free(ci);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < r->n; i++) {
        const mn_arena_cell *c = &r->cells[i];
        char lab[64];
        snprintf(lab, sizeof lab, "%s %s", c->data, strcmp(c->optimizer, "pgd") ? c->optimizer : "gd");
        char col[32]; /* the single- and per-output neuron share a column */
        if (!strcmp(c->family, "liang") || !strcmp(c->family, "per-output"))
            snprintf(col, sizeof col, "neuron(%g)", c->param);
        else
            snprintf(col, sizeof col, "%s", c->defence);
        int a = 0, b = 0;
        while (a < nr && strcmp(rowbuf[a], lab)) a++;
        if (a == nr && nr < 32) snprintf(rowbuf[nr], sizeof rowbuf[nr], "%s", lab), rows[nr] = rowbuf[nr], nr++;
        while (b < nc && strcmp(colbuf[b], col)) b++;
        if (b == nc && nc < 32) snprintf(colbuf[nc], sizeof colbuf[nc], "%s", col), cols[nc] = colbuf[nc], nc++;
        ri[i] = a, ci[i] = b;
    }
    order_columns(cols, nc, ci, r->n);
    double *v = malloc((size_t)nr * (size_t)nc * sizeof *v);
    mn_status st = v ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    for (int i = 0; v && i < nr * nc; i++) v[i] = NAN;
    for (int i = 0; v && i < r->n; i++) {
        if (ri[i] < nr && ci[i] < nc) v[ri[i] * nc + ci[i]] = mn_arena_success(r, i);
    }
    if (!st)
        st = mn_plot_grid(prefix,
                          "arena: % of runs with zero training error after removing the defence "
                          "(quad rows: zero training loss)",
                          rows, nr, cols, nc, v);
    free(v), free(ri), free(ci);
    return st;
}
