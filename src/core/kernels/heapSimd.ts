/**
 * SIMD loops that run directly on the TF.js wasm backend's heap: a tiny WebAssembly module, assembled here from its
 * bytes (no compiler needed: CI has none), that imports the backend's own linear memory, so kernels pass buffer
 * offsets instead of copying operands in and out (as the native module in nativeModule.ts must).
 *
 * Used by the fused Adam update (a JS loop's float64 division and square root cost ~9 ns per element, f32x4 here
 * ~2 ns), row copies (SplitV, Concat, Slice), the 2×2 MaxPoolGrad, binary ops broadcasting a per-channel vector
 * or a per-row value, LeakyRelu and its gradient's Greater and Select. wasm's f32x4 arithmetic is IEEE float32,
 * rounded per operation, so results equal the stock kernels' bit for bit.
 *
 * `heapSimd(backend)` is null when the backend's memory cannot be imported (a shared, threaded build) or the
 * module does not instantiate (no SIMD): callers then run their JS loop or the stock kernel.
 */
import type { BackendWasm } from './wasmOps.js';

interface Loops {
  /**
   * Adam on `bytes / 16` groups of four float32s at byte offsets p, m, v, g → pOut, mOut, vOut (the formula of
   * adamUpdate.ts); the constants are float32.
   */
  adam(p: number, m: number, v: number, g: number, pOut: number, mOut: number, vOut: number, bytes: number,
    b1: number, c1: number, b2: number, c2: number, eps: number, alpha: number, bc2: number): void;
  /**
   * Copies `rows` runs of `run` bytes (a multiple of 16) from src, src + srcStride, … to dst, dst + dstStride, ….
   */
  copyRows(src: number, srcStride: number, dst: number, dstStride: number, run: number, rows: number): void;
  /**
   * MaxPoolGrad of one output row of a 2×2 stride-2 unpadded pool: x and dx at the top-left of the two input
   * rows (`rowBytes` apart), dy at the output row; `outWidth` windows of `channelBytes` (a multiple of 16) bytes.
   * Each window's dy (+ 0) goes to its first maximum (row-major, strict >, from −∞ (`negInf`)); the rest get 0.
   */
  maxPoolGrad2x2(x: number, dy: number, dx: number, outWidth: number, rowBytes: number, channelBytes: number,
    negInf: number): void;
  /** out[i] = x[i] < 0 ? alpha·x[i] : x[i] (float32) over `bytes` bytes (a multiple of 16). */
  leakyRelu(x: number, out: number, bytes: number, alpha: number): void;
  /** out[i] = x[i] > b ? 1 : 0 (float32 in, one byte out) over `count` elements (a multiple of 16). */
  greaterScalar(x: number, out: number, count: number, b: number): void;
  /** out[i] = cond[i] ≠ 0 ? t[i] : e[i] (cond one byte, t, e and out 4 bytes) over `count` elements (a multiple of 16). */
  select(cond: number, t: number, e: number, out: number, count: number): void;
}

export type BinaryOp = 'add' | 'sub' | 'mul' | 'div';

/**
 * out[r, k] = full[r, k] ∘ vec[k] (or vec[k] ∘ full[r, k] for the `…VecFull` names) over `rows` rows of
 * `channelBytes` (a multiple of 16) bytes of float32: a binary op broadcasting a per-channel vector.
 */
type BroadcastLoops = {
  readonly [K in `${BinaryOp}${'FullVec' | 'VecFull'}`]: (full: number, vec: number, out: number, rows: number,
    channelBytes: number) => void;
};

/**
 * out[r, k] = full[r, k] ∘ col[r] (or col[r] ∘ full[r, k] for `…ColFull`) over `rows` rows of `rowBytes` (a multiple
 * of 16) bytes of float32: a binary op broadcasting a tensor whose last dimension is 1.
 */
type RowLoops = {
  readonly [K in `${BinaryOp}${'FullCol' | 'ColFull'}`]: (full: number, col: number, out: number, rows: number,
    rowBytes: number) => void;
};

export type HeapSimd = Loops & BroadcastLoops & RowLoops;

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
const gt = op.simd(0x44);
const and = op.simd(0x4e);
const andNot = op.simd(0x4f);
const or = op.simd(0x50);
const bitselect = op.simd(0x52);

interface Func { readonly name: string; readonly params: number[]; readonly locals: [count: number, type: number][]; readonly code: number[] }

