/*
 * minima.h — public API of libminima: networks with eliminating neurons,
 * exact loss / gradient / Hessian-vector products / Hessians, data.
 *
 * Conventions
 *  - Every fallible function returns mn_status; on failure mn_last_error()
 *    holds a one-line message (thread-local) naming the problem.
 *  - Outputs come first in argument lists; the caller owns what it passes in.
 *  - Objects made by mn_X_alloc are released by mn_X_free (NULL is fine).
 *  - Matrices are row-major doubles; shapes are given as (rows x cols).
 */
#ifndef MINIMA_H
#define MINIMA_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define MN_VERSION "0.1.0"
#define MN_MAX_DEPTH 32     /* weight layers in one network */
#define MN_MAX_WIDTH 100000 /* units in one layer */

typedef enum {
    MN_OK = 0,
    MN_EINVAL,  /* bad argument, size or option value */
    MN_ENOMEM,  /* allocation failed */
    MN_EIO,     /* file missing or unreadable */
    MN_EFORMAT, /* malformed file contents */
    MN_ERANGE,  /* overflow or non-finite value during evaluation */
    MN_ELAPACK  /* LAPACK reported a failure */
} mn_status;

/* The message of the last failure in this thread ("" when none). */
const char *mn_last_error(void);
/* Record a failure (used by the library and the CLI); returns st. */
mn_status mn_fail(mn_status st, const char *fmt, ...)
#if defined(__GNUC__)
    __attribute__((format(printf, 2, 3)))
#endif
    ;

/* ------------------------------------------------------------------ */
/* Random numbers: xoshiro256** seeded through splitmix64.             */
typedef struct {
    uint64_t s[4];
} mn_rng;
void mn_rng_seed(mn_rng *r, uint64_t seed);
uint64_t mn_rng_u64(mn_rng *r);
double mn_rng_uniform(mn_rng *r); /* in [0, 1) */
double mn_rng_normal(mn_rng *r);  /* standard normal */
/* A seed derived from a base seed and a list of indices (order matters). */
uint64_t mn_seed_derive(uint64_t base, const uint64_t *idx, int nidx);
/* 64-bit FNV-1a of n bytes at p, continuing from h (start with
 * MN_FNV_OFFSET). */
#define MN_FNV_OFFSET 0xcbf29ce484222325ULL
uint64_t mn_hash_bytes(uint64_t h, const void *p, size_t n);

/* ------------------------------------------------------------------ */
/* Data: n samples, d features, m label columns.                       */
typedef struct mn_data mn_data;

mn_status mn_data_alloc(mn_data **out, int n, int d, int m);
void mn_data_free(mn_data *data);
int mn_data_n(const mn_data *data);
int mn_data_d(const mn_data *data);
int mn_data_m(const mn_data *data);
double *mn_data_x(mn_data *data); /* (n x d) */
double *mn_data_y(mn_data *data); /* (n x m) */
const double *mn_data_xc(const mn_data *data);
const double *mn_data_yc(const mn_data *data);
/* A view over the caller's arrays x (n x d) and y (n x m; NULL when m = 0),
 * which are not copied: they must outlive the view, which mn_data_free
 * releases without touching them. The library only reads data it evaluates
 * on; mn_data_x / mn_data_y of a view return the caller's pointers, so
 * mn_data_standardize and mn_data_flip_labels write into them. Lets a
 * binding evaluate on its own arrays without a copy per call. */
mn_status mn_data_view(mn_data **out, int n, int d, int m, const double *x, const double *y);

/* Read a CSV file with a header row. label: column names or 0-based
 * indices, comma separated ("y" or "3" or "y1,y2"); every other column is a
 * feature; NULL: no label column (a blank list is MN_EINVAL). Rejects
 * malformed rows (file:line:column and reason), NaN/Inf, NUL bytes, lines
 * longer than 16 MiB, empty files and absent label columns. */
mn_status mn_data_read_csv(mn_data **out, const char *path, const char *label);
/* The data's identity for resuming and merging sweeps: "fnv1a64:<16 hex
 * digits> n=N d=D m=M", the hash over the bytes of x then y (native
 * doubles) -- exactly what the runs see, after standardising or flipping.
 * key gets at most len bytes (64 always suffice). */
void mn_data_key(char *key, size_t len, const mn_data *data);
/* A parameter file: exactly P whitespace-separated finite numbers (theta,
 * P), as --save-params writes them; a leading UTF-8 byte-order mark is
 * skipped. One-line errors name the file and the first problem: a NUL byte
 * (binary file), a token that is not a number (non-ASCII bytes shown as
 * \xHH) or longer than 128 bytes, a non-finite value, too few numbers, or
 * more than P (reading stops at the first surplus one, so an endless stream
 * such as /dev/zero or `yes 1` ends). */
mn_status mn_params_read(double *theta, size_t P, const char *path);
/* Shift and scale every feature to mean 0, variance 1 (constant features are
 * rejected: they cannot be scaled). */
mn_status mn_data_standardize(mn_data *data);
/* Label noise: negates every label of round(fraction * n) samples drawn
 * uniformly without replacement (a partial Fisher-Yates shuffle on the stream
 * mn_seed_derive(seed, {0x666c6970}, 1), so a generator's own seed can be
 * passed). Every label must be -1 or +1 (MN_EINVAL names the first that is
 * not; nothing is changed then); fraction in [0, 1]. */
mn_status mn_data_flip_labels(mn_data *data, double fraction, uint64_t seed);

/* Real data sets by name: the small CSV files of Debian's python3-sklearn
 * (sklearn/datasets/data): "iris" (150 x 4, 3 classes), "wine" (178 x 13, 3),
 * "breast_cancer" (569 x 30, 2: 0 malignant, 1 benign), "digits" (1797 8x8
 * images, 64 features in 0..16, 10 classes). Features as stored (not
 * scaled). Labels: */
