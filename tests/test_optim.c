/* Optimisers: first steps against hand-written recurrences on a least-squares
 * problem (closed-form gradient, an oracle independent of the library),
 * loss decrease and bit-for-bit determinism for every kind, frozen layers,
 * L-BFGS and Newton to a rounding-level gradient at the least-squares
 * solution (LAPACK dgels as the oracle), PGD leaving a saddle that GD cannot,
 * divergence, the plateau rule, and parameter validation. */
#include <lapacke.h>
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/objective.h"

typedef struct {
    mn_model *m;
    mn_work *w;
    mn_data *data;
    size_t P;
} problem;

/* The teacher behind make()'s labels, as a d-2-1 tanh network (d = 1, 2). */
static void teacher(const mn_model *m, int d, double *th)
{
    const double w1[2][2] = {{1.7, 0}, {0, -1.1}}, w1d1[2] = {1.7, -1.1};
    double *W1 = th + mn_model_w_offset(m, 1), *b1 = th + mn_model_b_offset(m, 1);
    for (int j = 0; j < 2; j++)
        for (int c = 0; c < d; c++) W1[j * d + c] = d == 1 ? w1d1[j] : w1[j][c];
    b1[0] = -0.4, b1[1] = 0.5;
    th[mn_model_w_offset(m, 2)] = 1.1, th[mn_model_w_offset(m, 2) + 1] = -0.9;
    th[mn_model_b_offset(m, 2)] = 0.25;
}

/* n samples: x ~ 0.9 N(0, I_d) + 0.3;
 * y = 1.1 tanh(1.7 x_0 - 0.4) - 0.9 tanh(-1.1 x_{d-1} + 0.5) + 0.25 + noise N(0, 1). */
static problem make(const char *arch, mn_act act, uint64_t frozen, int n, uint64_t seed, double noise)
{
    problem pb;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, arch), MN_OK);
    s.act = act;
    s.loss = MN_LOSS_SQUARED;
    s.frozen = frozen;
    const int d = s.width[0];
    assert_int_equal(mn_data_alloc(&pb.data, n, d, 1), MN_OK);
    mn_rng r;
    mn_rng_seed(&r, seed);
    double *x = mn_data_x(pb.data), *y = mn_data_y(pb.data);
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) x[i * d + c] = 0.9 * mn_rng_normal(&r) + 0.3;
        y[i] = 1.1 * tanh(1.7 * x[i * d] - 0.4) - 0.9 * tanh(-1.1 * x[i * d + d - 1] + 0.5) + 0.25 +
               noise * mn_rng_normal(&r);
    }
    assert_int_equal(mn_model_alloc(&pb.m, &s), MN_OK);
    assert_int_equal(mn_work_alloc(&pb.w, pb.m, n), MN_OK);
    pb.P = mn_model_nparams(pb.m);
    return pb;
}

static void unmake(problem *pb)
{
    mn_work_free(pb->w);
    mn_model_free(pb->m);
    mn_data_free(pb->data);
}

/* Runs `steps` iterations (fewer if the run leaves RUNNING under gtol). */
static mn_run_state run(mn_optim *o, long steps, double gtol)
{
    mn_run_state st = mn_optim_test(o, gtol);
    while (st == MN_RUN_RUNNING && mn_optim_iter(o) < steps) {
        assert_int_equal(mn_optim_iterate(o), MN_OK);
        st = mn_optim_test(o, gtol);
    }
    return st;
}

/* Gradient of the linear model f = w.x + b, L = (1/2n) sum (f - y)^2: g (d+1). */
static void ls_grad(const mn_data *data, const double *th, double *g)
{
    const int n = mn_data_n(data), d = mn_data_d(data);
    const double *x = mn_data_xc(data), *y = mn_data_yc(data);
    memset(g, 0, (size_t)(d + 1) * sizeof *g);
    for (int i = 0; i < n; i++) {
        double f = th[d];
        for (int c = 0; c < d; c++) f += th[c] * x[i * d + c];
        const double r = (f - y[i]) / n;
        for (int c = 0; c < d; c++) g[c] += r * x[i * d + c];
        g[d] += r;
    }
}

/* Three steps of GD, momentum, Nesterov and Adam against the recurrences
 * written out here (layout of a 3-1 network: W (3), b). */
