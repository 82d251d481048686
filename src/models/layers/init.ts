/**
 * Weight initialisers, filled from an `Rng` so the same seed gives the same weights on every backend.
 *
 * Table 1 of the paper searches over Normal / Xavier / Xavier-uniform / Kaiming He with a gain of
 * 0.01 / 0.02 / 0.1 / 1.0. Conventions (PyTorch `torch.nn.init`, multiplied by `gain` in every case):
 *
 * | kind             | distribution | scale                                            |
 * |------------------|--------------|--------------------------------------------------|
 * | `normal`         | N(0, σ²)     | σ = gain (DCGAN's N(0, 0.02) is gain 0.02)       |
 * | `xavier`         | N(0, σ²)     | σ = gain·√(2 / (fanIn + fanOut))                  |
 * | `xavier-uniform` | U(−b, b)     | b = gain·√(6 / (fanIn + fanOut))                  |
 * | `kaiming`        | N(0, σ²)     | σ = gain·√(2 / (1 + a²)) / √fanIn, a = the slope of the following leaky ReLU (0 otherwise) |
 *
 * The SPADE/pix2pix `init_weights` helper, which the paper's hyper-parameters mirror, ignores the gain for
 * `xavier_uniform` and `kaiming`; gain 1.0 reproduces it there.
 *
 * Fans follow PyTorch's `_calculate_fan_in_and_fan_out`: conv weight [out, in, kh, kw] has
 * fanIn = in·kh·kw, fanOut = out·kh·kw; for a transposed conv PyTorch's weight is [in, out, kh, kw], so its
 * "fanIn" is out·kh·kw — we reproduce that quirk so a given config means the same thing in both frameworks.
 */
import type { Rng } from '../../core/rng.js';

export type InitKind = 'normal' | 'xavier' | 'xavier-uniform' | 'kaiming';

export interface InitConfig {
  readonly kind: InitKind;
  /** Multiplier of the distribution's scale (the std itself for `normal`). Table 1: 0.01 / 0.02 / 0.1 / 1.0. */
  readonly gain: number;
}

export interface Fans {
  readonly fanIn: number;
  readonly fanOut: number;
}

/** Fills `count` values for a weight with the given fans; `negativeSlope` is the following leaky ReLU's slope. */
export type Initializer = (count: number, fans: Fans, gain: number, rng: Rng, negativeSlope: number) => Float32Array;

function normalValues(count: number, std: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal(0, std);
  return out;
}

export const INITIALIZERS = {
  normal: (count, _fans, gain, rng) => normalValues(count, gain, rng),
  xavier: (count, { fanIn, fanOut }, gain, rng) => normalValues(count, gain * Math.sqrt(2 / (fanIn + fanOut)), rng),
  'xavier-uniform': (count, { fanIn, fanOut }, gain, rng) => {
    const bound = gain * Math.sqrt(6 / (fanIn + fanOut));
    const out = new Float32Array(count);
    for (let i = 0; i < count; i++) out[i] = rng.uniform(-bound, bound);
    return out;
  },
  kaiming: (count, { fanIn }, gain, rng, negativeSlope) =>
    normalValues(count, (gain * Math.sqrt(2 / (1 + negativeSlope * negativeSlope))) / Math.sqrt(fanIn), rng),
} as const satisfies Record<InitKind, Initializer>;

export const INIT_KINDS = Object.keys(INITIALIZERS) as InitKind[];

/** Initial values for one weight tensor (any layout: the values are i.i.d.). */
export function initWeight(init: InitConfig, count: number, fans: Fans, rng: Rng, negativeSlope = 0): Float32Array {
  return INITIALIZERS[init.kind](count, fans, init.gain, rng, negativeSlope);
}

/**
 * Scale (γ) of a normalisation layer: N(1, 0.02²), as DCGAN's `weights_init` does for BatchNorm. Kept fixed
 * (not tied to the Table 1 gain, which is a conv/dense weight knob) so gain 1.0 does not flip γ's sign.
 */
export const NORM_SCALE_INIT_STD = 0.02;

export function initNormScale(count: number, rng: Rng): Float32Array {
  const out = new Float32Array(count);
  for (let i = 0; i < count; i++) out[i] = rng.normal(1, NORM_SCALE_INIT_STD);
  return out;
}
