/**
 * Kernel Inception Distance exactly as torch-fidelity's `kid_features_to_metric` (metrics spec §2):
 *
 * - polynomial kernel k(x, y) = (γ·xᵀy + c0)^degree with degree 3, γ = 1/D (D = feature dimension), c0 = 1;
 * - `kid_subsets` = 100 subsets of `kid_subset_size` = 1000 rows from each set, drawn with
 *   `rng = np.random.RandomState(2020)` and, per subset, `rng.choice(n1, m, replace=False)` for input 1 **then**
 *   `rng.choice(n2, m, replace=False)` for input 2 (one stream) — reproduced bit-exactly by {@link NumpyRandomState};
 * - unbiased MMD² per subset: [Σ_{i≠j} k(x_i,x_j) + Σ_{i≠j} k(y_i,y_j)] / (m(m−1)) − 2·Σ_{i,j} k(x_i,y_j) / m²;
 * - reported: mean and population std (np.std, ddof 0) over the subsets.
 *
 * Subset size larger than a set: torch-fidelity refuses (`vassert`: "KID subset size … cannot be smaller than the
 * number of samples"); that is the default here (`subsetSizePolicy: 'error'`). `'clip'` uses
 * m = min(subsetSize, n1, n2) as clean-fid / StyleGAN2-ADA do and records a note.
 *
 * Precision: torch-fidelity evaluates the kernels in float32 (float32 features, np.matmul). Here every kernel
 * value is computed in float64 from the given (float32 or float64) features, i.e. exactly (to ~1e-15) the
 * quantity the reference approximates in float32; the two agree to float32 rounding (≈1e-6 relative of the
 * kernel sums). With the same features and seed the subsets are identical.
 *
 * Cost: per subset 2·m²·D multiply-adds. When the whole Gram matrices are cheaper than the subsets (n ≲ √subsets·m)
 * and fit `memoryBudgetBytes`, they are computed once and subsets read from them; both paths give bit-identical
 * results (each dot product is the same sequential sum).
 */
import { ConfigError } from '../core/errors.js';
import { gemmNT } from './linalg.js';
import { NumpyRandomState } from './numpy-random.js';
import { npMean, npStd, toFloat64, type FeatureMatrix } from './stats.js';

export interface KidOptions {
  /** number of subsets (torch-fidelity `kid_subsets`, default 100) */
  subsets?: number;
  /** rows per subset (torch-fidelity `kid_subset_size`, default 1000) */
  subsetSize?: number;
  /** 'error' (torch-fidelity, default) or 'clip' (clean-fid: min(subsetSize, n1, n2)) */
  subsetSizePolicy?: 'error' | 'clip';
  /** polynomial degree (default 3) */
  degree?: number;
  /** γ; default 1 / feature dimension */
  gamma?: number;
  /** c0 (default 1) */
  coef0?: number;
  /** RandomState seed (torch-fidelity `rng_seed`, default 2020) */
  seed?: number;
  /** upper bound for the cached Gram matrices (default 1 GiB); 0 disables the cache */
  memoryBudgetBytes?: number;
  /** called after each subset */
  onProgress?: (done: number, total: number) => void;
}

export interface KidResult {
  mean: number;
  std: number;
  /** MMD² of every subset, in order */
  values: Float64Array;
  subsets: number;
  subsetSize: number;
  degree: number;
  gamma: number;
  coef0: number;
  seed: number;
  notes: string[];
}

export const KID_DEFAULTS = { subsets: 100, subsetSize: 1000, degree: 3, coef0: 1, seed: 2020 } as const;

/** t^degree with the common integer degrees unrolled (the kernel's inner loop). */
export function powInt(t: number, degree: number): number {
  switch (degree) {
    case 1:
      return t;
    case 2:
      return t * t;
    case 3:
      return t * t * t;
    default:
      return Math.pow(t, degree);
  }
}

interface KernelParams {
  degree: number;
  gamma: number;
  coef0: number;
}

/**
 * Unbiased MMD² of two equally sized sets (rows of X and Y, m×d each) with the polynomial kernel — torch-fidelity
 * `mmd2(..., mmd_est='unbiased')`. No subsampling.
 */
export function mmd2Unbiased(X: FeatureMatrix, Y: FeatureMatrix, opts: { degree?: number; gamma?: number; coef0?: number } = {}): number {
  if (X.cols !== Y.cols) throw new RangeError(`mmd2Unbiased: feature dimensions differ (${X.cols} and ${Y.cols})`);
  if (X.rows !== Y.rows) throw new RangeError(`mmd2Unbiased: the unbiased estimator needs equal set sizes (${X.rows} and ${Y.rows})`);
  const m = X.rows;
  if (m < 2) throw new RangeError('mmd2Unbiased: needs at least 2 rows per set');
  const kp: KernelParams = { degree: opts.degree ?? 3, gamma: opts.gamma ?? 1 / X.cols, coef0: opts.coef0 ?? 1 };
  const idx = new Int32Array(m);
  for (let i = 0; i < m; i++) idx[i] = i;
  return mmdFromDots(new DirectDots(toFloat64(X), toFloat64(Y), X.cols), idx, idx, kp);
}

