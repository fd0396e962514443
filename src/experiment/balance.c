/* The balance experiment (Du, Hu, Lee, NeurIPS 2018): under gradient flow
 * every hidden unit of a ReLU, leaky ReLU or linear network keeps
 * |incoming weights and bias|^2 - |outgoing weights|^2, so the layers keep
 * the differences of their squared Frobenius norms. GD changes an invariant
 * by step^2 (|g_in|^2 - |g_out|^2) per step: over a fixed time T the drift
 * is O(step). Measured per (activation, step) from one start, a run of the
 * kind mn_kind_balance on the one runner (threads or MPI ranks), stored
 * (end point) in and resumed from a database; then the matrix factorisation
 * W2 W1 = M from balanced and unbalanced starts. */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "minima/dist.h"
#include "minima/experiment.h"

#define ARCH "4-8-8-1"
#define NHID 16 /* hidden units of ARCH */

void mn_balance_plan_default(mn_balance_plan *p)
{
    memset(p, 0, sizeof *p);
    const int acts[5] = {MN_ACT_RELU, MN_ACT_LEAKY_RELU, MN_ACT_LINEAR, MN_ACT_TANH, MN_ACT_SIGMOID};
    memcpy(p->act, acts, sizeof acts);
    p->nact = 5;
    const double steps[4] = {0.04, 0.02, 0.01, 0.005};
    memcpy(p->step, steps, sizeof steps);
    p->nstep = 4;
    p->horizon = 20;
    p->seed = 1;
}

/* "A,B,.." of activation names, each once. */
static int parse_acts(const char *s, int *act, int *n)
{
    char buf[128];
    if (strlen(s) >= sizeof buf || !*s || s[strlen(s) - 1] == ',') return 0;
    strcpy(buf, s);
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        mn_act a;
        if (k == 5 || mn_act_parse(&a, tok)) return 0;
        if (a != MN_ACT_RELU && a != MN_ACT_LEAKY_RELU && a != MN_ACT_LINEAR && a != MN_ACT_TANH &&
            a != MN_ACT_SIGMOID)
            return 0;
        for (int j = 0; j < k; j++)
            if (act[j] == (int)a) return 0;
        act[k++] = (int)a;
    }
    *n = k;
    return k > 0;
}

/* "A,B,.." of steps in (0, 1], each once, at most MN_BALANCE_MAX_STEPS. */
static int parse_steps(const char *s, double *step, int *n)
{
    char buf[256];
    if (strlen(s) >= sizeof buf || !*s || s[strlen(s) - 1] == ',') return 0;
    strcpy(buf, s);
    int k = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        const double v = strtod(tok, &end);
        if (k == MN_BALANCE_MAX_STEPS || end == tok || *end || !(v > 0 && v <= 1)) return 0;
        for (int j = 0; j < k; j++)
            if (step[j] == v) return 0;
        step[k++] = v;
    }
    *n = k;
    return k > 0;
}

mn_status mn_balance_plan_set(mn_balance_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_BALANCE, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment balance", name);
    if (v && !*v && (!strcmp(name, "plot") || !strcmp(name, "db")))
        return mn_fail(MN_EINVAL, "option '--%s' needs a non-empty value", name);
    mn_status st = MN_OK;
    if (!strcmp(name, "quick")) {
        p->quick = 1, p->nstep = 2, p->step[0] = 0.02, p->step[1] = 0.01, p->horizon = 10;
    } else if (!strcmp(name, "acts")) {
        if (!parse_acts(v, p->act, &p->nact))
            st = mn_fail(MN_EINVAL, "--acts '%s': expected names among relu, leaky_relu, linear, tanh, sigmoid, "
                                    "each once, comma-separated", v);
    } else if (!strcmp(name, "steps")) {
        if (!parse_steps(v, p->step, &p->nstep))
            st = mn_fail(MN_EINVAL, "--steps '%s': expected up to %d distinct steps in (0, 1], comma-separated", v,
                         MN_BALANCE_MAX_STEPS);
    } else if (!strcmp(name, "horizon")) {
        st = mn_option_real(&p->horizon, o, v);
    } else if (!strcmp(name, "seed")) {
        st = mn_option_seed(&p->seed, o, v);
    } else if (!strcmp(name, "threads")) {
        long l;
        if (!(st = mn_option_int(&l, o, v))) p->threads = (int)l;
    } else if (!strcmp(name, "db")) {
        p->db_path = v;
    } else if (!strcmp(name, "plot")) {
        p->plot = v;
    } else {
        st = mn_fail(MN_EINVAL, "option '--%s' does not apply to 'experiment balance'", name);
    }
    return st;
}