typedef enum {
    MN_LABELS_CLASS, /* one column: the class index 0..K-1 */
    MN_LABELS_PM1,   /* one column: +1 for the positive class, -1 otherwise */
    MN_LABELS_01,    /* one column: 1 for the positive class, 0 otherwise */
    MN_LABELS_OVR    /* K columns, one-vs-rest: column k is +1 for class k, -1 otherwise */
} mn_labelling;
/* "class", "pm1", "01", "ovr". */
mn_status mn_labelling_parse(mn_labelling *out, const char *name);
const char *mn_labelling_name(mn_labelling l);
/* "iris|wine|breast_cancer|digits". */
const char *mn_dataset_names(void);
/* positive: the positive class of pm1 / 01 (-1: the set must have two
 * classes, class 1 is positive; must be -1 for class / ovr). dir: the folder
 * of the files (NULL: Debian's /usr/lib/python3/dist-packages/sklearn/
 * datasets/data). Checks the first line (n, d), the field count of every row,
 * the row count and that every class is an integer in 0..K-1 (MN_EFORMAT with
 * file:line); MN_EIO when the file is missing; MN_EINVAL for an unknown name
 * or labelling. */
mn_status mn_data_load_dataset(mn_data **out, const char *name, mn_labelling lab, int positive, const char *dir);

/* Generators; binary labels are -1/+1, all deterministic in the seed. */
mn_status mn_gen_xor(mn_data **out, int n, double noise, uint64_t seed);
mn_status mn_gen_spirals(mn_data **out, int n, double noise, uint64_t seed);
/* d features, labels sign(u.x) for a random unit u, |u.x| >= margin. */
mn_status mn_gen_separable(mn_data **out, int n, int d, double margin, uint64_t seed);
/* x ~ N(0, I_k), y = sum_j relu(x_j) (k orthonormal ReLU units, V = I). */
mn_status mn_gen_teacher_relu(mn_data **out, int n, int k, uint64_t seed);

/* ------------------------------------------------------------------ */
/* Models.                                                             */
typedef enum {
    MN_ACT_RELU,
    MN_ACT_LEAKY_RELU, /* act_param: slope for z < 0 */
    MN_ACT_SOFTPLUS,   /* act_param: sharpness beta, log(1 + exp(beta z)) / beta */
    MN_ACT_SIGMOID,
    MN_ACT_TANH,
    MN_ACT_QUADRATIC, /* z^2 */
    MN_ACT_LINEAR
} mn_act;

typedef enum {
    MN_LOSS_SQUARED,       /* (1/2) sum_k (f_k - y_k)^2 */
    MN_LOSS_LOGISTIC,      /* sum_k log(1 + exp(-y_k f_k)), y in {-1, +1} */
    MN_LOSS_SOFTMAX_CE,    /* -log softmax(f)_c, class label c in 0..K-1 */
    MN_LOSS_POLY_HINGE,    /* sum_k max(1 - y_k f_k, 0)^p, p = loss_p */
    MN_LOSS_SQUARED_HINGE  /* sum_k max(1 - y_k f_k, 0)^2 */
} mn_loss;

typedef enum {
    MN_ELIM_NONE,
    MN_ELIM_LIANG,      /* one a*exp(w.x + b) into the single output */
    MN_ELIM_PER_OUTPUT, /* one such neuron per output unit */
    MN_ELIM_PER_LAYER   /* reserved: not implemented (see README) */
} mn_elim;

/* Layer operators (src/model/layer_*.c). Each maps the previous layer's
 * output h (w_{l-1} numbers per sample) to pre-activations z (w_l):
 *   DENSE   z = W h + b,  W (w_l x w_{l-1}) row-major, b (w_l);
 *   CONV1D  circular 1-D convolution with a full-width filter (w_l = w_{l-1} = D):
 *           z[k] = sum_{j=0}^{D-1} f[j] h[(k + j) mod D] + c,  filter f (D), one
 *           shared bias c (a scalar, when biases are on). This is the layer of
 *           Gunasekar, Lee, Soudry, Srebro (NeurIPS 2018) without their 1/sqrt(D)
 *           factor: their filter is sqrt(D) f. The filter f = e_0 is the identity. */
typedef enum {
    MN_LAYER_DENSE, /* the default: a zeroed spec is an MLP */
    MN_LAYER_CONV1D
} mn_layer_kind;

/* Initialisation of the weights (mn_model_init). */
typedef enum {
    MN_INIT_RANDOM,  /* W_l ~ N(0, 1/w_{l-1}) entrywise (conv1d: filter entries likewise) */
    MN_INIT_IDENTITY /* as RANDOM, then every square layer (dense w_l = w_{l-1}, and
                        every conv1d) gets the identity: W = I, filter e_0; a spec
                        without a square layer is refused */
} mn_init;

typedef struct {
    int depth;                    /* number of weight layers L, 1..MN_MAX_DEPTH */
    int width[MN_MAX_DEPTH + 1];  /* width[0] = inputs d, width[L] = outputs K */
    mn_layer_kind layer[MN_MAX_DEPTH + 1]; /* layer[l], l = 1..L: its operator (layer[0] unused) */
    mn_init init;                 /* weight initialisation (random) */
    mn_act act;                   /* hidden activation; the output layer is linear */
    double act_param;
    int bias;                     /* 1: every layer has its bias (dense: a vector, conv1d: one number) */
    int skip;                     /* 1: linear skip S (K x d) from input to output */
    uint64_t frozen;              /* bit l-1 set: layer l is held at its values */
    mn_loss loss;
    double loss_p;                /* exponent of the polynomial hinge (> 1) */
    mn_elim elim;
    double lambda;                /* penalty (lambda/2) sum_k a_k^2 */
} mn_spec;

/* A spec with documented defaults: relu, biases on, squared loss, p = 3,
 * leaky slope 0.01, softplus sharpness 1, no eliminator, lambda = 10 (the
 * arena's measured best; 0.01 before issue 11). */
