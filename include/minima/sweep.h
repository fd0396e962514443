/*
 * minima/sweep.h — sweeps: many seeded restarts over a grid of settings,
 * each run certified and stored in SQLite; summaries with Wilson intervals;
 * CSV export, merging of databases, gnuplot figures.
 *
 * Vocabulary
 *   option    a command-line option of `minima train` given as a key (its
 *             long name, "lr") and a string value ("0.1"; "on" / "off" for
 *             flags such as "skip").
 *   setting   one assignment of options: the base options plus one value of
 *             every grid axis. Its canonical string is its options sorted by
 *             key, "key=value" joined by single spaces, flags that are off
 *             left out ("act=relu arch=2-4-1 generate=xor lr=0.1"). Values
 *             are compared as the strings given: 0.1 and 1e-1 are different
 *             settings. The canonical string is the setting's key in a
 *             database, whatever the id it got there.
 *   run       (setting, restart r in 0..R-1). Its seed is
 *             mn_sweep_seed(base seed, canonical string, r): it depends on
 *             nothing else (thread count, order, shard), so any subset of
 *             runs can be done on its own and the results merged. The seed is
 *             the --seed of `minima train`: the same options with that seed
 *             reproduce the run bit for bit (its end point; the class can
 *             differ where the sweep's drift check, mn_sweep_one, applies).
 *
 * Conventions are those of minima.h: mn_status returns with a one-line
 * mn_last_error(), outputs first, the caller owns what it passes in, every
 * *_free accepts NULL. Strings a function returns through char ** are
 * malloc'ed and owned by the caller.
 *
 * Database schema (version 3; older versions are refused, not migrated).
 * SQLite, WAL journal, synchronous=NORMAL:
 * every run is committed in its own transaction, so a process killed at any
 * moment (SIGKILL included) loses at most the runs in flight and never leaves
 * a corrupt file; a re-run of the same sweep skips the runs already stored.
 *
 *   CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
 *     -- 'schema_version' = '3', 'minima_version' = version that created it
 *   CREATE TABLE settings (
 *     id      INTEGER PRIMARY KEY,
 *     canon   TEXT NOT NULL UNIQUE,   -- canonical option string
 *     options TEXT NOT NULL,          -- the same options, a JSON object of strings
 *     data    TEXT);                  -- mn_data_key of the data its runs saw (NULL: none
 *                                     --   yet); resume and merge refuse another
 *   CREATE TABLE runs (
 *     setting     INTEGER NOT NULL REFERENCES settings(id),
 *     restart     INTEGER NOT NULL,   -- 0..R-1
 *     seed        INTEGER NOT NULL,   -- initialisation seed (63 bits)
 *     optimizer   TEXT NOT NULL,      -- "gd", ...
 *     iterations  INTEGER NOT NULL,   -- optimiser steps taken
 *     loss        REAL,               -- objective at the end point
 *     grad_norm   REAL,               -- free-gradient 2-norm there
 *     theta_norm  REAL,               -- parameter 2-norm there (mn_norm2)
 *     lambda_min  REAL,               -- extreme eigenvalues of the free-parameter
 *     lambda_max  REAL,               --   Hessian (NULL when not computed)
 *     kink_margin REAL,               -- smallest |pre-activation| of a ReLU unit
 *     class       TEXT NOT NULL,      -- mn_class_name(): global, spurious, ...
 *     near_kink   INTEGER NOT NULL,   -- 1: the Hessian is one-sided evidence
 *     accuracy    REAL,               -- training accuracy: sign(f) = y for margin losses, and
 *                                     --   for the squared loss on -1/+1 labels; argmax for
 *                                     --   softmax; NULL for the squared loss on other labels
 *     elim_a      REAL,               -- the added neuron with the largest |a| e^b at the end
 *     elim_b      REAL,               --   point (mn_elim_largest): its a, b, ||w|| and a e^b
 *     elim_w_norm REAL,               --   (+-inf when b > MN_EXP_MAX); all NULL without added
 *     elim_a_exp_b REAL,              --   neurons
 *     reason      TEXT,               -- why the run diverged (the optimiser's reason, or
 *                                     --   mn_elim_drifts' evidence) or stalled, or
 *                                     --   PGD's second-order stop; NULL otherwise
 *     seconds     REAL NOT NULL,      -- wall time of the run (timing: not compared)
 *     theta       BLOB,               -- spurious runs only: the end point, P doubles
 *                                     --   (native byte order, layout of minima.h)
 *     PRIMARY KEY (setting, restart)) WITHOUT ROWID;
 *   NaN is stored as NULL (SQLite has no NaN); infinities are stored as such.
 */
