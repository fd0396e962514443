/* minima experiment safran-shamir: Tables 1 and 2 of Safran & Shamir (ICML
 * 2018) on the closed-form population loss (include/minima/popul.h): per
 * (k, n = k + extra) row, `restarts` GD runs from Xavier initialisations,
 * classified global / spurious / saddle / not-converged / diverged.
 * One table row per line, or one JSON object per line with --json. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "cli.h"
#include "minima/popul.h"
#include "minima/prove.h"

#define MAX_LIST 256

typedef struct {
    int k[MAX_LIST], nk;
    int extra[MAX_LIST], nextra;
    int restarts, threads, json, quiet;
    int prove; /* --prove: prove the distinct spurious minima (minima/prove.h) */
    int elim[2], nelim;      /* eliminator values: 0 none, 1 liang */
    const char *db, *plot; /* --db PATH, --plot PREFIX (NULL: none) */
    uint64_t seed;
    double lambda;
    mn_popul_opts opts;
} exp_opts;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: minima experiment safran-shamir [options]\n"
            "\n"
            "Safran & Shamir (ICML 2018), Tables 1 (n = k) and 2 (n = k + 1): a student of n ReLU\n"
            "units fit to the teacher V = I_k under x ~ N(0, I_k) on the exact population loss;\n"
            "Xavier init, plain GD with step 5/n until ||grad|| <= 1e-9; a converged point with\n"
            "F >= 1e-3 and a positive definite Hessian is a spurious local minimum.\n"
            "\n"
            "  --k LIST            teacher sizes: 6..20 (default), 8, or 6,9,12\n"
            "  --extra LIST        n - k values (default 0,1)\n"
            "  --restarts N        runs per row (default 1000)\n"
            "  --seed S            base seed; run r of row (k, n) uses mn_seed_derive(S, {k, n, r}) (default 1)\n"
            "  --threads T         OpenMP threads (default: all); results do not depend on it\n"
            "  --json              one JSON object per row instead of the table\n"
            "  --quiet             no progress line on stderr (shown only when stderr is a terminal)\n"
            "  --eliminate LIST    none (default), liang, or none,liang (rows with and without): Liang et\n"
            "                      al.'s neuron a*exp(c.x + b) with penalty (lambda/2) a^2 added\n"
            "  --lambda X          its penalty (default 0.01)\n"
            "  --db PATH           store every run in this sweep database (created if absent) and load\n"
            "                      the runs already there: a killed experiment resumes where it stopped\n"
            "  --plot PREFIX       figure of %% spurious vs k per series: PREFIX.png and PREFIX.svg; with\n"
            "                      --db, of every row stored there with this seed and these shortcuts\n"
            "  --prove             prove each distinct spurious minimum in ball arithmetic (minima prove):\n"
            "                      a proved column, distinct proved / distinct found\n"
            "  --no-shortcuts      the plain protocol: no early global classification, no Newton polish\n"
            "  --step X            GD step (default 5/n, the protocol's)\n"
            "  --max-iter N        safety cap on GD steps per run, reported as not-converged (default 5000000)\n"
            "  --help              this help\n");
}

/* The progress line on stderr: rows and runs done, elapsed time and an
 * estimate of the rest from the pace of the runs done here so far (the
 * largest rows run first, so it errs long), at most twice a second. */
typedef struct {
    double t0, last;
    long first; /* runs done before the first run here (loaded) */
} progress;

static void show_progress(void *ctx, long runs_done, long runs_total, int rows_done, int rows_total)
{
    progress *p = ctx;
    const double t = omp_get_wtime() - p->t0;
    if (p->first < 0) p->first = runs_done - 1;
    if (runs_done < runs_total && t - p->last < 0.5) return;
    p->last = t;
    const double rate = (double)(runs_done - p->first) / (t > 1e-9 ? t : 1e-9);
    fprintf(stderr, "\rsafran-shamir: rows %d/%d, runs %ld/%ld, %.0f s elapsed, ~%.0f s left \033[K", rows_done,
            rows_total, runs_done, runs_total, t, (double)(runs_total - runs_done) / rate);
    if (runs_done == runs_total) fputc('\n', stderr);
    fflush(stderr);
}

