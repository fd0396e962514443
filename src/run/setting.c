/* The setting recipe: options -> data, model and run parameters. The one
 * place a setting is built, whether from the command line, from a grid of
 * a sweep, from an experiment's plan or from a database's stored options. */
#include <cjson/cJSON.h>
#include <math.h>
#include <stdlib.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "minima.h"
#include "minima/sweep.h"

/* Data from --data, --dataset or --generate (or the default generator). */
static mn_status build_data(mn_data **data, const mn_options *o)
{
    *data = NULL;
    if (!!o->data_path + !!o->generate + !!o->dataset > 1)
        return mn_fail(MN_EINVAL, "give one of --data, --dataset and --generate");
    if ((o->labels || o->positive >= 0) && !o->dataset)
        return mn_fail(MN_EINVAL, "--labels and --positive apply to --dataset only");
    mn_status st;
    if (o->dataset) {
        mn_labelling lab = o->spec.loss == MN_LOSS_SOFTMAX_CE ? MN_LABELS_CLASS
                           : o->positive >= 0                 ? MN_LABELS_PM1
                                                              : MN_LABELS_OVR;
        st = o->labels ? mn_labelling_parse(&lab, o->labels) : MN_OK;
        if (!st) st = mn_data_load_dataset(data, o->dataset, lab, o->positive, NULL);
        if (st) return st;
    } else if (o->data_path) {
        if (!o->label) return mn_fail(MN_EINVAL, "--data needs --label to name the label column");
        st = mn_data_read_csv(data, o->data_path, o->label);
        if (st) return st;
    } else {
        if (o->label) return mn_fail(MN_EINVAL, "--label applies to --data only");
        const char *g = o->generate ? o->generate : o->default_generate;
        if (!g) return mn_fail(MN_EINVAL, "no data: give --data FILE.csv --label COL, or --generate NAME");
        if (!strcmp(g, "xor"))
            st = mn_gen_xor(data, o->gen_n, isnan(o->noise) ? 0.0 : o->noise, o->data_seed);
        else if (!strcmp(g, "spirals"))
            st = mn_gen_spirals(data, o->gen_n, isnan(o->noise) ? 0.1 : o->noise, o->data_seed);
        else if (!strcmp(g, "separable"))
            st = mn_gen_separable(data, o->gen_n, o->gen_dim, o->margin, o->data_seed);
        else if (!strcmp(g, "teacher"))
            st = mn_gen_teacher_relu(data, o->gen_n, o->gen_k, o->data_seed);
        else
            return mn_fail(MN_EINVAL, "unknown generator '%s' (expected xor|spirals|separable|teacher)", g);
        if (st) return st;
    }
    st = isnan(o->flip) ? MN_OK : mn_data_flip_labels(*data, o->flip, o->data_seed);
    if (!st && o->standardize) st = mn_data_standardize(*data);
    if (st) {
        mn_data_free(*data);
        *data = NULL;
    }
    return st;
}

/* Output width implied by the data when --arch and --layers are absent. */
static int default_outputs(const mn_options *o, const mn_data *data)
{
    if (o->spec.loss != MN_LOSS_SOFTMAX_CE) return mn_data_m(data);
    int K = 2;
    const double *y = mn_data_yc(data);
    for (int i = 0; i < mn_data_n(data); i++)
        if (y[i] >= K && y[i] < MN_MAX_WIDTH) K = (int)y[i] + 1;
    return K;
}

/* ------------------------------------------------------------------ */
/* A pool of data sets shared between settings: keyed by everything
 * build_data reads, so settings that differ only in model or training
 * options get one copy. */
struct mn_data_pool {
    int n, cap;
    char **recipe;
    mn_data **data;
};

mn_status mn_data_pool_alloc(mn_data_pool **out)
{
    *out = calloc(1, sizeof **out);
    return *out ? MN_OK : mn_fail(MN_ENOMEM, "out of memory");
}

void mn_data_pool_free(mn_data_pool *p)
{
    if (!p) return;
    for (int i = 0; i < p->n; i++) free(p->recipe[i]), mn_data_free(p->data[i]);
    free(p->recipe), free(p->data), free(p);
}

int mn_data_pool_count(const mn_data_pool *p) { return p ? p->n : 0; }

