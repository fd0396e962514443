/* The one argv parser of every command (over the library's option table,
 * minima/sweep.h), the command options of eval/train/sweep/certify, and
 * params files. Every rejection is one line naming the option. */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

int cli_error(const char *cmd)
{
    fprintf(stderr, "minima %s: %s\n", cmd, mn_last_error());
    return 1;
}

int cli_bad(const char *cmd, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "minima %s: ", cmd);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}

void cli_usage(FILE *out, unsigned cmd_bit)
{
    for (int i = 0; i < mn_option_count(); i++) {
        const mn_option *d = mn_option_at(i);
        if (!(d->cmds & cmd_bit)) continue;
        char left[64];
        snprintf(left, sizeof left, "--%s%s%s", d->name, d->arg ? " " : "", d->arg ? d->arg : "");
        fprintf(out, "  %-26s %s\n", left, d->help);
    }
}

int cli_args(const char *cmd, unsigned cmd_bit, const char *intro, int argc, char **argv, cli_setter set,
             int (*positional)(void *ctx, const char *arg), void *ctx)
{
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            fputs(intro, stdout);
            cli_usage(stdout, cmd_bit);
            return 2;
        }
        if (strncmp(a, "--", 2) || !a[2]) {
            if (a[0] == '-' && a[1])
                return cli_bad(cmd, "unknown option '%s' (see minima %s --help)", a, cmd);
            if (!positional) return cli_bad(cmd, "unexpected argument '%s' (see minima %s --help)", a, cmd);
            if (positional(ctx, a)) return 1;
            continue;
        }
        char name[128];
        const char *eq = strchr(a + 2, '=');
        const size_t len = eq ? (size_t)(eq - a - 2) : strlen(a + 2);
        if (len >= sizeof name) return cli_bad(cmd, "unknown option '%s' (see minima %s --help)", a, cmd);
        memcpy(name, a + 2, len);
        name[len] = '\0';
        const mn_option *d = mn_option_find(name, cmd_bit, 1);
        if (!d) {
            const mn_option *other = mn_option_find(name, ~0u, 0);
            if (other) return cli_bad(cmd, "option '--%s' does not apply to '%s'", other->name, cmd);
            return cli_bad(cmd, "unknown option '%.*s' (see minima %s --help)", (int)(len + 2), a, cmd);
        }
        if (!strcmp(d->name, "help")) {
            fputs(intro, stdout);
            cli_usage(stdout, cmd_bit);
            return 2;
        }
        const char *val = NULL;
        if (d->kind == MN_OPTION_FLAG) {
            if (eq) return cli_bad(cmd, "option '--%s' takes no value", d->name);
        } else {
            val = eq ? eq + 1 : i + 1 < argc ? argv[++i] : NULL;
            if (!val) return cli_bad(cmd, "option '--%s' needs a value", d->name);
        }
        if (set(ctx, d, val)) return cli_error(cmd);
    }
    return 0;
}

/* The options of eval, train, sweep and certify: command-line fields, or
 * run options for the library. */
static mn_status set_command(void *ctx, const mn_option *d, const char *v)
{
    cli_opts *o = ctx;
    const char *nm = d->name;
    long l;
    mn_status st = MN_OK;
    if (!strcmp(nm, "params")) o->params_path = v;
    else if (!strcmp(nm, "save-params")) o->save_params = v;
    else if (!strcmp(nm, "point")) o->point_path = v;
    else if (!strcmp(nm, "hessian")) o->hessian = 1;
    else if (!strcmp(nm, "json")) o->json = 1;
    else if (!strcmp(nm, "quiet")) o->quiet = 1;
    else if (!strcmp(nm, "config")) o->config = v;
    else if (!strcmp(nm, "db")) o->db_path = v;
    else if (!strcmp(nm, "shard")) o->shard_spec = v;
    else if (!strcmp(nm, "restarts")) st = mn_option_int(&o->restarts, d, v);
    else if (!strcmp(nm, "threads")) {
        if (!(st = mn_option_int(&l, d, v))) o->threads = (int)l;
    } else if (!strcmp(nm, "grid")) {
        if (o->ngrid == (int)(sizeof o->grid / sizeof *o->grid)) return mn_fail(MN_EINVAL, "--grid: at most 64 axes");
        o->grid[o->ngrid++] = v;
    } else { /* a run option: parsed by the library, kept for a sweep's base */
        if ((st = mn_options_set(&o->run, nm, v))) return st;
        if (o->ngiven == MN_GRID_MAX_KEYS) return mn_fail(MN_EINVAL, "more than %d options", MN_GRID_MAX_KEYS);
        o->given[o->ngiven] = nm, o->given_val[o->ngiven++] = v ? v : "on";
    }
    return st;
}

