/* Certificates of proofs: a JSON file with the centre, the radius, every
 * claim and the enclosures behind them, and a checker that recomputes each
 * enclosure on its own (nothing of the search is trusted) and verifies that
 * every claim follows (docs/prove.md, "Certificates"). Doubles are printed
 * so that they read back bit-identical (cJSON: %.15g, else %.17g). */
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "minima/sweep.h"
#include "prove/internal.h"

#define PREC MN_PROVE_PREC
#define CERT_KIND "minima prove population"
#define NET_KIND "minima prove network"

/* Numbers as %.17g text: cJSON's own printer drops to 15 digits when
 * that reads back within a relative DBL_EPSILON, which is not exact. */
static cJSON *num17(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.17g", v);
    return cJSON_CreateRaw(b);
}

static void add17(cJSON *obj, const char *key, double v) { cJSON_AddItemToObject(obj, key, num17(v)); }

static cJSON *array17(const double *v, int m)
{
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; i < m; i++) cJSON_AddItemToArray(a, num17(v[i]));
    return a;
}

static cJSON *pair(double lo, double hi)
{
    const double v[2] = {lo, hi};
    return array17(v, 2);
}

/* radius, claims and the enclosures at the centre (the objective's box set
 * at the centre, radius 0, on entry; F and G evaluated there). */
static void add_claims(cJSON *root, cJSON *en, const mn_prove_result *res, const pv_prover *p, double global_upper)
{
    cJSON *cl = cJSON_CreateObject(), *grad = cJSON_CreateArray();
    add17(root, "radius", res->radius);
    add17(cl, "grad_upper", res->grad_upper);
    add17(cl, "lambda_mid", res->lambda_mid);
    add17(cl, "hess_spread", res->hess_spread);
    add17(cl, "lambda_lower", res->lambda_lower);
    add17(cl, "loss_lower", res->loss_lower);
    add17(cl, "loss_upper", res->loss_upper);
    cJSON_AddBoolToObject(cl, "spurious", res->spurious);
    if (res->spurious && global_upper != 0) add17(cl, "global_upper", global_upper);
    cJSON_AddItemToObject(root, "claims", cl);
    cJSON_AddItemToObject(en, "loss", pair(pv_lower(p->F), pv_upper(p->F)));
    for (int a = 0; a < p->P; a++) cJSON_AddItemToArray(grad, pair(pv_lower(p->G + a), pv_upper(p->G + a)));
    cJSON_AddItemToObject(en, "gradient", grad);
    cJSON_AddItemToObject(root, "enclosures", en);
}

