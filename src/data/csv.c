/* CSV reader: a header row of column names, then one row of numbers per
 * sample. Label columns (chosen by name or 0-based index) go to y in the
 * order given; every other column is a feature, in file order. Content
 * errors read "PATH:LINE:COL: reason" (1-based), on one line. */
#include "minima.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Same bound as mn_data_alloc: checked while reading so a huge file fails
 * before it has been copied into memory. */
#define MAX_VALUES ((size_t)INT_MAX)
#define SHOW_MAX 40   /* characters of a field quoted back in a message */
#define NAMES_MAX 200 /* characters of the column list in a message */
/* Bytes in one line: 100000 columns of 17-digit numbers fit with room to
 * spare; past it the file is not a table of numbers, and reading on would
 * hold an unbounded line in memory. */
#define LINE_MAX_BYTES ((size_t)1 << 24)

typedef struct {
    const char *path;
    FILE *f;
    char *line; /* current line, split in place into NUL-terminated fields */
    size_t cap, len;
    long lineno; /* physical line number, 1-based */
    char **fields;
    int nfields, fcap;
    char *head; /* header line (owned), names point into it */
    char **names;
    int ncols;
    char *lab; /* copy of the label list, tok point into it */
    char **tok;
    int ntok;
    int *dest;    /* ncols: slot of column c in a stored row (features, labels) */
    double *vals; /* nrows x ncols, grown by doubling */
    size_t nvals, vcap;
    int nrows;
} reader;

static int is_blank(char c) { return c == ' ' || c == '\t'; }

/* s for a message: at most SHOW_MAX characters, control bytes as '?'. */
static const char *show(char buf[SHOW_MAX + 4], const char *s)
{
    size_t i = 0;
    for (; s[i] && i < SHOW_MAX; i++)
        buf[i] = ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) ? '?' : s[i];
    strcpy(buf + i, s[i] ? "..." : "");
    return buf;
}

static void reader_free(reader *r)
{
    if (r->f) fclose(r->f);
    free(r->line);
    free(r->fields);
    free(r->head);
    free(r->names);
    free(r->lab);
    free(r->tok);
    free(r->dest);
    free(r->vals);
}

/* Grows an array of char * to hold one more entry. */
static int grow_ptrs(char ***a, int *cap, int need)
{
    if (need <= *cap) return 1;
    if (*cap > INT_MAX / 2) return 0;
    int nc = *cap ? 2 * *cap : 16;
    char **p = realloc(*a, (size_t)nc * sizeof *p);
    if (!p) return 0;
    *a = p;
    *cap = nc;
    return 1;
}

/* One physical line, its '\n' kept, into r->line (NUL-terminated after len
 * bytes, which may hold NULs); len = 0 at the end of the file. */
static mn_status read_line(reader *r, size_t *len)
{
    size_t n = 0;
    int c;
    errno = 0;
    while ((c = getc_unlocked(r->f)) != EOF) {
        if (n + 2 > r->cap) {
            if (r->cap >= LINE_MAX_BYTES)
                return mn_fail(MN_EFORMAT, "%s:%ld: line longer than %zu bytes (not a table of numbers?)",
                               r->path, r->lineno + 1, LINE_MAX_BYTES);
            size_t nc = r->cap ? 2 * r->cap : 256;
            nc = nc > LINE_MAX_BYTES ? LINE_MAX_BYTES : nc;
            char *p = realloc(r->line, nc);
            if (!p) return mn_fail(MN_ENOMEM, "%s:%ld: out of memory", r->path, r->lineno + 1);
            r->line = p, r->cap = nc;
        }
        r->line[n++] = (char)c;
        if (c == '\n') break;
    }
    if (ferror(r->f)) return mn_fail(MN_EIO, "cannot read '%s': %s", r->path, strerror(errno));
    if (r->line) r->line[n] = '\0';
    *len = n;
    return MN_OK;
}

/* Next line that is not blank, without its line ending (and BOM on line 1).
 * *got = 0 at the end of the file. */
static mn_status next_line(reader *r, int *got)
{
    for (;;) {
        size_t len = 0;
        mn_status st = read_line(r, &len);
        if (st) return st;
        if (len == 0 && feof(r->f)) {
            *got = 0;
            return MN_OK;
        }
        r->lineno++;
        char *s = r->line;
        if (len && s[len - 1] == '\n') len--;
        if (len && s[len - 1] == '\r') len--;
        s[len] = '\0';
        if (memchr(s, '\0', len))
            return mn_fail(MN_EFORMAT, "%s:%ld: NUL byte in line (binary file?)", r->path, r->lineno);
        if (r->lineno == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0) {
            memmove(s, s + 3, len - 2); /* drop the UTF-8 byte-order mark, keep the NUL */
            len -= 3;
        }
        r->len = len;
        size_t i = 0;
        while (i < len && is_blank(s[i])) i++;
        if (i < len) {
            *got = 1;
            return MN_OK;
        }
    }
}

/* Splits r->line at commas into r->fields, in place. A field may be quoted
 * ("a,b", "" for a quote); blanks around a field are dropped. */
