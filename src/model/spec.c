/* Model specifications: defaults, names, the --arch string and the layer syntax. */
#include "minima.h"
#include "layer.h"

#include <errno.h>
#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

void mn_spec_default(mn_spec *spec)
{
    memset(spec, 0, sizeof *spec);
    spec->depth = 2;
    spec->width[0] = 2;
    spec->width[1] = 8;
    spec->width[2] = 1;
    spec->act = MN_ACT_RELU;
    spec->act_param = 0.01; /* leaky slope; softplus sharpness is set to 1 on parse */
    spec->bias = 1;
    spec->loss = MN_LOSS_SQUARED;
    spec->loss_p = 3.0; /* smallest p for which Liang et al.'s hinge is C^2 */
    spec->elim = MN_ELIM_NONE;
    spec->lambda = 10; /* measured best of 0.01..1000 (docs/arena.md); GD along a needs lr < 2 / lambda */
}

mn_status mn_spec_parse_arch(mn_spec *spec, const char *arch)
{
    int w[MN_MAX_DEPTH + 2];
    int n = 0;
    const char *p = arch;
    if (!arch || !*arch) return mn_fail(MN_EINVAL, "--arch is empty; expected widths like 4-16-1");
    for (;;) {
        char *end;
        if (*p < '0' || *p > '9')
            return mn_fail(MN_EINVAL, "--arch '%s': expected widths separated by '-', like 4-16-1", arch);
        errno = 0;
        long v = strtol(p, &end, 10);
        if (errno || v < 1 || v > MN_MAX_WIDTH)
            return mn_fail(MN_EINVAL, "--arch '%s': width of layer %d must be between 1 and %d", arch,
                           n, MN_MAX_WIDTH);
        if (n == MN_MAX_DEPTH + 1)
            return mn_fail(MN_EINVAL, "--arch '%s': more than %d layers", arch, MN_MAX_DEPTH);
        w[n++] = (int)v;
        if (*end == '\0') break;
        if (*end != '-')
            return mn_fail(MN_EINVAL, "--arch '%s': unexpected '%c'; expected widths like 4-16-1", arch,
                           *end);
        p = end + 1;
    }
    if (n < 2) return mn_fail(MN_EINVAL, "--arch '%s': needs at least an input and an output width", arch);
    spec->depth = n - 1;
    for (int i = 0; i < n; i++) spec->width[i] = w[i], spec->layer[i] = MN_LAYER_DENSE;
    return MN_OK;
}

/* One item of the layer syntax, item[0..len): "dense:W" or "conv1d" ("mcn" is refused). */
static mn_status parse_layer(const char *all, int l, const char *item, size_t len, int win, mn_layer_kind *kind,
                             int *width)
{
    if (len == 6 && strncmp(item, "conv1d", 6) == 0) {
        *kind = MN_LAYER_CONV1D, *width = win;
        return MN_OK;
    }
    if (len > 6 && strncmp(item, "conv1d:", 7) == 0)
        return mn_fail(MN_EINVAL, "--layers '%s': layer %d '%.*s': conv1d keeps its input's width %d, give it none",
                       all, l, (int)len, item, win);
    if (len >= 5 && strncmp(item, "dense", 5) == 0 && (len == 5 || item[5] == ':')) {
        if (len <= 6)
            return mn_fail(MN_EINVAL, "--layers '%s': layer %d '%.*s' needs a width, like dense:16", all, l,
                           (int)len, item);
        char num[16];
        size_t nl = len - 6;
        int digits = nl < sizeof num;
        for (size_t i = 0; digits && i < nl; i++) digits = item[6 + i] >= '0' && item[6 + i] <= '9';
        long v = 0;
        if (digits) {
            memcpy(num, item + 6, nl);
            num[nl] = '\0';
            errno = 0;
            v = strtol(num, NULL, 10);
        }
        if (!digits || errno || v < 1 || v > MN_MAX_WIDTH)
            return mn_fail(MN_EINVAL, "--layers '%s': layer %d '%.*s': the width must be between 1 and %d", all,
                           l, (int)len, item, MN_MAX_WIDTH);
        *kind = MN_LAYER_DENSE, *width = (int)v;
        return MN_OK;
    }
    /* Recognised so that it is refused with the reason, not as an unknown word. */
    if (len >= 3 && strncmp(item, "mcn", 3) == 0 && (len == 3 || item[3] == ':'))
        return mn_fail(MN_EINVAL,
                       "--layers '%s': layer %d '%.*s': Maximum-and-Concatenation blocks (Xie et al. 2020) are not "
                       "implemented: the paper's block definition and theorem could not be read (docs/mcn.md)",
                       all, l, (int)len, item);
    return mn_fail(MN_EINVAL, "--layers '%s': layer %d '%.*s' is neither dense:W nor conv1d", all, l, (int)len,
                   item);
}

