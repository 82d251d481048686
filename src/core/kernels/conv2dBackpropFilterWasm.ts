/**
 * Conv2DBackpropFilter for the wasm backend, which TF.js 4.22 does not register
 * (without it conv filter gradients and conv2dTranspose gradients fail on wasm).
 *
 *   dW[kh, kw, ci, co] = Σ_{n, oh, ow} xpad[n, oh·s + kh, ow·s + kw, ci] · dy[n, oh, ow, co]
 *
 * is one stride-1 convolution, run by the wasm backend's own XNNPACK Conv2D:
 * input xᵀ [Ci, H, W, N], filter dyᵀ [OH, OW, N, Co] dilated by the stride,
 * output [Ci, KH, KW, Co], transposed to [KH, KW, Ci, Co].
 *
 * Timings: min of 15 runs, wasm SIMD, 1 thread, on a shared 2-core x86 VM (load 8–12, so the
 * spread is wide); x [16, 16, 16, 64], filter 3x3x64→128, stride 1, 'same':
 *   forward conv2d (XNNPACK)                                28–44 ms
 *   this kernel (two ~1 ms transposes + one dilated conv)    34–65 ms
 *   per-tap: 9 × (slice + transpose + BatchMatMul)           46–68 ms (stride 2: 20x slower, strided slices)
 *   im2col (concat of 9 slices) + one BatchMatMul            49–87 ms
 *   per-tap BatchMatMul with transposeA (naive wasm path)   285 ms
 *   plain JS loop over the data                           1160–1900 ms
 *   TF.js cpu backend (tf.grad, forward conv included)    ≈ 50 000 ms
 * Stride 2: 3x3 13 ms and 4x4 16 ms, vs forward 9 and 10 ms.
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, disposeWasm, type KernelArgs, runWasm, type TensorInputs } from './wasmOps.js';

function conv2dBackpropFilter({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo {
  const wasm = backend as BackendWasm;
  const { x, dy } = inputs as TensorInputs<'x' | 'dy'>; // x: [N, H, W, Ci], dy: [N, OH, OW, Co]
  const { strides, pad, dataFormat, dimRoundingMode, filterShape } =
    attrs as unknown as tf.Conv2DBackpropFilterAttrs;
  if (dataFormat === 'NCHW') {
    throw new Error("wasm Conv2DBackpropFilter supports dataFormat 'NHWC' only");
  }
  const [n, h, w, ci] = x.shape as [number, number, number, number];
  const info = tf.backend_util.computeConv2DInfo(
    [n, h, w, ci], filterShape, strides, 1, pad, dimRoundingMode);
  const { padInfo, strideHeight, strideWidth, outHeight, outWidth } = info;
  // Padded extent the taps reach; 'valid' or explicit pads may leave trailing rows/cols unused.
  const padBottom = (outHeight - 1) * strideHeight + info.filterHeight - padInfo.top - h;
  const padRight = (outWidth - 1) * strideWidth + info.filterWidth - padInfo.left - w;

  const used = padBottom < 0 || padRight < 0 // [N, H', W', Ci]
    ? runWasm(wasm, tf.Slice, { x }, {
      begin: [0, 0, 0, 0],
      size: [n, h + Math.min(0, padBottom), w + Math.min(0, padRight), ci],
    })
    : x;
  const xT = runWasm(wasm, tf.Transpose, { x: used }, { perm: [3, 1, 2, 0] }); // [Ci, H', W', N]
  const dyT = runWasm(wasm, tf.Transpose, { x: dy }, { perm: [1, 2, 0, 3] }); // [OH, OW, N, Co]
  const dwT = runWasm(wasm, tf.Conv2D, { x: xT, filter: dyT }, { // [Ci, KH, KW, Co]
    strides: [1, 1],
    pad: [[0, 0], [padInfo.top, Math.max(0, padBottom)], [padInfo.left, Math.max(0, padRight)], [0, 0]],
    dataFormat: 'NHWC',
    dilations: [strideHeight, strideWidth],
  });
  const dw = runWasm(wasm, tf.Transpose, { x: dwT }, { perm: [1, 2, 0, 3] }); // [KH, KW, Ci, Co]
  if (used !== x) disposeWasm(wasm, used);
  disposeWasm(wasm, xT, dyT, dwT);
  return dw;
}

export const conv2dBackpropFilterWasm: tf.KernelConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  backendName: 'wasm',
  kernelFunc: conv2dBackpropFilter as tf.KernelFunc,
};
