/*
 * Float64 kernels for the Fréchet distance (src/metrics/linalg.ts, driven by src/metrics/linalgNative.ts):
 * the "A times B-transposed" product over triangular index ranges, the blocked Cholesky built on it, and the
 * Householder tridiagonalisation's fused rank-2 update + symmetric matrix-vector product. WebAssembly SIMD128,
 * two doubles per vector; wasm has no FMA, so every multiply-add rounds twice, exactly like the JS kernels.
 *
 * gemm_nt_f64 keeps every dot product a single sequential sum over k (the SIMD lanes run over output columns,
 * and a C tile is reloaded between k blocks), so its results are bit-identical to linalg.ts's gemmNT and
 * gemmNTTriangular; the Cholesky is then bit-identical too. The tridiagonalisation's symv sums run in two lanes
 * (pairwise order), so it agrees with the JS one to rounding (~1e-15 relative), not bit for bit.
 */
#include <wasm_simd128.h>

typedef double f64;

/*
 * V8 runs a wasm function in its baseline compiler (Liftoff, ~2x slower here) until it has run for a while, and
 * then only calls that START after the optimised code is ready use it (no on-stack replacement). So every hot
 * loop lives in a NOINLINE function called many times (per tile, per block, per Householder step): the first
 * Fréchet distance of a process runs optimised code after a few milliseconds instead of after its first call.
 */
#define NOINLINE __attribute__((noinline))

/* Register tile: MR rows of A × NR columns (rows of B); 8 f64x2 accumulators, no spills in V8's 16 xmm. */
#define MR 4
#define NR 4
/* Cache blocks: an MR×KC panel of A and a KC×NR panel of B are 8 KB each (L1); MC×KC of A is 192 KB (L2). */
#define KC 256
#define MC 96
#define NC 512

/* Flags of gemm_nt_f64: which operand rows start or end at their own index (the rest are exact zeros). */
#define A_FROM_ROW 1
#define B_FROM_ROW 2
#define B_TO_ROW 4

static inline int imin(int a, int b) { return a < b ? a : b; }
static inline int imax(int a, int b) { return a > b ? a : b; }

/* Packs rows [0, rows) × k [0, kc) of x (row r at x + r*ld) into R-row panels, k-major: dst[panel][k][r]. */
NOINLINE static void pack(const f64 *x, int ld, int rows, int kc, f64 *dst) {
  for (int i = 0; i < rows; i += 4) {
    int live = imin(4, rows - i);
    const f64 *x0 = x + (long)i * ld;
    if (live == 4) {
      const f64 *x1 = x0 + ld, *x2 = x1 + ld, *x3 = x2 + ld;
      for (int k = 0; k < kc; k++) {
        dst[0] = x0[k];
        dst[1] = x1[k];
        dst[2] = x2[k];
        dst[3] = x3[k];
        dst += 4;
      }
    } else {
      for (int k = 0; k < kc; k++) {
        for (int r = 0; r < live; r++) dst[r] = x0[(long)r * ld + k];
        for (int r = live; r < 4; r++) dst[r] = 0.0;
        dst += 4;
      }
    }
  }
}

/* c[4][4] (row stride ldc) += Σ_k ap[k][:] ⊗ bp[k][:], the sums continuing from the values in c. */
NOINLINE static void micro(int kc, const f64 *ap, const f64 *bp, f64 *c, int ldc) {
  f64 *c0 = c, *c1 = c0 + ldc, *c2 = c1 + ldc, *c3 = c2 + ldc;
  v128_t s00 = wasm_v128_load(c0), s01 = wasm_v128_load(c0 + 2);
  v128_t s10 = wasm_v128_load(c1), s11 = wasm_v128_load(c1 + 2);
  v128_t s20 = wasm_v128_load(c2), s21 = wasm_v128_load(c2 + 2);
  v128_t s30 = wasm_v128_load(c3), s31 = wasm_v128_load(c3 + 2);
  for (int k = 0; k < kc; k++) {
    v128_t b0 = wasm_v128_load(bp), b1 = wasm_v128_load(bp + 2);
    v128_t a = wasm_v128_load64_splat(ap);
    s00 = wasm_f64x2_add(s00, wasm_f64x2_mul(a, b0));
    s01 = wasm_f64x2_add(s01, wasm_f64x2_mul(a, b1));
    a = wasm_v128_load64_splat(ap + 1);
    s10 = wasm_f64x2_add(s10, wasm_f64x2_mul(a, b0));
    s11 = wasm_f64x2_add(s11, wasm_f64x2_mul(a, b1));
    a = wasm_v128_load64_splat(ap + 2);
    s20 = wasm_f64x2_add(s20, wasm_f64x2_mul(a, b0));
    s21 = wasm_f64x2_add(s21, wasm_f64x2_mul(a, b1));
    a = wasm_v128_load64_splat(ap + 3);
    s30 = wasm_f64x2_add(s30, wasm_f64x2_mul(a, b0));
    s31 = wasm_f64x2_add(s31, wasm_f64x2_mul(a, b1));
    ap += 4;
    bp += 4;
  }
  wasm_v128_store(c0, s00); wasm_v128_store(c0 + 2, s01);
  wasm_v128_store(c1, s10); wasm_v128_store(c1 + 2, s11);
  wasm_v128_store(c2, s20); wasm_v128_store(c2 + 2, s21);
  wasm_v128_store(c3, s30); wasm_v128_store(c3 + 2, s31);
}