static void test_first_steps_oracle(void **state)
{
    (void)state;
    problem pb = make("3-1", MN_ACT_LINEAR, 0, 25, 3, 0.3);
    const double th0[4] = {0.35, -0.2, 0.6, -0.15};
    for (int kind = MN_OPT_GD; kind <= MN_OPT_ADAM; kind++) {
        mn_opt_params p;
        mn_opt_params_default(&p);
        p.kind = (mn_opt_kind)kind;
        p.lr = 0.0725;
        p.momentum = 0.65;
        p.beta1 = 0.85, p.beta2 = 0.97, p.eps = 1e-3;
        mn_optim *o;
        assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_OK);
        double th[4], v[4] = {0}, s2[4] = {0}, g[4];
        memcpy(th, th0, sizeof th);
        for (int t = 1; t <= 3; t++) {
            ls_grad(pb.data, th, g);
            for (int i = 0; i < 4; i++) {
                if (kind == MN_OPT_GD) {
                    th[i] -= p.lr * g[i];
                } else if (kind == MN_OPT_MOMENTUM) {
                    v[i] = p.momentum * v[i] - p.lr * g[i];
                    th[i] += v[i];
                } else if (kind == MN_OPT_NESTEROV) { /* theta holds the look-ahead point */
                    th[i] += p.momentum * p.momentum * v[i] - (1 + p.momentum) * p.lr * g[i];
                    v[i] = p.momentum * v[i] - p.lr * g[i];
                } else {
                    v[i] = p.beta1 * v[i] + (1 - p.beta1) * g[i];
                    s2[i] = p.beta2 * s2[i] + (1 - p.beta2) * g[i] * g[i];
                    const double mh = v[i] / (1 - pow(p.beta1, t)), vh = s2[i] / (1 - pow(p.beta2, t));
                    th[i] -= p.lr * mh / (sqrt(vh) + p.eps);
                }
            }
            assert_int_equal(mn_optim_iterate(o), MN_OK);
            for (int i = 0; i < 4; i++) assert_true(fabs(mn_optim_theta(o)[i] - th[i]) < 1e-14);
        }
        assert_int_equal(mn_optim_iter(o), 3);
        ls_grad(pb.data, th, g);
        double gn = 0;
        for (int i = 0; i < 4; i++) gn += g[i] * g[i];
        assert_true(fabs(mn_optim_gnorm(o) - sqrt(gn)) < 1e-14);
        mn_optim_free(o);
    }
    unmake(&pb);
}

/* Every kind lowers the loss of a small tanh network by a clear margin, gives
 * the same iterates when run again, and (with layer 1 frozen) leaves the
 * frozen weights bit-for-bit alone. The network has the teacher's size, so
 * its minimum near the teacher is non-degenerate: Newton starts there. */
static void test_every_kind(void **state)
{
    (void)state;
    for (int frozen = 0; frozen <= 1; frozen++) {
        problem pb = make("2-2-1", MN_ACT_TANH, (uint64_t)frozen, 37, 4, 0.05);
        double *th0 = malloc(pb.P * sizeof *th0);
        mn_model_init(pb.m, th0, 21, 0.37);
        /* Newton polishes: start it near the teacher (layer 1 as th0 when frozen). */
        double *near = malloc(pb.P * sizeof *near);
        teacher(pb.m, 2, near);
        for (size_t i = 0; i < pb.P; i++) near[i] += 0.04 * cos(3.0 * (double)i);
        if (frozen) memcpy(near, th0, 6 * sizeof *near);
        for (int kind = 0; kind < MN_NOPT; kind++) {
            mn_opt_params p;
            mn_opt_params_default(&p);
            p.kind = (mn_opt_kind)kind;
            p.lr = kind == MN_OPT_ADAM ? 0.02 : kind == MN_OPT_MOMENTUM || kind == MN_OPT_NESTEROV ? 0.05 : 0.1;
            p.batch = 6; /* 37 = 6 * 6 + 1: a last batch of one */
            p.seed = 77;
            p.pgd_l = 5;
            const double *start = kind == MN_OPT_NEWTON ? near : th0;
            double *end[2];
            double loss0 = NAN, loss1 = NAN, g0 = NAN, g1 = NAN;
            for (int rep = 0; rep < 2; rep++) {
                mn_optim *o;
                assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, start), MN_OK);
                loss0 = mn_optim_loss(o), g0 = mn_optim_gnorm(o);
                mn_run_state st = run(o, kind == MN_OPT_NEWTON ? 8 : 60, 0);
                assert_true(st == MN_RUN_RUNNING || st == MN_RUN_STALLED);
                loss1 = mn_optim_loss(o), g1 = mn_optim_gnorm(o);
                end[rep] = malloc(pb.P * sizeof(double));
                memcpy(end[rep], mn_optim_theta(o), pb.P * sizeof(double));
                mn_optim_free(o);
            }
            if (kind == MN_OPT_NEWTON) {
                assert_true(g0 > 1e-3);
                assert_true(g1 < 1e-12); /* quadratic convergence, then rounding */
                assert_true(loss1 < loss0);
            } else {
                assert_true(loss1 < 0.8 * loss0);
            }
            assert_memory_equal(end[0], end[1], pb.P * sizeof(double));
            if (frozen) /* layer 1, W_1 (2 x 2) and b_1 (2): never moves */
                for (int i = 0; i < 6; i++) assert_true(end[0][i] == start[i]);
            free(end[0]), free(end[1]);
        }
        free(th0), free(near);
        unmake(&pb);
    }
}

