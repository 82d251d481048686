/**
 * `medsyn evaluate`: every metric of a run's samples against the real data, written to RUN/metrics.json.
 *
 *   evaluateRun({ runDir: RUN, data: PREPARED })
 *
 * 1. samples: RUN/samples (or `samplesDir`); when it holds no complete sample manifest, `n` samples are drawn with
 *    sampleRun (default n: the real train count, at least 64).
 * 2. real reference: the prepared train split (the FID reference, as in the paper); val + test are the held-out set.
 * 3. Inception space (FID/KID/PRDC, pytorch-fid preprocessing) when the FID weights are present with the official
 *    hash; otherwise `inception: null` and `inception_skipped` says how to add them.
 * 4. U-Net space: the bottleneck features (UNet.encode) of a real-data U-Net — `unetDir` (a `medsyn segment --train
 *    real` folder) or one trained here into RUN/eval/unet-real — give FID/KID/PRDC in a domain feature space.
 * 5. domain metrics: memorisation, mask–image consistency (the same U-Net's predictions), plausibility, diversity.
 * 6. UMAP (umap-js) of the U-Net features and, when computed, the Inception features: real train vs generated,
 *    2-D points for a plot plus a k-NN separability score (src/metrics/domain/umap.ts), from the features above.
 *
 * KID uses subsets of min(kidSubsetSize, n_real, n_fake) (the 'clip' policy, recorded in each protocol).
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf, initEngine, type EngineInfo } from '../core/engine.js';
import { writeJsonAtomic } from '../core/atomic.js';
import { ConfigError, DataError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import { MEDSYN_VERSION } from '../core/version.js';
import { loadPrepared } from '../data/load.js';
import type { SliceArrays } from '../data/prepared.js';
import { bootstrapFeatureCis, type BootstrapResult } from '../metrics/bootstrap.js';
import { computeFeatureMetrics, type FeatureMetricsProtocol, type FeatureMetricsResult } from '../metrics/compute.js';
import { domainMetrics, type DomainMetricsReport } from '../metrics/domain/index.js';
import { embedRealVsGenerated, type UmapEmbedding } from '../metrics/domain/umap.js';
import { extractInceptionFeatures, loadFidInception, type FidInception } from '../metrics/inception.js';
import type { FeatureMatrix } from '../metrics/stats.js';
import { resolveInceptionWeights } from '../metrics/weights.js';

export { resolveInceptionWeights };
import { loadUNet, type UNet } from '../models/unet.js';
import { sampleRun, SAMPLES_FORMAT, SAMPLES_MANIFEST, type SamplesManifest } from '../sampling/generate.js';
import { concatSets, loadSampleFolder } from '../segmentation/regimes.js';
import { runSegmentation, type SegmentationConfigInput, type SegmentationResult } from '../segmentation/segment.js';
import { predictLabels } from '../segmentation/train.js';
import { readRunInfo } from '../training/run-folder.js';

export const METRICS_FORMAT = 'medsyn-metrics/1';
export const METRICS_FILE = 'metrics.json';

/** The U-Net trained when no `unetDir` is given (small: fine for a feature space and a consistency check). */
export const EVAL_UNET_CONFIG: SegmentationConfigInput = Object.freeze({ maxSteps: 200, unet: Object.freeze({ depth: 3, filters: 8 }) });

export interface EvaluateRunOptions {
  /** A `medsyn train` run folder. */
  readonly runDir: string;
  /** The prepared dataset folder (real train = reference, val + test = held-out). */
  readonly data: string;
  /** Samples folder. @default RUN/samples */
  readonly samplesDir?: string;
  /** Samples to draw when the folder has no complete manifest (and at most this many are used when it has). @default max(64, real train count) */
  readonly n?: number;
  /** A `medsyn segment --train real` output folder (model.safetensors); when absent one is trained into RUN/eval/unet-real. */
  readonly unetDir?: string;
  /** Config of the U-Net trained when `unetDir` is absent. @default EVAL_UNET_CONFIG */
  readonly unetConfig?: SegmentationConfigInput;
  /**
   * An Inception weights file to use instead of the one in the weights folder — e.g. your own conversion to
   * safetensors. Accepted without the official sha256 only with `allowUnverified`; the protocol then says so.
   */
  readonly inceptionWeights?: { readonly file: string; readonly allowUnverified?: boolean };
  /** Bootstrap draws for the FID/KID intervals (capped by a compute budget; see metrics/bootstrap.ts). @default 200 */
  readonly bootstrapDraws?: number;
  /** KID subset size before clipping to min(n_real, n_fake). @default 1000 */
  readonly kidSubsetSize?: number;
  /** Latent seed of the samples drawn here and seed of the MS-SSIM pairs. @default 0 */
  readonly seed?: number;
  /** Human progress lines. @default stderr */
  readonly log?: (line: string) => void;
}

