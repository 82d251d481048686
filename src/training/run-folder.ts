/**
 * A run folder and its run.json: the files that hold everything needed to interpret and continue a run.
 *   run.json                        resolved config, dataset identity, engine, seed, config hash, checkpoint layout
 *   log.txt                         human log
 *   stats.jsonl                     one JSON line per logged step (stats.ts)
 *   checkpoint-latest.safetensors   everything needed to resume bit-exactly (checkpoint.ts)
 *   network-snapshot-<kimg>.safetensors, grid-<kimg>.png   periodic snapshots and sample grids
 *   grid-final.png                  grid of the final EMA generator (G itself when EMA is off)
 *   failure.json                    why training stopped, when it diverged
 */
import fs from 'node:fs';
import path from 'node:path';
import { engineInfo } from '../core/engine.js';
import { DataError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { PreparedDataset } from '../data/prepared.js';
import { parseGanConfig, type ResolvedGanConfig } from '../gan/config.js';
import { CHECKPOINT_FORMAT, LATEST_CHECKPOINT, readCheckpoint } from './checkpoint.js';
import { TrainingDivergedError, type DataShape, type Trainer } from './trainer.js';

export const RUN_FORMAT = 'medsyn-run/1';
export const RUN_FILE = 'run.json';
export const FAILURE_FILE = 'failure.json';

/** What a run's identity hashes: everything that must match for a checkpoint to be resumable (not kimg). */
export function runIdentity(gan: ResolvedGanConfig, data: PreparedDataset, seed: number): Record<string, unknown> {
  return { gan, seed, dataset: data.manifest.configHash, split: 'train' };
}

export function dataShapeOf(data: PreparedDataset): DataShape {
  const [height, width, imageChannels] = data.manifest.imageShape;
  return { height, width, imageChannels, numClasses: data.numClasses };
}

/** Writes failure.json and returns the error to throw, with the last good checkpoint in its message. */
export function recordFailure(runDir: string, latestFile: string, err: TrainingDivergedError, trainer: Trainer, log: (line: string) => void): TrainingDivergedError {
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

/** What writeRunJson reads of the training options (TrainGanOptions has it all). */
export interface RunJsonOptions {
  readonly data: PreparedDataset;
  readonly gan: ResolvedGanConfig;
  readonly seed: number;
  readonly kimg: number;
  readonly commandLine?: readonly string[];
}

export function writeRunJson(
  file: string,
  ctx: { opts: RunJsonOptions; hash: string; shape: DataShape; trainer: Trainer; resumedFromStep?: number },
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
