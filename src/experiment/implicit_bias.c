/* The implicit-bias experiment's plan (Gunasekar, Lee, Soudry & Srebro,
 * NeurIPS 2018; see minima/experiment.h): GD on the logistic loss of
 * L-layer linear networks, fully connected or circular-convolutional, on
 * separable data; the direction of the end-to-end predictor beta against
 * the hard-margin SVM and, for L = 2 convolutional, the l1-in-frequency
 * max-margin predictor (max_margin.c). A run is one (network, depth, data
 * set), a run of the kind mn_kind_implicit_bias on the one runner
 * (src/run/runner.c: threads or MPI ranks), each stored with its end point
 * as it ends. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima/experiment.h"
#include "minima/objective.h"
#include "experiment/internal.h"
#include "minima/dist.h"
#include "plot/internal.h"

void mn_ib_plan_default(mn_ib_plan *p)
{
    memset(p, 0, sizeof *p);
    p->d = 16, p->n = 32;
    p->lr = 0.05;
    p->teacher_freq = 1;
    p->directions = 64;
    p->seed = 1;
}

mn_status mn_ib_plan_set(mn_ib_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_IMPLICIT, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment implicit-bias", name);
    if (o->kind != MN_OPTION_FLAG && (!v || !*v)) return mn_fail(MN_EINVAL, "option '--%s' needs a value", name);
    const mn_exp_common c = {&p->quick, &p->restarts, &p->threads, &p->max_iter, &p->seed, &p->db_path, &p->plot};
    mn_status st = MN_OK;
    if (mn_exp_set_common(&st, &c, o, v)) return st;
    long l;
    if (!strcmp(name, "d")) {
        if (!(st = mn_option_int(&l, o, v))) p->d = (int)l;
    } else if (!strcmp(name, "n")) {
        if (!(st = mn_option_int(&l, o, v))) p->n = (int)l;
    } else if (!strcmp(name, "depth")) {
        if (!mn_parse_ints(v, 1, MN_MAX_DEPTH, p->depth, MN_IB_MAX_LIST, &p->ndepth))
            st = mn_fail(MN_EINVAL, "--depth '%s': expected distinct integers 1..%d, comma separated", v, MN_MAX_DEPTH);
    } else if (!strcmp(name, "nets")) {
        const int nets = !strcmp(v, "fc") ? 1 : !strcmp(v, "conv") ? 2 : !strcmp(v, "fc,conv") || !strcmp(v, "conv,fc") ? 3 : 0;
        if (nets) p->nets = nets;
        else st = mn_fail(MN_EINVAL, "--nets '%s': expected fc, conv or fc,conv", v);
    } else if (!strcmp(name, "teacher")) {
        const int t = !strcmp(v, "frequency") ? 1 : !strcmp(v, "gaussian") ? 0 : -1;
        if (t >= 0) p->teacher_freq = t;
        else st = mn_fail(MN_EINVAL, "--teacher '%s': expected gaussian or frequency", v);
    } else if (!strcmp(name, "directions")) {
        if (!(st = mn_option_int(&l, o, v))) p->directions = (int)l;
    } else if (!strcmp(name, "lr")) {
        st = mn_option_real(&p->lr, o, v);
    } else {
        st = mn_fail(MN_EINVAL, "option '--%s' is not one of experiment implicit-bias's", name);
    }
    return st;
}

static void resolve(mn_ib_plan *p)
{
    static const int depth[] = {1, 2, 3, 5}, qdepth[] = {1, 2, 3};
    if (!p->ndepth) {
        const int m = p->quick ? 3 : 4;
        for (int i = 0; i < m; i++) p->depth[i] = p->quick ? qdepth[i] : depth[i];
        p->ndepth = m;
    }
    if (!p->nets) p->nets = 3;
    if (p->restarts <= 0) p->restarts = p->quick ? 1 : 3;
    if (p->max_iter <= 0) p->max_iter = p->quick ? 20000 : 100000;
}

/* Data set r: x (n x d) ~ N(0, I), y = sign <x, w*>, w* ~ N(0, I) or
 * (frequency teacher) w*_j = cos(2 pi k0 j / d + phi), k0 uniform in
 * 1..max(1, d/2 - 1), phi uniform in [0, 2 pi): one frequency pair. */
