/* The value lists and the common options of the experiment plans (internal.h). */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "experiment/internal.h"

int mn_parse_reals(const char *s, double lo, double hi, double *list, int max, int *count)
{
    char buf[1024];
    if (!*s || strlen(s) >= sizeof buf || s[strlen(s) - 1] == ',') return 0;
    strcpy(buf, s);
    int n = 0;
    char *save = NULL;
    for (char *tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
        char *end;
        errno = 0;
        const double v = strtod(tok, &end);
        if (n == max || end == tok || *end || errno || !isfinite(v) || v < lo || v > hi) return 0;
        for (int i = 0; i < n; i++)
            if (list[i] == v) return 0;
        list[n++] = v;
    }
    *count = n;
    return n > 0;
}

int mn_parse_ints(const char *s, int lo, int hi, int *list, int max, int *count)
{
    double t[256];
    int n = 0;
    if (max > 256 || !mn_parse_reals(s, lo, hi, t, max, &n)) return 0;
    for (int i = 0; i < n; i++)
        if (t[i] != floor(t[i])) return 0;
    for (int i = 0; i < n; i++) list[i] = (int)t[i];
    *count = n;
    return 1;
}

int mn_exp_set_common(mn_status *st, const mn_exp_common *c, const mn_option *o, const char *v)
{
    long l = 0;
    const char *name = o->name;
    *st = MN_OK;
    if (!strcmp(name, "quick")) *c->quick = 1;
    else if (!strcmp(name, "db")) *c->db = v;
    else if (!strcmp(name, "plot")) *c->plot = v;
    else if (!strcmp(name, "seed")) *st = mn_option_seed(c->seed, o, v);
    else if (!strcmp(name, "max-iter")) *st = mn_option_int(c->max_iter, o, v);
    else if (!strcmp(name, "restarts")) {
        if (!(*st = mn_option_int(&l, o, v))) *c->restarts = (int)l;
    } else if (!strcmp(name, "threads")) {
        if (!(*st = mn_option_int(&l, o, v))) *c->threads = (int)l;
    } else return 0;
    return 1;
}
