/**
 * Feed-forward inference graphs that run wholly inside medsyn's native module (nativeModule.ts): the weights stay
 * resident in the module's memory (Winograd-transformed filters too, made once per plan), the activations live in
 * one arena planned per batch size (buffers whose lifetimes do not overlap share bytes), a concat's parts are
 * written in place as channel slices of it, and convs and pools are split over the module's threads. Only the
 * input goes in and the outputs come out. Run as TF.js ops, the same network copies every conv's operands in and
 * its result out, transforms each filter on every call, and pools and concatenates on one thread.
 *
 * Build once (`input`, `conv`, `pool`, `mean`, `concat`, `output`), then `run(x, n)` any number of times with any
 * batch size n; `dispose()` frees the resident weights. Used by FID Inception (src/metrics/inception.ts).
 */
import * as tf from '@tensorflow/tfjs';
import {
  convPassAt, convTuning, splitRange, winogradFilterAt, winogradFilterFloats, winogradForwardAt,
} from './convNative.js';
import type { NativeKernels } from './nativeModule.js';
import type { Job } from './nativeThreads.js';
import { filterViewInts, forwardCall, type WinogradCall } from './winogradPlan.js';

/** A tensor of the graph: one image's [H, W, C] (the batch size comes with each run). */
export interface GraphTensor {
  readonly id: number;
  readonly h: number;
  readonly w: number;
  readonly c: number;
}

export interface ConvWeights {
  /** [KH, KW, Ci, Co] */
  readonly filter: Float32Array;
  readonly shape: readonly [number, number, number, number];
  /** [Co], added before the activation */
  readonly bias?: Float32Array;
  readonly relu: boolean;
  readonly stride: number;
  readonly pad: 'same' | 'valid';
}

export interface PoolSpec {
  /** 'avg' divides by the cells inside the input (padding excluded) */
  readonly mode: 'max' | 'avg';
  readonly size: number | readonly [number, number];
  readonly stride: number;
  readonly pad: 'same' | 'valid';
}

/**
 * A conv's weights copied into the module's resident memory (the arrays are not kept), with the Winograd-transformed
 * filters graphs make from them; graphs over different input sizes can share one. `release()` frees it all.
 */
export class ResidentConv {
  readonly shape: ConvWeights['shape'];
  readonly relu: boolean;
  readonly stride: number;
  readonly pad: ConvWeights['pad'];
  readonly wAt: number;
  readonly biasAt: number;
  /** Winograd-transformed filters by FilterView, resident once made (NativeGraph.transformed). */
  readonly transformed = new Map<string, number>();
  private released = false;

  constructor(readonly nk: NativeKernels, weights: ConvWeights) {
    const [kh, kw, ci, co] = weights.shape;
    if (weights.filter.length !== kh * kw * ci * co || (weights.bias && weights.bias.length !== co)) {
      throw new RangeError(`native graph: weights do not match the filter shape [${weights.shape.join(', ')}]`);
    }
    ({ shape: this.shape, relu: this.relu, stride: this.stride, pad: this.pad } = weights);
    this.wAt = nk.reserve(weights.filter.length);
    nk.f32(this.wAt, weights.filter.length).set(weights.filter);
    this.biasAt = weights.bias ? nk.reserve(co) : 0;
    if (weights.bias) nk.f32(this.biasAt, co).set(weights.bias);
  }

  release(): void {
    if (this.released) return;
    this.released = true;
    this.nk.release(this.wAt);
    if (this.biasAt) this.nk.release(this.biasAt);
    for (const uAt of this.transformed.values()) this.nk.release(uAt);
  }
}

type Op =
  | { readonly kind: 'conv'; readonly x: number; readonly y: number; readonly conv: ResidentConv }
  | { readonly kind: 'pool'; readonly x: number; readonly y: number; readonly spec: PoolSpec };

interface TensorRecord {
  readonly t: GraphTensor;
  /** the buffer it lives in and its first channel there (a concat's part: the concat's buffer) */
  buffer: number;
  channel: number;
  readers: number;
  /** written by a conv or pool (not the input or a concat) */
  readonly produced: boolean;
  /** a concat part: written in place, never read */
  part: boolean;
}

/** A buffer of per-image `channels` × pixels floats, live from op `first` to op `last` (inclusive). */
interface BufferRecord {
  readonly pixels: number;
  readonly channels: number;
  first: number;
  last: number;
}

/** What one run at batch size n executes: ops with module-independent arena offsets (floats). */
interface Plan {
  readonly arenaFloats: number;
  readonly offsets: readonly number[];
  readonly steps: ReadonlyArray<(arenaAt: number) => void>;
  /** per op, how it runs (describe) */
  readonly how: readonly string[];
}