static void make_data(double *x, double *y, const mn_ib_plan *p, int r)
{
    mn_rng rng;
    const uint64_t idx[2] = {0, (uint64_t)r};
    mn_rng_seed(&rng, mn_seed_derive(p->seed, idx, 2));
    double w[MN_MAX_WIDTH];
    if (p->teacher_freq) {
        const int kmax = p->d / 2 - 1 > 1 ? p->d / 2 - 1 : 1;
        const int k0 = 1 + (int)(mn_rng_uniform(&rng) * kmax);
        const double phi = 6.283185307179586 * mn_rng_uniform(&rng);
        for (int j = 0; j < p->d; j++) w[j] = cos(6.283185307179586 * k0 * j / p->d + phi);
    } else {
        for (int j = 0; j < p->d; j++) w[j] = mn_rng_normal(&rng);
    }
    for (int i = 0; i < p->n; i++) {
        double s = 0;
        for (int j = 0; j < p->d; j++) s += (x[(size_t)i * p->d + j] = mn_rng_normal(&rng)) * w[j];
        y[i] = s >= 0 ? 1 : -1;
    }
}

/* The network of (conv, L) on d features: no biases, linear, logistic. */
static mn_status make_model(mn_model **model, int conv, int L, int d)
{
    char layers[16 * MN_MAX_DEPTH + 16] = "";
    size_t o = 0;
    for (int l = 1; l < L; l++) o += (size_t)snprintf(layers + o, sizeof layers - o, conv ? "conv1d-" : "dense:%d-", d);
    snprintf(layers + o, sizeof layers - o, "dense:1");
    mn_spec spec;
    mn_spec_default(&spec);
    mn_status st = mn_spec_parse_layers(&spec, layers, d);
    spec.act = MN_ACT_LINEAR, spec.bias = 0, spec.loss = MN_LOSS_LOGISTIC;
    return st ? st : mn_model_alloc(model, &spec);
}

/* beta_j = f(e_j) (the network is linear without biases). */
static mn_status read_beta(double *beta, const mn_model *model, const double *theta, int d)
{
    mn_data *eye = NULL;
    mn_work *w = NULL;
    mn_status st = mn_data_alloc(&eye, d, d, 0);
    if (!st) st = mn_work_alloc(&w, model, d);
    if (!st) {
        double *x = mn_data_x(eye);
        memset(x, 0, (size_t)d * d * sizeof *x);
        for (int j = 0; j < d; j++) x[j * d + j] = 1;
        st = mn_predict(model, w, eye, theta, beta);
    }
    mn_work_free(w);
    mn_data_free(eye);
    return st;
}

/* The norms of beta scaled to margin 1 (beta / min_i y_i <x_i, beta>):
 * l2 (||.||) and l1 in frequency (sum_k |DFT_k|), in *l2 and *l1 (NaN when
 * beta does not separate the data); spec (d) is scratch. */
static void margin_norms(double *l2, double *l1, const double *beta, const double *x, const double *y, int n, int d,
                         double *spec)
{
    double m = INFINITY, bb = 0, s1 = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int j = 0; j < d; j++) s += x[(size_t)i * d + j] * beta[j];
        m = fmin(m, y[i] * s);
    }
    mn_dft_abs(spec, beta, d);
    for (int j = 0; j < d; j++) bb += beta[j] * beta[j], s1 += spec[j];
    *l2 = m > 0 ? sqrt(bb) / m : NAN;
    *l1 = m > 0 ? s1 / m : NAN;
}

static double cosine(const double *a, const double *b, int d)
{
    double ab = 0, aa = 0, bb = 0;
    for (int j = 0; j < d; j++) ab += a[j] * b[j], aa += a[j] * a[j], bb += b[j] * b[j];
    return aa > 0 && bb > 0 ? ab / sqrt(aa * bb) : NAN;
}

/* (sum |b_k|)^2 / sum |b_k|^2 of b = DFT(beta); spec (d) gets |b| / max |b|. */
static double eff_freq(const double *beta, int d, double *spec)
{
    double s1 = 0, s2 = 0, mx = 0;
    mn_dft_abs(spec, beta, d);
    for (int k = 0; k < d; k++) s1 += spec[k], s2 += spec[k] * spec[k], mx = fmax(mx, spec[k]);
    for (int k = 0; k < d; k++) spec[k] = mx > 0 ? spec[k] / mx : 0;
    return s2 > 0 ? s1 * s1 / s2 : NAN;
}

/* One run: GD for max_iter steps from mn_model_init(seed); the row keeps
 * the final loss, accuracy and the end point (malloc'ed). */
