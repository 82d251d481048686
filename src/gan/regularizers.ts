/**
 * Regularisers of the GAN objective:
 * - gradient penalty on random interpolates (WGAN-GP, Gulrajani et al. 2017, eq. 3),
 * - R1 on real samples (Mescheder et al. 2018, eq. 9),
 * - weight clipping (WGAN, Arjovsky et al. 2017, Algorithm 1),
 * - feature matching (Salimans et al. 2016, §3.1).
 *
 * The two gradient penalties differentiate D with tf.grad *inside* the loss, so the outer
 * tf.variableGrads over D's parameters differentiates through that gradient (double backprop; needs the
 * second-order kernels registered in core/engine.ts).
 *
 * Per-sample gradient norms assume D treats samples independently; a batch-norm D in training mode couples
 * them (Gulrajani et al. §4 recommend no batch norm in the critic: the wgan-gp preset uses instance norm).
 */
import { tf } from '../core/engine.js';
import type { Rng } from '../core/rng.js';

/** samples [N, H, W, C] → raw scores [N, 1]. */
export type Critic = (samples: tf.Tensor4D) => tf.Tensor;

/** Inside √ of a gradient norm so its own gradient is finite at 0 (PyTorch's .norm has no eps; at ‖g‖ = 0 it gives NaN). */
export const GRADIENT_NORM_EPS = 1e-12;

/** ∇ₓ Σ D(x): per-sample input gradients [N, H, W, C], differentiable w.r.t. D's parameters. */
function inputGradients(critic: Critic, samples: tf.Tensor4D): tf.Tensor4D {
  return tf.grad((x: tf.Tensor) => tf.sum(critic(x as tf.Tensor4D)))(samples) as tf.Tensor4D;
}

/** Interpolation weights α ~ U[0, 1), one per sample, drawn from `rng`. */
export function interpolationWeights(count: number, rng: Rng): Float32Array {
  const alpha = new Float32Array(count);
  for (let i = 0; i < count; i++) alpha[i] = rng.next();
  return alpha;
}

/**
 * WGAN-GP: weight · E[(‖∇D(x̂)‖₂ − 1)²] with x̂ = α·real + (1 − α)·fake (Gulrajani et al. 2017, eq. 3).
 * real, fake [N, H, W, C]; alpha [N] in [0, 1]. Returns a scalar; disposed by the caller's tidy.
 */
export function gradientPenalty(
  critic: Critic, real: tf.Tensor4D, fake: tf.Tensor4D, alpha: Float32Array | tf.Tensor1D, weight: number,
): tf.Scalar {
  const n = real.shape[0];
  const a = tf.reshape(alpha instanceof Float32Array ? tf.tensor1d(alpha) : alpha, [n, 1, 1, 1]); // [N, 1, 1, 1]
  const interpolates = tf.add(tf.mul(a, real), tf.mul(tf.sub(1, a), fake)) as tf.Tensor4D; // [N, H, W, C]
  const grads = inputGradients(critic, interpolates); // [N, H, W, C]
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(grads), [1, 2, 3]), GRADIENT_NORM_EPS)); // [N]
  return tf.mul(tf.mean(tf.square(tf.sub(norms, 1))), weight) as tf.Scalar;
}

/** R1: γ/2 · E[‖∇D(x_real)‖₂²] (Mescheder et al. 2018, eq. 9). real [N, H, W, C]. */
export function r1Penalty(critic: Critic, real: tf.Tensor4D, gamma: number): tf.Scalar {
  const grads = inputGradients(critic, real); // [N, H, W, C]
  return tf.mul(tf.mean(tf.sum(tf.square(grads), [1, 2, 3])), gamma / 2) as tf.Scalar;
}

/** WGAN weight clipping: every variable ← clip(variable, −c, c), in place. Call after each critic update. */
export function clipWeights(variables: Iterable<tf.Variable>, c: number): void {
  for (const variable of variables) {
    tf.tidy(() => variable.assign(tf.clipByValue(variable, -c, c)));
  }
}

/**
 * Feature matching: ‖E f(real) − E f(fake)‖₂² over D's penultimate features (Salimans et al. 2016, §3.1).
 * realFeatures, fakeFeatures [N, F] (batch sizes may differ). A sum over F, not a mean, as in the paper.
 */
export function featureMatchingLoss(realFeatures: tf.Tensor2D, fakeFeatures: tf.Tensor2D): tf.Scalar {
  return tf.sum(tf.square(tf.sub(tf.mean(realFeatures, 0), tf.mean(fakeFeatures, 0)))) as tf.Scalar;
}