export const graphTuning: {
  /**
   * Fewest Winograd 2-pixel tiles per conv: the transformed filters are resident, so fewer than a kernel call's 128
   * pay (FID Inception's Mixed_7 448 → 384 3×3 at 8×8 px, 4 images: GEMM 17 ms, F(2×2, 3×3) 9 ms).
   */
  minTiles: number;
  /** Called after each op of every run with describe()'s line and its milliseconds (scripts/profile-inception.mjs). */
  onStep: ((how: string, ms: number) => void) | null;
} = { minTiles: 32, onStep: null };

/** Pool rows of under this many window reads stay on one thread. */
const MIN_PARALLEL_POOL = 1 << 16;

export class NativeGraph {
  private readonly tensors: TensorRecord[] = [];
  private readonly buffers: BufferRecord[] = [];
  private readonly ops: Op[] = [];
  /** Weights this graph copied in (conv() given arrays): released by dispose(). */
  private readonly owned: ResidentConv[] = [];
  private readonly outputs: number[] = [];
  private inputId = -1;
  private readonly plans = new Map<number, Plan>();
  private disposed = false;

  constructor(private readonly nk: NativeKernels) {}

  /** The graph's one input, [H, W, C] per image. */
  input(h: number, w: number, c: number): GraphTensor {
    if (this.inputId >= 0) throw new Error('native graph: one input only');
    const t = this.tensor(h, w, c, -1);
    this.inputId = t.id;
    return t;
  }

  /**
   * conv(x, filter) (+ bias, ReLU). Weights given as arrays are copied into the module now and stay until dispose();
   * a ResidentConv is shared (its owner releases it, after the graphs that use it are done).
   */
  conv(x: GraphTensor, weights: ConvWeights | ResidentConv): GraphTensor {
    const [kh, kw, ci, co] = weights.shape;
    if (ci !== x.c) throw new RangeError(`native graph: conv over ${x.c} channels with a filter for ${ci}`);
    const info = this.convInfo(x, weights, 1);
    if (info.outHeight < 1 || info.outWidth < 1) throw new RangeError(`native graph: a ${kh}×${kw} conv does not fit ${x.h}×${x.w}`);
    let conv: ResidentConv;
    if (weights instanceof ResidentConv) {
      if (weights.nk !== this.nk) throw new Error('native graph: weights resident in another module');
      conv = weights;
    } else {
      conv = new ResidentConv(this.nk, weights);
      this.owned.push(conv);
    }
    const y = this.tensor(info.outHeight, info.outWidth, co, this.ops.length, true);
    this.read(x);
    this.ops.push({ kind: 'conv', x: x.id, y: y.id, conv });
    return y;
  }

  /** Max or average pooling (padding never counts). */
  pool(x: GraphTensor, spec: PoolSpec): GraphTensor {
    const [kh, kw] = typeof spec.size === 'number' ? [spec.size, spec.size] : spec.size;
    const [oh, ow] = spec.pad === 'same'
      ? [Math.ceil(x.h / spec.stride), Math.ceil(x.w / spec.stride)]
      : [Math.floor((x.h - kh) / spec.stride) + 1, Math.floor((x.w - kw) / spec.stride) + 1];
    if (oh < 1 || ow < 1) throw new RangeError(`native graph: a ${kh}×${kw} pool does not fit ${x.h}×${x.w}`);
    const y = this.tensor(oh, ow, x.c, this.ops.length, true);
    this.read(x);
    this.ops.push({ kind: 'pool', x: x.id, y: y.id, spec });
    return y;
  }

  /** The mean over each image's pixels: [1, 1, C]. */
  mean(x: GraphTensor): GraphTensor {
    return this.pool(x, { mode: 'avg', size: [x.h, x.w], stride: 1, pad: 'valid' });
  }

  /**
   * Concatenates along channels. Each part must be a conv's or pool's output that nothing reads: its producer
   * then writes it straight into the concat (a part cannot be read afterwards either).
   */
  concat(parts: readonly GraphTensor[]): GraphTensor {
    if (parts.length === 0) throw new RangeError('native graph: concat of nothing');
    const [h, w] = [parts[0]!.h, parts[0]!.w];
    const records = parts.map((p) => this.tensors[p.id]!);
    for (const r of records) {
      if (r.t.h !== h || r.t.w !== w) throw new RangeError('native graph: concat parts differ in size');
      if (!r.produced || r.readers > 0 || r.part || new Set(parts).size !== parts.length) {
        throw new Error('native graph: a concat part must be a fresh conv or pool output that nothing reads');
      }
    }
    const c = parts.reduce((s, p) => s + p.c, 0);
    const producers = records.map((r) => this.buffers[r.buffer]!.first);
    const y = this.tensor(h, w, c, Math.min(...producers));
    this.buffers[this.tensors[y.id]!.buffer]!.last = Math.max(...producers); // every part is written into it
    let channel = 0;
    for (const r of records) {
      this.buffers[r.buffer]!.first = Number.POSITIVE_INFINITY; // unused now
      r.buffer = this.tensors[y.id]!.buffer;
      r.channel = channel;
      r.part = true;
      channel += r.t.c;
    }
    return y;
  }