static mn_status run_one(mn_run_row *row, const mn_ib_plan *p, const mn_model *model, const mn_data *data,
                         uint64_t seed)
{
    const size_t P = mn_model_nparams(model);
    mn_work *w = NULL;
    mn_objective *f = NULL;
    mn_optim *opt = NULL;
    double *x0 = malloc(P * sizeof *x0);
    mn_status st = x0 ? mn_work_alloc(&w, model, p->n) : mn_fail(MN_ENOMEM, "implicit-bias: out of memory");
    if (!st) st = mn_net_objective_alloc(&f, model, w, data);
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_GD, prm.lr = p->lr;
    if (!st) mn_model_init(model, x0, seed, 1), st = mn_optim_alloc_objective(&opt, f, &prm, x0);
    const double t0 = omp_get_wtime();
    mn_run_state rs = MN_RUN_RUNNING;
    while (!st && (rs = mn_optim_test(opt, 0)) == MN_RUN_RUNNING && mn_optim_iter(opt) < p->max_iter)
        st = mn_optim_iterate(opt);
    if (!st) {
        strcpy(row->optimizer, "gd");
        row->iterations = mn_optim_iter(opt);
        row->loss = mn_optim_loss(opt);
        row->grad_norm = mn_optim_gnorm(opt);
        /* the logistic loss has no minimiser on separable data: GD runs to the cap */
        row->cls = rs == MN_RUN_DIVERGED ? MN_CLASS_DIVERGED : MN_CLASS_NOT_CONVERGED;
        strcpy(row->status, rs == MN_RUN_DIVERGED ? "diverged" : "max-steps");
        snprintf(row->reason, sizeof row->reason, "%s", mn_optim_why(opt));
        row->theta_norm = mn_norm2(mn_optim_theta(opt), P, NULL);
        if (f->accuracy) st = f->accuracy(f->params, mn_optim_theta(opt), &row->accuracy);
        row->ntheta = P;
        row->theta = st ? NULL : malloc(P * sizeof *row->theta);
        if (!st && !row->theta) st = mn_fail(MN_ENOMEM, "implicit-bias: out of memory");
        if (!st) memcpy(row->theta, mn_optim_theta(opt), P * sizeof *row->theta);
    }
    row->seconds = omp_get_wtime() - t0;
    mn_optim_free(opt);
    mn_objective_free(f);
    mn_work_free(w);
    free(x0);
    return st;
}

static mn_status setting_canon(char **canon, char **json, const mn_ib_plan *p, int conv, int L)
{
    char v[9][40];
    const char *keys[9] = {"experiment", "net", "depth", "d", "n", "lr", "max-iter", "seed", "data"};
    snprintf(v[0], 40, "implicit-bias");
    snprintf(v[1], 40, "%s", conv ? "conv" : "fc");
    snprintf(v[2], 40, "%d", L);
    snprintf(v[3], 40, "%d", p->d);
    snprintf(v[4], 40, "%d", p->n);
    snprintf(v[5], 40, "%.17g", p->lr);
    snprintf(v[6], 40, "%ld", p->max_iter);
    snprintf(v[7], 40, "%llu", (unsigned long long)p->seed);
    snprintf(v[8], 40, "%s-teacher", p->teacher_freq ? "frequency" : "gaussian");
    const char *vals[9];
    for (int i = 0; i < 9; i++) vals[i] = v[i];
    return mn_canon(canon, json, keys, vals, 9);
}

/* Job j: row j / R, data set j % R. */
typedef struct {
    const mn_ib_plan *p;
    mn_model *const *models;
    mn_data *const *data;
    const int *conv, *depth;
    const int64_t *ids;
    int R;
} pool_ctx;

static mn_status job(void *ctx, long j, mn_run_row *row)
{
    const pool_ctx *c = ctx;
    const int q = (int)(j / c->R), r = (int)(j % c->R);
    const uint64_t idx[4] = {1, (uint64_t)c->conv[q], (uint64_t)c->depth[q], (uint64_t)r};
    row->setting = c->ids[q], row->restart = r, row->seed = mn_seed_derive(c->p->seed, idx, 4);
    return run_one(row, c->p, c->models[q], c->data[r], row->seed);
}

static int claims(const char *json, const char *canon)
{
    (void)json;
    return mn_run_canon_is(canon, "implicit-bias");
}

const mn_run_kind mn_kind_implicit_bias = {"implicit-bias", 0, claims, mn_run_distinct_none, NULL, NULL,
                                           mn_exp_kind_run, mn_exp_kind_npoint, mn_exp_kind_take, NULL};

void mn_ib_result_free(mn_ib_result *r)
{
    if (!r) return;
    free(r->rows), free(r->svm), free(r->l1), free(r->spectra);
    free(r);
}

