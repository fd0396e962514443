/* The gradient evaluation of the population kernel written for one vector
 * width: kernel.c includes this file once per width, with
 *   MN_VW      doubles per hardware vector (2: SSE2, 4: AVX2, 8: AVX-512)
 *   MN_W(x)    x with the width's suffix (names of this copy)
 * and compiles the copies into functions per instruction-set level
 * (MN_LEVELS). All functions here are always inlined (MN_INLINE), so they
 * take the target of the function they end up in.
 *
 * Why one copy per width rather than 8-lane vectors everywhere: GCC keeps
 * vectors wider than the hardware's in memory (a 64-byte vector on AVX2 is
 * a stack object, every operation a load and a store), which made the AVX2
 * and SSE2 code slower than a plain scalar loop.
 *
 * Bits. Element by element every width does the same operations in the same
 * order: the angle terms, the Gram and product sums (each a chain over l or
 * j, in order, one chain per element) are lane-wise; the only sums across
 * lanes (row norms, beta_i, the value) use 8 logical lanes, lane q holding
 * the entries q, q + 8, q + 16, ... in order, reduced by one fixed tree
 * (hsum below), whatever the width. So every width gives the same bits. */
#define V MN_W(vd)
#define VL MN_W(vl)
#define VU MN_W(vu)
#define NV (8 / MN_VW) /* hardware vectors per 8 logical lanes */
/* aligned(8): unaligned loads through a cast pointer are allowed */
typedef double V __attribute__((vector_size(8 * MN_VW), aligned(8)));
typedef int64_t VL __attribute__((vector_size(8 * MN_VW), aligned(8)));  /* comparison results */
typedef uint64_t VU __attribute__((vector_size(8 * MN_VW), aligned(8))); /* bit patterns */

/* Square roots of N hardware vectors: the hardware's, correctly rounded
 * (kernel.c), so the same bits at every width. GCC's builtins, not the
 * intrinsics: those refuse to be inlined into a function without the
 * level's target, which this one is until it lands in the level's copy.
 * (-Wpsabi: GCC warns of the wide vector the builtin returns, as if it were
 * a call; it is one instruction, in a function of the level's target.) */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wpsabi"
MN_INLINE void MN_W(sqrt_v)(V *restrict out, const V *restrict x, const int N)
{
#if MN_X86_LEVELS && MN_VW == 8
    XN(N, out[h] = __builtin_ia32_sqrtpd512_mask(x[h], x[h], -1, 4)); /* 4: the current rounding */
#elif MN_X86_LEVELS && MN_VW == 4
    XN(N, out[h] = __builtin_ia32_sqrtpd256(x[h]));
#elif MN_X86_LEVELS
    XN(N, out[h] = __builtin_ia32_sqrtpd(x[h]));
#else
    for (int h = 0; h < N; h++) {
        V r = x[h];
        for (int l = 0; l < MN_VW; l++) r[l] = __builtin_sqrt(r[l]);
        out[h] = r;
    }
#endif
}
#pragma GCC diagnostic pop

/* angle_terms (kernel.c) on N <= 4 hardware vectors, statement by statement
 * over the vectors (and the two roots of each together): per lane the
 * polynomial / division / root sequence is one long dependency chain, and
 * several independent ones side by side keep the pipes busy. Lane by lane
 * the operations are angle_terms' own, so are the bits. Written out (rather
 * than left to GCC's vectoriser) because that evaluates the rational
 * polynomial and its division twice, once per branch under masks. */
