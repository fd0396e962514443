/* The option table of every command and the one parser of option values:
 * kinds, ranges, defaults and the run options (mn_options) they set. */
#include <errno.h>
#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"
#include "minima/popul.h"
#include "minima/sweep.h"

/* Where a run option's value goes in mn_options (NONE: not a run option). */
enum { NONE, F_DOUBLE, F_INT, F_LONG, F_SEED, F_STR, F_FLAG, F_SPECIAL };

typedef struct {
    mn_option o;
    int target;
    size_t off; /* offsetof(mn_options, member) */
} entry;

#define INSTR (MN_CMD_SPECTRUM | MN_CMD_SLICE | MN_CMD_PATH)
#define MODEL (MN_CMD_EVAL | MN_CMD_TRAIN | MN_CMD_SWEEP | MN_CMD_CERTIFY | MN_CMD_REGIONS | INSTR | MN_CMD_PROVE)
#define TRAINING (MN_CMD_TRAIN | MN_CMD_SWEEP)
#define DYNAMICS (MN_CMD_RESIDUAL | MN_CMD_IMPLICIT)
#define EXPERIMENTS (MN_CMD_ELIMINATE | MN_CMD_SAFRAN | MN_CMD_ARENA | MN_CMD_SADDLES | DYNAMICS)
#define DATA (MODEL | MN_CMD_LIU)
#define CELLS (MN_CMD_RANK | MN_CMD_KARHADKAR)
#define REGIONS (CELLS | MN_CMD_LIU)
#define OFF(m) offsetof(mn_options, m)
#define BIG 1e300
#define TINY 1e-300

