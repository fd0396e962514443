/* A grid of network settings given as option pairs, run through the sweep
 * runner into a database and summarised: the common part of the eliminate
 * and arena experiments (internal.h). */
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "experiment/internal.h"
#include "minima/dist.h"

void mn_xset_add(mn_xset *s, const char *key, const char *fmt, ...)
{
    int i = 0;
    while (i < s->nopt && strcmp(s->key[i], key)) i++;
    if (i == MN_XSET_MAXO) return; /* cannot happen: settings have fewer options */
    if (i == s->nopt) s->key[s->nopt++] = key;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s->val[i], sizeof s->val[i], fmt, ap);
    va_end(ap);
}

static void vals_of(const char **vals, const mn_xset *s)
{
    for (int i = 0; i < s->nopt; i++) vals[i] = s->val[i];
}

mn_status mn_xset_probe(int *n, int *d, int *m, const mn_xset *s)
{
    const char *vals[MN_XSET_MAXO];
    vals_of(vals, s);
    mn_options o;
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_status st = mn_setting_from_pairs(&o, &data, &model, s->key, vals, s->nopt, NULL);
    if (!st) *d = mn_data_d(data), *m = mn_data_m(data);
    if (!st && n) *n = mn_data_n(data);
    mn_model_free(model);
    mn_data_free(data);
    return st;
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

mn_status mn_xset_run(mn_xset_result *out, mn_db **dbp, int64_t *ids, mn_xset *e, int ns, const char *db_path,
                      long restarts, int threads, FILE *progress)
{
    memset(out, 0, sizeof *out);
    *dbp = NULL;
    mn_sweep_setting *set = calloc((size_t)ns, sizeof *set);
    mn_db *db = NULL;
    mn_data_pool *pool = NULL; /* settings that differ only in model or training share their data */
    mn_status st = set ? mn_data_pool_alloc(&pool) : mn_fail(MN_ENOMEM, "out of memory");
    /* every setting built before anything is written */
    for (int i = 0; i < ns && !st; i++) {
        mn_xset *s = &e[i];
        const char *vals[MN_XSET_MAXO];
        vals_of(vals, s);
        if ((st = mn_canon_run(&s->canon, &s->json, s->key, vals, s->nopt))) break;
        mn_options o;
        if ((st = mn_setting_from_pairs(&o, &s->d, &s->model, s->key, vals, s->nopt, pool))) {
            char msg[400];
            snprintf(msg, sizeof msg, "%s", mn_last_error());
            st = mn_fail(st, "setting %s: %s", s->canon, msg);
            break;
        }
        mn_sweep_setting *t = &set[i];
        t->model = s->model;
        t->data = s->d;
        mn_setting_run(t, &o);
        if (s->global_zero) t->cert.global_loss = 0;
        t->canon = s->canon;
    }
    /* in an MPI job rank 0 alone writes the database and sums up (minima/dist.h) */
    const int worker = mn_dist_rank() > 0;
    if (!st && !worker) st = mn_db_open(&db, db_path, 1);
    for (int i = 0; i < ns && !st && !worker; i++) {
        st = mn_db_setting(&set[i].db_id, db, e[i].canon, e[i].json);
        ids[i] = set[i].db_id;
    }
    if (!st) {
        const double t0 = now();
        mn_sweep_opts so = {.restarts = restarts, .threads = threads, .shard = 0, .nshards = 1,
                            .progress = progress, .tty = -1};
        mn_sweep_stats ss;
        st = mn_sweep_run(&ss, db, set, ns, &so);
        out->done = ss.done, out->skipped = ss.skipped, out->seconds = now() - t0;
    }
    if (!st && !worker) st = mn_summarize(&out->summary, &out->n, db, ids, ns, NULL, NULL);
    for (int i = 0; i < ns; i++) {
        mn_model_free(e[i].model);
        free(e[i].canon), free(e[i].json);
        e[i].model = NULL, e[i].d = NULL, e[i].canon = e[i].json = NULL;
    }
    mn_data_pool_free(pool); /* the settings' data sets */
    free(set);
    if (st) {
        mn_db_close(db);
        return st;
    }
    *dbp = db;
    return MN_OK;
}
