/**
 * Memorisation: how close each generated sample is to its nearest training image.
 *
 * Distances are Euclidean (L2) over the flattened [-1, 1] image ([H, W, C], every channel), accumulated in
 * float64, exact (no ‖a‖² + ‖b‖² − 2a·b expansion, so an exact copy has distance 0). Optionally the same on feature
 * rows (e.g. U-Net encoder features). Memory is bounded: the search walks query blocks × reference rows and keeps
 * only the running nearest neighbour of each query (O(queries) extra memory, never a distance matrix), and a
 * partial-distance early exit skips a reference row as soon as its partial sum exceeds the query's current best
 * (the result is the same as the full search).
 *
 * The reference scale is the same statistic for real held-out (val/test) images against train: a generator that
 * does not memorise places its samples about as far from train as unseen real images are.
 *
 * Near-copy rule: a generated sample is a near-copy when its NN distance is ≤ the `nearCopyPercentile`-th
 * percentile (default 1, numpy's linear percentile) of the held-out real NN distances, i.e. closer to a training
 * image than all but 1 % of real unseen images are. `nearCopyThreshold` overrides it with an absolute distance.
 * With few held-out images the 1st percentile is about their minimum.
 */

export interface NearestNeighbourResult {
  /** Index of the nearest reference row per query row. */
  readonly index: Int32Array;
  /** Its L2 distance. */
  readonly distance: Float64Array;
}

export interface NearestNeighbourOptions {
  /** Query rows compared together against each reference row (cache blocking). @default 16 */
  readonly blockRows?: number;
}

/**
 * Nearest reference row (L2) of each query row; `query` is nq×dim, `reference` nr×dim, row-major. Ties go to the
 * lower reference index.
 */
export function nearestNeighbours(
  query: ArrayLike<number>, nq: number, reference: ArrayLike<number>, nr: number, dim: number,
  opts: NearestNeighbourOptions = {},
): NearestNeighbourResult {
  if (query.length < nq * dim) throw new RangeError(`nearestNeighbours: query holds ${query.length} values, not ${nq}×${dim}`);
  if (reference.length < nr * dim) throw new RangeError(`nearestNeighbours: reference holds ${reference.length} values, not ${nr}×${dim}`);
  if (nr < 1 && nq > 0) throw new RangeError('nearestNeighbours: the reference set is empty');
  const index = new Int32Array(nq).fill(-1);
  const best = new Float64Array(nq).fill(Infinity);
  const block = Math.max(1, opts.blockRows ?? 16);
  const CHECK = 256; // partial-distance check interval
  for (let q0 = 0; q0 < nq; q0 += block) {
    const q1 = Math.min(nq, q0 + block);
    for (let r = 0; r < nr; r++) {
      const ro = r * dim;
      let q = q0;
      // four query rows at a time: each reference value is loaded once for four accumulators
      for (; q + 4 <= q1; q += 4) {
        const o0 = q * dim, o1 = o0 + dim, o2 = o1 + dim, o3 = o2 + dim;
        const b0 = best[q]!, b1 = best[q + 1]!, b2 = best[q + 2]!, b3 = best[q + 3]!;
        let s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        let k = 0;
        while (k < dim) {
          const end = Math.min(dim, k + CHECK);
          for (; k < end; k++) {
            const v = reference[ro + k]!;
            const d0 = query[o0 + k]! - v;
            const d1 = query[o1 + k]! - v;
            const d2 = query[o2 + k]! - v;
            const d3 = query[o3 + k]! - v;
            s0 += d0 * d0;
            s1 += d1 * d1;
            s2 += d2 * d2;
            s3 += d3 * d3;
          }
          if (s0 > b0 && s1 > b1 && s2 > b2 && s3 > b3) break;
        }
        if (k < dim) continue; // all four pruned
        if (s0 < b0) { best[q] = s0; index[q] = r; }
        if (s1 < b1) { best[q + 1] = s1; index[q + 1] = r; }
        if (s2 < b2) { best[q + 2] = s2; index[q + 2] = r; }
        if (s3 < b3) { best[q + 3] = s3; index[q + 3] = r; }
      }
      for (; q < q1; q++) {
        const qo = q * dim;
        const bound = best[q]!;
        let s = 0;
        let k = 0;
        while (k < dim) {
          const end = Math.min(dim, k + CHECK);
          for (; k < end; k++) {
            const d = query[qo + k]! - reference[ro + k]!;
            s += d * d;
          }
          if (s > bound) break;
        }
        if (s < bound) {
          best[q] = s;
          index[q] = r;
        }
      }
    }
  }
  const distance = new Float64Array(nq);
  for (let q = 0; q < nq; q++) distance[q] = Math.sqrt(best[q]!);
  return { index, distance };
}

