/* Shared by the experiments that run a grid of network settings through the
 * sweep runner (eliminate.c, arena.c): a setting as option pairs, and the
 * build -> store -> run -> summarise sequence. */
#ifndef MN_EXPERIMENT_INTERNAL_H
#define MN_EXPERIMENT_INTERNAL_H

#include <stdio.h>

#include "minima/sweep.h"

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

/* Features and label columns of the data the pairs of s describe (s's
 * options need not name a model). */
mn_status mn_xset_probe(int *d, int *m, const mn_xset *s);

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

#endif