#ifndef MINIMA_SWEEP_H
#define MINIMA_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "minima.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MN_DB_SCHEMA_VERSION 3
#define MN_GRID_MAX_KEYS 64         /* distinct option keys in one grid */
#define MN_GRID_MAX_SETTINGS 1000000 /* settings in one grid */

typedef struct mn_db mn_db; /* a sweep database (below) */

/* ------------------------------------------------------------------ */
/* Statistics.                                                         */

/* Wilson score interval for k successes in n trials at normal quantile z
 * (1.959963984540054 for 95%): the p with |k/n - p| <= z sqrt(p(1-p)/n).
 * n = 0 gives [0, 1]. */
void mn_wilson(double *lo, double *hi, long k, long n, double z);
#define MN_Z95 1.959963984540054

/* ------------------------------------------------------------------ */
/* Grids: base options and axes; settings are their cartesian product.
 *
 * Order: axes keep the order in which they were first set (a config file's
 * "grid" keys in file order, then --grid axes in command-line order); the
 * LAST axis varies fastest, as in nested loops with the first axis outermost.
 * Setting i has axis j's value number (i / prod_{j' > j} n_j') % n_j.
 * A key is either base or an axis: setting a key again replaces it (an axis
 * replacing a base key or the other way round keeps its position). */
typedef struct mn_grid mn_grid;

mn_status mn_grid_alloc(mn_grid **out);
void mn_grid_free(mn_grid *g);
/* origin names where the key came from, for messages ("--grid",
 * "sweep.json: grid"); it is copied. Values are copied. An empty value list
 * or an empty value is MN_EINVAL. */
mn_status mn_grid_set_base(mn_grid *g, const char *key, const char *value, const char *origin);
mn_status mn_grid_set_axis(mn_grid *g, const char *key, const char *const *values, int nvalues,
                           const char *origin);
/* "KEY=V1,V2,..": an axis (values may not contain commas: use a config file). */
mn_status mn_grid_parse_axis(mn_grid *g, const char *spec, const char *origin);
/* A JSON config file {"base": {key: value}, "grid": {key: [values]}};
 * values are strings, numbers (written back in the shortest form that reads
 * back the same double; integers as integers) or booleans ("on" / "off").
 * Errors (MN_EIO, MN_EFORMAT) are one line naming the file and the problem. */
mn_status mn_grid_read_config(mn_grid *g, const char *path);

int mn_grid_nkeys(const mn_grid *g);
/* Key j: its name, origin, whether it is an axis, and its values. */
const char *mn_grid_key(const mn_grid *g, int j, const char **origin, int *is_axis, int *nvalues);
const char *mn_grid_value(const mn_grid *g, int j, int v);
/* Number of settings (1 with no axis); MN_EINVAL past MN_GRID_MAX_SETTINGS. */
mn_status mn_grid_nsettings(const mn_grid *g, long *n);
/* Setting i as key/value pairs in grid key order: vals[j] is the value of
 * key j (pointers into the grid, valid until it changes). */
void mn_grid_setting(const mn_grid *g, long i, const char **vals);

/* Canonical string of n options (sorted by key, "key=value" joined by
 * spaces; a key or value that is empty or holds a space, quote, backslash or
 * control character is written as a JSON string) and the same options as a
 * JSON object of strings. The caller leaves out flags that are off. A key
 * given twice is MN_EINVAL. */
mn_status mn_canon(char **canon, char **json, const char *const *keys, const char *const *vals, int n);
/* 64-bit FNV-1a of a string. */
uint64_t mn_hash_str(const char *s);
/* A run's seed: mn_seed_derive(base, {mn_hash_str(canon), restart}, 2)
 * with the top bit cleared (it fits SQLite's signed INTEGER). */
