/**
 * A network is a set of named variables and a pure forward function over them. Names follow PyTorch's
 * state-dict convention (`blocks.0.conv.weight`), so checkpoints map onto a PyTorch module one-to-one
 * (see docs/checkpoints.md). Conv weights are stored as TF.js lays them out ([kh, kw, in, out]); the
 * documented mapping gives the transpose PyTorch expects ([out, in, kh, kw]).
 */
import type { tf } from '../core/engine.js';

export interface Network {
  /** Trainable parameters, in a stable order. */
  readonly params: ReadonlyMap<string, tf.Variable>;
  /** Non-trainable state that a checkpoint must keep: spectral-norm `u` vectors, batch-norm running statistics. */
  readonly buffers: ReadonlyMap<string, tf.Variable>;
  dispose(): void;
}

export interface Generator extends Network {
  readonly latentDim: number;
  /** Output [height, width, channels]: image channels then one channel per mask class. */
  readonly outputShape: readonly [number, number, number];
  /** latents [N, Z] → samples [N, H, W, C] in [-1, 1]. `training` selects batch statistics and updates buffers. */
  apply(latents: tf.Tensor2D, opts: { readonly training: boolean }): tf.Tensor4D;
}

export interface DiscriminatorOutput {
  /** [N, 1] raw scores (logits for DCGAN-like losses, critic values for WGAN). */
  readonly logits: tf.Tensor2D;
  /** [N, F] penultimate features, for feature matching. */
  readonly features: tf.Tensor2D;
}

export interface Discriminator extends Network {
  /** samples [N, H, W, C] → logits and features. */
  apply(samples: tf.Tensor4D, opts: { readonly training: boolean }): DiscriminatorOutput;
}
