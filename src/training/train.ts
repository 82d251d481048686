/**
 * The GAN training loop, in the shape of StyleGAN2-ADA's training_loop.py: set up, then one loop over images shown in
 * which each iteration runs `criticSteps` discriminator updates and one generator update, then updates the EMA
 * generator. The loop knows no GAN variant: losses, regularisers and clipping live behind `objective`.
 *
 * A run folder holds everything needed to interpret and continue it:
 *   run.json                        resolved config, dataset identity, engine, seed, config hash, checkpoint layout
 *   log.txt                         human log
 *   stats.jsonl                     one JSON line per logged step (stats.ts)
 *   checkpoint-latest.safetensors   everything needed to resume bit-exactly (checkpoint.ts)
 *   network-snapshot-<kimg>.safetensors, grid-<kimg>.png   periodic snapshots and sample grids
 *   grid-final.png                  grid of the final EMA generator (G itself when EMA is off)
 *   failure.json                    why training stopped, when it diverged
 *
 * Reproducibility: every random draw comes from Rngs forked from `seed` by purpose (network init, real-batch order,
 * classic augmentation, latents, and the objective's DiffAugment / gradient-penalty draws); their states are
 * checkpointed, so a resumed run is bit-identical to an uninterrupted one on the same backend.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf, engineInfo } from '../core/engine.js';
import { ConfigError, DataError, MedsynError } from '../core/errors.js';
import { configHash, sha256 } from '../core/hash.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { Progress } from '../core/progress.js';
import { Rng, type RngState } from '../core/rng.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { PreparedDataset, SliceSplit } from '../data/prepared.js';
import type { Discriminator, Generator } from '../models/network.js';
import { buildDiscriminator, buildGenerator, decodeSamples, type SampleShape } from '../models/dcgan.js';
import { parseGanConfig, type ResolvedGanConfig } from '../gan/config.js';
import { buildObjective, type GanObjective, type LossBreakdown } from '../gan/objective.js';
import { classicAugment, type ChannelLayout } from '../gan/augment.js';
import { BatchStream, latentsForSeeds, normalLatents } from './batches.js';
import { Adam, type AdamOptions } from '../core/adam.js';
import { ParameterEma, emaBeta } from './ema.js';
import {
  CHECKPOINT_FORMAT, LATEST_CHECKPOINT, SNAPSHOT_GROUPS, networkVariables, optimizerVariables, readCheckpoint, restoreVariables,
  saveCheckpoint, snapshotFileName, kimgLabel, type CheckpointState, type VariableGroups,
} from './checkpoint.js';
import { StatsWriter, truncateStatsAfter } from './stats.js';
import { GRID_SEED_BASE, writeGrid, type GridSamples } from './grid.js';

export const RUN_FORMAT = 'medsyn-run/1';
export const RUN_FILE = 'run.json';
export const FAILURE_FILE = 'failure.json';
/** A loss whose magnitude exceeds this is treated as divergence, like NaN/Inf. */
export const MAX_ABS_LOSS = 1e6;
/** Samples in each grid-<kimg>.png. */
export const GRID_SAMPLES = 16;
/** Adam's ε (PyTorch's default; not a Table 1 knob). */
export const ADAM_EPSILON = 1e-8;
/** Defaults of the run's maintenance intervals (TrainGanOptions). */
export const DEFAULT_CHECKPOINT_KIMG = 10;
export const DEFAULT_SNAPSHOT_KIMG = 50;
export const DEFAULT_STATS_EVERY_STEPS = 10;

/** The shape of the data a run trains on; recorded in run.json so sampling can rebuild the networks. */
export interface DataShape {
  readonly height: number;
  readonly width: number;
  /** Image channels Ci (1 grey, 3 RGB). */
  readonly imageChannels: number;
  /** Mask classes K, background included. Samples have Ci + K channels. */
  readonly numClasses: number;
}

/** [H, W, Ci + K]: the joint image+mask sample shape the networks are built for. */
export function sampleShapeOf(shape: DataShape): SampleShape {
  return [shape.height, shape.width, shape.imageChannels + shape.numClasses];
}

/** The loop's knobs, read from the resolved GAN config in one place. */
export interface LoopSettings {
  readonly batchSize: number;
  readonly generator: AdamOptions;
  readonly discriminator: AdamOptions;
  /** null: no EMA generator (grids and sampling use G itself). */
  readonly emaHalfLifeKimg: number | null;
  readonly classicAugment: boolean;
}