static mn_status split(reader *r)
{
    char *p = r->line, *end = r->line + r->len;
    r->nfields = 0;
    for (;;) {
        int col = r->nfields + 1;
        if (!grow_ptrs(&r->fields, &r->fcap, col))
            return mn_fail(MN_ENOMEM, "%s:%ld: out of memory", r->path, r->lineno);
        while (p < end && is_blank(*p)) p++;
        char *start = p, *w = p;
        if (p < end && *p == '"') {
            for (p++;; p++) {
                if (p == end) return mn_fail(MN_EFORMAT, "%s:%ld:%d: unterminated quote", r->path, r->lineno, col);
                if (*p == '"' && (p + 1 == end || p[1] != '"')) break;
                if (*p == '"') p++; /* "" stands for one quote */
                *w++ = *p;
            }
            for (p++; p < end && is_blank(*p); p++) {}
            if (p < end && *p != ',')
                return mn_fail(MN_EFORMAT, "%s:%ld:%d: text after closing quote", r->path, r->lineno, col);
        } else {
            while (p < end && *p != ',') p++;
            for (w = p; w > start && is_blank(w[-1]); w--) {}
        }
        int last = (p == end);
        *w = '\0'; /* w <= p: only text already read is overwritten */
        r->fields[r->nfields++] = start;
        if (last) return MN_OK;
        p++;
    }
}

/* The label list "y" / "3" / "y1, y2" as tokens; NULL: none. */
static mn_status parse_labels(reader *r, const char *label)
{
    if (!label) return MN_OK;
    size_t i = strspn(label, " \t");
    if (!label[i])
        return mn_fail(MN_EINVAL, "%s: the label list '%s' is empty: name the label column(s)", r->path, label);
    int tcap = 0;
    if (!(r->lab = strdup(label))) return mn_fail(MN_ENOMEM, "%s: out of memory", r->path);
    for (char *p = r->lab;;) {
        char *c = strchr(p, ',');
        if (c) *c = '\0';
        while (is_blank(*p)) p++;
        size_t n = strlen(p);
        while (n && is_blank(p[n - 1])) p[--n] = '\0';
        if (!n) {
            char b[SHOW_MAX + 4];
            return mn_fail(MN_EINVAL, "%s: empty column name in label list '%s'", r->path, show(b, label));
        }
        if (!grow_ptrs(&r->tok, &tcap, r->ntok + 1)) return mn_fail(MN_ENOMEM, "%s: out of memory", r->path);
        r->tok[r->ntok++] = p;
        if (!c) return MN_OK;
        p = c + 1;
    }
}

/* Keeps the first non-blank line as the header: column names, unquoted. */
static mn_status read_header(reader *r)
{
    int got;
    mn_status st = next_line(r, &got);
    if (st) return st;
    if (!got) return mn_fail(MN_EFORMAT, "%s: empty file", r->path);
    if ((st = split(r))) return st;
    r->ncols = r->nfields;
    r->head = r->line; /* take the buffer; getline makes a new one */
    r->line = NULL;
    r->cap = 0;
    r->names = malloc((size_t)r->ncols * sizeof *r->names);
    r->dest = malloc((size_t)r->ncols * sizeof *r->dest);
    if (!r->names || !r->dest) return mn_fail(MN_ENOMEM, "%s: out of memory", r->path);
    memcpy(r->names, r->fields, (size_t)r->ncols * sizeof *r->names);
    return MN_OK;
}

/* "a, b, c" (an empty name as '', cut short with "...") for the
 * label-not-found message. */
static void list_names(const reader *r, char *buf, size_t size)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int c = 0; c < r->ncols; c++) {
        char b[SHOW_MAX + 4];
        const char *sep = c ? ", " : "", *name = r->names[c][0] ? r->names[c] : "''";
        if (used + strlen(sep) + strlen(show(b, name)) + 5 >= size) {
            snprintf(buf + used, size - used, "%s...", sep);
            return;
        }
        used += (size_t)snprintf(buf + used, size - used, "%s%s", sep, b);
    }
}

/* Column of label token t: an exact name first, else an all-digit index. */
static mn_status find_column(const reader *r, const char *t, int *col)
{
    char b[SHOW_MAX + 4];
    int hits = 0;
    for (int c = 0; c < r->ncols; c++)
        if (strcmp(r->names[c], t) == 0 && hits++ == 0) *col = c;
    if (hits > 1)
        return mn_fail(MN_EFORMAT, "%s: label column '%s' is ambiguous (%d columns have that name)",
                       r->path, show(b, t), hits);
    if (hits) return MN_OK;
    if (strspn(t, "0123456789") == strlen(t)) {
        errno = 0;
        long k = strtol(t, NULL, 10);
        if (errno || k >= r->ncols)
            return mn_fail(MN_EFORMAT, "%s: label column index %s out of range (file has %d columns)",
                           r->path, show(b, t), r->ncols);
        *col = (int)k;
        return MN_OK;
    }
    char names[NAMES_MAX + 8];
    list_names(r, names, sizeof names);
    return mn_fail(MN_EFORMAT, "%s: label column '%s' not found (columns: %s)", r->path, show(b, t), names);
}