/* ------------------------------------------------------------------ */
/* The invariants.                                                     */

/* I (NHID): per hidden unit, |incoming row of W_l and b_l[j]|^2 - |column j
 * of W_{l+1}|^2; D (depth - 1): per hidden layer, their sum. */
static void invariants(double *I, double *D, const mn_model *model, const double *theta)
{
    const mn_spec *s = mn_model_spec(model);
    int u = 0;
    for (int l = 1; l < s->depth; l++) {
        const int in = s->width[l - 1], w = s->width[l], out = s->width[l + 1];
        const double *W = theta + mn_model_w_offset(model, l), *Wn = theta + mn_model_w_offset(model, l + 1);
        const size_t bo = mn_model_b_offset(model, l);
        D[l - 1] = 0;
        for (int j = 0; j < w; j++, u++) {
            double a = 0, b = 0;
            for (int c = 0; c < in; c++) a += W[(size_t)j * in + c] * W[(size_t)j * in + c];
            if (bo != (size_t)-1) a += theta[bo + j] * theta[bo + j];
            for (int r = 0; r < out; r++) b += Wn[(size_t)r * w + j] * Wn[(size_t)r * w + j];
            I[u] = a - b;
            D[l - 1] += a - b;
        }
    }
}

/* ------------------------------------------------------------------ */
/* One network run.                                                    */

typedef struct {
    mn_model *model;
    mn_work *work;
    mn_data *data;
    double *theta0; /* (P) the start, the same for every step */
    size_t P;
} net;

static void net_free(net *n)
{
    mn_work_free(n->work);
    mn_model_free(n->model);
    mn_data_free(n->data);
    free(n->theta0);
}

static mn_status net_alloc(net *n, int act, uint64_t seed)
{
    memset(n, 0, sizeof *n);
    mn_spec spec;
    mn_spec_default(&spec);
    spec.act = (mn_act)act, spec.loss = MN_LOSS_SQUARED;
    if (act == MN_ACT_LEAKY_RELU) spec.act_param = 0.1; /* a slope that matters */
    mn_status st = mn_spec_parse_arch(&spec, ARCH);
    if (!st) st = mn_gen_teacher_relu(&n->data, 200, 4, seed);
    if (!st) st = mn_model_alloc(&n->model, &spec);
    if (!st) st = mn_work_alloc(&n->work, n->model, mn_data_n(n->data));
    if (!st) n->P = mn_model_nparams(n->model);
    if (!st && !(n->theta0 = malloc(n->P * sizeof *n->theta0))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) mn_model_init(n->model, n->theta0, seed, 1.0);
    if (st) net_free(n);
    return st;
}

/* GD from n's start, iters steps of `step`, with a thread's work (n x P). */
static mn_status gd_steps(double *end, const net *n, mn_work *work, double step, long iters)
{
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.lr = step;
    mn_optim *o = NULL;
    mn_status st = mn_optim_alloc(&o, n->model, work, n->data, &prm, n->theta0);
    for (long t = 0; !st && t < iters; t++) st = mn_optim_iterate(o);
    if (!st && mn_optim_test(o, 0.0) == MN_RUN_DIVERGED)
        st = mn_fail(MN_ERANGE, "balance: GD diverged at step %g: %s", step, mn_optim_why(o));
    if (!st) memcpy(end, mn_optim_theta(o), n->P * sizeof *end);
    mn_optim_free(o);
    return st;
}

static mn_status row_canon(char **canon, char **json, const mn_balance_plan *p, int act, double step)
{
    char vs[32], vh[32], vseed[32];
    snprintf(vs, sizeof vs, "%.17g", step);
    snprintf(vh, sizeof vh, "%.17g", p->horizon);
    snprintf(vseed, sizeof vseed, "%llu", (unsigned long long)p->seed);
    const char *keys[] = {"experiment", "act", "arch", "step", "horizon", "seed"};
    const char *vals[] = {"balance", mn_act_name((mn_act)act), ARCH, vs, vh, vseed};
    return mn_canon(canon, json, keys, vals, 6);
}