export function loopSettings(gan: ResolvedGanConfig): LoopSettings {
  const [beta1, beta2] = gan.betas;
  return {
    batchSize: gan.batchSize,
    generator: { learningRate: gan.lr.g, beta1, beta2, epsilon: ADAM_EPSILON },
    discriminator: { learningRate: gan.lr.d, beta1, beta2, epsilon: ADAM_EPSILON },
    emaHalfLifeKimg: gan.emaHalfLifeKimg,
    classicAugment: gan.classicAugment,
  };
}

/** Thrown when a loss term is NaN, ±Inf or larger than MAX_ABS_LOSS in magnitude. */
export class TrainingDivergedError extends MedsynError {
  override readonly name = 'TrainingDivergedError';
  constructor(readonly step: number, readonly term: string, readonly value: number, readonly phase: string, detail = '') {
    super(`training diverged at step ${step} (${phase}): loss term ${term} is ${value}${detail}`);
  }
}

/** Loss terms and scores as numbers (`loss/d/total`, `loss/d/adversarial`, `score/d/real`, …). Reads synchronously. */
function readLoss(phase: 'd' | 'g', loss: LossBreakdown): Record<string, number> {
  const out: Record<string, number> = { [`loss/${phase}/total`]: loss.total.dataSync()[0]! };
  for (const [name, t] of Object.entries(loss.terms)) out[`loss/${phase}/${name}`] = t.dataSync()[0]!;
  for (const [name, t] of Object.entries(loss.scores)) out[`score/${phase}/${name}`] = t.dataSync()[0]!;
  return out;
}

/**
 * Throws TrainingDivergedError for a loss that is not finite or too large, naming the most specific term (a term
 * before the total it feeds). Scores are diagnostics and not checked.
 */
function checkFinite(values: Readonly<Record<string, number>>, step: number, phase: string): void {
  const losses = Object.entries(values).filter(([k]) => k.startsWith('loss/'));
  const ordered = [...losses.filter(([k]) => !k.endsWith('/total')), ...losses.filter(([k]) => k.endsWith('/total'))];
  for (const [term, value] of ordered) {
    if (!Number.isFinite(value) || Math.abs(value) > MAX_ABS_LOSS) throw new TrainingDivergedError(step, term, value, phase);
  }
}

/** Names of the run's random streams, as stored in checkpoints (`rng` metadata). */
const RNG_STREAMS = ['latents', 'augment', 'objective'] as const;

/**
 * Networks, optimizers, objective and random streams of one run: everything a checkpoint captures. Every random
 * draw comes from an Rng forked from the run seed by purpose, so (say) changing the batch order leaves the initial
 * weights untouched.
 */
export class Trainer {
  readonly generator: Generator;
  readonly discriminator: Discriminator;
  /** The moving average of `generator` (what grids, snapshots and sampling use), or null without EMA. */
  readonly generatorEma: Generator | null;
  readonly ema: ParameterEma | null;
  readonly generatorOptimizer: Adam;
  readonly discriminatorOptimizer: Adam;
  readonly settings: LoopSettings;
  readonly layout: ChannelLayout;
  objective: GanObjective;
  batches: BatchStream;
  /** Training latents. */
  latentRng: Rng;
  /** Classic augmentation of real batches. */
  augmentRng: Rng;
  /** What the objective draws from (DiffAugment, gradient-penalty interpolation); the objective advances it. */
  objectiveRng: Rng;
  /** Generator steps completed. */
  step = 0;
  /** Generator steps × batch size. */
  imagesShown = 0;

  constructor(readonly gan: ResolvedGanConfig, readonly split: SliceSplit, readonly shape: DataShape, readonly seed: number) {
    this.settings = loopSettings(gan);
    this.layout = { imageChannels: shape.imageChannels, numClasses: shape.numClasses };
    if (split.channels !== shape.imageChannels) throw new DataError(`${split.name} split`, `has ${split.channels} image channels, the run expects ${shape.imageChannels}`);
    const root = new Rng(seed);
    const sampleShape = sampleShapeOf(shape);
    this.generator = buildGenerator(gan, sampleShape, root.fork('generator'));
    this.discriminator = buildDiscriminator(gan, sampleShape, root.fork('discriminator'));
    if (this.settings.emaHalfLifeKimg === null) {
      this.generatorEma = null;
      this.ema = null;
    } else {
      this.generatorEma = buildGenerator(gan, sampleShape, root.fork('generator-ema')); // values replaced by G's
      this.ema = new ParameterEma(this.generator, this.generatorEma);
    }
    this.generatorOptimizer = new Adam(this.generator.params, this.settings.generator);
    this.discriminatorOptimizer = new Adam(this.discriminator.params, this.settings.discriminator);
    this.batches = BatchStream.create(split, shape.numClasses, this.settings.batchSize, root.fork('batches').nextUint32());
    this.latentRng = root.fork('latents');
    this.augmentRng = root.fork('augment');
    this.objectiveRng = root.fork('objective');
    this.objective = this.buildObjective();
  }

