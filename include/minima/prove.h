/*
 * minima/prove.h — computer-assisted proofs that a point is near a strict
 * local minimum of the Safran-Shamir population loss (minima/popul.h), with
 * rigorous ball arithmetic (Arb). The argument, with every constant, is in
 * docs/prove.md; in short, for a centre c and a radius r:
 *   g  >= |grad F(c)|                      (ball evaluation at c),
 *   mu <= lambda_min(H(x)) for all x in B(c, r)
 *         (Hessian enclosure over the box c +- r, Weyl's inequality around
 *          the double midpoint M at c, whose smallest eigenvalue is bounded
 *          by Gershgorin's discs of Q^T (M - mu I) Q, Q its float eigenvectors),
 *   g < mu r  =>  exactly one critical point in B(c, r), a strict local
 *                 minimum, within g / mu of c, with value in
 *                 [F_lo(c) - g^2 / (2 mu), F_hi(c)].
 * Spurious: that lower bound is > 0 (the global minimum value is 0).
 * The box must stay away from zero units and from parallel or antiparallel
 * pairs (student-student and student-teacher): the enclosures divide by
 * |w_i| and sin t. Conventions of minima.h: mn_status returns, outputs
 * first, the caller owns what it passes in.
 */
#ifndef MINIMA_PROVE_H
#define MINIMA_PROVE_H

#include "minima.h"
#include "minima/popul.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Outcome of one proof. Bounds are doubles rounded outward (upper bounds
 * up, lower bounds down); NaN where not reached. */
typedef struct {
    int proved;          /* a strict local minimum lies within `within` of the point given */
    int spurious;        /* proved and loss_lower > 0 */
    double radius;       /* r: the ball B(centre, r) of the proof (unique critical point there) */
    double shift;        /* >= |centre - point given| (the centre is the point after Newton steps) */
    double within;       /* >= shift + grad_upper / lambda_lower: the minimum's distance to the point */
    double grad_upper;   /* g >= |grad F(centre)| */
    double lambda_lower; /* mu <= smallest Hessian eigenvalue over the ball */
    double lambda_mid;   /* lower bound of the smallest eigenvalue of the Hessian's midpoint at the centre */
    double hess_spread;  /* >= |H(x) - M|_2 over the ball (so lambda_lower = lambda_mid - hess_spread) */
    double loss_lower, loss_upper; /* the minimum's value lies in [loss_lower, loss_upper] */
    double seconds;      /* wall time of the proof */
    char reason[256];    /* why not proved, or not proved spurious ("" when spurious) */
} mn_prove_result;

/* Proves the point W (n x k, row-major: the student units; teacher I_k).
 * centre (n x k, may be NULL) receives the centre of the ball. MN_EINVAL
 * for sizes out of range (mn_popul_check) or a non-finite entry; a point
 * that is not proved is MN_OK with res->proved = 0 and res->reason. */
mn_status mn_prove_population(mn_prove_result *res, double *centre, int n, int k, const double *W);

/* The same for m points (m x n x k), in parallel (threads <= 0: OpenMP's
 * default); res (m). Each result depends only on its point. */
mn_status mn_prove_population_many(mn_prove_result *res, int n, int k, const double *points, int m, int threads);

/* The distinct spurious minima of one experiment row, proved: runs
 * (restarts, restart order) as mn_popul_experiment* filled them; each
 * minimum's first-found run is run again (mn_popul_run_one gives the same
 * end point, bit for bit) and its end point proved. *res (allocated here,
 * the caller frees it) receives one result per distinct minimum (*m of
 * them, in the row's order). MN_EINVAL for a row with the eliminating
 * neuron and spurious minima (not supported). Runs the restarts one after
 * the other, then the proofs on `threads` threads. */
mn_status mn_prove_popul_row(mn_prove_result **res, int *m, const mn_popul_spec *spec, const mn_popul_opts *opts,
                             const mn_popul_run *runs, int restarts, uint64_t base_seed, int threads);

/* A certificate: JSON with n, k, the centre, r, and every enclosure (value,
 * gradient components, the eigenvalue bound of the midpoint, the spread,
 * the differentiability margins), written to path (via path.tmp, renamed).
 * res must be proved; centre is what mn_prove_population returned. */
mn_status mn_prove_cert_write(const char *path, const mn_prove_result *res, const double *centre, int n, int k);

/* Re-verifies a certificate on its own: recomputes every enclosure at the
 * stored centre and radius and checks that each stored claim follows from
 * them (stored upper bounds >= recomputed ones, lower bounds <=, g < mu r,
 * loss_lower <= F_lo - g^2 / (2 mu), spurious => loss_lower > 0). *ok = 1
 * when it holds; otherwise *ok = 0 and why (len bytes) says which claim
 * failed. MN_EFORMAT / MN_EIO for a file that is not a certificate. */
mn_status mn_prove_cert_check(int *ok, char *why, size_t len, mn_prove_result *res, const char *path);

/* Networks on data: the same argument on the empirical loss
 * L(theta) = (1/N) sum_i loss(f(x_i), y_i) of a one-hidden-layer dense
 * network d-h-K (biases on or off) with a smooth activation (tanh, sigmoid,
 * softplus, quadratic, linear) and a smooth loss (squared, logistic,
 * softmax_ce, poly_hinge with p > 2, which is C^2 across its kink), with
 * or without the eliminating neurons a exp(w.x + b) (liang, per-output; the
 * penalty (lambda/2) a^2 included); anything else is MN_EINVAL naming why
 * (ReLU's and the squared hinge's kinks, depth, skip, frozen layers).
 * Spurious: loss_lower > global_upper, a proven upper bound of the global
 * minimum value given by the caller (mn_prove_network_loss of a known good
 * point); global_upper NaN: unknown, then res->spurious = 0 and the reason
 * says so. centre (P, may be NULL) receives the ball's centre. */
mn_status mn_prove_network(mn_prove_result *res, double *centre, const mn_model *model, const mn_data *data,
                           const double *theta, double global_upper);
/* A network certificate (docs/prove.md, "Certificates"): the setting that
 * rebuilds model and data (names[i] = values[i], nopts of them: the run
 * options, as mn_options_set takes them), the data's key (mn_data_key),
 * the centre, r, the claims and the enclosures at the centre; when spurious,
 * global_upper and (may be NULL) the global point whose loss proves it.
 * mn_prove_cert_check verifies it (and re-proves the global point's bound). */
mn_status mn_prove_network_cert_write(const char *path, const mn_prove_result *res, const double *centre,
                                      const mn_model *model, const mn_data *data, const char *const *names,
                                      const char *const *values, int nopts, double global_upper,
                                      const double *global_point);
/* MN_OK when mn_prove_network covers the model, else MN_EINVAL naming why. */
mn_status mn_prove_network_supported(const mn_model *model);
/* [*lo, *hi] contains L(theta) (ball arithmetic, rounded outward). */
mn_status mn_prove_network_loss(double *lo, double *hi, const mn_model *model, const mn_data *data,
                                const double *theta);

#ifdef __cplusplus
}
#endif
#endif