/* The options build_data reads, as one string (doubles exact, %a). */
static char *data_recipe(const mn_options *o)
{
    const char *fmt = "data=%s label=%s dataset=%s labels=%s positive=%d ce=%d generate=%s default=%s n=%d "
                      "noise=%a margin=%a dim=%d k=%d seed=%llu flip=%a standardize=%d";
#define RECIPE_ARGS                                                                                              \
    o->data_path ? o->data_path : "-", o->label ? o->label : "-", o->dataset ? o->dataset : "-",                  \
        o->labels ? o->labels : "-", o->positive, o->spec.loss == MN_LOSS_SOFTMAX_CE,                             \
        o->generate ? o->generate : "-", o->default_generate ? o->default_generate : "-", o->gen_n, o->noise,     \
        o->margin, o->gen_dim, o->gen_k, (unsigned long long)o->data_seed, o->flip, o->standardize
    const int len = snprintf(NULL, 0, fmt, RECIPE_ARGS);
    char *r = len >= 0 ? malloc((size_t)len + 1) : NULL;
    if (r) snprintf(r, (size_t)len + 1, fmt, RECIPE_ARGS);
#undef RECIPE_ARGS
    return r;
}

/* *data from the pool, built and added when new. */
static mn_status pooled_data(mn_data **data, const mn_options *o, mn_data_pool *p)
{
    *data = NULL;
    char *r = data_recipe(o);
    if (!r) return mn_fail(MN_ENOMEM, "out of memory");
    for (int i = 0; i < p->n; i++)
        if (!strcmp(p->recipe[i], r)) {
            free(r);
            *data = p->data[i];
            return MN_OK;
        }
    if (p->n == p->cap) {
        const int cap = p->cap ? 2 * p->cap : 8;
        char **nr = realloc(p->recipe, (size_t)cap * sizeof *nr);
        if (nr) p->recipe = nr;
        mn_data **nd = nr ? realloc(p->data, (size_t)cap * sizeof *nd) : NULL;
        if (nd) p->data = nd, p->cap = cap;
        if (!nr || !nd) {
            free(r);
            return mn_fail(MN_ENOMEM, "out of memory");
        }
    }
    mn_status st = build_data(data, o);
    if (st) {
        free(r);
        return st;
    }
    p->recipe[p->n] = r, p->data[p->n] = *data, p->n++;
    return MN_OK;
}

mn_status mn_setting_build(mn_data **data, mn_model **model, const mn_options *o)
{
    return mn_setting_build_pooled(data, model, o, NULL);
}

mn_status mn_setting_build_pooled(mn_data **data, mn_model **model, const mn_options *o, mn_data_pool *pool)
{
    *model = NULL;
    mn_status st = pool ? pooled_data(data, o, pool) : build_data(data, o);
    if (st) return st;
    mn_spec spec = o->spec;
    if (o->arch && o->layers) {
        st = mn_fail(MN_EINVAL, "--arch and --layers both give the layers; use one");
    } else if (o->layers) {
        st = mn_spec_parse_layers(&spec, o->layers, mn_data_d(*data));
    } else if (o->arch) {
        st = mn_spec_parse_arch(&spec, o->arch);
    } else {
        spec.depth = 2;
        spec.width[0] = mn_data_d(*data);
        spec.width[1] = 8;
        spec.width[2] = default_outputs(o, *data);
    }
    if (!st) st = mn_model_alloc(model, &spec);
    if (!st) st = mn_model_check_data(*model, *data);
    if (!st) { /* before any run allocates: what one run needs */
        mn_sweep_setting t = {.model = *model, .data = *data};
        mn_setting_run(&t, o);
        char what[128];
        snprintf(what, sizeof what, "one run of this network (%zu parameters, %d samples)",
                 mn_model_nparams(*model), mn_data_n(*data));
        st = mn_mem_check(mn_setting_run_bytes(&t), what);
    }
    if (st) {
        mn_model_free(*model);
        if (!pool) mn_data_free(*data); /* a pooled data set stays the pool's */
        *model = NULL;
        *data = NULL;
    }
    return st;
}

/* The options of n key/value pairs (flags "on" / "off"). */
static mn_status options_from_pairs(mn_options *o, const char *const *keys, const char *const *vals, int n)
{
    mn_options_default(o);
    for (int i = 0; i < n; i++) {
        mn_status st = mn_options_set(o, keys[i], vals[i]);
        if (st) return st;
    }
    return mn_options_check(o);
}

