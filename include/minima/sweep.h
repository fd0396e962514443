/*
 * minima/sweep.h — the run layer and sweeps: the option table of every
 * command (parsed once, src/run/options.c), the setting recipe (options ->
 * data, model, run parameters, src/run/setting.c), the network run and the
 * parallel runner (many seeded restarts over a grid of settings, each run
 * certified and stored in SQLite); summaries with Wilson intervals, gnuplot
 * figures.
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
 * Databases and the run record: minima/record.h.
 */
#ifndef MINIMA_SWEEP_H
#define MINIMA_SWEEP_H

#include <stdint.h>
#include <stdio.h>

#include "minima.h"
#include "minima/record.h"

#ifdef __cplusplus
extern "C" {
#endif

#define MN_GRID_MAX_KEYS 64         /* distinct option keys in one grid */
#define MN_GRID_MAX_SETTINGS 1000000 /* settings in one grid */


/* ------------------------------------------------------------------ */
/* Statistics.                                                         */

/* Wilson score interval for k successes in n trials at normal quantile z
 * (1.959963984540054 for 95%): the p with |k/n - p| <= z sqrt(p(1-p)/n).
 * n = 0 gives [0, 1]. */
void mn_wilson(double *lo, double *hi, long k, long n, double z);
#define MN_Z95 1.959963984540054
/* Median of the values among v[0..n) that are not NaN (v is reordered;
 * infinities count; the middle two averaged for an even count); NaN when
 * none. */
double mn_median(double *v, long n);

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
/* x in the shortest %g form (6 to 17 digits) that reads back as x: numbers
 * as option values of canonical strings (0.1 as "0.1", 10 as "10"). */
void mn_num_shortest(char *buf, size_t n, double x);
/* mn_canon of a network run's options (sweep, the grid experiments), with
 * the defaults that moved after databases were first written spelled out:
 * lambda (0.01 until issue 11) whenever an added neuron is on and lambda is
 * not given. Rows stored under the old default keep their old string, so
 * they are a different setting from the new default's, never mixed with
 * it on resume. */
mn_status mn_canon_run(char **canon, char **json, const char *const *keys, const char *const *vals, int n);
/* The same with the options in the order given (an experiment's own tables
 * read its settings in their order: the population runs'
 * mn_popul_canon). */
mn_status mn_canon_listed(char **canon, char **json, const char *const *keys, const char *const *vals, int n);
/* 64-bit FNV-1a of a string. */
uint64_t mn_hash_str(const char *s);
/* A run's seed: mn_seed_derive(base, {mn_hash_str(canon), restart}, 2)
 * with the top bit cleared (it fits SQLite's signed INTEGER). */
uint64_t mn_sweep_seed(uint64_t base, const char *canon, long restart);

/* ------------------------------------------------------------------ */
/* The option table: every option of every command, once, with its kind,
 * range and help; values are parsed only by the functions below, and every
 * rejection is one mn_fail line naming the option ("--lr 'fast' is not a
 * finite number"). An option name may appear twice when its two entries
 * belong to disjoint commands (--k: the teacher generator's K, or the
 * Safran-Shamir list of teacher sizes). */
enum {
    MN_CMD_EVAL = 1, MN_CMD_TRAIN = 2, MN_CMD_SWEEP = 4, MN_CMD_CERTIFY = 8,
    MN_CMD_ELIMINATE = 16, /* minima experiment eliminate */
    MN_CMD_SAFRAN = 32,    /* minima experiment safran-shamir */
    MN_CMD_SUMMARY = 64, MN_CMD_EXPORT = 128,
    MN_CMD_REGIONS = 256,  /* minima regions genuine, experiment liu */
    MN_CMD_ARENA = 512,    /* minima experiment arena */
    MN_CMD_SPECTRUM = 1024, MN_CMD_SLICE = 2048, /* the landscape instruments (with MN_CMD_PATH) */
    MN_CMD_SADDLES = 4096, /* minima experiment saddles */
    MN_CMD_BALANCE = 8192, /* minima experiment balance */
    MN_CMD_RESIDUAL = 16384, /* minima experiment residual */
    MN_CMD_IMPLICIT = 32768, /* minima experiment implicit-bias */
    MN_CMD_PATH = 65536,     /* minima path */
    MN_CMD_DEMO = 131072,    /* minima demo, the main job */
    MN_CMD_PROVE = 262144,   /* minima prove network */
    MN_CMD_RANK = 524288,    /* minima regions rank */
    MN_CMD_KARHADKAR = 1048576, /* minima experiment karhadkar */
    MN_CMD_LIU = 2097152,    /* minima experiment liu */
    MN_CMD_ATTACK = 4194304, /* minima attack */
    MN_CMD_MERGE = 8388608,  /* minima merge */
    MN_CMD_PROVE_POP = 16777216 /* minima prove population, minima prove --check */
};
typedef enum {
    MN_OPTION_FLAG, /* no value; "on" / "off" in a setting */
    MN_OPTION_REAL, /* a finite number in [lo, hi] */
    MN_OPTION_INT,  /* an integer in [lo, hi] */
    MN_OPTION_SEED, /* a non-negative 64-bit integer */
    MN_OPTION_TEXT  /* a string (a name, a path, a list), checked where it is used;
                     * a list's elements lie in [lo, hi] (mn_option_int_list) */
} mn_option_kind;
typedef struct {
    const char *name; /* long name, without "--" */
    mn_option_kind kind;
    unsigned cmds;    /* MN_CMD_* bits of the commands that take it */
    double lo, hi;    /* REAL, INT and lists: the accepted range (of each element) */
    const char *arg;  /* the value's placeholder in help ("X"), NULL for flags */
    const char *help; /* one line; the default in parentheses */
} mn_option;

/* The table: mn_option_count() entries, entry i by mn_option_at (help order). */
int mn_option_count(void);
const mn_option *mn_option_at(int i);
/* The entry of `name` among the options of commands `cmds` (an exact name,
 * or a unique prefix with prefix = 1); NULL when there is none (or the
 * prefix is ambiguous). */
const mn_option *mn_option_find(const char *name, unsigned cmds, int prefix);
/* The opening of every plan's option setter (mn_elim_plan_set,
 * mn_ss_plan_set): *o = the entry of `name` among command cmd's options;
 * MN_EINVAL, one line naming the option and the command (`what`, as
 * "experiment eliminate"), when it has none, or when a --plot value (v) is
 * empty. */
mn_status mn_option_of(const mn_option **o, const char *name, unsigned cmd, const char *what, const char *v);
/* A value of option o, checked against its kind and range. */
mn_status mn_option_real(double *out, const mn_option *o, const char *value);
mn_status mn_option_int(long *out, const mn_option *o, const char *value);
mn_status mn_option_seed(uint64_t *out, const mn_option *o, const char *value);
/* A list value of option o: "10,20,30", "10..100" (step 10) or "5..50:5"
 * (integers), "0.25,0.5" (reals); *n = its length (at most max), each
 * element in [o->lo, o->hi]. */
mn_status mn_option_int_list(int *out, int max, int *n, const mn_option *o, const char *value);
mn_status mn_option_real_list(double *out, int max, int *n, const mn_option *o, const char *value);

/* The options of one network run (a setting): model, data, optimiser,
 * certificate. String members point into the caller's values (not copied):
 * they must outlive the options. */
typedef struct {
    mn_spec spec;
    const char *arch;     /* NULL: <d>-8-<outputs> from the data */
    const char *layers;   /* the layer syntax (mn_spec_parse_layers); NULL: --arch */
    const char *data_path, *label, *generate;
    const char *dataset, *labels; /* --dataset NAME, --labels class|pm1|01|ovr */
    int positive;                 /* --positive C (-1: not given) */
    const char *default_generate; /* the generator when neither --data nor --generate is given
                                     (train: "xor"; NULL: an error) */
    int standardize, gen_n, gen_dim, gen_k;
    double noise, margin; /* noise NaN: the generator's default */
    uint64_t data_seed;
    double flip;          /* fraction of -1/+1 labels flipped (NaN: none) */
    uint64_t seed;        /* initialisation seed (certify: the added neurons' draws) */
    long steps;
    double gtol, frozen_value;
    mn_opt_params opt;
    int polish;
    int max_hessian;      /* largest free-parameter count for a full Hessian */
    mn_cert_opts cert;
    int trials;           /* certify: random draws of the added neurons' w */
    double slope, sharpness; /* the activation's parameter as given (checked by mn_options_check) */
    int slope_given, sharpness_given;
} mn_options;

/* The documented defaults (the table's parentheses). */
void mn_options_default(mn_options *o);
/* Sets option `name` (a full name of a run option: model, data, training,
 * certificate) from its value (flags: NULL or "on" sets, "off" clears).
 * MN_EINVAL for an unknown name or a bad value. */
mn_status mn_options_set(mn_options *o, const char *name, const char *value);
/* What holds between options (--slope needs leaky_relu, ...); sets
 * spec.act_param. Call once after the last mn_options_set. */
mn_status mn_options_check(mn_options *o);

/* ------------------------------------------------------------------ */
/* The setting recipe: options -> data, model, run parameters.          */

/* Data (--data, --dataset or --generate, then --flip, --standardize) and
 * the model (--arch or --layers, or <d>-8-<outputs> from the data), checked
 * against each other.
 * On failure both are NULL. */
mn_status mn_setting_build(mn_data **data, mn_model **model, const mn_options *o);
/* Data sets shared between the settings of a grid: settings whose data
 * options are the same (every option the data depend on: source, label,
 * generator and its parameters, seed, flip, standardize) get one mn_data,
 * owned by the pool and freed with it; the settings that use them must not
 * free them. */
typedef struct mn_data_pool mn_data_pool;
mn_status mn_data_pool_alloc(mn_data_pool **out);
void mn_data_pool_free(mn_data_pool *pool);
int mn_data_pool_count(const mn_data_pool *pool); /* distinct data sets built */
/* mn_setting_build with *data from the pool (pool NULL: the caller's own). */
mn_status mn_setting_build_pooled(mn_data **data, mn_model **model, const mn_options *o, mn_data_pool *pool);
/* A setting given as option keys and values (flags "on" / "off"), as the
 * settings table stores it: the options (defaults, then the pairs, then
 * mn_options_check) and what mn_setting_build_pooled builds (pool may be
 * NULL). Values are pointed to by *o: they must outlive it. */
mn_status mn_setting_from_pairs(mn_options *o, mn_data **data, mn_model **model, const char *const *keys,
                                const char *const *vals, int n, mn_data_pool *pool);

/* ------------------------------------------------------------------ */
/* Runs.                                                               */

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
    /* Optional (NULL: none): called from the run's thread every 256
     * iterations of the main run and once at its end (final 1), with the
     * iterations done, the step cap, the loss and the gradient norm; it must
     * not touch the run (`minima train` draws its progress line with it). */
    void (*progress)(void *ctx, long iter, long steps, double loss, double gnorm, int final);
    void *progress_ctx;
} mn_sweep_setting;
/* The run parameters of a setting from its options (optimiser, polish,
 * steps, gtol, frozen value, base seed, certificate with max_dense =
 * max_hessian); model, data, canon and db_id are left to the caller. */
