/**
 * Conv2D, Conv2DBackpropFilter and Conv2DBackpropInput (and so conv2dTranspose) for the wasm backend
 * on medsyn's own SIMD GEMM (native/conv.c: im2col + 4×8 register-blocked GEMM, see nativeModule.ts).
 * On the DCGAN step's convs XNNPACK (forward) and the XNNPACK-composite backward kernels
 * (conv2dBackpropFilterWasm.ts, conv2dBackpropInputWasm.ts) reach 10–19 GFLOP/s on this project's VM;
 * this GEMM reaches 35–40 on the same products, and all three passes run the same GEMM, so backward
 * costs what forward costs.
 *
 * Where winogradPlan.ts says so (stride-1 3×3, 4×4 stride 2, 1-D 1×7 / 7×1 / 1×3 / 3×1 with enough channels and
 * tiles), the passes run as Winograd minimal filtering instead (native/winograd.c): 1.8–2.8× fewer multiplies.
 *
 * Cases the module does not cover (NCHW, dilations, empty tensors, no module) go to `fallback`.
 */
import * as tf from '@tensorflow/tfjs';
import { type NativeKernels, nativeKernels } from './nativeModule.js';
import type { Job } from './nativeThreads.js';
import type { Pass } from './nativeThreadsProtocol.js';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';
import {
  type WinogradCall, directMacs, filterGradCall, filterViewInts, forwardCall, geometryInts, inputGradCalls, transformedFloats,
} from './winogradPlan.js';

/**
 * Output pixels per im2col chunk: ~4 MB of col (256 K and 64 K floats measured no faster), and at
 * least 64 rows so the GEMM stays efficient. Mutable only so tests can cross chunk boundaries on
 * shapes small enough for the cpu backend.
 */
export const convTuning = {
  colChunkFloats: 1 << 20,
  /** Winograd for eligible convs (winogradPlan.ts); MEDSYN_WINOGRAD=0 turns it off (A/B timings). */
  winograd: process.env.MEDSYN_WINOGRAD?.trim() !== '0',
};

/** What the forward pass adds after the product (TF.js FusedConv2D): a [Co] bias at a module offset, ReLU. */
export interface Epilogue {
  readonly biasAt: number;
  readonly relu: boolean;
}

/** The int32 Geom struct of native/conv.h, for images [b0, b1) (ldy: floats between y's pixels, 0 = dense). */
function geometry(info: tf.backend_util.Conv2DInfo, b0: number, b1: number, epilogue?: Epilogue, ldy = 0): number[] {
  const k = info.filterHeight * info.filterWidth * info.inChannels;
  const m = info.batchSize * info.outHeight * info.outWidth;
  const rows = Math.min(m, Math.max(64, Math.floor(convTuning.colChunkFloats / k)));
  return [
    info.batchSize, info.inHeight, info.inWidth, info.inChannels,
    info.outHeight, info.outWidth, info.outChannels,
    info.filterHeight, info.filterWidth, info.strideHeight, info.strideWidth,
    info.padInfo.top, info.padInfo.left, rows, b0, b1,
    epilogue?.biasAt ?? 0, epilogue?.relu ? 1 : 0,
    0, 0, 0, 0, 0, 0, -1, 0, 0, 2, // Winograd-only fields (native/conv.h)
    ldy,
  ];
}

/**
 * Below 16 output channels (forward) or 16 GEMM columns (input gradient) the 4×8 GEMM tile wastes
 * lanes and XNNPACK (indirection buffers, no copies) wins. From 16 up the GEMM, which reads im2col
 * rows in place (native/gemm.c, micro_rows), matches XNNPACK on one thread and the module splits it
 * over threads; XNNPACK runs on one. Medians of 9, one thread, batch 16, 3×3 stride 1, this VM:
 *   64 px 16→16  forward 14.1 ms (XNNPACK 14.3), input gradient as a forward conv 14.2 (col2im 19.7)
 *   32 px 32→32  9.5 / 9.5 (col2im 11.3)        8 px 128→128  8.0 / 8.0 (col2im 8.2)
 * The filter gradient has no threshold: the GEMM wins there at every size measured.
 */
