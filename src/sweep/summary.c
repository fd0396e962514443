/* Per-setting summaries of a sweep database: class fractions with Wilson
 * intervals, spurious-minimum statistics (distinct minima by the rule of the
 * setting's run kind, src/run/kinds.c, and by loss values), labels naming
 * what varies. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"
#include "minima/sweep.h"
#include "run/internal.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Distinct values among n sorted numbers: neighbours within rtol relative
 * (to the larger magnitude) belong to one minimum. A chain of close values
 * counts once: values are clustered, not compared pairwise. */
static long distinct(const double *v, long n, double rtol)
{
    long k = n > 0;
    for (long i = 1; i < n; i++) {
        double scale = fmax(fabs(v[i]), fabs(v[i - 1]));
        if (v[i] - v[i - 1] > rtol * scale) k++;
    }
    return k;
}

/* The medians of one setting's runs (see mn_summary). */
static mn_status medians(mn_summary *m, const mn_run_row *rows, long nr)
{
    double *v = malloc((size_t)(nr > 0 ? nr : 1) * sizeof *v);
    if (!v) return mn_fail(MN_ENOMEM, "out of memory");
    double *out[6] = {&m->median_abs_a, &m->median_abs_a_exp_b, &m->median_b, &m->median_iterations,
                      &m->median_seconds, &m->median_seconds_per_iteration};
    for (int q = 0; q < 6; q++) {
        for (long r = 0; r < nr; r++) {
            const mn_run_row *w = &rows[r];
            v[r] = q == 0   ? fabs(w->elim_a)
                   : q == 1 ? fabs(w->elim_a_exp_b)
                   : q == 2 ? w->elim_b
                   : q == 3 ? (double)w->iterations
                   : q == 4 ? w->seconds
                   : w->iterations > 0 ? w->seconds / (double)w->iterations
                                       : NAN;
        }
        *out[q] = mn_median(v, nr);
    }
    free(v);
    return MN_OK;
}

/* The best found of one setting (m->best_loss: the lowest finite loss of
 * its runs, whatever their class: each is a value some network reached) and
 * its certified minima of unknown global value classified against it, with
 * the setting's own global_tol. A run's summary class so depends on the
 * other runs of its setting: more restarts can only lower the best found. */
static mn_status against_best(mn_summary *m, mn_run_row *rows, long nr)
{
    double best = INFINITY;
    long nmin = 0;
    for (long r = 0; r < nr; r++) {
        if (isfinite(rows[r].loss) && rows[r].loss < best) best = rows[r].loss;
        nmin += rows[r].cls == MN_CLASS_MINIMUM;
    }
    m->best_loss = isfinite(best) ? best : NAN;
    m->vs_best = nmin;
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    m->global_tol = co.global_tol;
    if (!nmin) return MN_OK;
    mn_status st = mn_setting_cert_opts(&co, m->json);
    if (st) return st;
    m->global_tol = co.global_tol;
    for (long r = 0; r < nr; r++) rows[r].cls = mn_class_vs_best(rows[r].cls, rows[r].loss, best, co.global_tol);
    return MN_OK;
}

void mn_summary_free(mn_summary *s, int n)
{
    if (!s) return;
    for (int i = 0; i < n; i++) free(s[i].canon), free(s[i].json), free(s[i].label), free(s[i].short_label);
    free(s);
}

/* label of each setting: "key=value" for the keys whose values differ
 * between the settings of its run kind (a database merged from a sweep and
 * an experiment labels the sweep's settings by what varies among them, not
 * by the experiment's keys they lack; absent keys read "off" for flags,
 * "(unset)" for others); the whole canonical string when nothing differs or
 * the run kind says so. short_label: the differing options always ("" when
 * none). */
