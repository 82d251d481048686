/**
 * The FID Inception-v3 (pytorch-fid's `fid_inception_v3`, metrics spec §1.1–1.2), producing the 2048-d pool3
 * features FID/KID/PRDC use (and optionally the 1008 logits). The network is written once (`body`, `mixed`) over
 * a small ops interface and runs either as TF.js ops on explicit tensors or, on the wasm backend, as a native
 * graph wholly inside medsyn's WebAssembly module (core/kernels/nativeGraph.ts: resident weights, no copies
 * between layers, ~1.2× faster); `engine` chooses, features agree to float32 rounding.
 *
 * Differences from torchvision's Inception3 that matter (spec §1.1): 1008-class fc, no aux classifier, the
 * pool branch of Mixed_5b/5c/5d (A), Mixed_6b–6e (C) and Mixed_7b (E_1) averages 3×3 **excluding padding**,
 * Mixed_7c (E_2) uses a 3×3 **max** pool, inputs in [−1, 1]. Every conv is conv(no bias) → BN(eps 1e-3,
 * running stats) → ReLU; by default the BN is folded into the conv filter and bias in float64 before the
 * float32 cast (changes results by ~1e-7 relative; `foldBatchNorm: false` keeps tf.batchNorm).
 *
 * Weights: the pytorch-fid state dict (`pt_inception-2015-12-05-6726825d.pth`, read by torch-pickle.ts) or a
 * `.safetensors` with the same names and PyTorch layouts; conv filters are transposed [out,in,kh,kw] → [kh,kw,in,out].
 *
 * Input convention: medsyn images are [N, H, W, C] float32 in [−1, 1], C = 1 or 3 (1 channel is replicated to
 * RGB, as PIL's convert('RGB') does for 8-bit gray). With x = 2·u8/255 − 1 this is exactly what the references see:
 * - 'pytorch-fid': the reference takes u = u8/255 ∈ [0, 1], resizes bilinearly to 299×299
 *   (F.interpolate, align_corners=False = TF.js halfPixelCenters) and feeds 2u − 1. Bilinear weights sum to one,
 *   so resizing x = 2u − 1 directly is the same map (up to float32 rounding); medsyn does that.
 * - 'clean-fid' (mode "clean"): the reference takes v = u8 ∈ [0, 255] as float32, resizes each channel with
 *   Pillow's antialiased bicubic (mode F), clips to [0, 255] and feeds (v − 128)/128 (so 255 ↦ 0.9921875).
 *   medsyn forms v = (x + 1)·127.5 and runs an exact port of Pillow's resampler (spec §5.2) on the CPU.
 *   Note: clean-fid runs NVIDIA's TorchScript of the same TF graph; with the pytorch-fid weights the numbers are
 *   expected but not verified to be identical (spec §8.3).
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../core/errors.js';
import { tf } from '../core/engine.js';
import { decodeSafetensors, type NamedTensor } from '../core/safetensors.js';
import { sha256 } from '../core/hash.js';
import { type ConvWeights, type GraphTensor, NativeGraph, ResidentConv } from '../core/kernels/nativeGraph.js';
import { nativeKernels } from '../core/kernels/nativeModule.js';
import { featureMatrix, type FeatureMatrix } from './stats.js';
import { decodeTorchStateDict } from './torch-pickle.js';
import { FID_INCEPTION_WEIGHTS, missingWeightsError } from './weights.js';

export const INCEPTION_SIZE = 299;
export const POOL3_DIM = 2048;
export const LOGITS_DIM = 1008;
const BN_EPS = 1e-3;
/** Most images per native graph run (see FidInception.runGraph). */
const NATIVE_BATCH = 32;

// ---------------------------------------------------------------------------------------------------------------
// architecture

export interface ConvUnit {
  /** module path, e.g. 'Mixed_6b.branch7x7dbl_3' */
  readonly name: string;
  readonly cin: number;
  readonly cout: number;
  readonly kh: number;
  readonly kw: number;
  readonly stride: 1 | 2;
  /** 'valid' = no padding; 'same' = symmetric (k−1)/2 padding (stride 1 only) */
  readonly pad: 'valid' | 'same';
}

export type MixedKind = 'A' | 'B' | 'C' | 'D' | 'E_1' | 'E_2';
export interface MixedBlock { readonly name: string; readonly kind: MixedKind; readonly cin: number; readonly arg?: number }

