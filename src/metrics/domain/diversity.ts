/**
 * Diversity: mean pairwise MS-SSIM within a set of images (high = the images look alike). A generator whose
 * samples are much more alike than real images are is collapsing modes.
 *
 * MS-SSIM (Wang, Simoncelli & Bovik 2003), plain Float64 on Float32Array images [H, W, C] (no TF.js):
 * - Gaussian window 11×11, σ 1.5, normalised, separable; 'valid' filtering (no padding), as tf.image.ssim and
 *   Wang's reference code; μ, σ² = E[x²] − μ², σxy = E[xy] − μxμy under that window.
 * - C1 = (K1·L)², C2 = (K2·L)² with K1 0.01, K2 0.03 and data range L = 2 (images in [-1, 1]).
 * - cs = mean((2σxy + C2)/(σx² + σy² + C2)), ssim = mean(l · cs) with l = (2μxμy + C1)/(μx² + μy² + C1).
 * - Between scales: 2×2 average pooling with stride 2; an odd height/width is first padded by repeating the last
 *   row/column (TF's SYMMETRIC padding by one), so a side n becomes ceil(n/2).
 * - MS-SSIM = Π_{j<S} max(cs_j, 0)^{w_j} · max(ssim_S, 0)^{w_S} per channel (negative values clamped to 0, as
 *   TF's ssim_multiscale does, so fractional powers stay real), averaged over channels.
 * - Scales: S = 5 with the standard weights [0.0448, 0.2856, 0.3001, 0.2363, 0.1333] when the image is large
 *   enough. At small sizes S is reduced so that the smallest scale is still ≥ 11 px (the window): S = the number
 *   of sides in min(H, W), ceil(·/2), ceil(ceil(·/2)/2), … that are ≥ 11, capped at 5 (64 px → 3 scales: 64,
 *   32, 16; 128 → 4; ≥ 161 → 5); the first S weights are used, renormalised to sum 1. Images under 11 px throw.
 * Verified against an independent numpy/scipy implementation (test/metrics/make_msssim_vectors.py) to 1e-6.
 */
import { Rng } from '../../core/rng.js';
import type { ImageSet } from './memorisation.js';

export const MSSSIM_WEIGHTS = Object.freeze([0.0448, 0.2856, 0.3001, 0.2363, 0.1333]);

export interface MsssimOptions {
  /** @default 11 */
  readonly windowSize?: number;
  /** @default 1.5 */
  readonly sigma?: number;
  /** @default 0.01 */
  readonly k1?: number;
  /** @default 0.03 */
  readonly k2?: number;
  /** @default 2 */
  readonly dataRange?: number;
  /** Number of scales; default by the size rule above. */
  readonly scales?: number;
}

export function gaussianWindow(size = 11, sigma = 1.5): Float64Array {
  const g = new Float64Array(size);
  const c = (size - 1) / 2;
  let s = 0;
  for (let i = 0; i < size; i++) {
    g[i] = Math.exp(-((i - c) ** 2) / (2 * sigma * sigma));
    s += g[i]!;
  }
  for (let i = 0; i < size; i++) g[i]! /= s;
  return g;
}

/** Number of scales for an h×w image: sides ≥ window along min(h, w), ceil-halving, capped at 5. */
export function msssimScales(h: number, w: number, windowSize = 11): number {
  let side = Math.min(h, w);
  let s = 0;
  while (side >= windowSize && s < MSSSIM_WEIGHTS.length) {
    s++;
    side = Math.ceil(side / 2);
  }
  return s;
}

/** The first `scales` standard weights, renormalised to sum 1. */
export function msssimWeights(scales: number): number[] {
  const w = MSSSIM_WEIGHTS.slice(0, scales);
  const s = w.reduce((a, b) => a + b, 0);
  return w.map((x) => x / s);
}

