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
#include "minima/record.h"
#include "minima/sweep.h"

struct mn_db {
    sqlite3 *h;
    char *path;
    sqlite3_stmt *ins_run, *find_setting, *ins_setting, *done;
    int created;  /* the file did not exist before mn_db_open: mn_db_discard may remove it */
    int readonly; /* opened by mn_db_open(..., 0) */
};

static const char *const schema =
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE IF NOT EXISTS settings ("
    "  id INTEGER PRIMARY KEY,"
    "  canon TEXT NOT NULL UNIQUE,"
    "  options TEXT NOT NULL,"
    "  data TEXT);"
    "CREATE TABLE IF NOT EXISTS runs ("
    "  setting INTEGER NOT NULL REFERENCES settings(id),"
    "  restart INTEGER NOT NULL,"
    "  seed INTEGER NOT NULL,"
    "  optimizer TEXT NOT NULL,"
    "  iterations INTEGER NOT NULL,"
    "  loss REAL, grad_norm REAL, theta_norm REAL, lambda_min REAL, lambda_max REAL, kink_margin REAL,"
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
    "class, near_kink, accuracy, elim_a, elim_b, elim_w_norm, elim_a_exp_b, reason, seconds, theta_norm"

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
    /* Older versions are refused, not migrated: a version-2 run has no
     * parameter norm and its setting no data key, which cannot be made up. */
    if (*end || ver != MN_DB_SCHEMA_VERSION)
        st = mn_fail(MN_EFORMAT, "%s: schema version %s; this minima (%s) reads version %d%s", path, v, MN_VERSION,
                     MN_DB_SCHEMA_VERSION,
                     !*end && ver < MN_DB_SCHEMA_VERSION ? " (older runs lack the parameter norm and the data "
                                                          "key: re-run the sweep into a new database)"
                                                        : "");
    free(v);
    return st;
}

/* A path SQLite would not keep as an ordinary file ('' is a temporary
 * database, ":memory:" lives in memory, "file:" starts a URI): refused, or a
 * whole sweep would run and store nothing. */
static mn_status check_path(const char *path)
{
    if (!*path) return mn_fail(MN_EINVAL, "an empty database path: give a file name (--db needs a non-empty value)");
    if (!strcmp(path, ":memory:") || !strncmp(path, "file:", 5))
        return mn_fail(MN_EINVAL, "'%s': a database must be an ordinary file path (not :memory: or a file: URI)",
                       path);
    return MN_OK;
}

/* "file:" + path with %, ?, # and bytes outside printable ASCII escaped,
 * + "?" query (malloc'ed; NULL when out of memory). */
static char *path_uri(const char *path, const char *query)
{
    size_t n = strlen(path), q = strlen(query);
    char *u = malloc(5 + 3 * n + 1 + q + 1), *o = u;
    if (!u) return NULL;
    o += sprintf(o, "file:");
    for (const unsigned char *c = (const unsigned char *)path; *c; c++)
        if (*c == '%' || *c == '?' || *c == '#' || *c <= ' ' || *c >= 0x7f)
            o += sprintf(o, "%%%02X", *c);
        else
            *o++ = (char)*c;
    sprintf(o, "?%s", query);
    return u;
}

