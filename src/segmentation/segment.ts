/**
 * `medsyn segment`'s API: train the downstream U-Net under one regime and score it on the REAL test split.
 *
 *   runSegmentation({ data: PREPARED, train: 'real' | 'augmented' | 'synthetic:DIR' | 'real+synthetic:DIR', out: DIR })
 *
 * writes into DIR (each file atomically):
 *   result.json       Dice (headline: per patient volume, mean over foreground classes), Dice per class by name,
 *                     HD95, per-slice numbers, training summary and history, and provenance (regime, counts,
 *                     resolved config + its hash, seed, engine, dataset and samples manifests' hashes)
 *   model.safetensors the U-Net with the best validation Dice (reload with models/unet.ts `loadUNet`)
 *   predictions.png   real test slices, one per row: image | truth overlay | prediction overlay
 *
 * A DIR whose result.json has the same config hash is left alone (pass `force` to redo). In result.json a score
 * that could not be computed (e.g. no class present) is null.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';
import { initEngine, type EngineInfo } from '../core/engine.js';
import { configHash, sha256 } from '../core/hash.js';
import { MEDSYN_VERSION } from '../core/version.js';
import { loadPrepared } from '../data/load.js';
import type { SliceSplit } from '../data/prepared.js';
import { overlayTile } from '../data/show.js';
import type { ScoreAggregate } from './dice.js';
import { concatSets, loadSampleFolder, parseRegime, REGIMES, type RegimeChoice, type SampleFolder, type SegmentationSet } from './regimes.js';
import { predictLabels, resolveSegTrainConfig, trainSegmenter, type HistoryEntry, type SegProgress, type SegTrainConfig, type SegTrainConfigInput } from './train.js';

export const SEGMENTATION_RESULT_FORMAT = 'medsyn-segmentation/1';

export interface SegmentationConfigInput extends SegTrainConfigInput {
  /** Use only the first n synthetic samples (the paper's "n synthetic samples"); all when absent. */
  readonly syntheticCount?: number;
}

export interface RunSegmentationOptions {
  /** Prepared dataset folder (`medsyn data prepare --out`). */
  readonly data: string;
  /** 'real' | 'augmented' | 'synthetic:DIR' | 'real+synthetic:DIR', or the parsed form. */
  readonly train: string | RegimeChoice;
  /** Output folder. */
  readonly out: string;
  readonly config?: SegmentationConfigInput;
  /** Redo even when `out/result.json` matches the config hash. */
  readonly force?: boolean;
  readonly quiet?: boolean;
  readonly onProgress?: (p: SegProgress) => void;
  /** Test slices drawn in predictions.png. @default 8 */
  readonly previewCount?: number;
}

/** An aggregate with per-class arrays keyed by class name. */
export interface NamedAggregate {
  readonly count: number;
  readonly dice_mean: number;
  readonly dice_per_class: Record<string, number>;
  readonly hd95_mean: number;
  readonly hd95_per_class: Record<string, number>;
  /** Mean foreground Dice per scored item (patient volume or slice), in test-split order: for bootstrap intervals and paired tests. */
  readonly dice_per_item: number[];
  readonly item_ids: string[];
}

export interface SegmentationResult {
  readonly format: typeof SEGMENTATION_RESULT_FORMAT;
  readonly regime: RegimeChoice['regime'];
  /** Test Dice per patient volume, mean over the evaluated classes: the headline number. */
  readonly dice_mean: number;
  readonly dice_per_class: Record<string, number>;
  readonly hd95_mean: number;
  readonly hd95_per_class: Record<string, number>;
  /** HD95 is measured in pixels of the prepared slices. */
  readonly hd95_units: 'px';
  readonly aggregation: 'per-volume' | 'per-slice';
  readonly per_volume: NamedAggregate | null;
  readonly per_slice: NamedAggregate;
  readonly counts: { readonly train: number; readonly train_real: number; readonly train_synthetic: number; readonly val: number; readonly test: number };
  readonly training: {
    readonly best_val_dice: number; readonly best_step: number; readonly best_epoch: number; readonly steps: number;
    readonly stopped: string; readonly batch_size: number; readonly ms_per_step: number; readonly wall_s: number;
    readonly history: HistoryEntry[];
  };
  readonly provenance: {
    readonly config: SegTrainConfig & { readonly syntheticCount: number | null };
    readonly config_hash: string;
    readonly seed: number;
    readonly engine: EngineInfo;
    readonly dataset: { readonly dir: string; readonly name: string; readonly config_hash: string; readonly manifest_sha256: string; readonly class_names: readonly string[] };
    readonly samples: { readonly dir: string; readonly manifest_sha256: string; readonly count: number } | null;
    readonly medsyn_version: string;
    readonly created_at: string;
  };
}

