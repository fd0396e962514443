/* Options shared by the commands: parsing, validation, building the model
 * and the data, params files. Every rejection is one line naming the option. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

enum {
    O_ARCH = 256, O_ACT, O_SLOPE, O_SHARP, O_NOBIAS, O_SKIP, O_FREEZE, O_FROZENV, O_LOSS, O_P, O_ELIM,
    O_LAMBDA, O_DATA, O_LABEL, O_STD, O_GEN, O_N, O_NOISE, O_MARGIN, O_DIM, O_K, O_DSEED, O_PARAMS,
    O_HESS, O_JSON, O_SEED, O_STEPS, O_LR, O_GTOL, O_MAXNORM, O_SAVE, O_MAXHESS, O_POINT, O_TRIALS, O_HELP, O_LAYERS, O_INIT
};

/* Optimiser and certification options (a block of their own). */
enum {
    O_OPTIMIZER = 512, O_MOMENTUM, O_BETA1, O_BETA2, O_EPS, O_BATCH, O_MEMORY, O_PGD_EPS, O_PGD_C,
    O_PGD_DELTA, O_PGD_RHO, O_PGD_L, O_PLAT_W, O_PLAT_TOL, O_POLISH, O_CERT_GTOL, O_EIG_TOL, O_GLOBAL_LOSS,
    O_GLOBAL_TOL
};

/* Sweep options (a block of their own). */
enum { O_GRID = 768, O_CONFIG, O_RESTARTS, O_THREADS, O_DB, O_SHARD };

/* Label noise and the zero-error certificate (experiment eliminate). */
enum { O_FLIP = 1024, O_ZERO_ERR };

/* Real data sets by name (mn_data_load_dataset). */
enum { O_DATASET = 1280, O_LABELS, O_POSITIVE };

typedef struct {
    struct option opt;
    int cmds; /* CMD_* bits the option applies to */
    const char *arg, *help;
} optdef;

