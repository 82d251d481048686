/**
 * What each job kind does, run inside a worker process: a typed table from job kind to a function of its
 * payload. Every stage is idempotent — rerun after a kill it continues from, or reuses, its own files:
 *   phantoms  written into a temporary folder and renamed (writePhantoms)
 *   prepare   prepareDataset's cache (same inputs → cache hit in ms)
 *   baseline  runSegmentation's result.json (same config hash → returned as is)
 *   train     trainGan with resume: continues from checkpoint-latest (bit-identical to an uninterrupted run),
 *             a finished run trains zero steps
 *   sample    a complete manifest of this checkpoint is reused; otherwise resampled (manifest written last)
 *   evaluate  deterministic (seeded) and written atomically
 *   segment   as baseline
 * The result of each is a small JSON object the store keeps; paths in it are relative to the study folder.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../core/hash.js';
import { writePhantoms } from '../data/phantoms/index.js';
import { prepareDataset } from '../data/prepare.js';
import { loadPrepared } from '../data/load.js';
import { renderOverlayGrid } from '../data/show.js';
import type { SliceSplit } from '../data/prepared.js';
import { sampleRun, SAMPLES_MANIFEST, type SamplesManifest } from '../sampling/generate.js';
import { runSegmentation, type SegmentationResult } from '../segmentation/segment.js';
import { GRID_SAMPLES, trainGan } from '../training/train.js';
import { writeGrid } from '../training/grid.js';
import { evaluateRun } from './evaluate.js';
import { timeToBest, unetFidCurve, type CurvePoint } from './fid-curve.js';
import { LAYOUT, SAMPLE_SEED, type JobKind, type JobPayload, type SegmentConfig } from './plan.js';
import { realFloor, type RealFloor } from './real-floor.js';

export interface StageContext {
  /** Absolute study folder; payload paths are relative to it. */
  readonly studyDir: string;
  /** Human log lines of this job. */
  readonly log: (line: string) => void;
  /** Called often during long stages; throws to abandon the job (e.g. the runner died). */
  readonly checkpoint: () => void;
}

export interface PhantomsOutput { readonly root: string }
export interface PrepareOutput {
  readonly classNames: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  readonly imageShape: readonly number[];
  readonly configHash: string;
  readonly overlay: string;
  /** Real training slices drawn like the GAN grids (image | mask overlay): Fig. 5's first column. */
  readonly realExamples: string;
}
export interface SegmentScores {
  readonly dice: number;
  readonly dicePerClass: Readonly<Record<string, number>>;
  readonly hd95: number;
  /** Mean Dice per test patient (volume), test-split order. */
  readonly diceItems: readonly number[];
  readonly itemIds: readonly string[];
  readonly trainCount: number;
  readonly steps: number;
  readonly resultFile: string;
}
export interface BaselineOutput extends SegmentScores {
  readonly regime: 'real' | 'augmented';
  readonly floor: RealFloor | null;
}
export interface TrainOutput {
  readonly configHash: string;
  readonly steps: number;
  readonly imagesShown: number;
  readonly wallTimeSec: number;
  readonly grid: string;
  readonly finalLosses: Readonly<Record<string, number>>;
  /** Generator steps trained by this attempt (0 when the run was already complete). */
  readonly stepsThisAttempt: number;
  readonly resumedFromStep: number | null;
}
export interface Interval { readonly lo: number; readonly hi: number }
export interface SampleOutput { readonly n: number; readonly manifestSha256: string; readonly reused: boolean }
export interface EvaluateOutput {
  readonly metricsFile: string;
  readonly fid: number | null;
  readonly kid: number | null;
  readonly unetFid: number;
  readonly unetKid: number;
  /** 95 % bootstrap intervals (bias-corrected percentile) of FID / U-Net FID and of the KID shown beside them. */
  readonly fidCi: Interval | null;
  readonly unetFidCi: Interval;
  readonly kidCi: Interval;
  readonly precision: number;
  readonly recall: number;
  readonly memorisation: number;
  readonly plausibleShare: number | null;
  readonly plausibleShareReal: number | null;
  readonly maskImageDice: number | null;
  readonly msssimGenerated: number | null;
  readonly msssimReal: number | null;
  readonly inceptionSkipped: string | null;
  /** U-Net FID of every network snapshot (fid-curve.ts) and the training time to the best of them. */
  readonly curve: readonly CurvePoint[];
  readonly timeToBestSec: number | null;
  readonly umap: {
    readonly unet: { readonly points: readonly { x: number; y: number; source: string }[]; readonly separability: number };
    readonly inception: { readonly points: readonly { x: number; y: number; source: string }[]; readonly separability: number } | null;
  };
}
export interface SegmentOutput extends SegmentScores {
  readonly trialId: string;
  readonly regime: 'synthetic' | 'real+synthetic';
}

