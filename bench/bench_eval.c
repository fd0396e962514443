/* bench_eval: gradient throughput of libminima.
 *
 * Builds a model from --arch/--act/--loss/--eliminate, random data (x ~ N(0,1),
 * squared-loss labels ~ N(0,1), margin labels +-1, softmax classes) and a
 * random parameter vector (mn_model_init; added neurons get a = 0.1 so their
 * terms are live), then times mn_eval(model, work, data, theta, &loss, grad)
 * -- the full loss + gradient computation, forward and backward, in one call
 * -- repeated for at least --seconds (after a warm-up), --repeat times, and
 * prints on one line
 *
 *   minima evals_per_s=<best> median_evals_per_s=<median> us_per_eval=<at best>
 *          cpu_evals_per_s=<best evals per process-CPU second> evals=<count in the best window> ...
 *
 * evals_per_s is wall-clock throughput (the best window: on a shared machine the
 * others are slowed by other processes); cpu_evals_per_s divides by the process's
 * CPU time instead (all threads), a load-insensitive figure for one thread.
 * Threads: whatever OpenBLAS is told (OPENBLAS_NUM_THREADS), and minima's own
 * OpenMP threads (OMP_NUM_THREADS; it cuts large passes by samples and units,
 * src/model/split.h), printed as omp_threads.
 *
 * --evals N instead runs exactly N evaluations after one warm-up call and
 * reports their time: for profilers (valgrind --tool=callgrind counts per
 * evaluation are then total / (N + 1) for mn_eval).
 *
 * usage: bench_eval [--arch 4-16-1] [--act relu] [--loss squared] [--eliminate none|liang|per-output]
 *                   [--n 100] [--seconds 2] [--repeat 3] [--evals N] [--seed 1]
 */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minima.h"

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu_now(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int die(const char *what)
{
    fprintf(stderr, "bench_eval: %s: %s\n", what, mn_last_error());
    return 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: bench_eval [--arch 4-16-1] [--act relu] [--loss squared] "
               "[--eliminate none|liang|per-output] [--n 100] [--seconds 2] [--repeat 3] [--evals N] [--seed 1]\n");
}