  private buildObjective(): GanObjective {
    return buildObjective(this.gan, { generator: this.generator, discriminator: this.discriminator, layout: this.layout }, undefined, this.objectiveRng);
  }

  /** The generator to show and sample: the EMA one when there is one. */
  get sampledGenerator(): Generator {
    return this.generatorEma ?? this.generator;
  }

  /** latents [N, Z] for one update, drawn from `latentRng`. Caller owns the tensor. */
  nextLatents(): tf.Tensor2D {
    const n = this.settings.batchSize;
    const z = this.generator.latentDim;
    return tf.tensor2d(normalLatents(this.latentRng, n, z), [n, z]);
  }

  /** The next real batch [N, H, W, Ci + K], classically augmented when the config says so. Caller owns the tensor. */
  nextRealBatch(): tf.Tensor4D {
    let samples = this.batches.nextArray();
    const shape = this.batches.batchShape;
    if (this.settings.classicAugment) samples = classicAugment(samples, shape, this.layout, this.augmentRng);
    return tf.tensor4d(samples, shape);
  }

  /**
   * One training iteration: `criticSteps` discriminator updates (each on a fresh real batch), one generator update
   * (with the last real batch, for feature matching), one EMA update. Returns loss terms and scores, the
   * discriminator's averaged over its updates. Throws TrainingDivergedError, before applying the offending update,
   * when a loss is not finite; the step and images-shown counters then stay at the last completed step.
   */
  trainStep(): Record<string, number> {
    const stepNumber = this.step + 1;
    const values = tf.tidy(() => {
      const sums: Record<string, number> = {};
      const criticSteps = this.objective.criticSteps;
      let real: tf.Tensor4D | undefined;
      for (let i = 0; i < criticSteps; i++) {
        real = this.nextRealBatch(); // [N, H, W, Ci + K]
        const d = discriminatorStep(this, real, this.nextLatents(), `discriminator update ${i + 1} of ${criticSteps}`, stepNumber);
        for (const [k, v] of Object.entries(d)) sums[k] = (sums[k] ?? 0) + v / criticSteps;
      }
      const g = generatorStep(this, real!, this.nextLatents(), stepNumber);
      return { ...sums, ...g };
    });
    this.step = stepNumber;
    this.imagesShown += this.settings.batchSize;
    if (this.ema) this.ema.update(emaBeta(this.settings.batchSize, this.settings.emaHalfLifeKimg!));
    return values;
  }

  /** Every variable a checkpoint stores, by group. */
  variableGroups(): VariableGroups {
    return {
      G: networkVariables(this.generator),
      D: networkVariables(this.discriminator),
      ...(this.generatorEma ? { G_ema: networkVariables(this.generatorEma) } : {}),
      optG: optimizerVariables(this.generatorOptimizer),
      optD: optimizerVariables(this.discriminatorOptimizer),
    };
  }

  /** The loop state a checkpoint stores besides the variables. */
  loopState(runHash: string, wallTimeSec: number): CheckpointState {
    return {
      step: this.step,
      imagesShown: this.imagesShown,
      rng: { latents: this.latentRng.state, augment: this.augmentRng.state, objective: this.objectiveRng.state },
      batches: this.batches.position,
      configHash: runHash,
      optimizerSteps: { optG: this.generatorOptimizer.step, optD: this.discriminatorOptimizer.step },
      wallTimeSec,
    };
  }