const MIN_GEMM_CHANNELS = 16;

/**
 * With threads the GEMM goes down to 4 channels: the padded 4×8 tile wastes up to half its lanes, but
 * the pass splits over the threads while XNNPACK runs on one. The DCGAN's output conv at 128 px (64 → 5
 * channels, 3×3, batch 16): XNNPACK 79 ms per call, the GEMM on 2 threads 52 ms; no change at 64 px.
 */
const MIN_GEMM_CHANNELS_THREADED = 4;

const minGemmChannels = (): number => ((nativeKernels()?.threads ?? 1) > 1 ? MIN_GEMM_CHANNELS_THREADED : MIN_GEMM_CHANNELS);

/**
 * A forward conv (and the stride-1 input gradient, which runs as one) also needs a reduction of at
 * least this many taps × channels: each 4×8 tile is stored once per reduction, and on the DCGAN's
 * first layer (4×4 over 5 channels: K = 80) XNNPACK took 10 ms where the GEMM took 17.
 */
const MIN_GEMM_REDUCTION = 128;

/** True when the GEMM forward conv beats XNNPACK on `info` (output channels and reduction length). */
function gemmForward(info: tf.backend_util.Conv2DInfo): boolean {
  return info.outChannels >= minGemmChannels() && info.filterHeight * info.filterWidth * info.inChannels >= MIN_GEMM_REDUCTION;
}

/** True when the native module handles `info` (NHWC, no dilation, nothing empty). */
function supported(info: tf.backend_util.Conv2DInfo): boolean {
  return info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1 &&
    info.batchSize * info.inHeight * info.inWidth * info.inChannels * info.outChannels *
      info.outHeight * info.outWidth > 0;
}

/** Passes under this many multiply-adds stay on one thread (a job hand-off costs ~20–50 µs). */
const MIN_PARALLEL_MACS = 1 << 20;
/** Winograd filter transforms under this many output floats stay on one thread. */
const MIN_PARALLEL_FILTER_FLOATS = 1 << 16;

/** Items [lo, hi) of part t when n items (images, filter positions) are split into `parts`. */
export function splitRange(n: number, parts: number, t: number): [number, number] {
  return [Math.floor((t * n) / parts), Math.floor(((t + 1) * n) / parts)];
}

/** Threads a pass of `macs` multiply-adds over n images is split over. */
function partsFor(nk: NativeKernels, n: number, macs: number): number {
  return macs >= MIN_PARALLEL_MACS ? Math.min(nk.threads, n) : 1;
}

/** Copies the module's `size` floats at `at` into a new backend tensor of `shape`. */
function output(nk: NativeKernels, wasm: BackendWasm, at: number, shape: number[]): tf.TensorInfo {
  const out = wasm.makeOutput(shape, 'float32');
  (wasm.typedArrayFromHeap(out) as Float32Array).set(nk.f32(at, tf.util.sizeFromShape(shape)));
  return out;
}

/** Writes ints into the module and returns their offset. */
function putInts(nk: NativeKernels, ints: readonly number[]): number {
  const at = nk.alloc(ints.length);
  nk.i32(at, ints.length).set(ints);
  return at;
}

type ConvPass = Extract<Pass, 'conv_forward' | 'conv_backprop_filter' | 'conv_backprop_input'>;

/**
 * Runs `pass` on operands already in the module (byte offsets a, b → out), split by images over the module's
 * threads: the filter gradient gets one partial dw per thread, summed into out by the module's column-sum.
 * Forward passes may write y as a channel slice (ldy floats between pixels). Allocates its geometry and scratch
 * from the bump allocator (no reset).
 */
