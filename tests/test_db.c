/* Sweep databases and everything around them that needs no optimiser:
 * Wilson intervals, grids and canonical strings, config files, the schema,
 * resume bookkeeping, merge, CSV export and summaries. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sqlite3.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "minima.h"
#include "minima/sweep.h"
#include "tmpdir.h"


static int setup(void **state)
{
    (void)state;
    return tmpdir_make("db");
}

static int teardown(void **state)
{
    (void)state;
    return tmpdir_remove();
}

/* Hand computation for 3 of 10 at z = 1.959963984540054: p = 0.3,
 * z^2 / n = 0.38414588206941236, centre = (0.3 + 0.19207294103470618) /
 * 1.38414588206941236 = 0.35550656, half-width = (z / 1.38414588206941236) *
 * sqrt(0.021 + 0.0096036470517353) = 0.24771529; the textbook interval
 * [0.1078, 0.6032]. Reference digits from 40-digit decimal arithmetic. */
static void test_wilson(void **state)
{
    (void)state;
    double lo, hi;
    mn_wilson(&lo, &hi, 3, 10, MN_Z95);
    assert_true(fabs(lo - 0.10779126740630103) < 1e-14);
    assert_true(fabs(hi - 0.60322185253885465) < 1e-14);
    mn_wilson(&lo, &hi, 7, 23, MN_Z95);
    assert_true(fabs(lo - 0.15604024453214022) < 1e-14);
    assert_true(fabs(hi - 0.50865756268759203) < 1e-14);
    mn_wilson(&lo, &hi, 0, 10, MN_Z95);
    assert_true(lo == 0.0 && fabs(hi - 0.27753279986288920) < 1e-14);
    mn_wilson(&lo, &hi, 10, 10, MN_Z95);
    assert_true(fabs(lo - 0.72246720013711080) < 1e-14 && hi == 1.0);
    mn_wilson(&lo, &hi, 0, 0, MN_Z95);
    assert_true(lo == 0.0 && hi == 1.0);
}

static void test_grid_order_and_canon(void **state)
{
    (void)state;
    mn_grid *g;
    assert_int_equal(mn_grid_alloc(&g), MN_OK);
    assert_int_equal(mn_grid_set_base(g, "generate", "xor", "test"), MN_OK);
    assert_int_equal(mn_grid_parse_axis(g, "arch=2-4-1,2-8-1", "--grid"), MN_OK);
    assert_int_equal(mn_grid_parse_axis(g, "act=relu,softplus,tanh", "--grid"), MN_OK);
    long n;
    assert_int_equal(mn_grid_nsettings(g, &n), MN_OK);
    assert_int_equal(n, 6);
    const char *v[3];
    mn_grid_setting(g, 0, v);
    assert_string_equal(v[1], "2-4-1");
    assert_string_equal(v[2], "relu");
    mn_grid_setting(g, 1, v); /* the last axis varies fastest */
    assert_string_equal(v[1], "2-4-1");
    assert_string_equal(v[2], "softplus");
    mn_grid_setting(g, 5, v);
    assert_string_equal(v[0], "xor");
    assert_string_equal(v[1], "2-8-1");
    assert_string_equal(v[2], "tanh");
    /* replacing an axis keeps its place */
    assert_int_equal(mn_grid_parse_axis(g, "arch=3-3-1", "--grid"), MN_OK);
    assert_string_equal(mn_grid_key(g, 1, NULL, NULL, NULL), "arch");
    assert_int_equal(mn_grid_nsettings(g, &n), MN_OK);
    assert_int_equal(n, 3);
    /* empty values */
    assert_int_equal(mn_grid_parse_axis(g, "act=relu,,tanh", "--grid"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "empty value"));
    assert_int_equal(mn_grid_parse_axis(g, "act=", "--grid"), MN_EINVAL);
    assert_int_equal(mn_grid_parse_axis(g, "act", "--grid"), MN_EINVAL);
    assert_int_equal(mn_grid_parse_axis(g, "=relu", "--grid"), MN_EINVAL);
    mn_grid_free(g);

    const char *keys[] = {"lr", "arch", "data", "act"};
    const char *vals[] = {"0.1", "2-4-1", "my file.csv", "relu"};
    char *canon, *json;
    assert_int_equal(mn_canon(&canon, &json, keys, vals, 4), MN_OK);
    assert_string_equal(canon, "act=relu arch=2-4-1 data=\"my file.csv\" lr=0.1");
    assert_string_equal(json, "{\"act\":\"relu\",\"arch\":\"2-4-1\",\"data\":\"my file.csv\",\"lr\":\"0.1\"}");
    /* the seed depends on the canonical string and the restart only */
    uint64_t idx[2] = {mn_hash_str(canon), 3};
    assert_true(mn_sweep_seed(7, canon, 3) == (mn_seed_derive(7, idx, 2) & 0x7fffffffffffffffULL));
    assert_true(mn_sweep_seed(7, canon, 3) != mn_sweep_seed(7, canon, 4));
    assert_true(mn_sweep_seed(7, canon, 3) != mn_sweep_seed(8, canon, 3));
    free(canon), free(json);
    const char *dk[] = {"lr", "lr"}, *dv[] = {"0.1", "0.2"};
    assert_int_equal(mn_canon(&canon, &json, dk, dv, 2), MN_EINVAL);
}