/** The 11 mixed blocks in network order (spec §1.2); `arg` = pool_features (A) or channels_7x7 (C). */
export const MIXED_BLOCKS: readonly MixedBlock[] = [
  { name: 'Mixed_5b', kind: 'A', cin: 192, arg: 32 },
  { name: 'Mixed_5c', kind: 'A', cin: 256, arg: 64 },
  { name: 'Mixed_5d', kind: 'A', cin: 288, arg: 64 },
  { name: 'Mixed_6a', kind: 'B', cin: 288 },
  { name: 'Mixed_6b', kind: 'C', cin: 768, arg: 128 },
  { name: 'Mixed_6c', kind: 'C', cin: 768, arg: 160 },
  { name: 'Mixed_6d', kind: 'C', cin: 768, arg: 160 },
  { name: 'Mixed_6e', kind: 'C', cin: 768, arg: 192 },
  { name: 'Mixed_7a', kind: 'D', cin: 768 },
  { name: 'Mixed_7b', kind: 'E_1', cin: 1280 },
  { name: 'Mixed_7c', kind: 'E_2', cin: 2048 },
];

function unit(name: string, cin: number, cout: number, k: number | [number, number], stride: 1 | 2 = 1, pad: 'valid' | 'same' = 'valid'): ConvUnit {
  const [kh, kw] = typeof k === 'number' ? [k, k] : k;
  return { name, cin, cout, kh, kw, stride, pad };
}

function blockUnits(b: MixedBlock): ConvUnit[] {
  const p = (s: string): string => `${b.name}.${s}`;
  const c = b.cin;
  switch (b.kind) {
    case 'A':
      return [
        unit(p('branch1x1'), c, 64, 1),
        unit(p('branch5x5_1'), c, 48, 1), unit(p('branch5x5_2'), 48, 64, 5, 1, 'same'),
        unit(p('branch3x3dbl_1'), c, 64, 1), unit(p('branch3x3dbl_2'), 64, 96, 3, 1, 'same'),
        unit(p('branch3x3dbl_3'), 96, 96, 3, 1, 'same'),
        unit(p('branch_pool'), c, b.arg!, 1),
      ];
    case 'B':
      return [
        unit(p('branch3x3'), c, 384, 3, 2),
        unit(p('branch3x3dbl_1'), c, 64, 1), unit(p('branch3x3dbl_2'), 64, 96, 3, 1, 'same'),
        unit(p('branch3x3dbl_3'), 96, 96, 3, 2),
      ];
    case 'C': {
      const c7 = b.arg!;
      return [
        unit(p('branch1x1'), c, 192, 1),
        unit(p('branch7x7_1'), c, c7, 1), unit(p('branch7x7_2'), c7, c7, [1, 7], 1, 'same'),
        unit(p('branch7x7_3'), c7, 192, [7, 1], 1, 'same'),
        unit(p('branch7x7dbl_1'), c, c7, 1), unit(p('branch7x7dbl_2'), c7, c7, [7, 1], 1, 'same'),
        unit(p('branch7x7dbl_3'), c7, c7, [1, 7], 1, 'same'), unit(p('branch7x7dbl_4'), c7, c7, [7, 1], 1, 'same'),
        unit(p('branch7x7dbl_5'), c7, 192, [1, 7], 1, 'same'),
        unit(p('branch_pool'), c, 192, 1),
      ];
    }
    case 'D':
      return [
        unit(p('branch3x3_1'), c, 192, 1), unit(p('branch3x3_2'), 192, 320, 3, 2),
        unit(p('branch7x7x3_1'), c, 192, 1), unit(p('branch7x7x3_2'), 192, 192, [1, 7], 1, 'same'),
        unit(p('branch7x7x3_3'), 192, 192, [7, 1], 1, 'same'), unit(p('branch7x7x3_4'), 192, 192, 3, 2),
      ];
    case 'E_1':
    case 'E_2':
      return [
        unit(p('branch1x1'), c, 320, 1),
        unit(p('branch3x3_1'), c, 384, 1), unit(p('branch3x3_2a'), 384, 384, [1, 3], 1, 'same'),
        unit(p('branch3x3_2b'), 384, 384, [3, 1], 1, 'same'),
        unit(p('branch3x3dbl_1'), c, 448, 1), unit(p('branch3x3dbl_2'), 448, 384, 3, 1, 'same'),
        unit(p('branch3x3dbl_3a'), 384, 384, [1, 3], 1, 'same'), unit(p('branch3x3dbl_3b'), 384, 384, [3, 1], 1, 'same'),
        unit(p('branch_pool'), c, 192, 1),
      ];
  }
}

/** All 94 conv+BN units in module-registration order (= state-dict order). */
export function inceptionUnits(): ConvUnit[] {
  return [
    unit('Conv2d_1a_3x3', 3, 32, 3, 2),
    unit('Conv2d_2a_3x3', 32, 32, 3),
    unit('Conv2d_2b_3x3', 32, 64, 3, 1, 'same'),
    unit('Conv2d_3b_1x1', 64, 80, 1),
    unit('Conv2d_4a_3x3', 80, 192, 3),
    ...MIXED_BLOCKS.flatMap(blockUnits),
  ];
}