/* root as JSON text to path, via path.tmp renamed. */
static mn_status write_json(const char *path, const cJSON *root)
{
    char *text = cJSON_Print(root);
    if (!text) return mn_fail(MN_ENOMEM, "prove: out of memory for the certificate");
    char tmp[4096];
    mn_status st = MN_OK;
    if (snprintf(tmp, sizeof tmp, "%s.tmp", path) >= (int)sizeof tmp) {
        free(text);
        return mn_fail(MN_EINVAL, "prove: path too long: '%s'", path);
    }
    FILE *f = fopen(tmp, "w");
    if (!f) st = mn_fail(MN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
    else {
        const int bad = fputs(text, f) < 0 || fputc('\n', f) == EOF;
        if (fclose(f) || bad) st = mn_fail(MN_EIO, "cannot write '%s': %s", tmp, strerror(errno));
        else if (rename(tmp, path)) st = mn_fail(MN_EIO, "cannot rename '%s' to '%s': %s", tmp, path, strerror(errno));
    }
    free(text);
    return st;
}

mn_status mn_prove_cert_write(const char *path, const mn_prove_result *res, const double *centre, int n, int k)
{
    if (!res->proved) return mn_fail(MN_EINVAL, "prove: no certificate for a point that is not proved");
    pv_prover p;
    mn_status st = pv_prover_alloc(&p, n, k);
    if (st) return st;
    char why[160];
    int zero;
    double nl = NAN, cu = NAN;
    cJSON *root = cJSON_CreateObject(), *en = cJSON_CreateObject(), *rows = cJSON_CreateArray();
    if (pv_box_set(&p.box, centre, 0, &zero, why, sizeof why) ||
        (pv_grad(p.G, &p.box), pv_value(p.F, &p.box), pv_box_set(&p.box, centre, res->radius, &zero, why, sizeof why))) {
        st = mn_fail(MN_EINVAL, "prove: the certificate's ball is not smooth (%s)", why);
        cJSON_Delete(en), cJSON_Delete(rows);
        goto done;
    }
    pv_box_margins(&nl, &cu, &p.box);
    cJSON_AddStringToObject(root, "certificate", CERT_KIND);
    cJSON_AddNumberToObject(root, "version", 1);
    cJSON_AddNumberToObject(root, "k", k);
    cJSON_AddNumberToObject(root, "n", n);
    for (int i = 0; i < n; i++) cJSON_AddItemToArray(rows, array17(centre + (size_t)i * k, k));
    cJSON_AddItemToObject(root, "centre", rows);
    add17(en, "min_unit_norm", nl);
    add17(en, "max_abs_cos", cu);
    add_claims(root, en, res, &p, 0);
    st = write_json(path, root);
done:
    cJSON_Delete(root);
    pv_prover_free(&p);
    flint_cleanup();
    return st;
}

mn_status mn_prove_network_cert_write(const char *path, const mn_prove_result *res, const double *centre,
                                      const mn_model *model, const mn_data *data, const char *const *names,
                                      const char *const *values, int nopts, double global_upper,
                                      const double *global_point)
{
    if (!res->proved) return mn_fail(MN_EINVAL, "prove: no certificate for a point that is not proved");
    const int P = (int)mn_model_nparams(model);
    pv_prover p;
    mn_status st = pv_prover_alloc_buffers(&p, P);
    if (st) return st;
    pv_net nb;
    pv_net_init(&nb, model, data);
    char key[96];
    pv_net_point(&nb, centre);
    pv_net_eval(&nb, p.F, p.G, NULL);
    cJSON *root = cJSON_CreateObject(), *set = cJSON_CreateObject();
    cJSON_AddStringToObject(root, "certificate", NET_KIND);
    cJSON_AddNumberToObject(root, "version", 1);
    for (int i = 0; i < nopts; i++) cJSON_AddStringToObject(set, names[i], values[i]);
    cJSON_AddItemToObject(root, "setting", set);
    mn_data_key(key, sizeof key, data);
    cJSON_AddStringToObject(root, "data_key", key);
    cJSON_AddNumberToObject(root, "params", P);
    cJSON_AddItemToObject(root, "centre", array17(centre, P));
    if (res->spurious && global_point) cJSON_AddItemToObject(root, "global_point", array17(global_point, P));
    add_claims(root, cJSON_CreateObject(), res, &p, global_upper);
    st = write_json(path, root);
    cJSON_Delete(root);
    pv_net_clear(&nb);
    pv_prover_free(&p);
    flint_cleanup();
    return st;
}

/* ------------------------------------------------------------------ */

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        mn_fail(MN_EIO, "cannot open '%s': %s", path, strerror(errno));
        return NULL;
    }
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    while (buf) {
        len += fread(buf + len, 1, cap - len - 1, f);
        if (len < cap - 1) break;
        char *nb = realloc(buf, cap *= 2);
        if (!nb) free(buf);
        buf = nb;
    }
    const int err = ferror(f);
    fclose(f);
    if (!buf) {
        mn_fail(MN_ENOMEM, "%s: out of memory", path);
        return NULL;
    }
    if (err) {
        free(buf);
        mn_fail(MN_EIO, "%s: read error", path);
        return NULL;
    }
    buf[len] = 0;
    return buf;
}

/* A finite number member, or MN_EFORMAT. */
static mn_status num(double *v, const cJSON *obj, const char *key, const char *path)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
        return mn_fail(MN_EFORMAT, "%s: not a certificate: '%s' is missing or not a finite number", path, key);
    *v = x->valuedouble;
    return MN_OK;
}

/* [lo, hi] of two finite numbers. */
static mn_status two(double *lo, double *hi, const cJSON *x, const char *what, const char *path)
{
    if (!cJSON_IsArray(x) || cJSON_GetArraySize(x) != 2 || !cJSON_IsNumber(cJSON_GetArrayItem(x, 0)) ||
        !cJSON_IsNumber(cJSON_GetArrayItem(x, 1)))
        return mn_fail(MN_EFORMAT, "%s: not a certificate: %s is not a pair [lo, hi]", path, what);
    *lo = cJSON_GetArrayItem(x, 0)->valuedouble, *hi = cJSON_GetArrayItem(x, 1)->valuedouble;
    return MN_OK;
}

/* The ball x inside [lo, hi]? */
static int within(const arb_t x, double lo, double hi) { return pv_lower(x) >= lo && pv_upper(x) <= hi; }

static int refuse(char *why, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int refuse(char *why, size_t len, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, len, fmt, ap);
    va_end(ap);
    return 0;
}

