/**
 * Sampling a trained run: rebuild the generator from run.json, load its weights (the EMA generator when the checkpoint
 * has one) and generate joint image+mask samples in batches, one seed per sample (StyleGAN2's generate.py --seeds):
 * sample i of a request with seed s uses the latent drawn from Rng(s + i), so any single sample can be regenerated
 * alone, and a request's output does not depend on its batch size.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf, engineInfo } from '../core/engine.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { ConfigError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { Progress } from '../core/progress.js';
import { Rng } from '../core/rng.js';
import { MEDSYN_VERSION } from '../core/version.js';
import { buildGenerator, decodeSamples, type DecodedSamples } from '../models/dcgan.js';
import type { Generator } from '../models/network.js';
import { LATEST_CHECKPOINT, networkVariables, readCheckpoint, restoreVariables, type CheckpointGroup } from '../training/checkpoint.js';
import { readRunInfo, type RunInfo } from '../training/run-folder.js';
import { sampleShapeOf } from '../training/trainer.js';
import { latentsForSeeds } from '../training/batches.js';
import { SAMPLE_FORMATS, writeSample, type SampleFiles, type SampleFormat } from './write.js';

export { latentsForSeeds };

export const SAMPLES_FORMAT = 'medsyn-samples/1';
export const SAMPLES_MANIFEST = 'manifest.json';

/** A run's generator with trained weights loaded. Dispose `generator` when done. */
export interface LoadedGenerator {
  readonly generator: Generator;
  readonly run: RunInfo;
  readonly checkpoint: string;
  /** Which weights were loaded: the EMA generator when present, else the raw one. */
  readonly weights: Extract<CheckpointGroup, 'G' | 'G_ema'>;
  readonly step: number;
  readonly imagesShown: number;
}

/** Rebuilds a run's generator from run.json and loads it from `checkpoint` (default: the run's latest). */
export function loadRunGenerator(runDir: string, checkpoint = path.join(runDir, LATEST_CHECKPOINT)): LoadedGenerator {
  const run = readRunInfo(runDir);
  const ckpt = readCheckpoint(checkpoint);
  const weights = ckpt.groups.includes('G_ema') ? 'G_ema' : 'G';
  // The initial values are overwritten by the checkpoint; any seed will do.
  const generator = buildGenerator(run.gan, sampleShapeOf(run.shape), new Rng(0));
  try {
    restoreVariables(ckpt, { [weights]: networkVariables(generator) });
  } catch (err) {
    generator.dispose();
    throw err;
  }
  return { generator, run, checkpoint, weights, step: ckpt.state.step, imagesShown: ckpt.state.imagesShown };
}

/**
 * Generates samples for `seeds` in batches of `batchSize` (inference mode: no buffer updates), yielding each batch
 * decoded into images [B, H, W, Ci] in [−1, 1] and label maps [B, H, W]. Live tensors return to their starting count
 * after each batch, whatever the number of seeds.
 */
export function* generateSamples(
  generator: Generator, seeds: readonly number[], batchSize: number, imageChannels: number, numClasses: number,
): IterableIterator<{ readonly seeds: readonly number[]; readonly samples: DecodedSamples }> {
  if (!(Number.isInteger(batchSize) && batchSize > 0)) throw new ConfigError(`batch size must be a positive integer, got ${batchSize}`);
  const z = generator.latentDim;
  for (let start = 0; start < seeds.length; start += batchSize) {
    const batchSeeds = seeds.slice(start, start + batchSize);
    const samples = tf.tidy(() => generator.apply(tf.tensor2d(latentsForSeeds(batchSeeds, z), [batchSeeds.length, z]), { training: false }));
    try {
      yield { seeds: batchSeeds, samples: decodeSamples(samples, imageChannels, numClasses) };
    } finally {
      samples.dispose();
    }
  }
}

