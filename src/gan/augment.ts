/**
 * Augmentation of joint image+mask samples [N, H, W, C]: DiffAugment for what D sees, and classic
 * augmentation of the real data.
 *
 * Mask encoding (shared with src/models/dcgan.ts): after the image channels come `numClasses` mask channels,
 * one per class, background (class 0) first; class k present ⇒ its channel is +1 and all other mask
 * channels −1. The generator ends in tanh, so its masks live in the same [-1, 1] range; label maps are
 * recovered by argmax. "Nothing there" (padding, cutout) is therefore background: +1 on the background
 * channel, −1 on the others. Image channels are filled with 0 by DiffAugment (Zhao et al. pad and cut out
 * with zeros; 0 is mid-grey in [-1, 1]) and with −1 (black, i.e. air) by classic augmentation.
 *
 * 1. DiffAugment (Zhao et al. 2020, "Differentiable Augmentation for Data-Efficient GAN Training"),
 *    a port of their DiffAugment_pytorch.py with the same parameter ranges, applied to real and fake
 *    samples alike before D; differentiable in the samples:
 *    - `color`: brightness x + (u − 0.5), saturation (x − x̄_c)·2u + x̄_c, contrast (x − x̄)·(u + 0.5) + x̄,
 *      on the image channels only (mask channels untouched; saturation is a no-op on 1-channel images);
 *    - `translation`: integer shift up to ⌊S/8 + ½⌋ pixels per axis, identical for image and mask channels;
 *    - `cutout`: a square of ⌊S/2 + ½⌋ pixels set to the fill value, identical for image and mask channels.
 *    Random parameters come from an `Rng` (one draw per sample and op), not from TF.js, so a seed fixes them.
 * 2. Classic augmentation (paper Table 1 "Use of Data Augmentation"): random horizontal flip, rotation
 *    within ±10° and shift within ±1/16 of the size, as one affine warp per sample applied identically to
 *    image and mask. Images are resampled bilinearly; masks nearest-neighbour on the one-hot vector, so they
 *    stay exactly one-hot (never blended). Done on typed arrays, before batching.
 */
import { tf } from '../core/engine.js';
import type { Rng } from '../core/rng.js';

export interface ChannelLayout {
  /** Image channels, first in the channel axis. */
  readonly imageChannels: number;
  /** Mask channels that follow, one per class including background (0 when the data has no masks). */
  readonly numClasses: number;
}

/** Mask channel values. */
export const MASK_PRESENT = 1;
export const MASK_ABSENT = -1;
/** Image fill for DiffAugment's translation padding and cutout (Zhao et al. use zeros). */
export const DIFF_AUGMENT_IMAGE_FILL = 0;
/** Image fill outside the field of view after a classic rotation/shift: black. */
export const CLASSIC_IMAGE_FILL = -1;

/** Per-channel fill [C]: the image fill, then background +1, other classes −1. */
export function fillValues(layout: ChannelLayout, imageFill: number): Float32Array {
  const fill = new Float32Array(layout.imageChannels + layout.numClasses).fill(MASK_ABSENT);
  fill.fill(imageFill, 0, layout.imageChannels);
  if (layout.numClasses > 0) fill[layout.imageChannels] = MASK_PRESENT;
  return fill;
}

function checkLayout(samples: tf.Tensor4D, layout: ChannelLayout): void {
  const c = samples.shape[3];
  if (c !== layout.imageChannels + layout.numClasses) {
    throw new Error(`samples have ${c} channels but the layout says ${layout.imageChannels} image + ${layout.numClasses} mask channels`);
  }
}

// ---------------------------------------------------------------------------------------------------------
// DiffAugment ops

/** Integer shift (rows, cols) per sample: out[i, j] = x[i + dy, j + dx], fill where that is outside. */
export type Shift = readonly [dy: number, dx: number];

/** Shifts each sample by its own integer offset; samples [N, H, W, C], fill [C]. Differentiable in samples. */
export function translate(samples: tf.Tensor4D, shifts: readonly Shift[], fill: Float32Array): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w, c] = samples.shape;
    if (shifts.length !== n) throw new Error(`translate: ${shifts.length} shifts for ${n} samples`);
    const margin = Math.max(1, ...shifts.map(([dy, dx]) => Math.max(Math.abs(dy), Math.abs(dx))));
    const fillTensor = tf.tensor1d(fill); // [C]
    // Shift x − fill with zero padding, then add fill back: padding reads exactly `fill`.
    const padded = tf.pad(tf.sub(samples, fillTensor), [[0, 0], [margin, margin], [margin, margin], [0, 0]]); // [N, H+2m, W+2m, C]
    const parts = shifts.map(([dy, dx], i) => tf.slice(padded, [i, margin + dy, margin + dx, 0], [1, h, w, c]));
    return tf.add(tf.concat(parts, 0), fillTensor) as tf.Tensor4D; // [N, H, W, C]
  });
}

