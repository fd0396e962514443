/*
 * minima/experiment.h — the experiments as library plans: each is a plan
 * (its options, set by name from strings through the option table of
 * minima/sweep.h, like the command line does), one call that runs it
 * (resuming from a database), and a result the caller prints. `minima
 * experiment NAME` is parse -> call -> print over these.
 *
 *   eliminate       does one added neuron (Liang et al. 2018) remove bad
 *                   local minima in practice? data x loss x defence settings,
 *                   network runs through the sweep runner (src/experiment/eliminate.c)
 *   arena           every defence the papers propose (softplus, the eliminating
 *                   neuron over lambda, width through N, quadratic activation
 *                   with k through sqrt(2n), perturbed GD) under GD and L-BFGS,
 *                   judged alike by mn_judge (src/experiment/arena.c)
 *   safran-shamir   Safran & Shamir (ICML 2018) Tables 1-2 on the population
 *                   loss of minima/popul.h (src/experiment/safran_shamir.c)
 *
 * Conventions are those of minima.h: mn_status returns with a one-line
 * mn_last_error(), outputs first, every *_free accepts NULL.
 */
#ifndef MINIMA_EXPERIMENT_H
#define MINIMA_EXPERIMENT_H

#include <stdint.h>
#include <stdio.h>

#include "minima.h"
#include "minima/popul.h"
#include "minima/prove.h"
#include "minima/sweep.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ */
/* eliminate                                                           */

typedef struct {
    int quick;             /* the small grid (n 100, 3000 steps, 3 restarts) */
    const char *data_path; /* CSV data with -1/+1 labels instead of the generated sets (NULL: none) */
    const char *label;     /* its label column(s) */
    long restarts;         /* runs per setting; <= 0: the grid's (20; quick 3) */
    int threads;           /* <= 0: all cores */
    const char *db_path;   /* SQLite database ("eliminate.db") */
    const char *plot;      /* figure PREFIX.png / PREFIX.svg by gnuplot (NULL: none) */
    FILE *progress;        /* the runner's progress lines (NULL: none) */
} mn_elim_plan;

/* One setting of the grid: what it is, in words. */
typedef struct {
    char data[48];    /* "xor", "spirals+flip0.1", "csv", ... */
    char loss[16];    /* poly_hinge | logistic | squared */
    char defence[16]; /* none | liang | per-output | softplus | wider | pgd */
    int realizable;   /* 1 yes, 0 no, -1 unknown (CSV data) */
} mn_elim_cell;

typedef struct {
    int n;               /* settings, data outermost, then flip, loss, defence */
    mn_elim_cell *cells; /* (n) */
    mn_summary *summary; /* (n) their summaries (mn_summarize, no catalogue) */
    long restarts;       /* per setting */
    long done, skipped;  /* runs done now, runs found stored */
    double seconds;      /* wall time of the runs */
} mn_elim_result;

void mn_elim_plan_default(mn_elim_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL). */
mn_status mn_elim_plan_set(mn_elim_plan *p, const char *name, const char *value);
/* Builds every setting (a bad data file fails here, before the database is
 * touched), runs what the database does not hold yet, summarises, and draws
 * the figure when asked. */
mn_status mn_experiment_eliminate(mn_elim_result **out, const mn_elim_plan *p);
void mn_elim_result_free(mn_elim_result *r);

/* ------------------------------------------------------------------ */
/* arena                                                               */

typedef struct {
    int quick;           /* the small grid (n 40, no real data, 3 restarts) */
    long restarts;       /* runs per setting; <= 0: the grid's (10; quick 3) */
    int threads;         /* <= 0: all cores */
    const char *db_path; /* SQLite database ("arena.db") */
    const char *plot;    /* heat map PREFIX.png / PREFIX.svg by gnuplot (NULL: none) */
    FILE *progress;      /* the runner's progress lines (NULL: none) */
} mn_arena_plan;

/* One setting: data, defence and optimiser, in words. */
typedef struct {
    char data[48];      /* "separable", "xor", "breast_cancer", "quad-n50-d10" (Du & Lee's n, d) */
    char family[16];    /* none | softplus | liang | width | quadratic | pgd */
    char defence[32];   /* "none", "liang(0.1)", "width=N", "quad(k=10)", ... (no spaces) */
    char optimizer[8];  /* gd | lbfgs | pgd */
    double param;       /* lambda, width or k (NaN: none) */
} mn_arena_cell;