/** numpy's linear percentile (q in [0, 100]) of a copy of `values`; NaN when empty. */
export function percentileOf(values: ArrayLike<number>, q: number): number {
  const a = Float64Array.from(values).sort();
  const n = a.length;
  if (n === 0) return NaN;
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return a[lo]! + (a[hi]! - a[lo]!) * (rank - lo);
}

export interface DistanceSummary {
  readonly count: number;
  readonly mean: number;
  readonly median: number;
  readonly min: number;
  readonly p01: number;
  readonly p05: number;
}

export function summariseDistances(d: ArrayLike<number>): DistanceSummary {
  let s = 0;
  let min = Infinity;
  for (let i = 0; i < d.length; i++) {
    s += d[i]!;
    if (d[i]! < min) min = d[i]!;
  }
  return {
    count: d.length,
    mean: d.length ? s / d.length : NaN,
    median: percentileOf(d, 50),
    min: d.length ? min : NaN,
    p01: percentileOf(d, 1),
    p05: percentileOf(d, 5),
  };
}

export interface ClosestPair {
  /** Generated sample index. */
  readonly generated: number;
  /** Its nearest training image. */
  readonly train: number;
  readonly distance: number;
}

export interface MemorisationSpaceResult {
  /** Per generated sample: nearest train index and distance (not JSON-friendly; dropped by `toJson`). */
  readonly generatedNN: NearestNeighbourResult;
  readonly heldOutNN: NearestNeighbourResult;
  readonly generated: DistanceSummary;
  readonly heldOut: DistanceSummary;
  /** generated mean NN distance / held-out mean NN distance (< 1: samples sit closer to train than real unseen data). */
  readonly meanRatio: number;
  readonly medianRatio: number;
  /** The near-copy threshold used, and how it was set. */
  readonly threshold: number;
  readonly thresholdRule: string;
  /** Share of generated samples with NN distance ≤ threshold. */
  readonly nearCopyShare: number;
  readonly nearCopyCount: number;
  /** Share of held-out real images under the same threshold (≈ nearCopyPercentile / 100 by construction). */
  readonly heldOutNearCopyShare: number;
  /** The k generated samples closest to the training set, closest first. */
  readonly closest: readonly ClosestPair[];
}

export interface MemorisationOptions extends NearestNeighbourOptions {
  /** Percentile of the held-out NN distances below which a sample is a near-copy. @default 1 */
  readonly nearCopyPercentile?: number;
  /** Absolute threshold; overrides the percentile rule. */
  readonly nearCopyThreshold?: number;
  /** How many closest generated/train pairs to list. @default 16 */
  readonly closestK?: number;
}

