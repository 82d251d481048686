/**
 * The demo that `npm start` runs: the longest real pipeline medsyn has, on the built-in phantoms.
 *
 *   phantoms (ACDC / SLiver07 / IDRiD layouts) → prepare each → overlay grids
 *   → for each dataset × GAN: train → sample → U-Net on the synthetic samples, scored on the REAL test split
 *     → sample quality (`evaluateRun`: U-Net-space FID/KID, memorisation, mask plausibility and consistency, diversity)
 *   → U-Net baselines on real and on classically augmented real data → summary (HTML + Markdown + JSON).
 *
 * Every stage is skipped when its output is already complete (prepared cache hit, finished run, sample manifest,
 * segmentation result with the same config hash), so a second `npm start` only redoes what changed.
 * The full study (sweeps, FID/KID, Table 2 and the figures) replaces this when it lands.
 */
import fs from 'node:fs';
import path from 'node:path';
import { initEngine, type EngineInfo } from '../core/engine.js';
import { Progress } from '../core/progress.js';
import { configHash, sha256 } from '../core/hash.js';
import { writePhantoms, PHANTOM_DATASETS, type PhantomDataset } from '../data/phantoms/index.js';
import { prepareDataset } from '../data/prepare.js';
import { loadPrepared } from '../data/load.js';
import { renderOverlayGrid } from '../data/show.js';
import { resolveGanConfig } from '../gan/config.js';
import { GAN_VARIANT_IDS, type GanVariantId } from '../gan/variants.js';
import { trainGan } from '../training/train.js';
import { sampleRun, SAMPLES_MANIFEST, type SamplesManifest } from '../sampling/generate.js';
import { runSegmentation, type SegmentationResult } from '../segmentation/segment.js';
import { writeSummary, type DemoSummary, type DemoDatasetSummary, type SampleQuality, type SegScores } from '../report/summary.js';
import { evaluateRun, type EvaluationResult } from './evaluate.js';

export interface DemoOptions {
  readonly out: string;
  readonly patients: number;
  readonly size: number;
  /** Thousands of images shown per GAN. */
  readonly kimg: number;
  /** Synthetic samples per GAN (the training set of the synthetic-only U-Net). */
  readonly samples: number;
  /** U-Net optimizer steps per regime (early stopping may end it sooner). */
  readonly segSteps: number;
  readonly datasets?: readonly PhantomDataset[];
  readonly gans?: readonly GanVariantId[];
  readonly seed?: number;
  readonly log?: (line: string) => void;
}

/** Small networks and batches so that the five GANs × three datasets train in minutes on two CPU cores. */
export const DEMO_GAN_OVERRIDES: Readonly<Record<string, unknown>> = Object.freeze({
  batchSize: 16, 'g.filters': 16, 'd.filters': 16, latentDim: 64,
});

