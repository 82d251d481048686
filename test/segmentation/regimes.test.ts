import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import sharp from 'sharp';
import { concatSets, loadSampleFolder, parseRegime, REGIMES } from '../../src/segmentation/regimes.js';
import { discSplit, tempDir, writeSampleFolder } from './discs.js';

test('regimes: the paper\'s four, parsed from the CLI form with clear errors', () => {
  assert.deepEqual(Object.keys(REGIMES), ['real', 'augmented', 'synthetic', 'real+synthetic']);
  assert.deepEqual(parseRegime('real'), { regime: 'real' });
  assert.deepEqual(parseRegime('augmented'), { regime: 'augmented' });
  assert.deepEqual(parseRegime('synthetic:/x/samples'), { regime: 'synthetic', samplesDir: '/x/samples' });
  assert.deepEqual(parseRegime('real+synthetic:C:/s'), { regime: 'real+synthetic', samplesDir: 'C:/s' });
  assert.throws(() => parseRegime('synthetic'), /needs a samples folder: write 'synthetic:DIR'/);
  assert.throws(() => parseRegime('real:/x'), /takes no samples folder/);
  assert.throws(() => parseRegime('fake'), /unknown training regime 'fake': use one of real, augmented, synthetic:DIR, real\+synthetic:DIR/);
});

test('loadSampleFolder: reads 8-bit PNGs into [-1, 1] images and label maps, in id order, with a limit', async () => {
  const dir = tempDir('medsyn-samples-');
  const set = discSplit('train', { count: 3, size: 16 });
  await writeSampleFolder(dir, set);
  const s = await loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 });
  assert.equal(s.count, 3);
  assert.deepEqual(s.ids, ['sample_000000', 'sample_000001', 'sample_000002']);
  assert.deepEqual(s.labels, set.labels);
  // 8-bit quantisation: within half a grey level of the original.
  s.images.forEach((v, i) => assert.ok(Math.abs(v - set.images[i]!) <= 1 / 127.5 + 1e-6));
  assert.equal(s.manifestHash.length, 16);
  // The same content saved as RGB with equal channels reads as grey.
  await sharp(Buffer.from(set.labels.subarray(0, 256)), { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(path.join(dir, 'masks', 'sample_000000.png'));
  assert.deepEqual((await loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 })).labels, set.labels);
  const two = await loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16, limit: 2 });
  assert.equal(two.count, 2);
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16, limit: 5 }), /holds 3 samples, 5 were asked for/);
  // A manifest `samples` list selects and orders the samples.
  fs.writeFileSync(path.join(dir, 'manifest.json'), JSON.stringify({ samples: [{ id: 'sample_000002' }, 'images/sample_000000.png'] }));
  const listed = await loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 });
  assert.deepEqual(listed.ids, ['sample_000002', 'sample_000000']);
});

test('loadSampleFolder: errors name the file (size, label values, channels, missing mask, no manifest)', async () => {
  const set = discSplit('train', { count: 2, size: 16 });
  const fresh = async () => {
    const dir = tempDir('medsyn-samples-');
    await writeSampleFolder(dir, set);
    return dir;
  };
  let dir = await fresh();
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 32 }), (err: Error) =>
    err.message.includes(path.join(dir, 'images', 'sample_000000.png')) && /is 16×16 pixels, expected 32×32/.test(err.message));
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 3, numClasses: 2, size: 16 }), /sample_000000\.png: has 1 channel\(s\), the dataset's images have 3/);

  dir = await fresh();
  await sharp(new Uint8Array(256).fill(255), { raw: { width: 16, height: 16, channels: 1 } }).png().toFile(path.join(dir, 'masks', 'sample_000001.png'));
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 }), (err: Error) =>
    err.message.includes(path.join(dir, 'masks', 'sample_000001.png')) && /label value 255, the dataset has 2 classes/.test(err.message) && /not display intensities/.test(err.message));

  dir = await fresh();
  fs.rmSync(path.join(dir, 'masks', 'sample_000000.png'));
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 }), /masks\/sample_000000\.png: not found/);

  dir = await fresh();
  fs.rmSync(path.join(dir, 'manifest.json'));
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 }), /manifest\.json: not found: this is not a samples folder/);

  dir = await fresh();
  fs.writeFileSync(path.join(dir, 'images', 'sample_000000.png'), 'not a png');
  await assert.rejects(loadSampleFolder(dir, { imageChannels: 1, numClasses: 2, size: 16 }), /images\/sample_000000\.png: cannot be decoded as PNG/);
});

test('concatSets stacks images and labels in order and refuses mismatched shapes', () => {
  const a = discSplit('train', { count: 2, size: 16, seed: 1 });
  const b = discSplit('train', { count: 3, size: 16, seed: 2 });
  const c = concatSets(a, b);
  assert.equal(c.count, 5);
  assert.deepEqual(c.labels.subarray(2 * 256), b.labels);
  assert.deepEqual(c.images.subarray(0, 2 * 256), a.images);
  assert.throws(() => concatSets(a, discSplit('train', { count: 1, size: 32 })), /cannot concatenate 32×32×1 with 16×16×1/);
});
