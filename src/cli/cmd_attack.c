/* minima attack: the built-in bad local minima.
 *   minima attack list                      names and what each is
 *   minima attack NAME --out DIR            writes DIR/data.csv, DIR/point.txt, DIR/certify.sh
 *   minima attack all [--lambda X] [--json] certifies each, before and after Liang's neuron
 * Options through the library's table (MN_CMD_ATTACK) and cli_args. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

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

/* s in single quotes for sh ('\'' for each quote inside). */
static void sh_quote(FILE *f, const char *s)
{
    fputc('\'', f);
    for (; *s; s++)
        if (*s == '\'')
            fputs("'\\''", f);
        else
            fputc(*s, f);
    fputc('\'', f);
}

/* The script calls the binary that wrote it, by its absolute path (so it
 * runs whatever PATH holds); $MINIMA overrides it, and where that file is
 * gone (the build directory removed) `minima` on PATH is used, or the
 * script says what is missing. */
static void write_certify_sh(FILE *f, int i, const mn_spec *spec)
{
    char arch[256], self[4096];
    arch_string(arch, sizeof arch, spec);
    const ssize_t len = readlink("/proc/self/exe", self, sizeof self - 1);
    self[len > 0 ? len : 0] = '\0';
    fprintf(f, "#!/bin/sh\n# %s: %s\n", mn_attack_name(i), mn_attack_about(i));
    fputs("# the minima that wrote this script; set MINIMA to use another\nminima=${MINIMA:-", f);
    sh_quote(f, self[0] ? self : "minima");
    fputs("}\n"
          "if [ ! -x \"$minima\" ]; then\n"
          "  if command -v minima >/dev/null 2>&1; then minima=minima\n"
          "  else echo \"$0: minima not found at $minima nor on PATH (set MINIMA=/path/to/minima)\" >&2; exit 1; fi\n"
          "fi\n",
          f);
    fprintf(f, "exec \"$minima\" certify --arch %s --act relu --loss %s --p %g "
               "--data \"$(dirname \"$0\")/data.csv\" --label y --point \"$(dirname \"$0\")/point.txt\" "
               "--eliminate liang --global-loss 0 \"$@\"\n",
            arch, mn_loss_name(spec->loss), spec->loss_p);
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
        snprintf(path, sizeof path, "%s/certify.sh", dir);
        FILE *f = fopen(path, "w");
        if (!f) {
            st = mn_fail(MN_EIO, "cannot write '%s': %s", path, strerror(errno));
        } else {
            write_certify_sh(f, i, &spec);
            int bad_write = ferror(f);
            bad_write |= fclose(f) != 0;
            if (bad_write) st = mn_fail(MN_EIO, "cannot write '%s'", path);
            else chmod(path, 0755);
        }
    }
    mn_model_free(m);
    mn_data_free(data);
    free(theta);
    if (st) return cli_error("attack");
    printf("%s: wrote %s/data.csv, %s/point.txt, %s/certify.sh\n", mn_attack_name(i), dir, dir, dir);
    return 0;
}

static int all(double lambda, int json)
{
    if (!json)
        printf("%-18s %-11s %10s %10s %9s %6s | %10s %-13s %s\n", "attack", "class", "loss", "lambda_min",
               "escape", "bad", "|dL/da|", "escape+liang", "verdict | followed (L-BFGS, neuron dropped): class, accuracy");
    int rc = 0;
    for (int i = 0; i < mn_attack_count(); i++) {
        mn_attack_verdict v;
        if (mn_attack_judge(&v, i, lambda)) {
            fprintf(stderr, "minima attack: %s: %s\n", mn_attack_name(i), mn_last_error());
            rc = 1;
            continue;
        }
        const int bad = v.bad;
        if (json) {
            jw w;
            jw_begin(&w, stdout);
            jw_obj(&w, NULL);
            jw_str(&w, "attack", mn_attack_name(i));
            jw_str(&w, "class", mn_class_name(v.plain.cls));
            jw_num(&w, "loss", v.plain.loss);
            jw_num(&w, "grad_norm", v.plain.gnorm);
            jw_num(&w, "lambda_min", v.plain.lambda_min);
            jw_str(&w, "escape", mn_escape_name(&v.escape));
            jw_bool(&w, "bad_local_minimum", bad);
            jw_num(&w, "max_abs_dL_da", v.dlda);
            jw_str(&w, "escape_with_liang", mn_escape_name(&v.escape_aug));
            jw_num(&w, "decrease_with_liang", v.escape_aug.escaped ? v.escape_aug.decrease : 0.0);
            jw_str(&w, "verdict", v.escape_aug.escaped ? "escaped" : "stays");
            jw_str(&w, "followed_class", mn_class_name(v.followed.cert.cls));
            jw_num(&w, "followed_accuracy", v.followed.cert.accuracy);
            jw_num(&w, "followed_loss", v.followed.cert.loss);
            jw_int(&w, "followed_iterations", v.followed_iterations);
            jw_bool(&w, "followed_drop_changes_prediction", v.followed.drop_changes_prediction);
            jw_end(&w);
        } else {
            printf("%-18s %-11s %10.4g %10.3g %9s %6s | %10.4g %-13s %-7s | %-13s %.3g\n", mn_attack_name(i),
                   mn_class_name(v.plain.cls), v.plain.loss, v.plain.lambda_min, mn_escape_name(&v.escape),
                   bad ? "yes" : "no", v.dlda, mn_escape_name(&v.escape_aug), v.escape_aug.escaped ? "escaped" : "stays",
                   mn_class_name(v.followed.cert.cls), v.followed.cert.accuracy);
        }
    }
    return rc;
}

typedef struct {
    const char *what, *out, *extra; /* list | all | NAME; --out; a second argument (refused) */
    double lambda;
    int json;
} attack_args;

static mn_status set_attack(void *ctx, const mn_option *d, const char *v)
{
    attack_args *a = ctx;
    if (!strcmp(d->name, "json")) return a->json = 1, MN_OK;
    if (!strcmp(d->name, "out")) return a->out = v, MN_OK;
    return mn_option_real(&a->lambda, d, v); /* "lambda" */
}

static int what_arg(void *ctx, const char *arg)
{
    attack_args *a = ctx;
    if (a->what) a->extra = arg;
    else a->what = arg;
    return 0;
}

int cmd_attack(int argc, char **argv)
{
    attack_args a = {.lambda = 1e-2};
    const int r = cli_args("attack", MN_CMD_ATTACK,
                           "usage: minima attack list | NAME --out DIR | all [--lambda X] [--json]\n"
                           "built-in bad local minima; `all` certifies each before and after Liang's neuron\n\n"
                           "options:\n",
                           argc, argv, set_attack, what_arg, &a);
    if (r) return r == 2 ? 0 : 1;
    if (!a.what || a.extra)
        return cli_bad("attack", "expected one of list, all, or an attack name (see minima attack --help)");
    if (!strcmp(a.what, "list")) {
        for (int i = 0; i < mn_attack_count(); i++) printf("%-18s %s\n", mn_attack_name(i), mn_attack_about(i));
        return 0;
    }
    if (!strcmp(a.what, "all")) return all(a.lambda, a.json);
    const int i = find(a.what);
    if (i < 0) return cli_bad("attack", "unknown attack '%s' (see minima attack list)", a.what);
    if (!a.out) return cli_bad("attack", "%s needs --out DIR", a.what);
    return export_attack(i, a.out);
}