void mn_setting_run(mn_sweep_setting *s, const mn_options *o);

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
/* Bytes one run of the setting allocates at most (estimate: points,
 * workspace, optimiser and polish, certification with its dense Hessian or
 * Lanczos vectors). mn_setting_build checks one run against physical
 * memory (mn_mem_check), mn_sweep_run `threads` runs and the data sets. */
double mn_setting_run_bytes(const mn_sweep_setting *s);
/* The memory of a sweep: `threads` runs at a time, each as large as the
 * largest setting's, and every distinct data set once, against physical
 * memory (mn_mem_check). mn_sweep_run calls it first; a front end may call
 * it before it creates a database. */
mn_status mn_sweep_memory_check(const mn_sweep_setting *settings, int nsettings, int threads);

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
 * its own mn_work and optimiser; OpenBLAS at one thread meanwhile), through
 * the runner (src/run/runner.c), which commits the finished runs in list
 * order, as they finish, in transactions at most 0.1 s apart. Results do not depend on threads, order or sharding. On failure the
 * runs finished so far stay stored. First, every setting with data has its
 * mn_data_key checked against the stored one (mn_db_setting_data): other
 * data under the same options is MN_EINVAL before any run. */
mn_status mn_sweep_run(mn_sweep_stats *stats, mn_db *db, const mn_sweep_setting *settings, int nsettings,
                       const mn_sweep_opts *opts);

