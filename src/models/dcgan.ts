/**
 * The DCGAN backbone (Radford et al. 2016) shared by DCGAN, LSGAN, WGAN, WGAN-GP and HingeGAN (paper §3.2:
 * "a traditional fully convolutional network architecture with a standard generator and discriminator
 * composed of upconvolutions and strided convolutions"; only the loss changes between variants).
 * Every Table 1 architecture knob is a field of `DcganConfig`: filters, activation, normalisation and
 * spectral norm for G and D separately, initialisation kind and gain.
 *
 * Samples are joint image+mask tensors [N, H, W, C], C = image channels + one channel per mask class
 * (background included), all in [-1, 1] (G ends in tanh; see src/gan/augment.ts for the mask encoding).
 *
 * Generator (size S = 4·2^B, B up-blocks; channels c_i = filters·min(2^(B−i), 8), capped like DCGAN's ngf·8):
 *   latents [N, Z] → input.fc → [N, 4·4·c_0] → reshape [N, 4, 4, c_0] → input.norm → act
 *   → blocks.i: ConvTranspose(k4, s2, p1) c_i → c_{i+1}, norm, act          (i = 0 … B−1)
 *   → output.conv: Conv(k3, s1, p1) c_B → C → tanh                           [N, S, S, C]
 * Discriminator (channels d_i = filters·min(2^i, 8)):
 *   samples [N, S, S, C] → blocks.i: Conv(k4, s2, p1) → d_i, norm (not on block 0), act   (i = 0 … B−1)
 *   → flatten = features [N, 4·4·d_{B−1}] → fc → logits [N, 1]
 * Convs followed by a normalisation have no bias (redundant with β), as in DCGAN.
 */
import { tf } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import type { Rng } from '../core/rng.js';
import { ACTIVATIONS, type ActivationKind } from './layers/activation.js';
import type { InitConfig } from './layers/init.js';
import {
  applyConv2d, applyConvTranspose2d, applyDense, createConv2d, createConvTranspose2d, createDense,
  type Conv2dLayer, type ConvTranspose2dLayer, type DenseLayer,
} from './layers/linear.js';
import { applyNorm, createNorm, type NormKind, type NormLayer } from './layers/norm.js';
import { ParamCollector } from './layers/params.js';
import type { Discriminator, DiscriminatorOutput, Generator } from './network.js';

/** One network's architecture knobs (Table 1 has one row each for G and D). */
export interface NetworkSpec {
  /** Base number of filters (Table 1: 16 / 32 / 64 / 128). */
  readonly filters: number;
  readonly activation: ActivationKind;
  readonly norm: NormKind;
  readonly spectralNorm: boolean;
}

/** The part of a resolved GAN config the backbone reads (src/gan/config.ts satisfies it structurally). */
export interface DcganConfig {
  /** Dimension Z of the latent vector. @default 128 */
  readonly latentDim: number;
  readonly g: NetworkSpec;
  readonly d: NetworkSpec;
  readonly init: InitConfig;
}

/** [height, width, channels] of one sample; channels = image channels + mask classes. */
export type SampleShape = readonly [height: number, width: number, channels: number];

/** Channel cap as a multiple of `filters` (DCGAN: ngf·8 / ndf·8). */
export const MAX_CHANNEL_MULTIPLIER = 8;
/** Spatial size of the generator's first feature map and the discriminator's last. */
export const BASE_SIZE = 4;
export const MIN_SIZE = 8;
export const MAX_SIZE = 1024;

/** Number of up-/down-sampling blocks for a square size S: log2(S / 4). Throws for unsupported shapes. */
export function blockCount(shape: SampleShape): number {
  const [h, w, c] = shape;
  const blocks = Math.log2(h / BASE_SIZE);
  if (h !== w || !Number.isInteger(blocks) || h < MIN_SIZE || h > MAX_SIZE) {
    throw new ConfigError(
      `the DCGAN backbone needs square samples whose side is a power of two in [${MIN_SIZE}, ${MAX_SIZE}] (32–256 in the paper); got ${h}×${w}`,
    );
  }
  if (!Number.isInteger(c) || c < 1) throw new ConfigError(`samples need at least one channel; got ${c}`);
  return blocks;
}