/** Memorisation statistics in one space: rows of `dim` values (pixels or features). */
export function memorisationInSpace(
  generated: ArrayLike<number>, nGenerated: number,
  train: ArrayLike<number>, nTrain: number,
  heldOut: ArrayLike<number>, nHeldOut: number,
  dim: number, opts: MemorisationOptions = {},
): MemorisationSpaceResult {
  const generatedNN = nearestNeighbours(generated, nGenerated, train, nTrain, dim, opts);
  const heldOutNN = nearestNeighbours(heldOut, nHeldOut, train, nTrain, dim, opts);
  const g = summariseDistances(generatedNN.distance);
  const h = summariseDistances(heldOutNN.distance);
  const pct = opts.nearCopyPercentile ?? 1;
  let threshold: number;
  let thresholdRule: string;
  if (opts.nearCopyThreshold !== undefined) {
    threshold = opts.nearCopyThreshold;
    thresholdRule = `absolute L2 distance ${threshold}`;
  } else {
    threshold = percentileOf(heldOutNN.distance, pct);
    thresholdRule = `≤ percentile ${pct} (numpy linear) of the ${nHeldOut} held-out real NN distances to train`;
  }
  let nearCopyCount = 0;
  for (const d of generatedNN.distance) if (d <= threshold) nearCopyCount++;
  let heldNear = 0;
  for (const d of heldOutNN.distance) if (d <= threshold) heldNear++;
  const k = Math.min(opts.closestK ?? 16, nGenerated);
  const order = Array.from({ length: nGenerated }, (_, i) => i).sort(
    (a, b) => generatedNN.distance[a]! - generatedNN.distance[b]! || a - b,
  );
  const closest = order.slice(0, k).map((i) => ({ generated: i, train: generatedNN.index[i]!, distance: generatedNN.distance[i]! }));
  return {
    generatedNN, heldOutNN, generated: g, heldOut: h,
    meanRatio: g.mean / h.mean, medianRatio: g.median / h.median,
    threshold, thresholdRule,
    nearCopyShare: nGenerated ? nearCopyCount / nGenerated : NaN,
    nearCopyCount,
    heldOutNearCopyShare: nHeldOut ? heldNear / nHeldOut : NaN,
    closest,
  };
}

export interface ImageSet {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  readonly images: Float32Array;
}

export interface FeatureRows {
  readonly generated: Float32Array;
  readonly train: Float32Array;
  readonly heldOut: Float32Array;
  readonly dim: number;
}

export interface MemorisationResult {
  readonly pixel: MemorisationSpaceResult;
  readonly feature?: MemorisationSpaceResult;
}

/** Pixel-space memorisation (and feature-space when `features` is given) of generated vs train, held-out as scale. */
export function memorisation(
  generated: ImageSet, train: ImageSet, heldOut: ImageSet, features?: FeatureRows, opts: MemorisationOptions = {},
): MemorisationResult {
  for (const [name, s] of [['train', train], ['heldOut', heldOut]] as const) {
    if (s.height !== generated.height || s.width !== generated.width || s.channels !== generated.channels) {
      throw new RangeError(
        `memorisation: ${name} images are ${s.height}×${s.width}×${s.channels}, generated ${generated.height}×${generated.width}×${generated.channels}`,
      );
    }
  }
  const dim = generated.height * generated.width * generated.channels;
  const pixel = memorisationInSpace(generated.images, generated.count, train.images, train.count, heldOut.images, heldOut.count, dim, opts);
  if (!features) return { pixel };
  const fd = features.dim;
  const rows = (a: Float32Array, what: string): number => {
    if (a.length % fd !== 0) throw new RangeError(`memorisation: ${what} features (${a.length} values) are not rows of ${fd}`);
    return a.length / fd;
  };
  const feature = memorisationInSpace(
    features.generated, rows(features.generated, 'generated'),
    features.train, rows(features.train, 'train'),
    features.heldOut, rows(features.heldOut, 'heldOut'), fd, opts,
  );
  return { pixel, feature };
}

/** The JSON-able part of a space result (per-sample arrays dropped). */
export function memorisationSpaceJson(r: MemorisationSpaceResult): Omit<MemorisationSpaceResult, 'generatedNN' | 'heldOutNN'> {
  const { generatedNN: _g, heldOutNN: _h, ...rest } = r;
  return rest;
}
