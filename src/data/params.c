/* Parameter files: P whitespace-separated numbers in the layout of
 * minima.h, as `minima train --save-params` writes them. */
#include "minima.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TOKEN_MAX 128 /* bytes of one number; 17 significant digits need ~25 */

static int is_space(int c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* tok for a message: printable ASCII as is, every other byte as \xHH. */
static const char *shown(char *buf, size_t len, const char *tok)
{
    size_t k = 0;
    for (const unsigned char *p = (const unsigned char *)tok; *p && k + 5 < len; p++) {
        if (*p >= 0x20 && *p < 0x7f)
            buf[k++] = (char)*p;
        else
            k += (size_t)snprintf(buf + k, len - k, "\\x%02x", *p);
    }
    buf[k] = '\0';
    return buf;
}

mn_status mn_params_read(double *theta, size_t P, const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f) return mn_fail(MN_EIO, "cannot open params file '%s': %s", path, strerror(errno));
    char tok[TOKEN_MAX + 1], show[4 * TOKEN_MAX + 8];
    size_t n = 0, at = 0; /* numbers read, bytes read */
    mn_status st = MN_OK;
    int c = getc(f);
    if (c == 0xEF) { /* a UTF-8 byte-order mark is not part of the first number */
        int c2 = getc(f), c3 = c2 == 0xBB ? getc(f) : EOF;
        if (c2 == 0xBB && c3 == 0xBF)
            c = getc(f), at = 3;
        else
            st = mn_fail(MN_EFORMAT, "%s: byte 1 is 0xef but no UTF-8 byte-order mark follows", path);
    }
    while (!st) {
        while (c != EOF && c != '\0' && is_space(c)) c = getc(f), at++;
        if (c == EOF) break;
        size_t len = 0;
        while (c != EOF && c != '\0' && !is_space(c)) {
            if (len < TOKEN_MAX) tok[len] = (char)c;
            len++, at++;
            if (len > TOKEN_MAX) break; /* a bounded token: /dev/zero-like input cannot run on */
            c = getc(f);
        }
        tok[len < TOKEN_MAX ? len : TOKEN_MAX] = '\0';
        if (c == '\0') {
            st = mn_fail(MN_EFORMAT, "%s: NUL byte at byte %zu (binary file?)", path, at + 1);
            break;
        }
        if (len > TOKEN_MAX) {
            st = mn_fail(MN_EFORMAT, "%s: number %zu is longer than %d bytes ('%.20s...')", path, n + 1, TOKEN_MAX,
                         shown(show, sizeof show, tok));
            break;
        }
        char *end;
        double v = strtod(tok, &end);
        if (end == tok || *end) {
            st = mn_fail(MN_EFORMAT, "%s: number %zu '%s' is not a number", path, n + 1, shown(show, sizeof show, tok));
            break;
        }
        if (!isfinite(v)) { /* nan, inf, or overflow; underflow to a tiny value is fine */
            st = mn_fail(MN_EFORMAT, "%s: number %zu '%s' is not finite", path, n + 1, shown(show, sizeof show, tok));
            break;
        }
        if (n == P) { /* stop at the first surplus number: an endless stream cannot run on */
            st = mn_fail(MN_EFORMAT, "%s: the model has %zu parameters but the file holds more numbers", path, P);
            break;
        }
        theta[n++] = v;
    }
    if (!st && ferror(f)) st = mn_fail(MN_EIO, "%s: read error", path);
    fclose(f);
    if (!st && n != P)
        st = mn_fail(MN_EFORMAT, "%s: the model has %zu parameters but the file holds %zu numbers", path, P, n);
    return st;
}
