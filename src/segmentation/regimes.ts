/**
 * The paper's training regimes for the downstream U-Net (section 3.4, Table 2), as a typed table, and the reader
 * for synthetic data: a samples folder as sampling writes it,
 *
 *   DIR/manifest.json                 (any JSON object; optional `samples` list, see below)
 *   DIR/images/sample_NNNNNN.png      8-bit grey or RGB, mapped 0..255 → [−1, 1]
 *   DIR/masks/sample_NNNNNN.png       8-bit grey, one class index per pixel
 *
 * (An RGB file whose three channels are equal everywhere counts as grey.)
 *
 * The test split is always the REAL one; a regime only says what the U-Net is trained on.
 */
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { ConfigError, DataError } from '../core/errors.js';
import { sha256 } from '../core/hash.js';
import type { SliceArrays } from '../data/prepared.js';

export interface RegimeSpec {
  readonly description: string;
  /** Trains on the real training split. */
  readonly real: boolean;
  /** Trains on synthetic samples from a samples folder. */
  readonly synthetic: boolean;
  /** Applies classic augmentation (flips, rotations, shifts) to the training batches. */
  readonly augment: boolean;
}

export const REGIMES = Object.freeze({
  real: { description: 'the real training split', real: true, synthetic: false, augment: false },
  augmented: { description: 'the real training split with classic augmentation (flips, rotations, shifts)', real: true, synthetic: false, augment: true },
  synthetic: { description: 'synthetic image+mask samples only', real: false, synthetic: true, augment: false },
  'real+synthetic': { description: 'the real training split and synthetic samples, concatenated', real: true, synthetic: true, augment: false },
} as const satisfies Record<string, RegimeSpec>);

export type RegimeId = keyof typeof REGIMES;
export const REGIME_IDS = Object.keys(REGIMES) as RegimeId[];

/** A regime with its samples folder when it needs one. */
export type RegimeChoice =
  | { readonly regime: 'real' | 'augmented' }
  | { readonly regime: 'synthetic' | 'real+synthetic'; readonly samplesDir: string };

/** Parses the CLI form: `real`, `augmented`, `synthetic:DIR`, `real+synthetic:DIR`. */
export function parseRegime(text: string): RegimeChoice {
  const colon = text.indexOf(':');
  const id = colon < 0 ? text : text.slice(0, colon);
  const dir = colon < 0 ? '' : text.slice(colon + 1);
  if (!(REGIME_IDS as string[]).includes(id)) {
    throw new ConfigError(`unknown training regime '${id}': use one of real, augmented, synthetic:DIR, real+synthetic:DIR`);
  }
  const regime = id as RegimeId;
  if (REGIMES[regime].synthetic) {
    if (!dir) throw new ConfigError(`regime '${regime}' needs a samples folder: write '${regime}:DIR' (DIR holds manifest.json, images/, masks/)`);
    return { regime: regime as 'synthetic' | 'real+synthetic', samplesDir: dir };
  }
  if (dir) throw new ConfigError(`regime '${regime}' takes no samples folder (got '${text}')`);
  return { regime: regime as 'real' | 'augmented' };
}

/** Images and label maps to train on: a SliceSplit, a samples folder, or a concatenation. */
export type SegmentationSet = SliceArrays;

export interface SampleFolder extends SegmentationSet {
  readonly dir: string;
  /** sha256 of manifest.json, for provenance. */
  readonly manifestHash: string;
  /** The sample ids read, in order (`sample_000000`, …). */
  readonly ids: readonly string[];
}

export interface LoadSampleOptions {
  readonly imageChannels: number;
  readonly numClasses: number;
  /** Expected [height, width] (or one number for square images). */
  readonly size: number | readonly [number, number];
  /** Read only the first `limit` samples (in id order). */
  readonly limit?: number;
  /** Files decoded at once. @default 8 */
  readonly concurrency?: number;
}

const SAMPLE_RE = /^(sample_\d{6,})\.png$/;