/** Axis-aligned box per sample, rows [top, bottom) × cols [left, right), already clipped to the image. */
export type Box = readonly [top: number, left: number, bottom: number, right: number];

/** Sets each sample's box to `fill`; samples [N, H, W, C], fill [C]. Differentiable in samples. */
export function cutout(samples: tf.Tensor4D, boxes: readonly Box[], fill: Float32Array): tf.Tensor4D {
  return tf.tidy(() => {
    const [n, h, w] = samples.shape;
    if (boxes.length !== n) throw new Error(`cutout: ${boxes.length} boxes for ${n} samples`);
    const keep = new Float32Array(n * h * w).fill(1);
    boxes.forEach(([top, left, bottom, right], i) => {
      for (let y = top; y < bottom; y++) keep.fill(0, (i * h + y) * w + left, (i * h + y) * w + right);
    });
    const keepMask = tf.tensor4d(keep, [n, h, w, 1]); // [N, H, W, 1]
    const fillTensor = tf.tensor1d(fill); // [C]
    return tf.add(tf.mul(tf.sub(samples, fillTensor), keepMask), fillTensor) as tf.Tensor4D;
  });
}

function perSample(values: number[]): tf.Tensor4D {
  return tf.tensor4d(values, [values.length, 1, 1, 1]); // [N, 1, 1, 1]
}

/** Brightness, saturation, contrast on images [N, H, W, Ci] (DiffAugment's rand_brightness/saturation/contrast). */
function colorImages(images: tf.Tensor4D, rng: Rng): tf.Tensor4D {
  const n = images.shape[0];
  const brightness = Array.from({ length: n }, () => rng.next() - 0.5);
  const saturation = Array.from({ length: n }, () => rng.next() * 2);
  const contrast = Array.from({ length: n }, () => rng.next() + 0.5);
  let x: tf.Tensor4D = tf.add(images, perSample(brightness));
  const channelMean = tf.mean(x, 3, true); // [N, H, W, 1]
  x = tf.add(tf.mul(tf.sub(x, channelMean), perSample(saturation)), channelMean);
  const sampleMean = tf.mean(x, [1, 2, 3], true); // [N, 1, 1, 1]
  return tf.add(tf.mul(tf.sub(x, sampleMean), perSample(contrast)), sampleMean);
}

/** A DiffAugment op: samples [N, H, W, C] → same shape. Random parameters from `rng`. */
export type DiffAugmentFn = (samples: tf.Tensor4D, layout: ChannelLayout, rng: Rng) => tf.Tensor4D;

/** DiffAugment's translation ratio (1/8 of the size) and cutout ratio (1/2). */
export const TRANSLATION_RATIO = 0.125;
export const CUTOUT_RATIO = 0.5;

export const DIFF_AUGMENT_OPS = {
  color: (samples, layout, rng) => tf.tidy(() => {
    const { imageChannels } = layout;
    const [n, h, w, c] = samples.shape;
    if (imageChannels === 0) return tf.clone(samples);
    if (imageChannels === c) return colorImages(samples, rng);
    const images = tf.slice(samples, [0, 0, 0, 0], [n, h, w, imageChannels]);
    const masks = tf.slice(samples, [0, 0, 0, imageChannels], [n, h, w, c - imageChannels]);
    return tf.concat([colorImages(images, rng), masks], 3);
  }),
  translation: (samples, layout, rng) => {
    const [n, h, w] = samples.shape;
    const maxDy = Math.floor(h * TRANSLATION_RATIO + 0.5);
    const maxDx = Math.floor(w * TRANSLATION_RATIO + 0.5);
    const shifts = Array.from({ length: n }, (): Shift => [rng.int(-maxDy, maxDy), rng.int(-maxDx, maxDx)]);
    return translate(samples, shifts, fillValues(layout, DIFF_AUGMENT_IMAGE_FILL));
  },
  cutout: (samples, layout, rng) => {
    const [n, h, w] = samples.shape;
    const ch = Math.floor(h * CUTOUT_RATIO + 0.5);
    const cw = Math.floor(w * CUTOUT_RATIO + 0.5);
    const boxes = Array.from({ length: n }, (): Box => {
      // Centre drawn as in rand_cutout: offset ∈ [0, H − (size mod 2)], box = [offset − ⌊size/2⌋, + size) ∩ image.
      const cy = rng.int(0, h - (ch % 2));
      const cx = rng.int(0, w - (cw % 2));
      const top = cy - Math.floor(ch / 2);
      const left = cx - Math.floor(cw / 2);
      return [Math.max(0, top), Math.max(0, left), Math.min(h, top + ch), Math.min(w, left + cw)];
    });
    return cutout(samples, boxes, fillValues(layout, DIFF_AUGMENT_IMAGE_FILL));
  },
} as const satisfies Record<string, DiffAugmentFn>;

export type DiffAugmentOp = keyof typeof DIFF_AUGMENT_OPS;
export const DIFF_AUGMENT_OP_NAMES = Object.keys(DIFF_AUGMENT_OPS) as DiffAugmentOp[];