/* SGD: batch >= n is full-batch GD (same steps up to summation order);
 * another seed gives another order, hence other iterates. */
static void test_sgd_batches(void **state)
{
    (void)state;
    problem pb = make("2-4-1", MN_ACT_TANH, 0, 30, 5, 0.1);
    double *th0 = malloc(pb.P * sizeof *th0);
    mn_model_init(pb.m, th0, 22, 0);
    mn_opt_params p;
    mn_opt_params_default(&p);
    mn_optim *gd, *sgd, *a, *b;
    assert_int_equal(mn_optim_alloc(&gd, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    p.kind = MN_OPT_SGD;
    p.batch = 1000;
    assert_int_equal(mn_optim_alloc(&sgd, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    run(gd, 25, 0), run(sgd, 25, 0);
    for (size_t i = 0; i < pb.P; i++) assert_true(fabs(mn_optim_theta(gd)[i] - mn_optim_theta(sgd)[i]) < 1e-12);
    p.batch = 4, p.seed = 1;
    assert_int_equal(mn_optim_alloc(&a, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    p.seed = 2;
    assert_int_equal(mn_optim_alloc(&b, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    run(a, 5, 0), run(b, 5, 0);
    double diff = 0;
    for (size_t i = 0; i < pb.P; i++) diff += fabs(mn_optim_theta(a)[i] - mn_optim_theta(b)[i]);
    assert_true(diff > 1e-6);
    /* Small batches took 8 steps an epoch: further than GD's 5 steps. */
    assert_true(mn_optim_loss(a) < mn_optim_loss(gd) || mn_optim_iter(gd) > 5);
    mn_optim_free(gd), mn_optim_free(sgd), mn_optim_free(a), mn_optim_free(b);
    free(th0);
    unmake(&pb);
}

/* L-BFGS and Newton on a strongly convex least-squares problem reach a
 * gradient norm < 1e-10 and the solution LAPACK's dgels gives. The noise
 * makes the optimum's loss positive (~0.04), so the end game runs below the
 * loss's rounding: the line search's gradient clause is needed. */
static void test_lbfgs_newton_exact(void **state)
{
    (void)state;
    problem pb = make("3-1", MN_ACT_LINEAR, 0, 50, 6, 0.3);
    const int n = 50, d = 3;
    double A[50 * 4], rhs[50];
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) A[i * 4 + c] = mn_data_xc(pb.data)[i * d + c];
        A[i * 4 + 3] = 1.0;
        rhs[i] = mn_data_yc(pb.data)[i];
    }
    assert_int_equal(LAPACKE_dgels(LAPACK_ROW_MAJOR, 'N', n, 4, 1, A, 4, rhs, 1), 0);
    const double th0[4] = {-1.25, 2.5, 0.75, 3.0};
    for (int kind = MN_OPT_LBFGS; kind <= MN_OPT_NEWTON; kind++) {
        mn_opt_params p;
        mn_opt_params_default(&p);
        p.kind = (mn_opt_kind)kind;
        p.memory = 5;
        mn_optim *o;
        assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_OK);
        assert_true(mn_optim_gnorm(o) > 1.0);
        mn_run_state st = run(o, 200, 1e-10);
        assert_int_equal(st, MN_RUN_CONVERGED);
        assert_true(mn_optim_gnorm(o) < 1e-10);
        assert_true(mn_optim_loss(o) > 0.02);
        for (int i = 0; i < 4; i++) assert_true(fabs(mn_optim_theta(o)[i] - rhs[i]) < 1e-9);
        if (kind == MN_OPT_NEWTON) assert_true(mn_optim_iter(o) <= 3); /* a quadratic: one step */
        else assert_true(mn_optim_iter(o) <= 60);
        /* Both go on to the rounding level (L-BFGS: by the line search's
         * gradient clause; Armijo alone stalls at ~2e-11), then stall and
         * say so. */
        st = run(o, 400, 0);
        assert_int_equal(st, MN_RUN_STALLED);
        assert_true(mn_optim_gnorm(o) < 1e-14);
        assert_non_null(strstr(mn_optim_why(o), kind == MN_OPT_NEWTON ? "Newton" : "line search"));
        mn_optim_free(o);
    }
    unmake(&pb);
}

/* The tanh saddle of test_certify (zero weights, output bias mean(y)): the
 * gradient is zero to rounding, so GD stays put; PGD's perturbation grows
 * along the negative-curvature direction and the loss falls well below the
 * saddle's, and PGD stops by its own rule at a point that is not a saddle. */
static void test_pgd_escapes_saddle(void **state)
{
    (void)state;
    problem pb = make("1-2-1", MN_ACT_TANH, 0, 40, 7, 0.05);
    double th[7] = {0};
    double my = 0;
    for (int i = 0; i < 40; i++) my += mn_data_yc(pb.data)[i] / 40;
    th[mn_model_b_offset(pb.m, 2)] = my;
    mn_opt_params p;
    mn_opt_params_default(&p);
    mn_optim *gd;
    assert_int_equal(mn_optim_alloc(&gd, pb.m, pb.w, pb.data, &p, th), MN_OK);
    const double saddle_loss = mn_optim_loss(gd);
    assert_true(mn_optim_gnorm(gd) < 1e-15);
    assert_int_equal(run(gd, 5000, 0), MN_RUN_RUNNING);
    assert_true(fabs(mn_optim_loss(gd) - saddle_loss) < 1e-15);
    mn_cert c;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, mn_optim_theta(gd), 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_SADDLE);

    p.kind = MN_OPT_PGD;
    p.pgd_l = 2, p.pgd_eps = 0.1, p.seed = 5;
    mn_optim *pgd;
    assert_int_equal(mn_optim_alloc(&pgd, pb.m, pb.w, pb.data, &p, th), MN_OK);
    mn_run_state st = run(pgd, 2000000, 0);
    assert_int_equal(st, MN_RUN_CONVERGED);
    assert_non_null(strstr(mn_optim_why(pgd), "second-order point"));
    assert_true(mn_optim_loss(pgd) < 0.01 * saddle_loss); /* ~8.4e-4 against 1.07 */
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.gtol = 1e-3; /* PGD's own target is an eps-second-order point */
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, mn_optim_theta(pgd), 0, &co), MN_OK);
    assert_true(c.lambda_min > 1e-6); /* ~1.9e-5: the (ill-conditioned) minimum near the teacher */
    assert_true(c.cls != MN_CLASS_SADDLE);
    mn_optim_free(gd), mn_optim_free(pgd);
    unmake(&pb);
}

/* A huge step size diverges; the state says so with a reason. */
static void test_divergence(void **state)
{
    (void)state;
    problem pb = make("2-3-1", MN_ACT_LINEAR, 0, 20, 8, 0.1);
    double *th0 = malloc(pb.P * sizeof *th0);
    mn_model_init(pb.m, th0, 23, 0);
    const mn_opt_kind kinds[3] = {MN_OPT_GD, MN_OPT_MOMENTUM, MN_OPT_SGD};
    for (int k = 0; k < 3; k++) {
        mn_opt_params p;
        mn_opt_params_default(&p);
        p.kind = kinds[k];
        p.lr = 3.5;
        p.max_norm = 1e6;
        mn_optim *o;
        assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_OK);
        mn_run_state st = run(o, 10000, 1e-8);
        assert_int_equal(st, MN_RUN_DIVERGED);
        assert_true(mn_optim_iter(o) < 200);
        assert_true(strstr(mn_optim_why(o), "max_norm") || strstr(mn_optim_why(o), "finite"));
        /* Further iterations are no-ops. */
        long it = mn_optim_iter(o);
        assert_int_equal(mn_optim_iterate(o), MN_OK);
        assert_int_equal(mn_optim_iter(o), it);
        mn_optim_free(o);
    }
    free(th0);
    unmake(&pb);
}

/* Liang's neuron with the logistic loss on separable data: the augmented
 * loss has no minimum; L-BFGS drives a -> 0, b -> +inf with a e^b finite and
 * the gradient below 1e-8. The gradient test is the one rule for every
 * network, so the run is CONVERGED (it used to run to the step cap at
 * gradient 1e-14 because the neuron was still active); the drift is told
 * apart by mn_elim_drifts, and mn_judge reports the neuron's output. With
 * max_norm half the end point's norm the same run is DIVERGED. */
static void test_liang_logistic_path(void **state)
{
    (void)state;
    mn_data *data;
    assert_int_equal(mn_gen_separable(&data, 200, 2, 0.1, 1), MN_OK);
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "2-8-1"), MN_OK);
    s.loss = MN_LOSS_LOGISTIC;
    s.elim = MN_ELIM_LIANG;
    mn_model *m;
    mn_work *w;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    assert_int_equal(mn_work_alloc(&w, m, 200), MN_OK);
    const size_t P = mn_model_nparams(m);
    double *th0 = malloc(P * sizeof *th0);
    mn_model_init(m, th0, 1, 0);
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.kind = MN_OPT_LBFGS;
    p.lr = 0.5;
    mn_optim *o;
    assert_int_equal(mn_optim_alloc(&o, m, w, data, &p, th0), MN_OK);
    assert_int_equal(run(o, 3000, 1e-8), MN_RUN_CONVERGED);
    assert_true(mn_optim_gnorm(o) <= 1e-8 && mn_optim_iter(o) < 3000);
    double act;
    assert_int_equal(mn_elim_activity(&act, m, data, mn_optim_theta(o)), MN_OK);
    mn_judgement j;
    assert_int_equal(mn_judge(&j, m, data, mn_optim_theta(o), 0, NULL), MN_OK);
    assert_true(j.defended_critical && j.elim_output == act);
    const double tn = mn_norm2(mn_optim_theta(o), P, NULL);
    mn_optim_free(o);
    p.max_norm = 0.5 * tn;
    assert_int_equal(mn_optim_alloc(&o, m, w, data, &p, th0), MN_OK);
    assert_int_equal(run(o, 3000, 1e-8), MN_RUN_DIVERGED);
    assert_non_null(strstr(mn_optim_why(o), "max_norm"));
    mn_optim_free(o);
    free(th0);
    mn_work_free(w), mn_model_free(m), mn_data_free(data);
}

