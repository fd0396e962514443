/* Are two end points the same minimum up to the model's symmetries?
 * F(P W Q) = F(W) for a permutation P of the student units (rows) and a
 * permutation Q of the input coordinates, which (V = I) also permutes the
 * teacher units (columns). With the eliminator, c is an extra row that is
 * pinned (never exchanged with a unit) but has its columns permuted too.
 *
 * Method: entries within tol are made one value class (single-linkage over
 * the sorted entries of both matrices), so the question becomes exact:
 * is there a row bijection and a column bijection mapping A's classes onto
 * B's? Colour refinement (a row's colour is refined by the multiset of
 * (column colour, class) in it, and likewise for columns) splits rows and
 * columns of both matrices in step; differing colour counts prove
 * inequivalence. When refinement stalls with a colour held by several rows
 * (symmetric minima), one row of A is individualised against each candidate
 * row of B in turn (backtracking). Leaves with every colour unique give the
 * bijections, verified entry by entry against tol on the original values. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "popul/internal.h"

typedef struct {
    int rows, cols;
    const int *ca, *cb; /* value classes (rows x cols) */
    const double *A, *B;
    double tol;
    int *sig;           /* scratch: signatures */
    int siglen;
} eq_ctx;

/* sort ints ascending (small arrays) */
static void isort(int *a, int n)
{
    for (int i = 1; i < n; i++) {
        int v = a[i], j = i - 1;
        while (j >= 0 && a[j] > v) a[j + 1] = a[j], j--;
        a[j + 1] = v;
    }
}

static int cmp_sig(const int *a, const int *b, int len)
{
    for (int i = 0; i < len; i++)
        if (a[i] != b[i]) return a[i] < b[i] ? -1 : 1;
    return 0;
}

/* New colours for m items of A and m of B from their signatures (2m rows of
 * len ints in sig): equal signatures share a colour, colours numbered in
 * signature order. Returns the number of colours, or -1 when the counts of
 * a colour differ between A and B. */
static int recolour(const int *sig, int m, int len, int *colA, int *colB, int *order)
{
    const int tot = 2 * m;
    for (int i = 0; i < tot; i++) order[i] = i;
    for (int i = 1; i < tot; i++) { /* insertion sort on signatures */
        int v = order[i], j = i - 1;
        while (j >= 0 && cmp_sig(sig + (size_t)order[j] * len, sig + (size_t)v * len, len) > 0)
            order[j + 1] = order[j], j--;
        order[j + 1] = v;
    }
    int ncol = 0, balance = 0;
    for (int t = 0; t < tot; t++) {
        if (t > 0 && cmp_sig(sig + (size_t)order[t - 1] * len, sig + (size_t)order[t] * len, len) != 0) {
            if (balance != 0) return -1;
            ncol++;
        }
        const int id = order[t];
        if (id < m) colA[id] = ncol, balance++;
        else colB[id - m] = ncol, balance--;
    }
    return balance != 0 ? -1 : ncol + 1;
}

/* Refine row colours (rA, rB) and column colours (cA, cB) to a fixed point.
 * Returns 0 when A and B disagree. */
static int refine(eq_ctx *e, int *rA, int *rB, int *cA, int *cB, int *order)
{
    const int R = e->rows, C = e->cols;
    int nr = -1, nc = -1;
    for (int round = 0; round < 4 * (R + C) + 4; round++) {
        /* rows: [colour, sorted (colcolour * K + class) ...] */
        int len = 1 + C;
        for (int side = 0; side < 2; side++)
            for (int i = 0; i < R; i++) {
                int *s = e->sig + ((size_t)side * R + i) * len;
                const int *cls = (side ? e->cb : e->ca) + (size_t)i * C;
                const int *cc = side ? cB : cA;
                s[0] = (side ? rB : rA)[i];
                for (int j = 0; j < C; j++) s[1 + j] = cc[j] * (2 * R * C + 1) + cls[j];
                isort(s + 1, C);
            }
        const int nr2 = recolour(e->sig, R, len, rA, rB, order);
        if (nr2 < 0) return 0;
        len = 1 + R;
        for (int side = 0; side < 2; side++)
            for (int j = 0; j < C; j++) {
                int *s = e->sig + ((size_t)side * C + j) * len;
                const int *cls = side ? e->cb : e->ca;
                const int *rr = side ? rB : rA;
                s[0] = (side ? cB : cA)[j];
                for (int i = 0; i < R; i++) s[1 + i] = rr[i] * (2 * R * C + 1) + cls[(size_t)i * C + j];
                isort(s + 1, R);
            }
        const int nc2 = recolour(e->sig, C, len, cA, cB, order);
        if (nc2 < 0) return 0;
        if (nr2 == nr && nc2 == nc) break;
        nr = nr2, nc = nc2;
    }
    return 1;
}

