/**
 * The safetensors format (https://huggingface.co/docs/safetensors): an 8-byte little-endian header length,
 * a JSON header {name: {dtype, shape, data_offsets: [begin, end]}, "__metadata__": {string: string}},
 * then the raw little-endian tensor bytes. PyTorch, JAX and NumPy users load it with `safetensors`.
 * Used for checkpoints and for prepared datasets.
 */
import fs from 'node:fs';
import { writeFileAtomic } from './atomic.js';

export type SafetensorsDtype = 'F64' | 'F32' | 'I32' | 'I16' | 'U8' | 'I64' | 'U16';
export type TypedArray = Float64Array | Float32Array | Int32Array | Int16Array | Uint8Array | Uint16Array | BigInt64Array;

export interface NamedTensor {
  readonly dtype: SafetensorsDtype;
  readonly shape: readonly number[];
  readonly data: TypedArray;
}

const CTORS = {
  F64: Float64Array, F32: Float32Array, I32: Int32Array, I16: Int16Array, U8: Uint8Array, U16: Uint16Array, I64: BigInt64Array,
} as const;

export function dtypeOf(data: TypedArray): SafetensorsDtype {
  for (const [dtype, ctor] of Object.entries(CTORS)) if (data instanceof ctor) return dtype as SafetensorsDtype;
  throw new Error('unsupported typed array for safetensors');
}

export function tensor(data: TypedArray, shape: readonly number[]): NamedTensor {
  const n = shape.reduce((a, b) => a * b, 1);
  if (n !== data.length) throw new Error(`tensor shape [${shape.join(', ')}] holds ${n} values, data has ${data.length}`);
  return { dtype: dtypeOf(data), shape, data };
}

/** Serialises tensors (in the given key order) and string metadata. */
export function encodeSafetensors(tensors: Readonly<Record<string, NamedTensor>>, metadata: Readonly<Record<string, string>> = {}): Uint8Array {
  const header: Record<string, unknown> = {};
  if (Object.keys(metadata).length > 0) header.__metadata__ = metadata;
  let offset = 0;
  for (const [name, t] of Object.entries(tensors)) {
    header[name] = { dtype: t.dtype, shape: t.shape, data_offsets: [offset, offset + t.data.byteLength] };
    offset += t.data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8); // align the data section to 8 bytes
  const headerBytes = Buffer.from(json, 'utf8');
  const out = new Uint8Array(8 + headerBytes.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(headerBytes.length), true);
  out.set(headerBytes, 8);
  let pos = 8 + headerBytes.length;
  for (const t of Object.values(tensors)) {
    out.set(new Uint8Array(t.data.buffer, t.data.byteOffset, t.data.byteLength), pos);
    pos += t.data.byteLength;
  }
  return out;
}

export interface DecodedSafetensors {
  readonly tensors: Record<string, NamedTensor>;
  readonly metadata: Record<string, string>;
}

/** Parses a safetensors buffer; `source` names the file in error messages. */
export function decodeSafetensors(buf: Uint8Array, source = 'safetensors buffer'): DecodedSafetensors {
  const fail = (what: string): never => {
    throw new Error(`${source}: not a valid safetensors file (${what})`);
  };
  if (buf.length < 8) fail('shorter than its 8-byte header length');
  const headerLen = Number(new DataView(buf.buffer, buf.byteOffset, 8).getBigUint64(0, true));
  if (8 + headerLen > buf.length) fail(`header length ${headerLen} exceeds file size ${buf.length}`);
  let header: Record<string, { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] } | Record<string, string>>;
  try {
    header = JSON.parse(Buffer.from(buf.buffer, buf.byteOffset + 8, headerLen).toString('utf8'));
  } catch {
    return fail('header is not JSON');
  }
  const dataStart = 8 + headerLen;
  const tensors: Record<string, NamedTensor> = {};
  let metadata: Record<string, string> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') {
      metadata = entry as Record<string, string>;
      continue;
    }
    const { dtype, shape, data_offsets } = entry as { dtype: SafetensorsDtype; shape: number[]; data_offsets: [number, number] };
    const ctor = CTORS[dtype];
    if (!ctor) fail(`tensor ${name} has unsupported dtype ${dtype}`);
    const [begin, end] = data_offsets;
    if (dataStart + end > buf.length || begin > end) fail(`tensor ${name} offsets [${begin}, ${end}] are outside the file`);
    const count = shape.reduce((a, b) => a * b, 1);
    if ((end - begin) !== count * ctor.BYTES_PER_ELEMENT) fail(`tensor ${name} byte size does not match shape`);
    // Copy into an aligned buffer (the data section need not be aligned to the element size in foreign files).
    const bytes = Uint8Array.prototype.slice.call(buf, dataStart + begin, dataStart + end); // a copy, also for a Buffer
    tensors[name] = { dtype, shape, data: new ctor(bytes.buffer, 0, count) as TypedArray };
  }
  return { tensors, metadata };
}

export function saveSafetensors(file: string, tensors: Readonly<Record<string, NamedTensor>>, metadata: Readonly<Record<string, string>> = {}): void {
  writeFileAtomic(file, encodeSafetensors(tensors, metadata));
}

export function loadSafetensors(file: string): DecodedSafetensors {
  return decodeSafetensors(fs.readFileSync(file), file);
}
