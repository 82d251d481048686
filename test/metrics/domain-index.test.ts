import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { SliceArrays } from '../../src/data/prepared.js';
import { domainMetrics } from '../../src/metrics/domain/index.js';

const H = 24, W = 24, C = 1, P = H * W;

/** Slices with a blob of myocardium around an LV cavity (ACDC-like) on noisy backgrounds. */
function slices(rng: Rng, n: number, opts: { leakyLv?: boolean } = {}): SliceArrays {
  const images = new Float32Array(n * P * C);
  const labels = new Uint8Array(n * P);
  for (let s = 0; s < n; s++) {
    const cy = rng.int(8, 15), cx = rng.int(8, 15), r = rng.int(3, 5);
    for (let y = 0; y < H; y++) {
      for (let x = 0; x < W; x++) {
        const d = Math.hypot(y - cy, x - cx);
        const l = d <= r - 2 ? 3 : d <= r ? 2 : 0;
        labels[s * P + y * W + x] = opts.leakyLv && l === 2 && x > cx + 1 && Math.abs(y - cy) <= 1 ? 3 : l;
        images[s * P + y * W + x] = (l === 3 ? 0.6 : l === 2 ? -0.2 : -0.8) + rng.normal(0, 0.1);
      }
    }
  }
  return { count: n, height: H, width: W, channels: C, images, labels };
}

test('domainMetrics: a copying generator, inconsistent masks and broken anatomy show up in one JSON report', async () => {
  const rng = new Rng(11);
  const train = slices(rng, 30);
  const heldOut = slices(rng, 12);
  // generated: 10 copies of training slices with leaky LVs + 10 fresh slices
  const copies = slices(rng, 10, { leakyLv: true });
  for (let i = 0; i < 10; i++) copies.images.set(train.images.subarray(i * P, (i + 1) * P), i * P);
  const fresh = slices(rng, 10);
  const generated: SliceArrays = {
    count: 20, height: H, width: W, channels: C,
    images: Float32Array.from([...copies.images, ...fresh.images]),
    labels: Uint8Array.from([...copies.labels, ...fresh.labels]),
  };
  // a "segmenter" that thresholds the intensities: right on fresh samples, wrong on the leaky copies' masks
  const predict = async (x: Float32Array, n: number, h: number, w: number) => {
    const out = new Uint8Array(n * h * w);
    for (let i = 0; i < out.length; i++) out[i] = x[i]! > 0.2 ? 3 : x[i]! > -0.5 ? 2 : 0;
    return out;
  };
  const report = await domainMetrics({
    generated, trainReal: train, heldOutReal: heldOut, dataset: 'ACDC', numClasses: 4, predict,
    features: { generated: new Float32Array(20 * 3), train: new Float32Array(30 * 3).fill(1), heldOut: new Float32Array(12 * 3).fill(2), dim: 3 },
    options: { pairs: 40, seed: 4 },
  });
  const json = JSON.parse(JSON.stringify(report));
  assert.deepEqual(json.protocol.counts, { generated: 20, trainReal: 30, heldOutReal: 12 });
  assert.equal(json.protocol.rulesDataset, 'acdc');
  assert.equal(json.protocol.diversity.msssimScales, 2);
  assert.equal(json.protocol.plausibility.connectivity, 8);
  // memorisation: the 10 copies are near-copies; fresh slices are as far as held-out ones (with 12 held-out slices
  // the threshold is about their minimum, so one fresh slice may fall under it)
  const mem = json.memorisation.pixel;
  assert.ok(mem.nearCopyCount >= 10 && mem.nearCopyCount <= 11, `near copies ${mem.nearCopyCount}`);
  assert.equal(mem.nearCopyShare, mem.nearCopyCount / 20);
  assert.deepEqual(mem.closest.slice(0, 10).map((p: { generated: number }) => p.generated).sort((a: number, b: number) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual(json.memorisation.pixel.closest.slice(0, 10).map((p: { distance: number }) => p.distance), new Array(10).fill(0));
  assert.ok(json.memorisation.feature.generated.mean > 0);
  // plausibility: real data passes, the leaky copies do not
  assert.equal(json.plausibility.trainReal.plausibleShare, 1);
  assert.equal(json.plausibility.heldOutReal.plausibleShare, 1);
  assert.equal(json.plausibility.generated.plausibleShare, 0.5);
  assert.equal(json.plausibility.generated.violationCounts['lv-enclosed-by-myo'], 10);
  // consistency: the fresh half agrees with the thresholding segmenter
  assert.ok(json.consistency.mean < 1 && json.consistency.mean > 0.5, `consistency ${json.consistency.mean}`);
  assert.equal(json.consistency.perSample.length, 20);
  assert.ok(json.consistency.perSample.slice(10).every((d: number) => d > 0.95));
  // diversity: JSON-able numbers
  assert.equal(typeof json.diversity.generated.mean, 'number');
  assert.equal(typeof json.diversity.modeCollapseAlarm, 'boolean');
});

test('domainMetrics without predictor or features', async () => {
  const rng = new Rng(12);
  const train = slices(rng, 8);
  const r = await domainMetrics({ generated: slices(rng, 5), trainReal: train, heldOutReal: slices(rng, 4), dataset: 'custom', numClasses: 4, options: { pairs: 5 } });
  assert.equal(r.consistency, null);
  assert.equal(r.memorisation.feature, null);
  assert.equal(r.plausibility.generated.plausibleShare, null);
  assert.equal(r.protocol.rulesDataset, 'generic');
  assert.equal(r.diversity!.scales, 2);
  const tiny = { count: 3, height: 8, width: 8, channels: 1, images: new Float32Array(3 * 64), labels: new Uint8Array(3 * 64) };
  const t = await domainMetrics({ generated: tiny, trainReal: tiny, heldOutReal: tiny, dataset: 'sliver07', numClasses: 2 });
  assert.equal(t.diversity, null);
  assert.equal(t.protocol.diversity, null);
  assert.equal(t.plausibility.generated.plausibleShare, 1);
});
