/* bench_popul: the Safran-Shamir gradient kernel against a plain scalar loop.
 *
 * Per evaluation (default): for each k (n = k + extra) it times
 *   plain    the loop below, written straight from the formulas: every
 *            ordered pair (i, j) with its own dot product, libm acos and
 *            sqrt, the gradient accumulated term by term;
 *   level N  minima's kernel (mn_popul_eval_padded, what gradient descent
 *            calls) at every instruction-set level this CPU supports;
 * on the same Xavier point, and prints per size one line per variant:
 * microseconds of the thread's CPU time per evaluation (best window, the
 * windows of all variants interleaved; the machine is shared), the
 * speed-up over plain, the
 * kernel's floating-point work (flops_per_eval below) in GFLOP/s, and
 * checks: the kernel's loss and gradient against plain (max abs
 * difference) and every level's bits against level 1.
 *
 * --protocol: the protocol instead, plain: Xavier N(0, 1/k) starts, gradient
 * descent with step 5/n on the plain gradient to ||grad|| <= 1e-9,
 * restarts one after the other in this thread; prints time, GD steps and
 * the fraction with F >= 1e-3 (to compare with `minima experiment
 * safran-shamir --threads 1 --no-shortcuts` on the same rows).
 *
 * --clock: the core clock, measured by a chain of dependent integer adds
 * (one per cycle on x86-64).
 *
 * usage: bench_popul [--k 8,14,20] [--extra 0] [--seconds 0.3] [--repeat 5]
 *        [--level L (level 1 and L only)]
 *        bench_popul --protocol --k K [--extra 0] [--restarts 20]
 *        bench_popul --clock
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "minima.h"
#include "minima/popul.h"
#include "popul/internal.h" /* mn_popul_eval_padded, the padded layout */

