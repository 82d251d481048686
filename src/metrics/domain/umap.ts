/**
 * UMAP embedding (umap-js) of real vs generated feature vectors, for a report to plot, plus one scalar that a table
 * can show: how separable the two sets are in the embedding.
 *
 * Protocol:
 * - Inputs are row-major Float32Array feature rows [n, dim] (Inception pool3 or U-Net bottleneck features).
 * - Subsampling: each side keeps at most floor(maxPoints / 2) rows, chosen uniformly without replacement by a
 *   seeded partial Fisher–Yates (independent Rng forks per side); kept rows stay in their original order and each
 *   point records its original row `index`.
 * - Standardisation: z-score per dimension over the union of the kept rows (a dimension with zero variance
 *   becomes 0), so no single large-scale feature dominates the Euclidean distances UMAP uses.
 * - UMAP: umap-js `fit` (synchronous), 2 components, Euclidean distance, `nNeighbors` (clipped to n − 1) and
 *   `minDist` as given, umap-js' default epoch schedule (500 epochs up to 2,500 points); its `random` is a seeded
 *   Rng fork, so the same inputs and seed give the same embedding. Coordinates are rounded to 4 decimals.
 * - Separability: leave-one-out k-NN (k = 5, or the largest odd k ≤ n − 1 when fewer points) classification of
 *   real vs generated on the rounded 2-D coordinates (Euclidean, ties in distance broken by point order, majority
 *   vote), reported as balanced accuracy = mean of the per-class recalls. 0.5 ≈ the two sets are indistinguishable
 *   in the embedding (also under unequal set sizes, which plain accuracy would not give), 1 = fully separated;
 *   values under 0.5 are noise around chance. It describes the 2-D picture, not a calibrated two-sample test.
 */
import { UMAP } from 'umap-js';
import { Rng } from '../../core/rng.js';

export interface EmbedRealVsGeneratedInput {
  /** Real feature rows, row-major [n_real, dim]. */
  readonly real: Float32Array | Float64Array;
  /** Generated feature rows, row-major [n_generated, dim]. */
  readonly generated: Float32Array | Float64Array;
  readonly dim: number;
  readonly seed: number;
  /** UMAP neighbourhood size (clipped to n − 1). @default 15 */
  readonly nNeighbors?: number;
  /** UMAP minimum distance. @default 0.1 */
  readonly minDist?: number;
  /** Points embedded in all; each side keeps at most floor(maxPoints / 2). @default 2000 */
  readonly maxPoints?: number;
}

export interface UmapPoint {
  readonly x: number;
  readonly y: number;
  readonly source: 'real' | 'generated';
  /** Row of the point in its input set. */
  readonly index: number;
}

export interface UmapEmbedding {
  /** Real points first, then generated ones. */
  readonly points: UmapPoint[];
  /** Leave-one-out k-NN balanced accuracy real vs generated in the embedding (0.5 indistinguishable, 1 separated). */
  readonly separability: number;
  readonly protocol: {
    /** Points embedded per side (after subsampling). */
    readonly n_real: number;
    readonly n_generated: number;
    /** Rows given per side (before subsampling). */
    readonly n_real_input: number;
    readonly n_generated_input: number;
    readonly dim: number;
    /** nNeighbors actually used (the requested one clipped to n − 1). */
    readonly nNeighbors: number;
    readonly minDist: number;
    readonly seed: number;
    readonly maxPoints: number;
    readonly subsampled: boolean;
    readonly standardise: 'z-score-per-dimension-over-union';
    readonly nComponents: 2;
    readonly coordinateDecimals: 4;
    readonly separability: { readonly method: 'knn-loo-balanced-accuracy'; readonly k: number; readonly space: 'umap-2d' };
    readonly implementation: 'umap-js@1.4.0';
  };
}

/** Up to `m` distinct indices of [0, n), uniformly by a partial Fisher–Yates, returned sorted. */
function chooseIndices(n: number, m: number, rng: Rng): number[] {
  if (m >= n) return Array.from({ length: n }, (_, i) => i);
  const idx = Array.from({ length: n }, (_, i) => i);
  for (let i = 0; i < m; i++) {
    const j = i + Math.floor(rng.next() * (n - i));
    const t = idx[i]!;
    idx[i] = idx[j]!;
    idx[j] = t;
  }
  return idx.slice(0, m).sort((a, b) => a - b);
}

const round4 = (v: number): number => {
  const r = Math.round(v * 1e4) / 1e4;
  return r === 0 ? 0 : r; // no -0 in JSON comparisons
};

/**
 * Leave-one-out k-NN balanced accuracy of 2-D points with binary labels (true = real). k is made odd (no vote
 * ties) and at most n − 1.
 */
export function knnLooBalancedAccuracy(xy: ArrayLike<number>, isReal: readonly boolean[], k = 5): { value: number; k: number } {
  const n = isReal.length;
  let kk = Math.min(k, n - 1);
  if (kk % 2 === 0) kk -= 1;
  if (kk < 1) return { value: NaN, k: 0 };
  const d = new Float64Array(n);
  let correctReal = 0;
  let correctGen = 0;
  let nReal = 0;
  for (let i = 0; i < n; i++) {
    const xi = xy[2 * i]!;
    const yi = xy[2 * i + 1]!;
    for (let j = 0; j < n; j++) {
      const dx = xy[2 * j]! - xi;
      const dy = xy[2 * j + 1]! - yi;
      d[j] = dx * dx + dy * dy;
    }
    // partial selection of the kk nearest others (j ≠ i), ties by index
    let votesReal = 0;
    const taken: number[] = [];
    for (let t = 0; t < kk; t++) {
      let best = -1;
      for (let j = 0; j < n; j++) {
        if (j === i || taken.includes(j)) continue;
        if (best < 0 || d[j]! < d[best]!) best = j;
      }
      taken.push(best);
      if (isReal[best]) votesReal++;
    }
    const predReal = votesReal * 2 > kk;
    if (isReal[i]) {
      nReal++;
      if (predReal) correctReal++;
    } else if (!predReal) {
      correctGen++;
    }
  }
  const nGen = n - nReal;
  if (nReal === 0 || nGen === 0) return { value: NaN, k: kk };
  return { value: 0.5 * (correctReal / nReal + correctGen / nGen), k: kk };
}

