/**
 * medsyn's own WebAssembly module (native/*.c, built by scripts/build-wasm.sh into
 * src/core/kernels/native/medsyn-kernels.wasm): a SIMD GEMM and im2col convolutions that run about
 * 2x faster than the XNNPACK kernels of TF.js 4.22's wasm backend on the training step's shapes.
 * The same sources are also built with relaxed SIMD (medsyn-kernels-relaxed.wasm: fused multiply-add
 * in the GEMMs, ~1.2x faster); that build loads when the engine has relaxed SIMD — Node 22's V8 ships it,
 * Node 20's has it behind a V8 flag that this module turns on (MEDSYN_RELAXED_SIMD=0: never).
 *
 * The module has its own linear memory (separate from the TF.js backend's heap): kernels copy their
 * operands in, call, and copy results out. That copy costs ~1 ms per 8 MB, under 5 % of a conv. A native
 * graph (nativeGraph.ts) keeps its weights resident and its activations inside, and copies only its input and
 * outputs.
 * The memory is shared so that MEDSYN_THREADS > 1 can run a pass on worker threads (nativeThreads.ts).
 * tsc does not copy .wasm files into dist/, so the loader looks next to this file and then in the
 * source tree (dist/src/core/kernels → src/core/kernels).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import v8 from 'node:v8';
import { type Job, ThreadPool, threadCount } from './nativeThreads.js';

const WASM_NAME = 'medsyn-kernels.wasm';
const RELAXED_WASM_NAME = 'medsyn-kernels-relaxed.wasm';
const PAGE_BYTES = 65536;
/** 2 GiB: the most the module may grow to (shared memories need a maximum; it is only reserved). */
const MAX_PAGES = 32768;

/** Where a committed .wasm may be: beside the compiled module, or in the source tree. */
export function nativeWasmCandidates(relaxed = false): string[] {
  const name = relaxed ? RELAXED_WASM_NAME : WASM_NAME;
  return [
    fileURLToPath(new URL(`./native/${name}`, import.meta.url)),
    fileURLToPath(new URL(`../../../../src/core/kernels/native/${name}`, import.meta.url)),
  ];
}

/**
 * The slice of the WebAssembly JS API used here: tsconfig's lib (ES2022, no DOM) and @types/node 20
 * do not declare the WebAssembly namespace.
 */
interface WasmMemory {
  readonly buffer: ArrayBuffer;
  grow(pages: number): number;
}
interface WasmApi {
  Memory: new (descriptor: { initial: number; maximum: number; shared: boolean }) => WasmMemory;
  Module: new (bytes: Uint8Array) => object;
  Instance: new (module: object, imports: object) => { exports: object };
  validate(bytes: Uint8Array): boolean;
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  readonly conv_scratch: (geom: number) => number;
  readonly conv_forward: (geom: number, x: number, w: number, y: number, scratch: number) => void;
  readonly conv_backprop_filter: (geom: number, x: number, dy: number, dw: number, scratch: number) => void;
  readonly conv_backprop_input: (geom: number, dy: number, w: number, dx: number, scratch: number) => void;
  readonly conv_winograd: (geom: number, x: number, u: number, y: number, scratch: number) => void;
  readonly winograd_scratch: (geom: number) => number;
  readonly winograd_filter_floats: (view: number) => number;
  readonly winograd_filter_range: (view: number, w: number, u: number, scratch: number, range: number) => void;
  readonly winograd_positions: (view: number) => number;
  readonly conv_winograd_filter_grad: (geom: number, x: number, dy: number, d: number, scratch: number) => void;
  readonly winograd_grad_scratch: (geom: number) => number;
  readonly winograd_filter_grad_finish: (view: number, d: number, dw: number) => void;
  readonly sum_rows: (x: number, rows: number, cols: number, out: number, part: number) => void;
  readonly act_tanh: (x: number, n: number, y: number) => void;
  readonly act_tanh_grad: (dy: number, x: number, n: number, dx: number) => void;
  readonly pool2d: (geom: number, x: number, y: number, r0: number, r1: number) => void;
  readonly norm_forward: (x: number, groups: number, per: number, c: number, gamma: number, beta: number, eps: number,
    y: number, mean: number, variance: number, scratch: number) => void;
  readonly norm_backward: (dy: number, x: number, groups: number, per: number, c: number, gamma: number, mean: number,
    variance: number, eps: number, dx: number, dgamma: number, dbeta: number, scratch: number) => void;
  readonly __heap_base: { readonly value: number };
  readonly __stack_pointer: { value: number };
}