/**
 * Reads a samples folder into memory, checking every file: 8-bit PNG, the expected size and channels, label values
 * below `numClasses`, and one mask per image. Errors are DataErrors naming the file.
 */
export async function loadSampleFolder(dir: string, opts: LoadSampleOptions): Promise<SampleFolder> {
  const [height, width] = typeof opts.size === 'number' ? [opts.size, opts.size] : opts.size;
  const C = opts.imageChannels;
  if (C !== 1 && C !== 3) throw new ConfigError(`loadSampleFolder: imageChannels must be 1 or 3, got ${C}`);
  const manifestPath = path.join(dir, 'manifest.json');
  if (!fs.existsSync(manifestPath)) {
    throw new DataError(manifestPath, 'not found: this is not a samples folder', 'point at a folder written by `medsyn sample` (manifest.json, images/, masks/)');
  }
  const manifestText = fs.readFileSync(manifestPath, 'utf8');
  let manifest: unknown;
  try {
    manifest = JSON.parse(manifestText);
  } catch (err) {
    throw new DataError(manifestPath, `is not valid JSON (${(err as Error).message})`, 'the samples folder is corrupt: sample again');
  }
  const ids = sampleIds(dir, manifest, manifestPath);
  const chosen = opts.limit !== undefined ? ids.slice(0, opts.limit) : ids;
  if (opts.limit !== undefined && chosen.length < opts.limit) {
    throw new DataError(dir, `holds ${ids.length} samples, ${opts.limit} were asked for`, 'sample more images or ask for fewer');
  }
  if (chosen.length === 0) throw new DataError(path.join(dir, 'images'), 'holds no sample_NNNNNN.png files');

  const plane = height * width;
  const images = new Float32Array(chosen.length * plane * C);
  const labels = new Uint8Array(chosen.length * plane);
  const concurrency = Math.max(1, opts.concurrency ?? 8);
  let next = 0;
  // On failure, report the first bad sample in id order (not whichever decode happened to finish first).
  const failures: { index: number; error: unknown }[] = [];
  const worker = async (): Promise<void> => {
    for (let n = next++; n < chosen.length && failures.length === 0; n = next++) {
      try {
        await readSample(n);
      } catch (error) {
        failures.push({ index: n, error });
      }
    }
  };
  const readSample = async (n: number): Promise<void> => {
    const id = chosen[n]!;
    const imageFile = path.join(dir, 'images', `${id}.png`);
    const maskFile = path.join(dir, 'masks', `${id}.png`);
    const img = await decodePng(imageFile, height, width);
    if (img.channels !== C) {
      throw new DataError(imageFile, `has ${img.channels} channel(s), the dataset's images have ${C}`, 'sample from a GAN trained on this dataset');
    }
    for (let i = 0; i < plane * C; i++) images[n * plane * C + i] = img.data[i]! / 127.5 - 1;
    const mask = await decodePng(maskFile, height, width);
    if (mask.channels !== 1) throw new DataError(maskFile, `has ${mask.channels} channels; a mask is one class index per pixel (grey PNG)`);
    let max = 0;
    for (let i = 0; i < plane; i++) {
      const v = mask.data[i]!;
      if (v > max) max = v;
      labels[n * plane + i] = v;
    }
    if (max >= opts.numClasses) {
      throw new DataError(
        maskFile,
        `has label value ${max}, the dataset has ${opts.numClasses} classes (0..${opts.numClasses - 1})`,
        'masks must hold class indices, not display intensities (e.g. 255): sample from a GAN trained on this dataset',
      );
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, chosen.length) }, worker));
  if (failures.length > 0) throw failures.reduce((a, b) => (b.index < a.index ? b : a)).error;
  return { dir, manifestHash: sha256(manifestText).slice(0, 16), ids: chosen, count: chosen.length, height, width, channels: C, images, labels };
}

