/**
 * Sample grids for watching a run: each sample is shown as its image beside the same image with the generated mask
 * overlaid in colour, so image and mask can be judged together. Training renders the same fixed latents every
 * time (seeds GRID_SEED_BASE + i), so successive grid-<kimg>.png files show the same samples evolving.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic.js';
import { overlayTile } from '../data/show.js';

/** Seed of the first grid sample; sample i uses latent seed GRID_SEED_BASE + i (as `medsyn sample --seed`). */
export const GRID_SEED_BASE = 0;
/** Opacity of class colours over the image. */
export const OVERLAY_ALPHA = 0.45;
/** Pixels of background between cells. */
const GAP = 2;
const GAP_COLOUR = [32, 32, 32] as const;

export { classColour } from '../data/show.js';

/** Decoded samples (models/dcgan.ts `decodeSamples`) and their image channel count. */
export interface GridSamples {
  /** [N, H, W, Ci] in [−1, 1] (Ci = 1 grey or 3 RGB). */
  readonly images: Float32Array;
  /** [N, H, W] class indices. */
  readonly labelMaps: Uint8Array;
  readonly count: number;
  readonly height: number;
  readonly width: number;
  /** Image channels Ci. */
  readonly channels: number;
}

/**
 * Renders `samples` into an RGB pixel buffer: a grid of `columns` cells per row, each cell `image | overlay`
 * (H × 2W) separated by GAP-pixel borders. Returns raw RGB bytes and the canvas size.
 */
export function gridPixels(samples: GridSamples, columns = Math.ceil(Math.sqrt(samples.count))): { data: Uint8Array; width: number; height: number } {
  const { count, height: h, width: w, channels: ci, images, labelMaps: labels } = samples;
  if (ci !== 1 && ci !== 3) throw new Error(`grid: images must have 1 or 3 channels, got ${ci}`);
  const cols = Math.max(1, Math.min(columns, count));
  const rows = Math.max(1, Math.ceil(count / cols));
  const cellW = 2 * w;
  const width = GAP + cols * (cellW + GAP);
  const height = GAP + rows * (h + GAP);
  const data = new Uint8Array(width * height * 3);
  for (let i = 0; i < width * height; i++) data.set(GAP_COLOUR, i * 3);
  const slices = { count, height: h, width: w, channels: ci, images, labels };
  for (let n = 0; n < count; n++) {
    const x0 = GAP + (n % cols) * (cellW + GAP);
    const y0 = GAP + Math.floor(n / cols) * (h + GAP);
    const plain = overlayTile(slices, n, 0); // [H, W, 3]
    const overlaid = overlayTile(slices, n, OVERLAY_ALPHA); // [H, W, 3], the colours of `medsyn data show`
    for (let y = 0; y < h; y++) {
      const row = ((y0 + y) * width + x0) * 3;
      data.set(plain.subarray(y * w * 3, (y + 1) * w * 3), row);
      data.set(overlaid.subarray(y * w * 3, (y + 1) * w * 3), row + w * 3);
    }
  }
  return { data, width, height };
}

/** Encodes a grid of `samples` as PNG. */
export async function renderGrid(samples: GridSamples, columns?: number): Promise<Buffer> {
  const { data, width, height } = gridPixels(samples, columns);
  return sharp(data, { raw: { width, height, channels: 3 } }).png().toBuffer();
}

/** Renders and writes a grid PNG atomically. */
export async function writeGrid(file: string, samples: GridSamples, columns?: number): Promise<void> {
  writeFileAtomic(file, await renderGrid(samples, columns));
}