MN_INLINE void MN_W(angle_terms_v)(const double *restrict cp, double *restrict ak, double *restrict sk, const int N)
{
    const double inv2pi = 1.0 / (2 * MN_PI);
    const V one = (V){0} + 1.0;
    V c[4], a[4], p[4], q[4], r[4], T[4], x[8], rt[8]; /* x: z, then (1 - a)(1 + a) */
    VL big[4];
    XN(N, c[h] = VLD(V, cp + MN_VW * h));
    XN(N, c[h] = VSEL(V, VL, c[h] > 1.0, one, VSEL(V, VL, c[h] < -1.0, -one, c[h])));
    XN(N, a[h] = (V)((VU)c[h] & 0x7FFFFFFFFFFFFFFFULL));
    XN(N, big[h] = a[h] > 0.5);
    XN(N, x[h] = VSEL(V, VL, big[h], 0.5 * (1.0 - a[h]), a[h] * a[h]));
    XN(N, x[N + h] = (1.0 - a[h]) * (1.0 + a[h]));
    XN(N, p[h] = x[h] * (pS0 + x[h] * (pS1 + x[h] * (pS2 + x[h] * (pS3 + x[h] * (pS4 + x[h] * pS5))))));
    XN(N, q[h] = 1.0 + x[h] * (qS1 + x[h] * (qS2 + x[h] * (qS3 + x[h] * qS4))));
    XN(N, r[h] = p[h] / q[h]);
    MN_W(sqrt_v)(rt, x, 2 * N);
    XN(N, T[h] = VSEL(V, VL, big[h], 2.0 * (rt[h] + rt[h] * r[h]), pio2_hi - (a[h] - (pio2_lo - a[h] * r[h]))));
    XN(N, VST(V, ak + MN_VW * h,
              VSEL(V, VL, c[h] < 0, T[h], (pio2_hi - T[h]) + pio2_hi + 2 * pio2_lo) * inv2pi));
    XN(N, VST(V, sk + MN_VW * h, rt[N + h] * inv2pi));
}

/* All m angles, 4 vectors at a time, then 1: the last step runs up to
 * MN_VW - 1 past m, into the slack (kp >= 8) at the end of cs / ak / sk. */
MN_INLINE void MN_W(angles)(double *restrict ak, double *restrict sk, const double *restrict cs, int m)
{
    int t = 0;
    for (; t + 3 * MN_VW < m; t += 4 * MN_VW) MN_W(angle_terms_v)(cs + t, ak + t, sk + t, 4);
    for (; t < m; t += MN_VW) MN_W(angle_terms_v)(cs + t, ak + t, sk + t, 1);
}

/* Row tiles of R rows x NB hardware vectors of columns (kernel.c,
 * MN_TILES): R NB independent chains in flight, each summed in the same
 * order as alone. 8 to 12 chains keep two pipes of 3-4 cycle latency busy
 * without spilling 16 registers (SSE2, AVX2) or 32 (AVX-512). */
MN_INLINE int MN_W(tile_rows)(int nb)
{
    static const int rows[5] = {0, 4, 4, 3, MN_VW == 8 ? 3 : 2};
    return rows[nb];
}

/* Gram tile: rows i .. i+R-1 of U against columns jb .. jb+MN_VW NB-1 (from
 * U^T, k x np), into rb (rows of MN_POPUL_MAX_N). */
MN_INLINE void MN_W(gram_tile)(double *restrict rb, const double *restrict U, const double *restrict UT, int i,
                               int jb, int k, int np, int kp, const int R, const int NB)
{
    V acc[4][4];
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) acc[r][b] = (V){0};
    for (int l = 0; l < k; l++) {
        const double *restrict ut = UT + (size_t)l * np + jb;
        for (int r = 0; r < R; r++) {
            const double u = U[(size_t)(i + r) * kp + l];
            for (int b = 0; b < NB; b++) acc[r][b] += u * VLD(V, ut + MN_VW * b);
        }
    }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) VST(V, rb + (size_t)r * MN_POPUL_MAX_N + jb + MN_VW * b, acc[r][b]);
}

/* x^T for the MN_VW x MN_VW block x (rows), in registers: log2(MN_VW)
 * stages, stage b swapping the off-diagonal b x b blocks of every 2b x 2b
 * block (lane j of row p with (j & b) != 0 trades with lane j - b of row
 * p + b). Shuffle indices: 0 .. MN_VW-1 the first operand's lanes, then
 * the second's. */
#if MN_VW == 2
#define MN_SWAP_LO(b) ((VL){0, 2})
#define MN_SWAP_HI(b) ((VL){1, 3})
#elif MN_VW == 4
#define MN_SWAP_LO(b) ((b) == 1 ? (VL){0, 4, 2, 6} : (VL){0, 1, 4, 5})
#define MN_SWAP_HI(b) ((b) == 1 ? (VL){1, 5, 3, 7} : (VL){2, 3, 6, 7})
#else
#define MN_SWAP_LO(b)                                                                                \
    ((b) == 1   ? (VL){0, 8, 2, 10, 4, 12, 6, 14}                                                    \
     : (b) == 2 ? (VL){0, 1, 8, 9, 4, 5, 12, 13}                                                     \
                : (VL){0, 1, 2, 3, 8, 9, 10, 11})