static int parse_int(const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < lo || v > hi) return 0;
    *out = v;
    return 1;
}

/* "A..B", "A" or "A,B,C" into list (values lo..hi). */
static int parse_list(const char *s, long lo, long hi, int *list, int *count)
{
    char buf[512];
    if (strlen(s) >= sizeof buf || !*s) return 0;
    strcpy(buf, s);
    const char *dots = strstr(buf, "..");
    *count = 0;
    if (dots) {
        char *mid = (char *)dots;
        *mid = 0;
        long a, b;
        if (!parse_int(buf, lo, hi, &a) || !parse_int(mid + 2, lo, hi, &b) || b < a || b - a >= MAX_LIST) return 0;
        for (long v = a; v <= b; v++) list[(*count)++] = (int)v;
        return 1;
    }
    for (char *tok = strtok(buf, ","); tok; tok = strtok(NULL, ",")) {
        long v;
        if (*count >= MAX_LIST || !parse_int(tok, lo, hi, &v)) return 0;
        list[(*count)++] = (int)v;
    }
    return *count > 0 && s[strlen(s) - 1] != ',';
}

/* 0: ok, 1: error printed, 2: help printed */
static int parse(exp_opts *o, int argc, char **argv)
{
    memset(o, 0, sizeof *o);
    o->nk = 0;
    for (int v = 6; v <= 20; v++) o->k[o->nk++] = v;
    o->extra[0] = 0, o->extra[1] = 1, o->nextra = 2;
    o->restarts = 1000;
    o->seed = 1;
    o->lambda = 1e-2;
    o->elim[0] = 0, o->nelim = 1;
    mn_popul_opts_default(&o->opts);
    int have_name = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 2;
        }
        if (strncmp(a, "--", 2) != 0) {
            if (have_name) return cli_bad("experiment", "unexpected argument '%s'", a);
            if (strcmp(a, "safran-shamir") != 0)
                return cli_bad("experiment", "unknown experiment '%s' (the one available: safran-shamir)", a);
            have_name = 1;
            continue;
        }
        /* --name value or --name=value */
        char name[64];
        const char *val = NULL, *eq = strchr(a, '=');
        size_t len = eq ? (size_t)(eq - a) : strlen(a);
        if (len >= sizeof name) return cli_bad("experiment", "unknown option '%s'", a);
        memcpy(name, a, len);
        name[len] = 0;
        int flag = !strcmp(name, "--json") || !strcmp(name, "--no-shortcuts") || !strcmp(name, "--quiet") ||
                   !strcmp(name, "--prove");
        int known = flag || !strcmp(name, "--k") || !strcmp(name, "--extra") || !strcmp(name, "--restarts") ||
                    !strcmp(name, "--seed") || !strcmp(name, "--threads") || !strcmp(name, "--eliminate") ||
                    !strcmp(name, "--lambda") || !strcmp(name, "--max-iter") || !strcmp(name, "--step") ||
                    !strcmp(name, "--db") || !strcmp(name, "--plot");
        if (!known) return cli_bad("experiment", "unknown option '%s' (see minima experiment --help)", name);
        if (flag) {
            if (eq) return cli_bad("experiment", "option '%s' takes no value", name);
            if (!strcmp(name, "--json")) o->json = 1;
            else if (!strcmp(name, "--quiet")) o->quiet = 1;
            else if (!strcmp(name, "--prove")) o->prove = 1;
            else o->opts.early_global = o->opts.newton = 0;
            continue;
        }
        if (eq) val = eq + 1;
        else if (i + 1 < argc) val = argv[++i];
        else return cli_bad("experiment", "option '%s' needs a value", name);
        long v;
        if (!strcmp(name, "--k")) {
            if (!parse_list(val, 1, MN_POPUL_MAX_K, o->k, &o->nk))
                return cli_bad("experiment", "--k '%s': expected A..B, A or A,B,.. with values 1..%d", val,
                               MN_POPUL_MAX_K);
        } else if (!strcmp(name, "--extra")) {
            if (!parse_list(val, 0, 64, o->extra, &o->nextra))
                return cli_bad("experiment", "--extra '%s': expected A..B, A or A,B,.. with n - k values 0..64", val);
        } else if (!strcmp(name, "--restarts")) {
            if (!parse_int(val, 1, 100000000, &v))
                return cli_bad("experiment", "--restarts '%s': expected an integer >= 1", val);
            o->restarts = (int)v;
        } else if (!strcmp(name, "--max-iter")) {
            if (!parse_int(val, 1, 2000000000L, &v))
                return cli_bad("experiment", "--max-iter '%s': expected an integer >= 1", val);
            o->opts.max_iter = v;
        } else if (!strcmp(name, "--threads")) {
            if (!parse_int(val, 1, 4096, &v))
                return cli_bad("experiment", "--threads '%s': expected an integer >= 1", val);
            o->threads = (int)v;
        } else if (!strcmp(name, "--seed")) {
            char *end;
            errno = 0;
            unsigned long long s = strtoull(val, &end, 10);
            if (errno || end == val || *end || val[0] == '-')
                return cli_bad("experiment", "--seed '%s': expected an unsigned integer", val);
            o->seed = (uint64_t)s;
        } else if (!strcmp(name, "--eliminate")) {
            if (!strcmp(val, "liang")) o->elim[0] = 1, o->nelim = 1;
            else if (!strcmp(val, "none")) o->elim[0] = 0, o->nelim = 1;
            else if (!strcmp(val, "none,liang")) o->elim[0] = 0, o->elim[1] = 1, o->nelim = 2;
            else if (!strcmp(val, "liang,none")) o->elim[0] = 1, o->elim[1] = 0, o->nelim = 2;
            else return cli_bad("experiment", "--eliminate '%s': expected none, liang or none,liang", val);
        } else if (!strcmp(name, "--db") || !strcmp(name, "--plot")) {
            if (!*val) return cli_bad("experiment", "option '%s' needs a non-empty value", name);
            if (!strcmp(name, "--db")) o->db = val;
            else o->plot = val;
        } else if (!strcmp(name, "--step")) {
            char *end;
            errno = 0;
            double x = strtod(val, &end);
            if (errno || end == val || *end || !(x > 0) || !isfinite(x))
                return cli_bad("experiment", "--step '%s': expected a finite number > 0", val);
            o->opts.step = x;
        } else if (!strcmp(name, "--lambda")) {
            char *end;
            errno = 0;
            double x = strtod(val, &end);
            if (errno || end == val || *end || !(x >= 0) || !isfinite(x))
                return cli_bad("experiment", "--lambda '%s': expected a finite number >= 0", val);
            o->lambda = x;
        }
    }
    if (!have_name) return cli_bad("experiment", "which experiment? (minima experiment safran-shamir [options])");
    for (int a = 0; a < o->nk; a++)
        for (int b = 0; b < o->nextra; b++)
            if (o->k[a] + o->extra[b] > MN_POPUL_MAX_N)
                return cli_bad("experiment", "k + extra = %d exceeds the largest student (%d units)",
                               o->k[a] + o->extra[b], MN_POPUL_MAX_N);
    return 0;
}