/** A feature-space result whose protocol names its extractor and KID policy. */
/** A bootstrap interval as stored in metrics.json (see metrics/bootstrap.ts). */
export interface StoredCi {
  readonly lo: number;
  readonly hi: number;
  readonly level: number;
  readonly draws: number;
  readonly percentile_lo: number;
  readonly percentile_hi: number;
}

export interface SpaceMetrics extends Omit<FeatureMetricsResult, 'protocol'> {
  /** Bias-corrected percentile bootstrap intervals (real and generated rows resampled); KID's is of the full-set MMD². */
  readonly fid_ci: StoredCi;
  readonly kid_ci: StoredCi;
  readonly protocol: Omit<FeatureMetricsProtocol, 'feature_extractor'> & {
    readonly feature_extractor: string;
    readonly kid_subset_size_policy: 'clip';
    readonly kid_subset_size_requested: number;
  };
}

export interface EvaluationResult {
  readonly format: typeof METRICS_FORMAT;
  /** Absolute run folder. */
  readonly run: string;
  readonly run_config_hash: string;
  readonly samples: { readonly dir: string; readonly manifest_sha256: string; readonly n: number; readonly sampled_here: boolean };
  readonly dataset: {
    readonly dir: string; readonly name: string; readonly config_hash: string;
    /** false when the run was trained on another preparation (config hash differs). */
    readonly matches_run: boolean;
    readonly counts: { readonly train: number; readonly held_out: number };
  };
  readonly engine: EngineInfo;
  readonly inception: (SpaceMetrics & {
    readonly weights: { readonly file: string; readonly sha256: string; readonly verification: string };
    /** where the network ran: a native graph or TF.js ops (features agree to float32 rounding) */
    readonly network_engine: 'native' | 'tfjs';
  }) | null;
  readonly inception_skipped?: string;
  readonly unet: SpaceMetrics & {
    readonly model: {
      readonly dir: string; readonly sha256: string; readonly trained_here: boolean;
      readonly config: unknown; readonly test_dice_mean: number | null;
    };
  };
  readonly domain: DomainMetricsReport;
  /** UMAP embeddings of real train vs generated features; `inception` null when the Inception space was skipped. */
  readonly umap: { readonly unet: UmapEmbedding; readonly inception: UmapEmbedding | null };
  readonly created_at: string;
  readonly medsyn_version: string;
}