export interface SampleRunOptions {
  /** A `medsyn train` run folder. */
  readonly runDir: string;
  /** Number of samples. */
  readonly n: number;
  /** Output folder: images/, masks/ and manifest.json. */
  readonly outDir: string;
  /** Sample i uses latent seed `seed + i`. @default 0 */
  readonly seed?: number;
  /** Samples per generator call (memory, not results). @default 32 */
  readonly batchSize?: number;
  /** @default ['png'] ('nifti' applies to 1-channel images) */
  readonly formats?: readonly SampleFormat[];
  /** A checkpoint other than the run's checkpoint-latest.safetensors (e.g. a network snapshot). */
  readonly checkpoint?: string;
  /** Hide the progress bar. */
  readonly quiet?: boolean;
}

/** OUT/manifest.json, written last: its presence means the sample set is complete. */
export interface SamplesManifest {
  readonly format: typeof SAMPLES_FORMAT;
  readonly run: string;
  readonly runConfigHash: string;
  readonly checkpoint: string;
  readonly checkpointSha256: string;
  readonly weights: LoadedGenerator['weights'];
  /** Training progress of the checkpoint. */
  readonly step: number;
  readonly kimg: number;
  readonly n: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly formats: readonly SampleFormat[];
  readonly shape: RunInfo['shape'];
  readonly classNames: readonly string[];
  readonly engine: Readonly<Record<string, unknown>>;
  readonly medsynVersion: string;
  readonly createdAt: string;
  /** One entry per sample; paths relative to the output folder. */
  readonly files: readonly ({ readonly index: number; readonly seed: number } & SampleFiles)[];
}

/** Generates `n` samples of a run and writes them with a manifest; see SampleRunOptions. */
export async function sampleRun(opts: SampleRunOptions): Promise<SamplesManifest> {
  const seed = opts.seed ?? 0;
  const batchSize = opts.batchSize ?? 32;
  const formats: SampleFormat[] = [...new Set(opts.formats ?? ['png' as const])];
  for (const f of formats) if (!SAMPLE_FORMATS.includes(f)) throw new ConfigError(`unknown sample format "${f}"; use one of ${SAMPLE_FORMATS.join(', ')}`);
  if (!(Number.isInteger(opts.n) && opts.n > 0)) throw new ConfigError(`the number of samples must be a positive integer, got ${opts.n}`);
  if (!Number.isInteger(seed)) throw new ConfigError(`seed must be an integer, got ${seed}`);
  const outDir = path.resolve(opts.outDir);
  const loaded = loadRunGenerator(path.resolve(opts.runDir), opts.checkpoint ? path.resolve(opts.checkpoint) : undefined);
  const { run, generator } = loaded;
  const manifestFile = path.join(outDir, SAMPLES_MANIFEST);
  fs.rmSync(manifestFile, { force: true }); // an old manifest must not vouch for a half-rewritten folder
  const progress = new Progress({ label: 'sample', total: opts.n, unit: 'img', silent: opts.quiet });
  const files: SamplesManifest['files'][number][] = [];
  try {
    const seeds = Array.from({ length: opts.n }, (_, i) => seed + i);
    for (const { seeds: batchSeeds, samples } of generateSamples(generator, seeds, batchSize, run.shape.imageChannels, run.shape.numClasses)) {
      for (let j = 0; j < batchSeeds.length; j++) {
        const index = files.length;
        const written = await writeSample(outDir, index, samples, j, run.shape.imageChannels, formats);
        files.push({ index, seed: batchSeeds[j]!, ...written });
      }
      progress.tick(batchSeeds.length);
    }
    progress.finish();
  } finally {
    generator.dispose();
  }
  const manifest: SamplesManifest = {
    format: SAMPLES_FORMAT,
    run: path.resolve(opts.runDir),
    runConfigHash: run.configHash,
    checkpoint: loaded.checkpoint,
    checkpointSha256: sha256(fs.readFileSync(loaded.checkpoint)),
    weights: loaded.weights,
    step: loaded.step,
    kimg: loaded.imagesShown / 1000,
    n: opts.n,
    seed,
    batchSize,
    formats,
    shape: run.shape,
    classNames: run.dataset.classNames,
    engine: { ...engineInfo() },
    medsynVersion: MEDSYN_VERSION,
    createdAt: new Date().toISOString(),
    files,
  };
  writeJsonAtomic(manifestFile, manifest);
  return manifest;
}