/** Every float tensor of the state dict with its PyTorch shape, in state-dict order (num_batches_tracked omitted). */
export function inceptionParameterShapes(): Array<{ name: string; shape: number[] }> {
  const out: Array<{ name: string; shape: number[] }> = [];
  for (const u of inceptionUnits()) {
    out.push({ name: `${u.name}.conv.weight`, shape: [u.cout, u.cin, u.kh, u.kw] });
    for (const s of ['weight', 'bias', 'running_mean', 'running_var']) out.push({ name: `${u.name}.bn.${s}`, shape: [u.cout] });
  }
  out.push({ name: 'fc.weight', shape: [LOGITS_DIM, POOL3_DIM] }, { name: 'fc.bias', shape: [LOGITS_DIM] });
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// network

interface UnitParams { readonly u: ConvUnit; readonly filter: tf.Tensor4D; readonly bias?: tf.Tensor1D; readonly bn?: { mean: tf.Tensor1D; variance: tf.Tensor1D; offset: tf.Tensor1D; scale: tf.Tensor1D } }

/**
 * Where the network runs: 'native' = wholly inside medsyn's native module (nativeGraph.ts: resident weights and
 * activations, pools and concats on its threads; needs folded batch norm); 'tfjs' = as TF.js ops on the current
 * backend (each conv still on the native kernels under wasm); 'auto' (default) = 'native' on the wasm backend when
 * the module loaded, else 'tfjs'. Features agree to float32 rounding (the tests check).
 */
export type InceptionEngine = 'auto' | 'native' | 'tfjs';

export interface FidInceptionOptions {
  /** fold BN into conv filter + bias (default true; faster, ~1e-7 relative rounding change) */
  foldBatchNorm?: boolean;
  engine?: InceptionEngine;
  /** where the weights came from (for messages) */
  source?: string;
}

function asFloat32(t: NamedTensor, name: string, source: string): Float32Array {
  if (t.data instanceof Float32Array) return t.data;
  if (t.data instanceof Float64Array) return Float32Array.from(t.data);
  throw new DataError(source, `tensor ${name} has dtype ${t.dtype}, expected float32`);
}

/** 3×3 average pool, stride 1, padding 1, excluding the padding from the count (FID blocks A, C, E_1). */
export function avgPool3x3ExcludePad(x: tf.Tensor4D): tf.Tensor4D {
  return tf.tidy(() => {
    // Divide by the pooled all-ones map: right whether or not a backend counts padded cells (spec §6.3, §8.4).
    const [, h, w] = x.shape;
    const ones = tf.ones([1, h, w, 1]) as tf.Tensor4D;
    const count = tf.avgPool(ones, 3, 1, 'same');
    return tf.div(tf.avgPool(x, 3, 1, 'same'), count) as tf.Tensor4D;
  });
}

/**
 * The operations the network is written in, so one description (body, mixed) runs as TF.js ops or as a native graph:
 * T is a TF.js tensor or a graph tensor.
 */
interface InceptionOps<T> {
  /** conv + BN + ReLU unit `name` */
  conv(name: string, x: T): T;
  /** 3×3 max pool */
  maxPool(x: T, stride: 1 | 2, pad: 'same' | 'valid'): T;
  /** 3×3 average pool, stride 1, padding 1, padding excluded from the count */
  avgPool(x: T): T;
  concat(parts: T[]): T;
  /** mean over each image's pixels ([N, 1, 1, C]) */
  mean(x: T): T;
}

function chain<T>(ops: InceptionOps<T>, x: T, ...names: string[]): T {
  let y = x;
  for (const n of names) y = ops.conv(n, y);
  return y;
}

function mixed<T>(ops: InceptionOps<T>, b: MixedBlock, x: T): T {
  const n = (s: string): string => `${b.name}.${s}`;
  switch (b.kind) {
    case 'A':
      return ops.concat([
        ops.conv(n('branch1x1'), x),
        chain(ops, x, n('branch5x5_1'), n('branch5x5_2')),
        chain(ops, x, n('branch3x3dbl_1'), n('branch3x3dbl_2'), n('branch3x3dbl_3')),
        ops.conv(n('branch_pool'), ops.avgPool(x)),
      ]);
    case 'B':
      return ops.concat([
        ops.conv(n('branch3x3'), x),
        chain(ops, x, n('branch3x3dbl_1'), n('branch3x3dbl_2'), n('branch3x3dbl_3')),
        ops.maxPool(x, 2, 'valid'),
      ]);
    case 'C':
      return ops.concat([
        ops.conv(n('branch1x1'), x),
        chain(ops, x, n('branch7x7_1'), n('branch7x7_2'), n('branch7x7_3')),
        chain(ops, x, n('branch7x7dbl_1'), n('branch7x7dbl_2'), n('branch7x7dbl_3'), n('branch7x7dbl_4'), n('branch7x7dbl_5')),
        ops.conv(n('branch_pool'), ops.avgPool(x)),
      ]);
    case 'D':
      return ops.concat([
        chain(ops, x, n('branch3x3_1'), n('branch3x3_2')),
        chain(ops, x, n('branch7x7x3_1'), n('branch7x7x3_2'), n('branch7x7x3_3'), n('branch7x7x3_4')),
        ops.maxPool(x, 2, 'valid'),
      ]);
    case 'E_1':
    case 'E_2': {
      const b3 = ops.conv(n('branch3x3_1'), x);
      const bd = chain(ops, x, n('branch3x3dbl_1'), n('branch3x3dbl_2'));
      const pooled = b.kind === 'E_1' ? ops.avgPool(x) : ops.maxPool(x, 1, 'same');
      return ops.concat([
        ops.conv(n('branch1x1'), x),
        ops.conv(n('branch3x3_2a'), b3), ops.conv(n('branch3x3_2b'), b3),
        ops.conv(n('branch3x3dbl_3a'), bd), ops.conv(n('branch3x3dbl_3b'), bd),
        ops.conv(n('branch_pool'), pooled),
      ]);
    }
  }
}

/** The whole network up to pool3 (the mean of Mixed_7c's output). */
function body<T>(ops: InceptionOps<T>, x: T): T {
  let y = chain(ops, x, 'Conv2d_1a_3x3', 'Conv2d_2a_3x3', 'Conv2d_2b_3x3');
  y = ops.maxPool(y, 2, 'valid');
  y = chain(ops, y, 'Conv2d_3b_1x1', 'Conv2d_4a_3x3');
  y = ops.maxPool(y, 2, 'valid');
  for (const b of MIXED_BLOCKS) y = mixed(ops, b, y);
  return ops.mean(y);
}

export class FidInception {
  private readonly units = new Map<string, UnitParams>();
  private readonly fcW: tf.Tensor2D;
  private readonly fcB: tf.Tensor1D;
  readonly source: string;
  private readonly engine: InceptionEngine;
  /** batch norm folded into the convs (the native graph needs it) */
  private readonly folded: boolean;
  /** native graphs by input size 'HxWxC' (built on first use) */
  private readonly graphs = new Map<string, NativeGraph>();
  /** the units' weights in the native module, by unit name (+ ':gray'), shared by the graphs */
  private readonly resident = new Map<string, ResidentConv>();
  private disposed = false;

  /** Builds the network from a PyTorch-named state dict (extra keys such as num_batches_tracked are ignored). */
  constructor(tensors: Readonly<Record<string, NamedTensor>>, opts: FidInceptionOptions = {}) {
    const source = opts.source ?? 'state dict';
    this.source = source;
    const fold = opts.foldBatchNorm ?? true;
    this.engine = opts.engine ?? 'auto';
    this.folded = fold;
    if (this.engine === 'native' && !fold) throw new RangeError("FID Inception: engine 'native' needs foldBatchNorm");
    const missing: string[] = [];
    const wrong: string[] = [];
    for (const { name, shape } of inceptionParameterShapes()) {
      const t = tensors[name];
      if (!t) missing.push(name);
      else if (t.shape.length !== shape.length || t.shape.some((d, i) => d !== shape[i])) {
        wrong.push(`${name} [${t.shape.join(', ')}] (expected [${shape.join(', ')}])`);
      }
    }
    if (missing.length || wrong.length) {
      const parts: string[] = [];
      if (missing.length) parts.push(`${missing.length} tensors missing (${missing.slice(0, 4).join(', ')}${missing.length > 4 ? ', …' : ''})`);
      if (wrong.length) parts.push(`${wrong.length} with the wrong shape (${wrong.slice(0, 3).join('; ')}${wrong.length > 3 ? '; …' : ''})`);
      throw new DataError(source, `not the FID Inception-v3 state dict: ${parts.join(', ')}`,
        `use ${FID_INCEPTION_WEIGHTS.file} from ${FID_INCEPTION_WEIGHTS.url}`);
    }
    const f32 = (name: string): Float32Array => asFloat32(tensors[name], name, source);
    for (const u of inceptionUnits()) {
      const w = f32(`${u.name}.conv.weight`);
      const gamma = f32(`${u.name}.bn.weight`);
      const beta = f32(`${u.name}.bn.bias`);
      const mean = f32(`${u.name}.bn.running_mean`);
      const variance = f32(`${u.name}.bn.running_var`);
      const { cin, cout, kh, kw } = u;
      const scale = new Float64Array(cout);
      for (let o = 0; o < cout; o++) scale[o] = fold ? gamma[o] / Math.sqrt(variance[o] + BN_EPS) : 1;
      // [out, in, kh, kw] → [kh, kw, in, out]
      const hwio = new Float32Array(w.length);
      for (let o = 0; o < cout; o++) {
        for (let i = 0; i < cin; i++) {
          for (let y = 0; y < kh; y++) {
            for (let x = 0; x < kw; x++) {
              hwio[((y * kw + x) * cin + i) * cout + o] = w[((o * cin + i) * kh + y) * kw + x] * scale[o];
            }
          }
        }
      }
      const filter = tf.tensor4d(hwio, [kh, kw, cin, cout]);
      if (fold) {
        const b = new Float32Array(cout);
        for (let o = 0; o < cout; o++) b[o] = beta[o] - mean[o] * scale[o];
        this.units.set(u.name, { u, filter, bias: tf.tensor1d(b) });
      } else {
        this.units.set(u.name, {
          u, filter,
          bn: { mean: tf.tensor1d(mean), variance: tf.tensor1d(variance), offset: tf.tensor1d(beta), scale: tf.tensor1d(gamma) },
        });
      }
    }
    this.fcW = tf.tensor2d(f32('fc.weight'), [LOGITS_DIM, POOL3_DIM]);
    this.fcB = tf.tensor1d(f32('fc.bias'));
  }

  /** conv + BN + ReLU as TF.js ops. */
  private conv(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const p = this.unit(name);
    const { stride, pad } = p.u;
    if (p.bias) return tf.fused.conv2d({ x, filter: p.filter, strides: stride, pad, bias: p.bias, activation: 'relu' });
    const y = tf.conv2d(x, p.filter, stride, pad);
    const { mean, variance, offset, scale } = p.bn!;
    return tf.relu(tf.batchNorm(y, mean, variance, offset, scale, BN_EPS));
  }

  private unit(name: string): UnitParams {
    const p = this.units.get(name);
    if (!p) throw new Error(`unknown Inception unit ${name}`);
    return p;
  }

  /** The network as TF.js ops. */
  private readonly tfOps: InceptionOps<tf.Tensor4D> = {
    conv: (name, x) => this.conv(name, x),
    maxPool: (x, stride, pad) => tf.maxPool(x, 3, stride, pad),
    avgPool: (x) => avgPool3x3ExcludePad(x),
    concat: (parts) => tf.concat(parts, 3),
    mean: (x) => tf.mean(x, [1, 2], true) as tf.Tensor4D, // [N, 1, 1, C]
  };

  /** Runs one mixed block (NHWC in, NHWC out), e.g. 'Mixed_6b', as TF.js ops; for tests of the block semantics. */
  block(name: string, x: tf.Tensor4D): tf.Tensor4D {
    const b = MIXED_BLOCKS.find((m) => m.name === name);
    if (!b) throw new Error(`unknown Inception block ${name}`);
    return tf.tidy(() => mixed(this.tfOps, b, x));
  }

  /** The engine forward passes run on (resolves 'auto'). */
  get resolvedEngine(): 'native' | 'tfjs' {
    if (this.engine !== 'auto') return this.engine;
    return this.folded && tf.getBackend() === 'wasm' && nativeKernels() ? 'native' : 'tfjs';
  }

  /**
   * Forward pass on preprocessed input ([N, H, W, C] in the network's range, normally 299×299; ≥ 75 px; C = 3, or
   * C = 1 for a gray image that stands for its replication to RGB). Returns pool3 [N, 2048] and, when asked, the
   * logits [N, 1008] (fc with bias).
   */
  forward(x: tf.Tensor4D, opts: { logits?: boolean } = {}): { pool3: tf.Tensor2D; logits?: tf.Tensor2D } {
    if (this.disposed) throw new Error('FidInception used after dispose()');
    const [n, h, w, c] = x.shape;
    if (c !== 3 && c !== 1) throw new RangeError(`Inception input must have 3 channels (or 1 for gray), got ${c}`);
    if (h < 75 || w < 75) throw new RangeError(`Inception input must be at least 75×75, got ${h}×${w}`);
    const pool3 = this.resolvedEngine === 'native'
      ? tf.tensor2d(this.runGraph(x), [n, POOL3_DIM])
      : tf.tidy(() => tf.reshape(body(this.tfOps, c === 1 ? tf.mul(x, tf.ones([1, 1, 1, 3])) as tf.Tensor4D : x), [n, POOL3_DIM]) as tf.Tensor2D);
    if (!opts.logits) return { pool3 };
    const logits = tf.tidy(() => tf.add(tf.matMul(pool3, this.fcW, false, true), this.fcB) as tf.Tensor2D);
    return { pool3, logits };
  }

  /**
   * pool3 of x on the native graph, at most NATIVE_BATCH images per run (the arena holds a run's activations:
   * ~8.5 MB per 299-px image; features do not depend on how images are grouped).
   */
  private runGraph(x: tf.Tensor4D): Float32Array {
    const [n, h, w, c] = x.shape;
    const graph = this.graphFor(h, w, c);
    const data = x.dataSync() as Float32Array;
    const per = h * w * c;
    const pool3 = new Float32Array(n * POOL3_DIM);
    for (let start = 0; start < n; start += NATIVE_BATCH) {
      const m = Math.min(NATIVE_BATCH, n - start);
      pool3.set(graph.run(data.subarray(start * per, (start + m) * per), m)[0]!, start * POOL3_DIM);
    }
    return pool3;
  }

  /**
   * A unit's folded weights as arrays. `gray`: the filter summed over its three input channels (in float64), which
   * convolves a gray image as its replication to RGB would be, at a third of the work (the first conv of a graph
   * over 1-channel input).
   */
  private convWeights(name: string, gray: boolean): ConvWeights {
    const p = this.unit(name);
    const { kh, kw, cin, cout, stride, pad } = p.u;
    let filter = p.filter.dataSync() as Float32Array; // [KH, KW, Ci, Co]
    let ci = cin;
    if (gray) {
      const summed = new Float32Array(kh * kw * cout);
      for (let t = 0; t < kh * kw; t++) {
        for (let o = 0; o < cout; o++) {
          let sum = 0;
          for (let i = 0; i < cin; i++) sum += filter[(t * cin + i) * cout + o]!;
          summed[t * cout + o] = sum;
        }
      }
      filter = summed;
      ci = 1;
    }
    return { filter, shape: [kh, kw, ci, cout], bias: p.bias!.dataSync() as Float32Array, relu: true, stride, pad };
  }

  /** The native graph for inputs of h × w × c (c = 1: gray, see convWeights). */
  private graphFor(h: number, w: number, c: number): NativeGraph {
    const key = `${h}x${w}x${c}`;
    const cached = this.graphs.get(key);
    if (cached) return cached;
    const nk = nativeKernels();
    if (!nk) throw new Error("FID Inception: engine 'native' needs medsyn's native module (src/core/kernels/native/*.wasm)");
    const graph = new NativeGraph(nk);
    // each unit's weights go into the module once, shared by the graphs of every input size
    const resident = (name: string, gray: boolean): ResidentConv => {
      const key = gray ? `${name}:gray` : name;
      let conv = this.resident.get(key);
      if (!conv) {
        conv = new ResidentConv(nk, this.convWeights(name, gray));
        this.resident.set(key, conv);
      }
      return conv;
    };
    try {
      const ops: InceptionOps<GraphTensor> = {
        conv: (name, x) => graph.conv(x, resident(name, name === 'Conv2d_1a_3x3' && c === 1)),
        maxPool: (x, stride, pad) => graph.pool(x, { mode: 'max', size: 3, stride, pad }),
        avgPool: (x) => graph.pool(x, { mode: 'avg', size: 3, stride: 1, pad: 'same' }),
        concat: (parts) => graph.concat(parts),
        mean: (x) => graph.mean(x),
      };
      graph.output(body(ops, graph.input(h, w, c)));
    } catch (e) {
      graph.dispose();
      throw e;
    }
    this.graphs.set(key, graph);
    return graph;
  }

  dispose(): void {
    if (this.disposed) return;
    this.disposed = true;
    for (const p of this.units.values()) {
      p.filter.dispose();
      p.bias?.dispose();
      if (p.bn) for (const t of Object.values(p.bn)) t.dispose();
    }
    this.fcW.dispose();
    this.fcB.dispose();
    for (const graph of this.graphs.values()) graph.dispose();
    this.graphs.clear();
    for (const conv of this.resident.values()) conv.release();
    this.resident.clear();
  }
}

// ---------------------------------------------------------------------------------------------------------------
// loading

export type WeightsVerification = 'official-file' | 'converted-from-official' | 'unverified';

export interface LoadedFidInception {
  readonly net: FidInception;
  readonly file: string;
  readonly format: 'pth-zip' | 'pth-legacy' | 'safetensors';
  /** sha256 of the file read */
  readonly sha256: string;
  /** 'official-file': the .pth hash matches; 'converted-from-official': a .safetensors whose metadata sha256 names it */
  readonly verification: WeightsVerification;
}

export interface LoadFidInceptionOptions extends FidInceptionOptions {
  /** accept weights that cannot be verified against the official hash (e.g. test weights); default false */
  allowUnverified?: boolean;
}

/**
 * Loads the FID Inception from a `.pth` (pytorch-fid checkpoint, zip or legacy) or a `.safetensors` with the same
 * names. The file's sha256 is checked against the official checkpoint (`FID_INCEPTION_WEIGHTS.sha256`); a
 * `.safetensors` counts as verified when its `__metadata__.sha256` names the official hash (spec §6.2 route 1).
 */
export function loadFidInception(file: string, opts: LoadFidInceptionOptions = {}): LoadedFidInception {
  const w = FID_INCEPTION_WEIGHTS;
  if (!fs.existsSync(file)) throw missingWeightsError(w, file);
  const buf = fs.readFileSync(file);
  const hash = sha256(buf);
  const isSafetensors = path.extname(file).toLowerCase() === '.safetensors';
  let tensors: Record<string, NamedTensor>;
  let format: LoadedFidInception['format'];
  let verification: WeightsVerification;
  if (isSafetensors) {
    const d = decodeSafetensors(buf, file);
    tensors = d.tensors;
    format = 'safetensors';
    verification = d.metadata.sha256 === w.sha256 ? 'converted-from-official' : 'unverified';
  } else {
    const d = decodeTorchStateDict(buf, file);
    tensors = d.tensors;
    format = d.format === 'zip' ? 'pth-zip' : 'pth-legacy';
    verification = hash === w.sha256 ? 'official-file' : 'unverified';
  }
  if (verification === 'unverified' && !opts.allowUnverified) {
    throw new DataError(file,
      `sha256 ${hash} is not that of the official FID Inception weights (${w.sha256})`
      + (isSafetensors ? ' and its metadata does not name that hash' : ''),
      `download ${w.url}, or pass allowUnverified to use other weights (FID values are then not comparable)`);
  }
  const net = new FidInception(tensors, { ...opts, source: file });
  return { net, file, format, sha256: hash, verification };
}

// ---------------------------------------------------------------------------------------------------------------
// preprocessing

export type InceptionPreprocessing = 'pytorch-fid' | 'clean-fid';

/** Pillow bicubic filter (a = −0.5), support 2. */
function bicubic(x: number): number {
  const a = -0.5;
  x = Math.abs(x);
  if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
  if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
  return 0;
}

/** Pillow `precompute_coeffs` for bicubic: per output index its first input index and normalised float64 weights. */
function pilCoeffs(inSize: number, outSize: number): Array<{ min: number; w: Float64Array }> {
  const scale = inSize / outSize;
  const fs_ = Math.max(scale, 1);
  const support = 2 * fs_;
  const out: Array<{ min: number; w: Float64Array }> = [];
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const xmin = Math.max(Math.trunc(center - support + 0.5), 0);
    const xmax = Math.min(Math.trunc(center + support + 0.5), inSize) - xmin;
    const w = new Float64Array(Math.max(xmax, 0));
    let ww = 0;
    for (let x = 0; x < w.length; x++) {
      w[x] = bicubic((x + xmin - center + 0.5) / fs_);
      ww += w[x];
    }
    if (ww !== 0) for (let x = 0; x < w.length; x++) w[x] /= ww;
    out.push({ min: xmin, w });
  }
  return out;
}

