/**
 * Reads a PyTorch state dict (`torch.save(model.state_dict(), f)`) without Python.
 *
 * Two container formats (PyTorch `torch/serialization.py`):
 * - zip (PyTorch ≥ 1.6 default): `<prefix>/data.pkl` (the pickled object) and `<prefix>/data/<key>` (raw
 *   little-endian storage bytes), entries stored or deflated. Read with a small central-directory reader
 *   and `node:zlib` `inflateRawSync`.
 * - legacy (`_use_new_zipfile_serialization=False`, and files written before PyTorch 1.6 such as the
 *   pytorch-fid Inception weights may be): five consecutive pickles — magic number 0x1950a86a20f9469cfc6c,
 *   protocol version 1001, sys_info, the object, the list of storage keys — then, per key in that order, an
 *   int64 element count and the raw storage bytes.
 *
 * The unpickler is minimal: the opcodes pickle protocols 2–4 emit for a dict of tensors (GLOBAL/STACK_GLOBAL,
 * REDUCE, BUILD, NEWOBJ, memo, tuples, lists, dicts, ints, floats, strings, bytes, persistent ids).
 * Only a few callables are allowed (`torch._utils._rebuild_tensor_v2`, `_rebuild_parameter`,
 * `collections.OrderedDict`, storage classes); anything else is kept as an opaque reference, never run.
 */
import fs from 'node:fs';
import zlib from 'node:zlib';
import { DataError } from '../core/errors.js';
import type { NamedTensor, SafetensorsDtype, TypedArray } from '../core/safetensors.js';

// ---------------------------------------------------------------------------------------------------------------
// zip

interface ZipEntry { name: string; method: number; compSize: number; size: number; localOffset: number }

