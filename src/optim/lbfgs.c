/* L-BFGS (Nocedal 1980; Nocedal & Wright, Algorithm 7.4) with a backtracking
 * Armijo line search, one accepted step per mn_optim_iterate.
 *
 * Why our own and not Debian's liblbfgs: liblbfgs's lbfgs() owns the loop and
 * calls back for evaluations and progress; it returns only when it decides
 * to stop. Our optimisers are caller-driven (initialise / iterate / test):
 * the sweep interleaves many runs, applies its own stopping rules, certifies
 * and checkpoints between steps, and must be able to stop a run after any
 * step. Fitting a callback-owned loop into that would need a thread or a
 * longjmp out of the callback per step. The algorithm is ~100 lines, so it
 * lives here, on the same masked, deterministic arithmetic as the rest.
 *
 * Line search: trial steps t = 1, 1/2, 1/4, ... (at most 60) along the
 * two-loop direction d; a trial is accepted when
 *   f(x + t d) <= f(x) + 1e-4 t g.d and f(x + t d) < f(x)   (Armijo), or
 *   f(x + t d) <= f(x) + 8 eps |f(x)| and ||g(x + t d)|| < ||g(x)||
 * (the second clause lets the end game go on when the loss changes below
 * its rounding while the gradient still shrinks: on test_optim's least
 * squares problem it takes the gradient norm from 1.9e-11, where Armijo
 * alone stalls, to 5.7e-17; the strict f < f(x) stops steps that change
 * nothing once both have run out, so the run then STALLS). A trial with
 * a non-finite value is backtracked from; if the search then fails the run
 * is DIVERGED with that reason, never hidden. A failure from the memory's
 * direction is retried once along -lr g with the memory cleared; a failure
 * from there stalls the run (MN_RUN_STALLED). */
#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"

double mn__lbfgs_doubles(size_t P, int memory)
{
    const double m = memory;
    return 2 * m * (double)P + 2 * m + 3 * (double)P; /* m pairs (s, y), rho, alpha, x, g, direction */
}

mn_status mn__lbfgs_alloc(mn_optim *o)
{
    const size_t P = o->P, m = (size_t)o->prm.memory;
    o->ls = malloc((size_t)mn__lbfgs_doubles(P, o->prm.memory) * sizeof *o->ls);
    if (!o->ls) return mn_fail(MN_ENOMEM, "out of memory for L-BFGS (memory %zu, %zu parameters)", m, P);
    o->ly = o->ls + m * P;
    o->lrho = o->ly + m * P;
    o->lalpha = o->lrho + m;
    o->xt = o->lalpha + m;
    o->gt = o->xt + P;
    o->dir = o->gt + P;
    return MN_OK;
}

static double dot(const double *a, const double *b, size_t n)
{
    double s = 0;
    for (size_t i = 0; i < n; i++) s += a[i] * b[i];
    return s;
}

/* dir = -H g by the two-loop recursion; -lr g with an empty memory. */
static void direction(mn_optim *o)
{
    const size_t P = o->P;
    const int m = o->prm.memory;
    double *q = o->dir;
    memcpy(q, o->grad, P * sizeof *q);
    if (o->lcount == 0) {
        for (size_t i = 0; i < P; i++) q[i] *= -o->prm.lr;
        return;
    }
    for (int k = 0; k < o->lcount; k++) { /* newest to oldest */
        const int j = ((o->lhead - 1 - k) % m + m) % m;
        const double *s = o->ls + (size_t)j * P, *y = o->ly + (size_t)j * P;
        const double a = o->lrho[j] * dot(s, q, P);
        o->lalpha[j] = a;
        for (size_t i = 0; i < P; i++) q[i] -= a * y[i];
    }
    const int newest = ((o->lhead - 1) % m + m) % m;
    const double *sn = o->ls + (size_t)newest * P, *yn = o->ly + (size_t)newest * P;
    const double gamma = dot(sn, yn, P) / dot(yn, yn, P);
    for (size_t i = 0; i < P; i++) q[i] *= gamma;
    for (int k = o->lcount - 1; k >= 0; k--) { /* oldest to newest */
        const int j = ((o->lhead - 1 - k) % m + m) % m;
        const double *s = o->ls + (size_t)j * P, *y = o->ly + (size_t)j * P;
        const double b = o->lrho[j] * dot(y, q, P);
        for (size_t i = 0; i < P; i++) q[i] += s[i] * (o->lalpha[j] - b);
    }
    for (size_t i = 0; i < P; i++) q[i] = -q[i];
}

