/* minima path A B: the loss along the straight line between two points,
 * along a quadratic Bezier curve fitted to lower it and along a nudged
 * elastic band started on that curve, with the barriers, as one JSON object. A and B are params files under the model options, or,
 * with --db FILE, runs SETTING:RESTART of a sweep whose end points the
 * database stores (its spurious minima): model and data then come from the
 * settings, which must agree. */
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/instruments.h"
#include "minima/record.h"

typedef struct {
    int64_t setting;
    long restart;
    mn_data *data;
    mn_model *model;
    double *theta;
} stored_point;

static mn_status parse_run(int64_t *setting, long *restart, const char *s)
{
    char *end;
    errno = 0;
    long long a = strtoll(s, &end, 10);
    if (end == s || *end != ':' || a < 1) goto bad;
    const char *r = end + 1;
    long b = strtol(r, &end, 10);
    if (end == r || *end || b < 0 || errno) goto bad;
    *setting = a, *restart = b;
    return MN_OK;
bad:
    return mn_fail(MN_EINVAL, "with --db, an end point is SETTING:RESTART (e.g. 1:7), not '%s'", s);
}

static mn_status load_stored(stored_point *p, mn_db *db, const char *arg, int64_t *ids, char **json, int nset)
{
    mn_status st = parse_run(&p->setting, &p->restart, arg);
    if (st) return st;
    int k = 0;
    while (k < nset && ids[k] != p->setting) k++;
    if (k == nset) return mn_fail(MN_EINVAL, "%s: the database has no setting %lld", arg, (long long)p->setting);
    if ((st = mn_setting_build_json(&p->data, &p->model, json[k]))) return st;
    size_t n = 0;
    if ((st = mn_db_point(&p->theta, &n, db, p->setting, p->restart))) return st;
    if (!p->theta)
        return mn_fail(MN_EINVAL, "%s: the database stores no end point for this run (only spurious minima keep theirs)",
                       arg);
    if (n != mn_model_nparams(p->model))
        return mn_fail(MN_EFORMAT, "%s: the stored end point has %zu numbers, its model %zu parameters", arg, n,
                       mn_model_nparams(p->model));
    return MN_OK;
}

/* The same network: layout, activation, loss and added neurons. */
static int same_model(const mn_model *x, const mn_model *y)
{
    const mn_spec *a = mn_model_spec(x), *b = mn_model_spec(y);
    if (mn_model_nparams(x) != mn_model_nparams(y) || a->depth != b->depth) return 0;
    for (int l = 0; l <= a->depth; l++)
        if (a->width[l] != b->width[l] || (l && a->layer[l] != b->layer[l])) return 0;
    return a->act == b->act && a->act_param == b->act_param && a->bias == b->bias && a->skip == b->skip &&
           a->frozen == b->frozen && a->loss == b->loss && a->loss_p == b->loss_p && a->elim == b->elim &&
           a->lambda == b->lambda;
}

static void describe(char *s, size_t len, const mn_model *m)
{
    const mn_spec *sp = mn_model_spec(m);
    size_t o = 0;
    for (int l = 0; l <= sp->depth && o < len; l++) o += (size_t)snprintf(s + o, len - o, "%s%d", l ? "-" : "", sp->width[l]);
    if (o < len) snprintf(s + o, len - o, " %s %s, %zu parameters", mn_act_name(sp->act), mn_loss_name(sp->loss),
                          mn_model_nparams(m));
}