/**
 * Pillow's `Image.resize(BICUBIC)` on one float32 channel (mode 'F'), bit-exact with Pillow 9.4 (spec §5.2):
 * horizontal pass (if the width changes) into float32, then vertical pass (if the height changes), each output
 * accumulated in float64 and stored as float32. No clipping.
 */
export function pilResizeBicubicF(src: Float32Array, h: number, w: number, outH: number, outW: number): Float32Array {
  let cur = src;
  let cw = w;
  if (outW !== w) {
    const cx = pilCoeffs(w, outW);
    const tmp = new Float32Array(h * outW);
    for (let y = 0; y < h; y++) {
      const row = y * w;
      for (let xx = 0; xx < outW; xx++) {
        const { min, w: k } = cx[xx];
        let ss = 0;
        for (let i = 0; i < k.length; i++) ss += cur[row + min + i] * k[i];
        tmp[y * outW + xx] = ss;
      }
    }
    cur = tmp;
    cw = outW;
  }
  if (outH !== h) {
    const cy = pilCoeffs(h, outH);
    const tmp = new Float32Array(outH * cw);
    for (let yy = 0; yy < outH; yy++) {
      const { min, w: k } = cy[yy];
      for (let x = 0; x < cw; x++) {
        let ss = 0;
        for (let i = 0; i < k.length; i++) ss += cur[(min + i) * cw + x] * k[i];
        tmp[yy * cw + x] = ss;
      }
    }
    cur = tmp;
  }
  return cur === src ? Float32Array.from(src) : cur;
}

