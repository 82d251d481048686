import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { tf, initEngine } from '../../src/core/engine.js';
import { sha256 } from '../../src/core/hash.js';
import { loadRunGenerator, sampleRun } from '../../src/sampling/generate.js';
import { shapesDataset, tempDir } from './fixtures.js';
import { tinyGan, trainQuietly, TINY_BATCH } from './tinyGan.js';

await initEngine({ backend: 'cpu' });

const runDir = tempDir('medsyn-run-');
await trainQuietly({ data: shapesDataset(), gan: tinyGan('dcgan'), kimg: (2 * TINY_BATCH) / 1000, outDir: runDir, seed: 0 });

const bytes = (dir: string, rel: string): Buffer => fs.readFileSync(path.join(dir, rel));

test('sampling writes images, masks and a manifest; one seed per sample, independent of batch size', async () => {
  const a = tempDir('medsyn-samples-');
  const before = tf.memory().numTensors;
  const manifest = await sampleRun({ runDir, n: 5, outDir: a, seed: 10, batchSize: 2, formats: ['png', 'nifti'] });
  assert.equal(tf.memory().numTensors, before, 'no tensors left behind');
  assert.equal(manifest.n, 5);
  assert.equal(manifest.weights, 'G_ema');
  assert.equal(manifest.checkpointSha256, sha256(fs.readFileSync(path.join(runDir, 'checkpoint-latest.safetensors'))));
  assert.deepEqual(manifest.files.map((f) => f.seed), [10, 11, 12, 13, 14]);
  assert.deepEqual(JSON.parse(fs.readFileSync(path.join(a, 'manifest.json'), 'utf8')), manifest);
  assert.deepEqual(manifest.files[0], {
    index: 0, seed: 10,
    png: { image: 'images/sample_000000.png', mask: 'masks/sample_000000.png' },
    nifti: { image: 'images/sample_000000.nii.gz', mask: 'masks/sample_000000.nii.gz' },
  });
  for (const f of manifest.files) for (const rel of [f.png!.image, f.png!.mask, f.nifti!.image, f.nifti!.mask]) assert.ok(fs.existsSync(path.join(a, rel)), rel);

  const maskMeta = await sharp(bytes(a, 'masks/sample_000000.png')).metadata();
  assert.equal(maskMeta.width, 16);
  assert.equal(maskMeta.channels, 1, 'masks are single-channel label maps');
  const mask = await sharp(bytes(a, 'masks/sample_000000.png')).extractChannel(0).raw().toBuffer({ resolveWithObject: true });
  assert.ok([...mask.data].every((v) => v < 3), 'label values are class indices');

  // The same request with another batch size, and sample 3 alone (seed 13), give the same files.
  const b = tempDir('medsyn-samples-');
  await sampleRun({ runDir, n: 5, outDir: b, seed: 10, batchSize: 5, formats: ['png'] });
  for (let i = 0; i < 5; i++) {
    const stem = `sample_${String(i).padStart(6, '0')}`;
    assert.ok(bytes(a, `images/${stem}.png`).equals(bytes(b, `images/${stem}.png`)), `image ${i}`);
    assert.ok(bytes(a, `masks/${stem}.png`).equals(bytes(b, `masks/${stem}.png`)), `mask ${i}`);
  }
  const c = tempDir('medsyn-samples-');
  await sampleRun({ runDir, n: 1, outDir: c, seed: 13 });
  assert.ok(bytes(a, 'images/sample_000003.png').equals(bytes(c, 'images/sample_000000.png')), 'sample i is regenerable from seed + i');
});

test('the sampled generator is the EMA generator stored in the checkpoint', () => {
  const loaded = loadRunGenerator(runDir);
  assert.equal(loaded.weights, 'G_ema');
  assert.equal(loaded.step, 2);
  loaded.generator.dispose();
});

test('a run without EMA is sampled from its generator G', async () => {
  const dir = tempDir('medsyn-run-');
  await trainQuietly({ data: shapesDataset(), gan: tinyGan('dcgan', { emaHalfLifeKimg: null }), kimg: TINY_BATCH / 1000, outDir: dir, seed: 0 });
  const loaded = loadRunGenerator(dir);
  assert.equal(loaded.weights, 'G');
  loaded.generator.dispose();
});
