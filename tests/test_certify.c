/* Certification on points whose class and spectrum are known by hand:
 * a strict saddle (tanh network at zero weights), a flat bad minimum (dead
 * ReLU units), a global minimum (realizable teacher, trained and polished),
 * a ReLU kink, diverged points; Lanczos against the dense spectrum; the
 * catalogue of minima up to the symmetries of hidden units. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"

typedef struct {
    mn_model *m;
    mn_work *w;
    mn_data *data;
    double *th;
    size_t P;
} problem;

/* n samples, x ~ 0.9 N(0, I_d) + 0.2; y from `label` or 1.3 N(0,1) + 0.7 x_0. */
static void setup(problem *pb, const mn_spec *s, int n, uint64_t seed)
{
    const int d = s->width[0];
    mn_rng r;
    mn_rng_seed(&r, seed);
    assert_int_equal(mn_data_alloc(&pb->data, n, d, 1), MN_OK);
    double *x = mn_data_x(pb->data), *y = mn_data_y(pb->data);
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) x[i * d + c] = 0.9 * mn_rng_normal(&r) + 0.2;
        double t = 1.3 * mn_rng_normal(&r) + 0.7 * x[i * d];
        y[i] = mn_loss_is_margin(s->loss) ? (t > 0 ? 1.0 : -1.0) : t;
    }
    assert_int_equal(mn_model_alloc(&pb->m, s), MN_OK);
    assert_int_equal(mn_work_alloc(&pb->w, pb->m, n), MN_OK);
    pb->P = mn_model_nparams(pb->m);
    pb->th = calloc(pb->P, sizeof *pb->th);
    assert_non_null(pb->th);
}

static void teardown(problem *pb)
{
    free(pb->th);
    mn_work_free(pb->w);
    mn_model_free(pb->m);
    mn_data_free(pb->data);
}

static double mean_y(const mn_data *data)
{
    double s = 0;
    for (int i = 0; i < mn_data_n(data); i++) s += mn_data_yc(data)[i];
    return s / mn_data_n(data);
}

/* Tanh 1-2-1 network, squared loss, all weights zero and output bias mean(y).
 * f = b; every gradient vanishes (h = tanh(0) = 0 and v = 0 kill the rest).
 * The only second derivatives that survive pair v_j with (w_j, c_j):
 *   d2L / dv_j dw_j = mean((f - y) x) =: g,  d2L / dv_j dc_j = mean(f - y) = 0,
 * and d2L / db2 = 1. So the spectrum is {-|g|, -|g|, 0, 0, |g|, |g|, 1}:
 * a strict saddle with lambda_min = -|mean((mean(y) - y) x)|. */
static void test_tanh_saddle(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "1-2-1"), MN_OK);
    s.act = MN_ACT_TANH;
    s.loss = MN_LOSS_SQUARED;
    problem pb;
    setup(&pb, &s, 40, 11);
    const double my = mean_y(pb.data);
    pb.th[mn_model_b_offset(pb.m, 2)] = my;
    double g = 0;
    for (int i = 0; i < 40; i++) g += (my - mn_data_yc(pb.data)[i]) * mn_data_xc(pb.data)[i];
    g /= 40;
    assert_true(fabs(g) > 0.1); /* the data correlate x and y: a genuine saddle */
    mn_cert c;
    mn_cert_opts o;
    mn_cert_opts_default(&o);
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_SADDLE);
    assert_string_equal(mn_class_name(c.cls), "saddle");
    assert_true(c.gnorm < 1e-15);
    assert_true(fabs(c.lambda_min + fabs(g)) < 1e-12);
    assert_true(fabs(c.lambda_max - 1.0) < 1e-12); /* |g| < 1 here */
    assert_true(isinf(c.kink_margin));             /* tanh has no kink */
    assert_int_equal(c.near_kink, 0);
    assert_true(isnan(c.accuracy));
    /* Lanczos (no dense Hessian) finds the same extremes. */
    o.max_dense = 0;
    mn_cert c2;
    assert_int_equal(mn_certify(&c2, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
    assert_int_equal(c2.cls, MN_CLASS_SADDLE);
    assert_true(fabs(c2.lambda_min - c.lambda_min) < 1e-10);
    assert_true(fabs(c2.lambda_max - c.lambda_max) < 1e-10);
    /* Moved off the saddle along the gradient-free direction: not stationary. */
    pb.th[mn_model_w_offset(pb.m, 2)] = 0.125;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_NOT_CONVERGED);
    assert_true(isnan(c.lambda_min));
    teardown(&pb);
}

