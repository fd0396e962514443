/* The eliminating neuron in sweeps: the runs' new columns (the largest added
 * neuron, the reason of a divergence) through insert, read, export, merge and
 * summaries; the drift check of mn_sweep_one (logistic + liang on separable
 * data drifts, |a| falling and b growing; a realizable polynomial-hinge run
 * is not flagged); label flipping. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/sweep.h"
#include "tmpdir.h"


static int setup(void **state)
{
    (void)state;
    return tmpdir_make("elim");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* lambda 0.01 (the default until issue 11): the drift tests need GD at
 * lr 0.5 stable along a (lr lambda < 2) and the penalty too weak to stop
 * the drift; the default's own behaviour is the arena's to measure. */
static mn_model *model_of(const char *arch, mn_elim elim, mn_loss loss)
{
    mn_spec s;
    mn_spec_default(&s);
    s.loss = loss;
    s.elim = elim;
    s.lambda = 0.01;
    assert_int_equal(mn_spec_parse_arch(&s, arch), MN_OK);
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &s), MN_OK);
    return m;
}

/* The neuron with the largest |a| e^b, compared without overflow. */
static void test_largest(void **state)
{
    (void)state;
    mn_model *m = model_of("2-3-2", MN_ELIM_PER_OUTPUT, MN_LOSS_SQUARED);
    assert_int_equal(mn_model_nelim(m), 2);
    const size_t P = mn_model_nparams(m);
    double *th = calloc(P, sizeof *th);
    size_t o0 = mn_model_elim_offset(m, 0), o1 = mn_model_elim_offset(m, 1);
    /* neuron 1: 0.5 e^1 = 1.359; neuron 2: 0.25 e^2 = 1.847, w = (3, 4) */
    th[o0] = 0.5, th[o0 + 3] = 1.0;
    th[o1] = -0.25, th[o1 + 1] = 3.0, th[o1 + 2] = 4.0, th[o1 + 3] = 2.0;
    double a, b, wn, aeb;
    assert_int_equal(mn_elim_largest(m, th, &a, &b, &wn, &aeb), 1);
    assert_true(a == -0.25 && b == 2.0 && fabs(wn - 5.0) < 1e-15);
    assert_true(fabs(aeb + 0.25 * exp(2.0)) < 1e-15);
    /* past exp's range: compared as log|a| + b, reported as -inf */
    th[o1 + 3] = 800.0;
    th[o0 + 3] = 790.0, th[o0] = 1e4; /* log 1e4 + 790 = 799.2 > log 0.25 + 800 = 798.6 */
    assert_int_equal(mn_elim_largest(m, th, &a, NULL, NULL, &aeb), 0);
    assert_true(a == 1e4 && isinf(aeb) && aeb > 0);
    /* every a = 0: the first neuron, a e^b = 0 */
    th[o0] = th[o1] = 0.0;
    assert_int_equal(mn_elim_largest(m, th, &a, &b, NULL, &aeb), 0);
    assert_true(a == 0.0 && b == 790.0 && aeb == 0.0);
    free(th);
    mn_model_free(m);
    /* no added neurons: -1 and NaN */
    m = model_of("2-3-1", MN_ELIM_NONE, MN_LOSS_SQUARED);
    th = calloc(mn_model_nparams(m), sizeof *th);
    a = b = wn = aeb = 0;
    assert_int_equal(mn_elim_largest(m, th, &a, &b, &wn, &aeb), -1);
    assert_true(isnan(a) && isnan(b) && isnan(wn) && isnan(aeb));
    free(th);
    mn_model_free(m);
}

static mn_run_row row(int64_t setting, long restart, mn_class cls)
{
    mn_run_row r;
    memset(&r, 0, sizeof r);
    r.setting = setting;
    r.restart = restart;
    r.seed = 1000 + (uint64_t)restart;
    snprintf(r.optimizer, sizeof r.optimizer, "gd");
    r.iterations = 4000;
    r.loss = 0.125;
    r.grad_norm = 2.385e-3;
    r.lambda_min = r.lambda_max = NAN;
    r.kink_margin = 0.5;
    r.cls = cls;
    r.accuracy = 1.0;
    r.elim_a = -0.1875 * (restart + 1);
    r.elim_b = 3.25 + restart;
    r.elim_w_norm = 2.5;
    r.elim_a_exp_b = r.elim_a * exp(r.elim_b);
    r.seconds = 0.5 + restart;
    return r;
}

