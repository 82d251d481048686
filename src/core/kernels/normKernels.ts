/**
 * Training-mode batch and instance normalisation as one forward kernel and one gradient kernel, for
 * the wasm and cpu backends. The composite (tf.moments + sub/div/mul/add, models/layers/norm.ts) keeps
 * five full-size intermediates per layer on the gradient tape and runs ~20 kernels forward and back;
 * at 128 px (DCGAN, 64 filters, batch 16) those intermediates were most of a 3 GB peak.
 *
 *   MedsynNormTrain      x [N, H, W, C], γ [C], β [C] → y [N, H, W, C], μ, σ² (biased)
 *   MedsynNormTrainGrad  dy, x, γ, μ, σ² → dx, dγ, dβ
 *
 * μ and σ² are [C] (batch: over N, H, W) or [N, 1, 1, C] (instance: over H, W), accumulated in float64.
 * They are statistics for the running buffers and carry no gradient.
 *
 * The gradient (y = γ·x̂ + β, x̂ = (x − μ)/√(σ² + ε), P values per statistic):
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − Σ dy / P − x̂ · Σ dy·x̂ / P)
 * runs as the gradient kernel, except while an outer gradient tape records (WGAN-GP's penalty, R1 —
 * gradients of gradients): then the same formula runs as differentiable ops with μ and σ² recomputed
 * from x, so second derivatives see their dependence on x.
 */
import * as tf from '@tensorflow/tfjs';
import { nativeKernels } from './nativeModule.js';
import type { BackendWasm, KernelArgs } from './wasmOps.js';

export const NORM_TRAIN = 'MedsynNormTrain';
export const NORM_TRAIN_GRAD = 'MedsynNormTrainGrad';

export interface NormTrainAttrs {
  /** true: instance norm (statistics per sample and channel); false: batch norm (per channel). */
  readonly perSample: boolean;
  readonly eps: number;
}

type Backend = 'wasm' | 'cpu';

/** Float32 views of inputs, and outputs allocated on `backend` then filled in place. */
interface Io {
  read(t: tf.TensorInfo): Float32Array;
  /** Allocates every output first (a wasm heap may grow and detach earlier views), then returns views. */
  outputs(shapes: readonly number[][]): { views: Float32Array[]; infos: () => tf.TensorInfo[] };
}

function io(backendName: Backend, backend: unknown): Io {
  if (backendName === 'wasm') {
    const wasm = backend as BackendWasm;
    return {
      read: (t) => wasm.typedArrayFromHeap(t) as Float32Array,
      outputs(shapes) {
        const infos = shapes.map((s) => wasm.makeOutput(s, 'float32'));
        return { views: infos.map((i) => wasm.typedArrayFromHeap(i) as Float32Array), infos: () => infos };
      },
    };
  }
  const cpu = backend as tf.KernelBackend & {
    data: { get(id: tf.DataId): { values: tf.backend_util.BackendValues } };
    makeTensorInfo(shape: number[], dtype: tf.DataType, values?: tf.backend_util.BackendValues): tf.TensorInfo;
  };
  return {
    read: (t) => cpu.data.get(t.dataId).values as Float32Array,
    outputs(shapes) {
      const views = shapes.map((s) => new Float32Array(tf.util.sizeFromShape(s)));
      return { views, infos: () => shapes.map((s, i) => cpu.makeTensorInfo(s, 'float32', views[i])) };
    },
  };
}

/** Groups (statistics) and values per group of x [N, H, W, C]. */
function layout(shape: readonly number[], perSample: boolean): { groups: number; per: number; c: number; statShape: number[] } {
  const [n, h, w, c] = shape as [number, number, number, number];
  return perSample
    ? { groups: n, per: h * w, c, statShape: [n, 1, 1, c] }
    : { groups: 1, per: n * h * w, c, statShape: [c] };
}

/** Scratch floats of native/norm.c's passes: 4c doubles + 4c floats. */
const nativeScratch = (c: number): number => 12 * c;

