/**
 * Trains the downstream U-Net on one training set (real, real + classic augmentation, synthetic, or real +
 * synthetic) and scores it on the REAL test split: the paper's usefulness test for generated data (section 3.4).
 *
 * Loop: seeded epoch shuffles of the training set, Adam on CE + soft Dice, a validation Dice (on the real val
 * split, per patient volume) every `evalEvery` steps, early stopping after `patience` evaluations without
 * improvement; the weights with the best validation Dice are kept and restored. The test split is read once, at the
 * end, with those weights. Every tensor op runs inside tf.tidy or is disposed explicitly.
 */
import path from 'node:path';
import { tf } from '../core/engine.js';
import { ConfigError, DataError } from '../core/errors.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import type { SliceSplit } from '../data/prepared.js';
import { classicAugment, CLASSIC_AUGMENT_DEFAULTS, MASK_ABSENT, MASK_PRESENT } from '../gan/augment.js';
import { createUNet, saveUNet, type UNet } from '../models/unet.js';
import { NORM_KINDS, type NormKind } from '../models/layers/index.js';
import { Adam } from '../core/adam.js';
import { DEFAULT_DICE_OPTIONS, evaluateSplit, type DiceOptions, type ScoreAggregate, type SplitScores } from './dice.js';
import { segmentationLoss, type SegmentationLossOptions } from './losses.js';
import type { SegmentationSet } from './regimes.js';

// ---------------------------------------------------------------------------------------------------------------
// Config

export interface SegTrainConfig {
  /** Passes over the training set, at most. */
  readonly epochs: number;
  /** Optimizer steps, at most (null: epochs decide). */
  readonly maxSteps: number | null;
  readonly batchSize: number;
  /** Adam step size. */
  readonly lr: number;
  /** Validation evaluations without improvement before stopping. */
  readonly patience: number;
  /** Steps between validation evaluations (null: once per epoch). */
  readonly evalEvery: number | null;
  /** Classic augmentation (flips, rotations, shifts; src/gan/augment.ts) of every training batch. */
  readonly augment: boolean;
  readonly seed: number;
  readonly loss: { readonly ceWeight: number; readonly diceWeight: number };
  readonly unet: { readonly depth: number; readonly filters: number; readonly norm: NormKind };
  /** How Dice is scored (validation and test). */
  readonly dice: DiceOptions;
  /** Images per forward pass when predicting val/test. */
  readonly evalBatchSize: number;
}

type DeepPartial<T> = { [K in keyof T]?: T[K] extends object ? DeepPartial<T[K]> : T[K] };
export type SegTrainConfigInput = DeepPartial<SegTrainConfig>;

/** Defaults sized for CPUs at 64 px (the paper's U-Net has F = 64 and trains on a GPU). */
export const SEG_TRAIN_DEFAULTS: SegTrainConfig = Object.freeze({
  epochs: 50,
  maxSteps: null,
  batchSize: 16,
  lr: 1e-3,
  patience: 5,
  evalEvery: null,
  augment: false,
  seed: 0,
  loss: Object.freeze({ ceWeight: 1, diceWeight: 1 }),
  unet: Object.freeze({ depth: 4, filters: 16, norm: 'batch' as NormKind }),
  dice: DEFAULT_DICE_OPTIONS,
  evalBatchSize: 32,
});