  /** Restores variables and loop state from a checkpoint file of this run (its config hash must be `runHash`). */
  restore(file: string, runHash: string): CheckpointState {
    const ckpt = readCheckpoint(file);
    if (ckpt.state.configHash !== runHash) {
      throw new DataError(file, `checkpoint belongs to config ${ckpt.state.configHash}, this run is ${runHash}`, 'resume with the same data, --gan, --seed and --set options, or use a new --out folder');
    }
    for (const name of RNG_STREAMS) {
      if (!Array.isArray(ckpt.state.rng[name])) throw new DataError(file, `checkpoint metadata has no "${name}" random stream`);
    }
    restoreVariables(ckpt, this.variableGroups());
    const s = ckpt.state;
    this.step = s.step;
    this.imagesShown = s.imagesShown;
    this.latentRng = new Rng(s.rng.latents as RngState);
    this.augmentRng = new Rng(s.rng.augment as RngState);
    this.objectiveRng = new Rng(s.rng.objective as RngState);
    this.objective.dispose();
    this.objective = this.buildObjective(); // the objective holds its Rng: rebuild it on the restored one
    this.batches = BatchStream.restore(this.split, this.shape.numClasses, this.settings.batchSize, s.batches);
    this.generatorOptimizer.step = s.optimizerSteps.optG ?? 0;
    this.discriminatorOptimizer.step = s.optimizerSteps.optD ?? 0;
    return s;
  }

  dispose(): void {
    this.objective.dispose();
    this.generatorOptimizer.dispose();
    this.discriminatorOptimizer.dispose();
    this.generator.dispose();
    this.discriminator.dispose();
    this.generatorEma?.dispose();
  }
}

/**
 * One discriminator update: gradients of the objective's discriminator loss with respect to D's parameters only
 * (tf.variableGrads would otherwise differentiate every trainable variable, G's included), a finiteness check,
 * Adam, then the objective's post-update hook (WGAN weight clipping). Returns loss terms and scores as numbers.
 */
export function discriminatorStep(trainer: Trainer, real: tf.Tensor4D, latents: tf.Tensor2D, phase = 'discriminator update', step = trainer.step + 1): Record<string, number> {
  return tf.tidy(() => {
    let values: Record<string, number> = {};
    const { grads } = tf.variableGrads(() => {
      const loss = trainer.objective.discriminatorLoss({ real, latents });
      values = readLoss('d', loss); // read here: variableGrads disposes everything but `total` on return
      return loss.total;
    }, trainer.discriminatorOptimizer.variables);
    checkFinite(values, step, phase);
    trainer.discriminatorOptimizer.applyGradients(grads);
    trainer.objective.afterDiscriminatorUpdate();
    return values;
  });
}

/** One generator update, with gradients for G's parameters only; otherwise as discriminatorStep. */
export function generatorStep(trainer: Trainer, real: tf.Tensor4D, latents: tf.Tensor2D, step = trainer.step + 1): Record<string, number> {
  return tf.tidy(() => {
    let values: Record<string, number> = {};
    const { grads } = tf.variableGrads(() => {
      const loss = trainer.objective.generatorLoss({ real, latents });
      values = readLoss('g', loss);
      return loss.total;
    }, trainer.generatorOptimizer.variables);
    checkFinite(values, step, 'generator update');
    trainer.generatorOptimizer.applyGradients(grads);
    return values;
  });
}

// ---------------------------------------------------------------------------------------------------------------
// The run

export interface TrainGanOptions {
  readonly data: PreparedDataset;
  readonly gan: ResolvedGanConfig;
  /** Training length in thousands of images shown (generator steps × batch size). */
  readonly kimg: number;
  /** The run folder (created if missing). */
  readonly outDir: string;
  /** Seeds network init, batch order, augmentation and latents. */
  readonly seed: number;
  /** Continue from outDir/checkpoint-latest.safetensors (starts fresh when there is none). */
  readonly resume?: boolean;
  /** Write checkpoint-latest and a grid every this many kimg (and at the end). @default 10 */
  readonly checkpointKimg?: number;
  /** Keep a network snapshot (G, D, G_ema) every this many kimg (and at the end). @default 50 */
  readonly snapshotKimg?: number;
  /** Append a stats.jsonl line (losses averaged since the previous line) every this many steps. @default 10 */
  readonly statsEverySteps?: number;
  /** Receives human log lines (they also go to outDir/log.txt). */
  readonly log?: (line: string) => void;
  /** Called after every generator step. */
  readonly onProgress?: (p: TrainingProgress) => void;
  /** Recorded in run.json. @default process.argv */
  readonly commandLine?: readonly string[];
  /** Hide the progress bar (tests, sweeps). */
  readonly quiet?: boolean;
}

export interface TrainingProgress {
  readonly step: number;
  readonly imagesShown: number;
  readonly totalImages: number;
  /** Loss terms and scores of this step. */
  readonly losses: Readonly<Record<string, number>>;
}

