/**
 * The run: trainGan drives a Trainer (trainer.ts) through one training session in a run folder (run-folder.ts),
 * resuming from its checkpoint when asked, and writes stats, checkpoints, snapshots and sample grids as it goes.
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import { configHash } from '../core/hash.js';
import { Progress } from '../core/progress.js';
import type { PreparedDataset } from '../data/prepared.js';
import type { Generator } from '../models/network.js';
import { decodeSamples } from '../models/dcgan.js';
import type { ResolvedGanConfig } from '../gan/config.js';
import { latentsForSeeds } from './batches.js';
import { LATEST_CHECKPOINT, SNAPSHOT_GROUPS, saveCheckpoint, snapshotFileName, kimgLabel } from './checkpoint.js';
import { StatsWriter, truncateStatsAfter } from './stats.js';
import { GRID_SEED_BASE, writeGrid, type GridSamples } from './grid.js';
import { Trainer, TrainingDivergedError, type DataShape } from './trainer.js';
import { FAILURE_FILE, RUN_FILE, dataShapeOf, readRunInfo, recordFailure, runIdentity, writeRunJson } from './run-folder.js';

/** Samples in each grid-<kimg>.png. */
export const GRID_SAMPLES = 16;
/** Defaults of the run's maintenance intervals (TrainGanOptions). */
export const DEFAULT_CHECKPOINT_KIMG = 10;
export const DEFAULT_SNAPSHOT_KIMG = 50;
export const DEFAULT_STATS_EVERY_STEPS = 10;

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
 * Trains a GAN on the train split of `data` into the run folder `outDir` (see run-folder.ts). Steps:
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
    let lastValues: Record<string, number> = {};
    if (opts.resume && fs.existsSync(latestFile)) {
      const state = trainer.restore(latestFile, hash);
      previousWallTimeSec = state.wallTimeSec;
      resumedFromStep = state.step;
      lastValues = { ...state.lastLosses }; // a run resumed after its last step still reports them
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
    const averages = new Averages();
    let baselineTensors: number | undefined;
    let leakWarned = false;

    const grid = async (name: string): Promise<string> => {
      const file = path.join(runDir, name);
      await writeGrid(file, gridSamples(trainer.sampledGenerator, shape));
      return file;
    };
    const checkpoint = (withSnapshot: boolean): void => {
      const state = trainer.loopState(hash, wallTime(), lastValues);
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
    log(`done: ${trainer.step} steps (${trainer.step - (resumedFromStep ?? 0)} trained this session), ${(trainer.imagesShown / 1000).toFixed(3)} kimg, ${sessionSec.toFixed(1)} s this session`);
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
