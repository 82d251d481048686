/**
 * Reading and writing medical image files through ITK-wasm image-io (NIfTI, MetaImage .mha/.mhd+.raw, NRRD,
 * PNG, JPEG, TIFF, and the rest of ITK's formats), converted to medsyn's volumes. Errors name the file and the fix.
 */
import fs from 'node:fs';
import path from 'node:path';
import { readImageNode, writeImageNode } from '@itk-wasm/image-io';
import { Image, ImageType, IntTypes, FloatTypes, PixelTypes } from 'itk-wasm';
import { DataError } from '../../core/errors.js';
import { tempPathFor } from '../../core/atomic.js';
import { checkIntegrity } from './integrity.js';
import { IDENTITY_DIRECTION, voxelCount, type Geometry, type IntensityVolume, type LabelVolume, type Vec3 } from '../volume.js';

/** Suffixes medsyn recognises as images, longest first. */
export const IMAGE_SUFFIXES = ['.nii.gz', '.nii', '.mha', '.mhd', '.nrrd', '.nhdr', '.png', '.jpg', '.jpeg', '.tif', '.tiff', '.bmp'] as const;

export function imageSuffix(file: string): string | undefined {
  const lower = file.toLowerCase();
  return IMAGE_SUFFIXES.find((s) => lower.endsWith(s));
}

function checkReadable(file: string): void {
  if (!fs.existsSync(file)) throw new DataError(file, 'file not found', 'check the path and the dataset layout (see README, "Datasets")');
  const st = fs.statSync(file);
  if (!st.isFile()) throw new DataError(file, 'is not a file');
  if (st.size === 0) throw new DataError(file, 'file is empty (0 bytes)', 'the file is truncated: copy it again from the dataset archive');
  if (!imageSuffix(file)) {
    throw new DataError(file, `unrecognised image format`, `use one of ${IMAGE_SUFFIXES.join(', ')}`);
  }
  if (file.toLowerCase().endsWith('.mhd')) {
    const header = fs.readFileSync(file, 'utf8');
    const m = /ElementDataFile\s*=\s*(.+)/.exec(header);
    if (!m) throw new DataError(file, 'MetaImage header has no ElementDataFile line', 'the .mhd header is corrupt');
    const raw = path.join(path.dirname(file), m[1]!.trim());
    if (m[1]!.trim() !== 'LOCAL' && !fs.existsSync(raw)) {
      throw new DataError(file, `its pixel data file ${raw} is missing`, 'keep each .mhd next to its .raw file');
    }
  }
  checkIntegrity(file);
}

async function readItk(file: string): Promise<Image> {
  checkReadable(file);
  let image: Image;
  const exitCode = process.exitCode;
  try {
    image = await readImageNode(file);
  } catch (err) {
    process.exitCode = exitCode; // ITK-wasm's failed pipeline sets it; the error is ours to report
    const first = String(err).split('\n')[0]!.replace(/^Error:\s*/, '');
    throw new DataError(file, `cannot be read as an image (${first})`, 'the file is corrupt or truncated: copy it again from the dataset archive');
  }
  if (!image.data || image.size.some((s) => !(s > 0))) throw new DataError(file, 'image has no pixel data');
  const expected = image.size.reduce((a, b) => a * b, 1) * image.imageType.components;
  if (image.data.length !== expected) {
    throw new DataError(file, `holds ${image.data.length} values where its header promises ${expected}`, 'the file is truncated: copy it again');
  }
  if (image.imageType.dimension > 3) {
    throw new DataError(file, `is ${image.imageType.dimension}-D; medsyn reads 2D and 3D images`, 'split 4D series into 3D volumes first (e.g. one file per frame)');
  }
  return image;
}

function geometryOf(image: Image): Geometry {
  const d = image.imageType.dimension;
  const pad = (v: ArrayLike<number>, fill: number): Vec3 => [v[0] ?? fill, d > 1 ? (v[1] ?? fill) : fill, d > 2 ? (v[2] ?? fill) : fill];
  const direction = [...IDENTITY_DIRECTION];
  for (let r = 0; r < d; r++) for (let c = 0; c < d; c++) direction[r * 3 + c] = Number(image.direction[r * d + c]);
  return { size: pad(image.size, 1), spacing: pad(image.spacing, 1), origin: pad(image.origin, 0), direction };
}

export async function readIntensity(file: string): Promise<IntensityVolume> {
  const image = await readItk(file);
  const components = image.imageType.components;
  if (components !== 1 && components !== 3 && components !== 4) {
    throw new DataError(file, `has ${components} components per pixel; medsyn reads grey-level (1) or colour (3) images`);
  }
  let data: Float32Array = Float32Array.from(image.data as ArrayLike<number>);
  if (components === 4) data = dropAlpha(data); // RGBA photographs: keep RGB
  for (let i = 0; i < data.length; i++) {
    if (!Number.isFinite(data[i])) throw new DataError(file, `contains a non-finite value (${data[i]}) at voxel ${i}`, 'clean the image (replace NaN/Inf) before use');
  }
  return { kind: 'intensity', ...geometryOf(image), components: components === 4 ? 3 : components, data, source: file };
}

