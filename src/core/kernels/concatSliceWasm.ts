/**
 * Concat and last-axis Slice for the wasm backend as strided row copies. TF.js 4.22's wasm kernels copy one run
 * per row with TypedArray.set, which costs far more than the copy for short runs: Concat along the channels of
 * NHWC (the U-Net's skip connections) ~2.5 ms per call on [16, 64, 64, 32]; the Dice loss' channel slice of
 * [16, 64, 64, 4] (runs of 3 floats) ~4 ms. Runs of a multiple of 4 elements are copied by heapSimd.ts' SIMD
 * loop, others by a plain JS loop.
 *
 * float32 and int32 only; other dtypes, and slices along more than the last axis, go to the kernel this one
 * replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

type Values = Float32Array | Int32Array;

/** `rows` runs of `run` elements from src (every `srcStride` from `srcOffset`) to dst (every `dstStride` from `dstOffset`). */
function copyRows(backend: BackendWasm, src: tf.TensorInfo, srcOffset: number, srcStride: number,
  dst: tf.TensorInfo, dstOffset: number, dstStride: number, run: number, rows: number): void {
  if (run === 0 || rows === 0) return;
  const simd = heapSimd(backend);
  if (simd && run % 4 === 0) {
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    simd.copyRows(at(src) + 4 * srcOffset, 4 * srcStride, at(dst) + 4 * dstOffset, 4 * dstStride, 4 * run, rows);
    return;
  }
  const s = backend.typedArrayFromHeap(src) as Values;
  const d = backend.typedArrayFromHeap(dst) as Values;
  for (let r = 0; r < rows; r++) {
    let i = srcOffset + r * srcStride;
    let o = dstOffset + r * dstStride;
    const end = i + run;
    while (i < end) d[o++] = s[i++]!;
  }
}

const copyable = (dtype: tf.DataType) => dtype === 'float32' || dtype === 'int32';

function concat(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const all = args.inputs as unknown as tf.TensorInfo[];
    const inputs = all.filter((t) => tf.util.sizeFromShape(t.shape) > 0);
    if (inputs.length < 2 || !inputs.every((t) => copyable(t.dtype) && t.dtype === inputs[0]!.dtype)) {
      return fallback(args) as tf.TensorInfo;
    }
    const backend = args.backend as BackendWasm;
    const axis = tf.util.parseAxisParam((args.attrs as unknown as tf.ConcatAttrs).axis, all[0]!.shape)[0]!;
    tf.backend_util.assertParamsConsistent(all.map((t) => t.shape), axis);
    const out = backend.makeOutput(tf.backend_util.computeOutShape(all.map((t) => t.shape), axis), inputs[0]!.dtype);
    const rows = tf.util.sizeFromShape(inputs[0]!.shape.slice(0, axis));
    const runs = inputs.map((t) => tf.util.sizeFromShape(t.shape.slice(axis)));
    const total = runs.reduce((a, b) => a + b, 0);
    let offset = 0;
    inputs.forEach((t, i) => {
      copyRows(backend, t, 0, runs[i]!, out, offset, total, runs[i]!, rows);
      offset += runs[i]!;
    });
    return out;
  };
}

function slice(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { begin, size } = args.attrs as unknown as tf.SliceAttrs;
    if (!copyable(x.dtype) || x.shape.length === 0) return fallback(args) as tf.TensorInfo;
    const [b, s] = tf.slice_util.parseSliceParams(x as tf.Tensor, begin, size);
    const last = x.shape.length - 1;
    // Only the last axis sliced (the others whole); contiguous slices are one run, as in the stock kernel.
    const lastOnly = x.shape.every((d, i) => i === last || (b[i] === 0 && s[i] === d));
    if (!lastOnly || tf.util.sizeFromShape(s) === 0) return fallback(args) as tf.TensorInfo;
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(s, x.dtype);
    copyRows(backend, x, b[last]!, x.shape[last]!, out, 0, s[last]!, s[last]!, tf.util.sizeFromShape(s.slice(0, last)));
    return out;
  };
}

export function concatSliceWasmKernels(): tf.KernelConfig[] {
  return ([[tf.Concat, concat], [tf.Slice, slice]] as const).map(([kernelName, make]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    return { kernelName, backendName: 'wasm', kernelFunc: make(stock.kernelFunc) as tf.KernelFunc };
  });
}