export function convPassAt(
  nk: NativeKernels, pass: ConvPass, info: tf.backend_util.Conv2DInfo,
  aAt: number, bAt: number, outAt: number, epilogue?: Epilogue, ldy = 0,
): void {
  const n = info.batchSize;
  const macs = n * info.outHeight * info.outWidth * info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const parts = partsFor(nk, n, macs);
  const partials = pass === 'conv_backprop_filter' ? parts : 1;
  const dwSize = info.filterHeight * info.filterWidth * info.inChannels * info.outChannels;
  const partAt = partials > 1 ? nk.alloc(partials * dwSize) : outAt;
  const jobs = Array.from({ length: parts }, (_, t): Job => {
    const geomAt = putInts(nk, geometry(info, ...splitRange(n, parts, t), epilogue, ldy));
    const scratchAt = nk.alloc(nk.exports.conv_scratch(geomAt));
    return { pass, args: [geomAt, aAt, bAt, partAt + 4 * dwSize * (partials > 1 ? t : 0), scratchAt] };
  });
  nk.parallel(jobs);
  if (partials > 1) nk.exports.sum_rows(partAt, partials, dwSize, outAt, nk.alloc(dwSize));
}

/**
 * Copies a and b into the module, runs `pass` (convPassAt) and returns a new backend tensor of `outShape`.
 */
function run(
  nk: NativeKernels, wasm: BackendWasm, pass: ConvPass, info: tf.backend_util.Conv2DInfo,
  a: tf.TensorInfo, b: tf.TensorInfo | Float32Array, outShape: number[], fused?: { bias?: tf.TensorInfo; relu: boolean },
): tf.TensorInfo {
  nk.reset();
  const aAt = nk.put(wasm.typedArrayFromHeap(a) as Float32Array);
  const bAt = nk.put(b instanceof Float32Array ? b : wasm.typedArrayFromHeap(b) as Float32Array);
  const epilogue = fused && {
    biasAt: fused.bias ? nk.put(wasm.typedArrayFromHeap(fused.bias) as Float32Array) : 0, relu: fused.relu,
  };
  const outAt = nk.alloc(tf.util.sizeFromShape(outShape));
  convPassAt(nk, pass, info, aAt, bAt, outAt, epilogue);
  return output(nk, wasm, outAt, outShape);
}

/** Floats of a Winograd call's transformed filter (winogradFilterAt). */
export function winogradFilterFloats(nk: NativeKernels, call: WinogradCall): number {
  return nk.exports.winograd_filter_floats(putInts(nk, filterViewInts(call)));
}

/**
 * Transforms (and packs) the filter at wAt for a Winograd call into uAt (winogradFilterFloats floats), split by
 * positions over the threads, each with its own Ci·Co scratch from the bump allocator.
 */
export function winogradFilterAt(nk: NativeKernels, call: WinogradCall, wAt: number, uAt: number): void {
  const g = call.geometry;
  const viewAt = putInts(nk, filterViewInts(call));
  const positions = nk.exports.winograd_positions(viewAt);
  const tparts = positions * g.ci * g.co >= MIN_PARALLEL_FILTER_FLOATS ? Math.min(nk.threads, positions) : 1;
  nk.parallel(Array.from({ length: tparts }, (_, t): Job => {
    const [q0, q1] = splitRange(positions, tparts, t);
    return { pass: 'winograd_filter_range', args: [viewAt, wAt, uAt, nk.alloc(g.ci * g.co), q0 | (q1 << 16)] };
  }));
}

/**
 * A Winograd call on operands in the module: x, the transformed filter u → y (ldy floats between pixels, 0 = dense),
 * with the bias at biasAt (0: none) and ReLU; images split over the threads.
 */
