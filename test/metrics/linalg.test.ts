import { test } from 'node:test';
import assert from 'node:assert/strict';
import {
  choleskyBlocked, choleskyPivoted, eigSym, gemmNT, gram, identity, matmul, matmulNT, sqrtmPsd, traceSqrtProduct, transpose,
} from '../../src/metrics/linalg.js';
import { NumpyRandomState } from '../../src/metrics/numpy-random.js';
import { assertRel, mat } from './helpers.js';

function randMat(seed: number, r: number, c: number): Float64Array {
  return new NumpyRandomState(seed).standardNormalArray(r * c);
}

function naiveMul(A: Float64Array, B: Float64Array, m: number, k: number, n: number): Float64Array {
  const C = new Float64Array(m * n);
  for (let i = 0; i < m; i++) for (let j = 0; j < n; j++) {
    let s = 0;
    for (let t = 0; t < k; t++) s += A[i * k + t] * B[t * n + j];
    C[i * n + j] = s;
  }
  return C;
}

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

/** A = Xᵀ X / n-ish SPD (or PSD of rank `rank` when rank < n). */
function spd(seed: number, n: number, rank = n + 5): Float64Array {
  const X = randMat(seed, n, rank); // n×rank
  return gram(X, n, rank);
}

test('matmul / matmulNT / gram / gemmNT match a naive product, all remainders (sizes not multiples of 3)', () => {
  for (const [m, k, n] of [[1, 1, 1], [2, 5, 4], [3, 3, 3], [7, 11, 5], [10, 4, 13]]) {
    const A = randMat(m * 100 + k, m, k);
    const B = randMat(n * 7 + 1, k, n);
    const want = naiveMul(A, B, m, k, n);
    assert.ok(maxAbsDiff(matmul(A, B, m, k, n), want) < 1e-12);
    assert.ok(maxAbsDiff(matmulNT(A, transpose(B, k, n), m, k, n), want) < 1e-12);
    const G = gram(A, m, k);
    assert.ok(maxAbsDiff(G, naiveMul(A, transpose(A, m, k), m, k, m)) < 1e-12);
  }
  // every dot product is the same sequential sum, whatever tile it lands in (KID relies on this)
  const A = randMat(3, 8, 17);
  const full = new Float64Array(64);
  gemmNT(A, 0, 17, A, 0, 17, full, 0, 8, 8, 8, 17);
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) {
    let s = 0;
    for (let t = 0; t < 17; t++) s += A[i * 17 + t] * A[j * 17 + t];
    assert.equal(full[i * 8 + j], s);
  }
});

test('eigSym: reconstructs A = V diag(w) Vᵀ with orthonormal V; ascending eigenvalues; values-only path agrees', () => {
  for (const n of [1, 2, 3, 10, 57, 150]) {
    const A = spd(n, n);
    // make it indefinite too: subtract a multiple of the identity
    for (let i = 0; i < n; i++) A[i * n + i] -= n;
    const { values, vectors } = eigSym(A, n, { vectors: true });
    const V = vectors as Float64Array;
    for (let i = 1; i < n; i++) assert.ok(values[i - 1] <= values[i]);
    const VD = Float64Array.from(V);
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) VD[i * n + j] *= values[j];
    const R = matmul(VD, transpose(V, n, n), n, n, n);
    let scale = 0;
    for (const x of A) scale = Math.max(scale, Math.abs(x));
    assert.ok(maxAbsDiff(R, A) <= 1e-13 * scale * Math.max(1, n / 10), `n=${n}: reconstruction error ${maxAbsDiff(R, A)}`);
    const O = matmul(transpose(V, n, n), V, n, n, n);
    assert.ok(maxAbsDiff(O, identity(n)) < 1e-13 * Math.max(1, n / 10), `n=${n}: orthogonality error ${maxAbsDiff(O, identity(n))}`);
    const w = eigSym(A, n).values;
    assert.ok(maxAbsDiff(w, values) <= 1e-13 * scale, `n=${n}: values-only path`);
  }
});

