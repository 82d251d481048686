/**
 * A safetensors reader written from the format specification alone (https://huggingface.co/docs/safetensors),
 * independent of src/core/safetensors.ts, to check that medsyn's checkpoints are valid files for other tools:
 * 8-byte little-endian unsigned header length N; N bytes of UTF-8 JSON mapping tensor names to
 * {dtype, shape, data_offsets: [begin, end]} (offsets relative to the byte after the header) plus an optional
 * "__metadata__" string → string map; then the data section, which the tensors must cover exactly, without overlap.
 */
import fs from 'node:fs';

const BYTES: Record<string, number> = { F64: 8, F32: 4, F16: 2, BF16: 2, I64: 8, I32: 4, I16: 2, I8: 1, U8: 1, BOOL: 1 };

export interface RawTensor {
  readonly dtype: string;
  readonly shape: number[];
  /** Values as numbers (F32/F64/I32/U8 only). */
  readonly values: number[];
}

export function readSafetensorsIndependently(file: string): { tensors: Record<string, RawTensor>; metadata: Record<string, string> } {
  const buf = fs.readFileSync(file);
  if (buf.length < 8) throw new Error('too short');
  const n = buf.readBigUInt64LE(0);
  if (n > BigInt(buf.length - 8)) throw new Error('header length beyond file');
  const headerText = buf.subarray(8, 8 + Number(n)).toString('utf8');
  if (!headerText.startsWith('{')) throw new Error('header must start with {');
  const header = JSON.parse(headerText) as Record<string, unknown>;
  const dataStart = 8 + Number(n);
  const dataLength = buf.length - dataStart;
  const metadata = (header.__metadata__ ?? {}) as Record<string, string>;
  for (const [k, v] of Object.entries(metadata)) if (typeof v !== 'string') throw new Error(`metadata ${k} is not a string`);
  const spans: [number, number][] = [];
  const tensors: Record<string, RawTensor> = {};
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets } = entry as { dtype: string; shape: number[]; data_offsets: [number, number] };
    const size = BYTES[dtype];
    if (!size) throw new Error(`${name}: unknown dtype ${dtype}`);
    if (!Array.isArray(shape) || shape.some((d) => !Number.isInteger(d) || d < 0)) throw new Error(`${name}: bad shape`);
    const [begin, end] = data_offsets;
    const count = shape.reduce((a, b) => a * b, 1);
    if (end - begin !== count * size) throw new Error(`${name}: ${end - begin} bytes for ${count} × ${size}`);
    if (begin < 0 || end > dataLength) throw new Error(`${name}: offsets outside data`);
    spans.push([begin, end]);
    const values: number[] = [];
    for (let i = 0; i < count; i++) {
      const at = dataStart + begin + i * size;
      values.push(dtype === 'F32' ? buf.readFloatLE(at) : dtype === 'F64' ? buf.readDoubleLE(at) : dtype === 'I32' ? buf.readInt32LE(at) : dtype === 'U8' ? buf.readUInt8(at) : NaN);
    }
    tensors[name] = { dtype, shape, values };
  }
  spans.sort((a, b) => a[0] - b[0]);
  let pos = 0;
  for (const [b, e] of spans) {
    if (b !== pos) throw new Error(`data section has a gap or overlap at byte ${pos}`);
    pos = e;
  }
  if (pos !== dataLength) throw new Error(`data section has ${dataLength - pos} trailing bytes`);
  return { tensors, metadata };
}
