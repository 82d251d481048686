/**
 * The prepared dataset: 2D training slices, channels-last, intensities in [-1, 1], with label maps, split by
 * patient into train/val/test. On disk: `PREPARED/manifest.json` + one `PREPARED/<split>.safetensors` per split
 * holding `images` F32 [N, H, W, C] and `labels` U8 [N, H, W]. Implementation: prepare.ts writes, load.ts reads.
 */
export type SplitName = 'train' | 'val' | 'test';
export const SPLITS: readonly SplitName[] = ['train', 'val', 'test'];

export interface SliceInfo {
  readonly patient: string;
  readonly case: string;
  /** Index of the slice along the slicing axis in the source volume. */
  readonly slice: number;
  /** Number of foreground pixels in the prepared label map. */
  readonly foreground: number;
}

export interface PreparedManifest {
  readonly format: 'medsyn-prepared/1';
  readonly dataset: string;
  readonly modality: 'mri' | 'ct' | 'rgb';
  readonly classNames: readonly string[];
  /** [height, width, channels] of every slice. */
  readonly imageShape: readonly [number, number, number];
  /** Hash of the resolved preprocessing config + the source files' names/sizes/mtimes; the cache key. */
  readonly configHash: string;
  /** The resolved preprocessing config, verbatim. */
  readonly config: Readonly<Record<string, unknown>>;
  readonly sourceRoot: string;
  readonly patients: Readonly<Record<SplitName, readonly string[]>>;
  readonly counts: Readonly<Record<SplitName, number>>;
  readonly slices: Readonly<Record<SplitName, readonly SliceInfo[]>>;
  readonly createdAt: string;
  readonly medsynVersion: string;
}

/** 2D slices with their label maps: what every stage after preparation passes around. */
export interface SliceArrays {
  readonly count: number;
  readonly height: number;
  readonly width: number;
  readonly channels: number;
  /** [N, H, W, C] row-major, in [-1, 1]. */
  readonly images: Float32Array;
  /** [N, H, W] class indices. */
  readonly labels: Uint8Array;
}

export interface SliceSplit extends SliceArrays {
  readonly name: SplitName;
  readonly info: readonly SliceInfo[];
}

export interface PreparedDataset {
  readonly dir: string;
  readonly manifest: PreparedManifest;
  readonly numClasses: number;
  split(name: SplitName): SliceSplit;
}
