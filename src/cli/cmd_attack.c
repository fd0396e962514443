/* minima attack: the built-in bad local minima.
 *   minima attack list                      names and what each is
 *   minima attack NAME --out DIR            writes DIR/data.csv, DIR/point.txt, DIR/certify.sh
 *   minima attack all [--lambda X] [--json] certifies each, before and after Liang's neuron */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "cli.h"

static int find(const char *name)
{
    for (int i = 0; i < mn_attack_count(); i++)
        if (!strcmp(name, mn_attack_name(i))) return i;
    return -1;
}

static mn_status write_csv(const char *path, const mn_data *data)
{
    FILE *f = fopen(path, "w");
    if (!f) return mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
    const int n = mn_data_n(data), d = mn_data_d(data), m = mn_data_m(data);
    for (int c = 0; c < d; c++) fprintf(f, "x%d,", c + 1);
    for (int k = 0; k < m; k++) fprintf(f, "y%s%s", m > 1 ? (char[]){(char)('1' + k), 0} : "", k + 1 < m ? "," : "\n");
    for (int i = 0; i < n; i++) {
        for (int c = 0; c < d; c++) fprintf(f, "%.17g,", mn_data_xc(data)[i * d + c]);
        for (int k = 0; k < m; k++) fprintf(f, "%.17g%s", mn_data_yc(data)[i * m + k], k + 1 < m ? "," : "\n");
    }
    return fclose(f) == 0 ? MN_OK : mn_fail(MN_EIO, "cannot write '%s'", path);
}

static void arch_string(char *buf, size_t len, const mn_spec *s)
{
    size_t o = 0;
    for (int l = 0; l <= s->depth && o < len; l++)
        o += (size_t)snprintf(buf + o, len - o, l ? "-%d" : "%d", s->width[l]);
}

static int export_attack(int i, const char *dir)
{
    mn_spec spec;
    mn_data *data = NULL;
    double *theta = NULL;
    mn_model *m = NULL;
    char path[4096];
    mn_status st = mn_attack_build(i, &spec, &data, &theta);
    if (!st && mkdir(dir, 0777) != 0 && errno != EEXIST)
        st = mn_fail(MN_EIO, "cannot create '%s': %s", dir, strerror(errno));
    if (!st) st = mn_model_alloc(&m, &spec);
    if (!st) snprintf(path, sizeof path, "%s/data.csv", dir), st = write_csv(path, data);
    if (!st) snprintf(path, sizeof path, "%s/point.txt", dir), st = cli_write_params(path, theta, mn_model_nparams(m));
    if (!st) {
        char arch[256];
        arch_string(arch, sizeof arch, &spec);
        snprintf(path, sizeof path, "%s/certify.sh", dir);
        FILE *f = fopen(path, "w");
        if (!f) {
            st = mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
        } else {
            fprintf(f, "#!/bin/sh\n# %s: %s\nminima certify --arch %s --act relu --loss %s --p %g "
                       "--data \"$(dirname \"$0\")/data.csv\" --label y --point \"$(dirname \"$0\")/point.txt\" "
                       "--eliminate liang --global-loss 0 \"$@\"\n",
                    mn_attack_name(i), mn_attack_about(i), arch, mn_loss_name(spec.loss), spec.loss_p);
            if (fclose(f)) st = mn_fail(MN_EIO, "cannot write '%s'", path);
        }
    }
    mn_model_free(m);
    mn_data_free(data);
    free(theta);
    if (st) return cli_error("attack");
    printf("%s: wrote %s/data.csv, %s/point.txt, %s/certify.sh\n", mn_attack_name(i), dir, dir, dir);
    return 0;
}

typedef struct {
    mn_cert plain, aug;
    mn_escape ep, ea;
    double dlda;
    mn_judgement followed; /* L-BFGS from the embedded point, the neuron then dropped */
    long followed_iterations;
} verdict;

#define FOLLOW_STEPS 2000

static mn_status judge(int i, double lambda, verdict *v)
{
    mn_spec spec;
    mn_data *data = NULL;
    double *theta = NULL, *ta = NULL, *dir = NULL;
    mn_model *m = NULL, *aug = NULL;
    mn_work *w = NULL, *wa = NULL;
    mn_cert_opts co;
    mn_cert_opts_default(&co);
    co.global_loss = 0; /* every attack's data are fitted exactly by some network of its size */
    mn_status st = mn_attack_build(i, &spec, &data, &theta);
    if (!st) st = mn_model_alloc(&m, &spec);
    if (!st) st = mn_work_alloc(&w, m, mn_data_n(data));
    const size_t P = m ? mn_model_nparams(m) : 0;
    if (!st && !(dir = malloc((P + 64) * sizeof *dir))) st = mn_fail(MN_ENOMEM, "out of memory");
    if (!st) st = mn_certify(&v->plain, m, w, data, theta, 0, &co);
    if (!st) st = mn_find_escape(&v->ep, dir, m, w, data, theta, co.eig_tol);
    mn_spec sa = spec;
    sa.elim = MN_ELIM_LIANG;
    sa.lambda = lambda;
    if (!st) st = mn_model_alloc(&aug, &sa);
    if (!st) st = mn_work_alloc(&wa, aug, mn_data_n(data));
    const size_t PA = aug ? mn_model_nparams(aug) : 0;
    if (!st) {
        free(dir);
        ta = malloc(PA * sizeof *ta);
        dir = malloc(PA * sizeof *dir);
        if (!ta || !dir) st = mn_fail(MN_ENOMEM, "out of memory");
    }
    if (!st) st = mn_embed(ta, aug, m, theta, NULL, 0.0);
    if (!st) st = mn_embed_best(&v->dlda, ta, aug, wa, data, 64, 1);
    if (!st) st = mn_certify(&v->aug, aug, wa, data, ta, 0, &co);
    if (!st) st = mn_find_escape(&v->ea, dir, aug, wa, data, ta, co.eig_tol);
    mn_opt_params op;
    mn_opt_params_default(&op);
    op.kind = MN_OPT_LBFGS;
    mn_cert_opts cz = co;
    cz.zero_error = 1;
    if (!st) st = mn_follow_escape(&v->followed, &v->followed_iterations, aug, data, ta, &op, FOLLOW_STEPS, 1e-8, &cz);
    free(theta), free(ta), free(dir);
    mn_work_free(w), mn_work_free(wa);
    mn_model_free(m), mn_model_free(aug);
    mn_data_free(data);
    return st;
}