/* The proofs of a row's distinct minima (--prove). */
typedef struct {
    mn_prove_result *res;
    int m, proved;
    double seconds; /* wall time of the row's proofs */
} row_proofs;

static void print_row(const exp_opts *o, const mn_popul_row *r, const mn_popul_spec *spec, const row_proofs *pr)
{
    const double m = r->restarts;
    if (o->json) {
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        jw_int(&w, "k", r->k);
        jw_int(&w, "n", r->n);
        jw_int(&w, "restarts", r->restarts);
        jw_str(&w, "eliminate", spec->elim ? "liang" : "none");
        jw_num(&w, "spurious_pct", r->spurious_pct);
        jw_num(&w, "spurious_lo", r->spurious_lo);
        jw_num(&w, "spurious_hi", r->spurious_hi);
        jw_num(&w, "mean_lambda_min", r->mean_lambda_min);
        jw_num(&w, "mean_loss", r->mean_loss);
        jw_int(&w, "distinct", r->distinct);
        jw_num(&w, "global_pct", 100 * r->count[MN_POPUL_GLOBAL] / m);
        jw_num(&w, "saddle_pct", 100 * r->count[MN_POPUL_SADDLE] / m);
        jw_num(&w, "not_converged_pct", 100 * r->count[MN_POPUL_NOT_CONVERGED] / m);
        jw_num(&w, "diverged_pct", 100 * r->count[MN_POPUL_DIVERGED] / m);
        jw_int(&w, "early_global", r->early);
        jw_int(&w, "polished", r->polished);
        jw_int(&w, "gd_steps", r->steps);
        if (spec->elim) {
            jw_num(&w, "lambda", spec->lambda);
            jw_num(&w, "median_abs_a", r->median_abs_a);
            jw_num(&w, "median_a_exp_b", r->median_a_exp_b);
            jw_num(&w, "median_b", r->median_b);
            jw_num(&w, "median_c_norm", r->median_c_norm);
        }
        jw_int(&w, "loaded", r->loaded);
        if (pr) {
            jw_int(&w, "proved", pr->proved);
            jw_arr(&w, "not_proved");
            for (int d = 0; d < pr->m; d++)
                if (!pr->res[d].spurious) {
                    jw_obj(&w, NULL);
                    jw_int(&w, "minimum", d);
                    jw_str(&w, "reason", pr->res[d].reason);
                    jw_end(&w);
                }
            jw_end(&w);
            jw_num(&w, "prove_seconds", pr->seconds);
        }
        /* timings last: comparisons cut from "seconds" on */
        jw_num(&w, "seconds", r->seconds);
        jw_num(&w, "run_seconds", r->run_seconds);
        jw_end(&w);
    } else {
        printf("%4d %4d %6d %9.1f  [%5.1f, %5.1f] %10.5f %9.5f %8d %8.1f %7.1f %8.1f %9.1f", r->k, r->n, r->restarts,
               r->spurious_pct, r->spurious_lo, r->spurious_hi, r->mean_lambda_min, r->mean_loss, r->distinct,
               100 * r->count[MN_POPUL_GLOBAL] / m, 100 * r->count[MN_POPUL_SADDLE] / m,
               100 * r->count[MN_POPUL_NOT_CONVERGED] / m, 100 * r->count[MN_POPUL_DIVERGED] / m);
        if (o->nelim > 1 || o->elim[0]) {
            if (spec->elim)
                printf(" %5s %8.3g %8.3g %8.3g %9.3g", "liang", r->median_abs_a, r->median_b, r->median_c_norm,
                       r->median_a_exp_b);
            else
                printf(" %5s %8s %8s %8s %9s", "none", "-", "-", "-", "-");
        }
        if (pr) printf(" %4d/%-3d", pr->proved, pr->m);
        printf(" %8.2f\n", r->seconds);
        for (int d = 0; pr && d < pr->m; d++)
            if (!pr->res[d].spurious)
                printf("#   minimum %d of k = %d, n = %d not proved spurious: %s\n", d, r->k, r->n, pr->res[d].reason);
    }
    fflush(stdout);
}