/**
 * Applies the policy's ops in order (DiffAugment applies 'color,translation,cutout' left to right).
 * samples [N, H, W, C] → [N, H, W, C]; an empty policy returns the input itself. Disposed by the caller's tidy.
 */
export function diffAugment(samples: tf.Tensor4D, policy: readonly DiffAugmentOp[], layout: ChannelLayout, rng: Rng): tf.Tensor4D {
  checkLayout(samples, layout);
  let x = samples;
  for (const op of policy) x = DIFF_AUGMENT_OPS[op](x, layout, rng);
  return x;
}

// ---------------------------------------------------------------------------------------------------------
// Classic augmentation of real data

export interface ClassicAugmentOptions {
  /** Mirror left-right with probability ½. @default true */
  readonly horizontalFlip: boolean;
  /** Mirror top-bottom with probability ½ (off by default: anatomy is rarely upside down). @default false */
  readonly verticalFlip: boolean;
  /** Rotation drawn uniformly in ±this many degrees. @default 10 */
  readonly maxRotationDeg: number;
  /** Shift drawn uniformly in ±this fraction of the size, per axis. @default 0.0625 */
  readonly maxShiftFraction: number;
}

export const CLASSIC_AUGMENT_DEFAULTS: ClassicAugmentOptions = {
  horizontalFlip: true, verticalFlip: false, maxRotationDeg: 10, maxShiftFraction: 0.0625,
};

/** The inverse map of one sample's warp: output pixel (y, x) reads the input at `source(y, x)`. */
interface Warp {
  source(y: number, x: number): [number, number];
}

function drawWarp(h: number, w: number, rng: Rng, opts: ClassicAugmentOptions): Warp {
  const flipX = opts.horizontalFlip && rng.next() < 0.5;
  const flipY = opts.verticalFlip && rng.next() < 0.5;
  const angle = (rng.uniform(-opts.maxRotationDeg, opts.maxRotationDeg) * Math.PI) / 180;
  const shiftY = rng.uniform(-opts.maxShiftFraction, opts.maxShiftFraction) * h;
  const shiftX = rng.uniform(-opts.maxShiftFraction, opts.maxShiftFraction) * w;
  const cy = (h - 1) / 2;
  const cx = (w - 1) / 2;
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  return {
    // Forward: flip, rotate by `angle` about the centre, shift. Inverse applied here, step by step.
    source(y, x) {
      const py = y - shiftY - cy;
      const px = x - shiftX - cx;
      let sy = cos * py - sin * px + cy;
      let sx = sin * py + cos * px + cx;
      if (flipY) sy = h - 1 - sy;
      if (flipX) sx = w - 1 - sx;
      return [sy, sx];
    },
  };
}

/**
 * Classic augmentation of joint samples, one random warp per sample applied identically to image and mask.
 * samples [N, H, W, C] row-major (image channels then one-hot mask channels in {−1, +1}); returns a new array.
 */
export function classicAugment(
  samples: Float32Array, shape: readonly [n: number, h: number, w: number, c: number], layout: ChannelLayout, rng: Rng,
  opts: ClassicAugmentOptions = CLASSIC_AUGMENT_DEFAULTS,
): Float32Array {
  const [n, h, w, c] = shape;
  if (c !== layout.imageChannels + layout.numClasses) throw new Error(`classicAugment: ${c} channels do not match the layout`);
  if (samples.length !== n * h * w * c) throw new Error(`classicAugment: ${samples.length} values for shape [${shape.join(', ')}]`);
  const ci = layout.imageChannels;
  const fill = fillValues(layout, CLASSIC_IMAGE_FILL);
  const out = new Float32Array(samples.length);
  for (let s = 0; s < n; s++) {
    const warp = drawWarp(h, w, rng, opts);
    const base = s * h * w * c;
    const at = (y: number, x: number, ch: number): number =>
      y >= 0 && y < h && x >= 0 && x < w ? samples[base + (y * w + x) * c + ch]! : fill[ch]!;
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const [sy, sx] = warp.source(y, x);
        const o = base + (y * w + x) * c;
        // Image channels: bilinear.
        const y0 = Math.floor(sy);
        const x0 = Math.floor(sx);
        const fy = sy - y0;
        const fx = sx - x0;
        for (let ch = 0; ch < ci; ch++) {
          out[o + ch] = (1 - fy) * ((1 - fx) * at(y0, x0, ch) + fx * at(y0, x0 + 1, ch))
            + fy * ((1 - fx) * at(y0 + 1, x0, ch) + fx * at(y0 + 1, x0 + 1, ch));
        }
        // Mask channels: nearest neighbour, the whole one-hot vector from one source pixel.
        const ny = Math.round(sy);
        const nx = Math.round(sx);
        for (let ch = ci; ch < c; ch++) out[o + ch] = at(ny, nx, ch);
      }
    }
  }
  return out;
}
