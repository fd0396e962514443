/* The MPI pool of minima/dist.h (built when CMake finds MPI).
 *
 * Rank 0: `threads` threads take tasks from the list like the one-process
 * pool, and its main thread (the only one that calls MPI: MPI_THREAD_FUNNELED)
 * serves the other ranks: a chunk for each ASK, a commit for each RESULT.
 * Rank R > 0: its main thread keeps a local queue filled (it ASKs while the
 * tasks not yet started are fewer than its threads, or than fill 5 ms of
 * its threads when tasks are shorter, so they never wait for a round trip), sends each result as it is done, and says DONE when rank 0
 * has no more and its queue is empty. Rank 0 sends chunks with MPI_Isend and
 * only ever blocks in a commit, so a rank blocked sending a large result
 * cannot deadlock against it. Idle main threads nap between polls, and
 * every wait is a non-blocking call tested between naps: they take no core
 * from the threads that run. */
#ifdef MN_HAVE_MPI
#include <math.h>
#include <mpi.h>
#include <omp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "dist/internal.h"

enum { TAG_ASK = 1, TAG_WORK, TAG_RESULT, TAG_ERR, TAG_DONE };
#define MAX_CHUNK 1024 /* tasks in one chunk */
#define HORIZON 5e-3   /* seconds of work a rank's threads keep queued */

static int g_started, g_rank, g_size = 1;
/* 1 when no rank can be waiting for this one: before MPI starts, and after
 * an mn_dist_run all ranks left together. */
static int g_synced = 1;

static int launched_by_mpi(void)
{
    static const char *const vars[] = {"OMPI_COMM_WORLD_SIZE", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"};
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        if (getenv(vars[i])) return 1;
    return 0;
}

mn_status mn_dist_init(int *argc, char ***argv)
{
    if (g_started || !launched_by_mpi()) return MN_OK;
    int provided = 0;
    if (MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided) != MPI_SUCCESS)
        return mn_fail(MN_EIO, "MPI_Init_thread failed");
    if (provided < MPI_THREAD_FUNNELED) {
        MPI_Finalize();
        return mn_fail(MN_EIO, "this MPI does not allow threads (MPI_THREAD_FUNNELED)");
    }
    g_started = 1;
    MPI_Comm_rank(MPI_COMM_WORLD, &g_rank);
    MPI_Comm_size(MPI_COMM_WORLD, &g_size);
    g_synced = g_size == 1;
    return MN_OK;
}

void mn_dist_finish(int status)
{
    if (!g_started) return;
    g_started = 0;
    /* MPI_Finalize waits for every rank: not while some may wait for us */
    if (status == 0 || g_size == 1 || g_synced) MPI_Finalize();
}

int mn_dist_rank(void)
{
    return g_rank;
}

int mn_dist_size(void)
{
    return g_size;
}

/* Idle waits: 50 us, doubling while nothing happens, at most 1 ms (an idle
 * poller costs next to no CPU, a busy one answers within 50 us); *idle = 0
 * after any activity. */
static void nap(int *idle)
{
    const long us = *idle < 5 ? 50L << *idle : 1000;
    const struct timespec t = {0, us * 1000};
    nanosleep(&t, NULL);
    if (*idle < 5) ++*idle;
}

/* Waits for a non-blocking send or collective, napping: blocking MPI calls
 * spin at 100% of a core, taken from the threads that run (ranks of an
 * oversubscribed node, or waiting for rank 0's last runs). */
static void wait_req(MPI_Request *r)
{
    int done = 0, idle = 0;
    for (;;) {
        MPI_Test(r, &done, MPI_STATUS_IGNORE);
        if (done) return;
        nap(&idle);
    }
}

/* ------------------------------------------------------------------ */
/* Rank 0.                                                              */

typedef struct {
    const mn_dist_job *j;
    const long *tasks;
    long n, next; /* next task to hand out (under critical(mn_dist_queue)) */
    mn_dist_failure f;
} root_state;

/* Up to `most` tasks from the list: whole chunks while it is long, single
 * tasks at its end. */
static int take(root_state *s, long *out, int most)
{
    int m = 0;
#pragma omp critical(mn_dist_queue)
    if (!mn_dist_failed(&s->f)) {
        const long left = s->n - s->next, fair = left / (2 * (long)g_size);
        long c = fair < 1 ? 1 : fair;
        if (c > most) c = most;
        if (c > left) c = left;
        for (m = 0; m < c; m++) out[m] = s->tasks[s->next++];
    }
    return m;
}