/* The runs: job j is (activation j / nstep, step j % nstep), restart 0. */
typedef struct {
    const mn_balance_plan *p;
    const net *nets; /* (nact) */
} run_ctx;

static mn_status job(void *ctx, long j, mn_run_row *r)
{
    const run_ctx *c = ctx;
    const mn_balance_plan *p = c->p;
    const net *n = &c->nets[j / p->nstep];
    const double step = p->step[j % p->nstep];
    const long iters = lround(p->horizon / step);
    const double t0 = omp_get_wtime();
    mn_work *work = NULL;
    mn_status st = mn_work_alloc(&work, n->model, mn_data_n(n->data));
    r->theta = st ? NULL : malloc(n->P * sizeof *r->theta);
    if (!st && !r->theta) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = gd_steps(r->theta, n, work, step, iters);
    r->restart = 0, r->seed = p->seed >> 1;
    snprintf(r->optimizer, sizeof r->optimizer, "gd");
    r->iterations = iters;
    if (!st) st = mn_eval(n->model, work, n->data, r->theta, &r->loss, NULL);
    r->grad_norm = NAN;
    r->theta_norm = r->theta ? mn_norm2(r->theta, n->P, NULL) : NAN;
    r->cls = MN_CLASS_NOT_CONVERGED;
    snprintf(r->reason, sizeof r->reason, "balance: fixed time horizon %g", p->horizon);
    r->seconds = omp_get_wtime() - t0;
    r->ntheta = r->theta ? n->P : 0;
    mn_work_free(work);
    return st;
}

static int claims(const char *json, const char *canon)
{
    (void)json;
    return mn_run_canon_is(canon, "balance");
}

const mn_run_kind mn_kind_balance = {"balance", 0, claims, mn_run_distinct_none, NULL, NULL,
                                     mn_exp_kind_run, mn_exp_kind_npoint, mn_exp_kind_take, NULL};

/* Every (activation, step) run, loaded when stored, else run on the runner
 * (and stored); end points into runs[a nstep + s]. */
static mn_status all_runs(mn_balance_result *res, mn_run_row *runs, const net *nets, const mn_balance_plan *p)
{
    const int nrun = p->nact * p->nstep;
    mn_db *db = NULL;
    mn_exp_setting *xs = calloc((size_t)nrun, sizeof *xs);
    mn_pending *list = calloc((size_t)nrun, sizeof *list);
    mn_status st = xs && list ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    /* in an MPI job rank 0 alone writes the database (minima/dist.h) */
    if (!st && p->db_path && mn_dist_rank() == 0) st = mn_db_open(&db, p->db_path, 1);
    run_ctx ctx = {p, nets};
    uint64_t key = MN_FNV_OFFSET; /* what every MPI rank must agree on */
    long loaded = 0, ran = 0;
    for (int j = 0; !st && j < nrun; j++) {
        char *canon = NULL, *json = NULL;
        int64_t id = 0;
        st = row_canon(&canon, &json, p, p->act[j / p->nstep], p->step[j % p->nstep]);
        if (!st) key = mn_hash_bytes(key, canon, strlen(canon) + 1);
        if (!st && db) st = mn_db_setting(&id, db, canon, json);
        free(canon), free(json);
        xs[j] = (mn_exp_setting){.job = job, .ctx = &ctx, .first = j, .runs = &runs[j],
                                 .npoint = nets[j / p->nstep].P};
        unsigned char done = 0;
        long had = loaded;
        if (!st && db) st = mn_exp_load(&runs[j], &done, &loaded, db, id, 1);
        res->rows[j].loaded = loaded > had;
        list[j] = (mn_pending){&mn_kind_balance, &xs[j], id, 0, NULL};
    }
    if (!st) st = mn_exp_run(&ran, list, nrun, p->threads, db, key);
    mn_db_close(db);
    free(xs), free(list);
    return st;
}