/** Source of dot products x_a·x_b, y_a·y_b, x_a·y_b for subsets given by original row indices. */
interface DotSource {
  prepare(ix: Int32Array, iy: Int32Array): void;
  /** dots of subset positions (after prepare): xx(i, j) for i < j, yy(i, j) for i < j, xy(i, j) all */
  xx(i: number, j: number): number;
  yy(i: number, j: number): number;
  xy(i: number, j: number): number;
}

/** Per-subset dot products (gathers the subset rows, computes m×m blocks). */
class DirectDots implements DotSource {
  private m = 0;
  private Kxx = new Float64Array(0);
  private Kyy = new Float64Array(0);
  private Kxy = new Float64Array(0);
  private Xs = new Float64Array(0);
  private Ys = new Float64Array(0);
  constructor(private readonly X: Float64Array, private readonly Y: Float64Array, private readonly d: number) {}
  prepare(ix: Int32Array, iy: Int32Array): void {
    const m = ix.length;
    const d = this.d;
    if (m !== this.m) {
      this.m = m;
      this.Kxx = new Float64Array(m * m);
      this.Kyy = new Float64Array(m * m);
      this.Kxy = new Float64Array(m * m);
      this.Xs = new Float64Array(m * d);
      this.Ys = new Float64Array(m * d);
    }
    for (let i = 0; i < m; i++) {
      this.Xs.set(this.X.subarray(ix[i] * d, ix[i] * d + d), i * d);
      this.Ys.set(this.Y.subarray(iy[i] * d, iy[i] * d + d), i * d);
    }
    gemmNT(this.Xs, 0, d, this.Xs, 0, d, this.Kxx, 0, m, m, m, d, { upper: true });
    gemmNT(this.Ys, 0, d, this.Ys, 0, d, this.Kyy, 0, m, m, m, d, { upper: true });
    gemmNT(this.Xs, 0, d, this.Ys, 0, d, this.Kxy, 0, m, m, m, d);
  }
  xx(i: number, j: number): number {
    return this.Kxx[i * this.m + j];
  }
  yy(i: number, j: number): number {
    return this.Kyy[i * this.m + j];
  }
  xy(i: number, j: number): number {
    return this.Kxy[i * this.m + j];
  }
}

/** Whole Gram matrices computed once; subsets index into them. */
class GramDots implements DotSource {
  private readonly Gxx: Float64Array;
  private readonly Gyy: Float64Array;
  private readonly Gxy: Float64Array;
  private ix: Int32Array = new Int32Array(0);
  private iy: Int32Array = new Int32Array(0);
  constructor(X: Float64Array, n1: number, Y: Float64Array, n2: number, d: number) {
    this.n1 = n1;
    this.n2 = n2;
    this.Gxx = new Float64Array(n1 * n1);
    this.Gyy = new Float64Array(n2 * n2);
    this.Gxy = new Float64Array(n1 * n2);
    gemmNT(X, 0, d, X, 0, d, this.Gxx, 0, n1, n1, n1, d, { upper: true });
    gemmNT(Y, 0, d, Y, 0, d, this.Gyy, 0, n2, n2, n2, d, { upper: true });
    gemmNT(X, 0, d, Y, 0, d, this.Gxy, 0, n2, n1, n2, d);
  }
  private readonly n1: number;
  private readonly n2: number;
  prepare(ix: Int32Array, iy: Int32Array): void {
    this.ix = ix;
    this.iy = iy;
  }
  xx(i: number, j: number): number {
    const a = this.ix[i], b = this.ix[j];
    return a <= b ? this.Gxx[a * this.n1 + b] : this.Gxx[b * this.n1 + a];
  }
  yy(i: number, j: number): number {
    const a = this.iy[i], b = this.iy[j];
    return a <= b ? this.Gyy[a * this.n2 + b] : this.Gyy[b * this.n2 + a];
  }
  xy(i: number, j: number): number {
    return this.Gxy[this.ix[i] * this.n2 + this.iy[j]];
  }
}

/**
 * Unbiased MMD² from dot products: off-diagonal within-set sums are 2·Σ_{i<j}, the cross sum runs over all pairs;
 * the summation order is fixed (row-major over subset positions) so that both dot sources give identical values.
 */
