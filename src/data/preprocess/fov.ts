/**
 * The square field of view: one crop per volume (the same for all its slices), centred on the anatomy.
 *
 * 1. `labelRegion` / `contentRegion` find the region of interest over the whole volume: its bounding box and
 *    centroid in plane pixel coordinates (u across, v down) of the slicing axis.
 * 2. `planFov` turns it into a square on the resampled plane: centre = the box's middle (or the centroid), side =
 *    `fov.sizeMm` (fixed, in mm) or the region's larger extent × `fov.margin`. A volume without any region (no
 *    foreground at all) falls back to the whole plane, centred.
 * 3. `cropSquare` / `cropSquareLabels` cut the square out of each slice, padding outside the slice with the image's
 *    background value (labels with 0).
 * With spacing 'none' (photos), "mm" means pixels of the original image.
 */
import type { FovConfig } from './config.js';
import { inPlaneAxes, type Axis, type ImagePlane, type LabelPlane, type VoxelGrid } from './slices.js';

/** A region of interest over a whole volume, in plane pixel coordinates of the slicing axis. */
export interface Region {
  readonly count: number;
  /** Inclusive bounding box. */
  readonly u0: number;
  readonly u1: number;
  readonly v0: number;
  readonly v1: number;
  /** Centroid. */
  readonly cu: number;
  readonly cv: number;
}

/** The square crop on the (resampled) plane: pixels u0..u0+side−1 across, v0..v0+side−1 down (may reach outside). */
export interface SquareFov {
  readonly u0: number;
  readonly v0: number;
  readonly side: number;
  /** side × the plane's pixel size. */
  readonly sideMm: number;
}

/** The voxels with values[i] > above (per-axis bounds and coordinate sums in one pass). */
function regionOf(size: readonly [number, number, number], axis: Axis, values: Uint8Array | Float32Array, above: number): Region | null {
  const [nx, ny, nz] = size;
  let [x0, y0, z0, x1, y1, z1] = [Infinity, Infinity, Infinity, -Infinity, -Infinity, -Infinity];
  let sx = 0;
  let sy = 0;
  let sz = 0;
  let count = 0;
  let i = 0;
  for (let z = 0; z < nz; z++) {
    for (let y = 0; y < ny; y++) {
      let rowCount = 0;
      for (let x = 0; x < nx; x++, i++) {
        if (!(values[i]! > above)) continue;
        rowCount++;
        sx += x;
        if (x < x0) x0 = x;
        if (x > x1) x1 = x;
      }
      if (rowCount === 0) continue;
      count += rowCount;
      sy += y * rowCount;
      sz += z * rowCount;
      if (y < y0) y0 = y;
      if (y > y1) y1 = y;
      if (z < z0) z0 = z;
      if (z > z1) z1 = z;
    }
  }
  const lo = [x0, y0, z0];
  const hi = [x1, y1, z1];
  const sum = [sx, sy, sz];
  if (count === 0) return null;
  const [a, b] = inPlaneAxes(axis);
  return { count, u0: lo[a]!, u1: hi[a]!, v0: lo[b]!, v1: hi[b]!, cu: sum[a]! / count, cv: sum[b]! / count };
}

/** The label map's foreground (non-zero voxels), or null when it has none. */
export function labelRegion(labels: VoxelGrid<Uint8Array>, axis: Axis): Region | null {
  return regionOf(labels.size, axis, labels.data, 0);
}

/**
 * The image's content: voxels whose channel mean lies above min + threshold · (max − min) of the volume (a fundus
 * photograph's bright FOV circle on its black surround). Null when the image is constant.
 */
