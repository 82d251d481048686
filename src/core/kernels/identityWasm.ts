/**
 * Identity for the wasm backend that shares the input's buffer (as the cpu backend's does and as
 * the wasm Reshape does) instead of copying it. Gradients pass through Identity hundreds of times
 * per training step: ~750 copies, 30–40 ms per DCGAN step at 64 px. Backend buffers are never
 * written after their kernel returns, so sharing is safe; the ref count frees the data.
 *
 * Cast to the input's own dtype shares the buffer the same way (the stock wasm Cast always copies): tf.moments
 * casts its input to float32 and gradients cast float32 to float32, ~170 copies per U-Net step. Cast of
 * float32/int32 to bool is x ≠ 0 (the stock kernel stores the values modulo 256: 2.5 → 2, −1 → 255, 256 → 0).
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

function identity(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    if (x.dtype === 'string') return fallback(args) as tf.TensorInfo;
    (args.backend as BackendWasm).incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype: x.dtype };
  };
}

export function identityWasmKernel(): tf.KernelConfig {
  const stock = tf.getKernel(tf.Identity, 'wasm');
  if (!stock) throw new Error('the wasm backend has no Identity kernel');
  return { kernelName: tf.Identity, backendName: 'wasm', kernelFunc: identity(stock.kernelFunc) as tf.KernelFunc };
}

function cast(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { x } = args.inputs as { x: tf.TensorInfo };
    const { dtype } = args.attrs as unknown as tf.CastAttrs;
    const backend = args.backend as BackendWasm;
    if (dtype === 'bool' && (x.dtype === 'float32' || x.dtype === 'int32')) {
      const out = backend.makeOutput(x.shape, 'bool');
      const src = backend.typedArrayFromHeap(x) as Float32Array | Int32Array;
      const dst = backend.typedArrayFromHeap(out) as Uint8Array;
      for (let i = 0; i < src.length; i++) dst[i] = src[i] !== 0 ? 1 : 0;
      return out;
    }
    if (x.dtype !== dtype || dtype === 'string' || dtype === 'complex64') return fallback(args) as tf.TensorInfo;
    backend.incRef(x.dataId);
    return { dataId: x.dataId, shape: x.shape, dtype };
  };
}

export function castWasmKernel(): tf.KernelConfig {
  const stock = tf.getKernel(tf.Cast, 'wasm');
  if (!stock) throw new Error('the wasm backend has no Cast kernel');
  return { kernelName: tf.Cast, backendName: 'wasm', kernelFunc: cast(stock.kernelFunc) as tf.KernelFunc };
}
