import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { ParameterEma, emaBeta } from '../../src/training/ema.js';
import type { Network } from '../../src/models/network.js';

await initEngine({ backend: 'cpu' });

function net(values: number[], buffer: number): Network {
  const params = new Map([['w', tf.variable(tf.tensor1d(values))]]);
  const buffers = new Map([['running_mean', tf.variable(tf.scalar(buffer), false)]]);
  return { params, buffers, dispose: () => tf.dispose([...params.values(), ...buffers.values()]) };
}

test('EMA beta follows the StyleGAN2-ADA half-life rule', () => {
  assert.equal(emaBeta(32, 10), 0.5 ** (32 / 10_000));
  // One half-life's worth of updates halves the weight of the starting point.
  assert.ok(Math.abs(emaBeta(32, 10) ** (10_000 / 32) - 0.5) < 1e-12);
  assert.equal(emaBeta(32, 0), 0);
  assert.equal(emaBeta(32, 10, { ratio: 0.05, imagesShown: 1000 }), 0.5 ** (32 / 50));
});

test('EMA starts as a copy, averages parameters and copies buffers', () => {
  const source = net([1, 2], 5);
  const target = net([0, 0], 0);
  const ema = new ParameterEma(source, target);
  assert.deepEqual(Array.from(target.params.get('w')!.dataSync()), [1, 2]);
  source.params.get('w')!.assign(tf.tensor1d([3, 6]));
  source.buffers.get('running_mean')!.assign(tf.scalar(7));
  ema.update(0.75);
  // p_ema ← p + β(p_ema − p) = [3 + 0.75·(1 − 3), 6 + 0.75·(2 − 6)]
  assert.deepEqual(Array.from(target.params.get('w')!.dataSync()), [1.5, 3]);
  assert.deepEqual(Array.from(target.buffers.get('running_mean')!.dataSync()), [7]);
  source.dispose();
  target.dispose();
});