/* Doubles of scratch gemm_nt_f64 needs: the packed A and B blocks and one edge tile. */
__attribute__((export_name("gemm_nt_f64_scratch"))) int gemm_nt_f64_scratch(void) {
  return MC * KC + NC * KC + MR * NR;
}

/*
 * C[i*ldc + j] = Σ_{k ∈ [lo, hi)} A[i*lda + k] · B[j*ldb + k] for i < m, j < n (C overwritten), where the caller
 * promises that every skipped product is an exact zero: A_FROM_ROW — A's row i is zero before column i; B_FROM_ROW —
 * B's row j is zero before column j; B_TO_ROW — B's row j is zero after column j. Each sum runs over k in order.
 */
__attribute__((export_name("gemm_nt_f64"))) void gemm_nt_f64(
    const f64 *A, int lda, const f64 *B, int ldb, f64 *C, int ldc, int m, int n, int len, int flags, f64 *scratch) {
  f64 *pa = scratch;
  f64 *pb = pa + MC * KC;
  f64 *tile = pb + NC * KC;
  int aFrom = flags & A_FROM_ROW, bFrom = flags & B_FROM_ROW, bTo = flags & B_TO_ROW;
  for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) C[(long)i * ldc + j] = 0.0;
  for (int jc = 0; jc < n; jc += NC) {
    int nc = imin(NC, n - jc);
    for (int pc = 0; pc < len; pc += KC) {
      int kc = imin(KC, len - pc);
      /* the widest k range of any tile in this column block */
      int bHi = bTo ? imin(len, jc + nc + NR) : len;
      if (imax(bFrom ? jc : 0, pc) >= imin(bHi, pc + kc)) continue;
      pack(B + (long)jc * ldb + pc, ldb, nc, kc, pb);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = imin(MC, m - ic);
        if (imax(imax(aFrom ? ic : 0, bFrom ? jc : 0), pc) >= imin(bHi, pc + kc)) continue;
        pack(A + (long)ic * lda + pc, lda, mc, kc, pa);
        for (int jr = 0; jr < nc; jr += NR) {
          int j = jc + jr, cols = imin(NR, nc - jr);
          int hi = imin(bTo ? imin(len, j + NR) : len, pc + kc);
          for (int ir = 0; ir < mc; ir += MR) {
            int i = ic + ir, rows = imin(MR, mc - ir);
            int lo = imax(imax(aFrom ? i : 0, bFrom ? j : 0), pc);
            if (lo >= hi) continue;
            const f64 *ap = pa + ir * kc + (lo - pc) * MR, *bp = pb + jr * kc + (lo - pc) * NR;
            f64 *c = C + (long)i * ldc + j;
            if (rows == MR && cols == NR) {
              micro(hi - lo, ap, bp, c, ldc);
            } else {
              for (int r = 0; r < MR; r++)
                for (int q = 0; q < NR; q++) tile[r * NR + q] = r < rows && q < cols ? c[(long)r * ldc + q] : 0.0;
              micro(hi - lo, ap, bp, tile, NR);
              for (int r = 0; r < rows; r++)
                for (int q = 0; q < cols; q++) c[(long)r * ldc + q] = tile[r * NR + q];
            }
          }
        }
      }
    }
  }
}

/* X[a][b] += X[b][a] for b > a (r×r): the upper triangle of X + Xᵀ, in 32×32 blocks. */
__attribute__((export_name("add_transpose_upper_f64"))) void add_transpose_upper_f64(f64 *X, int r) {
  for (int a0 = 0; a0 < r; a0 += 32) {
    for (int b0 = a0; b0 < r; b0 += 32) {
      int a1 = imin(r, a0 + 32), b1 = imin(r, b0 + 32);
      for (int a = a0; a < a1; a++)
        for (int b = imax(a, b0); b < b1; b++) X[(long)a * r + b] += X[(long)b * r + a];
    }
  }
}

