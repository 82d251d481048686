/**
 * Sample grids for watching a run: each sample is shown as its image beside the same image with the generated mask
 * overlaid in colour, so image and mask can be judged together. Training renders the same fixed latents every
 * time (seeds GRID_SEED_BASE + i), so successive grid-<kimg>.png files show the same samples evolving.
 */
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic.js';

/** Seed of the first grid sample; sample i uses latent seed GRID_SEED_BASE + i (as `medsyn sample --seed`). */
export const GRID_SEED_BASE = 0;
/** Opacity of class colours over the image. */
export const OVERLAY_ALPHA = 0.45;
/** Pixels of background between cells. */
const GAP = 2;
const GAP_COLOUR = [32, 32, 32] as const;

/** Class colours (RGB) for labels 1, 2, …; background (0) is not coloured. Cycles after the last entry. */
export const CLASS_COLOURS: readonly (readonly [number, number, number])[] = [
  [230, 25, 75], [60, 180, 75], [0, 130, 200], [255, 225, 25], [245, 130, 48],
  [145, 30, 180], [70, 240, 240], [240, 50, 230], [210, 245, 60], [250, 190, 212],
];

export function classColour(label: number): readonly [number, number, number] {
  return CLASS_COLOURS[(label - 1) % CLASS_COLOURS.length]!;
}

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

/** [−1, 1] → 0..255, clamped and rounded. */
export function toByte(v: number): number {
  return Math.min(255, Math.max(0, Math.round((v + 1) * 127.5)));
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
  for (let n = 0; n < count; n++) {
    const x0 = GAP + (n % cols) * (cellW + GAP);
    const y0 = GAP + Math.floor(n / cols) * (h + GAP);
    for (let y = 0; y < h; y++) {
      for (let x = 0; x < w; x++) {
        const p = (n * h + y) * w + x;
        const rgb = ci === 1 ? [images[p]!, images[p]!, images[p]!] : [images[p * 3]!, images[p * 3 + 1]!, images[p * 3 + 2]!];
        const bytes = rgb.map(toByte);
        const left = ((y0 + y) * width + x0 + x) * 3;
        data.set(bytes, left);
        const label = labels[p]!;
        const shown = label === 0 ? bytes : bytes.map((b, c) => Math.round((1 - OVERLAY_ALPHA) * b + OVERLAY_ALPHA * classColour(label)[c]!));
        data.set(shown, left + w * 3);
      }
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