#define MN_SWAP_HI(b)                                                                                \
    ((b) == 1   ? (VL){1, 9, 3, 11, 5, 13, 7, 15}                                                    \
     : (b) == 2 ? (VL){2, 3, 10, 11, 6, 7, 14, 15}                                                   \
                : (VL){4, 5, 6, 7, 12, 13, 14, 15})
#endif
MN_INLINE void MN_W(transpose)(V *restrict x)
{
    for (int b = 1; b < MN_VW; b *= 2)
        for (int p = 0; p < MN_VW; p++)
            if (!(p & b)) {
                const V lo = __builtin_shuffle(x[p], x[p + b], MN_SWAP_LO(b));
                x[p + b] = __builtin_shuffle(x[p], x[p + b], MN_SWAP_HI(b));
                x[p] = lo;
            }
}
#undef MN_SWAP_LO
#undef MN_SWAP_HI

/* Unit rows U = W / |w_i| (n x kp) and U^T (k x np, padding 0), a block of
 * MN_VW x MN_VW at a time, transposed in registers: U^T written by whole
 * vectors, which the Gram tiles then load without waiting for single
 * stores to drain (a vector load over several scalar stores cannot be
 * forwarded from them). */
MN_INLINE void MN_W(unit_rows)(double *restrict U, double *restrict UT, const double *restrict Wp,
                               const double *restrict coef, int n, int k, int np, int kp)
{
    for (int i0 = 0; i0 < n; i0 += MN_VW)
        for (int l0 = 0; l0 < k; l0 += MN_VW) {
            V x[MN_VW];
            for (int q = 0; q < MN_VW; q++) {
                x[q] = (V){0};
                if (i0 + q < n) {
                    x[q] = VLD(V, Wp + (size_t)(i0 + q) * kp + l0) * coef[i0 + q];
                    VST(V, U + (size_t)(i0 + q) * kp + l0, x[q]);
                }
            }
            MN_W(transpose)(x);
            for (int q = 0; q < MN_VW && l0 + q < k; q++) VST(V, UT + (size_t)(l0 + q) * np + i0, x[q]);
        }
    /* U's padding columns past the last block of k (zero in Wp) */
    for (int i = 0; i < n; i++)
        for (int l0 = (k + MN_VW - 1) / MN_VW * MN_VW; l0 < kp; l0 += MN_VW)
            VST(V, U + (size_t)i * kp + l0, VLD(V, Wp + (size_t)i * kp + l0) * coef[i]);
}

/* Cosines of the student pairs, packed row by row: row i holds
 * j = i+1 .. n-1 at cs + off[i]. C_ij = U_i . U_j from U^T (k x np), by
 * tiles of rows, each from the first row's vector of j (later rows of a
 * tile compute a few unused entries). Rows are stored a vector at a time:
 * up to MN_VW - 1 values past a row's end, rewritten by the next row or,
 * after the last, by the teacher cosines (written after this). */
MN_INLINE void MN_W(gram_packed)(double *restrict cs, const int *restrict off, const double *restrict U,
                                 const double *restrict UT, int n, int np, int k, int kp)
{
    double rb[4 * MN_POPUL_MAX_N + 8] __attribute__((aligned(64)));
    for (int i = 0; i < n - 1;) {
        const int j0 = (i + 1) & ~(MN_VW - 1), nbt = (n - j0 + MN_VW - 1) / MN_VW;
        int R = MN_W(tile_rows)(nbt < 4 ? nbt : 4);
        R = R < n - 1 - i ? R : n - 1 - i;
        for (int jb = j0; jb < n; jb += 4 * MN_VW) {
            const int nb = (n - jb + MN_VW - 1) / MN_VW < 4 ? (n - jb + MN_VW - 1) / MN_VW : 4;
            MN_TILES(MN_W(gram_tile), R, nb, rb, U, UT, i, jb, k, np, kp)
        }
        for (int r = 0; r < R; r++, i++) {
            const double *restrict src = rb + (size_t)r * MN_POPUL_MAX_N + i + 1;
            double *restrict dst = cs + off[i];
            for (int t = 0; t < n - 1 - i; t += MN_VW) {
                VST(V, dst + t, VLD(V, src + t));
                __asm__("" : "+r"(t)); /* no memcpy call for these few lines */
            }
        }
    }
}