/* A network run's canonical string spells out lambda's default whenever an
 * added neuron is on: the rows stored as "eliminate=liang ..." under the old
 * default 0.01 are another setting (another string, other seeds) than the
 * new default's, so a resume never mixes the two. */
static void test_canon_run_lambda(void **state)
{
    (void)state;
    mn_spec sp;
    mn_spec_default(&sp);
    char want[128];
    snprintf(want, sizeof want, "eliminate=liang generate=xor lambda=%.17g", sp.lambda);
    const char *keys[] = {"generate", "eliminate", "lambda"}, *vals[] = {"xor", "liang", "0.5"};
    char *canon, *json;
    assert_int_equal(mn_canon_run(&canon, &json, keys, vals, 2), MN_OK);
    assert_string_equal(canon, want);
    assert_non_null(strstr(json, "\"lambda\":"));
    assert_true(mn_sweep_seed(1, canon, 0) != mn_sweep_seed(1, "eliminate=liang generate=xor", 0));
    free(canon), free(json);
    /* given lambda: as given; no neuron: nothing added */
    assert_int_equal(mn_canon_run(&canon, NULL, keys, vals, 3), MN_OK);
    assert_string_equal(canon, "eliminate=liang generate=xor lambda=0.5");
    free(canon);
    vals[1] = "none";
    assert_int_equal(mn_canon_run(&canon, NULL, keys, vals, 2), MN_OK);
    assert_string_equal(canon, "eliminate=none generate=xor");
    free(canon);
    assert_int_equal(mn_canon_run(&canon, NULL, keys, vals, 1), MN_OK);
    assert_string_equal(canon, "generate=xor");
    free(canon);
    /* a key given twice is still refused */
    const char *dk[] = {"eliminate", "eliminate"}, *dv[] = {"liang", "liang"};
    assert_int_equal(mn_canon_run(&canon, NULL, dk, dv, 2), MN_EINVAL);
}

static void write_file(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    assert_non_null(f);
    fputs(text, f);
    fclose(f);
}