/**
 * Shadow stack per worker thread. clang keeps locals whose address is taken (and arrays it cannot keep in
 * registers) on a stack in linear memory below __heap_base; every instance on the shared memory starts with
 * the same __stack_pointer, so without their own stacks two threads running a pass would overwrite each
 * other's locals (it happened: an intermittent wrong tile in the Winograd transforms).
 */
const WORKER_STACK_BYTES = 65536;

/**
 * The instantiated module, a bump allocator over its memory (reset by every kernel call) and, below the bump
 * area, resident blocks that survive resets (a native graph's weights, see nativeGraph.ts).
 */
export class NativeKernels {
  readonly exports: Exports;
  private readonly memory: WasmMemory;
  /** First byte after the worker stacks: resident blocks and the bump area lie above. */
  private readonly floor: number;
  /** Start of the bump area: above every resident block. */
  private heapBase: number;
  private top: number;
  /** Resident blocks, offset → bytes. */
  private readonly resident = new Map<number, number>();
  private readonly pool: ThreadPool | null;

  /** `relaxed`: the bytes are the relaxed-SIMD build (recorded in the engine line and run provenance). */
  constructor(bytes: Uint8Array, threads = 1, readonly relaxed = false) {
    this.memory = new WA.Memory({ initial: 32, maximum: MAX_PAGES, shared: true });
    const instance = new WA.Instance(new WA.Module(bytes), { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
    let base = align(this.exports.__heap_base.value);
    const stackTops = Array.from({ length: threads - 1 }, (_, i) => base + (i + 1) * WORKER_STACK_BYTES);
    base += (threads - 1) * WORKER_STACK_BYTES;
    this.floor = base;
    this.heapBase = base;
    this.top = base;
    this.alloc(0); // grows the memory over the worker stacks if needed
    this.pool = threads > 1 ? new ThreadPool(bytes, this.memory, threads, stackTops) : null;
  }

  /** Threads a pass may be split over. */
  get threads(): number {
    return this.pool?.threads ?? 1;
  }

  /** Runs the jobs, one per thread (at most `threads`), and returns when all are done. */
  parallel(jobs: readonly Job[]): void {
    const local = (job: Job): void => this.exports[job.pass](...job.args);
    if (this.pool) this.pool.run(jobs, local);
    else jobs.forEach(local);
  }

  /** Bytes of the module's memory (it grows to the largest pass and never shrinks). */
  get bytes(): number {
    return this.memory.buffer.byteLength;
  }

  /** The bump allocator's position, for `restore`. */
  mark(): number {
    return this.top;
  }

  /** Frees what `alloc` handed out since `mark` returned `at`. */
  restore(at: number): void {
    this.top = at;
  }

  /** Frees everything `alloc` handed out (resident blocks stay). */
  reset(): void {
    this.top = this.heapBase;
  }

  /**
   * Byte offset of `floats` 16-byte-aligned float32s that stay until `release` (first fit among the resident
   * blocks' gaps, else above them). Only between kernel calls: it moves the bump area, so every offset `alloc`
   * handed out since the last `reset` is void.
   */
  reserve(floats: number): number {
    const bytes = align(4 * Math.max(floats, 1));
    let at = this.floor;
    for (const [offset, size] of [...this.resident].sort((a, b) => a[0] - b[0])) {
      if (offset - at >= bytes) break;
      at = Math.max(at, offset + size);
    }
    this.resident.set(at, bytes);
    this.heapBase = Math.max(this.heapBase, at + bytes);
    this.reset();
    this.alloc(0); // grows the memory to cover the block
    return at;
  }

  /** Frees a block `reserve` handed out; the bump area drops to the highest block left. */
  release(offset: number): void {
    if (!this.resident.delete(offset)) throw new Error(`native module: no resident block at ${offset}`);
    this.heapBase = Math.max(this.floor, ...[...this.resident].map(([at, size]) => at + size));
    this.reset();
  }

  /** Bytes held by resident blocks. */
  get residentBytes(): number {
    let sum = 0;
    for (const size of this.resident.values()) sum += size;
    return sum;
  }

  /** Byte offset of `floats` fresh 16-byte-aligned float32s, growing the memory when needed. */
  alloc(floats: number): number {
    const offset = this.top;
    this.top = align(offset + 4 * floats);
    const missing = this.top - this.memory.buffer.byteLength;
    if (missing > 0) this.memory.grow(Math.ceil(missing / PAGE_BYTES));
    return offset;
  }

  /** A fresh view (views die when the memory grows, so take them after the last `alloc`). */
  f32(offset: number, length: number): Float32Array {
    return new Float32Array(this.memory.buffer, offset, length);
  }

  i32(offset: number, length: number): Int32Array {
    return new Int32Array(this.memory.buffer, offset, length);
  }

  /**
   * One single-threaded pass: resets the allocator, copies `inputs` in, allocates `outputs` floats each (scratch
   * too), runs `pass` with their offsets, and returns views of the outputs (valid until the next call).
   */
  call(inputs: readonly Float32Array[], outputs: readonly number[], pass: (inAt: number[], outAt: number[]) => void): Float32Array[] {
    this.reset();
    const inAt = inputs.map((v) => this.put(v));
    const outAt = outputs.map((n) => this.alloc(n));
    pass(inAt, outAt);
    return outAt.map((at, i) => this.f32(at, outputs[i]!));
  }

  /** Copies `values` in at a fresh offset. */
  put(values: Float32Array): number {
    const offset = this.alloc(values.length);
    this.f32(offset, values.length).set(values);
    return offset;
  }
}

function align(bytes: number): number {
  return Math.ceil(bytes / 16) * 16;
}

let loaded: NativeKernels | null | undefined;

/** Set to 0 to run the XNNPACK-based kernels instead (for A/B timings and bisecting). */
export const NATIVE_ENV_VAR = 'MEDSYN_NATIVE_KERNELS';
/** Set to 0 to load the portable SIMD128 build even where relaxed SIMD is available. */
export const RELAXED_SIMD_ENV_VAR = 'MEDSYN_RELAXED_SIMD';

/** A module with one function, `() -> v128`, returning f32x4.relaxed_madd of three zero vectors. */
const RELAXED_SIMD_PROBE = new Uint8Array([
  0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
  0x01, 0x05, 0x01, 0x60, 0x00, 0x01, 0x7b, // type section: func () -> v128
  0x03, 0x02, 0x01, 0x00, // function section: one function of type 0
  0x0a, 0x3d, 0x01, 0x3b, 0x00, // code section: one body of 59 bytes, no locals
  ...[0, 1, 2].flatMap(() => [0xfd, 0x0c, ...new Array<number>(16).fill(0)]), // 3 × v128.const 0
  0xfd, 0x85, 0x02, // f32x4.relaxed_madd (0xfd 0x105)
  0x0b, // end
]);

/**
 * Whether this engine runs relaxed SIMD, turning on Node 20's V8 flag for it when needed (V8 reads wasm
 * feature flags when it validates or compiles a module, and worker threads share the process's flags).
 */
export function relaxedSimdAvailable(): boolean {
  if (process.env[RELAXED_SIMD_ENV_VAR]?.trim() === '0') return false;
  if (WA.validate(RELAXED_SIMD_PROBE)) return true;
  v8.setFlagsFromString('--experimental-wasm-relaxed-simd');
  return WA.validate(RELAXED_SIMD_PROBE);
}

/**
 * The module (the relaxed-SIMD build where the engine has it), or null when its .wasm is missing or
 * MEDSYN_NATIVE_KERNELS=0 (callers then use XNNPACK).
 */
export function nativeKernels(): NativeKernels | null {
  if (loaded !== undefined) return loaded;
  if (process.env[NATIVE_ENV_VAR]?.trim() === '0') return (loaded = null);
  const relaxedPath = relaxedSimdAvailable() ? nativeWasmCandidates(true).find((p) => fs.existsSync(p)) : undefined;
  const path = relaxedPath ?? nativeWasmCandidates().find((p) => fs.existsSync(p));
  loaded = path ? new NativeKernels(fs.readFileSync(path), threadCount(), path === relaxedPath) : null;
  return loaded;
}
