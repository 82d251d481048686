/**
 * NumPy `.npy` reading and writing for feature matrices (format versions 1.0, 2.0 and 3.0; see
 * numpy/lib/format.py).
 *
 * Reading supports little- and big-endian float32/float64 (`<f4`, `<f8`, `>f4`, `>f8`), C or Fortran order (Fortran
 * arrays are transposed into C order), any number of dimensions. Anything else (integers, float16, structured or
 * object arrays, pickles, truncated files) is refused with a {@link DataError} that names the file and says how
 * to convert it. Writing produces version-1.0 files (2.0 when the header needs it) in C order, `<f4` or `<f8`,
 * byte-identical to `np.save` for the same array.
 */
import fs from 'node:fs';
import os from 'node:os';
import { writeFileAtomic } from '../core/atomic.js';
import { DataError } from '../core/errors.js';
import { featureMatrix, type FeatureMatrix } from './stats.js';

export type NpyDtype = '<f4' | '<f8';

export interface NpyArray {
  /** C-order data in the host's byte order */
  data: Float32Array | Float64Array;
  shape: number[];
  /** dtype of the data as returned (always little-endian float) */
  dtype: NpyDtype;
  /** descr as stored in the file */
  storedDescr: string;
  /** whether the file stored the array in Fortran order (the data returned is C order) */
  fortranOrder: boolean;
  version: [number, number];
}

const MAGIC = [0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]; // \x93NUMPY
const CONVERT_FIX = "convert it in Python, e.g. np.save(path, np.ascontiguousarray(arr, dtype=np.float32))";

if (os.endianness() !== 'LE') {
  // Typed arrays use the host byte order; all supported Node platforms are little-endian.
  throw new Error('npy: big-endian hosts are not supported');
}

