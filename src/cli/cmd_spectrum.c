/* minima spectrum: the Hessian spectrum at a point as one JSON object: the
 * top / bottom K eigenvalues with residuals (Lanczos), the trace with its
 * standard error (Hutchinson), the density (stochastic Lanczos quadrature),
 * and the wall-clock seconds of each; --plot draws the density. */
#include <stdlib.h>
#include <time.h>

#include "cli.h"
#include "minima/instruments.h"

static double clock_s(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}
/* Wall-clock seconds, and the process's CPU seconds (all threads): on a
 * shared machine the second says what the work cost. */
static double now(void) { return clock_s(CLOCK_MONOTONIC); }
static double cpu(void) { return clock_s(CLOCK_PROCESS_CPUTIME_ID); }

typedef struct {
    double *vals, *resid;
    int k, steps, converged;
    double seconds, cpu_seconds;
} extremes;

static mn_status run_extremes(extremes *e, const instr_net *n, const double *theta, int k, int top,
                              const mn_lanczos_opts *lo)
{
    e->k = k;
    if (k == 0) return MN_OK;
    e->vals = malloc(2 * (size_t)k * sizeof *e->vals);
    if (!e->vals) return mn_fail(MN_ENOMEM, "out of memory");
    e->resid = e->vals + k;
    const double t0 = now(), c0 = cpu();
    mn_status st = mn_hess_extreme(e->vals, e->resid, NULL, &e->steps, &e->converged, n->f, theta, k, top, lo);
    e->seconds = now() - t0, e->cpu_seconds = cpu() - c0;
    return st;
}

static void extremes_json(jw *w, const char *key, const extremes *e)
{
    if (!e->k) return;
    char k2[64];
    jw_nums(w, key, e->vals, (size_t)e->k);
    snprintf(k2, sizeof k2, "%s_residuals", key);
    jw_nums(w, k2, e->resid, (size_t)e->k);
    snprintf(k2, sizeof k2, "%s_converged", key);
    jw_bool(w, k2, e->converged);
    snprintf(k2, sizeof k2, "%s_lanczos_steps", key);
    jw_int(w, k2, e->steps);
}

int cmd_spectrum(int argc, char **argv)
{
    instr_opts o = {.cmd = "spectrum", .cmd_bit = MN_CMD_SPECTRUM};
    int r = instr_parse(&o, "the Hessian spectrum at --params: top/bottom eigenvalues (Lanczos), trace "
                            "(Hutchinson), density (stochastic Lanczos quadrature)", argc, argv);
    if (r) return r == 2 ? 0 : 1;
    if (!o.params) return cli_bad("spectrum", "--params FILE is required");
    if (o.plot && !o.density) return cli_bad("spectrum", "--plot draws the density: add --density");
    const int asked = o.top >= 0 || o.bottom > 0 || o.trace || o.density;
    const int top = o.top >= 0 ? (int)o.top : asked ? 0 : 5, bottom = o.bottom > 0 ? (int)o.bottom : 0;
    mn_lanczos_opts lo;
    mn_lanczos_opts_default(&lo);
    if (o.lanczos_steps > 0) lo.steps = (int)o.lanczos_steps;
    if (o.lanczos_tol > 0) lo.tol = o.lanczos_tol;
    lo.seed = o.seed;
    mn_density_opts dopt;
    mn_density_opts_default(&dopt);
    if (o.slq_probes > 0) dopt.probes = (int)o.slq_probes;
    if (o.slq_steps > 0) dopt.steps = (int)o.slq_steps;
    if (o.sigma > 0) dopt.sigma_rel = o.sigma;
    if (o.grid_points > 0) dopt.npoints = (int)o.grid_points;
    dopt.seed = o.seed;
    const int probes = o.probes > 0 ? (int)o.probes : 100;

    instr_net n;
    double *theta = NULL;
    extremes et = {0}, eb = {0};
    mn_density *dens = NULL;
    double trace = 0, se = 0, t_trace = 0, t_dens = 0, c_trace = 0, c_dens = 0, loss;
    int rc = 1;
    if (instr_net_open(&n, &o.run)) return cli_error("spectrum");
    if (instr_read_point(&theta, &n, o.params)) goto fail;
    if (mn_objective_fdf(n.f, theta, &loss, NULL)) goto fail;
    if (run_extremes(&et, &n, theta, top, 1, &lo) || run_extremes(&eb, &n, theta, bottom, 0, &lo)) goto fail;
    if (o.trace) {
        const double t0 = now(), c0 = cpu();
        if (mn_hess_trace(&trace, &se, n.f, theta, probes, o.seed)) goto fail;
        t_trace = now() - t0, c_trace = cpu() - c0;
    }
    if (o.density) {
        const double t0 = now(), c0 = cpu();
        if (mn_hess_density(&dens, n.f, theta, &dopt)) goto fail;
        t_dens = now() - t0, c_dens = cpu() - c0;
    }
    if (o.plot) {
        char title[160];
        snprintf(title, sizeof title, "Hessian spectral density (SLQ, %d probes x %d steps), %zu parameters",
                 dopt.probes, dopt.steps, n.P);
        if (mn_plot_density(dens, et.vals, et.k, title, o.plot)) goto fail;
    }
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_int(&w, "params", (long long)n.P);
    jw_int(&w, "free_params", (long long)mn_objective_nfree(n.f));
    jw_num(&w, "loss", loss);
    extremes_json(&w, "top", &et);
    extremes_json(&w, "bottom", &eb);
    if (o.trace) {
        jw_obj(&w, "trace");
        jw_num(&w, "value", trace);
        jw_num(&w, "se", se);
        jw_int(&w, "probes", probes);
        jw_end(&w);
    }
    if (dens) {
        jw_obj(&w, "density");
        jw_int(&w, "probes", dopt.probes);
        jw_int(&w, "steps", dopt.steps);
        jw_num(&w, "sigma", dens->sigma);
        jw_num(&w, "mean", dens->mean);
        jw_num(&w, "mean_se", dens->mean_se);
        jw_nums(&w, "nodes", dens->nodes, (size_t)dens->nnodes);
        jw_nums(&w, "weights", dens->weights, (size_t)dens->nnodes);
        jw_nums(&w, "grid", dens->grid, (size_t)dens->npoints);
        jw_nums(&w, "values", dens->values, (size_t)dens->npoints);
        jw_end(&w);
    }
    jw_obj(&w, "seconds");
    if (et.k) jw_num(&w, "top", et.seconds);
    if (eb.k) jw_num(&w, "bottom", eb.seconds);
    if (o.trace) jw_num(&w, "trace", t_trace);
    if (dens) jw_num(&w, "density", t_dens);
    jw_end(&w);
    jw_obj(&w, "cpu_seconds");
    if (et.k) jw_num(&w, "top", et.cpu_seconds);
    if (eb.k) jw_num(&w, "bottom", eb.cpu_seconds);
    if (o.trace) jw_num(&w, "trace", c_trace);
    if (dens) jw_num(&w, "density", c_dens);
    jw_end(&w);
    jw_end(&w);
    rc = 0;
    goto done;
fail:
    cli_error("spectrum");
done:
    free(theta), free(et.vals), free(eb.vals);
    mn_density_free(dens);
    instr_net_close(&n);
    return rc;
}
