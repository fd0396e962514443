/* Grids of options (base values and axes), their cartesian product, config
 * files, canonical option strings and run seeds. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "minima.h"
#include "minima/sweep.h"

typedef struct {
    char *key, *origin;
    int is_axis;
    int n;       /* values */
    char **vals; /* (n) */
} entry;

struct mn_grid {
    int n;
    entry e[MN_GRID_MAX_KEYS];
};

mn_status mn_grid_alloc(mn_grid **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
}

static void entry_clear(entry *e)
{
    for (int v = 0; v < e->n; v++) free(e->vals[v]);
    free(e->vals), free(e->key), free(e->origin);
    memset(e, 0, sizeof *e);
}

void mn_grid_free(mn_grid *g)
{
    if (!g) return;
    for (int j = 0; j < g->n; j++) entry_clear(&g->e[j]);
    free(g);
}

static char *str_dup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d) memcpy(d, s, n);
    return d;
}

static mn_status set(mn_grid *g, const char *key, const char *const *values, int nvalues, int is_axis,
                     const char *origin)
{
    if (!key || !*key) return mn_fail(MN_EINVAL, "%s: empty option name", origin);
    if (nvalues < 1) return mn_fail(MN_EINVAL, "%s: '%s' has no values", origin, key);
    for (int v = 0; v < nvalues; v++)
        if (!values[v] || !*values[v]) return mn_fail(MN_EINVAL, "%s: '%s' has an empty value", origin, key);
    /* A value listed twice would be one setting run twice under two ids. */
    for (int v = 1; v < nvalues; v++)
        for (int u = 0; u < v; u++)
            if (!strcmp(values[u], values[v]))
                return mn_fail(MN_EINVAL, "%s: '%s' lists the value '%s' twice", origin, key, values[v]);
    int j = 0;
    while (j < g->n && strcmp(g->e[j].key, key)) j++;
    if (j == MN_GRID_MAX_KEYS) return mn_fail(MN_EINVAL, "%s: more than %d options", origin, MN_GRID_MAX_KEYS);
    entry e = {.key = str_dup(key), .origin = str_dup(origin), .is_axis = is_axis, .n = nvalues,
               .vals = calloc((size_t)nvalues, sizeof(char *))};
    int ok = e.key && e.origin && e.vals;
    for (int v = 0; ok && v < nvalues; v++) ok = (e.vals[v] = str_dup(values[v])) != NULL;
    if (!ok) {
        entry_clear(&e);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    if (j < g->n)
        entry_clear(&g->e[j]); /* replaced in place: the axis order stays */
    else
        g->n++;
    g->e[j] = e;
    return MN_OK;
}

mn_status mn_grid_set_base(mn_grid *g, const char *key, const char *value, const char *origin)
{
    return set(g, key, &value, 1, 0, origin);
}

mn_status mn_grid_set_axis(mn_grid *g, const char *key, const char *const *values, int nvalues,
                           const char *origin)
{
    return set(g, key, values, nvalues, 1, origin);
}

mn_status mn_grid_parse_axis(mn_grid *g, const char *spec, const char *origin)
{
    const char *eq = strchr(spec, '=');
    if (!eq) return mn_fail(MN_EINVAL, "%s '%s': expected KEY=V1,V2,...", origin, spec);
    if (eq == spec) return mn_fail(MN_EINVAL, "%s '%s': no option name before '='", origin, spec);
    if (!eq[1]) return mn_fail(MN_EINVAL, "%s '%s': no values after '='", origin, spec);
    char *copy = str_dup(spec);
    int nv = 1;
    for (const char *p = eq + 1; *p; p++) nv += *p == ',';
    const char **vals = malloc((size_t)nv * sizeof *vals);
    if (!copy || !vals) {
        free(copy), free(vals);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    char *key = copy, *p = copy + (eq - spec);
    *p++ = '\0';
    for (int v = 0; v < nv; v++) {
        vals[v] = p;
        char *c = strchr(p, ',');
        if (c) *c = '\0', p = c + 1;
    }
    mn_status st = MN_OK;
    for (int v = 0; v < nv && !st; v++)
        if (!*vals[v])
            st = mn_fail(MN_EINVAL, "%s '%s': empty value (number %d) in the list", origin, spec, v + 1);
    if (!st) st = set(g, key, vals, nv, 1, origin);
    free(copy), free(vals);
    return st;
}

void mn_num_shortest(char *buf, size_t n, double x)
{
    for (int prec = 6; prec <= 17; prec++) {
        snprintf(buf, n, "%.*g", prec, x);
        if (strtod(buf, NULL) == x) return;
    }
}

/* A JSON scalar as an option value: strings as they are, booleans on/off,
 * integers as integers, other numbers in the shortest round-trip form.
 * -1: not a scalar (or too long); -2: an integer past 2^53. */
#define BIG_INT "an integer past 2^53, which a JSON number cannot hold exactly: write it as a string"
static int json_value(char *buf, size_t len, const cJSON *v)
{
    if (cJSON_IsString(v)) {
        if (strlen(v->valuestring) >= len) return -1;
        strcpy(buf, v->valuestring);
        return 0;
    }
    if (cJSON_IsBool(v)) {
        snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "on" : "off");
        return 0;
    }
    if (cJSON_IsNumber(v)) {
        double x = v->valuedouble;
        if (!isfinite(x)) return -1;
        /* Past 2^53 a JSON number (a double) no longer holds every integer:
         * a seed such as 9007199254740993 would be read as ...992. */
        if (x == floor(x) && fabs(x) >= 9007199254740992.0) return -2;
        if (x == floor(x) && fabs(x) < 9007199254740992.0) {
            snprintf(buf, len, "%.0f", x);
            return 0;
        }
        mn_num_shortest(buf, len, x);
        return 0;
    }
    return -1;
}

static mn_status read_file(char **text, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) return mn_fail(MN_EIO, "cannot open config file '%s': %s", path, strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf) break;
        n += fread(buf + n, 1, cap - 1 - n, f);
        if (n < cap - 1) break;
        char *nb = cap > ((size_t)1 << 26) ? NULL : realloc(buf, cap * 2);
        if (!nb) {
            free(buf), buf = NULL;
            break;
        }
        buf = nb, cap *= 2;
    }
    int err = ferror(f);
    fclose(f);
    if (!buf) return mn_fail(MN_EFORMAT, "%s: too large or out of memory (a config file is at most 64 MiB)", path);
    if (err) {
        free(buf);
        return mn_fail(MN_EIO, "%s: read error (is it a folder?)", path);
    }
    buf[n] = '\0';
    *text = buf;
    return MN_OK;
}