/* Plateau: a tiny step barely moves the loss; the rule stops the run. */
static void test_plateau(void **state)
{
    (void)state;
    problem pb = make("2-3-1", MN_ACT_TANH, 0, 20, 9, 0.1);
    double *th0 = malloc(pb.P * sizeof *th0);
    mn_model_init(pb.m, th0, 24, 0);
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.lr = 1e-7;
    p.plateau_window = 25;
    p.plateau_tol = 1e-4;
    mn_optim *o;
    assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    assert_int_equal(run(o, 1000, 1e-8), MN_RUN_STALLED);
    assert_int_equal(mn_optim_iter(o), 25);
    assert_non_null(strstr(mn_optim_why(o), "plateau"));
    mn_optim_free(o);
    p.lr = 0.3; /* a real step: no plateau within 25 steps */
    assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_OK);
    assert_int_equal(run(o, 25, 1e-8), MN_RUN_RUNNING);
    mn_optim_free(o);
    free(th0);
    unmake(&pb);
}

static void test_params_and_names(void **state)
{
    (void)state;
    problem pb = make("2-3-1", MN_ACT_TANH, 0, 10, 10, 0.1);
    double *th0 = calloc(pb.P, sizeof *th0);
    mn_opt_params p;
    mn_optim *o;
    struct {
        double *field;
        double bad;
    } cases[] = {{&p.lr, 0}, {&p.momentum, 1}, {&p.beta1, -0.1}, {&p.beta2, 1.5}, {&p.eps, 0},
                 {&p.pgd_c, 1.5}, {&p.pgd_delta, 1}, {&p.pgd_l, -2}, {&p.plateau_tol, -1}, {&p.max_norm, 0}};
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        mn_opt_params_default(&p);
        *cases[i].field = cases[i].bad;
        assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_EINVAL);
        assert_null(o);
    }
    mn_opt_params_default(&p);
    p.memory = 0;
    assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_EINVAL);
    p.memory = 10, p.batch = 0;
    assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_EINVAL);
    for (int k = 0; k < MN_NOPT; k++) {
        mn_opt_kind got;
        assert_int_equal(mn_opt_parse(&got, mn_opt_name((mn_opt_kind)k)), MN_OK);
        assert_int_equal(got, k);
    }
    mn_opt_kind got;
    assert_int_equal(mn_opt_parse(&got, "rmsprop"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "rmsprop"));
    assert_string_equal(mn_run_state_name(MN_RUN_STALLED), "stalled");
    free(th0);
    unmake(&pb);
}