/* Model and data options: every command that builds a model. */
#define ALL (CMD_EVAL | CMD_TRAIN | CMD_SWEEP | CMD_CERTIFY | CMD_REGIONS)
/* Training options: commands that run an optimiser. */
#define TRAINING (CMD_TRAIN | CMD_SWEEP)
static const optdef defs[] = {
    {{"arch", 1, 0, O_ARCH}, ALL, "W0-W1-..-WL", "layer widths, input first (default: <d>-8-<outputs>)"},
    {{"layers", 1, 0, O_LAYERS}, ALL, "L1-L2-..", "layers from the input up: dense:W or conv1d (instead of --arch)"},
    {{"init", 1, 0, O_INIT}, ALL, "NAME", "random|identity: identity sets every square layer to I (random)"},
    {{"act", 1, 0, O_ACT}, ALL, "NAME", "relu|leaky_relu|softplus|sigmoid|tanh|quadratic|linear (relu)"},
    {{"slope", 1, 0, O_SLOPE}, ALL, "X", "leaky_relu slope for z < 0 (0.01)"},
    {{"sharpness", 1, 0, O_SHARP}, ALL, "X", "softplus sharpness beta (1)"},
    {{"no-bias", 0, 0, O_NOBIAS}, ALL, NULL, "no bias vectors"},
    {{"skip", 0, 0, O_SKIP}, ALL, NULL, "linear skip connection from input to output"},
    {{"freeze", 1, 0, O_FREEZE}, ALL, "L[,L..]", "hold these layers (1-based) fixed"},
    {{"frozen-value", 1, 0, O_FROZENV}, TRAINING, "X", "initial weight of frozen layers (1)"},
    {{"loss", 1, 0, O_LOSS}, ALL, "NAME", "squared|logistic|softmax_ce|poly_hinge|squared_hinge (poly_hinge)"},
    {{"p", 1, 0, O_P}, ALL, "X", "exponent of poly_hinge, in [2, 64] (3)"},
    {{"eliminate", 1, 0, O_ELIM}, ALL, "E", "none|liang|per-output (none)"},
    {{"lambda", 1, 0, O_LAMBDA}, ALL, "X", "penalty (lambda/2) a^2 on added neurons (0.01)"},
    {{"data", 1, 0, O_DATA}, ALL, "FILE.csv", "CSV data with a header row"},
    {{"label", 1, 0, O_LABEL}, ALL, "COL[,COL..]", "label column(s): names or 0-based indices"},
    {{"dataset", 1, 0, O_DATASET}, ALL, "NAME", "iris|wine|breast_cancer|digits (Debian python3-sklearn's files)"},
    {{"labels", 1, 0, O_LABELS}, ALL, "L", "--dataset labels: class|pm1|01|ovr (softmax_ce: class; --positive: pm1; else ovr)"},
    {{"positive", 1, 0, O_POSITIVE}, ALL, "C", "--dataset: the positive class of pm1 / 01 labels"},
    {{"standardize", 0, 0, O_STD}, ALL, NULL, "scale features to mean 0, variance 1"},
    {{"generate", 1, 0, O_GEN}, ALL, "NAME", "xor|spirals|separable|teacher (train default: xor)"},
    {{"n", 1, 0, O_N}, ALL, "N", "generated samples (200)"},
    {{"noise", 1, 0, O_NOISE}, ALL, "X", "generator noise std (xor 0, spirals 0.1)"},
    {{"margin", 1, 0, O_MARGIN}, ALL, "X", "separable: minimum |u.x| (0.1)"},
    {{"dim", 1, 0, O_DIM}, ALL, "D", "separable: input dimension (2)"},
    {{"k", 1, 0, O_K}, ALL, "K", "teacher: orthonormal ReLU units = input dimension (4)"},
    {{"data-seed", 1, 0, O_DSEED}, ALL, "S", "generator seed (1)"},
    {{"flip", 1, 0, O_FLIP}, ALL, "F", "flip the -1/+1 labels of a fraction F of the samples (seeded by --data-seed)"},
    {{"params", 1, 0, O_PARAMS}, CMD_EVAL | CMD_REGIONS, "FILE", "parameters, whitespace separated, in layout order"},
    {{"hessian", 0, 0, O_HESS}, CMD_EVAL, NULL, "also print the Hessian and its eigenvalues"},
    {{"json", 0, 0, O_JSON}, ALL, NULL, "JSON output (the default and only format)"},
    {{"seed", 1, 0, O_SEED}, TRAINING | CMD_CERTIFY | CMD_REGIONS, "S", "seed of the initialisation (train, sweep) or of the added neuron's draws (certify) (1)"},
    {{"steps", 1, 0, O_STEPS}, TRAINING, "N", "gradient steps at most (20000)"},
    {{"lr", 1, 0, O_LR}, TRAINING, "X", "step size (0.1)"},
    {{"gtol", 1, 0, O_GTOL}, TRAINING, "X", "stop when the gradient norm is <= X (1e-8)"},
    {{"max-norm", 1, 0, O_MAXNORM}, TRAINING, "X", "parameter norm counted as divergence (1e8)"},
    {{"save-params", 1, 0, O_SAVE}, CMD_TRAIN, "FILE", "write the end point in the params format"},
    {{"max-hessian", 1, 0, O_MAXHESS}, TRAINING | CMD_CERTIFY, "P", "largest parameter count for a full Hessian (2000)"},
    {{"optimizer", 1, 0, O_OPTIMIZER}, TRAINING, "NAME", "gd|momentum|nesterov|adam|sgd|lbfgs|newton|pgd (gd)"},
    {{"momentum", 1, 0, O_MOMENTUM}, TRAINING, "X", "momentum / nesterov coefficient, in [0, 1) (0.9)"},
    {{"beta1", 1, 0, O_BETA1}, TRAINING, "X", "adam first-moment decay, in [0, 1) (0.9)"},
    {{"beta2", 1, 0, O_BETA2}, TRAINING, "X", "adam second-moment decay, in [0, 1) (0.999)"},
    {{"eps", 1, 0, O_EPS}, TRAINING, "X", "adam denominator guard (1e-8)"},
    {{"batch", 1, 0, O_BATCH}, TRAINING, "B", "sgd minibatch size; one step of sgd is one epoch (32)"},
    {{"memory", 1, 0, O_MEMORY}, TRAINING, "M", "lbfgs pairs kept, 1..1000 (10)"},
    {{"pgd-eps", 1, 0, O_PGD_EPS}, TRAINING, "X", "pgd target gradient norm epsilon (1e-3)"},
    {{"pgd-c", 1, 0, O_PGD_C}, TRAINING, "X", "pgd constant c, in (0, 1]; step c/l (0.5)"},
    {{"pgd-delta", 1, 0, O_PGD_DELTA}, TRAINING, "X", "pgd failure probability, in (0, 1) (0.1)"},
    {{"pgd-rho", 1, 0, O_PGD_RHO}, TRAINING, "X", "pgd Hessian Lipschitz constant (1)"},
    {{"pgd-l", 1, 0, O_PGD_L}, TRAINING, "X", "pgd gradient Lipschitz constant (1)"},
    {{"plateau-window", 1, 0, O_PLAT_W}, TRAINING, "W", "stop as stalled when the loss falls too little over W steps; 0 off (0)"},
    {{"plateau-tol", 1, 0, O_PLAT_TOL}, TRAINING, "X", "relative loss decrease counted as a plateau (1e-9)"},
    {{"polish", 0, 0, O_POLISH}, TRAINING, NULL, "end with a Newton polish to a rounding-level gradient"},
    {{"cert-gtol", 1, 0, O_CERT_GTOL}, TRAINING | CMD_CERTIFY, "X", "certify: stationary when the gradient norm is <= X (1e-6)"},
    {{"eig-tol", 1, 0, O_EIG_TOL}, TRAINING | CMD_CERTIFY, "X", "certify: eigenvalues within +-X count as zero (1e-8)"},
    {{"global-loss", 1, 0, O_GLOBAL_LOSS}, TRAINING | CMD_CERTIFY | CMD_REGIONS, "X", "certify: the known global loss value (0)"},
    {{"global-tol", 1, 0, O_GLOBAL_TOL}, TRAINING | CMD_CERTIFY | CMD_REGIONS, "X", "certify: global when loss <= global-loss + X (1e-6)"},
    {{"zero-error", 0, 0, O_ZERO_ERR}, TRAINING | CMD_CERTIFY, NULL, "certify: zero training error also counts as global (margin and softmax losses)"},
    {{"point", 1, 0, O_POINT}, CMD_CERTIFY, "FILE", "the point to certify (params format, plain network)"},
    {{"trials", 1, 0, O_TRIALS}, CMD_CERTIFY, "N", "random draws of the added neuron's w (64)"},
    {{"grid", 1, 0, O_GRID}, CMD_SWEEP, "KEY=V1,V2,..", "a grid axis over any model/training option (repeatable)"},
    {{"config", 1, 0, O_CONFIG}, CMD_SWEEP, "FILE.json", "{\"base\": {option: value}, \"grid\": {option: [values]}}"},
    {{"restarts", 1, 0, O_RESTARTS}, CMD_SWEEP, "R", "seeded restarts per setting (10)"},
    {{"threads", 1, 0, O_THREADS}, CMD_SWEEP, "T", "OpenMP threads (all cores)"},
    {{"db", 1, 0, O_DB}, CMD_SWEEP, "FILE", "SQLite database; re-running resumes (minima.db)"},
    {{"shard", 1, 0, O_SHARD}, CMD_SWEEP, "I/N", "only runs whose index % N == I (0/1)"},
    {{"help", 0, 0, O_HELP}, ALL, NULL, "this help"},
};
#define NDEFS ((int)(sizeof defs / sizeof *defs))