/** Fills defaults and checks ranges; ConfigError names the field. */
export function resolveSegTrainConfig(input: SegTrainConfigInput = {}): SegTrainConfig {
  const d = SEG_TRAIN_DEFAULTS;
  const c: SegTrainConfig = {
    epochs: input.epochs ?? d.epochs,
    maxSteps: input.maxSteps ?? d.maxSteps,
    batchSize: input.batchSize ?? d.batchSize,
    lr: input.lr ?? d.lr,
    patience: input.patience ?? d.patience,
    evalEvery: input.evalEvery ?? d.evalEvery,
    augment: input.augment ?? d.augment,
    seed: input.seed ?? d.seed,
    loss: { ceWeight: input.loss?.ceWeight ?? d.loss.ceWeight, diceWeight: input.loss?.diceWeight ?? d.loss.diceWeight },
    unet: { depth: input.unet?.depth ?? d.unet.depth, filters: input.unet?.filters ?? d.unet.filters, norm: input.unet?.norm ?? d.unet.norm },
    dice: { includeBackground: input.dice?.includeBackground ?? d.dice.includeBackground, emptyMask: input.dice?.emptyMask ?? d.dice.emptyMask },
    evalBatchSize: input.evalBatchSize ?? d.evalBatchSize,
  };
  const positiveInt = (name: string, v: number | null) => {
    if (v !== null && !(Number.isInteger(v) && v > 0)) throw new ConfigError(`segmentation.${name} must be a positive integer, got ${v}`);
  };
  positiveInt('epochs', c.epochs);
  positiveInt('maxSteps', c.maxSteps);
  positiveInt('batchSize', c.batchSize);
  positiveInt('patience', c.patience);
  positiveInt('evalEvery', c.evalEvery);
  positiveInt('evalBatchSize', c.evalBatchSize);
  positiveInt('unet.depth', c.unet.depth);
  positiveInt('unet.filters', c.unet.filters);
  if (!Number.isInteger(c.seed)) throw new ConfigError(`segmentation.seed must be an integer, got ${c.seed}`);
  if (!(c.lr > 0)) throw new ConfigError(`segmentation.lr must be > 0, got ${c.lr}`);
  if (!NORM_KINDS.includes(c.unet.norm)) throw new ConfigError(`segmentation.unet.norm must be one of ${NORM_KINDS.join(', ')}, got ${c.unet.norm}`);
  if (!(c.loss.ceWeight >= 0 && c.loss.diceWeight >= 0 && c.loss.ceWeight + c.loss.diceWeight > 0)) {
    throw new ConfigError(`segmentation.loss weights must be ≥ 0 and not both 0, got ce ${c.loss.ceWeight}, dice ${c.loss.diceWeight}`);
  }
  if (!['skip', 'one-if-both-empty'].includes(c.dice.emptyMask)) {
    throw new ConfigError(`segmentation.dice.emptyMask must be 'skip' or 'one-if-both-empty', got ${c.dice.emptyMask}`);
  }
  return Object.freeze(c);
}

// ---------------------------------------------------------------------------------------------------------------
// Batches

/**
 * Gathers slices `indices` of a set into a batch: images [B, H, W, C] and labels [B, H, W]. With `augmentRng`, each
 * slice gets one random classic warp applied identically to image and mask (masks warped nearest-neighbour on
 * their one-hot code, so they stay valid labels).
 */
export function gatherBatch(
  set: SegmentationSet, indices: readonly number[], numClasses: number, augmentRng?: Rng,
): { images: Float32Array; labels: Uint8Array } {
  const { height: H, width: W, channels: C } = set;
  const plane = H * W;
  const B = indices.length;
  const images = new Float32Array(B * plane * C);
  const labels = new Uint8Array(B * plane);
  indices.forEach((s, b) => {
    images.set(set.images.subarray(s * plane * C, (s + 1) * plane * C), b * plane * C);
    labels.set(set.labels.subarray(s * plane, (s + 1) * plane), b * plane);
  });
  if (!augmentRng) return { images, labels };
  const J = C + numClasses;
  const joint = new Float32Array(B * plane * J).fill(MASK_ABSENT); // [B, H, W, C + K]
  for (let p = 0; p < B * plane; p++) {
    for (let c = 0; c < C; c++) joint[p * J + c] = images[p * C + c]!;
    joint[p * J + C + labels[p]!] = MASK_PRESENT;
  }
  const warped = classicAugment(joint, [B, H, W, J], { imageChannels: C, numClasses }, augmentRng, CLASSIC_AUGMENT_DEFAULTS);
  for (let p = 0; p < B * plane; p++) {
    for (let c = 0; c < C; c++) images[p * C + c] = warped[p * J + c]!;
    let k = 0;
    for (let j = 1; j < numClasses; j++) if (warped[p * J + C + j]! > warped[p * J + C + k]!) k = j;
    labels[p] = k;
  }
  return { images, labels };
}

// ---------------------------------------------------------------------------------------------------------------
// One step, prediction, early stopping

export interface StepLosses {
  readonly total: number;
  readonly ce: number;
  readonly dice: number;
}

/**
 * One Adam step on a batch: images [B, H, W, C], labels [B, H, W]. Creates and disposes all its tensors (the
 * number of live tensors is the same before and after).
 */