static void test_config(void **state)
{
    (void)state;
    const char *p = tmp_path("c.json");
    write_file(p, "{\"base\": {\"generate\": \"xor\", \"steps\": 500, \"skip\": true, \"lr\": 0.05},\n"
                  " \"grid\": {\"lambda\": [0.01, 0.1], \"freeze\": [\"1\", \"1,2\"]}}\n");
    mn_grid *g;
    assert_int_equal(mn_grid_alloc(&g), MN_OK);
    assert_int_equal(mn_grid_read_config(g, p), MN_OK);
    assert_int_equal(mn_grid_nkeys(g), 6);
    assert_string_equal(mn_grid_value(g, 1, 0), "500");
    assert_string_equal(mn_grid_value(g, 2, 0), "on");
    assert_string_equal(mn_grid_value(g, 3, 0), "0.05");
    assert_string_equal(mn_grid_value(g, 4, 1), "0.1");
    assert_string_equal(mn_grid_value(g, 5, 1), "1,2");
    mn_grid_free(g);
    /* 2^53 - 1 is still exact; a larger seed is given as a string */
    write_file(p, "{\"base\": {\"seed\": 9007199254740991}, \"grid\": {\"data-seed\": [\"18446744073709551615\"]}}");
    assert_int_equal(mn_grid_alloc(&g), MN_OK);
    assert_int_equal(mn_grid_read_config(g, p), MN_OK);
    assert_string_equal(mn_grid_value(g, 0, 0), "9007199254740991");
    assert_string_equal(mn_grid_value(g, 1, 0), "18446744073709551615");
    mn_grid_free(g);
    write_file(p, "{\"base\": {\"generate\": \"xor\", \"steps\": 500, \"skip\": true, \"lr\": 0.05},\n"
                  " \"grid\": {\"lambda\": [0.01, 0.1], \"freeze\": [\"1\", \"1,2\"]}}\n");
    assert_int_equal(mn_grid_alloc(&g), MN_OK);
    assert_int_equal(mn_grid_read_config(g, p), MN_OK);
    long n;
    assert_int_equal(mn_grid_nsettings(g, &n), MN_OK);
    assert_int_equal(n, 4);
    mn_grid_free(g);

    static const struct {
        const char *text, *want;
    } bad[] = {
        {"{\"base\": {\"lr\": 0.1},\n \"grid\": {\"act\": [\"relu\",]}}", ":2:"},
        {"[1, 2]", "expected an object"},
        {"{\"bases\": {}}", "unknown key 'bases'"},
        {"{\"grid\": {\"act\": \"relu\"}}", "must be a list"},
        {"{\"grid\": {\"act\": []}}", "empty list"},
        {"{\"grid\": {\"act\": [\"\"]}}", "empty value"},
        {"{\"base\": {\"act\": [\"relu\"]}}", "string, number or boolean"},
        {"", ":1:1: not valid JSON"},
        {"{\"base\": {\"seed\": 9007199254740993}}", "base.seed: the number reads as 9007199254740992, an integer "
                                                       "past 2^53"},
        {"{\"grid\": {\"seed\": [1, 18446744073709551615]}}", "grid.seed: value 2 reads as"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(p, bad[i].text);
        assert_int_equal(mn_grid_alloc(&g), MN_OK);
        assert_int_equal(mn_grid_read_config(g, p), MN_EFORMAT);
        const char *e = mn_last_error();
        if (!strstr(e, bad[i].want) || !strstr(e, p) || strchr(e, '\n'))
            fail_msg("case %zu: '%s' lacks '%s' or the path", i, e, bad[i].want);
        mn_grid_free(g);
    }
    assert_int_equal(mn_grid_alloc(&g), MN_OK);
    assert_int_equal(mn_grid_read_config(g, tmp_path("absent.json")), MN_EIO);
    mn_grid_free(g);
}

static mn_run_row row(int64_t setting, long restart, mn_class cls, double loss, double lmin)
{
    mn_run_row r;
    memset(&r, 0, sizeof r);
    r.setting = setting;
    r.restart = restart;
    r.seed = 0x7000000000000000ULL + (uint64_t)restart;
    snprintf(r.optimizer, sizeof r.optimizer, "gd");
    r.iterations = 100 + restart;
    r.loss = loss;
    r.grad_norm = 1e-9;
    r.theta_norm = 3.5;
    r.lambda_min = lmin;
    r.lambda_max = 2.385;
    r.kink_margin = INFINITY;
    r.cls = cls;
    r.accuracy = NAN;
    r.elim_a = r.elim_b = r.elim_w_norm = r.elim_a_exp_b = NAN; /* no added neurons */
    r.seconds = 0.25;
    return r;
}

/* The database exported (no timings) into tmp/name, rewound for reading. */
static FILE *exported(mn_db *db, const char *name)
{
    FILE *f = fopen(tmp_path(name), "w+");
    assert_non_null(f);
    assert_int_equal(mn_db_export_csv(db, f, 0), MN_OK);
    rewind(f);
    return f;
}

static void test_schema_resume_export(void **state)
{
    (void)state;
    const char *p = tmp_path("a.db");
    mn_db *db;
    assert_int_equal(mn_db_open(&db, p, 1), MN_OK);
    int64_t s1, s2, again;
    assert_int_equal(mn_db_setting(&s1, db, "act=relu", "{\"act\":\"relu\"}"), MN_OK);
    assert_int_equal(mn_db_setting(&s2, db, "act=tanh", "{\"act\":\"tanh\"}"), MN_OK);
    assert_int_equal(mn_db_setting(&again, db, "act=relu", "{\"act\":\"relu\"}"), MN_OK);
    assert_true(s1 != s2 && again == s1);
    mn_run_row rows[3] = {row(s1, 0, MN_CLASS_GLOBAL, 1e-12, 0.5), row(s1, 2, MN_CLASS_SPURIOUS, 0.125, 0.01),
                          row(s2, 1, MN_CLASS_DIVERGED, NAN, NAN)};
    assert_int_equal(mn_db_insert(db, rows, 3), MN_OK);
    /* a stored key is skipped, not replaced */
    mn_run_row dup = row(s1, 0, MN_CLASS_SADDLE, 9.0, -1.0);
    assert_int_equal(mn_db_insert(db, &dup, 1), MN_OK);
    unsigned char done[4];
    assert_int_equal(mn_db_done(done, db, s1, 4), MN_OK);
    assert_true(done[0] == 1 && done[1] == 0 && done[2] == 1 && done[3] == 0);
    assert_int_equal(mn_db_done(done, db, s1, 2), MN_OK); /* fewer restarts asked: only those */
    assert_true(done[0] == 1 && done[1] == 0);
    mn_run_row *got;
    long n;
    assert_int_equal(mn_db_runs(&got, &n, db, s1), MN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(got[0].cls, MN_CLASS_GLOBAL);
    assert_true(got[0].loss == 1e-12 && got[1].loss == 0.125 && got[1].lambda_max == 2.385);
    assert_true(isinf(got[0].kink_margin) && isnan(got[0].accuracy));
    assert_true(got[1].seed == 0x7000000000000002ULL);
    free(got);
    assert_int_equal(mn_db_runs(&got, &n, db, s2), MN_OK);
    assert_true(n == 1 && isnan(got[0].loss) && isnan(got[0].lambda_min)); /* NaN stored as NULL */
    free(got);

    FILE *f = exported(db, "a.csv");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "setting,options,restart,seed,optimizer,iterations,loss,grad_norm,theta_norm,"
                              "lambda_min,lambda_max,kink_margin,class,best_loss,near_kink,accuracy,elim_a,elim_b,"
                              "elim_w_norm,elim_a_exp_b,reason\n");
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "1,\"act=relu\",0,8070450532247928832,gd,100,9.9999999999999998e-13,"
                              "1.0000000000000001e-09,3.5,0.5,2.3849999999999998,inf,global,9.9999999999999998e-13,0,,,,,,\n");
    int lines = 2;
    while (fgets(line, sizeof line, f)) lines++;
    assert_int_equal(lines, 4);
    fclose(f);
    mn_db_close(db);

    /* the schema as documented */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT value FROM meta WHERE key = 'schema_version'", -1, &s, NULL),
                     SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "3");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(h, "PRAGMA journal_mode", -1, &s, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(s), SQLITE_ROW);
    assert_string_equal((const char *)sqlite3_column_text(s, 0), "wal");
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(h,
                                        "SELECT setting, restart, seed, optimizer, iterations, loss, grad_norm, theta_norm, "
                                        "lambda_min, lambda_max, kink_margin, class, near_kink, accuracy, elim_a, elim_b, "
                                        "elim_w_norm, elim_a_exp_b, reason, seconds "
                                        "FROM runs",
                                        -1, &s, NULL),
                     SQLITE_OK);
    sqlite3_finalize(s);
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT id, canon, options, data FROM settings", -1, &s, NULL), SQLITE_OK);
    sqlite3_finalize(s);
    /* a future schema version is refused */
    assert_int_equal(sqlite3_exec(h, "UPDATE meta SET value = '4' WHERE key = 'schema_version'", NULL, NULL, NULL),
                     SQLITE_OK);
    assert_int_equal(mn_db_open(&db, p, 0), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "schema version 4"));
    /* an older one too, saying why (not migrated) */
    assert_int_equal(sqlite3_exec(h, "UPDATE meta SET value = '2' WHERE key = 'schema_version'", NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(mn_db_open(&db, p, 1), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "schema version 2; this minima"));
    assert_non_null(strstr(mn_last_error(), "re-run the sweep into a new database"));
}