static const struct {
    const char *name;
    int bit;
    const char *summary;
} cmds[] = {
    {"eval", CMD_EVAL, "loss, exact gradient and (--hessian) Hessian with eigenvalues at given parameters"},
    {"train", CMD_TRAIN, "one optimiser run from a seeded initialisation, with a certified end point"},
    {"sweep", CMD_SWEEP, "many restarts over a grid of settings, results in SQLite"},
    {"certify", CMD_CERTIFY, "certify a given point: gradient, Hessian spectrum, class, defence"},
    {"regions genuine", CMD_REGIONS, "the activation region of a point of a d-W-1 ReLU net: its least-squares minimum, genuine or not"},
};

void cli_usage(FILE *out, const char *cmd)
{
    int bit = 0;
    const char *summary = "";
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (!strcmp(cmd, cmds[i].name)) bit = cmds[i].bit, summary = cmds[i].summary;
    fprintf(out, "usage: minima %s [options]\n%s\n\noptions:\n", cmd, summary);
    for (int i = 0; i < NDEFS; i++) {
        if (!(defs[i].cmds & bit)) continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", defs[i].opt.name, defs[i].arg ? " " : "",
                 defs[i].arg ? defs[i].arg : "");
        fprintf(out, "  %-26s %s\n", left, defs[i].help);
    }
}