uint64_t mn_sweep_seed(uint64_t base, const char *canon, long restart);

/* ------------------------------------------------------------------ */
/* Runs.                                                               */
typedef struct {
    int64_t setting; /* settings.id */
    long restart;
    uint64_t seed;
    char optimizer[16];
    long iterations;
    double loss, grad_norm, lambda_min, lambda_max, kink_margin;
    mn_class cls;
    int near_kink;
    double accuracy;
    double theta_norm; /* 2-norm of the end point (mn_norm2), every run */
    /* The added neuron with the largest |a| e^b (mn_elim_largest); NaN
     * without added neurons. */
    double elim_a, elim_b, elim_w_norm, elim_a_exp_b;
    char reason[320]; /* why the run diverged or stalled, or PGD's stop; "" otherwise (NULL in the database) */
    /* Not stored: the optimiser's final state ("converged", "max-steps",
     * "stalled", "diverged"), and the polish's steps and the gradient norm
     * before it (0 and NaN without a polish). */
    char status[16];
    long polish_iterations;
    double grad_norm_before_polish;
    double seconds;   /* timing: excluded from comparisons */
    double *theta;  /* the end point (ntheta doubles) of a spurious run, else NULL;
                       set by mn_sweep_one (malloc'ed: the caller frees it), stored
                       by mn_db_insert, not loaded by mn_db_runs (see mn_db_point) */
    size_t ntheta;
} mn_run_row;

/* Everything one setting's runs need. model and data are shared read-only
 * by the threads: build them once per setting. */
typedef struct {
    const mn_model *model;
    const mn_data *data;
    mn_opt_params opt;   /* its seed is replaced per run (see mn_sweep_one) */
    int polish;          /* 1: a Newton polish after the run, as `minima train --polish` */
    long steps;          /* optimiser steps at most */
    double gtol;         /* stop when the free-gradient norm <= gtol */
    double frozen_value; /* initial weight of frozen layers */
    uint64_t seed;       /* base seed */
    mn_cert_opts cert;   /* certification of the end point */
    const char *canon;   /* canonical option string */
    int64_t db_id;       /* settings.id in the database */
} mn_sweep_setting;

/* One run, as `minima train --seed SEED` with the same options does it
 * (SEED = the run's seed): mn_model_init with SEED; the optimiser's own
 * seed (SGD order, PGD noise) mn_seed_derive(SEED, {0x6f7074}, 1); iterate
 * until mn_optim_test leaves RUNNING or `steps` steps; with polish, Newton
 * from there (gtol 0, at most 100 steps) and the state judged against gtol
 * at its end; then mn_certify (diverged when the state is DIVERGED). work
 * must belong to s->model with room for the data. Fills every field of row
 * (iterations: the main run's steps; seconds included).
 *
 * The eliminating neuron's failure mode. With added neurons, the point after
 * steps / 2 iterations is kept; when the run stops on the step cap (state
 * still RUNNING), mn_elim_drifts compares it with the end point, and if some
 * added neuron drifts (|a| -> 0, b -> +inf, |a| e^b finite) the run is
 * DIVERGED with mn_elim_drifts' evidence as its reason, and no polish is
 * done (there is no critical point to polish to). A run the optimiser calls
 * DIVERGED gets mn_optim_why as its reason.
 *
 * Drift to infinity along a flat valley, with or without added neurons: the
 * parameter norm and loss are noted at iterations growing by ~1.1x; when,
 * from the last one at or before end / 1.2 to the end of the main run, the
 * norm grew by more than a quarter while the loss fell by less than 1e-4 of
 * its value, the run is DIVERGED (no polish) with both numbers as its
 * reason: gradient methods stop there because the gradient vanishes at
 * infinity (tanh units saturating, huge output weights cancelling), not at
 * a minimum. And a certified end point (not global) of a tanh or sigmoid
 * network whose every hidden unit is past mn_saturation_z on every sample
 * is DIVERGED with that evidence.
 *
 * accuracy: the certificate's, and for the squared loss on data whose labels
 * are all -1 or +1 the fraction with sign(f) = y (the certificate leaves it
 * NaN; the class does not use it). */
