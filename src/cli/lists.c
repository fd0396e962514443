/* Integers, seeds and lists of option values (cli_lists.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "cli_lists.h"

int cli_long(const char *cmd, const char *name, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (end == s || *end || errno) return cli_bad(cmd, "--%s: '%s' is not an integer", name, s);
    if (v < lo || v > hi) return cli_bad(cmd, "--%s %s is out of range [%ld, %ld]", name, s, lo, hi);
    *out = v;
    return 0;
}

int cli_u64(const char *cmd, const char *name, const char *s, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (*s == '-' || end == s || *end || errno) return cli_bad(cmd, "--%s: '%s' is not a non-negative integer", name, s);
    *out = v;
    return 0;
}

int cli_int_list(const char *cmd, const char *name, const char *s, long lo, long hi, int *out, int max, int *n)
{
    const char *dots = strstr(s, "..");
    *n = 0;
    if (dots) { /* A..B or A..B:S */
        char *end;
        errno = 0;
        long a = strtol(s, &end, 10), b = 0, step = a;
        int ok = end == dots && !errno;
        if (ok) b = strtol(dots + 2, &end, 10), ok = end != dots + 2 && !errno;
        if (ok && *end == ':') step = strtol(end + 1, &end, 10), ok = !errno;
        if (!ok || *end || step < 1 || a > b)
            return cli_bad(cmd, "--%s: '%s' is not a range A..B or A..B:S (A <= B, step >= 1)", name, s);
        for (long v = a; v <= b; v += step) {
            if (v < lo || v > hi) return cli_bad(cmd, "--%s: %ld is out of range [%ld, %ld]", name, v, lo, hi);
            if (*n == max) return cli_bad(cmd, "--%s: more than %d values", name, max);
            out[(*n)++] = (int)v;
        }
        return 0;
    }
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        long v = strtol(p, &end, 10);
        if (end == p || errno || (*end && *end != ','))
            return cli_bad(cmd, "--%s: '%s' is not a list of integers like 10,20 or a range 10..100", name, s);
        if (v < lo || v > hi) return cli_bad(cmd, "--%s: %ld is out of range [%ld, %ld]", name, v, lo, hi);
        if (*n == max) return cli_bad(cmd, "--%s: more than %d values", name, max);
        out[(*n)++] = (int)v;
        if (!*end) return 0;
        p = end + 1;
    }
}

int cli_num_list(const char *cmd, const char *name, const char *s, double lo, double hi, double *out, int max, int *n)
{
    *n = 0;
    for (const char *p = s;;) {
        char *end;
        errno = 0;
        double v = strtod(p, &end);
        if (end == p || errno || !isfinite(v) || (*end && *end != ','))
            return cli_bad(cmd, "--%s: '%s' is not a list of numbers like 0.25,0.5", name, s);
        if (v < lo || v > hi) return cli_bad(cmd, "--%s: %g is out of range [%g, %g]", name, v, lo, hi);
        if (*n == max) return cli_bad(cmd, "--%s: more than %d values", name, max);
        out[(*n)++] = v;
        if (!*end) return 0;
        p = end + 1;
    }
}