/** SSIM and its contrast-structure term of two single-channel planes h×w ('valid' Gaussian filtering). */
export function ssimPlane(
  x: Float64Array, y: Float64Array, h: number, w: number, g: Float64Array, c1: number, c2: number,
): { ssim: number; cs: number } {
  const k = g.length;
  const ow = w - k + 1;
  const oh = h - k + 1;
  if (ow < 1 || oh < 1) throw new RangeError(`ssim: a ${h}×${w} image is smaller than the ${k}×${k} window`);
  // horizontal pass: 5 maps h × ow
  const n1 = h * ow;
  const hx = new Float64Array(n1), hy = new Float64Array(n1), hxx = new Float64Array(n1), hyy = new Float64Array(n1), hxy = new Float64Array(n1);
  for (let r = 0; r < h; r++) {
    const ro = r * w;
    for (let c = 0; c < ow; c++) {
      let sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
      for (let t = 0; t < k; t++) {
        const gt = g[t]!;
        const a = x[ro + c + t]!;
        const b = y[ro + c + t]!;
        sx += gt * a;
        sy += gt * b;
        sxx += gt * a * a;
        syy += gt * b * b;
        sxy += gt * a * b;
      }
      const o = r * ow + c;
      hx[o] = sx; hy[o] = sy; hxx[o] = sxx; hyy[o] = syy; hxy[o] = sxy;
    }
  }
  let sumS = 0;
  let sumCs = 0;
  for (let r = 0; r < oh; r++) {
    for (let c = 0; c < ow; c++) {
      let mx = 0, my = 0, exx = 0, eyy = 0, exy = 0;
      for (let t = 0; t < k; t++) {
        const gt = g[t]!;
        const o = (r + t) * ow + c;
        mx += gt * hx[o]!;
        my += gt * hy[o]!;
        exx += gt * hxx[o]!;
        eyy += gt * hyy[o]!;
        exy += gt * hxy[o]!;
      }
      const vx = exx - mx * mx;
      const vy = eyy - my * my;
      const cov = exy - mx * my;
      const cs = (2 * cov + c2) / (vx + vy + c2);
      const l = (2 * mx * my + c1) / (mx * mx + my * my + c1);
      sumCs += cs;
      sumS += l * cs;
    }
  }
  const n = oh * ow;
  return { ssim: sumS / n, cs: sumCs / n };
}

/** 2×2 average pooling, odd sides padded by repeating the last row/column → ceil(h/2) × ceil(w/2). */
export function downsample2(x: Float64Array, h: number, w: number): { data: Float64Array; h: number; w: number } {
  const nh = Math.ceil(h / 2);
  const nw = Math.ceil(w / 2);
  const out = new Float64Array(nh * nw);
  for (let r = 0; r < nh; r++) {
    const r0 = 2 * r;
    const r1 = Math.min(2 * r + 1, h - 1);
    for (let c = 0; c < nw; c++) {
      const c0 = 2 * c;
      const c1 = Math.min(2 * c + 1, w - 1);
      out[r * nw + c] = (x[r0 * w + c0]! + x[r0 * w + c1]! + x[r1 * w + c0]! + x[r1 * w + c1]!) / 4;
    }
  }
  return { data: out, h: nh, w: nw };
}

export interface MsssimDetail {
  readonly value: number;
  readonly scales: number;
  /** Per channel, per scale: cs and ssim (before clamping). */
  readonly perChannel: { readonly cs: number[]; readonly ssim: number[]; readonly value: number }[];
}

/** MS-SSIM of two images [h, w, c] (channels-last), with per-scale detail. */
export function msssimDetailed(
  a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, c: number, opts: MsssimOptions = {},
): MsssimDetail {
  const size = opts.windowSize ?? 11;
  const g = gaussianWindow(size, opts.sigma ?? 1.5);
  const L = opts.dataRange ?? 2;
  const c1 = ((opts.k1 ?? 0.01) * L) ** 2;
  const c2 = ((opts.k2 ?? 0.03) * L) ** 2;
  const S = opts.scales ?? msssimScales(h, w, size);
  if (S < 1) throw new RangeError(`msssim: a ${h}×${w} image is smaller than the ${size}-px window`);
  const weights = msssimWeights(S);
  const perChannel: MsssimDetail['perChannel'][number][] = [];
  let total = 0;
  for (let ch = 0; ch < c; ch++) {
    let x: Float64Array = new Float64Array(h * w);
    let y: Float64Array = new Float64Array(h * w);
    for (let i = 0; i < h * w; i++) {
      x[i] = a[i * c + ch]!;
      y[i] = b[i * c + ch]!;
    }
    let hh = h;
    let ww = w;
    const cs: number[] = [];
    const ss: number[] = [];
    let v = 1;
    for (let s = 0; s < S; s++) {
      const r = ssimPlane(x, y, hh, ww, g, c1, c2);
      cs.push(r.cs);
      ss.push(r.ssim);
      v *= Math.max(s === S - 1 ? r.ssim : r.cs, 0) ** weights[s]!;
      if (s < S - 1) {
        const dx = downsample2(x, hh, ww);
        const dy = downsample2(y, hh, ww);
        x = dx.data;
        y = dy.data;
        hh = dx.h;
        ww = dx.w;
      }
    }
    perChannel.push({ cs, ssim: ss, value: v });
    total += v;
  }
  return { value: total / c, scales: S, perChannel };
}

