/**
 * Identity for the wasm backend that shares the input's buffer (as the cpu backend's does and as
 * the wasm Reshape does) instead of copying it. Gradients pass through Identity hundreds of times
 * per training step: ~750 copies, 30–40 ms per DCGAN step at 64 px. Backend buffers are never
 * written after their kernel returns, so sharing is safe; the ref count frees the data.
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