/**
 * clean-fid "clean" resize of [N, H, W, C] images given in [0, 255]: per channel Pillow bicubic to size×size,
 * clipped to [0, 255]. Returns [N, size, size, C] float32 (plain arrays, no TF.js).
 */
export function cleanResize(data: Float32Array, n: number, h: number, w: number, c: number, size = INCEPTION_SIZE): Float32Array {
  const out = new Float32Array(n * size * size * c);
  const ch = new Float32Array(h * w);
  for (let i = 0; i < n; i++) {
    for (let k = 0; k < c; k++) {
      const base = i * h * w * c;
      for (let p = 0; p < h * w; p++) ch[p] = data[base + p * c + k];
      const r = pilResizeBicubicF(ch, h, w, size, size);
      const ob = i * size * size * c;
      for (let p = 0; p < size * size; p++) out[ob + p * c + k] = Math.min(255, Math.max(0, r[p]));
    }
  }
  return out;
}

/**
 * medsyn images ([N, H, W, 1|3] in [−1, 1]) → the network input [N, 299, 299, 3] of a reference (see file doc).
 * `keepGray` (pytorch-fid only): a 1-channel input stays [N, 299, 299, 1], which FidInception.forward takes as
 * its replication to RGB (the bilinear resize works per channel, so resizing first is the same map).
 */
