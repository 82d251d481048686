/** medsyn's wasm SplitV and MaxPoolGrad against the cpu backend's kernels, to exact equality. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { heapSimd } from '../../src/core/kernels/heapSimd.js';
import type { BackendWasm } from '../../src/core/kernels/wasmOps.js';
import { memoryCounts, onBackend, randomValues } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

test('the heap SIMD module instantiates on the wasm backend (the cases below run both its loops and the JS ones)', () => {
  assert.ok(heapSimd(tf.backend() as BackendWasm));
});

interface SplitCase { shape: number[]; splits: number | number[]; axis: number; dtype?: 'float32' | 'int32' }

const splitCases: SplitCase[] = [
  { shape: [4, 6, 6, 32], splits: [16, 16], axis: 3 }, // U-Net skip concatenation gradient
  { shape: [4, 6, 6, 24], splits: [8, 16], axis: -1 },
  { shape: [2, 5, 7, 12], splits: 3, axis: 3 },
  { shape: [2, 5, 7, 12], splits: [1, 4, -1], axis: 1 },
  { shape: [3, 10, 10, 8], splits: [1, 2], axis: 0 }, // long runs (TypedArray.set)
  { shape: [2, 3, 300], splits: [100, 200], axis: 2 },
  { shape: [5, 6], splits: [2, 0, 3], axis: 0 },
  { shape: [9], splits: [4, 5], axis: 0 },
  { shape: [4, 6, 6, 10], splits: [3, 7], axis: 3, dtype: 'int32' },
];

function split(c: SplitCase, values: Float32Array): number[][] {
  return tf.tidy(() => {
    const x = c.dtype === 'int32' ? tf.tensor(Int32Array.from(values, (v) => Math.round(v * 1000)), c.shape, 'int32')
      : tf.tensor(values, c.shape);
    return tf.split(x, c.splits, c.axis).map((t) => [...t.shape, ...t.dataSync()]);
  });
}

test('wasm SplitV equals cpu (several shapes, axes, size splits, float32 and int32)', async () => {
  for (const [i, c] of splitCases.entries()) {
    const values = randomValues(tf.util.sizeFromShape(c.shape), 40 + i);
    const before = memoryCounts();
    const wasm = await onBackend('wasm', () => split(c, values));
    assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
    assert.deepEqual(wasm, await onBackend('cpu', () => split(c, values)), JSON.stringify(c));
  }
});

test('wasm concat gradient (SplitV) equals cpu', async () => {
  const a = randomValues(2 * 4 * 4 * 6, 1);
  const b = randomValues(2 * 4 * 4 * 10, 2);
  const w = randomValues(2 * 4 * 4 * 16, 3);
  const grads = () => tf.tidy(() => tf.grads((x: tf.Tensor, y: tf.Tensor) => tf.sum(tf.mul(tf.concat([x, y], 3), tf.tensor(w, [2, 4, 4, 16]))))(
    [tf.tensor(a, [2, 4, 4, 6]), tf.tensor(b, [2, 4, 4, 10])]).map((t) => Array.from(t.dataSync())));
  assert.deepEqual(await onBackend('wasm', grads), await onBackend('cpu', grads));
});

type Pad = 'valid' | 'same' | number;
interface PoolCase { x: [number, number, number, number]; filter: number | [number, number]; stride: number | [number, number]; pad: Pad }

/** Non-overlapping windows on even and odd sizes, then overlapping ones (3×3 stride 2 'same': TF.js' kernel is wrong). */
const poolCases: PoolCase[] = [
  { x: [3, 8, 8, 16], filter: 2, stride: 2, pad: 'valid' },
  { x: [2, 7, 9, 5], filter: 2, stride: 2, pad: 'valid' },
  { x: [2, 7, 9, 8], filter: 2, stride: 2, pad: 'valid' }, // SIMD, with a last row and column in no window
  { x: [2, 6, 10, 4], filter: 2, stride: 2, pad: 'same' },
  { x: [2, 7, 9, 5], filter: 2, stride: 2, pad: 'same' },
  { x: [2, 9, 8, 3], filter: 3, stride: 3, pad: 'same' },
  { x: [1, 9, 10, 4], filter: [2, 3], stride: [2, 3], pad: 'valid' },
  { x: [2, 9, 10, 4], filter: [2, 3], stride: [3, 4], pad: 'same' },
  { x: [2, 6, 6, 3], filter: 1, stride: 2, pad: 'valid' },
  { x: [2, 6, 6, 3], filter: 2, stride: 2, pad: 1 },
  { x: [2, 7, 7, 3], filter: 3, stride: 2, pad: 'same' },
  { x: [2, 7, 7, 3], filter: 3, stride: 1, pad: 'valid' },
  { x: [2, 8, 8, 3], filter: 3, stride: 2, pad: 'same' },
  { x: [1, 9, 8, 2], filter: [3, 2], stride: [1, 2], pad: 'same' },
];

/** Values on a coarse grid (ties in many windows), a third of them clamped to 0 (ReLU outputs), some −∞. */
function poolInput(size: number, seed: number): Float32Array {
  return randomValues(size, seed).map((v, i) => (i % 97 === 5 ? -Infinity : v < -0.3 ? 0 : Math.round(v * 4) / 4));
}

function poolGrad(c: PoolCase, x: Float32Array, dy: Float32Array): number[] {
  return tf.tidy(() => {
    const input = tf.tensor4d(x, c.x);
    const output = tf.maxPool(input, c.filter, c.stride, c.pad);
    const dyT = tf.tensor(dy.subarray(0, output.size), output.shape);
    const dx = tf.engine().runKernel(tf.MaxPoolGrad, { dy: dyT, input, output },
      { filterSize: c.filter, strides: c.stride, pad: c.pad }) as tf.Tensor;
    return Array.from(dx.dataSync());
  });
}

test('wasm MaxPoolGrad equals cpu (window sizes, strides, paddings, overlapping windows; ties, zeros and −∞)', async () => {
  for (const [i, c] of poolCases.entries()) {
    const size = tf.util.sizeFromShape(c.x);
    const x = poolInput(size, 70 + i);
    const dy = randomValues(size, 90 + i);
    const before = memoryCounts();
    const wasm = await onBackend('wasm', () => poolGrad(c, x, dy));
    assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
    assert.deepEqual(wasm, await onBackend('cpu', () => poolGrad(c, x, dy)), JSON.stringify(c));
  }
});