int main(int argc, char **argv)
{
    const char *arch = "4-16-1", *act = "relu", *loss = "squared", *elim = "none";
    int n = 100, repeat = 3;
    long fixed = 0;
    double seconds = 2.0;
    unsigned long long seed = 1;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!v) {
            usage(stderr);
            return 2;
        }
        if (!strcmp(a, "--arch")) arch = v;
        else if (!strcmp(a, "--act")) act = v;
        else if (!strcmp(a, "--loss")) loss = v;
        else if (!strcmp(a, "--eliminate")) elim = v;
        else if (!strcmp(a, "--n")) n = atoi(v);
        else if (!strcmp(a, "--seconds")) seconds = atof(v);
        else if (!strcmp(a, "--repeat")) repeat = atoi(v);
        else if (!strcmp(a, "--evals")) fixed = atol(v);
        else if (!strcmp(a, "--seed")) seed = strtoull(v, NULL, 10);
        else {
            usage(stderr);
            return 2;
        }
        i++;
    }
    if (n < 1 || !(seconds > 0) || repeat < 1 || repeat > 100 || fixed < 0) {
        usage(stderr);
        return 2;
    }

    mn_spec spec;
    mn_spec_default(&spec);
    if (mn_spec_parse_arch(&spec, arch)) return die("--arch");
    if (mn_act_parse(&spec.act, act)) return die("--act");
    if (mn_loss_parse(&spec.loss, loss)) return die("--loss");
    if (mn_elim_parse(&spec.elim, elim)) return die("--eliminate");

    mn_model *model = NULL;
    if (mn_model_alloc(&model, &spec)) return die("model");
    const int d = spec.width[0], K = spec.width[spec.depth];
    const int m = spec.loss == MN_LOSS_SOFTMAX_CE ? 1 : K;

    mn_rng r;
    mn_rng_seed(&r, seed);
    mn_data *data = NULL;
    if (mn_data_alloc(&data, n, d, m)) return die("data");
    double *x = mn_data_x(data), *y = mn_data_y(data);
    for (size_t i = 0; i < (size_t)n * d; i++) x[i] = mn_rng_normal(&r);
    for (size_t i = 0; i < (size_t)n * m; i++) {
        if (spec.loss == MN_LOSS_SQUARED) y[i] = mn_rng_normal(&r);
        else if (spec.loss == MN_LOSS_SOFTMAX_CE) y[i] = (double)(mn_rng_u64(&r) % (uint64_t)K);
        else y[i] = mn_rng_uniform(&r) < 0.5 ? -1.0 : 1.0;
    }
    if (mn_model_check_data(model, data)) return die("data");

    const size_t P = mn_model_nparams(model);
    double *theta = malloc(P * sizeof *theta), *grad = malloc(P * sizeof *grad);
    if (!theta || !grad) {
        fprintf(stderr, "bench_eval: out of memory\n");
        return 1;
    }
    mn_model_init(model, theta, seed + 1, 1.0);
    for (int j = 0; j < mn_model_nelim(model); j++) theta[mn_model_elim_offset(model, j)] = 0.1;

    mn_work *work = NULL;
    if (mn_work_alloc(&work, model, n)) return die("workspace");

    double lossv = 0.0, checksum = 0.0;
    if (fixed > 0) { /* profiling mode: one warm-up call, then exactly `fixed` calls */
        if (mn_eval(model, work, data, theta, &lossv, grad)) return die("mn_eval");
        double t1 = now();
        for (long e = 0; e < fixed; e++) {
            if (mn_eval(model, work, data, theta, &lossv, grad)) return die("mn_eval");
            checksum += grad[(size_t)e % P];
        }
        double el = now() - t1;
        printf("minima evals_per_s=%.6g us_per_eval=%.4g evals=%ld seconds=%.3f params=%zu arch=%s n=%d "
               "loss_value=%.10g checksum=%.6g\n",
               (double)fixed / el, 1e6 * el / (double)fixed, fixed, el, P, arch, n, lossv, checksum);
        return 0;
    }

    /* Warm-up: first touches of the workspace, OpenBLAS thread start-up. */
    double t0 = now();
    long warm = 0;
    while (now() - t0 < 0.2 * seconds || warm < 3) {
        if (mn_eval(model, work, data, theta, &lossv, grad)) return die("mn_eval");
        warm++;
    }

    /* Timed loop: checks the clock every `batch` evaluations (>= ~1 ms per check). */
    double tw = (now() - t0) / (double)warm;
    long batch = tw > 1e-3 ? 1 : (long)(1e-3 / tw) + 1;
    double rates[100], best_cpu = 0.0, best_el = 0.0;
    long best_evals = 0;
    for (int rep = 0; rep < repeat; rep++) {
        long evals = 0;
        double t1 = now(), c1 = cpu_now(), el = 0.0;
        do {
            for (long b = 0; b < batch; b++) {
                if (mn_eval(model, work, data, theta, &lossv, grad)) return die("mn_eval");
                checksum += grad[(size_t)evals % P];
                evals++;
            }
            el = now() - t1;
        } while (el < seconds);
        double cpu = cpu_now() - c1;
        rates[rep] = (double)evals / el;
        if (rates[rep] >= (double)best_evals / (best_el > 0 ? best_el : 1)) best_evals = evals, best_el = el;
        if (cpu > 0 && (double)evals / cpu > best_cpu) best_cpu = (double)evals / cpu;
    }
    qsort(rates, (size_t)repeat, sizeof *rates, cmp_double);
    double median = repeat % 2 ? rates[repeat / 2] : 0.5 * (rates[repeat / 2 - 1] + rates[repeat / 2]);

    const char *thr = getenv("OPENBLAS_NUM_THREADS");
    printf("minima evals_per_s=%.6g median_evals_per_s=%.6g us_per_eval=%.4g cpu_evals_per_s=%.6g evals=%ld "
           "seconds=%.3f repeat=%d params=%zu arch=%s act=%s loss=%s eliminate=%s n=%d openblas_threads=%s "
           "omp_threads=%d loss_value=%.10g checksum=%.6g\n",
           rates[repeat - 1], median, 1e6 / rates[repeat - 1], best_cpu, best_evals, best_el, repeat, P, arch,
           act, loss, elim, n, thr ? thr : "default", omp_get_max_threads(), lossv, checksum);

    free(theta);
    free(grad);
    mn_work_free(work);
    mn_data_free(data);
    mn_model_free(model);
    return 0;
}