static const char *order_name(const mn_escape *e)
{
    return !e->escaped ? "none" : e->order == 1 ? "gradient" : e->order == 2 ? "neg-curvature" : "higher-order";
}

static int all(double lambda, int json)
{
    if (!json)
        printf("%-18s %-11s %10s %10s %9s %6s | %10s %-13s %s\n", "attack", "class", "loss", "lambda_min",
               "escape", "bad", "|dL/da|", "escape+liang", "verdict | followed (L-BFGS, neuron dropped): class, accuracy");
    int rc = 0;
    for (int i = 0; i < mn_attack_count(); i++) {
        verdict v;
        if (judge(i, lambda, &v)) {
            fprintf(stderr, "minima attack: %s: %s\n", mn_attack_name(i), mn_last_error());
            rc = 1;
            continue;
        }
        int bad = mn_cert_bad(&v.plain, v.ep.escaped, 0.0) == 1; /* certified against 0 (judge) */
        if (json) {
            jw w;
            jw_begin(&w, stdout);
            jw_obj(&w, NULL);
            jw_str(&w, "attack", mn_attack_name(i));
            jw_str(&w, "class", mn_class_name(v.plain.cls));
            jw_num(&w, "loss", v.plain.loss);
            jw_num(&w, "grad_norm", v.plain.gnorm);
            jw_num(&w, "lambda_min", v.plain.lambda_min);
            jw_str(&w, "escape", order_name(&v.ep));
            jw_bool(&w, "bad_local_minimum", bad);
            jw_num(&w, "max_abs_dL_da", v.dlda);
            jw_str(&w, "escape_with_liang", order_name(&v.ea));
            jw_num(&w, "decrease_with_liang", v.ea.escaped ? v.ea.decrease : 0.0);
            jw_str(&w, "verdict", v.ea.escaped ? "escaped" : "stays");
            jw_str(&w, "followed_class", mn_class_name(v.followed.cert.cls));
            jw_num(&w, "followed_accuracy", v.followed.cert.accuracy);
            jw_num(&w, "followed_loss", v.followed.cert.loss);
            jw_int(&w, "followed_iterations", v.followed_iterations);
            jw_bool(&w, "followed_drop_changes_prediction", v.followed.drop_changes_prediction);
            jw_end(&w);
        } else {
            printf("%-18s %-11s %10.4g %10.3g %9s %6s | %10.4g %-13s %-7s | %-13s %.3g\n", mn_attack_name(i),
                   mn_class_name(v.plain.cls), v.plain.loss, v.plain.lambda_min, order_name(&v.ep),
                   bad ? "yes" : "no", v.dlda, order_name(&v.ea), v.ea.escaped ? "escaped" : "stays",
                   mn_class_name(v.followed.cert.cls), v.followed.cert.accuracy);
        }
    }
    return rc;
}

int cmd_attack(int argc, char **argv)
{
    static const struct option opts[] = {
        {"out", 1, 0, 'o'}, {"lambda", 1, 0, 'l'}, {"json", 0, 0, 'j'}, {"help", 0, 0, 'h'}, {0, 0, 0, 0}};
    const char *out = NULL;
    double lambda = 1e-2;
    int json = 0, c;
    opterr = 0;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":", opts, NULL)) != -1) {
        char *end;
        switch (c) {
        case 'o': out = optarg; break;
        case 'l':
            errno = 0;
            lambda = strtod(optarg, &end);
            if (end == optarg || *end || errno || !(lambda >= 0) || !isfinite(lambda)) {
                fprintf(stderr, "minima attack: --lambda '%s' is not a finite number >= 0\n", optarg);
                return 1;
            }
            break;
        case 'j': json = 1; break;
        case 'h':
            printf("usage: minima attack list | NAME --out DIR | all [--lambda X] [--json]\n"
                   "built-in bad local minima; `all` certifies each before and after Liang's neuron\n");
            return 0;
        case ':': fprintf(stderr, "minima attack: option '%s' needs a value\n", argv[optind - 1]); return 1;
        default:
            fprintf(stderr, "minima attack: unknown option '%s' (see minima attack --help)\n", argv[optind - 1]);
            return 1;
        }
    }
    if (optind + 1 != argc) {
        fprintf(stderr, "minima attack: expected one of list, all, or an attack name (see minima attack --help)\n");
        return 1;
    }
    const char *what = argv[optind];
    if (!strcmp(what, "list")) {
        for (int i = 0; i < mn_attack_count(); i++) printf("%-18s %s\n", mn_attack_name(i), mn_attack_about(i));
        return 0;
    }
    if (!strcmp(what, "all")) return all(lambda, json);
    int i = find(what);
    if (i < 0) {
        fprintf(stderr, "minima attack: unknown attack '%s' (see minima attack list)\n", what);
        return 1;
    }
    if (!out) {
        fprintf(stderr, "minima attack: %s needs --out DIR\n", what);
        return 1;
    }
    return export_attack(i, out);
}
