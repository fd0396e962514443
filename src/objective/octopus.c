/* The octopus: a chain of d strict saddles on R^d in the spirit of Du, Jin,
 * Lee, Jordan, Poczos, Singh (NeurIPS 2017). Our own closed form (the
 * paper glues its pieces by splines and a Whitney extension); the
 * properties it needs are proved in docs/saddles.md:
 *
 *   f(x) = sum_{i=1}^d [ (L/2) x_i^2 + sigma(x_{i-1}) b(x_i) ],  sigma(x_0) = 1,
 *   b(t) = -(L + gamma) (1 - exp(-t^2 / 2)),
 *   sigma(s) = S((|s| - s0) / (s1 - s0)), S the quintic smoothstep clamped to [0, 1].
 *
 * Coordinate i is stable (curvature L at 0) until x_{i-1} has left 0, then
 * unstable (curvature -gamma): saddle i is (+-m, .., +-m, 0, .., 0) with i - 1
 * coordinates at the well bottom m. Exact gradient, Hessian (tridiagonal)
 * and products. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "minima/objective.h"

typedef struct {
    mn_octopus c;
} octo;

/* The quintic smoothstep and its derivatives on [0, 1], constant outside. */
static double S0(double u) { return u <= 0 ? 0 : u >= 1 ? 1 : u * u * u * (10 + u * (-15 + 6 * u)); }
static double S1(double u) { return u <= 0 || u >= 1 ? 0 : 30 * u * u * (1 - u) * (1 - u); }
static double S2(double u) { return u <= 0 || u >= 1 ? 0 : 60 * u * (2 * u - 1) * (u - 1); }

/* sigma(s) and its first two derivatives in s. */
static void sigma3(const mn_octopus *c, double s, double *v, double *d1, double *d2)
{
    const double w = c->s1 - c->s0, u = (fabs(s) - c->s0) / w, sg = s < 0 ? -1 : 1;
    *v = S0(u);
    *d1 = sg * S1(u) / w;
    *d2 = S2(u) / (w * w);
}

/* b(t) and its first two derivatives. */
static void b3(const mn_octopus *c, double t, double *v, double *d1, double *d2)
{
    const double k = c->L + c->gamma, e = exp(-0.5 * t * t);
    *v = -k * (1 - e);
    *d1 = -k * t * e;
    *d2 = -k * (1 - t * t) * e;
}

static mn_status octo_fdf(void *p, const double *x, double *f, double *g)
{
    const mn_octopus *c = &((octo *)p)->c;
    const int d = c->d;
    double s = 0, sv = 1, sd1 = 0, sd2;
    for (int i = 0; i < d; i++) {
        double bv, bd1, bd2;
        b3(c, x[i], &bv, &bd1, &bd2);
        s += 0.5 * c->L * x[i] * x[i] + sv * bv;
        if (g) {
            g[i] = c->L * x[i] + sv * bd1;
            if (i > 0) g[i - 1] += sd1 * bv;
        }
        sigma3(c, x[i], &sv, &sd1, &sd2); /* sigma(x_i) gates coordinate i + 1 */
    }
    *f = s;
    if (!isfinite(s)) return mn_fail(MN_ERANGE, "octopus: value %g at a non-finite point", s);
    return MN_OK;
}

/* Tridiagonal H: H_ii = L + sigma(x_{i-1}) b''(x_i) + sigma''(x_i) b(x_{i+1}),
 * H_{i,i+1} = sigma'(x_i) b'(x_{i+1}). diag (d), off (d - 1). */
static void octo_tridiag(const mn_octopus *c, const double *x, double *diag, double *off)
{
    const int d = c->d;
    double sv = 1, sd1 = 0, sd2 = 0;
    for (int i = 0; i < d; i++) {
        double bv, bd1, bd2;
        b3(c, x[i], &bv, &bd1, &bd2);
        diag[i] = c->L + sv * bd2;
        if (i > 0) diag[i - 1] += sd2 * bv, off[i - 1] = sd1 * bd1;
        sigma3(c, x[i], &sv, &sd1, &sd2);
    }
}

