import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { initEngine, tf } from '../../src/core/engine.js';
import { createUNet, loadUNet, saveUNet } from '../../src/models/unet.js';
import { tempDir } from './discs.js';

await initEngine({ backend: 'cpu' });

test('U-Net: logits [N, H, W, K] for depths 2–4, every norm and upsampling; encode gives [N, F·2^depth]', () => {
  const cases = [
    { depth: 2, size: 16, norm: 'batch', upsample: 'transpose', inChannels: 1 },
    { depth: 3, size: 16, norm: 'instance', upsample: 'resize', inChannels: 3 },
    { depth: 4, size: 32, norm: 'none', upsample: 'transpose', inChannels: 1 },
    { depth: 4, size: 16, norm: 'batch', upsample: 'resize', inChannels: 1 },
  ] as const;
  for (const c of cases) {
    const net = createUNet({ inChannels: c.inChannels, numClasses: 3, depth: c.depth, filters: 4, norm: c.norm, upsample: c.upsample });
    const before = tf.memory().numTensors;
    tf.tidy(() => {
      const x = tf.randomNormal([2, c.size, c.size, c.inChannels]) as tf.Tensor4D;
      for (const training of [true, false]) assert.deepEqual(net.apply(x, { training }).shape, [2, c.size, c.size, 3], JSON.stringify(c));
      assert.deepEqual(net.encode(x).shape, [2, 4 * 2 ** c.depth]);
    });
    assert.equal(tf.memory().numTensors, before, `leak in ${JSON.stringify(c)}`);
    assert.equal(net.featureDim, 4 * 2 ** c.depth);
    net.dispose();
  }
});

test('U-Net: PyTorch-style names, biases only without a norm, batch-norm buffers', () => {
  const net = createUNet({ inChannels: 1, numClasses: 2, depth: 2, filters: 4 });
  const names = [...net.params.keys()];
  assert.ok(names.includes('down.0.conv1.weight'));
  assert.ok(names.includes('down.1.norm2.bias'));
  assert.ok(names.includes('bottleneck.conv2.weight'));
  assert.ok(names.includes('up.0.upconv.weight'));
  assert.ok(names.includes('up.1.conv1.weight'));
  assert.deepEqual(net.params.get('head.weight')!.shape, [1, 1, 4, 2]);
  assert.deepEqual(net.params.get('up.0.conv1.weight')!.shape, [3, 3, 8, 4]); // concat of 4 upsampled + 4 skip
  assert.ok(!names.includes('down.0.conv1.bias'));
  assert.ok([...net.buffers.keys()].includes('down.0.norm1.running_mean'));
  net.dispose();
  const plain = createUNet({ inChannels: 1, numClasses: 2, depth: 2, filters: 4, norm: 'none' });
  assert.ok(plain.params.has('down.0.conv1.bias'));
  assert.equal(plain.buffers.size, 0);
  plain.dispose();
});

test('U-Net: input size must be divisible by 2^depth; same seed gives the same weights', () => {
  const net = createUNet({ inChannels: 1, numClasses: 2, depth: 3, filters: 4, seed: 5 });
  assert.throws(() => tf.tidy(() => net.apply(tf.zeros([1, 12, 12, 1]) as tf.Tensor4D, { training: false })), /not divisible by 2\^depth = 8/);
  assert.throws(() => tf.tidy(() => net.apply(tf.zeros([1, 16, 16, 3]) as tf.Tensor4D, { training: false })), /\[N, H, W, 1\]/);
  const twin = createUNet({ inChannels: 1, numClasses: 2, depth: 3, filters: 4, seed: 5 });
  assert.deepEqual(twin.params.get('down.1.conv2.weight')!.dataSync(), net.params.get('down.1.conv2.weight')!.dataSync());
  net.dispose();
  twin.dispose();
  assert.throws(() => createUNet({ inChannels: 1, numClasses: 1 }), /numClasses must be an integer ≥ 2/);
});

test('U-Net: saveUNet / loadUNet round trip reproduces the outputs', () => {
  const net = createUNet({ inChannels: 1, numClasses: 3, depth: 2, filters: 4, seed: 2 });
  // Move the batch-norm buffers away from their initial values so the round trip has to carry them.
  tf.tidy(() => net.apply(tf.randomNormal([2, 16, 16, 1], 0.5, 2, 'float32', 1) as tf.Tensor4D, { training: true }));
  const file = path.join(tempDir('medsyn-unet-'), 'model.safetensors');
  saveUNet(file, net);
  const back = loadUNet(file);
  assert.deepEqual(back.config, net.config);
  tf.tidy(() => {
    const x = tf.randomNormal([1, 16, 16, 1], 0, 1, 'float32', 3) as tf.Tensor4D;
    assert.deepEqual(back.apply(x, { training: false }).dataSync(), net.apply(x, { training: false }).dataSync());
  });
  net.dispose();
  back.dispose();
});
