/**
 * medsyn's own WebAssembly module (native/*.c, built by scripts/build-wasm.sh into
 * src/core/kernels/native/medsyn-kernels.wasm): a SIMD GEMM and im2col convolutions that run about
 * 2x faster than the XNNPACK kernels of TF.js 4.22's wasm backend on the training step's shapes.
 *
 * The module has its own linear memory (separate from the TF.js backend's heap): callers copy their
 * operands in, call, and copy results out. That copy costs ~1 ms per 8 MB, under 5 % of a conv.
 * The memory is shared so that MEDSYN_THREADS > 1 can run a pass on worker threads (nativeThreads.ts).
 * tsc does not copy .wasm files into dist/, so the loader looks next to this file and then in the
 * source tree (dist/src/core/kernels → src/core/kernels).
 */
import fs from 'node:fs';
import { fileURLToPath } from 'node:url';
import { type Job, ThreadPool, threadCount } from './nativeThreads.js';

const WASM_NAME = 'medsyn-kernels.wasm';
const PAGE_BYTES = 65536;
/** 2 GiB: the most the module may grow to (shared memories need a maximum; it is only reserved). */
const MAX_PAGES = 32768;

/** Where the committed .wasm may be: beside the compiled module, or in the source tree. */
export function nativeWasmCandidates(): string[] {
  return [
    fileURLToPath(new URL(`./native/${WASM_NAME}`, import.meta.url)),
    fileURLToPath(new URL(`../../../../src/core/kernels/native/${WASM_NAME}`, import.meta.url)),
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
}
const WA = (globalThis as unknown as { WebAssembly: WasmApi }).WebAssembly;

interface Exports {
  readonly conv_scratch: (geom: number) => number;
  readonly conv_forward: (geom: number, x: number, w: number, y: number, scratch: number) => void;
  readonly conv_backprop_filter: (geom: number, x: number, dy: number, dw: number, scratch: number) => void;
  readonly conv_backprop_input: (geom: number, dy: number, w: number, dx: number, scratch: number) => void;
  readonly sum_rows: (x: number, rows: number, cols: number, out: number, part: number) => void;
  readonly act_tanh: (x: number, n: number, y: number) => void;
  readonly act_tanh_grad: (dy: number, x: number, n: number, dx: number) => void;
  readonly norm_forward: (x: number, groups: number, per: number, c: number, gamma: number, beta: number, eps: number,
    y: number, mean: number, variance: number, scratch: number) => void;
  readonly norm_backward: (dy: number, x: number, groups: number, per: number, c: number, gamma: number, mean: number,
    variance: number, eps: number, dx: number, dgamma: number, dbeta: number, scratch: number) => void;
  readonly __heap_base: { readonly value: number };
}

/** The instantiated module and a bump allocator over its memory (reset by every kernel call). */
export class NativeKernels {
  readonly exports: Exports;
  private readonly memory: WasmMemory;
  private readonly heapBase: number;
  private top: number;
  private readonly pool: ThreadPool | null;

  constructor(bytes: Uint8Array, threads = 1) {
    this.memory = new WA.Memory({ initial: 32, maximum: MAX_PAGES, shared: true });
    const instance = new WA.Instance(new WA.Module(bytes), { env: { memory: this.memory } });
    this.exports = instance.exports as unknown as Exports;
    this.heapBase = align(this.exports.__heap_base.value);
    this.top = this.heapBase;
    this.pool = threads > 1 ? new ThreadPool(bytes, this.memory, threads) : null;
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

  /** Frees everything `alloc` handed out (the module keeps no state between calls). */
  reset(): void {
    this.top = this.heapBase;
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

/** The module, or null when its .wasm is missing or MEDSYN_NATIVE_KERNELS=0 (callers then use XNNPACK). */
export function nativeKernels(): NativeKernels | null {
  if (loaded !== undefined) return loaded;
  if (process.env[NATIVE_ENV_VAR]?.trim() === '0') return (loaded = null);
  const path = nativeWasmCandidates().find((p) => fs.existsSync(p));
  loaded = path ? new NativeKernels(fs.readFileSync(path), threadCount()) : null;
  return loaded;
}