void mn_spec_default(mn_spec *spec);
/* "4-16-16-1" -> depth and widths; every layer dense. */
mn_status mn_spec_parse_arch(mn_spec *spec, const char *arch);
/* The layer syntax: layers from the input up, separated by '-' (as in
 * --arch, so a sweep's --grid can list several, comma-separated),
 *   dense:W   a dense layer of width W (1..MN_MAX_WIDTH)
 *   conv1d    a circular convolution, width = its input's width
 * e.g. "conv1d-conv1d-dense:1" -> depth 3, widths d-d-d-1. The input width
 * d (the data's features) is given. Sets depth, widths and layer kinds. */
mn_status mn_spec_parse_layers(mn_spec *spec, const char *layers, int d);
mn_status mn_init_parse(mn_init *out, const char *name);
const char *mn_layer_name(mn_layer_kind k); /* "dense", "conv1d" */
const char *mn_init_name(mn_init i);        /* "random", "identity" */
mn_status mn_act_parse(mn_act *out, const char *name);
mn_status mn_loss_parse(mn_loss *out, const char *name);
mn_status mn_elim_parse(mn_elim *out, const char *name);
const char *mn_act_name(mn_act a);
const char *mn_loss_name(mn_loss l);
const char *mn_elim_name(mn_elim e);
/* 1 when the loss takes -1/+1 labels (logistic and hinges). */
int mn_loss_is_margin(mn_loss l);

typedef struct mn_model mn_model;

/* Validates the spec (sizes, values, combinations) and lays out the flat
 * parameter vector:
 *   for l = 1..L: W_l (width[l] x width[l-1], row-major), then b_l (width[l])
 *                 (conv1d: its filter (width[l]), then its bias (1))
 *   then S (K x d) when skip is on,
 *   then the added neurons, neuron by neuron: a, w (d), b. */
mn_status mn_model_alloc(mn_model **out, const mn_spec *spec);
void mn_model_free(mn_model *model);
const mn_spec *mn_model_spec(const mn_model *model);
size_t mn_model_nparams(const mn_model *model);
/* Number of added (eliminating) neurons: 0, 1 or K. */
int mn_model_nelim(const mn_model *model);
/* Offset of added neuron j's a in the flat vector (w follows, then b). */
size_t mn_model_elim_offset(const mn_model *model, int j);
/* Offsets of layer l's (1-based) weights and biases (bias: SIZE_MAX if off). */
size_t mn_model_w_offset(const mn_model *model, int l);
size_t mn_model_b_offset(const mn_model *model, int l);
/* mask[i] = 1 when parameter i is trainable, 0 when frozen. (P) */
void mn_model_free_mask(const mn_model *model, unsigned char *mask);
/* Documented initialisation: W_l ~ N(0, 1/width[l-1]) (conv1d filters
 * likewise), biases 0, S = 0, added neurons a = 0, w = 0, b = 0 (so the
 * neuron starts as the constant a: a drawn w ~ N(0, 1/d) makes the
 * curvature along a, mean_i loss'' e^{2 w.x_i}, too large for GD's step on
 * heavy-tailed inputs; measurements in docs/eliminate.md).
 * spec.init = identity then sets every square layer to the identity (the
 * draws are made all the same, so the other layers do not change). Frozen
 * layers get `frozen_value` for every weight and 0 for biases (identity or
 * not). */
void mn_model_init(const mn_model *model, double *theta, uint64_t seed, double frozen_value);
/* Checks that data fits the model: d, label columns and label values. */
mn_status mn_model_check_data(const mn_model *model, const mn_data *data);

/* Workspace for evaluations on up to n samples (caller-owned, reusable). */
typedef struct mn_work mn_work;
mn_status mn_work_alloc(mn_work **out, const mn_model *model, int n);
void mn_work_free(mn_work *work);

/* Objective L(theta) = (1/N) sum_i loss(f(x_i), y_i) + (lambda/2) sum_k a_k^2.
 * grad (P) may be NULL. Returns MN_ERANGE (and says where) if an exponent
 * overflows or a value turns non-finite. */
mn_status mn_eval(const mn_model *model, mn_work *work, const mn_data *data,
                  const double *theta, double *loss, double *grad);
/* Exact Hessian-vector product hv = H(theta) v by Pearlmutter's R-operator;
 * also returns loss and grad (either may be NULL). */
mn_status mn_hvp(const mn_model *model, mn_work *work, const mn_data *data,
                 const double *theta, const double *v, double *hv,
                 double *loss, double *grad);
/* Full Hessian H (P x P) by P exact products, symmetrised. */
mn_status mn_hessian(const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, double *hess);
/* Network outputs f(x_i) (n x K), added neurons included. */
mn_status mn_predict(const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, double *out);
/* Smallest |pre-activation| over all samples and hidden units: the distance
 * to the nearest ReLU / leaky-ReLU kink (INFINITY when no kinked unit). */
mn_status mn_kink_margin(const mn_model *model, mn_work *work, const mn_data *data,
                         const double *theta, double *margin);
/* Smallest |pre-activation| over all samples and hidden units, whatever the
 * activation (INFINITY without hidden layers): for tanh and sigmoid, how far
 * the least saturated unit is from saturation (mn_saturation_z). */
mn_status mn_preact_margin(const mn_model *model, mn_work *work, const mn_data *data,
                           const double *theta, double *margin);
/* The |z| past which act'(z) < DBL_EPSILON act'(0): 0.5 ln(4 / DBL_EPSILON)
 * = 18.7 for tanh, ln(4 / DBL_EPSILON) = 37.4 for sigmoid (their derivatives
 * 4 e^{-2|z|} and e^{-|z|} to within rounding there); INFINITY for
 * activations that do not saturate. */
double mn_saturation_z(mn_act act);
/* Fraction of samples classified correctly (margin losses, and the squared
 * loss on labels that are all -1 or +1: y f > 0 per output; softmax:
 * argmax = class). MN_EINVAL for the squared loss on other labels. */
