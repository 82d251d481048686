/**
 * A few SIMD loops that run directly on the TF.js wasm backend's heap: a tiny WebAssembly module, assembled here
 * from its bytes (no compiler needed: CI has none), that imports the backend's own linear memory, so kernels pass
 * buffer offsets instead of copying operands in and out (as the native module in nativeModule.ts must).
 *
 * Used where a JS loop is slower than the TF.js ops it replaces: float64 division and square root in JS cost
 * ~9 ns per element on the fused Adam update, against ~2 ns here with f32x4. wasm's f32x4 arithmetic is IEEE
 * float32, rounded per operation, so results equal the stock kernels' bit for bit.
 *
 * `heapSimd(backend)` is null when the backend's memory cannot be imported (a shared, threaded build) or the
 * module does not instantiate (no SIMD): callers then run their JS loop.
 */
import type { BackendWasm } from './wasmOps.js';

export interface HeapSimd {
  /**
   * Adam on `bytes / 16` groups of four float32s at byte offsets p, m, v, g → pOut, mOut, vOut (the formula of
   * adamUpdate.ts); the constants are float32.
   */
  adam(p: number, m: number, v: number, g: number, pOut: number, mOut: number, vOut: number, bytes: number,
    b1: number, c1: number, b2: number, c2: number, eps: number, alpha: number, bc2: number): void;
}

// ---- a minimal WebAssembly encoder ----

const I32 = 0x7f;
const F32 = 0x7d;
const V128 = 0x7b;

function uleb(n: number): number[] {
  const out: number[] = [];
  do {
    let byte = n & 0x7f;
    n >>>= 7;
    if (n !== 0) byte |= 0x80;
    out.push(byte);
  } while (n !== 0);
  return out;
}

function sleb(n: number): number[] {
  const out: number[] = [];
  for (;;) {
    const byte = n & 0x7f;
    n >>= 7;
    if ((n === 0 && (byte & 0x40) === 0) || (n === -1 && (byte & 0x40) !== 0)) return [...out, byte];
    out.push(byte | 0x80);
  }
}

const vec = (items: number[][]): number[] => [...uleb(items.length), ...items.flat()];
const name = (s: string): number[] => [...uleb(s.length), ...Buffer.from(s, 'utf8')];
const section = (id: number, body: number[]): number[] => [id, ...uleb(body.length), ...body];

const op = {
  get: (i: number) => [0x20, ...uleb(i)],
  set: (i: number) => [0x21, ...uleb(i)],
  i32: (n: number) => [0x41, ...sleb(n)],
  i32Add: [0x6a],
  i32GeU: [0x4f],
  block: [0x02, 0x40],
  loop: [0x03, 0x40],
  brIf: (depth: number) => [0x0d, ...uleb(depth)],
  br: (depth: number) => [0x0c, ...uleb(depth)],
  end: [0x0b],
  simd: (code: number, ...imm: number[]) => [0xfd, ...uleb(code), ...imm],
};
/** v128.load / v128.store with alignment hint 1 byte (offsets need not be 16-byte aligned) and offset 0. */
const load = op.simd(0x00, 0, 0);
const store = op.simd(0x0b, 0, 0);
const splat = op.simd(0x13);
const add = op.simd(0xe4);
const sub = op.simd(0xe5);
const mul = op.simd(0xe6);
const div = op.simd(0xe7);
const sqrt = op.simd(0xe3);

/** The adam function: params 0–7 are i32 (offsets, bytes), 8–14 f32 (constants). */
function adamFunction(): { type: number[]; body: number[] } {
  const [P, M, V, G, PO, MO, VO, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
  const consts = [8, 9, 10, 11, 12, 13, 14]; // b1 c1 b2 c2 eps alpha bc2
  const K = 15; // i32 byte counter
  const [GI, MI, VI, B1, C1, B2, C2, EPS, ALPHA, BC2] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const at = (base: number) => [...op.get(base), ...op.get(K), ...op.i32Add];
  const code = [
    ...consts.flatMap((c, i) => [...op.get(c), ...splat, ...op.set(B1 + i)]),
    ...op.i32(0), ...op.set(K),
    ...op.block, ...op.loop,
    ...op.get(K), ...op.get(BYTES), ...op.i32GeU, ...op.brIf(1),
    ...at(G), ...load, ...op.set(GI),
    // m' = m·β₁ + g·(1 − β₁)
    ...at(M), ...load, ...op.get(B1), ...mul, ...op.get(GI), ...op.get(C1), ...mul, ...add, ...op.set(MI),
    // v' = v·β₂ + (g·g)·(1 − β₂)
    ...at(V), ...load, ...op.get(B2), ...mul, ...op.get(GI), ...op.get(GI), ...mul, ...op.get(C2), ...mul, ...add,
    ...op.set(VI),
    ...at(MO), ...op.get(MI), ...store,
    ...at(VO), ...op.get(VI), ...store,
    // p' = p − α·(m' / (√v' / bc2 + ε))
    ...at(PO), ...at(P), ...load,
    ...op.get(ALPHA), ...op.get(MI), ...op.get(VI), ...sqrt, ...op.get(BC2), ...div, ...op.get(EPS), ...add, ...div,
    ...mul, ...sub, ...store,
    ...op.get(K), ...op.i32(16), ...op.i32Add, ...op.set(K),
    ...op.br(0), ...op.end, ...op.end,
    ...op.end,
  ];
  const locals = vec([[...uleb(1), I32], [...uleb(10), V128]]);
  const body = [...locals, ...code];
  return { type: [0x60, ...vec([...Array(8).fill([I32]), ...Array(7).fill([F32])]), ...vec([])], body };
}

function moduleBytes(): Uint8Array {
  const adam = adamFunction();
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec([adam.type])),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec([uleb(0)])),
    ...section(7, vec([[...name('adam'), 0x00, ...uleb(0)]])),
    ...section(10, vec([[...uleb(adam.body.length), ...adam.body]])),
  ]);
}

// ---- instantiation against a backend's memory ----

interface WasmApi {
  Memory: abstract new (...args: never[]) => { readonly buffer: ArrayBuffer | SharedArrayBuffer };
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
}
const WA = (globalThis as unknown as { WebAssembly?: WasmApi }).WebAssembly;

let compiled: object | null | undefined;
const instances = new WeakMap<object, HeapSimd | null>();

/** The loops bound to `backend`'s heap, or null where they cannot run (see the file comment). */
export function heapSimd(backend: BackendWasm): HeapSimd | null {
  const memory = (backend.wasm as unknown as { asm?: { memory?: unknown } }).asm?.memory;
  if (!WA || !(memory instanceof WA.Memory) || !(memory.buffer instanceof ArrayBuffer)) return null;
  if (instances.has(memory)) return instances.get(memory)!;
  let simd: HeapSimd | null = null;
  try {
    if (compiled === undefined) compiled = new WA.Module(moduleBytes());
    if (compiled) simd = new WA.Instance(compiled, { env: { memory } }).exports as unknown as HeapSimd;
  } catch {
    compiled = null;
  }
  instances.set(memory, simd);
  return simd;
}
