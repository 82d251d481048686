import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { tf, initEngine } from '../../src/core/engine.js';
import { ConfigError } from '../../src/core/errors.js';
import { Trainer, TrainingDivergedError, discriminatorStep, generatorStep } from '../../src/training/trainer.js';
import { dataShapeOf, readRunInfo } from '../../src/training/run-folder.js';
import { readCheckpoint } from '../../src/training/checkpoint.js';
import { readStats } from '../../src/training/stats.js';
import { shapesDataset, tempDir } from './fixtures.js';
import { kimgOf, tinyGan, trainQuietly, TINY_BATCH } from './tinyGan.js';
import { readSafetensorsIndependently } from './safetensorsReader.js';

await initEngine({ backend: 'cpu' });

function snapshot(vars: ReadonlyMap<string, tf.Variable>): Map<string, Float32Array> {
  return new Map([...vars].map(([k, v]) => [k, v.dataSync().slice() as Float32Array]));
}

function changed(before: Map<string, Float32Array>, vars: ReadonlyMap<string, tf.Variable>): string[] {
  return [...vars].filter(([k, v]) => !before.get(k)!.every((x, i) => x === v.dataSync()[i])).map(([k]) => k);
}

test('a discriminator step moves only D\'s parameters, a generator step only G\'s', () => {
  const data = shapesDataset();
  const trainer = new Trainer(tinyGan('dcgan'), data.split('train'), dataShapeOf(data), 0);
  const g0 = snapshot(trainer.generator.params);
  const d0 = snapshot(trainer.discriminator.params);
  tf.tidy(() => discriminatorStep(trainer, trainer.batches.next(), trainer.nextLatents()));
  assert.deepEqual(changed(g0, trainer.generator.params), [], 'G parameters unchanged by a D step');
  assert.ok(changed(d0, trainer.discriminator.params).length > 0, 'D parameters moved');

  const d1 = snapshot(trainer.discriminator.params);
  tf.tidy(() => generatorStep(trainer, trainer.batches.next(), trainer.nextLatents()));
  assert.deepEqual(changed(d1, trainer.discriminator.params), [], 'D parameters unchanged by a G step');
  assert.ok(changed(g0, trainer.generator.params).length > 0, 'G parameters moved');
  trainer.dispose();
});

test('every variant trains through the same loop with finite losses and no tensor leak per step', () => {
  const data = shapesDataset();
  for (const variant of ['dcgan', 'lsgan', 'wgan', 'wgan-gp', 'hinge'] as const) {
    const trainer = new Trainer(tinyGan(variant), data.split('train'), dataShapeOf(data), 1);
    const first = trainer.trainStep();
    const tensorsAfterFirst = tf.memory().numTensors;
    const second = trainer.trainStep();
    assert.equal(tf.memory().numTensors, tensorsAfterFirst, `${variant}: live tensors flat across steps`);
    for (const losses of [first, second]) {
      assert.ok(Object.keys(losses).some((k) => k.startsWith('loss/d/')) && Object.keys(losses).some((k) => k.startsWith('loss/g/')));
      for (const [k, v] of Object.entries(losses)) assert.ok(Number.isFinite(v), `${variant} ${k} = ${v}`);
    }
    assert.equal(trainer.imagesShown, 2 * TINY_BATCH);
    trainer.dispose();
  }
});

test('same seed gives the same losses; another seed gives others', async () => {
  const data = shapesDataset();
  const run = async (seed: number): Promise<unknown[]> => {
    const outDir = tempDir('medsyn-run-');
    await trainQuietly({ data, gan: tinyGan('dcgan'), kimg: kimgOf(3), outDir, seed });
    return readStats(path.join(outDir, 'stats.jsonl')).map((r) => r.losses);
  };
  const a = await run(5);
  assert.equal(a.length, 3);
  assert.deepEqual(await run(5), a);
  assert.notDeepEqual(await run(6), a);
});