export function embedRealVsGenerated(input: EmbedRealVsGeneratedInput): UmapEmbedding {
  const { real, generated, dim, seed } = input;
  const nNeighborsRequested = input.nNeighbors ?? 15;
  const minDist = input.minDist ?? 0.1;
  const maxPoints = input.maxPoints ?? 2000;
  if (!(Number.isInteger(dim) && dim >= 1)) throw new RangeError(`embedRealVsGenerated: dim must be a positive integer, got ${dim}`);
  if (real.length % dim !== 0) throw new RangeError(`embedRealVsGenerated: real features (${real.length} values) are not rows of ${dim}`);
  if (generated.length % dim !== 0) throw new RangeError(`embedRealVsGenerated: generated features (${generated.length} values) are not rows of ${dim}`);
  if (!(Number.isInteger(maxPoints) && maxPoints >= 4)) throw new RangeError(`embedRealVsGenerated: maxPoints must be an integer ≥ 4, got ${maxPoints}`);
  if (!(Number.isInteger(nNeighborsRequested) && nNeighborsRequested >= 2)) throw new RangeError(`embedRealVsGenerated: nNeighbors must be an integer ≥ 2, got ${nNeighborsRequested}`);
  const nRealIn = real.length / dim;
  const nGenIn = generated.length / dim;
  if (nRealIn < 1 || nGenIn < 1) throw new RangeError(`embedRealVsGenerated: needs at least one real and one generated row (got ${nRealIn} and ${nGenIn})`);

  const rng = new Rng(seed);
  const perSide = Math.floor(maxPoints / 2);
  const realIdx = chooseIndices(nRealIn, perSide, rng.fork('real'));
  const genIdx = chooseIndices(nGenIn, perSide, rng.fork('generated'));
  const n = realIdx.length + genIdx.length;
  if (n < 3) throw new RangeError(`embedRealVsGenerated: needs at least 3 points in all, got ${n}`);

  // z-score per dimension over the union
  const mean = new Float64Array(dim);
  const sq = new Float64Array(dim);
  const rowOf = (p: number): Float32Array | Float64Array => (p < realIdx.length
    ? real.subarray(realIdx[p]! * dim, (realIdx[p]! + 1) * dim)
    : generated.subarray(genIdx[p - realIdx.length]! * dim, (genIdx[p - realIdx.length]! + 1) * dim));
  for (let p = 0; p < n; p++) {
    const r = rowOf(p);
    for (let c = 0; c < dim; c++) mean[c] += r[c]!;
  }
  for (let c = 0; c < dim; c++) mean[c] /= n;
  for (let p = 0; p < n; p++) {
    const r = rowOf(p);
    for (let c = 0; c < dim; c++) {
      const v = r[c]! - mean[c]!;
      sq[c] += v * v;
    }
  }
  const inv = new Float64Array(dim);
  for (let c = 0; c < dim; c++) {
    const sd = Math.sqrt(sq[c]! / n);
    inv[c] = sd > 1e-12 ? 1 / sd : 0;
  }
  const X: number[][] = new Array(n);
  for (let p = 0; p < n; p++) {
    const r = rowOf(p);
    const row = new Array<number>(dim);
    for (let c = 0; c < dim; c++) row[c] = (r[c]! - mean[c]!) * inv[c]!;
    X[p] = row;
  }

  const nNeighbors = Math.min(nNeighborsRequested, n - 1);
  const umapRng = rng.fork('umap');
  const umap = new UMAP({ nComponents: 2, nNeighbors, minDist, random: () => umapRng.next() });
  const emb = umap.fit(X);

  const xy = new Float64Array(2 * n);
  const isReal: boolean[] = new Array(n);
  const points: UmapPoint[] = new Array(n);
  for (let p = 0; p < n; p++) {
    const x = round4(emb[p]![0]!);
    const y = round4(emb[p]![1]!);
    xy[2 * p] = x;
    xy[2 * p + 1] = y;
    const fromReal = p < realIdx.length;
    isReal[p] = fromReal;
    points[p] = { x, y, source: fromReal ? 'real' : 'generated', index: fromReal ? realIdx[p]! : genIdx[p - realIdx.length]! };
  }
  const sep = knnLooBalancedAccuracy(xy, isReal, 5);

  return {
    points,
    separability: sep.value,
    protocol: {
      n_real: realIdx.length, n_generated: genIdx.length, n_real_input: nRealIn, n_generated_input: nGenIn,
      dim, nNeighbors, minDist, seed, maxPoints,
      subsampled: realIdx.length < nRealIn || genIdx.length < nGenIn,
      standardise: 'z-score-per-dimension-over-union', nComponents: 2, coordinateDecimals: 4,
      separability: { method: 'knn-loo-balanced-accuracy', k: sep.k, space: 'umap-2d' },
      implementation: 'umap-js@1.4.0',
    },
  };
}