/* mn_norm2 against norms known exactly, past both ends of the range. */
static void test_norm2(void **state)
{
    (void)state;
    const double big[3] = {3e200, -4e200, 0}, tiny[2] = {-3e-200, 4e-200}, plain[3] = {2.385, -1.5, 0.25};
    const unsigned char mask[3] = {1, 0, 1};
    assert_true(fabs(mn_norm2(big, 3, NULL) / 5e200 - 1) < 1e-15);
    assert_true(fabs(mn_norm2(tiny, 2, NULL) / 5e-200 - 1) < 1e-15);
    assert_true(fabs(mn_norm2(big, 3, mask) / 3e200 - 1) < 1e-15);
    assert_true(mn_norm2(plain, 3, NULL) == sqrt(2.385 * 2.385 + 1.5 * 1.5 + 0.25 * 0.25)); /* bit for bit */
    const double huge[2] = {1.5e308, -1.5e308}, inf[2] = {1, INFINITY}, nan[2] = {INFINITY, NAN};
    assert_true(isinf(mn_norm2(huge, 2, NULL))); /* 2.1e308 > DBL_MAX */
    assert_true(isinf(mn_norm2(inf, 2, NULL)));
    assert_true(isnan(mn_norm2(nan, 2, NULL)));
    assert_true(mn_norm2(big + 2, 1, NULL) == 0);
}

