/**
 * Mask–image consistency: does the generated mask describe the generated image? A segmenter trained on real data
 * (the caller passes its `predictLabels`) labels each generated image; the score is the Dice between that
 * prediction and the generated mask, per class and mean.
 *
 * Conventions (those of segmentation/dice.ts): the generated mask plays the truth; per sample, a class absent
 * from the generated mask is skipped (NaN) for that sample; background is excluded from the mean unless
 * `includeBackground`. Reported both as the mean over samples (class first, NaN-skipping) and pooled (one Dice
 * from the pixel counts of all samples). A low score means either the pair is inconsistent or the real-data
 * segmenter does not transfer to generated images; compare with the same segmenter's Dice on real test data.
 */
import type { SliceArrays } from '../../data/prepared.js';
import { accumulateCounts, diceFromCounts, emptyCounts, evaluatedClasses, nanMean } from '../../segmentation/dice.js';

/** images [n, h, w, c] → label maps [n, h, w]. */
export type LabelPredictor = (images: Float32Array, n: number, h: number, w: number, c: number) => Promise<Uint8Array>;

/** Generated images with their generated masks. */
export type ConsistencyInput = SliceArrays;

export interface ConsistencyOptions {
  readonly includeBackground?: boolean;
  /** Images passed to the predictor per call. @default 256 */
  readonly batchSize?: number;
}

export interface ConsistencyResult {
  readonly classes: number[];
  /** Mean over samples of each evaluated class's Dice (samples without the class skipped); NaN if never present. */
  readonly perClass: number[];
  /** Mean over the classes with a score. */
  readonly mean: number;
  /** Dice from the counts pooled over all samples, per class, and their mean. */
  readonly pooledPerClass: number[];
  readonly pooledMean: number;
  /** Number of samples where each class was present in the generated mask. */
  readonly presentCount: number[];
  /** Per sample mean Dice over its present classes (NaN when it has none). */
  readonly perSample: Float64Array;
}

export async function maskImageConsistency(
  set: ConsistencyInput, numClasses: number, predict: LabelPredictor, opts: ConsistencyOptions = {},
): Promise<ConsistencyResult> {
  const { count: n, height: h, width: w, channels: c } = set;
  const plane = h * w;
  const diceOpts = { includeBackground: opts.includeBackground ?? false, emptyMask: 'skip' as const };
  const classes = evaluatedClasses(numClasses, diceOpts.includeBackground);
  const sums = new Float64Array(classes.length);
  const present = new Array<number>(classes.length).fill(0);
  const pooled = emptyCounts(numClasses);
  const perSample = new Float64Array(n);
  const batch = Math.max(1, opts.batchSize ?? 256);
  for (let s0 = 0; s0 < n; s0 += batch) {
    const m = Math.min(batch, n - s0);
    const pred = await predict(set.images.subarray(s0 * plane * c, (s0 + m) * plane * c), m, h, w, c);
    if (pred.length !== m * plane) throw new RangeError(`maskImageConsistency: predictor returned ${pred.length} labels for ${m}×${h}×${w}`);
    for (let i = 0; i < m; i++) {
      const truth = set.labels.subarray((s0 + i) * plane, (s0 + i + 1) * plane);
      const p = pred.subarray(i * plane, (i + 1) * plane);
      accumulateCounts(pooled, p, truth);
      const d = diceFromCounts(accumulateCounts(emptyCounts(numClasses), p, truth), diceOpts);
      for (let k = 0; k < classes.length; k++) {
        if (!Number.isNaN(d[k]!)) {
          sums[k] += d[k]!;
          present[k]! += 1;
        }
      }
      perSample[s0 + i] = nanMean(d);
    }
  }
  const perClass = classes.map((_, k) => (present[k]! ? sums[k]! / present[k]! : NaN));
  const pooledPerClass = diceFromCounts(pooled, diceOpts);
  return {
    classes, perClass, mean: nanMean(perClass), pooledPerClass, pooledMean: nanMean(pooledPerClass), presentCount: present, perSample,
  };
}
