/**
 * Slicing a volume into 2D planes along one axis, and the plane types the other preprocessing steps work on.
 *
 * Volumes are stored x fastest, then y, then z, components interleaved (see volume.ts):
 *   index = ((z * ny + y) * nx + x) * C + c                          // [Z, Y, X, C]
 * A plane is row-major with channels interleaved:
 *   index = (v * width + u) * C + c                                  // [H, W, C]
 * The in-plane axes (u across, v down) of each slicing axis:
 *   axis z (axial, the default; a 2D image's single slice): u = x, v = y
 *   axis y: u = x, v = z
 *   axis x: u = y, v = z
 */
import type { Geometry, Vec3 } from '../volume.js';
import type { SliceAxisChoice } from './config.js';

export type Axis = 'x' | 'y' | 'z';

/** A 2D image: [H, W, C] row-major, channels interleaved. `spacing` = [across (u), down (v)] in mm. */
export interface ImagePlane {
  readonly width: number;
  readonly height: number;
  readonly channels: number;
  readonly spacing: readonly [number, number];
  readonly data: Float32Array;
}

/** A 2D label map: [H, W] row-major. */
export interface LabelPlane {
  readonly width: number;
  readonly height: number;
  readonly spacing: readonly [number, number];
  readonly data: Uint8Array;
}

/** Just what slicing needs of a volume (an IntensityVolume, a LabelVolume, or normalised data on the same grid). */
export interface VoxelGrid<T extends Float32Array | Uint8Array> {
  readonly size: Vec3;
  readonly spacing: Vec3;
  readonly data: T;
}

const AXIS_INDEX: Record<Axis, number> = { x: 0, y: 1, z: 2 };
/** Volume axes (0 = x, 1 = y, 2 = z) that become u and v of a plane. */
const IN_PLANE: Record<Axis, readonly [number, number]> = { z: [0, 1], y: [0, 2], x: [1, 2] };

/**
 * The slicing axis for `choice`. 'auto' picks the axis of largest spacing (the acquisition axis of a stack of
 * thick slices); ties, and every 2D image (nz = 1), give z.
 */
export function slicingAxis(geometry: Pick<Geometry, 'size' | 'spacing'>, choice: SliceAxisChoice): Axis {
  if (geometry.size[2] === 1) return 'z';
  if (choice !== 'auto') return choice;
  const [sx, sy, sz] = geometry.spacing;
  if (sz >= sx && sz >= sy) return 'z';
  return sy >= sx ? 'y' : 'x';
}

export function sliceCount(geometry: Pick<Geometry, 'size'>, axis: Axis): number {
  return geometry.size[AXIS_INDEX[axis]]!;
}

/** [width, height] of the planes along `axis`. */
export function planeSize(geometry: Pick<Geometry, 'size'>, axis: Axis): [number, number] {
  const [u, v] = IN_PLANE[axis];
  return [geometry.size[u]!, geometry.size[v]!];
}

/** [across, down] spacing of the planes along `axis`, in mm. */
export function planeSpacing(geometry: Pick<Geometry, 'spacing'>, axis: Axis): [number, number] {
  const [u, v] = IN_PLANE[axis];
  return [geometry.spacing[u]!, geometry.spacing[v]!];
}

/** Volume axes (0 = x, 1 = y, 2 = z) that are u (across) and v (down) in the planes along `axis`. */
export function inPlaneAxes(axis: Axis): readonly [number, number] {
  return IN_PLANE[axis];
}

/** Voxel index (without the component) of plane pixel (u, v) on slice k: the one mapping every step uses. */
function strides(size: Vec3, axis: Axis): { su: number; sv: number; sk: number } {
  const st = [1, size[0], size[0] * size[1]];
  const [u, v] = IN_PLANE[axis];
  return { su: st[u]!, sv: st[v]!, sk: st[AXIS_INDEX[axis]]! };
}

function extract<T extends Float32Array | Uint8Array>(grid: VoxelGrid<T>, channels: number, axis: Axis, k: number, out: T): T {
  const n = sliceCount(grid, axis);
  if (!(Number.isInteger(k) && k >= 0 && k < n)) throw new RangeError(`slice ${k} is outside 0..${n - 1} along ${axis}`);
  const [w, h] = planeSize(grid, axis);
  const { su, sv, sk } = strides(grid.size, axis);
  const src = grid.data;
  let o = 0;
  for (let v = 0; v < h; v++) {
    for (let u = 0; u < w; u++) {
      const base = (k * sk + v * sv + u * su) * channels;
      for (let c = 0; c < channels; c++) out[o++] = src[base + c]!;
    }
  }
  return out;
}

/** Along z a slice is contiguous in the volume: a view (no copy) of slice k. */
function zView<T extends Float32Array | Uint8Array>(grid: VoxelGrid<T>, channels: number, k: number): T {
  const n = grid.size[2];
  if (!(Number.isInteger(k) && k >= 0 && k < n)) throw new RangeError(`slice ${k} is outside 0..${n - 1} along z`);
  const len = grid.size[0] * grid.size[1] * channels;
  return grid.data.subarray(k * len, (k + 1) * len) as T;
}

/**
 * Slice `k` along `axis` of an image grid with `channels` interleaved components. Along z the plane's data is a
 * view into the volume (no copy): planes are read-only for every step (each returns new arrays).
 */
export function imageSlice(grid: VoxelGrid<Float32Array>, channels: number, axis: Axis, k: number): ImagePlane {
  const [width, height] = planeSize(grid, axis);
  const data = axis === 'z' ? zView(grid, channels, k) : extract(grid, channels, axis, k, new Float32Array(width * height * channels)); // [H, W, C]
  return { width, height, channels, spacing: planeSpacing(grid, axis), data };
}

/** Slice `k` along `axis` of a label grid (a view along z, as imageSlice). */
export function labelSlice(grid: VoxelGrid<Uint8Array>, axis: Axis, k: number): LabelPlane {
  const [width, height] = planeSize(grid, axis);
  const data = axis === 'z' ? zView(grid, 1, k) : extract(grid, 1, axis, k, new Uint8Array(width * height)); // [H, W]
  return { width, height, spacing: planeSpacing(grid, axis), data };
}
