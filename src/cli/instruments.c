/* What the landscape instruments (spectrum, slice, path) share on the
 * command line: their options and the network at a point. */
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/objective.h"

static mn_status set_instr(void *ctx, const mn_option *d, const char *v)
{
    instr_opts *o = ctx;
    const char *nm = d->name;
    static const struct {
        const char *name;
        size_t off;
    } longs[] = {
        {"top", offsetof(instr_opts, top)},
        {"bottom", offsetof(instr_opts, bottom)},
        {"probes", offsetof(instr_opts, probes)},
        {"slq-probes", offsetof(instr_opts, slq_probes)},
        {"slq-steps", offsetof(instr_opts, slq_steps)},
        {"grid-points", offsetof(instr_opts, grid_points)},
        {"lanczos-steps", offsetof(instr_opts, lanczos_steps)},
        {"points", offsetof(instr_opts, points)},
        {"nodes", offsetof(instr_opts, nodes)},
        {"fit-steps", offsetof(instr_opts, fit_steps)},
        {"images", offsetof(instr_opts, images)},
        {"band-steps", offsetof(instr_opts, band_steps)},
        {"climb-after", offsetof(instr_opts, climb_after)},
    };
    static const struct {
        const char *name;
        size_t off;
    } texts[] = {
        {"params", offsetof(instr_opts, params)}, {"plot", offsetof(instr_opts, plot)},
        {"out", offsetof(instr_opts, out)},       {"to", offsetof(instr_opts, to)},
        {"db", offsetof(instr_opts, db)},         {"dir", offsetof(instr_opts, dir)},
        {"range", offsetof(instr_opts, range)},   {"range2", offsetof(instr_opts, range2)},
    };
    for (size_t i = 0; i < sizeof longs / sizeof *longs; i++)
        if (!strcmp(nm, longs[i].name)) return mn_option_int((long *)((char *)o + longs[i].off), d, v);
    for (size_t i = 0; i < sizeof texts / sizeof *texts; i++)
        if (!strcmp(nm, texts[i].name)) {
            *(const char **)((char *)o + texts[i].off) = v;
            return MN_OK;
        }
    if (!strcmp(nm, "lanczos-tol")) return mn_option_real(&o->lanczos_tol, d, v);
    if (!strcmp(nm, "sigma")) return mn_option_real(&o->sigma, d, v);
    if (!strcmp(nm, "spring")) return mn_option_real(&o->spring, d, v);
    if (!strcmp(nm, "band-tol")) return mn_option_real(&o->band_tol, d, v);
    if (!strcmp(nm, "seed")) return mn_option_seed(&o->seed, d, v);
    if (!strcmp(nm, "trace")) return o->trace = 1, MN_OK;
    if (!strcmp(nm, "density")) return o->density = 1, MN_OK;
    if (!strcmp(nm, "json")) return MN_OK;
    return mn_options_set(&o->run, nm, v); /* model and data */
}

static int positional(void *ctx, const char *arg)
{
    instr_opts *o = ctx;
    if (o->cmd_bit != MN_CMD_PATH || o->npos == 2)
        return cli_bad(o->cmd, "unexpected argument '%s' (see minima %s --help)", arg, o->cmd);
    o->pos[o->npos++] = arg;
    return 0;
}

int instr_parse(instr_opts *o, const char *summary, int argc, char **argv)
{
    const char *cmd = o->cmd;
    const unsigned bit = o->cmd_bit;
    *o = (instr_opts){.cmd = cmd, .cmd_bit = bit, .top = -1, .bottom = -1, .probes = -1, .slq_probes = -1,
                      .slq_steps = -1, .grid_points = -1, .lanczos_steps = -1, .points = -1, .nodes = -1,
                      .fit_steps = -1, .images = -1, .band_steps = -1, .climb_after = -1, .lanczos_tol = -1,
                      .sigma = -1, .spring = -1, .band_tol = -1, .seed = 1};
    mn_options_default(&o->run);
    char intro[512];
    snprintf(intro, sizeof intro, "usage: minima %s %s[options]\n%s\n\noptions:\n", cmd,
             bit == MN_CMD_PATH ? "A B " : "", summary);
    const int r = cli_args(cmd, bit, intro, argc, argv, set_instr, positional, o);
    if (r) return r;
    return mn_options_check(&o->run) ? cli_error(cmd) : 0;
}

mn_status instr_net_open(instr_net *n, const mn_options *run)
{
    *n = (instr_net){0};
    mn_status st = mn_setting_build(&n->data, &n->model, run);
    if (!st) st = mn_work_alloc(&n->work, n->model, mn_data_n(n->data));
    if (!st) st = mn_net_objective_alloc(&n->f, n->model, n->work, n->data);
    if (!st) n->P = mn_model_nparams(n->model);
    if (st) instr_net_close(n);
    return st;
}

void instr_net_close(instr_net *n)
{
    mn_objective_free(n->f);
    mn_work_free(n->work);
    mn_model_free(n->model);
    mn_data_free(n->data);
    *n = (instr_net){0};
}

mn_status instr_read_point(double **theta, const instr_net *n, const char *path)
{
    *theta = malloc(n->P * sizeof **theta);
    if (!*theta) return mn_fail(MN_ENOMEM, "out of memory for %zu parameters", n->P);
    mn_status st = cli_read_params(path, *theta, n->P);
    if (st) free(*theta), *theta = NULL;
    return st;
}