/* The checks of a parsed certificate; 1 when every claim holds. */
static int verify(pv_prover *p, const double *c, double r, const mn_prove_result *cl, const cJSON *en, char *why,
                  size_t len)
{
    const int P = p->P;
    char msg[160];
    int zero;
    if (!(r > 0)) return refuse(why, len, "radius %.17g is not > 0", r);
    if (p->obj.set(p->obj.ctx, c, 0, &zero, msg, sizeof msg)) return refuse(why, len, "the centre is not smooth: %s", msg);
    p->obj.eval(p->obj.ctx, p->F, p->G, p->H);
    double lo, hi;
    if (two(&lo, &hi, cJSON_GetObjectItemCaseSensitive(en, "loss"), "enclosures.loss", "certificate"))
        return refuse(why, len, "enclosures.loss is not a pair [lo, hi]");
    if (!within(p->F, lo, hi)) return refuse(why, len, "enclosures.loss [%.17g, %.17g] does not contain F's ball", lo, hi);
    const cJSON *g = cJSON_GetObjectItemCaseSensitive(en, "gradient");
    if (!cJSON_IsArray(g) || cJSON_GetArraySize(g) != P)
        return refuse(why, len, "enclosures.gradient does not hold %d pairs", P);
    for (int a = 0; a < P; a++) {
        if (two(&lo, &hi, cJSON_GetArrayItem(g, a), "a gradient enclosure", "certificate"))
            return refuse(why, len, "enclosures.gradient[%d] is not a pair", a);
        if (!within(p->G + a, lo, hi))
            return refuse(why, len, "enclosures.gradient[%d] [%.17g, %.17g] does not contain the gradient's ball", a,
                          lo, hi);
    }
    const double gn = pv_norm_upper(p->G, P);
    if (!(gn <= cl->grad_upper))
        return refuse(why, len, "grad_upper %.17g is below the recomputed bound %.17g", cl->grad_upper, gn);
    pv_midpoints(p->M, p->H);
    int pd = 0;
    if (!(cl->lambda_mid > 0)) return refuse(why, len, "lambda_mid %.17g is not > 0", cl->lambda_mid);
    if (pv_positive_above(&pd, p->M, P, cl->lambda_mid)) return refuse(why, len, "%s", mn_last_error());
    if (!pd) return refuse(why, len, "lambda_mid %.17g: M - lambda_mid I not proved positive definite", cl->lambda_mid);
    /* the ball */
    if (p->obj.set(p->obj.ctx, c, r, &zero, msg, sizeof msg)) return refuse(why, len, "the ball is not smooth: %s", msg);
    if (p->work) { /* the population's smoothness margins */
        double nl, cu, nlc = NAN, cuc = NAN;
        pv_box_margins(&nl, &cu, &p->box);
        if (num(&nlc, en, "min_unit_norm", "certificate") || num(&cuc, en, "max_abs_cos", "certificate"))
            return refuse(why, len, "%s", mn_last_error());
        if (!(nl >= nlc)) return refuse(why, len, "min_unit_norm %.17g is above the recomputed bound %.17g", nlc, nl);
        if (!(cu <= cuc)) return refuse(why, len, "max_abs_cos %.17g is below the recomputed bound %.17g", cuc, cu);
    }
    p->obj.eval(p->obj.ctx, NULL, NULL, p->H);
    const double sp = pv_spread(p->H, p->M);
    if (!(sp <= cl->hess_spread))
        return refuse(why, len, "hess_spread %.17g is below the recomputed bound %.17g", cl->hess_spread, sp);
    arb_t x, y;
    arb_init(x), arb_init(y);
    arb_set_d(x, cl->lambda_mid);
    arb_set_d(y, cl->hess_spread);
    arb_sub(x, x, y, PREC);
    const double mu = pv_lower(x);
    arb_set_d(x, cl->lambda_lower);
    arb_set_d(y, r);
    arb_mul(y, x, y, PREC);
    arb_set_d(x, cl->grad_upper);
    const int strong = arb_lt(x, y);
    arb_clear(x), arb_clear(y);
    if (!(cl->lambda_lower <= mu && cl->lambda_lower > 0))
        return refuse(why, len, "lambda_lower %.17g does not follow from lambda_mid - hess_spread >= %.17g",
                      cl->lambda_lower, mu);
    if (!strong) return refuse(why, len, "grad_upper %.17g is not < lambda_lower * radius", cl->grad_upper);
    const double ll = pv_loss_lower(p->F, cl->grad_upper, cl->lambda_lower), lu = pv_upper(p->F);
    if (!(cl->loss_lower <= ll))
        return refuse(why, len, "loss_lower %.17g is above F_lo - g^2 / (2 mu) >= %.17g", cl->loss_lower, ll);
    if (!(cl->loss_upper >= lu)) return refuse(why, len, "loss_upper %.17g is below F_hi %.17g", cl->loss_upper, lu);
    if (cl->spurious && !(cl->loss_lower > p->global_upper))
        return refuse(why, len, "spurious, but loss_lower is not > %.17g", p->global_upper);
    return 1;
}

