/** medsyn's wasm Add/Sub/Multiply/RealDiv with a per-channel vector against the cpu backend, bit for bit. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { memoryCounts, onBackend, randomValues } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

/** Pairs of shapes: channel vectors on either side (the SIMD loop), and others (the stock kernels). */
const pairs: [number[], number[]][] = [
  [[2, 5, 5, 16], [16]],
  [[2, 5, 5, 16], [1, 1, 1, 16]],
  [[1, 1, 1, 32], [3, 4, 4, 32]],
  [[8], [3, 8]],
  [[3, 8], [1, 8]],
  [[1, 1, 1, 16], [1, 1, 1, 16]],
  [[2, 3, 3, 6], [6]], // channels not a multiple of 4
  [[2, 3, 3, 4], [2, 1, 1, 4]], // not a channel vector
  [[2, 3, 3, 4], []],
  [[2, 3, 3, 4], [2, 3, 3, 4]],
];

const ops = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;

test('wasm Add/Sub/Multiply/RealDiv broadcasting a channel vector equal cpu (either side, zeros in divisors)', async () => {
  for (const [i, [sa, sb]] of pairs.entries()) {
    const a = randomValues(tf.util.sizeFromShape(sa), 300 + i).map((v, k) => (k % 7 === 2 ? 0 : v * 5));
    const b = randomValues(tf.util.sizeFromShape(sb), 400 + i).map((v, k) => (k % 5 === 1 ? 0 : v));
    for (const [name, op] of Object.entries(ops)) {
      const run = () => tf.tidy(() => {
        const y = op(tf.tensor(a, sa), tf.tensor(b, sb));
        return [...y.shape, ...y.dataSync()];
      });
      const before = memoryCounts();
      const wasm = await onBackend('wasm', run);
      assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
      assert.deepEqual(wasm, await onBackend('cpu', run), `${name} [${sa}] [${sb}]`);
    }
  }
});

test('gradients through a broadcast channel op equal cpu', async () => {
  const x = randomValues(2 * 4 * 4 * 8, 1);
  const g = randomValues(8, 2).map((v) => v + 2);
  const run = () => tf.tidy(() => tf.grads((xs: tf.Tensor, gs: tf.Tensor) =>
    tf.sum(tf.square(tf.add(tf.div(tf.sub(xs, gs), gs), tf.mul(xs, gs)))))([tf.tensor(x, [2, 4, 4, 8]), tf.tensor(g, [8])])
    .map((t) => Array.from(t.dataSync())));
  const wasm = await onBackend('wasm', run);
  const cpu = await onBackend('cpu', run);
  // Reductions (Sum) may add in another order on wasm: compare to float32 rounding.
  wasm.forEach((w, i) => w.forEach((v, k) => assert.ok(Math.abs(v - cpu[i]![k]!) <= 1e-5 * Math.max(1, Math.abs(cpu[i]![k]!)), `${i}[${k}] ${v} vs ${cpu[i]![k]}`)));
});
