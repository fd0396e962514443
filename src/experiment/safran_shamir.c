/* The Safran-Shamir experiment's plan (Tables 1 and 2 of Safran & Shamir,
 * ICML 2018, on the closed-form population loss of minima/popul.h): per
 * (k, n = k + extra, eliminator) row, `restarts` GD runs from Xavier
 * initialisations, all rows as one pool of restarts, stored in and resumed
 * from a database; and the rows stored there, for the figure. */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "minima/dist.h"
#include "minima/experiment.h"
#include "internal.h"

void mn_ss_plan_default(mn_ss_plan *p)
{
    memset(p, 0, sizeof *p);
    for (int v = 6; v <= 20; v++) p->k[p->nk++] = v;
    p->extra[0] = 0, p->extra[1] = 1, p->nextra = 2;
    p->restarts = 1000;
    p->seed = 1;
    p->lambda = 1e-2;
    p->elim[0] = 0, p->nelim = 1;
    mn_popul_opts_default(&p->opts);
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

int mn__exp_parse_list(const char *s, long lo, long hi, int *list, int *count, int max)
{
    char buf[512];
    if (strlen(s) >= sizeof buf || !*s) return 0;
    strcpy(buf, s);
    char *dots = strstr(buf, "..");
    int n = 0;
    if (dots) {
        *dots = 0;
        long a, b;
        if (!parse_int(buf, lo, hi, &a) || !parse_int(dots + 2, lo, hi, &b) || b < a || b - a >= max)
            return 0;
        for (long v = a; v <= b; v++) list[n++] = (int)v;
        *count = n;
        return 1;
    }
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        long v;
        if (n >= max || !parse_int(tok, lo, hi, &v)) return 0;
        list[n++] = (int)v;
    }
    if (n == 0 || s[strlen(s) - 1] == ',') return 0;
    *count = n;
    return 1;
}

/* "none", "liang" or both, in the order given; each value once. */
static int parse_elims(const char *s, int *elim, int *count)
{
    char buf[64];
    if (strlen(s) >= sizeof buf) return 0;
    strcpy(buf, s);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        mn_elim e;
        if (n == 2 || mn_elim_parse(&e, tok) || e == MN_ELIM_PER_OUTPUT) return 0;
        elim[n] = e == MN_ELIM_LIANG;
        if (n == 1 && elim[1] == elim[0]) return 0;
        n++;
    }
    if (n == 0 || s[strlen(s) - 1] == ',') return 0;
    *count = n;
    return 1;
}