/** `code` while local `counter` < local `limit` (unsigned), then `counter` += `step`; counter starts at 0. */
function forLoop(counter: number, limit: number, step: number, code: number[]): number[] {
  return [
    ...op.i32(0), ...op.set(counter),
    ...op.block, ...op.loop,
    ...op.get(counter), ...op.get(limit), ...op.i32GeU, ...op.brIf(1),
    ...code,
    ...op.get(counter), ...op.i32(step), ...op.i32Add, ...op.set(counter),
    ...op.br(0), ...op.end, ...op.end,
  ];
}

/** local[i] += local[j] */
const addTo = (i: number, j: number) => [...op.get(i), ...op.get(j), ...op.i32Add, ...op.set(i)];

/** adam: params 0–7 are i32 (offsets, bytes), 8–14 f32 (constants). */
function adamFunction(): Func {
  const [P, M, V, G, PO, MO, VO, BYTES] = [0, 1, 2, 3, 4, 5, 6, 7];
  const consts = [8, 9, 10, 11, 12, 13, 14]; // b1 c1 b2 c2 eps alpha bc2
  const K = 15; // i32 byte counter
  const [GI, MI, VI, B1, C1, B2, C2, EPS, ALPHA, BC2] = [16, 17, 18, 19, 20, 21, 22, 23, 24, 25];
  const at = (base: number) => [...op.get(base), ...op.get(K), ...op.i32Add];
  const code = [
    ...consts.flatMap((c, i) => [...op.get(c), ...splat, ...op.set(B1 + i)]),
    ...forLoop(K, BYTES, 16, [
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
    ]),
  ];
  return { name: 'adam', params: [...Array(8).fill(I32), ...Array(7).fill(F32)], locals: [[1, I32], [10, V128]], code };
}

/** copyRows(src, srcStride, dst, dstStride, run, rows), all in bytes. */
function copyRowsFunction(): Func {
  const [SRC, SRC_STRIDE, DST, DST_STRIDE, RUN, ROWS, R, J] = [0, 1, 2, 3, 4, 5, 6, 7];
  const code = forLoop(R, ROWS, 1, [
    ...forLoop(J, RUN, 16, [
      ...op.get(DST), ...op.get(J), ...op.i32Add, ...op.get(SRC), ...op.get(J), ...op.i32Add, ...load, ...store,
    ]),
    ...addTo(SRC, SRC_STRIDE), ...addTo(DST, DST_STRIDE),
  ]);
  return { name: 'copyRows', params: Array(6).fill(I32), locals: [[2, I32]], code };
}

/** maxPoolGrad2x2(x, dy, dx, outWidth, rowBytes, channelBytes, negInf): see HeapSimd. */
function maxPoolGrad2x2Function(): Func {
  const [X, DY, DX, OUT_W, ROW, CH, NEG_INF] = [0, 1, 2, 3, 4, 5, 6];
  const [W, K] = [7, 8]; // i32: window counter, channel byte counter
  const [A, B, C, D, BEST, TA, TB, TC, TD, G, NEG, ZERO] = [9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20];
  /** x or dx address of corner (row, col) of the current window at channel K. */
  const corner = (base: number, row: number, col: number) => [
    ...op.get(base), ...op.get(K), ...op.i32Add,
    ...(col ? [...op.get(CH), ...op.i32Add] : []), ...(row ? [...op.get(ROW), ...op.i32Add] : []),
  ];
  const take = (value: number, flag: number) => [
    ...op.get(value), ...op.get(BEST), ...gt, ...op.set(flag),
    ...op.get(value), ...op.get(BEST), ...op.get(flag), ...bitselect, ...op.set(BEST),
  ];
  const code = [
    ...op.get(NEG_INF), ...splat, ...op.set(NEG),
    ...forLoop(W, OUT_W, 1, [
      ...forLoop(K, CH, 16, [
        ...corner(X, 0, 0), ...load, ...op.set(A),
        ...corner(X, 0, 1), ...load, ...op.set(B),
        ...corner(X, 1, 0), ...load, ...op.set(C),
        ...corner(X, 1, 1), ...load, ...op.set(D),
        ...op.get(NEG), ...op.set(BEST),
        ...take(A, TA), ...take(B, TB), ...take(C, TC), ...op.get(D), ...op.get(BEST), ...gt, ...op.set(TD),
        ...op.get(DY), ...op.get(K), ...op.i32Add, ...load, ...op.get(ZERO), ...add, ...op.set(G),
        // the last position taken wins: d if TD, c if TC and not TD, …
        ...corner(DX, 1, 1), ...op.get(G), ...op.get(TD), ...and, ...store,
        ...corner(DX, 1, 0), ...op.get(G), ...op.get(TC), ...op.get(TD), ...andNot, ...and, ...store,
        ...op.get(TC), ...op.get(TD), ...or, ...op.set(TD),
        ...corner(DX, 0, 1), ...op.get(G), ...op.get(TB), ...op.get(TD), ...andNot, ...and, ...store,
        ...op.get(TB), ...op.get(TD), ...or, ...op.set(TD),
        ...corner(DX, 0, 0), ...op.get(G), ...op.get(TA), ...op.get(TD), ...andNot, ...and, ...store,
      ]),
      // next window: x and dx move two pixels, dy one
      ...addTo(X, CH), ...addTo(X, CH), ...addTo(DX, CH), ...addTo(DX, CH), ...addTo(DY, CH),
    ]),
  ];
  return { name: 'maxPoolGrad2x2', params: [...Array(6).fill(I32), F32], locals: [[2, I32], [12, V128]], code };
}