/* The dead-ReLU construction: a 2-3-1 ReLU network whose hidden biases
 * (-6.5) keep every unit inactive on every sample (|x| < 4.5 here), output
 * weights arbitrary, output bias mean(y). The gradient is exactly zero, the
 * loss is var(y)/2 > 0, and the loss is constant under any small move of
 * W_1, b_1, W_2 (the units stay dead and output nothing), so this IS a bad
 * local minimum -- but not a strict one: its Hessian is zero on every
 * dead-unit weight and 1 on the output bias, so lambda_min = 0 exactly.
 * The honest class is DEGENERATE: SPURIOUS requires lambda_min > +eig_tol,
 * i.e. a second-order certificate, which a flat minimum cannot give.
 * (That it is a minimum follows from the dead-unit argument, not from the
 * spectrum.) */
static void test_dead_relu(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "2-3-1"), MN_OK);
    s.loss = MN_LOSS_SQUARED;
    problem pb;
    setup(&pb, &s, 50, 12);
    const double *x = mn_data_xc(pb.data);
    double xmax = 0;
    for (int i = 0; i < 100; i++) xmax = fmax(xmax, fabs(x[i]));
    assert_true(xmax < 4.5);
    const double w1[6] = {0.35, -0.6, 0.8, 0.1, -0.45, 0.55}; /* |w| sums < 1.45 */
    memcpy(pb.th + mn_model_w_offset(pb.m, 1), w1, sizeof w1);
    for (int j = 0; j < 3; j++) pb.th[mn_model_b_offset(pb.m, 1) + j] = -6.5;
    const double w2[3] = {0.7, -1.3, 0.4};
    memcpy(pb.th + mn_model_w_offset(pb.m, 2), w2, sizeof w2);
    const double my = mean_y(pb.data);
    pb.th[mn_model_b_offset(pb.m, 2)] = my;
    double var = 0;
    for (int i = 0; i < 50; i++) var += pow(mn_data_yc(pb.data)[i] - my, 2);
    var /= 50;
    mn_cert c;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DEGENERATE);
    assert_true(fabs(c.loss - 0.5 * var) < 1e-14);
    assert_true(c.loss > 0.5);
    assert_true(c.gnorm < 1e-15); /* mean(f - y) up to rounding */
    assert_true(c.lambda_min == 0.0);
    assert_true(fabs(c.lambda_max - 1.0) < 1e-15);
    assert_true(c.kink_margin > 6.5 - 1.45 * 4.5);
    assert_int_equal(c.near_kink, 0);
    /* Declaring the global value at this loss turns it global. */
    mn_cert_opts o;
    mn_cert_opts_default(&o);
    o.global_loss = c.loss;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    teardown(&pb);
}

/* A ReLU unit exactly on its kink at one sample: z = 2 x_1 - 2 x_1 = 0. */
static void test_kink(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "1-2-1"), MN_OK);
    s.loss = MN_LOSS_SQUARED;
    problem pb;
    setup(&pb, &s, 20, 13);
    const double x0 = mn_data_xc(pb.data)[3];
    pb.th[mn_model_w_offset(pb.m, 1)] = 2.0;
    pb.th[mn_model_b_offset(pb.m, 1)] = -2.0 * x0;
    pb.th[mn_model_w_offset(pb.m, 1) + 1] = -0.75;
    pb.th[mn_model_b_offset(pb.m, 1) + 1] = 0.3;
    pb.th[mn_model_w_offset(pb.m, 2)] = 0.9;
    mn_cert c;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, NULL), MN_OK);
    assert_int_equal(c.near_kink, 1);
    assert_true(c.kink_margin <= 1e-15);
    /* Moved by 0.01 off it: the margin is at least ~0.01, no flag. */
    pb.th[mn_model_b_offset(pb.m, 1)] += 0.01;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, NULL), MN_OK);
    assert_int_equal(c.near_kink, 0);
    assert_true(c.kink_margin > 1e-3 && c.kink_margin <= 0.01 + 1e-15);
    teardown(&pb);
}

