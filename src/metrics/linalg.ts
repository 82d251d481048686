/**
 * Dense Float64 linear algebra for the evaluation metrics (FID/KID/PRDC): matrix products, a symmetric
 * eigensolver, a pivoted Cholesky factorisation and tr((Σ1 Σ2)^{1/2}).
 *
 * Storage: every matrix is a row-major `Float64Array` (`a[i * cols + j]`). Nothing here allocates per element;
 * the kernels are written for V8 (plain loops, register-tiled 3×3 dot products, contiguous inner loops).
 *
 * Native kernels: when medsyn's WebAssembly module loads (and MEDSYN_NATIVE_KERNELS is not 0), the blocked Cholesky,
 * the congruence products and the tridiagonalisation run on its float64 SIMD kernels (native/linalg.c via
 * linalgNative.ts): the Cholesky and the products give bit-identical results, the tridiagonalisation agrees to
 * rounding. The JS kernels here are the fallback.
 *
 * Reproducibility: every dot product computed by {@link gemmNT} (and so by every product built on it) is a single
 * sequential sum over k = 0 … len−1. The same pair of rows therefore gives bit-identical results whatever tile,
 * block or matrix it is computed in (KID relies on this: a pre-computed Gram matrix and per-subset kernels agree
 * exactly).
 */

import { choleskyBlockedNative, congruenceTriangularNative, tridiagonalizeNative } from './linalgNative.js';

/**
 * Whether the Cholesky, the congruence products and the tridiagonalisation may run on the native float64 kernels
 * (linalgNative.ts; they are used only when the module loads). Tests and benchmarks switch it off to compare.
 */
const nativeSwitch = { enabled: true };

/** Machine epsilon of float64 (2^-52). */
export const EPS = 2 ** -52;

function hyp(a: number, b: number): number {
  const x = Math.abs(a);
  const y = Math.abs(b);
  if (x > y) {
    const t = y / x;
    return x * Math.sqrt(1 + t * t);
  }
  if (y === 0) return 0;
  const t = x / y;
  return y * Math.sqrt(1 + t * t);
}

// ---------------------------------------------------------------------------------------------------------------
// Products
// ---------------------------------------------------------------------------------------------------------------

/**
 * Register-tiled "A times B-transposed" kernel:
 * `C[ci + i*ldc + j] (+)= Σ_k A[ai + i*lda + k] · B[bj + j*ldb + k]` for i < m, j < n, k < len.
 *
 * Options: `upper` — only tiles with j ≥ i are computed (entries below the diagonal of the diagonal tiles may be
 * written too); `kFromRow` — the sum for row i starts at k = i rounded down to its 3-row tile (for triangular
 * factors whose leading entries are exactly zero: the skipped products are zero, the value is unchanged);
 * `accumulate` — add to C instead of overwriting.
 * @internal exported for the metric modules and tests
 */
export function gemmNT(
  A: Float64Array, ai: number, lda: number,
  B: Float64Array, bj: number, ldb: number,
  C: Float64Array, ci: number, ldc: number,
  m: number, n: number, len: number,
  opts: { upper?: boolean; kFromRow?: boolean; accumulate?: boolean } = {},
): void {
  const upper = opts.upper === true;
  const kFromRow = opts.kFromRow === true;
  const acc = opts.accumulate === true;
  let i = 0;
  for (; i + 2 < m; i += 3) {
    const a0 = ai + i * lda, a1 = a0 + lda, a2 = a1 + lda;
    const k0 = kFromRow ? i : 0;
    let j = upper ? i : 0;
    for (; j + 2 < n; j += 3) {
      const b0 = bj + j * ldb, b1 = b0 + ldb, b2 = b1 + ldb;
      let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
      for (let k = k0; k < len; k++) {
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k];
        let x = A[a0 + k];
        s00 += x * y0; s01 += x * y1; s02 += x * y2;
        x = A[a1 + k];
        s10 += x * y0; s11 += x * y1; s12 += x * y2;
        x = A[a2 + k];
        s20 += x * y0; s21 += x * y1; s22 += x * y2;
      }
      let o = ci + i * ldc + j;
      if (acc) {
        C[o] += s00; C[o + 1] += s01; C[o + 2] += s02; o += ldc;
        C[o] += s10; C[o + 1] += s11; C[o + 2] += s12; o += ldc;
        C[o] += s20; C[o + 1] += s21; C[o + 2] += s22;
      } else {
        C[o] = s00; C[o + 1] = s01; C[o + 2] = s02; o += ldc;
        C[o] = s10; C[o + 1] = s11; C[o + 2] = s12; o += ldc;
        C[o] = s20; C[o + 1] = s21; C[o + 2] = s22;
      }
    }
    // column remainder (n not a multiple of 3 from the start column)
    for (; j < n; j++) {
      const b0 = bj + j * ldb;
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = k0; k < len; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y;
      }
      const o = ci + i * ldc + j;
      if (acc) { C[o] += s0; C[o + ldc] += s1; C[o + 2 * ldc] += s2; } else { C[o] = s0; C[o + ldc] = s1; C[o + 2 * ldc] = s2; }
    }
  }
  // row remainder
  for (; i < m; i++) {
    const a0 = ai + i * lda;
    const k0 = kFromRow ? i : 0;
    for (let j = upper ? i : 0; j < n; j++) {
      const b0 = bj + j * ldb;
      let s = 0;
      for (let k = k0; k < len; k++) s += A[a0 + k] * B[b0 + k];
      const o = ci + i * ldc + j;
      if (acc) C[o] += s; else C[o] = s;
    }
  }
}

/**
 * "A times B-transposed" over a triangular index range: `C[i*ldc + j] = Σ_{k ∈ [lo, hi)} A[i*lda + k] · B[j*ldb + k]`
 * (m×n, overwritten) where the caller promises that every skipped product is an exact zero:
 * `aFromRow` — A's row i is zero before column i; `bFromRow` — B's row j is zero before column j; `bToRow` — B's row
 * j is zero after column j. The range is taken per 3×3 tile (the widest range of its rows and columns), so a sum
 * only ever skips exact zeros and is the same single sequential sum as the full-length product (like gemmNT).
 * Used by traceSqrtProduct for triangular factors, where the skipped ranges are half or more of the work.
 */