export async function runSegmentation(opts: RunSegmentationOptions): Promise<SegmentationResult> {
  const engine = await initEngine();
  const choice = typeof opts.train === 'string' ? parseRegime(opts.train) : opts.train;
  const regime = REGIMES[choice.regime];
  const { syntheticCount, ...trainInput } = opts.config ?? {};
  // The regime decides augmentation ('augmented' is the only one that augments).
  const config = resolveSegTrainConfig({ ...trainInput, augment: regime.augment });

  const ds = loadPrepared(opts.data);
  const manifestText = fs.readFileSync(path.join(ds.dir, 'manifest.json'), 'utf8');
  const [H, W, C] = ds.manifest.imageShape;
  const K = ds.numClasses;
  const real = ds.split('train');
  let samples: SampleFolder | null = null;
  if ('samplesDir' in choice) {
    samples = await loadSampleFolder(choice.samplesDir, { imageChannels: C, numClasses: K, size: [H, W], ...(syntheticCount !== undefined ? { limit: syntheticCount } : {}) });
  }
  const parts: SegmentationSet[] = [];
  if (regime.real) parts.push(real);
  if (samples) parts.push(samples);
  const trainSet = parts.length === 1 ? parts[0]! : concatSets(...parts);

  const fullConfig = { ...config, syntheticCount: syntheticCount ?? null };
  const hash = configHash({
    regime: choice.regime, config: fullConfig, dataset: ds.manifest.configHash, samples: samples?.manifestHash ?? null,
  });
  const resultFile = path.join(opts.out, 'result.json');
  if (!opts.force && fs.existsSync(resultFile)) {
    try {
      const previous = JSON.parse(fs.readFileSync(resultFile, 'utf8')) as SegmentationResult;
      if (previous.format === SEGMENTATION_RESULT_FORMAT && previous.provenance?.config_hash === hash) return previous;
    } catch {
      // unreadable: redo
    }
  }
  fs.mkdirSync(opts.out, { recursive: true });

  const val = ds.split('val');
  const test = ds.split('test');
  const r = await trainSegmenter({
    train: trainSet, val, test, numClasses: K, config, outDir: opts.out, keepModel: true,
    ...(opts.quiet !== undefined ? { quiet: opts.quiet } : {}),
    ...(opts.onProgress ? { onProgress: opts.onProgress } : {}),
  });
  const model = r.model!;
  try {
    const names = ds.manifest.classNames;
    const named = (a: ScoreAggregate): NamedAggregate => ({
      count: a.count,
      dice_mean: a.dice_mean,
      dice_per_class: Object.fromEntries(r.classes.map((c, i) => [names[c] ?? `class${c}`, a.dice_per_class[i]!])),
      hd95_mean: a.hd95_mean,
      hd95_per_class: Object.fromEntries(r.classes.map((c, i) => [names[c] ?? `class${c}`, a.hd95_per_class[i]!])),
      dice_per_item: a.dice_per_item,
      item_ids: a.item_ids,
    });
    const main = named(r.per_volume ?? r.per_slice);
    const result: SegmentationResult = {
      format: SEGMENTATION_RESULT_FORMAT,
      regime: choice.regime,
      dice_mean: main.dice_mean,
      dice_per_class: main.dice_per_class,
      hd95_mean: main.hd95_mean,
      hd95_per_class: main.hd95_per_class,
      hd95_units: 'px',
      aggregation: r.aggregation,
      per_volume: r.per_volume ? named(r.per_volume) : null,
      per_slice: named(r.per_slice),
      counts: { train: trainSet.count, train_real: regime.real ? real.count : 0, train_synthetic: samples?.count ?? 0, val: val.count, test: test.count },
      training: {
        best_val_dice: r.best_val_dice, best_step: r.best_step, best_epoch: r.best_epoch, steps: r.steps, stopped: r.stopped,
        batch_size: r.batch_size, ms_per_step: r.ms_per_step, wall_s: r.wall_s, history: r.history,
      },
      provenance: {
        config: fullConfig,
        config_hash: hash,
        seed: config.seed,
        engine,
        dataset: { dir: ds.dir, name: ds.manifest.dataset, config_hash: ds.manifest.configHash, manifest_sha256: sha256(manifestText).slice(0, 16), class_names: names },
        samples: samples ? { dir: path.resolve(samples.dir), manifest_sha256: samples.manifestHash, count: samples.count } : null,
        medsyn_version: MEDSYN_VERSION,
        created_at: new Date().toISOString(),
      },
    };
    const preview = previewIndices(test, opts.previewCount ?? 8);
    const predicted = await predictLabels(model, pick(test, preview).images, { count: preview.length, height: H, width: W, channels: C });
    writeFileAtomic(path.join(opts.out, 'predictions.png'), await renderPredictions(pick(test, preview), predicted));
    writeJsonAtomic(resultFile, result);
    return result;
  } finally {
    model.dispose();
  }
}