static const entry table[] = {
    {{"arch", MN_OPTION_TEXT, MODEL, 0, 0, "W0-W1-..-WL", "layer widths, input first (default: <d>-8-<outputs>)"}, F_STR, OFF(arch)},
    {{"layers", MN_OPTION_TEXT, MODEL, 0, 0, "L1-L2-..", "layers from the input up: dense:W or conv1d (instead of --arch)"}, F_STR, OFF(layers)},
    {{"init", MN_OPTION_TEXT, MODEL, 0, 0, "NAME", "random|identity: identity sets every square layer to I (random)"}, F_SPECIAL, 0},
    {{"act", MN_OPTION_TEXT, MODEL, 0, 0, "NAME", "relu|leaky_relu|softplus|sigmoid|tanh|quadratic|linear (relu)"}, F_SPECIAL, 0},
    {{"slope", MN_OPTION_REAL, MODEL, -1e6, 1e6, "X", "leaky_relu slope for z < 0 (0.01)"}, F_SPECIAL, 0},
    {{"sharpness", MN_OPTION_REAL, MODEL, 1e-6, 1e6, "X", "softplus sharpness beta (1)"}, F_SPECIAL, 0},
    {{"no-bias", MN_OPTION_FLAG, MODEL, 0, 0, NULL, "no bias vectors"}, F_SPECIAL, 0},
    {{"skip", MN_OPTION_FLAG, MODEL, 0, 0, NULL, "linear skip connection from input to output"}, F_SPECIAL, 0},
    {{"freeze", MN_OPTION_TEXT, MODEL, 0, 0, "L[,L..]", "hold these layers (1-based) fixed"}, F_SPECIAL, 0},
    {{"frozen-value", MN_OPTION_REAL, TRAINING, -1e6, 1e6, "X", "initial weight of frozen layers (1)"}, F_DOUBLE, OFF(frozen_value)},
    {{"loss", MN_OPTION_TEXT, MODEL, 0, 0, "NAME", "squared|logistic|softmax_ce|poly_hinge|squared_hinge (poly_hinge)"}, F_SPECIAL, 0},
    {{"p", MN_OPTION_REAL, MODEL, 2, 64, "X", "exponent of poly_hinge, in [2, 64] (3)"}, F_DOUBLE, OFF(spec.loss_p)},
    {{"eliminate", MN_OPTION_TEXT, MODEL, 0, 0, "E", "none|liang|per-output (none)"}, F_SPECIAL, 0},
    {{"eliminate", MN_OPTION_TEXT, MN_CMD_SAFRAN, 0, 0, "LIST", "none (default), liang, or none,liang (rows with and without): Liang et al.'s neuron a*exp(c.x + b) added"}, NONE, 0},
    {{"lambda", MN_OPTION_REAL, MODEL, 0, 1e12, "X", "penalty (lambda/2) a^2 on added neurons (10, the arena's measured best; GD along a is stable for lr < 2/lambda)"}, F_DOUBLE, OFF(spec.lambda)},
    {{"lambda", MN_OPTION_REAL, MN_CMD_SAFRAN, 0, 1e12, "X", "penalty (lambda/2) a^2 on the added neuron (0.01)"}, NONE, 0},
    {{"lambda", MN_OPTION_REAL, MN_CMD_ATTACK, 0, 1e12, "X", "penalty (lambda/2) a^2 on Liang's neuron added to each attack (0.01)"}, NONE, 0},
    {{"lambda", MN_OPTION_TEXT, MN_CMD_ARENA, 1e-12, 1e12, "LIST", "the eliminating neuron's penalties, a list like 0.01,0.1,1,10 (default), at most 8"}, NONE, 0},
    {{"data", MN_OPTION_TEXT, DATA | MN_CMD_ELIMINATE, 0, 0, "FILE.csv", "CSV data with a header row"}, F_STR, OFF(data_path)},
    {{"label", MN_OPTION_TEXT, DATA | MN_CMD_ELIMINATE, 0, 0, "COL[,COL..]", "label column(s): names or 0-based indices"}, F_STR, OFF(label)},
    {{"dataset", MN_OPTION_TEXT, DATA, 0, 0, "NAME", "iris|wine|breast_cancer|digits (Debian python3-sklearn's files)"}, F_STR, OFF(dataset)},
    {{"labels", MN_OPTION_TEXT, DATA, 0, 0, "L", "--dataset labels: class|pm1|01|ovr (softmax_ce: class; --positive: pm1; else ovr)"}, F_STR, OFF(labels)},
    {{"positive", MN_OPTION_INT, DATA, 0, 1000, "C", "--dataset: the positive class of pm1 / 01 labels"}, F_INT, OFF(positive)},
    {{"standardize", MN_OPTION_FLAG, DATA, 0, 0, NULL, "scale features to mean 0, variance 1"}, F_FLAG, OFF(standardize)},
    {{"generate", MN_OPTION_TEXT, DATA, 0, 0, "NAME", "xor|spirals|separable|teacher (train default: xor)"}, F_STR, OFF(generate)},
    {{"n", MN_OPTION_INT, DATA, 1, 100000000, "N", "generated samples (200)"}, F_INT, OFF(gen_n)},
    {{"noise", MN_OPTION_REAL, DATA, 0, 1e6, "X", "generator noise std (xor 0, spirals 0.1)"}, F_DOUBLE, OFF(noise)},
    {{"margin", MN_OPTION_REAL, DATA, 0, 1e6, "X", "separable: minimum |u.x| (0.1)"}, F_DOUBLE, OFF(margin)},
    {{"dim", MN_OPTION_INT, DATA, 1, MN_MAX_WIDTH, "D", "separable: input dimension (2)"}, F_INT, OFF(gen_dim)},
    {{"k", MN_OPTION_INT, DATA, 1, MN_MAX_WIDTH, "K", "teacher: orthonormal ReLU units = input dimension (4)"}, F_INT, OFF(gen_k)},
    {{"k", MN_OPTION_TEXT, MN_CMD_SAFRAN, 0, 0, "LIST", "teacher sizes: 6..20 (default), 8, or 6,9,12"}, NONE, 0},
    {{"extra", MN_OPTION_TEXT, MN_CMD_SAFRAN, 0, 0, "LIST", "n - k values (default 0,1)"}, NONE, 0},
    {{"data-seed", MN_OPTION_SEED, DATA, 0, 0, "S", "generator seed (1)"}, F_SEED, OFF(data_seed)},
    {{"flip", MN_OPTION_REAL, DATA, 0, 1, "F", "flip the -1/+1 labels of a fraction F of the samples (seeded by --data-seed)"}, F_DOUBLE, OFF(flip)},
    {{"params", MN_OPTION_TEXT, MN_CMD_EVAL | MN_CMD_REGIONS | MN_CMD_SPECTRUM | MN_CMD_SLICE | MN_CMD_PROVE, 0, 0, "FILE", "parameters, whitespace separated, in layout order"}, NONE, 0},
    {{"hessian", MN_OPTION_FLAG, MN_CMD_EVAL, 0, 0, NULL, "also print the Hessian and its eigenvalues"}, NONE, 0},
    {{"json", MN_OPTION_FLAG, MODEL | EXPERIMENTS | REGIONS | MN_CMD_BALANCE | MN_CMD_SUMMARY | MN_CMD_ATTACK | MN_CMD_PROVE_POP, 0, 0, NULL, "JSON output (eval, train, certify: always; sweep, summary, experiments, attack all, prove: instead of the table or text)"}, NONE, 0},
    {{"seed", MN_OPTION_SEED, TRAINING | MN_CMD_CERTIFY | MN_CMD_SAFRAN | MN_CMD_SADDLES | MN_CMD_BALANCE | MN_CMD_REGIONS | DYNAMICS | MN_CMD_SPECTRUM | MN_CMD_SLICE | REGIONS, 0, 0, "S", "seed of the initialisation (train, sweep), of the added neuron's draws (certify), base seed of the runs (safran-shamir, saddles, regions rank, karhadkar, liu), data and start (balance) (1)"}, F_SEED, OFF(seed)},
    {{"steps", MN_OPTION_INT, TRAINING, 0, 1e12, "N", "gradient steps at most (20000)"}, F_LONG, OFF(steps)},
    {{"lr", MN_OPTION_REAL, TRAINING, TINY, 1e6, "X", "step size (0.1)"}, F_DOUBLE, OFF(opt.lr)},
    {{"gtol", MN_OPTION_REAL, TRAINING, 0, BIG, "X", "stop when the gradient norm is <= X (1e-8)"}, F_DOUBLE, OFF(gtol)},
    {{"max-norm", MN_OPTION_REAL, TRAINING, TINY, BIG, "X", "parameter norm counted as divergence (1e8)"}, F_DOUBLE, OFF(opt.max_norm)},
    {{"save-params", MN_OPTION_TEXT, MN_CMD_TRAIN, 0, 0, "FILE", "write the end point in the params format"}, NONE, 0},
    {{"max-hessian", MN_OPTION_INT, TRAINING | MN_CMD_CERTIFY, 0, 20000, "P", "dense Hessian up to P free parameters (2000), Lanczos beyond; train prints lambda_min/max unless it diverged, beyond P only at stationary points"}, F_INT, OFF(max_hessian)},
    {{"optimizer", MN_OPTION_TEXT, TRAINING, 0, 0, "NAME", "gd|momentum|nesterov|adam|sgd|lbfgs|newton|pgd (gd)"}, F_SPECIAL, 0},
    {{"momentum", MN_OPTION_REAL, TRAINING, 0, 0.999999, "X", "momentum / nesterov coefficient, in [0, 1) (0.9)"}, F_DOUBLE, OFF(opt.momentum)},
    {{"beta1", MN_OPTION_REAL, TRAINING, 0, 0.999999, "X", "adam first-moment decay, in [0, 1) (0.9)"}, F_DOUBLE, OFF(opt.beta1)},
    {{"beta2", MN_OPTION_REAL, TRAINING, 0, 0.999999999, "X", "adam second-moment decay, in [0, 1) (0.999)"}, F_DOUBLE, OFF(opt.beta2)},
    {{"eps", MN_OPTION_REAL, TRAINING, TINY, 1, "X", "adam denominator guard (1e-8)"}, F_DOUBLE, OFF(opt.eps)},
    {{"batch", MN_OPTION_INT, TRAINING, 1, 100000000, "B", "sgd minibatch size; one step of sgd is one epoch (32)"}, F_INT, OFF(opt.batch)},
    {{"memory", MN_OPTION_INT, TRAINING, 1, 1000, "M", "lbfgs pairs kept, 1..1000 (10)"}, F_INT, OFF(opt.memory)},
    {{"pgd-eps", MN_OPTION_REAL, TRAINING, TINY, 1e6, "X", "pgd target gradient norm epsilon (1e-3)"}, F_DOUBLE, OFF(opt.pgd_eps)},
    {{"pgd-c", MN_OPTION_REAL, TRAINING, 1e-6, 1, "X", "pgd constant c, in (0, 1]; step c/l (0.5)"}, F_DOUBLE, OFF(opt.pgd_c)},
    {{"pgd-delta", MN_OPTION_REAL, TRAINING, TINY, 0.999999, "X", "pgd failure probability, in (0, 1) (0.1)"}, F_DOUBLE, OFF(opt.pgd_delta)},
    {{"pgd-rho", MN_OPTION_REAL, TRAINING, TINY, BIG, "X", "pgd Hessian Lipschitz constant (1)"}, F_DOUBLE, OFF(opt.pgd_rho)},
    {{"pgd-l", MN_OPTION_REAL, TRAINING, TINY, BIG, "X", "pgd gradient Lipschitz constant (1)"}, F_DOUBLE, OFF(opt.pgd_l)},
    {{"plateau-window", MN_OPTION_INT, TRAINING, 0, 100000000, "W", "stop as stalled when the loss falls too little over W steps; 0 off (0)"}, F_INT, OFF(opt.plateau_window)},
    {{"plateau-tol", MN_OPTION_REAL, TRAINING, 0, 1, "X", "relative loss decrease counted as a plateau (1e-9)"}, F_DOUBLE, OFF(opt.plateau_tol)},
    {{"polish", MN_OPTION_FLAG, TRAINING, 0, 0, NULL, "end with a Newton polish to a rounding-level gradient"}, F_FLAG, OFF(polish)},
    {{"cert-gtol", MN_OPTION_REAL, TRAINING | MN_CMD_CERTIFY, 0, BIG, "X", "certify: stationary when the gradient norm is <= X (1e-6)"}, F_DOUBLE, OFF(cert.gtol)},
    {{"eig-tol", MN_OPTION_REAL, TRAINING | MN_CMD_CERTIFY, 0, BIG, "X", "certify: eigenvalues within +-X count as zero (1e-8)"}, F_DOUBLE, OFF(cert.eig_tol)},
    {{"global-loss", MN_OPTION_REAL, TRAINING | MN_CMD_CERTIFY | MN_CMD_REGIONS, -BIG, BIG, "X", "certify: the known global loss value (default: unknown; minima are then classified against the best found)"}, F_DOUBLE, OFF(cert.global_loss)},
    {{"global-tol", MN_OPTION_REAL, TRAINING | MN_CMD_CERTIFY | MN_CMD_REGIONS, 0, BIG, "X", "certify: global when loss <= global-loss + X (1e-6)"}, F_DOUBLE, OFF(cert.global_tol)},
    {{"zero-error", MN_OPTION_FLAG, TRAINING | MN_CMD_CERTIFY, 0, 0, NULL, "certify: zero training error also counts as global (margin and softmax losses)"}, F_FLAG, OFF(cert.zero_error)},
    {{"point", MN_OPTION_TEXT, MN_CMD_CERTIFY, 0, 0, "FILE", "the point to certify (params format, plain network)"}, NONE, 0},
    {{"trials", MN_OPTION_INT, MN_CMD_CERTIFY, 1, 100000, "N", "random draws of the added neuron's w (64)"}, F_INT, OFF(trials)},
    {{"grid", MN_OPTION_TEXT, MN_CMD_SWEEP, 0, 0, "KEY=V1,V2,..", "a grid axis over any model/training option (repeatable)"}, NONE, 0},
    {{"config", MN_OPTION_TEXT, MN_CMD_SWEEP, 0, 0, "FILE.json", "{\"base\": {option: value}, \"grid\": {option: [values]}}"}, NONE, 0},
    {{"restarts", MN_OPTION_INT, MN_CMD_SWEEP | EXPERIMENTS, 1, 100000000, "R", "seeded restarts per setting (sweep 10; experiment eliminate 20, --quick 3; arena 10, --quick 3; safran-shamir 1000; saddles 1000, --quick 30; residual: distance targets, 3, --quick 1; implicit-bias: data sets, 3, --quick 1)"}, NONE, 0},
    {{"threads", MN_OPTION_INT, MN_CMD_SWEEP | EXPERIMENTS | MN_CMD_BALANCE | REGIONS | MN_CMD_DEMO, 1, 4096, "T", "OpenMP threads (all cores); results do not depend on it"}, NONE, 0},
    {{"db", MN_OPTION_TEXT, MN_CMD_SWEEP | EXPERIMENTS | MN_CMD_BALANCE | MN_CMD_PATH | MN_CMD_KARHADKAR, 0, 0, "FILE", "SQLite database; re-running resumes (sweep: minima.db; experiment eliminate: eliminate.db; arena: arena.db; safran-shamir, saddles, balance, residual, implicit-bias, karhadkar: none)"}, NONE, 0},
    {{"shard", MN_OPTION_TEXT, MN_CMD_SWEEP, 0, 0, "I/N", "only runs whose index % N == I (0/1)"}, NONE, 0},
    {{"quick", MN_OPTION_FLAG, MN_CMD_ELIMINATE | MN_CMD_ARENA | MN_CMD_SADDLES | MN_CMD_BALANCE | DYNAMICS, 0, 0, NULL, "a small grid (residual, implicit-bias: the test suite's, seconds; eliminate: n 100, 3000 steps, 3 restarts: 360 runs, 10-30 s on 2 free cores; arena: n 40, iris the only real data, 3 restarts; saddles: d 2..8, 30 restarts; balance: steps 0.02,0.01, horizon 10)"}, NONE, 0},
    {{"quiet", MN_OPTION_FLAG, MN_CMD_SAFRAN | MN_CMD_TRAIN, 0, 0, NULL, "no progress line on stderr (shown only when stderr is a terminal)"}, NONE, 0},
    {{"prove", MN_OPTION_FLAG, MN_CMD_SAFRAN, 0, 0, NULL, "prove each distinct spurious minimum in ball arithmetic (minima prove): a proved column, distinct proved / distinct found"}, NONE, 0},
    {{"no-shortcuts", MN_OPTION_FLAG, MN_CMD_SAFRAN, 0, 0, NULL, "the plain protocol: no early global classification, no Newton polish"}, NONE, 0},
    {{"step", MN_OPTION_REAL, MN_CMD_SAFRAN, TINY, BIG, "X", "GD step (default 5/n, the protocol's)"}, NONE, 0},
    {{"max-iter", MN_OPTION_INT, MN_CMD_SAFRAN | MN_CMD_SADDLES, 1, 2000000000, "N", "safety cap on steps per run, reported as not-converged / not passed (safran-shamir 5000000; saddles 1000000)"}, NONE, 0},
    {{"dims", MN_OPTION_TEXT, MN_CMD_SADDLES, 0, 0, "LIST", "octopus dimensions d: 2..10 (default), 12, or 2,4,8"}, NONE, 0},
    {{"gamma", MN_OPTION_REAL, MN_CMD_SADDLES, 1e-3, 1e3, "X", "octopus: escape curvature -gamma at each saddle (1)"}, NONE, 0},
    {{"stable", MN_OPTION_REAL, MN_CMD_SADDLES, 1e-3, 1e3, "X", "octopus: curvature L of the directions still to come (0.6)"}, NONE, 0},
    {{"c", MN_OPTION_REAL, MN_CMD_SADDLES, 1e-6, 1, "X", "GD and PGD step c / ell, ell the gradient's Lipschitz bound; PGD's c (0.5)"}, NONE, 0},
    {{"pgd-eps", MN_OPTION_REAL, MN_CMD_SADDLES, 1e-12, 1e3, "X", "PGD's target gradient norm epsilon (0.1)"}, NONE, 0},
    {{"init", MN_OPTION_REAL, MN_CMD_SADDLES, 1e-12, 0.5, "X", "starts uniform in [-X m, X m]^d, m the well bottom (0.1)"}, NONE, 0},
    {{"no-network", MN_OPTION_FLAG, MN_CMD_SADDLES, 0, 0, NULL, "leave out the linear network part"}, NONE, 0},
    {{"acts", MN_OPTION_TEXT, MN_CMD_BALANCE, 0, 0, "LIST", "activations: relu,leaky_relu,linear,tanh,sigmoid (default: all five)"}, NONE, 0},
    {{"steps", MN_OPTION_TEXT, MN_CMD_BALANCE, 0, 0, "LIST", "GD steps in (0, 1]: 0.04,0.02,0.01,0.005 (default)"}, NONE, 0},
    {{"horizon", MN_OPTION_REAL, MN_CMD_BALANCE, 1e-6, 1e6, "T", "time step x iterations every run covers (20; --quick 10)"}, NONE, 0},
    {{"max-iter", MN_OPTION_INT, DYNAMICS, 1, 2000000000, "N", "GD steps per run (residual 20000, --quick 5000; implicit-bias 100000, --quick 20000)"}, NONE, 0},
    {{"d", MN_OPTION_INT, DYNAMICS, 1, 64, "D", "residual: Phi is D x D (8); implicit-bias: features (16)"}, NONE, 0},
    {{"depth", MN_OPTION_TEXT, DYNAMICS, 0, 0, "LIST", "depths L (residual 1,2,4,8,16,32,64, --quick 1,2,8; implicit-bias 1,2,3,5, --quick 1,2,3)"}, NONE, 0},
    {{"n", MN_OPTION_INT, MN_CMD_IMPLICIT, 1, 100000, "N", "samples (32)"}, NONE, 0},
    {{"teacher", MN_OPTION_TEXT, MN_CMD_IMPLICIT, 0, 0, "NAME", "labels y = sign <x, w*>: gaussian (w* ~ N(0, I)) or frequency (w* one cosine) (frequency)"}, NONE, 0},
    {{"nets", MN_OPTION_TEXT, MN_CMD_IMPLICIT, 0, 0, "LIST", "fc, conv or fc,conv (both)"}, NONE, 0},
    {{"lr", MN_OPTION_REAL, MN_CMD_IMPLICIT, TINY, 1e6, "X", "GD step (0.05)"}, NONE, 0},
    {{"directions", MN_OPTION_INT, MN_CMD_IMPLICIT, 4, 100000, "M", "sides of the polygon standing for |z| in the l1-DFT LP (64)"}, NONE, 0},
    {{"kappa", MN_OPTION_TEXT, MN_CMD_RESIDUAL, 0, 0, "LIST", "condition numbers of the positive definite targets (2,8,32; --quick 2,8)"}, NONE, 0},
    {{"mu", MN_OPTION_TEXT, MN_CMD_RESIDUAL, 0, 0, "LIST", "the negative eigenvalue -mu of the negative targets (0.1,0.5,1; --quick 0.5)"}, NONE, 0},
    {{"dist", MN_OPTION_TEXT, MN_CMD_RESIDUAL, 0, 0, "LIST", "||Phi - I||_2 of the distance targets (0.25,0.5,0.75,1,1.5,2; --quick 0.5,2)"}, NONE, 0},
    {{"family", MN_OPTION_TEXT, MN_CMD_RESIDUAL, 0, 0, "LIST", "target families: pd, negative, distance (all)"}, NONE, 0},
    {{"eps", MN_OPTION_REAL, MN_CMD_RESIDUAL, TINY, 1e6, "X", "converged: loss <= X (1e-8)"}, NONE, 0},
    {{"step-scale", MN_OPTION_REAL, MN_CMD_RESIDUAL, TINY, 1e6, "C", "GD step C / (L max(1, ||Phi||_2)^2) (0.5)"}, NONE, 0},
    {{"grid", MN_OPTION_TEXT, MN_CMD_KARHADKAR, 0, 0, "G", "d0|ratio|both: the grids to run (both)"}, NONE, 0},
    {{"d0", MN_OPTION_INT, MN_CMD_RANK, 1, 10000, "D", "input dimension, 1..10000 (required)"}, NONE, 0},
    {{"d0", MN_OPTION_TEXT, MN_CMD_KARHADKAR, 1, 10000, "LIST", "d0 grid: constant input dimensions (1,2,3,5)"}, NONE, 0},
    {{"ratio", MN_OPTION_TEXT, MN_CMD_KARHADKAR, 1e-3, 100, "LIST", "ratio grid: d0 = max(1, round(ratio n)) (0.25,0.5,1,2)"}, NONE, 0},
    {{"n", MN_OPTION_INT, MN_CMD_RANK, 1, 10000, "N", "samples, 1..10000 (required)"}, NONE, 0},
    {{"n", MN_OPTION_TEXT, MN_CMD_KARHADKAR, 1, 10000, "LIST", "samples n (10..100)"}, NONE, 0},
    {{"width", MN_OPTION_TEXT, CELLS, 1, 100000, "LIST", "hidden widths; each needs width (d0 + 1) >= n, the least for a rank n (rank: required; karhadkar: 10..100)"}, NONE, 0},
    {{"width", MN_OPTION_INT, MN_CMD_LIU, 1, 1000, "W", "hidden units (8)"}, NONE, 0},
    {{"trials", MN_OPTION_INT, CELLS, 1, 1000000, "T", "regions per width / cell (100)"}, NONE, 0},
    {{"lp-trials", MN_OPTION_INT, CELLS, 0, 1000000, "L", "the first L of them also get the LP test of a zero-loss minimum in the region, y ~ N(0, 1) (rank: 0; karhadkar: 10, at most T)"}, NONE, 0},
    {{"samples", MN_OPTION_INT, MN_CMD_LIU, 0, 100000, "N", "a seeded subset of N samples (200; 0: all)"}, NONE, 0},
    {{"cells", MN_OPTION_INT, MN_CMD_LIU, 1, 100000, "C", "cells per active-unit count (20)"}, NONE, 0},
    {{"starts", MN_OPTION_INT, MN_CMD_LIU, 0, 100000, "S", "GD runs (20)"}, NONE, 0},
    {{"steps", MN_OPTION_INT, MN_CMD_LIU, 0, 10000000, "T", "steps of each GD run (2000)"}, NONE, 0},
    {{"lr", MN_OPTION_REAL, MN_CMD_LIU, TINY, BIG, "X", "GD step (0.05)"}, NONE, 0},
    {{"tol", MN_OPTION_REAL, MN_CMD_LIU, 0, BIG, "X", "bad: loss > best found + X (1e-6)"}, NONE, 0},
    {{"plot", MN_OPTION_TEXT, EXPERIMENTS | MN_CMD_KARHADKAR | MN_CMD_BALANCE | MN_CMD_SUMMARY | INSTR, 0, 0, "PREFIX", "also draw PREFIX.png and PREFIX.svg (needs gnuplot)"}, NONE, 0},
    {{"out", MN_OPTION_TEXT, MN_CMD_EXPORT | MN_CMD_SLICE, 0, 0, "FILE", "write to FILE (default: standard output)"}, NONE, 0},
    {{"no-timings", MN_OPTION_FLAG, MN_CMD_EXPORT, 0, 0, NULL, "leave out the seconds column (for comparing databases)"}, NONE, 0},
    {{"top", MN_OPTION_INT, MN_CMD_SPECTRUM, 0, 1e6, "K", "the K largest Hessian eigenvalues by Lanczos, with residuals (5; 0: none)"}, NONE, 0},
    {{"bottom", MN_OPTION_INT, MN_CMD_SPECTRUM, 0, 1e6, "K", "the K smallest Hessian eigenvalues (0)"}, NONE, 0},
    {{"trace", MN_OPTION_FLAG, MN_CMD_SPECTRUM, 0, 0, NULL, "the Hessian trace by Hutchinson (Rademacher probes), with its standard error"}, NONE, 0},
    {{"probes", MN_OPTION_INT, MN_CMD_SPECTRUM, 1, 1e7, "N", "--trace: probe vectors (100)"}, NONE, 0},
    {{"density", MN_OPTION_FLAG, MN_CMD_SPECTRUM, 0, 0, NULL, "the spectral density by stochastic Lanczos quadrature"}, NONE, 0},
    {{"slq-probes", MN_OPTION_INT, MN_CMD_SPECTRUM, 1, 1e6, "N", "--density: Gaussian probe vectors (10)"}, NONE, 0},
    {{"slq-steps", MN_OPTION_INT, MN_CMD_SPECTRUM, 1, 1e6, "N", "--density: Lanczos steps per probe (100)"}, NONE, 0},
    {{"sigma", MN_OPTION_REAL, MN_CMD_SPECTRUM, 1e-12, 1, "X", "--density: Gaussian broadening relative to the spectrum's width (0.01)"}, NONE, 0},
    {{"grid-points", MN_OPTION_INT, MN_CMD_SPECTRUM, 2, 1e6, "N", "--density: grid points (1000)"}, NONE, 0},
    {{"lanczos-steps", MN_OPTION_INT, MN_CMD_SPECTRUM | MN_CMD_SLICE, 1, 1e6, "N", "Lanczos steps at most for --top, --bottom, --dir eig; memory N x P doubles (300)"}, NONE, 0},
    {{"lanczos-tol", MN_OPTION_REAL, MN_CMD_SPECTRUM | MN_CMD_SLICE, 1e-16, 1, "X", "stop when every wanted Ritz residual is <= X max(1, |theta|) (1e-10)"}, NONE, 0},
    {{"dir", MN_OPTION_TEXT, MN_CMD_SLICE, 0, 0, "KIND[,KIND]", "random|filter|eig|toward; two kinds: a 2-D slice (filter)"}, NONE, 0},
    {{"to", MN_OPTION_TEXT, MN_CMD_SLICE, 0, 0, "FILE", "--dir toward: the second point (params format)"}, NONE, 0},
    {{"range", MN_OPTION_TEXT, MN_CMD_SLICE, 0, 0, "A:B", "first coordinate's range (-1:1; toward: -0.5:1.5)"}, NONE, 0},
    {{"range2", MN_OPTION_TEXT, MN_CMD_SLICE, 0, 0, "A:B", "second coordinate's range (-1:1)"}, NONE, 0},
    {{"points", MN_OPTION_INT, MN_CMD_SLICE | MN_CMD_PATH, 2, 100000, "N", "grid points per axis (slice: 51 in 1-D, 25 in 2-D; path: 101)"}, NONE, 0},
    {{"nodes", MN_OPTION_INT, MN_CMD_PATH, 1, 10000, "K", "values of t in the Bezier fit's mean loss (32)"}, NONE, 0},
    {{"fit-steps", MN_OPTION_INT, MN_CMD_PATH, 0, 1e9, "N", "L-BFGS steps at most of the Bezier fit (500)"}, NONE, 0},
    {{"images", MN_OPTION_INT, MN_CMD_PATH, 0, 10000, "M", "interior images of the nudged elastic band, started on the fitted curve (15; 0: no band)"}, NONE, 0},
    {{"band-steps", MN_OPTION_INT, MN_CMD_PATH, 0, 1e9, "N", "FIRE steps at most of the band (2000)"}, NONE, 0},
    {{"climb-after", MN_OPTION_INT, MN_CMD_PATH, 0, 1e9, "N", "steps before the band's highest image climbs to the saddle (100)"}, NONE, 0},
    {{"spring", MN_OPTION_REAL, MN_CMD_PATH, 0, 1e12, "K", "the band's spring constant, loss per squared parameter unit (1)"}, NONE, 0},
    {{"band-tol", MN_OPTION_REAL, MN_CMD_PATH, 1e-300, 1e300, "X", "stop the band when every image's force norm is <= X (1e-6)"}, NONE, 0},
    {{"global-upper", MN_OPTION_REAL, MN_CMD_PROVE, -BIG, BIG, "V", "prove network: a proven upper bound of the global minimum value (spurious: the minimum's value is proved above it)"}, NONE, 0},
    {{"cert", MN_OPTION_TEXT, MN_CMD_PROVE | MN_CMD_PROVE_POP, 0, 0, "OUT", "write a certificate (JSON) when proved"}, NONE, 0},
    {{"global-point", MN_OPTION_TEXT, MN_CMD_PROVE, 0, 0, "FILE", "prove network: parameters of a good point; its loss, enclosed in balls, bounds the global value"}, NONE, 0},
    {{"out", MN_OPTION_TEXT, MN_CMD_ATTACK, 0, 0, "DIR", "attack NAME: write DIR/data.csv, DIR/point.txt and DIR/certify.sh (DIR is created)"}, NONE, 0},
    {{"k", MN_OPTION_INT, MN_CMD_PROVE_POP, 1, MN_POPUL_MAX_K, "K", "prove population: teacher units = input dimension"}, NONE, 0},
    {{"n", MN_OPTION_INT, MN_CMD_PROVE_POP, 1, MN_POPUL_MAX_N, "N", "prove population: student units"}, NONE, 0},
    {{"point", MN_OPTION_TEXT, MN_CMD_PROVE_POP, 0, 0, "FILE", "prove population: N lines of K numbers, the student units (# comments and blank lines skipped)"}, NONE, 0},
    {{"check", MN_OPTION_TEXT, MN_CMD_PROVE_POP, 0, 0, "CERT", "re-verify a certificate on its own (exit 2 when it does not hold); only --json beside it"}, NONE, 0},
    {{"help", MN_OPTION_FLAG, ~0u, 0, 0, NULL, "this help"}, NONE, 0}, /* every command, a new one too */
};
#define NTABLE ((int)(sizeof table / sizeof *table))

