/* minima prove: computer-assisted proofs of strict local minima of the
 * Safran-Shamir population loss (include/minima/prove.h, docs/prove.md).
 *   minima prove population --k K --n N --point FILE [--json] [--cert OUT]
 *   minima prove --check CERT [--json]
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

static void usage(FILE *f)
{
    fprintf(f, "usage: minima prove population --k K --n N --point FILE [--json] [--cert OUT]\n"
               "       minima prove --check CERT [--json]\n"
               "\n"
               "Proves, in ball arithmetic (Arb), that a strict local minimum of the Safran-Shamir\n"
               "population loss (n ReLU students, teacher I_k, x ~ N(0, I_k)) lies near the point, and\n"
               "that it is spurious (its value is > 0). The argument: docs/prove.md.\n"
               "\n"
               "  --k K         teacher units = input dimension\n"
               "  --n N         student units\n"
               "  --point FILE  N lines of K numbers: the student units (# comments and blank lines skipped)\n"
               "  --json        one JSON object instead of the summary\n"
               "  --cert OUT    write a certificate (JSON) when proved\n"
               "  --check CERT  re-verify a certificate on its own (exit 2 when it does not hold)\n"
               "  --help        this help\n");
}

static int parse_size(const char *s, int *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (errno || end == s || *end || v < 1 || v > 100000) return 0;
    *out = (int)v;
    return 1;
}

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

static void print_result(const mn_prove_result *r, int n, int k, int json)
{
    if (json) {
        jw w;
        jw_begin(&w, stdout);
        jw_obj(&w, NULL);
        jw_int(&w, "k", k);
        jw_int(&w, "n", n);
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
    printf("  its value F in [%.17g, %.17g]: %s\n", r->loss_lower, r->loss_upper,
           r->spurious ? "spurious (> 0, the global minimum value)" : "not proved > 0");
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

int cmd_prove(int argc, char **argv)
{
    int k = 0, n = 0, json = 0, population = 0;
    const char *point = NULL, *cert = NULL, *check_path = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "population") && !population) {
            population = 1;
            continue;
        }
        if (!strcmp(a, "--json")) {
            json = 1;
            continue;
        }
        const int takes = !strcmp(a, "--k") || !strcmp(a, "--n") || !strcmp(a, "--point") || !strcmp(a, "--cert") ||
                          !strcmp(a, "--check");
        if (!takes) {
            if (!strncmp(a, "--", 2)) return cli_bad("prove", "unknown option '%s' (see minima prove --help)", a);
            return cli_bad("prove", "unexpected argument '%s' (see minima prove --help)", a);
        }
        if (i + 1 >= argc) return cli_bad("prove", "option '%s' needs a value", a);
        const char *v = argv[++i];
        if (!strcmp(a, "--k") && !parse_size(v, &k)) return cli_bad("prove", "--k '%s': expected an integer >= 1", v);
        if (!strcmp(a, "--n") && !parse_size(v, &n)) return cli_bad("prove", "--n '%s': expected an integer >= 1", v);
        if (!strcmp(a, "--point")) point = v;
        if (!strcmp(a, "--cert")) cert = v;
        if (!strcmp(a, "--check")) check_path = v;
    }
    if (check_path) {
        if (population || point || cert || k || n)
            return cli_bad("prove", "--check CERT takes no other option than --json");
        return check(check_path, json);
    }
    if (!population) return cli_bad("prove", "what to prove? (minima prove population ... or minima prove --check CERT)");
    if (!k || !n || !point) return cli_bad("prove", "prove population needs --k, --n and --point");
    if (k > MN_POPUL_MAX_K || n > MN_POPUL_MAX_N)
        return cli_bad("prove", "k = %d, n = %d: at most %d and %d", k, n, MN_POPUL_MAX_K, MN_POPUL_MAX_N);
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