export async function evaluateRun(opts: EvaluateRunOptions): Promise<EvaluationResult> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const engine = await initEngine();
  const runDir = path.resolve(opts.runDir);
  const run = readRunInfo(runDir);
  const ds = loadPrepared(opts.data);
  const [H, W, C] = ds.manifest.imageShape;
  const K = ds.numClasses;
  if (run.shape.height !== H || run.shape.width !== W || run.shape.imageChannels !== C || run.shape.numClasses !== K) {
    throw new ConfigError(
      `run ${runDir} makes ${run.shape.height}×${run.shape.width}×${run.shape.imageChannels} images with ${run.shape.numClasses} classes, `
      + `dataset ${ds.dir} has ${H}×${W}×${C} with ${K}: evaluate against the data the run was trained on`,
    );
  }
  const matchesRun = run.dataset.configHash === ds.manifest.configHash;
  if (!matchesRun) log(`warning: ${ds.dir} (config ${ds.manifest.configHash}) is not the preparation the run was trained on (${run.dataset.configHash})`);
  const seed = opts.seed ?? 0;
  const kidSubsetSize = opts.kidSubsetSize ?? 1000;
  if (!(Number.isInteger(kidSubsetSize) && kidSubsetSize >= 2)) throw new ConfigError(`KID subset size must be an integer ≥ 2, got ${kidSubsetSize}`);

  // 2. real data
  const trainReal = ds.split('train');
  const val = ds.split('val');
  const test = ds.split('test');
  const heldOut: SliceArrays = concatSets(val, test);
  if (trainReal.count < 2) throw new DataError(ds.dir, `has ${trainReal.count} training slice(s); the metrics need at least 2`);

  // 1. samples
  const samplesDir = path.resolve(opts.samplesDir ?? path.join(runDir, 'samples'));
  const wanted = opts.n ?? Math.max(64, trainReal.count);
  if (!(Number.isInteger(wanted) && wanted >= 2)) throw new ConfigError(`the number of samples must be an integer ≥ 2, got ${wanted}`);
  let manifest = readCompleteManifest(samplesDir, run.configHash);
  let sampledHere = false;
  if (!manifest || (opts.n !== undefined && manifest.n < opts.n)) {
    log(`sampling ${wanted} images into ${samplesDir}`);
    manifest = await sampleRun({ runDir, n: wanted, outDir: samplesDir, seed, quiet: true });
    sampledHere = true;
  }
  const use = opts.n !== undefined ? Math.min(opts.n, manifest.n) : manifest.n;
  const generated = await loadSampleFolder(samplesDir, { imageChannels: C, numClasses: K, size: [H, W], limit: use });
  const manifestSha = sha256(fs.readFileSync(path.join(samplesDir, SAMPLES_MANIFEST)));

  const spaceOptions = (nReal: number, nFake: number) => {
    const minN = Math.min(nReal, nFake);
    return {
      kidSubsetSize: Math.min(kidSubsetSize, nReal, nFake), kidSubsetSizePolicy: 'clip' as const,
      prK: Math.min(3, minN - 1), dcK: Math.min(5, minN - 1),
    };
  };
  const space = (real: FeatureMatrix, fake: FeatureMatrix, extractor: string): SpaceMetrics => {
    const o = spaceOptions(real.rows, fake.rows);
    const r = computeFeatureMetrics(real, fake, o);
    const boot = bootstrapFeatureCis(real, fake, { seed, draws: opts.bootstrapDraws ?? 200 });
    const ci = (c: BootstrapResult['fid']): StoredCi => ({ lo: c.lo, hi: c.hi, level: c.level, draws: c.draws, percentile_lo: c.percentileLo, percentile_hi: c.percentileHi });
    const notes = [...r.protocol.notes, `bootstrap: ${boot.method}`];
    if (o.prK < 3 || o.dcK < 5) notes.push(`k reduced to precision/recall ${o.prK}, density/coverage ${o.dcK}: a set has only ${Math.min(real.rows, fake.rows)} samples`);
    return { ...r, fid_ci: ci(boot.fid), kid_ci: ci(boot.kid), protocol: { ...r.protocol, feature_extractor: extractor, kid_subset_size_policy: 'clip', kid_subset_size_requested: kidSubsetSize, notes } };
  };

  // 3. Inception space
  let inception: EvaluationResult['inception'] = null;
  let inceptionSkipped: string | undefined;
  let inceptionFeatures: { real: FeatureMatrix; fake: FeatureMatrix } | null = null;
  const { file: weightsFile, skipped } = resolveInceptionWeights(opts.inceptionWeights);
  if (weightsFile) {
    log('Inception features (pytorch-fid preprocessing)');
    const loaded = loadFidInception(weightsFile, { allowUnverified: opts.inceptionWeights?.allowUnverified ?? false });
    try {
      const feats = (s: SliceArrays): Promise<FeatureMatrix> => inceptionPool3(loaded.net, s);
      const realF = await feats(trainReal);
      const fakeF = await feats(generated);
      inception = { ...space(realF, fakeF, 'inception-v3-fid:pytorch-fid'), weights: { file: loaded.file, sha256: loaded.sha256, verification: loaded.verification }, network_engine: loaded.net.resolvedEngine };
      inceptionFeatures = { real: realF, fake: fakeF };
    } finally {
      loaded.net.dispose();
    }
  } else {
    inceptionSkipped = skipped!;
    log(`Inception metrics skipped: ${inceptionSkipped}`);
  }

  // 4. U-Net space
  let unetDir: string;
  let trainedHere = false;
  let segResult: SegmentationResult | null = null;
  if (opts.unetDir) {
    unetDir = path.resolve(opts.unetDir);
    segResult = readSegResult(unetDir);
  } else {
    unetDir = path.join(runDir, 'eval', 'unet-real');
    log(`training the real-data U-Net into ${unetDir}`);
    segResult = await runSegmentation({ data: ds.dir, train: 'real', out: unetDir, config: opts.unetConfig ?? EVAL_UNET_CONFIG, quiet: true });
    trainedHere = true;
  }
  const modelFile = path.join(unetDir, 'model.safetensors');
  if (!fs.existsSync(modelFile)) throw new DataError(modelFile, 'not found', 'pass the --out folder of `medsyn segment --train real` (it holds model.safetensors)');
  const modelSha = sha256(fs.readFileSync(modelFile));
  const unet = loadUNet(modelFile);
  let unetSection: EvaluationResult['unet'];
  let domain: DomainMetricsReport;
  let umapUnet: UmapEmbedding;
  try {
    if (unet.config.inChannels !== C || unet.config.numClasses !== K) {
      throw new ConfigError(`U-Net ${modelFile} takes ${unet.config.inChannels} channel(s) and predicts ${unet.config.numClasses} classes; the dataset has ${C} and ${K}`);
    }
    log('U-Net features');
    const fGen = await encodeAll(unet, generated);
    const fTrain = await encodeAll(unet, trainReal);
    const fHeld = await encodeAll(unet, heldOut);
    const dim = unet.featureDim;
    const m = (data: Float32Array): FeatureMatrix => ({ data, rows: data.length / dim, cols: dim });
    unetSection = {
      ...space(m(fTrain), m(fGen), `unet-encoder:${modelSha}`),
      model: {
        dir: unetDir, sha256: modelSha, trained_here: trainedHere,
        config: segResult?.provenance.config ?? unet.config, test_dice_mean: segResult ? segResult.dice_mean : null,
      },
    };
    // 5. domain metrics
    log('domain metrics');
    domain = await domainMetrics({
      generated, trainReal, heldOutReal: heldOut, dataset: run.dataset.name ?? ds.manifest.dataset, numClasses: K,
      predict: (x, n, h, w, c) => predictLabels(unet, x, { count: n, height: h, width: w, channels: c }),
      features: { generated: fGen, train: fTrain, heldOut: fHeld, dim },
      options: { seed },
    });
    // 6. UMAP of the features computed above
    const t0 = Date.now();
    umapUnet = embedRealVsGenerated({ real: fTrain, generated: fGen, dim, seed });
    log(`UMAP of U-Net features: ${umapUnet.points.length} points, separability ${umapUnet.separability.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  } finally {
    unet.dispose();
  }
  let umapInception: UmapEmbedding | null = null;
  if (inceptionFeatures) {
    const t0 = Date.now();
    const { real, fake } = inceptionFeatures;
    umapInception = embedRealVsGenerated({ real: real.data, generated: fake.data, dim: real.cols, seed });
    log(`UMAP of Inception features: ${umapInception.points.length} points, separability ${umapInception.separability.toFixed(3)} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  }

  const result: EvaluationResult = {
    format: METRICS_FORMAT,
    run: runDir,
    run_config_hash: run.configHash,
    samples: { dir: samplesDir, manifest_sha256: manifestSha, n: generated.count, sampled_here: sampledHere },
    dataset: { dir: ds.dir, name: ds.manifest.dataset, config_hash: ds.manifest.configHash, matches_run: matchesRun, counts: { train: trainReal.count, held_out: heldOut.count } },
    engine,
    inception,
    ...(inceptionSkipped !== undefined ? { inception_skipped: inceptionSkipped } : {}),
    unet: unetSection,
    domain,
    umap: { unet: umapUnet, inception: umapInception },
    created_at: new Date().toISOString(),
    medsyn_version: MEDSYN_VERSION,
  };
  writeJsonAtomic(path.join(runDir, METRICS_FILE), result);
  return result;
}