int mn_option_count(void) { return NTABLE; }

const mn_option *mn_option_at(int i) { return i >= 0 && i < NTABLE ? &table[i].o : NULL; }

const mn_option *mn_option_find(const char *name, unsigned cmds, int prefix)
{
    const mn_option *hit = NULL;
    const size_t len = strlen(name);
    int nhit = 0;
    for (int i = 0; i < NTABLE; i++) {
        if (!(table[i].o.cmds & cmds)) continue;
        if (!strcmp(table[i].o.name, name)) return &table[i].o;
        if (prefix && len && !strncmp(table[i].o.name, name, len)) hit = &table[i].o, nhit++;
    }
    return nhit == 1 ? hit : NULL;
}

mn_status mn_option_of(const mn_option **o, const char *name, unsigned cmd, const char *what, const char *v)
{
    if (!(*o = mn_option_find(name, cmd, 0))) return mn_fail(MN_EINVAL, "unknown option '--%s' of %s", name, what);
    if (v && !*v && !strcmp(name, "plot")) return mn_fail(MN_EINVAL, "option '--plot' needs a non-empty value");
    return MN_OK;
}

mn_status mn_option_real(double *out, const mn_option *o, const char *s)
{
    char *end;
    errno = 0;
    const double v = strtod(s, &end);
    if (end == s || *end || errno == ERANGE || !isfinite(v))
        return mn_fail(MN_EINVAL, "--%s '%s' is not a finite number", o->name, s);
    if (v < o->lo || v > o->hi) return mn_fail(MN_EINVAL, "--%s '%s' is out of range [%g, %g]", o->name, s, o->lo, o->hi);
    *out = v;
    return MN_OK;
}

