/* The residual experiment's plan (Bartlett, Helmbold & Long, ICML 2018; see
 * minima/experiment.h and docs/residual.md): GD from Theta_i = I on
 * (1/2) ||Theta_L ... Theta_1 - Phi||_F^2 for symmetric positive definite,
 * symmetric negative-eigenvalue and near-identity targets, over depths.
 * Each run is one (family, depth, parameter, restart), a run of the kind
 * mn_kind_residual on the one runner (src/run/runner.c: threads or MPI
 * ranks), each stored in the database as it ends (resumable). */
#include <math.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "minima/experiment.h"
#include "minima/objective.h"
#include "experiment/internal.h"
#include "minima/dist.h"
#include "plot/internal.h"

static const char *const family_names[MN_RESID_NFAMILY] = {"pd", "negative", "distance"};

const char *mn_resid_family_name(mn_resid_family f)
{
    return (unsigned)f < MN_RESID_NFAMILY ? family_names[f] : "unknown";
}

void mn_resid_plan_default(mn_resid_plan *p)
{
    memset(p, 0, sizeof *p);
    p->d = 8;
    p->eps = 1e-8;
    p->step_scale = 0.5;
    p->seed = 1;
}

mn_status mn_resid_plan_set(mn_resid_plan *p, const char *name, const char *v)
{
    const mn_option *o = mn_option_find(name, MN_CMD_RESIDUAL, 0);
    if (!o) return mn_fail(MN_EINVAL, "unknown option '--%s' of experiment residual", name);
    if (o->kind != MN_OPTION_FLAG && (!v || !*v)) return mn_fail(MN_EINVAL, "option '--%s' needs a value", name);
    const mn_exp_common c = {&p->quick, &p->restarts, &p->threads, &p->max_iter, &p->seed, &p->db_path, &p->plot};
    mn_status st = MN_OK;
    if (mn_exp_set_common(&st, &c, o, v)) return st;
    long l;
    if (!strcmp(name, "d")) {
        if (!(st = mn_option_int(&l, o, v))) p->d = (int)l;
    } else if (!strcmp(name, "depth")) {
        if (!mn_parse_ints(v, 1, MN_RESID_MAX_L, p->depth, MN_RESID_MAX_LIST, &p->ndepth))
            st = mn_fail(MN_EINVAL, "--depth '%s': expected distinct integers 1..%d, comma separated", v, MN_RESID_MAX_L);
    } else if (!strcmp(name, "kappa")) {
        if (!mn_parse_reals(v, 1, 1e6, p->kappa, MN_RESID_MAX_LIST, &p->nkappa))
            st = mn_fail(MN_EINVAL, "--kappa '%s': expected distinct condition numbers in [1, 1e6], comma separated", v);
    } else if (!strcmp(name, "mu")) {
        if (!mn_parse_reals(v, 1e-6, 100, p->mu, MN_RESID_MAX_LIST, &p->nmu))
            st = mn_fail(MN_EINVAL, "--mu '%s': expected distinct values in [1e-6, 100], comma separated", v);
    } else if (!strcmp(name, "dist")) {
        if (!mn_parse_reals(v, 0, 100, p->dist, MN_RESID_MAX_LIST, &p->ndist))
            st = mn_fail(MN_EINVAL, "--dist '%s': expected distinct values in [0, 100], comma separated", v);
    } else if (!strcmp(name, "family")) {
        char buf[64];
        int bits = 0;
        if (strlen(v) >= sizeof buf || v[strlen(v) - 1] == ',') bits = -1;
        if (bits == 0) {
            strcpy(buf, v);
            char *save = NULL;
            for (char *tok = strtok_r(buf, ",", &save); tok && bits >= 0; tok = strtok_r(NULL, ",", &save)) {
                int f = 0;
                while (f < MN_RESID_NFAMILY && strcmp(tok, family_names[f])) f++;
                bits = f == MN_RESID_NFAMILY || (bits & 1 << f) ? -1 : bits | 1 << f;
            }
        }
        if (bits <= 0) return mn_fail(MN_EINVAL, "--family '%s': expected pd, negative, distance or a list of them", v);
        p->families = bits;
    } else if (!strcmp(name, "eps")) {
        st = mn_option_real(&p->eps, o, v);
    } else if (!strcmp(name, "step-scale")) {
        st = mn_option_real(&p->step_scale, o, v);
    } else {
        st = mn_fail(MN_EINVAL, "option '--%s' is not one of experiment residual's", name);
    }
    return st;
}

