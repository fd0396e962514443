/* Sweep databases in SQLite: schema (see minima/sweep.h), settings, runs,
 * resume, merge and CSV export.
 *
 * Kill-safety. The journal is WAL with synchronous=NORMAL: a transaction is
 * appended to the -wal file and is either wholly there or ignored at the next
 * open, so a process killed at any moment loses only uncommitted work and the
 * file stays valid (a power cut may also lose the last commits, never the
 * file's integrity). Runs are committed one transaction each. */
#include <errno.h>
#include <math.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "minima.h"
#include "minima/sweep.h"

struct mn_db {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *ins_run, *find_setting, *ins_setting, *done;
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS settings ("
    "  id INTEGER PRIMARY KEY,"
    "  canon TEXT NOT NULL UNIQUE,"
    "  options TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS runs ("
    "  setting INTEGER NOT NULL REFERENCES settings(id),"
    "  restart INTEGER NOT NULL,"
    "  seed INTEGER NOT NULL,"
    "  optimizer TEXT NOT NULL,"
    "  iterations INTEGER NOT NULL,"
    "  loss REAL, grad_norm REAL, lambda_min REAL, lambda_max REAL, kink_margin REAL,"
    "  class TEXT NOT NULL,"
    "  near_kink INTEGER NOT NULL,"
    "  accuracy REAL,"
    "  elim_a REAL, elim_b REAL, elim_w_norm REAL, elim_a_exp_b REAL,"
    "  reason TEXT,"
    "  seconds REAL NOT NULL,"
    "  theta BLOB,"
    "  PRIMARY KEY (setting, restart)) WITHOUT ROWID;";

#define RUN_COLS                                                                                           \
    "setting, restart, seed, optimizer, iterations, loss, grad_norm, lambda_min, lambda_max, kink_margin, " \
    "class, near_kink, accuracy, elim_a, elim_b, elim_w_norm, elim_a_exp_b, reason, seconds"

static mn_status db_err(const mn_db *db, const char *what)
{
    return mn_fail(MN_EIO, "%s: %s: %s", db->path, what, sqlite3_errmsg(db->h));
}

static mn_status exec(mn_db *db, const char *sql, const char *what)
{
    char *msg = NULL;
    if (sqlite3_exec(db->h, sql, NULL, NULL, &msg) == SQLITE_OK) return MN_OK;
    mn_status st = mn_fail(MN_EIO, "%s: %s: %s", db->path, what, msg ? msg : sqlite3_errmsg(db->h));
    sqlite3_free(msg);
    return st;
}

static mn_status prepare(mn_db *db, sqlite3_stmt **st, const char *sql)
{
    if (sqlite3_prepare_v2(db->h, sql, -1, st, NULL) != SQLITE_OK) return db_err(db, "preparing a statement");
    return MN_OK;
}

void mn_db_close(mn_db *db)
{
    if (!db) return;
    sqlite3_finalize(db->ins_run);
    sqlite3_finalize(db->find_setting);
    sqlite3_finalize(db->ins_setting);
    sqlite3_finalize(db->done);
    sqlite3_close(db->h);
    free(db->path);
    free(db);
}

/* The meta value of key (malloc'ed) or NULL when absent. */
static mn_status meta_get(char **out, mn_db *db, const char *schema_name, const char *key)
{
    *out = NULL;
    char sql[128];
    snprintf(sql, sizeof sql, "SELECT value FROM %s.meta WHERE key = ?1", schema_name);
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) return MN_OK; /* no meta table */
    sqlite3_bind_text(s, 1, key, -1, SQLITE_STATIC);
    mn_status st = MN_OK;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        const char *v = (const char *)sqlite3_column_text(s, 0);
        size_t n = strlen(v ? v : "") + 1;
        if ((*out = malloc(n)))
            memcpy(*out, v ? v : "", n);
        else
            st = mn_fail(MN_ENOMEM, "out of memory");
    } else if (rc != SQLITE_DONE) {
        st = db_err(db, "reading meta");
    }
    sqlite3_finalize(s);
    return st;
}