int cli_parse(cli_opts *o, int argc, char **argv)
{
    mn_options_default(&o->run);
    if (o->cmd_bit == MN_CMD_TRAIN) o->run.default_generate = "xor";
    static const struct {
        unsigned bit;
        const char *summary;
    } cmds[] = {
        {MN_CMD_EVAL, "loss, exact gradient and (--hessian) Hessian with eigenvalues at given parameters"},
        {MN_CMD_TRAIN, "one optimiser run from a seeded initialisation, with a certified end point (JSON); a\n"
                       "progress line on stderr when it is a terminal (not with --quiet)"},
        {MN_CMD_SWEEP, "many restarts over a grid of settings, results in SQLite"},
        {MN_CMD_CERTIFY, "is a point a bad local minimum, and does a defence remove it? One JSON object:\n"
                         "  point: params, class, loss, grad_norm, lambda_min/lambda_max (stationary or global points\n"
                         "    only), kink_margin, near_kink, accuracy, escape {escaped, order, slope, curvature, step,\n"
                         "    decrease, margin}, bad_local_minimum;\n"
                         "  with --eliminate: defence: eliminate, lambda, max_abs_dL_da, the same certificate and escape\n"
                         "    of the point embedded with a = 0, verdict (escaped | stays)"},
        {MN_CMD_REGIONS, "the activation region of a point of a d-W-1 ReLU net: its least-squares minimum, genuine or not"},
    };
    const char *summary = "";
    for (size_t i = 0; i < sizeof cmds / sizeof *cmds; i++)
        if (cmds[i].bit == o->cmd_bit) summary = cmds[i].summary;
    char intro[768];
    snprintf(intro, sizeof intro, "usage: minima %s [options]\n%s\n\noptions:\n", o->cmd, summary);
    const int r = cli_args(o->cmd, o->cmd_bit, intro, argc, argv, set_command, NULL, o);
    if (r) return r;
    return mn_options_check(&o->run) ? cli_error(o->cmd) : 0;
}

mn_status cli_read_params(const char *path, double *theta, size_t P) { return mn_params_read(theta, P, path); }

/* Written to PATH.tmp, then renamed: an existing file is never left half-written. */
mn_status cli_write_params(const char *path, const double *theta, size_t P)
{
    size_t len = strlen(path) + 5;
    char *tmp = malloc(len);
    if (!tmp) return mn_fail(MN_ENOMEM, "out of memory");
    snprintf(tmp, len, "%s.tmp", path);
    FILE *f = fopen(tmp, "w");
    if (!f) {
        mn_status st = mn_fail(MN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        free(tmp);
        return st;
    }
    for (size_t i = 0; i < P; i++) fprintf(f, "%.17g\n", theta[i]);
    int bad_write = ferror(f); /* read before fclose: the order of | operands is unspecified */
    bad_write |= fclose(f) != 0;
    mn_status st = MN_OK;
    if (bad_write || rename(tmp, path) != 0) {
        st = mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
        remove(tmp);
    }
    free(tmp);
    return st;
}