/* The defaults of the lists the plan left empty, for its mode. */
static void resolve(mn_resid_plan *p)
{
    static const int depth[] = {1, 2, 4, 8, 16, 32, 64}, qdepth[] = {1, 2, 8};
    static const double kappa[] = {2, 8, 32}, mu[] = {0.1, 0.5, 1}, dist[] = {0.25, 0.5, 0.75, 1, 1.5, 2};
    static const double qkappa[] = {2, 8}, qmu[] = {0.5}, qdist[] = {0.5, 2};
#define FILL(dst, n, full, small)                                                                                 \
    if (!(n)) {                                                                                                   \
        const int m = p->quick ? (int)(sizeof small / sizeof *small) : (int)(sizeof full / sizeof *full);         \
        for (int i = 0; i < m; i++) (dst)[i] = p->quick ? small[i] : full[i];                                     \
        (n) = m;                                                                                                  \
    }
    FILL(p->depth, p->ndepth, depth, qdepth);
    FILL(p->kappa, p->nkappa, kappa, qkappa);
    FILL(p->mu, p->nmu, mu, qmu);
    FILL(p->dist, p->ndist, dist, qdist);
#undef FILL
    if (!p->families) p->families = (1 << MN_RESID_NFAMILY) - 1;
    if (p->restarts <= 0) p->restarts = p->quick ? 1 : 3;
    if (p->max_iter <= 0) p->max_iter = p->quick ? 5000 : 20000;
}

/* One target: Phi (d x d), the step, and the floor (1/2) sum_{lambda < 0}
 * lambda^2 (symmetric families; NaN for distance). */
typedef struct {
    double *phi;
    double step, floor;
    int neg_det; /* det Phi < 0: no product of matrices reachable from I without crossing det = 0 */
} target;

/* The sign of det a (d x d) by Gaussian elimination with partial pivoting
 * on the copy w; 0 when a pivot vanishes. */
static int det_sign(const double *a, int d, double *w)
{
    memcpy(w, a, (size_t)d * d * sizeof *w);
    int sign = 1;
    for (int c = 0; c < d; c++) {
        int piv = c;
        for (int r = c + 1; r < d; r++)
            if (fabs(w[r * d + c]) > fabs(w[piv * d + c])) piv = r;
        if (w[piv * d + c] == 0) return 0;
        if (piv != c) {
            for (int k = 0; k < d; k++) {
                const double t = w[c * d + k];
                w[c * d + k] = w[piv * d + k], w[piv * d + k] = t;
            }
            sign = -sign;
        }
        if (w[c * d + c] < 0) sign = -sign;
        for (int r = c + 1; r < d; r++) {
            const double m = w[r * d + c] / w[c * d + c];
            for (int k = c; k < d; k++) w[r * d + k] -= m * w[c * d + k];
        }
    }
    return sign;
}

/* The largest singular value of a (d x d): sqrt of the top eigenvalue of a^T a. */
static mn_status spectral_norm(double *out, const double *a, int d, double *w, double *ev)
{
    for (int i = 0; i < d; i++)
        for (int j = 0; j < d; j++) {
            double s = 0;
            for (int k = 0; k < d; k++) s += a[k * d + i] * a[k * d + j];
            w[i * d + j] = s;
        }
    mn_status st = mn_sym_eigvals(ev, w, d);
    *out = st ? NAN : sqrt(fmax(ev[d - 1], 0));
    return st;
}