/* ------------------------------------------------------------------ */
/* Summaries.                                                          */
typedef struct {
    int64_t id;
    char *canon, *json; /* the setting's options */
    char *label;        /* the options that differ between the summarised settings of its run
                           kind (the whole canonical string where nothing differs, and for
                           Safran-Shamir rows) */
    char *short_label;  /* those options, whatever the run kind ("" where none do):
                           what figures print under a setting */
    long n;             /* runs */
    long count[MN_NCLASS];
    double frac[MN_NCLASS], lo[MN_NCLASS], hi[MN_NCLASS]; /* 95% Wilson */
    long nspurious;
    double spurious_lambda_min; /* means over spurious minima (NaN when none) */
    double spurious_loss;
    long distinct_spurious; /* distinct spurious minima (up to hidden-unit symmetries) by the rule of the setting's run
                               kind (src/run/kinds.c): network runs, the mn_catalogue of
                               their stored end points up to hidden-unit permutations with
                               MN_CATALOGUE_TOL (-1 when no model builder was given);
                               Safran-Shamir runs, mn_popul_distinct (units and inputs
                               permuted, the experiment's dedup_tol) */
    long distinct_losses;   /* spurious losses that differ by > MN_DISTINCT_RTOL relative */
    double best_loss;       /* the lowest finite loss any run of the setting reached (NaN: none):
                               the best found, an upper bound on the global value, not a proof */
    long vs_best;           /* runs classified against best_loss: certified minima whose global
                               value was unknown (MINIMUM at run time), counted as BEST_FOUND
                               (loss <= best_loss + global_tol) or SPURIOUS_VS_BEST */
    double global_tol;      /* the setting's certification global_tol */
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
/* The library's builder: the setting recipe on the stored options (a JSON
 * object of strings); the data are built only when --arch is absent (the
 * input width comes from them). ctx is unused. */
mn_status mn_setting_model(mn_model **model, const char *json, void *ctx);
/* The data file a stored setting names (its JSON options), checked before
 * anything reads it again (mn_setting_model does, and mn_summarize for
 * every setting with a builder): MN_EINVAL, one line, when it is not a
 * regular file (a FIFO, a device such as /dev/zero, a directory) or is
 * larger than a quarter of physical memory. MN_OK when the setting names no
 * file, gives --arch / --layers (no data needed), or the file is gone. */
mn_status mn_setting_data_check(const char *json);
/* The certification options a stored setting's runs were classified with
 * (its JSON options over the defaults: global_loss NaN unless the setting
 * names --global-loss). MN_EFORMAT / MN_EINVAL for options no run took. */
mn_status mn_setting_cert_opts(mn_cert_opts *out, const char *json);
/* The data and model of a setting from its stored options (the settings
 * table's JSON object of strings), as mn_setting_build makes them. */
mn_status mn_setting_build_json(mn_data **data, mn_model **model, const char *json);

/* Summaries of the settings with the given ids (ids NULL: every setting in
 * the database, in id order). build may be NULL (no catalogue). */
mn_status mn_summarize(mn_summary **out, int *n, mn_db *db, const int64_t *ids, int nids, mn_model_builder build,
                       void *ctx);
void mn_summary_free(mn_summary *s, int n);

/* Figures by gnuplot: PREFIX.png and PREFIX.svg with the class fractions per
 * setting (grouped bars, Wilson 95% error bars) and the final losses per
 * setting (points, log scale). MN_EIO when gnuplot is missing or fails. */
mn_status mn_plot_summary(const mn_summary *s, int n, mn_db *db, const char *prefix);
/* A categorical heat map by gnuplot, PREFIX.png and PREFIX.svg: nrows x
 * ncols cells (values row-major, in [0, 1]; NaN: no such cell, drawn
 * blank), each labelled with its value in percent, rows and columns named.
 * 1..32 rows and columns. MN_EIO when gnuplot is missing or fails. */
mn_status mn_plot_grid(const char *prefix, const char *title, const char *const *rows, int nrows,
                       const char *const *cols, int ncols, const double *values);

#ifdef __cplusplus
}
#endif
#endif