/* T = Lᵀ for L n×n (out of place). */
__attribute__((export_name("transpose_f64"))) void transpose_f64(const f64 *L, int n, f64 *T) {
  for (int i0 = 0; i0 < n; i0 += 32)
    for (int j0 = 0; j0 < n; j0 += 32) {
      int i1 = imin(n, i0 + 32), j1 = imin(n, j0 + 32);
      for (int i = i0; i < i1; i++)
        for (int j = j0; j < j1; j++) T[(long)j * n + i] = L[(long)i * n + j];
    }
}

#define CHOL_NB 48

/* Row i of L in the block column [j0, j0 + nb) (T: its row of the earlier blocks' sums); 0 when a pivot is ≤ tol. */
NOINLINE static int chol_row(const f64 *A, int n, f64 tol, f64 *L, const f64 *Ti, int i, int j0, int nb) {
  f64 *Li = L + (long)i * n;
  int jEnd = imin(j0 + nb, i + 1);
  for (int j = j0; j < jEnd; j++) {
    const f64 *Lj = L + (long)j * n;
    f64 s = A[(long)i * n + j] - Ti[j - j0];
    for (int k = j0; k < j; k++) s -= Li[k] * Lj[k];
    if (j == i) {
      if (!(s > tol)) return 0;
      Li[j] = __builtin_sqrt(s);
    } else {
      Li[j] = s / Lj[j];
    }
  }
  return 1;
}

/* Doubles of scratch chol_blocked_f64 needs besides L: the block column T and gemm_nt_f64's scratch. */
__attribute__((export_name("chol_blocked_f64_scratch"))) int chol_blocked_f64_scratch(int n) {
  return n * CHOL_NB + gemm_nt_f64_scratch();
}

/*
 * Blocked Cholesky A = L Lᵀ (lower triangle of A read; L row-major, zeros above the diagonal), linalg.ts's
 * choleskyBlocked step for step (same block size, same sums). Returns 0 as soon as a pivot is ≤ tol.
 */
__attribute__((export_name("chol_blocked_f64"))) int chol_blocked_f64(const f64 *A, int n, f64 tol, f64 *L, f64 *scratch) {
  f64 *T = scratch;
  f64 *gs = T + (long)n * CHOL_NB;
  for (long q = 0; q < (long)n * n; q++) L[q] = 0.0;
  for (int j0 = 0; j0 < n; j0 += CHOL_NB) {
    int nb = imin(CHOL_NB, n - j0), rows = n - j0;
    if (j0 > 0) gemm_nt_f64(L + (long)j0 * n, n, L + (long)j0 * n, n, T, nb, rows, nb, j0, 0, gs);
    else for (long q = 0; q < (long)rows * nb; q++) T[q] = 0.0;
    for (int i = j0; i < n; i++) if (!chol_row(A, n, tol, L, T + (long)(i - j0) * nb, i, j0, nb)) return 0;
  }
  return 1;
}

/* ---- Householder tridiagonalisation (linalg.ts's tridiagonalize without forming Q) ---- */

static f64 hyp(f64 a, f64 b) {
  f64 x = __builtin_fabs(a), y = __builtin_fabs(b);
  if (x > y) {
    f64 t = y / x;
    return x * __builtin_sqrt(1 + t * t);
  }
  if (y == 0) return 0;
  f64 t = x / y;
  return y * __builtin_sqrt(1 + t * t);
}

NOINLINE static void householder_row(f64 *A, int n, int k, f64 *d, f64 *e, f64 *tau) {
  int m = n - k - 1;
  f64 *x = A + (long)k * n + k + 1;
  f64 alpha = x[0];
  d[k] = A[(long)k * n + k];
  f64 scale = 0;
  for (int t = 1; t < m; t++) {
    f64 v = __builtin_fabs(x[t]);
    if (v > scale) scale = v;
  }
  if (scale == 0) {
    e[k] = alpha;
    tau[k] = 0;
    return;
  }
  f64 xnorm2 = 0;
  for (int t = 1; t < m; t++) {
    f64 v = x[t] / scale;
    xnorm2 += v * v;
  }
  f64 xnorm = scale * __builtin_sqrt(xnorm2);
  f64 beta = hyp(alpha, xnorm);
  if (alpha >= 0) beta = -beta;
  tau[k] = (beta - alpha) / beta;
  f64 inv = 1 / (alpha - beta);
  x[0] = 1;
  for (int t = 1; t < m; t++) x[t] *= inv;
  e[k] = beta;
}