mn_status mn_ss_plan_set(mn_ss_plan *p, const char *name, const char *v)
{
    const mn_option *o;
    mn_status st = mn_option_of(&o, name, MN_CMD_SAFRAN, "experiment safran-shamir", v);
    if (st) return st;
    long l;
    if (!strcmp(name, "no-shortcuts")) {
        p->opts.early_global = p->opts.newton = 0;
    } else if (!strcmp(name, "prove")) {
        p->prove = 1;
    } else if (!strcmp(name, "k")) {
        if (!mn__exp_parse_list(v, 1, MN_POPUL_MAX_K, p->k, &p->nk, MN_SS_MAX_LIST))
            st = mn_fail(MN_EINVAL, "--k '%s': expected A..B, A or A,B,.. with values 1..%d", v, MN_POPUL_MAX_K);
    } else if (!strcmp(name, "extra")) {
        if (!mn__exp_parse_list(v, 0, 64, p->extra, &p->nextra, MN_SS_MAX_LIST))
            st = mn_fail(MN_EINVAL, "--extra '%s': expected A..B, A or A,B,.. with n - k values 0..64", v);
    } else if (!strcmp(name, "eliminate")) {
        if (!parse_elims(v, p->elim, &p->nelim))
            st = mn_fail(MN_EINVAL, "--eliminate '%s': expected none, liang or none,liang", v);
    } else if (!strcmp(name, "restarts")) {
        if (!(st = mn_option_int(&l, o, v))) p->restarts = (int)l;
    } else if (!strcmp(name, "threads")) {
        if (!(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    } else if (!strcmp(name, "max-iter")) {
        if (!(st = mn_option_int(&l, o, v))) p->opts.max_iter = l;
    } else if (!strcmp(name, "seed")) {
        st = mn_option_seed(&p->seed, o, v);
    } else if (!strcmp(name, "step")) {
        st = mn_option_real(&p->opts.step, o, v);
    } else if (!strcmp(name, "lambda")) {
        st = mn_option_real(&p->lambda, o, v);
    } else if (!strcmp(name, "db")) {
        p->db_path = v;
    } else if (!strcmp(name, "plot")) {
        p->plot = v;
    }
    return st;
}

mn_status mn_ss_plan_check(const mn_ss_plan *p)
{
    for (int a = 0; a < p->nk; a++)
        for (int b = 0; b < p->nextra; b++)
            if (p->k[a] + p->extra[b] > MN_POPUL_MAX_N)
                return mn_fail(MN_EINVAL, "k + extra = %d exceeds the largest student (%d units)",
                               p->k[a] + p->extra[b], MN_POPUL_MAX_N);
    return MN_OK;
}

/* Every Safran-Shamir row stored in db with the plan's seed and shortcuts
 * (other options, e.g. max-iter, may differ), rebuilt from their stored runs
 * (restarts 0..m-1 all present; nothing is run): what the figure draws with
 * a database, so one figure can hold rows from several calls. */
static mn_status stored_rows(mn_popul_row **rows_out, mn_popul_spec **specs_out, int *nout, mn_db *db,
                             const mn_ss_plan *p)
{
    int64_t *ids = NULL;
    char **canon = NULL, **json = NULL;
    int ns = 0, m = 0;
    *rows_out = NULL, *specs_out = NULL, *nout = 0;
    mn_status st = mn_db_settings(&ids, &canon, &json, &ns, db);
    if (st) return st;
    mn_popul_row *rows = malloc((size_t)(ns ? ns : 1) * sizeof *rows);
    mn_popul_spec *specs = malloc((size_t)(ns ? ns : 1) * sizeof *specs);
    if (!rows || !specs) st = mn_fail(MN_ENOMEM, "out of memory");
    for (int i = 0; i < ns && !st; i++) {
        mn_popul_spec sp;
        mn_popul_opts op;
        uint64_t seed;
        if (mn_popul_setting_parse(&sp, &op, &seed, json[i], canon[i]) || seed != p->seed ||
            op.early_global != p->opts.early_global || op.newton != p->opts.newton)
            continue; /* another experiment's or another call's row */
        op.dedup_tol = p->opts.dedup_tol;
        mn_run_row *dr = NULL;
        long nr = 0;
        if ((st = mn_db_runs(&dr, &nr, db, ids[i]))) break;
        long have = 0;
        while (have < nr && dr[have].restart == have) have++;
        free(dr);
        if (have == 0) continue;
        if ((st = mn_popul_experiment_db(&rows[m], NULL, &sp, 1, &op, (int)have, p->seed, p->threads, db))) break;
        specs[m++] = sp;
    }
    mn_db_settings_free(ids, canon, json, ns);
    if (st) free(rows), free(specs), m = 0, rows = NULL, specs = NULL;
    *rows_out = rows, *specs_out = specs, *nout = m;
    return st;
}

void mn_ss_result_free(mn_ss_result *r)
{
    if (!r) return;
    for (int i = 0; r->proofs && i < r->n; i++) free(r->proofs[i]);
    free(r->proofs), free(r->nproofs), free(r->nproved), free(r->prove_seconds);
    free(r->specs), free(r->rows);
    free(r);
}

mn_status mn_experiment_safran_shamir(mn_ss_result **out, const mn_ss_plan *p)
{
    *out = NULL;
    mn_status st = mn_ss_plan_check(p);
    if (st) return st;
    /* the database before any work: a bad path fails at once (in an MPI
     * job rank 0 alone writes it, and alone proves and plots: minima/dist.h) */
    mn_db *db = NULL;
    const int worker = mn_dist_rank() > 0;
    if (p->db_path && !worker && (st = mn_db_open(&db, p->db_path, 1))) return st;
    /* rows in the order asked for: eliminator values, then extra values,
     * each over the k values */
    const int nrow = p->nk * p->nextra * p->nelim;
    mn_ss_result *r = calloc(1, sizeof *r);
    if (r) r->specs = malloc((size_t)nrow * sizeof *r->specs), r->rows = malloc((size_t)nrow * sizeof *r->rows);
    if (!r || !r->specs || !r->rows) {
        mn_ss_result_free(r);
        mn_db_close(db);
        return mn_fail(MN_ENOMEM, "out of memory for %d rows", nrow);
    }
    r->n = nrow;
    int i = 0;
    for (int e = 0; e < p->nelim; e++)
        for (int b = 0; b < p->nextra; b++)
            for (int a = 0; a < p->nk; a++)
                r->specs[i++] = (mn_popul_spec){.n = p->k[a] + p->extra[b], .k = p->k[a], .elim = p->elim[e],
                                                .lambda = p->elim[e] ? p->lambda : 0};
    /* with prove, every run of every row is kept for mn_prove_popul_row */
    mn_popul_run **runs = p->prove ? calloc((size_t)nrow, sizeof *runs) : NULL;
    int nomem = p->prove && !runs;
    if (p->prove && !nomem) {
        r->proofs = calloc((size_t)nrow, sizeof *r->proofs);
        r->nproofs = calloc((size_t)nrow, sizeof *r->nproofs);
        r->nproved = calloc((size_t)nrow, sizeof *r->nproved);
        r->prove_seconds = calloc((size_t)nrow, sizeof *r->prove_seconds);
        nomem = !r->proofs || !r->nproofs || !r->nproved || !r->prove_seconds;
        for (int q = 0; !nomem && q < nrow; q++) nomem = !(runs[q] = malloc((size_t)p->restarts * sizeof **runs));
    }
    st = nomem ? mn_fail(MN_ENOMEM, "out of memory for the runs of %d rows", nrow)
               : mn_popul_experiment_db(r->rows, runs, r->specs, nrow, &p->opts, p->restarts, p->seed, p->threads,
                                        db);
    const double tp = omp_get_wtime();
    for (int q = 0; !st && p->prove && !worker && q < nrow; q++) {
        const double t1 = omp_get_wtime();
        st = mn_prove_popul_row(&r->proofs[q], &r->nproofs[q], &r->specs[q], &p->opts, runs[q], p->restarts, p->seed,
                                p->threads);
        for (int d = 0; !st && d < r->nproofs[q]; d++) r->nproved[q] += r->proofs[q][d].spurious;
        r->prove_seconds[q] = omp_get_wtime() - t1;
    }
    r->prove_total_seconds = omp_get_wtime() - tp;
    for (int q = 0; runs && q < nrow; q++) free(runs[q]);
    free(runs);
    if (!st && p->plot && !db && !worker) st = mn_popul_plot(r->rows, r->specs, nrow, p->plot);
    if (!st && p->plot && db) {
        mn_popul_row *all;
        mn_popul_spec *aspec;
        int nall;
        const int solo = mn_dist_solo(1); /* rank 0's own reading */
        st = stored_rows(&all, &aspec, &nall, db, p);
        mn_dist_solo(solo);
        if (!st) st = mn_popul_plot(all, aspec, nall, p->plot);
        free(all), free(aspec);
    }
    mn_db_close(db);
    if (st) {
        mn_ss_result_free(r);
        return st;
    }
    *out = r;
    return MN_OK;
}