/* The new columns: stored, read back, exported, merged, summarised. */
static void test_columns(void **state)
{
    (void)state;
    mn_db *db;
    assert_int_equal(mn_db_open(&db, tmp_path("c.db"), 1), MN_OK);
    int64_t s1;
    assert_int_equal(mn_db_setting(&s1, db, "eliminate=liang", "{\"eliminate\":\"liang\"}"), MN_OK);
    mn_run_row r[4] = {row(s1, 0, MN_CLASS_DIVERGED), row(s1, 1, MN_CLASS_NOT_CONVERGED),
                       row(s1, 2, MN_CLASS_DIVERGED), row(s1, 3, MN_CLASS_GLOBAL)};
    snprintf(r[0].reason, sizeof r[0].reason, "added neuron 1 drifts to infinity: |a| 0.3 -> 0.2, b 3 -> 3.5");
    snprintf(r[2].reason, sizeof r[2].reason, "the loss is not finite (inf)");
    r[2].elim_a_exp_b = -INFINITY;
    r[3].elim_a = r[3].elim_b = r[3].elim_w_norm = r[3].elim_a_exp_b = NAN; /* stored as NULL */
    r[3].accuracy = 0.75;
    assert_int_equal(mn_db_insert(db, r, 4), MN_OK);
    mn_run_row *got;
    long n;
    assert_int_equal(mn_db_runs(&got, &n, db, s1), MN_OK);
    assert_int_equal(n, 4);
    for (int i = 0; i < 4; i++) {
        assert_string_equal(got[i].reason, r[i].reason);
        if (i < 3) {
            assert_true(got[i].elim_a == r[i].elim_a && got[i].elim_b == r[i].elim_b);
            assert_true(got[i].elim_w_norm == 2.5 && got[i].elim_a_exp_b == r[i].elim_a_exp_b);
        }
    }
    assert_true(isnan(got[3].elim_a) && isnan(got[3].elim_b) && isnan(got[3].elim_w_norm) &&
                isnan(got[3].elim_a_exp_b));
    free(got);

    /* export: the columns, a reason quoted, NULL empty */
    FILE *f = fopen(tmp_path("c.csv"), "w+");
    assert_non_null(f);
    assert_int_equal(mn_db_export_csv(db, f, 0), MN_OK);
    rewind(f);
    char line[2048];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",accuracy,elim_a,elim_b,elim_w_norm,elim_a_exp_b,reason\n"));
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",diverged,0.125,0,1,-0.1875,3.25,2.5,")); /* best_loss: the lowest loss */
    assert_non_null(strstr(line, ",\"added neuron 1 drifts to infinity: |a| 0.3 -> 0.2, b 3 -> 3.5\"\n"));
    assert_non_null(fgets(line, sizeof line, f));
    assert_true(line[strlen(line) - 2] == ','); /* not diverged: no reason */
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",-inf,\"the loss is not finite (inf)\"\n"));
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(strstr(line, ",global,0.125,0,0.75,,,,,\n"));
    fclose(f);

    /* summary: medians over the runs with added neurons, zero-error count */
    mn_summary *s;
    int ns;
    assert_int_equal(mn_summarize(&s, &ns, db, &s1, 1, NULL, NULL), MN_OK);
    assert_int_equal(s[0].zero_error, 3);
    assert_int_equal(s[0].with_accuracy, 4);
    assert_true(s[0].median_abs_a == 0.375);                   /* of 0.1875, 0.375, 0.5625 */
    assert_true(s[0].median_b == 4.25);                        /* of 3.25, 4.25, 5.25 */
    assert_true(s[0].median_abs_a_exp_b == 0.375 * exp(4.25)); /* 0.1875 e^3.25 < 0.375 e^4.25 < inf */
    assert_true(s[0].median_iterations == 4000);
    assert_true(s[0].median_seconds == 2.0); /* (1.5 + 2.5) / 2 */
    assert_true(s[0].median_seconds_per_iteration == 2.0 / 4000);
    mn_summary_free(s, ns);

    /* merge: the columns travel; a different reason is a difference */
    mn_db *o;
    assert_int_equal(mn_db_open(&o, tmp_path("o.db"), 1), MN_OK);
    int64_t t1;
    assert_int_equal(mn_db_setting(&t1, o, "eliminate=liang", "{\"eliminate\":\"liang\"}"), MN_OK);
    mn_run_row q[2] = {row(t1, 0, MN_CLASS_DIVERGED), row(t1, 4, MN_CLASS_DIVERGED)};
    snprintf(q[0].reason, sizeof q[0].reason, "something else");
    snprintf(q[1].reason, sizeof q[1].reason, "parameter norm 2e8 exceeds max_norm 1e+08");
    assert_int_equal(mn_db_insert(o, q, 2), MN_OK);
    mn_db_close(o);
    long added, skipped, differing;
    assert_int_equal(mn_db_merge(db, tmp_path("o.db"), &added, &skipped, &differing), MN_OK);
    assert_true(added == 1 && skipped == 1 && differing == 1);
    assert_int_equal(mn_db_runs(&got, &n, db, s1), MN_OK);
    assert_int_equal(n, 5);
    assert_string_equal(got[0].reason, r[0].reason); /* the stored run stays */
    assert_string_equal(got[4].reason, q[1].reason);
    assert_true(got[4].elim_a == q[1].elim_a && got[4].elim_a_exp_b == q[1].elim_a_exp_b);
    free(got);
    mn_db_close(db);
}

