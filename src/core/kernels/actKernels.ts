/**
 * ReLU, leaky ReLU and tanh, forward and gradient, on medsyn's native module (native/act.c) for the
 * wasm backend. TF.js 4.22 runs these forward as scalar loops (tanh ≈ 15 ns per value) and each
 * gradient as 2–4 kernels (leaky ReLU: Greater, Multiply, Select; tanh: Tanh, Square, Sub, Multiply),
 * each a full pass with its own allocation.
 *
 * The gradients take the one-kernel path only when no outer tape records (a first-order backward
 * pass); under an outer tape (WGAN-GP, R1) they stay differentiable ops, as before.
 */
import * as tf from '@tensorflow/tfjs';
import { type NativeKernels, nativeKernels } from './nativeModule.js';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

export const ACT_GRAD = 'MedsynActivationGrad';

export interface ActGradAttrs {
  /** 'leaky': dx = x > 0 ? dy : α·dy (ReLU: α = 0); 'tanh': dx = dy·(1 − tanh² x). */
  readonly kind: 'leaky' | 'tanh';
  readonly alpha: number;
}

/** Copies the float32 inputs into the module, runs `call` with their offsets and the output's, returns the output. */
function native(nk: NativeKernels, wasm: BackendWasm, inputs: tf.TensorInfo[], call: (at: number[], out: number) => void): tf.TensorInfo {
  nk.reset();
  const at = inputs.map((t) => nk.put(wasm.typedArrayFromHeap(t) as Float32Array));
  const size = tf.util.sizeFromShape(inputs[0]!.shape);
  const outAt = nk.alloc(size);
  call(at, outAt);
  const out = wasm.makeOutput(inputs[0]!.shape, 'float32');
  (wasm.typedArrayFromHeap(out) as Float32Array).set(nk.f32(outAt, size));
  return out;
}

function forward(fallback: tf.KernelFunc, kind: 'relu' | 'leaky' | 'tanh') {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const nk = nativeKernels();
    const n = tf.util.sizeFromShape(x.shape);
    if (!nk || x.dtype !== 'float32' || n === 0) return fallback(args) as tf.TensorInfo;
    const alpha = kind === 'leaky' ? (args.attrs as unknown as tf.LeakyReluAttrs).alpha : 0;
    return native(nk, args.backend as BackendWasm, [x], ([xAt], out) => kind === 'tanh'
      ? nk.exports.act_tanh(xAt!, n, out)
      : nk.exports.act_leaky(xAt!, n, alpha, out));
  };
}

function gradKernel(args: KernelArgs): tf.TensorInfo {
  const { dy, x } = args.inputs as Record<'dy' | 'x', tf.TensorInfo>;
  const { kind, alpha } = args.attrs as unknown as ActGradAttrs;
  const nk = nativeKernels();
  if (!nk) throw new Error(`${ACT_GRAD} needs medsyn's native module`);
  const n = tf.util.sizeFromShape(x.shape);
  return native(nk, args.backend as BackendWasm, [dy, x], ([dyAt, xAt], out) => kind === 'tanh'
    ? nk.exports.act_tanh_grad(dyAt!, xAt!, n, out)
    : nk.exports.act_leaky_grad(dyAt!, xAt!, n, alpha, out));
}

/** The wasm kernels (wrapping TF.js' own as fallbacks); empty without the native module. */
export function actWasmKernels(): tf.KernelConfig[] {
  if (!nativeKernels()) return [];
  const wrap = (kernelName: string, kind: 'relu' | 'leaky' | 'tanh'): tf.KernelConfig => {
    const stock = tf.getKernel(kernelName, 'wasm');
    if (!stock) throw new Error(`the wasm backend has no ${kernelName} kernel`);
    return { kernelName, backendName: 'wasm', kernelFunc: forward(stock.kernelFunc, kind) as tf.KernelFunc };
  };
  return [
    wrap(tf.Relu, 'relu'), wrap(tf.LeakyRelu, 'leaky'), wrap(tf.Tanh, 'tanh'),
    { kernelName: ACT_GRAD, backendName: 'wasm', kernelFunc: gradKernel as tf.KernelFunc },
  ];
}

/** The one-kernel gradient when it applies (first-order backward on a backend that has it), else null. */
export function fusedActGrad(dy: tf.Tensor, x: tf.Tensor, attrs: ActGradAttrs): tf.Tensor | null {
  if (tf.engine().isTapeOn() || x.dtype !== 'float32' || !tf.getKernel(ACT_GRAD, tf.getBackend())) return null;
  return tf.engine().runKernel(ACT_GRAD, { dy, x }, attrs as unknown as tf.NamedAttrMap) as tf.Tensor;
}

/** ReLU and leaky ReLU gradients: TF.js' own formulas, or the one-kernel path. */
export const activationGrads: readonly tf.GradConfig[] = [
  {
    kernelName: tf.Relu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved) => {
      const [x] = saved as [tf.Tensor];
      return { x: () => fusedActGrad(dy as tf.Tensor, x, { kind: 'leaky', alpha: 0 }) ?? tf.mul(dy as tf.Tensor, tf.cast(tf.step(x), 'float32')) };
    },
  },
  {
    kernelName: tf.LeakyRelu,
    inputsToSave: ['x'],
    gradFunc: (dy, saved, attrs) => {
      const [x] = saved as [tf.Tensor];
      const { alpha } = attrs as unknown as tf.LeakyReluAttrs;
      return {
        x: () => fusedActGrad(dy as tf.Tensor, x, { kind: 'leaky', alpha })
          ?? tf.where(tf.greater(x, 0), dy as tf.Tensor, tf.mul(dy as tf.Tensor, alpha)),
      };
    },
  },
];