/* Products tile: G_i = W_i / 2 + sum_j A_ij W_j (j = 0 .. n-1 in order, the
 * zero diagonal term included) for rows i .. i+R-1, columns
 * lb .. lb+MN_VW NB-1, with A read from the packed upper triangle ak (row j
 * at off[j]): for j < i the tile's entries A_{i+r, j} lie side by side in
 * row j, for j >= i+R each row r reads its own packed row, in between (the
 * diagonal block) entry by entry. (No full copy of A: its mirror cost n^2
 * scalar stores.) */
MN_INLINE void MN_W(sym_tile)(double *restrict G, const double *restrict ak, const int *restrict off,
                              const double *restrict Wp, int i, int lb, int n, int kp, const int R, const int NB)
{
    V acc[4][4];
    const double *restrict ar[4]; /* ar[r][j] = A_{i+r, j} for j > i+r */
    for (int r = 0; r < R; r++) {
        ar[r] = ak + off[i + r] - (i + r + 1);
        for (int b = 0; b < NB; b++) acc[r][b] = 0.5 * VLD(V, Wp + (size_t)(i + r) * kp + lb + MN_VW * b);
    }
    for (int j = 0; j < i; j++) {
        const double *restrict aj = ak + off[j] - (j + 1) + i; /* aj[r] = A_{i+r, j} */
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = aj[r];
            for (int b = 0; b < NB; b++) acc[r][b] += a * VLD(V, wj + MN_VW * b);
        }
    }
    for (int j = i; j < i + R; j++) {
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = j < i + r ? ak[off[j] - (j + 1) + i + r] : j > i + r ? ar[r][j] : 0.0;
            for (int b = 0; b < NB; b++) acc[r][b] += a * VLD(V, wj + MN_VW * b);
        }
    }
    for (int j = i + R; j < n; j++) {
        const double *restrict wj = Wp + (size_t)j * kp + lb;
        for (int r = 0; r < R; r++) {
            const double a = ar[r][j];
            for (int b = 0; b < NB; b++) acc[r][b] += a * VLD(V, wj + MN_VW * b);
        }
    }
    for (int r = 0; r < R; r++)
        for (int b = 0; b < NB; b++) VST(V, G + (size_t)(i + r) * kp + lb + MN_VW * b, acc[r][b]);
}

/* 8 logical lanes held as NV hardware vectors, summed in one fixed order,
 * ((l0 + l4) + (l2 + l6)) + ((l1 + l5) + (l3 + l7)), which every width
 * computes with whole-vector adds of its halves: (w8) 8 -> 4 lanes, (w4
 * from there; w2: two adds of its four vectors) 4 -> 2 lanes, then one
 * scalar add. (Read lane by lane, in registers, it took ~7% of an
 * evaluation at k = n = 8.) */
MN_INLINE double MN_W(hsum)(const V *restrict acc)
{
    typedef double V2 __attribute__((vector_size(16)));
#if MN_VW == 8
    typedef double V4 __attribute__((vector_size(32)));
    const V4 v = __builtin_shufflevector(acc[0], acc[0], 0, 1, 2, 3) + __builtin_shufflevector(acc[0], acc[0], 4, 5, 6, 7);
    const V2 c = __builtin_shufflevector(v, v, 0, 1) + __builtin_shufflevector(v, v, 2, 3);
#elif MN_VW == 4
    const V v = acc[0] + acc[1];
    const V2 c = __builtin_shufflevector(v, v, 0, 1) + __builtin_shufflevector(v, v, 2, 3);
#else
    const V2 c = (acc[0] + acc[2]) + (acc[1] + acc[3]);
#endif
    return c[0] + c[1];
}

