/* minima: find, certify and eliminate bad local minima of neural networks. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "minima/dist.h"

typedef struct {
    const char *name;
    int (*run)(int argc, char **argv);
    const char *help;
} command;

static const command commands[] = {
    {"demo", cmd_demo, "the main job, a few seconds: a bad minimum certified and escaped; spurious minima proved"},
    {"eval", cmd_eval, "loss, exact gradient, Hessian and eigenvalues at given parameters (JSON)"},
    {"train", cmd_train, "one gradient-descent run with a certified end point (JSON)"},
    {"attack", cmd_attack, "built-in bad local minima, certified before and after the defence"},
    {"certify", cmd_certify, "is a point a bad local minimum, and does a defence remove it? (JSON)"},
    {"sweep", cmd_sweep, "restarts over a grid of settings, certified, into SQLite (resumable)"},
    {"summary", cmd_summary, "class fractions with Wilson intervals per setting of a sweep database"},
    {"export", cmd_export, "a sweep database as CSV, one row per run"},
    {"merge", cmd_merge, "merge sweep databases (shards), skipping duplicate runs"},
    {"regions", cmd_regions, "activation regions of ReLU nets: Jacobian rank (Karhadkar), genuine minima (Liu)"},
    {"spectrum", cmd_spectrum, "Hessian spectrum at a point: top/bottom eigenvalues, trace, density (JSON)"},
    {"slice", cmd_slice, "the loss (and accuracy) along 1-D or 2-D slices through a point (CSV, figure)"},
    {"path", cmd_path, "the loss barrier between two points: straight line and an optimised Bezier curve (JSON)"},
    {"prove", cmd_prove, "prove, in ball arithmetic, a spurious minimum of the Safran-Shamir loss (certificates)"},
    {"experiment", cmd_experiment, "minima experiment NAME: one of the experiments below"},
};
#define NCMD ((int)(sizeof commands / sizeof *commands))

static void usage(FILE *out)
{
    fprintf(out, "usage: minima COMMAND [options]   (minima COMMAND --help for its options)\n\ncommands:\n");
    for (int i = 0; i < NCMD; i++) fprintf(out, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(out, "\nexperiments (minima experiment NAME --help for its options):\n");
    cli_experiment_list(out, "  ");
    fprintf(out, "\n  --version  print the version\n  --help     this help\n");
}

static int dispatch(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 1;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        printf("minima %s%s\n", MN_VERSION, mn_dist_have_mpi() ? " (MPI)" : "");
        return 0;
    }
    for (int i = 0; i < NCMD; i++)
        if (!strcmp(argv[1], commands[i].name)) {
            int rc = commands[i].run(argc - 1, argv + 1);
            /* Whatever the command printed must have reached stdout (a full
             * disk, a closed pipe): otherwise the run failed, whatever it says. */
            if (fflush(stdout) != 0 || ferror(stdout)) {
                if (rc == 0) fprintf(stderr, "minima %s: cannot write the output\n", argv[1]);
                return 1;
            }
            return rc;
        }
    fprintf(stderr, "minima: unknown command '%s' (see minima --help)\n", argv[1]);
    return 1;
}

/* Under mpirun every rank runs the same command; rank 0 alone prints (the
 * others' lines would be copies), unless MINIMA_MPI_ALL_OUTPUT is set. */
int main(int argc, char **argv)
{
    if (mn_dist_init(&argc, &argv)) {
        fprintf(stderr, "minima: %s\n", mn_last_error());
        return 1;
    }
    if (mn_dist_rank() > 0 && !getenv("MINIMA_MPI_ALL_OUTPUT") &&
        (!freopen("/dev/null", "w", stdout) || !freopen("/dev/null", "w", stderr)))
        return 1;
    const int rc = dispatch(argc, argv);
    mn_dist_finish(rc);
    return rc;
}
