/**
 * The Fréchet distance's float64 hot loops on medsyn's WebAssembly module (native/linalg.c, built into
 * src/core/kernels/native/medsyn-kernels.wasm with the conv kernels): the triangular "A times B-transposed"
 * products, the blocked Cholesky, and the Householder tridiagonalisation. linalg.ts calls these when the module
 * loads and falls back to its own JS kernels otherwise (no .wasm, or MEDSYN_NATIVE_KERNELS=0).
 *
 * Operands are copied into the module's memory (its bump allocator, reset first; `alloc` counts 4-byte floats, so
 * every float64 array takes 2 per element and stays 16-byte aligned), the kernel runs, results are copied out.
 * The copies cost ~10 ms per 32 MB against seconds of arithmetic at n = 2048.
 *
 * Numerics: the products and the Cholesky are bit-identical to the JS kernels (each dot product is one sequential
 * sum over k; the SIMD lanes run over output columns). The tridiagonalisation's symv sums run in two lanes, so d, e
 * agree with the JS ones to rounding only.
 */
import { type NativeKernels, nativeKernels } from '../core/kernels/nativeModule.js';

/** The exports of native/linalg.c (nativeModule.ts's Exports does not list them). */
interface LinalgExports {
  readonly gemm_nt_f64_scratch: () => number;
  readonly gemm_nt_f64: (
    A: number, lda: number, B: number, ldb: number, C: number, ldc: number, m: number, n: number, len: number, flags: number, scratch: number,
  ) => void;
  readonly add_transpose_upper_f64: (X: number, r: number) => void;
  readonly transpose_f64: (L: number, n: number, T: number) => void;
  readonly chol_blocked_f64_scratch: (n: number) => number;
  readonly chol_blocked_f64: (A: number, n: number, tol: number, L: number, scratch: number) => number;
  readonly tridiag_f64: (A: number, n: number, d: number, e: number, tau: number, work: number) => void;
}

/** Flags of gemm_nt_f64 (native/linalg.c). */
export const GEMM_A_FROM_ROW = 1;
export const GEMM_B_FROM_ROW = 2;
export const GEMM_B_TO_ROW = 4;

/** Keep the module's memory (2 GiB at most, shared with the conv kernels) well below its limit. */
const MAX_BYTES = 1.5 * 2 ** 30;

interface Linalg {
  nk: NativeKernels;
  x: LinalgExports;
}

let cached: Linalg | null | undefined;

/** The module with the float64 kernels, or null (no .wasm, MEDSYN_NATIVE_KERNELS=0, or a build without them). */
function linalg(): Linalg | null {
  if (cached !== undefined) return cached;
  const nk = nativeKernels();
  const x = nk === null ? null : (nk.exports as unknown as Partial<LinalgExports>);
  cached = nk !== null && x !== null && typeof x.gemm_nt_f64 === 'function' && typeof x.tridiag_f64 === 'function'
    ? { nk, x: x as LinalgExports }
    : null;
  return cached;
}

/** True when the native float64 kernels are available. */
export function linalgNativeAvailable(): boolean {
  return linalg() !== null;
}

/** A bump allocation of float64s in the module (offset in bytes) and a way to view it after the last alloc. */
class Arena {
  private readonly offsets: number[] = [];
  constructor(readonly nk: NativeKernels) {
    nk.reset();
  }
  alloc(doubles: number): number {
    const at = this.nk.alloc(2 * Math.max(doubles, 1));
    this.offsets.push(at);
    return at;
  }
  /** A Float64Array over module memory (views die when the memory grows: take them after the last alloc). */
  view(at: number, doubles: number): Float64Array {
    return new Float64Array(this.nk.f32(0, 0).buffer, at, doubles);
  }
  put(values: Float64Array): number {
    const at = this.alloc(values.length);
    this.view(at, values.length).set(values);
    return at;
  }
}

function fits(doubles: number): boolean {
  return 8 * doubles <= MAX_BYTES;
}

/**
 * C (m×n, new) = A·Bᵀ over the triangular index ranges of gemm_nt_f64 (A m×len with row stride lda, B n×len with
 * row stride ldb). Null when the module is unavailable or the operands would not fit.
 */
