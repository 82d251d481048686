/** medsyn's wasm SplitV, Concat, Slice, Cast and MaxPoolGrad against the cpu backend's kernels, to exact equality. */
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

interface ConcatCase { shapes: number[][]; axis: number; dtype?: 'float32' | 'int32' }

const concatCases: ConcatCase[] = [
  { shapes: [[4, 6, 6, 16], [4, 6, 6, 16]], axis: 3 }, // U-Net skip concatenation
  { shapes: [[2, 5, 7, 3], [2, 5, 7, 5]], axis: -1 },
  { shapes: [[2, 5, 7, 4], [2, 5, 7, 0], [2, 5, 7, 8], [2, 5, 7, 1]], axis: 3 },
  { shapes: [[2, 3, 4], [2, 5, 4]], axis: 1 },
  { shapes: [[1, 3, 4], [2, 3, 4]], axis: 0 },
  { shapes: [[5], [3]], axis: 0 },
  { shapes: [[3, 4, 2], [3, 4, 6]], axis: 2, dtype: 'int32' },
];

function tensorOf(shape: number[], seed: number, dtype: 'float32' | 'int32' = 'float32'): tf.Tensor {
  const values = randomValues(tf.util.sizeFromShape(shape), seed);
  return dtype === 'int32' ? tf.tensor(Int32Array.from(values, (v) => Math.round(v * 1000)), shape, 'int32') : tf.tensor(values, shape);
}

test('wasm Concat equals cpu (axes, run lengths, empty inputs, float32 and int32)', async () => {
  for (const [i, c] of concatCases.entries()) {
    const run = () => tf.tidy(() => {
      const t = tf.concat(c.shapes.map((s, k) => tensorOf(s, 10 * i + k, c.dtype)), c.axis);
      return [...t.shape, ...t.dataSync()];
    });
    const before = memoryCounts();
    const wasm = await onBackend('wasm', run);
    assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
    assert.deepEqual(wasm, await onBackend('cpu', run), JSON.stringify(c));
  }
});

interface SliceCase { shape: number[]; begin: number[]; size: number[]; dtype?: 'float32' | 'int32' }

const sliceCases: SliceCase[] = [
  { shape: [4, 6, 6, 4], begin: [0, 0, 0, 1], size: [-1, -1, -1, 3] }, // Dice loss without background
  { shape: [4, 6, 6, 12], begin: [0, 0, 0, 4], size: [4, 6, 6, 8] },
  { shape: [3, 10], begin: [0, 2], size: [3, 5] },
  { shape: [3, 10, 4], begin: [1, 0, 0], size: [2, 10, 4] }, // contiguous (stock kernel)
  { shape: [3, 10, 4], begin: [0, 2, 1], size: [3, 5, 2] }, // two axes (stock kernel)
  { shape: [9], begin: [3], size: [4] },
  { shape: [2, 5, 8], begin: [0, 0, 2], size: [2, 5, 4], dtype: 'int32' },
];

test('wasm Slice equals cpu (last axis, contiguous, several axes, float32 and int32)', async () => {
  for (const [i, c] of sliceCases.entries()) {
    const run = () => tf.tidy(() => {
      const t = tf.slice(tensorOf(c.shape, 200 + i, c.dtype), c.begin, c.size);
      return [...t.shape, ...t.dataSync()];
    });
    const before = memoryCounts();
    const wasm = await onBackend('wasm', run);
    assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
    assert.deepEqual(wasm, await onBackend('cpu', run), JSON.stringify(c));
  }
});

test('wasm Cast to the same dtype shares the buffer; other casts convert as on cpu; no leaks', async () => {
  const values = randomValues(24, 7).map((v) => v * 3);
  const run = () => tf.tidy(() => {
    const x = tf.tensor(values, [2, 3, 4]);
    const same = tf.cast(x, 'float32');
    const toInt = tf.cast(x, 'int32');
    const toBool = tf.cast(x, 'bool');
    const back = tf.cast(toInt, 'float32');
    const x2 = tf.cast(same, 'float32');
    x.dispose(); // the casts keep the shared data alive
    return [same, toInt, toBool, back, x2, tf.cast(toBool, 'int32'), tf.cast(toInt, 'int32')].map((t) => [t.dtype, ...t.dataSync()]);
  });
  const before = memoryCounts();
  const wasm = await onBackend('wasm', run);
  assert.deepEqual(await onBackend('wasm', memoryCounts), before, 'no leaked tensors or buffers');
  assert.deepEqual(wasm, await onBackend('cpu', run));
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