/* A sweep setting of one model on one data set. */
static mn_sweep_setting setting(const mn_model *m, const mn_data *d, double lr, long steps, const char *canon)
{
    mn_sweep_setting s;
    memset(&s, 0, sizeof s);
    s.model = m;
    s.data = d;
    mn_opt_params_default(&s.opt);
    s.opt.lr = lr;
    s.steps = steps;
    s.gtol = 1e-8;
    s.frozen_value = 1.0;
    s.seed = 2385;
    mn_cert_opts_default(&s.cert);
    s.cert.zero_error = 1;
    s.canon = canon; /* the seed depends on it only: the same string, the same start */
    return s;
}

static mn_run_row one(const mn_sweep_setting *s, long restart)
{
    mn_work *w;
    assert_int_equal(mn_work_alloc(&w, s->model, mn_data_n(s->data)), MN_OK);
    mn_run_row r;
    assert_int_equal(mn_sweep_one(&r, s, restart, w), MN_OK);
    mn_work_free(w);
    free(r.theta);
    return r;
}

/* Logistic loss + liang on separable data: no minimum; GD drives |a| down
 * and the exponent up with the output finite, and the run is reported
 * diverged. From w = 0 (the neuron's start) some runs switch the neuron off
 * before it takes that path: those end global, judged with it dropped. */
static void test_drift_logistic(void **state)
{
    (void)state;
    mn_data *d;
    assert_int_equal(mn_gen_separable(&d, 100, 2, 0.1, 1), MN_OK);
    mn_model *m = model_of("2-4-1", MN_ELIM_LIANG, MN_LOSS_LOGISTIC);
    const char *canon = "drift test";
    int drifting = 0;
    for (long r = 0; r < 4; r++) {
        mn_sweep_setting s2 = setting(m, d, 0.5, 2000, canon), s4 = setting(m, d, 0.5, 4000, canon);
        mn_run_row a = one(&s2, r), b = one(&s4, r);
        assert_true(a.seed == b.seed);
        if (a.cls != MN_CLASS_DIVERGED) {
            assert_int_equal(a.cls, MN_CLASS_GLOBAL);
            assert_true(a.accuracy == 1.0 && !a.drop_changes_prediction);
            continue;
        }
        drifting++;
        for (int k = 0; k < 2; k++) {
            const mn_run_row *x = k ? &b : &a;
            assert_int_equal(x->cls, MN_CLASS_DIVERGED);
            assert_non_null(strstr(x->reason, "drifts to infinity"));
            assert_true(x->accuracy >= 0.5 && x->accuracy <= 1.0); /* the network without the neuron */
            assert_true(x->elim_output > 1.0);  /* a large output that a -> 0 hides */
            assert_true(isfinite(x->elim_a_exp_b)); /* a e^b stays finite */
            assert_true(x->theta == NULL);
        }
        /* twice the steps: |a| smaller, b larger, |a| e^b within a factor 2 */
        assert_true(fabs(b.elim_a) < fabs(a.elim_a) / 1.2);
        assert_true(b.elim_b > a.elim_b + 0.25);
        assert_true(fabs(b.elim_a_exp_b) < 2 * fabs(a.elim_a_exp_b) && fabs(b.elim_a_exp_b) > fabs(a.elim_a_exp_b) / 2);
    }
    assert_true(drifting >= 2);
    /* the same without the neuron: a zero-error classifier, certified global */
    mn_model *plain = model_of("2-4-1", MN_ELIM_NONE, MN_LOSS_LOGISTIC);
    mn_sweep_setting sp = setting(plain, d, 0.5, 2000, canon);
    mn_run_row p = one(&sp, 0);
    assert_int_equal(p.cls, MN_CLASS_GLOBAL);
    assert_true(p.reason[0] == '\0' && isnan(p.elim_a) && isnan(p.elim_a_exp_b));
    mn_model_free(plain);
    mn_model_free(m);
    mn_data_free(d);
}

