/* The table of run kinds: how a setting's stored options say which kind of
 * run it is, how the runner makes one run of it, and each kind's rule for
 * distinct spurious minima (the symmetries of its model). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/popul.h"
#include "popul/internal.h"
#include "regions/internal.h"
#include "run/internal.h"

/* The stored end points of the spurious runs (pts[i], P doubles each, of
 * run idx[i]; *m of them); *fits = 0 when one is missing or not P long. */
static mn_status spurious_points(double ***pts, long **idx, long *m, int *fits, mn_db *db, int64_t setting,
                                 const mn_run_row *rows, long nr, size_t P)
{
    *pts = calloc((size_t)(nr > 0 ? nr : 1), sizeof **pts);
    *idx = malloc((size_t)(nr > 0 ? nr : 1) * sizeof **idx);
    *m = 0, *fits = 1;
    if (!*pts || !*idx) return mn_fail(MN_ENOMEM, "out of memory");
    for (long r = 0; r < nr && *fits; r++) {
        if (!mn_class_is_spurious(rows[r].cls)) continue;
        size_t n;
        mn_status st = mn_db_point(&(*pts)[*m], &n, db, setting, rows[r].restart);
        if (st) return st;
        (*idx)[*m] = r;
        *fits = (*pts)[*m] && n == P;
        (*m)++;
    }
    return MN_OK;
}

static void free_points(double **pts, long *idx, long m)
{
    for (long i = 0; pts && i < m; i++) free(pts[i]);
    free(pts), free(idx);
}

/* ------------------------------------------------------------------ */
/* Population runs (minima/popul.h): up to permutations of the student
 * units and, jointly, of the input coordinates with the teacher units. */
static int popul_claims(const char *json, const char *canon)
{
    (void)json;
    return !strncmp(canon, "experiment=safran-shamir ", 25);
}

static mn_status popul_distinct(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                                const mn_run_row *rows, long nr, mn_model_builder build, void *ctx)
{
    (void)build, (void)ctx;
    *count = -1;
    mn_popul_spec spec;
    mn_popul_opts opts;
    uint64_t seed;
    if (mn_popul_setting_parse(&spec, &opts, &seed, json, canon)) return MN_OK; /* not comparable */
    double **pts;
    long *idx, m;
    int fits;
    mn_status st = spurious_points(&pts, &idx, &m, &fits, db, setting, rows, nr, mn_popul_nparams(&spec));
    double *v = st ? NULL : malloc((size_t)(3 * m + 1) * sizeof *v);
    int *label = st ? NULL : malloc((size_t)(m + 1) * sizeof *label);
    if (!st && (!v || !label)) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st && fits) {
        for (long i = 0; i < m; i++) {
            const mn_run_row *q = &rows[idx[i]];
            v[i] = q->loss, v[m + i] = q->elim_a, v[2 * m + i] = q->elim_b;
        }
        int nd;
        st = mn_popul_distinct(label, &nd, (const double *const *)pts, v, v + m, v + 2 * m, (int)m, &spec,
                               opts.dedup_tol);
        if (!st) *count = nd;
    }
    free(v), free(label);
    free_points(pts, idx, m);
    return st;
}

/* ------------------------------------------------------------------ */
/* Network runs: the library's catalogue of end points, identical up to
 * hidden-unit permutations within MN_CATALOGUE_TOL, with the model built
 * by `build` from the stored options. */
static int network_claims(const char *json, const char *canon)
{
    (void)json, (void)canon;
    return 1;
}

