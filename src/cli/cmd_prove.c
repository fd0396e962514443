/* minima prove: computer-assisted proofs of strict local minima of the
 * Safran-Shamir population loss (include/minima/prove.h, docs/prove.md).
 *   minima prove population --k K --n N --point FILE [--json] [--cert OUT]
 *   minima prove --check CERT [--json]
 *   minima prove network --arch .. --act .. --loss .. (--data|--generate|--dataset) ..
 *                        --params FILE [--global-upper V | --global-point FILE] [--json]
 * Exit status: 0 when the command ran (proved or not; a certificate that
 * holds), 1 for bad input, 2 for a certificate that does not hold. */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/popul.h"
#include "minima/prove.h"
#include "minima/sweep.h"

static const char pop_intro[] =
    "usage: minima prove population --k K --n N --point FILE [--json] [--cert OUT]\n"
    "       minima prove --check CERT [--json]\n"
    "       minima prove network --params FILE [model and data options] [--global-upper V |\n"
    "                            --global-point FILE] [--json]   (minima prove network --help)\n"
    "\n"
    "Proves, in ball arithmetic (Arb), that a strict local minimum of the Safran-Shamir\n"
    "population loss (n ReLU students, teacher I_k, x ~ N(0, I_k)) lies near the point, and\n"
    "that it is spurious (its value is > 0). The argument: docs/prove.md.\n"
    "\noptions:\n";

/* The point file: n lines of k numbers. 0, or 1 with the message printed. */
static int read_point(const char *path, int n, int k, double *W)
{
    FILE *f = fopen(path, "r");
    if (!f) return cli_bad("prove", "cannot open '%s': %s", path, strerror(errno));
    char line[1 << 16];
    int rows = 0, lineno = 0, bad = 0;
    while (!bad && fgets(line, sizeof line, f)) {
        lineno++;
        if (!strchr(line, '\n') && !feof(f)) {
            bad = cli_bad("prove", "%s:%d: line too long", path, lineno);
            break;
        }
        char *p = line;
        while (*p == ' ' || *p == '\t' || *p == '\r' || *p == '\n') p++;
        if (!*p || *p == '#') continue;
        int cols = 0;
        for (char *tok = strtok(p, " \t\r\n,"); tok; tok = strtok(NULL, " \t\r\n,")) {
            char *end;
            errno = 0;
            const double v = strtod(tok, &end);
            if (end == tok || *end) {
                bad = cli_bad("prove", "%s:%d:%d: not a number: '%s'", path, lineno, cols + 1, tok);
                break;
            }
            if (!isfinite(v)) {
                bad = cli_bad("prove", "%s:%d:%d: non-finite value '%s'", path, lineno, cols + 1, tok);
                break;
            }
            if (cols < k && rows < n) W[(size_t)rows * k + cols] = v;
            cols++;
        }
        if (bad) break;
        if (cols != k) {
            bad = cli_bad("prove", "%s:%d: expected %d numbers (k), found %d", path, lineno, k, cols);
            break;
        }
        if (rows < n) {
            int zero = 1;
            for (int l = 0; l < k; l++) zero &= W[(size_t)rows * k + l] == 0;
            if (zero) {
                bad = cli_bad("prove", "%s:%d: unit %d is zero (the loss is not differentiable there)", path,
                              lineno, rows + 1);
                break;
            }
        }
        rows++;
    }
    if (!bad && ferror(f)) bad = cli_bad("prove", "%s: read error", path);
    fclose(f);
    if (!bad && rows != n) bad = cli_bad("prove", "%s: expected %d rows (n) of %d numbers, found %d rows", path, n, k, rows);
    return bad;
}

