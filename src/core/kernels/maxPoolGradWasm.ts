/**
 * MaxPoolGrad for the wasm backend, equal to the cpu backend's kernel bit for bit: each window's gradient goes to
 * its first maximum (row-major, strict >, as cpu's maxPoolPositions); positions in no window's maximum get 0.
 * TF.js 4.22's C++ kernel takes ~9 ms on [16, 64, 64, 16] (the U-Net's 2×2 stride-2 pools), and is wrong with
 * overlapping windows and 'same' padding (3×3 stride 2: errors of ~0.6 on values in [−1, 1]).
 * Where windows overlap, a position's gradients are summed in float64 in window order, as cpu sums them.
 * 2×2 stride-2 windows inside the input, on channels in multiples of 4, run as SIMD on the heap (heapSimd.ts).
 * Non-float32 inputs go to the kernel this one replaces.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';

function maxPoolGrad(fallback: tf.KernelFunc) {
  return (args: KernelArgs): tf.TensorInfo => {
    const { dy, input } = args.inputs as TensorInputs<'dy' | 'input' | 'output'>;
    const { filterSize, strides, pad, dimRoundingMode } = args.attrs as unknown as tf.MaxPoolGradAttrs;
    const info = tf.backend_util.computePool2DInfo(input.shape as [number, number, number, number], filterSize,
      strides, 1, pad, dimRoundingMode);
    const { batchSize, inHeight, inWidth, inChannels: c, outHeight, outWidth, strideHeight, strideWidth } = info;
    const [fh, fw] = [info.effectiveFilterHeight, info.effectiveFilterWidth];
    if (input.dtype !== 'float32' || dy.dtype !== 'float32') {
      return fallback(args) as tf.TensorInfo;
    }
    const backend = args.backend as BackendWasm;
    const out = backend.makeOutput(input.shape, 'float32');
    const { top, left } = info.padInfo;
    const simd = heapSimd(backend);
    if (simd && fh === 2 && fw === 2 && strideHeight === 2 && strideWidth === 2 && top === 0 && left === 0
      && 2 * outHeight <= inHeight && 2 * outWidth <= inWidth && c % 4 === 0) {
      // Odd sizes leave a last row or column in no window: zero everything first.
      if (2 * outHeight < inHeight || 2 * outWidth < inWidth) (backend.typedArrayFromHeap(out) as Float32Array).fill(0);
      const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
      const [xAt, dyAt, dxAt] = [at(input), at(dy), at(out)];
      const rowBytes = 4 * inWidth * c;
      for (let b = 0; b < batchSize; b++) {
        for (let yr = 0; yr < outHeight; yr++) {
          const inRow = (b * inHeight + 2 * yr) * rowBytes;
          simd.maxPoolGrad2x2(xAt + inRow, dyAt + 4 * (b * outHeight + yr) * outWidth * c, dxAt + inRow, outWidth, rowBytes,
            4 * c, -Infinity);
        }
      }
      return out;
    }
    const x = backend.typedArrayFromHeap(input) as Float32Array;
    const g = backend.typedArrayFromHeap(dy) as Float32Array;
    const dx = backend.typedArrayFromHeap(out) as Float32Array;
    dx.fill(0);
    const overlapping = strideHeight < fh || strideWidth < fw;
    const sums = overlapping ? new Float64Array(dx.length) : null;
    const best = new Float32Array(c);
    const at = new Int32Array(c);
    let dyAt = 0;
    for (let b = 0; b < batchSize; b++) {
      for (let yr = 0; yr < outHeight; yr++) {
        const r0 = Math.max(0, yr * strideHeight - top);
        const r1 = Math.min(inHeight, yr * strideHeight - top + fh);
        for (let yc = 0; yc < outWidth; yc++, dyAt += c) {
          const c0 = Math.max(0, yc * strideWidth - left);
          const c1 = Math.min(inWidth, yc * strideWidth - left + fw);
          best.fill(-Infinity);
          at.fill(-1);
          for (let r = r0; r < r1; r++) {
            for (let col = c0; col < c1; col++) {
              const base = ((b * inHeight + r) * inWidth + col) * c;
              for (let d = 0; d < c; d++) {
                const v = x[base + d]!;
                if (v > best[d]!) {
                  best[d] = v;
                  at[d] = base + d;
                }
              }
            }
          }
          if (sums) {
            for (let d = 0; d < c; d++) if (at[d]! >= 0) sums[at[d]!] += g[dyAt + d]!;
          } else {
            // + 0 as the cpu kernel's sum from 0 (−0 becomes +0).
            for (let d = 0; d < c; d++) if (at[d]! >= 0) dx[at[d]!] = g[dyAt + d]! + 0;
          }
        }
      }
    }
    if (sums) dx.set(sums);
    return out;
  };
}

export function maxPoolGradWasmKernel(): tf.KernelConfig {
  const stock = tf.getKernel(tf.MaxPoolGrad, 'wasm');
  if (!stock) throw new Error('the wasm backend has no MaxPoolGrad kernel');
  return { kernelName: tf.MaxPoolGrad, backendName: 'wasm', kernelFunc: maxPoolGrad(stock.kernelFunc) as tf.KernelFunc };
}
