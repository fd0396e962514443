/* The run layer's table of run kinds, shared by the summaries. */
#ifndef MN_RUN_INTERNAL_H
#define MN_RUN_INTERNAL_H

#include "minima.h"
#include "minima/sweep.h"

/* A kind of run a database can hold (a network on data, the population
 * model, ...; a new experiment adds an entry in src/run/kinds.c): which
 * settings are its own, and how its spurious minima are told apart. */
typedef struct {
    const char *name;
    /* 1: a summary labels its settings by their whole canonical string (as
     * their own tables read it); 0: by the options that differ between the
     * summarised settings */
    int label_is_canon;
    /* 1 when a setting (options JSON, canonical string) is of this kind */
    int (*claims)(const char *json, const char *canon);
    /* distinct spurious minima among the stored end points of a setting's
     * runs (rows, nr: mn_db_runs); -1 when they cannot be compared. build
     * and ctx are the summary's model builder (network runs). */
    mn_status (*distinct)(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                          const mn_run_row *rows, long nr, mn_model_builder build, void *ctx);
} mn_run_kind;

/* The kind of a setting (the last entry, network runs, claims the rest). */
const mn_run_kind *mn_run_kind_of(const char *json, const char *canon);

#endif