/* Diverged: the caller's flag wins; a non-finite point is diverged anyway. */
static void test_diverged_and_errors(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "1-2-1"), MN_OK);
    s.loss = MN_LOSS_LOGISTIC;
    s.elim = MN_ELIM_LIANG;
    problem pb;
    setup(&pb, &s, 20, 14);
    for (size_t i = 0; i < pb.P; i++) pb.th[i] = 0.3 + 0.1 * (double)i;
    mn_cert c;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 1, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DIVERGED);
    assert_true(isfinite(c.loss) && c.loss > 0.01); /* evidence still filled in */
    assert_true(c.accuracy >= 0 && c.accuracy <= 1);
    /* The added neuron's exponent overflows: b = 800. */
    pb.th[mn_model_elim_offset(pb.m, 0) + 2] = 800;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DIVERGED);
    assert_true(isnan(c.loss));
    pb.th[mn_model_elim_offset(pb.m, 0) + 2] = NAN;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DIVERGED);
    /* On the a -> 0, b -> inf path: a = 1e-7, b = 18, w = 0 (output 6.6 on
     * every sample). The certificate of the defended objective reports the
     * output and applies the plain rule (no activity threshold); mn_judge
     * certifies the network with the neuron dropped and says whether dropping
     * it changes a prediction. */
    const size_t e = mn_model_elim_offset(pb.m, 0);
    pb.th[e] = 1e-7, pb.th[e + 1] = 0.0, pb.th[e + 2] = 18.0;
    mn_cert_opts o;
    mn_cert_opts_default(&o);
    o.gtol = 1e300;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
    assert_true(c.cls != MN_CLASS_NOT_CONVERGED && c.cls != MN_CLASS_DIVERGED);
    assert_true(fabs(c.elim_activity - 1e-7 * exp(18.0)) < 1e-12 * c.elim_activity);
    mn_spec s0 = s;
    s0.elim = MN_ELIM_NONE;
    mn_model *m0;
    mn_work *w0;
    assert_int_equal(mn_model_alloc(&m0, &s0), MN_OK);
    assert_int_equal(mn_work_alloc(&w0, m0, 20), MN_OK);
    mn_cert c0;
    assert_int_equal(mn_certify(&c0, m0, w0, pb.data, pb.th, 0, &o), MN_OK);
    double f0[20];
    assert_int_equal(mn_predict(m0, w0, pb.data, pb.th, f0), MN_OK);
    int flipped = 0;
    for (int t = 0; t < 4; t++) { /* a = 1e-7, -1e-7, 1e-12, -1e-12 */
        const double a = (t & 1 ? -1 : 1) * (t & 2 ? 1e-12 : 1e-7), out = a * exp(18.0);
        pb.th[e] = a;
        int flips = 0; /* samples whose sign the neuron's output changes */
        for (int i = 0; i < 20; i++) flips += (f0[i] > 0) != (f0[i] + out > 0);
        mn_judgement j;
        assert_int_equal(mn_judge(&j, pb.m, pb.data, pb.th, 0, &o), MN_OK);
        assert_int_equal(j.cert.cls, c0.cls);
        assert_true(j.cert.loss == c0.loss && j.cert.gnorm == c0.gnorm && j.cert.accuracy == c0.accuracy);
        assert_true(fabs(j.elim_output - fabs(out)) < 1e-12 * fabs(out));
        assert_int_equal(j.drop_changes_prediction, flips > 0);
        assert_true(j.defended_critical && isfinite(j.defended_loss) && j.defended_loss != c0.loss);
        flipped += t < 2 && flips > 0;
    }
    assert_true(flipped > 0); /* the point of the test: a large output flips samples */
    /* diverged: the judged class too */
    mn_judgement j;
    assert_int_equal(mn_judge(&j, pb.m, pb.data, pb.th, 1, &o), MN_OK);
    assert_int_equal(j.cert.cls, MN_CLASS_DIVERGED);
    assert_false(j.defended_critical);
    pb.th[e + 2] = 800; /* the defended point overflows exp: diverged, and dropping changes it */
    assert_int_equal(mn_judge(&j, pb.m, pb.data, pb.th, 0, &o), MN_OK);
    assert_int_equal(j.cert.cls, MN_CLASS_DIVERGED);
    assert_true(j.drop_changes_prediction && isnan(j.defended_loss) && isinf(j.elim_output));
    mn_work_free(w0);
    mn_model_free(m0);
    pb.th[e + 2] = 0.5;
    mn_cert_opts_default(&o);
    o.eig_tol = -1;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_EINVAL);
    assert_true(strlen(mn_last_error()) > 10);
    o.eig_tol = 1e-8, o.global_tol = NAN;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_EINVAL);
    for (int k = 0; k < MN_NCLASS; k++) assert_true(strlen(mn_class_name((mn_class)k)) >= 6);
    teardown(&pb);
}

/* Lanczos against the dense spectrum at a generic point of a tanh network
 * (gtol made huge so the point counts as stationary), and with a frozen
 * first layer large enough (P > 4096) that the dense route builds the free
 * block column by column. */