/* A 1-2-1 linear network on one sample (x, y = 1) with W1 = (c, c),
 * W2 = (2^-10, -2^-10), biases 0 (powers of two, so f = 0 exactly even
 * with fused multiply-adds): L = 1/2 and the gradient, in the layout W1, b1,
 * W2, b2, is (-2^-10 x, 2^-10 x, -2^-10, 2^-10, -c x, -c x, -1), of norm
 * x sqrt(2 c^2 + 2^-19) to rounding. With c = 8, x = 2^660 (~4.8e198) the
 * components square past DBL_MAX but the norm is finite: every optimiser and
 * the certificate report it. With c = 12, x = 2^1020 the norm itself
 * (1.9e308) exceeds DBL_MAX: the run is diverged, and so is the point. */
static void test_gradient_norm_overflow(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "1-2-1"), MN_OK);
    s.act = MN_ACT_LINEAR, s.loss = MN_LOSS_SQUARED;
    mn_model *m;
    mn_work *w;
    mn_data *data;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    assert_int_equal(mn_work_alloc(&w, m, 1), MN_OK);
    assert_int_equal(mn_data_alloc(&data, 1, 1, 1), MN_OK);
    double th[7] = {0};
    th[mn_model_w_offset(m, 2)] = ldexp(1, -10), th[mn_model_w_offset(m, 2) + 1] = -ldexp(1, -10);
    const mn_opt_kind kinds[4] = {MN_OPT_GD, MN_OPT_ADAM, MN_OPT_LBFGS, MN_OPT_NEWTON};
    for (int big = 0; big < 2; big++) {
        const double x = ldexp(1, big ? 1020 : 660), cw = big ? 12 : 8;
        mn_data_x(data)[0] = x, mn_data_y(data)[0] = 1;
        th[mn_model_w_offset(m, 1)] = cw, th[mn_model_w_offset(m, 1) + 1] = cw;
        const double expect = x * sqrt(2 * cw * cw + ldexp(1, -19));
        for (int k = 0; k < 4; k++) {
            mn_opt_params p;
            mn_opt_params_default(&p);
            p.kind = kinds[k];
            mn_optim *o;
            assert_int_equal(mn_optim_alloc(&o, m, w, data, &p, th), MN_OK);
            assert_true(mn_optim_loss(o) == 0.5);
            if (big) {
                assert_int_equal(mn_optim_test(o, 1e-8), MN_RUN_DIVERGED);
                assert_non_null(strstr(mn_optim_why(o), "gradient norm exceeds"));
            } else {
                assert_true(fabs(mn_optim_gnorm(o) / expect - 1) < 1e-14);
                assert_int_equal(mn_optim_test(o, 1e-8), MN_RUN_RUNNING);
            }
            mn_optim_free(o);
        }
        mn_cert c;
        assert_int_equal(mn_certify(&c, m, w, data, th, 0, NULL), MN_OK);
        assert_true(c.loss == 0.5);
        if (big) {
            assert_int_equal(c.cls, MN_CLASS_DIVERGED);
            assert_true(isinf(c.gnorm));
        } else {
            assert_int_equal(c.cls, MN_CLASS_NOT_CONVERGED);
            assert_true(fabs(c.gnorm / expect - 1) < 1e-14);
        }
    }
    mn_data_free(data), mn_work_free(w), mn_model_free(m);
}

