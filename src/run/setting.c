/* The setting recipe: options -> data, model and run parameters. The one
 * place a setting is built, whether from the command line, from a grid of
 * a sweep, from an experiment's plan or from a database's stored options. */
#include <cjson/cJSON.h>
#include <math.h>
#include <string.h>

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

mn_status mn_setting_build(mn_data **data, mn_model **model, const mn_options *o)
{
    *model = NULL;
    mn_status st = build_data(data, o);
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
    if (st) {
        mn_model_free(*model);
        mn_data_free(*data);
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
                                const char *const *vals, int n)
{
    *data = NULL, *model = NULL;
    mn_status st = options_from_pairs(o, keys, vals, n);
    return st ? st : mn_setting_build(data, model, o);
}

/* A setting's stored options (a JSON object of strings) as options; the
 * strings point into *root, which the caller deletes after use. */
static mn_status options_from_json(mn_options *o, cJSON **root, const char *json)
{
    cJSON *j = *root = cJSON_Parse(json);
    if (!cJSON_IsObject(j)) return mn_fail(MN_EFORMAT, "setting options are not a JSON object");
    const char *keys[MN_GRID_MAX_KEYS], *vals[MN_GRID_MAX_KEYS];
    int n = 0;
    for (cJSON *it = j->child; it; it = it->next) {
        if (n == MN_GRID_MAX_KEYS || !cJSON_IsString(it)) return mn_fail(MN_EFORMAT, "unexpected setting options");
        keys[n] = it->string, vals[n] = it->valuestring, n++;
    }
    return options_from_pairs(o, keys, vals, n);
}

mn_status mn_setting_model(mn_model **model, const char *json, void *ctx)
{
    (void)ctx;
    *model = NULL;
    cJSON *j = NULL;
    mn_options o;
    mn_status st = options_from_json(&o, &j, json);
    if (!st && o.arch) { /* the widths are given: no data needed */
        mn_spec spec = o.spec;
        st = mn_spec_parse_arch(&spec, o.arch);
        if (!st) st = mn_model_alloc(model, &spec);
    } else if (!st) {
        mn_data *data = NULL;
        st = mn_setting_build(&data, model, &o);
        mn_data_free(data);
    }
    cJSON_Delete(j);
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
