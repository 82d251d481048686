/**
 * medsyn's native (own wasm module) Conv2D / Conv2DBackpropFilter / Conv2DBackpropInput against the
 * cpu backend on random shapes, and their memory hygiene. test/engine/wasmKernels.test.ts covers the
 * same kernel names too; here the shapes are drawn at random (seeded) so odd sizes, channel counts
 * that are not multiples of the GEMM's 4×8 tile, and im2col chunk boundaries are all exercised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { convTuning } from '../../src/core/kernels/convNative.js';
import { nativeKernels } from '../../src/core/kernels/nativeModule.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

type Pad = 'same' | 'valid';

interface Case {
  readonly x: [number, number, number, number];
  readonly k: number;
  readonly co: number;
  readonly stride: number;
  readonly pad: Pad;
  readonly seed: number;
}

/** Seeded integer in [lo, hi]. */
function draw(seed: number, lo: number, hi: number): number {
  return lo + Math.floor(((randomValues(1, seed)[0] + 1) / 2) * (hi - lo + 1));
}

/**
 * Every kernel 1/3/4 × stride 1/2 × same/valid, with random batch, odd/even sizes and channels;
 * output channels 64–70 (the GEMM path) and 1–13 (forward and strided input gradients fall back to XNNPACK).
 */
const cases: Case[] = [1, 3, 4].flatMap((k) => [1, 2].flatMap((stride) => (['same', 'valid'] as Pad[]).flatMap((pad, i) =>
  [[64, 70], [1, 13]].map(([lo, hi], j) => {
    const seed = 1000 + 100 * k + 10 * stride + 2 * i + j;
    return {
      x: [draw(seed + 1, 1, 3), draw(seed, k, 9), draw(seed + 2, k, 9), draw(seed + 3, 1, 11)] as Case['x'],
      k, co: draw(seed + 4, lo!, hi!), stride, pad, seed,
    };
  }))));

function describe(c: Case): string {
  return `x ${c.x} k${c.k} co ${c.co} s${c.stride} ${c.pad}`;
}

function data(c: Case) {
  const yShape = tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D,
    c.stride, c.pad).shape) as [number, number, number, number];
  const wShape: [number, number, number, number] = [c.k, c.k, c.x[3], c.co];
  return {
    x: tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), c.seed), c.x),
    w: tf.tensor4d(randomValues(tf.util.sizeFromShape(wShape), c.seed + 5), wShape),
    dy: tf.tensor4d(randomValues(tf.util.sizeFromShape(yShape), c.seed + 6), yShape),
  };
}

/** Forward conv, filter gradient and input gradient (conv2dTranspose), concatenated. */
function passes(c: Case): number[] {
  return tf.tidy(() => {
    const { x, w, dy } = data(c);
    const y = tf.conv2d(x, w, c.stride, c.pad);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
    const dx = tf.conv2dTranspose(dy, w, c.x, c.stride, c.pad);
    return [...y.dataSync(), ...dw.dataSync(), ...dx.dataSync()];
  });
}

test('the native kernel module loads (a missing .wasm would silently fall back to XNNPACK)', () => {
  assert.ok(nativeKernels(), 'src/core/kernels/native/medsyn-kernels.wasm not found');
});

test('native conv forward, filter and input gradients match cpu on random shapes', async () => {
  for (const c of cases) {
    const err = relError(await onBackend('wasm', () => passes(c)), await onBackend('cpu', () => passes(c)));
    assert.ok(err < 1e-4, `${describe(c)}: rel error ${err}`);
  }
});

test('stride-1 input gradients (run as a forward conv over dy with flipped, transposed taps) match cpu', async () => {
  // ≥ 16 input channels take that path; k 4 'same' pads 1 before and 2 after; odd output channels and sizes.
  const shapes: [Case['x'], number, number, Pad][] = [
    [[2, 7, 9, 16], 3, 5, 'same'], [[1, 8, 6, 19], 4, 33, 'same'], [[3, 9, 8, 24], 4, 16, 'valid'],
    [[2, 6, 7, 17], 1, 64, 'valid'], [[2, 10, 9, 32], 3, 1, 'valid'], [[1, 5, 5, 40], 3, 70, 'same'],
  ];
  for (const [i, [x, k, co, pad]] of shapes.entries()) {
    const c: Case = { x, k, co, stride: 1, pad, seed: 500 + 10 * i };
    const err = relError(await onBackend('wasm', () => passes(c)), await onBackend('cpu', () => passes(c)));
    assert.ok(err < 1e-4, `${describe(c)}: rel error ${err}`);
  }
});

test('FusedConv2D (conv + bias + ReLU / linear, as FID Inception runs it) on the GEMM matches cpu', async () => {
  const shapes: [Case['x'], number, number, number, Pad][] = [
    [[2, 9, 9, 16], 3, 20, 1, 'same'], [[1, 11, 10, 24], 1, 33, 1, 'valid'], [[3, 12, 12, 19], 3, 64, 2, 'valid'],
    [[2, 7, 9, 40], 4, 17, 2, 'same'],
  ];
  for (const [i, [x, k, co, stride, pad]] of shapes.entries()) {
    for (const [activation, withBias] of [['relu', true], ['linear', true], ['relu', false]] as const) {
      const run = () => tf.tidy(() => {
        const c: Case = { x, k, co, stride, pad, seed: 900 + 10 * i };
        const { x: xt, w } = data(c);
        const bias = withBias ? tf.tensor1d(randomValues(co, c.seed + 7)) : undefined;
        return [...tf.fused.conv2d({ x: xt, filter: w, strides: stride, pad, bias, activation }).dataSync()];
      });
      const [wasm, cpu] = [await onBackend('wasm', run), await onBackend('cpu', run)];
      const err = relError(wasm, cpu);
      assert.ok(err < 1e-4, `x ${x} k${k} co ${co} s${stride} ${pad} ${activation} bias ${withBias}: rel error ${err}`);
      if (activation === 'relu') assert.ok(wasm.some((v) => v === 0) && wasm.every((v) => v >= 0), 'ReLU applied');
    }
  }
});

test('native convs match cpu across im2col chunks (more output pixels than one chunk holds)', async () => {
  // 4096-float chunks: K = 3·3·11 = 99 taps → 64 pixels (the minimum) per chunk; 2·9·9 = 162 pixels: 3 chunks.
  const c: Case = { x: [2, 9, 9, 11], k: 3, co: 64, stride: 1, pad: 'valid', seed: 77 };
  const cpu = await onBackend('cpu', () => passes(c));
  convTuning.colChunkFloats = 4096;
  try {
    const err = relError(await onBackend('wasm', () => passes(c)), cpu);
    assert.ok(err < 1e-4, `${describe(c)}: rel error ${err}`);
  } finally {
    convTuning.colChunkFloats = 1 << 20;
  }
});

test('native conv kernels leak neither tensors nor wasm buffers', () => {
  for (const c of cases.slice(0, 4)) {
    passes(c); // warm-up: first calls may allocate caches
    const before = memoryCounts();
    passes(c);
    assert.deepEqual(memoryCounts(), before, describe(c));
  }
});