/* A number of a settings JSON object (NAN when absent). */
static double jnum(const cJSON *o, const char *key)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
    return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* Every Safran-Shamir row stored in db with this call's seed and shortcuts
 * (other options, e.g. --max-iter, may differ), as rows rebuilt from their
 * stored runs (restarts 0..m-1 all present; nothing is run): what --plot
 * draws with --db, so one figure can hold rows from several calls. */
static int stored_rows(mn_popul_row **rows_out, mn_popul_spec **specs_out, int *nout, mn_db *db, const exp_opts *o)
{
    int64_t *ids = NULL;
    char **canon = NULL, **json = NULL;
    int ns = 0, m = 0;
    *rows_out = NULL, *specs_out = NULL, *nout = 0;
    if (mn_db_settings(&ids, &canon, &json, &ns, db)) return 1;
    mn_popul_row *rows = malloc((size_t)(ns ? ns : 1) * sizeof *rows);
    mn_popul_spec *specs = malloc((size_t)(ns ? ns : 1) * sizeof *specs);
    int rc = rows && specs ? 0 : (mn_fail(MN_ENOMEM, "out of memory"), 1);
    for (int i = 0; i < ns && !rc; i++) {
        cJSON *j = cJSON_Parse(json[i]);
        const cJSON *ex = cJSON_GetObjectItemCaseSensitive(j, "experiment");
        const cJSON *el = cJSON_GetObjectItemCaseSensitive(j, "eliminate");
        if (!cJSON_IsString(ex) || strcmp(ex->valuestring, "safran-shamir") != 0 || !cJSON_IsString(el) ||
            jnum(j, "seed") != (double)o->seed || jnum(j, "early_global") != o->opts.early_global ||
            jnum(j, "newton") != o->opts.newton) {
            cJSON_Delete(j);
            continue;
        }
        mn_popul_spec sp = {.k = (int)jnum(j, "k"), .n = (int)jnum(j, "n"), .elim = !strcmp(el->valuestring, "liang"),
                            .lambda = jnum(j, "lambda")};
        if (!sp.elim) sp.lambda = 0;
        mn_popul_opts op = o->opts;
        op.step = jnum(j, "step") == 5.0 / sp.n ? 0 : jnum(j, "step");
        op.gtol = jnum(j, "gtol"), op.global_tol = jnum(j, "global_tol");
        op.max_iter = (long)jnum(j, "max_iter"), op.max_norm = jnum(j, "max_norm");
        cJSON_Delete(j);
        /* the canonical string must come back the same, or this is not the setting */
        char again[512];
        if (mn_popul_canon(again, sizeof again, &sp, &op, o->seed) || strcmp(again, canon[i]) != 0) continue;
        mn_run_row *dr = NULL;
        long nr = 0;
        if (mn_db_runs(&dr, &nr, db, ids[i])) {
            rc = 1;
            break;
        }
        long have = 0;
        while (have < nr && dr[have].restart == have) have++;
        free(dr);
        if (have == 0) continue;
        if (mn_popul_experiment_db(&rows[m], NULL, &sp, 1, &op, (int)have, o->seed, o->threads, db)) {
            rc = 1;
            break;
        }
        specs[m++] = sp;
    }
    mn_db_settings_free(ids, canon, json, ns);
    if (rc) free(rows), free(specs), m = 0, rows = NULL, specs = NULL;
    *rows_out = rows, *specs_out = specs, *nout = m;
    return rc;
}