function readZipEntries(buf: Buffer, file: string): Map<string, ZipEntry> {
  const fail = (what: string): never => {
    throw new DataError(file, `not a readable PyTorch zip checkpoint (${what})`);
  };
  // End of central directory: signature 0x06054b50 within the last 65557 bytes.
  let eocd = -1;
  for (let p = buf.length - 22; p >= Math.max(0, buf.length - 65557); p--) {
    if (buf.readUInt32LE(p) === 0x06054b50) { eocd = p; break; }
  }
  if (eocd < 0) fail('no end-of-central-directory record');
  let count = buf.readUInt16LE(eocd + 10);
  let cdOffset = buf.readUInt32LE(eocd + 16);
  if (count === 0xffff || cdOffset === 0xffffffff) {
    // zip64 end-of-central-directory locator just before the EOCD
    const loc = eocd - 20;
    if (loc < 0 || buf.readUInt32LE(loc) !== 0x07064b50) fail('zip64 locator missing');
    const z64 = Number(buf.readBigUInt64LE(loc + 8));
    if (buf.readUInt32LE(z64) !== 0x06064b50) fail('zip64 end-of-central-directory record missing');
    count = Number(buf.readBigUInt64LE(z64 + 32));
    cdOffset = Number(buf.readBigUInt64LE(z64 + 48));
  }
  const entries = new Map<string, ZipEntry>();
  let p = cdOffset;
  for (let i = 0; i < count; i++) {
    if (p + 46 > buf.length || buf.readUInt32LE(p) !== 0x02014b50) fail(`bad central directory entry ${i}`);
    const method = buf.readUInt16LE(p + 10);
    let compSize = buf.readUInt32LE(p + 20);
    let size = buf.readUInt32LE(p + 24);
    const nameLen = buf.readUInt16LE(p + 28);
    const extraLen = buf.readUInt16LE(p + 30);
    const commentLen = buf.readUInt16LE(p + 32);
    let localOffset = buf.readUInt32LE(p + 42);
    const name = buf.toString('utf8', p + 46, p + 46 + nameLen);
    // zip64 extended information extra field (id 1): only the fields that are 0xffffffff above, in this order
    let e = p + 46 + nameLen;
    const eEnd = e + extraLen;
    while (e + 4 <= eEnd) {
      const id = buf.readUInt16LE(e);
      const len = buf.readUInt16LE(e + 2);
      if (id === 1) {
        let q = e + 4;
        if (size === 0xffffffff) { size = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (compSize === 0xffffffff) { compSize = Number(buf.readBigUInt64LE(q)); q += 8; }
        if (localOffset === 0xffffffff) { localOffset = Number(buf.readBigUInt64LE(q)); q += 8; }
      }
      e += 4 + len;
    }
    entries.set(name, { name, method, compSize, size, localOffset });
    p = eEnd + commentLen;
  }
  return entries;
}

function readZipEntry(buf: Buffer, entry: ZipEntry, file: string): Buffer {
  const p = entry.localOffset;
  if (buf.readUInt32LE(p) !== 0x04034b50) throw new DataError(file, `zip entry ${entry.name}: bad local header`);
  const start = p + 30 + buf.readUInt16LE(p + 26) + buf.readUInt16LE(p + 28);
  const raw = buf.subarray(start, start + entry.compSize);
  if (entry.method === 0) return raw;
  if (entry.method === 8) return zlib.inflateRawSync(raw);
  throw new DataError(file, `zip entry ${entry.name}: unsupported compression method ${entry.method}`);
}

// ---------------------------------------------------------------------------------------------------------------
// pickle

/** A module attribute named by GLOBAL / STACK_GLOBAL (never imported or called unless allow-listed). */
export class PickleGlobal {
  constructor(readonly module: string, readonly name: string) {}
  get qualified(): string { return `${this.module}.${this.name}`; }
}
/** The result of calling a global that is not allow-listed: kept as data. */
export class PickleCall {
  state: unknown;
  constructor(readonly fn: PickleGlobal, readonly args: unknown[]) {}
}
/** A dict (keys may be any hashable pickle value; strings and numbers are what state dicts use). */
export class PickleDict {
  readonly map = new Map<unknown, unknown>();
  state: unknown;
}
/** A storage referenced by a persistent id ('storage', <StorageClass>, key, location, numel[, view]). */
export class StorageRef {
  /** `viewOffset`: element offset of a legacy storage view (view_metadata (view_key, offset, size)) into `key` */
  constructor(readonly dtype: StorageDtype, readonly key: string, readonly location: string, readonly numel: number, readonly viewOffset = 0) {}
}
/** A tensor view of a storage (`torch._utils._rebuild_tensor_v2`). */
export class TensorRef {
  constructor(readonly storage: StorageRef, readonly offset: number, readonly shape: number[], readonly stride: number[]) {}
}

type StorageDtype = 'float32' | 'float64' | 'float16' | 'bfloat16' | 'int64' | 'int32' | 'int16' | 'int8' | 'uint8' | 'bool';
const STORAGE_CLASSES: Record<string, StorageDtype> = {
  FloatStorage: 'float32', DoubleStorage: 'float64', HalfStorage: 'float16', BFloat16Storage: 'bfloat16',
  LongStorage: 'int64', IntStorage: 'int32', ShortStorage: 'int16', CharStorage: 'int8', ByteStorage: 'uint8',
  BoolStorage: 'bool',
};
const ELEMENT_SIZE: Record<StorageDtype, number> = {
  float32: 4, float64: 8, float16: 2, bfloat16: 2, int64: 8, int32: 4, int16: 2, int8: 1, uint8: 1, bool: 1,
};

function toNumber(v: unknown): number {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  throw new Error(`expected an integer, got ${describe(v)}`);
}
function describe(v: unknown): string {
  if (v instanceof PickleGlobal) return `global ${v.qualified}`;
  if (v instanceof PickleCall) return `call of ${v.fn.qualified}`;
  if (Array.isArray(v)) return 'tuple/list';
  return typeof v;
}

function storageFromPid(pid: unknown): StorageRef {
  if (!Array.isArray(pid) || pid[0] !== 'storage' || pid.length < 5) {
    throw new Error(`unsupported persistent id ${describe(pid)} (expected ('storage', class, key, location, numel))`);
  }
  const cls = pid[1];
  let dtype: StorageDtype | undefined;
  if (cls instanceof PickleGlobal) dtype = STORAGE_CLASSES[cls.name];
  if (!dtype) throw new Error(`unsupported storage class ${describe(cls)}`);
  // legacy format, PyTorch < 1.x storage views: pid[5] = (view_key, offset, view_size) into root storage pid[2]
  const view = pid[5];
  const viewOffset = Array.isArray(view) && view.length >= 2 ? toNumber(view[1]) : 0;
  return new StorageRef(dtype, String(pid[2]), String(pid[3]), toNumber(pid[4]), viewOffset);
}

function callGlobal(fn: unknown, args: unknown): unknown {
  if (!(fn instanceof PickleGlobal)) throw new Error(`REDUCE on ${describe(fn)}`);
  const a = Array.isArray(args) ? args : [];
  switch (fn.qualified) {
    case 'torch._utils._rebuild_tensor_v2':
    case 'torch._utils._rebuild_tensor': {
      const [storage, offset, size, stride] = a;
      if (!(storage instanceof StorageRef)) throw new Error('_rebuild_tensor_v2 without a storage');
      return new TensorRef(storage, toNumber(offset), (size as unknown[]).map(toNumber), (stride as unknown[]).map(toNumber));
    }
    case 'torch._utils._rebuild_parameter':
    case 'torch._utils._rebuild_parameter_with_state':
      return a[0];
    case 'collections.OrderedDict':
    case 'builtins.dict':
    case '__builtin__.dict': {
      const d = new PickleDict();
      if (Array.isArray(a[0])) for (const kv of a[0] as unknown[][]) d.map.set(kv[0], kv[1]);
      return d;
    }
    case 'builtins.set':
    case '__builtin__.set':
      return Array.isArray(a[0]) ? [...(a[0] as unknown[])] : [];
    default:
      return new PickleCall(fn, a);
  }
}

/**
 * Unpickles one object starting at `pos`; returns it and the position after STOP.
 * `persistentLoad` maps a persistent id to a value (torch: storage tuples).
 */
export function unpickle(buf: Buffer, pos = 0, persistentLoad: (pid: unknown) => unknown = storageFromPid): { value: unknown; end: number } {
  const stack: unknown[] = [];
  const marks: number[] = [];
  const memo = new Map<number, unknown>();
  const popMark = (): unknown[] => {
    const m = marks.pop();
    if (m === undefined) throw new Error('MARK missing');
    const items = stack.splice(m);
    return items;
  };
  const top = (): unknown => stack[stack.length - 1];
  const readLine = (): string => {
    const nl = buf.indexOf(0x0a, pos);
    if (nl < 0) throw new Error('unterminated line');
    const s = buf.toString('latin1', pos, nl);
    pos = nl + 1;
    return s;
  };
  const setItems = (target: unknown, items: unknown[]): void => {
    if (!(target instanceof PickleDict)) throw new Error(`SETITEM(S) on ${describe(target)}`);
    for (let i = 0; i + 1 < items.length; i += 2) target.map.set(items[i], items[i + 1]);
  };
  for (;;) {
    if (pos >= buf.length) throw new Error('unexpected end of pickle data (no STOP)');
    const op = buf[pos++];
    switch (op) {
      case 0x80: pos += 1; break; // PROTO
      case 0x95: pos += 8; break; // FRAME
      case 0x2e: return { value: stack.pop(), end: pos }; // STOP
      case 0x28: marks.push(stack.length); break; // MARK
      case 0x4e: stack.push(null); break; // NONE
      case 0x88: stack.push(true); break; // NEWTRUE
      case 0x89: stack.push(false); break; // NEWFALSE
      case 0x4a: stack.push(buf.readInt32LE(pos)); pos += 4; break; // BININT
      case 0x4b: stack.push(buf[pos]); pos += 1; break; // BININT1
      case 0x4d: stack.push(buf.readUInt16LE(pos)); pos += 2; break; // BININT2
      case 0x8a: { // LONG1
        const n = buf[pos++];
        let v = 0n;
        for (let i = n - 1; i >= 0; i--) v = (v << 8n) | BigInt(buf[pos + i]);
        if (n > 0 && buf[pos + n - 1] & 0x80) v -= 1n << BigInt(8 * n);
        pos += n;
        stack.push(v >= BigInt(Number.MIN_SAFE_INTEGER) && v <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(v) : v);
        break;
      }
      case 0x47: stack.push(buf.readDoubleBE(pos)); pos += 8; break; // BINFLOAT
      case 0x58: { const n = buf.readUInt32LE(pos); pos += 4; stack.push(buf.toString('utf8', pos, pos + n)); pos += n; break; } // BINUNICODE
      case 0x8c: { const n = buf[pos++]; stack.push(buf.toString('utf8', pos, pos + n)); pos += n; break; } // SHORT_BINUNICODE
      case 0x8d: { const n = Number(buf.readBigUInt64LE(pos)); pos += 8; stack.push(buf.toString('utf8', pos, pos + n)); pos += n; break; } // BINUNICODE8
      case 0x54: { const n = buf.readUInt32LE(pos); pos += 4; stack.push(buf.toString('latin1', pos, pos + n)); pos += n; break; } // BINSTRING
      case 0x55: { const n = buf[pos++]; stack.push(buf.toString('latin1', pos, pos + n)); pos += n; break; } // SHORT_BINSTRING
      case 0x42: { const n = buf.readUInt32LE(pos); pos += 4; stack.push(Uint8Array.prototype.slice.call(buf, pos, pos + n)); pos += n; break; } // BINBYTES
      case 0x43: { const n = buf[pos++]; stack.push(Uint8Array.prototype.slice.call(buf, pos, pos + n)); pos += n; break; } // SHORT_BINBYTES
      case 0x29: stack.push([]); break; // EMPTY_TUPLE
      case 0x5d: stack.push([]); break; // EMPTY_LIST
      case 0x7d: stack.push(new PickleDict()); break; // EMPTY_DICT
      case 0x74: stack.push(popMark()); break; // TUPLE
      case 0x6c: stack.push(popMark()); break; // LIST
      case 0x85: stack.push([stack.pop()]); break; // TUPLE1
      case 0x86: { const b = stack.pop(); const a = stack.pop(); stack.push([a, b]); break; } // TUPLE2
      case 0x87: { const c = stack.pop(); const b = stack.pop(); const a = stack.pop(); stack.push([a, b, c]); break; } // TUPLE3
      case 0x64: { const items = popMark(); const d = new PickleDict(); setItems(d, items); stack.push(d); break; } // DICT
      case 0x61: { const v = stack.pop(); (top() as unknown[]).push(v); break; } // APPEND
      case 0x65: { const items = popMark(); (top() as unknown[]).push(...items); break; } // APPENDS
      case 0x73: { const v = stack.pop(); const k = stack.pop(); setItems(top(), [k, v]); break; } // SETITEM
      case 0x75: { const items = popMark(); setItems(top(), items); break; } // SETITEMS
      case 0x30: stack.pop(); break; // POP
      case 0x31: popMark(); break; // POP_MARK
      case 0x32: stack.push(top()); break; // DUP
      case 0x71: memo.set(buf[pos++], top()); break; // BINPUT
      case 0x72: memo.set(buf.readUInt32LE(pos), top()); pos += 4; break; // LONG_BINPUT
      case 0x94: memo.set(memo.size, top()); break; // MEMOIZE
      case 0x68: stack.push(memo.get(buf[pos++])); break; // BINGET
      case 0x6a: stack.push(memo.get(buf.readUInt32LE(pos))); pos += 4; break; // LONG_BINGET
      case 0x63: { const module = readLine(); const name = readLine(); stack.push(new PickleGlobal(module, name)); break; } // GLOBAL
      case 0x93: { const name = String(stack.pop()); const module = String(stack.pop()); stack.push(new PickleGlobal(module, name)); break; } // STACK_GLOBAL
      case 0x52: { const args = stack.pop(); const fn = stack.pop(); stack.push(callGlobal(fn, args)); break; } // REDUCE
      case 0x81: { const args = stack.pop(); const cls = stack.pop(); stack.push(callGlobal(cls, args)); break; } // NEWOBJ
      case 0x62: { // BUILD: state for the object below; tensors and state dicts ignore it (hooks, _metadata)
        const state = stack.pop();
        const obj = top();
        if (obj instanceof PickleDict || obj instanceof PickleCall) obj.state = state;
        break;
      }
      case 0x51: stack.push(persistentLoad(stack.pop())); break; // BINPERSID
      default:
        throw new Error(`unsupported pickle opcode 0x${op.toString(16).padStart(2, '0')} at byte ${pos - 1}`);
    }
  }
}

// ---------------------------------------------------------------------------------------------------------------
// tensors

function halfToFloat(h: number): number {
  const s = h & 0x8000 ? -1 : 1;
  const e = (h >> 10) & 0x1f;
  const f = h & 0x3ff;
  if (e === 0) return s * f * 2 ** -24;
  if (e === 31) return f ? NaN : s * Infinity;
  return s * (1 + f / 1024) * 2 ** (e - 15);
}

/** Storage bytes → typed values (float16/bfloat16 widened to float32, bool to uint8, int8 kept as int16). */
function storageValues(bytes: Buffer, dtype: StorageDtype, numel: number): { dtype: SafetensorsDtype; data: TypedArray } {
  const need = numel * ELEMENT_SIZE[dtype];
  if (bytes.length < need) throw new Error(`storage holds ${bytes.length} bytes, ${need} expected`);
  const copy = Uint8Array.prototype.slice.call(bytes, 0, need) as Uint8Array; // aligned copy
  const dv = new DataView(copy.buffer);
  switch (dtype) {
    case 'float32': return { dtype: 'F32', data: new Float32Array(copy.buffer, 0, numel) };
    case 'float64': return { dtype: 'F64', data: new Float64Array(copy.buffer, 0, numel) };
    case 'int64': return { dtype: 'I64', data: new BigInt64Array(copy.buffer, 0, numel) };
    case 'int32': return { dtype: 'I32', data: new Int32Array(copy.buffer, 0, numel) };
    case 'int16': return { dtype: 'I16', data: new Int16Array(copy.buffer, 0, numel) };
    case 'uint8': case 'bool': return { dtype: 'U8', data: copy };
    case 'int8': return { dtype: 'I16', data: Int16Array.from(new Int8Array(copy.buffer, 0, numel)) };
    case 'float16': {
      const out = new Float32Array(numel);
      for (let i = 0; i < numel; i++) out[i] = halfToFloat(dv.getUint16(2 * i, true));
      return { dtype: 'F32', data: out };
    }
    case 'bfloat16': {
      const out = new Float32Array(numel);
      const u = new Uint32Array(out.buffer);
      for (let i = 0; i < numel; i++) u[i] = dv.getUint16(2 * i, true) << 16;
      return { dtype: 'F32', data: out };
    }
  }
}

function materialise(t: TensorRef, storage: { dtype: SafetensorsDtype; data: TypedArray }): NamedTensor {
  const shape = t.shape;
  const n = shape.reduce((a, b) => a * b, 1);
  const src = storage.data;
  const offset = t.offset + t.storage.viewOffset;
  let contiguous = true;
  for (let d = shape.length - 1, s = 1; d >= 0; d--) {
    if (shape[d] !== 1 && t.stride[d] !== s) contiguous = false;
    s *= shape[d];
  }
  let maxIndex = offset;
  for (let d = 0; d < shape.length; d++) if (shape[d] > 0) maxIndex += (shape[d] - 1) * t.stride[d];
  if (n > 0 && maxIndex >= src.length) throw new Error(`tensor view exceeds its storage (${src.length} elements)`);
  let data: TypedArray;
  if (contiguous) {
    data = src.slice(offset, offset + n) as TypedArray;
  } else {
    data = new (src.constructor as { new(n: number): TypedArray })(n);
    const idx = new Array<number>(shape.length).fill(0);
    for (let i = 0; i < n; i++) {
      let o = offset;
      for (let d = 0; d < shape.length; d++) o += idx[d] * t.stride[d];
      (data as unknown as { [k: number]: unknown })[i] = (src as unknown as { [k: number]: unknown })[o];
      for (let d = shape.length - 1; d >= 0; d--) { if (++idx[d] < shape[d]) break; idx[d] = 0; }
    }
  }
  return { dtype: storage.dtype, shape: [...shape], data };
}

function collectTensors(obj: unknown, file: string): Map<string, TensorRef> {
  let root = obj;
  // {'state_dict': {...}} wrappers (common in checkpoints)
  if (root instanceof PickleDict && root.map.get('state_dict') instanceof PickleDict) root = root.map.get('state_dict');
  if (!(root instanceof PickleDict)) {
    throw new DataError(file, `expected a state dict (a dict of tensors), found ${describe(root)}`);
  }
  const out = new Map<string, TensorRef>();
  for (const [k, v] of root.map) {
    if (v instanceof TensorRef) out.set(String(k), v);
  }
  if (out.size === 0) throw new DataError(file, 'the state dict holds no tensors');
  return out;
}

export interface TorchStateDict {
  /** tensors by name, in file order, row-major; float16/bfloat16 widened to F32 */
  readonly tensors: Record<string, NamedTensor>;
  /** 'zip' (PyTorch ≥ 1.6 default) or 'legacy' */
  readonly format: 'zip' | 'legacy';
}

const LEGACY_MAGIC = 0x1950a86a20f9469cfc6cn;

/** Parses a `.pth` buffer; `file` names the source in errors. */
export function decodeTorchStateDict(buf: Buffer, file = '.pth buffer'): TorchStateDict {
  const wrap = (what: string, f: () => TorchStateDict): TorchStateDict => {
    try {
      return f();
    } catch (err) {
      if (err instanceof DataError) throw err;
      throw new DataError(file, `cannot read PyTorch ${what} checkpoint: ${err instanceof Error ? err.message : String(err)}`);
    }
  };
  if (buf.length >= 4 && buf.readUInt32LE(0) === 0x04034b50) return wrap('zip', () => decodeZip(buf, file));
  if (buf.length >= 2 && buf[0] === 0x80) return wrap('legacy', () => decodeLegacy(buf, file));
  throw new DataError(file, 'not a PyTorch checkpoint (neither a zip archive nor a legacy pickle stream)',
    'pass the .pth written by torch.save, or a .safetensors file');
}

function decodeZip(buf: Buffer, file: string): TorchStateDict {
  const entries = readZipEntries(buf, file);
  const pkl = [...entries.keys()].find((n) => n === 'data.pkl' || n.endsWith('/data.pkl'));
  if (!pkl) throw new DataError(file, 'zip archive has no <prefix>/data.pkl');
  const prefix = pkl.slice(0, pkl.length - 'data.pkl'.length);
  const { value } = unpickle(readZipEntry(buf, entries.get(pkl)!, file));
  const refs = collectTensors(value, file);
  const cache = new Map<string, { dtype: SafetensorsDtype; data: TypedArray }>();
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, ref] of refs) {
    const s = ref.storage;
    let st = cache.get(s.key);
    if (!st) {
      const entry = entries.get(`${prefix}data/${s.key}`);
      if (!entry) throw new DataError(file, `storage ${s.key} of tensor ${name} missing from the archive`);
      st = storageValues(readZipEntry(buf, entry, file), s.dtype, s.numel);
      cache.set(s.key, st);
    }
    tensors[name] = materialise(ref, st);
  }
  return { tensors, format: 'zip' };
}

