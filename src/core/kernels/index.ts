/**
 * Custom kernels and gradients that fill TF.js 4.22's gaps for GAN training (double backprop)
 * on the wasm and cpu backends. See each file for the gap it fills.
 */
import * as tf from '@tensorflow/tfjs';
import { actWasmKernels } from './actKernels.js';
import { adamUpdateKernel } from './adamUpdate.js';
import { avgPoolGradGrad } from './avgPoolGradGrad.js';
import { broadcastWasmKernels } from './broadcastWasm.js';
import { matMulWasmKernels } from './batchMatMulWasm.js';
import { comparisonGrads } from './comparisonGrads.js';
import { concatSliceWasmKernels } from './concatSliceWasm.js';
import { conv2dBackpropFilterGrad } from './conv2dBackpropFilterGrad.js';
import { conv2dBackpropFilterWasm } from './conv2dBackpropFilterWasm.js';
import { conv2dBackpropInputWasm } from './conv2dBackpropInputWasm.js';
import { convNativeKernels } from './convNative.js';
import { depthToSpaceGrad } from './depthToSpaceGrad.js';
import { eluGradGrad } from './eluGradGrad.js';
import { castWasmKernel, identityWasmKernel } from './identityWasm.js';
import { leakyReluWasmKernels } from './leakyReluWasm.js';
import { maxPoolGradWasmKernel } from './maxPoolGradWasm.js';
import { normKernels, normTrainGradient } from './normKernels.js';
import { resizeGradGrads } from './resizeGradGrads.js';
import { reduceLeadingWasmKernels } from './reduceLeadingWasm.js';
import { resizeGradKernels } from './resizeGradKernels.js';
import { savedOutputGrads } from './savedOutputGrads.js';
import { splitVWasmKernel } from './splitVWasm.js';
import { unsortedSegmentSumWasm } from './unsortedSegmentSumWasm.js';

/** Gradients registered for every backend (only where TF.js has none). */
const customGradients: readonly tf.GradConfig[] = [
  ...comparisonGrads,
  eluGradGrad,
  avgPoolGradGrad,
  ...resizeGradGrads,
  conv2dBackpropFilterGrad,
  depthToSpaceGrad,
  normTrainGradient,
];

/** Gradients replacing TF.js' own, which break higher-order gradients. */
const fixedGradients: readonly tf.GradConfig[] = savedOutputGrads;

/** Kernels replacing or adding to `backendName`'s own; some wrap the kernel they replace. */
function kernelsFor(backendName: 'cpu' | 'wasm'): tf.KernelConfig[] {
  const resize = resizeGradKernels(backendName);
  if (backendName === 'cpu') return [...resize, ...normKernels('cpu'), adamUpdateKernel('cpu')];
  const stockConv2D = tf.getKernel(tf.Conv2D, 'wasm');
  if (!stockConv2D) throw new Error('the wasm backend has no Conv2D kernel');
  // The native GEMM kernels fall back to XNNPACK (forward) and the XNNPACK composites (backward).
  const stockFused = tf.getKernel(tf.FusedConv2D, 'wasm');
  if (!stockFused) throw new Error('the wasm backend has no FusedConv2D kernel');
  const conv = convNativeKernels({
    forward: stockConv2D.kernelFunc,
    fused: stockFused.kernelFunc,
    filter: conv2dBackpropFilterWasm.kernelFunc,
    input: conv2dBackpropInputWasm.kernelFunc,
  });
  return [...conv, ...reduceLeadingWasmKernels(), identityWasmKernel(), unsortedSegmentSumWasm, ...matMulWasmKernels(),
    ...resize, ...normKernels('wasm'), adamUpdateKernel('wasm'), splitVWasmKernel(), maxPoolGradWasmKernel(),
    ...concatSliceWasmKernels(), castWasmKernel(), ...broadcastWasmKernels(),
    ...actWasmKernels(), ...leakyReluWasmKernels()];
}

const registered = new Set<string>();

/**
 * Registers the custom gradients (once) and the custom kernels of every loaded backend
 * package (once per backend). Call again after loading another backend package.
 */
export function registerCustomKernels(): void {
  if (!registered.has('gradients')) {
    registered.add('gradients');
    for (const grad of customGradients) {
      if (!tf.getGradient(grad.kernelName)) tf.registerGradient(grad);
    }
    for (const grad of fixedGradients) tf.registerGradient(grad);
  }
  for (const backendName of ['cpu', 'wasm'] as const) {
    if (registered.has(backendName) || !tf.findBackendFactory(backendName)) continue;
    registered.add(backendName);
    for (const kernel of kernelsFor(backendName)) {
      if (tf.getKernel(kernel.kernelName, backendName)) tf.unregisterKernel(kernel.kernelName, backendName);
      tf.registerKernel(kernel);
    }
  }
}
