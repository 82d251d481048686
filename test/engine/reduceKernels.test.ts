/** The wasm Sum/Mean over leading axes (native column sums) and the sharing Identity, against cpu. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

interface Case {
  readonly shape: number[];
  readonly axis: number | number[];
  readonly keepDims: boolean;
}

/** Leading blocks (native path), negative and unsorted axes, and inner/all axes (stock path). */
const cases: Case[] = [
  [[7, 5, 3, 6], [0, 1, 2]], [[3, 9, 11, 13], [2, 0, 1]], [[130, 3], 0], [[2, 67, 5], [0, 1]],
  [[4, 3, 5], [-3]], [[1, 1, 1, 7], [0, 1, 2]], [[5, 6, 7], [1, 2]], [[5, 6], [0, 1]], [[6, 4, 2], [0, 2]],
].flatMap(([shape, axis]) => [false, true].map((keepDims) => ({ shape: shape as number[], axis: axis as number | number[], keepDims })));

function reduce(c: Case, i: number): { shape: number[]; values: number[] } {
  return tf.tidy(() => {
    const x = tf.tensor(randomValues(tf.util.sizeFromShape(c.shape), 500 + i), c.shape);
    const [s, m] = [tf.sum(x, c.axis, c.keepDims), tf.mean(x, c.axis, c.keepDims)];
    return { shape: [...s.shape, -1, ...m.shape], values: [...s.dataSync(), ...m.dataSync()] };
  });
}

test('wasm Sum and Mean match cpu (leading, unsorted, negative, inner and all axes; keepDims)', async () => {
  for (const [i, c] of cases.entries()) {
    const wasm = await onBackend('wasm', () => reduce(c, i));
    const cpu = await onBackend('cpu', () => reduce(c, i));
    assert.deepEqual(wasm.shape, cpu.shape, JSON.stringify(c));
    const err = relError(wasm.values, cpu.values);
    assert.ok(err < 1e-5, `${JSON.stringify(c)}: rel error ${err}`);
  }
});

test('wasm Sum of int32 over leading axes keeps int32 (stock kernel)', () => {
  const s = tf.tidy(() => {
    const out = tf.sum(tf.tensor2d([[1, 2], [3, 4], [5, 7]], [3, 2], 'int32'), 0);
    return { dtype: out.dtype, values: [...out.dataSync()] };
  });
  assert.deepEqual(s, { dtype: 'int32', values: [9, 13] });
});

test('Identity shares data: a clone outlives its source, and nothing leaks', () => {
  const before = memoryCounts();
  const x = tf.tensor1d([1, 2, 3]);
  const y = tf.clone(x);
  x.dispose();
  assert.deepEqual([...y.dataSync()], [1, 2, 3]);
  y.dispose();
  tf.tidy(() => reduce(cases[0]!, 0));
  assert.deepEqual(memoryCounts(), before);
});
