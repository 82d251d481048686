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
  [[2, 5, 5, 4], [2, 5, 5, 1]], // per-row values (the SIMD row loop)
  [[2, 5, 5, 1], [2, 5, 5, 8]],
  [[3, 8], [3, 1]],
  [[2, 5, 5, 3], [2, 5, 5, 1]], // row length not a multiple of 4
  [[2, 5, 5, 4], [1, 5, 5, 1]], // not a per-row operand
];

const ops = { add: tf.add, sub: tf.sub, mul: tf.mul, div: tf.div } as const;

test('wasm Add/Sub/Multiply/RealDiv broadcasting a channel vector or per-row values equal cpu (either side, zeros in divisors)', async () => {
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

test('wasm LeakyRelu, Greater (scalar) and Select equal cpu, in SIMD groups and tails; LeakyRelu gradient too', async () => {
  for (const [i, shape] of [[2, 5, 5, 16], [3, 7, 5], [37], [16], [2, 3]].entries()) {
    const n = tf.util.sizeFromShape(shape);
    const x = randomValues(n, 500 + i).map((v, k) => (k % 9 === 4 ? 0 : k % 11 === 3 ? -0 : v * 3));
    const dy = randomValues(n, 600 + i);
    const run = () => tf.tidy(() => {
      const xt = tf.tensor(x, shape);
      const mask = tf.greater(xt, 0);
      const sel = tf.where(mask, tf.tensor(dy, shape), xt);
      const [y, dx] = [tf.leakyRelu(xt, 0.2), tf.grad((v: tf.Tensor) => tf.sum(tf.mul(tf.leakyRelu(v, 0.2), tf.tensor(dy, shape))))(xt)];
      return { y: Array.from(y.dataSync()), mask: [mask.dtype, ...mask.dataSync()], sel: Array.from(sel.dataSync()), dx: Array.from(dx.dataSync()) };
    });
    const before = memoryCounts();
    const wasm = await onBackend('wasm', run);
    assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
    const cpu = await onBackend('cpu', run);
    assert.deepEqual(wasm.mask, cpu.mask, `Greater [${shape}]`);
    assert.deepEqual(wasm.sel, cpu.sel, `Select [${shape}]`);
    // α·x: float32 α on wasm, float64 α on cpu (one rounding apart at most).
    for (const k of ['y', 'dx'] as const) {
      wasm[k].forEach((v, j) => assert.ok(Math.abs(v - cpu[k][j]!) <= 1e-6 * Math.abs(cpu[k][j]!), `${k}[${j}] [${shape}]: ${v} vs ${cpu[k][j]}`));
    }
  }
});