/* A single integer from a query (-1 on failure). */
static long long scalar(mn_db *db, const char *sql)
{
    sqlite3_stmt *s;
    if (sqlite3_prepare_v2(db->h, sql, -1, &s, NULL) != SQLITE_OK) return -1;
    long long v = sqlite3_step(s) == SQLITE_ROW ? sqlite3_column_int64(s, 0) : -1;
    sqlite3_finalize(s);
    return v;
}

static mn_status check_version(mn_db *db, const char *schema_name, const char *path)
{
    char *v;
    mn_status st = meta_get(&v, db, schema_name, "schema_version");
    if (st) return st;
    if (!v) {
        char sql[128];
        snprintf(sql, sizeof sql, "SELECT count(*) FROM %s.sqlite_master", schema_name);
        if (scalar(db, sql) == 0) /* created, then killed before the schema was committed */
            return mn_fail(MN_EFORMAT, "%s: an empty database (a sweep stopped before it began?)", path);
        return mn_fail(MN_EFORMAT, "%s: not a minima sweep database (no schema version)", path);
    }
    char *end;
    long ver = strtol(v, &end, 10);
    if (*end || ver != MN_DB_SCHEMA_VERSION)
        st = mn_fail(MN_EFORMAT, "%s: schema version %s; this minima (%s) reads version %d", path, v, MN_VERSION,
                     MN_DB_SCHEMA_VERSION);
    free(v);
    return st;
}

mn_status mn_db_open(mn_db **out, const char *path, int create)
{
    *out = NULL;
    if (!create && access(path, F_OK) != 0)
        return mn_fail(MN_EIO, "cannot open database '%s': %s", path, strerror(errno));
    mn_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = malloc(strlen(path) + 1))) {
        free(db);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    strcpy(db->path, path);
    int flags = SQLITE_OPEN_READWRITE | (create ? SQLITE_OPEN_CREATE : 0);
    mn_status st = MN_OK;
    if (sqlite3_open_v2(path, &db->h, flags, NULL) != SQLITE_OK) {
        st = mn_fail(MN_EIO, "cannot open database '%s': %s", path,
                     db->h ? sqlite3_errmsg(db->h) : "out of memory");
        goto fail;
    }
    sqlite3_busy_timeout(db->h, 30000); /* another process (a shard, a summary) may hold the lock */
    /* The first statements touch the file: a path in a missing or read-only
     * folder, or a file that is not SQLite, fails here. */
    if ((st = exec(db, "PRAGMA journal_mode=WAL", "cannot open database"))) goto fail;
    if ((st = exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", "cannot open database"))) goto fail;
    if (create) {
        if ((st = exec(db, "BEGIN IMMEDIATE", "cannot write the schema"))) goto fail;
        if ((st = exec(db, schema, "cannot write the schema"))) goto rollback;
        char sql[256];
        snprintf(sql, sizeof sql,
                 "INSERT OR IGNORE INTO meta VALUES ('schema_version', '%d'), ('minima_version', '%s');",
                 MN_DB_SCHEMA_VERSION, MN_VERSION);
        if ((st = exec(db, sql, "cannot write the schema"))) goto rollback;
        if ((st = exec(db, "COMMIT", "cannot write the schema"))) goto rollback;
    }
    if ((st = check_version(db, "main", path))) goto fail;
    if ((st = prepare(db, &db->ins_run,
                      "INSERT OR IGNORE INTO runs (" RUN_COLS ", theta) VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20)")))
        goto fail;
    if ((st = prepare(db, &db->find_setting, "SELECT id FROM settings WHERE canon = ?1"))) goto fail;
    if ((st = prepare(db, &db->ins_setting, "INSERT INTO settings (canon, options) VALUES (?1, ?2)"))) goto fail;
    if ((st = prepare(db, &db->done, "SELECT restart FROM runs WHERE setting = ?1 AND restart < ?2"))) goto fail;
    *out = db;
    return MN_OK;
rollback:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
fail:
    mn_db_close(db);
    return st;
}

mn_status mn_db_setting(int64_t *id, mn_db *db, const char *canon, const char *json)
{
    sqlite3_stmt *s = db->find_setting;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, canon, -1, SQLITE_STATIC);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW) {
        *id = sqlite3_column_int64(s, 0);
        sqlite3_reset(s);
        return MN_OK;
    }
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db_err(db, "looking up a setting");
    s = db->ins_setting;
    sqlite3_reset(s);
    sqlite3_bind_text(s, 1, canon, -1, SQLITE_STATIC);
    sqlite3_bind_text(s, 2, json, -1, SQLITE_STATIC);
    rc = sqlite3_step(s);
    sqlite3_reset(s);
    if (rc != SQLITE_DONE) return db_err(db, "storing a setting");
    *id = sqlite3_last_insert_rowid(db->h);
    return MN_OK;
}