test('resuming after N steps gives bit-identical weights, optimizer state and losses to an uninterrupted run', async () => {
  const data = shapesDataset();
  // Every random stream in play: batch order, latents, classic augmentation, DiffAugment and GP interpolation.
  const gan = tinyGan('wgan-gp', { nCritic: 2, diffAugment: true, classicAugment: true });
  const straight = tempDir('medsyn-run-');
  const straightRun = await trainQuietly({ data, gan, kimg: kimgOf(4), outDir: straight, seed: 3, checkpointKimg: kimgOf(1) }); // mid-run checkpoints and grids must not disturb the run

  const interrupted = tempDir('medsyn-run-');
  const first = await trainQuietly({ data, gan, kimg: kimgOf(2), outDir: interrupted, seed: 3 });
  assert.equal(first.steps, 2);
  await assert.rejects(trainQuietly({ data, gan, kimg: kimgOf(4), outDir: interrupted, seed: 3 }), ConfigError, 'an existing run needs --resume');
  await assert.rejects(trainQuietly({ data, gan, kimg: kimgOf(4), outDir: interrupted, seed: 4, resume: true }), /started with config/);
  const second = await trainQuietly({ data, gan, kimg: kimgOf(4), outDir: interrupted, seed: 3, resume: true });
  assert.equal(second.resumedFromStep, 2);
  assert.equal(second.steps, 4);

  const a = readCheckpoint(path.join(straight, 'checkpoint-latest.safetensors'));
  const b = readCheckpoint(path.join(interrupted, 'checkpoint-latest.safetensors'));
  assert.deepEqual(Object.keys(b.tensors), Object.keys(a.tensors));
  for (const name of Object.keys(a.tensors)) {
    assert.ok(Buffer.from(a.tensors[name]!.data.buffer).equals(Buffer.from(b.tensors[name]!.data.buffer)), `${name} bit-identical`);
  }
  assert.deepEqual({ ...b.state, wallTimeSec: 0 }, { ...a.state, wallTimeSec: 0 });
  const lossesOf = (dir: string): unknown[] => readStats(path.join(dir, 'stats.jsonl')).map((r) => [r.step, r.losses]);
  assert.deepEqual(lossesOf(interrupted), lossesOf(straight));
  assert.equal(readRunInfo(interrupted).sessions.length, 2);
  assert.deepEqual(second.finalLosses, straightRun.finalLosses);

  // Resumed after its last step (a study killed between the final checkpoint and recording the result): nothing
  // to train, and the run still reports the last step's losses, from the checkpoint.
  const third = await trainQuietly({ data, gan, kimg: kimgOf(4), outDir: interrupted, seed: 3, resume: true });
  assert.equal(third.steps, 4);
  assert.equal(third.resumedFromStep, 4);
  assert.ok(Object.keys(straightRun.finalLosses).length > 0);
  assert.deepEqual(third.finalLosses, straightRun.finalLosses);
});

test('a checkpoint is a valid safetensors file whose tensors are the ones run.json documents', async () => {
  const data = shapesDataset();
  const outDir = tempDir('medsyn-run-');
  await trainQuietly({ data, gan: tinyGan('dcgan'), kimg: kimgOf(2), outDir, seed: 0 });
  const raw = readSafetensorsIndependently(path.join(outDir, 'checkpoint-latest.safetensors'));
  const documented = readRunInfo(outDir).checkpoint.tensors;
  assert.deepEqual(Object.keys(raw.tensors).sort(), Object.keys(documented).sort());
  for (const [name, t] of Object.entries(raw.tensors)) {
    assert.deepEqual(t.shape, documented[name], name);
    assert.equal(t.dtype, 'F32');
    assert.ok(t.values.every(Number.isFinite), `${name} finite`);
  }
  for (const group of ['G', 'D', 'G_ema', 'optG', 'optD']) assert.ok(Object.keys(raw.tensors).some((n) => n.startsWith(`${group}.`)), group);
  const meta = Object.fromEntries(Object.entries(raw.metadata).map(([k, v]) => [k, JSON.parse(v)]));
  assert.equal(meta.format, 'medsyn-checkpoint/1');
  assert.equal(meta.step, 2);
  assert.equal(meta.imagesShown, 2 * TINY_BATCH);
  assert.equal(meta.configHash, readRunInfo(outDir).configHash);
  assert.ok(Array.isArray(meta.rng.latents) && Number.isInteger(meta.batches.cursor));
  const files = fs.readdirSync(outDir);
  for (const f of ['run.json', 'stats.jsonl', 'log.txt', 'grid-final.png']) assert.ok(files.includes(f), f);
  assert.ok(files.some((f) => /^network-snapshot-\d{6}(\.\d+)?\.safetensors$/.test(f)));
  assert.ok(files.some((f) => /^grid-\d{6}(\.\d+)?\.png$/.test(f)));
  const info = readRunInfo(outDir);
  assert.equal(info.engine.backend, 'cpu');
  assert.ok(typeof info.engine.tfjsVersion === 'string');
});

test('a NaN loss stops the run naming the term and step, writes failure.json and keeps the last good checkpoint', async () => {
  const gan = tinyGan('dcgan');
  const outDir = tempDir('medsyn-run-');
  await trainQuietly({ data: shapesDataset(), gan, kimg: kimgOf(2), outDir, seed: 0 });
  const latest = path.join(outDir, 'checkpoint-latest.safetensors');
  const before = fs.readFileSync(latest);
  const poisoned = shapesDataset({ poison: true }); // same identity, NaN images
  await assert.rejects(
    trainQuietly({ data: poisoned, gan, kimg: kimgOf(4), outDir, seed: 0, resume: true }),
    (err: Error) => {
      assert.ok(err instanceof TrainingDivergedError);
      assert.match(err.message, /diverged at step 3 \(discriminator update 1 of 1\): loss term loss\/d\/\S+ is NaN/);
      assert.ok(err.message.includes(latest), 'names the last good checkpoint');
      return true;
    },
  );
  assert.ok(fs.readFileSync(latest).equals(before), 'checkpoint-latest untouched');
  const failure = JSON.parse(fs.readFileSync(path.join(outDir, 'failure.json'), 'utf8'));
  assert.equal(failure.step, 3);
  assert.equal(failure.value, 'NaN');
  assert.deepEqual(failure.lastGoodCheckpoint, { file: latest, step: 2, imagesShown: 2 * TINY_BATCH });
});
