/**
 * The native conv passes split over two threads (MEDSYN_THREADS=2: worker threads on the module's
 * shared memory) against the cpu backend. The module reads MEDSYN_THREADS when it first loads (the
 * first native kernel call), and node --test runs each test file in its own process.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import os from 'node:os';
import { initEngine, tf } from '../../src/core/engine.js';
import { nativeKernels } from '../../src/core/kernels/nativeModule.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

process.env.MEDSYN_THREADS = '2';
await initEngine({ backend: 'wasm', log: () => {} });

interface Case {
  readonly x: [number, number, number, number];
  readonly k: number;
  readonly co: number;
  readonly stride: number;
}

/** Batches 2, 3 and 5 (uneven splits), 64 channels (the GEMM path), over the 2^20 multiply-adds that go parallel. */
const cases: Case[] = [
  { x: [2, 13, 11, 16], k: 3, co: 64, stride: 1 }, // 2.6 M multiply-adds per pass
  { x: [3, 12, 12, 16], k: 4, co: 64, stride: 2 }, // 1.8 M
  { x: [5, 12, 12, 24], k: 1, co: 64, stride: 1 }, // 1.1 M
];

function passes(c: Case, seed: number): number[] {
  return tf.tidy(() => {
    const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.co];
    const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), seed), c.x);
    const w = tf.tensor4d(randomValues(tf.util.sizeFromShape(wShape), seed + 1), wShape);
    const y = tf.conv2d(x, w, c.stride, 'same');
    const dy = tf.tensor4d(randomValues(y.size, seed + 2), y.shape);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: c.stride, pad: 'same', dataFormat: 'NHWC', filterShape: wShape }) as tf.Tensor;
    const dx = tf.conv2dTranspose(dy, w, c.x, c.stride, 'same');
    return [...y.dataSync(), ...dw.dataSync(), ...dx.dataSync()];
  });
}

test('MEDSYN_THREADS=2 gives the module two threads (one where the machine has one core)', () => {
  assert.equal(nativeKernels()?.threads, Math.min(2, os.availableParallelism()));
});

test('native conv passes on two threads match cpu (uneven batch splits, partial filter gradients)', async () => {
  for (const [i, c] of cases.entries()) {
    const err = relError(await onBackend('wasm', () => passes(c, 40 + i)), await onBackend('cpu', () => passes(c, 40 + i)));
    assert.ok(err < 1e-4, `${JSON.stringify(c)}: rel error ${err}`);
  }
});

test('threaded passes leak neither tensors nor wasm buffers', () => {
  passes(cases[0]!, 1);
  const before = memoryCounts();
  passes(cases[0]!, 1);
  assert.deepEqual(memoryCounts(), before);
});
