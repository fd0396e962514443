/* The runner (src/run/runner.c) on a toy run kind whose runs take uneven
 * times, so that they finish out of order on several threads: the rows are
 * committed in list order whatever the thread count; a shard runs only its
 * runs and the rest resume after it; a failing run stops the list, keeps
 * what finished and names the failure; a kind whose run fills several
 * rows (each of its own setting, one carrying an end point) has them
 * committed together, and resumes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "run/internal.h"
#include "tmpdir.h"

#define N 40

typedef struct {
    int64_t db_id;
    long fail_at; /* the restart that fails, or -1 */
} toy_setting;

static mn_status toy_scratch(void **scratch, const void *setting)
{
    (void)setting;
    *scratch = calloc(64, sizeof(double)); /* read by every run, even one of no work */
    return *scratch ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
}

static void toy_scratch_free(void *scratch)
{
    free(scratch);
}

/* Busy work growing with (restart * 7) % 5, then a loss that depends on
 * the restart alone. */
static mn_status toy_run(mn_run_row *row, const void *setting, long restart, void *scratch)
{
    const toy_setting *s = setting;
    if (restart == s->fail_at) return mn_fail(MN_ERANGE, "toy run %ld fails", restart);
    double *x = scratch, acc = 0;
    const long work = 200000L * ((restart * 7) % 5);
    for (long i = 0; i < work; i++) x[i & 63] = acc += 1e-9 * (double)(i & 7);
    memset(row, 0, sizeof *row);
    row->setting = s->db_id, row->restart = restart, row->seed = (uint64_t)restart;
    snprintf(row->optimizer, sizeof row->optimizer, "toy");
    row->loss = 1.0 / (double)(restart + 1) + 0.0 * x[0];
    row->cls = MN_CLASS_GLOBAL;
    return MN_OK;
}

static size_t toy_npoint(const void *setting)
{
    (void)setting;
    return 0; /* no end points */
}

static const mn_run_kind toy = {"toy", 0, NULL, NULL, toy_scratch, toy_scratch_free, toy_run, toy_npoint, NULL, NULL};

/* A fresh database at name with one setting; list[k] = restart k. */
static mn_db *fresh(const char *name, toy_setting *s, mn_pending *list)
{
    mn_db *db = NULL;
    remove(tmp_path(name));
    assert_int_equal(mn_db_open(&db, tmp_path(name), 1), MN_OK);
    assert_int_equal(mn_db_setting(&s->db_id, db, "toy=1", "{\"toy\":\"1\"}"), MN_OK);
    for (long k = 0; k < N; k++) list[k] = (mn_pending){&toy, s, s->db_id, k, NULL};
    return db;
}

/* Under the runner's lock after each run: the stored runs are a prefix
 * 0..m-1 of the list (commits in list order), m never shrinking. */
typedef struct {
    mn_db *db;
    int64_t id;
    long m, bad;
} prefix_check;

static void check_prefix(void *ctx, long k, long ndone)
{
    (void)k, (void)ndone;
    prefix_check *c = ctx;
    mn_run_row *rows = NULL;
    long n = 0;
    if (mn_db_runs(&rows, &n, c->db, c->id)) c->bad++;
    for (long i = 0; i < n; i++) c->bad += rows[i].restart != i;
    c->bad += n < c->m;
    c->m = n;
    free(rows);
}

static void test_commit_order(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 4; threads += 3) {
        toy_setting s = {0, -1};
        mn_pending list[N];
        mn_db *db = fresh("order.db", &s, list);
        prefix_check c = {db, s.db_id, 0, 0};
        mn_runner_opts o = {.threads = threads, .db = db, .shard = 0, .nshards = 1, .batch = 1,
                            .finished = check_prefix, .ctx = &c};
        mn_runner_stats st;
        unsigned char state_of[N];
        assert_int_equal(mn_runner_run(&st, state_of, list, N, &o), MN_OK);
        assert_int_equal(st.total, N);
        assert_int_equal(st.done, N);
        assert_int_equal(st.skipped, 0);
        for (int k = 0; k < N; k++) assert_int_equal(state_of[k], MN_PENDING_RUN);
        assert_int_equal(c.bad, 0);
        assert_true(c.m > 0); /* commits came along the way, not only at the end */
        mn_db_close(db);
    }
}

static void test_shard_then_resume(void **state)
{
    (void)state;
    toy_setting s = {0, -1};
    mn_pending list[N];
    mn_db *db = fresh("shard.db", &s, list);
    mn_runner_opts o = {.threads = 2, .db = db, .shard = 1, .nshards = 3};
    mn_runner_stats st;
    unsigned char state_of[N];
    assert_int_equal(mn_runner_run(&st, state_of, list, N, &o), MN_OK);
    const long mine = (N - 1 - 1) / 3 + 1; /* k = 1, 4, .., < N */
    assert_int_equal(st.total, mine);
    assert_int_equal(st.done, mine);
    for (int k = 0; k < N; k++) assert_int_equal(state_of[k], k % 3 == 1 ? MN_PENDING_RUN : MN_PENDING_OTHER);
    o.shard = 0, o.nshards = 1;
    assert_int_equal(mn_runner_run(&st, state_of, list, N, &o), MN_OK);
    assert_int_equal(st.total, N);
    assert_int_equal(st.skipped, mine);
    assert_int_equal(st.done, N - mine);
    for (int k = 0; k < N; k++) assert_int_equal(state_of[k], k % 3 == 1 ? MN_PENDING_STORED : MN_PENDING_RUN);
    mn_run_row *rows;
    long n;
    assert_int_equal(mn_db_runs(&rows, &n, db, s.db_id), MN_OK);
    assert_int_equal(n, N);
    for (long k = 0; k < N; k++) assert_true(rows[k].restart == k && rows[k].loss == 1.0 / (double)(k + 1));
    free(rows);
    mn_db_close(db);
}