/* n, k: the population's sizes (n = 0: a network of k parameters). */
static void print_result(const mn_prove_result *r, int n, int k, int json)
{
    if (json) {
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        if (n) {
            jw_int(&w, "k", k);
            jw_int(&w, "n", n);
        } else
            jw_int(&w, "params", k);
        jw_bool(&w, "proved", r->proved);
        jw_bool(&w, "spurious", r->spurious);
        jw_num(&w, "radius", r->radius);
        jw_num(&w, "shift", r->shift);
        jw_num(&w, "within", r->within);
        jw_num(&w, "grad_upper", r->grad_upper);
        jw_num(&w, "lambda_lower", r->lambda_lower);
        jw_num(&w, "lambda_mid", r->lambda_mid);
        jw_num(&w, "hess_spread", r->hess_spread);
        jw_num(&w, "loss_lower", r->loss_lower);
        jw_num(&w, "loss_upper", r->loss_upper);
        if (r->reason[0]) jw_str(&w, "reason", r->reason);
        jw_num(&w, "seconds", r->seconds);
        jw_end(&w);
        return;
    }
    if (!r->proved) {
        printf("not proved: %s\n", r->reason);
        return;
    }
    printf("proved: a strict local minimum within %.3g of the point (unique in the ball of radius %.3g around the "
           "centre, %.3g away)\n",
           r->within, r->radius, r->shift);
    printf("  |grad F(centre)| <= %.3g, smallest Hessian eigenvalue on the ball >= %.6g\n", r->grad_upper,
           r->lambda_lower);
    if (n)
        printf("  its value F in [%.17g, %.17g]: %s\n", r->loss_lower, r->loss_upper,
               r->spurious ? "spurious (> 0, the global minimum value)" : "not proved > 0");
    else
        printf("  its value L in [%.17g, %.17g]: %s\n", r->loss_lower, r->loss_upper,
               r->spurious ? "spurious (above the global value's upper bound)" : r->reason);
}

/* minima prove network: the run options of eval plus the bound of the global value. */
typedef struct {
    cli_opts o;
    double global_upper;
    const char *global_point, *cert;
    const char *names[MN_GRID_MAX_KEYS], *values[MN_GRID_MAX_KEYS]; /* the run options given */
    int json, have_upper, nopts;
} net_args;

static mn_status set_net(void *ctx, const mn_option *d, const char *v)
{
    net_args *a = ctx;
    const char *nm = d->name;
    if (!strcmp(nm, "params")) a->o.params_path = v;
    else if (!strcmp(nm, "json")) a->json = 1;
    else if (!strcmp(nm, "global-point")) a->global_point = v;
    else if (!strcmp(nm, "cert")) a->cert = v;
    else if (!strcmp(nm, "global-upper")) {
        a->have_upper = 1;
        return mn_option_real(&a->global_upper, d, v);
    } else {
        if (a->nopts == MN_GRID_MAX_KEYS) return mn_fail(MN_EINVAL, "more than %d options", MN_GRID_MAX_KEYS);
        a->names[a->nopts] = nm, a->values[a->nopts++] = v ? v : "on";
        return mn_options_set(&a->o.run, nm, v);
    }
    return MN_OK;
}

static int read_theta(double **theta, const char *path, size_t P)
{
    *theta = malloc(P * sizeof **theta);
    if (!*theta) return cli_bad("prove", "out of memory");
    return cli_read_params(path, *theta, P) ? cli_error("prove") : 0;
}

static int prove_network(int argc, char **argv)
{
    net_args a = {.o = {.cmd = "prove network", .cmd_bit = MN_CMD_PROVE}};
    mn_options_default(&a.o.run);
    const char *intro = "usage: minima prove network --params FILE [options]\n"
                        "Proves, in ball arithmetic (Arb), that a strict local minimum of the empirical loss of a\n"
                        "one-hidden-layer network (tanh, sigmoid, softplus, quadratic or linear units; squared,\n"
                        "logistic, softmax_ce or poly_hinge (p > 2) loss; eliminating neurons allowed) lies near\n"
                        "the point, and that it is spurious when its value is proved above an upper bound of the\n"
                        "global value (--global-upper, or the enclosed loss of --global-point). --cert OUT writes\n"
                        "a certificate for minima prove --check. The argument: docs/prove.md.\n\noptions:\n";
    int r = cli_args("prove network", MN_CMD_PROVE, intro, argc, argv, set_net, NULL, &a);
    if (r) return r == 2 ? 0 : 1;
    if (mn_options_check(&a.o.run)) return cli_error("prove");
    if (!a.o.params_path) return cli_bad("prove", "prove network needs --params FILE");
    if (a.have_upper && a.global_point) return cli_bad("prove", "give --global-upper or --global-point, not both");
    mn_data *data = NULL;
    mn_model *model = NULL;
    double *theta = NULL, *good = NULL, *centre = NULL;
    int rc = 1;
    if (mn_setting_build(&data, &model, &a.o.run)) {
        rc = cli_error("prove");
        goto done;
    }
    if (mn_prove_network_supported(model)) {
        rc = cli_error("prove");
        goto done;
    }
    const size_t P = mn_model_nparams(model);
    if ((rc = read_theta(&theta, a.o.params_path, P))) goto done;
    double gu = a.have_upper ? a.global_upper : NAN, glo = NAN;
    if (a.global_point) {
        if ((rc = read_theta(&good, a.global_point, P))) goto done;
        if (mn_prove_network_loss(&glo, &gu, model, data, good)) {
            rc = cli_error("prove");
            goto done;
        }
    }
    centre = malloc(P * sizeof *centre);
    mn_prove_result res;
    if (!centre) rc = cli_bad("prove", "out of memory");
    else if (mn_prove_network(&res, centre, model, data, theta, gu)) rc = cli_error("prove");
    else {
        rc = 0;
        print_result(&res, 0, (int)P, a.json);
        if (!a.json && a.global_point) printf("  the global point's loss is in [%.17g, %.17g]\n", glo, gu);
        if (a.cert && res.proved &&
            mn_prove_network_cert_write(a.cert, &res, centre, model, data, a.names, a.values, a.nopts, gu, good))
            rc = cli_error("prove");
        if (a.cert && !res.proved) fprintf(stderr, "minima prove: not proved, no certificate written\n");
    }
done:
    free(theta), free(good), free(centre);
    mn_model_free(model);
    mn_data_free(data);
    return rc;
}