mn_status mn_sweep_one(mn_run_row *row, const mn_sweep_setting *s, long restart, mn_work *work);
/* The same run from an explicit initialisation seed (what `minima train
 * --seed SEED` calls; s->seed, s->canon and s->db_id are not used). end (P),
 * when not NULL, gets the end point. row->restart is -1. */
mn_status mn_run_seeded(mn_run_row *row, const mn_sweep_setting *s, uint64_t seed, mn_work *work, double *end);

typedef struct {
    long restarts;    /* R >= 1 */
    int threads;      /* OpenMP threads >= 1 */
    long shard, nshards; /* only runs with (setting index * R + restart) % nshards == shard */
    FILE *progress;   /* progress messages (NULL: none) */
    int tty;          /* 1: a redrawn one-line bar; 0: a plain line every ~10% or 5 s;
                         -1: decide by isatty(fileno(progress)) */
} mn_sweep_opts;

typedef struct {
    long total;   /* runs of this shard */
    long skipped; /* already in the database */
    long done;    /* run and stored now */
    double seconds;
} mn_sweep_stats;

/* Runs every run of the shard not yet in db, `threads` at a time (each with
 * its own mn_work and optimiser; OpenBLAS at one thread meanwhile), and
 * commits each finished run in its own transaction from one thread at a
 * time. Results do not depend on threads, order or sharding. On failure the
 * runs finished so far stay stored. First, every setting with data has its
 * mn_data_key checked against the stored one (mn_db_setting_data): other
 * data under the same options is MN_EINVAL before any run. */
mn_status mn_sweep_run(mn_sweep_stats *stats, mn_db *db, const mn_sweep_setting *settings, int nsettings,
                       const mn_sweep_opts *opts);

/* ------------------------------------------------------------------ */
/* Databases.                                                          */

/* Opens a sweep database and checks its schema version. MN_EIO names the
 * path and SQLite's reason; MN_EFORMAT a file that is not a minima database.
 * create = 0: read-only (summary, export; read-only storage works), nothing
 *   is ever written; storing a setting or runs then fails with MN_EINVAL.
 * create = 1: for writing. The schema is created only in a file with no
 *   tables (a new one); any other SQLite file must carry minima's schema
 *   version and pass quick_check, else it is refused untouched. Paths SQLite
 *   would not keep as a file ("", ":memory:", "file:" URIs) are refused. */
mn_status mn_db_open(mn_db **out, const char *path, int create);
void mn_db_close(mn_db *db);
/* Closes db and, when mn_db_open created its file, removes the file and its
 * -wal/-shm/-journal companions (a failed merge leaves no empty output). */
void mn_db_discard(mn_db *db);
/* The id of the setting with this canonical string, inserted if new. */
mn_status mn_db_setting(int64_t *id, mn_db *db, const char *canon, const char *json);
/* The data a setting's runs are made with (mn_data_key): stored when the
 * setting has none yet; MN_EINVAL, one line naming the setting (canon) and
 * both keys, when it has another -- resuming would mix two data sets. */
mn_status mn_db_setting_data(mn_db *db, int64_t setting, const char *canon, const char *key);
/* done[r] = 1 for the restarts r < restarts already stored for a setting. */
mn_status mn_db_done(unsigned char *done, mn_db *db, int64_t setting, long restarts);
/* Inserts n rows in one transaction; a row whose key is stored is skipped. */
mn_status mn_db_insert(mn_db *db, const mn_run_row *rows, int n);
/* Sets the lambda_min of stored runs (restarts[i] gets values[i]; NaN
 * stores NULL) in one transaction: for values known only after a whole
 * setting is in (the population experiment's eigenvalue per distinct minimum). */
mn_status mn_db_set_lambda_min(mn_db *db, int64_t setting, const long *restarts, const double *values, int n);
/* Adds IN's settings (matched by canonical string) and runs to db, skipping
 * runs whose (canonical string, restart) is stored; `differing` counts the
 * skipped ones whose results (timing aside) differ from the stored ones.
 * A setting whose data key (mn_db_setting_data) differs between the two is
 * MN_EINVAL, one line naming it, and nothing is merged. */
