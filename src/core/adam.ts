/**
 * Adam (Kingma & Ba 2015) over an explicit list of named variables, with its state (first and second moments and
 * the step count) held where a checkpoint can reach it. Same update as PyTorch's `torch.optim.Adam` with
 * `amsgrad=False, weight_decay=0`:
 *
 *   t ← t + 1
 *   m ← β₁·m + (1 − β₁)·g
 *   v ← β₂·v + (1 − β₂)·g²
 *   p ← p − (lr / (1 − β₁ᵗ)) · m / (√v / √(1 − β₂ᵗ) + ε)
 *
 * tf.train.adam keeps its moments in anonymous variables and its step count in a closure, which cannot be saved and
 * restored exactly; this small class can (`moments()` for the tensors, `step` for the count).
 */
import { tf } from './engine.js';
import { ADAM_UPDATE, type AdamUpdateAttrs } from './kernels/adamUpdate.js';

/** Adam hyper-parameters. Defaults are PyTorch's, not the GAN papers' (those come from the resolved GAN config). */
export interface AdamOptions {
  /** Step size α. */
  readonly learningRate: number;
  /** Decay of the first-moment estimate. @default 0.9 */
  readonly beta1?: number;
  /** Decay of the second-moment estimate. @default 0.999 */
  readonly beta2?: number;
  /** Added to the denominator for numerical stability. @default 1e-8 */
  readonly epsilon?: number;
  /**
   * One fused kernel call per parameter (same float32 results as the composite) where the backend has it (wasm,
   * cpu); false: the ~10 tf ops per parameter, as on other backends. @default true
   */
  readonly fused?: boolean;
}

/** First and second moments of one parameter, same shape as the parameter. */
export interface AdamMoments {
  readonly m: tf.Variable;
  readonly v: tf.Variable;
}

export class Adam {
  readonly learningRate: number;
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  readonly fused: boolean;
  /** Number of updates applied so far (PyTorch's `state['step']`, shared by all parameters). */
  step = 0;
  private readonly slots = new Map<string, AdamMoments>();
  /** tf variable name → parameter name, to read `tf.variableGrads` results (keyed by tf variable name). */
  private readonly byVariableName = new Map<string, string>();

  /**
   * @param params the variables this optimizer updates, by parameter name (e.g. a Network's `params`). Moments are
   *   created as zeros, one pair per parameter, and are owned (disposed) by this optimizer.
   */
  constructor(readonly params: ReadonlyMap<string, tf.Variable>, opts: AdamOptions) {
    this.learningRate = opts.learningRate;
    this.beta1 = opts.beta1 ?? 0.9;
    this.beta2 = opts.beta2 ?? 0.999;
    this.epsilon = opts.epsilon ?? 1e-8;
    this.fused = opts.fused ?? true;
    if (!(this.learningRate > 0)) throw new Error(`Adam: learningRate must be > 0, got ${this.learningRate}`);
    for (const [k, b] of [['beta1', this.beta1], ['beta2', this.beta2]] as const) {
      if (!(b >= 0 && b < 1)) throw new Error(`Adam: ${k} must be in [0, 1), got ${b}`);
    }
    // tidy: the zero tensors the moment variables start from are released; the variables themselves are kept.
    tf.tidy(() => {
      for (const [name, p] of params) {
        this.byVariableName.set(p.name, name);
        this.slots.set(name, {
          m: tf.variable(tf.zerosLike(p), false, undefined, p.dtype),
          v: tf.variable(tf.zerosLike(p), false, undefined, p.dtype),
        });
      }
    });
  }

  /** The updated variables as a list, in parameter order: what to pass to `tf.variableGrads(f, varList)`. */
  get variables(): tf.Variable[] {
    return [...this.params.values()];
  }

  /** Moments by parameter name (`<name>.m`, `<name>.v` in checkpoints). */
  moments(): ReadonlyMap<string, AdamMoments> {
    return this.slots;
  }

  /**
   * Applies one Adam update. `grads` is keyed by tf variable name, as `tf.variableGrads` returns it. A parameter
   * without a gradient (not connected to the loss) keeps its value and moments, as PyTorch skips `grad is None`.
   * Does not dispose `grads`.
   */
  applyGradients(grads: tf.NamedTensorMap): void {
    for (const key of Object.keys(grads)) {
      if (!this.byVariableName.has(key)) throw new Error(`Adam: gradient for ${key}, which this optimizer does not update`);
    }
    this.step += 1;
    const t = this.step;
    const stepSize = this.learningRate / (1 - this.beta1 ** t);
    const sqrtBiasCorrection2 = Math.sqrt(1 - this.beta2 ** t);
    if (this.fused && tf.getKernel(ADAM_UPDATE, tf.getBackend())) {
      const attrs: AdamUpdateAttrs = {
        beta1: this.beta1, beta2: this.beta2, epsilon: this.epsilon, stepSize, sqrtBiasCorrection2,
      };
      tf.tidy(() => {
        for (const [name, p] of this.params) {
          const g = grads[p.name];
          if (!g) continue;
          const { m, v } = this.slots.get(name)!;
          const [pNew, mNew, vNew] = tf.engine().runKernel(ADAM_UPDATE, { p, m, v, g },
            attrs as unknown as tf.NamedAttrMap) as tf.Tensor[];
          m.assign(mNew!);
          v.assign(vNew!);
          p.assign(pNew!);
        }
      });
      return;
    }
    // The composite: same update in tf ops, for backends without the fused kernel.
    tf.tidy(() => {
      const b1 = tf.scalar(this.beta1);
      const oneMinusB1 = tf.scalar(1 - this.beta1);
      const b2 = tf.scalar(this.beta2);
      const oneMinusB2 = tf.scalar(1 - this.beta2);
      const eps = tf.scalar(this.epsilon);
      const alpha = tf.scalar(stepSize);
      const bc2 = tf.scalar(sqrtBiasCorrection2);
      for (const [name, p] of this.params) {
        const g = grads[p.name];
        if (!g) continue;
        const { m, v } = this.slots.get(name)!;
        const mNew = tf.add(tf.mul(m, b1), tf.mul(g, oneMinusB1));
        const vNew = tf.add(tf.mul(v, b2), tf.mul(tf.mul(g, g), oneMinusB2));
        const denom = tf.add(tf.div(tf.sqrt(vNew), bc2), eps);
        m.assign(mNew);
        v.assign(vNew);
        p.assign(tf.sub(p, tf.mul(alpha, tf.div(mNew, denom))));
      }
    });
  }

  dispose(): void {
    for (const { m, v } of this.slots.values()) {
      m.dispose();
      v.dispose();
    }
    this.slots.clear();
  }
}

