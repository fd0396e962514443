/* minima slice: the loss (and accuracy) on a 1-D or 2-D grid through
 * --params along random, filter-normalised, Hessian-eigenvector or
 * toward-a-point directions, as CSV (a,[b,]loss,accuracy); --plot draws it
 * (a curve in 1-D, filled contours in 2-D). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/instruments.h"

#define DIR_TAG 0x646972ULL /* "dir" */

/* "A:B" with A < B, both finite. */
static mn_status parse_range(double *lo, double *hi, const char *s, const char *opt)
{
    char *end;
    errno = 0;
    *lo = strtod(s, &end);
    if (end == s || *end != ':') return mn_fail(MN_EINVAL, "--%s '%s' is not A:B", opt, s);
    const char *b = end + 1;
    *hi = strtod(b, &end);
    if (end == b || *end || errno == ERANGE || !isfinite(*lo) || !isfinite(*hi) || !(*lo < *hi))
        return mn_fail(MN_EINVAL, "--%s '%s' is not A:B with finite A < B", opt, s);
    return MN_OK;
}

/* --dir: one or two kinds, comma-separated. */
static mn_status parse_dirs(mn_dir_kind *k, int *nk, const char *s)
{
    const char *comma = strchr(s, ',');
    char first[64];
    const size_t len = comma ? (size_t)(comma - s) : strlen(s);
    if (len >= sizeof first) return mn_fail(MN_EINVAL, "unknown direction kind '%s' (random|filter|eig|toward)", s);
    memcpy(first, s, len);
    first[len] = '\0';
    mn_status st = mn_dir_parse(&k[0], first);
    *nk = 1;
    if (!st && comma) {
        if (strchr(comma + 1, ',')) return mn_fail(MN_EINVAL, "--dir '%s': at most two directions", s);
        st = mn_dir_parse(&k[1], comma + 1);
        *nk = 2;
    }
    if (!st && *nk == 2 && k[0] == MN_DIR_TOWARD && k[1] == MN_DIR_TOWARD)
        st = mn_fail(MN_EINVAL, "--dir toward,toward: both directions would be the same line");
    return st;
}

static void grid(double *v, int n, double lo, double hi)
{
    for (int i = 0; i < n; i++) v[i] = i == n - 1 ? hi : lo + (hi - lo) * i / (n - 1);
}