export function preprocessForInception(images: tf.Tensor4D, mode: InceptionPreprocessing = 'pytorch-fid', keepGray = false): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  if (c !== 1 && c !== 3) throw new RangeError(`images must have 1 or 3 channels, got ${c}`);
  if (mode === 'pytorch-fid') {
    return tf.tidy(() => {
      // gray → RGB by a broadcast multiply with ones (exact; TF.js wasm's channel concat took 9× as long)
      const rgb = c === 1 && !keepGray ? tf.mul(images, tf.ones([1, 1, 1, 3])) as tf.Tensor4D : images;
      if (h !== INCEPTION_SIZE || w !== INCEPTION_SIZE) return tf.image.resizeBilinear(rgb, [INCEPTION_SIZE, INCEPTION_SIZE], false, true);
      return rgb === images ? tf.clone(rgb) : rgb; // a new tensor either way (the caller disposes it)
    });
  }
  // clean-fid: v = (x + 1)·127.5 ∈ [0, 255]; Pillow bicubic per channel; clip; (v − 128)/128. Gray replicated first.
  const x = images.dataSync() as Float32Array;
  const v = new Float32Array(x.length);
  for (let i = 0; i < x.length; i++) v[i] = (x[i] + 1) * 127.5;
  const r = cleanResize(v, n, h, w, c);
  const s = INCEPTION_SIZE * INCEPTION_SIZE;
  const out = new Float32Array(n * s * 3);
  for (let p = 0; p < n * s; p++) {
    for (let k = 0; k < 3; k++) out[p * 3 + k] = (r[p * c + (c === 1 ? 0 : k)] - 128) / 128;
  }
  return tf.tensor4d(out, [n, INCEPTION_SIZE, INCEPTION_SIZE, 3]);
}