function decodeLegacy(buf: Buffer, file: string): TorchStateDict {
  let r = unpickle(buf, 0);
  const magic = r.value;
  if (!(magic === LEGACY_MAGIC || (typeof magic === 'number' && BigInt(magic) === LEGACY_MAGIC))) {
    throw new DataError(file, 'legacy pickle stream without the torch magic number (not written by torch.save?)');
  }
  r = unpickle(buf, r.end); // protocol version (1001)
  r = unpickle(buf, r.end); // sys_info
  const sysInfo = r.value;
  if (sysInfo instanceof PickleDict && sysInfo.map.get('little_endian') === false) {
    throw new DataError(file, 'big-endian legacy checkpoint is not supported');
  }
  const storages = new Map<string, StorageRef>();
  r = unpickle(buf, r.end, (pid) => {
    const s = storageFromPid(pid);
    if (!storages.has(s.key)) storages.set(s.key, s);
    return s;
  });
  const refs = collectTensors(r.value, file);
  r = unpickle(buf, r.end); // storage keys, in the order their data follows
  if (!Array.isArray(r.value)) throw new DataError(file, 'legacy checkpoint: storage key list missing');
  let pos = r.end;
  const data = new Map<string, { dtype: SafetensorsDtype; data: TypedArray }>();
  for (const k of r.value as unknown[]) {
    const key = String(k);
    const s = storages.get(key);
    if (!s) throw new DataError(file, `legacy checkpoint: storage ${key} is listed but never referenced`);
    const numel = Number(buf.readBigInt64LE(pos));
    pos += 8;
    const nbytes = numel * ELEMENT_SIZE[s.dtype];
    if (pos + nbytes > buf.length) throw new DataError(file, `legacy checkpoint truncated in storage ${key}`);
    data.set(key, storageValues(buf.subarray(pos, pos + nbytes), s.dtype, numel));
    pos += nbytes;
  }
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, ref] of refs) {
    const st = data.get(ref.storage.key);
    if (!st) throw new DataError(file, `storage ${ref.storage.key} of tensor ${name} has no data`);
    tensors[name] = materialise(ref, st);
  }
  return { tensors, format: 'legacy' };
}

/** Reads a `.pth` state dict from disk. */
export function loadTorchStateDict(file: string): TorchStateDict {
  let buf: Buffer;
  try {
    buf = fs.readFileSync(file);
  } catch (err) {
    throw new DataError(file, `cannot read: ${err instanceof Error ? err.message : String(err)}`);
  }
  return decodeTorchStateDict(buf, file);
}