mn_status mn_accuracy(const mn_model *model, mn_work *work, const mn_data *data,
                      const double *theta, double *acc);

/* ------------------------------------------------------------------ */
/* Optimisers: an initialise / iterate / test loop the caller drives.  */
/* Every optimiser works on the free parameters only (mn_model_free_mask; an objective's mask):
 * frozen entries of theta never change, bit for bit. All are deterministic:
 * the same inputs (seed included) give the same iterates. */
typedef enum {
    MN_OPT_GD,       /* gradient descent: theta -= lr g */
    MN_OPT_MOMENTUM, /* heavy ball: v = momentum v - lr g; theta += v */
    MN_OPT_NESTEROV, /* Nesterov, in the look-ahead variables phi = theta + momentum v:
                        phi += momentum^2 v - (1 + momentum) lr g(phi);
                        v = momentum v - lr g(phi); the point held is phi */
    MN_OPT_ADAM,     /* Adam (Kingma & Ba) with bias correction: lr, beta1, beta2, eps */
    MN_OPT_SGD,      /* minibatch SGD: ONE ITERATION IS ONE EPOCH: the sample order is
                        reshuffled (Fisher-Yates on one xoshiro stream seeded by `seed`),
                        then one step theta -= lr g_batch per minibatch of `batch` samples
                        (the last one smaller), then one full-data evaluation, which is
                        what loss / gnorm / the tests see; max_norm is checked after every
                        minibatch step */
    MN_OPT_LBFGS,    /* L-BFGS with `memory` pairs and a backtracking Armijo line search
                        (c1 = 1e-4, halving, first trial step 1; lr scales the first
                        direction -lr g); pairs with s.y <= 1e-12 |s||y| are skipped */
    MN_OPT_NEWTON,   /* Newton polish for a point near a critical point of any index:
                        Levenberg-Marquardt on the equations grad L = 0 with the exact
                        free-parameter Hessian (eigen-decomposed), so a step is
                        d = -sum_k lambda_k / (lambda_k^2 + mu) (q_k . g) q_k; a step is
                        taken only when it lowers ||g||, mu then /10, otherwise *10;
                        stalls (MN_RUN_STALLED) when ||g|| cannot be lowered further,
                        i.e. at rounding level. Free parameters <= 4000 */
    MN_OPT_PGD       /* perturbed GD (Jin, Ge, Netrapalli, Kakade, Jordan 2017), below */
} mn_opt_kind;
#define MN_NOPT 8
/* "gd", "momentum", "nesterov", "adam", "sgd", "lbfgs", "newton", "pgd". */
const char *mn_opt_name(mn_opt_kind k);
mn_status mn_opt_parse(mn_opt_kind *out, const char *name);

/* Perturbed gradient descent. With d free parameters and
 *   chi = 3 max(ln(d l Df / (c eps^2 delta)), 4),  eta = c / l,
 *   r = sqrt(c) eps / (chi^2 l),  g_thres = sqrt(c) eps / chi^2,
 *   f_thres = (c / chi^3) sqrt(eps^3 / rho),  t_thres = ceil((chi / c^2) l / sqrt(rho eps)),
 * starting with t_noise = -t_thres - 1, step t does:
 *   if ||g|| <= g_thres and t - t_noise > t_thres: save x~ = x, t_noise = t,
 *       x += a uniform sample from the ball of radius r (free parameters);
 *   if t - t_noise == t_thres and f(x) - f(x~) > -f_thres: stop at x~
 *       (MN_RUN_CONVERGED, why = "converged to a second-order point ...");
 *   x -= eta g.
 * lr is not used (eta = c / l). The gradient-norm and plateau tests do not
 * apply to PGD: its own rule decides (a saddle has a zero gradient too). */

typedef struct {
    mn_opt_kind kind;
    double lr;        /* step size (0.1) */
    double max_norm;  /* a parameter norm past this is divergence (1e8) */
    double momentum;  /* heavy ball and Nesterov coefficient, in [0, 1) (0.9) */
    double beta1;     /* Adam first-moment decay, in [0, 1) (0.9) */
    double beta2;     /* Adam second-moment decay, in [0, 1) (0.999) */
    double eps;       /* Adam denominator guard, > 0 (1e-8) */
    int batch;        /* SGD minibatch size, >= 1 (32; >= n is full batch) */
    uint64_t seed;    /* SGD sample order and PGD perturbations (1) */
    int memory;       /* L-BFGS pairs kept, 1..1000 (10) */
    double damping;   /* Newton: initial mu = damping * max lambda^2 (1e-10) */
    double pgd_eps;   /* PGD target gradient norm epsilon (1e-3) */
    double pgd_c;     /* PGD constant c, in (0, 1] (0.5) */
    double pgd_delta; /* PGD failure probability delta, in (0, 1) (0.1) */
    double pgd_rho;   /* PGD Hessian Lipschitz constant rho (1) */
    double pgd_l;     /* PGD gradient Lipschitz constant l (1) */
    double pgd_df;    /* PGD Delta_f = f(x0) - f*; NaN: the loss at x0, at least 1e-12 (NaN) */
    int plateau_window; /* plateau rule over this many iterations; 0 = off (0) */
    double plateau_tol; /* stalled when (L(t-W) - L(t)) / max(|L(t-W)|, 1e-300) < this (1e-9) */
    /* 1: no gradient or parameter norm after each evaluation (two passes
     * over the P parameters a step): mn_optim_gnorm is NaN, the gradient
     * test never says CONVERGED, max_norm is not applied and DIVERGED means
     * a non-finite value only; the caller tests norms of its own. GD,
     * momentum, Nesterov and Adam only (the others read the norm). (0) */
    int skip_norms;
} mn_opt_params;

