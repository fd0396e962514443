/* Proofs for the distinct spurious minima of a Safran-Shamir experiment row
 * (minima experiment safran-shamir --prove). The experiment keeps only its
 * runs' summaries; the end point of a minimum's first-found run is rebuilt
 * by running that restart again, which the protocol makes bit-identical. */
#include <stdlib.h>
#include <string.h>

#include "minima/prove.h"

mn_status mn_prove_popul_row(mn_prove_result **res, int *m, const mn_popul_spec *spec, const mn_popul_opts *opts,
                             const mn_popul_run *runs, int restarts, uint64_t base_seed, int threads)
{
    *res = NULL, *m = 0;
    int nd = 0;
    for (int r = 0; r < restarts; r++)
        if (runs[r].cls == MN_CLASS_SPURIOUS && runs[r].distinct + 1 > nd) nd = runs[r].distinct + 1;
    if (nd == 0) return MN_OK;
    if (spec->elim) return mn_fail(MN_EINVAL, "prove: rows with the eliminating neuron are not supported");
    const size_t P = (size_t)spec->n * spec->k;
    int *rep = malloc((size_t)nd * sizeof *rep);
    double *pts = malloc((size_t)nd * P * sizeof *pts);
    mn_prove_result *out = calloc((size_t)nd, sizeof *out);
    mn_status st = MN_OK;
    if (!rep || !pts || !out) {
        st = mn_fail(MN_ENOMEM, "prove: out of memory for %d minima", nd);
        goto done;
    }
    for (int d = 0; d < nd; d++) rep[d] = -1;
    for (int r = 0; r < restarts; r++)
        if (runs[r].cls == MN_CLASS_SPURIOUS && rep[runs[r].distinct] < 0) rep[runs[r].distinct] = r;
    for (int d = 0; d < nd && !st; d++) {
        mn_popul_run again;
        if (rep[d] < 0) st = mn_fail(MN_EINVAL, "prove: no run of distinct minimum %d", d);
        else st = mn_popul_run_one(&again, pts + (size_t)d * P, spec, opts, base_seed, runs[rep[d]].restart);
        if (!st && again.cls != MN_CLASS_SPURIOUS)
            st = mn_fail(MN_EINVAL, "prove: run %d of k = %d, n = %d ended %s when run again", runs[rep[d]].restart,
                         spec->k, spec->n, mn_class_name(again.cls));
    }
    if (!st) st = mn_prove_population_many(out, spec->n, spec->k, pts, nd, threads);
done:
    free(rep), free(pts);
    if (st) free(out);
    else *res = out, *m = nd;
    return st;
}