mn_status mn_option_int(long *out, const mn_option *o, const char *s)
{
    char *end;
    errno = 0;
    const long v = strtol(s, &end, 10);
    if (end == s || *end || errno == ERANGE) return mn_fail(MN_EINVAL, "--%s '%s' is not an integer", o->name, s);
    if ((double)v < o->lo || (double)v > o->hi)
        return mn_fail(MN_EINVAL, "--%s '%s' is out of range [%.15g, %.15g]", o->name, s, o->lo, o->hi);
    *out = v;
    return MN_OK;
}

mn_status mn_option_seed(uint64_t *out, const mn_option *o, const char *s)
{
    char *end;
    errno = 0;
    if (*s == '-') return mn_fail(MN_EINVAL, "--%s '%s' is not a non-negative integer", o->name, s);
    const unsigned long long v = strtoull(s, &end, 10);
    if (end == s || *end || errno == ERANGE)
        return mn_fail(MN_EINVAL, "--%s '%s' is not a non-negative integer", o->name, s);
    *out = v;
    return MN_OK;
}

/* One element of a list, checked against o's range; *end past it. */
static mn_status list_long(long *v, char **end, const mn_option *o, const char *p, const char *s, const char *like)
{
    errno = 0;
    *v = strtol(p, end, 10);
    if (*end == p || errno) return mn_fail(MN_EINVAL, "--%s '%s' is not %s", o->name, s, like);
    if ((double)*v < o->lo || (double)*v > o->hi)
        return mn_fail(MN_EINVAL, "--%s '%s': %ld is out of range [%.15g, %.15g]", o->name, s, *v, o->lo, o->hi);
    return MN_OK;
}