typedef enum {
    MN_RUN_RUNNING,   /* keep iterating */
    MN_RUN_CONVERGED, /* gradient norm <= tolerance, or PGD's second-order stop */
    MN_RUN_DIVERGED,  /* non-finite value or parameter norm past max_norm */
    MN_RUN_STALLED    /* no progress: the plateau rule, a failed L-BFGS line search,
                         or Newton unable to lower ||g||; mn_optim_why says which */
} mn_run_state;

typedef struct mn_optim mn_optim;

/* Documented defaults: GD, and every field's default given above. */
void mn_opt_params_default(mn_opt_params *prm);
/* The network on data; mn_optim_alloc_objective (minima/objective.h) is the
 * same on any objective. Copies theta0 (P); the model, work and data must
 * outlive the optimiser.
 * Evaluates at theta0 (a non-finite value there makes the run DIVERGED).
 * MN_EINVAL names a parameter out of range; MN_ENOMEM. */
mn_status mn_optim_alloc(mn_optim **out, const mn_model *model, mn_work *work, const mn_data *data,
                         const mn_opt_params *prm, const double *theta0);
void mn_optim_free(mn_optim *opt);
/* One step (SGD: one epoch). A non-finite evaluation is not an error: the
 * state turns DIVERGED and mn_optim_why says where. A no-op once the run has
 * diverged or stopped by its own rule. Errors: MN_ENOMEM, MN_ELAPACK. */
mn_status mn_optim_iterate(mn_optim *opt);
/* State after the last step (or the start), decided in this order:
 * DIVERGED (a non-finite value, a gradient norm past DBL_MAX, or the
 * parameter norm past max_norm; with skip_norms a non-finite value only);
 * CONVERGED when gnorm <= gtol (not for PGD, nor with skip_norms) or PGD stopped;
 * STALLED; RUNNING. The caller enforces the iteration cap.
 * One stationarity rule for every network: with added neurons too, the
 * gradient test alone decides CONVERGED (a run on the a -> 0 path to
 * infinity is told apart afterwards, by mn_elim_drifts and mn_judge). */
mn_run_state mn_optim_test(const mn_optim *opt, double gtol);
const double *mn_optim_theta(const mn_optim *opt); /* current point (P) */
const double *mn_optim_grad(const mn_optim *opt);  /* gradient there (P), frozen entries 0 */
double mn_optim_loss(const mn_optim *opt);          /* loss at the current point */
double mn_optim_gnorm(const mn_optim *opt);         /* gradient 2-norm over free parameters (mn_norm2); NaN with skip_norms */
long mn_optim_iter(const mn_optim *opt);            /* steps taken */
/* Why the run diverged, stalled or (PGD) stopped; "" otherwise. */
const char *mn_optim_why(const mn_optim *opt);
/* PGD's constants (Jin et al. 2017) as set from its parameters and the
 * starting value: perturbation radius, the gradient norm that triggers a
 * perturbation, and the steps between perturbations. MN_EINVAL when opt is
 * not PGD. */
mn_status mn_optim_pgd_constants(const mn_optim *opt, double *radius, double *g_thres, long *t_thres);
/* "running", "converged", "diverged", "stalled". */
const char *mn_run_state_name(mn_run_state s);

/* ------------------------------------------------------------------ */
/* Added (eliminating) neurons a_j exp(w_j . x + b_j): src/model/elim.c. */

/* exp(u) overflows past ~709.78: an exponent u above this bound is refused
 * by the evaluation (MN_ERANGE) and reported as infinite elsewhere. */
#define MN_EXP_MAX 700.0

/* a e^b, written so nothing overflows: 0 when a = 0, +-INFINITY (the sign
 * of a) when b > MN_EXP_MAX. */
double mn_elim_a_exp_b(double a, double b);

/* Activity of the added neurons at theta: max over neurons j and samples i
 * of |a_j exp(w_j . x_i + b_j)| (0 without added neurons; INFINITY when an
 * exponent passes MN_EXP_MAX). */
mn_status mn_elim_activity(double *out, const mn_model *model, const mn_data *data, const double *theta);

/* The added neuron j with the largest |a_j| e^{b_j} at theta (compared as
 * log|a| + b, so nothing overflows; ties and a = 0 everywhere: the first):
 * its a, b, ||w|| and a e^b (mn_elim_a_exp_b). Returns j, or -1 and NaN
 * everywhere without added neurons. Any of the outputs may be NULL. */
int mn_elim_largest(const mn_model *model, const double *theta, double *a, double *b, double *w_norm,
                    double *a_exp_b);

/* The failure mode of the eliminating neuron: every critical point of the
 * augmented loss (lambda > 0) has a = 0, yet gradient methods can ride a
 * path to infinity where a -> 0 while the exponent grows and the output
 * a e^{w.x+b} stays finite -- whether the loss has minima (realizable data
 * and the polynomial hinge: it has) or not (the logistic loss). The exponent
 * grows through b or through w (a spike on a few outlying samples), so the
 * test watches the largest exponent over the samples, u = max_i w.x_i + b.
 * Given two points of one run (mid, end) on its data, returns 1 and explains
 * in why (len bytes) when some added neuron drifts so: |a| shrank by more
 * than a factor 1.2, u grew by more than 0.25, and the largest output |a| e^u
 * stayed within a factor 4 of its earlier value. Calibrated on logistic loss
 * + liang on separable data, where b grows by ~0.5 and |a| shrinks
 * ~1.45-fold per doubling of the steps; it flags a trend over half a run,
 * never a single step. 0 when the data do not fit the model. */
int mn_elim_drifts(const mn_model *model, const mn_data *data, const double *mid, const double *end, char *why,
                   size_t len);