mn_status mn_experiment_implicit_bias(mn_ib_result **out, const mn_ib_plan *plan)
{
    *out = NULL;
    mn_ib_plan p = *plan;
    resolve(&p);
    if (p.d < 1 || p.d > MN_MAX_WIDTH || p.n < 1)
        return mn_fail(MN_EINVAL, "implicit-bias: d %d (1..%d) and n %d (>= 1)", p.d, MN_MAX_WIDTH, p.n);
    for (int a = 0; a < p.ndepth; a++)
        if (p.depth[a] > MN_MAX_DEPTH) return mn_fail(MN_EINVAL, "--depth %d is past %d layers", p.depth[a], MN_MAX_DEPTH);
    mn_db *db = NULL;
    mn_status st = MN_OK;
    /* in an MPI job rank 0 alone writes the database, solves and sums up (minima/dist.h) */
    const int worker = mn_dist_rank() > 0;
    if (p.db_path && !worker && (st = mn_db_open(&db, p.db_path, 1))) return st;
    const int R = p.restarts, d = p.d, n = p.n;
    int nrow = 0;
    for (int c = 0; c < 2; c++) nrow += (p.nets >> c & 1) * p.ndepth;
    const long njob = (long)nrow * R;
    mn_ib_result *res = calloc(1, sizeof *res);
    double *X = malloc((size_t)R * n * d * sizeof *X), *Y = malloc((size_t)R * n * sizeof *Y);
    double *bsvm = malloc((size_t)R * d * sizeof *bsvm), *bl1 = malloc((size_t)R * d * sizeof *bl1);
    double *beta = malloc((size_t)njob * d * sizeof *beta), *spec = malloc((size_t)d * sizeof *spec);
    mn_data **data = calloc((size_t)R, sizeof *data);
    mn_model **models = calloc((size_t)nrow, sizeof *models);
    int *conv = malloc((size_t)nrow * sizeof *conv), *depth = malloc((size_t)nrow * sizeof *depth);
    int64_t *ids = calloc((size_t)nrow, sizeof *ids);
    mn_run_row *runs = calloc((size_t)njob, sizeof *runs);
    unsigned char *done = calloc((size_t)njob, 1);
    mn_pending *list = malloc((size_t)njob * sizeof *list);
    mn_exp_setting *xs = calloc((size_t)nrow, sizeof *xs);
    if (res) {
        res->rows = calloc((size_t)nrow, sizeof *res->rows);
        res->svm = calloc((size_t)R, sizeof *res->svm), res->l1 = calloc((size_t)R, sizeof *res->l1);
        res->spectra = calloc((size_t)(nrow + 2) * d, sizeof *res->spectra);
    }
    if (!res || !res->rows || !res->svm || !res->l1 || !res->spectra || !X || !Y || !bsvm || !bl1 || !beta ||
        !spec || !data || !models || !conv || !depth || !ids || !runs || !done || !list || !xs) {
        st = mn_fail(MN_ENOMEM, "implicit-bias: out of memory for %d rows", nrow);
        goto out;
    }
    res->n = nrow, res->plan = p, res->ndata = R;
    int i = 0;
    for (int c = 0; c < 2; c++)
        for (int a = 0; (p.nets >> c & 1) && a < p.ndepth; a++) conv[i] = c, depth[i++] = p.depth[a];
    /* data sets and their max-margin predictors (GLPK serially: it is not thread-safe) */
    for (int r = 0; !st && r < R; r++) {
        double *x = X + (size_t)r * n * d, *y = Y + (size_t)r * n;
        make_data(x, y, &p, r);
        st = mn_data_alloc(&data[r], n, d, 1);
        if (!st) memcpy(mn_data_x(data[r]), x, (size_t)n * d * sizeof *x), memcpy(mn_data_y(data[r]), y, (size_t)n * sizeof *y);
        if (worker) continue;
        if (!st) st = mn_svm_hard_margin(bsvm + (size_t)r * d, &res->svm[r], x, y, n, d);
        if (!st) st = mn_l1dft_margin(bl1 + (size_t)r * d, &res->l1[r], x, y, n, d, p.directions);
        if (!st) {
            res->svm_eff += eff_freq(bsvm + (size_t)r * d, d, r ? spec : res->spectra + (size_t)nrow * d) / R;
            res->l1_eff += eff_freq(bl1 + (size_t)r * d, d, r ? spec : res->spectra + (size_t)(nrow + 1) * d) / R;
        }
    }
    for (int q = 0; !st && q < nrow; q++) st = make_model(&models[q], conv[q], depth[q], d);
    pool_ctx pc = {.p = &p, .models = models, .data = data, .conv = conv, .depth = depth, .ids = ids, .R = R};
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &R, sizeof R); /* what every MPI rank must agree on */
    for (int q = 0; !st && q < nrow; q++) {
        char *canon = NULL, *json = NULL;
        st = setting_canon(&canon, &json, &p, conv[q], depth[q]);
        if (!st) key = mn_hash_bytes(key, canon, strlen(canon) + 1);
        xs[q] = (mn_exp_setting){.job = job, .ctx = &pc, .first = (long)q * R, .runs = runs + (long)q * R,
                                 .npoint = mn_model_nparams(models[q])};
        if (!st && db) st = mn_db_setting(&ids[q], db, canon, json);
        free(canon), free(json);
        if (!st && db) st = mn_exp_load(runs + (long)q * R, done + (long)q * R, &res->skipped, db, ids[q], R);
        for (int r = 0; !st && r < R; r++) {
            const mn_run_row *row = &runs[(long)q * R + r];
            if (done[(long)q * R + r] && (!row->theta || row->ntheta != mn_model_nparams(models[q])))
                st = mn_fail(MN_EFORMAT, "implicit-bias: the stored run %d of a setting has no end point of the right size", r);
        }
    }
    /* the deepest networks first: they take longest */
    long no = 0;
    for (int L = MN_MAX_DEPTH; !st && L >= 1; L--)
        for (long j = 0; j < njob; j++)
            if (depth[j / R] == L) list[no++] = (mn_pending){&mn_kind_implicit_bias, &xs[j / R], ids[j / R], j % R, NULL};
    if (!st) st = mn_exp_run(&res->done, list, no, p.threads, db, key);
    for (long j = 0; !st && !worker && j < njob; j++) st = read_beta(beta + (size_t)j * d, models[j / R], runs[j].theta, d);
    for (int q = 0; !st && !worker && q < nrow; q++) {
        mn_ib_row *w = &res->rows[q];
        *w = (mn_ib_row){.conv = conv[q], .depth = depth[q], .restarts = R, .cos_svm_min = INFINITY,
                         .cos_l1_mean = NAN, .cos_l1_min = NAN, .loss_max = -INFINITY, .acc_min = INFINITY,
                         .l2_ratio = -INFINITY, .l1_ratio = -INFINITY};
        const int l1 = conv[q] && depth[q] == 2;
        if (l1) w->cos_l1_mean = 0, w->cos_l1_min = INFINITY;
        for (int r = 0; r < R; r++) {
            const long j = (long)q * R + r;
            const double *b = beta + (size_t)j * d;
            const double cs = cosine(b, bsvm + (size_t)r * d, d);
            w->cos_svm_mean += cs / R, w->cos_svm_min = fmin(w->cos_svm_min, cs);
            if (l1) {
                const double cl = cosine(b, bl1 + (size_t)r * d, d);
                w->cos_l1_mean += cl / R, w->cos_l1_min = fmin(w->cos_l1_min, cl);
            }
            w->eff_freq += eff_freq(b, d, r ? spec : res->spectra + (size_t)q * d) / R;
            double n2, n1;
            margin_norms(&n2, &n1, b, X + (size_t)r * n * d, Y + (size_t)r * n, n, d, spec);
            /* NaN (a data set not separated) stays NaN: fmax would drop it */
            w->l2_ratio = isnan(w->l2_ratio) || isnan(n2) ? NAN : fmax(w->l2_ratio, n2 / res->svm[r].norm);
            w->l1_ratio = isnan(w->l1_ratio) || isnan(n1) ? NAN : fmax(w->l1_ratio, n1 / res->l1[r].lower);
            w->loss_max = fmax(w->loss_max, runs[j].loss);
            w->acc_min = fmin(w->acc_min, runs[j].accuracy);
            w->loaded += done[j];
            if (!done[j]) w->seconds += runs[j].seconds;
        }
    }
    if (!st && p.plot && !worker) st = mn_ib_plot(res, p.plot);
out:
    for (long j = 0; runs && j < njob; j++) free(runs[j].theta);
    for (int r = 0; data && r < R; r++) mn_data_free(data[r]);
    for (int q = 0; models && q < nrow; q++) mn_model_free(models[q]);
    free(X), free(Y), free(bsvm), free(bl1), free(beta), free(spec), free(data), free(models), free(conv), free(depth);
    free(ids), free(runs), free(done), free(list), free(xs);
    mn_db_close(db);
    if (st) {
        mn_ib_result_free(res);
        return st;
    }
    *out = res;
    return MN_OK;
}