static mn_status network_distinct(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                                  const mn_run_row *rows, long nr, mn_model_builder build, void *ctx)
{
    (void)canon;
    *count = -1;
    if (!build) return MN_OK;
    long nsp = 0;
    for (long r = 0; r < nr; r++) nsp += mn_class_is_spurious(rows[r].cls);
    if (nsp == 0) {
        *count = 0;
        return MN_OK;
    }
    mn_model *model = NULL;
    if (build(&model, json, ctx) || !model) {
        mn_model_free(model);
        return MN_OK; /* no model: the loss-based count stands alone */
    }
    double **pts;
    long *idx, m;
    int fits;
    mn_status st = spurious_points(&pts, &idx, &m, &fits, db, setting, rows, nr, mn_model_nparams(model));
    mn_catalogue *cat = NULL;
    if (!st && fits) st = mn_catalogue_alloc(&cat, model, MN_CATALOGUE_TOL);
    for (long i = 0; i < m && !st && fits; i++) {
        const mn_run_row *q = &rows[idx[i]];
        mn_cert c = {.cls = q->cls, .loss = q->loss, .gnorm = q->grad_norm, .lambda_min = q->lambda_min,
                     .lambda_max = q->lambda_max, .kink_margin = q->kink_margin, .near_kink = q->near_kink,
                     .accuracy = q->accuracy};
        st = mn_catalogue_add(cat, pts[i], &c, q->restart, NULL);
    }
    if (!st && fits) *count = mn_catalogue_count(cat);
    mn_catalogue_free(cat);
    mn_model_free(model);
    free_points(pts, idx, m);
    return st;
}

/* A thread's mn_work for a setting's model and data. */
static mn_status network_scratch(void **scratch, const void *setting)
{
    const mn_sweep_setting *s = setting;
    mn_work *work = NULL;
    mn_status st = mn_work_alloc(&work, s->model, mn_data_n(s->data));
    *scratch = work;
    return st;
}

static void network_scratch_free(void *scratch)
{
    mn_work_free(scratch);
}

static mn_status network_run(mn_run_row *row, const void *setting, long restart, void *scratch)
{
    const mn_sweep_setting *s = setting;
    mn_status st = mn_sweep_one(row, s, restart, scratch);
    if (st) { /* say which run failed */
        char msg[400];
        snprintf(msg, sizeof msg, "%s", mn_last_error());
        mn_fail(st, "setting '%s', restart %ld: %s", s->canon, restart, msg);
    }
    return st;
}

static size_t network_npoint(const void *setting)
{
    return mn_model_nparams(((const mn_sweep_setting *)setting)->model);
}

static const mn_run_kind population_kind = {"population", 1, popul_claims, popul_distinct, mn_popul_task_scratch,
                                             mn_popul_task_scratch_free, mn_popul_task_run, mn_popul_task_npoint,
                                             mn_popul_task_take, NULL};
/* Karhadkar's random activation regions: src/regions/cells.c */
static const mn_run_kind regions_kind = {"regions", 0, mn_region_task_claims, mn_region_task_distinct,
                                         mn_region_task_scratch, mn_region_task_scratch_free, mn_region_task_run,
                                         mn_region_task_npoint, mn_region_task_take, NULL};
static const mn_run_kind network_kind = {"network", 0, network_claims, network_distinct, network_scratch,
                                         network_scratch_free, network_run, network_npoint, NULL, NULL};

/* Network runs last: they claim every setting no other kind claims. The
 * experiments' own kinds are defined in their files (src/experiment/). */
static const mn_run_kind *const kinds[] = {
    &population_kind,
    &regions_kind,
    &mn_kind_saddles,
    &mn_kind_balance,
    &mn_kind_residual,
    &mn_kind_implicit_bias,
    &network_kind,
};

int mn_run_canon_is(const char *canon, const char *experiment)
{
    const size_t n = strlen(experiment);
    for (const char *c = canon; (c = strstr(c, "experiment=")); c++)
        if ((c == canon || c[-1] == ' ') && !strncmp(c + 11, experiment, n) && (c[11 + n] == ' ' || !c[11 + n]))
            return 1;
    return 0;
}

mn_status mn_run_distinct_none(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                               const mn_run_row *rows, long nr, mn_model_builder build, void *ctx)
{
    (void)db, (void)setting, (void)json, (void)canon, (void)build, (void)ctx;
    *count = 0;
    for (long r = 0; r < nr; r++)
        if (mn_class_is_spurious(rows[r].cls)) *count = -1;
    return MN_OK;
}

const mn_run_kind *mn_run_kind_of(const char *json, const char *canon)
{
    const int n = (int)(sizeof kinds / sizeof *kinds);
    for (int i = 0; i < n - 1; i++)
        if (kinds[i]->claims(json, canon)) return kinds[i];
    return kinds[n - 1];
}

const mn_run_kind *mn_run_kind_named(const char *name)
{
    for (size_t i = 0; i < sizeof kinds / sizeof *kinds; i++)
        if (!strcmp(kinds[i]->name, name)) return kinds[i];
    return NULL;
}
