/**
 * One training step and the state it advances: the Trainer holds a run's networks, optimizers, objective and random
 * streams (everything a checkpoint captures), and each iteration runs `criticSteps` discriminator updates and one
 * generator update, then updates the EMA generator, in the shape of StyleGAN2-ADA's training_loop.py. It knows no
 * GAN variant: losses, regularisers and clipping live behind `objective`.
 *
 * Reproducibility: every random draw comes from Rngs forked from `seed` by purpose (network init, real-batch order,
 * classic augmentation, latents, and the objective's DiffAugment / gradient-penalty draws); their states are
 * checkpointed, so a resumed run is bit-identical to an uninterrupted one on the same backend.
 */
import { tf } from '../core/engine.js';
import { DataError, MedsynError } from '../core/errors.js';
import { Rng, type RngState } from '../core/rng.js';
import type { SliceSplit } from '../data/prepared.js';
import type { Discriminator, Generator } from '../models/network.js';
import { buildDiscriminator, buildGenerator, type SampleShape } from '../models/dcgan.js';
import type { ResolvedGanConfig } from '../gan/config.js';
import { buildObjective, type GanObjective, type LossBreakdown } from '../gan/objective.js';
import { classicAugment, type ChannelLayout } from '../gan/augment.js';
import { BatchStream, normalLatents } from './batches.js';
import { Adam, type AdamOptions } from '../core/adam.js';
import { ParameterEma, emaBeta } from './ema.js';
import { networkVariables, optimizerVariables, readCheckpoint, restoreVariables, type CheckpointState, type VariableGroups } from './checkpoint.js';

/** A loss whose magnitude exceeds this is treated as divergence, like NaN/Inf. */
export const MAX_ABS_LOSS = 1e6;
/** Adam's ε (PyTorch's default; not a Table 1 knob). */
export const ADAM_EPSILON = 1e-8;

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

  /** The loop state a checkpoint stores besides the variables (lastLosses: the last step's values). */
  loopState(runHash: string, wallTimeSec: number, lastLosses: Readonly<Record<string, number>> = {}): CheckpointState {
    return {
      step: this.step,
      imagesShown: this.imagesShown,
      rng: { latents: this.latentRng.state, augment: this.augmentRng.state, objective: this.objectiveRng.state },
      batches: this.batches.position,
      configHash: runHash,
      optimizerSteps: { optG: this.generatorOptimizer.step, optD: this.discriminatorOptimizer.step },
      wallTimeSec,
      lastLosses,
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