export function contentRegion(image: VoxelGrid<Float32Array>, channels: number, axis: Axis, threshold: number): Region | null {
  const n = image.data.length / channels;
  const mean = new Float32Array(n);
  let lo = Infinity;
  let hi = -Infinity;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let c = 0; c < channels; c++) s += image.data[i * channels + c]!;
    const m = s / channels;
    mean[i] = m;
    if (m < lo) lo = m;
    if (m > hi) hi = m;
  }
  if (!(hi > lo)) return null;
  const cut = lo + threshold * (hi - lo);
  return regionOf(image.size, axis, mean, cut);
}

export interface FovPlanInput {
  /** The region in original plane pixels, or null (no foreground: use the whole plane). */
  readonly region: Region | null;
  /** [width, height] of the original plane. */
  readonly planeSize: readonly [number, number];
  /** [width, height] of the resampled plane. */
  readonly resampledSize: readonly [number, number];
  /** Resampled pixels per original pixel, [across, down] (source spacing / target spacing). */
  readonly ratio: readonly [number, number];
  /** Size of a resampled pixel in mm (1 with spacing 'none'). */
  readonly pixelMm: number;
}

/** Places the square field of view on the resampled plane. */
export function planFov(input: FovPlanInput, fov: FovConfig): SquareFov {
  const [W, H] = input.resampledSize;
  const [ru, rv] = input.ratio;
  let cu: number;
  let cv: number;
  let extent: number; // in resampled pixels
  let margin = fov.margin;
  if (fov.centre === 'image' || input.region === null) {
    cu = (W - 1) / 2;
    cv = (H - 1) / 2;
    extent = Math.max(W, H);
    if (input.region === null && fov.centre !== 'image') margin = 1;
  } else {
    const r = input.region;
    const [ou, ov] = fov.method === 'bbox' ? [(r.u0 + r.u1) / 2, (r.v0 + r.v1) / 2] : [r.cu, r.cv];
    cu = (ou + 0.5) * ru - 0.5; // original pixel centre → resampled pixel coordinate
    cv = (ov + 0.5) * rv - 0.5;
    extent = Math.max((r.u1 - r.u0 + 1) * ru, (r.v1 - r.v0 + 1) * rv);
  }
  const side = Math.max(2, Math.round(fov.sizeMm !== null ? fov.sizeMm / input.pixelMm : extent * margin));
  return { u0: Math.round(cu - (side - 1) / 2), v0: Math.round(cv - (side - 1) / 2), side, sideMm: side * input.pixelMm };
}

/** The square `fov` of an image slice, [side, side, C]; pixels outside the slice get `pad[c]`. */
export function cropSquare(plane: ImagePlane, fov: SquareFov, pad: readonly number[]): ImagePlane {
  const { side, u0, v0 } = fov;
  const C = plane.channels;
  const out = new Float32Array(side * side * C); // [side, side, C]
  for (let v = 0; v < side; v++) {
    const sv = v0 + v;
    for (let u = 0; u < side; u++) {
      const su = u0 + u;
      const o = (v * side + u) * C;
      if (sv >= 0 && sv < plane.height && su >= 0 && su < plane.width) {
        const s = (sv * plane.width + su) * C;
        for (let c = 0; c < C; c++) out[o + c] = plane.data[s + c]!;
      } else {
        for (let c = 0; c < C; c++) out[o + c] = pad[c] ?? pad[0] ?? 0;
      }
    }
  }
  return { width: side, height: side, channels: C, spacing: plane.spacing, data: out };
}

/** The square `fov` of a label slice, [side, side]; outside the slice is background (0). */
export function cropSquareLabels(plane: LabelPlane, fov: SquareFov): LabelPlane {
  const { side, u0, v0 } = fov;
  const out = new Uint8Array(side * side); // [side, side]
  for (let v = 0; v < side; v++) {
    const sv = v0 + v;
    if (sv < 0 || sv >= plane.height) continue;
    for (let u = 0; u < side; u++) {
      const su = u0 + u;
      if (su >= 0 && su < plane.width) out[v * side + u] = plane.data[sv * plane.width + su]!;
    }
  }
  return { width: side, height: side, spacing: plane.spacing, data: out };
}
