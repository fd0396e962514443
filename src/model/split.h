/* Cutting the samples (or units) of a pass across OpenMP threads without
 * changing bits (not part of the public API).
 *
 * OpenBLAS's own threads round differently with their count; callers who need
 * the same bits for any thread count (the landscape instruments, sweeps) run
 * it on one thread, and minima cuts the work itself: into pieces that start at
 * multiples of MN_SPLIT_ROWS rows, one single-threaded BLAS call each on an
 * OpenMP thread. OpenBLAS's kernels then give every entry the bits of the
 * uncut product (measured on this machine's Zen 3 kernels: cuts at other rows
 * change them, through the kernels' row tails). tests/test_instruments.c
 * checks 1 against 4 threads, tests/test_determinism.c 1 against 2 and 3. */
#ifndef MN_MODEL_SPLIT_H
#define MN_MODEL_SPLIT_H

#define MN_SPLIT_ROWS 64
#define MN_SPLIT_MIN 1000000.0 /* multiply-adds from which work is cut */

/* OpenMP threads for `work` multiply-adds in `pieces` independent pieces:
 * 1 below MN_SPLIT_MIN, inside a parallel region, or when OpenBLAS runs
 * threads of its own; else min(omp_get_max_threads(), pieces). */
int mn_split_threads(double work, int pieces);

#endif