mn_status mn_db_merge(mn_db *db, const char *in_path, long *added, long *skipped, long *differing);
/* CSV, header first, one row per run ordered by canonical string and
 * restart; the columns of the runs table (theta left out) after the setting
 * id and its canonical string; doubles as %.17g, text (options, reason) in
 * double quotes, NULL as an empty field. timings = 0 leaves out the seconds
 * column (for comparisons). */
mn_status mn_db_export_csv(mn_db *db, FILE *out, int timings);
/* The stored end point of a run (*theta malloc'ed, *n doubles), or *theta =
 * NULL when none is stored (not a spurious run). */
mn_status mn_db_point(double **theta, size_t *n, mn_db *db, int64_t setting, long restart);
/* The runs of one setting ordered by restart (*rows malloc'ed; theta NULL). */
mn_status mn_db_runs(mn_run_row **rows, long *n, mn_db *db, int64_t setting);
/* All settings ordered by id: ids, canonical strings and JSON (malloc'ed
 * arrays of malloc'ed strings; free with mn_db_settings_free). */
mn_status mn_db_settings(int64_t **ids, char ***canon, char ***json, int *n, mn_db *db);
void mn_db_settings_free(int64_t *ids, char **canon, char **json, int n);

/* ------------------------------------------------------------------ */
/* Summaries.                                                          */
typedef struct {
    int64_t id;
    char *canon, *json; /* the setting's options */
    char *label;        /* the options that differ between the summarised settings */
    long n;             /* runs */
    long count[MN_NCLASS];
    double frac[MN_NCLASS], lo[MN_NCLASS], hi[MN_NCLASS]; /* 95% Wilson */
    long nspurious;
    double spurious_lambda_min; /* means over spurious minima (NaN when none) */
    double spurious_loss;
    long distinct_spurious; /* distinct spurious minima up to hidden-unit symmetries:
                               the mn_catalogue of their stored end points with
                               MN_CATALOGUE_TOL; -1 when no model was given */
    long distinct_losses;   /* spurious losses that differ by > MN_DISTINCT_RTOL relative */
    long near_kink;         /* runs ending near a ReLU kink */
    double mean_seconds;
    long zero_error;        /* runs ending with training accuracy 1 (any class) */
    long with_accuracy;     /* runs with an accuracy (not NULL) */
    /* Medians over the runs (the middle two averaged for an even count): of
     * the added neurons' |a|, |a| e^b and b (mn_run_row.elim_*; NaN when the
     * setting has no added neurons), of the iterations, of the seconds, and
     * of the seconds per iteration (runs with at least one iteration; the
     * cost of a step, whatever made a run stop early). */
    double median_abs_a, median_abs_a_exp_b, median_b;
    double median_iterations, median_seconds, median_seconds_per_iteration;
} mn_summary;
#define MN_DISTINCT_RTOL 1e-9
#define MN_CATALOGUE_TOL 1e-4

/* Builds the model of a setting from its options (the settings table's JSON)
 * for the catalogue; the summary frees it. A failure only leaves
 * distinct_spurious at -1. */
typedef mn_status (*mn_model_builder)(mn_model **model, const char *json, void *ctx);

/* Summaries of the settings with the given ids (ids NULL: every setting in
 * the database, in id order). build may be NULL (no catalogue). */
mn_status mn_summarize(mn_summary **out, int *n, mn_db *db, const int64_t *ids, int nids, mn_model_builder build,
                       void *ctx);
void mn_summary_free(mn_summary *s, int n);

/* Figures by gnuplot: PREFIX.png and PREFIX.svg with the class fractions per
 * setting (grouped bars, Wilson 95% error bars) and the final losses per
 * setting (points, log scale). MN_EIO when gnuplot is missing or fails. */
mn_status mn_plot_summary(const mn_summary *s, int n, mn_db *db, const char *prefix);

#ifdef __cplusplus
}
#endif
#endif