static double clock_s(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
/* The thread's CPU time: what other processes on a shared machine take
 * from it is not counted (their effect on caches still is). */
static double cpu_now(void) { return clock_s(CLOCK_THREAD_CPUTIME_ID); }

/* splitmix64 and Box-Muller: the bench's own normals */
static double normal(uint64_t *s)
{
    double u[2];
    for (int i = 0; i < 2; i++) {
        uint64_t z = (*s += 0x9e3779b97f4a7c15ULL);
        z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
        z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
        z ^= z >> 31;
        u[i] = ((double)(z >> 11) + 0.5) * (1.0 / 9007199254740992.0);
    }
    return sqrt(-2 * log(u[0])) * cos(2 * MN_PI * u[1]);
}

/* The plain reference: F and dF/dW (n x k, row-major) at W (n x k), teacher
 * I_k; g(u, v) = |u||v| (sin t + (pi - t) cos t) / 2pi, whose gradient in u
 * is (|v| sin t u/|u| + (pi - t) v) / 2pi (and u/2 for v = u). */
static double plain_eval(int n, int k, const double *W, double *G)
{
    double nr[MN_POPUL_MAX_N], F = 0;
    for (int i = 0; i < n; i++) {
        double s = 0;
        for (int d = 0; d < k; d++) s += W[i * k + d] * W[i * k + d];
        nr[i] = sqrt(s);
    }
    for (int i = 0; i < n; i++) {
        const double *wi = W + (size_t)i * k;
        double *gi = G + (size_t)i * k, radial = 0; /* coefficient of w_i / |w_i| */
        for (int d = 0; d < k; d++) gi[d] = 0.5 * wi[d];
        F += 0.25 * nr[i] * nr[i];
        for (int j = 0; j < n; j++) {
            if (j == i) continue;
            const double *wj = W + (size_t)j * k;
            double dot = 0;
            for (int d = 0; d < k; d++) dot += wi[d] * wj[d];
            const double c = fmax(-1.0, fmin(1.0, dot / (nr[i] * nr[j])));
            const double t = acos(c), s = sqrt(1 - c * c);
            F += 0.5 * nr[i] * nr[j] * (s + (MN_PI - t) * c) / (2 * MN_PI);
            radial += nr[j] * s / (2 * MN_PI);
            for (int d = 0; d < k; d++) gi[d] += (MN_PI - t) / (2 * MN_PI) * wj[d];
        }
        for (int j = 0; j < k; j++) {
            const double c = fmax(-1.0, fmin(1.0, wi[j] / nr[i]));
            const double t = acos(c), s = sqrt(1 - c * c);
            F -= nr[i] * (s + (MN_PI - t) * c) / (2 * MN_PI);
            radial -= s / (2 * MN_PI);
            gi[j] -= (MN_PI - t) / (2 * MN_PI);
        }
        for (int d = 0; d < k; d++) gi[d] += radial / nr[i] * wi[d];
    }
    return F + 0.25 * k + k * (k - 1.0) / (4 * MN_PI);
}

/* Floating-point operations (+ - * / sqrt, a square root counted as one) of
 * one kernel evaluation, counted from src/popul/kernel.c's code on the real
 * (unpadded) entries:
 *   row norms 2nk, their roots n, reciprocals n, unit rows nk;
 *   Gram products 2k per student pair;
 *   angle terms 40 per angle, both branches (the vector code computes
 *   both): clamp-free z and 1 - a^2 (6), numerator 11, denominator 8,
 *   division 1, two roots 2, both arccosine branches 7, ak 4, sk 1;
 *   products: alpha 4 per pair and 7 per row (its 8-lane sum),
 *   G = W/2 + A W 2nnk + nk;
 *   teacher part and assembly 2nk (beta) + 11nk (g, the three sums). */
static double flops_per_eval(int n, int k)
{
    const double npair = n * (n - 1) / 2.0, nk = (double)n * k;
    const double norms = 2 * nk + n + n + nk, gram = 2.0 * k * npair;
    const double angles = 40 * (npair + nk), prod = 4 * npair + 7.0 * n + 2.0 * n * nk + nk, teach = 13 * nk;
    return norms + gram + angles + prod + teach;
}

/* Runs stmt for >= sec seconds of this thread's CPU time (one window);
 * best_us becomes the window's mean in CPU microseconds if lower. */
#define TIME_WINDOW(best_us, sec, stmt)                                                              \
    do {                                                                                             \
        long m_ = 0;                                                                                 \
        const double t0_ = cpu_now();                                                                \
        double t_;                                                                                   \
        do {                                                                                         \
            for (int q_ = 0; q_ < 64; q_++) { stmt; }                                                \
            m_ += 64;                                                                                \
        } while ((t_ = cpu_now() - t0_) < (sec));                                                    \
        if (1e6 * t_ / m_ < (best_us)) (best_us) = 1e6 * t_ / m_;                                    \
    } while (0)

static int die(const char *what)
{
    fprintf(stderr, "bench_popul: %s: %s\n", what, mn_last_error());
    return 1;
}

static int per_eval(int k, int n, double sec, int rep, int only)
{
    const mn_popul_spec spec = {.n = n, .k = k};
    mn_popul_work *w;
    if (mn_popul_work_alloc(&w, &spec)) return die("work");
    const int kp = w->kp;
    double *W = calloc((size_t)n * k, sizeof *W), *G = calloc((size_t)n * k, sizeof *G);
    double *Wp = aligned_alloc(64, (size_t)n * kp * sizeof *Wp), *Gp = aligned_alloc(64, (size_t)n * kp * sizeof *Gp);
    double *G1 = calloc((size_t)n * kp, sizeof *G1);
    if (!W || !G || !Wp || !Gp || !G1) return fprintf(stderr, "bench_popul: out of memory\n"), 1;
    uint64_t s = 1234567 + 7919 * (uint64_t)k;
    for (int i = 0; i < n * k; i++) W[i] = normal(&s) / sqrt((double)k);
    memset(Wp, 0, (size_t)n * kp * sizeof *Wp);
    for (int i = 0; i < n; i++) memcpy(Wp + (size_t)i * kp, W + (size_t)i * k, (size_t)k * sizeof *W);

    const double fl = flops_per_eval(n, k);
    const int best = mn_popul_isa_best();
    double us[5] = {INFINITY, INFINITY, INFINITY, INFINITY, INFINITY}, Fp = 0, F = 0; /* [0]: plain */
    volatile double sink = 0;
    /* windows interleaved, plain and each level in turn, rep rounds: on a
     * shared machine every variant meets the same spells of load */
    for (int r = 0; r < rep; r++) {
        TIME_WINDOW(us[0], sec, sink = plain_eval(n, k, W, G));
        for (int lv = 1; lv <= best; lv++) {
            if (only && lv != only && lv != 1) continue;
            if (mn_popul_isa_select(lv)) return die("select");
            TIME_WINDOW(us[lv], sec, mn_popul_eval_padded(w, Wp, &F, Gp));
        }
    }
    Fp = plain_eval(n, k, W, G);
    printf("k=%d n=%d plain   us_per_eval=%8.3f speedup=  1.00 GFLOPs=%6.2f\n", k, n, us[0], fl / us[0] / 1e3);
    for (int lv = 1; lv <= best; lv++) {
        if (only && lv != only && lv != 1) continue;
        if (mn_popul_isa_select(lv)) return die("select");
        if (mn_popul_eval_padded(w, Wp, &F, Gp)) return die("eval");
        double dg = 0;
        for (int i = 0; i < n; i++)
            for (int d = 0; d < k; d++) dg = fmax(dg, fabs(Gp[(size_t)i * kp + d] - G[(size_t)i * k + d]));
        if (lv == 1) memcpy(G1, Gp, (size_t)n * kp * sizeof *Gp);
        const int same = memcmp(G1, Gp, (size_t)n * kp * sizeof *Gp) == 0;
        printf("k=%d n=%d level %d us_per_eval=%8.3f speedup=%6.2f GFLOPs=%6.2f |dF|=%.1e |dgrad|=%.1e "
               "bits_vs_level1=%s\n",
               k, n, lv, us[lv], us[0] / us[lv], fl / us[lv] / 1e3, fabs(F - Fp), dg, same ? "same" : "DIFFERENT");
    }
    printf("k=%d n=%d flops_per_eval=%.0f\n", k, n, fl);
    (void)sink;
    mn_popul_isa_select(0);
    mn_popul_work_free(w);
    free(W), free(G), free(Wp), free(Gp), free(G1);
    return 0;
}

static int protocol(int k, int n, int restarts)
{
    double *W = malloc((size_t)n * k * sizeof *W), *G = malloc((size_t)n * k * sizeof *G);
    if (!W || !G) return fprintf(stderr, "bench_popul: out of memory\n"), 1;
    long steps = 0;
    int spurious = 0;
    const double t0 = now(), step = 5.0 / n;
    for (int r = 0; r < restarts; r++) {
        uint64_t s = 1234567 + 7919 * (uint64_t)r;
        for (int i = 0; i < n * k; i++) W[i] = normal(&s) / sqrt((double)k);
        double F;
        for (long it = 0;; it++) {
            F = plain_eval(n, k, W, G);
            steps++;
            double g2 = 0;
            for (int i = 0; i < n * k; i++) g2 += G[i] * G[i];
            if (sqrt(g2) <= 1e-9 || it >= 5000000) break;
            for (int i = 0; i < n * k; i++) W[i] -= step * G[i];
        }
        spurious += F >= 1e-3;
    }
    const double t = now() - t0;
    printf("plain protocol k=%d n=%d restarts=%d seconds=%.2f gd_steps=%ld us_per_step=%.3f F>=1e-3: %.1f%%\n", k, n,
           restarts, t, steps, 1e6 * t / steps, 100.0 * spurious / restarts);
    free(W), free(G);
    return 0;
}

/* Cycles per CPU second from 2e8 dependent adds (latency 1 cycle each). */
static int clock_rate(void)
{
#if defined(__x86_64__)
    double best = 0;
    for (int r = 0; r < 5; r++) {
        uint64_t x = 0;
        const long iters = 2000000;
        const double t0 = cpu_now();
        for (long i = 0; i < iters; i++)
            __asm__ volatile(".rept 100\n\taddq $1, %0\n\t.endr" : "+r"(x));
        const double hz = 100.0 * iters / (cpu_now() - t0);
        best = hz > best ? hz : best;
    }
    printf("clock_GHz=%.3f (dependent adds, best of 5)\n", best / 1e9);
    return 0;
#else
    fprintf(stderr, "bench_popul: --clock is x86-64 only\n");
    return 1;
#endif
}

int main(int argc, char **argv)
{
    const char *ks = "8,14,20";
    int extra = 0, rep = 5, restarts = 20, mode = 0, only = 0;
    double sec = 0.3;
    for (int a = 1; a < argc; a++) {
        const char *o = argv[a], *v = a + 1 < argc ? argv[a + 1] : NULL;
        if (!strcmp(o, "--protocol")) mode = 1;
        else if (!strcmp(o, "--clock")) mode = 2;
        else if (v && !strcmp(o, "--k")) ks = v, a++;
        else if (v && !strcmp(o, "--extra")) extra = atoi(v), a++;
        else if (v && !strcmp(o, "--seconds")) sec = atof(v), a++;
        else if (v && !strcmp(o, "--repeat")) rep = atoi(v), a++;
        else if (v && !strcmp(o, "--restarts")) restarts = atoi(v), a++;
        else if (v && !strcmp(o, "--level")) only = atoi(v), a++;
        else {
            fprintf(stderr, "bench_popul: unknown or incomplete option '%s'\n", o);
            return 1;
        }
    }
    if (mode == 2) return clock_rate();
    if (!(sec > 0) || rep < 1 || restarts < 1 || extra < 0) {
        fprintf(stderr, "bench_popul: --seconds, --repeat, --restarts must be positive, --extra >= 0\n");
        return 1;
    }
    printf("# isa level in use %d (best %d)\n", mn_popul_isa_level(), mn_popul_isa_best());
    for (const char *p = ks; *p;) {
        char *end;
        const long k = strtol(p, &end, 10);
        if (end == p || k < 1 || k + extra > MN_POPUL_MAX_N || k > MN_POPUL_MAX_K) {
            fprintf(stderr, "bench_popul: bad --k list '%s'\n", ks);
            return 1;
        }
        const int r = mode == 1 ? protocol((int)k, (int)k + extra, restarts)
                                : per_eval((int)k, (int)k + extra, sec, rep, only);
        if (r) return r;
        fflush(stdout);
        p = *end == ',' ? end + 1 : end;
    }
    return 0;
}