/* ------------------------------------------------------------------ */
/* Certification of end points.                                        */
/* Classes, decided in this order (the first that applies):
 *   DIVERGED       the run diverged (the caller says so), or theta, the loss,
 *                  the gradient or its norm (mn_norm2) is not finite at the point;
 *   GLOBAL         loss <= global_loss + global_tol (global_loss known, not
 *                  NaN; unknown, 0 stands in for it: every loss is >= 0), or
 *                  (zero_error set) training accuracy 1 for a margin / softmax
 *                  loss; this needs no stationarity: the value itself is the
 *                  certificate;
 *   NOT_CONVERGED  free-gradient norm > gtol;
 *   SADDLE         stationary, lambda_min < -eig_tol (a strict saddle);
 *   SPURIOUS       stationary, lambda_min > +eig_tol, loss above a known
 *                  global_loss: a strict local minimum that is not global;
 *   MINIMUM        the same with the global value unknown (global_loss NaN,
 *                  the default): a strict local minimum, global or not;
 *   DEGENERATE     stationary, |lambda_min| <= eig_tol, not global: the
 *                  second-order test is inconclusive (a flat minimum, e.g.
 *                  dead ReLU units, or a degenerate saddle); also a point
 *                  with no free parameter.
 * lambda_* are eigenvalues of the Hessian restricted to the free parameters.
 * At a ReLU kink (near_kink) the Hessian is that of the active side only:
 * the class is reported but is one-sided evidence.
 * BEST_FOUND and SPURIOUS_VS_BEST are never given to a single point: the
 * summary of a setting (mn_summarize) splits its MINIMUM runs by the lowest
 * loss any run of the setting reached, the best found (not a proven global
 * value): within global_tol of it BEST_FOUND, above it SPURIOUS_VS_BEST. */
typedef enum {
    MN_CLASS_GLOBAL,
    MN_CLASS_SPURIOUS,
    MN_CLASS_SADDLE,
    MN_CLASS_DEGENERATE,
    MN_CLASS_NOT_CONVERGED,
    MN_CLASS_DIVERGED,
    MN_CLASS_MINIMUM,
    MN_CLASS_BEST_FOUND,
    MN_CLASS_SPURIOUS_VS_BEST
} mn_class;
#define MN_NCLASS 9
/* "global", "spurious", "saddle", "degenerate", "not-converged", "diverged",
 * "minimum", "best-found", "spurious (vs best found)". */
const char *mn_class_name(mn_class c);
/* 1 for the classes of a strict local minimum above the global value, known
 * (SPURIOUS) or best found (SPURIOUS_VS_BEST). */
int mn_class_is_spurious(mn_class c);
/* The summary-time class of a run of class c with the given loss, against
 * best, the lowest loss over all runs of its setting: MINIMUM becomes
 * BEST_FOUND when loss <= best + global_tol (the test GLOBAL uses), else
 * SPURIOUS_VS_BEST; every other class is returned unchanged. */
mn_class mn_class_vs_best(mn_class c, double loss, double best, double global_tol);

/* The class rules above, the one copy every run kind uses (network runs
 * through mn_certify, population runs through their protocol): what a
 * run's record says about its end point, each kind deciding the facts with
 * its own tolerances. */
typedef struct {
    int diverged;   /* the run diverged, or a value at the point is not finite */
    int global;     /* the value (or the accuracy) certifies a global minimum */
    int stationary; /* gradient norm <= gtol */
    int curvature;  /* the smallest free-Hessian eigenvalue: +1 above +eig_tol, -1 below
                     * -eig_tol, 0 within, or nothing free (mn_curvature_sign) */
} mn_class_facts;
mn_class mn_class_decide(const mn_class_facts *f);
/* +1, -1 or 0 as lambda_min is above +eig_tol, below -eig_tol, or neither
 * (NaN included). */
int mn_curvature_sign(double lambda_min, double eig_tol);
#define MN_EIG_TOL 1e-8 /* the default eig_tol (mn_cert_opts), also the population runs' */

typedef struct {
    double gtol;        /* stationary when the free-gradient norm <= gtol (1e-6) */
    double eig_tol;     /* eigenvalues within +-eig_tol count as zero (MN_EIG_TOL) */
    double global_loss; /* the known or declared global value; NaN (the default):
                           unknown, a strict minimum is then MINIMUM */
    double global_tol;  /* global when loss <= global_loss + global_tol (1e-6) */
    int zero_error;     /* classification: zero training error also counts as global */
    int max_dense;      /* full Hessian up to this many free parameters (2000); Lanczos beyond */
    double kink_tol;    /* ReLU: pre-activations within this of 0 flag the point (1e-6) */
    int lanczos_iter;   /* Lanczos: at most this many steps (300), full reorthogonalisation,
                           memory lanczos_iter x free doubles; fixed seeded start vector */
    double lanczos_tol; /* Lanczos: stop when both extreme Ritz residuals are
                           <= lanczos_tol * max(1, |Ritz value|) (1e-10) */
} mn_cert_opts;
void mn_cert_opts_default(mn_cert_opts *o);

typedef struct {
    mn_class cls;
    double loss, gnorm;         /* at the point; gnorm over free parameters */
    double lambda_min, lambda_max; /* of the free-parameter Hessian (NaN if not computed) */
    double kink_margin;         /* smallest |pre-activation| (INFINITY without kinks) */
    int near_kink;              /* 1: kink_margin <= kink_tol, the Hessian is one-sided */
    double accuracy;            /* training accuracy (NaN for the squared loss) */
    double elim_activity;       /* the added neurons' largest output over the samples
                                   (mn_elim_activity; 0 without added neurons) */
} mn_cert;

/* Certifies theta of the network on data (mn_certify_objective in
 * minima/objective.h: any objective). `diverged` says the run that produced it diverged (the
 * class is then DIVERGED whatever the point looks like; loss, gnorm,
 * kink_margin, accuracy and elim_activity are still filled in where finite). opts may be
 * NULL (defaults). The spectrum is computed at stationary or global points
 * only (NaN otherwise): densely (LAPACK, all eigenvalues) up to max_dense free
 * parameters, else by Lanczos on exact Hessian-vector products.
 * Deterministic. Errors: MN_EINVAL (negative tolerance), MN_ENOMEM,
 * MN_ELAPACK; a non-finite evaluation is not an error (class DIVERGED). */
