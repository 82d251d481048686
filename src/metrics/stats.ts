/**
 * Feature matrices and their first/second moments, in Float64.
 *
 * `RunningMoments` accumulates the mean and the covariance of feature rows batch by batch (Float32 or Float64
 * input), is mergeable (Chan–Golub–LeVeque pairwise update), and reproduces numpy's
 * `np.mean(act, axis=0)` / `np.cov(act, rowvar=False)` (ddof = 1) as used by pytorch-fid and torch-fidelity
 * (metrics spec §1.6):
 * - the mean is the sequential row sum divided by n (what numpy does for an axis-0 reduction of a C-ordered
 *   array), so for float64 input it is bit-identical to `np.mean(axis=0)`;
 * - the covariance is Σ (x − x̄)(x − x̄)ᵀ · (1/(n − ddof)); within a batch the centred products are formed like
 *   np.cov (centre, then multiply), batches are merged exactly in exact arithmetic (rounding differs from a
 *   single np.cov call at the 1e-16 relative level).
 * StyleGAN2-ADA uses ddof = 0: pass `ddof: 0`.
 */
import { gemmNT, copyUpperToLower } from './linalg.js';

export type FeatureArray = Float32Array | Float64Array;

/** n×d feature matrix, row-major (one row per image). */
export interface FeatureMatrix {
  data: FeatureArray;
  rows: number;
  cols: number;
}

/** Wraps and validates a flat row-major array as a FeatureMatrix. */
export function featureMatrix(data: FeatureArray, rows: number, cols: number, what = 'features'): FeatureMatrix {
  if (!Number.isInteger(rows) || !Number.isInteger(cols) || rows < 0 || cols < 1) {
    throw new RangeError(`${what}: invalid shape (${rows}, ${cols})`);
  }
  if (data.length !== rows * cols) {
    throw new RangeError(`${what}: ${data.length} values do not fill a ${rows}×${cols} matrix`);
  }
  return { data, rows, cols };
}

/** Throws a RangeError naming `what` if any value is NaN or ±Infinity. */
export function assertFinite(m: FeatureMatrix, what = 'features'): void {
  const { data, cols } = m;
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) {
      throw new RangeError(`${what}: non-finite value ${data[i]} at row ${Math.floor(i / cols)}, column ${i % cols}`);
    }
  }
}

/** Float64 copy (or the same array when it already is Float64 and `copy` is false). */
export function toFloat64(m: FeatureMatrix, copy = false): Float64Array {
  if (m.data instanceof Float64Array && !copy) return m.data;
  return Float64Array.from(m.data);
}

export interface Moments {
  n: number;
  mean: Float64Array;
  /** d×d row-major, symmetric */
  cov: Float64Array;
}

/** Streaming, mergeable mean/covariance accumulator (Float64). */
export class RunningMoments {
  /** number of rows seen */
  count = 0;
  /** sequential Σ x over all rows (gives the numpy-identical mean) */
  private readonly sum: Float64Array;
  /** running mean used for the co-moment updates */
  private readonly runMean: Float64Array;
  /** co-moment Σ (x − x̄)(x − x̄)ᵀ, upper triangle maintained */
  private readonly m2: Float64Array;

  constructor(readonly dim: number, private readonly batchRows = 1024) {
    if (!Number.isInteger(dim) || dim < 1) throw new RangeError(`RunningMoments: invalid dimension ${dim}`);
    this.sum = new Float64Array(dim);
    this.runMean = new Float64Array(dim);
    this.m2 = new Float64Array(dim * dim);
  }

  /** Adds `rows` rows of a row-major array (rows defaults to data.length / dim). */
  addRows(data: FeatureArray, rows?: number): this {
    const d = this.dim;
    const r = rows ?? data.length / d;
    if (!Number.isInteger(r) || r * d > data.length) {
      throw new RangeError(`RunningMoments.addRows: ${data.length} values are not ${rows ?? 'a whole number of'} rows of ${d}`);
    }
    for (let start = 0; start < r; start += this.batchRows) {
      this.addBatch(data, start, Math.min(r, start + this.batchRows));
    }
    return this;
  }

  add(m: FeatureMatrix): this {
    if (m.cols !== this.dim) throw new RangeError(`RunningMoments.add: expected ${this.dim} columns, got ${m.cols}`);
    return this.addRows(m.data, m.rows);
  }

  private addBatch(data: FeatureArray, r0: number, r1: number): void {
    const d = this.dim;
    const b = r1 - r0;
    if (b <= 0) return;
    const sum = this.sum;
    const bsum = new Float64Array(d);
    for (let r = r0; r < r1; r++) {
      const o = r * d;
      for (let j = 0; j < d; j++) {
        const x = data[o + j];
        bsum[j] += x;
        sum[j] += x;
      }
    }
    const bmean = new Float64Array(d);
    for (let j = 0; j < d; j++) bmean[j] = bsum[j] / b;
    // centred batch, transposed: Xct[j][t] = x_tj − bmean_j
    const Xct = new Float64Array(d * b);
    for (let t = 0; t < b; t++) {
      const o = (r0 + t) * d;
      for (let j = 0; j < d; j++) Xct[j * b + t] = data[o + j] - bmean[j];
    }
    const na = this.count;
    const n = na + b;
    // M2 += Xcᵀ Xc (upper)
    gemmNT(Xct, 0, b, Xct, 0, b, this.m2, 0, d, d, d, b, { upper: true, accumulate: true });
    if (na > 0) {
      const f = (na * b) / n;
      const delta = new Float64Array(d);
      for (let j = 0; j < d; j++) delta[j] = bmean[j] - this.runMean[j];
      for (let i = 0; i < d; i++) {
        const di = delta[i] * f;
        const o = i * d;
        for (let j = i; j < d; j++) this.m2[o + j] += di * delta[j];
      }
      for (let j = 0; j < d; j++) this.runMean[j] += (delta[j] * b) / n;
    } else {
      this.runMean.set(bmean);
    }
    this.count = n;
  }