static void test_failure_keeps_finished(void **state)
{
    (void)state;
    toy_setting s = {0, 5};
    mn_pending list[N];
    mn_db *db = fresh("fail.db", &s, list);
    mn_runner_opts o = {.threads = 1, .db = db, .shard = 0, .nshards = 1};
    mn_runner_stats st;
    assert_int_equal(mn_runner_run(&st, NULL, list, N, &o), MN_ERANGE);
    assert_non_null(strstr(mn_last_error(), "toy run 5 fails"));
    assert_int_equal(st.done, 5); /* one thread: 0..4 finished, nothing after 5 started */
    mn_run_row *rows;
    long n;
    assert_int_equal(mn_db_runs(&rows, &n, db, s.db_id), MN_OK);
    assert_int_equal(n, 5);
    free(rows);
    mn_db_close(db);
}

static int setup(void **state)
{
    (void)state;
    return tmpdir_make("runner");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* A run of 3 rows, of settings ids[0..3): row i has loss restart + i / 10;
 * row 1 carries an end point of restart + 1 doubles (restart + 1, ...). */
#define NROWS 3
static mn_status three_run(mn_run_row *row, const void *setting, long restart, void *scratch)
{
    (void)setting, (void)scratch;
    for (int i = 0; i < NROWS; i++) {
        row[i].restart = restart, row[i].seed = (uint64_t)restart;
        snprintf(row[i].optimizer, sizeof row[i].optimizer, "three");
        row[i].loss = (double)restart + i / 10.0;
        row[i].cls = MN_CLASS_GLOBAL;
    }
    row[1].ntheta = (size_t)restart + 1;
    if (!(row[1].theta = malloc(row[1].ntheta * sizeof *row[1].theta))) return mn_fail(MN_ENOMEM, "out of memory");
    for (size_t j = 0; j < row[1].ntheta; j++) row[1].theta[j] = (double)(restart + 1) + 0.5 * (double)j;
    return MN_OK;
}

static size_t three_npoint(const void *setting)
{
    (void)setting;
    return N;
}

static int three_rows(const void *setting)
{
    (void)setting;
    return NROWS;
}

static const mn_run_kind three = {"three", 0, NULL, NULL, NULL, NULL, three_run, three_npoint, NULL, three_rows};

/* After each run (batch 1): every setting holds the same restarts. */
typedef struct {
    mn_db *db;
    const int64_t *ids;
    long bad, calls;
} together_check;

static void check_together(void *ctx, long k, long ndone)
{
    (void)k, (void)ndone;
    together_check *c = ctx;
    long n0 = -1;
    for (int i = 0; i < NROWS; i++) {
        mn_run_row *rows = NULL;
        long n = 0;
        if (mn_db_runs(&rows, &n, c->db, c->ids[i])) c->bad++;
        c->bad += n0 >= 0 && n != n0;
        n0 = n;
        free(rows);
    }
    c->calls++;
}

static void test_several_rows(void **state)
{
    (void)state;
    for (int threads = 1; threads <= 3; threads += 2) {
        mn_db *db = NULL;
        remove(tmp_path("three.db"));
        assert_int_equal(mn_db_open(&db, tmp_path("three.db"), 1), MN_OK);
        int64_t ids[NROWS];
        const char *canon[NROWS] = {"three=0", "three=1", "three=2"};
        for (int i = 0; i < NROWS; i++) assert_int_equal(mn_db_setting(&ids[i], db, canon[i], "{}"), MN_OK);
        mn_pending list[N];
        int dummy = 0;
        for (long k = 0; k < N; k++) list[k] = (mn_pending){&three, &dummy, ids[NROWS - 1], k, ids};
        together_check c = {db, ids, 0, 0};
        mn_runner_opts o = {.threads = threads, .db = db, .shard = 0, .nshards = 1, .batch = 1,
                            .finished = check_together, .ctx = &c};
        mn_runner_stats st;
        assert_int_equal(mn_runner_run(&st, NULL, list, N, &o), MN_OK);
        assert_int_equal(st.done, N);
        assert_int_equal(c.calls, N);
        assert_int_equal(c.bad, 0);
        for (int i = 0; i < NROWS; i++) {
            mn_run_row *rows = NULL;
            long n = 0;
            assert_int_equal(mn_db_runs(&rows, &n, db, ids[i]), MN_OK);
            assert_int_equal(n, N);
            for (long r = 0; r < n; r++) {
                assert_int_equal(rows[r].restart, r);
                assert_true(rows[r].loss == (double)r + i / 10.0);
            }
            free(rows);
        }
        double *pt = NULL;
        size_t np = 0;
        assert_int_equal(mn_db_point(&pt, &np, db, ids[1], 6), MN_OK);
        assert_int_equal(np, 7);
        assert_true(pt[0] == 7.0 && pt[6] == 10.0);
        free(pt);
        /* a second pass finds every run stored */
        o.finished = NULL;
        assert_int_equal(mn_runner_run(&st, NULL, list, N, &o), MN_OK);
        assert_int_equal(st.skipped, N);
        assert_int_equal(st.done, 0);
        /* several rows without their settings' ids: refused, naming it */
        list[3].ids = NULL;
        assert_int_equal(mn_runner_run(&st, NULL, list, N, &o), MN_EINVAL);
        assert_non_null(strstr(mn_last_error(), "rows per run"));
        mn_db_close(db);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_commit_order),
        cmocka_unit_test(test_shard_then_resume),
        cmocka_unit_test(test_failure_keeps_finished),
        cmocka_unit_test(test_several_rows),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