export interface TrainingSummary {
  readonly runDir: string;
  readonly configHash: string;
  readonly steps: number;
  readonly imagesShown: number;
  readonly kimg: number;
  /** Training seconds in this session. */
  readonly sessionSec: number;
  /** Training seconds summed over all sessions. */
  readonly wallTimeSec: number;
  /** Loss terms and scores of the last step (empty when no step ran in this session). */
  readonly finalLosses: Readonly<Record<string, number>>;
  readonly checkpoint: string;
  readonly grid: string;
  /** The step this session resumed from, if it resumed. */
  readonly resumedFromStep?: number;
}

/** What a run's identity hashes: everything that must match for a checkpoint to be resumable (not kimg). */
export function runIdentity(gan: ResolvedGanConfig, data: PreparedDataset, seed: number): Record<string, unknown> {
  return { gan, seed, dataset: data.manifest.configHash, split: 'train' };
}

export function dataShapeOf(data: PreparedDataset): DataShape {
  const [height, width, imageChannels] = data.manifest.imageShape;
  return { height, width, imageChannels, numClasses: data.numClasses };
}

function positive(name: string, value: number): number {
  if (!(Number.isFinite(value) && value > 0)) throw new ConfigError(`${name} must be a positive number, got ${value}`);
  return value;
}

/** Running means of the step values since the last stats line. */
class Averages {
  private sums: Record<string, number> = {};
  private counts: Record<string, number> = {};
  add(values: Readonly<Record<string, number>>): void {
    for (const [k, v] of Object.entries(values)) {
      this.sums[k] = (this.sums[k] ?? 0) + v;
      this.counts[k] = (this.counts[k] ?? 0) + 1;
    }
  }
  take(): Record<string, number> {
    const out = Object.fromEntries(Object.entries(this.sums).map(([k, v]) => [k, v / this.counts[k]!]));
    this.sums = {};
    this.counts = {};
    return out;
  }
}

/**
 * Trains a GAN on the train split of `data` into the run folder `outDir` (see the file header). Steps:
 *   1. check the folder (an existing run needs `resume`, with the same config hash), build the trainer;
 *   2. resume from checkpoint-latest when asked (stats.jsonl is cut back to the checkpoint's step), write run.json;
 *   3. loop until `kimg` thousand images have been shown: trainStep, stats every `statsEverySteps`,
 *      checkpoint + grid every `checkpointKimg`, network snapshot every `snapshotKimg`, progress bar;
 *   4. final checkpoint, snapshot and grid-final.png.
 * A diverging loss stops the run with TrainingDivergedError after writing failure.json; the last checkpoint stays.
 */