/* G_i = W_i / 2 + sum_{j != i} A_ij W_j with A symmetric, given as the
 * packed upper triangle ak (row i at off[i]), by tiles of rows and up to
 * four vectors of columns. Also alpha_i = sum_{j != i} S_ij |w_j| from the
 * packed sk: the terms j < i in order of j, a vector of i at a time (lane i
 * of packed row j's entries i0 .. i0 + MN_VW - 1; within the block, lanes
 * i <= j get 0, which leaves a sum of nonnegative terms unchanged), plus the
 * terms j > i as one dot product of 8 logical lanes (hsum). Not written as
 * alpha[j] += S_ij |w_i| row after row: each row's vector stores, reloaded
 * one entry further on by the next row, cannot be forwarded and stall. */
MN_INLINE void MN_W(sym_products)(double *restrict G, double *restrict alpha, const double *restrict ak,
                                  const double *restrict sk, const int *restrict off, const double *restrict Wp,
                                  const double *restrict nrm, int n, int kp)
{
    /* the norms with zeros past n: the dot products' last vectors reach up
     * to 7 entries past row i's end (into the next rows of sk, finite) */
    double nz[MN_POPUL_MAX_N + 8] __attribute__((aligned(64))), dot[MN_POPUL_MAX_N + 8] __attribute__((aligned(64)));
    for (int i = 0; i < n; i++) nz[i] = nrm[i];
    for (int i = n; i < n + 8; i++) nz[i] = 0, dot[i] = 0;
    for (int i = 0; i < n; i++) {
        const double *restrict si = sk + off[i] - (i + 1); /* si[j], j > i */
        V acc[NV];
        for (int q = 0; q < NV; q++) acc[q] = (V){0};
        for (int j = i + 1; j < n; j += 8)
            for (int q = 0; q < NV; q++) acc[q] += VLD(V, si + j + MN_VW * q) * VLD(V, nz + j + MN_VW * q);
        dot[i] = MN_W(hsum)(acc);
    }
    V lane; /* lane l holds l */
    for (int l = 0; l < MN_VW; l++) lane[l] = l;
    for (int i0 = 0; i0 < n; i0 += MN_VW) {
        V acc = (V){0};
        for (int j = 0; j < i0; j++) acc += VLD(V, sk + off[j] - (j + 1) + i0) * nrm[j];
        for (int j = i0; j < i0 + MN_VW && j < n - 1; j++) {
            const V t = VLD(V, sk + off[j] - (j + 1) + i0) * nrm[j];
            acc += VSEL(V, VL, lane > (double)(j - i0), t, (V){0});
        }
        VST(V, alpha + i0, acc + VLD(V, dot + i0));
    }
    for (int lb = 0; lb < kp; lb += 4 * MN_VW) {
        const int nb = (kp - lb) / MN_VW < 4 ? (kp - lb) / MN_VW : 4, R = MN_W(tile_rows)(nb);
        for (int i = 0; i < n; i += R) {
            const int r = R < n - i ? R : n - i;
            MN_TILES(MN_W(sym_tile), r, nb, G, ak, off, Wp, i, lb, n, kp)
        }
    }
}

/* Everything of one evaluation: norms, unit rows, the Gram matrix, the
 * angles, the two products, and the assembly of the gradient and the
 * value. Wp, Gp: W and its gradient in the padded layout (n x kp, zero
 * padding); the padding of Gp comes out 0. nn[0] = |grad|^2,
 * nn[1] = |W|^2. Returns i + 1 when row i is 0 or not finite, else 0. */