int cli_error(const char *cmd)
{
    fprintf(stderr, "minima %s: %s\n", cmd, mn_last_error());
    return 1;
}

int cli_bad(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "minima %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

static int bad(const cli_opts *o, const char *fmt, const char *name, const char *val)
{
    fprintf(stderr, "minima %s: ", o->cmd);
    fprintf(stderr, fmt, name, val);
    fputc('\n', stderr);
    return 1;
}

static int num(const cli_opts *o, const char *name, const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return bad(o, "--%s: '%s' is not a finite number", name, s);
    if (v < lo || v > hi) {
        fprintf(stderr, "minima %s: --%s %s is out of range [%g, %g]\n", o->cmd, name, s, lo, hi);
        return 1;
    }
    *out = v;
    return 0;
}

static int integer(const cli_opts *o, const char *name, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE) return bad(o, "--%s: '%s' is not an integer", name, s);
    if (v < lo || v > hi) {
        fprintf(stderr, "minima %s: --%s %s is out of range [%ld, %ld]\n", o->cmd, name, s, lo, hi);
        return 1;
    }
    *out = v;
    return 0;
}

static int seed(const cli_opts *o, const char *name, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    if (*s == '-') return bad(o, "--%s: '%s' is not a non-negative integer", name, s);
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno == ERANGE) return bad(o, "--%s: '%s' is not a non-negative integer", name, s);
    *out = v;
    return 0;
}

static int parse_freeze(cli_opts *o, const char *s)
{
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        long l = strtol(p, &end, 10);
        if (end == p || errno || l < 1 || l > MN_MAX_DEPTH || (*end && *end != ','))
            return bad(o, "--%s: '%s' is not a list of layer numbers like 2 or 1,2", "freeze", s);
        o->spec.frozen |= (uint64_t)1 << (l - 1);
        if (!*end) return 0;
        p = end + 1;
    }
}

