/* minima sweep: R seeded restarts of `minima train` for every setting of a
 * grid, each run certified and stored in SQLite (see minima/sweep.h for the
 * schema, the canonical option strings and the seeds).
 *
 *   minima sweep --generate xor --steps 5000 --restarts 50 \
 *       --grid arch=2-2-1,2-4-1 --grid eliminate=none,liang --threads 4 --db xor.db
 *
 * Options, lowest precedence first: a config file's "base", its "grid", the
 * command line's options, its --grid axes (a key given both as an option and
 * as a --grid axis on the command line is an error). Settings are the
 * cartesian product of the axes, the last axis varying fastest. Runs are
 * (setting s, restart r), numbered s * R + r; --shard I/N does the runs whose
 * number % N == I. A re-run of the same command skips the stored runs. */
#include <errno.h>
#include <omp.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"
#include "minima/sweep.h"

/* Options that steer the sweep itself: not part of a setting. */
static int is_control(const char *name)
{
    static const char *const ctl[] = {"grid", "config", "restarts", "threads", "db", "shard", "json", "help"};
    for (size_t i = 0; i < sizeof ctl / sizeof *ctl; i++)
        if (!strcmp(name, ctl[i])) return 1;
    return 0;
}

static int fail(const char *fmt, const char *a, const char *b, const char *c)
{
    fprintf(stderr, "minima sweep: ");
    fprintf(stderr, fmt, a, b, c);
    fputc('\n', stderr);
    return 1;
}

/* Every key names an option of `sweep` that a setting can carry; flags take
 * on / off. */
static int check_keys(const mn_grid *g)
{
    for (int j = 0; j < mn_grid_nkeys(g); j++) {
        const char *origin;
        int is_axis, nv;
        const char *key = mn_grid_key(g, j, &origin, &is_axis, &nv);
        const mn_option *d = mn_option_find(key, MN_CMD_SWEEP, 0);
        if (!d && mn_option_find(key, ~0u, 0))
            return fail("%s: option '%s' does not apply to sweep%s", origin, key, "");
        if (!d) return fail("%s: unknown option '%s'%s (see minima sweep --help)", origin, key, "");
        if (is_control(key))
            return fail("%s: '%s' steers the sweep and cannot be part of a setting%s", origin, key, "");
        for (int v = 0; v < nv && d->kind == MN_OPTION_FLAG; v++) {
            const char *x = mn_grid_value(g, j, v);
            if (strcmp(x, "on") && strcmp(x, "off"))
                return fail("%s: '%s' is a flag: its values are on and off, not '%s'", origin, key, x);
        }
    }
    return 0;
}

static int parse_shard(const char *s, long *shard, long *n)
{
    char *end;
    errno = 0;
    long a = strtol(s, &end, 10);
    if (end == s || *end != '/' || errno) goto bad;
    const char *p = end + 1;
    long b = strtol(p, &end, 10);
    if (end == p || *end || errno || b < 1 || a < 0 || a >= b) goto bad;
    *shard = a, *n = b;
    return 0;
bad:
    return fail("--shard: '%s' is not I/N with 0 <= I < N%s%s", s, "", "");
}

typedef struct {
    mn_data *data;
    mn_model *model;
    char *canon, *json;
} built;

