/**
 * Collects a network's named variables while it is built. Names follow PyTorch's state-dict convention
 * (`blocks.0.conv.weight`); values are stored in TF.js layout (see src/models/network.ts).
 */
import { tf } from '../../core/engine.js';

export class ParamCollector {
  /** Trainable parameters, in creation order. */
  readonly params = new Map<string, tf.Variable>();
  /** Non-trainable state: spectral-norm `u`/`v`, batch-norm running statistics. */
  readonly buffers = new Map<string, tf.Variable>();

  /** A trainable variable. The collector owns it until `dispose`. */
  param(name: string, values: Float32Array, shape: readonly number[]): tf.Variable {
    return this.add(this.params, name, values, shape, true);
  }

  /** A non-trainable variable (updated by `assign` during training-mode forward passes). */
  buffer(name: string, values: Float32Array, shape: readonly number[]): tf.Variable {
    return this.add(this.buffers, name, values, shape, false);
  }

  dispose(): void {
    for (const v of this.params.values()) v.dispose();
    for (const v of this.buffers.values()) v.dispose();
    this.params.clear();
    this.buffers.clear();
  }

  private add(
    into: Map<string, tf.Variable>, name: string, values: Float32Array, shape: readonly number[], trainable: boolean,
  ): tf.Variable {
    if (this.params.has(name) || this.buffers.has(name)) throw new Error(`duplicate parameter name ${name}`);
    // Unnamed TF.js variables: TF.js names must be globally unique, and several copies of a network
    // (generator, its EMA, a test's second build) coexist. The map key is the name that matters.
    const variable = tf.tidy(() => tf.variable(tf.tensor(values, shape as number[], 'float32'), trainable));
    into.set(name, variable);
    return variable;
  }
}