export async function trainGan(opts: TrainGanOptions): Promise<TrainingSummary> {
  const { data, gan, seed } = opts;
  const kimg = positive('kimg', opts.kimg);
  const checkpointImages = Math.max(1, Math.round(positive('checkpointKimg', opts.checkpointKimg ?? DEFAULT_CHECKPOINT_KIMG) * 1000));
  const snapshotImages = Math.max(1, Math.round(positive('snapshotKimg', opts.snapshotKimg ?? DEFAULT_SNAPSHOT_KIMG) * 1000));
  const statsEvery = opts.statsEverySteps ?? DEFAULT_STATS_EVERY_STEPS;
  if (!(Number.isInteger(statsEvery) && statsEvery > 0)) throw new ConfigError(`statsEverySteps must be a positive integer, got ${statsEvery}`);
  const runDir = path.resolve(opts.outDir);
  const hash = configHash(runIdentity(gan, data, seed));
  const runFile = path.join(runDir, RUN_FILE);
  const latestFile = path.join(runDir, LATEST_CHECKPOINT);
  fs.mkdirSync(runDir, { recursive: true });
  if (fs.existsSync(runFile)) {
    if (!opts.resume) throw new ConfigError(`${runDir} already holds a run (${RUN_FILE}); pass --resume to continue it, or choose another --out folder`);
    const previous = readRunInfo(runDir);
    if (previous.configHash !== hash) {
      throw new ConfigError(`${runFile}: the run was started with config ${previous.configHash}, these options give ${hash}; resume with the same data, --gan, --seed and --set options, or choose another --out folder`);
    }
  }

  const logFile = path.join(runDir, 'log.txt');
  const log = (line: string): void => {
    fs.appendFileSync(logFile, `[${new Date().toISOString()}] ${line}\n`);
    opts.log?.(line);
  };

  const shape = dataShapeOf(data);
  const trainer = new Trainer(gan, data.split('train'), shape, seed);
  const statsFile = path.join(runDir, 'stats.jsonl');
  let stats: StatsWriter | undefined;
  try {
    const totalImages = Math.round(kimg * 1000);
    const settings = trainer.settings;
    let previousWallTimeSec = 0;
    let resumedFromStep: number | undefined;
    if (opts.resume && fs.existsSync(latestFile)) {
      const state = trainer.restore(latestFile, hash);
      previousWallTimeSec = state.wallTimeSec;
      resumedFromStep = state.step;
      truncateStatsAfter(statsFile, state.step);
      const failure = path.join(runDir, FAILURE_FILE);
      if (fs.existsSync(failure)) fs.renameSync(failure, path.join(runDir, `failure-step${state.step}-${Date.now()}.json`));
      log(`resuming from ${latestFile} at step ${state.step} (${(state.imagesShown / 1000).toFixed(3)} kimg)`);
    } else {
      fs.rmSync(statsFile, { force: true });
      log(`new run in ${runDir} (config ${hash}, variant ${gan.variant}, seed ${seed})`);
    }
    writeRunJson(runFile, { opts, hash, shape, trainer, resumedFromStep });

    stats = new StatsWriter(statsFile);
    const next = (every: number): number => (Math.floor(trainer.imagesShown / every) + 1) * every;
    let nextCheckpoint = next(checkpointImages);
    let nextSnapshot = next(snapshotImages);
    const progress = new Progress({ label: 'train', total: Math.max(0, totalImages - trainer.imagesShown), unit: 'img', silent: opts.quiet });
    const sessionStart = performance.now();
    const wallTime = (): number => previousWallTimeSec + (performance.now() - sessionStart) / 1000;
    let lastRecordTime = sessionStart;
    let lastRecordStep = trainer.step;
    let lastValues: Record<string, number> = {};
    const averages = new Averages();
    let baselineTensors: number | undefined;
    let leakWarned = false;

    const grid = async (name: string): Promise<string> => {
      const file = path.join(runDir, name);
      await writeGrid(file, gridSamples(trainer.sampledGenerator, shape));
      return file;
    };
    const checkpoint = (withSnapshot: boolean): void => {
      const state = trainer.loopState(hash, wallTime());
      const groups = trainer.variableGroups();
      saveCheckpoint(latestFile, groups, state);
      if (withSnapshot) {
        const networks = Object.fromEntries(SNAPSHOT_GROUPS.filter((g) => groups[g]).map((g) => [g, groups[g]]));
        saveCheckpoint(path.join(runDir, snapshotFileName(trainer.imagesShown)), networks, state);
      }
    };

    while (trainer.imagesShown < totalImages) {
      try {
        lastValues = trainer.trainStep();
      } catch (err) {
        if (err instanceof TrainingDivergedError) throw recordFailure(runDir, latestFile, err, trainer, log);
        throw err;
      }
      averages.add(lastValues);
      const numTensors = tf.memory().numTensors;
      baselineTensors ??= numTensors;
      if (numTensors > baselineTensors && !leakWarned) {
        leakWarned = true;
        log(`warning: live tensors grew from ${baselineTensors} to ${numTensors} by step ${trainer.step} (a tensor leak)`);
      }
      const done = trainer.imagesShown >= totalImages;
      if (trainer.step % statsEvery === 0 || done) {
        const now = performance.now();
        const steps = trainer.step - lastRecordStep;
        const sec = (now - lastRecordTime) / 1000;
        const values = averages.take();
        stats.append({
          step: trainer.step,
          kimg: trainer.imagesShown / 1000,
          losses: Object.fromEntries(Object.entries(values).filter(([k]) => k.startsWith('loss/'))),
          scores: Object.fromEntries(Object.entries(values).filter(([k]) => !k.startsWith('loss/'))),
          learningRate: { generator: settings.generator.learningRate, discriminator: settings.discriminator.learningRate },
          secPerStep: sec / Math.max(steps, 1),
          imagesPerSec: (steps * settings.batchSize) / Math.max(sec, 1e-9),
          wallTimeSec: wallTime(),
          numTensors,
          time: new Date().toISOString(),
        });
        lastRecordTime = now;
        lastRecordStep = trainer.step;
      }
      progress.tick(settings.batchSize, `kimg ${(trainer.imagesShown / 1000).toFixed(1)} D ${fmt(lastValues['loss/d/total'])} G ${fmt(lastValues['loss/g/total'])}`);
      opts.onProgress?.({ step: trainer.step, imagesShown: trainer.imagesShown, totalImages, losses: lastValues });
      if (trainer.imagesShown >= nextCheckpoint || done) {
        const withSnapshot = trainer.imagesShown >= nextSnapshot || done;
        checkpoint(withSnapshot);
        await grid(`grid-${kimgLabel(trainer.imagesShown)}.png`);
        nextCheckpoint = next(checkpointImages);
        nextSnapshot = next(snapshotImages);
        log(`step ${trainer.step}, kimg ${(trainer.imagesShown / 1000).toFixed(3)}: ${formatLosses(lastValues)}; checkpoint${withSnapshot ? ' and snapshot' : ''} written`);
      }
    }
    progress.finish();
    if (!fs.existsSync(latestFile)) checkpoint(true); // nothing to train (kimg already reached) and no checkpoint yet
    const finalGrid = await grid('grid-final.png');
    const sessionSec = (performance.now() - sessionStart) / 1000;
    log(`done: ${trainer.step} steps, ${(trainer.imagesShown / 1000).toFixed(3)} kimg, ${sessionSec.toFixed(1)} s this session`);
    return {
      runDir, configHash: hash, steps: trainer.step, imagesShown: trainer.imagesShown, kimg: trainer.imagesShown / 1000,
      sessionSec, wallTimeSec: wallTime(), finalLosses: lastValues, checkpoint: latestFile, grid: finalGrid,
      ...(resumedFromStep !== undefined ? { resumedFromStep } : {}),
    };
  } finally {
    stats?.close();
    trainer.dispose();
  }
}

