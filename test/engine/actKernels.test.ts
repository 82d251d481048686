/**
 * Activations on wasm against the cpu backend: the native tanh and its one-kernel gradient
 * (core/kernels/actKernels.ts), ReLU and leaky ReLU (stock and heap-SIMD kernels with TF.js' gradients):
 * values (odd sizes: SIMD tails), first derivatives, second derivatives (the gradient path under an outer
 * tape), special values, memory.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

const ACTS: Record<string, (x: tf.Tensor) => tf.Tensor> = {
  relu: (x) => tf.relu(x),
  leaky: (x) => tf.leakyRelu(x, 0.2),
  tanh: (x) => tf.tanh(x),
};
const SHAPES = [[7], [4, 5, 3], [16, 9, 9, 5], [2, 33]];

/** f(x), d(Σ f(x)·w)/dx, and d‖d(Σ f(x)·w)/dx‖²/dx. */
function everything(f: (x: tf.Tensor) => tf.Tensor, shape: number[], seed: number): number[] {
  return tf.tidy(() => {
    const size = tf.util.sizeFromShape(shape);
    const x = tf.mul(tf.tensor(randomValues(size, seed, 0.01), shape), 4); // |x| ≥ 0.04: away from ReLU's kink
    const w = tf.tensor(randomValues(size, seed + 1), shape);
    const loss = (v: tf.Tensor) => tf.sum(tf.mul(f(v), w)) as tf.Scalar;
    const first = tf.grad(loss)(x);
    const second = tf.grad((v: tf.Tensor) => tf.sum(tf.square(tf.grad(loss)(v))) as tf.Scalar)(x);
    return [...f(x).dataSync(), ...first.dataSync(), ...second.dataSync()];
  });
}

for (const [name, f] of Object.entries(ACTS)) {
  test(`${name}: native forward and gradients match cpu (values, first and second derivatives)`, async () => {
    for (const [i, shape] of SHAPES.entries()) {
      const err = relError(await onBackend('wasm', () => everything(f, shape, 7 * i)), await onBackend('cpu', () => everything(f, shape, 7 * i)));
      assert.ok(err < 1e-6, `${name} ${shape}: rel error ${err}`);
    }
  });
}

test('special values: ±0, huge, ±Infinity and NaN behave as on cpu', async () => {
  const values = [0, -0, 1e-30, -3e-4, 8, -9, 40, -1e30, Infinity, -Infinity, NaN];
  for (const [name, f] of Object.entries(ACTS)) {
    const run = () => tf.tidy(() => [...f(tf.tensor1d(values)).dataSync()]);
    const [wasm, cpu] = [await onBackend('wasm', run), await onBackend('cpu', run)];
    for (const [i, v] of values.entries()) {
      if (Number.isNaN(cpu[i]!)) assert.ok(Number.isNaN(wasm[i]!), `${name}(${v}) = ${wasm[i]}, expected NaN`);
      else assert.ok(wasm[i] === cpu[i] || Math.abs(wasm[i]! - cpu[i]!) <= 1e-6 * Math.max(1, Math.abs(cpu[i]!)), `${name}(${v}) = ${wasm[i]}, cpu ${cpu[i]}`);
    }
  }
});

test('activation kernels and gradients leak neither tensors nor buffers', () => {
  const x = tf.tensor(randomValues(300, 3), [3, 10, 10]);
  const step = () => tf.tidy(() => Object.values(ACTS).map((f) => tf.grad((v: tf.Tensor) => tf.sum(f(v)) as tf.Scalar)(x)));
  tf.dispose(step());
  const before = memoryCounts();
  tf.dispose(step());
  assert.deepEqual(memoryCounts(), before);
  x.dispose();
});