function forwardKernel(backendName: Backend) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const { x, gamma, beta } = args.inputs as Record<'x' | 'gamma' | 'beta', tf.TensorInfo>;
    const { perSample, eps } = args.attrs as unknown as NormTrainAttrs;
    const { groups, per, c, statShape } = layout(x.shape, perSample);
    const backend = io(backendName, args.backend);
    const nk = backendName === 'wasm' ? nativeKernels() : null;
    if (nk) {
      const results = nk.call([x, gamma, beta].map((t) => backend.read(t)), [groups * per * c, groups * c, groups * c, nativeScratch(c)],
        ([xAt, gAt, bAt], [yAt, meanAt, varAt, scratchAt]) =>
          nk.exports.norm_forward(xAt!, groups, per, c, gAt!, bAt!, eps, yAt!, meanAt!, varAt!, scratchAt!));
      const out = backend.outputs([x.shape, statShape, statShape]);
      out.views.forEach((view, i) => view.set(results[i]!));
      return out.infos();
    }
    const out = backend.outputs([x.shape, statShape, statShape]);
    const [y, mean, variance] = out.views as [Float32Array, Float32Array, Float32Array];
    const xs = backend.read(x);
    const g = backend.read(gamma);
    const b = backend.read(beta);
    const sum = new Float64Array(c);
    for (let grp = 0; grp < groups; grp++) {
      const start = grp * per * c;
      const end = start + per * c;
      sum.fill(0);
      for (let i = start; i < end; i += c) for (let ch = 0; ch < c; ch++) sum[ch]! += xs[i + ch]!;
      const mu = sum.map((s) => s / per);
      sum.fill(0);
      for (let i = start; i < end; i += c) {
        for (let ch = 0; ch < c; ch++) {
          const d = xs[i + ch]! - mu[ch]!;
          sum[ch]! += d * d;
        }
      }
      const scale = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        const v = sum[ch]! / per;
        mean[grp * c + ch] = mu[ch]!;
        variance[grp * c + ch] = v;
        scale[ch] = g[ch]! / Math.sqrt(v + eps);
      }
      for (let i = start; i < end; i += c) {
        for (let ch = 0; ch < c; ch++) y[i + ch] = (xs[i + ch]! - mu[ch]!) * scale[ch]! + b[ch]!;
      }
    }
    return out.infos();
  };
}

function gradKernel(backendName: Backend) {
  return (args: KernelArgs): tf.TensorInfo[] => {
    const { dy, x, gamma, mean, variance } = args.inputs as Record<'dy' | 'x' | 'gamma' | 'mean' | 'variance', tf.TensorInfo>;
    const { perSample, eps } = args.attrs as unknown as NormTrainAttrs;
    const { groups, per, c } = layout(x.shape, perSample);
    const backend = io(backendName, args.backend);
    const nk = backendName === 'wasm' ? nativeKernels() : null;
    if (nk) {
      const results = nk.call([dy, x, gamma, mean, variance].map((t) => backend.read(t)), [groups * per * c, c, c, nativeScratch(c)],
        ([dyAt, xAt, gAt, meanAt, varAt], [dxAt, dgAt, dbAt, scratchAt]) =>
          nk.exports.norm_backward(dyAt!, xAt!, groups, per, c, gAt!, meanAt!, varAt!, eps, dxAt!, dgAt!, dbAt!, scratchAt!));
      const out = backend.outputs([x.shape, [c], [c]]);
      out.views.forEach((view, i) => view.set(results[i]!));
      return out.infos();
    }
    const out = backend.outputs([x.shape, [c], [c]]);
    const [dx, dgamma, dbeta] = out.views as [Float32Array, Float32Array, Float32Array];
    const dys = backend.read(dy);
    const xs = backend.read(x);
    const g = backend.read(gamma);
    const mu = backend.read(mean);
    const vr = backend.read(variance);
    const sdy = new Float64Array(c);
    const sdyx = new Float64Array(c);
    const r = new Float64Array(c);
    const dg = new Float64Array(c);
    const db = new Float64Array(c);
    for (let grp = 0; grp < groups; grp++) {
      const start = grp * per * c;
      const end = start + per * c;
      const m = mu.subarray(grp * c, grp * c + c);
      for (let ch = 0; ch < c; ch++) r[ch] = 1 / Math.sqrt(vr[grp * c + ch]! + eps);
      sdy.fill(0);
      sdyx.fill(0);
      for (let i = start; i < end; i += c) {
        for (let ch = 0; ch < c; ch++) {
          const d = dys[i + ch]!;
          sdy[ch]! += d;
          sdyx[ch]! += d * (xs[i + ch]! - m[ch]!) * r[ch]!;
        }
      }
      const k = new Float64Array(c);
      for (let ch = 0; ch < c; ch++) {
        dg[ch]! += sdyx[ch]!;
        db[ch]! += sdy[ch]!;
        k[ch] = g[ch]! * r[ch]!;
        sdy[ch]! /= per;
        sdyx[ch]! /= per;
      }
      for (let i = start; i < end; i += c) {
        for (let ch = 0; ch < c; ch++) {
          const xhat = (xs[i + ch]! - m[ch]!) * r[ch]!;
          dx[i + ch] = k[ch]! * (dys[i + ch]! - sdy[ch]! - xhat * sdyx[ch]!);
        }
      }
    }
    dgamma.set(dg);
    dbeta.set(db);
    return out.infos();
  };
}

