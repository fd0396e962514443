/* The command-line front end: shared options and the commands. */
#ifndef MN_CLI_H
#define MN_CLI_H

#include <stdio.h>

#include "minima.h"
#include "minima/sweep.h"
#include "minima/regions.h"

/* Which commands an option applies to. */
enum { CMD_EVAL = 1, CMD_TRAIN = 2, CMD_SWEEP = 4, CMD_CERTIFY = 8, CMD_REGIONS = 16 };

typedef struct {
    const char *cmd; /* "eval", "train", ... */
    int cmd_bit;
    /* model */
    mn_spec spec;
    const char *arch; /* NULL: <d>-8-<K> from the data */
    const char *layers; /* the layer syntax (mn_spec_parse_layers); NULL: --arch */
    int act_param_given;
    /* data */
    const char *data_path, *label, *generate;
    const char *dataset, *labels; /* --dataset NAME, --labels class|pm1|01|ovr */
    int positive;                 /* --positive C (-1: not given) */
    int standardize, gen_n, gen_dim, gen_k;
    double noise, margin;
    uint64_t data_seed;
    double flip; /* --flip: fraction of -1/+1 labels flipped (NaN: not given) */
    /* eval */
    const char *params_path;
    int hessian;
    /* train */
    uint64_t seed;
    long steps;
    double gtol, frozen_value;
    mn_opt_params opt;
    const char *save_params;
    int max_hessian; /* largest free-parameter count for a full Hessian */
    int polish;          /* end a run with a Newton polish */
    mn_cert_opts cert;   /* certification tolerances (--cert-gtol, --eig-tol, --global-*) */
    /* certify */
    const char *point_path;
    int trials; /* random draws of the added neurons' w */
    /* sweep (defaults set by cmd_sweep) */
    const char *grid[64]; /* --grid KEY=V1,V2,.. in command-line order */
    int ngrid;
    const char *config, *db_path, *shard_spec;
    long restarts;
    int threads;
} cli_opts;

/* Parses argv (after the command name). Returns 0, or 1 with a message
 * printed, or 2 when --help was printed. */
int cli_parse(cli_opts *o, int argc, char **argv);
void cli_usage(FILE *out, const char *cmd);
/* Builds data, model and (eval) params from the options. */
mn_status cli_build(const cli_opts *o, mn_data **data, mn_model **model);
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

/* Certification tolerances from the options (defaults where not given). */
void cli_cert_opts(const cli_opts *o, mn_cert_opts *co);
/* The run options of a sweep setting (mn_sweep_setting in minima/sweep.h:
 * optimiser, polish, steps, gtol, frozen value, base seed, certification)
 * from the options; model, data, canon and db_id are left to the caller. */
void cli_run_setting(const cli_opts *o, mn_sweep_setting *s);

int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_certify(int argc, char **argv);
int cmd_attack(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_summary(int argc, char **argv);
int cmd_export(int argc, char **argv);
int cmd_merge(int argc, char **argv);
int cmd_experiment(int argc, char **argv);
int cmd_prove(int argc, char **argv);
/* minima experiment eliminate (argv[0] is "eliminate"; src/cli/cmd_eliminate.c) */
int cmd_experiment_eliminate(int argc, char **argv);
/* minima regions rank|genuine (src/cli/cmd_regions.c) */
int cmd_regions(int argc, char **argv);
/* minima experiment karhadkar|liu (argv[0] is the name; src/cli/cmd_regions_exp.c) */
int cmd_experiment_karhadkar(int argc, char **argv);
int cmd_experiment_liu(int argc, char **argv);

/* An option's long name (an exact name or a unique prefix, as getopt_long
 * takes it): returns 1 when it takes a value, 0 for a flag, -1 when unknown
 * or ambiguous; *full gets the full name and *cmds its CMD_* bits. */
int cli_optinfo(const char *name, const char **full, int *cmds);
/* The summary table of a sweep (minima summary, end of minima sweep). */
void cli_summary_table(FILE *f, const mn_summary *s, int n);
/* Parses and builds one setting given as option keys and values ("off"
 * flags left out) like minima sweep does. Returns 0; 1 when an option was
 * rejected (message printed); 2 on a build failure (mn_last_error). */
int cli_setting_build(cli_opts *so, mn_data **data, mn_model **model, const char *const *keys,
                      const char *const *vals, int n);
/* An mn_model_builder: the model of a settings row's options (JSON). */
mn_status cli_model_from_json(mn_model **model, const char *json, void *ctx);

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