mn_status mn_grid_read_config(mn_grid *g, const char *path)
{
    char *text = NULL;
    mn_status st = read_file(&text, path);
    if (st) return st;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithOpts(text, &end, 1);
    if (!root) {
        const char *at = end ? end : text;
        int line = 1, col = 1;
        for (const char *p = text; p < at && *p; p++) {
            if (*p == '\n')
                line++, col = 1;
            else
                col++;
        }
        st = mn_fail(MN_EFORMAT, "%s:%d:%d: not valid JSON", path, line, col);
        free(text);
        return st;
    }
    free(text);
    char origin[512], val[4096];
    if (!cJSON_IsObject(root)) {
        st = mn_fail(MN_EFORMAT, "%s: expected an object {\"base\": {...}, \"grid\": {...}}", path);
        goto done;
    }
    for (cJSON *sec = root->child; sec && !st; sec = sec->next) {
        int is_grid = !strcmp(sec->string, "grid");
        if (!is_grid && strcmp(sec->string, "base")) {
            st = mn_fail(MN_EFORMAT, "%s: unknown key '%s' (expected \"base\" and \"grid\")", path, sec->string);
            break;
        }
        if (!cJSON_IsObject(sec)) {
            st = mn_fail(MN_EFORMAT, "%s: \"%s\" must be an object of options", path, sec->string);
            break;
        }
        snprintf(origin, sizeof origin, "%s: %s", path, sec->string);
        for (cJSON *it = sec->child; it && !st; it = it->next) {
            if (!is_grid) {
                const int jv = json_value(val, sizeof val, it);
                if (jv == -2)
                    st = mn_fail(MN_EFORMAT, "%s.%s: the number reads as %.17g, %s", origin, it->string,
                                 it->valuedouble, BIG_INT);
                else if (jv)
                    st = mn_fail(MN_EFORMAT, "%s.%s: the value must be a string, number or boolean", origin,
                                 it->string);
                else
                    st = mn_grid_set_base(g, it->string, val, origin);
                continue;
            }
            if (!cJSON_IsArray(it)) {
                st = mn_fail(MN_EFORMAT, "%s.%s: must be a list of values, e.g. [1, 2]", origin, it->string);
                break;
            }
            int nv = cJSON_GetArraySize(it);
            if (nv == 0) {
                st = mn_fail(MN_EFORMAT, "%s.%s: empty list", origin, it->string);
                break;
            }
            char **vals = calloc((size_t)nv, sizeof *vals);
            if (!vals) {
                st = mn_fail(MN_ENOMEM, "out of memory");
                break;
            }
            int v = 0;
            for (cJSON *x = it->child; x && !st; x = x->next, v++) {
                const int jv = json_value(val, sizeof val, x);
                if (jv == -2)
                    st = mn_fail(MN_EFORMAT, "%s.%s: value %d reads as %.17g, %s", origin, it->string, v + 1,
                                 x->valuedouble, BIG_INT);
                else if (jv)
                    st = mn_fail(MN_EFORMAT, "%s.%s: value %d must be a string, number or boolean", origin,
                                 it->string, v + 1);
                else if (!(vals[v] = str_dup(val)))
                    st = mn_fail(MN_ENOMEM, "out of memory");
            }
            if (!st) st = mn_grid_set_axis(g, it->string, (const char *const *)vals, nv, origin);
            for (v = 0; v < nv; v++) free(vals[v]);
            free(vals);
        }
    }
    if (st == MN_EINVAL) st = MN_EFORMAT; /* an empty value in the file: the file is malformed */
done:
    cJSON_Delete(root);
    return st;
}

