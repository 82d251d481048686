import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { buildDiscriminator, buildGenerator, decodeSamples, encodeSamples, type DcganConfig, type NetworkSpec } from '../../src/models/dcgan.js';
import { ACTIVATION_KINDS } from '../../src/models/layers/activation.js';
import { NORM_KINDS } from '../../src/models/layers/norm.js';

await initEngine({ backend: 'cpu', log: () => {} });

function config(g: Partial<NetworkSpec> = {}, d: Partial<NetworkSpec> = {}): DcganConfig {
  const net: NetworkSpec = { filters: 4, activation: 'relu', norm: 'batch', spectralNorm: false };
  return { latentDim: 8, g: { ...net, ...g }, d: { ...net, activation: 'leaky-relu', ...d }, init: { kind: 'normal', gain: 0.02 } };
}

test('generator output shape and range at 32 and 64 px for every activation and norm', () => {
  const before = tf.memory().numTensors;
  for (const size of [32, 64]) {
    for (const activation of ACTIVATION_KINDS) {
      for (const norm of NORM_KINDS) {
        const g = buildGenerator(config({ activation, norm, filters: 2 }), [size, size, 3], new Rng(1));
        const latents = tf.randomNormal([2, 8], 0, 1, 'float32', 3) as tf.Tensor2D;
        for (const training of [true, false]) {
          const out = g.apply(latents, { training });
          assert.deepEqual(out.shape, [2, size, size, 3], `${size} ${activation} ${norm}`);
          const values = out.dataSync();
          assert.ok(values.every((v) => v >= -1 && v <= 1 && Number.isFinite(v)), `${activation}/${norm} in [-1, 1]`);
          out.dispose();
        }
        latents.dispose();
        g.dispose();
      }
    }
  }
  assert.equal(tf.memory().numTensors, before, 'build + apply + dispose leaks nothing');
});

test('generator layer plan: 4×4 start, one up-block per doubling, channels halving from the 8× cap', () => {
  const g = buildGenerator(config({ filters: 4 }), [64, 64, 3], new Rng(1));
  const shapes = Object.fromEntries([...g.params].map(([k, v]) => [k, v.shape]));
  assert.deepEqual(shapes['input.fc.weight'], [8, 4 * 4 * 32]); // c0 = 4·min(2^4, 8) = 32
  assert.deepEqual(shapes['blocks.0.conv.weight'], [4, 4, 32, 32]); // [kh, kw, out, in]
  assert.deepEqual(shapes['blocks.1.conv.weight'], [4, 4, 16, 32]);
  assert.deepEqual(shapes['blocks.3.conv.weight'], [4, 4, 4, 8]);
  assert.deepEqual(shapes['output.conv.weight'], [3, 3, 4, 3]);
  assert.deepEqual(shapes['output.conv.bias'], [3]);
  assert.equal(shapes['blocks.0.conv.bias'], undefined, 'no conv bias before a norm');
  assert.deepEqual([...g.buffers.keys()].slice(0, 2), ['input.norm.running_mean', 'input.norm.running_var']);
  assert.equal(g.latentDim, 8);
  assert.deepEqual(g.outputShape, [64, 64, 3]);
  g.dispose();
});

test('discriminator: logits [N, 1], features [N, F]; first block without norm; spectral-norm names', () => {
  for (const size of [32, 64]) {
    for (const activation of ACTIVATION_KINDS) {
      const d = buildDiscriminator(config({}, { activation, norm: 'instance', spectralNorm: true }), [size, size, 4], new Rng(2));
      const x = tf.randomUniform([3, size, size, 4], -1, 1, 'float32', 5) as tf.Tensor4D;
      const { logits, features } = d.apply(x, { training: true });
      assert.deepEqual(logits.shape, [3, 1]);
      const top = 4 * Math.min(2 ** (Math.log2(size / 4) - 1), 8);
      assert.deepEqual(features.shape, [3, 4 * 4 * top]);
      assert.ok(logits.dataSync().every(Number.isFinite));
      const names = [...d.params.keys()];
      assert.ok(names.includes('blocks.0.conv.weight_orig') && names.includes('blocks.0.conv.bias'));
      assert.ok(!names.some((n) => n.startsWith('blocks.0.norm')), 'no norm on the first block');
      assert.ok(names.includes('blocks.1.norm.weight') && names.includes('fc.weight_orig') && names.includes('fc.bias'));
      assert.ok([...d.buffers.keys()].includes('fc.weight_u'));
      tf.dispose([x, logits, features]);
      d.dispose();
    }
  }
});

test('same seed ⇒ same weights; another seed ⇒ different weights', () => {
  const read = (seed: number) => {
    const g = buildGenerator(config({ spectralNorm: true }), [32, 32, 2], new Rng(seed));
    const d = buildDiscriminator(config(), [32, 32, 2], new Rng(seed));
    const values = [...g.params.values(), ...g.buffers.values(), ...d.params.values()].map((v) => Array.from(v.dataSync()));
    g.dispose();
    d.dispose();
    return values;
  };
  assert.deepEqual(read(7), read(7));
  assert.notDeepEqual(read(7), read(8));
});

test('unsupported sizes are rejected with the rule', () => {
  assert.throws(() => buildGenerator(config(), [48, 48, 3], new Rng(1)), /power of two/);
  assert.throws(() => buildDiscriminator(config(), [32, 64, 3], new Rng(1)), /square/);
});

test('decodeSamples splits image channels and argmaxes the mask channels', () => {
  // 1 sample, 1×2 pixels, 1 image channel + 3 classes.
  const samples = tf.tensor4d([0.5, -1, 1, -1, /* */ 1.2, -0.9, -0.2, 0.3], [1, 1, 2, 4]);
  const { images, labelMaps, count, height, width } = decodeSamples(samples, 1, 3);
  assert.deepEqual([count, height, width], [1, 1, 2]);
  assert.deepEqual(Array.from(images), [0.5, 1]); // clipped to [-1, 1]
  assert.deepEqual(Array.from(labelMaps), [1, 2]);
  assert.throws(() => decodeSamples(samples, 2, 3), /expected 2 image \+ 3 mask/);
  samples.dispose();
});

test('encodeSamples is the inverse of decodeSamples', () => {
  const images = Float32Array.from([0.25, -0.5, 1, -1]);
  const labels = Uint8Array.from([0, 2, 1, 0]);
  const joint = encodeSamples(images, labels, [1, 2, 2, 1], 3);
  assert.deepEqual(Array.from(joint.slice(0, 8)), [0.25, 1, -1, -1, -0.5, -1, -1, 1]);
  const decoded = decodeSamples(tf.tensor4d(joint, [1, 2, 2, 4]), 1, 3);
  assert.deepEqual(Array.from(decoded.images), Array.from(images));
  assert.deepEqual(Array.from(decoded.labelMaps), Array.from(labels));
  assert.throws(() => encodeSamples(images, Uint8Array.from([0, 3, 0, 0]), [1, 2, 2, 1], 3), /label 3/);
});