int cli_parse(cli_opts *o, int argc, char **argv)
{
    struct option longopts[NDEFS + 1];
    for (int i = 0; i < NDEFS; i++) longopts[i] = defs[i].opt;
    memset(&longopts[NDEFS], 0, sizeof longopts[NDEFS]);
    mn_spec_default(&o->spec);
    o->spec.loss = MN_LOSS_POLY_HINGE;
    mn_opt_params_default(&o->opt);
    o->gen_n = 200, o->gen_dim = 2, o->gen_k = 4, o->noise = NAN, o->margin = 0.1, o->data_seed = 1;
    o->seed = 1, o->steps = 20000, o->gtol = 1e-8, o->frozen_value = 1.0, o->max_hessian = 2000;
    mn_cert_opts_default(&o->cert);
    o->trials = 64;
    o->flip = NAN;
    o->positive = -1;
    double slope = 0.01, sharp = 1.0;
    int slope_given = 0, sharp_given = 0;
    opterr = 0;
    optind = 1;
    int c, li;
    while ((c = getopt_long(argc, argv, ":", longopts, &li)) != -1) {
        if (c == '?') {
            fprintf(stderr, "minima %s: unknown option '%s' (see minima %s --help)\n", o->cmd, argv[optind - 1],
                    o->cmd);
            return 1;
        }
        if (c == ':') {
            fprintf(stderr, "minima %s: option '%s' needs a value\n", o->cmd, argv[optind - 1]);
            return 1;
        }
        const optdef *d = NULL;
        for (int i = 0; i < NDEFS; i++)
            if (defs[i].opt.val == c) d = &defs[i];
        if (!(d->cmds & o->cmd_bit)) {
            fprintf(stderr, "minima %s: option '--%s' does not apply to '%s'\n", o->cmd, d->opt.name, o->cmd);
            return 1;
        }
        const char *nm = d->opt.name, *a = optarg;
        long lv;
        int err = 0;
        switch (c) {
        case O_ARCH: o->arch = a; break;
        case O_LAYERS: o->layers = a; break;
        case O_INIT: err = mn_init_parse(&o->spec.init, a) ? cli_error(o->cmd) : 0; break;
        case O_ACT: err = mn_act_parse(&o->spec.act, a) ? cli_error(o->cmd) : 0; break;
        case O_SLOPE: err = num(o, nm, a, -1e6, 1e6, &slope), slope_given = 1; break;
        case O_SHARP: err = num(o, nm, a, 1e-6, 1e6, &sharp), sharp_given = 1; break;
        case O_NOBIAS: o->spec.bias = 0; break;
        case O_SKIP: o->spec.skip = 1; break;
        case O_FREEZE: err = parse_freeze(o, a); break;
        case O_FROZENV: err = num(o, nm, a, -1e6, 1e6, &o->frozen_value); break;
        case O_LOSS: err = mn_loss_parse(&o->spec.loss, a) ? cli_error(o->cmd) : 0; break;
        case O_P: err = num(o, nm, a, 2, 64, &o->spec.loss_p); break;
        case O_ELIM: err = mn_elim_parse(&o->spec.elim, a) ? cli_error(o->cmd) : 0; break;
        case O_LAMBDA: err = num(o, nm, a, 0, 1e12, &o->spec.lambda); break;
        case O_DATA: o->data_path = a; break;
        case O_LABEL: o->label = a; break;
        case O_STD: o->standardize = 1; break;
        case O_DATASET: o->dataset = a; break;
        case O_LABELS: o->labels = a; break;
        case O_POSITIVE: err = integer(o, nm, a, 0, 1000, &lv), o->positive = (int)lv; break;
        case O_GEN: o->generate = a; break;
        case O_N: err = integer(o, nm, a, 1, 100000000, &lv), o->gen_n = (int)lv; break;
        case O_NOISE: err = num(o, nm, a, 0, 1e6, &o->noise); break;
        case O_MARGIN: err = num(o, nm, a, 0, 1e6, &o->margin); break;
        case O_DIM: err = integer(o, nm, a, 1, MN_MAX_WIDTH, &lv), o->gen_dim = (int)lv; break;
        case O_K: err = integer(o, nm, a, 1, MN_MAX_WIDTH, &lv), o->gen_k = (int)lv; break;
        case O_DSEED: err = seed(o, nm, a, &o->data_seed); break;
        case O_FLIP: err = num(o, nm, a, 0, 1, &o->flip); break;
        case O_ZERO_ERR: o->cert.zero_error = 1; break;
        case O_PARAMS: o->params_path = a; break;
        case O_HESS: o->hessian = 1; break;
        case O_JSON: break;
        case O_SEED: err = seed(o, nm, a, &o->seed); break;
        case O_STEPS: err = integer(o, nm, a, 0, 1000000000000L, &o->steps); break;
        case O_LR: err = num(o, nm, a, 1e-300, 1e6, &o->opt.lr); break;
        case O_GTOL: err = num(o, nm, a, 0, 1e300, &o->gtol); break;
        case O_MAXNORM: err = num(o, nm, a, 1e-300, 1e300, &o->opt.max_norm); break;
        case O_SAVE: o->save_params = a; break;
        case O_MAXHESS: err = integer(o, nm, a, 0, 20000, &lv), o->max_hessian = (int)lv; break;
        case O_OPTIMIZER: err = mn_opt_parse(&o->opt.kind, a) ? cli_error(o->cmd) : 0; break;
        case O_MOMENTUM: err = num(o, nm, a, 0, 0.999999, &o->opt.momentum); break;
        case O_BETA1: err = num(o, nm, a, 0, 0.999999, &o->opt.beta1); break;
        case O_BETA2: err = num(o, nm, a, 0, 0.999999999, &o->opt.beta2); break;
        case O_EPS: err = num(o, nm, a, 1e-300, 1, &o->opt.eps); break;
        case O_BATCH: err = integer(o, nm, a, 1, 100000000, &lv), o->opt.batch = (int)lv; break;
        case O_MEMORY: err = integer(o, nm, a, 1, 1000, &lv), o->opt.memory = (int)lv; break;
        case O_PGD_EPS: err = num(o, nm, a, 1e-300, 1e6, &o->opt.pgd_eps); break;
        case O_PGD_C: err = num(o, nm, a, 1e-6, 1, &o->opt.pgd_c); break;
        case O_PGD_DELTA: err = num(o, nm, a, 1e-300, 0.999999, &o->opt.pgd_delta); break;
        case O_PGD_RHO: err = num(o, nm, a, 1e-300, 1e300, &o->opt.pgd_rho); break;
        case O_PGD_L: err = num(o, nm, a, 1e-300, 1e300, &o->opt.pgd_l); break;
        case O_PLAT_W: err = integer(o, nm, a, 0, 100000000, &lv), o->opt.plateau_window = (int)lv; break;
        case O_PLAT_TOL: err = num(o, nm, a, 0, 1, &o->opt.plateau_tol); break;
        case O_POLISH: o->polish = 1; break;
        case O_CERT_GTOL: err = num(o, nm, a, 0, 1e300, &o->cert.gtol); break;
        case O_EIG_TOL: err = num(o, nm, a, 0, 1e300, &o->cert.eig_tol); break;
        case O_GLOBAL_LOSS: err = num(o, nm, a, -1e300, 1e300, &o->cert.global_loss); break;
        case O_GLOBAL_TOL: err = num(o, nm, a, 0, 1e300, &o->cert.global_tol); break;
        case O_POINT: o->point_path = a; break;
        case O_TRIALS: err = integer(o, nm, a, 1, 100000, &lv), o->trials = (int)lv; break;
        case O_GRID:
            if (o->ngrid == (int)(sizeof o->grid / sizeof *o->grid))
                err = bad(o, "--%s: at most 64 axes%s", nm, "");
            else
                o->grid[o->ngrid++] = a;
            break;
        case O_CONFIG: o->config = a; break;
        case O_RESTARTS: err = integer(o, nm, a, 1, 100000000, &o->restarts); break;
        case O_THREADS: err = integer(o, nm, a, 1, 4096, &lv), o->threads = (int)lv; break;
        case O_DB: o->db_path = a; break;
        case O_SHARD: o->shard_spec = a; break;
        case O_HELP: cli_usage(stdout, o->cmd); return 2;
        }
        if (err) return 1;
    }
    if (optind < argc) {
        fprintf(stderr, "minima %s: unexpected argument '%s' (see minima %s --help)\n", o->cmd, argv[optind],
                o->cmd);
        return 1;
    }
    if (slope_given && o->spec.act != MN_ACT_LEAKY_RELU)
        return bad(o, "--%s applies to --act leaky_relu only%s", "slope", "");
    if (sharp_given && o->spec.act != MN_ACT_SOFTPLUS)
        return bad(o, "--%s applies to --act softplus only%s", "sharpness", "");
    o->spec.act_param = o->spec.act == MN_ACT_SOFTPLUS ? sharp : slope;
    return 0;
}