/** The gradient as differentiable ops, μ and σ² recomputed from x (for gradients of gradients). */
function gradOps(dy: tf.Tensor4D, x: tf.Tensor4D, gamma: tf.Tensor, { perSample, eps }: NormTrainAttrs): tf.Tensor[] {
  const axes = perSample ? [1, 2] : [0, 1, 2];
  const { mean, variance } = tf.moments(x, axes, true);
  const r = tf.div(1, tf.sqrt(tf.add(variance, eps)));
  const xhat = tf.mul(tf.sub(x, mean), r);
  const dgamma = tf.sum(tf.mul(dy, xhat), [0, 1, 2]);
  const dbeta = tf.sum(dy, [0, 1, 2]);
  const gdy = tf.mul(dy, gamma);
  const dx = tf.mul(r, tf.sub(tf.sub(gdy, tf.mean(gdy, axes, true)), tf.mul(xhat, tf.mean(tf.mul(gdy, xhat), axes, true))));
  return [dx, dgamma, dbeta];
}

export const normTrainGradient: tf.GradConfig = {
  kernelName: NORM_TRAIN,
  inputsToSave: ['x', 'gamma'],
  outputsToSave: [false, true, true],
  gradFunc: (dys, saved, attrs) => {
    const dy = (Array.isArray(dys) ? dys[0] : dys) as tf.Tensor4D;
    const [x, gamma, mean, variance] = saved as [tf.Tensor4D, tf.Tensor, tf.Tensor, tf.Tensor];
    // Computed here, not in the closures: the engine runs each closure in its own tidy, which would
    // dispose the other two gradients of a lazily shared computation.
    const [dx, dgamma, dbeta] = (tf.engine().isTapeOn()
      ? gradOps(dy, x, gamma, attrs as unknown as NormTrainAttrs)
      : tf.engine().runKernel(NORM_TRAIN_GRAD, { dy, x, gamma, mean, variance }, attrs)) as [tf.Tensor, tf.Tensor, tf.Tensor];
    return { x: () => dx, gamma: () => dgamma, beta: () => dbeta };
  },
};

export function normKernels(backendName: Backend): tf.KernelConfig[] {
  return [
    { kernelName: NORM_TRAIN, backendName, kernelFunc: forwardKernel(backendName) as unknown as tf.KernelFunc },
    { kernelName: NORM_TRAIN_GRAD, backendName, kernelFunc: gradKernel(backendName) as unknown as tf.KernelFunc },
  ];
}

/** True when the active backend has the fused kernels (wasm, cpu); others use the composite. */
export function hasNormKernels(): boolean {
  return tf.getKernel(NORM_TRAIN, tf.getBackend()) !== undefined && tf.getKernel(NORM_TRAIN_GRAD, tf.getBackend()) !== undefined;
}
