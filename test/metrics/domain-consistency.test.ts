import { test } from 'node:test';
import assert from 'node:assert/strict';
import { maskImageConsistency } from '../../src/metrics/domain/consistency.js';

const H = 4, W = 4;
// 3 samples, 3 classes; the images are unused by the fake predictors
const labels = Uint8Array.from([
  0, 1, 1, 0, 0, 1, 1, 0, 0, 2, 2, 0, 0, 0, 0, 0,
  1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
  2, 2, 0, 0, 2, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
]);
const set = { count: 3, height: H, width: W, channels: 1, images: new Float32Array(3 * H * W), labels };

test('a predictor returning the generated mask scores Dice 1 (across predictor batches)', async () => {
  let calls = 0;
  const r = await maskImageConsistency(set, 3, async (images, n, h, w, c) => {
    calls++;
    assert.equal(images.length, n * h * w * c);
    const start = (calls - 1) * 2;
    return labels.slice(start * h * w, (start + n) * h * w);
  }, { batchSize: 2 });
  assert.equal(calls, 2);
  assert.deepEqual(r.classes, [1, 2]);
  assert.deepEqual(r.perClass, [1, 1]);
  assert.equal(r.mean, 1);
  assert.deepEqual(r.pooledPerClass, [1, 1]);
  assert.deepEqual(r.presentCount, [2, 2]);
  assert.deepEqual(Array.from(r.perSample), [1, 1, 1]);
});

test('hand-computed Dice for an all-background and a shifted predictor', async () => {
  const zero = await maskImageConsistency(set, 3, async (_x, n, h, w) => new Uint8Array(n * h * w));
  assert.deepEqual(zero.perClass, [0, 0]);
  assert.equal(zero.mean, 0);
  // sample 0 predicts class 1 at (0,2),(0,3); sample 1 predicts its truth's row of 1s; sample 2 all background
  const pred = new Uint8Array(3 * H * W);
  pred.set([0, 0, 1, 1], 0);
  pred.set([1, 1, 1, 1], 16);
  const r = await maskImageConsistency(set, 3, async () => pred);
  // class 1: sample0 2·1/(2+4) = 1/3, sample1 1 → mean 2/3; class 2: samples 0 and 2 → 0
  assert.ok(Math.abs(r.perClass[0]! - 2 / 3) < 1e-12);
  assert.equal(r.perClass[1], 0);
  // pooled class 1: ∩ = 1 + 4 = 5, |P| = 2 + 4, |T| = 4 + 4 → 10/14
  assert.ok(Math.abs(r.pooledPerClass[0]! - 10 / 14) < 1e-12);
  assert.ok(Math.abs(r.perSample[0]! - 1 / 6) < 1e-12);
  assert.equal(r.perSample[2], 0);
});
