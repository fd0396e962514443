/* The run pool of minima/dist.h in one process: every task run and
 * committed exactly once, one commit at a time, results whatever the thread
 * count; the first failure (of a run or a commit) stops it with its
 * message; a result longer than announced and a missing callback are
 * refused. (The MPI pool: tests/cli_mpi.sh under mpirun.) */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/dist.h"

#define N 500

typedef struct {
    double result[N];  /* committed value of each task (NaN: none) */
    int commits[N];    /* commits per task */
    int in_commit;     /* commits running now: must stay <= 1 */
    int overlap;       /* a commit ran while another did */
    long fail_run;     /* the task whose run fails (-1: none) */
    long fail_commit;  /* the task whose commit fails (-1: none) */
    size_t extra;      /* bytes a run writes beyond a double */
    int tls_made, tls_freed;
} ctx_t;

/* A pure function of the task: 2.385 * task + sum_{i<task % 37} i. */
static mn_status run(void *ctx, void **tls, long task, void *result, size_t *len)
{
    ctx_t *c = ctx;
    if (!*tls) {
        *tls = malloc(1);
#pragma omp atomic
        c->tls_made++;
    }
    if (task == c->fail_run) return mn_fail(MN_ERANGE, "run %ld cannot be done", task);
    double v = 2.385 * (double)task;
    for (long i = 0; i < task % 37; i++) v += (double)i;
    memcpy(result, &v, sizeof v);
    *len = sizeof v + c->extra;
    return MN_OK;
}

static void tls_free(void *ctx, void *tls)
{
    ctx_t *c = ctx;
    free(tls);
#pragma omp atomic
    c->tls_freed++;
}

static mn_status commit(void *ctx, long task, const void *result, size_t len)
{
    ctx_t *c = ctx;
    int now;
#pragma omp atomic capture
    now = ++c->in_commit;
    if (now > 1) c->overlap = 1;
    mn_status st = MN_OK;
    if (task == c->fail_commit)
        st = mn_fail(MN_EIO, "the store refuses task %ld", task);
    else if (len != sizeof(double))
        st = mn_fail(MN_EINVAL, "task %ld: %zu bytes", task, len);
    else
        memcpy(&c->result[task], result, sizeof(double)), c->commits[task]++;
#pragma omp atomic
    c->in_commit--;
    return st;
}

static mn_dist_job job_of(ctx_t *c, int threads)
{
    for (int i = 0; i < N; i++) c->result[i] = -1, c->commits[i] = 0;
    c->in_commit = c->overlap = c->tls_made = c->tls_freed = 0;
    c->extra = 0;
    c->fail_run = c->fail_commit = -1;
    return (mn_dist_job){.ctx = c, .result_bytes = sizeof(double), .threads = threads, .key = 18,
                         .run = run, .tls_free = tls_free, .commit = commit};
}

static long tasks[N];

static void test_every_task_once(void **state)
{
    static ctx_t one, four;
    /* every other task, in a fixed order (the pending list of a resume) */
    long n = 0;
    for (long t = N - 1; t >= 0; t -= 2) tasks[n++] = t;
    mn_dist_job j1 = job_of(&one, 1), j4 = job_of(&four, 4);
    assert_int_equal(mn_dist_run(&j1, tasks, n), MN_OK);
    assert_int_equal(mn_dist_run(&j4, tasks, n), MN_OK);
    for (int t = 0; t < N; t++) {
        const int listed = t % 2 == 1; /* N even: N - 1, N - 3, ... */
        assert_int_equal(one.commits[t], listed);
        assert_int_equal(four.commits[t], listed);
        assert_memory_equal(&one.result[t], &four.result[t], sizeof(double));
    }
    double v499 = 2.385 * 499; /* as run() computes it: 499 % 37 = 18 */
    for (int i = 0; i < 18; i++) v499 += i;
    assert_true(one.result[499] == v499);
    assert_false(one.overlap);
    assert_false(four.overlap);
    assert_int_equal(four.tls_made, four.tls_freed);
    assert_true(four.tls_made >= 1 && four.tls_made <= 4);
    assert_int_equal(mn_dist_run(&j4, tasks, 0), MN_OK); /* nothing to do */
}

static void test_failures(void **state)
{
    static ctx_t c;
    for (long t = 0; t < N; t++) tasks[t] = t;
    mn_dist_job j = job_of(&c, 3);
    c.fail_run = 7;
    assert_int_equal(mn_dist_run(&j, tasks, N), MN_ERANGE);
    assert_string_equal(mn_last_error(), "run 7 cannot be done");
    assert_int_equal(c.commits[7], 0);
    long done = 0;
    for (int t = 0; t < N; t++) done += c.commits[t];
    assert_true(done < N - 1); /* stopped: the later tasks were not run */

    j = job_of(&c, 2);
    c.fail_commit = 3;
    assert_int_equal(mn_dist_run(&j, tasks, N), MN_EIO);
    assert_string_equal(mn_last_error(), "the store refuses task 3");

    j = job_of(&c, 2);
    c.extra = 1; /* one byte more than announced */
    assert_int_equal(mn_dist_run(&j, tasks, N), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "more than the 8 announced"));

    j = job_of(&c, 2);
    j.commit = NULL;
    assert_int_equal(mn_dist_run(&j, tasks, N), MN_EINVAL);
    j = job_of(&c, 0);
    assert_int_equal(mn_dist_run(&j, tasks, N), MN_EINVAL);
}

static void test_one_process(void **state)
{
    assert_int_equal(mn_dist_init(NULL, NULL), MN_OK); /* no launcher: nothing starts */
    assert_int_equal(mn_dist_rank(), 0);
    assert_int_equal(mn_dist_size(), 1);
    assert_int_equal(mn_dist_solo(1), 0);
    assert_int_equal(mn_dist_solo(0), 1);
    mn_dist_finish(0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_every_task_once),
        cmocka_unit_test(test_failures),
        cmocka_unit_test(test_one_process),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