/* Data from --data or --generate (train defaults to xor). */
static mn_status build_data(const cli_opts *o, mn_data **data)
{
    *data = NULL;
    if (!!o->data_path + !!o->generate + !!o->dataset > 1)
        return mn_fail(MN_EINVAL, "give one of --data, --dataset and --generate");
    if ((o->labels || o->positive >= 0) && !o->dataset)
        return mn_fail(MN_EINVAL, "--labels and --positive apply to --dataset only");
    if (o->dataset) {
        mn_labelling lab = o->spec.loss == MN_LOSS_SOFTMAX_CE ? MN_LABELS_CLASS
                           : o->positive >= 0                 ? MN_LABELS_PM1
                                                              : MN_LABELS_OVR;
        mn_status st = o->labels ? mn_labelling_parse(&lab, o->labels) : MN_OK;
        if (!st) st = mn_data_load_dataset(data, o->dataset, lab, o->positive, NULL);
        if (st) return st;
    } else if (o->data_path) {
        if (!o->label) return mn_fail(MN_EINVAL, "--data needs --label to name the label column");
        mn_status st = mn_data_read_csv(data, o->data_path, o->label);
        if (st) return st;
    } else {
        if (o->label) return mn_fail(MN_EINVAL, "--label applies to --data only");
        const char *g = o->generate ? o->generate : o->cmd_bit == CMD_TRAIN ? "xor" : NULL;
        if (!g) return mn_fail(MN_EINVAL, "no data: give --data FILE.csv --label COL, or --generate NAME");
        mn_status st;
        if (!strcmp(g, "xor"))
            st = mn_gen_xor(data, o->gen_n, isnan(o->noise) ? 0.0 : o->noise, o->data_seed);
        else if (!strcmp(g, "spirals"))
            st = mn_gen_spirals(data, o->gen_n, isnan(o->noise) ? 0.1 : o->noise, o->data_seed);
        else if (!strcmp(g, "separable"))
            st = mn_gen_separable(data, o->gen_n, o->gen_dim, o->margin, o->data_seed);
        else if (!strcmp(g, "teacher"))
            st = mn_gen_teacher_relu(data, o->gen_n, o->gen_k, o->data_seed);
        else
            return mn_fail(MN_EINVAL, "unknown generator '%s' (expected xor|spirals|separable|teacher)", g);
        if (st) return st;
    }
    if (!isnan(o->flip)) {
        mn_status st = mn_data_flip_labels(*data, o->flip, o->data_seed);
        if (st) {
            mn_data_free(*data);
            *data = NULL;
            return st;
        }
    }
    if (o->standardize) {
        mn_status st = mn_data_standardize(*data);
        if (st) {
            mn_data_free(*data);
            *data = NULL;
            return st;
        }
    }
    return MN_OK;
}