mn_status mn_certify(mn_cert *out, const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, int diverged, const mn_cert_opts *opts);
/* Is a certified point (certified with global_loss) a bad local minimum?
 * 1: stationary, not global, and no escape found (escaped = 0); 0: not (a
 * global point, a saddle, not stationary, diverged, or an escape exists);
 * -1: undecided, a minimum (MINIMUM, or DEGENERATE) with no escape whose
 * global value is not known (global_loss NaN). */
int mn_cert_bad(const mn_cert *c, int escaped, double global_loss);


/* Judging a run: one rule for every defence. A defence changes the network
 * (added neurons, a smooth activation, more width) or the optimiser; the
 * outcome of a run is judged on the ORIGINAL network after the defence is
 * removed: added neurons are dropped (a = 0, their parameters left out);
 * every other defence stays, being part of the network it produced. That
 * network gets mn_certify's rule, exactly as a plain run does. Reported
 * beside it: the defended objective's own value and gradient norm at theta,
 * whether it is critical by the same gtol, the added neurons' largest
 * output over the training samples, and whether dropping them changes any
 * training prediction (the sign of each output; the argmax for softmax). */
typedef struct {
    mn_cert cert;                /* the original network after removal */
    double defended_loss;        /* at theta, the defence in place (NaN: not finite) */
    double defended_gnorm;       /* its free-gradient norm (NaN: not finite) */
    int defended_critical;       /* defended_gnorm <= opts->gtol */
    double elim_output;          /* max_{j,i} |a_j e^{w_j.x_i + b_j}| (0 without added neurons;
                                    INFINITY past MN_EXP_MAX) */
    int drop_changes_prediction; /* 1: dropping the added neurons changes a training prediction */
} mn_judgement;

/* Judges theta of model on data (opts NULL: defaults). `diverged` says the
 * run diverged: the class is then DIVERGED (evidence filled in, as
 * mn_certify); so does a defended point that does not evaluate (exp
 * overflow). For the squared loss on -1/+1 labels cert.accuracy is the
 * fraction of samples with sign(f) = y on every output (NaN on other
 * labels). Allocates its own workspaces. Errors: those of mn_certify. */
mn_status mn_judge(mn_judgement *out, const mn_model *model, const mn_data *data, const double *theta,
                   int diverged, const mn_cert_opts *opts);

/* Catalogue of end points up to the symmetries of hidden units. The
 * canonical form treats each hidden layer in turn from the input: every
 * unit's incoming vector u = (weights, bias) is scaled to unit 2-norm where
 * the activation is homogeneous (relu, leaky_relu, linear: outgoing weights
 * times the norm; quadratic: times its square), given the sign that makes
 * its largest-magnitude entry positive where a flip is a symmetry (tanh and
 * linear: outgoing weights negated; quadratic: unchanged; sigmoid with
 * biases on: outgoing weights negated and added to the next layer's biases,
 * as sigmoid(-z) = 1 - sigmoid(z)); then the units are sorted
 * lexicographically on u, permuting W_l's rows, b_l and W_{l+1}'s columns
 * together. The function is unchanged throughout; skip weights, added
 * neurons and the units next to a conv1d layer (which share a filter, so
 * neither permuting nor rescaling them one by one is a symmetry) are left as
 * they are. canon may equal theta. (P) */
mn_status mn_canonicalize(double *canon, const mn_model *model, const double *theta);

typedef struct {
    mn_class cls;
    long count;             /* end points that joined this entry */
    long first_run;         /* the caller's id of the first one */
    mn_cert cert;           /* the first one's certificate: loss, lambda_min, ... */
    double loss_lo, loss_hi; /* range of the members' losses */
} mn_catalogue_entry;
typedef struct mn_catalogue mn_catalogue;

/* Points join an entry when their canonical forms agree entrywise within
 * tol * (1 + |x|) and their classes are equal. Units tied in their first
 * differing incoming entry (or, for the sign, in their two largest
 * magnitudes) to within the run's noise may be put differently, and such
 * copies count twice: the catalogue may over-count, it never merges
 * different points. Not identified: a linear layer's full GL(n) symmetry,
 * symmetries that hold only on the data (dead ReLU units), softplus. */
mn_status mn_catalogue_alloc(mn_catalogue **out, const mn_model *model, double tol);
void mn_catalogue_free(mn_catalogue *cat);
/* Adds theta with its certificate; *index (may be NULL) = its entry. */
mn_status mn_catalogue_add(mn_catalogue *cat, const double *theta, const mn_cert *cert, long run, int *index);
int mn_catalogue_count(const mn_catalogue *cat);
/* Entry i (NULL out of range); *theta (may be NULL) = its canonical point (P). */
const mn_catalogue_entry *mn_catalogue_get(const mn_catalogue *cat, int i, const double **theta);

/* ------------------------------------------------------------------ */
/* Defences: embedding a point into the augmented network, escapes.    */

/* theta_aug (P of aug) = theta (P of plain) with every added neuron at
 * a = 0, w = w0 (d numbers; NULL: 0), b = b0. aug must be plain's spec with
 * an eliminator and otherwise equal (MN_EINVAL names the difference). At
 * a = 0 the augmented network computes exactly what plain does. */
mn_status mn_embed(double *theta_aug, const mn_model *aug, const mn_model *plain, const double *theta,
                   const double *w0, double b0);

/* For an embedded point: the w, b of the added neurons that maximise
 * |dL/da| over `trials` seeded random draws (w ~ N(0, s^2 I), s in
 * {0.25, 0.5, 1, 2}, b = 0), written into theta_aug. Returns the best |dL/da|.
 * At a = 0, dL/da_k = (1/N) sum_i loss'_k(f(x_i)) exp(w.x_i + b): it vanishes
 * for every w only when every sample's loss derivative does. */
mn_status mn_embed_best(double *best, double *theta_aug, const mn_model *aug, mn_work *work,
                        const mn_data *data, int trials, uint64_t seed);