export function gemmNTNative(
  A: Float64Array, lda: number, B: Float64Array, ldb: number, m: number, n: number, len: number, flags: number,
): Float64Array | null {
  const lib = linalg();
  if (lib === null || !fits(A.length + B.length + m * n + lib.x.gemm_nt_f64_scratch())) return null;
  const ar = new Arena(lib.nk);
  const aAt = ar.put(A), bAt = ar.put(B), cAt = ar.alloc(m * n), sAt = ar.alloc(lib.x.gemm_nt_f64_scratch());
  lib.x.gemm_nt_f64(aAt, lda, bAt, ldb, cAt, n, m, n, len, flags, sAt);
  return ar.view(cAt, m * n).slice();
}

/**
 * Blocked Cholesky A = L Lᵀ (lower triangle of A read): Lᵀ as n×n row-major (row c = column c of L), exactly the
 * `Lt` of linalg.ts's choleskyBlocked; null when a pivot is ≤ tol; undefined when the module is unavailable.
 */
export function choleskyBlockedNative(A: Float64Array, n: number, tol: number): Float64Array | null | undefined {
  const lib = linalg();
  if (lib === null) return undefined;
  const scratch = lib.x.chol_blocked_f64_scratch(n);
  if (!fits(3 * n * n + scratch)) return undefined;
  const ar = new Arena(lib.nk);
  const aAt = ar.put(A), lAt = ar.alloc(n * n), sAt = ar.alloc(scratch);
  if (lib.x.chol_blocked_f64(aAt, n, tol, lAt, sAt) === 0) return null;
  lib.x.transpose_f64(lAt, n, aAt); // Lt over A's copy
  return ar.view(aAt, n * n).slice();
}

/**
 * M = Lᵀ S L (r×r, upper triangle filled; below the diagonal the unsymmetrised product, as in JS) for
 * linalg.ts's congruenceTriangular: `Ut` is S's upper triangle transposed with half the diagonal (n×n), `Lt` r×n.
 * Undefined when the module is unavailable or the operands would not fit.
 */
export function congruenceTriangularNative(Lt: Float64Array, Ut: Float64Array, n: number, r: number): Float64Array | undefined {
  const lib = linalg();
  if (lib === null) return undefined;
  const scratch = lib.x.gemm_nt_f64_scratch();
  if (!fits(Lt.length + Ut.length + r * n + scratch)) return undefined;
  const ar = new Arena(lib.nk);
  const lAt = ar.put(Lt), uAt = ar.put(Ut), yAt = ar.alloc(r * n), sAt = ar.alloc(scratch);
  const xAt = uAt; // Ut is dead once Y is formed (r ≤ n): the module's memory peaks at 3n² doubles, not 4n²
  // Y[a][j] = Σ_i Lt[a][i] Ut[j][i]: i from a (Lt) to j (Ut)
  lib.x.gemm_nt_f64(lAt, n, uAt, n, yAt, n, r, n, n, GEMM_A_FROM_ROW | GEMM_B_TO_ROW, sAt);
  // X[a][b] = Σ_j Y[a][j] Lt[b][j]: j from max(a, b)
  lib.x.gemm_nt_f64(yAt, n, lAt, n, xAt, r, r, r, n, GEMM_A_FROM_ROW | GEMM_B_FROM_ROW, sAt);
  lib.x.add_transpose_upper_f64(xAt, r);
  return ar.view(xAt, r * r).slice();
}

/**
 * Householder tridiagonalisation of a symmetric n×n matrix (upper triangle read): d, e (e[n−1] = 0), tau, and the
 * reduced copy of A whose rows hold the Householder vectors (for forming Q; only `withVectors`). Undefined when the module is
 * unavailable or A would not fit.
 */
export function tridiagonalizeNative(
  A: Float64Array, n: number, withVectors: boolean,
): { d: Float64Array; e: Float64Array; tau: Float64Array; V: Float64Array | null } | undefined {
  const lib = linalg();
  if (lib === null || !fits(n * n + 5 * n)) return undefined;
  const ar = new Arena(lib.nk);
  const aAt = ar.put(A), dAt = ar.alloc(n), eAt = ar.alloc(n), tAt = ar.alloc(n), wAt = ar.alloc(2 * n);
  lib.x.tridiag_f64(aAt, n, dAt, eAt, tAt, wAt);
  return { d: ar.view(dAt, n).slice(), e: ar.view(eAt, n).slice(), tau: ar.view(tAt, n).slice(), V: withVectors ? ar.view(aAt, n * n).slice() : null };
}
