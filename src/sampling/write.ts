/**
 * Writing generated samples as files a segmentation pipeline reads like a real dataset:
 *   OUT/images/sample_000000.png   image, [−1, 1] → 0..255 (grey or RGB)
 *   OUT/masks/sample_000000.png    label map, class indices as-is (uint8 grey: 0 background, 1, 2, …)
 *   OUT/images/sample_000000.nii.gz, OUT/masks/sample_000000.nii.gz   with 'nifti', for 1-channel images:
 *                                  the image as float32 in [−1, 1] and the label map as uint8, 1 × 1 mm pixels
 * Every file is written atomically.
 */
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic.js';
import { writeVolume } from '../data/io/image-io.js';
import { IDENTITY_DIRECTION, type IntensityVolume, type LabelVolume } from '../data/volume.js';
import type { DecodedSamples } from '../models/dcgan.js';

export const SAMPLE_FORMATS = ['png', 'nifti'] as const;
export type SampleFormat = (typeof SAMPLE_FORMATS)[number];

/** An image file and its mask file, relative to the output folder. */
export interface SamplePair {
  readonly image: string;
  readonly mask: string;
}

/** One sample's files by format. */
export interface SampleFiles {
  readonly png?: SamplePair;
  readonly nifti?: SamplePair;
}

export function sampleStem(index: number): string {
  return `sample_${String(index).padStart(6, '0')}`;
}

/** [−1, 1] → 0..255, clamped and rounded. */
export function imageToBytes(values: Float32Array): Uint8Array {
  const out = new Uint8Array(values.length);
  for (let i = 0; i < values.length; i++) out[i] = Math.min(255, Math.max(0, Math.round((values[i]! + 1) * 127.5)));
  return out;
}

/** Encodes 8-bit pixels [H, W, channels] (1 grey, 3 RGB) as PNG. */
export async function encodePng(pixels: Uint8Array, width: number, height: number, channels: 1 | 3): Promise<Buffer> {
  const img = sharp(pixels, { raw: { width, height, channels } });
  return (channels === 1 ? img.toColourspace('b-w') : img).png().toBuffer();
}

/**
 * Writes sample `j` of a decoded batch as sample number `index` under `outDir`, in each requested format.
 * NIfTI is written for 1-channel images only (an RGB-only request is an error; with PNG also requested it is skipped).
 */
export async function writeSample(
  outDir: string, index: number, batch: DecodedSamples, j: number, imageChannels: number, formats: readonly SampleFormat[],
): Promise<SampleFiles> {
  const { height, width } = batch;
  const pixels = height * width;
  const image = batch.images.subarray(j * pixels * imageChannels, (j + 1) * pixels * imageChannels); // [H, W, Ci]
  const labels = batch.labelMaps.subarray(j * pixels, (j + 1) * pixels); // [H, W]
  const stem = sampleStem(index);
  const files: { png?: SamplePair; nifti?: SamplePair } = {};
  if (formats.includes('png')) {
    if (imageChannels !== 1 && imageChannels !== 3) throw new Error(`PNG needs 1 or 3 image channels, got ${imageChannels}`);
    files.png = { image: `images/${stem}.png`, mask: `masks/${stem}.png` };
    writeFileAtomic(path.join(outDir, files.png.image), await encodePng(imageToBytes(image), width, height, imageChannels));
    writeFileAtomic(path.join(outDir, files.png.mask), await encodePng(Uint8Array.from(labels), width, height, 1));
  }
  if (formats.includes('nifti')) {
    if (imageChannels !== 1) {
      if (!files.png) throw new Error(`NIfTI samples need 1-channel images, this run's have ${imageChannels}; use --format png`);
    } else {
      files.nifti = { image: `images/${stem}.nii.gz`, mask: `masks/${stem}.nii.gz` };
      const geometry = { size: [width, height, 1] as const, spacing: [1, 1, 1] as const, origin: [0, 0, 0] as const, direction: IDENTITY_DIRECTION };
      const imageVolume: IntensityVolume = { kind: 'intensity', ...geometry, components: 1, data: Float32Array.from(image), source: files.nifti.image };
      const labelVolume: LabelVolume = { kind: 'label', ...geometry, data: Uint8Array.from(labels), source: files.nifti.mask };
      await writeVolume(path.join(outDir, files.nifti.image), imageVolume, { componentType: 'float32' });
      await writeVolume(path.join(outDir, files.nifti.mask), labelVolume, { componentType: 'uint8' });
    }
  }
  return files;
}