static void test_lanczos_vs_dense(void **state)
{
    (void)state;
    const char *archs[2] = {"3-9-7-2", "50-80-1"};
    for (int t = 0; t < 2; t++) {
        mn_spec s;
        mn_spec_default(&s);
        assert_int_equal(mn_spec_parse_arch(&s, archs[t]), MN_OK);
        s.act = MN_ACT_TANH;
        s.loss = MN_LOSS_SQUARED;
        if (t == 1) s.frozen = 1;
        problem pb;
        setup(&pb, &s, 30, 15 + t);
        if (t == 0) { /* two outputs: fill the second label column too */
            mn_data_free(pb.data);
            assert_int_equal(mn_data_alloc(&pb.data, 30, 3, 2), MN_OK);
            mn_rng r;
            mn_rng_seed(&r, 99);
            for (int i = 0; i < 90; i++) mn_data_x(pb.data)[i] = mn_rng_normal(&r);
            for (int i = 0; i < 60; i++) mn_data_y(pb.data)[i] = 0.8 * mn_rng_normal(&r);
        }
        mn_model_init(pb.m, pb.th, 7, 0.37);
        mn_cert_opts o;
        mn_cert_opts_default(&o);
        o.gtol = 1e300;
        mn_cert dn, lz;
        assert_int_equal(mn_certify(&dn, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
        o.max_dense = 0;
        assert_int_equal(mn_certify(&lz, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
        assert_true(isfinite(dn.lambda_min) && dn.lambda_max > 0.01);
        assert_true(fabs(dn.lambda_min - lz.lambda_min) <= 1e-8 * fmax(1, dn.lambda_max));
        assert_true(fabs(dn.lambda_max - lz.lambda_max) <= 1e-8 * fmax(1, dn.lambda_max));
        assert_int_equal(dn.cls, lz.cls);
        /* Deterministic: again, bit for bit. */
        mn_cert lz2;
        assert_int_equal(mn_certify(&lz2, pb.m, pb.w, pb.data, pb.th, 0, &o), MN_OK);
        assert_true(lz2.lambda_min == lz.lambda_min && lz2.lambda_max == lz.lambda_max);
        teardown(&pb);
    }
}


static double run_to(mn_optim *o, long steps, double gtol)
{
    while (mn_optim_test(o, gtol) == MN_RUN_RUNNING && mn_optim_iter(o) < steps)
        assert_int_equal(mn_optim_iterate(o), MN_OK);
    return mn_optim_gnorm(o);
}

/* A realizable teacher: y = relu(x_1) + relu(x_2) (mn_gen_teacher_relu,
 * k = 2), a 2-2-1 ReLU student started 0.05 away from the teacher, trained
 * by L-BFGS and polished by Newton: the loss reaches rounding level and the
 * point is GLOBAL. Its Hessian is singular -- scaling a unit's incoming
 * weights by c and its outgoing weight by 1/c is a symmetry of ReLU -- so
 * lambda_min is ~0: GLOBAL rests on the loss value, not on curvature. */
static void test_global_teacher(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "2-2-1"), MN_OK);
    s.loss = MN_LOSS_SQUARED;
    problem pb;
    assert_int_equal(mn_gen_teacher_relu(&pb.data, 60, 2, 17), MN_OK);
    assert_int_equal(mn_model_alloc(&pb.m, &s), MN_OK);
    assert_int_equal(mn_work_alloc(&pb.w, pb.m, 60), MN_OK);
    pb.P = mn_model_nparams(pb.m);
    pb.th = calloc(pb.P, sizeof *pb.th);
    const double teach[9] = {1, 0, 0, 1, 0, 0, 1, 1, 0}; /* W1 = I, b1 = 0, W2 = (1, 1), b2 = 0 */
    for (int i = 0; i < 9; i++) pb.th[i] = teach[i] + 0.05 * sin(1.0 + 2.0 * i);
    mn_opt_params p;
    mn_opt_params_default(&p);
    p.kind = MN_OPT_LBFGS;
    mn_optim *o, *nw;
    assert_int_equal(mn_optim_alloc(&o, pb.m, pb.w, pb.data, &p, pb.th), MN_OK);
    const double loss0 = mn_optim_loss(o);
    assert_true(loss0 > 1e-3);
    run_to(o, 500, 1e-9);
    p.kind = MN_OPT_NEWTON;
    assert_int_equal(mn_optim_alloc(&nw, pb.m, pb.w, pb.data, &p, mn_optim_theta(o)), MN_OK);
    run_to(nw, 50, 0);
    mn_cert c;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, mn_optim_theta(nw), 0, NULL), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_GLOBAL);
    assert_true(c.loss < 1e-24);
    assert_true(c.gnorm < 1e-12);
    assert_true(fabs(c.lambda_min) < 1e-8); /* the rescaling symmetry */
    assert_true(c.lambda_max > 0.1);
    assert_int_equal(c.near_kink, 0);
    /* Declared a global value below its loss, the same point is degenerate
     * (stationary, lambda_min ~ 0): the class follows the declaration. */
    mn_cert_opts o2;
    mn_cert_opts_default(&o2);
    o2.global_loss = -1;
    assert_int_equal(mn_certify(&c, pb.m, pb.w, pb.data, mn_optim_theta(nw), 0, &o2), MN_OK);
    assert_int_equal(c.cls, MN_CLASS_DEGENERATE);
    mn_optim_free(o), mn_optim_free(nw);
    teardown(&pb);
}