function dropAlpha(rgba: Float32Array): Float32Array {
  const out = new Float32Array((rgba.length / 4) * 3);
  for (let i = 0, j = 0; i < rgba.length; i += 4, j += 3) out.set(rgba.subarray(i, i + 3), j);
  return out;
}

/**
 * Reads a segmentation. Values must be non-negative integers below 256. Binary masks stored as 0/255 (common
 * for TIFF/PNG masks such as IDRiD's) are mapped to 0/1 when `binary255` is set.
 */
export async function readLabels(file: string, opts: { binary255?: boolean } = {}): Promise<LabelVolume> {
  const image = await readItk(file);
  let src = image.data as ArrayLike<number>;
  const components = image.imageType.components;
  if (components > 1) {
    // RGB(A) masks (some TIFF exports): a voxel is foreground if any channel is set; take the first channel's value.
    const n = src.length / components;
    const first = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      let v = 0;
      for (let c = 0; c < Math.min(components, 3); c++) v = Math.max(v, src[i * components + c]!);
      first[i] = v;
    }
    src = first;
  }
  const data = new Uint8Array(src.length);
  for (let i = 0; i < src.length; i++) {
    let v = src[i]!;
    if (opts.binary255 && v > 0) v = 1;
    if (!(Number.isInteger(v) && v >= 0 && v < 256)) {
      throw new DataError(file, `label map holds the value ${v} at voxel ${i}; labels must be integers 0–255`, 'is this an image rather than its segmentation?');
    }
    data[i] = v;
  }
  return { kind: 'label', ...geometryOf(image), data, source: file };
}

export type StoredComponentType = 'uint8' | 'int16' | 'uint16' | 'float32';

const COMPONENT_TYPES = { uint8: IntTypes.UInt8, int16: IntTypes.Int16, uint16: IntTypes.UInt16, float32: FloatTypes.Float32 } as const;
const ARRAYS = { uint8: Uint8Array, int16: Int16Array, uint16: Uint16Array, float32: Float32Array } as const;

/**
 * Writes a volume in the format its suffix names. 2D formats (PNG/JPEG/TIFF) get a 2D image when nz = 1.
 * Written atomically: the file (and a MetaImage's .raw) appear complete or not at all.
 */
export async function writeVolume(
  file: string,
  volume: IntensityVolume | LabelVolume,
  opts: { componentType?: StoredComponentType; compress?: boolean } = {},
): Promise<void> {
  const componentType = opts.componentType ?? (volume.kind === 'label' ? 'uint8' : 'float32');
  const components = volume.kind === 'intensity' ? volume.components : 1;
  const dimension = volume.size[2] === 1 && /\.(png|jpe?g|tiff?|bmp)$/i.test(file) ? 2 : 3;
  const image = new Image(new ImageType(dimension, COMPONENT_TYPES[componentType], components === 1 ? PixelTypes.Scalar : PixelTypes.RGB, components));
  image.size = volume.size.slice(0, dimension);
  image.spacing = volume.spacing.slice(0, dimension);
  image.origin = volume.origin.slice(0, dimension);
  const dir = new Float64Array(dimension * dimension);
  for (let r = 0; r < dimension; r++) for (let c = 0; c < dimension; c++) dir[r * dimension + c] = volume.direction[r * 3 + c]!;
  image.direction = dir;
  const Ctor = ARRAYS[componentType];
  const out = new Ctor(voxelCount(volume.size) * components);
  const [lo, hi] = componentType === 'uint8' ? [0, 255] : componentType === 'int16' ? [-32768, 32767] : componentType === 'uint16' ? [0, 65535] : [-Infinity, Infinity];
  const round = componentType !== 'float32';
  for (let i = 0; i < out.length; i++) {
    const v = volume.data[i]!;
    out[i] = Math.min(hi, Math.max(lo, round ? Math.round(v) : v));
  }
  image.data = out;

  fs.mkdirSync(path.dirname(path.resolve(file)), { recursive: true });
  const isMhd = file.toLowerCase().endsWith('.mhd');
  // A temp name with the same suffix (ITK picks the writer by suffix); MetaImage writes stem.raw beside stem.mhd.
  const suffix = imageSuffix(file) ?? path.extname(file);
  const tmpStem = tempPathFor(file.slice(0, file.length - suffix.length));
  const tmp = tmpStem + suffix;
  try {
    await writeImageNode(image, tmp, { useCompression: opts.compress ?? /\.(gz|mha|nrrd)$/i.test(file) });
    if (isMhd) {
      // ITK named the pixel file after the temporary stem (.raw, or .zraw when compressed): give it the final stem.
      const header = fs.readFileSync(tmp, 'utf8');
      const written = /ElementDataFile\s*=\s*(.+)/.exec(header)![1]!.trim();
      const dataName = path.basename(file.slice(0, -4)) + path.extname(written);
      fs.writeFileSync(tmp, header.replace(/ElementDataFile\s*=.*/, `ElementDataFile = ${dataName}`));
      fs.renameSync(path.join(path.dirname(tmp), written), path.join(path.dirname(file), dataName));
    }
    fs.renameSync(tmp, file);
  } catch (err) {
    fs.rmSync(tmp, { force: true });
    if (isMhd) for (const ext of ['.raw', '.zraw']) fs.rmSync(tmpStem + ext, { force: true });
    throw err;
  }
}