mn_status mn_option_int_list(int *out, int max, int *n, const mn_option *o, const char *s)
{
    static const char range[] = "a range A..B or A..B:S (A <= B, step >= 1)";
    static const char list[] = "a list of integers like 10,20 or a range 10..100";
    const char *dots = strstr(s, "..");
    char *end;
    long a, b, step;
    *n = 0;
    if (dots) {
        if (list_long(&a, &end, o, s, s, range)) return MN_EINVAL;
        if (end != dots) return mn_fail(MN_EINVAL, "--%s '%s' is not %s", o->name, s, range);
        if (list_long(&b, &end, o, dots + 2, s, range)) return MN_EINVAL;
        step = a;
        if (*end == ':') {
            errno = 0;
            const char *p = end + 1;
            step = strtol(p, &end, 10);
            if (end == p || errno) step = 0;
        }
        if (*end || step < 1 || a > b) return mn_fail(MN_EINVAL, "--%s '%s' is not %s", o->name, s, range);
        for (long v = a; v <= b; v += step) {
            if (*n == max) return mn_fail(MN_EINVAL, "--%s '%s' has more than %d values", o->name, s, max);
            out[(*n)++] = (int)v;
        }
        return MN_OK;
    }
    for (const char *p = s;; p = end + 1) {
        if (list_long(&a, &end, o, p, s, list)) return MN_EINVAL;
        if (*end && *end != ',') return mn_fail(MN_EINVAL, "--%s '%s' is not %s", o->name, s, list);
        if (*n == max) return mn_fail(MN_EINVAL, "--%s '%s' has more than %d values", o->name, s, max);
        out[(*n)++] = (int)a;
        if (!*end) return MN_OK;
    }
}

