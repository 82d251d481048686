/**
 * The native float64 kernels (native/linalg.c via linalgNative.ts) against linalg.ts's JS kernels on random inputs
 * whose sizes cross the native blocks (4×4 register tiles, KC = 256, MC = 96, NC = 512, Cholesky block 48), and
 * the JS fallback when MEDSYN_NATIVE_KERNELS=0.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { _internal, choleskyBlocked, eigSym, gram, traceSqrtProduct } from '../../src/metrics/linalg.js';
import {
  GEMM_A_FROM_ROW, GEMM_B_FROM_ROW, GEMM_B_TO_ROW, gemmNTNative, linalgNativeAvailable,
} from '../../src/metrics/linalgNative.js';
import { NumpyRandomState } from '../../src/metrics/numpy-random.js';

const skip = linalgNativeAvailable() ? false : 'native module not available';

function randMat(seed: number, r: number, c: number): Float64Array {
  return new NumpyRandomState(seed).standardNormalArray(r * c);
}

function spd(seed: number, n: number): Float64Array {
  return gram(randMat(seed, n, n + 5), n, n + 5);
}

/** Runs `f` with the native kernels switched off (the JS path). */
function js<T>(f: () => T): T {
  _internal.nativeSwitch.enabled = false;
  try {
    return f();
  } finally {
    _internal.nativeSwitch.enabled = true;
  }
}

/** Same values (=== treats −0 and +0 alike: skipped exact-zero products may flip the sign of a zero sum). */
function assertSame(got: Float64Array, want: Float64Array, what: string): void {
  assert.equal(got.length, want.length, what);
  for (let i = 0; i < want.length; i++) if (got[i] !== want[i]) assert.fail(`${what}: [${i}] ${got[i]} !== ${want[i]}`);
}

function relDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let num = 0;
  let den = 0;
  for (let i = 0; i < a.length; i++) {
    num = Math.max(num, Math.abs(a[i] - b[i]));
    den = Math.max(den, Math.abs(b[i]));
  }
  return den === 0 ? num : num / den;
}

/** Zeroes the entries the gemm flags promise to be zero in a rows×cols operand. */
function shape(X: Float64Array, rows: number, cols: number, fromRow: boolean, toRow: boolean): Float64Array {
  for (let i = 0; i < rows; i++) {
    for (let k = 0; k < cols; k++) if ((fromRow && k < i) || (toRow && k > i)) X[i * cols + k] = 0;
  }
  return X;
}

test('gemm_nt_f64 is bit-identical to the JS triangular product, every flag combination, sizes across blocks', { skip }, () => {
  const sizes: [number, number, number][] = [[1, 1, 1], [7, 5, 9], [65, 70, 65], [300, 300, 300], [130, 600, 270]];
  for (const [m, n, len] of sizes) {
    for (const flags of [0, GEMM_A_FROM_ROW | GEMM_B_TO_ROW, GEMM_A_FROM_ROW | GEMM_B_FROM_ROW, GEMM_B_FROM_ROW]) {
      const aFromRow = (flags & GEMM_A_FROM_ROW) !== 0;
      const bFromRow = (flags & GEMM_B_FROM_ROW) !== 0;
      const bToRow = (flags & GEMM_B_TO_ROW) !== 0;
      const A = shape(randMat(m + 3 * len, m, len), m, len, aFromRow, false);
      const B = shape(randMat(n + 5 * len + 1, n, len), n, len, bFromRow, bToRow);
      const want = new Float64Array(m * n);
      _internal.gemmNTTriangular(A, len, B, len, want, n, m, n, len, { aFromRow, bFromRow, bToRow });
      const got = gemmNTNative(A, len, B, len, m, n, len, flags);
      assert.ok(got !== null);
      assertSame(got, want, `gemm ${m}×${n}×${len} flags ${flags}`);
    }
  }
});

