/*
 * minima/record.h — the run record and the database that stores it: one
 * row per run, whatever kind of run (a network on data, the population
 * model, ...), below the engine that produces the rows (minima/sweep.h) and
 * the summaries that read them.
 *
 * Database schema (version 3; older versions are refused, not migrated). SQLite, WAL journal, synchronous=NORMAL:
 * runs are committed in the order of their list, as they finish, in
 * transactions at most 0.1 s apart (src/run/runner.c), so a process killed
 * at any moment (SIGKILL included) loses at most the runs in flight, those
 * finished after them, and 0.1 s of others, and never leaves a corrupt file; a re-run of the same sweep skips the runs already stored.
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
#ifndef MINIMA_RECORD_H
#define MINIMA_RECORD_H

#include <stdint.h>
#include <stdio.h>

#include "minima.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MN_DB_SCHEMA_VERSION 3

typedef struct mn_db mn_db; /* a sweep database (below) */

/* A run, as the runs table stores it. */
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
    /* Not stored either: the class, loss, gradient, spectrum and accuracy
     * above judge the original network (mn_judge: added neurons dropped);
     * these describe the defended point (mn_judgement's fields). */
    double defended_loss, defended_grad_norm;
    int defended_critical;
    double elim_output;
    int drop_changes_prediction;
    double seconds;   /* timing: excluded from comparisons */
    double *theta;  /* the end point (ntheta doubles) of a spurious run, else NULL;
                       set by mn_sweep_one (malloc'ed: the caller frees it), stored
                       by mn_db_insert, not loaded by mn_db_runs (see mn_db_point) */
    size_t ntheta;
} mn_run_row;

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
 * column (for comparisons). After class, best_loss: the lowest finite loss
 * of the setting's runs (the best found); a run stored as "minimum" (a
 * certified minimum, global value unknown) is exported with its summary
 * class against it, "best-found" or "spurious (vs best found)"
 * (mn_class_vs_best, the setting's global_tol). */
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

#ifdef __cplusplus
}
#endif
#endif