/* Permutes the hidden units of a 2-3-4-1 network: layer 1 by p1, layer 2 by p2. */
static void permute(const mn_model *m, const double *th, double *out, const int *p1, const int *p2)
{
    const int w[4] = {2, 3, 4, 1};
    const int *perm[3] = {p1, p2, NULL};
    memcpy(out, th, mn_model_nparams(m) * sizeof *out);
    for (int l = 1; l <= 3; l++) {
        const int wo = w[l], wi = w[l - 1];
        const int bias = mn_model_spec(m)->bias;
        const double *W = th + mn_model_w_offset(m, l), *b = bias ? th + mn_model_b_offset(m, l) : NULL;
        double *Wo = out + mn_model_w_offset(m, l), *bo = bias ? out + mn_model_b_offset(m, l) : NULL;
        const int *pr = perm[l - 1], *pc = l > 1 ? perm[l - 2] : NULL;
        for (int r = 0; r < wo; r++) {
            const int sr = pr ? pr[r] : r;
            if (bias) bo[r] = b[sr];
            for (int c = 0; c < wi; c++) Wo[r * wi + c] = W[sr * wi + (pc ? pc[c] : c)];
        }
    }
}

/* A network and a permuted copy compute the same loss, share one canonical
 * form and one catalogue entry; a point 1e-3 away is a new entry. */
static void test_catalogue(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    assert_int_equal(mn_spec_parse_arch(&s, "2-3-4-1"), MN_OK);
    s.act = MN_ACT_TANH;
    s.loss = MN_LOSS_SQUARED;
    problem pb;
    setup(&pb, &s, 25, 18);
    mn_model_init(pb.m, pb.th, 19, 0);
    for (size_t i = 0; i < pb.P; i++) pb.th[i] += 0.1 * cos(0.7 * (double)i); /* biases nonzero */
    const int p1[3] = {2, 0, 1}, p2[4] = {3, 1, 0, 2};
    double *q = malloc(pb.P * sizeof *q), *cq = malloc(pb.P * sizeof *cq), *ct = malloc(pb.P * sizeof *ct);
    permute(pb.m, pb.th, q, p1, p2);
    double l1, l2;
    assert_int_equal(mn_eval(pb.m, pb.w, pb.data, pb.th, &l1, NULL), MN_OK);
    assert_int_equal(mn_eval(pb.m, pb.w, pb.data, q, &l2, NULL), MN_OK);
    assert_true(fabs(l1 - l2) < 1e-14 * l1); /* the same function */
    double diff = 0;
    for (size_t i = 0; i < pb.P; i++) diff += fabs(q[i] - pb.th[i]);
    assert_true(diff > 0.5); /* but other parameters */
    assert_int_equal(mn_canonicalize(ct, pb.m, pb.th), MN_OK);
    assert_int_equal(mn_canonicalize(cq, pb.m, q), MN_OK);
    assert_memory_equal(ct, cq, pb.P * sizeof *ct);
    /* Canonical: layer 1's first weights ascend. */
    assert_true(ct[0] <= ct[2] && ct[2] <= ct[4]);

    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.gtol = 1e300; /* classify these non-stationary points as if stationary */
    mn_cert c1, c2;
    assert_int_equal(mn_certify(&c1, pb.m, pb.w, pb.data, pb.th, 0, &co), MN_OK);
    assert_int_equal(mn_certify(&c2, pb.m, pb.w, pb.data, q, 0, &co), MN_OK);
    mn_catalogue *cat;
    assert_int_equal(mn_catalogue_alloc(&cat, pb.m, 1e-8), MN_OK);
    int i1, i2, i3, i4;
    assert_int_equal(mn_catalogue_add(cat, pb.th, &c1, 11, &i1), MN_OK);
    for (size_t i = 0; i < pb.P; i++) q[i] += 1e-12 * sin((double)i); /* run-to-run noise */
    assert_int_equal(mn_catalogue_add(cat, q, &c2, 12, &i2), MN_OK);
    assert_int_equal(i1, i2);
    assert_int_equal(mn_catalogue_count(cat), 1);
    pb.th[3] += 1e-3;
    assert_int_equal(mn_certify(&c1, pb.m, pb.w, pb.data, pb.th, 0, &co), MN_OK);
    assert_int_equal(mn_catalogue_add(cat, pb.th, &c1, 13, &i3), MN_OK);
    assert_int_equal(i3, 1);
    assert_int_equal(mn_catalogue_add(cat, q, &c2, 14, &i4), MN_OK);
    assert_int_equal(i4, 0);
    assert_int_equal(mn_catalogue_count(cat), 2);
    const double *rep;
    const mn_catalogue_entry *e = mn_catalogue_get(cat, 0, &rep);
    assert_non_null(e);
    assert_int_equal(e->count, 3);
    assert_int_equal(e->first_run, 11);
    assert_true(e->cert.lambda_min == c2.lambda_min || fabs(e->cert.lambda_min - c2.lambda_min) < 1e-9);
    assert_true(e->loss_hi - e->loss_lo < 1e-10 && e->loss_lo > 0.01);
    assert_memory_equal(rep, ct, pb.P * sizeof *ct);
    assert_null(mn_catalogue_get(cat, 2, NULL));
    assert_int_equal(mn_catalogue_get(cat, 1, NULL)->count, 1);
    mn_catalogue_free(cat);
    free(q), free(cq), free(ct);
    teardown(&pb);
}