mn_status mn_option_real_list(double *out, int max, int *n, const mn_option *o, const char *s)
{
    *n = 0;
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        const double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end && *end != ','))
            return mn_fail(MN_EINVAL, "--%s '%s' is not a list of numbers like 0.25,0.5", o->name, s);
        if (v < o->lo || v > o->hi)
            return mn_fail(MN_EINVAL, "--%s '%s': %g is out of range [%g, %g]", o->name, s, v, o->lo, o->hi);
        if (*n == max) return mn_fail(MN_EINVAL, "--%s '%s' has more than %d values", o->name, s, max);
        out[(*n)++] = v;
        if (!*end) return MN_OK;
        p = end + 1;
    }
}

void mn_options_default(mn_options *o)
{
    memset(o, 0, sizeof *o);
    mn_spec_default(&o->spec);
    o->spec.loss = MN_LOSS_POLY_HINGE;
    mn_opt_params_default(&o->opt);
    mn_cert_opts_default(&o->cert);
    o->gen_n = 200, o->gen_dim = 2, o->gen_k = 4, o->noise = NAN, o->margin = 0.1, o->data_seed = 1;
    o->seed = 1, o->steps = 20000, o->gtol = 1e-8, o->frozen_value = 1.0, o->max_hessian = 2000;
    o->trials = 64;
    o->flip = NAN;
    o->positive = -1;
    o->slope = 0.01, o->sharpness = 1.0;
}