int mn_grid_nkeys(const mn_grid *g) { return g->n; }

const char *mn_grid_key(const mn_grid *g, int j, const char **origin, int *is_axis, int *nvalues)
{
    if (origin) *origin = g->e[j].origin;
    if (is_axis) *is_axis = g->e[j].is_axis;
    if (nvalues) *nvalues = g->e[j].n;
    return g->e[j].key;
}

const char *mn_grid_value(const mn_grid *g, int j, int v) { return g->e[j].vals[v]; }

mn_status mn_grid_nsettings(const mn_grid *g, long *n)
{
    long total = 1;
    for (int j = 0; j < g->n; j++) {
        if (!g->e[j].is_axis) continue;
        if (total > MN_GRID_MAX_SETTINGS / g->e[j].n)
            return mn_fail(MN_EINVAL, "the grid has more than %d settings", MN_GRID_MAX_SETTINGS);
        total *= g->e[j].n;
    }
    *n = total;
    return MN_OK;
}

void mn_grid_setting(const mn_grid *g, long i, const char **vals)
{
    for (int j = g->n - 1; j >= 0; j--) { /* the last axis varies fastest */
        const entry *e = &g->e[j];
        if (!e->is_axis) {
            vals[j] = e->vals[0];
            continue;
        }
        vals[j] = e->vals[i % e->n];
        i /= e->n;
    }
}

/* A growing string. */
typedef struct {
    char *p;
    size_t n, cap;
    int oom;
} sbuf;

static void put(sbuf *b, const char *s, size_t len)
{
    if (b->oom) return;
    if (b->n + len + 1 > b->cap) {
        size_t cap = (b->cap ? b->cap : 256);
        while (b->n + len + 1 > cap) cap *= 2;
        char *np = realloc(b->p, cap);
        if (!np) {
            b->oom = 1;
            return;
        }
        b->p = np, b->cap = cap;
    }
    memcpy(b->p + b->n, s, len);
    b->n += len;
    b->p[b->n] = '\0';
}

static void puts_(sbuf *b, const char *s) { put(b, s, strlen(s)); }

/* s, in double quotes with JSON escapes when `always` or when it is empty or
 * holds a space, quote, backslash or control character. */
static void put_quoted(sbuf *b, const char *s, int always)
{
    int need = always || !*s;
    for (const unsigned char *p = (const unsigned char *)s; *p && !need; p++)
        need = *p <= ' ' || *p == '"' || *p == '\\' || *p == 0x7f;
    if (!need) {
        puts_(b, s);
        return;
    }
    puts_(b, "\"");
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char tmp[8];
        if (*p == '"' || *p == '\\')
            snprintf(tmp, sizeof tmp, "\\%c", *p);
        else if (*p < 0x20 || *p == 0x7f)
            snprintf(tmp, sizeof tmp, "\\u%04x", *p);
        else
            tmp[0] = (char)*p, tmp[1] = '\0';
        puts_(b, tmp);
    }
    puts_(b, "\"");
}