/* Row w from the start and end point of its run. */
static mn_status one_row(mn_balance_row *w, const net *n, double step, long iters, const double *end)
{
    double I0[NHID], I1[NHID], D0[2], D1[2];
    invariants(I0, D0, n->model, n->theta0);
    invariants(I1, D1, n->model, end);
    w->step = step, w->iterations = iters;
    for (int j = 0; j < NHID; j++) {
        w->unit_drift = fmax(w->unit_drift, fabs(I1[j] - I0[j]));
        w->unit_scale = fmax(w->unit_scale, fabs(I0[j]));
    }
    w->layer_drift = fmax(fabs(D1[0] - D0[0]), fabs(D1[1] - D0[1]));
    mn_status st = mn_eval(n->model, n->work, n->data, n->theta0, &w->loss0, NULL);
    if (!st) st = mn_eval(n->model, n->work, n->data, end, &w->loss, NULL);
    return st;
}

/* ------------------------------------------------------------------ */
/* Matrix factorisation as the 6-4-8 linear network on e_1..e_6.       */

#define MF_STEP 0.05
#define MF_CAP 200000

static double imbalance(double *B, const mn_model *model, const double *theta)
{
    const double *W1 = theta + mn_model_w_offset(model, 1), *W2 = theta + mn_model_w_offset(model, 2);
    double f = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++) {
            double s = 0;
            for (int c = 0; c < 6; c++) s += W1[a * 6 + c] * W1[b * 6 + c];
            for (int r = 0; r < 8; r++) s -= W2[r * 4 + a] * W2[r * 4 + b];
            B[a * 4 + b] = s, f += s * s;
        }
    return sqrt(f);
}

static mn_status mf_part(mn_balance_result *res, const mn_balance_plan *p)
{
    mn_spec spec;
    mn_spec_default(&spec);
    spec.act = MN_ACT_LINEAR, spec.bias = 0, spec.loss = MN_LOSS_SQUARED;
    mn_data *data = NULL;
    mn_model *model = NULL;
    mn_work *work = NULL;
    double *theta = NULL;
    mn_status st = mn_spec_parse_arch(&spec, "6-4-8");
    if (!st) st = mn_data_alloc(&data, 6, 6, 8);
    if (!st) st = mn_model_alloc(&model, &spec);
    if (!st) st = mn_work_alloc(&work, model, 6);
    const size_t P = model ? mn_model_nparams(model) : 0;
    if (!st && !(theta = malloc(P * sizeof *theta))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) { /* M = A C^T, A 8 x 2, C 6 x 2: rank 2; sample k: (e_k, M e_k) */
        mn_rng g;
        mn_rng_seed(&g, mn_seed_derive(p->seed, (const uint64_t[]){7}, 1));
        double A[16], C[12];
        for (int i = 0; i < 16; i++) A[i] = mn_rng_normal(&g);
        for (int i = 0; i < 12; i++) C[i] = mn_rng_normal(&g);
        double *x = mn_data_x(data), *y = mn_data_y(data);
        memset(x, 0, 36 * sizeof *x);
        for (int k = 0; k < 6; k++) {
            x[k * 6 + k] = 1;
            for (int r = 0; r < 8; r++) y[k * 8 + r] = A[r * 2] * C[k * 2] + A[r * 2 + 1] * C[k * 2 + 1];
        }
    }
    const double scales[MN_BALANCE_NMF] = {1, 3, 10};
    const long cap = p->quick ? MF_CAP / 4 : MF_CAP;
    res->ntrace = 400, res->trace_every = cap / 400;
    if (!st && !(res->trace = malloc(MN_BALANCE_NMF * 400 * sizeof *res->trace))) st = mn_fail(MN_ENOMEM, "out of memory");
    for (int k = 0; !st && k < MN_BALANCE_NMF; k++) {
        mn_balance_mf *m = &res->mf[k];
        /* small start (0.1 x the documented initialisation), then W1 x s, W2 / s */
        mn_model_init(model, theta, mn_seed_derive(p->seed, (const uint64_t[]){8}, 1), 1.0);
        const size_t o1 = mn_model_w_offset(model, 1), o2 = mn_model_w_offset(model, 2);
        for (int i = 0; i < 24; i++) theta[o1 + i] *= 0.1 * scales[k];
        for (int i = 0; i < 32; i++) theta[o2 + i] *= 0.1 / scales[k];
        double B0[16], B1[16];
        m->scale = scales[k], m->step = MF_STEP;
        m->imb0 = imbalance(B0, model, theta);
        mn_opt_params prm;
        mn_opt_params_default(&prm);
        prm.lr = MF_STEP;
        mn_optim *o = NULL;
        st = mn_optim_alloc(&o, model, work, data, &prm, theta);
        if (!st) m->loss0 = mn_optim_loss(o);
        double *tr = res->trace + (size_t)k * 400;
        for (int i = 0; i < 400; i++) tr[i] = NAN;
        /* until the loss is 1e-12 of its start (or the cap) */
        while (!st && mn_optim_iter(o) < cap && mn_optim_loss(o) > 1e-12 * m->loss0) {
            if (mn_optim_iter(o) % res->trace_every == 0) tr[mn_optim_iter(o) / res->trace_every] = mn_optim_loss(o);
            st = mn_optim_iterate(o);
            if (!st && mn_optim_test(o, 0.0) == MN_RUN_DIVERGED)
                st = mn_fail(MN_ERANGE, "balance: factorisation GD diverged: %s", mn_optim_why(o));
        }
        if (!st) {
            m->iterations = mn_optim_iter(o), m->loss = mn_optim_loss(o);
            m->imb = imbalance(B1, model, mn_optim_theta(o));
            double c = 0;
            for (int i = 0; i < 16; i++) c += (B1[i] - B0[i]) * (B1[i] - B0[i]);
            m->imb_change = sqrt(c);
        }
        mn_optim_free(o);
    }
    free(theta);
    mn_work_free(work);
    mn_model_free(model);
    mn_data_free(data);
    return st;
}