int cmd_experiment(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "eliminate")) return cmd_experiment_eliminate(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "karhadkar")) return cmd_experiment_karhadkar(argc - 1, argv + 1);
    if (argc > 1 && !strcmp(argv[1], "liu")) return cmd_experiment_liu(argc - 1, argv + 1);
    exp_opts o;
    const int r = parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    const int any_elim = o.nelim > 1 || o.elim[0];
    /* open the database before any work: a bad path fails at once */
    mn_db *db = NULL;
    if (o.db && mn_db_open(&db, o.db, 1)) return cli_error("experiment");
    if (!o.json) {
        char step[32] = "5/n";
        if (o.opts.step > 0) snprintf(step, sizeof step, "%g", o.opts.step);
        printf("# Safran & Shamir (ICML 2018): n = k + extra ReLU units vs teacher V = I_k, x ~ N(0, I_k);\n"
               "# Xavier init, GD step %s to ||grad|| <= %g; spurious: F >= %g and Hessian > 0.\n"
               "# %d restarts per row, seed %llu%s",
               step, o.opts.gtol, o.opts.global_tol, o.restarts, (unsigned long long)o.seed,
               o.opts.newton ? "; shortcuts: early global (F < 1e-3), certified Newton polish" : "; no shortcuts");
        if (any_elim) printf("; eliminator: Liang a*exp(c.x+b), lambda %g", o.lambda);
        if (db) printf("; database %s", o.db);
        printf("\n%4s %4s %6s %9s  %14s %10s %9s %8s %8s %7s %8s %9s", "k", "n", "runs", "spur%", "[95% Wilson]",
               "mean_lmin", "mean_F", "distinct", "global%", "saddle%", "noconv%", "diverged%");
        if (any_elim) printf(" %5s %8s %8s %8s %9s", "elim", "med|a|", "med_b", "med|c|", "med_a*e^b");
        if (o.prove) printf(" %8s", "proved");
        printf(" %8s\n", "seconds"); /* a row's wall span: rows run as one pool, their spans overlap */
    }
    /* all rows as one pool of runs (every core busy to the end), printed in
     * the order asked for: eliminator values, then extra values, each over
     * the k values */
    const int nrow = o.nk * o.nextra * o.nelim;
    mn_popul_spec *specs = malloc((size_t)nrow * sizeof *specs);
    mn_popul_row *rows = malloc((size_t)nrow * sizeof *rows);
    mn_popul_run **runs = o.prove ? calloc((size_t)nrow, sizeof *runs) : NULL;
    row_proofs *proofs = o.prove ? calloc((size_t)nrow, sizeof *proofs) : NULL;
    int nomem = !specs || !rows || (o.prove && (!runs || !proofs));
    for (int q = 0; o.prove && !nomem && q < nrow; q++) nomem = !(runs[q] = malloc((size_t)o.restarts * sizeof **runs));
    if (nomem) {
        for (int q = 0; runs && q < nrow; q++) free(runs[q]);
        free(specs), free(rows), free(runs), free(proofs), mn_db_close(db);
        mn_fail(MN_ENOMEM, "out of memory for %d rows", nrow);
        return cli_error("experiment");
    }
    int i = 0;
    for (int e = 0; e < o.nelim; e++)
        for (int b = 0; b < o.nextra; b++)
            for (int a = 0; a < o.nk; a++)
                specs[i++] = (mn_popul_spec){.n = o.k[a] + o.extra[b], .k = o.k[a], .elim = o.elim[e],
                                             .lambda = o.elim[e] ? o.lambda : 0};
    const double t0 = omp_get_wtime();
    progress prog = {.t0 = t0, .last = -1, .first = -1};
    if (!o.quiet && isatty(STDERR_FILENO)) o.opts.progress = show_progress, o.opts.progress_ctx = &prog;
    int rc = 0;
    if (mn_popul_experiment_db(rows, runs, specs, nrow, &o.opts, o.restarts, o.seed, o.threads, db)) {
        rc = cli_error("experiment");
    } else {
        const double tp = omp_get_wtime();
        int nproved = 0, nfound = 0;
        for (i = 0; o.prove && i < nrow && !rc; i++) {
            const double t1 = omp_get_wtime();
            if (mn_prove_popul_row(&proofs[i].res, &proofs[i].m, &specs[i], &o.opts, runs[i], o.restarts, o.seed,
                                   o.threads))
                rc = cli_error("experiment");
            for (int d = 0; d < proofs[i].m; d++) proofs[i].proved += proofs[i].res[d].spurious;
            proofs[i].seconds = omp_get_wtime() - t1;
            nproved += proofs[i].proved, nfound += proofs[i].m;
        }
        const double prove_s = omp_get_wtime() - tp;
        for (i = 0; i < nrow && !rc; i++) print_row(&o, &rows[i], &specs[i], proofs ? &proofs[i] : NULL);
        if (!o.json && o.prove && !rc)
            printf("# proofs: %d of %d distinct spurious minima proved spurious, %.2f s wall\n", nproved, nfound, prove_s);
        if (!o.json) printf("# total wall time %.2f s\n", omp_get_wtime() - t0);
        if (o.plot && !db && mn_popul_plot(rows, specs, nrow, o.plot)) rc = cli_error("experiment");
        if (o.plot && db) {
            mn_popul_row *all;
            mn_popul_spec *aspec;
            int nall;
            if (stored_rows(&all, &aspec, &nall, db, &o) || mn_popul_plot(all, aspec, nall, o.plot))
                rc = cli_error("experiment");
            free(all), free(aspec);
        }
    }
    for (i = 0; i < nrow && o.prove; i++) free(runs[i]), free(proofs[i].res);
    free(specs), free(rows), free(runs), free(proofs);
    mn_db_close(db);
    return rc;
}