test('eigSym: known spectra, repeated eigenvalues, already diagonal/tridiagonal, zero matrix', () => {
  // permuted diagonal
  const d = [5, -1, 3, 3, 0, 2];
  const n = d.length;
  const D = new Float64Array(n * n);
  d.forEach((x, i) => (D[i * n + i] = x));
  assert.deepEqual(Array.from(eigSym(D, n).values), [...d].sort((a, b) => a - b));
  // Q D Qᵀ with a random orthogonal Q (from an eigendecomposition)
  const Q = eigSym(spd(9, n), n, { vectors: true }).vectors as Float64Array;
  const QD = Float64Array.from(Q);
  for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) QD[i * n + j] *= d[j];
  const A = matmul(QD, transpose(Q, n, n), n, n, n);
  const w = eigSym(A, n).values;
  [...d].sort((a, b) => a - b).forEach((x, i) => assert.ok(Math.abs(w[i] - x) < 1e-13));
  // identity (every Householder step is the identity) and zero
  assert.deepEqual(Array.from(eigSym(identity(40), 40).values), new Array(40).fill(1));
  assert.deepEqual(Array.from(eigSym(new Float64Array(9), 3).values), [0, 0, 0]);
  // 2×2 closed form
  const w2 = eigSym(mat([[2, 1], [1, 2]]), 2).values;
  assert.deepEqual(Array.from(w2), [1, 3]);
  // tridiagonal (1, -2, 1) second-difference matrix: eigenvalues -2 + 2cos(kπ/(n+1))
  const m = 30;
  const T = new Float64Array(m * m);
  for (let i = 0; i < m; i++) {
    T[i * m + i] = -2;
    if (i + 1 < m) T[i * m + i + 1] = T[(i + 1) * m + i] = 1;
  }
  const wt = eigSym(T, m).values;
  const want = Array.from({ length: m }, (_, k) => -2 + 2 * Math.cos(((k + 1) * Math.PI) / (m + 1))).sort((a, b) => a - b);
  want.forEach((x, i) => assert.ok(Math.abs(wt[i] - x) < 1e-13, `tridiagonal eigenvalue ${i}`));
  assert.throws(() => eigSym(mat([[1, NaN], [NaN, 1]]), 2), /NaN/);
});

test('choleskyPivoted: full rank reconstructs A; rank-deficient PSD gives the rank and reconstructs', () => {
  for (const [n, rank] of [[12, 20], [12, 5], [30, 1], [9, 9]]) {
    const A = spd(100 + n + rank, n, rank);
    const { Lt, perm, rank: r } = choleskyPivoted(A, n);
    assert.equal(r, Math.min(n, rank), `n=${n} rank=${rank}`);
    let scale = 0;
    for (const x of A) scale = Math.max(scale, Math.abs(x));
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      let s = 0;
      for (let c = 0; c < r; c++) s += Lt[c * n + i] * Lt[c * n + j];
      err = Math.max(err, Math.abs(s - A[perm[i] * n + perm[j]]));
    }
    assert.ok(err < 1e-12 * scale * n, `n=${n} rank=${rank}: reconstruction error ${err}`);
  }
  assert.equal(choleskyPivoted(new Float64Array(16), 4).rank, 0);
});

test('choleskyBlocked: reconstructs full-rank A across block edges (n = 1, 47, 48, 49, 100); null when singular', () => {
  for (const n of [1, 47, 48, 49, 100]) {
    const A = spd(300 + n, n);
    const f = choleskyBlocked(A, n);
    assert.ok(f, `n=${n}: full rank must factor`);
    assert.equal(f.rank, n);
    let scale = 0;
    for (const x of A) scale = Math.max(scale, Math.abs(x));
    let err = 0;
    for (let i = 0; i < n; i++) for (let j = 0; j < n; j++) {
      assert.equal(f.perm[i], i);
      let s = 0;
      for (let c = 0; c < n; c++) s += f.Lt[c * n + i] * f.Lt[c * n + j];
      err = Math.max(err, Math.abs(s - A[i * n + j]));
    }
    assert.ok(err < 1e-12 * scale * n, `n=${n}: reconstruction error ${err}`);
    // Lt row c is zero before column c (what traceSqrtProduct's triangular products rely on)
    for (let c = 0; c < n; c++) for (let i = 0; i < c; i++) assert.equal(f.Lt[c * n + i], 0);
  }
  assert.equal(choleskyBlocked(spd(7, 60, 30), 60), null, 'rank 30 of 60 → null (the pivoted path takes over)');
  assert.equal(choleskyBlocked(new Float64Array(16), 4), null);
});

test('sqrtmPsd squares back; traceSqrtProduct: both methods agree with each other and with Σ√eig', () => {
  const n = 40;
  const A = spd(1, n);
  const R = sqrtmPsd(A, n);
  const RR = matmul(R, R, n, n, n);
  let scale = 0;
  for (const x of A) scale = Math.max(scale, Math.abs(x));
  assert.ok(maxAbsDiff(RR, A) < 1e-12 * scale);
  const B = spd(2, n);
  const a = traceSqrtProduct(A, B, n).trace;
  const b = traceSqrtProduct(A, B, n, { method: 'sqrt-eig' }).trace;
  assertRel(a, b, 1e-12, 'cholesky vs sqrt-eig');
  // tr sqrt(A·A) = tr A
  let trA = 0;
  for (let i = 0; i < n; i++) trA += A[i * n + i];
  assertRel(traceSqrtProduct(A, A, n).trace, trA, 1e-12, 'tr sqrt(A A) = tr A');
  // rank-deficient Σ1: both methods still agree (to the rounding noise of the null space)
  const C = spd(3, n, 10);
  assertRel(traceSqrtProduct(C, B, n).trace, traceSqrtProduct(C, B, n, { method: 'sqrt-eig' }).trace, 1e-6, 'singular Σ1');
  assert.equal(traceSqrtProduct(C, B, n).rankSigma1, 10);
});