void mn_balance_result_free(mn_balance_result *r)
{
    if (!r) return;
    free(r->rows), free(r->trace);
    free(r);
}

mn_status mn_experiment_balance(mn_balance_result **out, const mn_balance_plan *p)
{
    *out = NULL;
    if (p->nact < 1 || p->nstep < 1) return mn_fail(MN_EINVAL, "balance: no activations or no steps");
    for (int j = 0; j < p->nstep; j++)
        if (lround(p->horizon / p->step[j]) < 1 || p->horizon / p->step[j] > 1e7)
            return mn_fail(MN_EINVAL, "balance: horizon %g at step %g is %.3g iterations (expected 1..1e7)",
                           p->horizon, p->step[j], p->horizon / p->step[j]);
    mn_balance_result *r = calloc(1, sizeof *r);
    if (r) r->n = p->nact * p->nstep, r->rows = calloc((size_t)r->n, sizeof *r->rows);
    if (!r || !r->rows) {
        mn_balance_result_free(r);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    const double t0 = omp_get_wtime();
    const int nrun = r->n;
    net *nets = calloc((size_t)p->nact, sizeof *nets);
    mn_run_row *runs = calloc((size_t)nrun, sizeof *runs);
    mn_status st = nets && runs ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
    int nnet = 0;
    for (; !st && nnet < p->nact; nnet++)
        if ((st = net_alloc(&nets[nnet], p->act[nnet], p->seed))) break;
    if (!st) st = all_runs(r, runs, nets, p);
    /* in an MPI job rank 0 alone holds the runs and sums up (minima/dist.h) */
    const int worker = mn_dist_rank() > 0;
    for (int j = 0; !st && !worker && j < nrun; j++) {
        mn_balance_row *w = &r->rows[j];
        w->act = p->act[j / p->nstep];
        const double step = p->step[j % p->nstep];
        st = one_row(w, &nets[j / p->nstep], step, lround(p->horizon / step), runs[j].theta);
    }
    for (int j = 0; runs && j < nrun; j++) free(runs[j].theta);
    for (int a = 0; nets && a < nnet; a++) net_free(&nets[a]);
    free(nets), free(runs);
    if (!st && !worker) st = mf_part(r, p);
    if (!st && !worker && p->plot) st = mn_balance_plot(r, p->plot);
    r->seconds = omp_get_wtime() - t0;
    if (st) {
        mn_balance_result_free(r);
        return st;
    }
    *out = r;
    return MN_OK;
}