export function msssim(a: ArrayLike<number>, b: ArrayLike<number>, h: number, w: number, c: number, opts: MsssimOptions = {}): number {
  return msssimDetailed(a, b, h, w, c, opts).value;
}

export interface PairwiseMsssim {
  readonly pairs: number;
  readonly mean: number;
  readonly std: number;
  /** Standard error of the mean. */
  readonly se: number;
}

/** Mean MS-SSIM over `pairs` random pairs (i ≠ j, uniform, with replacement) drawn from `Rng(seed)`. */
export function meanPairwiseMsssim(set: ImageSet, pairs: number, seed: number, opts: MsssimOptions = {}): PairwiseMsssim {
  const { count: n, height: h, width: w, channels: c } = set;
  if (n < 2) return { pairs: 0, mean: NaN, std: NaN, se: NaN };
  const rng = new Rng(seed);
  const sz = h * w * c;
  let s = 0;
  let s2 = 0;
  for (let p = 0; p < pairs; p++) {
    const i = rng.int(0, n - 1);
    let j = rng.int(0, n - 2);
    if (j >= i) j++;
    const v = msssim(set.images.subarray(i * sz, (i + 1) * sz), set.images.subarray(j * sz, (j + 1) * sz), h, w, c, opts);
    s += v;
    s2 += v * v;
  }
  const mean = s / pairs;
  const std = pairs > 1 ? Math.sqrt(Math.max(0, (s2 - pairs * mean * mean) / (pairs - 1))) : NaN;
  return { pairs, mean, std, se: std / Math.sqrt(pairs) };
}

export interface DiversityOptions extends MsssimOptions {
  /** Random pairs per set. @default 500 */
  readonly pairs?: number;
  /** @default 0 */
  readonly seed?: number;
  /** Alarm when generated − real exceeds this (absolute MS-SSIM). @default 0.1 */
  readonly alarmMargin?: number;
}

export interface DiversityResult {
  readonly generated: PairwiseMsssim;
  readonly real: PairwiseMsssim;
  /** generated.mean − real.mean (> 0: generated samples are more alike than real ones). */
  readonly difference: number;
  readonly ratio: number;
  readonly modeCollapseAlarm: boolean;
  readonly alarmRule: string;
  readonly scales: number;
  readonly weights: number[];
  readonly seed: number;
}

/**
 * Pairwise MS-SSIM of generated vs real. Alarm: generated − real > alarmMargin and > 3 standard errors of the
 * difference (so small pair counts do not raise it by chance).
 */
export function diversity(generated: ImageSet, real: ImageSet, opts: DiversityOptions = {}): DiversityResult {
  const pairs = opts.pairs ?? 500;
  const seed = opts.seed ?? 0;
  const margin = opts.alarmMargin ?? 0.1;
  const g = meanPairwiseMsssim(generated, pairs, seed, opts);
  const r = meanPairwiseMsssim(real, pairs, seed + 1, opts);
  const difference = g.mean - r.mean;
  const seDiff = Math.sqrt(g.se ** 2 + r.se ** 2);
  const scales = opts.scales ?? msssimScales(generated.height, generated.width, opts.windowSize ?? 11);
  return {
    generated: g, real: r, difference, ratio: g.mean / r.mean,
    modeCollapseAlarm: difference > margin && difference > 3 * seDiff,
    alarmRule: `generated − real mean pairwise MS-SSIM > ${margin} and > 3 standard errors of the difference`,
    scales, weights: msssimWeights(scales), seed,
  };
}