export async function segmentationStep(
  net: UNet, opt: Adam, images: Float32Array, labels: Uint8Array, dims: readonly [b: number, h: number, w: number, c: number],
  numClasses: number, lossOpts: SegmentationLossOptions,
): Promise<StepLosses> {
  const [B, H, W, C] = dims;
  const x = tf.tensor4d(images, [B, H, W, C]);
  const y = tf.tidy(() => tf.cast(tf.oneHot(tf.tensor3d(Int32Array.from(labels), [B, H, W], 'int32'), numClasses), 'float32') as tf.Tensor4D);
  let parts: tf.Scalar[] = [];
  const { value, grads } = tf.variableGrads(() => {
    const loss = segmentationLoss(net.apply(x, { training: true }), y, lossOpts);
    parts = [tf.keep(loss.ce), tf.keep(loss.dice)];
    return loss.total;
  }, opt.variables);
  opt.applyGradients(grads);
  const [total, ce, dice] = await Promise.all([value, ...parts].map(async (t) => (await t.data())[0]!));
  tf.dispose([x, y, value, ...parts]);
  tf.dispose(grads);
  return { total: total!, ce: ce!, dice: dice! };
}

/** Label maps [N, H, W] predicted (argmax of the logits, eval mode) for images [N, H, W, C]. */
export async function predictLabels(
  net: UNet, images: Float32Array, dims: { readonly count: number; readonly height: number; readonly width: number; readonly channels: number },
  batchSize = 32,
): Promise<Uint8Array> {
  const { count, height: H, width: W, channels: C } = dims;
  const plane = H * W;
  const out = new Uint8Array(count * plane);
  for (let start = 0; start < count; start += batchSize) {
    const n = Math.min(batchSize, count - start);
    const labels = tf.tidy(() => {
      const x = tf.tensor4d(images.subarray(start * plane * C, (start + n) * plane * C), [n, H, W, C]);
      return tf.argMax(net.apply(x, { training: false }), -1);
    });
    out.set(await labels.data(), start * plane);
    labels.dispose();
  }
  return out;
}

/** Scores a network on a split (HD95 optional: it is the slow part). */
export async function scoreSplit(
  net: UNet, split: SliceSplit, numClasses: number, dice: DiceOptions, computeHd95: boolean, batchSize = 32,
): Promise<SplitScores> {
  const pred = await predictLabels(net, split.images, split, batchSize);
  return evaluateSplit(pred, split.labels, { count: split.count, height: split.height, width: split.width, numClasses }, split.info, { dice, computeHd95 });
}

/** The headline aggregate: per patient volume when slice info allows it, else per slice. */
export function mainAggregate(s: SplitScores): ScoreAggregate {
  return s.perVolume ?? s.perSlice;
}

/**
 * Keeps a copy of the variables with the best score seen and counts evaluations since it improved. NaN scores
 * (nothing to score) never improve on a number.
 */
export class EarlyStopping {
  best = -Infinity;
  bestStep = -1;
  sinceBest = 0;
  private snapshot: Map<string, tf.Tensor> | null = null;

  constructor(readonly patience: number, private readonly variables: ReadonlyMap<string, tf.Variable>) {}

  /** Records a score at `step`; snapshots the variables when it is the best so far. True when training should stop. */
  update(score: number, step: number): boolean {
    const s = Number.isNaN(score) ? -Infinity : score;
    if (s > this.best || this.snapshot === null) {
      this.best = s;
      this.bestStep = step;
      this.sinceBest = 0;
      this.disposeSnapshot();
      this.snapshot = new Map([...this.variables].map(([name, v]) => [name, tf.clone(v)]));
      return false;
    }
    this.sinceBest += 1;
    return this.sinceBest >= this.patience;
  }

  /** Writes the best snapshot back into the variables (no-op before the first update). */
  restore(): void {
    if (!this.snapshot) return;
    for (const [name, v] of this.variables) v.assign(this.snapshot.get(name)!);
  }

  dispose(): void {
    this.disposeSnapshot();
  }

  private disposeSnapshot(): void {
    if (this.snapshot) for (const t of this.snapshot.values()) t.dispose();
    this.snapshot = null;
  }
}

// ---------------------------------------------------------------------------------------------------------------
// The loop

export interface SegProgress {
  readonly step: number;
  readonly totalSteps: number;
  readonly epoch: number;
  readonly loss: number;
  readonly imagesPerSec: number;
  readonly etaSec: number;
  /** Set on steps that ran a validation. */
  readonly valDice?: number;
}