test('native blocked Cholesky is bit-identical to the JS one (n = 1, 7, 65, 300); null for a singular matrix', { skip }, () => {
  for (const n of [1, 7, 65, 300]) {
    const A = spd(n, n);
    const got = choleskyBlocked(A, n);
    const want = js(() => choleskyBlocked(A, n));
    assert.ok(got !== null && want !== null);
    assertSame(got.Lt, want.Lt, `Cholesky n = ${n}`);
    assert.equal(got.rank, n);
  }
  const X = randMat(9, 20, 10);
  assert.equal(choleskyBlocked(gram(X, 20, 10), 20), null); // rank 10
});

test('native tridiagonalisation agrees with the JS one to rounding; eigenvalues and eigenvectors too', { skip }, () => {
  for (const n of [1, 2, 3, 7, 65, 300]) {
    const A = spd(100 + n, n);
    const got = _internal.tridiagonalize(A, n, true);
    const want = js(() => _internal.tridiagonalize(A, n, true));
    assert.ok(relDiff(got.d, want.d) < 1e-12, `d, n = ${n}`);
    assert.ok(relDiff(got.e, want.e) < 1e-12, `e, n = ${n}`);
    assert.ok(relDiff(got.Qt as Float64Array, want.Qt as Float64Array) < 1e-10, `Qt, n = ${n}`);
    const w = eigSym(A, n).values;
    const wJs = js(() => eigSym(A, n).values);
    assert.ok(relDiff(w, wJs) < 1e-12, `eigenvalues, n = ${n}`);
  }
});

test('traceSqrtProduct: native and JS paths agree to 1e-12 relative (full rank and rank-deficient Σ1)', { skip }, () => {
  for (const n of [1, 7, 65, 300]) {
    const s1 = spd(200 + n, n);
    const s2 = spd(300 + n, n);
    const got = traceSqrtProduct(s1, s2, n);
    const want = js(() => traceSqrtProduct(s1, s2, n));
    assert.ok(Math.abs(got.trace - want.trace) <= 1e-12 * want.trace, `n = ${n}: ${got.trace} vs ${want.trace}`);
    assert.equal(got.rankSigma1, want.rankSigma1);
  }
  // rank-deficient Σ1: the pivoted Cholesky (JS), then the native congruence with r < n
  const n = 70;
  const s1 = gram(randMat(11, n, 40), n, 40);
  const s2 = spd(12, n);
  const got = traceSqrtProduct(s1, s2, n);
  const want = js(() => traceSqrtProduct(s1, s2, n));
  assert.equal(got.rankSigma1, 40);
  assert.ok(Math.abs(got.trace - want.trace) <= 1e-12 * want.trace, `${got.trace} vs ${want.trace}`);
});

test('MEDSYN_NATIVE_KERNELS=0: the module is not used and the JS path gives the same FID', () => {
  const linalg = fileURLToPath(new URL('../../src/metrics/linalg.js', import.meta.url));
  const native = fileURLToPath(new URL('../../src/metrics/linalgNative.js', import.meta.url));
  const script = `
    const L = await import(${JSON.stringify(linalg)});
    const N = await import(${JSON.stringify(native)});
    const n = 40, a = new Float64Array(n * (n + 3)), b = new Float64Array(n * (n + 3));
    for (let i = 0; i < a.length; i++) { a[i] = Math.sin(i * 1.7); b[i] = Math.cos(i * 0.3 + 1); }
    const t = L.traceSqrtProduct(L.gram(a, n, n + 3), L.gram(b, n, n + 3), n).trace;
    console.log(JSON.stringify({ available: N.linalgNativeAvailable(), t }));`;
  const run = (env: string): { available: boolean; t: number } => JSON.parse(execFileSync(process.execPath, ['--input-type=module', '-e', script], {
    env: { ...process.env, MEDSYN_NATIVE_KERNELS: env }, encoding: 'utf8',
  })) as { available: boolean; t: number };
  const off = run('0');
  assert.equal(off.available, false);
  const on = run('1');
  assert.ok(Math.abs(on.t - off.t) <= 1e-12 * off.t, `${on.t} vs ${off.t}`);
});