mn_status mn_db_done(unsigned char *done, mn_db *db, int64_t setting, long restarts)
{
    memset(done, 0, (size_t)restarts);
    sqlite3_stmt *s = db->done;
    sqlite3_reset(s);
    sqlite3_bind_int64(s, 1, setting);
    sqlite3_bind_int64(s, 2, restarts);
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        sqlite3_int64 r = sqlite3_column_int64(s, 0);
        if (r >= 0 && r < restarts) done[r] = 1;
    }
    sqlite3_reset(s);
    return rc == SQLITE_DONE ? MN_OK : db_err(db, "reading finished runs");
}

static void bind_real(sqlite3_stmt *s, int i, double v)
{
    if (isnan(v))
        sqlite3_bind_null(s, i);
    else
        sqlite3_bind_double(s, i, v);
}

mn_status mn_db_insert(mn_db *db, const mn_run_row *rows, int n)
{
    mn_status st = exec(db, "BEGIN IMMEDIATE", "cannot store runs");
    if (st) return st;
    sqlite3_stmt *s = db->ins_run;
    for (int i = 0; i < n && !st; i++) {
        const mn_run_row *r = &rows[i];
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, r->setting);
        sqlite3_bind_int64(s, 2, r->restart);
        sqlite3_bind_int64(s, 3, (sqlite3_int64)(r->seed & 0x7fffffffffffffffULL));
        sqlite3_bind_text(s, 4, r->optimizer, -1, SQLITE_STATIC);
        sqlite3_bind_int64(s, 5, r->iterations);
        bind_real(s, 6, r->loss);
        bind_real(s, 7, r->grad_norm);
        bind_real(s, 8, r->lambda_min);
        bind_real(s, 9, r->lambda_max);
        bind_real(s, 10, r->kink_margin);
        sqlite3_bind_text(s, 11, mn_class_name(r->cls), -1, SQLITE_STATIC);
        sqlite3_bind_int(s, 12, r->near_kink);
        bind_real(s, 13, r->accuracy);
        bind_real(s, 14, r->elim_a);
        bind_real(s, 15, r->elim_b);
        bind_real(s, 16, r->elim_w_norm);
        bind_real(s, 17, r->elim_a_exp_b);
        if (r->reason[0])
            sqlite3_bind_text(s, 18, r->reason, -1, SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 18);
        sqlite3_bind_double(s, 19, isnan(r->seconds) ? 0.0 : r->seconds);
        if (r->theta && r->ntheta)
            sqlite3_bind_blob64(s, 20, r->theta, (sqlite3_uint64)(r->ntheta * sizeof *r->theta), SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 20);
        if (sqlite3_step(s) != SQLITE_DONE) st = db_err(db, "storing a run");
    }
    sqlite3_reset(s);
    if (!st) st = exec(db, "COMMIT", "cannot store runs");
    if (st) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

mn_status mn_db_set_lambda_min(mn_db *db, int64_t setting, const long *restarts, const double *values, int n)
{
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s, "UPDATE runs SET lambda_min = ?3 WHERE setting = ?1 AND restart = ?2");
    if (st) return st;
    if ((st = exec(db, "BEGIN IMMEDIATE", "cannot update runs"))) {
        sqlite3_finalize(s);
        return st;
    }
    for (int i = 0; i < n && !st; i++) {
        sqlite3_reset(s);
        sqlite3_bind_int64(s, 1, setting);
        sqlite3_bind_int64(s, 2, restarts[i]);
        bind_real(s, 3, values[i]);
        if (sqlite3_step(s) != SQLITE_DONE) st = db_err(db, "updating a run");
    }
    sqlite3_finalize(s);
    if (!st) st = exec(db, "COMMIT", "cannot update runs");
    if (st) sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

