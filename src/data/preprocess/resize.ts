/**
 * Resizing a (square) slice to the output size, 16–256 px.
 *
 * Images: shrinking averages the exact area each output pixel covers (a box filter with fractional edge
 * weights: antialiased, and a constant stays exactly constant); enlarging is bilinear (pixel-centred, as in
 * resample.ts). Each axis decides on its own.
 * Labels: shrinking takes the majority class by covered area (ties go to the class under the output pixel's
 * centre); enlarging takes the class under the output pixel's centre. Either way every output label is an
 * input label: small structures may vanish when shrinking but are never renamed.
 */
import { applySeparable, axisWeights, bilinearWeights, nearestIndices, type AxisWeights } from './resample.js';
import type { ImagePlane, LabelPlane } from './slices.js';

/** Area (box-filter) weights of shrinking inSize → outSize pixels; each output's weights sum to 1. */
export function areaWeights(inSize: number, outSize: number): AxisWeights {
  const scale = inSize / outSize;
  return axisWeights(inSize, outSize, (j, push) => {
    const a = j * scale;
    const b = Math.min(inSize, (j + 1) * scale);
    for (let i = Math.floor(a); i < Math.ceil(b) && i < inSize; i++) {
      const overlap = Math.min(b, i + 1) - Math.max(a, i);
      if (overlap > 1e-12) push(i, overlap / scale);
    }
  });
}

/** Area weights when shrinking, bilinear when enlarging (identity when the size is unchanged). */
export function resizeWeights(inSize: number, outSize: number): AxisWeights {
  return outSize < inSize ? areaWeights(inSize, outSize) : bilinearWeights(inSize, outSize);
}

function checkSize(width: number, height: number): void {
  if (!(Number.isInteger(width) && Number.isInteger(height) && width > 0 && height > 0)) {
    throw new RangeError(`resize target must be positive integers, got ${width}×${height}`);
  }
}

/** Resizes an image slice to width × height ([height, width, C]); the physical pixel size scales accordingly. */
export function resizeImage(plane: ImagePlane, width: number, height = width): ImagePlane {
  checkSize(width, height);
  const data =
    width === plane.width && height === plane.height
      ? plane.data.slice()
      : applySeparable(plane.data, plane.width, plane.height, plane.channels, resizeWeights(plane.width, width), resizeWeights(plane.height, height));
  const spacing: [number, number] = [(plane.spacing[0] * plane.width) / width, (plane.spacing[1] * plane.height) / height];
  return { width, height, channels: plane.channels, spacing, data };
}

/** Per axis: area overlaps when shrinking, the single centre pixel when enlarging. */
function labelTaps(inSize: number, outSize: number): AxisWeights {
  if (outSize < inSize) return areaWeights(inSize, outSize);
  const near = nearestIndices(inSize, outSize);
  return axisWeights(inSize, outSize, (j, push) => push(near[j]!, 1));
}

/** Resizes a label slice to width × height ([height, width]) by area majority / centre sampling. */
export function resizeLabels(plane: LabelPlane, width: number, height = width): LabelPlane {
  checkSize(width, height);
  const spacing: [number, number] = [(plane.spacing[0] * plane.width) / width, (plane.spacing[1] * plane.height) / height];
  if (width === plane.width && height === plane.height) return { width, height, spacing, data: plane.data.slice() };
  const wx = labelTaps(plane.width, width);
  const wy = labelTaps(plane.height, height);
  const cx = nearestIndices(plane.width, width);
  const cy = nearestIndices(plane.height, height);
  const src = plane.data;
  const out = new Uint8Array(width * height); // [H, W]
  const votes = new Float64Array(256);
  const touched: number[] = [];
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      for (let ty = wy.offset[j]!; ty < wy.offset[j + 1]!; ty++) {
        const row = wy.index[ty]! * plane.width;
        const w = wy.weight[ty]!;
        for (let tx = wx.offset[i]!; tx < wx.offset[i + 1]!; tx++) {
          const label = src[row + wx.index[tx]!]!;
          if (votes[label] === 0) touched.push(label);
          votes[label] += w * wx.weight[tx]!;
        }
      }
      const centre = src[cy[j]! * plane.width + cx[i]!]!;
      let best = centre;
      let bestVotes = votes[centre]!;
      for (const label of touched) {
        if (votes[label]! > bestVotes + 1e-9) {
          best = label;
          bestVotes = votes[label]!;
        }
      }
      out[j * width + i] = best;
      for (const label of touched) votes[label] = 0;
      touched.length = 0;
    }
  }
  return { width, height, spacing, data: out };
}
