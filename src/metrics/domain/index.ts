/**
 * Domain metrics of generated image+mask pairs that need no ImageNet weights: memorisation (nearest training
 * image), mask–image consistency (a real-data segmenter's agreement with the generated mask), anatomical
 * plausibility (topology rules per dataset, with the real-data reference rate) and diversity (pairwise MS-SSIM,
 * mode-collapse alarm). `domainMetrics` returns one JSON-able object (NaN serialises as null).
 */
import type { SliceArrays } from '../../data/prepared.js';
import { maskImageConsistency, type LabelPredictor } from './consistency.js';
import { diversity, msssimScales } from './diversity.js';
import { memorisation, memorisationSpaceJson } from './memorisation.js';
import { plausibility, RULES, datasetRulesId, type Connectivity } from './plausibility.js';

export * from './consistency.js';
export * from './diversity.js';
export * from './memorisation.js';
export * from './plausibility.js';
export * from './umap.js';

export interface DomainMetricsOptions {
  /** Seed of the MS-SSIM pair draws. @default 0 */
  readonly seed?: number;
  /** Random pairs per set for MS-SSIM. @default 500 */
  readonly pairs?: number;
  /** Near-copy threshold: percentile of the held-out NN distances. @default 1 */
  readonly nearCopyPercentile?: number;
  /** Absolute near-copy threshold (pixel space), overriding the percentile. */
  readonly nearCopyThreshold?: number;
  /** Closest generated/train pairs listed. @default 16 */
  readonly closestK?: number;
  /** Component connectivity. @default 8 */
  readonly connectivity?: Connectivity;
  /** Mode-collapse alarm margin on MS-SSIM. @default 0.1 */
  readonly alarmMargin?: number;
  /** Images per predictor call. @default 256 */
  readonly batchSize?: number;
}

export interface DomainMetricsInput {
  readonly generated: SliceArrays;
  readonly trainReal: SliceArrays;
  readonly heldOutReal: SliceArrays;
  readonly dataset: string;
  readonly numClasses: number;
  /** A real-data segmenter (e.g. `(x, n, h, w, c) => predictLabels(unet, x, { count: n, height: h, width: w, channels: c })`). */
  readonly predict?: LabelPredictor;
  /** Feature rows (e.g. UNet.encode) for feature-space memorisation. */
  readonly features?: { readonly generated: Float32Array; readonly train: Float32Array; readonly heldOut: Float32Array; readonly dim: number };
  readonly options?: DomainMetricsOptions;
}

export async function domainMetrics(input: DomainMetricsInput) {
  const { generated, trainReal, heldOutReal, dataset, numClasses } = input;
  const o = input.options ?? {};
  const seed = o.seed ?? 0;
  const pairs = o.pairs ?? 500;
  const connectivity = o.connectivity ?? 8;
  const t0 = performance.now();

  const mem = memorisation(generated, trainReal, heldOutReal, input.features, {
    nearCopyPercentile: o.nearCopyPercentile, nearCopyThreshold: o.nearCopyThreshold, closestK: o.closestK,
  });
  const t1 = performance.now();

  let consistency = null;
  if (input.predict) {
    const c = await maskImageConsistency(generated, numClasses, input.predict, { batchSize: o.batchSize });
    consistency = { ...c, perSample: Array.from(c.perSample) };
  }
  const t2 = performance.now();

  const plaus = (s: SliceArrays) => plausibility(s.labels, s.count, s.height, s.width, numClasses, dataset, { connectivity });
  const plausibilitySection = {
    generated: plaus(generated),
    heldOutReal: plaus(heldOutReal),
    trainReal: plaus(trainReal),
  };
  const t3 = performance.now();

  // MS-SSIM needs at least one 11-px scale; smaller images get no diversity section
  const div = msssimScales(generated.height, generated.width) > 0
    ? diversity(generated, trainReal, { pairs, seed, alarmMargin: o.alarmMargin })
    : null;
  const t4 = performance.now();

  return {
    protocol: {
      dataset,
      rulesDataset: datasetRulesId(dataset),
      numClasses,
      imageShape: [generated.height, generated.width, generated.channels],
      counts: { generated: generated.count, trainReal: trainReal.count, heldOutReal: heldOutReal.count },
      memorisation: {
        distance: 'L2 over the flattened [-1,1] image (all channels), float64, exact nearest neighbour in train',
        nearCopyThreshold: mem.pixel.threshold,
        nearCopyRule: mem.pixel.thresholdRule,
        features: input.features ? { dim: input.features.dim, threshold: mem.feature?.threshold } : null,
      },
      consistency: input.predict
        ? 'Dice(generated mask as truth, real-data segmenter prediction), background excluded, empty classes skipped per sample'
        : null,
      plausibility: { connectivity, adjacency: 4, rules: RULES[datasetRulesId(dataset)] },
      diversity: div && {
        msssimScales: div.scales, msssimWeights: div.weights, window: 11, sigma: 1.5, k1: 0.01, k2: 0.03, dataRange: 2,
        pairs, seed, realReference: 'trainReal', alarmRule: div.alarmRule,
      },
      seconds: {
        memorisation: (t1 - t0) / 1000, consistency: (t2 - t1) / 1000, plausibility: (t3 - t2) / 1000, diversity: (t4 - t3) / 1000,
      },
    },
    memorisation: {
      pixel: memorisationSpaceJson(mem.pixel),
      feature: mem.feature ? memorisationSpaceJson(mem.feature) : null,
    },
    consistency,
    plausibility: plausibilitySection,
    diversity: div,
  };
}

export type DomainMetricsReport = Awaited<ReturnType<typeof domainMetrics>>;
