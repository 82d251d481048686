/**
 * Inception Score exactly as torch-fidelity's `isc_features_to_metric` (metrics spec §4):
 *
 * 1. if shuffle (default): rows permuted by `np.random.RandomState(2020).permutation(N)`;
 * 2. float64; p = softmax(logits), log p = log_softmax(logits) over the classes;
 * 3. split i ∈ [0, splits): rows [i·N//splits, (i+1)·N//splits); q = mean of p over the split's rows;
 *    score_i = exp(mean_rows Σ_c p·(log p − log q));
 * 4. mean and population std (np.std, ddof 0) of the split scores. Default 10 splits.
 *
 * torch-fidelity feeds the 1008 "logits_unbiased" (pool3 · fc.weightᵀ, no bias) of the FID Inception. Use
 * {@link inceptionScoreFromLogits} for those; {@link inceptionScoreFromProbabilities} takes class probabilities
 * directly (log p = ln p, 0·ln 0 = 0; rows must sum to 1 within 1e-6·C).
 */
import { NumpyRandomState } from './numpy-random.js';
import { npMean, npStd, type FeatureMatrix } from './stats.js';

export interface InceptionScoreOptions {
  /** number of splits (torch-fidelity `isc_splits`, default 10) */
  splits?: number;
  /** shuffle rows first (torch-fidelity `samples_shuffle`, default true) */
  shuffle?: boolean;
  /** RandomState seed for the shuffle (default 2020) */
  seed?: number;
}

export interface InceptionScoreResult {
  mean: number;
  std: number;
  /** per-split scores */
  scores: Float64Array;
  splits: number;
  shuffle: boolean;
  seed: number;
}

function rowOrder(n: number, opts: InceptionScoreOptions): { order: Int32Array; splits: number; shuffle: boolean; seed: number } {
  const splits = opts.splits ?? 10;
  const shuffle = opts.shuffle ?? true;
  const seed = opts.seed ?? 2020;
  if (!Number.isInteger(splits) || splits < 1) throw new RangeError(`Inception Score: splits must be a positive integer, got ${splits}`);
  if (n < splits) throw new RangeError(`Inception Score: ${n} samples cannot be divided into ${splits} splits`);
  let order: Int32Array;
  if (shuffle) order = new NumpyRandomState(seed).permutation(n);
  else {
    order = new Int32Array(n);
    for (let i = 0; i < n; i++) order[i] = i;
  }
  return { order, splits, shuffle, seed };
}

function score(P: Float64Array, LP: Float64Array, n: number, c: number, o: ReturnType<typeof rowOrder>): InceptionScoreResult {
  const { splits } = o;
  const scores = new Float64Array(splits);
  const q = new Float64Array(c);
  const logq = new Float64Array(c);
  for (let s = 0; s < splits; s++) {
    const a = Math.floor((s * n) / splits);
    const b = Math.floor(((s + 1) * n) / splits);
    const rows = b - a;
    q.fill(0);
    for (let r = a; r < b; r++) {
      const off = r * c;
      for (let k = 0; k < c; k++) q[k] += P[off + k];
    }
    for (let k = 0; k < c; k++) logq[k] = Math.log(q[k] / rows);
    let klSum = 0;
    for (let r = a; r < b; r++) {
      const off = r * c;
      let kl = 0;
      for (let k = 0; k < c; k++) {
        const p = P[off + k];
        if (p !== 0) kl += p * (LP[off + k] - logq[k]);
      }
      klSum += kl;
    }
    scores[s] = Math.exp(klSum / rows);
  }
  return { mean: npMean(scores), std: npStd(scores), scores, splits, shuffle: o.shuffle, seed: o.seed };
}

/** IS from logits (N×C): softmax / log_softmax in float64 after the optional seeded shuffle. */
export function inceptionScoreFromLogits(logits: FeatureMatrix, opts: InceptionScoreOptions = {}): InceptionScoreResult {
  const n = logits.rows;
  const c = logits.cols;
  const o = rowOrder(n, opts);
  const P = new Float64Array(n * c);
  const LP = new Float64Array(n * c);
  const z = logits.data;
  for (let r = 0; r < n; r++) {
    const src = o.order[r] * c;
    const dst = r * c;
    let mx = -Infinity;
    for (let k = 0; k < c; k++) mx = Math.max(mx, z[src + k]);
    if (!Number.isFinite(mx)) throw new RangeError(`Inception Score: non-finite logits in row ${o.order[r]}`);
    let se = 0;
    for (let k = 0; k < c; k++) {
      const e = Math.exp(z[src + k] - mx);
      P[dst + k] = e;
      se += e;
    }
    const lse = Math.log(se);
    for (let k = 0; k < c; k++) {
      P[dst + k] /= se;
      LP[dst + k] = z[src + k] - mx - lse;
    }
  }
  return score(P, LP, n, c, o);
}

/** IS from class probabilities (N×C, rows summing to 1). */
export function inceptionScoreFromProbabilities(probs: FeatureMatrix, opts: InceptionScoreOptions = {}): InceptionScoreResult {
  const n = probs.rows;
  const c = probs.cols;
  const o = rowOrder(n, opts);
  const P = new Float64Array(n * c);
  const LP = new Float64Array(n * c);
  for (let r = 0; r < n; r++) {
    const src = o.order[r] * c;
    const dst = r * c;
    let s = 0;
    for (let k = 0; k < c; k++) {
      const p = probs.data[src + k];
      if (!(p >= 0 && p <= 1)) throw new RangeError(`Inception Score: probability ${p} outside [0, 1] in row ${o.order[r]}`);
      P[dst + k] = p;
      LP[dst + k] = p > 0 ? Math.log(p) : -Infinity;
      s += p;
    }
    if (Math.abs(s - 1) > 1e-6 * c) throw new RangeError(`Inception Score: row ${o.order[r]} sums to ${s}, not 1 (pass logits instead?)`);
  }
  return score(P, LP, n, c, o);
}