/** Up to n test slices, evenly spaced over those with foreground (all slices when none has any). */
function previewIndices(split: SliceSplit, n: number): number[] {
  const withFg = split.info.map((s, i) => (s.foreground > 0 ? i : -1)).filter((i) => i >= 0);
  const pool = withFg.length > 0 ? withFg : Array.from({ length: split.count }, (_, i) => i);
  const k = Math.min(n, pool.length);
  return Array.from({ length: k }, (_, t) => pool[Math.floor((t * pool.length) / k)]!);
}

function pick(split: SliceSplit, indices: readonly number[]): SegmentationSet {
  const { height: H, width: W, channels: C } = split;
  const plane = H * W;
  const images = new Float32Array(indices.length * plane * C);
  const labels = new Uint8Array(indices.length * plane);
  indices.forEach((s, n) => {
    images.set(split.images.subarray(s * plane * C, (s + 1) * plane * C), n * plane * C);
    labels.set(split.labels.subarray(s * plane, (s + 1) * plane), n * plane);
  });
  return { count: indices.length, height: H, width: W, channels: C, images, labels };
}

/** PNG: one row per slice, columns image | truth overlay | prediction overlay, tiles upscaled to ≥ 128 px. */
export async function renderPredictions(slices: SegmentationSet, predicted: Uint8Array): Promise<Buffer> {
  const { count: n, height: H, width: W } = slices;
  const scale = Math.max(1, Math.ceil(128 / Math.max(H, W)));
  const gap = 2;
  const tw = W * scale;
  const th = H * scale;
  const width = 3 * tw + 4 * gap;
  const height = n * th + (n + 1) * gap;
  const canvas = new Uint8Array(width * height * 3).fill(32);
  const withPred = { ...slices, labels: predicted };
  for (let i = 0; i < n; i++) {
    const tiles = [overlayTile(slices, i, 0), overlayTile(slices, i, 0.45), overlayTile(withPred, i, 0.45)];
    tiles.forEach((tile, col) => {
      const ox = gap + col * (tw + gap);
      const oy = gap + i * (th + gap);
      for (let y = 0; y < th; y++) {
        for (let x = 0; x < tw; x++) {
          const sp = (Math.floor(y / scale) * W + Math.floor(x / scale)) * 3;
          canvas.set(tile.subarray(sp, sp + 3), ((oy + y) * width + ox + x) * 3);
        }
      }
    });
  }
  return sharp(canvas, { raw: { width, height, channels: 3 } }).png().toBuffer();
}
