/**
 * Intensities to [−1, 1], per volume, before slicing (so statistics see the whole volume, never padding):
 *   'percentile' (MRI default): per channel, the `low` percentile → −1 and the `high` percentile → +1, clipped
 *                outside; default 0.5 / 99.5. Percentiles interpolate linearly between order statistics (NumPy's
 *                default), found exactly by selection (no sort).
 *   'window'     (CT default): a HU window, level 60 width 400 (the liver window, [−140, 260] HU) → [−1, 1].
 *   'fixed'      (RGB default): [min, max] → [−1, 1]; for 8-bit photos 0–255, i.e. v / 127.5 − 1 per channel.
 *                A fixed map keeps the colours comparable across photographs (per-image percentiles would
 *                change each photo's colour balance, which a generator should learn, not lose); 'percentile'
 *                remains available for RGB (per image, per channel).
 * Constant volumes (high percentile = low percentile) map to −1.
 */
import type { IntensityConfig } from './config.js';

/** The p-th percentile (0–100) of ascending `sorted` values, linear between order statistics. */
export function percentileOfSorted(sorted: ArrayLike<number>, p: number): number {
  const n = sorted.length;
  if (n === 0) throw new RangeError('percentile of no values');
  const pos = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
  const i = Math.floor(pos);
  const f = pos - i;
  if (f === 0 || i + 1 >= n) return sorted[i]!;
  return sorted[i]! + f * (sorted[i + 1]! - sorted[i]!);
}

/**
 * Rearranges a[lo..hi] so that a[k] holds the value it would hold sorted, smaller-or-equal values before it and
 * greater-or-equal after (Hoare partitioning, median-of-three pivots: O(n) on average, fine with many ties).
 */
function selectInPlace(a: Float32Array, k: number, lo = 0, hi = a.length - 1): void {
  while (hi > lo) {
    const mid = (lo + hi) >>> 1;
    const x = a[lo]!;
    const y = a[mid]!;
    const z = a[hi]!;
    const pivot = x < y ? (y < z ? y : x < z ? z : x) : x < z ? x : y < z ? z : y;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (a[i]! < pivot) i++;
      while (a[j]! > pivot) j--;
      if (i <= j) {
        const t = a[i]!;
        a[i] = a[j]!;
        a[j] = t;
        i++;
        j--;
      }
    }
    if (k <= j) hi = j;
    else if (k >= i) lo = i;
    else return;
  }
}

/**
 * Percentiles (0–100) of `values`, exact, linear between order statistics (as percentileOfSorted), by selection
 * instead of a full sort. `values` is reordered.
 */
export function percentilesInPlace(values: Float32Array, ps: readonly number[]): number[] {
  const n = values.length;
  if (n === 0) throw new RangeError('percentile of no values');
  return ps.map((p) => {
    const pos = (Math.min(100, Math.max(0, p)) / 100) * (n - 1);
    const i = Math.floor(pos);
    const f = pos - i;
    selectInPlace(values, i);
    const vi = values[i]!;
    if (f === 0 || i + 1 >= n) return vi;
    let next = Infinity; // the (i+1)-th value: the smallest of those after i
    for (let j = i + 1; j < n; j++) if (values[j]! < next) next = values[j]!;
    return vi + f * (next - vi);
  });
}

/** Values of channel `c` of `channels` interleaved, as a fresh array. */
function channelValues(data: Float32Array, channels: number, c: number): Float32Array {
  if (channels === 1) return data.slice();
  const n = data.length / channels;
  const out = new Float32Array(n);
  for (let i = 0; i < n; i++) out[i] = data[i * channels + c]!;
  return out;
}

/** The [lo, hi] input range that maps to [−1, 1], per channel. */
export function intensityRanges(data: Float32Array, channels: number, cfg: IntensityConfig): [number, number][] {
  const out: [number, number][] = [];
  for (let c = 0; c < channels; c++) {
    switch (cfg.mode) {
      case 'percentile': {
        const [lo, hi] = percentilesInPlace(channelValues(data, channels, c), [cfg.low, cfg.high]);
        out.push([lo!, hi!]);
        break;
      }
      case 'window':
        out.push([cfg.level - cfg.width / 2, cfg.level + cfg.width / 2]);
        break;
      case 'fixed':
        out.push([cfg.min, cfg.max]);
        break;
    }
  }
  return out;
}

/** Maps v ∈ [lo, hi] linearly to [−1, 1], clipping outside; lo exactly → −1, hi exactly → +1. */
export function toUnitRange(v: number, lo: number, hi: number): number {
  if (!(hi > lo)) return -1;
  if (v <= lo) return -1;
  if (v >= hi) return 1;
  return (2 * (v - lo)) / (hi - lo) - 1;
}

export interface NormalisedIntensity {
  /** Same layout as the input (channels interleaved), values in [−1, 1]. */
  readonly data: Float32Array;
  /** The input range [lo, hi] mapped to [−1, 1], per channel (recorded in the manifest). */
  readonly ranges: [number, number][];
  /** The smallest normalised value per channel: the image's background, used to pad. */
  readonly background: number[];
}

/** Normalises a whole volume's intensities (`channels` interleaved) to [−1, 1]. */
export function normaliseIntensity(data: Float32Array, channels: number, cfg: IntensityConfig): NormalisedIntensity {
  const ranges = intensityRanges(data, channels, cfg);
  const out = new Float32Array(data.length);
  const background = new Array<number>(channels).fill(1);
  for (let c = 0; c < channels; c++) {
    const [lo, hi] = ranges[c]!;
    let min = 1;
    if (!(hi > lo)) {
      for (let i = c; i < data.length; i += channels) out[i] = -1;
      min = -1;
    } else {
      const span = hi - lo;
      for (let i = c; i < data.length; i += channels) {
        const x = data[i]!;
        const v = x <= lo ? -1 : x >= hi ? 1 : (2 * (x - lo)) / span - 1; // as toUnitRange
        out[i] = v;
        if (v < min) min = v;
      }
    }
    background[c] = data.length >= channels ? min : -1;
  }
  return { data: out, ranges, background };
}