function fmt(v: number | undefined): string {
  return v === undefined ? '-' : v.toPrecision(3);
}

function formatLosses(losses: Readonly<Record<string, number>>): string {
  return Object.entries(losses).map(([k, v]) => `${k} ${v.toPrecision(4)}`).join(', ');
}

/** Samples of the EMA generator for the fixed grid latents (seeds GRID_SEED_BASE + i), decoded. */
function gridSamples(generator: Generator, shape: DataShape): GridSamples {
  const seeds = Array.from({ length: GRID_SAMPLES }, (_, i) => GRID_SEED_BASE + i);
  const samples = tf.tidy(() => generator.apply(tf.tensor2d(latentsForSeeds(seeds, generator.latentDim), [seeds.length, generator.latentDim]), { training: false }));
  try {
    return { ...decodeSamples(samples, shape.imageChannels, shape.numClasses), channels: shape.imageChannels };
  } finally {
    samples.dispose();
  }
}

/** Writes failure.json and returns the error to throw, with the last good checkpoint in its message. */
function recordFailure(runDir: string, latestFile: string, err: TrainingDivergedError, trainer: Trainer, log: (line: string) => void): TrainingDivergedError {
  let lastGood: { file: string; step: number; imagesShown: number } | null = null;
  if (fs.existsSync(latestFile)) {
    const s = readCheckpoint(latestFile).state;
    lastGood = { file: latestFile, step: s.step, imagesShown: s.imagesShown };
  }
  const failureFile = path.join(runDir, FAILURE_FILE);
  writeJsonAtomic(failureFile, {
    reason: 'loss-not-finite',
    message: err.message,
    step: err.step,
    kimg: trainer.imagesShown / 1000,
    phase: err.phase,
    term: err.term,
    value: String(err.value),
    lastGoodCheckpoint: lastGood,
    time: new Date().toISOString(),
  });
  const where = lastGood
    ? `the last good checkpoint is ${lastGood.file} (step ${lastGood.step}, kimg ${(lastGood.imagesShown / 1000).toFixed(3)})`
    : 'no checkpoint had been written yet';
  const out = new TrainingDivergedError(err.step, err.term, err.value, err.phase,
    `; training stopped, ${where}; details in ${failureFile}. Try a lower learning rate or another loss (--set …).`);
  log(out.message);
  return out;
}

/** One training session of a run (the first, or a resume). */
export interface RunSession {
  readonly startedAt: string;
  readonly commandLine: readonly string[];
  readonly engine: Readonly<Record<string, unknown>>;
  readonly nodeVersion: string;
  readonly kimg: number;
  readonly resumedFromStep: number | null;
}