function generatorChannels(filters: number, blocks: number, level: number): number {
  return filters * Math.min(2 ** (blocks - level), MAX_CHANNEL_MULTIPLIER);
}

function discriminatorChannels(filters: number, block: number): number {
  return filters * Math.min(2 ** block, MAX_CHANNEL_MULTIPLIER);
}

interface GeneratorLayers {
  readonly fc: DenseLayer;
  readonly inputNorm: NormLayer;
  readonly blocks: readonly { readonly conv: ConvTranspose2dLayer; readonly norm: NormLayer }[];
  readonly output: Conv2dLayer;
}

/** Builds a generator with weights drawn from `rng` (same rng state ⇒ same weights). */
export function buildGenerator(cfg: DcganConfig, shape: SampleShape, rng: Rng): Generator {
  const blocks = blockCount(shape);
  const [size, , channels] = shape;
  const { filters, norm, spectralNorm } = cfg.g;
  const activation = ACTIVATIONS[cfg.g.activation];
  const collector = new ParamCollector();
  const hidden = { init: cfg.init, spectralNorm, bias: norm === 'none', negativeSlope: activation.negativeSlope };

  const c0 = generatorChannels(filters, blocks, 0);
  const layers: GeneratorLayers = {
    fc: createDense(collector, 'input.fc', { inFeatures: cfg.latentDim, outFeatures: BASE_SIZE * BASE_SIZE * c0 }, hidden, rng),
    inputNorm: createNorm(collector, 'input.norm', norm, c0, rng),
    blocks: Array.from({ length: blocks }, (_, i) => ({
      conv: createConvTranspose2d(collector, `blocks.${i}.conv`, {
        inChannels: generatorChannels(filters, blocks, i), outChannels: generatorChannels(filters, blocks, i + 1), kernelSize: 4, stride: 2,
      }, hidden, rng),
      norm: createNorm(collector, `blocks.${i}.norm`, norm, generatorChannels(filters, blocks, i + 1), rng),
    })),
    output: createConv2d(collector, 'output.conv', {
      inChannels: generatorChannels(filters, blocks, blocks), outChannels: channels, kernelSize: 3, stride: 1,
    }, { init: cfg.init, spectralNorm, bias: true }, rng),
  };

  return {
    params: collector.params,
    buffers: collector.buffers,
    latentDim: cfg.latentDim,
    outputShape: [size, size, channels],
    apply(latents, { training }) {
      return tf.tidy(() => {
        const n = latents.shape[0];
        const projected = applyDense(layers.fc, latents, training); // [N, 4·4·c0]
        let x = tf.reshape(projected, [n, BASE_SIZE, BASE_SIZE, c0]) as tf.Tensor4D; // [N, 4, 4, c0]
        x = activation.apply(applyNorm(layers.inputNorm, x, training)) as tf.Tensor4D;
        for (const block of layers.blocks) {
          x = activation.apply(applyNorm(block.norm, applyConvTranspose2d(block.conv, x, training), training)) as tf.Tensor4D; // [N, 2h, 2w, c_{i+1}]
        }
        return tf.tanh(applyConv2d(layers.output, x, training)); // [N, S, S, C] in [-1, 1]
      });
    },
    dispose: () => collector.dispose(),
  };
}

interface DiscriminatorLayers {
  readonly blocks: readonly { readonly conv: Conv2dLayer; readonly norm: NormLayer }[];
  readonly fc: DenseLayer;
}