export interface StageOutputs {
  phantoms: PhantomsOutput;
  prepare: PrepareOutput;
  baseline: BaselineOutput;
  train: TrainOutput;
  sample: SampleOutput;
  evaluate: EvaluateOutput;
  select: never;
  segment: SegmentOutput;
}

/** A job as sent to a worker: its payload with anything dynamic (the selected trial) already resolved. */
export type WorkerJob = { readonly id: string; readonly payload: Exclude<JobPayload, { kind: 'select' | 'segment' }> }
  | { readonly id: string; readonly payload: Extract<JobPayload, { kind: 'segment' }> & { readonly trial: { readonly id: string } } };

type Stage<K extends JobKind> = (p: Extract<JobPayload, { kind: K }>, ctx: StageContext) => Promise<StageOutputs[K]>;

const abs = (ctx: StageContext, rel: string): string => (path.isAbsolute(rel) ? rel : path.join(ctx.studyDir, rel));
const rel = (ctx: StageContext, file: string): string => path.relative(ctx.studyDir, file);

function scores(r: SegmentationResult, resultFile: string): SegmentScores {
  const main = r.per_volume ?? r.per_slice;
  return {
    dice: r.dice_mean, dicePerClass: r.dice_per_class, hd95: r.hd95_mean, diceItems: main.dice_per_item, itemIds: main.item_ids,
    trainCount: r.counts.train, steps: r.training.steps, resultFile,
  };
}

function segConfigInput(c: SegmentConfig) {
  return {
    maxSteps: c.maxSteps, seed: c.seed, batchSize: c.batchSize, unet: c.unet as { depth?: number; filters?: number; norm?: 'batch' | 'instance' | 'none' },
    ...(c.syntheticCount !== undefined ? { syntheticCount: c.syntheticCount } : {}),
  };
}

/** Up to n training slices, evenly spaced over those with foreground. */
function exampleIndices(split: SliceSplit, n: number): number[] {
  const withFg = split.info.map((s, i) => (s.foreground > 0 ? i : -1)).filter((i) => i >= 0);
  const pool = withFg.length > 0 ? withFg : Array.from({ length: split.count }, (_, i) => i);
  const k = Math.min(n, pool.length);
  return Array.from({ length: k }, (_, t) => pool[Math.floor((t * pool.length) / k)]!);
}