function parseHeaderDict(text: string, file: string): { descr: string; fortranOrder: boolean; shape: number[] } {
  const t = text.trim();
  if (!t.startsWith('{') || !t.endsWith('}')) throw new DataError(file, `not a valid .npy header: ${JSON.stringify(t.slice(0, 80))}`);
  const descrM = /['"]descr['"]\s*:\s*(['"])([^'"]*)\1/.exec(t);
  if (!descrM) {
    if (/['"]descr['"]\s*:\s*\[/.test(t)) {
      throw new DataError(file, 'structured (record) arrays are not supported; features must be a plain 2-D float array', CONVERT_FIX);
    }
    throw new DataError(file, `.npy header has no usable 'descr': ${t}`);
  }
  const fo = /['"]fortran_order['"]\s*:\s*(True|False)/.exec(t);
  if (!fo) throw new DataError(file, `.npy header has no 'fortran_order': ${t}`);
  const sh = /['"]shape['"]\s*:\s*\(([^)]*)\)/.exec(t);
  if (!sh) throw new DataError(file, `.npy header has no 'shape': ${t}`);
  const shape = sh[1]
    .split(',')
    .map((x) => x.trim())
    .filter((x) => x.length > 0)
    .map((x) => {
      const v = Number(x.replace(/L$/, ''));
      if (!Number.isSafeInteger(v) || v < 0) throw new DataError(file, `invalid dimension ${JSON.stringify(x)} in .npy shape`);
      return v;
    });
  return { descr: descrM[2], fortranOrder: fo[1] === 'True', shape };
}

/** Parses the bytes of a .npy file. `file` is only used in error messages. */
export function parseNpy(buf: Uint8Array, file = '<buffer>'): NpyArray {
  if (buf.length < 10 || MAGIC.some((b, i) => buf[i] !== b)) {
    throw new DataError(file, 'not a NumPy .npy file (magic string \\x93NUMPY missing)', 'pass features saved with numpy.save (a .npz archive must be unpacked first)');
  }
  const major = buf[6];
  const minor = buf[7];
  const dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let headerLen: number;
  let start: number;
  if (major === 1) {
    headerLen = dv.getUint16(8, true);
    start = 10;
  } else if (major === 2 || major === 3) {
    if (buf.length < 12) throw new DataError(file, 'truncated .npy header');
    headerLen = dv.getUint32(8, true);
    start = 12;
  } else {
    throw new DataError(file, `unsupported .npy format version ${major}.${minor} (supported: 1.0, 2.0, 3.0)`);
  }
  if (start + headerLen > buf.length) throw new DataError(file, 'truncated .npy header');
  const headerBytes = buf.subarray(start, start + headerLen);
  const text = major === 3 ? new TextDecoder('utf-8').decode(headerBytes) : Buffer.from(headerBytes).toString('latin1');
  const { descr, fortranOrder, shape } = parseHeaderDict(text, file);
  let itemSize: number;
  let bigEndian = false;
  switch (descr) {
    case '<f4':
    case '=f4':
      itemSize = 4;
      break;
    case '<f8':
    case '=f8':
      itemSize = 8;
      break;
    case '>f4':
      itemSize = 4;
      bigEndian = true;
      break;
    case '>f8':
      itemSize = 8;
      bigEndian = true;
      break;
    default:
      throw new DataError(file, `unsupported dtype '${descr}' (only float32 '<f4' and float64 '<f8' feature arrays are read)`, CONVERT_FIX);
  }
  const count = shape.reduce((a, b) => a * b, 1);
  const dataStart = start + headerLen;
  const need = count * itemSize;
  if (buf.length - dataStart < need) {
    throw new DataError(file, `file is truncated: shape (${shape.join(', ')}) needs ${need} data bytes, found ${buf.length - dataStart}`);
  }
  // Copy into an aligned buffer (the header length is a multiple of 16/64, but the Buffer itself may not be aligned).
  const bytes = new Uint8Array(need);
  bytes.set(buf.subarray(dataStart, dataStart + need));
  if (bigEndian) {
    for (let i = 0; i < need; i += itemSize) bytes.subarray(i, i + itemSize).reverse();
  }
  let data: Float32Array | Float64Array = itemSize === 4 ? new Float32Array(bytes.buffer, 0, count) : new Float64Array(bytes.buffer, 0, count);
  if (fortranOrder && shape.length > 1) data = fortranToC(data, shape);
  return {
    data,
    shape,
    dtype: itemSize === 4 ? '<f4' : '<f8',
    storedDescr: descr,
    fortranOrder,
    version: [major, minor],
  };
}

/** Reorders Fortran-order (column-major) data of the given shape into C order. */
function fortranToC<T extends Float32Array | Float64Array>(src: T, shape: number[]): T {
  const n = shape.length;
  const out = new (src.constructor as { new (len: number): T })(src.length);
  if (n === 2) {
    const [r, c] = shape;
    for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[i * c + j] = src[j * r + i];
    return out;
  }
  // general: C index → multi-index → Fortran offset
  const fStride = new Array<number>(n);
  let s = 1;
  for (let k = 0; k < n; k++) {
    fStride[k] = s;
    s *= shape[k];
  }
  const idx = new Array<number>(n).fill(0);
  for (let ci = 0; ci < src.length; ci++) {
    let off = 0;
    for (let k = 0; k < n; k++) off += idx[k] * fStride[k];
    out[ci] = src[off];
    for (let k = n - 1; k >= 0; k--) {
      if (++idx[k] < shape[k]) break;
      idx[k] = 0;
    }
  }
  return out;
}

/** Reads a .npy file (see {@link parseNpy}). */
export function readNpy(path: string): NpyArray {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(path);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new DataError(path, code === 'ENOENT' ? 'file not found' : `cannot read file (${code ?? String(err)})`);
  }
  return parseNpy(buf, path);
}

/** Reads a 2-D (n, d) float32/float64 .npy file as a feature matrix (one row per sample). */
export function readNpyMatrix(path: string): FeatureMatrix {
  const a = readNpy(path);
  if (a.shape.length !== 2) {
    throw new DataError(
      path,
      `expected a 2-D feature array of shape (n_samples, n_features), got shape (${a.shape.join(', ')}${a.shape.length === 1 ? ',' : ''})`,
      a.shape.length === 1 ? 'reshape it with arr.reshape(-1, 1) (one feature) or arr.reshape(1, -1) (one sample) before saving' : 'reshape it to (n_samples, n_features) before saving',
    );
  }
  const [rows, cols] = a.shape;
  if (rows === 0 || cols === 0) throw new DataError(path, `feature array is empty (shape (${rows}, ${cols}))`);
  return featureMatrix(a.data, rows, cols, path);
}

/** Encodes an array as .npy bytes (C order; dtype from the array type unless given). */
export function encodeNpy(data: Float32Array | Float64Array, shape: number[], dtype?: NpyDtype): Uint8Array {
  const count = shape.reduce((a, b) => a * b, 1);
  if (count !== data.length) throw new RangeError(`encodeNpy: shape (${shape.join(', ')}) needs ${count} values, got ${data.length}`);
  const dt: NpyDtype = dtype ?? (data instanceof Float32Array ? '<f4' : '<f8');
  const shapeStr = shape.length === 1 ? `(${shape[0]},)` : `(${shape.join(', ')})`;
  // numpy/lib/format.py: sorted-key dict repr, spare spaces for growing axis 0 (GROWTH_AXIS_MAX_DIGITS = 21), then
  // space padding so that magic + length field + header is a multiple of 64 (ARRAY_ALIGN), ending with '\n'.
  let dict = `{'descr': '${dt}', 'fortran_order': False, 'shape': ${shapeStr}, }`;
  if (shape.length > 0) dict += ' '.repeat(Math.max(0, 21 - String(shape[0]).length));
  const hlen = dict.length + 1;
  let version = 1;
  let pre = 10;
  let padlen = 64 - ((pre + hlen) % 64);
  if (hlen + padlen > 0xffff) {
    version = 2;
    pre = 12;
    padlen = 64 - ((pre + hlen) % 64);
  }
  const headerLen = hlen + padlen;
  const padded = pre + headerLen;
  const header = dict + ' '.repeat(padlen) + '\n';
  const itemSize = dt === '<f4' ? 4 : 8;
  const out = new Uint8Array(padded + count * itemSize);
  out.set(MAGIC, 0);
  out[6] = version;
  out[7] = 0;
  const dv = new DataView(out.buffer);
  if (version === 1) dv.setUint16(8, headerLen, true);
  else dv.setUint32(8, headerLen, true);
  out.set(Buffer.from(header, 'latin1'), pre);
  const typed = dt === '<f4' ? (data instanceof Float32Array ? data : Float32Array.from(data)) : data instanceof Float64Array ? data : Float64Array.from(data);
  out.set(new Uint8Array(typed.buffer, typed.byteOffset, typed.byteLength), padded);
  return out;
}

/** Writes a .npy file atomically. */
export function writeNpy(path: string, data: Float32Array | Float64Array, shape: number[], dtype?: NpyDtype): void {
  writeFileAtomic(path, encodeNpy(data, shape, dtype));
}

/** Writes a feature matrix as a 2-D .npy file. */
export function writeNpyMatrix(path: string, m: FeatureMatrix, dtype?: NpyDtype): void {
  writeNpy(path, m.data, [m.rows, m.cols], dtype);
}