/* Unit j of hidden layer l rescaled by c (incoming weights and bias times
 * c) with the outgoing weights changed as `out` says: 1 divide by c, 2 by
 * c^2, 3 negate and add to the next biases (sigmoid's flip), 0 leave. */
static void unit_transform(const mn_model *m, double *th, int l, int j, double c, int out)
{
    const mn_spec *s = mn_model_spec(m);
    const int wi = s->width[l - 1], wl = s->width[l], wo = s->width[l + 1];
    double *W = th + mn_model_w_offset(m, l), *Wn = th + mn_model_w_offset(m, l + 1);
    for (int k = 0; k < wi; k++) W[j * wi + k] *= c;
    if (s->bias) th[mn_model_b_offset(m, l) + j] *= c;
    for (int r = 0; r < wo; r++) {
        double *v = &Wn[r * wl + j];
        if (out == 1) *v /= c;
        if (out == 2) *v /= c * c;
        if (out == 3) th[mn_model_b_offset(m, l + 1) + r] += *v, *v = -*v;
    }
}

static double max_rel_diff(const double *a, const double *b, size_t n)
{
    double d = 0;
    for (size_t i = 0; i < n; i++) d = fmax(d, fabs(a[i] - b[i]) / (1 + fabs(a[i])));
    return d;
}

/* Every symmetry of an activation, applied to some units of both hidden
 * layers of a 2-3-4-1 network (with a permutation), leaves the function
 * (mn_predict) unchanged and gives the canonical form of the original; the
 * same move where it is not a symmetry changes the function and the
 * canonical form. Counts in a catalogue: one entry for the copies, two with
 * the impostor. */
