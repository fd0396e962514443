/* The run layer's table of run kinds and its runner, shared by the sweep,
 * the population experiment and the summaries. */
#ifndef MN_RUN_INTERNAL_H
#define MN_RUN_INTERNAL_H

#include "minima.h"
#include "minima/sweep.h"

/* A kind of run a database can hold (a network on data, the population
 * model, ...; a new experiment adds an entry in src/run/kinds.c): which
 * settings are its own, how one run of a setting is made, and how its
 * spurious minima are told apart. */
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
    /* One thread's scratch for runs of a setting (the kind's own struct:
     * mn_sweep_setting for network runs, mn_popul_task for population runs),
     * and its release (NULL is fine). */
    mn_status (*scratch_alloc)(void **scratch, const void *setting);
    void (*scratch_free)(void *scratch);
    /* Run `restart` of a setting with a thread's scratch: pure, its result
     * a function of the setting and the restart alone (the seed derived
     * from them). Fills row[0 .. rows) (restart included; theta NULL or
     * malloc'ed: the runner frees it; the runner sets each row's setting
     * id) and may write the setting's own result slot for this restart,
     * nothing else. */
    mn_status (*run)(mn_run_row *row, const void *setting, long restart, void *scratch);
    /* The most doubles the end points of a run of the setting have, all
     * its rows together (the size of a run's flat bytes when runs travel
     * between MPI ranks). */
    size_t (*npoint)(const void *setting);
    /* Rank 0 of an MPI job: a run made by any rank (its rows, thetas
     * included), into the setting's result slot for its restart, as `run`
     * writes it (NULL: the kind keeps no results outside the database). */
    void (*take)(const mn_run_row *row, const void *setting);
    /* Rows one run of the setting fills, 1 .. 256, each of its own database
     * setting (mn_pending.ids), committed in one transaction (NULL: one
     * row, of mn_pending.db_id). */
    int (*rows)(const void *setting);
} mn_run_kind;

/* The experiments' kinds, each defined beside its experiment
 * (src/experiment/<name>.c) and listed in src/run/kinds.c's table. */
extern const mn_run_kind mn_kind_saddles;       /* experiment saddles: a run fills one row per saddle */
extern const mn_run_kind mn_kind_balance;       /* experiment balance */
extern const mn_run_kind mn_kind_residual;      /* experiment residual */
extern const mn_run_kind mn_kind_implicit_bias; /* experiment implicit-bias */

/* 1 when the canonical string has the pair experiment=`experiment` (a
 * kind's claims). */
int mn_run_canon_is(const char *canon, const char *experiment);
/* A kind's distinct for models without a symmetry rule: 0 when no run is
 * spurious, -1 (cannot be compared) otherwise. */
mn_status mn_run_distinct_none(long *count, mn_db *db, int64_t setting, const char *json, const char *canon,
                               const mn_run_row *rows, long nr, mn_model_builder build, void *ctx);

/* The kind of a setting (the last entry, network runs, claims the rest). */
const mn_run_kind *mn_run_kind_of(const char *json, const char *canon);
/* The kind called `name` ("network", "population", "regions"); NULL when none is. */
const mn_run_kind *mn_run_kind_named(const char *name);

/* ------------------------------------------------------------------ */
/* The runner: the only engine. A list of pending runs -> which of them are
 * this process's (the shard) and not yet stored (resume) -> each run once,
 * by the run pool of minima/dist.h (the threads of this process, or every
 * rank of an MPI job: rank 0 holds the list, hands the runs out and alone
 * commits) -> the finished rows committed to the database in list order. */

/* One run of the list. */
typedef struct {
    const mn_run_kind *kind;
    const void *setting; /* the kind's setting; runs of one setting share a thread's scratch */
    int64_t db_id;       /* settings.id (resume and commit; ignored without a database) */
    long restart;
    /* A kind of several rows per run: row i's settings.id (kind->rows of
     * them; resume asks db_id, which one of them must be). NULL: db_id. */
    const int64_t *ids;
} mn_pending;

typedef struct {
    int threads;         /* OpenMP threads >= 1 */
    mn_db *db;           /* NULL: nothing resumed, nothing committed */
    long shard, nshards; /* this process runs list index k when k % nshards == shard (1 shard: all) */
    int batch;           /* rows per transaction at most (0: 256); 1 waits for no time (tests) */
    /* Hash of what defines the list (the settings' canonical strings, the
     * restarts): in an MPI job every rank builds the same list and passes
     * the same key (minima/dist.h); rank 0 alone passes a database. */
    uint64_t key;
    /* Once the runs to do are known (steps 1 and 2), before any runs: how
     * many are to run and how many are stored already. May be NULL. */
    void (*started)(void *ctx, long todo, long stored, int threads);
    /* After each run, one call at a time, from the thread that ran it, in
     * finishing order (progress, timing; not part of any result): k its
     * index in the list, ndone the runs done by now. May be NULL. */
    void (*finished)(void *ctx, long k, long ndone);
    void *ctx;
} mn_runner_opts;

/* What happened to each listed run (state[k], when the caller asks). */
enum { MN_PENDING_OTHER = 0, MN_PENDING_STORED = 1, MN_PENDING_RUN = 2 };

typedef struct {
    long total;   /* runs of this shard (runs, not rows) */
    long skipped; /* already in the database */
    long done;    /* run (and committed) now */
} mn_runner_stats;

/* Runs the list. OpenBLAS is held at one thread meanwhile (restored after).
 * Commits go in list order: the finished rows of the list's
 * longest finished prefix are committed as a run finishes, in one
 * transaction, once 0.1 s has passed since the last commit (or 256 rows
 * wait): slow runs get a transaction each, fast ones (the population
 * model's, ~1e-4 s) share one. A kill loses the runs in flight, the rows
 * finished after the first of them (held for the list order), and at most
 * 0.1 s of the others. The first failure stops the runs not yet started; what finished is committed
 * all the same and the failure returned. state (n, may be NULL) receives
 * MN_PENDING_* per run. Results do not depend on threads, shards or the
 * finishing order: each run depends only on its setting and restart.
 * In an MPI job of N > 1 ranks every rank calls it with the same list (the
 * same key); stats and state are rank 0's (zero on the others), and each
 * finished run reaches rank 0's kind->take. */
mn_status mn_runner_run(mn_runner_stats *stats, unsigned char *state, const mn_pending *list, long n,
                        const mn_runner_opts *opts);

#endif