/* Output width implied by the data when --arch is absent. */
static int default_outputs(const cli_opts *o, const mn_data *data)
{
    if (o->spec.loss != MN_LOSS_SOFTMAX_CE) return mn_data_m(data);
    int K = 2;
    const double *y = mn_data_yc(data);
    for (int i = 0; i < mn_data_n(data); i++)
        if (y[i] >= K && y[i] < MN_MAX_WIDTH) K = (int)y[i] + 1;
    return K;
}

mn_status cli_build(const cli_opts *o, mn_data **data, mn_model **model)
{
    *model = NULL;
    mn_status st = build_data(o, data);
    if (st) return st;
    mn_spec spec = o->spec;
    if (o->arch && o->layers) {
        st = mn_fail(MN_EINVAL, "--arch and --layers both give the layers; use one");
    } else if (o->layers) {
        st = mn_spec_parse_layers(&spec, o->layers, mn_data_d(*data));
    } else if (o->arch) {
        st = mn_spec_parse_arch(&spec, o->arch);
    } else {
        spec.depth = 2;
        spec.width[0] = mn_data_d(*data);
        spec.width[1] = 8;
        spec.width[2] = default_outputs(o, *data);
    }
    if (!st) st = mn_model_alloc(model, &spec);
    if (!st) st = mn_model_check_data(*model, *data);
    if (st) {
        mn_model_free(*model);
        mn_data_free(*data);
        *model = NULL;
        *data = NULL;
    }
    return st;
}

mn_status cli_read_params(const char *path, double *theta, size_t P) { return mn_params_read(theta, P, path); }

/* Written to PATH.tmp, then renamed: an existing file is never left half-written. */
mn_status cli_write_params(const char *path, const double *theta, size_t P)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) return mn_fail(MN_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        mn_status st = mn_fail(MN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    for (size_t i = 0; i < P; i++) fprintf(f, "%.17g\n", theta[i]);
    int bad_write = ferror(f); /* read before fclose: the order of | operands is unspecified */
    bad_write |= fclose(f) != 0;
    mn_status st = MN_OK;
    if (bad_write || rename(tmp, path) != 0) {
        st = mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return st;
}

int cli_optinfo(const char *name, const char **full, int *bits)
{
    const optdef *hit = NULL;
    size_t len = strlen(name);
    int nhit = 0;
    for (int i = 0; i < NDEFS; i++) {
        if (!strcmp(defs[i].opt.name, name)) {
            hit = &defs[i], nhit = 1;
            break;
        }
        if (len && !strncmp(defs[i].opt.name, name, len)) hit = &defs[i], nhit++;
    }
    if (nhit != 1) return -1;
    if (full) *full = hit->opt.name;
    if (bits) *bits = hit->cmds;
    return hit->opt.has_arg ? 1 : 0;
}