static void test_catalogue_symmetries(void **state)
{
    (void)state;
    const struct {
        mn_act act;
        int bias;
        double c[2]; /* the scale of units (1, 0) and (2, 3); c[0] also for (1, 2) */
        int out;     /* how the outgoing weights follow (unit_transform) */
        double bad_c;
        int bad_out; /* a move that is not a symmetry */
    } cases[] = {
        {MN_ACT_TANH, 1, {-1, -1}, 1, -1, 0},       /* odd: flip in and out */
        {MN_ACT_TANH, 0, {-1, -1}, 1, 2.385, 1},    /* no rescaling */
        {MN_ACT_LINEAR, 1, {-2.385, 0.37}, 1, -1, 0},
        {MN_ACT_RELU, 1, {2.385, 0.37}, 1, -1, 1}, /* positive rescaling only */
        {MN_ACT_LEAKY_RELU, 1, {0.37, 4.1}, 1, -2.385, 1},
        {MN_ACT_QUADRATIC, 1, {-2.385, 0.37}, 2, 2.385, 1},
        {MN_ACT_SIGMOID, 1, {-1, -1}, 3, -1, 1}, /* sigmoid(-z) = 1 - sigmoid(z) */
        {MN_ACT_SIGMOID, 0, {1, 1}, 0, -1, 1},   /* without biases: no flip */
        {MN_ACT_SOFTPLUS, 1, {1, 1}, 0, -1, 1},
    };
    for (size_t t = 0; t < sizeof cases / sizeof *cases; t++) {
        mn_spec s;
        mn_spec_default(&s);
        assert_int_equal(mn_spec_parse_arch(&s, "2-3-4-1"), MN_OK);
        s.act = cases[t].act, s.bias = cases[t].bias, s.loss = MN_LOSS_SQUARED;
        problem pb;
        setup(&pb, &s, 25, 40 + t);
        mn_model_init(pb.m, pb.th, 41 + t, 0);
        for (size_t i = 0; i < pb.P; i++) pb.th[i] += 0.1 * cos(0.7 * (double)i);
        const size_t P = pb.P;
        double *q = malloc(P * sizeof *q), *bad = malloc(P * sizeof *bad), *c0 = malloc(P * sizeof *c0),
               *c1 = malloc(P * sizeof *c1), *f0 = malloc(25 * sizeof *f0), *f1 = malloc(25 * sizeof *f1);
        memcpy(q, pb.th, P * sizeof *q);
        if (cases[t].out) {
            unit_transform(pb.m, q, 1, 0, cases[t].c[0], cases[t].out);
            unit_transform(pb.m, q, 1, 2, cases[t].c[0], cases[t].out);
            unit_transform(pb.m, q, 2, 3, cases[t].c[1], cases[t].out);
        }
        const int p1[3] = {1, 2, 0}, p2[4] = {2, 3, 1, 0};
        permute(pb.m, q, bad, p1, p2);
        memcpy(q, bad, P * sizeof *q);
        memcpy(bad, pb.th, P * sizeof *bad);
        unit_transform(pb.m, bad, 1, 1, cases[t].bad_c, cases[t].bad_out);

        assert_int_equal(mn_predict(pb.m, pb.w, pb.data, pb.th, f0), MN_OK);
        assert_int_equal(mn_predict(pb.m, pb.w, pb.data, q, f1), MN_OK);
        assert_true(max_rel_diff(f0, f1, 25) < 1e-13); /* the same function */
        assert_true(max_rel_diff(pb.th, q, P) > 0.05);  /* other parameters */
        assert_int_equal(mn_canonicalize(c0, pb.m, pb.th), MN_OK);
        assert_int_equal(mn_canonicalize(c1, pb.m, q), MN_OK);
        assert_true(max_rel_diff(c0, c1, P) < 1e-13);
        assert_int_equal(mn_predict(pb.m, pb.w, pb.data, c0, f1), MN_OK);
        assert_true(max_rel_diff(f0, f1, 25) < 1e-13); /* the canonical form is a copy */

        assert_int_equal(mn_predict(pb.m, pb.w, pb.data, bad, f1), MN_OK);
        assert_true(max_rel_diff(f0, f1, 25) > 1e-4); /* not a symmetry */
        assert_int_equal(mn_canonicalize(c1, pb.m, bad), MN_OK);
        assert_true(max_rel_diff(c0, c1, P) > 1e-3);

        mn_cert c = {.cls = MN_CLASS_SPURIOUS, .loss = 1};
        mn_catalogue *cat;
        assert_int_equal(mn_catalogue_alloc(&cat, pb.m, 1e-8), MN_OK);
        assert_int_equal(mn_catalogue_add(cat, pb.th, &c, 1, NULL), MN_OK);
        assert_int_equal(mn_catalogue_add(cat, q, &c, 2, NULL), MN_OK);
        assert_int_equal(mn_catalogue_count(cat), 1);
        assert_int_equal(mn_catalogue_add(cat, bad, &c, 3, NULL), MN_OK);
        assert_int_equal(mn_catalogue_count(cat), 2);
        mn_catalogue_free(cat);
        free(q), free(bad), free(c0), free(c1), free(f0), free(f1);
        teardown(&pb);
    }
}

/* The class rules every run kind shares: each fact in its order of
 * precedence, and the curvature sign against eig_tol. */
static void test_class_rules(void **state)
{
    (void)state;
    const double e = MN_EIG_TOL;
    assert_int_equal(mn_curvature_sign(2 * e, e), 1);
    assert_int_equal(mn_curvature_sign(e, e), 0);
    assert_int_equal(mn_curvature_sign(0.5 * e, e), 0);
    assert_int_equal(mn_curvature_sign(-0.5 * e, e), 0);
    assert_int_equal(mn_curvature_sign(-2 * e, e), -1);
    assert_int_equal(mn_curvature_sign(NAN, e), 0);
    const struct {
        mn_class_facts f;
        mn_class want;
    } cases[] = {
        {{1, 1, 1, 1}, MN_CLASS_DIVERGED},        {{0, 1, 0, -1}, MN_CLASS_GLOBAL},
        {{0, 0, 0, 1}, MN_CLASS_NOT_CONVERGED},   {{0, 0, 1, 1}, MN_CLASS_SPURIOUS},
        {{0, 0, 1, -1}, MN_CLASS_SADDLE},         {{0, 0, 1, 0}, MN_CLASS_DEGENERATE},
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++)
        assert_int_equal(mn_class_decide(&cases[i].f), cases[i].want);
}