/** `${op}FullVec` / `${op}VecFull`(full, vec, out, rows, channelBytes): see HeapSimd. */
function broadcastFunction(opName: BinaryOp, vecFirst: boolean): Func {
  const [FULL, VEC, OUT, ROWS, CH, R, K] = [0, 1, 2, 3, 4, 5, 6];
  const instr = { add, sub, mul, div }[opName];
  const fullValue = [...op.get(FULL), ...op.get(K), ...op.i32Add, ...load];
  const vecValue = [...op.get(VEC), ...op.get(K), ...op.i32Add, ...load];
  const code = forLoop(R, ROWS, 1, [
    ...forLoop(K, CH, 16, [
      ...op.get(OUT), ...op.get(K), ...op.i32Add,
      ...(vecFirst ? [...vecValue, ...fullValue] : [...fullValue, ...vecValue]), ...instr, ...store,
    ]),
    ...addTo(FULL, CH), ...addTo(OUT, CH),
  ]);
  return { name: `${opName}${vecFirst ? 'VecFull' : 'FullVec'}`, params: Array(5).fill(I32), locals: [[2, I32]], code };
}

const lt = op.simd(0x43);
const i8Ne = op.simd(0x24);
const i8Neg = op.simd(0x61);
const i8NarrowI16 = op.simd(0x65);
const i16NarrowI32 = op.simd(0x85);
const i16ExtendLowI8 = op.simd(0x87);
const i16ExtendHighI8 = op.simd(0x88);
const i32ExtendLowI16 = op.simd(0xa7);
const i32ExtendHighI16 = op.simd(0xa8);

/** leakyRelu(x, out, bytes, alpha) */
function leakyReluFunction(): Func {
  const [X, OUT, BYTES, ALPHA, K, XV, A, ZERO] = [0, 1, 2, 3, 4, 5, 6, 7];
  const at = (base: number) => [...op.get(base), ...op.get(K), ...op.i32Add];
  const code = [
    ...op.get(ALPHA), ...splat, ...op.set(A),
    ...forLoop(K, BYTES, 16, [
      ...at(X), ...load, ...op.set(XV),
      // bitselect(α·x, x, x < 0)
      ...at(OUT), ...op.get(A), ...op.get(XV), ...mul, ...op.get(XV), ...op.get(XV), ...op.get(ZERO), ...lt, ...bitselect,
      ...store,
    ]),
  ];
  return { name: 'leakyRelu', params: [I32, I32, I32, F32], locals: [[1, I32], [3, V128]], code };
}

/** greaterScalar(x, out, count, b): 16 floats → 16 bytes per step. */
function greaterScalarFunction(): Func {
  const [X, OUT, COUNT, B, K, BV] = [0, 1, 2, 3, 4, 5];
  const quarter = (q: number) => [...op.get(X), ...op.get(K), ...op.get(K), ...op.i32Add, ...op.get(K), ...op.i32Add,
    ...op.get(K), ...op.i32Add, ...op.i32Add, ...(q ? [...op.i32(16 * q), ...op.i32Add] : []), ...load, ...op.get(BV), ...gt];
  const code = [
    ...op.get(B), ...splat, ...op.set(BV),
    ...forLoop(K, COUNT, 16, [
      ...op.get(OUT), ...op.get(K), ...op.i32Add,
      ...quarter(0), ...quarter(1), ...i16NarrowI32, ...quarter(2), ...quarter(3), ...i16NarrowI32, ...i8NarrowI16,
      ...i8Neg, ...store,
    ]),
  ];
  return { name: 'greaterScalar', params: [I32, I32, I32, F32], locals: [[1, I32], [1, V128]], code };
}