typedef struct {
    int escaped;     /* 1: L(theta + step dir) < L(theta) - margin was verified */
    int order;       /* 1 gradient, 2 negative curvature, 3 higher order along a
                        Hessian null direction, 0 none found */
    double slope;    /* directional derivative along dir */
    double curvature; /* dir^T H dir */
    double step;     /* the verified step t */
    double decrease; /* L(theta) - L(theta + t dir) */
    double margin;   /* rounding margin a decrease must beat: 64 eps (1 + |L|) */
    double gnorm, lambda_min; /* over free parameters */
} mn_escape;

/* Looks for a verified descent direction out of theta (the network on data;
 * mn_find_escape_objective in minima/objective.h: any objective): the negative
 * gradient; else the eigenvector of the most negative Hessian eigenvalue
 * (< -eig_tol); else each Hessian null direction (|lambda| <= eig_tol), both
 * signs, then 64 seeded random unit combinations of the null directions, for
 * a decrease along a line (an escape of order 3 or more). Steps
 * tried: 2^-1 .. 2^-40. dir (P) gets the direction (unit norm, free
 * parameters only). Dense Hessian: at most 4000 free parameters. */
mn_status mn_find_escape(mn_escape *out, double *dir, const mn_model *model, mn_work *work,
                         const mn_data *data, const double *theta, double eig_tol);
/* "none" (not escaped), "gradient", "negative-curvature" or "higher-order". */
const char *mn_escape_name(const mn_escape *e);

/* Follows an escape: an escape that exists says only that the loss can fall
 * (with an added neuron at a = 0 it exists whenever some sample's loss
 * derivative is non-zero, i.e. whenever the loss is positive). Where the
 * optimiser then goes is the question: runs prm from theta (the network on
 * data) until its test leaves RUNNING or `steps` iterations, and judges the
 * end point by mn_judge (the defence removed). *iterations gets the steps
 * taken. Errors: those of mn_optim_alloc, mn_optim_iterate and mn_judge. */
mn_status mn_follow_escape(mn_judgement *out, long *iterations, const mn_model *model, const mn_data *data,
                           const double *theta, const mn_opt_params *prm, long steps, double gtol,
                           const mn_cert_opts *opts);

/* Built-in attacks: (data, model, point) triples that are bad local minima.
 * mn_attack_build allocates *data and *theta (caller frees with
 * mn_data_free / free) and fills *spec. */
int mn_attack_count(void);
const char *mn_attack_name(int i);
const char *mn_attack_about(int i);
mn_status mn_attack_build(int i, mn_spec *spec, mn_data **data, double **theta);

/* An attack judged before and after the defence (`minima attack all`,
 * `minima demo`). */
typedef struct {
    mn_cert plain;        /* the point in the plain network (mn_cert_opts, global value 0) */
    mn_escape escape;     /* mn_find_escape there */
    int bad;              /* spurious or degenerate and no escape: a bad local minimum */
    double dlda;          /* |dL/da| of Liang's neuron embedded at a = 0 (mn_embed_best, 64 trials, seed 1) */
    mn_cert aug;          /* the embedded point in the augmented network */
    mn_escape escape_aug; /* mn_find_escape there: escaped is the defence's verdict */
    mn_judgement followed; /* L-BFGS from the embedded point (at most 2000 steps), judged with the neuron dropped */
    long followed_iterations;
} mn_attack_verdict;

/* Builds attack i, certifies it and searches for an escape; then adds
 * Liang et al.'s neuron with penalty lambda (>= 0) at a = 0 and does the
 * same. Deterministic. Errors: those of mn_attack_build, mn_certify,
 * mn_find_escape; MN_ENOMEM. */
mn_status mn_attack_judge(mn_attack_verdict *v, int i, double lambda);

/* ------------------------------------------------------------------ */
/* Linear algebra.                                                     */
/* Eigenvalues (ascending) of the symmetric n x n matrix a (destroyed). */
mn_status mn_sym_eigvals(double *evals, double *a, int n);
/* Eigenvalues (ascending) and orthonormal eigenvectors of the symmetric
 * n x n matrix a: on return column i of a (entries a[r * n + i]) is the
 * eigenvector of evals[i]. */
mn_status mn_sym_eig(double *evals, double *a, int n);
/* 2-norm of x (n), leaving out entries with mask[i] == 0 (mask may be NULL).
 * Scaled where sum x_i^2 would overflow or underflow, so the result is
 * finite whenever the norm itself is <= DBL_MAX; INFINITY past that or with
 * an infinite entry, NaN with a NaN entry. */
double mn_norm2(const double *x, size_t n, const unsigned char *mask);
/* Hessian restricted to the free parameters: sub (nf x nf) from hess (P x P). */
int mn_restrict(double *sub, const double *hess, const unsigned char *mask, int p);

/* ------------------------------------------------------------------ */
/* Memory.                                                             */
/* Physical memory of the machine in bytes (sysconf; 0 when unknown). */
double mn_phys_bytes(void);
/* MN_ENOMEM, one line naming `what`, the estimate and the limit, when an
 * estimated `bytes` exceeds physical memory (or is not a number); MN_OK
 * otherwise. Called before large allocations: data sets (mn_data_alloc),
 * workspaces, optimisers, Hessians, Lanczos, and a whole run or sweep
 * (mn_setting_run_bytes). */
mn_status mn_mem_check(double bytes, const char *what);
/* Bytes an optimiser of kind prm->kind allocates for P parameters (nf free,
 * nsamples samples for SGD); a Newton polish is kind MN_OPT_NEWTON. */
double mn_optim_bytes(size_t P, size_t nf, int nsamples, const mn_opt_params *prm);
/* Bytes of one evaluation workspace (mn_work_alloc) for n samples. */
double mn_work_bytes(const mn_model *model, int n);

#ifdef __cplusplus
}
#endif
#endif