static double col_real(sqlite3_stmt *s, int i)
{
    return sqlite3_column_type(s, i) == SQLITE_NULL ? NAN : sqlite3_column_double(s, i);
}

static mn_class class_of(const char *name)
{
    for (int c = 0; c < MN_NCLASS; c++)
        if (name && !strcmp(name, mn_class_name((mn_class)c))) return (mn_class)c;
    return MN_CLASS_DIVERGED; /* unknown names cannot occur in a database this code wrote */
}

mn_status mn_db_runs(mn_run_row **rows, long *n, mn_db *db, int64_t setting)
{
    *rows = NULL, *n = 0;
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s, "SELECT " RUN_COLS " FROM runs WHERE setting = ?1 ORDER BY restart");
    if (st) return st;
    sqlite3_bind_int64(s, 1, setting);
    long cap = 0;
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            mn_run_row *nr = realloc(*rows, (size_t)cap * sizeof *nr);
            if (!nr) {
                st = mn_fail(MN_ENOMEM, "out of memory");
                break;
            }
            *rows = nr;
        }
        mn_run_row *r = &(*rows)[(*n)++];
        memset(r, 0, sizeof *r);
        r->setting = sqlite3_column_int64(s, 0);
        r->restart = (long)sqlite3_column_int64(s, 1);
        r->seed = (uint64_t)sqlite3_column_int64(s, 2);
        snprintf(r->optimizer, sizeof r->optimizer, "%s", (const char *)sqlite3_column_text(s, 3));
        r->iterations = (long)sqlite3_column_int64(s, 4);
        r->loss = col_real(s, 5);
        r->grad_norm = col_real(s, 6);
        r->lambda_min = col_real(s, 7);
        r->lambda_max = col_real(s, 8);
        r->kink_margin = col_real(s, 9);
        r->cls = class_of((const char *)sqlite3_column_text(s, 10));
        r->near_kink = sqlite3_column_int(s, 11);
        r->accuracy = col_real(s, 12);
        r->elim_a = col_real(s, 13);
        r->elim_b = col_real(s, 14);
        r->elim_w_norm = col_real(s, 15);
        r->elim_a_exp_b = col_real(s, 16);
        const char *why = (const char *)sqlite3_column_text(s, 17);
        snprintf(r->reason, sizeof r->reason, "%s", why ? why : "");
        r->seconds = col_real(s, 18);
    }
    if (!st && rc != SQLITE_DONE) st = db_err(db, "reading runs");
    sqlite3_finalize(s);
    if (st) free(*rows), *rows = NULL, *n = 0;
    return st;
}

mn_status mn_db_point(double **theta, size_t *n, mn_db *db, int64_t setting, long restart)
{
    *theta = NULL, *n = 0;
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s, "SELECT theta FROM runs WHERE setting = ?1 AND restart = ?2");
    if (st) return st;
    sqlite3_bind_int64(s, 1, setting);
    sqlite3_bind_int64(s, 2, restart);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) == SQLITE_BLOB) {
        const void *b = sqlite3_column_blob(s, 0);
        size_t bytes = (size_t)sqlite3_column_bytes(s, 0);
        if (bytes % sizeof(double))
            st = mn_fail(MN_EFORMAT, "%s: the end point of run (%lld, %ld) is %zu bytes, not whole doubles",
                         db->path, (long long)setting, restart, bytes);
        else if (bytes && !(*theta = malloc(bytes)))
            st = mn_fail(MN_ENOMEM, "out of memory");
        else if (bytes)
            memcpy(*theta, b, bytes), *n = bytes / sizeof(double);
    } else if (rc != SQLITE_ROW && rc != SQLITE_DONE) {
        st = db_err(db, "reading an end point");
    }
    sqlite3_finalize(s);
    return st;
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s ? s : "", n);
    return d;
}

void mn_db_settings_free(int64_t *ids, char **canon, char **json, int n)
{
    for (int i = 0; i < n; i++) {
        if (canon) free(canon[i]);
        if (json) free(json[i]);
    }
    free(ids), free(canon), free(json);
}