export function winogradForwardAt(
  nk: NativeKernels, call: WinogradCall, xAt: number, uAt: number, yAt: number, biasAt = 0, relu = false, ldy = 0,
): void {
  const g = call.geometry;
  const parts = partsFor(nk, g.n, directMacs(g));
  nk.parallel(Array.from({ length: parts }, (_, t): Job => {
    const geomAt = putInts(nk, geometryInts(g, ...splitRange(g.n, parts, t), biasAt, relu, ldy));
    return { pass: 'conv_winograd', args: [geomAt, xAt, uAt, yAt, nk.alloc(nk.exports.winograd_scratch(geomAt))] };
  }));
}

/**
 * Forward convs on Winograd (winogradPlan.ts): per call (one, or four output phases of a stride-2 input
 * gradient, which write disjoint pixels of one output) the filter is transformed and packed once, then the
 * images are split over the threads.
 */
function runWinogradForward(
  nk: NativeKernels, wasm: BackendWasm, calls: readonly WinogradCall[], x: tf.TensorInfo, w: tf.TensorInfo | Float32Array,
  outShape: number[], fused?: { bias?: tf.TensorInfo; relu: boolean },
): tf.TensorInfo {
  nk.reset();
  const xAt = nk.put(wasm.typedArrayFromHeap(x) as Float32Array);
  const wAt = nk.put(w instanceof Float32Array ? w : wasm.typedArrayFromHeap(w) as Float32Array);
  const biasAt = fused?.bias ? nk.put(wasm.typedArrayFromHeap(fused.bias) as Float32Array) : 0;
  const outAt = nk.alloc(tf.util.sizeFromShape(outShape));
  for (const call of calls) {
    const uAt = nk.alloc(winogradFilterFloats(nk, call));
    winogradFilterAt(nk, call, wAt, uAt);
    winogradForwardAt(nk, call, xAt, uAt, outAt, biasAt, fused?.relu ?? false);
  }
  return output(nk, wasm, outAt, outShape);
}

/** The filter gradient on Winograd: one transformed-domain partial per thread, summed, then finished into dw. */
function runWinogradFilterGrad(
  nk: NativeKernels, wasm: BackendWasm, call: WinogradCall, x: tf.TensorInfo, dy: tf.TensorInfo, filterShape: number[],
): tf.TensorInfo {
  const g = call.geometry;
  const parts = partsFor(nk, g.n, directMacs(g));
  const partSize = transformedFloats(g);
  nk.reset();
  const xAt = nk.put(wasm.typedArrayFromHeap(x) as Float32Array);
  const dyAt = nk.put(wasm.typedArrayFromHeap(dy) as Float32Array);
  const partAt = nk.alloc(parts * partSize);
  nk.parallel(Array.from({ length: parts }, (_, t): Job => {
    const geomAt = putInts(nk, geometryInts(g, ...splitRange(g.n, parts, t)));
    return { pass: 'conv_winograd_filter_grad', args: [geomAt, xAt, dyAt, partAt + 4 * partSize * t, nk.alloc(nk.exports.winograd_grad_scratch(geomAt))] };
  }));
  let sumAt = partAt;
  if (parts > 1) {
    sumAt = nk.alloc(partSize);
    nk.exports.sum_rows(partAt, parts, partSize, sumAt, nk.alloc(partSize));
  }
  const dwAt = nk.alloc(tf.util.sizeFromShape(filterShape));
  nk.exports.winograd_filter_grad_finish(putInts(nk, filterViewInts(call)), sumAt, dwAt);
  return output(nk, wasm, dwAt, filterShape);
}

/** A forward conv (plain or the adjoint of a stride-1 input gradient) on Winograd where eligible, else im2col. */
function forward(
  nk: NativeKernels, wasm: BackendWasm, info: tf.backend_util.Conv2DInfo, x: tf.TensorInfo, w: tf.TensorInfo | Float32Array,
  fused?: { bias?: tf.TensorInfo; relu: boolean },
): tf.TensorInfo {
  const call = convTuning.winograd ? forwardCall(info) : null;
  if (call) return runWinogradForward(nk, wasm, [call], x, w, [...info.outShape], fused);
  return run(nk, wasm, 'conv_forward', info, x, w, [...info.outShape], fused);
}