  /** Merges another accumulator of the same dimension into this one. */
  merge(other: RunningMoments): this {
    if (other.dim !== this.dim) throw new RangeError(`RunningMoments.merge: dimension ${other.dim} ≠ ${this.dim}`);
    const d = this.dim;
    const na = this.count;
    const nb = other.count;
    if (nb === 0) return this;
    if (na === 0) {
      this.sum.set(other.sum);
      this.runMean.set(other.runMean);
      this.m2.set(other.m2);
      this.count = nb;
      return this;
    }
    const n = na + nb;
    const f = (na * nb) / n;
    const delta = new Float64Array(d);
    for (let j = 0; j < d; j++) delta[j] = other.runMean[j] - this.runMean[j];
    for (let i = 0; i < d; i++) {
      const di = delta[i] * f;
      const o = i * d;
      for (let j = i; j < d; j++) this.m2[o + j] += other.m2[o + j] + di * delta[j];
    }
    for (let j = 0; j < d; j++) {
      this.runMean[j] += (delta[j] * nb) / n;
      this.sum[j] += other.sum[j];
    }
    this.count = n;
    return this;
  }

  /** Mean = (sequential row sum) / n. */
  mean(): Float64Array {
    if (this.count === 0) throw new RangeError('RunningMoments.mean: no rows were added');
    const m = new Float64Array(this.dim);
    for (let j = 0; j < this.dim; j++) m[j] = this.sum[j] / this.count;
    return m;
  }

  /** Covariance Σ (x−x̄)(x−x̄)ᵀ · 1/(n − ddof) (ddof 1 = np.cov default), full symmetric d×d. */
  covariance(ddof = 1): Float64Array {
    const denom = this.count - ddof;
    if (!(denom > 0)) {
      throw new RangeError(`covariance needs more than ${ddof} row(s) (ddof=${ddof}); got ${this.count}`);
    }
    const d = this.dim;
    const f = 1 / denom;
    const c = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      const o = i * d;
      for (let j = i; j < d; j++) c[o + j] = this.m2[o + j] * f;
    }
    copyUpperToLower(c, d);
    return c;
  }

  moments(ddof = 1): Moments {
    return { n: this.count, mean: this.mean(), cov: this.covariance(ddof) };
  }
}

/** Mean and covariance (ddof 1 by default) of a feature matrix. */
export function meanAndCovariance(m: FeatureMatrix, opts: { ddof?: number } = {}): Moments {
  return new RunningMoments(m.cols).add(m).moments(opts.ddof ?? 1);
}

// ---------------------------------------------------------------------------------------------------------------
// numpy-compatible reductions of small 1-D arrays (for bit-level agreement of reported means/stds)
// ---------------------------------------------------------------------------------------------------------------

/** numpy's pairwise summation (`pairwise_sum` in loops_utils.h) of a[off … off+n−1]. */
export function npPairwiseSum(a: ArrayLike<number>, off = 0, n = a.length - off): number {
  if (n < 8) {
    let res = 0;
    for (let i = 0; i < n; i++) res += a[off + i];
    return res;
  }
  if (n <= 128) {
    const r = [a[off], a[off + 1], a[off + 2], a[off + 3], a[off + 4], a[off + 5], a[off + 6], a[off + 7]];
    let i = 8;
    for (; i < n - (n % 8); i += 8) {
      for (let j = 0; j < 8; j++) r[j] += a[off + i + j];
    }
    // prettier-ignore
    let res = ((r[0] + r[1]) + (r[2] + r[3])) + ((r[4] + r[5]) + (r[6] + r[7]));
    for (; i < n; i++) res += a[off + i];
    return res;
  }
  let n2 = Math.floor(n / 2);
  n2 -= n2 % 8;
  return npPairwiseSum(a, off, n2) + npPairwiseSum(a, off + n2, n - n2);
}

/** `np.mean` of a 1-D float64 array. */
export function npMean(a: ArrayLike<number>): number {
  return npPairwiseSum(a) / a.length;
}

/** `np.std(a, ddof)` of a 1-D float64 array (ddof 0 by default, like torch-fidelity's reported stds). */
export function npStd(a: ArrayLike<number>, ddof = 0): number {
  const mean = npMean(a);
  const sq = new Float64Array(a.length);
  for (let i = 0; i < a.length; i++) {
    const x = a[i] - mean;
    sq[i] = x * x;
  }
  return Math.sqrt(npPairwiseSum(sq) / (a.length - ddof));
}