static void test_open_errors(void **state)
{
    (void)state;
    mn_db *db;
    assert_int_equal(mn_db_open(&db, tmp_path("no/such/dir/x.db"), 1), MN_EIO);
    assert_non_null(strstr(mn_last_error(), "no/such/dir/x.db"));
    assert_int_equal(mn_db_open(&db, tmp_path("absent.db"), 0), MN_EIO);
    write_file(tmp_path("text.db"), "this is not a database, just some text that is long enough to matter\n");
    assert_true(mn_db_open(&db, tmp_path("text.db"), 1) != MN_OK);
    assert_non_null(strstr(mn_last_error(), "text.db"));
    /* an SQLite file of someone else's */
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tmp_path("other.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE t (x)", NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(mn_db_open(&db, tmp_path("other.db"), 0), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "not a minima sweep database"));
}

/* The whole file's bytes (malloc'ed; *n its size). */
static unsigned char *slurp(const char *path, long *n)
{
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    *n = ftell(f);
    rewind(f);
    unsigned char *b = malloc((size_t)*n + 1);
    assert_non_null(b);
    assert_int_equal(fread(b, 1, (size_t)*n, f), (size_t)*n);
    fclose(f);
    return b;
}

/* Issue 10, items 6-8: paths that store nothing are refused; an SQLite file
 * that is not ours is refused for writing and left byte for byte as it was
 * (no tables, no meta rows, no switch to WAL); a damaged database is not
 * resumed into; a read-only open writes nothing; discard removes only what
 * mn_db_open created. */
static void test_open_foreign_and_damaged(void **state)
{
    (void)state;
    mn_db *db;
    const char *bad[] = {"", ":memory:", "file:x.db", "file:x.db?mode=memory"};
    for (int i = 0; i < 4; i++) {
        assert_int_equal(mn_db_open(&db, bad[i], 1), MN_EINVAL);
        assert_null(db);
        assert_non_null(strstr(mn_last_error(), bad[i][0] ? "ordinary file path" : "empty database path"));
    }
    sqlite3 *h;
    assert_int_equal(sqlite3_open(tmp_path("theirs.db"), &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h, "CREATE TABLE meta (key TEXT, value TEXT); INSERT INTO meta VALUES ('a', 'b')",
                                  NULL, NULL, NULL), SQLITE_OK);
    sqlite3_close(h);
    long n0, n1;
    unsigned char *b0 = slurp(tmp_path("theirs.db"), &n0);
    assert_int_equal(mn_db_open(&db, tmp_path("theirs.db"), 1), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "not a minima sweep database"));
    unsigned char *b1 = slurp(tmp_path("theirs.db"), &n1);
    assert_true(n0 == n1 && memcmp(b0, b1, (size_t)n0) == 0);
    assert_true(access(tmp_path("theirs.db-wal"), F_OK) != 0);
    free(b0);
    free(b1);

    /* A real database, damaged in its second page (the runs' b-tree). */
    assert_int_equal(mn_db_open(&db, tmp_path("hurt.db"), 1), MN_OK);
    int64_t id;
    assert_int_equal(mn_db_setting(&id, db, "a=1", "{\"a\":\"1\"}"), MN_OK);
    mn_db_close(db);
    assert_int_equal(mn_db_open(&db, tmp_path("hurt.db"), 1), MN_OK); /* intact: resumes */
    mn_db_close(db);
    long page = 0, psize = 0;
    assert_int_equal(sqlite3_open(tmp_path("hurt.db"), &h), SQLITE_OK);
    sqlite3_stmt *q;
    assert_int_equal(sqlite3_prepare_v2(h, "SELECT rootpage, (SELECT page_size FROM pragma_page_size) "
                                           "FROM sqlite_master WHERE name = 'settings'", -1, &q, NULL), SQLITE_OK);
    assert_int_equal(sqlite3_step(q), SQLITE_ROW);
    page = sqlite3_column_int64(q, 0), psize = sqlite3_column_int64(q, 1);
    sqlite3_finalize(q);
    sqlite3_close(h);
    long n;
    unsigned char *b = slurp(tmp_path("hurt.db"), &n);
    assert_true(page > 1 && n >= page * psize);
    /* the settings table's b-tree page: its header says garbage */
    memset(b + (page - 1) * psize, 0xA5, 16);
    FILE *f = fopen(tmp_path("hurt.db"), "wb");
    assert_non_null(f);
    assert_int_equal(fwrite(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    free(b);
    assert_int_equal(mn_db_open(&db, tmp_path("hurt.db"), 1), MN_EFORMAT);
    assert_non_null(strstr(mn_last_error(), "damaged"));

    /* Read-only opens store nothing and change no byte. */
    assert_int_equal(mn_db_open(&db, tmp_path("ro.db"), 1), MN_OK);
    mn_db_close(db);
    b0 = slurp(tmp_path("ro.db"), &n0);
    assert_int_equal(mn_db_open(&db, tmp_path("ro.db"), 0), MN_OK);
    assert_int_equal(mn_db_setting(&id, db, "a=2", "{\"a\":\"2\"}"), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "read-only"));
    mn_db_close(db);
    b1 = slurp(tmp_path("ro.db"), &n1);
    assert_true(n0 == n1 && memcmp(b0, b1, (size_t)n0) == 0);
    free(b0);
    free(b1);

    /* discard: removes a file this open created, never one that existed. */
    assert_int_equal(mn_db_open(&db, tmp_path("new.db"), 1), MN_OK);
    mn_db_discard(db);
    assert_true(access(tmp_path("new.db"), F_OK) != 0);
    assert_true(access(tmp_path("new.db-wal"), F_OK) != 0);
    assert_int_equal(mn_db_open(&db, tmp_path("ro.db"), 1), MN_OK);
    mn_db_discard(db);
    assert_true(access(tmp_path("ro.db"), F_OK) == 0);
}

