/* When the model's passes go parallel (split.h). */
#include <cblas.h>
#include <omp.h>

#include "split.h"

int mn_split_threads(double work, int pieces)
{
    if (work < MN_SPLIT_MIN || pieces < 2 || omp_in_parallel() || openblas_get_num_threads() != 1) return 1;
    const int t = omp_get_max_threads();
    return t < pieces ? t : pieces;
}
