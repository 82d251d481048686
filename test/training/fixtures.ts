/**
 * Tiny in-memory prepared datasets for training tests: 16×16 grey slices of a bright disc (class 1) and, on some
 * slices, a darker square (class 2) on a noisy background, made from a seeded Rng.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../src/core/rng.js';
import type { PreparedDataset, PreparedManifest, SliceSplit, SplitName } from '../../src/data/prepared.js';

export interface FixtureOptions {
  readonly count?: number;
  readonly size?: number;
  readonly seed?: number;
  /** Put NaN into every image (to provoke divergence). */
  readonly poison?: boolean;
}

export function shapesSplit(name: SplitName, opts: FixtureOptions = {}): SliceSplit {
  const { count = 12, size = 16, seed = 1, poison = false } = opts;
  const rng = new Rng(seed);
  const images = new Float32Array(count * size * size);
  const labels = new Uint8Array(count * size * size);
  for (let s = 0; s < count; s++) {
    const cy = rng.uniform(5, size - 5);
    const cx = rng.uniform(5, size - 5);
    const r = rng.uniform(2, 4);
    const square = s % 2 === 0;
    for (let y = 0; y < size; y++) {
      for (let x = 0; x < size; x++) {
        const i = (s * size + y) * size + x;
        let v = -0.8 + 0.1 * rng.normal();
        let label = 0;
        if (square && y < 4 && x < 4) {
          v = 0.1;
          label = 2;
        }
        if ((y - cy) ** 2 + (x - cx) ** 2 <= r * r) {
          v = 0.8;
          label = 1;
        }
        images[i] = poison ? NaN : Math.max(-1, Math.min(1, v));
        labels[i] = label;
      }
    }
  }
  return { name, count, height: size, width: size, channels: 1, images, labels, info: [] };
}

/** A PreparedDataset with 3 classes (background, disc, square); `dir` is a fresh temp folder with a manifest.json. */
export function shapesDataset(opts: FixtureOptions = {}): PreparedDataset {
  const size = opts.size ?? 16;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-prepared-'));
  const manifest: PreparedManifest = {
    format: 'medsyn-prepared/1', dataset: 'shapes', modality: 'mri', classNames: ['background', 'disc', 'square'],
    imageShape: [size, size, 1], configHash: 'shapes-fixture', config: {}, sourceRoot: dir,
    patients: { train: [], val: [], test: [] }, counts: { train: opts.count ?? 12, val: 0, test: 0 },
    slices: { train: [], val: [], test: [] }, createdAt: '2024-01-01T00:00:00.000Z', medsynVersion: '0.0.0',
  };
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify(manifest));
  const train = shapesSplit('train', opts);
  return {
    dir, manifest, numClasses: 3,
    split: (name) => (name === 'train' ? train : shapesSplit(name, { ...opts, count: 0 })),
  };
}

export function tempDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}