function gemmNTTriangular(
  A: Float64Array, lda: number, B: Float64Array, ldb: number, C: Float64Array, ldc: number,
  m: number, n: number, len: number, opts: { aFromRow?: boolean; bFromRow?: boolean; bToRow?: boolean },
): void {
  const { aFromRow = false, bFromRow = false, bToRow = false } = opts;
  const kLo = (i: number, j: number): number => Math.max(aFromRow ? i : 0, bFromRow ? j : 0);
  const kHi = (j: number): number => (bToRow ? Math.min(len, j + 3) : len);
  let i = 0;
  for (; i + 2 < m; i += 3) {
    const a0 = i * lda, a1 = a0 + lda, a2 = a1 + lda;
    let j = 0;
    for (; j + 2 < n; j += 3) {
      const b0 = j * ldb, b1 = b0 + ldb, b2 = b1 + ldb;
      const k0 = kLo(i, j), k1 = kHi(j);
      let s00 = 0, s01 = 0, s02 = 0, s10 = 0, s11 = 0, s12 = 0, s20 = 0, s21 = 0, s22 = 0;
      for (let k = k0; k < k1; k++) {
        const y0 = B[b0 + k], y1 = B[b1 + k], y2 = B[b2 + k];
        let x = A[a0 + k];
        s00 += x * y0; s01 += x * y1; s02 += x * y2;
        x = A[a1 + k];
        s10 += x * y0; s11 += x * y1; s12 += x * y2;
        x = A[a2 + k];
        s20 += x * y0; s21 += x * y1; s22 += x * y2;
      }
      let o = i * ldc + j;
      C[o] = s00; C[o + 1] = s01; C[o + 2] = s02; o += ldc;
      C[o] = s10; C[o + 1] = s11; C[o + 2] = s12; o += ldc;
      C[o] = s20; C[o + 1] = s21; C[o + 2] = s22;
    }
    for (; j < n; j++) {
      const b0 = j * ldb;
      const k0 = kLo(i, j), k1 = kHi(j);
      let s0 = 0, s1 = 0, s2 = 0;
      for (let k = k0; k < k1; k++) {
        const y = B[b0 + k];
        s0 += A[a0 + k] * y; s1 += A[a1 + k] * y; s2 += A[a2 + k] * y;
      }
      const o = i * ldc + j;
      C[o] = s0; C[o + ldc] = s1; C[o + 2 * ldc] = s2;
    }
  }
  for (; i < m; i++) {
    const a0 = i * lda;
    for (let j = 0; j < n; j++) {
      const b0 = j * ldb;
      const k0 = kLo(i, j), k1 = kHi(j);
      let s = 0;
      for (let k = k0; k < k1; k++) s += A[a0 + k] * B[b0 + k];
      C[i * ldc + j] = s;
    }
  }
}

/** Transpose of a rows×cols matrix (returns cols×rows). */
export function transpose(A: Float64Array, rows: number, cols: number, out?: Float64Array): Float64Array {
  const T = out ?? new Float64Array(rows * cols);
  const BS = 32;
  for (let i0 = 0; i0 < rows; i0 += BS) {
    const i1 = Math.min(rows, i0 + BS);
    for (let j0 = 0; j0 < cols; j0 += BS) {
      const j1 = Math.min(cols, j0 + BS);
      for (let i = i0; i < i1; i++) for (let j = j0; j < j1; j++) T[j * rows + i] = A[i * cols + j];
    }
  }
  return T;
}

/** C = A·B with A m×k, B k×n (all row-major). */
export function matmul(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  checkLen(A, m * k, 'matmul: A');
  checkLen(B, k * n, 'matmul: B');
  const Bt = transpose(B, k, n);
  const C = new Float64Array(m * n);
  gemmNT(A, 0, k, Bt, 0, k, C, 0, n, m, n, k);
  return C;
}

/** C = A·Bᵀ with A m×k, B n×k. */
export function matmulNT(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  checkLen(A, m * k, 'matmulNT: A');
  checkLen(B, n * k, 'matmulNT: B');
  const C = new Float64Array(m * n);
  gemmNT(A, 0, k, B, 0, k, C, 0, n, m, n, k);
  return C;
}

/** G = A·Aᵀ (rows×rows, symmetric, both triangles filled) for A rows×cols. */
export function gram(A: Float64Array, rows: number, cols: number): Float64Array {
  checkLen(A, rows * cols, 'gram: A');
  const G = new Float64Array(rows * rows);
  gemmNT(A, 0, cols, A, 0, cols, G, 0, rows, rows, rows, cols, { upper: true });
  copyUpperToLower(G, rows);
  return G;
}

/** Mirrors the upper triangle into the lower one (in place). */
export function copyUpperToLower(A: Float64Array, n: number): void {
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) A[i * n + j] = A[j * n + i];
}

/** (A + Aᵀ)/2 as a new matrix. */
export function symmetrize(A: Float64Array, n: number): Float64Array {
  const S = new Float64Array(n * n);
  for (let i = 0; i < n; i++) {
    S[i * n + i] = A[i * n + i];
    for (let j = i + 1; j < n; j++) {
      const v = (A[i * n + j] + A[j * n + i]) / 2;
      S[i * n + j] = v;
      S[j * n + i] = v;
    }
  }
  return S;
}

export function trace(A: Float64Array, n: number): number {
  let s = 0;
  for (let i = 0; i < n; i++) s += A[i * n + i];
  return s;
}

/** n×n identity. */
export function identity(n: number): Float64Array {
  const I = new Float64Array(n * n);
  for (let i = 0; i < n; i++) I[i * n + i] = 1;
  return I;
}

function checkLen(A: ArrayLike<number>, want: number, what: string): void {
  if (A.length !== want) throw new RangeError(`${what}: expected ${want} elements, got ${A.length}`);
}