int cmd_path(int argc, char **argv)
{
    instr_opts o = {.cmd = "path", .cmd_bit = MN_CMD_PATH};
    int r = instr_parse(&o, "the loss barrier between A and B: the straight line, a fitted quadratic Bezier curve "
                            "and a nudged elastic band (JSON)", argc, argv);
    if (r) return r == 2 ? 0 : 1;
    if (o.npos != 2) return cli_bad("path", "two end points A and B are required (params files, or SETTING:RESTART with --db)");
    mn_path_opts po;
    mn_path_opts_default(&po);
    if (o.points > 0) po.points = (int)o.points;
    if (o.nodes > 0) po.nodes = (int)o.nodes;
    if (o.fit_steps >= 0) po.steps = o.fit_steps;
    if (o.images >= 0) po.images = (int)o.images;
    if (o.band_steps >= 0) po.neb_steps = o.band_steps;
    if (o.climb_after >= 0) po.neb_climb = o.climb_after;
    if (o.spring >= 0) po.spring = o.spring;
    if (o.band_tol > 0) po.neb_tol = o.band_tol;

    instr_net n = {0};
    stored_point sp[2] = {{0}};
    mn_db *db = NULL;
    int64_t *ids = NULL;
    char **canon = NULL, **json = NULL;
    int nset = 0, rc = 1;
    double *a = NULL, *b = NULL;
    mn_path *path = NULL;
    if (o.db) {
        if (mn_db_open(&db, o.db, 0) || mn_db_settings(&ids, &canon, &json, &nset, db)) goto fail;
        for (int i = 0; i < 2; i++)
            if (load_stored(&sp[i], db, o.pos[i], ids, json, nset)) goto fail;
        char ka[64], kb[64];
        mn_data_key(ka, sizeof ka, sp[0].data);
        mn_data_key(kb, sizeof kb, sp[1].data);
        if (!same_model(sp[0].model, sp[1].model)) {
            char da[160], dbs[160];
            describe(da, sizeof da, sp[0].model);
            describe(dbs, sizeof dbs, sp[1].model);
            mn_fail(MN_EINVAL, "A (%s) and B (%s) are points of different models: %s vs %s", o.pos[0], o.pos[1], da, dbs);
            goto fail;
        }
        if (strcmp(ka, kb)) {
            mn_fail(MN_EINVAL, "A (%s) and B (%s) were trained on different data (%s vs %s)", o.pos[0], o.pos[1], ka, kb);
            goto fail;
        }
        n.data = sp[0].data, n.model = sp[0].model, sp[0].data = NULL, sp[0].model = NULL;
        n.P = mn_model_nparams(n.model);
        if (mn_work_alloc(&n.work, n.model, mn_data_n(n.data)) || mn_net_objective_alloc(&n.f, n.model, n.work, n.data))
            goto fail;
        a = sp[0].theta, b = sp[1].theta, sp[0].theta = sp[1].theta = NULL;
    } else {
        if (instr_net_open(&n, &o.run)) goto fail;
        if (instr_read_point(&a, &n, o.pos[0]) || instr_read_point(&b, &n, o.pos[1])) goto fail;
    }
    if (mn_path_between(&path, n.f, a, b, &po)) goto fail;
    if (o.plot) {
        char title[200];
        snprintf(title, sizeof title, "loss from A to B (%zu parameters)", n.P);
        if (mn_plot_path(path, title, o.plot)) goto fail;
    }
    double dist = 0;
    for (size_t i = 0; i < n.P; i++) dist += (b[i] - a[i]) * (b[i] - a[i]);
    jw w;
    jw_begin(&w, stdout);
    jw_obj(&w, NULL);
    jw_int(&w, "params", (long long)n.P);
    jw_str(&w, "a", o.pos[0]);
    jw_str(&w, "b", o.pos[1]);
    jw_num(&w, "distance", sqrt(dist));
    jw_num(&w, "loss_a", path->loss_a);
    jw_num(&w, "loss_b", path->loss_b);
    jw_nums(&w, "t", path->t, (size_t)path->points);
    jw_obj(&w, "line");
    jw_num(&w, "barrier", path->barrier_line);
    jw_num(&w, "t_max", path->t_line);
    jw_nums(&w, "loss", path->line, (size_t)path->points);
    jw_end(&w);
    jw_obj(&w, "curve");
    jw_str(&w, "kind", "quadratic Bezier");
    jw_num(&w, "barrier", path->barrier_curve);
    jw_num(&w, "t_max", path->t_curve);
    jw_int(&w, "fit_nodes", po.nodes);
    jw_int(&w, "fit_iterations", path->iterations);
    jw_str(&w, "fit_state", path->state);
    jw_nums(&w, "loss", path->curve, (size_t)path->points);
    jw_end(&w);
    if (path->images > 0) {
        jw_obj(&w, "band");
        jw_str(&w, "kind", "nudged elastic band, climbing image");
        jw_num(&w, "barrier", path->barrier_band);
        jw_num(&w, "t_max", path->t_band);
        jw_int(&w, "images", path->images);
        jw_int(&w, "steps", path->band_steps);
        jw_str(&w, "state", path->band_converged ? "converged" : "not converged");
        jw_num(&w, "force", path->band_force);
        jw_nums(&w, "image_t", path->image_t, (size_t)path->images);
        jw_nums(&w, "image_loss", path->image_loss, (size_t)path->images);
        jw_nums(&w, "loss", path->band, (size_t)path->points);
        jw_end(&w);
    }
    jw_end(&w);
    rc = 0;
    goto done;
fail:
    cli_error("path");
done:
    for (int i = 0; i < 2; i++) {
        mn_data_free(sp[i].data);
        mn_model_free(sp[i].model);
        free(sp[i].theta);
    }
    free(a), free(b);
    mn_path_free(path);
    mn_db_settings_free(ids, canon, json, nset);
    mn_db_close(db);
    instr_net_close(&n);
    return rc;
}
