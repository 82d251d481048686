/**
 * In-plane resampling of a slice to a target pixel spacing: images bilinear, label maps nearest neighbour
 * (labels are never interpolated: every output label is a value of the input).
 *
 * Coordinates are pixel-centred: output pixel j samples the input at u = (j + 0.5) · scale − 0.5, where scale is
 * input pixels per output pixel (target spacing / source spacing). Both grids start at the same physical edge;
 * the output has round(n · s / t) pixels of exactly the target spacing t. Positions outside [0, n − 1] clamp to
 * the edge pixel.
 *
 * Also the separable machinery (sparse 1D weights applied along x then y) that resize.ts reuses.
 */
import type { ImagePlane, LabelPlane } from './slices.js';

/** Sparse 1D weights: output j = Σ_{t in offset[j]..offset[j+1]} weight[t] · input[index[t]]. */
export interface AxisWeights {
  readonly inSize: number;
  readonly outSize: number;
  readonly offset: Int32Array; // [outSize + 1]
  readonly index: Int32Array;
  readonly weight: Float64Array;
}

export function axisWeights(inSize: number, outSize: number, taps: (j: number, push: (i: number, w: number) => void) => void): AxisWeights {
  const offset = new Int32Array(outSize + 1);
  const index: number[] = [];
  const weight: number[] = [];
  for (let j = 0; j < outSize; j++) {
    taps(j, (i, w) => {
      if (w === 0) return;
      index.push(i);
      weight.push(w);
    });
    offset[j + 1] = index.length;
  }
  return { inSize, outSize, offset, index: Int32Array.from(index), weight: Float64Array.from(weight) };
}

/** Linear interpolation weights; `scale` = input pixels per output pixel. */
export function bilinearWeights(inSize: number, outSize: number, scale = inSize / outSize): AxisWeights {
  return axisWeights(inSize, outSize, (j, push) => {
    const u = Math.min(inSize - 1, Math.max(0, (j + 0.5) * scale - 0.5));
    const i0 = Math.floor(u);
    const f = u - i0;
    if (f === 0 || i0 + 1 >= inSize) push(i0, 1);
    else {
      push(i0, 1 - f);
      push(i0 + 1, f);
    }
  });
}

/** Nearest-neighbour source index of each output pixel (the pixel whose cell holds the output pixel's centre). */
export function nearestIndices(inSize: number, outSize: number, scale = inSize / outSize): Int32Array {
  const out = new Int32Array(outSize);
  for (let j = 0; j < outSize; j++) out[j] = Math.min(inSize - 1, Math.max(0, Math.floor((j + 0.5) * scale)));
  return out;
}

/**
 * Applies `wx` along x (width) then `wy` along y (height) to a [H, W, C] image; returns [wy.outSize, wx.outSize, C].
 */
export function applySeparable(data: Float32Array, width: number, height: number, channels: number, wx: AxisWeights, wy: AxisWeights): Float32Array {
  if (wx.inSize !== width || wy.inSize !== height) throw new Error('applySeparable: weights do not match the image size');
  const ow = wx.outSize;
  const oh = wy.outSize;
  const tmp = new Float64Array(height * ow * channels); // [H, OW, C]
  if (channels === 1) {
    // The common grey-level case without the channel loop.
    for (let y = 0; y < height; y++) {
      const row = y * width;
      const orow = y * ow;
      for (let j = 0; j < ow; j++) {
        let acc = 0;
        for (let t = wx.offset[j]!; t < wx.offset[j + 1]!; t++) acc += wx.weight[t]! * data[row + wx.index[t]!]!;
        tmp[orow + j] = acc;
      }
    }
  } else {
    for (let y = 0; y < height; y++) {
      const row = y * width * channels;
      const orow = y * ow * channels;
      for (let j = 0; j < ow; j++) {
        for (let t = wx.offset[j]!; t < wx.offset[j + 1]!; t++) {
          const w = wx.weight[t]!;
          const src = row + wx.index[t]! * channels;
          const dst = orow + j * channels;
          for (let c = 0; c < channels; c++) tmp[dst + c] += w * data[src + c]!;
        }
      }
    }
  }
  const out = new Float32Array(oh * ow * channels); // [OH, OW, C]
  const acc = new Float64Array(ow * channels);
  for (let j = 0; j < oh; j++) {
    acc.fill(0);
    for (let t = wy.offset[j]!; t < wy.offset[j + 1]!; t++) {
      const w = wy.weight[t]!;
      const src = wy.index[t]! * ow * channels;
      for (let k = 0; k < acc.length; k++) acc[k] += w * tmp[src + k]!;
    }
    out.set(acc, j * ow * channels);
  }
  return out;
}

/** Pixels along one axis after resampling n pixels of spacing s to spacing t. */
export function resampledSize(n: number, s: number, t: number): number {
  return Math.max(1, Math.round((n * s) / t));
}

function sameSpacing(a: number, b: number): boolean {
  return Math.abs(a - b) <= 1e-6 * Math.max(a, b);
}

function targetPair(target: number | readonly [number, number]): readonly [number, number] {
  const t = typeof target === 'number' ? ([target, target] as const) : target;
  if (!(t[0] > 0 && t[1] > 0)) throw new RangeError(`target spacing must be positive, got [${t.join(', ')}]`);
  return t;
}

/** Bilinear resampling of an image slice to `target` mm per pixel (one number: isotropic; or [across, down]). */
export function resampleImage(plane: ImagePlane, target: number | readonly [number, number]): ImagePlane {
  const [tu, tv] = targetPair(target);
  const [su, sv] = plane.spacing;
  if (sameSpacing(su, tu) && sameSpacing(sv, tv)) return { ...plane, spacing: [tu, tv] };
  const ow = resampledSize(plane.width, su, tu);
  const oh = resampledSize(plane.height, sv, tv);
  const wx = bilinearWeights(plane.width, ow, tu / su);
  const wy = bilinearWeights(plane.height, oh, tv / sv);
  const data = applySeparable(plane.data, plane.width, plane.height, plane.channels, wx, wy); // [OH, OW, C]
  return { width: ow, height: oh, channels: plane.channels, spacing: [tu, tv], data };
}

/** Nearest-neighbour resampling of a label slice to `target` mm per pixel: never creates a label value. */
export function resampleLabels(plane: LabelPlane, target: number | readonly [number, number]): LabelPlane {
  const [tu, tv] = targetPair(target);
  const [su, sv] = plane.spacing;
  if (sameSpacing(su, tu) && sameSpacing(sv, tv)) return { ...plane, spacing: [tu, tv] };
  const ow = resampledSize(plane.width, su, tu);
  const oh = resampledSize(plane.height, sv, tv);
  const ix = nearestIndices(plane.width, ow, tu / su);
  const iy = nearestIndices(plane.height, oh, tv / sv);
  const data = new Uint8Array(ow * oh); // [OH, OW]
  for (let y = 0; y < oh; y++) {
    const src = iy[y]! * plane.width;
    for (let x = 0; x < ow; x++) data[y * ow + x] = plane.data[src + ix[x]!]!;
  }
  return { width: ow, height: oh, spacing: [tu, tv], data };
}