int cmd_slice(int argc, char **argv)
{
    instr_opts o = {.cmd = "slice", .cmd_bit = MN_CMD_SLICE};
    int r = instr_parse(&o, "the loss and accuracy along 1-D or 2-D slices through --params (CSV)", argc, argv);
    if (r) return r == 2 ? 0 : 1;
    if (!o.params) return cli_bad("slice", "--params FILE is required");
    mn_dir_kind kind[2] = {MN_DIR_FILTER, MN_DIR_FILTER};
    int nk = 1;
    if (o.dir && parse_dirs(kind, &nk, o.dir)) return cli_error("slice");
    const int toward = kind[0] == MN_DIR_TOWARD || (nk == 2 && kind[1] == MN_DIR_TOWARD);
    if (toward && !o.to) return cli_bad("slice", "--dir toward needs --to FILE (the second point)");
    if (!toward && o.to) return cli_bad("slice", "--to FILE is the end point of --dir toward");
    if (o.range2 && nk == 1) return cli_bad("slice", "--range2 needs a second direction (--dir KIND,KIND)");
    double lo = kind[0] == MN_DIR_TOWARD ? -0.5 : -1.0, hi = kind[0] == MN_DIR_TOWARD ? 1.5 : 1.0;
    double lo2 = kind[1] == MN_DIR_TOWARD ? -0.5 : -1.0, hi2 = kind[1] == MN_DIR_TOWARD ? 1.5 : 1.0;
    if (o.range && parse_range(&lo, &hi, o.range, "range")) return cli_error("slice");
    if (o.range2 && parse_range(&lo2, &hi2, o.range2, "range2")) return cli_error("slice");
    const int na = o.points > 0 ? (int)o.points : nk == 2 ? 25 : 51, nb = nk == 2 ? na : 1;
    mn_lanczos_opts lo_opts;
    mn_lanczos_opts_default(&lo_opts);
    if (o.lanczos_steps > 0) lo_opts.steps = (int)o.lanczos_steps;
    if (o.lanczos_tol > 0) lo_opts.tol = o.lanczos_tol;
    lo_opts.seed = o.seed;

    instr_net n;
    double *theta = NULL, *end = NULL, *dirs = NULL, *eig = NULL, *a = NULL, *b = NULL, *loss = NULL, *acc = NULL;
    FILE *out = stdout;
    int rc = 1;
    if (instr_net_open(&n, &o.run)) return cli_error("slice");
    const size_t P = n.P;
    if (instr_read_point(&theta, &n, o.params)) goto fail;
    if (toward && instr_read_point(&end, &n, o.to)) goto fail;
    dirs = calloc(2 * P, sizeof *dirs);
    a = malloc((size_t)na * sizeof *a), b = malloc((size_t)nb * sizeof *b);
    loss = malloc((size_t)na * nb * sizeof *loss), acc = malloc((size_t)na * nb * sizeof *acc);
    if (!dirs || !a || !b || !loss || !acc) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    int neig = 0;
    for (int i = 0; i < nk; i++) neig += kind[i] == MN_DIR_EIG;
    if (neig) {
        double vals[2], resid[2];
        int steps, conv;
        if (!(eig = malloc(2 * P * sizeof *eig))) {
            mn_fail(MN_ENOMEM, "out of memory");
            goto fail;
        }
        if (mn_hess_extreme(vals, resid, eig, &steps, &conv, n.f, theta, neig, 1, &lo_opts)) goto fail;
        if (!conv)
            fprintf(stderr, "minima slice: note: the top eigenvector(s) did not converge in %d Lanczos steps "
                            "(residual %.3g); the slice uses the best estimate\n", steps, resid[neig - 1]);
    }
    for (int i = 0, ie = 0; i < nk; i++) {
        double *d = dirs + (size_t)i * P;
        if (kind[i] == MN_DIR_EIG) memcpy(d, eig + (size_t)ie++ * P, P * sizeof *d);
        else if (kind[i] == MN_DIR_TOWARD)
            for (size_t j = 0; j < P; j++) d[j] = end[j] - theta[j];
        else {
            const uint64_t idx[2] = {DIR_TAG, (uint64_t)i};
            if (mn_direction(d, n.model, theta, kind[i], mn_seed_derive(o.seed, idx, 2))) goto fail;
        }
    }
    const mn_plane plane = {.n = P,
                            .origin = theta,
                            .d1 = dirs,
                            .d2 = nk == 2 ? dirs + P : NULL,
                            .end = kind[0] == MN_DIR_TOWARD ? end : NULL};
    grid(a, na, lo, hi);
    if (nk == 2) grid(b, nb, lo2, hi2);
    if (mn_slice(loss, acc, n.f, &plane, a, na, nk == 2 ? b : NULL, nb)) goto fail;
    if (o.out && !(out = fopen(o.out, "w"))) {
        mn_fail(MN_EIO, "cannot write '%s': %s", o.out, strerror(errno));
        goto fail;
    }
    fprintf(out, nk == 2 ? "a,b,loss,accuracy\n" : "a,loss,accuracy\n");
    for (int i = 0; i < nb; i++)
        for (int j = 0; j < na; j++) {
            const size_t k = (size_t)i * na + j;
            if (nk == 2) fprintf(out, "%.17g,%.17g,%.17g,", a[j], b[i], loss[k]);
            else fprintf(out, "%.17g,%.17g,", a[j], loss[k]);
            if (isnan(acc[k])) fputs("\n", out);
            else fprintf(out, "%.17g\n", acc[k]);
        }
    if (out != stdout) {
        int bad = ferror(out);
        bad |= fclose(out) != 0;
        out = stdout;
        if (bad) {
            mn_fail(MN_EIO, "cannot write '%s'", o.out);
            goto fail;
        }
    }
    if (o.plot) {
        char xl[96], yl[96], title[200];
        snprintf(xl, sizeof xl, kind[0] == MN_DIR_TOWARD ? "a (0: --params, 1: --to)" : "a (%s direction)",
                 mn_dir_name(kind[0]));
        snprintf(yl, sizeof yl, "b (%s direction)", nk == 2 ? mn_dir_name(kind[1]) : "");
        snprintf(title, sizeof title, "loss along %s%s%s directions, %zu parameters", mn_dir_name(kind[0]),
                 nk == 2 ? " x " : "", nk == 2 ? mn_dir_name(kind[1]) : "", P);
        if (mn_plot_slice(loss, n.f->accuracy ? acc : NULL, a, na, nk == 2 ? b : NULL, nb, xl, yl, title, o.plot))
            goto fail;
    }
    rc = 0;
    goto done;
fail:
    cli_error("slice");
done:
    if (out != stdout) fclose(out);
    free(theta), free(end), free(dirs), free(eig), free(a), free(b), free(loss), free(acc);
    instr_net_close(&n);
    return rc;
}