function conv2d(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x, filter } = args.inputs as TensorInputs<'x' | 'filter'>;
    const { strides, pad, dataFormat, dilations, dimRoundingMode } = args.attrs as unknown as tf.Conv2DAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number],
      filter.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false,
      tf.backend_util.convertConv2DDataFormat(dataFormat));
    const nk = nativeKernels();
    if (!nk || !supported(info) || x.dtype !== 'float32' || !gemmForward(info)) {
      return fallback(args) as tf.TensorInfo;
    }
    return forward(nk, args.backend as BackendWasm, info, x, filter);
  };
}

/**
 * TF.js' FusedConv2D (conv + bias + activation; FID Inception's 94 convs, with batch norm folded into
 * them) on the GEMM with the bias and ReLU applied per chunk while it is in cache. Other activations,
 * PReLU weights and broadcast biases go to the stock kernel.
 */
function fusedConv2d(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x, filter, bias, preluActivationWeights } = args.inputs as Partial<TensorInputs<'x' | 'filter' | 'bias' | 'preluActivationWeights'>>;
    const { strides, pad, dataFormat, dilations, dimRoundingMode, activation } = args.attrs as unknown as tf.FusedConv2DAttrs;
    const info = tf.backend_util.computeConv2DInfo(x!.shape as [number, number, number, number],
      filter!.shape as [number, number, number, number], strides, dilations, pad, dimRoundingMode, false,
      tf.backend_util.convertConv2DDataFormat(dataFormat));
    const nk = nativeKernels();
    const plainBias = !bias || (bias.dtype === 'float32' && tf.util.sizeFromShape(bias.shape) === info.outChannels &&
      bias.shape[bias.shape.length - 1] === info.outChannels);
    if (!nk || !supported(info) || x!.dtype !== 'float32' || !gemmForward(info) || preluActivationWeights ||
      (activation !== 'linear' && activation !== 'relu') || !plainBias) {
      return fallback(args) as tf.TensorInfo;
    }
    return forward(nk, args.backend as BackendWasm, info, x!, filter!, { ...(bias ? { bias } : {}), relu: activation === 'relu' });
  };
}

function conv2dBackpropFilter(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x, dy } = args.inputs as TensorInputs<'x' | 'dy'>;
    const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
      args.attrs as unknown as tf.Conv2DBackpropFilterAttrs;
    const info = tf.backend_util.computeConv2DInfo(x.shape as [number, number, number, number], filterShape,
      strides, 1, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat));
    const nk = nativeKernels();
    if (!nk || !supported(info)) return fallback(args) as tf.TensorInfo;
    const call = convTuning.winograd ? filterGradCall(info) : null;
    if (call) return runWinogradFilterGrad(nk, args.backend as BackendWasm, call, x, dy, [...filterShape]);
    return run(nk, args.backend as BackendWasm, 'conv_backprop_filter', info, x, dy, [...filterShape]);
  };
}

function conv2dBackpropInput(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { dy, filter } = args.inputs as TensorInputs<'dy' | 'filter'>;
    const { strides, pad, dataFormat, dimRoundingMode, inputShape } =
      args.attrs as unknown as tf.Conv2DBackpropInputAttrs;
    const info = tf.backend_util.computeConv2DInfo(inputShape, filter.shape as [number, number, number, number],
      strides, 1, pad, dimRoundingMode, false, tf.backend_util.convertConv2DDataFormat(dataFormat));
    const nk = nativeKernels();
    if (!nk || !supported(info)) return fallback(args) as tf.TensorInfo;
    const backend = args.backend as BackendWasm;
    if (info.strideHeight === 1 && info.strideWidth === 1) {
      const adjoint = adjointInfo(info);
      if (gemmForward(adjoint)) return inputGradAsForward(nk, backend, adjoint, dy, filter);
      return fallback(args) as tf.TensorInfo;
    }
    const calls = convTuning.winograd ? inputGradCalls(info) : null;
    if (calls) return runWinogradForward(nk, backend, calls, dy, filter, [...inputShape]);
    if (info.outChannels < minGemmChannels()) return fallback(args) as tf.TensorInfo;
    return run(nk, backend, 'conv_backprop_input', info, dy, filter, [...inputShape]);
  };
}

