/**
 * The study report's input: plain records, one per GAN training run plus the real-data baselines.
 * Report code reads data only: it never imports TF.js, the engine, training, models or GANs.
 */

export type HyperValue = string | number | boolean;

export interface Interval {
  readonly lo: number;
  readonly hi: number;
}

export interface UmapPoint {
  readonly x: number;
  readonly y: number;
  /** 'real' or 'generated'. */
  readonly source: string;
}

/** One GAN training run of the study (one hyperparameter set, one seed, one dataset). */
export interface TrialRecord {
  readonly dataset: string;
  readonly gan: string;
  readonly trialId: string;
  readonly configHash: string;
  readonly seed: number;
  /** Flat hyperparameters, e.g. { 'd.filters': 64, 'lr': 2e-4 }. */
  readonly hyperparameters: Readonly<Record<string, HyperValue>>;
  readonly status: 'done' | 'failed';
  readonly error?: string;
  readonly wallTimeSec: number;
  readonly imagesShown: number;
  /** Inception-v3 FID; null/absent when the Inception weights were not available. */
  readonly fid?: number | null;
  /** FID in the feature space of the U-Net trained on the real data. */
  readonly unetFid?: number | null;
  readonly kid?: number | null;
  /** 95 % bootstrap intervals of fid, unetFid and kid (real and generated samples resampled). */
  readonly fidCi?: Interval | null;
  readonly unetFidCi?: Interval | null;
  readonly kidCi?: Interval | null;
  /** Test Dice of a U-Net trained on this run's samples only (real test split). */
  readonly dice?: number | null;
  /** Test Dice of a U-Net trained on the real training data plus this run's samples. */
  readonly diceRealPlusSynthetic?: number | null;
  /** Per-patient test Dice values behind `dice` (bootstrap intervals, paired tests). */
  readonly diceSamples?: readonly number[];
  /** Per-patient test Dice values behind `diceRealPlusSynthetic`. */
  readonly diceRealPlusSyntheticSamples?: readonly number[];
  /** Share of samples that are near copies of a training image. */
  readonly memorisation?: number | null;
  /** Share of generated masks satisfying the dataset's anatomical rules ... */
  readonly plausibleShare?: number | null;
  /** ... and the same share for real held-out masks. */
  readonly plausibleShareReal?: number | null;
  readonly maskImageDice?: number | null;
  /** Mean pairwise MS-SSIM of generated and of real images (generated ≫ real: mode collapse). */
  readonly msssimGenerated?: number | null;
  readonly msssimReal?: number | null;
  /** Training wall time until the snapshot with the best FID (of those evaluated over training). */
  readonly timeToBestSec?: number | null;
  /** Leave-one-out k-NN separability of real vs generated in the U-Net-space UMAP (0.5: indistinguishable, 1: apart). */
  readonly umapSeparability?: number | null;
  /** Path of the run's sample grid (PNG). */
  readonly gridPng?: string;
  /** UMAP of real vs generated features in the real-data U-Net's encoder space ... */
  readonly umap?: { readonly points: readonly UmapPoint[] };
  /** ... and in Inception-v3 space (absent without the Inception weights). */
  readonly umapInception?: { readonly points: readonly UmapPoint[] };
}

/** A U-Net trained on real data only ('real') or on real data with classical augmentation ('augmented'). */
export interface BaselineRecord {
  readonly dataset: string;
  readonly regime: 'real' | 'augmented';
  readonly dice: number;
  readonly diceSamples?: readonly number[];
  /** FID between two disjoint halves of the real data: the floor any GAN's FID is measured against. */
  readonly realVsRealFid?: number | null;
  /** The same floor in the U-Net encoder space (the U-Net FID column). */
  readonly realVsRealUnetFid?: number | null;
}

export type SelectionMetric = 'fid' | 'unetFid' | 'kid' | 'dice';

/** Metric columns whose protocol is stated in a footnote. */
export type MetricKey = 'fid' | 'unetFid' | 'kid' | 'dice' | 'diceRealPlusSynthetic' | 'realVsRealFid';

export interface StudyRecords {
  readonly studyName: string;
  readonly createdAt: string;
  /** Metric picking each GAN's best trial; 'dice' is maximised, the others minimised. */
  readonly selectionMetric: SelectionMetric;
  readonly trials: readonly TrialRecord[];
  readonly baselines: readonly BaselineRecord[];
  /** Per dataset, a path to a PNG of real examples (first column of Fig. 5). */
  readonly realExamplePng?: Readonly<Record<string, string>>;
  /** One-line notes shown under the report's title (e.g. how to add the Inception weights). */
  readonly notes?: readonly string[];
  /** Overrides of the default protocol footnotes, per metric column. */
  readonly protocols?: Readonly<Partial<Record<MetricKey, string>>>;
}

export const DEFAULT_PROTOCOLS: Readonly<Record<MetricKey, string>> = {
  fid: 'Inception-v3 pool3 features (pytorch-fid weights), real training images vs generated samples (n real / n generated as configured by the study); 95 % interval: percentile bootstrap over real and generated samples, shifted by the bootstrap bias (how much the value varies at this sample size).',
  unetFid: 'Fréchet distance in the bottleneck features of the U-Net trained on the real data, real training slices vs generated samples; interval as for FID.',
  kid: 'Kernel Inception Distance (cubic polynomial kernel, unbiased MMD², subsets), same features as FID.',
  dice: 'Mean foreground Dice on the real test split, per patient, of a U-Net trained on the run\'s samples only; 95 % interval: percentile bootstrap over patients, 2000 draws, seeded.',
  diceRealPlusSynthetic: 'Mean foreground Dice on the real test split of a U-Net trained on the real training data plus the run\'s samples.',
  realVsRealFid: 'FID between two disjoint halves of the real data (same protocol as FID): the floor a GAN is measured against.',
};

export function lowerIsBetter(metric: SelectionMetric): boolean {
  return metric !== 'dice';
}