static void test_merge(void **state)
{
    (void)state;
    mn_db *a, *b;
    assert_int_equal(mn_db_open(&a, tmp_path("m1.db"), 1), MN_OK);
    assert_int_equal(mn_db_open(&b, tmp_path("m2.db"), 1), MN_OK);
    int64_t a1, b0, b1;
    assert_int_equal(mn_db_setting(&a1, a, "lr=0.1", "{\"lr\":\"0.1\"}"), MN_OK);
    /* b knows another setting first: ids differ between the files */
    assert_int_equal(mn_db_setting(&b0, b, "lr=0.2", "{\"lr\":\"0.2\"}"), MN_OK);
    assert_int_equal(mn_db_setting(&b1, b, "lr=0.1", "{\"lr\":\"0.1\"}"), MN_OK);
    assert_true(a1 != b1);
    mn_run_row ra[2] = {row(a1, 0, MN_CLASS_GLOBAL, 0.0, 1.0), row(a1, 1, MN_CLASS_SPURIOUS, 0.5, 0.1)};
    mn_run_row rb[3] = {row(b1, 1, MN_CLASS_SPURIOUS, 0.5, 0.1), row(b1, 2, MN_CLASS_SADDLE, 0.75, -0.1),
                        row(b0, 0, MN_CLASS_GLOBAL, 0.0, 1.0)};
    rb[0].seconds = 99; /* timing differs: not a difference */
    assert_int_equal(mn_db_insert(a, ra, 2), MN_OK);
    assert_int_equal(mn_db_insert(b, rb, 3), MN_OK);
    mn_db_close(b);
    long added, skipped, differing;
    assert_int_equal(mn_db_merge(a, tmp_path("m2.db"), &added, &skipped, &differing), MN_OK);
    assert_int_equal(added, 2);
    assert_int_equal(skipped, 1);
    assert_int_equal(differing, 0);
    /* again: everything is there */
    assert_int_equal(mn_db_merge(a, tmp_path("m2.db"), &added, &skipped, &differing), MN_OK);
    assert_true(added == 0 && skipped == 3 && differing == 0);
    int64_t *ids;
    char **canon, **json;
    int n;
    assert_int_equal(mn_db_settings(&ids, &canon, &json, &n, a), MN_OK);
    assert_int_equal(n, 2);
    assert_string_equal(canon[1], "lr=0.2");
    mn_run_row *got;
    long nr;
    assert_int_equal(mn_db_runs(&got, &nr, a, ids[0]), MN_OK);
    assert_int_equal(nr, 3);
    assert_int_equal(got[2].cls, MN_CLASS_SADDLE);
    free(got);
    mn_db_settings_free(ids, canon, json, n);
    /* a differing duplicate is counted */
    assert_int_equal(mn_db_open(&b, tmp_path("m3.db"), 1), MN_OK);
    assert_int_equal(mn_db_setting(&b1, b, "lr=0.1", "{\"lr\":\"0.1\"}"), MN_OK);
    mn_run_row rc = row(b1, 0, MN_CLASS_GLOBAL, 1e-300, 1.0);
    assert_int_equal(mn_db_insert(b, &rc, 1), MN_OK);
    mn_db_close(b);
    assert_int_equal(mn_db_merge(a, tmp_path("m3.db"), &added, &skipped, &differing), MN_OK);
    assert_true(added == 0 && skipped == 1 && differing == 1);
    /* bad inputs */
    assert_int_equal(mn_db_merge(a, tmp_path("m1.db"), &added, &skipped, &differing), MN_EINVAL);
    assert_int_equal(mn_db_merge(a, tmp_path("absent.db"), &added, &skipped, &differing), MN_EIO);
    write_file(tmp_path("junk.db"), "junk junk junk junk junk junk junk junk junk junk junk junk junk junk\n");
    assert_true(mn_db_merge(a, tmp_path("junk.db"), &added, &skipped, &differing) != MN_OK);
    assert_non_null(strstr(mn_last_error(), "junk.db"));
    mn_db_close(a);
}