/* p = B v for the symmetric m×m block B at A + b0*(n+1) (upper triangle read). */
NOINLINE static void symv_upper(const f64 *A, int n, int b0, const f64 *v, int m, f64 *p) {
  for (int i = 0; i < m; i++) p[i] = 0;
  for (int i = 0; i < m; i++) {
    const f64 *row = A + (long)(b0 + i) * n + b0;
    f64 vi = v[i], s = row[i] * vi;
    for (int j = i + 1; j < m; j++) {
      s += row[j] * v[j];
      p[j] += row[j] * vi;
    }
    p[i] += s;
  }
}

/* One row of the fused step (rows left over by the three-row loop). */
NOINLINE static void update_symv_row(f64 *A, int n, int m, int b0, int i, const f64 *v, const f64 *vn, const f64 *p, f64 *pn) {
  f64 *row = A + (long)(b0 + i) * n + b0;
  f64 vi = v[i], wi = p[i], ni = vn[i - 1];
  f64 s = 0;
  for (int j = i; j < m; j++) {
    f64 a = row[j] - (vi * p[j] + wi * v[j]);
    row[j] = a;
    s += a * vn[j - 1];
    if (j > i) pn[j - 1] += a * ni;
  }
  pn[i - 1] += s;
}

/*
 * Rows i = 1 … m−1 of the trailing block B (rows b0+i, upper triangle) get B −= v wᵀ + w vᵀ (w = p) and, in the
 * same pass, pn += B_new · vn (vn = v_{k+1}, indexed from row 1). Three rows per pass share the loads of p, v, vn
 * and pn; the column loop runs two columns per f64x2.
 */
NOINLINE static void update_symv(f64 *A, int n, int m, int b0, const f64 *v, const f64 *vn, const f64 *p, f64 *pn) {
  int i = 1;
  for (; i + 2 < m; i += 3) {
    f64 *ra = A + (long)(b0 + i) * n + b0, *rb = ra + n, *rc = rb + n;
    f64 va = v[i], wa = p[i], vb = v[i + 1], wb = p[i + 1], vc = v[i + 2], wc = p[i + 2];
    f64 na = vn[i - 1], nb = vn[i], nc = vn[i + 1];
    f64 p1 = p[i + 1], p2 = p[i + 2], v1 = v[i + 1], v2 = v[i + 2];
    f64 aii = ra[i] - (va * p[i] + wa * va);
    f64 ai1 = ra[i + 1] - (va * p1 + wa * v1);
    f64 ai2 = ra[i + 2] - (va * p2 + wa * v2);
    f64 b11 = rb[i + 1] - (vb * p1 + wb * v1);
    f64 b12 = rb[i + 2] - (vb * p2 + wb * v2);
    f64 c22 = rc[i + 2] - (vc * p2 + wc * v2);
    ra[i] = aii; ra[i + 1] = ai1; ra[i + 2] = ai2;
    rb[i + 1] = b11; rb[i + 2] = b12;
    rc[i + 2] = c22;
    f64 sa = aii * na + ai1 * nb + ai2 * nc;
    f64 sb = ai1 * na + b11 * nb + b12 * nc;
    f64 sc = ai2 * na + b12 * nb + c22 * nc;
    v128_t VA = wasm_f64x2_splat(va), WA = wasm_f64x2_splat(wa);
    v128_t VB = wasm_f64x2_splat(vb), WB = wasm_f64x2_splat(wb);
    v128_t VC = wasm_f64x2_splat(vc), WC = wasm_f64x2_splat(wc);
    v128_t NA = wasm_f64x2_splat(na), NB = wasm_f64x2_splat(nb), NC2 = wasm_f64x2_splat(nc);
    v128_t SA = wasm_f64x2_splat(0), SB = SA, SC = SA;
    int j = i + 3;
    for (; j + 1 < m; j += 2) {
      v128_t P = wasm_v128_load(p + j), V = wasm_v128_load(v + j), N = wasm_v128_load(vn + j - 1);
      v128_t a = wasm_f64x2_sub(wasm_v128_load(ra + j), wasm_f64x2_add(wasm_f64x2_mul(VA, P), wasm_f64x2_mul(WA, V)));
      v128_t b = wasm_f64x2_sub(wasm_v128_load(rb + j), wasm_f64x2_add(wasm_f64x2_mul(VB, P), wasm_f64x2_mul(WB, V)));
      v128_t c = wasm_f64x2_sub(wasm_v128_load(rc + j), wasm_f64x2_add(wasm_f64x2_mul(VC, P), wasm_f64x2_mul(WC, V)));
      wasm_v128_store(ra + j, a);
      wasm_v128_store(rb + j, b);
      wasm_v128_store(rc + j, c);
      SA = wasm_f64x2_add(SA, wasm_f64x2_mul(a, N));
      SB = wasm_f64x2_add(SB, wasm_f64x2_mul(b, N));
      SC = wasm_f64x2_add(SC, wasm_f64x2_mul(c, N));
      v128_t q = wasm_f64x2_add(wasm_f64x2_add(wasm_f64x2_mul(a, NA), wasm_f64x2_mul(b, NB)), wasm_f64x2_mul(c, NC2));
      wasm_v128_store(pn + j - 1, wasm_f64x2_add(wasm_v128_load(pn + j - 1), q));
    }
    sa += wasm_f64x2_extract_lane(SA, 0) + wasm_f64x2_extract_lane(SA, 1);
    sb += wasm_f64x2_extract_lane(SB, 0) + wasm_f64x2_extract_lane(SB, 1);
    sc += wasm_f64x2_extract_lane(SC, 0) + wasm_f64x2_extract_lane(SC, 1);
    for (; j < m; j++) {
      f64 pj = p[j], vj = v[j], nj = vn[j - 1];
      f64 a = ra[j] - (va * pj + wa * vj);
      f64 b = rb[j] - (vb * pj + wb * vj);
      f64 c = rc[j] - (vc * pj + wc * vj);
      ra[j] = a;
      rb[j] = b;
      rc[j] = c;
      sa += a * nj;
      sb += b * nj;
      sc += c * nj;
      pn[j - 1] += a * na + b * nb + c * nc;
    }
    pn[i - 1] += sa;
    pn[i] += sb;
    pn[i + 1] += sc;
  }
  for (; i < m; i++) update_symv_row(A, n, m, b0, i, v, vn, p, pn);
}

