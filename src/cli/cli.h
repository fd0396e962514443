/* The command-line front end: shared options and the commands. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stdio.h>

#include "minima.h"
#include "minima/regions.h"
#include "minima/sweep.h"

/* The options of a command: the run options (the library's mn_options) and
 * what only the command line has (files to read or write, sweep control). */
typedef struct {
    const char *cmd; /* "eval", "train", ... */
    unsigned cmd_bit; /* MN_CMD_* */
    mn_options run;
    /* eval, train, certify */
    const char *params_path, *save_params, *point_path;
    int hessian;
    int quiet; /* --quiet: no progress line (train) */
    int json; /* --json: sweep prints its summary as JSON (eval, train, certify always do) */
    /* sweep (defaults set by cmd_sweep) */
    const char *grid[64]; /* --grid KEY=V1,V2,.. in command-line order */
    int ngrid;
    const char *config, *db_path, *shard_spec;
    long restarts;
    int threads;
    /* the run options given, in command-line order (sweep: its base options) */
    const char *given[MN_GRID_MAX_KEYS], *given_val[MN_GRID_MAX_KEYS];
    int ngiven;
} cli_opts;

/* The one argv parser. Walks argv (argv[0] is the command name) over the
 * option table's entries for cmd_bit (exact names or unique prefixes;
 * --name value or --name=value): each option goes to set(ctx, option,
 * value) (value NULL for a flag; set returns an mn_status whose message is
 * printed), each other argument to positional(ctx, arg) (NULL: none
 * allowed; it returns 0 or 1 with a message printed). --help prints
 * intro and the options. Returns 0, 1 with one line "minima CMD: .." on
 * stderr, or 2 when the help was printed. */
typedef mn_status (*cli_setter)(void *ctx, const mn_option *opt, const char *value);
int cli_args(const char *cmd, unsigned cmd_bit, const char *intro, int argc, char **argv, cli_setter set,
             int (*positional)(void *ctx, const char *arg), void *ctx);
/* The options of eval, train, sweep and certify (cli_args with the run
 * options, then mn_options_check). Returns 0, 1 with a message printed,
 * or 2 when --help was printed. */
int cli_parse(cli_opts *o, int argc, char **argv);
/* The options of cmd_bit as help lines. */
void cli_usage(FILE *out, unsigned cmd_bit);
/* Reads a params file: exactly P whitespace-separated finite numbers. */
mn_status cli_read_params(const char *path, double *theta, size_t P);
mn_status cli_write_params(const char *path, const double *theta, size_t P);
/* Prints "minima CMD: message" for the last error; returns 1. */
int cli_error(const char *cmd);
/* One line "minima CMD: message" on stderr; returns 1 (bad options). */
int cli_bad(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Hessian (P x P) and the ascending eigenvalues of its free-parameter block
 * (nfree of them). */
int cli_spectrum(const mn_model *model, mn_work *work, const mn_data *data, const double *theta,
                 double *hess, double *evals, int *nfree);


/* The landscape instruments (spectrum, slice, path; src/cli/instruments.c):
 * their options (-1 / NULL: not given) and the network they measure. */
typedef struct {
    const char *cmd;
    unsigned cmd_bit;
    mn_options run;
    const char *params, *plot, *out, *to, *db, *dir, *range, *range2;
    const char *pos[2]; /* path: the end points A and B */
    int npos;
    long top, bottom, probes, slq_probes, slq_steps, grid_points, lanczos_steps, points, nodes, fit_steps;
    long images, band_steps, climb_after;
    double lanczos_tol, sigma, spring, band_tol;
    int trace, density;
    uint64_t seed;
} instr_opts;
/* Parses argv (cli_args over the command's options, then mn_options_check):
 * 0, 1 with a message printed, or 2 when --help was printed. */
int instr_parse(instr_opts *o, const char *summary, int argc, char **argv);
/* Data, model, workspace and the network objective of a setting. */
typedef struct {
    mn_data *data;
    mn_model *model;
    mn_work *work;
    struct mn_objective *f;
    size_t P;
} instr_net;
mn_status instr_net_open(instr_net *n, const mn_options *run);
void instr_net_close(instr_net *n);
/* theta (P, malloc'ed) from a params file for the net. */
mn_status instr_read_point(double **theta, const instr_net *n, const char *path);

int cmd_spectrum(int argc, char **argv);
int cmd_slice(int argc, char **argv);
int cmd_path(int argc, char **argv);

int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_certify(int argc, char **argv);
int cmd_attack(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
/* The experiments of `minima experiment`, one line each "INDENTname  about"
 * (src/cli/cmd_experiment.c: the table the dispatcher reads). */
void cli_experiment_list(FILE *f, const char *indent);
int cmd_prove(int argc, char **argv);
int cmd_demo(int argc, char **argv); /* the main job, src/cli/cmd_demo.c */
/* The experiments (argv[0] is the experiment's name), each listed once in
 * the table of src/cli/cmd_experiment.c. safran-shamir: cmd_experiment.c;
 * eliminate: src/cli/cmd_eliminate.c */
int cmd_experiment_safran_shamir(int argc, char **argv);
int cmd_experiment_eliminate(int argc, char **argv);
/* minima experiment arena (argv[0] is "arena"; src/cli/cmd_arena.c) */
int cmd_experiment_arena(int argc, char **argv);
int cmd_experiment_residual(int argc, char **argv);
int cmd_experiment_implicit_bias(int argc, char **argv);
/* minima regions rank|genuine (src/cli/cmd_regions.c) */
int cmd_regions(int argc, char **argv);
/* minima experiment karhadkar|liu (argv[0] is the name; src/cli/cmd_regions_exp.c) */
int cmd_experiment_karhadkar(int argc, char **argv);
int cmd_experiment_liu(int argc, char **argv);
/* minima experiment saddles (argv[0] is "saddles"; src/cli/cmd_saddles.c) */
int cmd_experiment_saddles(int argc, char **argv);
/* minima experiment balance (argv[0] is "balance"; src/cli/cmd_balance.c) */
int cmd_experiment_balance(int argc, char **argv);

/* The summary table of a sweep (minima summary, end of minima sweep). */
void cli_summary_table(FILE *f, const mn_summary *s, int n);
/* The same as one JSON object (minima summary --json, minima sweep --json). */
void cli_summary_json(FILE *f, const mn_summary *s, int n);

/* A streaming JSON writer (numbers as %.17g, which round-trips doubles). */
typedef struct {
    FILE *f;
    int depth;
    int first[64]; /* no member written yet at this depth */
    char close[64]; /* '}' or ']' to close this depth */
} jw;
void jw_begin(jw *w, FILE *f);
void jw_obj(jw *w, const char *key);  /* opens an object (key NULL inside arrays / at top) */
void jw_arr(jw *w, const char *key);
void jw_end(jw *w);                   /* closes the innermost object or array */
void jw_num(jw *w, const char *key, double v);
void jw_int(jw *w, const char *key, long long v);
void jw_str(jw *w, const char *key, const char *v);
void jw_bool(jw *w, const char *key, int v);
void jw_nums(jw *w, const char *key, const double *v, size_t n);
/* "neurons": [{a, b, w_norm, a_exp_b}, ..] for the added neurons. */
void cli_neurons(jw *w, const mn_model *model, const double *theta);
/* "classes": {name: {count, fraction, lo, hi}} of a summary row, as printed
 * by `summary --json` and `experiment eliminate --json`. */
void cli_classes_json(jw *w, const mn_summary *m);

#endif