static mn_status build_221(mn_model **model, const char *json, void *ctx)
{
    (void)json, (void)ctx;
    mn_spec sp;
    mn_spec_default(&sp);
    mn_status st = mn_spec_parse_arch(&sp, "2-2-1");
    return st ? st : mn_model_alloc(model, &sp);
}

static void test_summary(void **state)
{
    (void)state;
    mn_db *db;
    assert_int_equal(mn_db_open(&db, tmp_path("s.db"), 1), MN_OK);
    int64_t s1, s2;
    assert_int_equal(mn_db_setting(&s1, db, "act=relu lr=0.1", "{\"act\":\"relu\",\"lr\":\"0.1\"}"), MN_OK);
    assert_int_equal(mn_db_setting(&s2, db, "act=tanh lr=0.1 skip=on", "{\"act\":\"tanh\",\"lr\":\"0.1\",\"skip\":\"on\"}"),
                     MN_OK);
    /* s1: 10 runs, 3 spurious at two distinct losses (2.5 twice, within
     * 1e-12 relative; 4.25 once), 6 global, 1 saddle */
    mn_run_row r[10];
    for (int i = 0; i < 10; i++) r[i] = row(s1, i, MN_CLASS_GLOBAL, 0.0, 0.5);
    r[1] = row(s1, 1, MN_CLASS_SPURIOUS, 2.5, 0.25);
    r[4] = row(s1, 4, MN_CLASS_SPURIOUS, 2.5 * (1 + 1e-12), 0.75);
    r[7] = row(s1, 7, MN_CLASS_SPURIOUS, 4.25, 0.5);
    r[9] = row(s1, 9, MN_CLASS_SADDLE, 1.0, -0.5);
    r[9].near_kink = 1;
    /* end points for a 2-2-1 network (W1 2x2, b1 2, W2 1x2, b2 1): restart 4
     * is restart 1 with the hidden units swapped, restart 7 another point */
    double pa[9] = {0.5, -1.25, 2.0, 0.75, 0.1, -0.3, 1.5, -2.5, 0.2};
    double pb[9] = {2.0, 0.75, 0.5, -1.25, -0.3, 0.1, -2.5, 1.5, 0.2};
    double pc[9] = {0.5, -1.25, 2.0, 0.75, 0.1, -0.3, 1.5, -2.5, 0.4};
    r[1].theta = pa, r[4].theta = pb, r[7].theta = pc;
    r[1].ntheta = r[4].ntheta = r[7].ntheta = 9;
    assert_int_equal(mn_db_insert(db, r, 10), MN_OK);
    double *pt;
    size_t np;
    assert_int_equal(mn_db_point(&pt, &np, db, s1, 4), MN_OK);
    assert_true(np == 9 && !memcmp(pt, pb, sizeof pb));
    free(pt);
    assert_int_equal(mn_db_point(&pt, &np, db, s1, 0), MN_OK);
    assert_true(pt == NULL && np == 0);
    mn_summary *s;
    int n;
    assert_int_equal(mn_summarize(&s, &n, db, NULL, 0, NULL, NULL), MN_OK);
    assert_int_equal(n, 2);
    assert_int_equal(s[0].n, 10);
    assert_int_equal(s[0].count[MN_CLASS_SPURIOUS], 3);
    assert_true(s[0].frac[MN_CLASS_SPURIOUS] == 0.3);
    assert_true(fabs(s[0].lo[MN_CLASS_SPURIOUS] - 0.10779126740630103) < 1e-14);
    assert_true(fabs(s[0].hi[MN_CLASS_SPURIOUS] - 0.60322185253885465) < 1e-14);
    assert_int_equal(s[0].nspurious, 3);
    assert_int_equal(s[0].distinct_losses, 2);
    assert_int_equal(s[0].distinct_spurious, -1); /* no model builder */
    assert_true(fabs(s[0].spurious_lambda_min - 0.5) < 1e-15);
    assert_true(fabs(s[0].spurious_loss - (2.5 + 2.5 * (1 + 1e-12) + 4.25) / 3) < 1e-14);
    assert_int_equal(s[0].near_kink, 1);
    assert_string_equal(s[0].label, "act=relu skip=off");
    assert_string_equal(s[1].label, "act=tanh skip=on");
    assert_int_equal(s[1].n, 0);
    assert_true(isnan(s[1].spurious_loss) && s[1].lo[0] == 0.0 && s[1].hi[0] == 1.0);
    mn_summary_free(s, n);
    /* a subset by id */
    assert_int_equal(mn_summarize(&s, &n, db, &s2, 1, NULL, NULL), MN_OK);
    assert_int_equal(n, 1);
    assert_string_equal(s[0].label, "act=tanh lr=0.1 skip=on"); /* nothing varies: the whole string */
    mn_summary_free(s, n);
    /* with the model: the catalogue identifies the permuted copy */
    assert_int_equal(mn_summarize(&s, &n, db, &s1, 1, build_221, NULL), MN_OK);
    assert_int_equal(s[0].distinct_spurious, 2);
    assert_int_equal(s[0].distinct_losses, 2);
    mn_summary_free(s, n);
    int64_t bad = 999;
    assert_int_equal(mn_summarize(&s, &n, db, &bad, 1, NULL, NULL), MN_EINVAL);
    mn_db_close(db);
}