  /** Marks a tensor as a result of `run` (in order of the calls). */
  output(t: GraphTensor): void {
    const r = this.tensors[t.id]!;
    if (r.part) throw new Error('native graph: a concat part cannot be an output');
    this.outputs.push(t.id);
    this.plans.clear();
  }

  /** Runs n images ([N, H, W, C] of the input) and returns the outputs, [N, H, W, C] each. */
  run(x: Float32Array, n: number): Float32Array[] {
    if (this.disposed) throw new Error('native graph used after dispose()');
    const input = this.tensors[this.inputId];
    if (!input) throw new Error('native graph: no input');
    const { h, w, c } = input.t;
    if (x.length !== n * h * w * c) throw new RangeError(`native graph: input of ${x.length} floats, expected ${n}×${h}×${w}×${c}`);
    const plan = this.planFor(n);
    const nk = this.nk;
    nk.reset();
    const arenaAt = nk.alloc(plan.arenaFloats);
    const at = (id: number): number => arenaAt + 4 * (plan.offsets[this.tensors[id]!.buffer]! + this.tensors[id]!.channel);
    nk.f32(at(this.inputId), x.length).set(x);
    const onStep = graphTuning.onStep;
    plan.steps.forEach((step, i) => {
      const mark = nk.mark();
      const t0 = onStep ? performance.now() : 0;
      step(arenaAt);
      onStep?.(plan.how[i]!, performance.now() - t0);
      nk.restore(mark);
    });
    return this.outputs.map((id) => {
      const t = this.tensors[id]!.t;
      return nk.f32(at(id), n * t.h * t.w * t.c).slice();
    });
  }

  /**
   * How each op runs at batch size n, e.g. 'conv 3×3 24→20 winograd F(4×4) @33×31', 'conv 1×1 20→17 gemm @11×10',
   * 'pool max 3×3 /2 @11×10×57' (input sizes after the @; plans the batch size if needed).
   */
  describe(n: number): string[] {
    return [...this.planFor(n).how];
  }