mn_status mn_spec_parse_layers(mn_spec *spec, const char *layers, int d)
{
    if (!layers || !*layers)
        return mn_fail(MN_EINVAL, "--layers is empty; expected layers like conv1d-conv1d-dense:1");
    if (d < 1 || d > MN_MAX_WIDTH)
        return mn_fail(MN_EINVAL, "--layers: input width %d must be between 1 and %d", d, MN_MAX_WIDTH);
    int w[MN_MAX_DEPTH + 1];
    mn_layer_kind k[MN_MAX_DEPTH + 1];
    int L = 0;
    w[0] = d, k[0] = MN_LAYER_DENSE;
    for (const char *p = layers;;) {
        const char *end = strchr(p, '-');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (L == MN_MAX_DEPTH) return mn_fail(MN_EINVAL, "--layers '%s': more than %d layers", layers, MN_MAX_DEPTH);
        if (len == 0) return mn_fail(MN_EINVAL, "--layers '%s': layer %d is empty", layers, L + 1);
        mn_status st = parse_layer(layers, L + 1, p, len, w[L], &k[L + 1], &w[L + 1]);
        if (st) return st;
        L++;
        if (!end) break;
        p = end + 1;
    }
    spec->depth = L;
    for (int l = 0; l <= L; l++) spec->width[l] = w[l], spec->layer[l] = k[l];
    return MN_OK;
}

static const char *const act_names[] = {"relu", "leaky_relu", "softplus", "sigmoid",
                                        "tanh", "quadratic",  "linear"};
static const char *const loss_names[] = {"squared", "logistic", "softmax_ce", "poly_hinge",
                                         "squared_hinge"};
static const char *const elim_names[] = {"none", "liang", "per-output", "per-layer"};
static const char *const init_names[] = {"random", "identity"};

#define NAMES(a) ((int)(sizeof(a) / sizeof((a)[0])))

static int lookup(const char *const *names, int n, const char *s)
{
    for (int i = 0; s && i < n; i++)
        if (strcmp(names[i], s) == 0) return i;
    return -1;
}

static mn_status unknown(const char *what, const char *s, const char *const *names, int n)
{
    char list[256] = "";
    for (int i = 0; i < n; i++) {
        strncat(list, names[i], sizeof list - strlen(list) - 1);
        if (i + 1 < n) strncat(list, "|", sizeof list - strlen(list) - 1);
    }
    return mn_fail(MN_EINVAL, "unknown %s '%s' (expected %s)", what, s ? s : "", list);
}

mn_status mn_act_parse(mn_act *out, const char *name)
{
    int i = lookup(act_names, NAMES(act_names), name);
    if (i < 0) return unknown("activation", name, act_names, NAMES(act_names));
    *out = (mn_act)i;
    return MN_OK;
}

mn_status mn_loss_parse(mn_loss *out, const char *name)
{
    int i = lookup(loss_names, NAMES(loss_names), name);
    if (i < 0) return unknown("loss", name, loss_names, NAMES(loss_names));
    *out = (mn_loss)i;
    return MN_OK;
}

mn_status mn_elim_parse(mn_elim *out, const char *name)
{
    int i = lookup(elim_names, NAMES(elim_names), name);
    if (i < 0) return unknown("eliminator", name, elim_names, NAMES(elim_names));
    *out = (mn_elim)i;
    return MN_OK;
}

mn_status mn_init_parse(mn_init *out, const char *name)
{
    int i = lookup(init_names, NAMES(init_names), name);
    if (i < 0) return unknown("initialisation", name, init_names, NAMES(init_names));
    *out = (mn_init)i;
    return MN_OK;
}

const char *mn_layer_name(mn_layer_kind k)
{
    return k == MN_LAYER_DENSE || k == MN_LAYER_CONV1D ? mn_layer_op_of(k)->name : "?";
}
const char *mn_init_name(mn_init i) { return (int)i < NAMES(init_names) ? init_names[i] : "?"; }
const char *mn_act_name(mn_act a) { return (int)a < NAMES(act_names) ? act_names[a] : "?"; }
const char *mn_loss_name(mn_loss l) { return (int)l < NAMES(loss_names) ? loss_names[l] : "?"; }
const char *mn_elim_name(mn_elim e) { return (int)e < NAMES(elim_names) ? elim_names[e] : "?"; }

int mn_loss_is_margin(mn_loss l)
{
    return l == MN_LOSS_LOGISTIC || l == MN_LOSS_POLY_HINGE || l == MN_LOSS_SQUARED_HINGE;
}

double mn_saturation_z(mn_act a)
{
    if (a == MN_ACT_TANH) return 0.5 * log(4 / DBL_EPSILON);
    if (a == MN_ACT_SIGMOID) return log(4 / DBL_EPSILON);
    return INFINITY;
}