export async function runDemo(opts: DemoOptions): Promise<{ index: string; summary: DemoSummary }> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const started = Date.now();
  const engine: EngineInfo = await initEngine();
  const out = path.resolve(opts.out);
  const datasets = opts.datasets ?? PHANTOM_DATASETS;
  const gans = opts.gans ?? GAN_VARIANT_IDS;
  const seed = opts.seed ?? 0;

  log(`[1/4] phantoms: ${opts.patients} patients per dataset → ${path.join(out, 'phantoms')}`);
  const roots = await writeDemoPhantoms(path.join(out, 'phantoms'), opts.patients, seed, datasets);

  const summaries: DemoDatasetSummary[] = [];
  for (const dataset of datasets) {
    log(`[2/4] ${dataset}: prepare at ${opts.size} px`);
    const preparedDir = path.join(out, 'prepared', dataset);
    const prepared = await prepareDataset({ dataset, root: roots[dataset]!, out: preparedDir, config: { size: opts.size, splitSeed: seed } });
    const data = loadPrepared(preparedDir);
    const overlay = path.join(preparedDir, 'overlay.png');
    await renderOverlayGrid(data, { out: overlay, split: 'train', n: 16, cols: 8 });

    const segConfig = { maxSteps: opts.segSteps, seed, unet: { depth: 3, filters: 8 }, batchSize: 16 };
    const segment = (dir: string, train: string): Promise<SegmentationResult> =>
      runSegmentation({ data: preparedDir, train, out: dir, config: segConfig, quiet: true });

    log(`[3/4] ${dataset}: U-Net baselines on real and augmented real data`);
    const baselineDir = path.join(out, 'segmentation', dataset);
    const baselines = { real: await segment(path.join(baselineDir, 'real'), 'real'), augmented: await segment(path.join(baselineDir, 'augmented'), 'augmented') };

    const runs: DemoDatasetSummary['runs'][number][] = [];
    for (const gan of gans) {
      const gcfg = resolveGanConfig(gan, DEMO_GAN_OVERRIDES);
      // A stable run id from the resolved config: a changed config trains a new run instead of clashing with the old.
      const runDir = path.join(out, 'runs', `${dataset}-${gan}-${configHash({ gcfg, seed })}`);
      log(`[4/4] ${dataset}: ${gan} — train ${opts.kimg} kimg, sample ${opts.samples}, U-Net on the samples`);
      let failure: string | null = null;
      try {
        const summary = await trainGan({ data, gan: gcfg, kimg: opts.kimg, outDir: runDir, seed, resume: true, quiet: true, checkpointKimg: opts.kimg, snapshotKimg: opts.kimg, log: () => {} });
        const samplesDir = path.join(runDir, 'samples');
        if (!samplesComplete(samplesDir, summary.checkpoint, opts.samples)) {
          await sampleRun({ runDir, n: opts.samples, outDir: samplesDir, seed: 1_000_000, quiet: true });
        }
        const synthetic = await segment(path.join(runDir, 'segment-synthetic'), `synthetic:${samplesDir}`);
        const mixed = await segment(path.join(runDir, 'segment-real+synthetic'), `real+synthetic:${samplesDir}`);
        // Sample quality in the feature space of the real-data U-Net trained above (and Inception when its weights exist).
        const evaluation = await evaluateRun({ runDir, data: preparedDir, samplesDir, unetDir: path.join(baselineDir, 'real'), log: () => {} });
        runs.push({
          gan, runDir, grid: summary.grid, wallTimeSec: summary.wallTimeSec, finalLosses: summary.finalLosses,
          synthetic: pickScores(synthetic), realPlusSynthetic: pickScores(mixed), quality: pickQuality(evaluation), failure,
        });
      } catch (err) {
        failure = err instanceof Error ? err.message : String(err);
        log(`    ${gan} failed: ${failure.split('\n')[0]}`);
        runs.push({ gan, runDir, grid: null, wallTimeSec: null, finalLosses: {}, synthetic: null, realPlusSynthetic: null, quality: null, failure });
      }
    }
    summaries.push({
      dataset, preparedDir, overlay, classNames: data.manifest.classNames, counts: prepared.manifest.counts,
      imageShape: data.manifest.imageShape, real: pickScores(baselines.real), augmented: pickScores(baselines.augmented), runs,
    });
  }

  const summary: DemoSummary = {
    createdAt: new Date().toISOString(), engine: `${engine.backend} (TF.js ${engine.tfjsVersion})`, wallTimeSec: (Date.now() - started) / 1000,
    options: { patients: opts.patients, size: opts.size, kimg: opts.kimg, samples: opts.samples, segSteps: opts.segSteps, seed },
    datasets: summaries,
  };
  const index = writeSummary(out, summary);
  return { index, summary };
}

async function writeDemoPhantoms(dir: string, patients: number, seed: number, datasets: readonly PhantomDataset[]): Promise<Partial<Record<PhantomDataset, string>>> {
  const stamp = path.join(dir, 'phantoms.json');
  const want = JSON.stringify({ patients, seed, datasets });
  if (fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === want) {
    return Object.fromEntries(datasets.map((d) => [d, path.join(dir, d)]));
  }
  let bar: Progress | undefined;
  const roots = await writePhantoms(dir, {
    patients, seed, datasets,
    onProgress: (done, total) => {
      bar ??= new Progress({ label: 'phantoms', total, unit: 'cases' });
      bar.tick();
      if (done >= total) bar.finish();
    },
  });
  fs.writeFileSync(stamp, want);
  return roots;
}

/** True when `dir` holds `n` samples drawn from exactly this checkpoint (its manifest is written last). */
function samplesComplete(dir: string, checkpoint: string, n: number): boolean {
  const file = path.join(dir, SAMPLES_MANIFEST);
  if (!fs.existsSync(file) || !fs.existsSync(checkpoint)) return false;
  const m = JSON.parse(fs.readFileSync(file, 'utf8')) as SamplesManifest;
  return m.n === n && m.checkpointSha256 === sha256(fs.readFileSync(checkpoint));
}

function pickQuality(e: EvaluationResult): SampleQuality {
  const d = e.domain;
  return {
    inceptionFid: e.inception?.fid ?? null,
    unetFid: e.unet.fid,
    unetKid: e.unet.kid_mean,
    nearCopyShare: d.memorisation.pixel.nearCopyShare,
    plausibleShare: d.plausibility.generated.plausibleShare,
    plausibleShareReal: d.plausibility.heldOutReal.plausibleShare,
    maskImageDice: d.consistency?.mean ?? null,
    msssimGenerated: d.diversity?.generated.mean ?? null,
    msssimReal: d.diversity?.real.mean ?? null,
  };
}

function pickScores(r: SegmentationResult): SegScores {
  return { dice: r.dice_mean, dicePerClass: r.dice_per_class, hd95: r.hd95_mean, trainCount: r.counts.train };
}