  /** Frees the module memory of the weights this graph copied in (and their transformed filters). */
  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const conv of this.owned) conv.release();
  }

  /** A new tensor with its own buffer, first written by op `producer` (−1: before the first op). */
  private tensor(h: number, w: number, c: number, producer: number, produced = false): GraphTensor {
    const t: GraphTensor = { id: this.tensors.length, h, w, c };
    this.buffers.push({ pixels: h * w, channels: c, first: producer, last: producer });
    this.tensors.push({ t, buffer: this.buffers.length - 1, channel: 0, readers: 0, produced, part: false });
    this.plans.clear();
    return t;
  }

  private read(x: GraphTensor): void {
    const r = this.tensors[x.id];
    if (!r || r.t !== x) throw new Error('native graph: tensor of another graph');
    if (r.part) throw new Error('native graph: a concat part cannot be read (it aliases its concat)');
    r.readers++;
  }

  private convInfo(x: GraphTensor, conv: Pick<ConvWeights, 'shape' | 'stride' | 'pad'>, n: number): tf.backend_util.Conv2DInfo {
    return tf.backend_util.computeConv2DInfo([n, x.h, x.w, x.c], [...conv.shape], conv.stride, 1, conv.pad);
  }

  /** Buffer lifetimes: from the op writing (the first part of) it to the last op reading it; outputs to the end. */
  private lifetimes(): BufferRecord[] {
    const buffers = this.buffers.map((b) => ({ ...b }));
    const end = this.ops.length;
    this.ops.forEach((op, i) => {
      const b = buffers[this.tensors[op.x]!.buffer]!;
      b.last = Math.max(b.last, i);
    });
    for (const id of this.outputs) buffers[this.tensors[id]!.buffer]!.last = end;
    const input = this.tensors[this.inputId];
    if (input) buffers[input.buffer]!.first = -1;
    return buffers;
  }

  /**
   * Arena offsets (floats) at batch size n: largest buffers first, each at the lowest offset clear of the buffers
   * already placed whose lifetimes overlap its own (the greedy-by-size plan of TFLite's arena planner).
   */
  private layout(n: number): { offsets: number[]; arenaFloats: number } {
    const buffers = this.lifetimes();
    const size = (b: BufferRecord): number => Math.ceil((n * b.pixels * b.channels) / 4) * 4;
    const live = buffers.map((b, i) => ({ b, i })).filter(({ b }) => Number.isFinite(b.first));
    live.sort((p, q) => size(q.b) - size(p.b) || p.i - q.i);
    const offsets = new Array<number>(buffers.length).fill(0);
    const placed: Array<{ b: BufferRecord; at: number }> = [];
    let arenaFloats = 0;
    for (const { b, i } of live) {
      const clash = placed.filter((p) => p.b.first <= b.last && b.first <= p.b.last).sort((p, q) => p.at - q.at);
      let at = 0;
      for (const p of clash) {
        if (p.at - at >= size(b)) break;
        at = Math.max(at, p.at + size(p.b));
      }
      offsets[i] = at;
      placed.push({ b, at });
      arenaFloats = Math.max(arenaFloats, at + size(b));
    }
    return { offsets, arenaFloats };
  }

  private planFor(n: number): Plan {
    const cached = this.plans.get(n);
    if (cached) return cached;
    const { offsets, arenaFloats } = this.layout(n);
    const nk = this.nk;
    const place = (id: number): { rel: number; ld: number } => {
      const r = this.tensors[id]!;
      return { rel: offsets[r.buffer]! + r.channel, ld: this.buffers[r.buffer]!.channels };
    };
    const how: string[] = [];
    const steps = this.ops.map((op): ((arenaAt: number) => void) => {
      const x = place(op.x);
      const y = place(op.y);
      const xt = this.tensors[op.x]!.t;
      const yt = this.tensors[op.y]!.t;
      if (op.kind === 'conv') {
        const { conv } = op;
        const info = this.convInfo(xt, conv, n);
        const call = convTuning.winograd ? forwardCall(info, { minTiles: graphTuning.minTiles }) : null;
        const epilogue = { biasAt: conv.biasAt, relu: conv.relu };
        const [kh, kw, ci, co] = conv.shape;
        const m = call?.geometry.m;
        how.push(`conv ${kh}×${kw} ${ci}→${co} ${call ? `winograd F(${call.geometry.axis ? m : `${m}×${m}`})` : 'gemm'} @${xt.h}×${xt.w}`);
        if (call) {
          const uAt = this.transformed(conv, call);
          return (arenaAt) => winogradForwardAt(nk, call, arenaAt + 4 * x.rel, uAt, arenaAt + 4 * y.rel, conv.biasAt, conv.relu, y.ld);
        }
        return (arenaAt) => {
          convPassAt(nk, 'conv_forward', info, arenaAt + 4 * x.rel, conv.wAt, arenaAt + 4 * y.rel, epilogue, y.ld);
        };
      }
      const { spec } = op;
      const [kh, kw] = typeof spec.size === 'number' ? [spec.size, spec.size] : spec.size;
      const padH = Math.max(0, (yt.h - 1) * spec.stride + kh - xt.h);
      const padW = Math.max(0, (yt.w - 1) * spec.stride + kw - xt.w);
      const [pt, pl] = spec.pad === 'same' ? [Math.floor(padH / 2), Math.floor(padW / 2)] : [0, 0];
      const geom = [n, xt.h, xt.w, xt.c, yt.h, yt.w, kh, kw, spec.stride, spec.stride, pt, pl, spec.mode === 'max' ? 0 : 1, y.ld];
      how.push(`pool ${spec.mode} ${kh}×${kw} /${spec.stride} @${xt.h}×${xt.w}×${xt.c}`);
      const rows = n * yt.h;
      const parts = rows * yt.w * xt.c * kh * kw >= MIN_PARALLEL_POOL ? Math.min(nk.threads, rows) : 1;
      return (arenaAt) => {
        const geomAt = nk.alloc(geom.length);
        nk.i32(geomAt, geom.length).set(geom);
        nk.parallel(Array.from({ length: parts }, (_, t): Job => {
          const [r0, r1] = splitRange(rows, parts, t);
          return { pass: 'pool2d', args: [geomAt, arenaAt + 4 * x.rel, arenaAt + 4 * y.rel, r0, r1] };
        }));
      };
    });
    const plan: Plan = { arenaFloats, offsets, steps, how };
    this.plans.set(n, plan);
    return plan;
  }

  /** The conv's filter transformed for `call`, made (resident) the first time a plan needs it. */
  private transformed(conv: ResidentConv, call: WinogradCall): number {
    const key = filterViewInts(call).join(',');
    let uAt = conv.transformed.get(key);
    if (uAt === undefined) {
      const nk = this.nk;
      nk.reset();
      uAt = nk.reserve(winogradFilterFloats(nk, call));
      winogradFilterAt(nk, call, conv.wAt, uAt);
      nk.reset();
      conv.transformed.set(key, uAt);
    }
    return uAt;
  }
}
