/**
 * tanh and its gradient on medsyn's native module (native/act.c) for the wasm backend. TF.js 4.22 runs tanh
 * forward as a scalar libm loop (~15 ns per value) and its gradient as Tanh, Square, Sub, Multiply.
 *
 * The gradient takes the one-kernel path only when no outer tape records (a first-order backward pass);
 * under an outer tape (WGAN-GP, R1) it stays differentiable ops (savedOutputGrads.ts). ReLU and leaky ReLU
 * are not here: with the heap-SIMD kernels (heapSimd.ts: LeakyRelu, Greater, Select, no copies) their stock
 * forward and composite gradients were faster than a copy-in/copy-out native kernel (relu gradient on
 * [16, 64, 64, 16]: 0.51 against 0.96 ms).
 */
import * as tf from '@tensorflow/tfjs';
import { type NativeKernels, nativeKernels } from './nativeModule.js';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

export const TANH_GRAD = 'MedsynTanhGrad';

/** Runs `pass` on the float32 inputs in the module and returns its output as a new tensor of the first input's shape. */
function native(nk: NativeKernels, wasm: BackendWasm, inputs: tf.TensorInfo[], pass: (at: number[], out: number) => void): tf.TensorInfo {
  const size = tf.util.sizeFromShape(inputs[0]!.shape);
  const [y] = nk.call(inputs.map((t) => wasm.typedArrayFromHeap(t) as Float32Array), [size], (at, [out]) => pass(at, out!));
  const out = wasm.makeOutput(inputs[0]!.shape, 'float32');
  (wasm.typedArrayFromHeap(out) as Float32Array).set(y!);
  return out;
}

function tanhKernel(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const nk = nativeKernels();
    const n = tf.util.sizeFromShape(x.shape);
    if (!nk || x.dtype !== 'float32' || n === 0) return fallback(args) as tf.TensorInfo;
    return native(nk, args.backend as BackendWasm, [x], ([xAt], out) => nk.exports.act_tanh(xAt!, n, out));
  };
}

/** dx = dy·(1 − tanh² x). */
function tanhGradKernel(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as Record<'dy' | 'x', tf.TensorInfo>;
  const nk = nativeKernels();
  if (!nk) throw new Error(`${TANH_GRAD} needs medsyn's native module`);
  const n = tf.util.sizeFromShape(x.shape);
  return native(nk, args.backend as BackendWasm, [dy, x], ([dyAt, xAt], out) => nk.exports.act_tanh_grad(dyAt!, xAt!, n, out));
}

/** The wasm kernels (Tanh wraps TF.js' own as its fallback); empty without the native module. */
export function actWasmKernels(): tf.KernelConfig[] {
  if (!nativeKernels()) return [];
  const stock = tf.getKernel(tf.Tanh, 'wasm');
  if (!stock) throw new Error('the wasm backend has no Tanh kernel');
  return [
    { kernelName: tf.Tanh, backendName: 'wasm', kernelFunc: tanhKernel(stock.kernelFunc) as tf.KernelFunc },
    { kernelName: TANH_GRAD, backendName: 'wasm', kernelFunc: tanhGradKernel as tf.KernelFunc },
  ];
}

/** tanh's gradient as one kernel when it applies (first-order backward on a backend that has it), else null. */
export function fusedTanhGrad(dy: tf.Tensor, x: tf.Tensor): tf.Tensor | null {
  if (tf.engine().isTapeOn() || x.dtype !== 'float32' || !tf.getKernel(TANH_GRAD, tf.getBackend())) return null;
  return tf.engine().runKernel(TANH_GRAD, { dy, x }) as tf.Tensor;
}