/* sorted = 1: mn_canon; 0: mn_canon_listed. */
static mn_status canon_join(char **canon, char **json, const char *const *keys, const char *const *vals, int n,
                            int sorted)
{
    *canon = NULL;
    if (json) *json = NULL;
    int *ord = malloc((size_t)(n > 0 ? n : 1) * sizeof *ord);
    if (!ord) return mn_fail(MN_ENOMEM, "out of memory");
    for (int i = 0; i < n; i++) ord[i] = i;
    /* insertion sort by key: n is small, and qsort's comparator would need a global */
    for (int i = 1; i < n && sorted; i++)
        for (int k = i; k > 0 && strcmp(keys[ord[k - 1]], keys[ord[k]]) > 0; k--) {
            int t = ord[k];
            ord[k] = ord[k - 1], ord[k - 1] = t;
        }
    sbuf c = {0}, j = {0};
    puts_(&c, "");
    puts_(&j, "{");
    int first = 1;
    for (int i = 0; i < n; i++) {
        const char *k = keys[ord[i]], *v = vals[ord[i]];
        int twice = 0; /* sorted: a repeat is the neighbour */
        for (int q = sorted ? i - 1 : 0; q < i && q >= 0; q++) twice |= !strcmp(k, keys[ord[q]]);
        if (twice) {
            free(ord), free(c.p), free(j.p);
            return mn_fail(MN_EINVAL, "option '%s' given twice", k);
        }
        if (!first) puts_(&c, " "), puts_(&j, ",");
        first = 0;
        put_quoted(&c, k, 0), puts_(&c, "="), put_quoted(&c, v, 0);
        put_quoted(&j, k, 1), puts_(&j, ":"), put_quoted(&j, v, 1);
    }
    puts_(&j, "}");
    free(ord);
    if (c.oom || j.oom) {
        free(c.p), free(j.p);
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    *canon = c.p;
    if (json)
        *json = j.p;
    else
        free(j.p);
    return MN_OK;
}

mn_status mn_canon(char **canon, char **json, const char *const *keys, const char *const *vals, int n)
{
    return canon_join(canon, json, keys, vals, n, 1);
}

mn_status mn_canon_run(char **canon, char **json, const char *const *keys, const char *const *vals, int n)
{
    int neuron = 0, lambda = 0;
    for (int i = 0; i < n; i++) {
        neuron |= !strcmp(keys[i], "eliminate") && strcmp(vals[i], "none");
        lambda |= !strcmp(keys[i], "lambda");
    }
    if (!neuron || lambda) return mn_canon(canon, json, keys, vals, n);
    const char **k = malloc((size_t)(n + 1) * sizeof *k), **v = malloc((size_t)(n + 1) * sizeof *v);
    if (!k || !v) {
        free(k), free(v);
        *canon = NULL;
        if (json) *json = NULL;
        return mn_fail(MN_ENOMEM, "out of memory");
    }
    mn_spec sp;
    mn_spec_default(&sp);
    char def[32];
    mn_num_shortest(def, sizeof def, sp.lambda);
    memcpy(k, keys, (size_t)n * sizeof *k), memcpy(v, vals, (size_t)n * sizeof *v);
    k[n] = "lambda", v[n] = def;
    mn_status st = mn_canon(canon, json, k, v, n + 1);
    free(k), free(v);
    return st;
}

mn_status mn_canon_listed(char **canon, char **json, const char *const *keys, const char *const *vals, int n)
{
    return canon_join(canon, json, keys, vals, n, 0);
}

uint64_t mn_hash_str(const char *s)
{
    return mn_hash_bytes(MN_FNV_OFFSET, s, strlen(s));
}

uint64_t mn_sweep_seed(uint64_t base, const char *canon, long restart)
{
    const uint64_t idx[2] = {mn_hash_str(canon), (uint64_t)restart};
    return mn_seed_derive(base, idx, 2) & 0x7fffffffffffffffULL;
}
