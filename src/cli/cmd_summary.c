/* minima summary DB [--json] [--plot PREFIX]: per setting, the fraction of
 * runs in each class with 95% Wilson intervals, the mean lambda_min and loss
 * of the spurious minima and how many distinct ones there are (the library's
 * catalogue of their stored end points, up to hidden-unit symmetries, with
 * the model rebuilt from the stored options; and, as a cross-check, distinct
 * loss values); --plot draws PREFIX.png and PREFIX.svg with gnuplot. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/sweep.h"

static void cell(FILE *f, double x, const char *fmt, int width)
{
    if (isfinite(x))
        fprintf(f, fmt, width, x);
    else
        fprintf(f, "%*s", width, "-");
}

void cli_summary_table(FILE *f, const mn_summary *s, int n)
{
    int present[MN_NCLASS] = {0}, width[MN_NCLASS], vs_best = 0;
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < MN_NCLASS; c++) present[c] |= s[i].count[c] > 0;
        vs_best |= s[i].vs_best > 0;
    }
    fprintf(f, "%4s %6s", "id", "runs");
    for (int c = 0; c < MN_NCLASS; c++) {
        const int len = (int)strlen(mn_class_name((mn_class)c));
        width[c] = len > 20 ? len : 20;
        if (present[c]) fprintf(f, "  %-*s", width[c], mn_class_name((mn_class)c));
    }
    if (vs_best) fprintf(f, " %10s", "best.loss");
    fprintf(f, " %10s %10s %6s %6s %5s  %s\n", "spur.lmin", "spur.loss", "minima", "losses", "kink", "setting");
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        fprintf(f, "%4lld %6ld", (long long)m->id, m->n);
        for (int c = 0; c < MN_NCLASS; c++) {
            if (!present[c]) continue;
            char buf[64];
            if (m->n)
                snprintf(buf, sizeof buf, "%5.1f%% [%4.1f,%5.1f]", 100 * m->frac[c], 100 * m->lo[c], 100 * m->hi[c]);
            else
                snprintf(buf, sizeof buf, "-");
            fprintf(f, "  %-*s", width[c], buf);
        }
        if (vs_best) fputc(' ', f), cell(f, m->best_loss, "%*.6g", 10);
        fputc(' ', f);
        cell(f, m->spurious_lambda_min, "%*.3g", 10);
        fputc(' ', f);
        cell(f, m->spurious_loss, "%*.4g", 10);
        if (m->distinct_spurious >= 0)
            fprintf(f, " %6ld", m->distinct_spurious);
        else
            fprintf(f, " %6s", "?");
        fprintf(f, " %6ld %5ld  %s\n", m->distinct_losses, m->near_kink, m->label);
    }
    if (vs_best)
        fprintf(f, "(best-found: a certified minimum at the lowest loss any run of its setting reached, best.loss, "
                   "within the setting's global-tol; spurious (vs best found): a certified minimum above it. "
                   "best.loss is the best found, not a proven global value: pass --global-loss when it is known)\n");
    int cells = 0; /* settings of experiment karhadkar (minima/regions.h's layout) */
    for (int i = 0; i < n && !cells; i++) cells = !strncmp(s[i].canon, "experiment=karhadkar ", 21);
    if (cells)
        fprintf(f, "(experiment karhadkar cells: a run is a random activation region; global: its Jacobian has "
                   "full rank n, so it holds no bad differentiable local minimum; degenerate: rank < n; kink: "
                   "borderline ranks decided by the exact check)\n");
    fprintf(f, "(class columns: %% of runs [95%% Wilson interval]; spur.*: means over the spurious minima; "
               "minima: distinct spurious minima up to hidden-unit symmetries: permutations, sign flips, "
               "rescalings (catalogue, tol %g; ? = model not rebuilt); losses: distinct spurious loss values (%g relative); kink: runs ending within "
               "kink_tol of a ReLU kink)\n",
            MN_CATALOGUE_TOL, MN_DISTINCT_RTOL);
}

void cli_summary_json(FILE *f, const mn_summary *s, int n)
{
    jw w;
    jw_begin(&w, f);
    jw_obj(&w, NULL);
    jw_str(&w, "distinct_rule", "distinct: mn_catalogue of the end points up to hidden-unit symmetries "
                                "(permutations, sign flips, rescalings), tolerance 1e-4 (-1: model not rebuilt); distinct_losses: spurious losses "
                                "within 1e-9 relative are one");
    jw_num(&w, "confidence", 0.95);
    jw_arr(&w, "settings");
    for (int i = 0; i < n; i++) {
        const mn_summary *m = &s[i];
        jw_obj(&w, NULL);
        jw_int(&w, "id", (long long)m->id);
        jw_str(&w, "options", m->canon);
        jw_str(&w, "label", m->label);
        jw_int(&w, "runs", m->n);
        cli_classes_json(&w, m);
        /* best found, not proven: the reference of best-found / spurious (vs best found) */
        jw_num(&w, "best_loss", m->best_loss);
        jw_int(&w, "classified_vs_best", m->vs_best);
        jw_obj(&w, "spurious");
        jw_int(&w, "count", m->nspurious);
        jw_num(&w, "mean_lambda_min", m->spurious_lambda_min);
        jw_num(&w, "mean_loss", m->spurious_loss);
        jw_int(&w, "distinct", m->distinct_spurious);
        jw_int(&w, "distinct_losses", m->distinct_losses);
        jw_end(&w);
        jw_int(&w, "near_kink", m->near_kink);
        jw_num(&w, "mean_seconds", m->mean_seconds);
        jw_end(&w);
    }
    jw_end(&w);
    jw_end(&w);
    fputc('\n', f);
}

typedef struct {
    const char *path, *plot;
    int json;
} summary_args;

static mn_status set_summary(void *ctx, const mn_option *d, const char *v)
{
    summary_args *a = ctx;
    if (!strcmp(d->name, "json")) a->json = 1;
    else a->plot = v; /* "plot" */
    return MN_OK;
}

static int database_arg(void *ctx, const char *arg)
{
    summary_args *a = ctx;
    if (a->path) return cli_bad("summary", "unexpected argument '%s' (one database at a time)", arg);
    a->path = arg;
    return 0;
}

int cmd_summary(int argc, char **argv)
{
    summary_args a = {0};
    const int r = cli_args("summary", MN_CMD_SUMMARY,
                           "usage: minima summary DB [--json] [--plot PREFIX]\n"
                           "per setting: class fractions with 95% Wilson intervals, spurious minima\n\n",
                           argc, argv, set_summary, database_arg, &a);
    if (r) return r == 2 ? 0 : 1;
    const char *path = a.path, *plot = a.plot;
    const int json = a.json;
    if (!path) {
        fprintf(stderr, "minima summary: no database given (usage: minima summary DB [--json] [--plot PREFIX])\n");
        return 1;
    }
    mn_db *db = NULL;
    mn_summary *s = NULL;
    int n = 0, rc = 1;
    if (mn_db_open(&db, path, 0) || mn_summarize(&s, &n, db, NULL, 0, mn_setting_model, NULL)) goto fail;
    if (plot && mn_plot_summary(s, n, db, plot)) goto fail;
    if (json)
        cli_summary_json(stdout, s, n);
    else
        cli_summary_table(stdout, s, n);
    rc = fflush(stdout) ? 1 : 0;
    if (rc) fprintf(stderr, "minima summary: cannot write the output\n");
    goto done;
fail:
    cli_error("summary");
done:
    mn_summary_free(s, n);
    mn_db_close(db);
    return rc;
}