/* Phi of (family, param) for restart r: eigenvectors (symmetric families)
 * and G (distance) from the seed mn_seed_derive(base, {family, r}), so every
 * depth and parameter of a family sees the same random directions. */
static mn_status make_target(target *t, const mn_resid_plan *p, mn_resid_family fam, double param, int r, int L)
{
    const int d = p->d, dd = d * d;
    double *w = malloc((size_t)dd * sizeof *w), *q = malloc((size_t)dd * sizeof *q);
    double *ev = malloc((size_t)d * sizeof *ev), *lam = malloc((size_t)d * sizeof *lam);
    mn_status st = !w || !q || !ev || !lam ? mn_fail(MN_ENOMEM, "residual: out of memory (d %d)", d) : MN_OK;
    mn_rng rng;
    const uint64_t idx[2] = {(uint64_t)fam, (uint64_t)r};
    mn_rng_seed(&rng, mn_seed_derive(p->seed, idx, 2));
    for (int k = 0; !st && k < dd; k++) q[k] = mn_rng_normal(&rng);
    if (!st && fam == MN_RESID_DISTANCE) {
        double g2;
        if (!(st = spectral_norm(&g2, q, d, w, ev))) {
            for (int k = 0; k < dd; k++) t->phi[k] = (k % (d + 1) == 0) + param * q[k] / g2;
            t->floor = NAN;
        }
    } else if (!st) {
        /* random orthonormal eigenvectors: those of a symmetric Gaussian matrix */
        for (int i = 0; i < d; i++)
            for (int j = 0; j < d; j++) w[i * d + j] = q[i * d + j] + q[j * d + i];
        st = mn_sym_eig(ev, w, d); /* columns of w: eigenvectors */
        for (int j = 0; j < d; j++) {
            const double u = d > 1 ? (double)j / (d - 1) : 0.5;
            if (fam == MN_RESID_PD) lam[j] = pow(param, u - 0.5);
            else lam[j] = j == 0 ? -param : d > 2 ? 0.5 * pow(4, (double)(j - 1) / (d - 2)) : 1;
        }
        t->floor = 0;
        for (int j = 0; j < d; j++) t->floor += lam[j] < 0 ? lam[j] * lam[j] / 2 : 0;
        for (int i = 0; !st && i < d; i++)
            for (int k = i; k < d; k++) {
                double s = 0;
                for (int j = 0; j < d; j++) s += w[i * d + j] * lam[j] * w[k * d + j];
                t->phi[i * d + k] = t->phi[k * d + i] = s; /* exactly symmetric */
            }
    }
    double nrm = NAN;
    if (!st) st = spectral_norm(&nrm, t->phi, d, w, ev);
    if (!st) t->neg_det = det_sign(t->phi, d, w) < 0;
    t->step = p->step_scale / (L * fmax(1, nrm) * fmax(1, nrm));
    free(w), free(q), free(ev), free(lam);
    return st;
}

/* max_i ||Theta_i - Theta_1||_F / ||Theta_1||_F over the layers of x. */
static double asymmetry(const double *x, int d, int L)
{
    const int dd = d * d;
    double n1 = 0, worst = 0;
    for (int k = 0; k < dd; k++) n1 += x[k] * x[k];
    for (int i = 1; i < L; i++) {
        double s = 0;
        for (int k = 0; k < dd; k++) s += (x[(size_t)i * dd + k] - x[k]) * (x[(size_t)i * dd + k] - x[k]);
        worst = fmax(worst, sqrt(s));
    }
    return n1 > 0 ? worst / sqrt(n1) : NAN;
}

/* One run: GD from the identity until loss <= eps or max_iter steps. The
 * row keeps the steps, the lowest loss met, the end point (malloc'ed). */