/* One accuracy for every loss: the squared loss on labels -1 / +1 is a
 * sign classifier (y f > 0, counted by hand here); on other labels it has
 * none. f(x) = x for a 1-1 linear model with weight 1 and bias 0. */
static void test_accuracy_squared(void **state)
{
    (void)state;
    mn_spec s;
    mn_spec_default(&s);
    s.loss = MN_LOSS_SQUARED;
    assert_int_equal(mn_spec_parse_arch(&s, "1-1"), MN_OK);
    mn_model *model;
    assert_int_equal(mn_model_alloc(&model, &s), MN_OK);
    assert_int_equal(mn_model_nparams(model), 2);
    const double x[4] = {-2, -0.5, 1, 3}, pm[4] = {-1, -1, 1, -1}, zo[4] = {0, 1, 1, 0}, theta[2] = {1, 0};
    mn_data *d_pm, *d_zo;
    assert_int_equal(mn_data_view(&d_pm, 4, 1, 1, x, pm), MN_OK);
    assert_int_equal(mn_data_view(&d_zo, 4, 1, 1, x, zo), MN_OK);
    mn_work *work;
    assert_int_equal(mn_work_alloc(&work, model, 4), MN_OK);
    double acc = -1;
    assert_int_equal(mn_accuracy(model, work, d_pm, theta, &acc), MN_OK);
    assert_true(acc == 0.75); /* right on samples 0, 1 and 2 */
    assert_int_equal(mn_accuracy(model, work, d_zo, theta, &acc), MN_EINVAL);
    mn_work_free(work);
    mn_data_free(d_pm), mn_data_free(d_zo);
    mn_model_free(model);
}

/* The rules that use the global value: against the best found (summaries)
 * and the bad-minimum verdict, decided only when the global value is known
 * or the point is no minimum. */
static void test_best_found_rules(void **state)
{
    (void)state;
    assert_int_equal(mn_class_vs_best(MN_CLASS_MINIMUM, 0.5 + 1e-7, 0.5, 1e-6), MN_CLASS_BEST_FOUND);
    assert_int_equal(mn_class_vs_best(MN_CLASS_MINIMUM, 0.5 + 2e-6, 0.5, 1e-6), MN_CLASS_SPURIOUS_VS_BEST);
    assert_int_equal(mn_class_vs_best(MN_CLASS_SPURIOUS, 0.5, 0.5, 1e-6), MN_CLASS_SPURIOUS);
    assert_int_equal(mn_class_vs_best(MN_CLASS_SADDLE, 0.5, 0.5, 1e-6), MN_CLASS_SADDLE);
    assert_true(mn_class_is_spurious(MN_CLASS_SPURIOUS_VS_BEST) && mn_class_is_spurious(MN_CLASS_SPURIOUS));
    assert_false(mn_class_is_spurious(MN_CLASS_BEST_FOUND) || mn_class_is_spurious(MN_CLASS_MINIMUM));
    assert_string_equal(mn_class_name(MN_CLASS_SPURIOUS_VS_BEST), "spurious (vs best found)");
    mn_cert c = {.cls = MN_CLASS_MINIMUM};
    assert_int_equal(mn_cert_bad(&c, 0, NAN), -1);
    assert_int_equal(mn_cert_bad(&c, 1, NAN), 0);
    c.cls = MN_CLASS_DEGENERATE;
    assert_int_equal(mn_cert_bad(&c, 0, NAN), -1);
    assert_int_equal(mn_cert_bad(&c, 0, 0.0), 1);
    c.cls = MN_CLASS_SPURIOUS;
    assert_int_equal(mn_cert_bad(&c, 0, 0.0), 1);
    c.cls = MN_CLASS_SADDLE;
    assert_int_equal(mn_cert_bad(&c, 0, NAN), 0);
    mn_cert_opts o;
    mn_cert_opts_default(&o);
    assert_true(isnan(o.global_loss)); /* unknown unless the caller says */
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tanh_saddle),      cmocka_unit_test(test_dead_relu),
        cmocka_unit_test(test_kink),             cmocka_unit_test(test_diverged_and_errors),
        cmocka_unit_test(test_lanczos_vs_dense), cmocka_unit_test(test_global_teacher),
        cmocka_unit_test(test_catalogue),        cmocka_unit_test(test_catalogue_symmetries),
        cmocka_unit_test(test_class_rules),      cmocka_unit_test(test_accuracy_squared),
        cmocka_unit_test(test_best_found_rules),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