mn_status mn_db_settings(int64_t **ids, char ***canon, char ***json, int *n, mn_db *db)
{
    *ids = NULL, *canon = NULL, *json = NULL, *n = 0;
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s, "SELECT id, canon, options FROM settings ORDER BY id");
    if (st) return st;
    int cap = 0, rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        if (*n == cap) {
            cap = cap ? 2 * cap : 16;
            int64_t *ni = realloc(*ids, (size_t)cap * sizeof *ni);
            if (ni) *ids = ni;
            char **nc = realloc(*canon, (size_t)cap * sizeof *nc);
            if (nc) *canon = nc;
            char **nj = realloc(*json, (size_t)cap * sizeof *nj);
            if (nj) *json = nj;
            if (!ni || !nc || !nj) {
                st = mn_fail(MN_ENOMEM, "out of memory");
                break;
            }
        }
        (*ids)[*n] = sqlite3_column_int64(s, 0);
        (*canon)[*n] = str_dup((const char *)sqlite3_column_text(s, 1));
        (*json)[*n] = str_dup((const char *)sqlite3_column_text(s, 2));
        (*n)++;
        if (!(*canon)[*n - 1] || !(*json)[*n - 1]) {
            st = mn_fail(MN_ENOMEM, "out of memory");
            break;
        }
    }
    if (!st && rc != SQLITE_DONE) st = db_err(db, "reading settings");
    sqlite3_finalize(s);
    if (st) {
        mn_db_settings_free(*ids, *canon, *json, *n);
        *ids = NULL, *canon = NULL, *json = NULL, *n = 0;
    }
    return st;
}

mn_status mn_db_merge(mn_db *db, const char *in_path, long *added, long *skipped, long *differing)
{
    *added = *skipped = *differing = 0;
    if (access(in_path, R_OK) != 0)
        return mn_fail(MN_EIO, "cannot open database '%s': %s", in_path, strerror(errno));
    struct stat a_st, b_st;
    if (stat(in_path, &a_st) == 0 && stat(db->path, &b_st) == 0 && a_st.st_dev == b_st.st_dev &&
        a_st.st_ino == b_st.st_ino) return mn_fail(MN_EINVAL, "'%s' is the output database itself", in_path);
    sqlite3_stmt *a;
    mn_status st = prepare(db, &a, "ATTACH DATABASE ?1 AS src");
    if (st) return st;
    sqlite3_bind_text(a, 1, in_path, -1, SQLITE_STATIC);
    int rc = sqlite3_step(a);
    sqlite3_finalize(a);
    if (rc != SQLITE_DONE)
        return mn_fail(MN_EIO, "cannot open database '%s': %s", in_path, sqlite3_errmsg(db->h));
    /* A file that is not SQLite fails on its first read. */
    if (scalar(db, "SELECT count(*) FROM src.sqlite_master") < 0)
        st = mn_fail(MN_EFORMAT, "%s: %s", in_path, sqlite3_errmsg(db->h));
    if (!st) st = check_version(db, "src", in_path);
    if (!st) st = exec(db, "BEGIN IMMEDIATE", "cannot merge");
    if (st) goto detach;
    if ((st = exec(db,
                   "INSERT OR IGNORE INTO main.settings (canon, options) "
                   "SELECT canon, options FROM src.settings ORDER BY id",
                   "cannot merge settings")))
        goto rollback;
#define JOIN " FROM src.runs r JOIN src.settings s ON s.id = r.setting JOIN main.settings m ON m.canon = s.canon"
#define OLD " JOIN main.runs o ON o.setting = m.id AND o.restart = r.restart"
    long long sk = scalar(db, "SELECT count(*)" JOIN OLD);
    long long df = scalar(db, "SELECT count(*)" JOIN OLD
                              " WHERE o.seed IS NOT r.seed OR o.optimizer IS NOT r.optimizer"
                              " OR o.iterations IS NOT r.iterations OR o.loss IS NOT r.loss"
                              " OR o.grad_norm IS NOT r.grad_norm OR o.lambda_min IS NOT r.lambda_min"
                              " OR o.lambda_max IS NOT r.lambda_max OR o.kink_margin IS NOT r.kink_margin"
                              " OR o.class IS NOT r.class OR o.near_kink IS NOT r.near_kink"
                              " OR o.accuracy IS NOT r.accuracy OR o.elim_a IS NOT r.elim_a"
                              " OR o.elim_b IS NOT r.elim_b OR o.elim_w_norm IS NOT r.elim_w_norm"
                              " OR o.elim_a_exp_b IS NOT r.elim_a_exp_b OR o.reason IS NOT r.reason");
    if (sk < 0 || df < 0) {
        st = db_err(db, "cannot merge runs");
        goto rollback;
    }
    if ((st = exec(db,
                   "INSERT OR IGNORE INTO main.runs (" RUN_COLS ", theta) SELECT m.id, r.restart, r.seed, "
                   "r.optimizer, r.iterations, r.loss, r.grad_norm, r.lambda_min, r.lambda_max, "
                   "r.kink_margin, r.class, r.near_kink, r.accuracy, r.elim_a, r.elim_b, r.elim_w_norm, "
                   "r.elim_a_exp_b, r.reason, r.seconds, r.theta" JOIN,
                   "cannot merge runs")))
        goto rollback;
#undef JOIN
#undef OLD
    *added = (long)sqlite3_changes(db->h);
    *skipped = (long)sk, *differing = (long)df;
    if ((st = exec(db, "COMMIT", "cannot merge"))) goto rollback;
    goto detach;
rollback:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
detach:
    sqlite3_exec(db->h, "DETACH DATABASE src", NULL, NULL, NULL);
    return st;
}

