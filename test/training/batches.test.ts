import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { BatchStream, jointSamples, normalLatents } from '../../src/training/batches.js';
import { Rng } from '../../src/core/rng.js';
import type { SliceSplit } from '../../src/data/prepared.js';

await initEngine({ backend: 'cpu' });

/** count slices of 2×2 pixels, 1 channel; slice s has intensity s/10 and label (s + pixel) % 3. */
function split(count: number): SliceSplit {
  const images = new Float32Array(count * 4);
  const labels = new Uint8Array(count * 4);
  for (let s = 0; s < count; s++) {
    for (let p = 0; p < 4; p++) {
      images[s * 4 + p] = s / 10;
      labels[s * 4 + p] = (s + p) % 3;
    }
  }
  return { name: 'train', count, height: 2, width: 2, channels: 1, images, labels, info: [] };
}

test('real samples are image channels then the one-hot mask in {−1, +1}', () => {
  const out = jointSamples(split(3), 3, [2]);
  // slice 2: intensity 0.2, labels [2, 0, 1, 2]
  assert.deepEqual(Array.from(out), [
    0.2, -1, -1, 1,
    0.2, 1, -1, -1,
    0.2, -1, 1, -1,
    0.2, -1, -1, 1,
  ].map((v) => Math.fround(v)));
  assert.throws(() => jointSamples(split(3), 2), /label 2 but the dataset declares 2 classes/);
});

test('each epoch serves every slice once, in a seeded order that differs between epochs', () => {
  const stream = BatchStream.create(split(10), 3, 5, 7);
  const epoch1 = [...stream.nextIndices(), ...stream.nextIndices()];
  const epoch2 = [...stream.nextIndices(), ...stream.nextIndices()];
  assert.deepEqual([...epoch1].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.deepEqual([...epoch2].sort((a, b) => a - b), [0, 1, 2, 3, 4, 5, 6, 7, 8, 9]);
  assert.notDeepEqual(epoch1, epoch2);
  const again = BatchStream.create(split(10), 3, 5, 7);
  assert.deepEqual([...again.nextIndices(), ...again.nextIndices()], epoch1);
  assert.notDeepEqual([...BatchStream.create(split(10), 3, 5, 8).nextIndices()], epoch1.slice(0, 5));
});

test('a stream restored from its position continues the same sequence, across epoch boundaries', () => {
  const a = BatchStream.create(split(7), 3, 3, 1);
  for (let i = 0; i < 4; i++) a.nextIndices();
  const saved = JSON.parse(JSON.stringify(a.position));
  const b = BatchStream.restore(split(7), 3, 3, saved);
  for (let i = 0; i < 10; i++) assert.deepEqual(b.nextIndices(), a.nextIndices());
  assert.ok(a.position.epoch >= 2);
});

test('a batch larger than the split wraps into the next epoch; next() returns [N, H, W, Ci + K]', () => {
  const stream = BatchStream.create(split(3), 3, 4, 0);
  const before = tf.memory().numTensors;
  const batch = stream.next();
  assert.deepEqual(batch.shape, [4, 2, 2, 4]);
  assert.equal(stream.position.epoch, 1);
  batch.dispose();
  assert.equal(tf.memory().numTensors, before);
});

test('latents are standard normal draws from the given Rng', () => {
  const z = normalLatents(new Rng(3), 4, 8);
  assert.equal(z.length, 32);
  assert.deepEqual(z, normalLatents(new Rng(3), 4, 8));
});