/* skip_norms leaves every iterate as it was: GD, momentum, Nesterov and
 * Adam on a network with frozen entries, 60 steps with and without it, the
 * same theta, gradient and loss bits at every step; with it the gradient
 * norm is NaN and the gradient test never says CONVERGED. The optimisers
 * that read the norm refuse it. */
static void test_skip_norms(void **state)
{
    (void)state;
    problem pb = make("2-3-1", MN_ACT_TANH, 1u << 1, 25, 31, 0.2);
    double *th0 = malloc(pb.P * sizeof *th0);
    mn_model_init(pb.m, th0, 17, 0.8);
    const mn_opt_kind kinds[4] = {MN_OPT_GD, MN_OPT_MOMENTUM, MN_OPT_NESTEROV, MN_OPT_ADAM};
    for (int k = 0; k < 4; k++) {
        mn_optim *o[2];
        for (int skip = 0; skip < 2; skip++) {
            mn_opt_params p;
            mn_opt_params_default(&p);
            p.kind = kinds[k], p.lr = 0.05, p.skip_norms = skip;
            assert_int_equal(mn_optim_alloc(&o[skip], pb.m, pb.w, pb.data, &p, th0), MN_OK);
        }
        const double loss0 = mn_optim_loss(o[0]);
        for (int t = 0; t <= 60; t++) {
            if (t) {
                assert_int_equal(mn_optim_iterate(o[0]), MN_OK);
                assert_int_equal(mn_optim_iterate(o[1]), MN_OK);
            }
            assert_memory_equal(mn_optim_theta(o[0]), mn_optim_theta(o[1]), pb.P * sizeof(double));
            assert_memory_equal(mn_optim_grad(o[0]), mn_optim_grad(o[1]), pb.P * sizeof(double));
            assert_true(mn_optim_loss(o[0]) == mn_optim_loss(o[1]));
            assert_true(mn_optim_gnorm(o[0]) > 0 && isnan(mn_optim_gnorm(o[1])));
            assert_int_equal(mn_optim_test(o[1], 1e300), MN_RUN_RUNNING);
        }
        assert_int_equal(mn_optim_test(o[0], 1e300), MN_RUN_CONVERGED);
        assert_true(mn_optim_loss(o[0]) < 0.99 * loss0); /* it moved */
        mn_optim_free(o[0]), mn_optim_free(o[1]);
    }
    const mn_opt_kind refused[4] = {MN_OPT_SGD, MN_OPT_LBFGS, MN_OPT_NEWTON, MN_OPT_PGD};
    for (int k = 0; k < 4; k++) {
        mn_opt_params p;
        mn_opt_params_default(&p);
        p.kind = refused[k], p.skip_norms = 1;
        mn_optim *o;
        assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, th0), MN_EINVAL);
        assert_null(o);
        assert_non_null(strstr(mn_last_error(), "skip_norms"));
    }
    free(th0);
    unmake(&pb);
}

/* f = sum_i c_i x_i^2 / 2 on 5 entries, entries 1 and 3 frozen; the value
 * is refused (MN_ERANGE) past |x_i| = 1e3. fdf writes the gradient of
 * frozen entries as `frozen` says: 0 (zeroed here, as frozen_zero promises)
 * or c_i x_i (the optimiser must zero it). */
