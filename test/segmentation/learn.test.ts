/**
 * End-to-end training checks. These run on the wasm backend: TF.js' cpu Conv2DBackpropFilter reads every element
 * through TensorBuffer.get and makes a U-Net step ~30× slower than wasm, too slow for a few hundred steps here.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { initEngine, tf } from '../../src/core/engine.js';
import { scoreSplit, mainAggregate, trainSegmenter, type SegProgress, type SegTrainConfigInput } from '../../src/segmentation/train.js';
import { runSegmentation } from '../../src/segmentation/segment.js';
import { discSplit, invertLabels, tempDir, writeDiscsPrepared, writeSampleFolder } from './discs.js';

await initEngine({ backend: 'wasm' });

const SIZE = 16;
const train = discSplit('train', { count: 64, size: SIZE, seed: 1 });
const val = discSplit('val', { count: 16, size: SIZE, seed: 2 });
const testSplit = discSplit('test', { count: 16, size: SIZE, seed: 3 });
const CONFIG: SegTrainConfigInput = { maxSteps: 60, batchSize: 8, lr: 3e-3, evalEvery: 10, patience: 4, seed: 0, unet: { depth: 2, filters: 8, norm: 'batch' } };

test('the U-Net learns to segment bright discs (test Dice > 0.8), leaks nothing, reports progress', async () => {
  const before = tf.memory().numTensors;
  const progress: SegProgress[] = [];
  const r = await trainSegmenter({ train, val, test: testSplit, numClasses: 2, config: CONFIG, quiet: true, onProgress: (p) => progress.push(p) });
  assert.equal(tf.memory().numTensors, before, 'training leaked tensors');
  assert.ok(r.dice_mean > 0.8, `test Dice ${r.dice_mean}`);
  assert.ok(r.per_slice.dice_mean > 0.8);
  assert.equal(r.aggregation, 'per-volume');
  assert.equal(r.per_volume!.count, 4); // 16 test slices in volumes of 4
  assert.equal(r.per_slice.count, 16);
  assert.ok(r.hd95_mean >= 0 && r.hd95_mean < 3, `HD95 ${r.hd95_mean}`);
  assert.equal(r.history.length, 6);
  assert.ok(r.best_val_dice > 0.8);
  assert.equal(r.train_count, 64);
  assert.equal(progress.length, r.steps);
  assert.ok(progress.every((p) => p.imagesPerSec > 0 && Number.isFinite(p.etaSec)));
  assert.equal(progress.filter((p) => p.valDice !== undefined).length, r.history.length);
});

test('the REAL test split is scored: training on label-inverted "synthetic" data gives a low test Dice; best weights restored', async () => {
  const r = await trainSegmenter({ train: invertLabels(train), val, test: testSplit, numClasses: 2, config: CONFIG, quiet: true, keepModel: true });
  try {
    assert.ok(r.dice_mean < 0.2, `test Dice ${r.dice_mean} after training on inverted labels`);
    // The returned network carries the best-validation weights, not the last ones.
    const again = mainAggregate(await scoreSplit(r.model!, val, 2, r.config.dice, false));
    assert.equal(again.dice_mean, r.best_val_dice);
    assert.equal(r.history.find((h) => h.step === r.best_step)!.val_dice, r.best_val_dice);
    assert.ok(r.history.every((h) => h.val_dice <= r.best_val_dice));
  } finally {
    r.model?.dispose();
  }
});

test('the metric can fail: a U-Net trained on pure-noise "samples" (noise images, coin-flip masks) scores at chance level (≈0.23 here) on the real test split', async () => {
  let state = 12345;
  const uniform = (): number => ((state = (Math.imul(state, 1664525) + 1013904223) >>> 0) / 4294967296);
  const noise = {
    ...train,
    images: Float32Array.from(train.images, () => uniform() * 2 - 1), // [N, H, W, 1] uniform noise
    labels: Uint8Array.from(train.labels, () => (uniform() < 0.5 ? 1 : 0)), // [N, H, W] coin-flip masks
  };
  const r = await trainSegmenter({ train: noise, val, test: testSplit, numClasses: 2, config: CONFIG, quiet: true });
  assert.ok(r.dice_mean < 0.35, `test Dice ${r.dice_mean} after training on noise (discs alone score > 0.8)`);
});

test('runSegmentation writes result.json (named classes, provenance) and predictions.png, and skips a finished run', async () => {
  const data = tempDir('medsyn-prepared-');
  writeDiscsPrepared(data, { size: SIZE });
  const samples = tempDir('medsyn-samples-');
  await writeSampleFolder(samples, discSplit('train', { count: 16, size: SIZE, seed: 9 }), { generator: 'fixture' });
  const out = path.join(tempDir('medsyn-seg-'), 'real+synthetic');
  const config = { ...CONFIG, maxSteps: 8, evalEvery: 4, syntheticCount: 12 };
  const r = await runSegmentation({ data, train: `real+synthetic:${samples}`, out, config, quiet: true, previewCount: 3 });
  const onDisk = JSON.parse(fs.readFileSync(path.join(out, 'result.json'), 'utf8'));
  assert.equal(onDisk.regime, 'real+synthetic');
  assert.deepEqual(Object.keys(onDisk.dice_per_class), ['disc']);
  assert.equal(onDisk.dice_mean, r.dice_mean);
  assert.deepEqual(onDisk.counts, { train: 32 + 12, train_real: 32, train_synthetic: 12, val: 16, test: 16 });
  assert.equal(onDisk.provenance.engine.backend, 'wasm');
  assert.equal(onDisk.provenance.seed, 0);
  assert.equal(onDisk.provenance.dataset.config_hash, 'discs-fixture');
  assert.equal(onDisk.provenance.samples.count, 12);
  assert.match(onDisk.provenance.config_hash, /^[0-9a-f]{12}$/);
  assert.equal(onDisk.provenance.config.augment, false);
  assert.ok(fs.existsSync(path.join(out, 'model.safetensors')));
  const png = await sharp(path.join(out, 'predictions.png')).metadata();
  assert.equal(png.width, 3 * 128 + 4 * 2); // image | truth | prediction, 16 px tiles ×8
  assert.equal(png.height, 3 * 128 + 4 * 2);
  // Same config: the finished run is returned as is; a different config trains again.
  const again = await runSegmentation({ data, train: `real+synthetic:${samples}`, out, config, quiet: true });
  assert.equal(again.provenance.created_at, r.provenance.created_at);
  const augmented = await runSegmentation({ data, train: 'augmented', out: path.join(out, '..', 'augmented'), config: { ...config, maxSteps: 4 }, quiet: true });
  assert.equal(augmented.provenance.config.augment, true);
  assert.equal(augmented.counts.train_synthetic, 0);
});
