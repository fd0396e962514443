/* Lanczos with full reorthogonalisation on the free-parameter Hessian of an
 * objective (not part of the public API): the one Lanczos loop behind the
 * certificate's extreme eigenvalues (spectrum.c), the top / bottom K
 * eigenpairs and the stochastic Lanczos quadrature (src/instruments). */
#ifndef MN_LINALG_LANCZOS_H
#define MN_LINALG_LANCZOS_H

#include <cblas.h> /* OpenBLAS: openblas_{get,set}_num_threads */

#include "minima/objective.h"

/* OpenBLAS's threaded GEMMs round differently with the thread count, so the
 * instruments run it on one thread (their own loops are threaded, with a
 * fixed summation order): blas_serial() returns the count to restore. */
static inline int mn_blas_serial(void)
{
    const int t = openblas_get_num_threads();
    if (t != 1) openblas_set_num_threads(1);
    return t;
}
static inline void mn_blas_restore(int t)
{
    if (t != 1) openblas_set_num_threads(t);
}

typedef struct {
    int nf;              /* free parameters */
    int kmax;            /* steps at most (<= nf) */
    int m;               /* steps taken by the last run */
    int *idx;            /* (nf) index in x of free parameter i */
    double *q;           /* Lanczos vectors (kmax x nf), row j = q_j */
    double *alpha;       /* T's diagonal (kmax) */
    double *beta;        /* T's off-diagonal (kmax); beta[m-1] = ||r_m|| after the last step */
    double *theta;       /* Ritz values of T_m, ascending (kmax) */
    double *s;           /* T_m's eigenvectors (m x m, column-major: column i belongs to theta[i]) */
    double *resid;       /* residual ||H y_i - theta_i y_i|| = beta_m |s(m-1, i)| (kmax) */
    double *v, *hv;      /* full-length scratch (n each) */
    double *w, *coef, *e; /* (nf), (kmax), (kmax) */
    const double *lock;  /* locked vectors (nlock x nf, orthonormal rows; not owned) or NULL */
    int nlock, lock_cap;
    double *lock_coef;   /* (lock_cap) */
} mn_lanczos;

/* Memory: kmax x nf doubles for the vectors, kmax^2 for T's eigenvectors,
 * O(n) besides. kmax is cut to nf. */
mn_status mn_lanczos_alloc(mn_lanczos **out, const mn_objective *f, int kmax);
void mn_lanczos_free(mn_lanczos *lz);
/* Runs from start (nf numbers, not all zero; normalised here). After each
 * step T_m is diagonalised (LAPACK dstev); the run stops after kmax steps,
 * at an invariant subspace (beta ~ 0: the Ritz values are exact), or when
 * the nlo smallest and the nhi largest Ritz pairs all have residuals
 * <= tol * max(1, max |theta|) (nlo = nhi = 0: no such test). Every new
 * vector is orthogonalised against all earlier ones, twice (classical
 * Gram-Schmidt), in loops whose summation order does not depend on the
 * thread count. On return theta, s and resid hold T_m's Ritz pairs. */
mn_status mn_lanczos_run(mn_lanczos *lz, const mn_objective *f, const double *x, const double *start, int nlo,
                         int nhi, double tol);
/* Deflation: later runs keep the start and every Lanczos vector orthogonal
 * to the nlock rows of y (nlock x nf, orthonormal, free coordinates; kept by
 * the caller while lz uses them), so they see H on the complement of y:
 * converged Ritz vectors locked there make the next run find what the Krylov
 * space of the first could not (another copy of a repeated eigenvalue).
 * nlock = 0 unlocks. */
mn_status mn_lanczos_lock(mn_lanczos *lz, const double *y, int nlock);
/* The Ritz vector of Ritz pair i in free coordinates, yf (nf) = Q^T s_i,
 * unit norm up to rounding. */
void mn_lanczos_ritz_free(const mn_lanczos *lz, int i, double *yf);
/* yf (nf free coordinates) as a full-length vector y (n; 0 at frozen parameters). */
void mn_lanczos_expand(const mn_lanczos *lz, const double *yf, double *y, size_t n);

#endif