/** Sample ids from the manifest's `samples` list when it has one (strings or {id} / {image} objects), else from images/. */
function sampleIds(dir: string, manifest: unknown, manifestPath: string): string[] {
  const listed = (manifest as { samples?: unknown } | null)?.samples;
  if (Array.isArray(listed)) {
    return listed.map((s, i) => {
      const raw = typeof s === 'string' ? s : typeof s === 'object' && s ? ((s as { id?: unknown; image?: unknown }).id ?? (s as { image?: unknown }).image) : undefined;
      if (typeof raw !== 'string') throw new DataError(manifestPath, `samples[${i}] names no sample (expected a string or an object with "id" or "image")`);
      return path.basename(raw).replace(/\.png$/i, '');
    });
  }
  const imagesDir = path.join(dir, 'images');
  if (!fs.existsSync(imagesDir)) throw new DataError(imagesDir, 'not found', 'a samples folder holds images/ and masks/ next to manifest.json');
  return fs
    .readdirSync(imagesDir)
    .map((f) => SAMPLE_RE.exec(f)?.[1])
    .filter((id): id is string => id !== undefined)
    .sort();
}

async function decodePng(file: string, height: number, width: number): Promise<{ data: Uint8Array; channels: number }> {
  if (!fs.existsSync(file)) throw new DataError(file, 'not found', 'every sample needs images/<id>.png and masks/<id>.png');
  let decoded;
  try {
    const meta = await sharp(file).metadata();
    // The file's own channels, alpha dropped: grey stays one channel (sharp's raw output would otherwise be sRGB).
    const grey = (meta.channels ?? 3) <= 2;
    const pipeline = sharp(file).removeAlpha();
    const out = await (grey ? pipeline.toColourspace('b-w') : pipeline).raw().toBuffer({ resolveWithObject: true });
    decoded = { meta, out };
  } catch (err) {
    throw new DataError(file, `cannot be decoded as PNG (${String((err as Error).message).split('\n')[0]})`, 'the file is corrupt: sample again');
  }
  const { meta, out } = decoded;
  if (meta.format !== 'png') throw new DataError(file, `is ${meta.format ?? 'not an image'}, not PNG`);
  if (meta.depth !== 'uchar') throw new DataError(file, `is ${meta.depth}-valued; samples are 8-bit PNGs`);
  const { width: w, height: h, channels } = out.info;
  if (w !== width || h !== height) throw new DataError(file, `is ${w}×${h} pixels, expected ${width}×${height}`, 'sample at the dataset\'s size');
  // Grey content saved as RGB (sharp writes 1-channel raw input as RGB unless told 'b-w') reads as one channel.
  if (channels === 3 && isGreyRgb(out.data)) return { data: Uint8Array.from({ length: w * h }, (_, p) => out.data[p * 3]!), channels: 1 };
  return { data: out.data, channels };
}

function isGreyRgb(data: Uint8Array): boolean {
  for (let i = 0; i < data.length; i += 3) if (data[i] !== data[i + 1] || data[i] !== data[i + 2]) return false;
  return true;
}

/** Concatenates sets of the same image shape (e.g. real + synthetic). */
export function concatSets(...sets: SegmentationSet[]): SegmentationSet {
  if (sets.length === 0) throw new Error('concatSets: nothing to concatenate');
  const [first] = sets as [SegmentationSet, ...SegmentationSet[]];
  for (const s of sets) {
    if (s.height !== first.height || s.width !== first.width || s.channels !== first.channels) {
      throw new DataError('training set', `cannot concatenate ${s.height}×${s.width}×${s.channels} with ${first.height}×${first.width}×${first.channels} images`);
    }
  }
  const count = sets.reduce((a, s) => a + s.count, 0);
  const plane = first.height * first.width;
  const images = new Float32Array(count * plane * first.channels);
  const labels = new Uint8Array(count * plane);
  let n = 0;
  for (const s of sets) {
    images.set(s.images.subarray(0, s.count * plane * first.channels), n * plane * first.channels);
    labels.set(s.labels.subarray(0, s.count * plane), n * plane);
    n += s.count;
  }
  return { count, height: first.height, width: first.width, channels: first.channels, images, labels };
}