static mn_status parse_freeze(uint64_t *frozen, const char *s)
{
    const char *p = s;
    for (;;) {
        char *end;
        errno = 0;
        const long l = strtol(p, &end, 10);
        if (end == p || errno || l < 1 || l > MN_MAX_DEPTH || (*end && *end != ','))
            return mn_fail(MN_EINVAL, "--freeze '%s' is not a list of layer numbers like 2 or 1,2", s);
        *frozen |= (uint64_t)1 << (l - 1);
        if (!*end) return MN_OK;
        p = end + 1;
    }
}

/* The run-option entry of a full name (the model/training entries come
 * before the experiments' entries of the same name). */
static const entry *run_entry(const char *name)
{
    for (int i = 0; i < NTABLE; i++)
        if (table[i].target != NONE && !strcmp(table[i].o.name, name)) return &table[i];
    return NULL;
}

mn_status mn_options_set(mn_options *o, const char *name, const char *v)
{
    const entry *e = run_entry(name);
    if (!e) return mn_fail(MN_EINVAL, "unknown option '%s'", name);
    const mn_option *d = &e->o;
    char *base = (char *)o;
    int on = 1;
    if (d->kind == MN_OPTION_FLAG) {
        if (v && strcmp(v, "on") && strcmp(v, "off"))
            return mn_fail(MN_EINVAL, "'%s' is a flag: its values are on and off, not '%s'", name, v);
        on = !v || !strcmp(v, "on");
    } else if (!v) {
        return mn_fail(MN_EINVAL, "option '--%s' needs a value", name);
    }
    long lv;
    switch (e->target) {
    case F_DOUBLE: return mn_option_real((double *)(base + e->off), d, v);
    case F_INT: {
        mn_status st = mn_option_int(&lv, d, v);
        if (!st) *(int *)(base + e->off) = (int)lv;
        return st;
    }
    case F_LONG: return mn_option_int((long *)(base + e->off), d, v);
    case F_SEED: return mn_option_seed((uint64_t *)(base + e->off), d, v);
    case F_STR: *(const char **)(base + e->off) = v; return MN_OK;
    case F_FLAG: *(int *)(base + e->off) = on; return MN_OK;
    default: break;
    }
    if (!strcmp(name, "act")) return mn_act_parse(&o->spec.act, v);
    if (!strcmp(name, "init")) return mn_init_parse(&o->spec.init, v);
    if (!strcmp(name, "loss")) return mn_loss_parse(&o->spec.loss, v);
    if (!strcmp(name, "eliminate")) return mn_elim_parse(&o->spec.elim, v);
    if (!strcmp(name, "optimizer")) return mn_opt_parse(&o->opt.kind, v);
    if (!strcmp(name, "freeze")) return parse_freeze(&o->spec.frozen, v);
    if (!strcmp(name, "no-bias")) return o->spec.bias = !on, MN_OK;
    if (!strcmp(name, "skip")) return o->spec.skip = on, MN_OK;
    if (!strcmp(name, "slope")) return o->slope_given = 1, mn_option_real(&o->slope, d, v);
    return o->sharpness_given = 1, mn_option_real(&o->sharpness, d, v); /* "sharpness" */
}

mn_status mn_options_check(mn_options *o)
{
    if (o->slope_given && o->spec.act != MN_ACT_LEAKY_RELU)
        return mn_fail(MN_EINVAL, "--slope applies to --act leaky_relu only");
    if (o->sharpness_given && o->spec.act != MN_ACT_SOFTPLUS)
        return mn_fail(MN_EINVAL, "--sharpness applies to --act softplus only");
    o->spec.act_param = o->spec.act == MN_ACT_SOFTPLUS ? o->sharpness : o->slope;
    return MN_OK;
}
