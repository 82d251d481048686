/**
 * SplitV for the wasm backend as one pass over the input. TF.js 4.22's wasm SplitV slices each output, and its
 * Slice copies one innermost row at a time with TypedArray.set: splitting the channels of NHWC (the gradient of
 * the U-Net's skip concatenations) makes N·H·W tiny copies per output, ~7 ms per call on [16, 64, 64, 32].
 * Here each output's contiguous runs are copied by a SIMD loop on the heap (runs of a multiple of 4 elements,
 * heapSimd.ts), else by a plain loop (short runs) or `set` (long ones).
 *
 * float32 and int32 only; other dtypes go to the kernel this one replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

/** Runs shorter than this many elements are copied element by element (TypedArray.set has a fixed cost). */
const SHORT_RUN = 256;

function copyRuns(src: Float32Array | Int32Array, dst: Float32Array | Int32Array, rows: number, run: number,
  srcStride: number, srcOffset: number): void {
  if (run >= SHORT_RUN) {
    for (let r = 0; r < rows; r++) {
      const from = r * srcStride + srcOffset;
      dst.set(src.subarray(from, from + run), r * run);
    }
    return;
  }
  let o = 0;
  for (let r = 0; r < rows; r++) {
    let i = r * srcStride + srcOffset;
    const end = i + run;
    while (i < end) dst[o++] = src[i++]!;
  }
}

function splitV(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { numOrSizeSplits, axis } = args.attrs as unknown as tf.SplitVAttrs;
    if (x.dtype !== 'float32' && x.dtype !== 'int32') return fallback(args) as tf.TensorInfo[];
    const backend = args.backend as BackendWasm;
    const $axis = tf.util.parseAxisParam(axis, x.shape)[0]!;
    const sizes = tf.backend_util.prepareSplitSize(x, numOrSizeSplits, $axis);
    const rows = tf.util.sizeFromShape(x.shape.slice(0, $axis));
    const inner = tf.util.sizeFromShape(x.shape.slice($axis + 1));
    const outs = sizes.map((s) => backend.makeOutput(x.shape.map((d, i) => (i === $axis ? s : d)), x.dtype));
    const simd = heapSimd(backend);
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    // Views after the last allocation (an allocation can grow the heap and detach earlier views).
    const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
    const stride = x.shape[$axis]! * inner;
    let offset = 0;
    sizes.forEach((s, i) => {
      const run = s * inner;
      if (run > 0 && rows > 0) {
        if (simd && run % 4 === 0) simd.copyRows(at(x) + 4 * offset * inner, 4 * stride, at(outs[i]!), 4 * run, 4 * run, rows);
        else copyRuns(src, backend.typedArrayFromHeap(outs[i]!) as Float32Array | Int32Array, rows, run, stride, offset * inner);
      }
      offset += s;
    });
    return outs;
  };
}

export function splitVWasmKernel(): tf.KernelConfig {
  const stock = tf.getKernel(tf.SplitV, 'wasm');
  if (!stock) throw new Error('the wasm backend has no SplitV kernel');
  return { kernelName: tf.SplitV, backendName: 'wasm', kernelFunc: splitV(stock.kernelFunc) as tf.KernelFunc };
}