/*
 * Householder reduction A = Q T Qᵀ of a symmetric n×n matrix (upper triangle of the row-major A used and
 * overwritten: row k keeps the Householder vector v_k from column k+1, v_k[0] = 1). d, e, tau: n doubles each;
 * work: 2n doubles. Same steps as linalg.ts's tridiagonalize.
 */
__attribute__((export_name("tridiag_f64"))) void tridiag_f64(f64 *A, int n, f64 *d, f64 *e, f64 *tau, f64 *work) {
  f64 *p = work, *pn = work + n;
  for (int i = 0; i < n; i++) tau[i] = 0;
  if (n >= 3) {
    householder_row(A, n, 0, d, e, tau);
    if (tau[0] != 0) symv_upper(A, n, 1, A + 1, n - 1, p);
  }
  for (int k = 0; k < n - 2; k++) {
    int m = n - k - 1;
    f64 *v = A + (long)k * n + k + 1;
    int b0 = k + 1;
    f64 tk = tau[k];
    if (tk != 0) {
      f64 pv = 0;
      for (int i = 0; i < m; i++) {
        p[i] *= tk;
        pv += p[i] * v[i];
      }
      f64 half = 0.5 * tk * pv;
      for (int i = 0; i < m; i++) p[i] -= half * v[i];
      f64 *row = A + (long)b0 * n + b0;
      f64 v0 = v[0], w0 = p[0];
      for (int j = 0; j < m; j++) row[j] -= v0 * p[j] + w0 * v[j];
    }
    int next = k + 1 < n - 2;
    f64 tn = 0;
    if (next) {
      householder_row(A, n, k + 1, d, e, tau);
      tn = tau[k + 1];
      if (tn != 0) for (int i = 0; i < m - 1; i++) pn[i] = 0;
    }
    const f64 *vn = A + (long)(k + 1) * n + k + 2;
    if (tk != 0 && tn != 0) {
      update_symv(A, n, m, b0, v, vn, p, pn);
    } else if (tk != 0) {
      for (int i = 1; i < m; i++) {
        f64 *row = A + (long)(b0 + i) * n + b0;
        f64 vi = v[i], wi = p[i];
        for (int j = i; j < m; j++) row[j] -= vi * p[j] + wi * v[j];
      }
    } else if (tn != 0) {
      symv_upper(A, n, k + 2, vn, m - 1, pn);
    }
    if (next) for (int i = 0; i < m - 1; i++) p[i] = pn[i];
  }
  if (n >= 2) {
    d[n - 2] = A[(long)(n - 2) * n + n - 2];
    e[n - 2] = A[(long)(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = A[(long)(n - 1) * n + n - 1];
  if (n >= 1) e[n - 1] = 0;
}