/* Certified minima of unknown global value (class "minimum" in the
 * database) are classified at summary time against the best found: the
 * lowest loss any run of the setting reached, whatever its class, within
 * the setting's global-tol. A lower not-converged run makes every minimum
 * spurious (vs best found); a wider global-tol takes more in. The export
 * shows the same classes and the best found. */
static void test_best_found(void **state)
{
    (void)state;
    mn_db *db;
    assert_int_equal(mn_db_open(&db, tmp_path("b.db"), 1), MN_OK);
    int64_t s1, s2, s3;
    assert_int_equal(mn_db_setting(&s1, db, "act=tanh", "{\"act\":\"tanh\"}"), MN_OK);
    assert_int_equal(mn_db_setting(&s2, db, "act=tanh global-tol=0.3", "{\"act\":\"tanh\",\"global-tol\":\"0.3\"}"),
                     MN_OK);
    assert_int_equal(mn_db_setting(&s3, db, "act=softplus", "{\"act\":\"softplus\"}"), MN_OK);
    /* s1 and s2: minima at 0.4363 (three, within 1e-7) and 0.7355, a saddle
     * above; s3: the same minima and a not-converged run at 0.1361 */
    const int64_t set[3] = {s1, s2, s3};
    mn_run_row r[3][6];
    for (int k = 0; k < 3; k++) {
        r[k][0] = row(set[k], 0, MN_CLASS_MINIMUM, 0.43630223456524042, 0.5);
        r[k][1] = row(set[k], 1, MN_CLASS_MINIMUM, 0.43630223456524042 + 5e-8, 0.5);
        r[k][2] = row(set[k], 2, MN_CLASS_MINIMUM, 0.4363022345652402, 0.5);
        r[k][3] = row(set[k], 3, MN_CLASS_MINIMUM, 0.73552136996240247, 0.25);
        r[k][4] = row(set[k], 4, MN_CLASS_SADDLE, 0.9, -0.5);
        r[k][5] = row(set[k], 5, k == 2 ? MN_CLASS_NOT_CONVERGED : MN_CLASS_DIVERGED, k == 2 ? 0.13607224 : NAN,
                      NAN);
        assert_int_equal(mn_db_insert(db, r[k], 6), MN_OK);
    }
    mn_summary *s;
    int n;
    assert_int_equal(mn_summarize(&s, &n, db, NULL, 0, NULL, NULL), MN_OK);
    assert_int_equal(n, 3);
    /* s1: the commonest minimum is the best found, not "spurious" */
    assert_true(s[0].best_loss == 0.4363022345652402);
    assert_int_equal(s[0].vs_best, 4);
    assert_int_equal(s[0].count[MN_CLASS_BEST_FOUND], 3);
    assert_int_equal(s[0].count[MN_CLASS_SPURIOUS_VS_BEST], 1);
    assert_int_equal(s[0].count[MN_CLASS_MINIMUM] + s[0].count[MN_CLASS_SPURIOUS] + s[0].count[MN_CLASS_GLOBAL], 0);
    assert_int_equal(s[0].nspurious, 1);
    assert_true(s[0].spurious_loss == 0.73552136996240247);
    assert_int_equal(s[0].distinct_losses, 1);
    /* s2: global-tol 0.3 puts 0.7355 within the best found (0.4363 + 0.3) */
    assert_true(s[1].global_tol == 0.3);
    assert_int_equal(s[1].count[MN_CLASS_BEST_FOUND], 4);
    assert_int_equal(s[1].nspurious, 0);
    /* s3: a lower loss reached (not converged): every minimum lies above it */
    assert_true(s[2].best_loss == 0.13607224);
    assert_int_equal(s[2].count[MN_CLASS_BEST_FOUND], 0);
    assert_int_equal(s[2].count[MN_CLASS_SPURIOUS_VS_BEST], 4);
    assert_int_equal(s[2].distinct_losses, 3); /* 0.4363 and 0.4363 + 5e-8 differ by more than 1e-9 relative */
    mn_summary_free(s, n);

    FILE *f = exported(db, "b.csv");
    char line[2048];
    int best = 0, above = 0, minimum = 0;
    while (fgets(line, sizeof line, f)) {
        best += strstr(line, ",best-found,0.436302234565240") != NULL; /* then best_loss */
        above += strstr(line, ",spurious (vs best found),") != NULL;
        minimum += strstr(line, ",minimum,") != NULL;
    }
    fclose(f);
    assert_int_equal(best, 3 + 4);
    assert_int_equal(above, 1 + 4);
    assert_int_equal(minimum, 0);
    mn_db_close(db);
}

/* The data key: content, not path; a setting keeps the key of its first
 * runs, refuses another one, and merge refuses to mix two data sets. */
