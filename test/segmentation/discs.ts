/**
 * Tiny segmentation fixtures: bright discs (class 1) on a noisy dark background, grouped into fake patient volumes
 * of `slicesPerVolume` slices, as real SliceSplits, a prepared folder, or a samples folder of PNGs.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { Rng } from '../../src/core/rng.js';
import { writePrepared } from '../../src/data/prepare.js';
import type { PreparedManifest, SliceInfo, SliceSplit, SplitName } from '../../src/data/prepared.js';
import type { SegmentationSet } from '../../src/segmentation/regimes.js';

export interface DiscOptions {
  readonly count?: number;
  readonly size?: number;
  readonly seed?: number;
  readonly slicesPerVolume?: number;
}

export function discSplit(name: SplitName, opts: DiscOptions = {}): SliceSplit {
  const { count = 32, size = 16, seed = 1, slicesPerVolume = 4 } = opts;
  const rng = new Rng(seed);
  const images = new Float32Array(count * size * size);
  const labels = new Uint8Array(count * size * size);
  const info: SliceInfo[] = [];
  for (let s = 0; s < count; s++) {
    const r = rng.uniform(size / 8, size / 4);
    const cy = rng.uniform(r, size - 1 - r);
    const cx = rng.uniform(r, size - 1 - r);
    let fg = 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (s * size + y) * size + x;
        const inside = (y - cy) ** 2 + (x - cx) ** 2 <= r * r;
        images[i] = Math.max(-1, Math.min(1, (inside ? 0.6 : -0.6) + 0.25 * rng.normal()));
        labels[i] = inside ? 1 : 0;
        fg += inside ? 1 : 0;
      }
    }
    const v = Math.floor(s / slicesPerVolume);
    info.push({ patient: `${name}${v}`, case: `${name}${v}_ED`, slice: s % slicesPerVolume, foreground: fg });
  }
  return { name, count, height: size, width: size, channels: 1, images, labels, info };
}

export function invertLabels<T extends SegmentationSet>(set: T): T {
  return { ...set, labels: set.labels.map((l) => 1 - l) };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

/** A prepared folder of disc slices (train 32, val 16, test 16 at 16 px by default). */
export function writeDiscsPrepared(dir: string, opts: DiscOptions = {}): void {
  const size = opts.size ?? 16;
  const splits = {
    train: discSplit('train', { ...opts, count: opts.count ?? 32, seed: 1 }),
    val: discSplit('val', { ...opts, count: 16, seed: 2 }),
    test: discSplit('test', { ...opts, count: 16, seed: 3 }),
  };
  const manifest: PreparedManifest = {
    format: 'medsyn-prepared/1', dataset: 'discs', modality: 'mri', classNames: ['background', 'disc'],
    imageShape: [size, size, 1], configHash: 'discs-fixture', config: {}, sourceRoot: dir,
    patients: {
      train: [...new Set(splits.train.info.map((s) => s.patient))],
      val: [...new Set(splits.val.info.map((s) => s.patient))],
      test: [...new Set(splits.test.info.map((s) => s.patient))],
    },
    counts: { train: splits.train.count, val: splits.val.count, test: splits.test.count },
    slices: { train: splits.train.info, val: splits.val.info, test: splits.test.info },
    createdAt: '2024-01-01T00:00:00.000Z', medsynVersion: '0.0.0',
  };
  writePrepared(dir, manifest, splits);
}

/** Writes a samples folder (manifest.json, images/, masks/) holding `set`'s slices as 8-bit PNGs. */
export async function writeSampleFolder(dir: string, set: SegmentationSet, manifest: object = { count: set.count }): Promise<void> {
  const { height: H, width: W, channels: C } = set;
  fs.mkdirSync(path.join(dir, 'images'), { recursive: true });
  fs.mkdirSync(path.join(dir, 'masks'), { recursive: true });
  for (let n = 0; n < set.count; n++) {
    const id = `sample_${String(n).padStart(6, '0')}`;
    const img = Uint8Array.from(set.images.subarray(n * H * W * C, (n + 1) * H * W * C), (v) => Math.round((v + 1) * 127.5));
    const image = sharp(img, { raw: { width: W, height: H, channels: C as 1 | 3 } });
    await (C === 1 ? image.toColourspace('b-w') : image).png().toFile(path.join(dir, 'images', `${id}.png`));
    await sharp(set.labels.slice(n * H * W, (n + 1) * H * W), { raw: { width: W, height: H, channels: 1 } })
      .toColourspace('b-w').png().toFile(path.join(dir, 'masks', `${id}.png`));
  }
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
}
