/**
 * The preparation pipeline: a dataset in its publisher's layout → PREPARED/ (manifest.json + one safetensors file
 * per split; the contract is in prepared.ts).
 *
 *   discover (reader) → split patients (seeded; splits.ts) → for each case: loadCase → intensity to [−1, 1] (whole volume)
 *   → slice along the acquisition axis → resample in-plane to the target spacing → square FOV crop → resize to
 *   size × size → drop empty slices (optional) → write all splits in a temporary folder → swap it into place.
 *
 * The cache key (configHash) is the hash of the resolved config, the dataset id, medsyn's version and every source
 * file's path (relative to the root), size and mtime: an existing PREPARED/ with the same key is returned as is.
 * The folder is replaced atomically: a failure anywhere leaves the previous PREPARED/ untouched, never half written.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError, MedsynError } from '../core/errors.js';
import { configHash } from '../core/hash.js';
import { removeStaleTemps, replaceDirAtomic, writeJsonAtomic } from '../core/atomic.js';
import { Progress } from '../core/progress.js';
import { saveSafetensors, tensor } from '../core/safetensors.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { Geometry, IntensityVolume, LabelVolume } from './volume.js';
import type { CaseEntry, DatasetSource } from './readers/types.js';
import { SPLITS, type PreparedManifest, type SliceArrays, type SliceInfo, type SplitName } from './prepared.js';
import { resolvePrepareConfig, type PrepareConfig } from './preprocess/config.js';
import { assignSplits } from './splits.js';
import { normaliseIntensity } from './preprocess/intensity.js';
import { imageSlice, labelSlice, planeSize, planeSpacing, sliceCount, slicingAxis, type Axis } from './preprocess/slices.js';
import { resampledSize, resampleImage, resampleLabels } from './preprocess/resample.js';
import { contentRegion, cropSquare, cropSquareLabels, labelRegion, planFov, type Region, type SquareFov } from './preprocess/fov.js';
import { resizeImage, resizeLabels } from './preprocess/resize.js';
import { loadPrepared } from './load.js';
import { headerGeometry } from './io/headers.js';

export { fastHeaderGeometry, headerGeometry } from './io/headers.js';

export const PREPARED_FORMAT = 'medsyn-prepared/1' as const;
/** Bumped whenever the preprocessing code changes its output: part of the cache key. */
export const PREPROCESS_VERSION = 1;

// ---------------------------------------------------------------------------------------------------------------
// One case

/** The prepared slices of one case (`count` = slices kept). */
export interface PreparedCase extends SliceArrays {
  readonly axis: Axis;
  /** Slices along the axis in the source volume. */
  readonly sourceSlices: number;
  /** Source slice index of each kept slice. */
  readonly sliceIndex: readonly number[];
  /** Foreground pixels of each kept slice. */
  readonly foreground: readonly number[];
  /** The square crop on the resampled plane. */
  readonly fov: SquareFov;
  /** Output pixel size in mm (null with spacing 'none'). */
  readonly pixelMm: number | null;
  /** Input intensity range mapped to [−1, 1], per channel. */
  readonly intensityRange: readonly (readonly [number, number])[];
}

function hasForeground(labels: Uint8Array): boolean {
  for (let i = 0; i < labels.length; i++) if (labels[i] !== 0) return true;
  return false;
}

/**
 * Preprocesses one loaded case into size × size slices. `targetSpacing` is the in-plane spacing in mm to resample
 * to (null: no resampling; required unless config.spacing is 'none').
 */