static void csv_real(FILE *f, sqlite3_stmt *s, int i)
{
    if (sqlite3_column_type(s, i) != SQLITE_NULL) fprintf(f, "%.17g", sqlite3_column_double(s, i));
}

static void csv_text(FILE *f, const char *t)
{
    fputc('"', f);
    for (; t && *t; t++) {
        if (*t == '"') fputc('"', f);
        fputc(*t, f);
    }
    fputc('"', f);
}

mn_status mn_db_export_csv(mn_db *db, FILE *out, int timings)
{
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s,
                           "SELECT r.setting, s.canon, r.restart, r.seed, r.optimizer, r.iterations, r.loss, "
                           "r.grad_norm, r.lambda_min, r.lambda_max, r.kink_margin, r.class, r.near_kink, "
                           "r.accuracy, r.elim_a, r.elim_b, r.elim_w_norm, r.elim_a_exp_b, r.reason, r.seconds "
                           "FROM runs r JOIN settings s ON s.id = r.setting "
                           "ORDER BY s.canon, r.restart");
    if (st) return st;
    fprintf(out, "setting,options,restart,seed,optimizer,iterations,loss,grad_norm,lambda_min,lambda_max,"
                 "kink_margin,class,near_kink,accuracy,elim_a,elim_b,elim_w_norm,elim_a_exp_b,reason%s\n",
            timings ? ",seconds" : "");
    int rc;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        fprintf(out, "%lld,", (long long)sqlite3_column_int64(s, 0));
        csv_text(out, (const char *)sqlite3_column_text(s, 1));
        fprintf(out, ",%lld,%lld,%s,%lld", (long long)sqlite3_column_int64(s, 2),
                (long long)sqlite3_column_int64(s, 3), (const char *)sqlite3_column_text(s, 4),
                (long long)sqlite3_column_int64(s, 5));
        for (int i = 6; i <= 10; i++) fputc(',', out), csv_real(out, s, i);
        fprintf(out, ",%s,%d,", (const char *)sqlite3_column_text(s, 11), sqlite3_column_int(s, 12));
        csv_real(out, s, 13);
        for (int i = 14; i <= 17; i++) fputc(',', out), csv_real(out, s, i);
        fputc(',', out);
        if (sqlite3_column_type(s, 18) != SQLITE_NULL) csv_text(out, (const char *)sqlite3_column_text(s, 18));
        if (timings) fputc(',', out), csv_real(out, s, 19);
        fputc('\n', out);
    }
    if (rc != SQLITE_DONE) st = db_err(db, "reading runs");
    sqlite3_finalize(s);
    return st;
}
