import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { tf, initEngine } from '../../src/core/engine.js';
import { Adam } from '../../src/core/adam.js';
import {
  kimgLabel, loadCheckpoint, networkVariables, optimizerVariables, readCheckpoint, saveCheckpoint, snapshotFileName, type CheckpointState,
} from '../../src/training/checkpoint.js';
import type { Network } from '../../src/models/network.js';
import { readSafetensorsIndependently } from './safetensorsReader.js';

await initEngine({ backend: 'cpu' });

function fakeNet(seed: number, convShape = [3, 3, 2, 4]): Network {
  const params = new Map([
    ['conv.weight', tf.variable(tf.randomNormal(convShape, 0, 1, 'float32', seed))],
    ['conv.bias', tf.variable(tf.randomNormal([convShape[3]!], 0, 1, 'float32', seed + 1))],
  ]);
  const buffers = new Map([['bn.running_var', tf.variable(tf.ones([4]), false)]]);
  return { params, buffers, dispose: () => tf.dispose([...params.values(), ...buffers.values()]) };
}

const STATE: CheckpointState = {
  step: 12, imagesShown: 384, rng: { latents: [1, 2, 3, 4] }, batches: { epoch: 1, cursor: 3, epochRng: [5, 6, 7, 8] },
  configHash: 'abc123', optimizerSteps: { optG: 12, optD: 12 }, wallTimeSec: 1.5,
};

test('kimg labels sort by time and are exact', () => {
  assert.equal(kimgLabel(40_000), '000040');
  assert.equal(kimgLabel(64), '000000.064');
  assert.equal(kimgLabel(1_500), '000001.5');
  assert.equal(snapshotFileName(8000), 'network-snapshot-000008.safetensors');
});

test('a checkpoint restores every variable bit-exactly, with the loop state; an independent reader agrees', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
  const file = path.join(dir, 'checkpoint-latest.safetensors');
  const g = fakeNet(1);
  const opt = new Adam(g.params, { learningRate: 1e-3 });
  opt.moments().get('conv.bias')!.m.assign(tf.tensor1d([0.1, 0.2, 0.3, 0.4]));
  saveCheckpoint(file, { G: networkVariables(g), optG: optimizerVariables(opt) }, STATE);

  const raw = readSafetensorsIndependently(file);
  assert.deepEqual(Object.keys(raw.tensors).sort(), [
    'G.bn.running_var', 'G.conv.bias', 'G.conv.weight',
    'optG.conv.bias.m', 'optG.conv.bias.v', 'optG.conv.weight.m', 'optG.conv.weight.v',
  ]);
  assert.deepEqual(raw.tensors['G.conv.weight']!.shape, [3, 3, 2, 4]);
  assert.deepEqual(Array.from(raw.tensors['G.conv.weight']!.values), Array.from(g.params.get('conv.weight')!.dataSync()));
  assert.equal(JSON.parse(raw.metadata.step!), 12);
  assert.deepEqual(JSON.parse(raw.metadata.batches!), STATE.batches);

  const h = fakeNet(99);
  const opt2 = new Adam(h.params, { learningRate: 1e-3 });
  const state = loadCheckpoint(file, { G: networkVariables(h), optG: optimizerVariables(opt2) });
  assert.deepEqual(state, STATE);
  for (const [name, v] of networkVariables(g)) assert.deepEqual(networkVariables(h).get(name)!.dataSync(), v.dataSync(), name);
  assert.deepEqual(opt2.moments().get('conv.bias')!.m.dataSync(), Float32Array.from([0.1, 0.2, 0.3, 0.4]));
  assert.deepEqual(readCheckpoint(file).groups, ['G', 'optG']);
  tf.dispose([g, h].map((n) => [...n.params.values(), ...n.buffers.values()]));
  opt.dispose();
  opt2.dispose();
});

test('a checkpoint for another architecture is refused, naming the file and the tensor, leaving variables untouched', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'ckpt-'));
  const file = path.join(dir, 'checkpoint-latest.safetensors');
  const g = fakeNet(1);
  saveCheckpoint(file, { G: networkVariables(g) }, STATE);
  const other = fakeNet(2, [3, 3, 2, 8]);
  const before = other.params.get('conv.bias')!.dataSync().slice();
  assert.throws(
    () => loadCheckpoint(file, { G: networkVariables(other) }),
    (e: Error) => e.message.includes(file) && /G\.conv\.weight is F32 \[3, 3, 2, 4\], the network expects F32 \[3, 3, 2, 8\]/.test(e.message),
  );
  assert.deepEqual(other.params.get('conv.bias')!.dataSync(), before);
  assert.throws(() => loadCheckpoint(file, { D: networkVariables(g) }), /missing tensor D\.conv\.weight/);
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 100));
  assert.throws(() => loadCheckpoint(file, { G: networkVariables(g) }), (e: Error) => e.message.includes(file));
  g.dispose();
  other.dispose();
});