export interface ExtractOptions {
  mode?: InceptionPreprocessing;
  /** images per forward pass (default 16); features do not depend on it */
  batchSize?: number;
  /** also return the 1008 logits */
  logits?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface InceptionFeatures {
  /** [N, 2048] pool3 features (float32 values) */
  pool3: FeatureMatrix;
  logits?: FeatureMatrix;
}

/**
 * Batched feature extraction from medsyn images [N, H, W, 1|3] in [−1, 1]. Every image is preprocessed and run
 * on its own row of the batch; no op mixes images, so the features do not depend on the batch size (the test checks).
 */
export async function extractInceptionFeatures(net: FidInception, images: tf.Tensor4D, opts: ExtractOptions = {}): Promise<InceptionFeatures> {
  const n = images.shape[0];
  const bs = Math.max(1, Math.floor(opts.batchSize ?? 16));
  const pool3 = new Float32Array(n * POOL3_DIM);
  const logits = opts.logits ? new Float32Array(n * LOGITS_DIM) : undefined;
  for (let start = 0; start < n; start += bs) {
    const m = Math.min(bs, n - start);
    const batch = m === n ? images : tf.slice(images, [start, 0, 0, 0], [m, -1, -1, -1]); // one batch: no copy
    const x = preprocessForInception(batch, opts.mode, true);
    if (batch !== images) batch.dispose();
    const out = net.forward(x, { logits: !!logits });
    x.dispose();
    pool3.set(await out.pool3.data() as Float32Array, start * POOL3_DIM);
    out.pool3.dispose();
    if (logits && out.logits) logits.set(await out.logits.data() as Float32Array, start * LOGITS_DIM);
    out.logits?.dispose();
    opts.onProgress?.(start + m, n);
  }
  const result: InceptionFeatures = { pool3: featureMatrix(pool3, n, POOL3_DIM, 'pool3 features') };
  if (logits) result.logits = featureMatrix(logits, n, LOGITS_DIM, 'logits');
  return result;
}