typedef struct {
    int n;                 /* settings: each data set over optimisers and defences, then Du & Lee */
    mn_arena_cell *cells;  /* (n) */
    mn_summary *summary;   /* (n) mn_summarize: class = mn_judge's, zero_error = accuracy 1 after removal */
    long restarts, done, skipped;
    double seconds;        /* wall time of the runs */
    int dulee_n, dulee_d;  /* Du & Lee data: samples and features */
    int dulee_k[4];        /* its hidden-unit counts, through sqrt(2 dulee_n) */
} mn_arena_result;

void mn_arena_plan_default(mn_arena_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * quick, restarts, threads, db, plot. */
mn_status mn_arena_plan_set(mn_arena_plan *p, const char *name, const char *value);
/* Builds every setting, runs what the database does not hold yet,
 * summarises, and draws the heat map when asked. */
mn_status mn_experiment_arena(mn_arena_result **out, const mn_arena_plan *p);
/* Setting i's success rate: the share of its runs with zero training error
 * after removal (hinge rows), or certified global, loss <= 1e-6 (the Du &
 * Lee rows, squared loss); NaN without runs. */
double mn_arena_success(const mn_arena_result *r, int i);
/* The heat map of a result: rows data x optimiser, columns defences, each
 * cell mn_arena_success in percent. */
mn_status mn_arena_plot(const mn_arena_result *r, const char *prefix);
void mn_arena_result_free(mn_arena_result *r);

/* ------------------------------------------------------------------ */
/* safran-shamir                                                       */

#define MN_SS_MAX_LIST 256

typedef struct {
    int k[MN_SS_MAX_LIST], nk;         /* teacher sizes (6..20) */
    int extra[MN_SS_MAX_LIST], nextra; /* n - k (0, 1) */
    int elim[2], nelim;                /* eliminator values: 0 none, 1 liang (none) */
    double lambda;                     /* the eliminator's penalty (0.01) */
    int restarts;                      /* per row (1000) */
    uint64_t seed;                     /* base seed (1) */
    int threads;                       /* <= 0: all cores */
    mn_popul_opts opts;                /* mn_popul_opts_default; --step, --max-iter, --no-shortcuts;
                                          the caller may set its progress hook */
    int prove;                         /* prove each row's distinct spurious minima (minima/prove.h) */
    const char *db_path;               /* store and resume (NULL: none) */
    const char *plot;                  /* figure PREFIX (NULL: none); with a database, of every
                                          row stored there with this seed and these shortcuts */
} mn_ss_plan;

typedef struct {
    int n;                /* rows: eliminator values, then extra values, each over the k values */
    mn_popul_spec *specs; /* (n) */
    mn_popul_row *rows;   /* (n) */
    /* With prove (else NULL): per row, the proofs of its distinct spurious
     * minima (nproofs[i] of them, mn_prove_popul_row), how many were proved
     * spurious, and the wall time of the row's proofs (s). */
    mn_prove_result **proofs;
    int *nproofs, *nproved;
    double *prove_seconds;
    double prove_total_seconds; /* wall time of all proofs */
} mn_ss_result;

void mn_ss_plan_default(mn_ss_plan *p);
/* Sets a plan option from its command-line name and value (flags: NULL):
 * k, extra (lists "A..B", "A" or "A,B,.."), eliminate ("none", "liang",
 * "none,liang"), lambda, restarts, seed, threads, step, max-iter,
 * no-shortcuts, prove, db, plot. */
mn_status mn_ss_plan_set(mn_ss_plan *p, const char *name, const char *value);
/* What holds between options (k + extra within MN_POPUL_MAX_N). */
mn_status mn_ss_plan_check(const mn_ss_plan *p);
/* All rows as one pool of restarts (mn_popul_experiment_db), the database
 * opened first (a bad path fails at once), then the proofs (prove), then the
 * figure. */
mn_status mn_experiment_safran_shamir(mn_ss_result **out, const mn_ss_plan *p);
void mn_ss_result_free(mn_ss_result *r);

#ifdef __cplusplus
}
#endif
#endif