/* The claims object into res. */
static mn_status read_claims(mn_prove_result *res, const cJSON *cl, const char *path)
{
    mn_status st;
    if ((st = num(&res->grad_upper, cl, "grad_upper", path)) || (st = num(&res->lambda_mid, cl, "lambda_mid", path)) ||
        (st = num(&res->hess_spread, cl, "hess_spread", path)) ||
        (st = num(&res->lambda_lower, cl, "lambda_lower", path)) ||
        (st = num(&res->loss_lower, cl, "loss_lower", path)) || (st = num(&res->loss_upper, cl, "loss_upper", path)))
        return st;
    const cJSON *sp = cJSON_GetObjectItemCaseSensitive(cl, "spurious");
    if (!cJSON_IsBool(sp))
        return mn_fail(MN_EFORMAT, "%s: not a certificate: 'spurious' is missing or not true/false", path);
    res->spurious = cJSON_IsTrue(sp);
    return MN_OK;
}

/* P finite numbers of a JSON array into v (allocated here). */
static mn_status read_vec(double **v, const cJSON *a, int P, const char *what, const char *path)
{
    if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) != P)
        return mn_fail(MN_EFORMAT, "%s: not a certificate: '%s' does not hold %d numbers", path, what, P);
    if (!(*v = malloc((size_t)P * sizeof **v))) return mn_fail(MN_ENOMEM, "prove: out of memory");
    for (int a2 = 0; a2 < P; a2++) {
        const cJSON *x = cJSON_GetArrayItem(a, a2);
        if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble))
            return mn_fail(MN_EFORMAT, "%s: %s[%d] is not a finite number", path, what, a2);
        (*v)[a2] = x->valuedouble;
    }
    return MN_OK;
}

/* A network certificate: rebuilds the model and data from the stored
 * setting, checks the data's identity, re-proves the global point's loss
 * bound when one is stored, then the claims (verify). */
static mn_status check_network(int *ok, char *why, size_t len, mn_prove_result *res, const cJSON *root,
                               const char *path)
{
    const cJSON *set = cJSON_GetObjectItemCaseSensitive(root, "setting");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "claims");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(root, "enclosures");
    const cJSON *dk = cJSON_GetObjectItemCaseSensitive(root, "data_key");
    if (!cJSON_IsObject(set) || !cJSON_IsObject(cl) || !cJSON_IsObject(en) || !cJSON_IsString(dk))
        return mn_fail(MN_EFORMAT, "%s: not a certificate of minima prove network", path);
    mn_options o;
    mn_options_default(&o);
    mn_status st = MN_OK;
    for (const cJSON *x = set->child; x && !st; x = x->next) {
        if (!cJSON_IsString(x)) return mn_fail(MN_EFORMAT, "%s: setting '%s' is not a string", path, x->string);
        st = mn_options_set(&o, x->string, x->valuestring);
    }
    mn_data *data = NULL;
    mn_model *model = NULL;
    double *c = NULL, *gp = NULL, r = NAN, P = 0;
    pv_prover p = {0};
    pv_net nb = {0};
    char key[96];
    if (st || (st = mn_options_check(&o)) || (st = mn_setting_build(&data, &model, &o))) goto done;
    if ((st = mn_prove_network_supported(model))) goto done;
    mn_data_key(key, sizeof key, data);
    if (strcmp(key, dk->valuestring)) {
        st = mn_fail(MN_EFORMAT, "%s: the setting builds other data (%s) than the certificate's (%s)", path, key,
                     dk->valuestring);
        goto done;
    }
    if ((st = num(&P, root, "params", path)) || (st = num(&r, root, "radius", path))) goto done;
    if (P != (double)mn_model_nparams(model)) {
        st = mn_fail(MN_EFORMAT, "%s: params = %g, the model has %zu", path, P, mn_model_nparams(model));
        goto done;
    }
    if ((st = read_vec(&c, cJSON_GetObjectItemCaseSensitive(root, "centre"), (int)P, "centre", path)) ||
        (st = read_claims(res, cl, path)))
        goto done;
    res->radius = r;
    double gu = 0;
    if (cJSON_GetObjectItemCaseSensitive(cl, "global_upper") && (st = num(&gu, cl, "global_upper", path))) goto done;
    const cJSON *gpj = cJSON_GetObjectItemCaseSensitive(root, "global_point");
    if (gpj) {
        double lo, hi;
        if ((st = read_vec(&gp, gpj, (int)P, "global_point", path)) ||
            (st = mn_prove_network_loss(&lo, &hi, model, data, gp)))
            goto done;
        if (!(hi <= gu)) {
            *ok = refuse(why, len, "global_upper %.17g is below the global point's loss bound %.17g", gu, hi);
            goto done;
        }
    }
    if ((st = pv_prover_alloc_buffers(&p, (int)P))) goto done;
    pv_net_init(&nb, model, data);
    p.obj = (pv_objective){.ctx = &nb, .set = pv_net_set, .eval = pv_net_eval};
    p.global_upper = gu;
    *ok = verify(&p, c, r, res, en, why, len);
    pv_net_clear(&nb);