/* Polynomial hinge + liang on realizable data (separable with margin 0.5,
 * lambda 0.1, lr 0.05): the loss has minima (a = 0) and the neuron shrinks
 * to them without drifting: nothing is flagged. (Some starts overflow exp in
 * their first steps, a divergence of another kind, with its own reason.) */
static void test_no_drift_poly_hinge(void **state)
{
    (void)state;
    mn_data *d;
    assert_int_equal(mn_gen_separable(&d, 100, 2, 0.5, 1), MN_OK);
    mn_spec sp;
    mn_spec_default(&sp);
    sp.loss = MN_LOSS_POLY_HINGE;
    sp.elim = MN_ELIM_LIANG;
    sp.lambda = 0.1;
    assert_int_equal(mn_spec_parse_arch(&sp, "2-4-1"), MN_OK);
    mn_model *m;
    assert_int_equal(mn_model_alloc(&m, &sp), MN_OK);
    mn_sweep_setting s = setting(m, d, 0.05, 4000, "no drift test");
    int at_cap = 0;
    for (long r = 0; r < 6; r++) {
        mn_run_row x = one(&s, r);
        assert_null(strstr(x.reason, "drifts"));
        if (x.cls == MN_CLASS_DIVERGED) {
            assert_non_null(strstr(x.reason, "overflows exp"));
            continue;
        }
        at_cap++;
        assert_true(x.iterations == 4000 && x.accuracy == 1.0);
        assert_true(fabs(x.elim_a_exp_b) < 0.5); /* the neuron fades out */
    }
    assert_true(at_cap >= 3);
    mn_model_free(m);
    mn_data_free(d);
}

/* The drift through w (issue 11): |a| falls four-fold while w grows so that
 * the largest exponent max_i w.x_i + b rises by ln 4 and the largest output
 * stays put, b unchanged. The old detector watched b only and missed it; the
 * message says what was measured and claims nothing about the existence of
 * minima (it did: "the augmented loss has no minimum here", false on
 * realizable polynomial-hinge data). */