/** The contents of run.json: a run's identity and everything needed to rebuild its networks. */
export interface RunInfo {
  readonly format: typeof RUN_FORMAT;
  /** Hash of the resolved GAN config, seed and dataset (runIdentity); a resume must match it. */
  readonly configHash: string;
  readonly seed: number;
  /** Training length of the latest session, in kimg. */
  readonly kimg: number;
  readonly medsynVersion: string;
  readonly nodeVersion: string;
  /** engineInfo() of the latest session: backend and TF.js version. */
  readonly engine: Readonly<Record<string, unknown>>;
  readonly createdAt: string;
  readonly commandLine: readonly string[];
  readonly dataset: {
    readonly dir: string;
    readonly name: string;
    readonly modality: string;
    readonly classNames: readonly string[];
    /** The prepared dataset's cache key (manifest.configHash). */
    readonly configHash: string;
    /** sha256 of PREPARED/manifest.json as it was when training started. */
    readonly manifestSha256: string | null;
    readonly split: 'train';
    readonly slices: number;
  };
  readonly shape: DataShape;
  /** The resolved GAN config, verbatim (what sampling rebuilds the networks from). */
  readonly gan: ResolvedGanConfig;
  readonly checkpoint: {
    readonly format: string;
    readonly latest: string;
    readonly layout: string;
    /** Every tensor of checkpoint-latest.safetensors: name → shape. */
    readonly tensors: Readonly<Record<string, readonly number[]>>;
  };
  readonly sessions: readonly RunSession[];
}

/** Reads RUN/run.json; errors name the file. */
export function readRunInfo(runDir: string): RunInfo {
  const file = path.join(runDir, RUN_FILE);
  if (!fs.existsSync(file)) throw new DataError(file, 'not found: not a medsyn run folder', 'pass the --out folder of `medsyn train`');
  let info: RunInfo;
  try {
    info = JSON.parse(fs.readFileSync(file, 'utf8')) as RunInfo;
  } catch (err) {
    throw new DataError(file, `is not valid JSON (${(err as Error).message})`);
  }
  if (info.format !== RUN_FORMAT) throw new DataError(file, `format is ${JSON.stringify(info.format)}, this medsyn reads ${RUN_FORMAT}`);
  return { ...info, gan: parseGanConfig(info.gan, `GAN config in ${file}`) };
}

function writeRunJson(
  file: string,
  ctx: { opts: TrainGanOptions; hash: string; shape: DataShape; trainer: Trainer; resumedFromStep?: number },
): void {
  const { opts, hash, shape, trainer } = ctx;
  const previous = fs.existsSync(file) ? readRunInfo(path.dirname(file)) : undefined;
  const manifestFile = path.join(opts.data.dir, 'manifest.json');
  const session: RunSession = {
    startedAt: new Date().toISOString(),
    commandLine: [...(opts.commandLine ?? process.argv)],
    engine: { ...engineInfo() },
    nodeVersion: process.version,
    kimg: opts.kimg,
    resumedFromStep: ctx.resumedFromStep ?? null,
  };
  const info: RunInfo = {
    format: RUN_FORMAT,
    configHash: hash,
    seed: opts.seed,
    kimg: opts.kimg,
    medsynVersion: MEDSYN_VERSION,
    nodeVersion: process.version,
    engine: session.engine,
    createdAt: previous?.createdAt ?? session.startedAt,
    commandLine: previous?.commandLine ?? session.commandLine,
    dataset: {
      dir: opts.data.dir,
      name: opts.data.manifest.dataset,
      modality: opts.data.manifest.modality,
      classNames: opts.data.manifest.classNames,
      configHash: opts.data.manifest.configHash,
      manifestSha256: fs.existsSync(manifestFile) ? sha256(fs.readFileSync(manifestFile)) : null,
      split: 'train',
      slices: trainer.split.count,
    },
    shape,
    gan: opts.gan,
    checkpoint: {
      format: CHECKPOINT_FORMAT,
      latest: LATEST_CHECKPOINT,
      layout: 'TF.js layouts: conv [kh, kw, in, out], transposed conv [kh, kw, out, in], dense [in, out]; see docs/checkpoints.md',
      tensors: Object.fromEntries(
        Object.entries(trainer.variableGroups()).flatMap(([g, vars]) => [...vars!].map(([name, v]) => [`${g}.${name}`, v.shape])),
      ),
    },
    sessions: [...(previous?.sessions ?? []), session],
  };
  writeJsonAtomic(file, info);
}

/** Names of the files in a run folder, for the CLI and other readers. */
export const RUN_FILES = { run: RUN_FILE, log: 'log.txt', stats: 'stats.jsonl', checkpoint: LATEST_CHECKPOINT, failure: FAILURE_FILE } as const;
