/**
 * Add, Sub, Multiply and RealDiv of an NHWC tensor and a per-channel vector ([C] or [1, 1, 1, C]) for the wasm
 * backend: batch norm's affine and its gradients; also of [N, H, W, K] and [N, H, W, 1] (per-pixel values: the
 * segmentation loss' weights, ~1.6 ms per call stock on [16, 64, 64, 4]). XNNPACK's broadcasting path in TF.js 4.22 runs these ~3x slower
 * than same-shape ops (on [16, 64, 64, 16] × [1, 1, 1, 16] ~2 ms against ~0.6 ms, ~55 ms per U-Net step in all).
 * Here one SIMD loop on the heap (heapSimd.ts); IEEE float32 per element, so results equal the stock kernels'.
 *
 * Only float32, channel counts a multiple of 4, and a vector whose size is the other operand's last dimension
 * (and no larger rank), or a per-row operand of the other's shape but for a last dimension of 1; anything else
 * goes to the kernel this one replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { type BinaryOp, heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';

/** Whether `vec` broadcasts along `full`'s last axis only: shape [..1, C] with C = full's last dimension. */
function isChannelVector(vec: number[], full: number[]): boolean {
  const c = full[full.length - 1];
  return full.length >= 2 && vec.length >= 1 && vec.length <= full.length && vec[vec.length - 1] === c
    && vec.slice(0, -1).every((d) => d === 1);
}

/** Whether `col` is `full`'s shape with a last dimension of 1 (and `full`'s last dimension is not 1). */
function isColumn(col: number[], full: number[]): boolean {
  const last = full.length - 1;
  return full.length >= 1 && col.length === full.length && col[last] === 1 && full[last] !== 1
    && col.every((d, i) => i === last || d === full[i]);
}

/** The per-row case, or false when the shapes are not of it. */
function rowBroadcast(opName: BinaryOp, args: KernelArgs): tf.TensorInfo | false {
  const { a, b } = args.inputs as TensorInputs<'a' | 'b'>;
  const backend = args.backend as BackendWasm;
  const colFirst = isColumn(a.shape, b.shape);
  if (!colFirst && !isColumn(b.shape, a.shape)) return false;
  const full = colFirst ? b : a;
  const k = full.shape[full.shape.length - 1]!;
  const simd = a.dtype === 'float32' && b.dtype === 'float32' && k % 4 === 0 ? heapSimd(backend) : null;
  if (!simd) return false;
  const out = backend.makeOutput(full.shape, 'float32');
  const rows = tf.util.sizeFromShape(full.shape) / k;
  if (rows > 0) {
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    simd[`${opName}${colFirst ? 'ColFull' : 'FullCol'}`](at(full), at(colFirst ? a : b), at(out), rows, 4 * k);
  }
  return out;
}

function broadcast(opName: BinaryOp, fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as TensorInputs<'a' | 'b'>;
    const backend = args.backend as BackendWasm;
    const simd = a.dtype === 'float32' && b.dtype === 'float32' ? heapSimd(backend) : null;
    const vecFirst = simd !== null && isChannelVector(a.shape, b.shape) && !isChannelVector(b.shape, a.shape);
    const vecSecond = simd !== null && !vecFirst && isChannelVector(b.shape, a.shape);
    const full = vecFirst ? b : a;
    const c = full.shape[full.shape.length - 1]!;
    if (!simd || !(vecFirst || vecSecond) || c % 4 !== 0 || c === 0) {
      return rowBroadcast(opName, args) || fallback(args) as tf.TensorInfo;
    }
    const out = backend.makeOutput(full.shape, 'float32');
    const rows = tf.util.sizeFromShape(full.shape) / c;
    if (rows > 0) {
      const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
      simd[`${opName}${vecFirst ? 'VecFull' : 'FullVec'}`](at(full), at(vecFirst ? a : b), at(out), rows, 4 * c);
    }
    return out;
  };
}

export function broadcastWasmKernels(): tf.KernelConfig[] {
  return ([[tf.Add, 'add'], [tf.Sub, 'sub'], [tf.Multiply, 'mul'], [tf.RealDiv, 'div']] as const).map(([kernelName, opName]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    return { kernelName, backendName: 'wasm', kernelFunc: broadcast(opName, stock.kernelFunc) as tf.KernelFunc };
  });
}