int cmd_sweep(int argc, char **argv)
{
    cli_opts o = {.cmd = "sweep", .cmd_bit = MN_CMD_SWEEP, .restarts = 10, .db_path = "minima.db"};
    int r = cli_parse(&o, argc, argv);
    if (r) return r == 2 ? 0 : 1;
    long shard = 0, nshards = 1;
    if (o.shard_spec && parse_shard(o.shard_spec, &shard, &nshards)) return 1;
    int threads = o.threads > 0 ? o.threads : omp_get_max_threads();

    mn_grid *g = NULL;
    mn_db *db = NULL;
    built *b = NULL;
    mn_sweep_setting *set = NULL;
    mn_summary *sum = NULL;
    int64_t *ids = NULL;
    long ns = 0;
    int nsum = 0, rc = 1;
    const char **vals = NULL;
    mn_data_pool *pool = NULL; /* settings that differ only in model or training share their data */
    if (mn_grid_alloc(&g) || mn_data_pool_alloc(&pool)) goto fail;
    if (o.config && mn_grid_read_config(g, o.config)) goto fail;
    /* the command line's base options, into the grid */
    const char *const *cl_names = o.given;
    const int ncl = o.ngiven;
    for (int k = 0; k < ncl; k++)
        if (mn_grid_set_base(g, o.given[k], o.given_val[k], "command line")) goto fail;
    for (int i = 0; i < o.ngrid; i++) {
        const char *eq = strchr(o.grid[i], '=');
        for (int k = 0; eq && k < ncl; k++)
            if (strlen(cl_names[k]) == (size_t)(eq - o.grid[i]) && !strncmp(cl_names[k], o.grid[i], eq - o.grid[i])) {
                fail("'%s' is given both as --%s and as a --grid axis%s", cl_names[k], cl_names[k], "");
                goto out;
            }
        for (int k = 0; k < i; k++) {
            const char *eq2 = strchr(o.grid[k], '=');
            if (eq && eq2 && eq - o.grid[i] == eq2 - o.grid[k] && !strncmp(o.grid[k], o.grid[i], eq - o.grid[i])) {
                fprintf(stderr, "minima sweep: --grid: '%.*s' is given twice\n", (int)(eq - o.grid[i]), o.grid[i]);
                goto out;
            }
        }
        if (mn_grid_parse_axis(g, o.grid[i], "--grid")) goto fail;
    }
    if (check_keys(g)) goto out;
    if (mn_grid_nsettings(g, &ns)) goto fail;
    const int nk = mn_grid_nkeys(g);

    /* Every setting is built (options parsed, data generated, model laid out)
     * before anything is written: a bad value stops the sweep at once. */
    b = calloc((size_t)ns, sizeof *b);
    set = calloc((size_t)ns, sizeof *set);
    vals = malloc((size_t)(nk + 1) * sizeof *vals);
    if (!b || !set || !vals) {
        mn_fail(MN_ENOMEM, "out of memory for %ld settings", ns);
        goto fail;
    }
    for (long i = 0; i < ns; i++) {
        mn_grid_setting(g, i, vals);
        int np = 0;
        const char *kv[MN_GRID_MAX_KEYS], *vv[MN_GRID_MAX_KEYS], *all[MN_GRID_MAX_KEYS];
        for (int j = 0; j < nk; j++) {
            all[j] = mn_grid_key(g, j, NULL, NULL, NULL);
            const mn_option *d = mn_option_find(all[j], MN_CMD_SWEEP, 0);
            if (d->kind == MN_OPTION_FLAG && !strcmp(vals[j], "off")) continue; /* absent */
            kv[np] = all[j], vv[np] = vals[j], np++;
        }
        if (mn_canon_run(&b[i].canon, &b[i].json, kv, vv, np)) goto fail;
        mn_options so;
        if (mn_setting_from_pairs(&so, &b[i].data, &b[i].model, all, vals, nk, pool)) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s", mn_last_error());
            fail("setting %s: %s%s", b[i].canon, msg, "");
            goto out;
        }
        mn_sweep_setting *s = &set[i];
        s->model = b[i].model;
        s->data = b[i].data;
        mn_setting_run(s, &so);
        s->canon = b[i].canon;
    }

    /* memory first: a sweep the machine cannot hold leaves no database
     * behind; under MPI, rank 0 alone opens the database (minima/dist.h) */
    const int writer = mn_dist_rank() == 0;
    if (mn_sweep_memory_check(set, (int)ns, threads) || (writer && mn_db_open(&db, o.db_path, 1))) goto fail;
    ids = malloc((size_t)ns * sizeof *ids);
    if (!ids) {
        mn_fail(MN_ENOMEM, "out of memory");
        goto fail;
    }
    for (long i = 0; i < ns && writer; i++) {
        if (mn_db_setting(&set[i].db_id, db, b[i].canon, b[i].json)) goto fail;
        ids[i] = set[i].db_id;
    }
    mn_sweep_opts so = {.restarts = o.restarts, .threads = threads, .shard = shard, .nshards = nshards,
                        .progress = stderr, .tty = -1};
    mn_sweep_stats st;
    if (mn_sweep_run(&st, db, set, (int)ns, &so)) goto fail;
    if (!writer) {
        rc = 0;
        goto out;
    }
    fprintf(stderr, "sweep: %ld settings x %ld restarts%s: %ld runs done now, %ld already stored, %.3g s\n", ns,
            o.restarts, nshards > 1 ? " (this shard)" : "", st.done, st.skipped, st.seconds);
    if (mn_summarize(&sum, &nsum, db, ids, (int)ns, mn_setting_model, NULL)) goto fail;
    if (o.json)
        cli_summary_json(stdout, sum, nsum);
    else
        cli_summary_table(stdout, sum, nsum);
    rc = fflush(stdout) ? 1 : 0;
    if (rc) fprintf(stderr, "minima sweep: cannot write the output\n");
    goto out;
fail:
    cli_error("sweep");
out:
    for (long i = 0; b && i < ns; i++) {
        mn_model_free(b[i].model);
        free(b[i].canon), free(b[i].json);
    }
    mn_data_pool_free(pool);
    free(b), free(set), free(vals), free(ids);
    mn_summary_free(sum, nsum);
    mn_db_close(db);
    mn_grid_free(g);
    return rc;
}