mn_status mn_setting_from_pairs(mn_options *o, mn_data **data, mn_model **model, const char *const *keys,
                                const char *const *vals, int n, mn_data_pool *pool)
{
    *data = NULL, *model = NULL;
    mn_status st = options_from_pairs(o, keys, vals, n);
    return st ? st : mn_setting_build_pooled(data, model, o, pool);
}

/* The run options of a stored setting (the settings table's JSON object of
 * strings). The text options point into *tree, which the caller deletes
 * (cJSON_Delete) after the last use of o. */
static mn_status options_from_json(mn_options *o, cJSON **tree, const char *json)
{
    cJSON *j = *tree = cJSON_Parse(json);
    if (!cJSON_IsObject(j)) return mn_fail(MN_EFORMAT, "setting options are not a JSON object");
    const char *keys[MN_GRID_MAX_KEYS], *vals[MN_GRID_MAX_KEYS];
    int n = 0;
    mn_status st = MN_OK;
    for (cJSON *it = j->child; it && !st; it = it->next) {
        if (n == MN_GRID_MAX_KEYS || !cJSON_IsString(it)) st = mn_fail(MN_EFORMAT, "unexpected setting options");
        else keys[n] = it->string, vals[n] = it->valuestring, n++;
    }
    return st ? st : options_from_pairs(o, keys, vals, n);
}

mn_status mn_setting_cert_opts(mn_cert_opts *out, const char *json)
{
    mn_options o;
    cJSON *tree;
    mn_status st = options_from_json(&o, &tree, json);
    if (!st) *out = o.cert;
    cJSON_Delete(tree);
    return st;
}

/* What a stored setting's data file may be before it is read again: a
 * regular file (a FIFO would block, a device such as /dev/zero never ends)
 * of at most a quarter of physical memory. */
static mn_status stored_data_ok(const mn_options *o)
{
    struct stat sb;
    if (!o->data_path || o->arch || o->layers || stat(o->data_path, &sb)) return MN_OK; /* not read, or gone */
    if (!S_ISREG(sb.st_mode))
        return mn_fail(MN_EINVAL, "the stored setting's data '%s' is not a regular file (a FIFO, device or "
                                  "directory): not read", o->data_path);
    const double limit = mn_phys_bytes() / 4;
    if (limit > 0 && (double)sb.st_size > limit)
        return mn_fail(MN_EINVAL, "the stored setting's data '%s' is %.3g GiB, more than the %.3g GiB (a quarter "
                                  "of physical memory) a summary reads", o->data_path,
                       (double)sb.st_size / (1 << 30), limit / (1 << 30));
    return MN_OK;
}

mn_status mn_setting_data_check(const char *json)
{
    mn_options o;
    cJSON *tree;
    /* options no run took are not this check's to report (the builder says) */
    mn_status st = options_from_json(&o, &tree, json) ? MN_OK : stored_data_ok(&o);
    cJSON_Delete(tree); /* after the last use of o's text */
    return st;
}

mn_status mn_setting_model(mn_model **model, const char *json, void *ctx)
{
    (void)ctx;
    *model = NULL;
    mn_options o;
    cJSON *tree;
    mn_status st = options_from_json(&o, &tree, json);
    if (!st) st = stored_data_ok(&o);
    if (!st && o.arch) { /* the widths are given: no data needed */
        mn_spec spec = o.spec;
        st = mn_spec_parse_arch(&spec, o.arch);
        if (!st) st = mn_model_alloc(model, &spec);
    } else if (!st) {
        mn_data *data = NULL;
        st = mn_setting_build(&data, model, &o);
        mn_data_free(data);
    }
    cJSON_Delete(tree);
    return st;
}

mn_status mn_setting_build_json(mn_data **data, mn_model **model, const char *json)
{
    *data = NULL, *model = NULL;
    cJSON *j = NULL;
    mn_options o;
    mn_status st = options_from_json(&o, &j, json);
    if (!st) st = mn_setting_build(data, model, &o);
    cJSON_Delete(j);
    return st;
}

void mn_setting_run(mn_sweep_setting *s, const mn_options *o)
{
    s->opt = o->opt;
    s->polish = o->polish;
    s->steps = o->steps;
    s->gtol = o->gtol;
    s->frozen_value = o->frozen_value;
    s->seed = o->seed;
    s->cert = o->cert;
    s->cert.max_dense = o->max_hessian;
}