/** select(cond, t, e, out, count): 16 elements per step. */
function selectFunction(): Func {
  const [COND, T, E, OUT, COUNT, K, MASK, ZERO, HALF] = [0, 1, 2, 3, 4, 5, 6, 7, 8];
  const addr = (base: number, q: number) => [...op.get(base), ...op.get(K), ...op.get(K), ...op.i32Add, ...op.get(K),
    ...op.i32Add, ...op.get(K), ...op.i32Add, ...op.i32Add, ...(q ? [...op.i32(16 * q), ...op.i32Add] : [])];
  const quarter = (q: number) => [
    ...addr(OUT, q), ...addr(T, q), ...load, ...addr(E, q), ...load,
    ...op.get(HALF), ...(q % 2 ? i32ExtendHighI16 : i32ExtendLowI16), ...bitselect, ...store,
  ];
  const code = forLoop(K, COUNT, 16, [
    ...op.get(COND), ...op.get(K), ...op.i32Add, ...load, ...op.get(ZERO), ...i8Ne, ...op.set(MASK),
    ...op.get(MASK), ...i16ExtendLowI8, ...op.set(HALF), ...quarter(0), ...quarter(1),
    ...op.get(MASK), ...i16ExtendHighI8, ...op.set(HALF), ...quarter(2), ...quarter(3),
  ]);
  return { name: 'select', params: Array(5).fill(I32), locals: [[1, I32], [3, V128]], code };
}

/** `${op}FullCol` / `${op}ColFull`(full, col, out, rows, rowBytes): see HeapSimd. */
function rowFunction(opName: BinaryOp, colFirst: boolean): Func {
  const [FULL, COL, OUT, ROWS, ROW, R, K, S] = [0, 1, 2, 3, 4, 5, 6, 7];
  const instr = { add, sub, mul, div }[opName];
  const fullValue = [...op.get(FULL), ...op.get(K), ...op.i32Add, ...load];
  const code = forLoop(R, ROWS, 1, [
    // f32.load (align 4 bytes) of col[r], splat
    ...op.get(COL), 0x2a, 2, 0, ...splat, ...op.set(S),
    ...forLoop(K, ROW, 16, [
      ...op.get(OUT), ...op.get(K), ...op.i32Add,
      ...(colFirst ? [...op.get(S), ...fullValue] : [...fullValue, ...op.get(S)]), ...instr, ...store,
    ]),
    ...addTo(FULL, ROW), ...addTo(OUT, ROW), ...op.get(COL), ...op.i32(4), ...op.i32Add, ...op.set(COL),
  ]);
  return { name: `${opName}${colFirst ? 'ColFull' : 'FullCol'}`, params: Array(5).fill(I32), locals: [[2, I32], [1, V128]], code };
}

function moduleBytes(): Uint8Array {
  const rowOps = (['add', 'sub', 'mul', 'div'] as const).flatMap((o) => [rowFunction(o, false), rowFunction(o, true)]);
  const broadcasts = (['add', 'sub', 'mul', 'div'] as const).flatMap((o) => [broadcastFunction(o, false), broadcastFunction(o, true)]);
  const funcs = [adamFunction(), copyRowsFunction(), maxPoolGrad2x2Function(), ...broadcasts, leakyReluFunction(),
    greaterScalarFunction(), selectFunction(), ...rowOps];
  const body = (f: Func) => [...vec(f.locals.map(([n, t]) => [...uleb(n), t])), ...f.code, ...op.end];
  return Uint8Array.from([
    0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00,
    ...section(1, vec(funcs.map((f) => [0x60, ...vec(f.params.map((t) => [t])), ...vec([])]))),
    ...section(2, vec([[...name('env'), ...name('memory'), 0x02, 0x00, ...uleb(1)]])),
    ...section(3, vec(funcs.map((_, i) => uleb(i)))),
    ...section(7, vec(funcs.map((f, i) => [...name(f.name), 0x00, ...uleb(i)]))),
    ...section(10, vec(funcs.map((f) => { const b = body(f); return [...uleb(b.length), ...b]; }))),
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
