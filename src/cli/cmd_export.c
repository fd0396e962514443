/* Database commands:
 *   minima export DB [--out FILE] [--no-timings]   CSV, one row per run
 *   minima merge OUT.db IN.db...                     union of sweeps / shards */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/sweep.h"

typedef struct {
    const char *path, *out;
    int timings;
} export_args;

static mn_status set_export(void *ctx, const mn_option *d, const char *v)
{
    export_args *a = ctx;
    if (!strcmp(d->name, "no-timings")) a->timings = 0;
    else a->out = v; /* "out" */
    return MN_OK;
}

static int database_arg(void *ctx, const char *arg)
{
    export_args *a = ctx;
    if (a->path) return cli_bad("export", "unexpected argument '%s' (one database at a time)", arg);
    a->path = arg;
    return 0;
}

int cmd_export(int argc, char **argv)
{
    export_args a = {.timings = 1};
    const int r = cli_args("export", MN_CMD_EXPORT,
                           "usage: minima export DB [--out FILE] [--no-timings]\n"
                           "CSV with a header, one row per run, ordered by setting and restart\n\n",
                           argc, argv, set_export, database_arg, &a);
    if (r) return r == 2 ? 0 : 1;
    const char *path = a.path, *out = a.out;
    const int timings = a.timings;
    if (!path) {
        fprintf(stderr, "minima export: no database given (usage: minima export DB [--out FILE])\n");
        return 1;
    }
    mn_db *db = NULL;
    if (mn_db_open(&db, path, 0)) return cli_error("export");
    /* To FILE.tmp, renamed at the end: FILE is never left half-written. */
    char *tmp = NULL;
    FILE *f = stdout;
    if (out) {
        size_t len = strlen(out) + 5;
        if (!(tmp = malloc(len))) {
            mn_db_close(db);
            return mn_fail(MN_ENOMEM, "out of memory"), cli_error("export");
        }
        snprintf(tmp, len, "%s.tmp", out);
        if (!(f = fopen(tmp, "w"))) {
            mn_fail(MN_EIO, "cannot write '%s': %s", out, strerror(errno));
            free(tmp);
            mn_db_close(db);
            return cli_error("export");
        }
    }
    mn_status st = mn_db_export_csv(db, f, timings);
    mn_db_close(db);
    int bad = ferror(f); /* before fclose: the two may not share an expression */
    if (out)
        bad |= fclose(f) != 0;
    else
        bad |= fflush(f) != 0;
    if (!st && bad) st = mn_fail(MN_EIO, "cannot write '%s'", out ? out : "standard output");
    if (out) {
        if (!st && rename(tmp, out) != 0) st = mn_fail(MN_EIO, "cannot write '%s': %s", out, strerror(errno));
        if (st) remove(tmp);
        free(tmp);
    }
    return st ? cli_error("export") : 0;
}

typedef struct {
    const char **paths; /* OUT, then the inputs (argc - 1 slots) */
    int n;
} merge_args;

static int merge_path(void *ctx, const char *arg)
{
    merge_args *a = ctx;
    a->paths[a->n++] = arg;
    return 0;
}

/* merge's only option is --help, which cli_args answers itself. */
static mn_status set_merge(void *ctx, const mn_option *d, const char *v)
{
    (void)ctx, (void)d, (void)v;
    return MN_OK;
}

/* path[0] = OUT, path[1..n) the inputs. */
static int merge(const char *const *path, int n)
{
    mn_db *db = NULL;
    if (mn_db_open(&db, path[0], 1)) return cli_error("merge");
    long added = 0, skipped = 0, differing = 0;
    for (int i = 1; i < n; i++) {
        long a, s, d;
        if (mn_db_merge(db, path[i], &a, &s, &d)) {
            int rc = cli_error("merge");
            mn_db_discard(db); /* an OUT this merge created is removed: no half-made output */
            return rc;
        }
        added += a, skipped += s, differing += d;
    }
    mn_db_close(db);
    printf("merged %d database%s into %s: %ld runs added, %ld already there", n - 1, n == 2 ? "" : "s",
           path[0], added, skipped);
    if (differing) printf(" (%ld of them with different results: different builds or options?)", differing);
    printf("\n");
    return fflush(stdout) ? 1 : 0;
}

int cmd_merge(int argc, char **argv)
{
    merge_args m = {.paths = malloc((size_t)argc * sizeof *m.paths)};
    if (!m.paths) return cli_bad("merge", "out of memory");
    int rc = cli_args("merge", MN_CMD_MERGE,
                      "usage: minima merge OUT.db IN.db...\n"
                      "adds the settings and runs of each IN to OUT (created if absent); a run already in OUT\n"
                      "(same canonical options, same restart) is skipped\n\n"
                      "options:\n",
                      argc, argv, set_merge, merge_path, &m);
    if (rc) rc = rc == 2 ? 0 : 1;
    else if (m.n < 2) rc = cli_bad("merge", "give an output and at least one input (usage: minima merge OUT.db IN.db...)");
    else rc = merge(m.paths, m.n);
    free(m.paths);
    return rc;
}