/* Backtracking along dir. Returns 1 when a step was accepted (xt, gt, *ft
 * hold it), 0 when none was; *nonfinite counts non-finite trials. */
static mn_status search(mn_optim *o, double *ft, int *accepted, int *nonfinite)
{
    const size_t P = o->P;
    const double f0 = o->loss, gd = dot(o->grad, o->dir, P);
    *accepted = 0;
    double t = 1.0;
    for (int k = 0; k < 60; k++, t *= 0.5) {
        for (size_t i = 0; i < P; i++) o->xt[i] = o->theta[i] + t * o->dir[i];
        int bad;
        mn_status st = mn__optim_eval_at(o, o->xt, ft, o->gt, &bad);
        if (st) return st;
        if (bad) {
            (*nonfinite)++;
            continue;
        }
        if ((*ft <= f0 + 1e-4 * t * gd && *ft < f0) ||
            (*ft <= f0 + 8 * DBL_EPSILON * fabs(f0) && mn__optim_norm(o, o->gt) < o->gnorm)) {
            *accepted = 1;
            return MN_OK;
        }
    }
    return MN_OK;
}

mn_status mn__lbfgs_step(mn_optim *o)
{
    const size_t P = o->P;
    char lastbad[sizeof o->why] = "";
    int nonfinite = 0, accepted = 0;
    double ft = NAN;
    for (int attempt = 0; attempt < 2 && !accepted; attempt++) {
        if (attempt == 1) {
            if (o->lcount == 0) break; /* -lr g already failed */
            o->lcount = 0, o->lhead = 0;
        }
        direction(o);
        if (!(dot(o->grad, o->dir, P) < 0)) { /* not a descent direction: restart */
            o->lcount = 0, o->lhead = 0;
            direction(o);
        }
        int nf0 = nonfinite;
        mn_status st = search(o, &ft, &accepted, &nonfinite);
        if (st) return st;
        if (nonfinite > nf0) snprintf(lastbad, sizeof lastbad, "%s", o->why);
    }
    if (!accepted) {
        if (nonfinite) {
            o->diverged = 1;
            snprintf(o->why, sizeof o->why,
                     "L-BFGS line search: non-finite loss at %d trial step(s) (%.300s) and no decrease at "
                     "the finite ones",
                     nonfinite, lastbad);
        } else {
            o->stalled = 1;
            snprintf(o->why, sizeof o->why,
                     "L-BFGS line search found no decrease in 60 halvings (gradient norm %.3g)", o->gnorm);
        }
        return MN_OK;
    }
    o->why[0] = '\0';
    /* New pair s = xt - x, y = gt - g (frozen entries are zero in both). */
    const int m = o->prm.memory;
    double *s = o->ls + (size_t)o->lhead * P, *y = o->ly + (size_t)o->lhead * P;
    for (size_t i = 0; i < P; i++) s[i] = o->xt[i] - o->theta[i], y[i] = o->gt[i] - o->grad[i];
    const double sy = dot(s, y, P), ss = dot(s, s, P), yy = dot(y, y, P);
    if (sy > 1e-12 * sqrt(ss * yy) && sy > 0) {
        o->lrho[o->lhead] = 1.0 / sy;
        o->lhead = (o->lhead + 1) % m;
        if (o->lcount < m) o->lcount++;
    }
    mn__optim_accept(o, o->xt, ft, o->gt);
    return MN_OK;
}
