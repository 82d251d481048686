/**
 * Normalisation layers (Table 1: BatchNorm / InstanceNorm, plus `none`). Training mode runs medsyn's fused
 * kernels on wasm and cpu (core/kernels/normKernels.ts: one kernel each way, no full-size intermediates on the
 * tape, exact gradients of every order); elsewhere, and in eval mode, a composite of tf.moments and arithmetic
 * (not tf.batchNorm, whose gradient cannot itself be differentiated: WGAN-GP, R1).
 *
 * - `batch` (Ioffe & Szegedy 2015), PyTorch BatchNorm2d conventions: training normalises with the batch's
 *   biased variance over [N, H, W] and updates running_mean / running_var (unbiased) with momentum 0.1:
 *   running ← (1 − 0.1)·running + 0.1·batch. Eval uses the running statistics. eps = 1e-5.
 * - `instance` (Ulyanov et al. 2017): per-sample, per-channel statistics over [H, W], same in training and
 *   eval (PyTorch InstanceNorm2d with affine=True, track_running_stats=False).
 * - `none`: identity.
 *
 * Parameter names: `${prefix}.weight` (γ), `${prefix}.bias` (β); batch norm adds the buffers
 * `${prefix}.running_mean`, `${prefix}.running_var`.
 */
import { tf } from '../../core/engine.js';
import { hasNormKernels, NORM_TRAIN, type NormTrainAttrs } from '../../core/kernels/normKernels.js';
import type { Rng } from '../../core/rng.js';
import { initNormScale } from './init.js';
import type { ParamCollector } from './params.js';

export type NormKind = 'batch' | 'instance' | 'none';
export const NORM_KINDS: readonly NormKind[] = ['batch', 'instance', 'none'];

/** PyTorch's BatchNorm2d / InstanceNorm2d defaults. */
export const NORM_EPS = 1e-5;
export const BATCH_NORM_MOMENTUM = 0.1;

export type NormLayer =
  | { readonly kind: 'none' }
  | { readonly kind: 'instance'; readonly gamma: tf.Variable; readonly beta: tf.Variable }
  | {
    readonly kind: 'batch'; readonly gamma: tf.Variable; readonly beta: tf.Variable;
    readonly runningMean: tf.Variable; readonly runningVar: tf.Variable;
  };

export function createNorm(collector: ParamCollector, prefix: string, kind: NormKind, channels: number, rng: Rng): NormLayer {
  if (kind === 'none') return { kind };
  const gamma = collector.param(`${prefix}.weight`, initNormScale(channels, rng), [channels]);
  const beta = collector.param(`${prefix}.bias`, new Float32Array(channels), [channels]);
  if (kind === 'instance') return { kind, gamma, beta };
  const runningMean = collector.buffer(`${prefix}.running_mean`, new Float32Array(channels), [channels]);
  const runningVar = collector.buffer(`${prefix}.running_var`, new Float32Array(channels).fill(1), [channels]);
  return { kind, gamma, beta, runningMean, runningVar };
}

function affine(x: tf.Tensor4D, mean: tf.Tensor, variance: tf.Tensor, gamma: tf.Tensor, beta: tf.Tensor): tf.Tensor4D {
  // (x − μ) / √(σ² + eps) · γ + β, with sqrt (not rsqrt) so its gradient stays differentiable.
  const normalized = tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, NORM_EPS)));
  return tf.add(tf.mul(normalized, gamma), beta) as tf.Tensor4D;
}

/**
 * Training-mode normalisation as one fused kernel (core/kernels/normKernels.ts) where the backend has it
 * (wasm, cpu): y, and the statistics for the running buffers. Same values as the composite below to
 * float32 rounding; its gradient is exact to every order.
 */
function fusedTrain(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, perSample: boolean) {
  const attrs: NormTrainAttrs = { perSample, eps: NORM_EPS };
  const [y, mean, variance] = tf.engine().runKernel(NORM_TRAIN, { x, gamma, beta },
    attrs as unknown as tf.NamedAttrMap) as unknown as [tf.Tensor4D, tf.Tensor, tf.Tensor];
  return { y: y!, mean: mean!, variance: variance! };
}

/** x [N, H, W, C] → [N, H, W, C]. Training-mode batch norm updates the running buffers. */
export function applyNorm(layer: NormLayer, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  const fused = training && layer.kind !== 'none' && hasNormKernels();
  switch (layer.kind) {
    case 'none':
      return x;
    case 'instance': {
      if (fused) {
        const { y, mean, variance } = fusedTrain(x, layer.gamma, layer.beta, true);
        tf.dispose([mean, variance]);
        return y;
      }
      const { mean, variance } = tf.moments(x, [1, 2], true); // [N, 1, 1, C]
      return affine(x, mean, variance, layer.gamma, layer.beta);
    }
    case 'batch': {
      if (!training) return affine(x, layer.runningMean, layer.runningVar, layer.gamma, layer.beta);
      const f = fused ? fusedTrain(x, layer.gamma, layer.beta, false) : null;
      const { mean, variance } = f ?? tf.moments(x, [0, 1, 2]); // [C], biased
      tf.tidy(() => {
        const [n, h, w] = x.shape;
        const count = n * h * w;
        const unbiased = count > 1 ? tf.mul(variance, count / (count - 1)) : variance;
        layer.runningMean.assign(tf.add(tf.mul(layer.runningMean, 1 - BATCH_NORM_MOMENTUM), tf.mul(mean, BATCH_NORM_MOMENTUM)));
        layer.runningVar.assign(tf.add(tf.mul(layer.runningVar, 1 - BATCH_NORM_MOMENTUM), tf.mul(unbiased, BATCH_NORM_MOMENTUM)));
      });
      if (f) {
        tf.dispose([mean, variance]);
        return f.y;
      }
      return affine(x, mean, variance, layer.gamma, layer.beta);
    }
  }
}
