/**
 * Real training batches from a prepared split, as the discriminator sees them: image channels followed by the
 * one-hot mask mapped to the generator's tanh range (absent −1, present +1), channels-last [N, H, W, Ci + K].
 *
 * The stream is infinite and epoch-shuffled with a seeded Rng. Its position (epoch, cursor, and the Rng state the
 * current epoch's order was drawn from) is plain JSON, saved in checkpoints, and `BatchStream.restore` continues
 * the exact same sequence of batches.
 */
import { tf } from '../core/engine.js';
import { Rng, type RngState } from '../core/rng.js';
import { DataError } from '../core/errors.js';
import type { SliceSplit } from '../data/prepared.js';

/** Mask channel value where a class is absent / present (the generator's tanh range). */
export const MASK_ABSENT = -1;
export const MASK_PRESENT = 1;

/** Where a batch stream stands; JSON-serialisable, saved in checkpoints. */
export interface BatchPosition {
  /** Completed passes over the split. */
  readonly epoch: number;
  /** Index into the current epoch's order of the next slice to serve. */
  readonly cursor: number;
  /** Rng state from which the current epoch's order was shuffled. */
  readonly epochRng: RngState;
}

/**
 * Concatenates images [N, H, W, Ci] and label maps [N, H, W] into samples [N, H, W, Ci + K] with the one-hot mask in
 * {−1, +1}. `indices` selects slices of the split (all, in order, when omitted). Labels ≥ `numClasses` are a
 * DataError naming `source`.
 */
export function jointSamples(split: SliceSplit, numClasses: number, indices?: readonly number[], source = `${split.name} split`): Float32Array {
  const { height: h, width: w, channels: ci } = split;
  const pixels = h * w;
  const c = ci + numClasses;
  const idx = indices ?? Array.from({ length: split.count }, (_, i) => i);
  const out = new Float32Array(idx.length * pixels * c).fill(MASK_ABSENT);
  idx.forEach((slice, n) => {
    if (!(slice >= 0 && slice < split.count)) throw new RangeError(`slice ${slice} outside ${split.name} split of ${split.count}`);
    const imgBase = slice * pixels * ci;
    const lblBase = slice * pixels;
    const outBase = n * pixels * c;
    for (let p = 0; p < pixels; p++) {
      const o = outBase + p * c;
      for (let k = 0; k < ci; k++) out[o + k] = split.images[imgBase + p * ci + k]!;
      const label = split.labels[lblBase + p]!;
      if (label >= numClasses) {
        throw new DataError(source, `slice ${slice} has label ${label} but the dataset declares ${numClasses} classes`, 're-run `medsyn data prepare`');
      }
      out[o + ci + label] = MASK_PRESENT;
    }
  });
  return out;
}

/** An endless, seeded, epoch-shuffled stream of real batches. */
export class BatchStream {
  private epoch: number;
  private cursor: number;
  private epochRng: RngState;
  private order: number[];

  private constructor(
    readonly split: SliceSplit,
    readonly numClasses: number,
    readonly batchSize: number,
    position: BatchPosition,
  ) {
    if (split.count === 0) throw new DataError(`${split.name} split`, 'has no slices to train on');
    if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new RangeError(`batch size must be a positive integer, got ${batchSize}`);
    this.epoch = position.epoch;
    this.cursor = position.cursor;
    this.epochRng = position.epochRng;
    this.order = this.shuffle();
    if (!(this.cursor >= 0 && this.cursor <= this.order.length)) throw new RangeError(`batch cursor ${this.cursor} outside epoch of ${this.order.length}`);
  }

  /** A fresh stream at epoch 0 whose shuffles derive from `seed`. */
  static create(split: SliceSplit, numClasses: number, batchSize: number, seed: number): BatchStream {
    return new BatchStream(split, numClasses, batchSize, { epoch: 0, cursor: 0, epochRng: new Rng(seed).state });
  }

  /** Continues a stream saved with `position`. */
  static restore(split: SliceSplit, numClasses: number, batchSize: number, position: BatchPosition): BatchStream {
    return new BatchStream(split, numClasses, batchSize, position);
  }

  get position(): BatchPosition {
    return { epoch: this.epoch, cursor: this.cursor, epochRng: this.epochRng };
  }

  /** Slice indices of the next batch (advances the stream; crosses epoch boundaries as needed). */
  nextIndices(): number[] {
    const out: number[] = [];
    while (out.length < this.batchSize) {
      if (this.cursor >= this.order.length) this.startEpoch();
      out.push(this.order[this.cursor++]!);
    }
    return out;
  }

  /** [N, H, W, Ci + K] of every batch. */
  get batchShape(): [number, number, number, number] {
    const { height, width, channels } = this.split;
    return [this.batchSize, height, width, channels + this.numClasses];
  }

  /** The next batch as a typed array, samples [N, H, W, Ci + K] in [−1, 1] (for augmentation before upload). */
  nextArray(): Float32Array {
    return jointSamples(this.split, this.numClasses, this.nextIndices());
  }

  /** The next batch, samples [N, H, W, Ci + K] in [−1, 1]. Caller owns the returned tensor. */
  next(): tf.Tensor4D {
    return tf.tensor4d(this.nextArray(), this.batchShape);
  }

  private startEpoch(): void {
    // The next epoch's order is drawn from where this epoch's shuffle left the Rng.
    const rng = new Rng(this.epochRng);
    rng.shuffled(this.order);
    this.epochRng = rng.state;
    this.epoch += 1;
    this.cursor = 0;
    this.order = this.shuffle();
  }

  /** The current epoch's order: a Fisher–Yates shuffle of 0..count−1 drawn from `epochRng`. */
  private shuffle(): number[] {
    return new Rng(this.epochRng).shuffled(Array.from({ length: this.split.count }, (_, i) => i));
  }
}

/**
 * `n` latent vectors of dimension `dim`, standard normal, drawn from `rng` (advancing it): latents [N, Z].
 * Drawing latents on the JS side keeps them reproducible and resumable (the Rng state is checkpointed).
 */
export function normalLatents(rng: Rng, n: number, dim: number): Float32Array {
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal();
  return out;
}

/**
 * latents [N, Z] for `seeds`: row i holds Z standard-normal draws from Rng(seeds[i]). One seed per sample, so a
 * sample can be regenerated alone (sampling, grids).
 */
export function latentsForSeeds(seeds: readonly number[], latentDim: number): Float32Array {
  const out = new Float32Array(seeds.length * latentDim);
  seeds.forEach((seed, i) => out.set(normalLatents(new Rng(seed), 1, latentDim), i * latentDim));
  return out;
}