/* Fills dest: features take slots 0..d-1 in file order, labels d..d+m-1 in
 * the order given. Slots >= ncols mark labels while resolving. */
static mn_status resolve_labels(reader *r)
{
    for (int c = 0; c < r->ncols; c++) r->dest[c] = -1;
    for (int k = 0; k < r->ntok; k++) {
        int c = 0;
        mn_status st = find_column(r, r->tok[k], &c);
        if (st) return st;
        if (r->dest[c] >= 0) {
            char b[SHOW_MAX + 4];
            return mn_fail(MN_EINVAL, "%s: label column '%s' given twice", r->path, show(b, r->tok[k]));
        }
        r->dest[c] = r->ncols + k;
    }
    int d = r->ncols - r->ntok, f = 0;
    if (d < 1) return mn_fail(MN_EFORMAT, "%s: no feature columns (every column is a label)", r->path);
    for (int c = 0; c < r->ncols; c++) r->dest[c] = r->dest[c] < 0 ? f++ : r->dest[c] - r->ncols + d;
    return MN_OK;
}

/* A whole field as a finite double; blanks around it are allowed. */
static mn_status parse_value(const reader *r, const char *s, int col, double *v)
{
    char b[SHOW_MAX + 4], *end;
    if (!*s) return mn_fail(MN_EFORMAT, "%s:%ld:%d: empty field", r->path, r->lineno, col);
    double x = strtod(s, &end);
    while (is_blank(*end)) end++;
    if (end == s || *end)
        return mn_fail(MN_EFORMAT, "%s:%ld:%d: not a number: '%s'", r->path, r->lineno, col, show(b, s));
    if (!isfinite(x)) /* nan, inf, infinity, and overflow such as 1e999 */
        return mn_fail(MN_EFORMAT, "%s:%ld:%d: non-finite value '%s'", r->path, r->lineno, col, show(b, s));
    *v = x;
    return MN_OK;
}

/* Parses the current line as one sample appended to vals. */
static mn_status read_row(reader *r)
{
    mn_status st = split(r);
    if (st) return st;
    if (r->nfields != r->ncols)
        return mn_fail(MN_EFORMAT, "%s:%ld: expected %d fields, found %d", r->path, r->lineno, r->ncols,
                       r->nfields);
    size_t need = r->nvals + (size_t)r->ncols;
    if (need > MAX_VALUES || r->nrows == INT_MAX)
        return mn_fail(MN_EFORMAT, "%s:%ld: too many values (limit %zu)", r->path, r->lineno, MAX_VALUES);
    if (need > r->vcap) {
        size_t nc = r->vcap ? 2 * r->vcap : 1024;
        nc = nc < need ? need : nc;
        double *p = realloc(r->vals, nc * sizeof *p);
        if (!p) return mn_fail(MN_ENOMEM, "%s:%ld: out of memory", r->path, r->lineno);
        r->vals = p;
        r->vcap = nc;
    }
    double *row = r->vals + r->nvals;
    for (int c = 0; c < r->ncols; c++)
        if ((st = parse_value(r, r->fields[c], c + 1, &row[r->dest[c]]))) return st;
    r->nvals = need;
    r->nrows++;
    return MN_OK;
}

/* Copies the stored rows (nrows x ncols) into x (n x d) and y (n x m). */
static mn_status build(reader *r, mn_data **out)
{
    int m = r->ntok, d = r->ncols - m;
    mn_status st = mn_data_alloc(out, r->nrows, d, m);
    if (st) return st;
    double *x = mn_data_x(*out), *y = mn_data_y(*out);
    for (size_t i = 0; i < (size_t)r->nrows; i++) {
        const double *row = r->vals + i * (size_t)r->ncols;
        memcpy(x + i * (size_t)d, row, (size_t)d * sizeof *x);
        if (m) memcpy(y + i * (size_t)m, row + d, (size_t)m * sizeof *y);
    }
    return MN_OK;
}

mn_status mn_data_read_csv(mn_data **out, const char *path, const char *label)
{
    if (!out) return mn_fail(MN_EINVAL, "read_csv: output pointer is NULL");
    *out = NULL;
    if (!path) return mn_fail(MN_EINVAL, "read_csv: path is NULL");
    reader r = {.path = path};
    int got = 1;
    mn_status st = parse_labels(&r, label);
    if (!st && !(r.f = fopen(path, "r")))
        st = mn_fail(MN_EIO, "cannot open '%s': %s", path, strerror(errno));
    if (!st) st = read_header(&r);
    if (!st) st = resolve_labels(&r);
    while (!st && !(st = next_line(&r, &got)) && got) st = read_row(&r);
    if (!st && r.nrows == 0) st = mn_fail(MN_EFORMAT, "%s: no data rows", path);
    if (!st) st = build(&r, out);
    reader_free(&r);
    return st;
}
