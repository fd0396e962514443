/* Shared by the experiment plans of src/experiment/. Not public.
 * Grid experiments (eliminate.c, arena.c) run a grid of network settings
 * through the sweep runner: a setting as option pairs, and the
 * build -> store -> run -> summarise sequence. */
#ifndef MN_EXPERIMENT_INTERNAL_H
#define MN_EXPERIMENT_INTERNAL_H

#include <stdio.h>

#include "minima/record.h"
#include "minima/sweep.h"
#include "run/internal.h"

#define MN_XSET_MAXO 16 /* options of one setting */

/* One setting as option pairs, and what it builds. */
typedef struct {
    int nopt;
    const char *key[MN_XSET_MAXO];
    char val[MN_XSET_MAXO][256];
    mn_data *d;
    mn_model *model;
    char *canon, *json;
    /* 1: the global value is known to be 0. Declared here, not in the
     * options: the canonical string, hence every run's seed, stays that of
     * earlier databases, and the stored classes (spurious vs minimum) say
     * which; 0: unknown, minima are classified against the best found. */
    int global_zero;
} mn_xset;

/* Sets key to the formatted value (a later value replaces an earlier one). */
void mn_xset_add(mn_xset *s, const char *key, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Samples (n; NULL: not asked), features and label columns of the data the
 * pairs of s describe (s's options need not name a model). */
mn_status mn_xset_probe(int *n, int *d, int *m, const mn_xset *s);

/* What a grid run gives back. */
typedef struct {
    mn_summary *summary; /* (n) mn_summarize, no catalogue */
    int n;
    long done, skipped;
    double seconds; /* wall time of the runs */
} mn_xset_result;

/* Builds every setting e[0..ns) (a bad one fails here, naming it, before the
 * database is touched), stores them in db_path, runs what is missing
 * (restarts each, threads at a time), summarises into out (the caller frees
 * out->summary with mn_summary_free), and leaves the database open in *db
 * for figures (the caller closes it; NULL on failure). ids: (ns) the
 * settings' database ids. e's models and data are freed before returning. */
mn_status mn_xset_run(mn_xset_result *out, mn_db **db, int64_t *ids, mn_xset *e, int ns, const char *db_path,
                      long restarts, int threads, FILE *progress);

/* "A..B", "A" or "A,B,C" into list (values lo..hi, at most max of them);
 * 0 when s is not such a list. */
int mn__exp_parse_list(const char *s, long lo, long hi, int *list, int *count, int max);

/* "a,b,c": distinct finite numbers in [lo, hi], at most max of them, into
 * list (*count of them). 1 on success, 0 on any fault (empty, a trailing
 * comma, a word, a value out of range or given twice, too many). */
int mn_parse_reals(const char *s, double lo, double hi, double *list, int max, int *count);
/* The same for integers in [lo, hi]. */
int mn_parse_ints(const char *s, int lo, int hi, int *list, int max, int *count);

/* The options every dynamics plan has (quick, restarts, threads, max-iter,
 * seed, db, plot), set from the option table's entry o: 1 when `name` was
 * one of them (*st says whether its value was good), 0 otherwise. */
typedef struct {
    int *quick, *restarts, *threads;
    long *max_iter;
    uint64_t *seed;
    const char **db, **plot;
} mn_exp_common;
int mn_exp_set_common(mn_status *st, const mn_exp_common *c, const mn_option *o, const char *v);

/* The runs of one setting stored in db (restarts < nr) into runs[0..nr-1],
 * each with its end point (NULL when none is stored); done[r] = 1 for
 * them; *loaded grows by their number. */
mn_status mn_exp_load(mn_run_row *runs, unsigned char *done, long *loaded, mn_db *db, int64_t setting, int nr);

/* One job of an experiment: fills row (its setting, restart, seed and
 * results; end point malloc'ed, every job has one). Called from several
 * threads at once. */
typedef mn_status (*mn_exp_job)(void *ctx, long job, mn_run_row *row);

/* A setting of a dynamics experiment as a setting of its run kind
 * (run/internal.h; the kind is defined in the experiment's file with the
 * mn_exp_kind_* functions below): restart r of it is job first + r, whose
 * row, end point included, lands in runs[r] (by the run in one process, by
 * the kind's take on rank 0 of an MPI job). The fields the experiments do
 * not measure are NaN (lambda_min, lambda_max, accuracy, the added neuron)
 * and kink_margin INFINITY unless the job sets them. */
typedef struct {
    mn_exp_job job;
    void *ctx;
    long first;
    mn_run_row *runs; /* (restarts) */
    size_t npoint;    /* doubles of every run's end point */
} mn_exp_setting;
mn_status mn_exp_kind_run(mn_run_row *row, const void *setting, long restart, void *scratch);
size_t mn_exp_kind_npoint(const void *setting);
void mn_exp_kind_take(const mn_run_row *row, const void *setting);

/* Runs list[0..n) (runs of mn_exp_setting settings; those stored in db
 * are skipped: load them first with mn_exp_load) on the runner with
 * `threads` threads, each stored in db (NULL: none), so a killed experiment
 * resumes. key: a hash of the settings' canonical strings and restarts
 * (every rank of an MPI job passes the same; rank 0 alone a database). The
 * first error stops the runs and is returned; *ndone grows by the runs
 * done. On rank 0, every listed run's row is then in its setting's runs. */
mn_status mn_exp_run(long *ndone, const mn_pending *list, long n, int threads, mn_db *db, uint64_t key);

#endif