static void serve(root_state *s)
{
    const mn_dist_job *j = s->j;
    unsigned char *rbuf = malloc(sizeof(long) + j->result_bytes);
    long *chunks = malloc((size_t)g_size * MAX_CHUNK * sizeof *chunks);
    MPI_Request *req = malloc((size_t)g_size * sizeof *req);
    char msg[600];
    if (!rbuf || !chunks || !req) {
        mn_status e = mn_fail(MN_ENOMEM, "out of memory for the MPI buffers");
#pragma omp critical(mn_dist_commit)
        mn_dist_note_failure(&s->f, e, NULL);
    }
    for (int r = 0; req && r < g_size; r++) req[r] = MPI_REQUEST_NULL;
    int active = g_size - 1, idle = 0;
    while (active > 0) {
        int flag = 0;
        MPI_Status ms;
        MPI_Iprobe(MPI_ANY_SOURCE, MPI_ANY_TAG, MPI_COMM_WORLD, &flag, &ms);
        if (!flag) {
            nap(&idle);
            continue;
        }
        idle = 0;
        const int src = ms.MPI_SOURCE;
        int cnt = 0;
        MPI_Get_count(&ms, MPI_BYTE, &cnt);
        if (ms.MPI_TAG == TAG_ASK) {
            int want = 0;
            MPI_Recv(&want, 1, MPI_INT, src, TAG_ASK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            if (want > MAX_CHUNK) want = MAX_CHUNK;
            int m = 0;
            if (chunks) {
                MPI_Wait(&req[src], MPI_STATUS_IGNORE); /* the previous chunk's buffer */
                m = take(s, chunks + (size_t)src * MAX_CHUNK, want);
                MPI_Isend(chunks + (size_t)src * MAX_CHUNK, m, MPI_LONG, src, TAG_WORK, MPI_COMM_WORLD, &req[src]);
            } else {
                MPI_Send(&m, 0, MPI_LONG, src, TAG_WORK, MPI_COMM_WORLD);
            }
        } else if (ms.MPI_TAG == TAG_RESULT && rbuf && (size_t)cnt <= sizeof(long) + j->result_bytes &&
                   (size_t)cnt >= sizeof(long)) {
            MPI_Recv(rbuf, cnt, MPI_BYTE, src, TAG_RESULT, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            long task;
            memcpy(&task, rbuf, sizeof task);
#pragma omp critical(mn_dist_commit)
            if (!s->f.failed) {
                mn_status cs = j->commit(j->ctx, task, rbuf + sizeof task, (size_t)cnt - sizeof task);
                s->f.committed += !cs;
                mn_dist_note_failure(&s->f, cs, NULL);
            }
        } else if (ms.MPI_TAG == TAG_ERR) {
            char text[520] = "";
            int code = MN_EINVAL;
            MPI_Recv(text, cnt < (int)sizeof text ? cnt : (int)sizeof text - 1, MPI_CHAR, src, TAG_ERR,
                     MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            text[sizeof text - 1] = '\0';
            memcpy(&code, text, sizeof code);
            snprintf(msg, sizeof msg, "rank %d: ", src);
            mn_status e = mn_fail((mn_status)code, "%s", text + sizeof code);
#pragma omp critical(mn_dist_commit)
            mn_dist_note_failure(&s->f, e, msg);
        } else if (ms.MPI_TAG == TAG_DONE) {
            int z;
            MPI_Recv(&z, 1, MPI_INT, src, TAG_DONE, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            active--;
        } else { /* a result too large for the announced size: a bug of the caller */
            unsigned char *drop = malloc((size_t)cnt + 1);
            MPI_Recv(drop, drop ? cnt : 0, MPI_BYTE, src, ms.MPI_TAG, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
            free(drop);
            mn_status e = mn_fail(MN_EINVAL, "rank %d sent a result of %d bytes (at most %zu announced)", src, cnt,
                                  sizeof(long) + j->result_bytes);
#pragma omp critical(mn_dist_commit)
            mn_dist_note_failure(&s->f, e, NULL);
        }
    }
    if (req) MPI_Waitall(g_size, req, MPI_STATUSES_IGNORE);
    free(rbuf), free(chunks), free(req);
}

static void root_compute(root_state *s)
{
    const mn_dist_job *j = s->j;
    void *tls = NULL;
    unsigned char *buf = malloc(j->result_bytes + 1);
    if (!buf) {
        mn_status e = mn_fail(MN_ENOMEM, "out of memory for a result of %zu bytes", j->result_bytes);
#pragma omp critical(mn_dist_commit)
        mn_dist_note_failure(&s->f, e, NULL);
    }
    long task;
    while (buf && take(s, &task, 1) == 1) mn_dist_do_one(j, &tls, task, buf, &s->f);
    if (tls) j->tls_free(j->ctx, tls);
    free(buf);
}

/* ------------------------------------------------------------------ */
/* Ranks > 0.                                                           */

typedef struct out_msg {
    struct out_msg *next;
    int len; /* bytes of data: task id, result */
    unsigned char data[];
} out_msg;

typedef struct {
    const mn_dist_job *j;
    long *queue;      /* (2 MAX_CHUNK) tasks received, not yet started */
    int head, tail;   /* queue[head..tail) */
    int running;      /* tasks started, result not yet queued */
    long nrun;        /* tasks run here, and their seconds (the chunk size) */
    double run_s;
    int quit;         /* the main thread is done: compute threads leave */
    out_msg *out, **out_end; /* results to send, in order */
    mn_dist_failure f;
} worker_state;

static void worker_compute(worker_state *w)
{
    const mn_dist_job *j = w->j;
    void *tls = NULL;
    int idle = 0;
    for (;;) {
        long task = -1;
        int quit;
#pragma omp critical(mn_dist_queue)
        {
            quit = w->quit;
            if (w->head < w->tail && !w->f.failed) task = w->queue[w->head++], w->running++;
        }
        if (task < 0) {
            if (quit) break;
            nap(&idle);
            continue;
        }
        idle = 0;
        out_msg *m = malloc(sizeof *m + sizeof task + j->result_bytes);
        size_t len = 0;
        const double t0 = omp_get_wtime();
        mn_status rs = m ? j->run(j->ctx, &tls, task, m->data + sizeof task, &len)
                         : mn_fail(MN_ENOMEM, "out of memory for a result of %zu bytes", j->result_bytes);
        if (!rs && len > j->result_bytes)
            rs = mn_fail(MN_EINVAL, "task %ld: a result of %zu bytes, more than the %zu announced", task, len,
                         j->result_bytes);
        if (!rs) memcpy(m->data, &task, sizeof task), m->len = (int)(sizeof task + len), m->next = NULL;
#pragma omp critical(mn_dist_queue)
        {
            if (rs) {
                mn_dist_note_failure(&w->f, rs, NULL);
            } else {
                *w->out_end = m, w->out_end = &m->next;
                m = NULL;
            }
            w->running--;
            w->nrun++, w->run_s += omp_get_wtime() - t0;
        }
        free(m);
    }
    if (tls) j->tls_free(j->ctx, tls);
}

static void worker_talk(worker_state *w, int threads)
{
    int asked = 0, stopped = 0, err_sent = 0, idle = 0;
    long *got = malloc(MAX_CHUNK * sizeof *got);
    if (!got) {
        mn_status e = mn_fail(MN_ENOMEM, "out of memory for the MPI buffers");
#pragma omp critical(mn_dist_queue)
        mn_dist_note_failure(&w->f, e, NULL);
    }
    for (;;) {
        int busy = 0, waiting, running, failed;
        double mean = 0; /* seconds per task so far */
        out_msg *send;
#pragma omp critical(mn_dist_queue)
        {
            send = w->out, w->out = NULL, w->out_end = &w->out;
            waiting = w->tail - w->head, running = w->running, failed = w->f.failed;
            if (w->nrun) mean = w->run_s / (double)w->nrun;
        }
        for (out_msg *m = send, *nx; m; m = nx) {
            nx = m->next;
            MPI_Request rq;
            MPI_Isend(m->data, m->len, MPI_BYTE, 0, TAG_RESULT, MPI_COMM_WORLD, &rq);
            wait_req(&rq);
            free(m);
            busy = 1;
        }
        if (failed && !err_sent) { /* status, then the message */
            char text[sizeof(int) + sizeof w->f.msg];
            const int code = (int)w->f.status;
            memcpy(text, &code, sizeof code);
            memcpy(text + sizeof code, w->f.msg, sizeof w->f.msg);
            MPI_Send(text, (int)(sizeof code + strlen(w->f.msg) + 1), MPI_CHAR, 0, TAG_ERR, MPI_COMM_WORLD);
            err_sent = 1;
        }
        /* T tasks, or as many as fill HORIZON seconds of T threads when
         * tasks are short (rank 0 answers within ~1 ms) */
        const double per = mean > 0 ? ceil(HORIZON / mean) : 1;
        const double wt = (double)threads * (per < 1 ? 1 : per);
        const int want = wt < MAX_CHUNK ? (int)wt : MAX_CHUNK; /* queue: < 2 want */
        if (!asked && !stopped && !failed && waiting < want) {
            MPI_Send(&want, 1, MPI_INT, 0, TAG_ASK, MPI_COMM_WORLD);
            asked = 1;
        }
        if (asked) {
            int flag = 0;
            MPI_Status ms;
            MPI_Iprobe(0, TAG_WORK, MPI_COMM_WORLD, &flag, &ms);
            if (flag) {
                int cnt = 0;
                MPI_Get_count(&ms, MPI_LONG, &cnt);
                MPI_Recv(got, got ? cnt : 0, MPI_LONG, 0, TAG_WORK, MPI_COMM_WORLD, MPI_STATUS_IGNORE);
                asked = 0, busy = 1;
                if (cnt == 0) stopped = 1;
#pragma omp critical(mn_dist_queue)
                {
                    if (w->head > 0) { /* compact, then append */
                        memmove(w->queue, w->queue + w->head, (size_t)(w->tail - w->head) * sizeof *w->queue);
                        w->tail -= w->head, w->head = 0;
                    }
                    for (int i = 0; i < cnt; i++) w->queue[w->tail++] = got[i];
                }
            }
        }
        if (!asked && (stopped || failed) && running == 0 && (waiting == 0 || failed) && !send) {
            int empty;
#pragma omp critical(mn_dist_queue)
            empty = w->out == NULL && w->running == 0;
            if (empty) break;
        }
        if (busy)
            idle = 0;
        else
            nap(&idle);
    }
#pragma omp critical(mn_dist_queue)
    w->quit = 1;
    int z = 0;
    MPI_Send(&z, 1, MPI_INT, 0, TAG_DONE, MPI_COMM_WORLD);
    free(got);
}

/* ------------------------------------------------------------------ */

mn_status mn_dist_run_mpi(const mn_dist_job *j, const long *tasks, long n)
{
    g_synced = 0;
    /* Every rank runs the same runs: compare the keys before any. */
    uint64_t *keys = g_rank == 0 ? malloc((size_t)g_size * sizeof *keys) : NULL;
    uint64_t key = j->key;
    MPI_Request rq;
    MPI_Igather(&key, 1, MPI_UINT64_T, keys, 1, MPI_UINT64_T, 0, MPI_COMM_WORLD, &rq);
    wait_req(&rq);
    int bad = 0; /* the first rank that differs; -1: out of memory on rank 0 */
    if (g_rank == 0) {
        if (!keys) bad = -1;
        for (int r = 1; keys && r < g_size && !bad; r++)
            if (keys[r] != keys[0]) bad = r;
        free(keys);
    }
    MPI_Ibcast(&bad, 1, MPI_INT, 0, MPI_COMM_WORLD, &rq);
    wait_req(&rq);
    if (bad) {
        g_synced = 1;
        if (bad < 0) return mn_fail(MN_ENOMEM, "out of memory on rank 0");
        return mn_fail(MN_EINVAL,
                       "rank %d was started with other options than rank 0 (the hash of the settings' canonical "
                       "strings and restarts differs): every rank must run the same command",
                       bad);
    }
    mn_dist_failure fail = {0};
    if (g_rank == 0) {
        root_state s = {.j = j, .tasks = tasks, .n = n < 0 ? 0 : n};
#pragma omp parallel num_threads(j->threads + 1)
        {
            if (omp_get_thread_num() == 0)
                serve(&s);
            else
                root_compute(&s);
        }
        mn_dist_check_all(&s.f, s.n);
        fail = s.f;
    } else {
        worker_state w = {.j = j, .queue = malloc(2 * MAX_CHUNK * sizeof(long))};
        w.out_end = &w.out;
        if (!w.queue) {
            mn_status e = mn_fail(MN_ENOMEM, "out of memory for the task queue");
            mn_dist_note_failure(&w.f, e, NULL);
        }
#pragma omp parallel num_threads(j->threads + 1)
        {
            if (omp_get_thread_num() == 0)
                worker_talk(&w, j->threads);
            else
                worker_compute(&w);
        }
        free(w.queue);
    }
    /* Rank 0's outcome, to every rank. */
    int code = fail.failed ? (int)fail.status : 0;
    MPI_Ibcast(&code, 1, MPI_INT, 0, MPI_COMM_WORLD, &rq);
    wait_req(&rq);
    MPI_Ibcast(fail.msg, (int)sizeof fail.msg, MPI_CHAR, 0, MPI_COMM_WORLD, &rq);
    wait_req(&rq);
    g_synced = 1;
    if (!code) return MN_OK;
    return g_rank == 0 ? mn_fail((mn_status)code, "%s", fail.msg)
                       : mn_fail((mn_status)code, "stopped by rank 0: %s", fail.msg);
}
#endif