MN_INLINE int MN_W(eval_core)(mn_popul_work *w, const double *restrict Wp0, double *loss, double *restrict Gp0,
                              double *restrict nn)
{
    const int n = w->spec.n, k = w->spec.k, npair = w->npair, np = w->np, kp = w->kp;
    /* Wp and Gp on whole cache lines (the work space is): a load that
     * straddles two lines costs two, and the products load W's rows n
     * times over. Copying changes no value. */
    const int copy = ((uintptr_t)Wp0 & 63) != 0;
    double *restrict Wa = w->Wp;
    double *Gp = ((uintptr_t)Gp0 & 63) ? w->gs : Gp0; /* may be Gp0: not restrict */
    double *restrict nrm = w->nrm, *restrict U = w->U, *restrict cs = w->cs;
    double *restrict ak = w->ak, *restrict sk = w->sk, *restrict coef = w->coef;
    double *restrict UT = w->UT, *restrict s2 = w->row;
    const double *restrict mask = w->mask;

    for (int i = 0; i < n; i++) {
        const double *restrict wi = Wp0 + (size_t)i * kp;
        V acc[NV];
        for (int q = 0; q < NV; q++) acc[q] = (V){0};
        for (int lb = 0; lb < kp; lb += 8)
            for (int q = 0; q < NV; q++) {
                const V x = VLD(V, wi + lb + MN_VW * q);
                acc[q] += x * x;
                if (copy) VST(V, Wa + (size_t)i * kp + lb + MN_VW * q, x);
            }
        s2[i] = MN_W(hsum)(acc);
    }
    const double *restrict Wp = copy ? Wa : Wp0;
    double wn2 = 0;
    for (int i = 0; i < n; i++) {
        if (!(s2[i] > 0) || !(s2[i] < INFINITY)) return i + 1;
        wn2 += s2[i];
    }
    /* norms and their reciprocals a vector at a time; s2's padding holds 1 */
    for (int i = 0; i < n; i += MN_VW) {
        V r;
        MN_W(sqrt_v)(&r, (const V *)(s2 + i), 1);
        VST(V, nrm + i, r);
        VST(V, coef + i, 1.0 / r);
    }
    /* unit rows, and U^T (its padding stays 0) */
    MN_W(unit_rows)(U, UT, Wp, coef, n, k, np, kp);
    MN_W(gram_packed)(cs, w->off, U, UT, n, np, k, kp);
    /* teacher cosines: U's entries, packed rows of k after the pairs (each
     * row stored a vector at a time, the overlap rewritten by the next row,
     * the buffer has slack at the end) */
    for (int i = 0; i < n; i++)
        for (int lb = 0; lb < kp; lb += MN_VW)
            VST(V, cs + npair + (size_t)i * k + lb, VLD(V, U + (size_t)i * kp + lb));
    MN_W(angles)(ak, sk, cs, npair + n * k);
    /* gs = W/2 + alpha U + A W */
    MN_W(sym_products)(Gp, coef, ak, sk, w->off, Wp, nrm, n, kp);
    /* teacher part: grad F_st_i = beta_i U_i + B_i (loads past the k teacher
     * angles of a row are masked out); the value by Euler */
    V vss[NV], vst[NV], vgg[NV];
    for (int q = 0; q < NV; q++) vss[q] = vst[q] = vgg[q] = (V){0};
    for (int i = 0; i < n; i++) {
        const double *restrict ui = U + (size_t)i * kp, *restrict wi = Wp + (size_t)i * kp;
        const double *restrict ai = ak + npair + (size_t)i * k, *restrict si = sk + npair + (size_t)i * k;
        const double *g = Gp + (size_t)i * kp;
        V vb[NV];
        for (int q = 0; q < NV; q++) vb[q] = (V){0};
        for (int lb = 0; lb < kp; lb += 8)
            for (int q = 0; q < NV; q++) {
                const int e = lb + MN_VW * q;
                vb[q] += VLD(V, si + e) * VLD(V, mask + e);
            }
        const double beta = MN_W(hsum)(vb), al = coef[i];
        for (int lb = 0; lb < kp; lb += 8)
            for (int q = 0; q < NV; q++) {
                const int e = lb + MN_VW * q;
                const V u = VLD(V, ui + e), x = VLD(V, wi + e);
                const V gsv = VLD(V, g + e) + al * u;
                const V gt = beta * u + VLD(V, ai + e) * VLD(V, mask + e);
                const V gv = gsv - gt;
                vss[q] += x * gsv;
                vst[q] += x * gt;
                vgg[q] += gv * gv;
                VST(V, Gp0 + (size_t)i * kp + e, gv);
            }
    }
    *loss = 0.5 * MN_W(hsum)(vss) - MN_W(hsum)(vst) + 0.25 * k + k * (k - 1.0) / (4 * MN_PI);
    nn[0] = MN_W(hsum)(vgg);
    nn[1] = wn2;
    return 0;
}

#undef V
#undef VL
#undef VU
#undef NV
