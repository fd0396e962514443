"""The C library through cffi (ABI mode): declarations, loading, errors.

cffi rather than ctypes: the declarations below are C, read by cffi's own
parser, so structs such as mn_spec or mn_cert are written in the language
of the header instead of as ctypes field lists, and a NumPy array becomes a
double * in 0.5 us (ffi.from_buffer) where ctypes takes 2.4-2.9 us
(X.ctypes.data_as), which matters when one evaluation of a small network
passes four arrays and takes a few microseconds. ABI mode (dlopen) needs no
compiler when the package is installed. A test checks every struct
layout here against the C compiler's (tests/test_layout.py).
"""
import ctypes.util
import os

from cffi import FFI

ffi = FFI()
# From include/minima.h, include/minima/sweep.h and include/minima/popul.h:
# only what the package calls, in the headers' order.
ffi.cdef("""
typedef enum { MN_OK = 0, MN_EINVAL, MN_ENOMEM, MN_EIO, MN_EFORMAT, MN_ERANGE, MN_ELAPACK } mn_status;
const char *mn_last_error(void);

typedef struct mn_data mn_data;
mn_status mn_data_alloc(mn_data **out, int n, int d, int m);
void mn_data_free(mn_data *data);
int mn_data_n(const mn_data *data);
int mn_data_d(const mn_data *data);
int mn_data_m(const mn_data *data);
const double *mn_data_xc(const mn_data *data);
const double *mn_data_yc(const mn_data *data);
mn_status mn_data_view(mn_data **out, int n, int d, int m, const double *x, const double *y);
mn_status mn_data_read_csv(mn_data **out, const char *path, const char *label);
mn_status mn_data_standardize(mn_data *data);
mn_status mn_data_flip_labels(mn_data *data, double fraction, uint64_t seed);
mn_status mn_gen_xor(mn_data **out, int n, double noise, uint64_t seed);
mn_status mn_gen_spirals(mn_data **out, int n, double noise, uint64_t seed);
mn_status mn_gen_separable(mn_data **out, int n, int d, double margin, uint64_t seed);
mn_status mn_gen_teacher_relu(mn_data **out, int n, int k, uint64_t seed);

typedef enum { MN_ACT_RELU, MN_ACT_LEAKY_RELU, MN_ACT_SOFTPLUS, MN_ACT_SIGMOID, MN_ACT_TANH,
               MN_ACT_QUADRATIC, MN_ACT_LINEAR } mn_act;
typedef enum { MN_LOSS_SQUARED, MN_LOSS_LOGISTIC, MN_LOSS_SOFTMAX_CE, MN_LOSS_POLY_HINGE,
               MN_LOSS_SQUARED_HINGE } mn_loss;
typedef enum { MN_ELIM_NONE, MN_ELIM_LIANG, MN_ELIM_PER_OUTPUT, MN_ELIM_PER_LAYER } mn_elim;
typedef enum { MN_LAYER_DENSE, MN_LAYER_CONV1D } mn_layer_kind;
typedef enum { MN_INIT_RANDOM, MN_INIT_IDENTITY } mn_init;
typedef struct {
    int depth;
    int width[33];
    mn_layer_kind layer[33];
    mn_init init;
    mn_act act;
    double act_param;
    int bias;
    int skip;
    uint64_t frozen;
    mn_loss loss;
    double loss_p;
    mn_elim elim;
    double lambda;
} mn_spec;
void mn_spec_default(mn_spec *spec);
mn_status mn_spec_parse_arch(mn_spec *spec, const char *arch);
mn_status mn_act_parse(mn_act *out, const char *name);
mn_status mn_loss_parse(mn_loss *out, const char *name);
mn_status mn_elim_parse(mn_elim *out, const char *name);
const char *mn_act_name(mn_act a);
const char *mn_loss_name(mn_loss l);
const char *mn_elim_name(mn_elim e);
int mn_loss_is_margin(mn_loss l);

typedef struct mn_model mn_model;
mn_status mn_model_alloc(mn_model **out, const mn_spec *spec);
void mn_model_free(mn_model *model);
const mn_spec *mn_model_spec(const mn_model *model);
size_t mn_model_nparams(const mn_model *model);
int mn_model_nelim(const mn_model *model);
size_t mn_model_elim_offset(const mn_model *model, int j);
size_t mn_model_w_offset(const mn_model *model, int l);
size_t mn_model_b_offset(const mn_model *model, int l);
void mn_model_free_mask(const mn_model *model, unsigned char *mask);
void mn_model_init(const mn_model *model, double *theta, uint64_t seed, double frozen_value);
mn_status mn_model_check_data(const mn_model *model, const mn_data *data);

typedef struct mn_work mn_work;
mn_status mn_work_alloc(mn_work **out, const mn_model *model, int n);
void mn_work_free(mn_work *work);
mn_status mn_eval(const mn_model *model, mn_work *work, const mn_data *data,
                  const double *theta, double *loss, double *grad);
mn_status mn_hvp(const mn_model *model, mn_work *work, const mn_data *data,
                 const double *theta, const double *v, double *hv, double *loss, double *grad);
mn_status mn_hessian(const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, double *hess);
mn_status mn_predict(const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, double *out);

typedef enum { MN_OPT_GD, MN_OPT_MOMENTUM, MN_OPT_NESTEROV, MN_OPT_ADAM, MN_OPT_SGD, MN_OPT_LBFGS,
               MN_OPT_NEWTON, MN_OPT_PGD } mn_opt_kind;
mn_status mn_opt_parse(mn_opt_kind *out, const char *name);
typedef struct {
    mn_opt_kind kind;
    double lr;
    double max_norm;
    double momentum;
    double beta1;
    double beta2;
    double eps;
    int batch;
    uint64_t seed;
    int memory;
    double damping;
    double pgd_eps;
    double pgd_c;
    double pgd_delta;
    double pgd_rho;
    double pgd_l;
    double pgd_df;
    int plateau_window;
    double plateau_tol;
    int skip_norms;
} mn_opt_params;
void mn_opt_params_default(mn_opt_params *prm);

typedef enum { MN_CLASS_GLOBAL, MN_CLASS_SPURIOUS, MN_CLASS_SADDLE, MN_CLASS_DEGENERATE,
               MN_CLASS_NOT_CONVERGED, MN_CLASS_DIVERGED, MN_CLASS_MINIMUM, MN_CLASS_BEST_FOUND,
               MN_CLASS_SPURIOUS_VS_BEST } mn_class;
const char *mn_class_name(mn_class c);
typedef struct {
    double gtol;
    double eig_tol;
    double global_loss;
    double global_tol;
    int zero_error;
    int max_dense;
    double kink_tol;
    int lanczos_iter;
    double lanczos_tol;
} mn_cert_opts;
void mn_cert_opts_default(mn_cert_opts *o);
typedef struct {
    mn_class cls;
    double loss, gnorm;
    double lambda_min, lambda_max;
    double kink_margin;
    int near_kink;
    double accuracy;
    double elim_activity;
} mn_cert;
double mn_elim_a_exp_b(double a, double b);
mn_status mn_certify(mn_cert *out, const mn_model *model, mn_work *work, const mn_data *data,
                     const double *theta, int diverged, const mn_cert_opts *opts);
int mn_cert_bad(const mn_cert *c, int escaped, double global_loss);
mn_class mn_class_vs_best(mn_class c, double loss, double best, double global_tol);

mn_status mn_embed(double *theta_aug, const mn_model *aug, const mn_model *plain, const double *theta,
                   const double *w0, double b0);
mn_status mn_embed_best(double *best, double *theta_aug, const mn_model *aug, mn_work *work,
                        const mn_data *data, int trials, uint64_t seed);
typedef struct {
    int escaped;
    int order;
    double slope;
    double curvature;
    double step;
    double decrease;
    double margin;
    double gnorm, lambda_min;
} mn_escape;
mn_status mn_find_escape(mn_escape *out, double *dir, const mn_model *model, mn_work *work,
                         const mn_data *data, const double *theta, double eig_tol);

int mn_attack_count(void);
const char *mn_attack_name(int i);
const char *mn_attack_about(int i);
mn_status mn_attack_build(int i, mn_spec *spec, mn_data **data, double **theta);

mn_status mn_sym_eigvals(double *evals, double *a, int n);
int mn_restrict(double *sub, const double *hess, const unsigned char *mask, int p);

typedef struct {
    int64_t setting;
    long restart;
    uint64_t seed;
    char optimizer[16];
    long iterations;
    double loss, grad_norm, lambda_min, lambda_max, kink_margin;
    mn_class cls;
    int near_kink;
    double accuracy;
    double theta_norm;
    double elim_a, elim_b, elim_w_norm, elim_a_exp_b;
    char reason[320];
    char status[16];
    long polish_iterations;
    double grad_norm_before_polish;
    double defended_loss, defended_grad_norm;
    int defended_critical;
    double elim_output;
    int drop_changes_prediction;
    double seconds;
    double *theta;
    size_t ntheta;
} mn_run_row;
typedef struct {
    const mn_model *model;
    const mn_data *data;
    mn_opt_params opt;
    int polish;
    long steps;
    double gtol;
    double frozen_value;
    uint64_t seed;
    mn_cert_opts cert;
    const char *canon;
    int64_t db_id;
    void (*progress)(void *ctx, long iter, long steps, double loss, double gnorm, int final);
    void *progress_ctx;
} mn_sweep_setting;
mn_status mn_run_seeded(mn_run_row *row, const mn_sweep_setting *s, uint64_t seed, mn_work *work, double *end);
mn_status mn_setting_cert_opts(mn_cert_opts *out, const char *json);

typedef struct mn_db mn_db;
mn_status mn_db_open(mn_db **out, const char *path, int create);
void mn_db_close(mn_db *db);

typedef struct {
    int n;
    int k;
    int elim;
    double lambda;
} mn_popul_spec;
typedef struct {
    double step;
    double gtol;
    double global_tol;
    long max_iter;
    double max_norm;
    int early_global;
    int newton;
    double dedup_tol;
    void (*progress)(void *ctx, long runs_done, long runs_total, int rows_done, int rows_total);
    void *progress_ctx;
} mn_popul_opts;
void mn_popul_opts_default(mn_popul_opts *opts);
typedef struct {
    int k, n, restarts;
    int count[9]; /* (MN_NCLASS) */
    int early, polished;
    long long steps;
    double spurious_pct, spurious_lo, spurious_hi;
    double mean_lambda_min;
    double mean_loss;
    int distinct;
    double median_abs_a, median_a_exp_b, median_b, median_c_norm;
    double seconds;
    double run_seconds;
    int loaded;
} mn_popul_row;
typedef struct {
    int n, k, restart;
    uint64_t seed;
    mn_class cls;
    int early;
    int polished;
    int newton_tries;
    long iters;
    double loss;
    double gnorm;
    double lambda_min;
    double orth_err;
    double a, b, c_norm, a_exp_b;
    double max_f_after;
    int distinct;
    double seconds;
} mn_popul_run;
mn_status mn_popul_experiment_db(mn_popul_row *rows, mn_popul_run **runs, const mn_popul_spec *specs,
                                 int nspecs, const mn_popul_opts *opts, int restarts, uint64_t base_seed,
                                 int threads, mn_db *db);
""")
# The C library's own free(), for arrays it allocates and hands over.
ffi.cdef("void free(void *);", override=True)

