/**
 * Linear layers as plain data + pure apply functions: conv2d, transposed conv2d and dense, each with an
 * optional bias and optional spectral normalisation of its weight.
 *
 * Parameter names (PyTorch state-dict convention): `${prefix}.weight` and `${prefix}.bias`; with spectral
 * norm, `${prefix}.weight_orig` + buffers `${prefix}.weight_u`, `${prefix}.weight_v`.
 *
 * TF.js layouts of `weight` and their PyTorch counterparts (a checkpoint exporter transposes):
 *   conv2d           [kh, kw, in, out]   ↔ PyTorch Conv2d          [out, in, kh, kw]
 *   conv2dTranspose  [kh, kw, out, in]   ↔ PyTorch ConvTranspose2d [in, out, kh, kw]
 *   dense            [in, out]           ↔ PyTorch Linear          [out, in]
 */
import { tf } from '../../core/engine.js';
import type { Rng } from '../../core/rng.js';
import { initWeight, type InitConfig } from './init.js';
import type { ParamCollector } from './params.js';
import { createSpectralNormWeight, spectralNormalizedWeight, type SpectralNormWeight, type WeightLayout } from './spectralNorm.js';

export type LayerWeight =
  | { readonly kind: 'plain'; readonly weight: tf.Variable }
  | { readonly kind: 'spectral'; readonly sn: SpectralNormWeight };

export interface LinearOptions {
  readonly init: InitConfig;
  readonly spectralNorm: boolean;
  readonly bias: boolean;
  /** Slope of the activation after this layer, for Kaiming init (0 unless leaky ReLU). */
  readonly negativeSlope?: number;
}

export interface Conv2dLayer {
  readonly weight: LayerWeight;
  /** [out] or null. */
  readonly bias: tf.Variable | null;
  readonly kernelSize: number;
  readonly stride: number;
  readonly outChannels: number;
}

export type ConvTranspose2dLayer = Conv2dLayer;

export interface DenseLayer {
  readonly weight: LayerWeight;
  readonly bias: tf.Variable | null;
  readonly outFeatures: number;
}

function createWeight(
  collector: ParamCollector, prefix: string, shape: readonly number[], layout: WeightLayout,
  fanIn: number, fanOut: number, opts: LinearOptions, rng: Rng,
): LayerWeight {
  const count = shape.reduce((a, b) => a * b, 1);
  const values = initWeight(opts.init, count, { fanIn, fanOut }, rng, opts.negativeSlope ?? 0);
  if (opts.spectralNorm) return { kind: 'spectral', sn: createSpectralNormWeight(collector, prefix, values, shape, layout, rng) };
  return { kind: 'plain', weight: collector.param(`${prefix}.weight`, values, shape) };
}

function createBias(collector: ParamCollector, prefix: string, count: number, opts: LinearOptions): tf.Variable | null {
  return opts.bias ? collector.param(`${prefix}.bias`, new Float32Array(count), [count]) : null;
}

/** The weight a forward pass uses: W, or W/σ with spectral norm (which updates u, v when training). */
export function effectiveWeight(weight: LayerWeight, training: boolean): tf.Tensor {
  return weight.kind === 'plain' ? weight.weight : spectralNormalizedWeight(weight.sn, training);
}

/** The trainable weight variable itself (W, or `weight_orig` under spectral norm). */
export function rawWeight(weight: LayerWeight): tf.Variable {
  return weight.kind === 'plain' ? weight.weight : weight.sn.weight;
}

export function createConv2d(
  collector: ParamCollector, prefix: string,
  shape: { readonly inChannels: number; readonly outChannels: number; readonly kernelSize: number; readonly stride: number },
  opts: LinearOptions, rng: Rng,
): Conv2dLayer {
  const { inChannels, outChannels, kernelSize: k, stride } = shape;
  const weight = createWeight(collector, prefix, [k, k, inChannels, outChannels], 'conv', inChannels * k * k, outChannels * k * k, opts, rng);
  return { weight, bias: createBias(collector, prefix, outChannels, opts), kernelSize: k, stride, outChannels };
}

/**
 * x [N, H, W, in] → [N, ⌈H/s⌉, ⌈W/s⌉, out]. 'same' padding: for k4 s2 it pads 1 on each side, i.e.
 * PyTorch's Conv2d(k=4, s=2, p=1); for k3 s1, p=1.
 */
export function applyConv2d(layer: Conv2dLayer, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  const w = effectiveWeight(layer.weight, training) as tf.Tensor4D;
  const y = tf.conv2d(x, w, layer.stride, 'same');
  return layer.bias ? (tf.add(y, layer.bias) as tf.Tensor4D) : y;
}

export function createConvTranspose2d(
  collector: ParamCollector, prefix: string,
  shape: { readonly inChannels: number; readonly outChannels: number; readonly kernelSize: number; readonly stride: number },
  opts: LinearOptions, rng: Rng,
): ConvTranspose2dLayer {
  const { inChannels, outChannels, kernelSize: k, stride } = shape;
  // PyTorch's fan computation on its [in, out, kh, kw] weight: fanIn = out·k², fanOut = in·k² (see init.ts).
  const weight = createWeight(collector, prefix, [k, k, outChannels, inChannels], 'conv-transpose', outChannels * k * k, inChannels * k * k, opts, rng);
  return { weight, bias: createBias(collector, prefix, outChannels, opts), kernelSize: k, stride, outChannels };
}

/**
 * x [N, H, W, in] → [N, H·s, W·s, out]. With k4 s2 and 'same' padding this is PyTorch's
 * ConvTranspose2d(k=4, s=2, p=1).
 */
export function applyConvTranspose2d(layer: ConvTranspose2dLayer, x: tf.Tensor4D, training: boolean): tf.Tensor4D {
  const w = effectiveWeight(layer.weight, training) as tf.Tensor4D;
  const [n, h, wd] = x.shape;
  const y = tf.conv2dTranspose(x, w, [n, h * layer.stride, wd * layer.stride, layer.outChannels], layer.stride, 'same');
  return layer.bias ? (tf.add(y, layer.bias) as tf.Tensor4D) : y;
}

export function createDense(
  collector: ParamCollector, prefix: string, shape: { readonly inFeatures: number; readonly outFeatures: number },
  opts: LinearOptions, rng: Rng,
): DenseLayer {
  const weight = createWeight(collector, prefix, [shape.inFeatures, shape.outFeatures], 'dense', shape.inFeatures, shape.outFeatures, opts, rng);
  return { weight, bias: createBias(collector, prefix, shape.outFeatures, opts), outFeatures: shape.outFeatures };
}

/** x [N, in] → [N, out]. */
export function applyDense(layer: DenseLayer, x: tf.Tensor2D, training: boolean): tf.Tensor2D {
  const y = tf.matMul(x, effectiveWeight(layer.weight, training) as tf.Tensor2D) as tf.Tensor2D;
  return layer.bias ? (tf.add(y, layer.bias) as tf.Tensor2D) : y;
}