const STAGES: { [K in Exclude<JobKind, 'select'>]: Stage<K> } = {
  async phantoms(p, ctx) {
    const out = abs(ctx, p.out);
    const roots = await writePhantoms(out, { patients: p.patients, seed: p.seed, datasets: [p.dataset] });
    return { root: rel(ctx, roots[p.dataset]!) };
  },

  async prepare(p, ctx) {
    const out = abs(ctx, p.out);
    const r = await prepareDataset({ dataset: p.layout, root: abs(ctx, p.root), out, config: p.config, quiet: true });
    ctx.log(`${r.cacheHit ? 'cache hit' : 'prepared'}: ${JSON.stringify(r.manifest.counts)} slices`);
    const data = loadPrepared(out);
    const overlay = path.join(out, 'overlay.png');
    await renderOverlayGrid(data, { out: overlay, split: 'train', n: 16, cols: 8 });
    const train = data.split('train');
    const idx = exampleIndices(train, GRID_SAMPLES);
    const plane = train.height * train.width;
    const C = train.channels;
    const images = new Float32Array(idx.length * plane * C);
    const labelMaps = new Uint8Array(idx.length * plane);
    idx.forEach((s, n) => {
      images.set(train.images.subarray(s * plane * C, (s + 1) * plane * C), n * plane * C);
      labelMaps.set(train.labels.subarray(s * plane, (s + 1) * plane), n * plane);
    });
    const realExamples = path.join(out, 'real-examples.png');
    await writeGrid(realExamples, { images, labelMaps, count: idx.length, height: train.height, width: train.width, channels: C });
    return {
      classNames: data.manifest.classNames, counts: r.manifest.counts, imageShape: data.manifest.imageShape, configHash: data.manifest.configHash,
      overlay: rel(ctx, overlay), realExamples: rel(ctx, realExamples),
    };
  },

  async baseline(p, ctx) {
    const out = abs(ctx, p.out);
    const r = await runSegmentation({ data: abs(ctx, p.data), train: p.regime, out, config: segConfigInput(p.config), quiet: true });
    ctx.log(`U-Net ${p.regime}: test Dice ${r.dice_mean.toFixed(4)} after ${r.training.steps} steps`);
    const floor = p.regime === 'real' ? await realFloor({ data: abs(ctx, p.data), unetDir: out, inception: p.inception }) : null;
    return { ...scores(r, rel(ctx, path.join(out, 'result.json'))), regime: p.regime, floor };
  },

  async train(p, ctx) {
    const data = loadPrepared(abs(ctx, p.data));
    const summary = await trainGan({
      data, gan: p.gan, kimg: p.kimg, outDir: abs(ctx, p.runDir), seed: p.seed, resume: true, quiet: true,
      // a network snapshot at every checkpoint: the evaluation scores each one for the FID-over-training curve
      checkpointKimg: p.checkpointKimg, snapshotKimg: p.checkpointKimg, log: ctx.log, onProgress: () => ctx.checkpoint(),
    });
    const stepsThisAttempt = summary.steps - (summary.resumedFromStep ?? 0);
    return {
      configHash: summary.configHash, steps: summary.steps, imagesShown: summary.imagesShown, wallTimeSec: summary.wallTimeSec,
      grid: rel(ctx, summary.grid), finalLosses: summary.finalLosses, stepsThisAttempt, resumedFromStep: summary.resumedFromStep ?? null,
    };
  },

  async sample(p, ctx) {
    const runDir = abs(ctx, p.runDir);
    const out = abs(ctx, p.out);
    const checkpoint = path.join(runDir, 'checkpoint-latest.safetensors');
    const manifestFile = path.join(out, SAMPLES_MANIFEST);
    if (fs.existsSync(manifestFile)) {
      const m = JSON.parse(fs.readFileSync(manifestFile, 'utf8')) as SamplesManifest;
      if (m.n === p.n && m.seed === p.seed && m.checkpointSha256 === sha256(fs.readFileSync(checkpoint))) {
        return { n: m.n, manifestSha256: sha256(fs.readFileSync(manifestFile)), reused: true };
      }
    }
    const m = await sampleRun({ runDir, n: p.n, outDir: out, seed: p.seed, quiet: true });
    return { n: m.n, manifestSha256: sha256(fs.readFileSync(manifestFile)), reused: false };
  },

  async evaluate(p, ctx) {
    const r = await evaluateRun({
      runDir: abs(ctx, p.runDir), data: abs(ctx, p.data), samplesDir: abs(ctx, p.samplesDir), unetDir: abs(ctx, p.unetDir), seed: p.seed,
      log: ctx.log, ...(p.inception.file ? { inceptionWeights: { file: p.inception.file, allowUnverified: p.inception.allowUnverified } } : {}),
    });
    const curve = await unetFidCurve({ runDir: abs(ctx, p.runDir), data: abs(ctx, p.data), unetDir: abs(ctx, p.unetDir), n: r.samples.n, seed: SAMPLE_SEED });
    ctx.log(`U-Net FID over training: ${curve.map((q) => `${q.kimg} kimg ${q.unetFid.toPrecision(4)}`).join(', ')}`);
    const d = r.domain;
    const iv = (c: { lo: number; hi: number }): Interval => ({ lo: c.lo, hi: c.hi });
    const points = (e: { points: readonly { x: number; y: number; source: string }[]; separability: number }) => ({
      points: e.points.map((q) => ({ x: Math.round(q.x * 1e4) / 1e4, y: Math.round(q.y * 1e4) / 1e4, source: q.source })),
      separability: e.separability,
    });
    return {
      metricsFile: rel(ctx, path.join(abs(ctx, p.runDir), 'metrics.json')),
      fid: r.inception?.fid ?? null, kid: r.inception?.kid_mean ?? null,
      unetFid: r.unet.fid, unetKid: r.unet.kid_mean,
      fidCi: r.inception ? iv(r.inception.fid_ci) : null, unetFidCi: iv(r.unet.fid_ci), kidCi: iv((r.inception ?? r.unet).kid_ci), precision: r.unet.precision, recall: r.unet.recall,
      memorisation: d.memorisation.pixel.nearCopyShare,
      plausibleShare: d.plausibility.generated.plausibleShare, plausibleShareReal: d.plausibility.heldOutReal.plausibleShare,
      maskImageDice: d.consistency?.mean ?? null,
      msssimGenerated: d.diversity?.generated.mean ?? null, msssimReal: d.diversity?.real.mean ?? null,
      inceptionSkipped: r.inception_skipped ?? null,
      umap: { unet: points(r.umap.unet), inception: r.umap.inception ? points(r.umap.inception) : null },
      curve, timeToBestSec: timeToBest(curve),
    };
  },

  async segment(p, ctx) {
    const trial = (p.trial as { id: string }).id;
    const samplesDir = abs(ctx, LAYOUT.samples(trial));
    const out = abs(ctx, LAYOUT.segment(trial, p.regime));
    const r = await runSegmentation({ data: abs(ctx, p.data), train: `${p.regime}:${samplesDir}`, out, config: segConfigInput(p.config), quiet: true });
    ctx.log(`U-Net ${p.regime} (${trial}): test Dice ${r.dice_mean.toFixed(4)}`);
    return { ...scores(r, rel(ctx, path.join(out, 'result.json'))), trialId: trial, regime: p.regime };
  },
};

/** Runs one job in this process. */
export function runStage(job: WorkerJob, ctx: StageContext): Promise<unknown> {
  const stage = STAGES[job.payload.kind] as Stage<JobKind>;
  return stage(job.payload as never, ctx);
}
