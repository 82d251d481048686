/**
 * UnsortedSegmentSum for the wasm backend, which TF.js 4.22 does not register: it is the
 * gradient of tf.gather (e.g. a label-embedding lookup in a conditional GAN).
 * A scatter-add over the wasm heap; ids outside [0, numSegments) are dropped, as in TF.
 */
import * as tf from '@tensorflow/tfjs';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';

function unsortedSegmentSum({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, segmentIds } = inputs as TensorInputs<'x' | 'segmentIds'>; // x: [...ids, ...inner], segmentIds: [...ids]
  const { numSegments } = attrs as unknown as tf.UnsortedSegmentSumAttrs;
  const innerShape = x.shape.slice(segmentIds.shape.length);
  const inner = tf.util.sizeFromShape(innerShape);
  const out = wasm.makeOutput([numSegments, ...innerShape], x.dtype); // [numSegments, ...inner]
  // Heap views only after the allocation above (a growing heap detaches older views).
  const outVals = wasm.typedArrayFromHeap(out).fill(0);
  const xVals = wasm.typedArrayFromHeap(x);
  const ids = wasm.typedArrayFromHeap(segmentIds);
  for (let i = 0; i < ids.length; i++) {
    const id = ids[i];
    if (id < 0 || id >= numSegments) continue;
    for (let j = 0, src = i * inner, dst = id * inner; j < inner; j++) outVals[dst + j] += xVals[src + j];
  }
  return out;
}

export const unsortedSegmentSumWasm: tf.KernelConfig = {
  kernelName: tf.UnsortedSegmentSum,
  backendName: 'wasm',
  kernelFunc: unsortedSegmentSum as tf.KernelFunc,
};