typedef struct {
    int frozen_zeroed;
} quad;
static const unsigned char quad_mask[5] = {1, 0, 1, 0, 1};
static mn_status quad_fdf(void *params, const double *x, double *f, double *g)
{
    const quad *q = params;
    double s = 0;
    for (int i = 0; i < 5; i++) {
        if (fabs(x[i]) > 1e3) return mn_fail(MN_ERANGE, "quad: |x_%d| = %g is past 1e3", i, fabs(x[i]));
        const double c = 1.5 + 0.625 * i;
        s += 0.5 * c * x[i] * x[i];
        if (g) g[i] = quad_mask[i] || !q->frozen_zeroed ? c * x[i] : 0.0;
    }
    *f = s;
    return MN_OK;
}
static mn_status quad_hvp(void *params, const double *x, const double *v, double *hv)
{
    (void)params, (void)x;
    for (int i = 0; i < 5; i++) hv[i] = (1.5 + 0.625 * i) * v[i];
    return MN_OK;
}

/* frozen_zero: an objective that zeroes its frozen entries itself gives the
 * same iterates with the flag as without it; the flag does skip the
 * optimiser's zeroing (a broken promise shows in mn_optim_grad). With
 * skip_norms, max_norm is not applied but a refused value still makes the
 * run DIVERGED. */
static void test_frozen_zero(void **state)
{
    (void)state;
    quad qz = {1}, ql = {0};
    const double x0[5] = {2.385, -1.25, 0.75, 3.5, -0.5};
    mn_objective f[3] = {
        {.n = 5, .params = &ql, .fdf = quad_fdf, .hvp = quad_hvp, .mask = quad_mask},
        {.n = 5, .params = &qz, .fdf = quad_fdf, .hvp = quad_hvp, .mask = quad_mask, .frozen_zero = 1},
        {.n = 5, .params = &ql, .fdf = quad_fdf, .hvp = quad_hvp, .mask = quad_mask, .frozen_zero = 1},
    };
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.lr = 0.2;
    mn_optim *o[3];
    for (int v = 0; v < 3; v++) assert_int_equal(mn_optim_alloc_objective(&o[v], &f[v], &p, x0), MN_OK);
    for (int t = 0; t < 30; t++) {
        assert_memory_equal(mn_optim_theta(o[0]), mn_optim_theta(o[1]), sizeof x0);
        assert_memory_equal(mn_optim_grad(o[0]), mn_optim_grad(o[1]), sizeof x0);
        assert_true(mn_optim_gnorm(o[0]) == mn_optim_gnorm(o[1]));
        assert_true(mn_optim_grad(o[0])[1] == 0 && mn_optim_theta(o[0])[1] == x0[1]);
        const double x3 = mn_optim_theta(o[2])[3]; /* not zeroed, so the entry moves too */
        assert_true(x3 != 0 && mn_optim_grad(o[2])[3] == (1.5 + 0.625 * 3) * x3);
        for (int v = 0; v < 3; v++) assert_int_equal(mn_optim_iterate(o[v]), MN_OK);
    }
    for (int v = 0; v < 3; v++) mn_optim_free(o[v]);
    /* skip_norms: |x| = 4.6 is past max_norm 1 but not divergence; a step
     * of lr 2 grows the free entries by |1 - 2 c_i| >= 2 a step until the
     * value is refused */
    p.skip_norms = 1, p.max_norm = 1.0, p.lr = 2.0;
    mn_optim *d;
    assert_int_equal(mn_optim_alloc_objective(&d, &f[1], &p, x0), MN_OK);
    assert_int_equal(mn_optim_test(d, 1e-8), MN_RUN_RUNNING);
    assert_int_equal(run(d, 100, 1e-8), MN_RUN_DIVERGED);
    assert_true(mn_optim_iter(d) > 3 && mn_optim_iter(d) < 20);
    assert_non_null(strstr(mn_optim_why(d), "past 1e3"));
    mn_optim_free(d);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_first_steps_oracle), cmocka_unit_test(test_every_kind),
        cmocka_unit_test(test_sgd_batches),        cmocka_unit_test(test_lbfgs_newton_exact),
        cmocka_unit_test(test_pgd_escapes_saddle), cmocka_unit_test(test_divergence),
        cmocka_unit_test(test_liang_logistic_path), cmocka_unit_test(test_plateau),
        cmocka_unit_test(test_params_and_names),   cmocka_unit_test(test_norm2),
        cmocka_unit_test(test_gradient_norm_overflow),
        cmocka_unit_test(test_skip_norms),         cmocka_unit_test(test_frozen_zero),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