/** The samples manifest when the folder holds a complete sample set of this run; null when it has none (yet). */
function readCompleteManifest(dir: string, runConfigHash: string): SamplesManifest | null {
  const file = path.join(dir, SAMPLES_MANIFEST);
  if (!fs.existsSync(file)) return null;
  let m: SamplesManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8')) as SamplesManifest;
  } catch {
    return null;
  }
  if (m?.format !== SAMPLES_FORMAT || !Array.isArray(m.files) || m.files.length !== m.n) return null;
  if (m.runConfigHash !== runConfigHash) {
    throw new DataError(file, `holds samples of another run (config ${m.runConfigHash}, this run is ${runConfigHash})`, 'pass a samples folder of this run, or an empty one');
  }
  if (!m.formats.includes('png')) throw new DataError(file, 'lists no PNG samples', 'sample again with the png format');
  return m;
}

function readSegResult(dir: string): SegmentationResult | null {
  const file = path.join(dir, 'result.json');
  if (!fs.existsSync(file)) return null;
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8')) as SegmentationResult;
  } catch {
    return null;
  }
}

/** Inception-v3 pool3 features of a set of slices (pytorch-fid preprocessing): [N, 2048]. */
export async function inceptionPool3(net: FidInception, s: SliceArrays): Promise<FeatureMatrix> {
  const x = tf.tensor4d(s.images, [s.count, s.height, s.width, s.channels]);
  try {
    return (await extractInceptionFeatures(net, x, { mode: 'pytorch-fid' })).pool3;
  } finally {
    x.dispose();
  }
}

