import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { StatsWriter, readStats, truncateStatsAfter, type StatsRecord } from '../../src/training/stats.js';
import { OVERLAY_ALPHA, classColour, gridPixels, renderGrid } from '../../src/training/grid.js';

function record(step: number): StatsRecord {
  return {
    step, kimg: step * 0.032, losses: { 'loss/d/total': 1 / step }, learningRate: { generator: 2e-4 },
    secPerStep: 0.1, imagesPerSec: 320, wallTimeSec: step * 0.1, time: new Date(0).toISOString(),
  };
}

test('stats.jsonl is appended line by line, read back, tolerant of a torn last line, truncatable on resume', () => {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stats-')), 'stats.jsonl');
  const w = new StatsWriter(file);
  for (let s = 1; s <= 4; s++) w.append(record(s));
  w.close();
  assert.equal(fs.readFileSync(file, 'utf8').trim().split('\n').length, 4);
  fs.appendFileSync(file, '{"step": 5, "kimg"');
  assert.deepEqual(readStats(file).map((r) => r.step), [1, 2, 3, 4]);
  truncateStatsAfter(file, 2);
  assert.deepEqual(readStats(file), [record(1), record(2)]);
  fs.writeFileSync(file, 'garbage\n' + JSON.stringify(record(1)) + '\n');
  assert.throws(() => readStats(file), /stats\.jsonl:1: not a JSON line/);
});

test('a grid cell shows the image and, beside it, the image with the mask overlaid', async () => {
  // Two 1×2 grey samples: pixel values −1 and +1; labels [0, 1] and [2, 0].
  const samples = {
    images: Float32Array.from([-1, 1, 1, -1]), labelMaps: Uint8Array.from([0, 1, 2, 0]), count: 2, height: 1, width: 2, channels: 1,
  };
  const { data, width, height } = gridPixels(samples, 2);
  assert.equal(width, 2 + 2 * (4 + 2));
  assert.equal(height, 2 + 1 + 2);
  const px = (x: number, y: number): number[] => Array.from(data.subarray((y * width + x) * 3, (y * width + x) * 3 + 3));
  // Cell 0 starts at x = 2: image [0, 255], overlay [0 (background), 255 blended with class 1's colour].
  assert.deepEqual(px(2, 2), [0, 0, 0]);
  assert.deepEqual(px(3, 2), [255, 255, 255]);
  assert.deepEqual(px(4, 2), [0, 0, 0]);
  assert.deepEqual(px(5, 2), classColour(1).map((c) => Math.round((1 - OVERLAY_ALPHA) * 255 + OVERLAY_ALPHA * c)));
  // Cell 1 overlay, first pixel: 255 blended with class 2.
  assert.deepEqual(px(8 + 2, 2), classColour(2).map((c) => Math.round((1 - OVERLAY_ALPHA) * 255 + OVERLAY_ALPHA * c)));
  const png = await renderGrid(samples, 2);
  const meta = await sharp(png).metadata();
  assert.equal(meta.format, 'png');
  assert.equal(meta.width, width);
});