static mn_status run_one(mn_run_row *row, const mn_resid_plan *p, const target *t, int L)
{
    const int d = p->d;
    const size_t n = (size_t)L * d * d;
    mn_objective *f = NULL;
    mn_optim *opt = NULL;
    double *x0 = calloc(n, sizeof *x0);
    if (!x0) return mn_fail(MN_ENOMEM, "residual: out of memory (depth %d)", L);
    for (int l = 0; l < L; l++)
        for (int i = 0; i < d; i++) x0[(size_t)l * d * d + (size_t)i * d + i] = 1;
    mn_opt_params prm;
    mn_opt_params_default(&prm);
    prm.kind = MN_OPT_GD, prm.lr = t->step;
    mn_status st = mn_resid_objective_alloc(&f, d, L, t->phi);
    if (!st) st = mn_optim_alloc_objective(&opt, f, &prm, x0);
    double low = INFINITY;
    mn_run_state rs = MN_RUN_RUNNING;
    const double t0 = omp_get_wtime();
    while (!st) {
        low = fmin(low, mn_optim_loss(opt));
        rs = mn_optim_test(opt, 0);
        if (low <= p->eps || rs != MN_RUN_RUNNING || mn_optim_iter(opt) >= p->max_iter) break;
        st = mn_optim_iterate(opt);
    }
    if (!st) {
        strcpy(row->optimizer, "gd");
        row->iterations = mn_optim_iter(opt);
        row->loss = low;
        row->grad_norm = mn_optim_gnorm(opt);
        row->cls = low <= p->eps ? MN_CLASS_GLOBAL : rs == MN_RUN_DIVERGED ? MN_CLASS_DIVERGED : MN_CLASS_NOT_CONVERGED;
        strcpy(row->status, low <= p->eps ? "converged" : mn_run_state_name(rs));
        snprintf(row->reason, sizeof row->reason, "%s", mn_optim_why(opt));
        row->theta_norm = mn_norm2(mn_optim_theta(opt), n, NULL);
        row->ntheta = n;
        row->theta = malloc(n * sizeof *row->theta);
        if (!row->theta) st = mn_fail(MN_ENOMEM, "residual: out of memory (depth %d)", L);
        else memcpy(row->theta, mn_optim_theta(opt), n * sizeof *row->theta);
    }
    row->seconds = omp_get_wtime() - t0;
    mn_optim_free(opt);
    mn_objective_free(f);
    free(x0);
    return st;
}

/* A row's setting: what it is and how its runs are made. */
typedef struct {
    mn_resid_family fam;
    int depth;
    double param;
    int nr; /* its targets: restarts for distance, 1 for the symmetric families */
    int64_t id;
    char *canon;
    mn_exp_setting run; /* as the runner's setting */
} setting;

static mn_status setting_canon(setting *s, const mn_resid_plan *p, char **json)
{
    char v[9][40];
    const char *keys[9] = {"experiment", "family", "d", "depth", "param", "eps", "step-scale", "max-iter", "seed"};
    snprintf(v[0], 40, "residual");
    snprintf(v[1], 40, "%s", family_names[s->fam]);
    snprintf(v[2], 40, "%d", p->d);
    snprintf(v[3], 40, "%d", s->depth);
    snprintf(v[4], 40, "%.17g", s->param);
    snprintf(v[5], 40, "%.17g", p->eps);
    snprintf(v[6], 40, "%.17g", p->step_scale);
    snprintf(v[7], 40, "%ld", p->max_iter);
    snprintf(v[8], 40, "%llu", (unsigned long long)p->seed);
    const char *vals[9];
    for (int i = 0; i < 9; i++) vals[i] = v[i];
    return mn_canon(&s->canon, json, keys, vals, 9);
}

/* Job j: setting j / R, restart j % R. */
typedef struct {
    const mn_resid_plan *p;
    const setting *set;
    const target *tg;
    int R;
} pool_ctx;

static mn_status job(void *ctx, long j, mn_run_row *row)
{
    const pool_ctx *c = ctx;
    const setting *s = &c->set[j / c->R];
    const uint64_t idx[2] = {(uint64_t)s->fam, (uint64_t)(j % c->R)};
    row->setting = s->id, row->restart = j % c->R, row->seed = mn_seed_derive(c->p->seed, idx, 2);
    return run_one(row, c->p, &c->tg[j], s->depth);
}