static void test_drift_through_w(void **state)
{
    (void)state;
    mn_data *d;
    assert_int_equal(mn_gen_separable(&d, 50, 2, 0.1, 3), MN_OK);
    mn_model *m = model_of("2-4-1", MN_ELIM_LIANG, MN_LOSS_POLY_HINGE);
    const size_t P = mn_model_nparams(m), o = mn_model_elim_offset(m, 0);
    double xmax = -INFINITY; /* the largest first feature: where the exponent peaks for w = (w1, 0), w1 > 0 */
    for (int i = 0; i < 50; i++) xmax = fmax(xmax, mn_data_xc(d)[2 * i]);
    assert_true(xmax > 0.5);
    double *mid = calloc(P, sizeof *mid), *end = calloc(P, sizeof *end);
    mid[o] = 0.4, mid[o + 1] = 1.0, mid[o + 3] = -0.3;
    memcpy(end, mid, P * sizeof *end);
    end[o] = 0.1, end[o + 1] = 1.0 + log(4.0) / xmax; /* b = -0.3 at both */
    char why[400] = "";
    assert_int_equal(mn_elim_drifts(m, d, mid, end, why, sizeof why), 1);
    assert_non_null(strstr(why, "drifts to infinity"));
    assert_non_null(strstr(why, "largest exponent"));
    assert_null(strstr(why, "no minimum"));
    /* w unchanged: the output falls four-fold, no drift */
    end[o + 1] = 1.0;
    assert_int_equal(mn_elim_drifts(m, d, mid, end, why, sizeof why), 0);
    /* the old signature of the drift, through b, is still caught */
    end[o + 3] = -0.3 + log(4.0);
    assert_int_equal(mn_elim_drifts(m, d, mid, end, why, sizeof why), 1);
    free(mid), free(end);
    mn_model_free(m);
    mn_data_free(d);
}

/* Label noise: exactly round(F n) samples flipped, seeded, -1/+1 only. */
static void test_flip(void **state)
{
    (void)state;
    mn_data *a, *b, *c;
    assert_int_equal(mn_gen_xor(&a, 203, 0.0, 7), MN_OK);
    assert_int_equal(mn_gen_xor(&b, 203, 0.0, 7), MN_OK);
    assert_int_equal(mn_gen_xor(&c, 203, 0.0, 7), MN_OK);
    assert_int_equal(mn_data_flip_labels(b, 0.1, 7), MN_OK);
    assert_int_equal(mn_data_flip_labels(c, 0.1, 8), MN_OK);
    int fb = 0, fc = 0, same = 0;
    for (int i = 0; i < 203; i++) {
        const double ya = mn_data_yc(a)[i], yb = mn_data_yc(b)[i], yc = mn_data_yc(c)[i];
        assert_true(yb == ya || yb == -ya);
        fb += yb != ya, fc += yc != ya;
        same += (yb != ya) && (yc != ya);
        assert_true(!memcmp(mn_data_xc(a) + 2 * i, mn_data_xc(b) + 2 * i, 2 * sizeof(double)));
    }
    assert_int_equal(fb, 20); /* round(20.3) */
    assert_int_equal(fc, 20);
    assert_true(same < 20); /* another seed, another subset */
    /* deterministic */
    mn_data *b2;
    assert_int_equal(mn_gen_xor(&b2, 203, 0.0, 7), MN_OK);
    assert_int_equal(mn_data_flip_labels(b2, 0.1, 7), MN_OK);
    assert_true(!memcmp(mn_data_yc(b2), mn_data_yc(b), 203 * sizeof(double)));
    /* 0 changes nothing, 1 flips everything */
    assert_int_equal(mn_data_flip_labels(b2, 0.0, 7), MN_OK);
    assert_true(!memcmp(mn_data_yc(b2), mn_data_yc(b), 203 * sizeof(double)));
    assert_int_equal(mn_data_flip_labels(b2, 1.0, 3), MN_OK);
    for (int i = 0; i < 203; i++) assert_true(mn_data_yc(b2)[i] == -mn_data_yc(b)[i]);
    /* out of range, and labels that are not -1/+1: refused, nothing changed */
    assert_int_equal(mn_data_flip_labels(b2, 1.5, 1), MN_EINVAL);
    assert_int_equal(mn_data_flip_labels(b2, NAN, 1), MN_EINVAL);
    mn_data *t;
    assert_int_equal(mn_gen_teacher_relu(&t, 50, 3, 1), MN_OK);
    double y0 = mn_data_yc(t)[0];
    assert_int_equal(mn_data_flip_labels(t, 0.5, 1), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "-1 or +1"));
    assert_true(mn_data_yc(t)[0] == y0);
    mn_data_free(t);
    mn_data_free(a), mn_data_free(b), mn_data_free(c), mn_data_free(b2);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_largest),
        cmocka_unit_test(test_columns),
        cmocka_unit_test(test_drift_logistic),
        cmocka_unit_test(test_no_drift_poly_hinge),
        cmocka_unit_test(test_drift_through_w),
        cmocka_unit_test(test_flip),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