export interface HistoryEntry {
  readonly step: number;
  readonly epoch: number;
  /** Mean training loss since the previous evaluation. */
  readonly train_loss: number;
  readonly train_ce: number;
  readonly train_dice_loss: number;
  /** Validation Dice (per volume, mean over classes). */
  readonly val_dice: number;
}

export interface TrainSegmenterArgs {
  readonly train: SegmentationSet;
  /** The REAL validation split, for early stopping. */
  readonly val: SliceSplit;
  /** The REAL test split, scored once at the end. */
  readonly test: SliceSplit;
  readonly numClasses: number;
  readonly config?: SegTrainConfigInput;
  /** When given, the best weights are written to `outDir/model.safetensors`. */
  readonly outDir?: string;
  readonly onProgress?: (p: SegProgress) => void;
  /** No progress line on stderr. */
  readonly quiet?: boolean;
  /** Return the trained network (best weights) instead of disposing it; the caller disposes it. */
  readonly keepModel?: boolean;
}

export interface SegTrainResult {
  /** Test Dice, per patient volume, mean over the evaluated classes (the headline number). */
  readonly dice_mean: number;
  /** Test Dice per evaluated class (`classes`), per patient volume. */
  readonly dice_per_class: number[];
  readonly hd95_mean: number;
  readonly hd95_per_class: number[];
  /** Class indices the per-class arrays refer to. */
  readonly classes: number[];
  readonly aggregation: 'per-volume' | 'per-slice';
  readonly per_volume: ScoreAggregate | null;
  readonly per_slice: ScoreAggregate;
  readonly best_val_dice: number;
  readonly best_step: number;
  readonly best_epoch: number;
  readonly steps: number;
  readonly stopped: 'early-stopping' | 'max-steps' | 'epochs';
  readonly train_count: number;
  readonly val_count: number;
  readonly test_count: number;
  readonly batch_size: number;
  readonly wall_s: number;
  readonly ms_per_step: number;
  readonly history: HistoryEntry[];
  readonly config: SegTrainConfig;
  /** Only with `keepModel`. */
  readonly model?: UNet;
}