static int claims(const char *json, const char *canon)
{
    (void)json;
    return mn_run_canon_is(canon, "residual");
}

const mn_run_kind mn_kind_residual = {"residual", 0, claims, mn_run_distinct_none, NULL, NULL,
                                      mn_exp_kind_run, mn_exp_kind_npoint, mn_exp_kind_take, NULL};

void mn_resid_result_free(mn_resid_result *r)
{
    if (!r) return;
    free(r->rows);
    free(r);
}

static int cmp_long(const void *a, const void *b)
{
    const long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* A row from its runs (end points for the asymmetry). */
static void summarise(mn_resid_row *row, const mn_run_row *runs, const target *tg, int restarts, long *scratch)
{
    int nc = 0;
    row->converged = 0, row->above_floor = 0, row->neg_det = 0;
    row->iter_max = -1, row->loss_max = -INFINITY, row->floor = -INFINITY, row->gap_min = INFINITY, row->asym = 0;
    for (int r = 0; r < restarts; r++) {
        const mn_run_row *q = &runs[r];
        if (q->cls == MN_CLASS_GLOBAL) scratch[nc++] = q->iterations, row->iter_max = q->iterations > row->iter_max ? q->iterations : row->iter_max;
        row->loss_max = fmax(row->loss_max, q->loss);
        row->neg_det += tg[r].neg_det;
        row->floor = isnan(tg[r].floor) ? NAN : fmax(row->floor, tg[r].floor);
        if (tg[r].floor > 0) {
            row->above_floor += q->loss >= tg[r].floor * (1 - 1e-12);
            row->gap_min = fmin(row->gap_min, (q->loss - tg[r].floor) / tg[r].floor);
        }
        if (q->theta) row->asym = fmax(row->asym, asymmetry(q->theta, (int)sqrt((double)q->ntheta / row->depth), row->depth));
    }
    row->converged = nc;
    qsort(scratch, (size_t)nc, sizeof *scratch, cmp_long);
    row->iter_median = nc == 0 ? NAN : nc % 2 ? (double)scratch[nc / 2] : 0.5 * (double)(scratch[nc / 2 - 1] + scratch[nc / 2]);
    if (!isfinite(row->gap_min)) row->gap_min = NAN;
    row->step = tg[0].step;
}

mn_status mn_experiment_residual(mn_resid_result **out, const mn_resid_plan *plan)
{
    *out = NULL;
    mn_resid_plan p = *plan;
    resolve(&p);
    if (p.d < 1 || p.d > MN_RESID_MAX_D) return mn_fail(MN_EINVAL, "--d %d is out of range [1, %d]", p.d, MN_RESID_MAX_D);
    mn_db *db = NULL;
    mn_status st = MN_OK;
    /* in an MPI job rank 0 alone writes the database and sums up (minima/dist.h) */
    const int worker = mn_dist_rank() > 0;
    if (p.db_path && !worker && (st = mn_db_open(&db, p.db_path, 1))) return st;
    const int perfam[MN_RESID_NFAMILY] = {p.nkappa, p.nmu, p.ndist};
    const double *params[MN_RESID_NFAMILY] = {p.kappa, p.mu, p.dist};
    int nrow = 0;
    for (int f = 0; f < MN_RESID_NFAMILY; f++) nrow += (p.families >> f & 1) * p.ndepth * perfam[f];
    const int R = p.restarts, dd = p.d * p.d;
    const long njob = (long)nrow * R;
    mn_resid_result *res = calloc(1, sizeof *res);
    setting *set = calloc((size_t)nrow, sizeof *set);
    mn_run_row *runs = calloc((size_t)njob, sizeof *runs);
    target *tg = calloc((size_t)njob, sizeof *tg);
    double *phis = malloc((size_t)njob * dd * sizeof *phis);
    unsigned char *done = calloc((size_t)njob, 1);
    long *scratch = malloc((size_t)R * sizeof *scratch);
    if (res) res->rows = calloc((size_t)nrow, sizeof *res->rows);
    if (!res || !res->rows || !set || !runs || !tg || !phis || !done || !scratch) {
        st = mn_fail(MN_ENOMEM, "residual: out of memory for %d rows", nrow);
        goto out;
    }
    res->n = nrow, res->plan = p;
    int i = 0;
    for (int f = 0; f < MN_RESID_NFAMILY; f++)
        for (int a = 0; (p.families >> f & 1) && a < p.ndepth; a++)
            for (int b = 0; b < perfam[f]; b++)
                set[i++] = (setting){.fam = (mn_resid_family)f, .depth = p.depth[a], .param = params[f][b],
                                     .nr = f == MN_RESID_DISTANCE ? R : 1};
    /* targets first (cheap, and the loaded runs need their floors) */
    for (long j = 0; !st && j < njob; j++) {
        const setting *s = &set[j / R];
        tg[j].phi = phis + j * dd;
        if (j % R >= s->nr) continue;
        st = make_target(&tg[j], &p, s->fam, s->param, (int)(j % R), s->depth);
    }
    pool_ctx pc = {.p = &p, .set = set, .tg = tg, .R = R};
    uint64_t key = mn_hash_bytes(MN_FNV_OFFSET, &R, sizeof R); /* what every MPI rank must agree on */
    for (int q = 0; !st && q < nrow; q++) {
        char *json = NULL;
        if ((st = setting_canon(&set[q], &p, &json))) break;
        key = mn_hash_bytes(key, set[q].canon, strlen(set[q].canon) + 1);
        set[q].run = (mn_exp_setting){.job = job, .ctx = &pc, .first = (long)q * R, .runs = runs + (long)q * R,
                                      .npoint = (size_t)set[q].depth * dd};
        if (db) st = mn_db_setting(&set[q].id, db, set[q].canon, json);
        free(json);
        if (!st && db) st = mn_exp_load(runs + (long)q * R, done + (long)q * R, &res->skipped, db, set[q].id, set[q].nr);
    }
    /* the deepest rows first: they take longest */
    mn_pending *list = st ? NULL : malloc((size_t)njob * sizeof *list);
    if (!st && !list) st = mn_fail(MN_ENOMEM, "residual: out of memory for %ld runs", njob);
    long no = 0;
    for (int L = MN_RESID_MAX_L; !st && L >= 1; L--)
        for (long j = 0; j < njob; j++)
            if (set[j / R].depth == L && j % R < set[j / R].nr)
                list[no++] = (mn_pending){&mn_kind_residual, &set[j / R].run, set[j / R].id, j % R, NULL};
    if (!st) st = mn_exp_run(&res->done, list, no, p.threads, db, key);
    free(list);
    for (int q = 0; !st && !worker && q < nrow; q++) {
        mn_resid_row *row = &res->rows[q];
        row->family = set[q].fam, row->depth = set[q].depth, row->param = set[q].param, row->restarts = set[q].nr;
        row->loaded = 0;
        double secs = 0;
        for (int r = 0; r < set[q].nr; r++) {
            row->loaded += done[(long)q * R + r];
            if (!done[(long)q * R + r]) secs += runs[(long)q * R + r].seconds;
        }
        summarise(row, runs + (long)q * R, tg + (long)q * R, set[q].nr, scratch);
        row->seconds = secs;
    }
    if (!st && p.plot && !worker) st = mn_resid_plot(res->rows, nrow, p.eps, p.plot);
out:
    for (long j = 0; runs && j < njob; j++) free(runs[j].theta);
    for (int q = 0; set && q < nrow; q++) free(set[q].canon);
    free(set), free(runs), free(tg), free(phis), free(done), free(scratch);
    mn_db_close(db);
    if (st) {
        mn_resid_result_free(res);
        return st;
    }
    *out = res;
    return MN_OK;
}
