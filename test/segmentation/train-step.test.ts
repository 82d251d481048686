import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { createUNet } from '../../src/models/unet.js';
import { Adam } from '../../src/core/adam.js';
import { EarlyStopping, gatherBatch, resolveSegTrainConfig, segmentationStep } from '../../src/segmentation/train.js';
import { discSplit } from './discs.js';

await initEngine({ backend: 'cpu' });

test('a training step leaks no tensors, changes the weights and the batch-norm statistics', async () => {
  const net = createUNet({ inChannels: 1, numClasses: 2, depth: 2, filters: 4, seed: 1 });
  const opt = new Adam(net.params, { learningRate: 1e-3 });
  const set = discSplit('train', { count: 4, size: 16 });
  const w0 = net.params.get('down.0.conv1.weight')!.dataSync().slice();
  const rm0 = net.buffers.get('down.0.norm1.running_mean')!.dataSync().slice();
  const step = () => segmentationStep(net, opt, set.images, set.labels, [4, 16, 16, 1], 2, {});
  const first = await step();
  const before = tf.memory().numTensors;
  const second = await step();
  assert.equal(tf.memory().numTensors, before, 'tensors leaked by a training step');
  for (const l of [first, second]) {
    assert.ok(Number.isFinite(l.total));
    assert.ok(Math.abs(l.total - (l.ce + l.dice)) < 1e-5);
  }
  assert.notDeepEqual(net.params.get('down.0.conv1.weight')!.dataSync(), w0);
  assert.notDeepEqual(net.buffers.get('down.0.norm1.running_mean')!.dataSync(), rm0);
  opt.dispose();
  net.dispose();
});

test('early stopping keeps the best weights (params and buffers), restores them, and counts patience', () => {
  const net = createUNet({ inChannels: 1, numClasses: 2, depth: 2, filters: 4, seed: 1 });
  const vars = new Map([...net.params, ...net.buffers]);
  const stopper = new EarlyStopping(2, vars);
  const w = net.params.get('head.weight')!;
  const rm = net.buffers.get('up.0.norm2.running_var')!;
  const perturb = (by: number) => tf.tidy(() => {
    w.assign(tf.add(w, by));
    rm.assign(tf.add(rm, by));
  });
  assert.equal(stopper.update(NaN, 1), false); // first evaluation is kept even when it is NaN
  perturb(1);
  assert.equal(stopper.update(0.5, 2), false); // improves
  const bestW = w.dataSync().slice();
  const bestRm = rm.dataSync().slice();
  perturb(1);
  const live = tf.memory().numTensors;
  assert.equal(stopper.update(0.4, 3), false); // 1 without improvement
  perturb(1);
  assert.equal(stopper.update(0.5, 4), true); // a tie is no improvement: 2 = patience → stop
  assert.equal(tf.memory().numTensors, live, 'snapshots leaked');
  assert.equal(stopper.best, 0.5);
  assert.equal(stopper.bestStep, 2);
  stopper.restore();
  assert.deepEqual(w.dataSync(), bestW);
  assert.deepEqual(rm.dataSync(), bestRm);
  stopper.dispose();
  net.dispose();
});

test('gatherBatch: augmentation warps image and mask together, keeps labels valid, is seeded', () => {
  const set = discSplit('train', { count: 6, size: 16 });
  const plain = gatherBatch(set, [3, 1], 2);
  assert.deepEqual(plain.labels, Uint8Array.from([...set.labels.subarray(3 * 256, 4 * 256), ...set.labels.subarray(256, 512)]));
  const a = gatherBatch(set, [0, 1, 2, 3, 4, 5], 2, new Rng(7));
  const b = gatherBatch(set, [0, 1, 2, 3, 4, 5], 2, new Rng(7));
  assert.deepEqual(a.labels, b.labels);
  assert.deepEqual(a.images, b.images);
  assert.notDeepEqual(a.labels, set.labels);
  assert.ok(a.labels.every((l) => l === 0 || l === 1));
  // The warped disc stays bright: labelled pixels have a much higher mean intensity than background ones.
  let fg = 0, fgN = 0, bg = 0, bgN = 0;
  a.labels.forEach((l, i) => (l ? ((fg += a.images[i]!), fgN++) : ((bg += a.images[i]!), bgN++)));
  assert.ok(fg / fgN - bg / bgN > 0.8, `disc/background contrast after warping: ${fg / fgN - bg / bgN}`);
});

test('training config: defaults, and errors that name the field', () => {
  const c = resolveSegTrainConfig({ unet: { depth: 2 } });
  assert.equal(c.unet.depth, 2);
  assert.equal(c.unet.filters, 16);
  assert.equal(c.batchSize, 16);
  assert.throws(() => resolveSegTrainConfig({ lr: 0 }), /segmentation\.lr must be > 0/);
  assert.throws(() => resolveSegTrainConfig({ unet: { norm: 'group' as never } }), /segmentation\.unet\.norm must be one of batch, instance, none/);
  assert.throws(() => resolveSegTrainConfig({ patience: 1.5 }), /segmentation\.patience must be a positive integer/);
});