/** UNet.encode over a set in batches: [N, featureDim] row-major. */
export async function encodeAll(net: UNet, s: SliceArrays, batchSize = 64): Promise<Float32Array> {
  const plane = s.height * s.width * s.channels;
  const out = new Float32Array(s.count * net.featureDim);
  for (let start = 0; start < s.count; start += batchSize) {
    const n = Math.min(batchSize, s.count - start);
    const f = tf.tidy(() => net.encode(tf.tensor4d(s.images.subarray(start * plane, (start + n) * plane), [n, s.height, s.width, s.channels])));
    out.set(await f.data() as Float32Array, start * net.featureDim);
    f.dispose();
  }
  return out;
}

/** A few lines for the terminal. */
export function summariseEvaluation(r: EvaluationResult): string[] {
  const f = (x: number | null | undefined, d = 3): string => (typeof x === 'number' && Number.isFinite(x) ? x.toFixed(d) : 'n/a');
  const e = (x: number): string => (Number.isFinite(x) ? x.toExponential(2) : 'n/a');
  const spaceLine = (name: string, s: SpaceMetrics): string =>
    `${name}: FID ${f(s.fid, 2)}, KID ${e(s.kid_mean)} ± ${e(s.kid_std)}, precision ${f(s.precision)}, recall ${f(s.recall)}, density ${f(s.density)}, coverage ${f(s.coverage)} (${s.protocol.n_fake} fake vs ${s.protocol.n_real} real)`;
  const d = r.domain;
  const lines = [
    `${path.join(r.run, METRICS_FILE)}: ${r.samples.n} samples of ${r.run} vs ${r.dataset.name} (${r.dataset.counts.train} train, ${r.dataset.counts.held_out} held-out)`,
    r.inception ? spaceLine('Inception', r.inception) : `Inception: skipped — ${r.inception_skipped}`,
    spaceLine('U-Net', r.unet),
    `memorisation: near-copy share ${f(d.memorisation.pixel.nearCopyShare)} (held-out ${f(d.memorisation.pixel.heldOutNearCopyShare)})`,
    `consistency: Dice ${f(d.consistency?.mean)} (real-data U-Net, test Dice ${f(r.unet.model.test_dice_mean)})`,
    `plausibility: ${d.plausibility.generated.plausibleShare === null ? `no topology rules for ${d.protocol.rulesDataset}` : `plausible share ${f(d.plausibility.generated.plausibleShare)} (real held-out ${f(d.plausibility.heldOutReal.plausibleShare)})`}`,
    `UMAP separability (k-NN, 0.5 = indistinguishable, 1 = separated): U-Net ${f(r.umap.unet.separability)}, Inception ${r.umap.inception ? f(r.umap.inception.separability) : 'n/a'}`,
    d.diversity ? `diversity: MS-SSIM ${f(d.diversity.generated.mean)} (real ${f(d.diversity.real.mean)})${d.diversity.modeCollapseAlarm ? ' — mode-collapse alarm' : ''}` : 'diversity: images too small for MS-SSIM',
  ];
  return lines;
}