/**
 * The input gradient of a stride-1 conv is itself a forward conv: over dy, padded by KH − 1 − top
 * and KW − 1 − left, with the taps flipped and each tap's [Ci, Co] matrix transposed,
 *   dx[b, y, x, c] = Σ_{u,v,o} dy[b, y + u − (KH − 1 − top), x + v − (KW − 1 − left), o] · w[KH − 1 − u, KW − 1 − v, c, o].
 * As a GEMM that reduces over KH·KW·Co (not Co alone) and writes dx directly (no col2im scatter):
 * 16–30 % faster on 16–32 channels, the same from 64 up.
 */
function inputGradAsForward(
  nk: NativeKernels, wasm: BackendWasm, adjoint: tf.backend_util.Conv2DInfo, dy: tf.TensorInfo, filter: tf.TensorInfo,
): tf.TensorInfo {
  // adjoint: Ci and Co swapped; the original filter is [KH, KW, Ci, Co] = [KH, KW, adjoint Co, adjoint Ci].
  const { filterHeight: kh, filterWidth: kw, inChannels: co, outChannels: ci } = adjoint;
  const w = wasm.typedArrayFromHeap(filter) as Float32Array; // [KH, KW, Ci, Co]
  const flipped = new Float32Array(w.length); // [KH, KW, Co, Ci]
  for (let u = 0; u < kh; u++) {
    for (let v = 0; v < kw; v++) {
      const src = ((kh - 1 - u) * kw + (kw - 1 - v)) * ci * co;
      const dst = (u * kw + v) * co * ci;
      for (let c = 0; c < ci; c++) for (let o = 0; o < co; o++) flipped[dst + o * ci + c] = w[src + c * co + o]!;
    }
  }
  return forward(nk, wasm, adjoint, dy, flipped);
}

/** The forward conv over dy that computes a stride-1 conv's input gradient (see inputGradAsForward). */
function adjointInfo(info: tf.backend_util.Conv2DInfo): tf.backend_util.Conv2DInfo {
  const { filterHeight: kh, filterWidth: kw, inChannels: ci, outChannels: co } = info;
  return {
    ...info,
    inHeight: info.outHeight, inWidth: info.outWidth, inChannels: co,
    outHeight: info.inHeight, outWidth: info.inWidth, outChannels: ci,
    padInfo: { ...info.padInfo, top: kh - 1 - info.padInfo.top, left: kw - 1 - info.padInfo.left },
    inShape: info.outShape, outShape: info.inShape, filterShape: [kh, kw, co, ci],
  };
}

/**
 * The three kernels, each wrapping the kernel it replaces: pass the currently registered
 * Conv2D (XNNPACK) and medsyn's XNNPACK-composite backward kernels as fallbacks.
 */
export function convNativeKernels(fallbacks: Record<'forward' | 'fused' | 'filter' | 'input', tf.KernelFunc>): tf.KernelConfig[] {
  return [
    { kernelName: tf.FusedConv2D, backendName: 'wasm', kernelFunc: fusedConv2d(fallbacks.fused) as tf.KernelFunc },
    { kernelName: tf.Conv2D, backendName: 'wasm', kernelFunc: conv2d(fallbacks.forward) as tf.KernelFunc },
    { kernelName: tf.Conv2DBackpropFilter, backendName: 'wasm',
      kernelFunc: conv2dBackpropFilter(fallbacks.filter) as tf.KernelFunc },
    { kernelName: tf.Conv2DBackpropInput, backendName: 'wasm',
      kernelFunc: conv2dBackpropInput(fallbacks.input) as tf.KernelFunc },
  ];
}