function mmdFromDots(src: DotSource, ix: Int32Array, iy: Int32Array, kp: KernelParams): number {
  src.prepare(ix, iy);
  const m = ix.length;
  const { degree, gamma, coef0 } = kp;
  let sxx = 0;
  let syy = 0;
  let sxy = 0;
  for (let i = 0; i < m; i++) {
    let rx = 0;
    let ry = 0;
    for (let j = i + 1; j < m; j++) {
      rx += powInt(src.xx(i, j) * gamma + coef0, degree);
      ry += powInt(src.yy(i, j) * gamma + coef0, degree);
    }
    sxx += rx;
    syy += ry;
    let rxy = 0;
    for (let j = 0; j < m; j++) rxy += powInt(src.xy(i, j) * gamma + coef0, degree);
    sxy += rxy;
  }
  return (2 * sxx + 2 * syy) / (m * (m - 1)) - (2 * sxy) / (m * m);
}

/**
 * KID between features1 (torch-fidelity input 1 — conventionally the generated set) and features2 (input 2,
 * the reference set). The order matters only for which set each `choice` call draws from.
 */
export function kernelInceptionDistance(features1: FeatureMatrix, features2: FeatureMatrix, opts: KidOptions = {}): KidResult {
  if (features1.cols !== features2.cols) {
    throw new RangeError(`KID: feature dimensions differ (input 1: ${features1.cols}, input 2: ${features2.cols})`);
  }
  const d = features1.cols;
  const n1 = features1.rows;
  const n2 = features2.rows;
  const subsets = opts.subsets ?? KID_DEFAULTS.subsets;
  const requested = opts.subsetSize ?? KID_DEFAULTS.subsetSize;
  const policy = opts.subsetSizePolicy ?? 'error';
  const seed = opts.seed ?? KID_DEFAULTS.seed;
  const kp: KernelParams = {
    degree: opts.degree ?? KID_DEFAULTS.degree,
    gamma: opts.gamma ?? 1 / d,
    coef0: opts.coef0 ?? KID_DEFAULTS.coef0,
  };
  if (!Number.isInteger(subsets) || subsets < 1) throw new ConfigError(`KID: number of subsets must be a positive integer, got ${subsets}`);
  if (!Number.isInteger(requested) || requested < 2) throw new ConfigError(`KID: subset size must be an integer ≥ 2, got ${requested}`);
  if (!Number.isInteger(kp.degree) || kp.degree < 1) throw new ConfigError(`KID: kernel degree must be a positive integer, got ${kp.degree}`);
  const notes: string[] = [];
  let m = requested;
  if (requested > n1 || requested > n2) {
    if (policy === 'error') {
      throw new ConfigError(
        `KID subset size ${requested} is larger than the number of samples (input 1: ${n1}, input 2: ${n2}); ` +
          `torch-fidelity refuses this too. Use a subset size ≤ ${Math.min(n1, n2)} (e.g. --kid-subset-size ${Math.min(n1, n2)}), ` +
          `or the 'clip' subset-size policy (clean-fid behaviour).`,
      );
    }
    m = Math.min(requested, n1, n2);
    if (m < 2) throw new ConfigError(`KID needs at least 2 samples per set (input 1: ${n1}, input 2: ${n2})`);
    notes.push(`KID subset size clipped from ${requested} to ${m} = min(subset size, n1, n2) (clean-fid behaviour; torch-fidelity would refuse)`);
  }
  const X = toFloat64(features1);
  const Y = toFloat64(features2);
  const budget = opts.memoryBudgetBytes ?? 2 ** 30;
  const gramBytes = 8 * (n1 * n1 + n2 * n2 + n1 * n2);
  const gramWork = (n1 * n1) / 2 + (n2 * n2) / 2 + n1 * n2;
  const directWork = subsets * 2 * m * m;
  const src: DotSource =
    gramBytes <= budget && gramWork < directWork ? new GramDots(X, n1, Y, n2, d) : new DirectDots(X, Y, d);
  const rng = new NumpyRandomState(seed);
  const values = new Float64Array(subsets);
  for (let s = 0; s < subsets; s++) {
    const ix = rng.choiceWithoutReplacement(n1, m);
    const iy = rng.choiceWithoutReplacement(n2, m);
    values[s] = mmdFromDots(src, ix, iy, kp);
    opts.onProgress?.(s + 1, subsets);
  }
  return {
    mean: npMean(values),
    std: npStd(values),
    values,
    subsets,
    subsetSize: m,
    degree: kp.degree,
    gamma: kp.gamma,
    coef0: kp.coef0,
    seed,
    notes,
  };
}

/** The subset indices torch-fidelity draws (for inspection/tests): [input-1 indices, input-2 indices] per subset. */
export function kidSubsetIndices(n1: number, n2: number, subsets: number, subsetSize: number, seed = 2020): Array<[Int32Array, Int32Array]> {
  const rng = new NumpyRandomState(seed);
  const out: Array<[Int32Array, Int32Array]> = [];
  for (let s = 0; s < subsets; s++) {
    const a = rng.choiceWithoutReplacement(n1, subsetSize);
    const b = rng.choiceWithoutReplacement(n2, subsetSize);
    out.push([a, b]);
  }
  return out;
}