/** True when every element is a finite number. */
export function allFinite(A: ArrayLike<number>): boolean {
  for (let i = 0; i < A.length; i++) if (!Number.isFinite(A[i])) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------------------------
// Symmetric eigendecomposition: Householder tridiagonalisation + implicit QL
// ---------------------------------------------------------------------------------------------------------------

interface Tridiagonal {
  /** diagonal, length n */
  d: Float64Array;
  /** off-diagonal, e[k] = T[k][k+1], length n (e[n-1] = 0) */
  e: Float64Array;
  /** Qᵀ (rows = columns of Q) with A = Q T Qᵀ, when requested */
  Qt: Float64Array | null;
}

/**
 * Householder reflector for row k: x = A[k][k+1 … n−1] → H x = beta·e1 with H = I − tau v vᵀ, v[0] = 1
 * (LAPACK dlarfg conventions). v overwrites x; d[k] = A[k][k], e[k] = beta (or x[0] with tau = 0 when x[1…] = 0).
 */
function householderRow(A: Float64Array, n: number, k: number, d: Float64Array, e: Float64Array, tau: Float64Array): void {
  const m = n - k - 1;
  const rk = k * n + k + 1;
  const alpha = A[rk];
  d[k] = A[k * n + k];
  let scale = 0;
  for (let t = 1; t < m; t++) scale = Math.max(scale, Math.abs(A[rk + t]));
  if (scale === 0) {
    e[k] = alpha;
    tau[k] = 0;
    return;
  }
  let xnorm2 = 0;
  for (let t = 1; t < m; t++) {
    const v = A[rk + t] / scale;
    xnorm2 += v * v;
  }
  const xnorm = scale * Math.sqrt(xnorm2);
  let beta = hyp(alpha, xnorm);
  if (alpha >= 0) beta = -beta;
  tau[k] = (beta - alpha) / beta;
  const inv = 1 / (alpha - beta);
  A[rk] = 1;
  for (let t = 1; t < m; t++) A[rk + t] *= inv;
  e[k] = beta;
}

/**
 * Householder reduction of a symmetric matrix to tridiagonal form, A = Q T Qᵀ (LAPACK dsytd2 in spirit, reducing
 * rows from the top and touching only the upper triangle of a row-major copy). O(4n³/3) flops; with `wantQ`
 * another O(4n³/3) to form Qᵀ.
 */
function tridiagonalize(Ain: Float64Array, n: number, wantQ: boolean): Tridiagonal {
  const native = nativeSwitch.enabled ? tridiagonalizeNative(Ain, n, wantQ) : undefined;
  if (native !== undefined) {
    const { d, e, tau, V } = native;
    return { d, e, Qt: wantQ ? formQt(V as Float64Array, n, tau) : null };
  }
  const A = Float64Array.from(Ain); // working copy; upper triangle used, Householder vectors stored in rows
  const d = new Float64Array(n);
  const e = new Float64Array(n);
  const tau = new Float64Array(n);
  const p = new Float64Array(n); // p_k = B_k v_k, then w_k
  const pn = new Float64Array(n); // p_{k+1}, accumulated while B_k is updated
  if (n >= 3) {
    householderRow(A, n, 0, d, e, tau);
    if (tau[0] !== 0) symvUpper(A, n, 1, 1, n - 1, p);
  }
  for (let k = 0; k < n - 2; k++) {
    const m = n - k - 1; // length of v_k (positions k+1 … n−1)
    const rk = k * n + k + 1; // v_k = A[rk … rk+m−1], v_k[0] = 1
    const b0 = k + 1;
    const tk = tau[k];
    if (tk !== 0) {
      // w = tau·p − (tau²/2)(pᵀv) v
      let pv = 0;
      for (let i = 0; i < m; i++) {
        p[i] *= tk;
        pv += p[i] * A[rk + i];
      }
      const half = 0.5 * tk * pv;
      for (let i = 0; i < m; i++) p[i] -= half * A[rk + i];
      // first trailing row (row k+1) gets B -= v wᵀ + w vᵀ now: it defines v_{k+1}
      const row = b0 * n + b0;
      const v0 = A[rk], w0 = p[0];
      for (let j = 0; j < m; j++) A[row + j] -= v0 * p[j] + w0 * A[rk + j];
    }
    const next = k + 1 < n - 2;
    let tn = 0;
    if (next) {
      householderRow(A, n, k + 1, d, e, tau);
      tn = tau[k + 1];
      if (tn !== 0) pn.fill(0, 0, m - 1);
    }
    // remaining trailing rows: update with step k and, fused, accumulate p_{k+1} = B_{k+1} v_{k+1}
    const rn = (k + 1) * n + k + 2; // v_{k+1} = A[rn … rn+m−2]
    if (tk !== 0 && tn !== 0) {
      updateAndSymv(A, n, m, b0, rk, rn, p, pn);
    } else if (tk !== 0) {
      for (let i = 1; i < m; i++) {
        const row = (b0 + i) * n + b0;
        const vi = A[rk + i], wi = p[i];
        for (let j = i; j < m; j++) A[row + j] -= vi * p[j] + wi * A[rk + j];
      }
    } else if (tn !== 0) {
      symvUpper(A, n, k + 2, rn, m - 1, pn);
    }
    if (next) p.set(pn.subarray(0, m - 1));
  }
  if (n >= 2) {
    d[n - 2] = A[(n - 2) * n + n - 2];
    e[n - 2] = A[(n - 2) * n + n - 1];
  }
  if (n >= 1) d[n - 1] = A[(n - 1) * n + n - 1];
  e[n - 1] = 0;
  return { d, e, Qt: wantQ ? formQt(A, n, tau) : null };
}

/** Qᵀ = H_{n-3} ⋯ H_0 from the Householder vectors in the rows of the reduced A (v_k from column k+1). */
function formQt(A: Float64Array, n: number, tau: Float64Array): Float64Array {
  // built as Qᵀ ← Qᵀ H_k for k = n-3 … 0 (only rows/cols > k change)
  const Qt = identity(n);
  for (let k = n - 3; k >= 0; k--) {
    const tk = tau[k];
    if (tk === 0) continue;
    const m = n - k - 1;
    const rk = k * n + k + 1;
    applyReflectorRight(Qt, n, k + 1, A, rk, m, tk);
  }
  return Qt;
}

/**
 * The fused step of {@link tridiagonalize}: trailing rows i = 1 … m−1 of B (rows b0+i, upper triangle) get
 * B −= v wᵀ + w vᵀ (v = A[rk …], w = p) and, in the same pass, pn += B_new · v_next (v_next = A[rn …], symmetric
 * product from the upper triangle). Three rows at a time: they share the loads of p, v, v_next and pn, which is what
 * this load/store-bound loop spends its time on (n = 2048: 4.4–5.0 s CPU one row at a time, 3.1 s two rows, 2.5–2.8 s three rows; bench/RESULTS.md).
 */
function updateAndSymv(A: Float64Array, n: number, m: number, b0: number, rk: number, rn: number, p: Float64Array, pn: Float64Array): void {
  let i = 1;
  for (; i + 2 < m; i += 3) {
    const ra = (b0 + i) * n + b0; // rows i, i+1, i+2
    const rb = ra + n;
    const rc = rb + n;
    const va = A[rk + i], wa = p[i], vb = A[rk + i + 1], wb = p[i + 1], vc = A[rk + i + 2], wc = p[i + 2];
    const na = A[rn + i - 1], nb = A[rn + i], nc = A[rn + i + 1]; // v_next at rows i, i+1, i+2
    // the 3×3 upper-triangular corner: diagonals and (i, i+1), (i, i+2), (i+1, i+2)
    const p1 = p[i + 1], p2 = p[i + 2], v1 = A[rk + i + 1], v2 = A[rk + i + 2];
    const aii = A[ra + i] - (va * p[i] + wa * va);
    const ai1 = A[ra + i + 1] - (va * p1 + wa * v1);
    const ai2 = A[ra + i + 2] - (va * p2 + wa * v2);
    const b11 = A[rb + i + 1] - (vb * p1 + wb * v1);
    const b12 = A[rb + i + 2] - (vb * p2 + wb * v2);
    const c22 = A[rc + i + 2] - (vc * p2 + wc * v2);
    A[ra + i] = aii; A[ra + i + 1] = ai1; A[ra + i + 2] = ai2;
    A[rb + i + 1] = b11; A[rb + i + 2] = b12;
    A[rc + i + 2] = c22;
    let sa = aii * na + ai1 * nb + ai2 * nc;
    let sb = ai1 * na + b11 * nb + b12 * nc;
    let sc = ai2 * na + b12 * nb + c22 * nc;
    for (let j = i + 3; j < m; j++) {
      const pj = p[j], vj = A[rk + j], nj = A[rn + j - 1];
      const a = A[ra + j] - (va * pj + wa * vj);
      const b = A[rb + j] - (vb * pj + wb * vj);
      const c = A[rc + j] - (vc * pj + wc * vj);
      A[ra + j] = a;
      A[rb + j] = b;
      A[rc + j] = c;
      sa += a * nj;
      sb += b * nj;
      sc += c * nj;
      pn[j - 1] += a * na + b * nb + c * nc;
    }
    pn[i - 1] += sa;
    pn[i] += sb;
    pn[i + 1] += sc;
  }
  // the last one or two rows, one at a time
  for (; i < m; i++) {
    const row = (b0 + i) * n + b0;
    const vi = A[rk + i], wi = p[i], ni = A[rn + i - 1];
    let s = 0;
    for (let j = i; j < m; j++) {
      const a = A[row + j] - (vi * p[j] + wi * A[rk + j]);
      A[row + j] = a;
      s += a * A[rn + j - 1];
      if (j > i) pn[j - 1] += a * ni;
    }
    pn[i - 1] += s;
  }
}

/**
 * Rows r = r0 … n−1 of Qt (columns r0 … n−1): row ← row − tau·(row·v)·vᵀ, v = A[vo … vo+m−1] (m = n − r0).
 * Four rows at a time so that the dot products form independent chains.
 */
function applyReflectorRight(Qt: Float64Array, n: number, r0: number, V: Float64Array, vo: number, m: number, tau: number): void {
  let r = r0;
  for (; r + 3 < n; r += 4) {
    const o0 = r * n + r0, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
    for (let t = 0; t < m; t++) {
      const v = V[vo + t];
      s0 += Qt[o0 + t] * v; s1 += Qt[o1 + t] * v; s2 += Qt[o2 + t] * v; s3 += Qt[o3 + t] * v;
    }
    s0 *= tau; s1 *= tau; s2 *= tau; s3 *= tau;
    for (let t = 0; t < m; t++) {
      const v = V[vo + t];
      Qt[o0 + t] -= s0 * v; Qt[o1 + t] -= s1 * v; Qt[o2 + t] -= s2 * v; Qt[o3 + t] -= s3 * v;
    }
  }
  for (; r < n; r++) {
    const o = r * n + r0;
    let s = 0;
    for (let t = 0; t < m; t++) s += Qt[o + t] * V[vo + t];
    s *= tau;
    for (let t = 0; t < m; t++) Qt[o + t] -= s * V[vo + t];
  }
}

/** p = B v for the symmetric block B = A[b0.., b0..] (m×m, upper triangle read), v = A[vo … vo+m−1]. Two rows at a time. */
function symvUpper(A: Float64Array, n: number, b0: number, vo: number, m: number, p: Float64Array): void {
  for (let i = 0; i < m; i++) p[i] = 0;
  let i = 0;
  for (; i + 1 < m; i += 2) {
    const r0 = (b0 + i) * n + b0;
    const r1 = r0 + n;
    const v0 = A[vo + i];
    const v1 = A[vo + i + 1];
    const a01 = A[r0 + i + 1];
    let s0 = A[r0 + i] * v0 + a01 * v1;
    let s1 = a01 * v0 + A[r1 + i + 1] * v1;
    for (let j = i + 2; j < m; j++) {
      const x0 = A[r0 + j];
      const x1 = A[r1 + j];
      const vj = A[vo + j];
      s0 += x0 * vj;
      s1 += x1 * vj;
      p[j] += x0 * v0 + x1 * v1;
    }
    p[i] += s0;
    p[i + 1] += s1;
  }
  if (i < m) {
    const r0 = (b0 + i) * n + b0;
    p[i] += A[r0 + i] * A[vo + i];
  }
}

/**
 * Applies one recorded QL sweep (rotations i = hi … l acting on rows i, i+1) to columns k … k+7 of Zt. Row i+1 is
 * final after rotation i; row i is carried in registers into rotation i−1, so each element is loaded and stored
 * once per sweep. Same arithmetic as tql2's `Z[i+1] = s·Z[i] + c·Z[i+1]; Z[i] = c·Z[i] − s·Z[i+1]`.
 */
function chain8(Z: Float64Array, n: number, C: Float64Array, S: Float64Array, r0: number, hi: number, l: number, k: number): void {
  const top = (hi + 1) * n + k;
  let a0 = Z[top], a1 = Z[top + 1], a2 = Z[top + 2], a3 = Z[top + 3];
  let a4 = Z[top + 4], a5 = Z[top + 5], a6 = Z[top + 6], a7 = Z[top + 7];
  let r = r0;
  for (let i = hi; i >= l; i--, r++) {
    const c = C[r], s = S[r];
    const o = i * n + k, p = o + n;
    let z = Z[o]; Z[p] = s * z + c * a0; a0 = c * z - s * a0;
    z = Z[o + 1]; Z[p + 1] = s * z + c * a1; a1 = c * z - s * a1;
    z = Z[o + 2]; Z[p + 2] = s * z + c * a2; a2 = c * z - s * a2;
    z = Z[o + 3]; Z[p + 3] = s * z + c * a3; a3 = c * z - s * a3;
    z = Z[o + 4]; Z[p + 4] = s * z + c * a4; a4 = c * z - s * a4;
    z = Z[o + 5]; Z[p + 5] = s * z + c * a5; a5 = c * z - s * a5;
    z = Z[o + 6]; Z[p + 6] = s * z + c * a6; a6 = c * z - s * a6;
    z = Z[o + 7]; Z[p + 7] = s * z + c * a7; a7 = c * z - s * a7;
  }
  const o = l * n + k;
  Z[o] = a0; Z[o + 1] = a1; Z[o + 2] = a2; Z[o + 3] = a3;
  Z[o + 4] = a4; Z[o + 5] = a5; Z[o + 6] = a6; Z[o + 7] = a7;
}

function chain1(Z: Float64Array, n: number, C: Float64Array, S: Float64Array, r0: number, hi: number, l: number, k: number): void {
  let a = Z[(hi + 1) * n + k];
  let r = r0;
  for (let i = hi; i >= l; i--, r++) {
    const c = C[r], s = S[r];
    const o = i * n + k;
    const z = Z[o];
    Z[o + n] = s * z + c * a;
    a = c * z - s * a;
  }
  Z[l * n + k] = a;
}

/**
 * Deferred Givens rotations of the QL sweeps. The rotations depend only on (d, e), so they can be recorded and
 * applied to the eigenvector rows later, many sweeps at once, one narrow column strip of Zt at a time (the strip
 * stays in cache while all recorded sweeps run over it). The arithmetic per element is exactly that of applying
 * them immediately.
 */
class RotationBuffer {
  readonly c: Float64Array;
  readonly s: Float64Array;
  len = 0;
  /** triples (l, i_start = m−1, offset of the first rotation) */
  sweeps: number[] = [];
  constructor(private readonly Zt: Float64Array, private readonly n: number) {
    const cap = Math.max(32 * n, 1 << 15);
    this.c = new Float64Array(cap);
    this.s = new Float64Array(cap);
  }
  flush(): void {
    const { Zt, n, c, s, sweeps } = this;
    const W = 16;
    for (let k0 = 0; k0 < n; k0 += W) {
      const k1 = Math.min(n, k0 + W);
      for (let q = 0; q < sweeps.length; q += 3) {
        const l = sweeps[q], hi = sweeps[q + 1], r0 = sweeps[q + 2];
        let k = k0;
        for (; k + 7 < k1; k += 8) chain8(Zt, n, c, s, r0, hi, l, k);
        for (; k < k1; k++) chain1(Zt, n, c, s, r0, hi, l, k);
      }
    }
    this.len = 0;
    this.sweeps = [];
  }
}

/**
 * Implicit QL iterations with Wilkinson-type shifts on a symmetric tridiagonal matrix (EISPACK tql2, as in
 * JAMA). `Zt`: rows are the current eigenvector estimates (rotations act on pairs of rows), or null for
 * eigenvalues only. Results are sorted ascending (rows of Zt permuted accordingly).
 */
function tql(d: Float64Array, e: Float64Array, Zt: Float64Array | null, n: number): void {
  const rot = Zt === null ? null : new RotationBuffer(Zt, n);
  let f = 0;
  let tst1 = 0;
  for (let l = 0; l < n; l++) {
    tst1 = Math.max(tst1, Math.abs(d[l]) + Math.abs(e[l]));
    let m = l;
    while (m < n) {
      if (Math.abs(e[m]) <= EPS * tst1) break;
      m++;
    }
    if (m === n) m = n - 1; // e[n-1] is 0, cannot happen; guard
    if (m > l) {
      let iter = 0;
      do {
        if (++iter > 60 * n + 100) throw new Error('eigSym: QL iteration did not converge');
        let g = d[l];
        let p = (d[l + 1] - g) / (2 * e[l]);
        let r = hyp(p, 1);
        if (p < 0) r = -r;
        d[l] = e[l] / (p + r);
        d[l + 1] = e[l] * (p + r);
        const dl1 = d[l + 1];
        let h = g - d[l];
        for (let i = l + 2; i < n; i++) d[i] -= h;
        f += h;
        p = d[m];
        if (rot !== null) {
          if (rot.len + (m - l) > rot.c.length) rot.flush();
          rot.sweeps.push(l, m - 1, rot.len);
        }
        let c = 1, c2 = 1, c3 = 1;
        const el1 = e[l + 1];
        let s = 0, s2 = 0;
        for (let i = m - 1; i >= l; i--) {
          c3 = c2;
          c2 = c;
          s2 = s;
          g = c * e[i];
          h = c * p;
          r = hyp(p, e[i]);
          e[i + 1] = s * r;
          s = e[i] / r;
          c = p / r;
          p = c * d[i] - s * g;
          d[i + 1] = h + s * (c * g + s * d[i]);
          if (rot !== null) {
            rot.c[rot.len] = c;
            rot.s[rot.len] = s;
            rot.len++;
          }
        }
        p = (-s * s2 * c3 * el1 * e[l]) / dl1;
        e[l] = s * p;
        d[l] = c * p;
      } while (Math.abs(e[l]) > EPS * tst1);
    }
    d[l] += f;
    e[l] = 0;
  }
  if (rot !== null) rot.flush();
  // sort ascending (selection sort; row swaps are O(n))
  for (let i = 0; i < n - 1; i++) {
    let k = i;
    let p = d[i];
    for (let j = i + 1; j < n; j++) {
      if (d[j] < p) {
        k = j;
        p = d[j];
      }
    }
    if (k !== i) {
      d[k] = d[i];
      d[i] = p;
      if (Zt !== null) {
        const oi = i * n, ok = k * n;
        for (let t = 0; t < n; t++) {
          const tmp = Zt[oi + t];
          Zt[oi + t] = Zt[ok + t];
          Zt[ok + t] = tmp;
        }
      }
    }
  }
}

export interface SymmetricEigen {
  /** eigenvalues, ascending (like numpy.linalg.eigh) */
  values: Float64Array;
  /**
   * eigenvectors as the COLUMNS of a row-major n×n matrix (numpy.linalg.eigh convention): `vectors[i*n + j]` is
   * component i of the eigenvector for `values[j]`; A = V diag(values) Vᵀ. Absent when not requested.
   */
  vectors?: Float64Array;
}

/**
 * Eigendecomposition of a real symmetric n×n matrix (only the upper triangle is read).
 * Householder tridiagonalisation + implicit QL (EISPACK tred2/tql2 numerics). Eigenvalues only: ≈ 4n³/3 flops;
 * with vectors several times that (see README / report for timings).
 */
export function eigSym(A: Float64Array, n: number, opts: { vectors?: boolean } = {}): SymmetricEigen {
  checkLen(A, n * n, 'eigSym: A');
  if (!allFinite(A)) throw new RangeError('eigSym: matrix contains NaN or Infinity');
  const wantV = opts.vectors === true;
  if (n === 0) return wantV ? { values: new Float64Array(0), vectors: new Float64Array(0) } : { values: new Float64Array(0) };
  const { d, e, Qt } = tridiagonalize(A, n, wantV);
  tql(d, e, Qt, n);
  if (!wantV) return { values: d };
  return { values: d, vectors: transpose(Qt as Float64Array, n, n) };
}

/** Eigenvalues (ascending) of a real symmetric matrix (upper triangle read). */
export function eigvalsSym(A: Float64Array, n: number): Float64Array {
  return eigSym(A, n).values;
}

/**
 * Symmetric PSD square root A^{1/2} = V diag(√max(w,0)) Vᵀ (negative eigenvalues — rounding noise of a PSD
 * matrix — are clamped to 0).
 */
export function sqrtmPsd(A: Float64Array, n: number): Float64Array {
  return sqrtmPsdWithValues(A, n).root;
}

function sqrtmPsdWithValues(A: Float64Array, n: number): { root: Float64Array; values: Float64Array } {
  const { values, vectors } = eigSym(A, n, { vectors: true });
  const V = vectors as Float64Array;
  // R = (V diag(√w)) Vᵀ: W = V with column j scaled by √w_j, R[i][j] = Σ_k W[i][k] V[j][k]
  const W = Float64Array.from(V);
  const sq = new Float64Array(n);
  for (let j = 0; j < n; j++) sq[j] = Math.sqrt(Math.max(values[j], 0));
  for (let i = 0; i < n; i++) {
    const o = i * n;
    for (let j = 0; j < n; j++) W[o + j] *= sq[j];
  }
  const R = new Float64Array(n * n);
  gemmNT(W, 0, n, V, 0, n, R, 0, n, n, n, n, { upper: true });
  copyUpperToLower(R, n);
  return { root: R, values };
}

// ---------------------------------------------------------------------------------------------------------------
// Pivoted Cholesky (PSD, rank-revealing)
// ---------------------------------------------------------------------------------------------------------------

export interface PivotedCholesky {
  /**
   * Lᵀ as rank×n row-major: row c is column c of L in the pivoted order (zeros before position c), so that
   * A[perm[i]][perm[j]] ≈ Σ_c L[i][c] L[j][c].
   */
  Lt: Float64Array;
  perm: Int32Array;
  rank: number;
  /** the stopping tolerance that was used on the remaining diagonal */
  tol: number;
}

/**
 * Rank-revealing Cholesky with complete (diagonal) pivoting of a symmetric positive semi-definite matrix
 * (LAPACK dpstf2 logic, left-looking, Lᵀ stored by rows). Stops when the largest remaining Schur-complement
 * diagonal is ≤ tol (default n·ε·max diag(A), LAPACK's default), which is the numerical rank.
 * Only the upper triangle of A is read.
 */
export function choleskyPivoted(Ain: Float64Array, n: number, tol?: number): PivotedCholesky {
  checkLen(Ain, n * n, 'choleskyPivoted: A');
  // Full symmetric copy (from the upper triangle); never permuted physically — rows are read through perm.
  const A = Float64Array.from(Ain);
  for (let i = 0; i < n; i++) for (let j = i + 1; j < n; j++) A[j * n + i] = A[i * n + j];
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const dg = new Float64Array(n);
  let maxDiag = 0;
  for (let i = 0; i < n; i++) {
    dg[i] = A[i * n + i];
    if (dg[i] > maxDiag) maxDiag = dg[i];
  }
  const tolUsed = tol ?? n * EPS * maxDiag;
  const Lt = new Float64Array(n * n);
  const col = new Float64Array(n);
  let rank = n;
  for (let c = 0; c < n; c++) {
    // pivot: largest remaining Schur-complement diagonal
    let p = c;
    let best = dg[c];
    for (let i = c + 1; i < n; i++) {
      if (dg[i] > best) {
        best = dg[i];
        p = i;
      }
    }
    if (!(best > tolUsed)) {
      rank = c;
      break;
    }
    if (p !== c) {
      // swap positions c and p: the computed parts of L rows c and p (= columns c, p of the Lt rows q < c)
      for (let q = 0; q < c; q++) {
        const o = q * n;
        const x = Lt[o + c];
        Lt[o + c] = Lt[o + p];
        Lt[o + p] = x;
      }
      const x = dg[c];
      dg[c] = dg[p];
      dg[p] = x;
      const pi = perm[c];
      perm[c] = perm[p];
      perm[p] = pi;
    }
    const ljj = Math.sqrt(dg[c]);
    // column c of L below the diagonal: (A[perm i][perm c] − Σ_q L[i][q] L[c][q]) / ljj, via axpys of Lt rows
    const arow = perm[c] * n;
    for (let i = c + 1; i < n; i++) col[i] = A[arow + perm[i]];
    let q = 0;
    for (; q + 3 < c; q += 4) {
      const o0 = q * n, o1 = o0 + n, o2 = o1 + n, o3 = o2 + n;
      const l0 = Lt[o0 + c], l1 = Lt[o1 + c], l2 = Lt[o2 + c], l3 = Lt[o3 + c];
      if (l0 === 0 && l1 === 0 && l2 === 0 && l3 === 0) continue;
      for (let i = c + 1; i < n; i++) col[i] -= Lt[o0 + i] * l0 + Lt[o1 + i] * l1 + Lt[o2 + i] * l2 + Lt[o3 + i] * l3;
    }
    for (; q < c; q++) {
      const o = q * n;
      const lcq = Lt[o + c];
      if (lcq === 0) continue;
      for (let i = c + 1; i < n; i++) col[i] -= Lt[o + i] * lcq;
    }
    const oc = c * n;
    Lt[oc + c] = ljj;
    const inv = 1 / ljj;
    for (let i = c + 1; i < n; i++) {
      const v = col[i] * inv;
      Lt[oc + i] = v;
      dg[i] -= v * v;
    }
  }
  return { Lt: rank === n ? Lt : Lt.slice(0, rank * n), perm, rank, tol: tolUsed };
}

/**
 * Blocked Cholesky without pivoting, A = L Lᵀ, for the well-conditioned full-rank case; null as soon as a pivot is
 * ≤ `minPivot`·max diag(A) (then use {@link choleskyPivoted}, which finds the numerical rank). Same result layout as
 * choleskyPivoted (Lt rows, identity perm). Runs natively (bit-identical) when the module loads; in JS most of the
 * n³/6 multiply-adds run in gemmNT's register-tiled kernel
 * (one block of columns at a time), about twice as fast as the pivoted column-by-column loop at n = 2048.
 * Only the lower triangle of A is read (A symmetric: the same values as the upper one).
 * @internal exported for tests
 */
export function choleskyBlocked(A: Float64Array, n: number, minPivot = 1e-9): PivotedCholesky | null {
  checkLen(A, n * n, 'choleskyBlocked: A');
  let maxDiag = 0;
  for (let i = 0; i < n; i++) maxDiag = Math.max(maxDiag, A[i * n + i]);
  const tol = minPivot * maxDiag;
  if (!(maxDiag > 0)) return null;
  const perm = new Int32Array(n);
  for (let i = 0; i < n; i++) perm[i] = i;
  const native = nativeSwitch.enabled ? choleskyBlockedNative(A, n, tol) : undefined;
  if (native !== undefined) return native === null ? null : { Lt: native, perm, rank: n, tol };
  const NB = 48;
  const L = new Float64Array(n * n); // row-major lower triangle: L[i][k], k ≤ i
  const T = new Float64Array(n * NB);
  for (let j0 = 0; j0 < n; j0 += NB) {
    const nb = Math.min(NB, n - j0);
    const rows = n - j0;
    // T[i − j0][j − j0] = Σ_{k < j0} L[i][k] L[j][k] for i ≥ j0, j in the block (what earlier blocks subtract)
    if (j0 > 0) gemmNT(L, j0 * n, n, L, j0 * n, n, T, 0, nb, rows, nb, j0);
    else T.fill(0, 0, rows * nb);
    for (let i = j0; i < n; i++) {
      const o = i * n, t = (i - j0) * nb;
      const jEnd = Math.min(j0 + nb, i + 1);
      for (let j = j0; j < jEnd; j++) {
        // L[i][j] = (A[i][j] − Σ_{k<j} L[i][k] L[j][k]) / L[j][j]; the k < j0 part is in T
        let s = A[o + j] - T[t + j - j0];
        const oj = j * n;
        for (let k = j0; k < j; k++) s -= L[o + k] * L[oj + k];
        if (j === i) {
          if (!(s > tol)) return null;
          L[o + j] = Math.sqrt(s);
        } else {
          L[o + j] = s / L[oj + j];
        }
      }
    }
  }
  return { Lt: transpose(L, n, n), perm, rank: n, tol };
}

// ---------------------------------------------------------------------------------------------------------------
// tr((Σ1 Σ2)^{1/2})
// ---------------------------------------------------------------------------------------------------------------

export type TraceSqrtMethod = 'cholesky' | 'sqrt-eig';

export interface TraceSqrtResult {
  /** tr((Σ1 Σ2)^{1/2}) = Σ √max(λ_i, 0) over the eigenvalues λ of Σ1Σ2 */
  trace: number;
  method: TraceSqrtMethod;
  /** numerical rank used for Σ1 ('cholesky': pivoted-Cholesky rank; 'sqrt-eig': count of w > 0) */
  rankSigma1: number;
  /** how many eigenvalues of the symmetric PSD matrix were negative (rounding noise) and clamped to 0 */
  clampedNegative: number;
  /** the most negative eigenvalue clamped (0 if none) */
  mostNegative: number;
}

/**
 * tr((Σ1Σ2)^{1/2}) for symmetric PSD Σ1, Σ2 (n×n), without complex arithmetic.
 *
 * Σ1Σ2 is similar to a symmetric PSD matrix M, so its eigenvalues are real and ≥ 0 and the trace of the principal
 * square root is Σ √λ(M):
 * - `'cholesky'` (default, fastest): rank-revealing pivoted Cholesky Σ1 = P L Lᵀ Pᵀ (L n×r), M = Lᵀ (PᵀΣ2P) L (r×r).
 *   Directions in which Σ1 is numerically null (Schur-complement diagonal ≤ n·ε·max diag) are dropped — their
 *   contribution is at the rounding-noise level that scipy's sqrtm and numpy's eigvals also carry. When every
 *   pivot of an unpivoted Cholesky exceeds 1e-9·max diag (full rank, the usual N ≥ D case) the faster
 *   {@link choleskyBlocked} is used instead (P = I, r = n); M is then formed in n³/2 multiply-adds
 *   (congruenceTriangular). 2048-d on the 2-core VM: ≈ 5.2 s in the JS kernels, ≈ 1.9 s on the native ones (bench/RESULTS.md).
 * - `'sqrt-eig'` (the metrics spec's §1.7 recommendation): M = Σ1^{1/2} Σ2 Σ1^{1/2} with Σ1^{1/2} from a symmetric
 *   eigendecomposition (eigenvalues clamped at 0). Several times slower at n = 2048.
 * Only the upper triangles of Σ1 and Σ2 are read.
 */
export function traceSqrtProduct(
  sigma1: Float64Array, sigma2: Float64Array, n: number, opts: { method?: TraceSqrtMethod } = {},
): TraceSqrtResult {
  checkLen(sigma1, n * n, 'traceSqrtProduct: sigma1');
  checkLen(sigma2, n * n, 'traceSqrtProduct: sigma2');
  const method = opts.method ?? 'cholesky';
  let M: Float64Array;
  let r: number;
  if (method === 'cholesky') {
    // full-rank, well-conditioned Σ1 (the usual N ≥ D case): blocked, unpivoted; otherwise rank-revealing pivoted
    const { Lt, perm, rank } = choleskyBlocked(sigma1, n) ?? choleskyPivoted(sigma1, n);
    r = rank;
    // S = Pᵀ Σ2 P (full symmetric, from the upper triangle of Σ2)
    const S = new Float64Array(n * n);
    for (let i = 0; i < n; i++) {
      const pi = perm[i];
      for (let j = 0; j < n; j++) {
        const pj = perm[j];
        S[i * n + j] = pi <= pj ? sigma2[pi * n + pj] : sigma2[pj * n + pi];
      }
    }
    M = congruenceTriangular(Lt, S, n, r);
  } else {
    const { root: R, values } = sqrtmPsdWithValues(sigma1, n);
    r = 0;
    for (const w of values) if (w > 0) r++;
    const T = new Float64Array(n * n);
    gemmNT(R, 0, n, sigma2Full(sigma2, n), 0, n, T, 0, n, n, n, n); // T = R Σ2 (Σ2 symmetric: rows = columns)
    M = new Float64Array(n * n);
    gemmNT(T, 0, n, R, 0, n, M, 0, n, n, n, n, { upper: true }); // M = T Rᵀ = R Σ2 R (R symmetric)
    const lam = eigSym(M, n).values;
    return finishTrace(lam, method, r);
  }
  const lam = r === 0 ? new Float64Array(0) : eigSym(M, r).values;
  return finishTrace(lam, method, r);
}

/**
 * M = Lᵀ S L (r×r, upper triangle filled) for a symmetric S (n×n, full, overwritten) and L = Ltᵀ (n×r, Lt row c zero
 * before column c), in n³/2 multiply-adds instead of the 5n³/6 of (Lᵀ S) L: split S = U + Uᵀ (U = upper triangle
 * with half the diagonal, exact in binary), then Y = Lᵀ U is upper triangular (n³/6) and X = Y L (n³/3) gives
 * M = X + Xᵀ. Each product skips only exact zeros (see gemmNTTriangular).
 */
function congruenceTriangular(Lt: Float64Array, S: Float64Array, n: number, r: number): Float64Array {
  // Ut = Uᵀ in place: row j keeps S[j][0 … j−1], S[j][j]/2, zeros after (S symmetric: S[j][i] = U[i][j] for i < j)
  for (let j = 0; j < n; j++) {
    const o = j * n;
    S[o + j] *= 0.5;
    S.fill(0, o + j + 1, o + n);
  }
  const native = nativeSwitch.enabled ? congruenceTriangularNative(Lt, S, n, r) : undefined;
  if (native !== undefined) return native;
  // Y[a][j] = Σ_i L[i][a] U[i][j] = Σ_i Lt[a][i] Ut[j][i]: i from a (Lt) to j (Ut)
  const Y = new Float64Array(r * n);
  gemmNTTriangular(Lt, n, S, n, Y, n, r, n, n, { aFromRow: true, bToRow: true });
  // X[a][b] = Σ_j Y[a][j] L[j][b] = Σ_j Y[a][j] Lt[b][j]: j from max(a, b)
  const X = new Float64Array(r * r);
  gemmNTTriangular(Y, n, Lt, n, X, r, r, r, n, { aFromRow: true, bFromRow: true });
  for (let a = 0; a < r; a++) {
    const o = a * r;
    for (let b = a; b < r; b++) X[o + b] += X[b * r + a];
  }
  return X;
}

function sigma2Full(S: Float64Array, n: number): Float64Array {
  const F = Float64Array.from(S);
  copyUpperToLower(F, n);
  return F;
}

function finishTrace(lam: Float64Array, method: TraceSqrtMethod, rank: number): TraceSqrtResult {
  let tr = 0;
  let clamped = 0;
  let mostNeg = 0;
  for (const l of lam) {
    if (l > 0) tr += Math.sqrt(l);
    else if (l < 0) {
      clamped++;
      if (l < mostNeg) mostNeg = l;
    }
  }
  return { trace: tr, method, rankSigma1: rank, clampedNegative: clamped, mostNegative: mostNeg };
}

/** @internal building blocks exposed for benchmarks and tests */
export const _internal = { tridiagonalize, tql, gemmNTTriangular, nativeSwitch };