static mn_status octo_hvp(void *p, const double *x, const double *v, double *hv)
{
    const mn_octopus *c = &((octo *)p)->c;
    const int d = c->d;
    double *diag = malloc((size_t)(2 * d) * sizeof *diag);
    if (!diag) return mn_fail(MN_ENOMEM, "octopus: out of memory");
    double *off = diag + d;
    octo_tridiag(c, x, diag, off);
    for (int i = 0; i < d; i++) {
        hv[i] = diag[i] * v[i];
        if (i > 0) hv[i] += off[i - 1] * v[i - 1];
        if (i + 1 < d) hv[i] += off[i] * v[i + 1];
    }
    free(diag);
    return MN_OK;
}

static mn_status octo_hessian(void *p, const double *x, double *h)
{
    const mn_octopus *c = &((octo *)p)->c;
    const size_t d = (size_t)c->d;
    memset(h, 0, d * d * sizeof *h);
    double *diag = malloc(2 * d * sizeof *diag);
    if (!diag) return mn_fail(MN_ENOMEM, "octopus: out of memory");
    octo_tridiag(c, x, diag, diag + d);
    for (size_t i = 0; i < d; i++) {
        h[i * d + i] = diag[i];
        if (i + 1 < d) h[i * d + i + 1] = h[(i + 1) * d + i] = diag[d + i];
    }
    free(diag);
    return MN_OK;
}

mn_status mn_octopus_init(mn_octopus *c, int d, double gamma, double L)
{
    if (d < 1 || d > MN_OCTOPUS_MAX_D) return mn_fail(MN_EINVAL, "octopus: dimension %d (expected 1..%d)", d, MN_OCTOPUS_MAX_D);
    if (!(gamma > 0 && gamma <= 1e3 && L > 0 && L <= 1e3))
        return mn_fail(MN_EINVAL, "octopus: curvatures gamma %g and L %g must be in (0, 1000]", gamma, L);
    const double k = L + gamma, m = sqrt(2 * log(k / L));
    /* the switch runs over the middle 80% of [0, m]: flat at 0 and at m */
    const double s0 = 0.1 * m, s1 = 0.9 * m, w = s1 - s0;
    /* sup |S'|, |S''|, |S'''|; sup |b'|, |b''|, |b'''| / (L + gamma); and the
     * largest positive b'' / (L + gamma) (docs/saddles.md) */
    const double S1max = 15.0 / 8, S2max = 10 / sqrt(3.0), S3max = 60;
    const double t3 = sqrt(3 - sqrt(6.0));
    const double B1 = exp(-0.5), B2 = 1, B3 = (3 * t3 - t3 * t3 * t3) * exp(-0.5 * t3 * t3), B2pos = 2 * exp(-1.5);
    const double diag = fmax(gamma, L + B2pos * k) + k * S2max / (w * w); /* |H_ii| */
    *c = (mn_octopus){
        .d = d,
        .gamma = gamma,
        .L = L,
        .m = m,
        .s0 = s0,
        .s1 = s1,
        .ell = diag + 2 * k * B1 * S1max / w,
        .rho = k * (B3 + S3max / (w * w * w)) + 3 * k * B1 * S2max / (w * w) + 3 * k * B2 * S1max / w,
        .fmin = d * (0.5 * L * m * m - gamma),
    };
    return MN_OK;
}

mn_status mn_octopus_objective_alloc(mn_objective **out, int d, double gamma, double L)
{
    *out = NULL;
    mn_octopus c;
    mn_status st = mn_octopus_init(&c, d, gamma, L);
    if (st) return st;
    mn_objective *f = calloc(1, sizeof *f);
    octo *p = f ? malloc(sizeof *p) : NULL;
    if (!p) {
        free(f);
        return mn_fail(MN_ENOMEM, "out of memory for the octopus");
    }
    p->c = c;
    *f = (mn_objective){.n = (size_t)d, .params = p, .fdf = octo_fdf, .hvp = octo_hvp, .hessian = octo_hessian,
                        .destroy = free};
    *out = f;
    return MN_OK;
}
