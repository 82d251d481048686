/**
 * Volumes as medsyn holds them in memory, in ITK's voxel order: x fastest, then y, then z, with the components of
 * a voxel (RGB) interleaved: index = ((z * ny + y) * nx + x) * components + c. A 2D image is a volume with nz = 1.
 * Geometry (spacing, origin, direction) is kept so resampling and writing back preserve the physical space.
 */
export type Vec3 = readonly [number, number, number];

export interface Geometry {
  /** Voxels along x, y, z. */
  readonly size: Vec3;
  /** Voxel size in millimetres along x, y, z (1 for plain 2D images). */
  readonly spacing: Vec3;
  readonly origin: Vec3;
  /** Direction cosines, row-major 3×3. */
  readonly direction: readonly number[];
}

/** An image in its stored intensity units (HU for CT, arbitrary for MRI, 0–255 for fundus photographs). */
export interface IntensityVolume extends Geometry {
  readonly kind: 'intensity';
  /** 1 for scalar images, 3 for RGB. */
  readonly components: number;
  readonly data: Float32Array;
  /** The file it was read from, for provenance and error messages. */
  readonly source: string;
}

/** A segmentation: one class index per voxel. */
export interface LabelVolume extends Geometry {
  readonly kind: 'label';
  readonly data: Uint8Array;
  readonly source: string;
}

export const IDENTITY_DIRECTION: readonly number[] = [1, 0, 0, 0, 1, 0, 0, 0, 1];

export function voxelCount(size: Vec3): number {
  return size[0] * size[1] * size[2];
}

export function sameGrid(a: Geometry, b: Geometry, spacingTolerance = 1e-3): boolean {
  return (
    a.size.every((s, i) => s === b.size[i]) &&
    a.spacing.every((s, i) => Math.abs(s - b.spacing[i]!) <= spacingTolerance * Math.max(1, Math.abs(s)))
  );
}

/** The distinct values of a label volume, ascending. */
export function labelValues(labels: LabelVolume): number[] {
  const seen = new Uint8Array(256);
  for (const v of labels.data) seen[v] = 1;
  const out: number[] = [];
  seen.forEach((s, v) => s && out.push(v));
  return out;
}