/** Builds a discriminator (a critic for WGAN) with weights drawn from `rng`. */
export function buildDiscriminator(cfg: DcganConfig, shape: SampleShape, rng: Rng): Discriminator {
  const blocks = blockCount(shape);
  const [, , channels] = shape;
  const { filters, norm, spectralNorm } = cfg.d;
  const activation = ACTIVATIONS[cfg.d.activation];
  const collector = new ParamCollector();

  const layers: DiscriminatorLayers = {
    blocks: Array.from({ length: blocks }, (_, i) => {
      const blockNorm: NormKind = i === 0 ? 'none' : norm; // DCGAN: no norm on the first D layer
      return {
        conv: createConv2d(collector, `blocks.${i}.conv`, {
          inChannels: i === 0 ? channels : discriminatorChannels(filters, i - 1), outChannels: discriminatorChannels(filters, i), kernelSize: 4, stride: 2,
        }, { init: cfg.init, spectralNorm, bias: blockNorm === 'none', negativeSlope: activation.negativeSlope }, rng),
        norm: createNorm(collector, `blocks.${i}.norm`, blockNorm, discriminatorChannels(filters, i), rng),
      };
    }),
    fc: createDense(collector, 'fc', {
      inFeatures: BASE_SIZE * BASE_SIZE * discriminatorChannels(filters, blocks - 1), outFeatures: 1,
    }, { init: cfg.init, spectralNorm, bias: true }, rng),
  };

  return {
    params: collector.params,
    buffers: collector.buffers,
    apply(samples, { training }): DiscriminatorOutput {
      const [logits, features] = tf.tidy(() => {
        let x = samples; // [N, S, S, C]
        for (const block of layers.blocks) {
          x = activation.apply(applyNorm(block.norm, applyConv2d(block.conv, x, training), training)) as tf.Tensor4D; // [N, h/2, w/2, d_i]
        }
        const flat = tf.reshape(x, [x.shape[0], -1]) as tf.Tensor2D; // [N, F]
        return [applyDense(layers.fc, flat, training), flat]; // [N, 1], [N, F]
      });
      return { logits, features };
    },
    dispose: () => collector.dispose(),
  };
}

/** Generated samples split back into what a dataset holds. */
export interface DecodedSamples {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** [N, H, W, imageChannels] row-major, clipped to [-1, 1]. */
  readonly images: Float32Array;
  /** [N, H, W] class index = argmax over the mask channels (all 0 when numClasses is 0). */
  readonly labelMaps: Uint8Array;
}

/** samples [N, H, W, imageChannels + numClasses] → images and label maps as typed arrays. Reads the tensor synchronously. */
export function decodeSamples(samples: tf.Tensor4D, imageChannels: number, numClasses: number): DecodedSamples {
  const [count, height, width, channels] = samples.shape;
  if (channels !== imageChannels + numClasses) {
    throw new Error(`samples have ${channels} channels, expected ${imageChannels} image + ${numClasses} mask channels`);
  }
  if (numClasses > 256) throw new Error(`label maps are Uint8: at most 256 classes, got ${numClasses}`);
  const data = samples.dataSync();
  const pixels = count * height * width;
  const images = new Float32Array(pixels * imageChannels);
  const labelMaps = new Uint8Array(pixels);
  for (let p = 0; p < pixels; p++) {
    const base = p * channels;
    for (let c = 0; c < imageChannels; c++) images[p * imageChannels + c] = Math.min(1, Math.max(-1, data[base + c]!));
    let best = 0;
    for (let k = 1; k < numClasses; k++) if (data[base + imageChannels + k]! > data[base + imageChannels + best]!) best = k;
    labelMaps[p] = best;
  }
  return { count, height, width, images, labelMaps };
}

/**
 * The inverse of decodeSamples: images [N, H, W, Ci] in [-1, 1] and label maps [N, H, W] → joint samples
 * [N, H, W, Ci + numClasses], mask channels one-hot as +1 (class present) / −1 (absent).
 */
export function encodeSamples(
  images: Float32Array, labelMaps: Uint8Array, shape: readonly [n: number, h: number, w: number, imageChannels: number], numClasses: number,
): Float32Array {
  const [n, h, w, ci] = shape;
  const pixels = n * h * w;
  if (images.length !== pixels * ci || labelMaps.length !== pixels) {
    throw new Error(`encodeSamples: ${images.length} image values / ${labelMaps.length} labels do not fit [${shape.join(', ')}]`);
  }
  const c = ci + numClasses;
  const out = new Float32Array(pixels * c).fill(-1);
  for (let p = 0; p < pixels; p++) {
    for (let k = 0; k < ci; k++) out[p * c + k] = images[p * ci + k]!;
    if (numClasses > 0) {
      const label = labelMaps[p]!;
      if (label >= numClasses) throw new Error(`encodeSamples: label ${label} at pixel ${p} but only ${numClasses} classes`);
      out[p * c + ci + label] = 1;
    }
  }
  return out;
}