_STATUS = {0: "MN_OK", 1: "MN_EINVAL", 2: "MN_ENOMEM", 3: "MN_EIO", 4: "MN_EFORMAT", 5: "MN_ERANGE",
           6: "MN_ELAPACK"}


class MinimaError(Exception):
    """A failure reported by libminima: str() is its one-line message,
    .status the mn_status name ("MN_EINVAL", ...)."""

    def __init__(self, message, status="MN_EINVAL"):
        super().__init__(message)
        self.status = status


def _candidates():
    here = os.path.dirname(os.path.abspath(__file__))
    env = os.environ.get("MINIMA_LIBRARY")
    if env:
        return [env]  # explicit: nothing else is tried
    out = [os.path.join(here, "libminima.so")]  # bundled by `pip install ./python`
    # python/minima in a source tree next to its build folder (scripts/setup.sh)
    out.append(os.path.join(os.path.dirname(os.path.dirname(here)), "build", "libminima.so"))
    system = ctypes.util.find_library("minima")  # an installed library (cmake --install; ldconfig)
    if system:
        out.append(system)
    return out


def _load():
    tried = []
    for path in _candidates():
        if os.sep in path and not os.path.exists(path):
            tried.append(path + " (absent)")
            continue
        try:
            return ffi.dlopen(path), os.path.abspath(path) if os.sep in path else path
        except OSError as e:
            tried.append(f"{path} ({e})")
    raise ImportError("minima: cannot load libminima.so; tried " + "; ".join(tried)
                      + ". Build it (bash scripts/setup.sh) or set MINIMA_LIBRARY to its path.")


lib, library_path = _load()
libc = ffi.dlopen(None)


def check(status):
    """Raises MinimaError with mn_last_error() when status is not MN_OK."""
    if status:
        raise MinimaError(ffi.string(lib.mn_last_error()).decode(), _STATUS.get(int(status), str(status)))


def cstr(p):
    return ffi.string(p).decode() if p != ffi.NULL else ""