static mn_status make_labels(mn_summary *s, int n)
{
    enum { MAXK = 4 * MN_GRID_MAX_KEYS };
    const size_t nn = (size_t)(n > 0 ? n : 1);
    cJSON **obj = calloc(nn, sizeof *obj);
    int *group = malloc(nn * sizeof *group), *rep = malloc(nn * sizeof *rep); /* kind index; its first setting */
    const mn_run_kind **kind = malloc(nn * sizeof *kind);
    unsigned char *vary = NULL; /* [kind index][key] */
    int ngroups = 0;
    for (int i = 0; obj && group && rep && kind && i < n; i++) {
        obj[i] = cJSON_Parse(s[i].json);
        kind[i] = mn_run_kind_of(s[i].json, s[i].canon);
        for (group[i] = 0; group[i] < ngroups && kind[rep[group[i]]] != kind[i];) group[i]++;
        if (group[i] == ngroups) rep[ngroups++] = i;
    }
    if (!obj || !group || !rep || !kind || !(vary = calloc((size_t)(ngroups > 0 ? ngroups : 1), MAXK))) {
        for (int i = 0; obj && i < n; i++) cJSON_Delete(obj[i]);
        free(obj), free(group), free(rep), free(kind), free(vary);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    const char *keys[MAXK]; /* in first-seen order */
    int nk = 0;
    for (int i = 0; i < n; i++)
        for (cJSON *it = obj[i] ? obj[i]->child : NULL; it; it = it->next) {
            int seen = 0;
            for (int k = 0; k < nk && !seen; k++) seen = !strcmp(keys[k], it->string);
            if (!seen && nk < MAXK) keys[nk++] = it->string;
        }
    for (int k = 0; k < nk; k++)
        for (int i = 0; i < n; i++) {
            unsigned char *v = &vary[(size_t)group[i] * MAXK + k];
            const int r = rep[group[i]];
            if (*v || r == i) continue;
            const cJSON *a = obj[r] ? cJSON_GetObjectItemCaseSensitive(obj[r], keys[k]) : NULL;
            const cJSON *b = obj[i] ? cJSON_GetObjectItemCaseSensitive(obj[i], keys[k]) : NULL;
            const char *va = cJSON_IsString(a) ? a->valuestring : NULL;
            const char *vb = cJSON_IsString(b) ? b->valuestring : NULL;
            *v = (va == NULL) != (vb == NULL) || (va && strcmp(va, vb));
        }
    /* a key whose every value is "on" is a flag: absent reads "off" */
    int flag[MAXK];
    for (int k = 0; k < nk; k++) {
        flag[k] = 1;
        for (int i = 0; i < n && flag[k]; i++) {
            const cJSON *v = obj[i] ? cJSON_GetObjectItemCaseSensitive(obj[i], keys[k]) : NULL;
            flag[k] = !v || (cJSON_IsString(v) && !strcmp(v->valuestring, "on"));
        }
    }
    mn_status st = MN_OK;
    for (int i = 0; i < n && !st; i++) {
        size_t len = 1 + strlen(s[i].canon);
        for (int k = 0; k < nk; k++) {
            if (!vary[(size_t)group[i] * MAXK + k]) continue;
            const cJSON *v = obj[i] ? cJSON_GetObjectItemCaseSensitive(obj[i], keys[k]) : NULL;
            len += strlen(keys[k]) + 2 + (cJSON_IsString(v) ? strlen(v->valuestring) : 8);
        }
        if (!(s[i].label = malloc(len)) || !(s[i].short_label = malloc(len))) {
            st = mn_fail(MN_ENOMEM, "out of memory");
            break;
        }
        s[i].label[0] = '\0';
        for (int k = 0; k < nk; k++) {
            if (!vary[(size_t)group[i] * MAXK + k]) continue;
            const cJSON *v = obj[i] ? cJSON_GetObjectItemCaseSensitive(obj[i], keys[k]) : NULL;
            if (s[i].label[0]) strcat(s[i].label, " ");
            strcat(s[i].label, keys[k]);
            strcat(s[i].label, "=");
            strcat(s[i].label, cJSON_IsString(v) ? v->valuestring : flag[k] ? "off" : "(unset)");
        }
        strcpy(s[i].short_label, s[i].label);
        if (!s[i].label[0] || kind[i]->label_is_canon) strcpy(s[i].label, s[i].canon);
    }
    for (int i = 0; i < n; i++) cJSON_Delete(obj[i]);
    free(obj), free(group), free(rep), free(kind), free(vary);
    return st;
}

mn_status mn_summarize(mn_summary **out, int *nout, mn_db *db, const int64_t *ids, int nids,
                       mn_model_builder build, void *ctx)
{
    *out = NULL, *nout = 0;
    int64_t *all_ids;
    char **canon, **json;
    int nall;
    mn_status st = mn_db_settings(&all_ids, &canon, &json, &nall, db);
    if (st) return st;
    const int n = ids ? nids : nall;
    mn_summary *s = calloc((size_t)(n > 0 ? n : 1), sizeof *s);
    if (!s) {
        mn_db_settings_free(all_ids, canon, json, nall);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    for (int i = 0; i < n && !st; i++) {
        int j = i;
        if (ids) /* the setting's row; ids come from this database */
            for (j = 0; j < nall && all_ids[j] != ids[i]; j++) continue;
        if (j == nall) {
            st = mn_fail(MN_EINVAL, "no setting with id %lld in the database", (long long)ids[i]);
            break;
        }
        s[i].id = all_ids[j];
        s[i].canon = canon[j], canon[j] = NULL;
        s[i].json = json[j], json[j] = NULL;
        if (!s[i].canon) st = mn_fail(MN_EINVAL, "setting id %lld asked for twice", (long long)ids[i]);
    }
    mn_db_settings_free(all_ids, canon, json, nall);
    /* a database names data files: none is read unless it is a plain file */
    for (int i = 0; i < n && !st && build; i++)
        if ((st = mn_setting_data_check(s[i].json))) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", mn_last_error());
            st = mn_fail(st, "setting %lld: %s", (long long)s[i].id, msg);
        }
    for (int i = 0; i < n && !st; i++) {
        mn_run_row *rows;
        long nr;
        if ((st = mn_db_runs(&rows, &nr, db, s[i].id))) break;
        double *sp = malloc((size_t)(nr > 0 ? nr : 1) * sizeof *sp);
        if (!sp) {
            free(rows);
            st = mn_fail(MN_ENOMEM, "out of memory");
            break;
        }
        mn_summary *m = &s[i];
        m->n = nr;
        if ((st = against_best(m, rows, nr))) {
            free(sp), free(rows);
            break;
        }
        double lmin = 0, loss = 0, secs = 0;
        long nlmin = 0, nsp = 0;
        for (long r = 0; r < nr; r++) {
            m->count[rows[r].cls]++;
            m->near_kink += rows[r].near_kink != 0;
            m->zero_error += rows[r].accuracy == 1.0;
            m->with_accuracy += !isnan(rows[r].accuracy);
            secs += rows[r].seconds;
            if (!mn_class_is_spurious(rows[r].cls)) continue;
            m->nspurious++;
            if (isfinite(rows[r].loss)) sp[nsp++] = rows[r].loss, loss += rows[r].loss;
            if (isfinite(rows[r].lambda_min)) lmin += rows[r].lambda_min, nlmin++;
        }
        for (int c = 0; c < MN_NCLASS; c++) {
            m->frac[c] = nr ? (double)m->count[c] / (double)nr : NAN;
            mn_wilson(&m->lo[c], &m->hi[c], m->count[c], nr, MN_Z95);
        }
        m->spurious_loss = nsp ? loss / (double)nsp : NAN;
        m->spurious_lambda_min = nlmin ? lmin / (double)nlmin : NAN;
        qsort(sp, (size_t)nsp, sizeof *sp, cmp_double);
        m->distinct_losses = distinct(sp, nsp, MN_DISTINCT_RTOL);
        m->mean_seconds = nr ? secs / (double)nr : NAN;
        st = medians(m, rows, nr);
        if (!st)
            st = mn_run_kind_of(m->json, m->canon)
                     ->distinct(&m->distinct_spurious, db, m->id, m->json, m->canon, rows, nr, build, ctx);
        free(sp), free(rows);
    }
    if (!st) st = make_labels(s, n);
    if (st) {
        mn_summary_free(s, n);
        return st;
    }
    *out = s, *nout = n;
    return MN_OK;
}
