/**
 * Spectral normalisation (Miyato et al. 2018), equivalent to `torch.nn.utils.spectral_norm` with
 * `n_power_iterations=1`, `eps=1e-12`:
 *
 *   1. W_mat = the weight reshaped to [out, in·kh·kw] exactly as PyTorch does (its weight permuted so that
 *      the output-channel axis comes first, then flattened in (in, kh, kw) order), so `u` ([out]) and
 *      `v` ([in·kh·kw]) map one-to-one onto PyTorch's `weight_u` / `weight_v` buffers.
 *   2. Training only: v ← normalize(W_matᵀ u), u ← normalize(W_mat v), written back to the buffers.
 *   3. σ = uᵀ W_mat v with u, v held constant (no gradient flows through the power iteration), and the
 *      layer applies W / σ.
 *
 * In eval mode step 2 is skipped and the stored u, v are used, as in PyTorch.
 *
 * Gradient cut: TF.js has no stop_gradient. The updated u, v are assigned to the buffer variables and
 * σ reads clones of those variables; a variable's id is never the output of a taped op, so backprop ends
 * there. Cloning (rather than reading the variable directly) pins the values this forward pass used, so a
 * later training-mode call that reassigns the buffers cannot change this call's gradient.
 */
import { tf } from '../../core/engine.js';
import type { Rng } from '../../core/rng.js';
import type { ParamCollector } from './params.js';

/** Weight layouts, TF.js side: conv [kh, kw, in, out]; transposed conv [kh, kw, out, in]; dense [in, out]. */
export type WeightLayout = 'conv' | 'conv-transpose' | 'dense';

export interface SpectralNormWeight {
  /** The unnormalised trainable weight (PyTorch's `weight_orig`), TF.js layout. */
  readonly weight: tf.Variable;
  /** [out] left singular vector estimate (`weight_u`). */
  readonly u: tf.Variable;
  /** [in·kh·kw] right singular vector estimate (`weight_v`). */
  readonly v: tf.Variable;
  readonly layout: WeightLayout;
}

/** `torch.nn.functional.normalize`'s eps: x / max(‖x‖, eps). */
export const SPECTRAL_NORM_EPS = 1e-12;

/** The [out, in·kh·kw] matrix PyTorch's spectral_norm works on, from a TF.js-layout weight. */
export function weightMatrix(weight: tf.Tensor, layout: WeightLayout): tf.Tensor2D {
  return tf.tidy(() => {
    switch (layout) {
      case 'dense': // [in, out] → [out, in]
        return tf.transpose(weight) as tf.Tensor2D;
      case 'conv': { // [kh, kw, in, out] → [out, in, kh, kw] → [out, in·kh·kw]
        const [kh, kw, cin, cout] = weight.shape as [number, number, number, number];
        return tf.reshape(tf.transpose(weight, [3, 2, 0, 1]), [cout, cin * kh * kw]) as tf.Tensor2D;
      }
      case 'conv-transpose': { // [kh, kw, out, in] → PyTorch [in, out, kh, kw], dim=1 first → [out, in, kh, kw]
        const [kh, kw, cout, cin] = weight.shape as [number, number, number, number];
        return tf.reshape(tf.transpose(weight, [2, 3, 0, 1]), [cout, cin * kh * kw]) as tf.Tensor2D;
      }
    }
  });
}

function normalize(x: tf.Tensor1D): tf.Tensor1D {
  return tf.div(x, tf.maximum(tf.norm(x), SPECTRAL_NORM_EPS)) as tf.Tensor1D;
}

function unitNormal(count: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  let sq = 0;
  for (let i = 0; i < count; i++) {
    out[i] = rng.normal();
    sq += out[i]! * out[i]!;
  }
  const norm = Math.max(Math.sqrt(sq), SPECTRAL_NORM_EPS);
  for (let i = 0; i < count; i++) out[i]! /= norm;
  return out;
}

/**
 * Registers `${prefix}.weight_orig` (param) and `${prefix}.weight_u`, `${prefix}.weight_v` (buffers),
 * u and v drawn N(0, 1) and normalised, as PyTorch does.
 */
export function createSpectralNormWeight(
  collector: ParamCollector, prefix: string, values: Float32Array, shape: readonly number[], layout: WeightLayout, rng: Rng,
): SpectralNormWeight {
  const weight = collector.param(`${prefix}.weight_orig`, values, shape);
  const rows = layout === 'dense' ? shape[1]! : layout === 'conv' ? shape[3]! : shape[2]!;
  const cols = values.length / rows;
  const u = collector.buffer(`${prefix}.weight_u`, unitNormal(rows, rng), [rows]);
  const v = collector.buffer(`${prefix}.weight_v`, unitNormal(cols, rng), [cols]);
  return { weight, u, v, layout };
}

/**
 * One power-iteration step (training) and σ = uᵀ W_mat v. Returns σ as a scalar that is differentiable
 * in the weight only (u, v are constants). Disposed by the caller's tidy.
 */
export function spectralSigma(sn: SpectralNormWeight, training: boolean): tf.Scalar {
  const w = weightMatrix(sn.weight, sn.layout); // [out, in·kh·kw]
  if (training) {
    tf.tidy(() => {
      const v = normalize(tf.reshape(tf.matMul(w, tf.reshape(sn.u, [-1, 1]), true, false), [-1])); // [in·kh·kw]
      const u = normalize(tf.reshape(tf.matMul(w, tf.reshape(v, [-1, 1])), [-1])); // [out]
      sn.v.assign(v);
      sn.u.assign(u);
    });
  }
  const u = tf.clone(sn.u); // [out], constant for backprop
  const v = tf.clone(sn.v); // [in·kh·kw], constant for backprop
  return tf.reshape(tf.matMul(tf.reshape(u, [1, -1]), tf.matMul(w, tf.reshape(v, [-1, 1]))), []) as tf.Scalar;
}

/** W / σ in the weight's own (TF.js) layout. Disposed by the caller's tidy. */
export function spectralNormalizedWeight(sn: SpectralNormWeight, training: boolean): tf.Tensor {
  return tf.div(sn.weight, spectralSigma(sn, training));
}
