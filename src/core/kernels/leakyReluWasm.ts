/**
 * LeakyRelu and the two kernels of its gradient (Greater than a scalar, Select) as SIMD loops on the wasm heap
 * (heapSimd.ts). TF.js 4.22's wasm kernels take ~2 ms (LeakyRelu), ~2.4 ms (Greater with a scalar: the
 * broadcasting path) and ~1.2 ms (Select) per call on the DCGAN discriminator's [16, 32, 32, 32]; ~34 ms per step.
 * Tails (sizes not a multiple of 4 or 16) run as JS loops, non-float32 inputs and other shapes go to the kernels
 * these replace.
 *
 * LeakyRelu: x < 0 ? α·x : x with α rounded to float32 (as the stock wasm kernel; the cpu kernel multiplies by
 * α in float64, which can differ in the last bit). Greater and Select are exact.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';

const at = (backend: BackendWasm, t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;

function leakyRelu(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const backend = args.backend as BackendWasm;
    const simd = x.dtype === 'float32' ? heapSimd(backend) : null;
    if (!simd) return fallback(args) as tf.TensorInfo;
    const alpha = Math.fround((args.attrs as unknown as tf.LeakyReluAttrs).alpha);
    const out = backend.makeOutput(x.shape, 'float32');
    const n = tf.util.sizeFromShape(x.shape);
    const vectorized = n & ~3;
    if (vectorized > 0) simd.leakyRelu(at(backend, x), at(backend, out), 4 * vectorized, alpha);
    const xs = backend.typedArrayFromHeap(x) as Float32Array;
    const ys = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = vectorized; i < n; i++) ys[i] = xs[i]! < 0 ? Math.fround(alpha * xs[i]!) : xs[i]!;
    return out;
  };
}

function greater(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { a, b } = args.inputs as TensorInputs<'a' | 'b'>;
    const backend = args.backend as BackendWasm;
    const scalar = tf.util.sizeFromShape(b.shape) === 1 && b.shape.length <= a.shape.length;
    const simd = a.dtype === 'float32' && b.dtype === 'float32' && scalar ? heapSimd(backend) : null;
    if (!simd) return fallback(args) as tf.TensorInfo;
    const out = backend.makeOutput(a.shape, 'bool');
    const n = tf.util.sizeFromShape(a.shape);
    const bv = (backend.typedArrayFromHeap(b) as Float32Array)[0]!;
    const vectorized = n & ~15;
    if (vectorized > 0) simd.greaterScalar(at(backend, a), at(backend, out), vectorized, bv);
    const xs = backend.typedArrayFromHeap(a) as Float32Array;
    const ys = backend.typedArrayFromHeap(out) as Uint8Array;
    for (let i = vectorized; i < n; i++) ys[i] = xs[i]! > bv ? 1 : 0;
    return out;
  };
}

function select(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { condition, t, e } = args.inputs as TensorInputs<'condition' | 't' | 'e'>;
    const backend = args.backend as BackendWasm;
    const same = tf.util.arraysEqual(condition.shape, t.shape) && tf.util.arraysEqual(t.shape, e.shape);
    const simd = same && condition.dtype === 'bool' && t.dtype === 'float32' && e.dtype === 'float32' ? heapSimd(backend) : null;
    if (!simd) return fallback(args) as tf.TensorInfo;
    const out = backend.makeOutput(t.shape, 'float32');
    const n = tf.util.sizeFromShape(t.shape);
    const vectorized = n & ~15;
    if (vectorized > 0) simd.select(at(backend, condition), at(backend, t), at(backend, e), at(backend, out), vectorized);
    const cs = backend.typedArrayFromHeap(condition) as Uint8Array;
    const ts = backend.typedArrayFromHeap(t) as Float32Array;
    const es = backend.typedArrayFromHeap(e) as Float32Array;
    const ys = backend.typedArrayFromHeap(out) as Float32Array;
    for (let i = vectorized; i < n; i++) ys[i] = cs[i] ? ts[i]! : es[i]!;
    return out;
  };
}

export function leakyReluWasmKernels(): tf.KernelConfig[] {
  return ([[tf.LeakyRelu, leakyRelu], [tf.Greater, greater], [tf.Select, select]] as const).map(([kernelName, make]) => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    return { kernelName, backendName: 'wasm', kernelFunc: make(stock.kernelFunc) as tf.KernelFunc };
  });
}