export async function trainSegmenter(args: TrainSegmenterArgs): Promise<SegTrainResult> {
  const t0 = performance.now();
  const cfg = resolveSegTrainConfig(args.config);
  const { train, val, test, numClasses: K } = args;
  checkSets(train, val, test, K);
  const { height: H, width: W, channels: C } = train;
  const B = Math.min(cfg.batchSize, train.count);
  const stepsPerEpoch = Math.max(1, Math.floor(train.count / B)); // the remainder of an epoch is dropped
  const totalSteps = Math.min(cfg.maxSteps ?? Infinity, cfg.epochs * stepsPerEpoch);
  const evalEvery = cfg.evalEvery ?? stepsPerEpoch;
  const lossOpts: SegmentationLossOptions = { ceWeight: cfg.loss.ceWeight, diceWeight: cfg.loss.diceWeight, dice: { includeBackground: cfg.dice.includeBackground } };

  const net = createUNet({ inChannels: C, numClasses: K, depth: cfg.unet.depth, filters: cfg.unet.filters, norm: cfg.unet.norm, seed: cfg.seed });
  // Built inside a tidy: Adam's constructor leaves the zerosLike tensors its moment variables are made from
  // undisposed (one per moment); the tidy frees them and keeps the variables.
  let opt!: Adam;
  tf.tidy(() => {
    opt = new Adam(net.params, { learningRate: cfg.lr });
  });
  const stopper = new EarlyStopping(cfg.patience, new Map([...net.params, ...net.buffers]));
  const rootRng = new Rng(cfg.seed);
  const orderRng = rootRng.fork('batches');
  const augmentRng = cfg.augment ? rootRng.fork('augment') : undefined;
  const bar = args.quiet ? undefined : new Progress({ label: 'segment', total: totalSteps * B, unit: 'img' });
  const history: HistoryEntry[] = [];
  let order: number[] = [];
  let step = 0;
  let stopped: SegTrainResult['stopped'] = totalSteps < cfg.epochs * stepsPerEpoch ? 'max-steps' : 'epochs';
  let sums = { total: 0, ce: 0, dice: 0, n: 0 };
  const trainStart = performance.now();
  let trainMs = 0;

  try {
    while (step < totalSteps) {
      const inEpoch = step % stepsPerEpoch;
      if (inEpoch === 0) order = orderRng.shuffled(Array.from({ length: train.count }, (_, i) => i));
      const batch = gatherBatch(train, order.slice(inEpoch * B, (inEpoch + 1) * B), K, augmentRng);
      const ts = performance.now();
      const losses = await segmentationStep(net, opt, batch.images, batch.labels, [B, H, W, C], K, lossOpts);
      trainMs += performance.now() - ts;
      if (!Number.isFinite(losses.total)) throw new Error(`segmentation loss is ${losses.total} at step ${step + 1}: lower segmentation.lr`);
      step += 1;
      sums = { total: sums.total + losses.total, ce: sums.ce + losses.ce, dice: sums.dice + losses.dice, n: sums.n + 1 };

      let valDice: number | undefined;
      let stop = false;
      if (step % evalEvery === 0 || step === totalSteps) {
        valDice = mainAggregate(await scoreSplit(net, val, K, cfg.dice, false, cfg.evalBatchSize)).dice_mean;
        history.push({
          step, epoch: step / stepsPerEpoch, train_loss: sums.total / sums.n, train_ce: sums.ce / sums.n, train_dice_loss: sums.dice / sums.n, val_dice: valDice,
        });
        sums = { total: 0, ce: 0, dice: 0, n: 0 };
        stop = stopper.update(valDice, step);
      }
      const elapsed = (performance.now() - trainStart) / 1000;
      const imagesPerSec = (step * B) / Math.max(elapsed, 1e-9);
      bar?.tick(B, `loss ${losses.total.toFixed(3)}${valDice !== undefined ? ` val dice ${valDice.toFixed(3)}` : ''}`);
      args.onProgress?.({
        step, totalSteps, epoch: step / stepsPerEpoch, loss: losses.total, imagesPerSec, etaSec: ((totalSteps - step) * B) / imagesPerSec, ...(valDice !== undefined ? { valDice } : {}),
      });
      if (stop) {
        stopped = 'early-stopping';
        break;
      }
    }
    bar?.finish(stopped === 'early-stopping' ? `early stop, best val dice ${stopper.best.toFixed(3)} at step ${stopper.bestStep}` : '');
    stopper.restore();
    if (args.outDir) saveUNet(path.join(args.outDir, 'model.safetensors'), net, { best_step: String(stopper.bestStep), seed: String(cfg.seed) });

    // The one and only look at the test split.
    const scores = await scoreSplit(net, test, K, cfg.dice, true, cfg.evalBatchSize);
    const main = mainAggregate(scores);
    return {
      dice_mean: main.dice_mean,
      dice_per_class: main.dice_per_class,
      hd95_mean: main.hd95_mean,
      hd95_per_class: main.hd95_per_class,
      classes: scores.classes,
      aggregation: scores.perVolume ? 'per-volume' : 'per-slice',
      per_volume: scores.perVolume ?? null,
      per_slice: scores.perSlice,
      best_val_dice: stopper.best,
      best_step: stopper.bestStep,
      best_epoch: stopper.bestStep / stepsPerEpoch,
      steps: step,
      stopped,
      train_count: train.count,
      val_count: val.count,
      test_count: test.count,
      batch_size: B,
      wall_s: (performance.now() - t0) / 1000,
      ms_per_step: trainMs / Math.max(step, 1),
      history,
      config: cfg,
      ...(args.keepModel ? { model: net } : {}),
    };
  } finally {
    stopper.dispose();
    opt.dispose();
    if (!args.keepModel) net.dispose();
  }
}

function checkSets(train: SegmentationSet, val: SliceSplit, test: SliceSplit, K: number): void {
  if (train.count === 0) throw new DataError('training set', 'has no images to train on');
  for (const s of [val, test]) {
    if (s.count === 0) throw new DataError(`${s.name} split`, 'is empty: the U-Net needs real validation and test slices', 'prepare the dataset with more patients');
    if (s.height !== train.height || s.width !== train.width || s.channels !== train.channels) {
      throw new DataError(`${s.name} split`, `slices are ${s.height}×${s.width}×${s.channels}, the training images ${train.height}×${train.width}×${train.channels}`);
    }
  }
  if (!(Number.isInteger(K) && K >= 2)) throw new ConfigError(`numClasses must be an integer ≥ 2, got ${K}`);
}
