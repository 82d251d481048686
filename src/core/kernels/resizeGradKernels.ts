/**
 * ResizeBilinearGrad and ResizeNearestNeighborGrad computed as the exact adjoint of TF.js'
 * forward resize (same source coordinates). TF.js 4.22's kernels get first-order gradients wrong:
 * - cpu and wasm ignore halfPixelCenters (resize(…, halfPixelCenters = true) gradients are wrong);
 * - cpu ResizeBilinearGrad returns [N, W, H, C] for non-square images (the gradient throws);
 * - cpu ResizeNearestNeighborGrad is not the adjoint once N > 1 or C > 1.
 * On cpu these replace the kernels; on wasm they run only with halfPixelCenters, and the
 * (correct, C++) wasm kernels run otherwise.
 */
import * as tf from '@tensorflow/tfjs';
import type { KernelArgs, TensorInputs } from './wasmOps.js';

type Dims = [number, number, number, number];

/** Source coordinate of output index `o`, as TF.js' forward resize computes it. */
function sourceCoord(o: number, inSize: number, outSize: number, alignCorners: boolean,
  halfPixelCenters: boolean, bilinear: boolean): number {
  const scale = alignCorners && outSize > 1 ? (inSize - 1) / (outSize - 1) : inSize / outSize;
  return halfPixelCenters ? scale * (o + 0.5) - (bilinear ? 0.5 : 0) : scale * o;
}

/** dx = Aᵀ dy for bilinear A: [N, OH, OW, C] → [N, H, W, C]. */
function bilinearAdjoint(dy: ArrayLike<number>, [n, oh, ow, c]: Dims, [, h, w]: Dims,
  { alignCorners, halfPixelCenters }: tf.ResizeBilinearGradAttrs): Float32Array {
  const axis = (inSize: number, outSize: number) => Array.from({ length: outSize }, (_, o) => {
    const src = sourceCoord(o, inSize, outSize, alignCorners, halfPixelCenters, true);
    const lo = Math.max(0, Math.floor(src));
    return { lo, hi: Math.min(inSize - 1, Math.ceil(src)), frac: src - lo };
  });
  const rows = axis(h, oh);
  const cols = axis(w, ow);
  const dx = new Float32Array(n * h * w * c);
  let src = 0;
  for (let b = 0; b < n; b++) {
    for (const r of rows) {
      for (const q of cols) {
        const weights = [(1 - r.frac) * (1 - q.frac), (1 - r.frac) * q.frac, r.frac * (1 - q.frac), r.frac * q.frac];
        const targets = [[r.lo, q.lo], [r.lo, q.hi], [r.hi, q.lo], [r.hi, q.hi]].map(
          ([y, x]) => ((b * h + y) * w + x) * c);
        for (let ch = 0; ch < c; ch++, src++) {
          for (let k = 0; k < 4; k++) dx[targets[k] + ch] += weights[k] * dy[src];
        }
      }
    }
  }
  return dx;
}

/** dx = Aᵀ dy for nearest-neighbour A: [N, OH, OW, C] → [N, H, W, C]. */
function nearestAdjoint(dy: ArrayLike<number>, [n, oh, ow, c]: Dims, [, h, w]: Dims,
  { alignCorners, halfPixelCenters }: tf.ResizeNearestNeighborGradAttrs): Float32Array {
  const axis = (inSize: number, outSize: number) => Array.from({ length: outSize }, (_, o) => {
    const src = sourceCoord(o, inSize, outSize, alignCorners, halfPixelCenters, false);
    const nearest = Math.min(inSize - 1, alignCorners ? Math.round(src) : Math.floor(src));
    return halfPixelCenters ? Math.max(0, nearest) : nearest;
  });
  const rows = axis(h, oh);
  const cols = axis(w, ow);
  const dx = new Float32Array(n * h * w * c);
  let src = 0;
  for (let b = 0; b < n; b++) {
    for (const y of rows) {
      for (const x of cols) {
        const dst = ((b * h + y) * w + x) * c;
        for (let ch = 0; ch < c; ch++, src++) dx[dst + ch] += dy[src];
      }
    }
  }
  return dx;
}

type Adjoint = (dy: ArrayLike<number>, dyShape: Dims, imagesShape: Dims,
  attrs: tf.ResizeBilinearGradAttrs) => Float32Array;

/** `adjoint` as a kernel; on wasm only for halfPixelCenters, else the kernel it replaces. */
function adjointKernel(kernelName: string, backendName: 'cpu' | 'wasm', adjoint: Adjoint): tf.KernelConfig {
  const original = tf.getKernel(kernelName, backendName);
  const kernelFunc = (args: KernelArgs): tf.TensorInfo | tf.TensorInfo[] => {
    const attrs = args.attrs as unknown as tf.ResizeBilinearGradAttrs;
    if (backendName === 'wasm' && !attrs.halfPixelCenters && original) return original.kernelFunc(args);
    const backend = args.backend as tf.KernelBackend;
    const { images, dy } = args.inputs as TensorInputs<'images' | 'dy'>; // images: [N, H, W, C], dy: [N, OH, OW, C]
    const dx = adjoint(backend.readSync(dy.dataId) as Float32Array, dy.shape as Dims, images.shape as Dims, attrs);
    return { dataId: backend.write(dx, images.shape, 'float32'), shape: images.shape, dtype: 'float32' };
  };
  return { kernelName, backendName, kernelFunc: kernelFunc as tf.KernelFunc };
}

/** Replacements for `backendName`'s resize gradient kernels (built around the current ones). */
export function resizeGradKernels(backendName: 'cpu' | 'wasm'): tf.KernelConfig[] {
  return [
    adjointKernel(tf.ResizeBilinearGrad, backendName, bilinearAdjoint),
    adjointKernel(tf.ResizeNearestNeighborGrad, backendName, nearestAdjoint),
  ];
}