done:
    pv_prover_free(&p);
    free(c), free(gp);
    mn_model_free(model);
    mn_data_free(data);
    return st;
}

mn_status mn_prove_cert_check(int *ok, char *why, size_t len, mn_prove_result *res, const char *path)
{
    const double t0 = omp_get_wtime();
    *ok = 0;
    memset(res, 0, sizeof *res);
    char *text = slurp(path);
    if (!text) return MN_EIO;
    cJSON *root = cJSON_Parse(text);
    free(text);
    mn_status st = MN_OK;
    double *c = NULL;
    pv_prover p = {0};
    int have_p = 0;
    const cJSON *kind = cJSON_GetObjectItemCaseSensitive(root, "certificate");
    const cJSON *cl = cJSON_GetObjectItemCaseSensitive(root, "claims");
    const cJSON *en = cJSON_GetObjectItemCaseSensitive(root, "enclosures");
    const cJSON *rows = cJSON_GetObjectItemCaseSensitive(root, "centre");
    if (root && cJSON_IsString(kind) && !strcmp(kind->valuestring, NET_KIND)) {
        st = check_network(ok, why, len, res, root, path);
        res->proved = *ok;
        if (!*ok) res->spurious = 0;
        goto done;
    }
    if (!root || !cJSON_IsString(kind) || strcmp(kind->valuestring, CERT_KIND) || !cJSON_IsObject(cl) ||
        !cJSON_IsObject(en) || !cJSON_IsArray(rows)) {
        st = mn_fail(MN_EFORMAT, "%s: not a certificate of minima prove population", path);
        goto done;
    }
    double kd = 0, nd = 0, r = NAN;
    if ((st = num(&kd, root, "k", path)) || (st = num(&nd, root, "n", path)) || (st = num(&r, root, "radius", path)))
        goto done;
    const int k = (int)kd, n = (int)nd;
    if (kd != k || nd != n || k < 1 || n < 1 || k > MN_POPUL_MAX_K || n > MN_POPUL_MAX_N) {
        st = mn_fail(MN_EFORMAT, "%s: n = %g, k = %g out of range", path, nd, kd);
        goto done;
    }
    if (cJSON_GetArraySize(rows) != n) {
        st = mn_fail(MN_EFORMAT, "%s: centre has %d rows, n = %d", path, cJSON_GetArraySize(rows), n);
        goto done;
    }
    c = malloc((size_t)n * k * sizeof *c);
    if (!c) {
        st = mn_fail(MN_ENOMEM, "prove: out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        const cJSON *row = cJSON_GetArrayItem(rows, i);
        if (!cJSON_IsArray(row) || cJSON_GetArraySize(row) != k) {
            st = mn_fail(MN_EFORMAT, "%s: centre row %d does not hold %d numbers", path, i + 1, k);
            goto done;
        }
        for (int l = 0; l < k; l++) {
            const cJSON *x = cJSON_GetArrayItem(row, l);
            if (!cJSON_IsNumber(x) || !isfinite(x->valuedouble)) {
                st = mn_fail(MN_EFORMAT, "%s: centre row %d, entry %d is not a finite number", path, i + 1, l + 1);
                goto done;
            }
            c[(size_t)i * k + l] = x->valuedouble;
        }
    }
    if ((st = read_claims(res, cl, path))) goto done;
    res->radius = r;
    if ((st = pv_prover_alloc(&p, n, k))) goto done;
    have_p = 1;
    *ok = verify(&p, c, r, res, en, why, len);
    res->proved = *ok;
    if (!*ok) res->spurious = 0;
done:
    if (have_p) pv_prover_free(&p);
    free(c);
    cJSON_Delete(root);
    flint_cleanup();
    res->seconds = omp_get_wtime() - t0;
    return st;
}