export function preprocessCase(image: IntensityVolume, label: LabelVolume, config: PrepareConfig, targetSpacing: number | null): PreparedCase {
  if (!image.size.every((n, i) => n === label.size[i])) {
    throw new DataError(label.source, `label grid ${label.size.join('×')} differs from its image's ${image.size.join('×')} (${image.source})`);
  }
  const axis = slicingAxis(image, config.axis);
  const C = image.components;
  const norm = normaliseIntensity(image.data, C, config.intensity); // whole volume, [Z, Y, X, C]
  const grid = { size: image.size, spacing: image.spacing, data: norm.data };

  let region: Region | null = null;
  if (config.fov.centre === 'foreground') region = labelRegion(label, axis);
  else if (config.fov.centre === 'content') region = contentRegion(grid, C, axis, config.fov.threshold);

  const [w, h] = planeSize(image, axis);
  const [su, sv] = planeSpacing(image, axis);
  const resample = config.spacing !== 'none';
  const t = resample ? (targetSpacing ?? (typeof config.spacing === 'number' ? config.spacing : null)) : null;
  if (resample && !(t !== null && t > 0)) throw new Error('preprocessCase: a target spacing is needed when config.spacing is not "none"');
  const fov = planFov(
    {
      region,
      planeSize: [w, h],
      resampledSize: t === null ? [w, h] : [resampledSize(w, su, t), resampledSize(h, sv, t)],
      ratio: t === null ? [1, 1] : [su / t, sv / t],
      pixelMm: t ?? 1,
    },
    config.fov,
  );

  const S = sliceCount(image, axis);
  const size = config.size;
  const sliceImages: Float32Array[] = [];
  const sliceLabels: Uint8Array[] = [];
  const sliceIndex: number[] = [];
  const foreground: number[] = [];
  const before = new Uint8Array(256); // label values present in the input
  const ld = label.data;
  for (let i = 0; i < ld.length; i++) before[ld[i]!] = 1;
  for (let k = 0; k < S; k++) {
    let lab = labelSlice(label, axis, k);
    if (config.dropEmpty && !hasForeground(lab.data)) continue; // empty before ⇒ empty after
    let img = imageSlice(grid, C, axis, k);
    if (t !== null) {
      img = resampleImage(img, t);
      lab = resampleLabels(lab, t);
    }
    img = resizeImage(cropSquare(img, fov, norm.background), size); // [size, size, C]
    lab = resizeLabels(cropSquareLabels(lab, fov), size); // [size, size]
    let fg = 0;
    const out = lab.data;
    for (let i = 0; i < out.length; i++) {
      const v = out[i]!;
      if (v !== 0) fg++;
      if (!before[v]) throw new Error(`internal: label value ${v} appeared in preprocessing of ${label.source}`);
    }
    if (config.dropEmpty && fg === 0) continue;
    sliceImages.push(img.data);
    sliceLabels.push(lab.data);
    sliceIndex.push(k);
    foreground.push(fg);
  }
  const px = size * size;
  const images = new Float32Array(sliceImages.length * px * C); // [S, H, W, C]
  const labels = new Uint8Array(sliceLabels.length * px); // [S, H, W]
  sliceImages.forEach((d, i) => images.set(d, i * px * C));
  sliceLabels.forEach((d, i) => labels.set(d, i * px));
  return {
    axis,
    sourceSlices: S,
    count: sliceIndex.length,
    height: size,
    width: size,
    channels: C,
    images,
    labels,
    sliceIndex,
    foreground,
    fov,
    pixelMm: t === null ? null : fov.sideMm / size,
    intensityRange: norm.ranges,
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Cache key

/** Every file a case reads: image (or its R, G, B channel files), label, and a MetaImage header's pixel data file. */
function caseFiles(entry: CaseEntry): string[] {
  const files = [entry.image, ...(entry.rgbChannels ?? []), entry.label];
  for (const f of [...files]) {
    if (f.toLowerCase().endsWith('.mhd') && fs.existsSync(f)) {
      const m = /ElementDataFile\s*=\s*(.+)/.exec(fs.readFileSync(f, 'utf8'));
      const data = m?.[1]?.trim();
      if (data && data !== 'LOCAL') files.push(path.join(path.dirname(f), data));
    }
  }
  return files;
}

/** [relative path, size, mtime ms] of every source file, sorted by path. */
export function sourceFingerprint(source: DatasetSource): [string, number, number][] {
  const root = path.resolve(source.root);
  const seen = new Map<string, [string, number, number]>();
  for (const entry of source.cases) {
    for (const file of caseFiles(entry)) {
      const abs = path.resolve(file); // readers list paths joined onto the root as given (absolute or cwd-relative)
      if (seen.has(abs)) continue;
      let st: fs.Stats;
      try {
        st = fs.statSync(abs);
      } catch {
        throw new DataError(abs, `file of case ${entry.id} not found`, 'check the dataset layout (see README, "Datasets")');
      }
      seen.set(abs, [path.relative(root, abs).split(path.sep).join('/'), st.size, Math.floor(st.mtimeMs)]);
    }
  }
  return [...seen.values()].sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
}

export function prepareCacheKey(source: DatasetSource, config: PrepareConfig): string {
  return configHash({
    format: PREPARED_FORMAT,
    preprocess: PREPROCESS_VERSION,
    medsyn: MEDSYN_VERSION,
    dataset: source.dataset,
    config,
    files: sourceFingerprint(source),
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Reading cases

/** How the pipeline reads cases; replaceable in tests. */
export interface CaseIO {
  /** Reads one case (image + label on the same grid, label values checked). */
  load(source: DatasetSource, entry: CaseEntry): Promise<{ image: IntensityVolume; label: LabelVolume }>;
  /** Size and spacing of a case's image without (if possible) reading its pixels: for the median spacing. */
  geometry(source: DatasetSource, entry: CaseEntry): Promise<Pick<Geometry, 'size' | 'spacing'>>;
}

export const DEFAULT_CASE_IO: CaseIO = {
  async load(source, entry) {
    const { loadCase } = await import('./readers/case.js');
    return loadCase(source, entry);
  },
  async geometry(_source, entry) {
    return headerGeometry(entry.image);
  },
};

function median(values: readonly number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

// ---------------------------------------------------------------------------------------------------------------
// Writing

/** One split's arrays. */
export interface SplitArrays {
  readonly images: Float32Array; // [N, H, W, C]
  readonly labels: Uint8Array; // [N, H, W]
}

/** Writes a complete prepared folder into `dir` (an empty folder): the split files first, the manifest last. */
export function writePrepared(dir: string, manifest: PreparedManifest, splits: Readonly<Record<SplitName, SplitArrays>>): void {
  const [H, W, C] = manifest.imageShape;
  for (const s of SPLITS) {
    const N = manifest.counts[s];
    const { images, labels } = splits[s];
    saveSafetensors(
      path.join(dir, `${s}.safetensors`),
      { images: tensor(images, [N, H, W, C]), labels: tensor(labels, [N, H, W]) },
      { format: PREPARED_FORMAT, split: s, configHash: manifest.configHash },
    );
  }
  writeJsonAtomic(path.join(dir, 'manifest.json'), manifest);
}

// ---------------------------------------------------------------------------------------------------------------
// The pipeline

/** Per-case provenance recorded in the manifest (`cases`). */
export interface PreparedCaseRecord {
  readonly id: string;
  readonly patient: string;
  readonly split: SplitName;
  readonly axis: Axis;
  readonly sourceSlices: number;
  readonly kept: number;
  /** Side of the square field of view, in mm (pixels with spacing 'none'). */
  readonly fovMm: number;
  /** Output pixel size in mm (null with spacing 'none'). */
  readonly pixelMm: number | null;
  readonly intensityRange: readonly (readonly [number, number])[];
}

/** The manifest as prepare.ts writes it: the contract of prepared.ts plus provenance. */
export interface PreparedManifestRecord extends PreparedManifest {
  /** The in-plane spacing (mm) slices were resampled to before cropping; null with spacing 'none'. */
  readonly targetSpacingMm: number | null;
  /** How targetSpacingMm was chosen. */
  readonly targetSpacingFrom: 'config' | 'median' | 'none';
  readonly cases: readonly PreparedCaseRecord[];
  /** What the reader's discovery skipped or chose (DatasetSource.notes). */
  readonly sourceNotes: readonly string[];
}

export interface PrepareOptions {
  readonly out: string;
  /** Preprocessing config (partial; defaults per modality, see preprocess/config.ts). */
  readonly config?: unknown;
  /** Rebuild even when the cache key matches. */
  readonly force?: boolean;
  /** Called after each case: (done, total, case id). When given, no progress line is drawn. */
  readonly onProgress?: (done: number, total: number, note: string) => void;
  /** No progress line on stderr. */
  readonly quiet?: boolean;
  readonly io?: CaseIO;
}

export interface PrepareResult {
  readonly manifest: PreparedManifest;
  readonly cacheHit: boolean;
  readonly dir: string;
}

/** Prepares an already discovered dataset (see prepareDataset). */
export async function prepareFromSource(source: DatasetSource, opts: PrepareOptions): Promise<PrepareResult> {
  const config = resolvePrepareConfig(opts.config ?? {}, source.modality);
  const dir = path.resolve(opts.out);
  if (source.cases.length === 0) throw new DataError(source.root, `no cases found for dataset ${source.dataset}`, 'check --root and the dataset layout');
  const key = prepareCacheKey(source, config);

  if (!opts.force && fs.existsSync(path.join(dir, 'manifest.json'))) {
    try {
      const existing = loadPrepared(dir);
      if (existing.manifest.configHash === key) return { manifest: existing.manifest, cacheHit: true, dir };
    } catch (err) {
      if (!(err instanceof MedsynError)) throw err; // a damaged cache is rebuilt
    }
  }

  if (fs.existsSync(dir) && !fs.existsSync(path.join(dir, 'manifest.json'))) {
    const st = fs.statSync(dir);
    if (!st.isDirectory() || fs.readdirSync(dir).length > 0) {
      throw new DataError(dir, 'exists and is not a prepared dataset (no manifest.json); preparing would replace it', 'choose a new or empty folder for --out');
    }
  }

  const io = opts.io ?? DEFAULT_CASE_IO;
  const patients = assignSplits(source, config);
  const splitOf = new Map<string, SplitName>();
  for (const s of SPLITS) for (const p of patients[s]) splitOf.set(p, s);
  const entries = [...source.cases].sort((a, b) => (a.patient < b.patient ? -1 : a.patient > b.patient ? 1 : a.id < b.id ? -1 : a.id > b.id ? 1 : 0));

  let manifest!: PreparedManifestRecord;
  removeStaleTemps(dir);
  await replaceDirAtomic(dir, async (tmp) => {
    // Target spacing.
    let targetSpacing: number | null = null;
    let targetSpacingFrom: PreparedManifestRecord['targetSpacingFrom'] = 'none';
    if (typeof config.spacing === 'number') {
      targetSpacing = config.spacing;
      targetSpacingFrom = 'config';
    } else if (config.spacing === 'median') {
      const spacings: number[] = [];
      for (const entry of entries) {
        const g = await io.geometry(source, entry);
        spacings.push(...planeSpacing(g, slicingAxis(g, config.axis)));
      }
      targetSpacing = median(spacings);
      targetSpacingFrom = 'median';
    }

    const bar = new Progress({ label: `prepare ${source.dataset}`, total: entries.length, unit: 'cases', silent: Boolean(opts.quiet || opts.onProgress) });
    const parts: Record<SplitName, PreparedCase[]> = { train: [], val: [], test: [] };
    const slices: Record<SplitName, SliceInfo[]> = { train: [], val: [], test: [] };
    const records: PreparedCaseRecord[] = [];
    let channels = -1;
    for (let i = 0; i < entries.length; i++) {
      const entry = entries[i]!;
      const split = splitOf.get(entry.patient)!;
      let loaded: { image: IntensityVolume; label: LabelVolume };
      try {
        loaded = await io.load(source, entry);
      } catch (err) {
        if (err instanceof MedsynError) throw err;
        throw new DataError(entry.image, `case ${entry.id} could not be read (${(err as Error).message ?? String(err)})`);
      }
      if (channels === -1) channels = loaded.image.components;
      else if (channels !== loaded.image.components) {
        throw new DataError(entry.image, `has ${loaded.image.components} channels where earlier cases have ${channels}`, 'a dataset must be all grey-level or all colour');
      }
      const pc = preprocessCase(loaded.image, loaded.label, config, targetSpacing);
      parts[split].push(pc);
      for (let k = 0; k < pc.count; k++) slices[split].push({ patient: entry.patient, case: entry.id, slice: pc.sliceIndex[k]!, foreground: pc.foreground[k]! });
      records.push({
        id: entry.id,
        patient: entry.patient,
        split,
        axis: pc.axis,
        sourceSlices: pc.sourceSlices,
        kept: pc.count,
        fovMm: pc.fov.sideMm,
        pixelMm: pc.pixelMm,
        intensityRange: pc.intensityRange,
      });
      bar.tick(1, entry.id);
      opts.onProgress?.(i + 1, entries.length, entry.id);
    }
    bar.finish();

    const counts = { train: slices.train.length, val: slices.val.length, test: slices.test.length };
    const total = counts.train + counts.val + counts.test;
    if (total === 0) {
      throw new DataError(source.root, `preparing ${source.dataset} gave no slices (${entries.length} cases, all slices empty)`, config.dropEmpty ? 'keep empty slices (dropEmpty: false / --keep-empty) or check the label files' : 'check the label files');
    }
    if (counts.train === 0) {
      throw new DataError(source.root, `preparing ${source.dataset} gave no training slices`, 'use more patients, other split fractions, or keep empty slices');
    }

    const S = config.size;
    const arrays = {} as Record<SplitName, SplitArrays>;
    for (const s of SPLITS) {
      const images = new Float32Array(counts[s] * S * S * channels); // [N, H, W, C]
      const labels = new Uint8Array(counts[s] * S * S); // [N, H, W]
      let n = 0;
      for (const pc of parts[s]) {
        images.set(pc.images, n * S * S * channels);
        labels.set(pc.labels, n * S * S);
        n += pc.count;
      }
      parts[s] = [];
      arrays[s] = { images, labels };
    }

    manifest = {
      format: PREPARED_FORMAT,
      dataset: source.dataset,
      modality: source.modality,
      classNames: [...source.classNames],
      imageShape: [S, S, channels],
      configHash: key,
      config: config as unknown as Record<string, unknown>,
      sourceRoot: path.resolve(source.root),
      patients,
      counts,
      slices,
      createdAt: new Date().toISOString(),
      medsynVersion: MEDSYN_VERSION,
      targetSpacingMm: targetSpacing,
      targetSpacingFrom,
      cases: records,
      sourceNotes: [...(source.notes ?? [])],
    };
    writePrepared(tmp, manifest, arrays);
  });
  return { manifest, cacheHit: false, dir };
}

/**
 * Discovers `dataset` under `root` with its reader and prepares it into `out` (see prepareFromSource). The CLI's
 * `medsyn data prepare`.
 */
export async function prepareDataset(opts: PrepareOptions & { readonly dataset: string; readonly root: string }): Promise<PrepareResult> {
  const { readerFor } = await import('./readers/index.js');
  const source = readerFor(opts.dataset).discover(opts.root);
  return prepareFromSource(source, opts);
}