static int search(eq_ctx *e, const int *rA0, const int *rB0, const int *cA0, const int *cB0, int depth)
{
    const int R = e->rows, C = e->cols;
    int *st = malloc((size_t)(2 * R + 2 * C + 2 * (R > C ? R : C)) * sizeof *st);
    if (!st) return 0;
    int *rA = st, *rB = rA + R, *cA = rB + R, *cB = cA + C, *order = cB + C;
    memcpy(rA, rA0, (size_t)R * sizeof *rA), memcpy(rB, rB0, (size_t)R * sizeof *rB);
    memcpy(cA, cA0, (size_t)C * sizeof *cA), memcpy(cB, cB0, (size_t)C * sizeof *cB);
    int ok = 0;
    if (!refine(e, rA, rB, cA, cB, order)) goto done;
    /* first row colour, then column colour, held by more than one */
    int pick = -1, is_row = 1;
    for (int i = 0; i < R && pick < 0; i++)
        for (int j = 0; j < R; j++)
            if (j != i && rA[j] == rA[i]) {
                pick = i;
                break;
            }
    if (pick < 0) {
        is_row = 0;
        for (int i = 0; i < C && pick < 0; i++)
            for (int j = 0; j < C; j++)
                if (j != i && cA[j] == cA[i]) {
                    pick = i;
                    break;
                }
    }
    if (pick < 0) {
        /* all colours unique: the bijections; verify on the values */
        ok = 1;
        for (int i = 0; i < R && ok; i++) {
            int bi = 0;
            while (rB[bi] != rA[i]) bi++;
            for (int j = 0; j < C && ok; j++) {
                int bj = 0;
                while (cB[bj] != cA[j]) bj++;
                ok = fabs(e->A[(size_t)i * C + j] - e->B[(size_t)bi * C + bj]) <= e->tol;
            }
        }
        goto done;
    }
    if (depth > R + C) goto done;
    {
        int *xA = is_row ? rA : cA, *xB = is_row ? rB : cB;
        const int m = is_row ? R : C, col = xA[pick];
        int fresh = 0;
        for (int i = 0; i < m; i++) fresh = xA[i] + 1 > fresh ? xA[i] + 1 : fresh;
        for (int b = 0; b < m && !ok; b++) {
            if (xB[b] != col) continue;
            xA[pick] = fresh, xB[b] = fresh;
            ok = search(e, rA, rB, cA, cB, depth + 1);
            xA[pick] = col, xB[b] = col;
        }
    }
done:
    free(st);
    return ok;
}

typedef struct {
    double v;
    int idx;
} vi;

static int cmp_vi(const void *a, const void *b)
{
    const vi *x = a, *y = b;
    return x->v < y->v ? -1 : x->v > y->v ? 1 : x->idx - y->idx;
}

int mn_popul_equivalent(const double *A, const double *B, int rows, int cols, int pinned, double tol)
{
    if (rows < 1 || cols < 1 || pinned < 0 || pinned > rows) return 0;
    const size_t m = (size_t)rows * cols;
    vi *all = malloc(2 * m * sizeof *all);
    int *cls = malloc(2 * m * sizeof *cls);
    const int len = 1 + (rows > cols ? rows : cols);
    int *sig = malloc((size_t)2 * (rows > cols ? rows : cols) * len * sizeof *sig);
    int *col0 = calloc((size_t)2 * (rows + cols), sizeof *col0);
    int ok = 0;
    if (!all || !cls || !sig || !col0) goto done;
    for (size_t i = 0; i < m; i++) all[i] = (vi){A[i], (int)i}, all[m + i] = (vi){B[i], (int)(m + i)};
    qsort(all, 2 * m, sizeof *all, cmp_vi);
    int c = 0;
    for (size_t t = 0; t < 2 * m; t++) {
        if (t > 0 && all[t].v - all[t - 1].v > tol) c++;
        cls[all[t].idx] = c;
    }
    /* pinned rows (the last ones) get their own colours */
    int *rA = col0, *rB = rA + rows, *cA = rB + rows, *cB = cA + cols;
    for (int i = rows - pinned; i < rows; i++) rA[i] = rB[i] = 1 + i - (rows - pinned);
    eq_ctx e = {.rows = rows, .cols = cols, .ca = cls, .cb = cls + m, .A = A, .B = B, .tol = tol, .sig = sig};
    ok = search(&e, rA, rB, cA, cB, 0);
done:
    free(all), free(cls), free(sig), free(col0);
    return ok;
}

/* The end point as the matrix the symmetry test compares: W, plus c as a
 * pinned last row with the eliminator. */
static void as_matrix(double *M, const double *th, const mn_popul_spec *s)
{
    const size_t nk = (size_t)s->n * s->k;
    memcpy(M, th, nk * sizeof *M);
    if (s->elim) memcpy(M + nk, th + nk + 1, (size_t)s->k * sizeof *M);
}

mn_status mn_popul_distinct(int *label, int *ndistinct, const double *const *pts, const double *loss,
                            const double *a, const double *b, int m, const mn_popul_spec *spec, double tol)
{
    const int rows = spec->n + (spec->elim ? 1 : 0), cols = spec->k;
    int *rep = malloc((size_t)(m > 0 ? m : 1) * sizeof *rep);
    double *Ma = malloc((size_t)rows * cols * sizeof *Ma), *Mb = malloc((size_t)rows * cols * sizeof *Mb);
    if (!rep || !Ma || !Mb) {
        free(rep), free(Ma), free(Mb);
        return mn_fail(MN_ENOMEM, "popul: out of memory for %d minima", m);
    }
    int nd = 0;
    for (int r = 0; r < m; r++) {
        as_matrix(Ma, pts[r], spec);
        int found = -1;
        for (int d = 0; d < nd && found < 0; d++) {
            const int q = rep[d];
            if (fabs(loss[q] - loss[r]) > 1e-8 * (1 + fabs(loss[q]))) continue; /* F is invariant */
            if (spec->elim && (fabs(a[q] - a[r]) > tol || fabs(b[q] - b[r]) > tol)) continue;
            as_matrix(Mb, pts[q], spec);
            if (mn_popul_equivalent(Ma, Mb, rows, cols, spec->elim ? 1 : 0, tol)) found = d;
        }
        if (found < 0) rep[nd] = r, found = nd++;
        label[r] = found;
    }
    *ndistinct = nd;
    free(rep), free(Ma), free(Mb);
    return MN_OK;
}
