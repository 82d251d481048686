import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { memorisation, nearestNeighbours, percentileOf } from '../../src/metrics/domain/memorisation.js';

const H = 16, W = 16, C = 1, D = H * W * C;

function noise(rng: Rng, n: number): Float32Array {
  const a = new Float32Array(n * D);
  for (let i = 0; i < a.length; i++) a[i] = rng.uniform(-1, 1);
  return a;
}
const set = (images: Float32Array) => ({ count: images.length / D, height: H, width: W, channels: C, images });

/** Train: 20 noise images; held-out: perturbed train images (real unseen slices look like training slices). */
function realSets(seed = 1) {
  const rng = new Rng(seed);
  const train = noise(rng, 20);
  const held = new Float32Array(10 * D);
  for (let i = 0; i < 10; i++) {
    for (let k = 0; k < D; k++) held[i * D + k] = train[(2 * i) * D + k]! + rng.normal(0, 0.1);
  }
  return { train: set(train), held: set(held), rng };
}

test('nearestNeighbours equals brute force (pruning and blocking do not change the result)', () => {
  const rng = new Rng(7);
  const nq = 37, nr = 23, dim = 600; // dim > the 256-value pruning interval
  const q = new Float32Array(nq * dim).map(() => rng.uniform(-1, 1));
  const r = new Float32Array(nr * dim).map(() => rng.uniform(-1, 1));
  for (const blockRows of [1, 5, 64]) {
    const res = nearestNeighbours(q, nq, r, nr, dim, { blockRows });
    for (let i = 0; i < nq; i++) {
      let best = Infinity, bi = -1;
      for (let j = 0; j < nr; j++) {
        let s = 0;
        for (let k = 0; k < dim; k++) s += (q[i * dim + k]! - r[j * dim + k]!) ** 2;
        if (s < best) { best = s; bi = j; }
      }
      assert.equal(res.index[i], bi);
      assert.ok(Math.abs(res.distance[i]! - Math.sqrt(best)) < 1e-9);
    }
  }
});

test('percentileOf is numpy linear percentile', () => {
  assert.equal(percentileOf([4, 1, 3, 2], 50), 2.5);
  assert.equal(percentileOf([0, 10], 1), 0.1);
  assert.ok(Number.isNaN(percentileOf([], 50)));
});

test('a generated set that copies training images: every sample is a near-copy at distance 0', () => {
  const { train, held } = realSets();
  const pick = [3, 0, 17, 9, 3];
  const gen = new Float32Array(pick.length * D);
  pick.forEach((t, i) => gen.set(train.images.subarray(t * D, (t + 1) * D), i * D));
  const r = memorisation(set(gen), train, held, undefined, { closestK: 3 });
  assert.equal(r.pixel.nearCopyShare, 1);
  assert.equal(r.pixel.nearCopyCount, 5);
  assert.deepEqual(Array.from(r.pixel.generatedNN.index), pick);
  assert.equal(r.pixel.generated.mean, 0);
  assert.equal(r.pixel.meanRatio, 0);
  assert.ok(r.pixel.heldOut.mean > 1 && r.pixel.heldOut.mean < 2.2, `held-out NN ≈ 0.1·16: ${r.pixel.heldOut.mean}`);
  assert.ok(r.pixel.threshold > 0);
  assert.equal(r.pixel.closest.length, 3);
  assert.deepEqual(r.pixel.closest.map((p) => [p.generated, p.train, p.distance]), [[0, 3, 0], [1, 0, 0], [2, 17, 0]]);
  assert.equal(r.pixel.heldOutNearCopyShare, 0.1); // the 1st percentile of 10 values lies between the two smallest
  assert.equal(r.feature, undefined);
});

test('random noise is no near-copy; features are handled like pixels', () => {
  const { train, held, rng } = realSets(2);
  const gen = set(noise(rng, 30));
  const r = memorisation(gen, train, held, {
    generated: Float32Array.from([5, 5, 0, 0, 1, 1.01]), train: Float32Array.from([0, 0, 1, 1, 2, 2]), heldOut: Float32Array.from([0.5, 0.5, 1.5, 1.5]), dim: 2,
  });
  assert.equal(r.pixel.nearCopyShare, 0);
  assert.ok(r.pixel.meanRatio > 5, `noise sits far from train: ratio ${r.pixel.meanRatio}`);
  const f = r.feature!;
  assert.deepEqual(Array.from(f.generatedNN.index), [2, 0, 1]);
  assert.ok(Math.abs(f.heldOut.mean - Math.SQRT1_2) < 1e-12);
  assert.equal(f.nearCopyCount, 2); // (0,0) and (1,1.01) are below the held-out scale
  assert.ok(JSON.stringify(r.pixel.closest).length > 2);
});

test('absolute threshold override and shape mismatch', () => {
  const { train, held } = realSets(3);
  const r = memorisation(train, train, held, undefined, { nearCopyThreshold: 0 });
  assert.equal(r.pixel.nearCopyShare, 1);
  assert.match(r.pixel.thresholdRule, /absolute/);
  assert.throws(() => memorisation({ ...train, height: 8, width: 32 }, train, held), /memorisation/);
});
