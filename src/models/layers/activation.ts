/**
 * Activation functions searched over in Table 1 (ReLU / LeakyReLU / ELU / SELU), as a typed table.
 * Every entry's gradient is itself differentiable on our engine (double backprop for WGAN-GP and R1):
 * relu → step, leaky-relu/selu → greater+where, elu → EluGrad (gradients registered in core/engine.ts).
 */
import { tf } from '../../core/engine.js';

export interface Activation {
  /** Elementwise; any shape. */
  apply(x: tf.Tensor): tf.Tensor;
  /** Slope for x < 0 that Kaiming initialisation accounts for (0 unless leaky). */
  readonly negativeSlope: number;
}

/** LeakyReLU slope used throughout the DCGAN family (Radford et al. 2016, §3). */
export const LEAKY_RELU_SLOPE = 0.2;

export const ACTIVATIONS = {
  relu: { apply: (x) => tf.relu(x), negativeSlope: 0 },
  'leaky-relu': { apply: (x) => tf.leakyRelu(x, LEAKY_RELU_SLOPE), negativeSlope: LEAKY_RELU_SLOPE },
  elu: { apply: (x) => tf.elu(x), negativeSlope: 0 },
  selu: { apply: (x) => tf.selu(x), negativeSlope: 0 },
} as const satisfies Record<string, Activation>;

export type ActivationKind = keyof typeof ACTIVATIONS;
export const ACTIVATION_KINDS = Object.keys(ACTIVATIONS) as ActivationKind[];
