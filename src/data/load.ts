/**
 * Reading a prepared dataset (the contract is in prepared.ts). `loadPrepared` reads and checks the manifest and the
 * header of every split file at once (so a missing or truncated file is reported up front, by name); each split's
 * tensors are read on first use and kept.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { SPLITS, type PreparedDataset, type PreparedManifest, type SliceInfo, type SliceSplit, type SplitName } from './prepared.js';

const FORMAT = 'medsyn-prepared/1';
const REPREPARE = 'run `medsyn data prepare` again (with --force) to rebuild it';

interface HeaderEntry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads `length` bytes at `position` of an open file (fewer only at its end). */
function readAt(fd: number, target: Uint8Array, position: number): number {
  let done = 0;
  while (done < target.length) {
    const n = fs.readSync(fd, target, done, target.length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

/**
 * The JSON header of a safetensors file and the file's size; with `whole`, also the whole file in one fresh
 * ArrayBuffer (so tensors can be viewed in place, without a copy).
 */
function readSafetensors(file: string, whole: boolean): { header: Record<string, HeaderEntry>; dataStart: number; fileSize: number; bytes?: Uint8Array } {
  let fd: number;
  try {
    fd = fs.openSync(file, 'r');
  } catch {
    throw new DataError(file, 'missing: the prepared dataset is incomplete', REPREPARE);
  }
  try {
    const fileSize = fs.fstatSync(fd).size;
    const head = new Uint8Array(8);
    if (fileSize < 8 || readAt(fd, head, 0) !== 8) throw new DataError(file, 'truncated (no safetensors header)', REPREPARE);
    const headerLen = Number(Buffer.from(head.buffer).readBigUInt64LE(0));
    if (headerLen > 100_000_000 || 8 + headerLen > fileSize) throw new DataError(file, `corrupt: header length ${headerLen} exceeds the file size ${fileSize}`, REPREPARE);
    let bytes: Uint8Array | undefined;
    let json: Uint8Array;
    if (whole) {
      bytes = new Uint8Array(fileSize);
      if (readAt(fd, bytes, 0) !== fileSize) throw new DataError(file, 'could not be read completely', REPREPARE);
      json = bytes.subarray(8, 8 + headerLen);
    } else {
      json = new Uint8Array(headerLen);
      readAt(fd, json, 8);
    }
    let header: Record<string, HeaderEntry>;
    try {
      header = JSON.parse(Buffer.from(json.buffer, json.byteOffset, json.byteLength).toString('utf8'));
    } catch {
      throw new DataError(file, 'corrupt: the safetensors header is not JSON', REPREPARE);
    }
    return { header, dataStart: 8 + headerLen, fileSize, bytes };
  } finally {
    fs.closeSync(fd);
  }
}

function sameShape(a: readonly number[] | undefined, b: readonly number[]): boolean {
  return Array.isArray(a) && a.length === b.length && a.every((v, i) => v === b[i]);
}

/** Checks that `file` holds `images` F32 [N, H, W, C] and `labels` U8 [N, H, W], both inside the file. */
function checkTensors(file: string, info: ReturnType<typeof readSafetensors>, N: number, H: number, W: number, C: number): void {
  const { header, dataStart, fileSize } = info;
  const expect: Record<string, [string, number[]]> = { images: ['F32', [N, H, W, C]], labels: ['U8', [N, H, W]] };
  for (const [name, [dtype, shape]] of Object.entries(expect)) {
    const t = header[name];
    if (!t) throw new DataError(file, `has no tensor "${name}"`, REPREPARE);
    if (t.dtype !== dtype || !sameShape(t.shape, shape)) {
      throw new DataError(file, `tensor "${name}" is ${t.dtype} [${t.shape?.join(', ')}], the manifest promises ${dtype} [${shape.join(', ')}]`, REPREPARE);
    }
    const [begin, end] = Array.isArray(t.data_offsets) ? t.data_offsets : [NaN, NaN];
    const bytes = shape.reduce((a, b) => a * b, 1) * (dtype === 'F32' ? 4 : 1);
    if (!(Number.isInteger(begin) && Number.isInteger(end) && begin >= 0 && end - begin === bytes)) {
      throw new DataError(file, `corrupt: tensor "${name}" has data offsets [${t.data_offsets}] for ${bytes} bytes`, REPREPARE);
    }
    if (dataStart + end > fileSize) throw new DataError(file, `truncated: tensor "${name}" ends past the end of the file (${fileSize} bytes)`, REPREPARE);
  }
}

/** The split's tensors, viewed in place in the file's bytes when aligned (images [N, H, W, C], labels [N, H, W]). */
function readSplitFile(file: string, N: number, H: number, W: number, C: number): { images: Float32Array; labels: Uint8Array } {
  const info = readSafetensors(file, true);
  checkTensors(file, info, N, H, W, C);
  const bytes = info.bytes!;
  const at = (name: string): number => bytes.byteOffset + info.dataStart + info.header[name]!.data_offsets[0];
  const imgAt = at('images');
  const images = imgAt % 4 === 0 ? new Float32Array(bytes.buffer, imgAt, N * H * W * C) : new Float32Array(bytes.buffer.slice(imgAt, imgAt + N * H * W * C * 4));
  const labels = new Uint8Array(bytes.buffer, at('labels'), N * H * W);
  return { images, labels };
}

function readManifest(dir: string): PreparedManifest {
  const file = path.join(dir, 'manifest.json');
  if (!fs.existsSync(dir)) throw new DataError(dir, 'prepared dataset folder not found', 'run `medsyn data prepare --dataset … --root … --out ' + dir + '` first');
  if (!fs.existsSync(file)) throw new DataError(file, 'missing: not a prepared dataset (or an incomplete one)', 'run `medsyn data prepare` to write it');
  let m: PreparedManifest;
  try {
    m = JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new DataError(file, `is not valid JSON (${(err as Error).message})`, REPREPARE);
  }
  const bad = (what: string): never => {
    throw new DataError(file, `corrupt manifest: ${what}`, REPREPARE);
  };
  if (!m || typeof m !== 'object') bad('not an object');
  if (m.format !== FORMAT) bad(`format is ${JSON.stringify(m.format)}, this medsyn reads ${FORMAT}`);
  if (!Array.isArray(m.classNames) || m.classNames.length < 2) bad('classNames must list the background and at least one class');
  if (!Array.isArray(m.imageShape) || m.imageShape.length !== 3 || !m.imageShape.every((v) => Number.isInteger(v) && v > 0)) bad('imageShape must be [H, W, C]');
  if (typeof m.configHash !== 'string') bad('configHash missing');
  for (const s of SPLITS) {
    if (!Number.isInteger(m.counts?.[s]) || m.counts[s] < 0) bad(`counts.${s} missing`);
    if (!Array.isArray(m.slices?.[s]) || m.slices[s].length !== m.counts[s]) bad(`slices.${s} does not list counts.${s} = ${m.counts?.[s]} slices`);
    if (!Array.isArray(m.patients?.[s])) bad(`patients.${s} missing`);
  }
  return m;
}

/** Opens a prepared dataset folder; throws DataError naming the missing or corrupt file. */
export function loadPrepared(dir: string): PreparedDataset {
  const root = path.resolve(dir);
  const manifest = readManifest(root);
  const [H, W, C] = manifest.imageShape;
  for (const s of SPLITS) {
    const file = path.join(root, `${s}.safetensors`);
    checkTensors(file, readSafetensors(file, false), manifest.counts[s], H, W, C);
  }
  const numClasses = manifest.classNames.length;
  const cache = new Map<SplitName, SliceSplit>();

  const split = (name: SplitName): SliceSplit => {
    const hit = cache.get(name);
    if (hit) return hit;
    if (!SPLITS.includes(name)) throw new DataError(root, `unknown split "${name}"`, `use one of ${SPLITS.join(', ')}`);
    const file = path.join(root, `${name}.safetensors`);
    const N = manifest.counts[name];
    const { images: img, labels: lab } = readSplitFile(file, N, H, W, C);
    let maxLabel = 0;
    for (let i = 0; i < lab.length; i++) if (lab[i]! > maxLabel) maxLabel = lab[i]!;
    if (maxLabel >= numClasses) throw new DataError(file, `holds label ${maxLabel} but the manifest names ${numClasses} classes`, REPREPARE);
    for (let i = 0; i < img.length; i++) {
      const v = img[i]!;
      if (!(v >= -1 && v <= 1)) throw new DataError(file, `image value ${v} at index ${i} is outside [-1, 1]`, REPREPARE);
    }
    const result: SliceSplit = {
      name,
      count: N,
      height: H,
      width: W,
      channels: C,
      images: img, // [N, H, W, C]
      labels: lab, // [N, H, W]
      info: manifest.slices[name] as readonly SliceInfo[],
    };
    cache.set(name, result);
    return result;
  };

  return { dir: root, manifest, numClasses, split };
}

/** One-hot encoding of label maps: [N, H, W] class indices → Float32Array [N, H, W, K]. */
export function oneHot(labels: Uint8Array, numClasses: number): Float32Array {
  if (!(Number.isInteger(numClasses) && numClasses >= 1 && numClasses <= 256)) throw new RangeError(`numClasses must be 1–256, got ${numClasses}`);
  const out = new Float32Array(labels.length * numClasses); // [N, H, W, K]
  for (let i = 0; i < labels.length; i++) {
    const k = labels[i]!;
    if (k >= numClasses) throw new RangeError(`label ${k} at index ${i} is not below numClasses = ${numClasses}`);
    out[i * numClasses + k] = 1;
  }
  return out;
}
