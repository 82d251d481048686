/**
 * A visual check of prepared data: a PNG grid of slices with their label maps overlaid in colour (orientation,
 * alignment of image and mask, intensity scaling). Fixed palette: class 1 red, 2 green, 3 blue, 4 yellow,
 * 5 cyan, 6 magenta, 7 orange, 8 purple, … (cycling). Filled overlays blend with `alpha` (default 0.4); contour mode
 * draws each region's outline opaque. Slices are taken evenly spaced over the split. Written atomically.
 */
import path from 'node:path';
import sharp from 'sharp';
import { writeFileAtomic } from '../core/atomic.js';
import { DataError } from '../core/errors.js';
import type { PreparedDataset, SliceArrays, SliceSplit, SplitName } from './prepared.js';

export const PALETTE: readonly (readonly [number, number, number])[] = [
  [255, 0, 0],
  [0, 255, 0],
  [0, 0, 255],
  [255, 255, 0],
  [0, 255, 255],
  [255, 0, 255],
  [255, 128, 0],
  [128, 0, 255],
  [128, 255, 0],
  [255, 0, 128],
];

/** The overlay colour of class `k` ≥ 1. */
export function classColour(k: number): readonly [number, number, number] {
  return PALETTE[(k - 1) % PALETTE.length]!;
}

/** Slices to draw, without a prepared folder (e.g. generated samples). */
export type OverlaySlices = SliceArrays;

export interface OverlayGridOptions {
  /** Output PNG (default grid.png). */
  readonly out?: string;
  /** Number of slices (default 16; all when the split has fewer). */
  readonly n?: number;
  /** Columns (default min(n, 8)). */
  readonly cols?: number;
  /** Split of a prepared dataset (default train). */
  readonly split?: SplitName;
  /** Opacity of the filled overlay, 0–1 (default 0.4). */
  readonly alpha?: number;
  /** Draw outlines only. */
  readonly contour?: boolean;
  /** Integer upscaling of each tile (default: to at least 128 px). */
  readonly scale?: number;
}

export interface OverlayGridResult {
  readonly file: string;
  /** Slices drawn. */
  readonly count: number;
  readonly width: number;
  readonly height: number;
}

function isDataset(x: PreparedDataset | OverlaySlices): x is PreparedDataset {
  return typeof (x as PreparedDataset).split === 'function';
}

/** RGB tile [H, W, 3] of slice `i` with its labels overlaid. */
export function overlayTile(s: OverlaySlices, i: number, alpha = 0.4, contour = false): Uint8Array {
  const { height: H, width: W, channels: C } = s;
  const out = new Uint8Array(H * W * 3); // [H, W, 3]
  const img = s.images.subarray(i * H * W * C, (i + 1) * H * W * C);
  const lab = s.labels.subarray(i * H * W, (i + 1) * H * W);
  for (let p = 0; p < H * W; p++) {
    for (let c = 0; c < 3; c++) {
      const v = img[p * C + (C === 3 ? c : 0)]!;
      out[p * 3 + c] = Math.max(0, Math.min(255, Math.round((v + 1) * 127.5)));
    }
  }
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const k = lab[p]!;
      if (k === 0) continue;
      let a = alpha;
      if (contour) {
        const edge = x === 0 || y === 0 || x === W - 1 || y === H - 1 || lab[p - 1] !== k || lab[p + 1] !== k || lab[p - W] !== k || lab[p + W] !== k;
        if (!edge) continue;
        a = 1;
      }
      const col = classColour(k);
      for (let c = 0; c < 3; c++) out[p * 3 + c] = Math.round((1 - a) * out[p * 3 + c]! + a * col[c]!);
    }
  }
  return out;
}

/** Writes a PNG grid of slices with their label maps overlaid (see the top of this file). */
export async function renderOverlayGrid(source: PreparedDataset | OverlaySlices, opts: OverlayGridOptions = {}): Promise<OverlayGridResult> {
  const splitName = opts.split ?? 'train';
  const s: OverlaySlices = isDataset(source) ? (source.split(splitName) as SliceSplit) : source;
  const where = isDataset(source) ? path.join(source.dir, `${splitName}.safetensors`) : 'overlay input';
  if (s.count === 0) throw new DataError(where, `has no slices to show`, 'pick another split (--split)');
  if (s.channels !== 1 && s.channels !== 3) throw new DataError(where, `slices have ${s.channels} channels; overlays draw grey (1) or RGB (3)`);
  const alpha = opts.alpha ?? 0.4;
  if (!(alpha >= 0 && alpha <= 1)) throw new RangeError(`alpha must be in [0, 1], got ${alpha}`);
  const n = Math.min(Math.max(1, Math.floor(opts.n ?? 16)), s.count);
  const cols = Math.min(Math.max(1, Math.floor(opts.cols ?? Math.min(n, 8))), n);
  const rows = Math.ceil(n / cols);
  const scale = Math.max(1, Math.floor(opts.scale ?? Math.ceil(128 / Math.max(s.width, s.height))));
  const gap = 2;
  const tw = s.width * scale;
  const th = s.height * scale;
  const width = cols * tw + (cols + 1) * gap;
  const height = rows * th + (rows + 1) * gap;
  const canvas = new Uint8Array(width * height * 3).fill(32); // [height, width, 3]

  for (let t = 0; t < n; t++) {
    const index = Math.floor((t * s.count) / n); // evenly spaced over the split
    const tile = overlayTile(s, index, alpha, opts.contour ?? false);
    const ox = gap + (t % cols) * (tw + gap);
    const oy = gap + Math.floor(t / cols) * (th + gap);
    for (let y = 0; y < th; y++) {
      const sy = Math.floor(y / scale);
      for (let x = 0; x < tw; x++) {
        const sp = (sy * s.width + Math.floor(x / scale)) * 3;
        const dp = ((oy + y) * width + ox + x) * 3;
        canvas[dp] = tile[sp]!;
        canvas[dp + 1] = tile[sp + 1]!;
        canvas[dp + 2] = tile[sp + 2]!;
      }
    }
  }

  const png = await sharp(canvas, { raw: { width, height, channels: 3 } }).png().toBuffer();
  const file = path.resolve(opts.out ?? 'grid.png');
  writeFileAtomic(file, png);
  return { file, count: n, width, height };
}