static void test_data_key(void **state)
{
    (void)state;
    mn_data *d1, *d2;
    assert_int_equal(mn_data_alloc(&d1, 3, 2, 1), MN_OK);
    assert_int_equal(mn_data_alloc(&d2, 3, 2, 1), MN_OK);
    for (int i = 0; i < 6; i++) mn_data_x(d1)[i] = mn_data_x(d2)[i] = 2.385 * i;
    for (int i = 0; i < 3; i++) mn_data_y(d1)[i] = mn_data_y(d2)[i] = i % 2 ? 1 : -1;
    char k1[64], k2[64];
    mn_data_key(k1, sizeof k1, d1);
    mn_data_key(k2, sizeof k2, d2);
    assert_string_equal(k1, k2);
    assert_non_null(strstr(k1, " n=3 d=2 m=1"));
    mn_data_y(d2)[2] = 1; /* one label flipped */
    mn_data_key(k2, sizeof k2, d2);
    assert_string_not_equal(k1, k2);

    mn_db *a, *b;
    int64_t s1, s2;
    assert_int_equal(mn_db_open(&a, tmp_path("k1.db"), 1), MN_OK);
    assert_int_equal(mn_db_setting(&s1, a, "data=x.csv", "{\"data\":\"x.csv\"}"), MN_OK);
    assert_int_equal(mn_db_setting_data(a, s1, "data=x.csv", k1), MN_OK); /* stored */
    assert_int_equal(mn_db_setting_data(a, s1, "data=x.csv", k1), MN_OK); /* the same again */
    assert_int_equal(mn_db_setting_data(a, s1, "data=x.csv", k2), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "setting 'data=x.csv' was run on other data"));
    assert_non_null(strstr(mn_last_error(), k1));
    assert_non_null(strstr(mn_last_error(), k2));
    mn_run_row r = row(s1, 0, MN_CLASS_GLOBAL, 0.0, 1.0);
    assert_int_equal(mn_db_insert(a, &r, 1), MN_OK);

    assert_int_equal(mn_db_open(&b, tmp_path("k2.db"), 1), MN_OK);
    assert_int_equal(mn_db_setting(&s2, b, "data=x.csv", "{\"data\":\"x.csv\"}"), MN_OK);
    assert_int_equal(mn_db_setting_data(b, s2, "data=x.csv", k2), MN_OK);
    r = row(s2, 1, MN_CLASS_GLOBAL, 0.0, 1.0);
    assert_int_equal(mn_db_insert(b, &r, 1), MN_OK);
    mn_db_close(b);
    long added, skipped, differing;
    assert_int_equal(mn_db_merge(a, tmp_path("k2.db"), &added, &skipped, &differing), MN_EINVAL);
    assert_non_null(strstr(mn_last_error(), "setting 'data=x.csv' was run on other data there"));
    mn_run_row *got;
    long n;
    assert_int_equal(mn_db_runs(&got, &n, a, s1), MN_OK);
    assert_int_equal(n, 1); /* nothing merged */
    free(got);
    /* the same data merge, and the key travels with a new setting */
    assert_int_equal(mn_db_open(&b, tmp_path("k3.db"), 1), MN_OK);
    assert_int_equal(mn_db_setting(&s2, b, "data=x.csv", "{\"data\":\"x.csv\"}"), MN_OK);
    assert_int_equal(mn_db_setting_data(b, s2, "data=x.csv", k1), MN_OK);
    assert_int_equal(mn_db_insert(b, &r, 1), MN_OK);
    mn_db_close(b);
    assert_int_equal(mn_db_merge(a, tmp_path("k3.db"), &added, &skipped, &differing), MN_OK);
    assert_int_equal(added, 1);
    mn_db_close(a);
    mn_data_free(d1), mn_data_free(d2);
}

/* Export of a damaged row (text columns NULL, which minima's schema forbids
 * but a foreign writer may leave): empty fields, never "(null)". */
static void test_export_nulls(void **state)
{
    (void)state;
    const char *p = tmp_path("nulls.db");
    mn_db *db;
    assert_int_equal(mn_db_open(&db, p, 1), MN_OK);
    int64_t s1;
    assert_int_equal(mn_db_setting(&s1, db, "act=relu", "{\"act\":\"relu\"}"), MN_OK);
    mn_db_close(db);
    sqlite3 *h;
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "PRAGMA writable_schema = ON; UPDATE sqlite_master SET sql = replace(replace(sql, "
                                  "'optimizer TEXT NOT NULL', 'optimizer TEXT'), 'class TEXT NOT NULL', 'class TEXT') "
                                  "WHERE name = 'runs'; PRAGMA writable_schema = OFF;",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(sqlite3_open(p, &h), SQLITE_OK);
    assert_int_equal(sqlite3_exec(h,
                                  "INSERT INTO runs (setting, restart, seed, optimizer, iterations, class, "
                                  "near_kink, seconds) VALUES (1, 0, 5, NULL, 3, NULL, 0, 0)",
                                  NULL, NULL, NULL),
                     SQLITE_OK);
    sqlite3_close(h);
    assert_int_equal(mn_db_open(&db, p, 0), MN_OK);
    FILE *f = exported(db, "nulls.csv");
    char line[1024];
    assert_non_null(fgets(line, sizeof line, f));
    assert_non_null(fgets(line, sizeof line, f));
    assert_string_equal(line, "1,\"act=relu\",0,5,,3,,,,,,,,,0,,,,,,\n");
    fclose(f);
    mn_db_close(db);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_wilson),
        cmocka_unit_test(test_grid_order_and_canon),
        cmocka_unit_test(test_canon_run_lambda),
        cmocka_unit_test(test_config),
        cmocka_unit_test(test_schema_resume_export),
        cmocka_unit_test(test_open_errors),
        cmocka_unit_test(test_open_foreign_and_damaged),
        cmocka_unit_test(test_data_key),
        cmocka_unit_test(test_export_nulls),
        cmocka_unit_test(test_merge),
        cmocka_unit_test(test_summary),
        cmocka_unit_test(test_best_found),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
