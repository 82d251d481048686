/**
 * Calling the wasm backend's own kernels from inside a custom wasm kernel.
 *
 * A kernel must not call tf ops (they would be recorded on the gradient tape and
 * tracked by the engine); it calls other kernels' functions directly and frees its
 * intermediates with `backend.disposeData`.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm } from '@tensorflow/tfjs-backend-wasm';

export type { BackendWasm };

/** Runs the wasm kernel `name` and returns its (single) output. */
export function runWasm(
  backend: BackendWasm,
  name: string,
  inputs: tf.NamedTensorInfoMap,
  attrs: tf.NamedAttrMap = {},
): tf.TensorInfo {
  const kernel = tf.getKernel(name, 'wasm');
  if (!kernel) throw new Error(`wasm kernel '${name}' is not registered`);
  return kernel.kernelFunc({ inputs, backend, attrs }) as tf.TensorInfo;
}

/** Frees intermediates made by `runWasm` (reshapes share data and are ref-counted). */
export function disposeWasm(backend: BackendWasm, ...infos: tf.TensorInfo[]): void {
  for (const info of infos) backend.disposeData(info.dataId);
}

/** The argument of a kernel function. */
export type KernelArgs = Parameters<tf.KernelFunc>[0];

/** A kernel's named inputs, all present. */
export type TensorInputs<Name extends string> = Record<Name, tf.TensorInfo>;