static int check(const char *path, int json)
{
    int ok = 0;
    char why[256] = "";
    mn_prove_result r;
    if (mn_prove_cert_check(&ok, why, sizeof why, &r, path)) return cli_error("prove");
    if (json) {
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        jw_bool(&w, "holds", ok);
        jw_bool(&w, "spurious", ok && r.spurious);
        if (!ok) jw_str(&w, "reason", why);
        jw_num(&w, "seconds", r.seconds);
        jw_end(&w);
    } else if (ok) {
        printf("certificate holds: a strict local minimum with value in [%.17g, %.17g]%s\n", r.loss_lower,
               r.loss_upper, r.spurious ? ", spurious" : "");
    }
    if (!ok) {
        fprintf(stderr, "minima prove: certificate does not hold: %s\n", why);
        return 2;
    }
    return 0;
}

/* minima prove population and --check. */
typedef struct {
    long k, n;
    const char *point, *cert, *check;
    int json, population;
} pop_args;

static mn_status set_pop(void *ctx, const mn_option *d, const char *v)
{
    pop_args *a = ctx;
    const char *nm = d->name;
    if (!strcmp(nm, "k")) return mn_option_int(&a->k, d, v);
    if (!strcmp(nm, "n")) return mn_option_int(&a->n, d, v);
    if (!strcmp(nm, "point")) a->point = v;
    else if (!strcmp(nm, "cert")) a->cert = v;
    else if (!strcmp(nm, "check")) a->check = v;
    else a->json = 1; /* "json" */
    return MN_OK;
}

static int pop_word(void *ctx, const char *arg)
{
    pop_args *a = ctx;
    if (!strcmp(arg, "population") && !a->population) return a->population = 1, 0;
    return cli_bad("prove", "unexpected argument '%s' (see minima prove --help)", arg);
}

int cmd_prove(int argc, char **argv)
{
    if (argc > 1 && !strcmp(argv[1], "network")) return prove_network(argc - 1, argv + 1);
    pop_args o = {0};
    const int parsed = cli_args("prove", MN_CMD_PROVE_POP, pop_intro, argc, argv, set_pop, pop_word, &o);
    if (parsed) return parsed == 2 ? 0 : 1;
    if (o.check) {
        if (o.population || o.point || o.cert || o.k || o.n)
            return cli_bad("prove", "--check CERT takes no other option than --json");
        return check(o.check, o.json);
    }
    if (!o.population) return cli_bad("prove", "what to prove? (minima prove population ... or minima prove --check CERT)");
    if (!o.k || !o.n || !o.point) return cli_bad("prove", "prove population needs --k, --n and --point");
    const int k = (int)o.k, n = (int)o.n, json = o.json; /* within MN_POPUL_MAX_K, _N: the table's ranges */
    const char *point = o.point, *cert = o.cert;
    const size_t P = (size_t)n * k;
    double *W = malloc(P * sizeof *W), *centre = malloc(P * sizeof *centre);
    if (!W || !centre) {
        free(W), free(centre);
        return cli_bad("prove", "out of memory");
    }
    int rc = read_point(point, n, k, W);
    mn_prove_result r;
    if (!rc && mn_prove_population(&r, centre, n, k, W)) rc = cli_error("prove");
    if (!rc) {
        print_result(&r, n, k, json);
        if (cert && r.proved && mn_prove_cert_write(cert, &r, centre, n, k)) rc = cli_error("prove");
        if (cert && !r.proved) fprintf(stderr, "minima prove: not proved, no certificate written\n");
    }
    free(W), free(centre);
    return rc;
}
