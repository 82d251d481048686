import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { saveSafetensors, tensor, type NamedTensor } from '../../src/core/safetensors.js';
import { IMAGENET_MEAN, IMAGENET_STD, loadVgg16, perceptualLoss, vgg16FromTensors, vgg16Modules } from '../../src/gan/perceptual.js';

await initEngine({ backend: 'cpu', log: () => {} });

/** Random torchvision-style weights (PyTorch layout [out, in, kh, kw]) for the convs up to `lastIndex`. */
function randomVggTensors(lastIndex: number, rng: Rng): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const m of vgg16Modules()) {
    if (m.kind !== 'conv' || m.index > lastIndex) continue;
    const std = Math.sqrt(2 / (m.inChannels * 9));
    out[`features.${m.index}.weight`] = tensor(Float32Array.from({ length: m.outChannels * m.inChannels * 9 }, () => rng.normal(0, std)), [m.outChannels, m.inChannels, 3, 3]);
    out[`features.${m.index}.bias`] = tensor(Float32Array.from({ length: m.outChannels }, () => rng.normal(0, 0.1)), [m.outChannels]);
  }
  return out;
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-vgg-'));
process.on('exit', () => fs.rmSync(dir, { recursive: true, force: true }));

test('module indices match torchvision vgg16().features', () => {
  const convs = vgg16Modules().filter((m) => m.kind === 'conv').map((m) => m.index);
  assert.deepEqual(convs, [0, 2, 5, 7, 10, 12, 14, 17, 19, 21, 24, 26, 28]);
});

test('perceptual loss from a safetensors file: 0 for identical images, > 0 otherwise, differentiable, no leaks', () => {
  const file = path.join(dir, 'vgg16-tiny.safetensors');
  saveSafetensors(file, randomVggTensors(7, new Rng(1)));
  const vgg = loadVgg16(file, ['relu1_2', 'relu2_2']);
  assert.equal(vgg.source, file);
  const real = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 1) as tf.Tensor4D;
  const fake = tf.randomUniform([2, 8, 8, 1], -1, 1, 'float32', 2) as tf.Tensor4D;
  const before = tf.memory().numTensors;
  assert.equal(tf.tidy(() => perceptualLoss(vgg, real, tf.clone(real)).dataSync()[0]), 0);
  const different = tf.tidy(() => perceptualLoss(vgg, real, fake).dataSync()[0]!);
  assert.ok(different > 0, `loss ${different}`);
  tf.tidy(() => {
    const grad = tf.grad((f: tf.Tensor) => perceptualLoss(vgg, real, f as tf.Tensor4D))(fake);
    assert.ok(grad.dataSync().every(Number.isFinite) && grad.dataSync().some((v) => v !== 0));
  });
  // Two image channels = two grayscale images each.
  const twoChannel = tf.tidy(() => perceptualLoss(vgg, tf.concat([real, real], 3), tf.concat([real, fake], 3)).dataSync()[0]!);
  assert.ok(Math.abs(twoChannel - different / 2) < 1e-4 * different, 'each channel is its own image');
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([real, fake]);
  vgg.dispose();
});

test('weights are transposed from PyTorch layout and inputs get ImageNet normalisation', () => {
  const rng = new Rng(2);
  const tensors = randomVggTensors(2, rng);
  // conv1_2 = identity (centre tap δ(o, i)), zero bias: relu1_2 = relu(conv1_1(x)).
  const identity = new Float32Array(64 * 64 * 9);
  for (let o = 0; o < 64; o++) identity[((o * 64 + o) * 3 + 1) * 3 + 1] = 1;
  tensors['features.2.weight'] = tensor(identity, [64, 64, 3, 3]);
  tensors['features.2.bias'] = tensor(new Float32Array(64), [64]);
  const vgg = vgg16FromTensors(tensors, ['relu1_2']);
  const pixels = Float32Array.from({ length: 3 * 3 * 3 }, () => rng.uniform(-1, 1)); // one RGB image [3, 3, 3]
  const [features] = vgg.features(tf.tensor4d(pixels, [1, 3, 3, 3]));
  const centre = features!.dataSync().slice((1 * 3 + 1) * 64, (1 * 3 + 2) * 64);
  const w = tensors['features.0.weight']!.data as Float32Array;
  const b = tensors['features.0.bias']!.data as Float32Array;
  for (const o of [0, 17, 63]) {
    let sum = b[o]!;
    for (let i = 0; i < 3; i++) {
      for (let ky = 0; ky < 3; ky++) {
        for (let kx = 0; kx < 3; kx++) {
          const x = ((pixels[(ky * 3 + kx) * 3 + i]! + 1) / 2 - IMAGENET_MEAN[i]!) / IMAGENET_STD[i]!;
          sum += w[((o * 3 + i) * 3 + ky) * 3 + kx]! * x;
        }
      }
    }
    assert.ok(Math.abs(centre[o]! - Math.max(0, sum)) < 1e-4, `channel ${o}: ${centre[o]} vs ${Math.max(0, sum)}`);
  }
  features!.dispose();
  vgg.dispose();
});

test('a missing weights file names the path and how to make it; a wrong file names the tensor', () => {
  const missing = path.join(dir, 'nope', 'vgg16.safetensors');
  assert.throws(() => loadVgg16(missing), (err: Error) => {
    assert.match(err.message, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
    assert.match(err.message, /tools\/export_vgg16\.py/);
    assert.match(err.message, /IMAGENET1K_V1/);
    return true;
  });
  const partial = path.join(dir, 'partial.safetensors');
  saveSafetensors(partial, randomVggTensors(2, new Rng(3)));
  assert.throws(() => loadVgg16(partial, ['relu2_2']), /missing features\.5\.weight/);
  const wrong = randomVggTensors(2, new Rng(3));
  wrong['features.2.weight'] = tensor(new Float32Array(64 * 64 * 9), [64, 64, 9, 1]);
  assert.throws(() => vgg16FromTensors(wrong, ['relu1_2']), /features\.2\.weight has shape \[64, 64, 9, 1\], expected \[64, 64, 3, 3\]/);
});