static mn_status db_new(mn_db **out, const char *path)
{
    mn_db *db = calloc(1, sizeof *db);
    if (!db || !(db->path = malloc(strlen(path) + 1))) {
        free(db);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    strcpy(db->path, path);
    *out = db;
    return MN_OK;
}

/* SQLite's answer when a WAL database's shared-memory file cannot be made
 * (read-only storage): CANTOPEN or READONLY_CANTINIT, by version. */
static int no_shm(int ext)
{
    return (ext & 0xff) == SQLITE_CANTOPEN || (ext & 0xff) == SQLITE_READONLY;
}

/* Reading a WAL database as immutable is exact only when no -wal file holds
 * commits not yet copied into it (a writer that was killed): refused then. */
static mn_status pending_wal(const char *path)
{
    char wal[4096];
    struct stat ws;
    snprintf(wal, sizeof wal, "%s-wal", path);
    if (stat(wal, &ws) == 0 && ws.st_size > 0)
        return mn_fail(MN_EIO, "cannot read database '%s' on read-only storage: its journal '%s' holds commits "
                               "not yet in the file (copy both to writable storage)", path, wal);
    return MN_OK;
}

/* Opens `path` read-only: summary, export and merge inputs must work on
 * read-only storage. A WAL database there cannot get its shared-memory file;
 * it is then read as immutable, which is exact only when no -wal file holds
 * commits not yet copied into the database (a writer that was killed). */
static mn_status open_readonly(sqlite3 **h, const char *path)
{
    const char *const queries[] = {"mode=ro", "mode=ro&immutable=1"};
    for (int k = 0; k < 2; k++) {
        char *uri = path_uri(path, queries[k]);
        if (!uri) return mn_fail(MN_ENOMEM, "out of memory");
        int rc = sqlite3_open_v2(uri, h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL);
        free(uri);
        if (rc == SQLITE_OK && sqlite3_exec(*h, "SELECT count(*) FROM sqlite_master", NULL, NULL, NULL) == SQLITE_OK)
            return MN_OK;
        const char *msg = *h ? sqlite3_errmsg(*h) : "out of memory";
        int ext = *h ? sqlite3_extended_errcode(*h) : SQLITE_NOMEM;
        if (k == 0 && no_shm(ext)) {
            mn_status st = pending_wal(path);
            sqlite3_close(*h);
            *h = NULL;
            if (st) return st;
            continue;
        }
        mn_status st = mn_fail(rc == SQLITE_OK && (ext & 0xff) == SQLITE_NOTADB ? MN_EFORMAT : MN_EIO,
                               "cannot open database '%s': %s", path, msg);
        sqlite3_close(*h);
        *h = NULL;
        return st;
    }
    return mn_fail(MN_EIO, "cannot open database '%s'", path);
}

/* Opens `path` for writing. The schema is created only in a database with no
 * tables (new, or created and killed before its schema was committed); any
 * other file must already carry minima's schema version, so an SQLite file
 * that is not ours is never written to (no tables, no meta rows, no WAL
 * switch). A resumed database must pass quick_check first. */
static mn_status open_write(mn_db *db, const char *path)
{
    struct stat before;
    db->created = stat(path, &before) != 0;
    /* URI filenames on: merge attaches its inputs read-only by URI. */
    if (sqlite3_open_v2(path, &db->h, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_URI, NULL) != SQLITE_OK)
        return mn_fail(MN_EIO, "cannot open database '%s': %s", path,
                       db->h ? sqlite3_errmsg(db->h) : "out of memory");
    sqlite3_busy_timeout(db->h, 30000); /* another process (a shard, a summary) may hold the lock */
    /* The first statement touches the file: a path in a missing or read-only
     * folder, or a file that is not SQLite, fails here. */
    mn_status st = exec(db, "BEGIN IMMEDIATE", "cannot open database");
    if (st) return st;
    long long tables = scalar(db, "SELECT count(*) FROM sqlite_master");
    if (tables < 0) {
        st = db_err(db, "cannot open database");
        goto rollback;
    }
    if (tables == 0) {
        if ((st = exec(db, schema, "cannot write the schema"))) goto rollback;
        char sql[256];
        snprintf(sql, sizeof sql, "INSERT INTO meta VALUES ('schema_version', '%d'), ('minima_version', '%s');",
                 MN_DB_SCHEMA_VERSION, MN_VERSION);
        if ((st = exec(db, sql, "cannot write the schema"))) goto rollback;
    }
    if ((st = exec(db, "COMMIT", "cannot write the schema"))) goto rollback;
    if ((st = check_version(db, "main", path))) return st;
    if (!db->created) {
        char *bad = NULL;
        sqlite3_stmt *s;
        if ((st = prepare(db, &s, "PRAGMA quick_check(1)"))) return st;
        int rc = sqlite3_step(s);
        const char *v = rc == SQLITE_ROW ? (const char *)sqlite3_column_text(s, 0) : NULL;
        if (!v || strcmp(v, "ok")) {
            const char *why = v ? v : sqlite3_errmsg(db->h);
            if ((bad = malloc(strlen(why) + 1))) strcpy(bad, why);
        }
        sqlite3_finalize(s);
        if (bad || rc != SQLITE_ROW) {
            st = mn_fail(MN_EFORMAT, "%s: the database is damaged (quick_check: %s); not writing into it", path,
                         bad ? bad : "no answer");
            free(bad);
            return st;
        }
    }
    if ((st = exec(db, "PRAGMA journal_mode=WAL", "cannot open database"))) return st;
    return exec(db, "PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON", "cannot open database");
rollback:
    sqlite3_exec(db->h, "ROLLBACK", NULL, NULL, NULL);
    return st;
}

mn_status mn_db_open(mn_db **out, const char *path, int create)
{
    *out = NULL;
    mn_status st = check_path(path);
    if (st) return st;
    if (!create && access(path, F_OK) != 0)
        return mn_fail(MN_EIO, "cannot open database '%s': %s", path, strerror(errno));
    mn_db *db = NULL;
    if ((st = db_new(&db, path))) return st;
    db->readonly = !create;
    if (create ? (st = open_write(db, path)) : (st = open_readonly(&db->h, path))) goto fail;
    if (!create) {
        sqlite3_busy_timeout(db->h, 30000);
        if ((st = check_version(db, "main", path))) goto fail;
    }
    if ((st = prepare(db, &db->find_setting, "SELECT id FROM settings WHERE canon = ?1"))) goto fail;
    if ((st = prepare(db, &db->done, "SELECT restart FROM runs WHERE setting = ?1 AND restart < ?2"))) goto fail;
    if (!create) {
        *out = db;
        return MN_OK;
    }
    if ((st = prepare(db, &db->ins_run,
                      "INSERT OR IGNORE INTO runs (" RUN_COLS ", theta) VALUES "
                      "(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12, ?13, ?14, ?15, ?16, ?17, ?18, ?19, ?20, ?21)")))
        goto fail;
    if ((st = prepare(db, &db->ins_setting, "INSERT INTO settings (canon, options) VALUES (?1, ?2)"))) goto fail;
    *out = db;
    return MN_OK;
fail:
    if (db->created && db->h) {
        mn_db_discard(db);
        return st;
    }
    mn_db_close(db);
    return st;
}

void mn_db_discard(mn_db *db)
{
    if (!db) return;
    int created = db->created;
    char *path = db->path;
    db->path = NULL;
    mn_db_close(db);
    if (created && path) {
        size_t n = strlen(path) + 5;
        char *side = malloc(n);
        unlink(path);
        if (side) {
            snprintf(side, n, "%s-wal", path);
            unlink(side);
            snprintf(side, n, "%s-shm", path);
            unlink(side);
            snprintf(side, n, "%s-journal", path);
            unlink(side);
        }
        free(side);
    }
    free(path);
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
    if (db->readonly) return mn_fail(MN_EINVAL, "%s: opened read-only: cannot store a setting", db->path);
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

mn_status mn_db_setting_data(mn_db *db, int64_t setting, const char *canon, const char *key)
{
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s, "SELECT data FROM settings WHERE id = ?1");
    if (st) return st;
    sqlite3_bind_int64(s, 1, setting);
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW && sqlite3_column_type(s, 0) != SQLITE_NULL) {
        const char *old = (const char *)sqlite3_column_text(s, 0);
        if (strcmp(old ? old : "", key))
            st = mn_fail(MN_EINVAL,
                         "%s: setting '%s' was run on other data (stored %s, now %s): use another database",
                         db->path, canon, old ? old : "", key);
        sqlite3_finalize(s);
        return st;
    }
    sqlite3_finalize(s);
    if (rc != SQLITE_ROW) return rc == SQLITE_DONE ? mn_fail(MN_EINVAL, "%s: no setting with id %lld", db->path,
                                                             (long long)setting)
                                                   : db_err(db, "reading a setting's data");
    if ((st = prepare(db, &s, "UPDATE settings SET data = ?2 WHERE id = ?1"))) return st;
    sqlite3_bind_int64(s, 1, setting);
    sqlite3_bind_text(s, 2, key, -1, SQLITE_STATIC);
    if (sqlite3_step(s) != SQLITE_DONE) st = db_err(db, "storing a setting's data");
    sqlite3_finalize(s);
    return st;
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
    if (db->readonly) return mn_fail(MN_EINVAL, "%s: opened read-only: cannot store runs", db->path);
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
        bind_real(s, 20, r->theta_norm);
        if (r->theta && r->ntheta)
            sqlite3_bind_blob64(s, 21, r->theta, (sqlite3_uint64)(r->ntheta * sizeof *r->theta), SQLITE_STATIC);
        else
            sqlite3_bind_null(s, 21);
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
        r->theta_norm = col_real(s, 19);
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

/* ATTACHes in_path read-only as schema "src" (read-only storage included:
 * as in open_readonly, immutable when no -wal file holds pending commits). */
static mn_status attach_readonly(mn_db *db, const char *in_path)
{
    const char *const queries[] = {"mode=ro", "mode=ro&immutable=1"};
    for (int k = 0; k < 2; k++) {
        char *uri = path_uri(in_path, queries[k]);
        if (!uri) return mn_fail(MN_ENOMEM, "out of memory");
        sqlite3_stmt *a;
        mn_status st = prepare(db, &a, "ATTACH DATABASE ?1 AS src");
        if (st) {
            free(uri);
            return st;
        }
        sqlite3_bind_text(a, 1, uri, -1, SQLITE_STATIC);
        int rc = sqlite3_step(a);
        sqlite3_finalize(a);
        free(uri);
        /* A file that is not SQLite fails on its first read. */
        if (rc == SQLITE_DONE && scalar(db, "SELECT count(*) FROM src.sqlite_master") >= 0) return MN_OK;
        int ext = sqlite3_extended_errcode(db->h);
        if (rc == SQLITE_DONE) {
            st = mn_fail((ext & 0xff) == SQLITE_NOTADB ? MN_EFORMAT : MN_EIO, "%s: %s", in_path,
                         sqlite3_errmsg(db->h));
            sqlite3_exec(db->h, "DETACH DATABASE src", NULL, NULL, NULL);
        } else {
            st = mn_fail(MN_EIO, "cannot open database '%s': %s", in_path, sqlite3_errmsg(db->h));
        }
        if (k == 0 && no_shm(ext)) {
            if ((st = pending_wal(in_path))) return st;
            continue;
        }
        return st;
    }
    return mn_fail(MN_EIO, "cannot open database '%s'", in_path);
}

/* A setting run on different data in the two databases (both keys known)
 * cannot be merged: its runs would mix two data sets. */
static mn_status data_conflict(mn_db *db, const char *in_path)
{
    sqlite3_stmt *s;
    mn_status st = prepare(db, &s,
                           "SELECT m.canon, m.data, s.data FROM src.settings s JOIN main.settings m ON "
                           "m.canon = s.canon WHERE m.data IS NOT NULL AND s.data IS NOT NULL AND "
                           "m.data IS NOT s.data ORDER BY m.id LIMIT 1");
    if (st) return st;
    int rc = sqlite3_step(s);
    if (rc == SQLITE_ROW)
        st = mn_fail(MN_EINVAL, "%s: setting '%s' was run on other data there (%s) than in %s (%s): not merged",
                     in_path, (const char *)sqlite3_column_text(s, 0), (const char *)sqlite3_column_text(s, 2),
                     db->path, (const char *)sqlite3_column_text(s, 1));
    else if (rc != SQLITE_DONE)
        st = db_err(db, "comparing the settings' data");
    sqlite3_finalize(s);
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
    mn_status st = attach_readonly(db, in_path);
    if (st) return st;
    if (!st) st = check_version(db, "src", in_path);
    if (!st) st = exec(db, "BEGIN IMMEDIATE", "cannot merge");
    if (st) goto detach;
    if ((st = data_conflict(db, in_path))) goto rollback;
    if ((st = exec(db,
                   "INSERT OR IGNORE INTO main.settings (canon, options, data) "
                   "SELECT canon, options, data FROM src.settings ORDER BY id;"
                   "UPDATE main.settings SET data = (SELECT s.data FROM src.settings s WHERE s.canon = "
                   "main.settings.canon) WHERE data IS NULL",
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
                              " OR o.elim_a_exp_b IS NOT r.elim_a_exp_b OR o.reason IS NOT r.reason"
                              " OR o.theta_norm IS NOT r.theta_norm");
    if (sk < 0 || df < 0) {
        st = db_err(db, "cannot merge runs");
        goto rollback;
    }
    if ((st = exec(db,
                   "INSERT OR IGNORE INTO main.runs (" RUN_COLS ", theta) SELECT m.id, r.restart, r.seed, "
                   "r.optimizer, r.iterations, r.loss, r.grad_norm, r.lambda_min, r.lambda_max, "
                   "r.kink_margin, r.class, r.near_kink, r.accuracy, r.elim_a, r.elim_b, r.elim_w_norm, "
                   "r.elim_a_exp_b, r.reason, r.seconds, r.theta_norm, r.theta" JOIN,
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

/* Doubles as %.17g (read back bit-identical); infinities as inf / -inf,
 * which strtod, Python, numpy, pandas and R all read; NULL as an empty field. */
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

/* A text column that the schema says is never NULL; a damaged or foreign
 * row may still hold NULL: an empty field then, never "(null)". */
static void csv_word(FILE *f, sqlite3_stmt *s, int i)
{
    const char *t = (const char *)sqlite3_column_text(s, i);
    if (t) fputs(t, f);
}

mn_status mn_db_export_csv(mn_db *db, FILE *out, int timings)
{
    sqlite3_stmt *s;
    /* best_loss: the lowest finite loss of the setting's runs, the best found
     * that certified minima of unknown global value are classified against
     * (mn_summarize's rule, mn_class_vs_best) */
    mn_status st = prepare(db, &s,
                           "SELECT r.setting, s.canon, r.restart, r.seed, r.optimizer, r.iterations, r.loss, "
                           "r.grad_norm, r.theta_norm, r.lambda_min, r.lambda_max, r.kink_margin, r.class, "
                           "r.near_kink, r.accuracy, r.elim_a, r.elim_b, r.elim_w_norm, r.elim_a_exp_b, r.reason, "
                           "r.seconds, (SELECT MIN(b.loss) FROM runs b WHERE b.setting = r.setting AND "
                           "b.loss BETWEEN -1.7976931348623157e308 AND 1.7976931348623157e308), s.options "
                           "FROM runs r JOIN settings s ON s.id = r.setting ORDER BY s.canon, r.restart");
    if (st) return st;
    fprintf(out, "setting,options,restart,seed,optimizer,iterations,loss,grad_norm,theta_norm,lambda_min,"
                 "lambda_max,kink_margin,class,best_loss,near_kink,accuracy,elim_a,elim_b,elim_w_norm,elim_a_exp_b,"
                 "reason%s\n",
            timings ? ",seconds" : "");
    int rc;
    int64_t tol_of = -1; /* the setting whose global_tol is in co */
    mn_cert_opts co;
    while ((rc = sqlite3_step(s)) == SQLITE_ROW) {
        const int64_t id = sqlite3_column_int64(s, 0);
        fprintf(out, "%lld,", (long long)id);
        csv_text(out, (const char *)sqlite3_column_text(s, 1));
        fprintf(out, ",%lld,%lld,", (long long)sqlite3_column_int64(s, 2), (long long)sqlite3_column_int64(s, 3));
        csv_word(out, s, 4);
        fprintf(out, ",%lld", (long long)sqlite3_column_int64(s, 5));
        for (int i = 6; i <= 11; i++) fputc(',', out), csv_real(out, s, i);
        fputc(',', out);
        mn_class c = class_of((const char *)sqlite3_column_text(s, 12));
        if (c == MN_CLASS_MINIMUM && sqlite3_column_type(s, 21) != SQLITE_NULL) {
            if (tol_of != id) {
                const char *json = (const char *)sqlite3_column_text(s, 22);
                if ((st = mn_setting_cert_opts(&co, json ? json : ""))) break;
                tol_of = id;
            }
            c = mn_class_vs_best(c, sqlite3_column_double(s, 6), sqlite3_column_double(s, 21), co.global_tol);
            fputs(mn_class_name(c), out);
        } else {
            csv_word(out, s, 12);
        }
        fputc(',', out), csv_real(out, s, 21);
        fprintf(out, ",%d,", sqlite3_column_int(s, 13));
        csv_real(out, s, 14);
        for (int i = 15; i <= 18; i++) fputc(',', out), csv_real(out, s, i);
        fputc(',', out);
        if (sqlite3_column_type(s, 19) != SQLITE_NULL) csv_text(out, (const char *)sqlite3_column_text(s, 19));
        if (timings) fputc(',', out), csv_real(out, s, 20);
        fputc('\n', out);
    }
    if (!st && rc != SQLITE_DONE) st = db_err(db, "reading runs");
    sqlite3_finalize(s);
    return st;
}
