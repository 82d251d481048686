/**
 * Convolutions on Winograd minimal filtering (native/winograd.c, planned by winogradPlan.ts): F(2×2, 3×3) and
 * F(4×4, 3×3), F(2×2, 2×2) over the phases of 4×4 stride-2 convs, 1-D F(2, r) / F(4, r) (r = 3, 7), F(2×2, 5×5). Forward,
 * FusedConv2D (bias, ReLU), the input gradient (a forward conv over dy, or four output phases for stride 2) and
 * the filter gradient (the transform's adjoint, per-thread partials in the transformed domain) against the cpu
 * backend, with odd sizes (partial tiles), channel counts that are not multiples of 4 (the transforms' channel
 * tail), explicit asymmetric padding, and more tiles than one block holds. Each case also runs with Winograd
 * off: the results must differ in some bits, so the Winograd path really ran. Seed 19 is large enough for the
 * filter transform to be split over the threads by positions (winograd_filter_range).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { convTuning } from '../../src/core/kernels/convNative.js';
import { forwardCall, tileTuning } from '../../src/core/kernels/winogradPlan.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

type Shape = [number, number, number, number];
type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface Case {
  readonly x: Shape;
  readonly co: number;
  readonly pad: Pad;
  readonly seed: number;
  /** 3: 3×3 stride 1 (F(2×2, 3×3)); 4: 4×4 stride 2 (F(2×2, 2×2) over the stride phases). Default 3. */
  readonly k?: 3 | 4;
  /**
   * Another stride-1 kernel [KH, KW]: 1×7, 7×1, 1×3, 3×1 (F(2, r) along one axis) or 5×5 (F(2×2, 5×5)); their
   * filter gradients stay on im2col.
   */
  readonly oneD?: [number, number];
}

// ≥ 128 tiles each (the Winograd threshold); [2, 31, 29] 'same': 16 × 15 tiles per image, beyond one block
// (8192 / (Ci + Co) tiles); 19, 21 and 17 channels exercise the 4-channel tail of both transforms.
const cases: Case[] = [
  { x: [2, 31, 29, 19], co: 21, pad: 'same', seed: 11 },
  { x: [1, 24, 26, 16], co: 16, pad: 'valid', seed: 12 },
  { x: [3, 17, 15, 17], co: 32, pad: 'same', seed: 13 },
  { x: [2, 20, 23, 24], co: 18, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], seed: 14 },
  { x: [2, 40, 9, 64], co: 40, pad: 'valid', seed: 15 },
  // F(4×4, 3×3) (≥ 128 tiles of 4×4): odd sizes (partial tiles), channel tails, asymmetric explicit padding.
  { x: [2, 33, 35, 18], co: 18, pad: 'same', seed: 16 },
  { x: [1, 46, 50, 24], co: 20, pad: 'valid', seed: 17 },
  { x: [2, 41, 38, 16], co: 17, pad: [[0, 0], [2, 1], [0, 3], [0, 0]], seed: 18 },
  // 16 positions × 64 × 64 = 2^16 transformed filter floats: the filter transform is split over the threads.
  { x: [2, 16, 16, 64], co: 64, pad: 'same', seed: 19 },
  // 4×4 stride 2 ('same' pads 1 before; odd sizes pad 1 before and 2 after; 'valid' 0; explicit 2 before),
  // ≥ 128 tiles per pass and per input-gradient phase; Ci a multiple of 4 (the phase view), Co anything ≥ 16.
  { x: [2, 34, 30, 16], co: 17, pad: 'same', seed: 21, k: 4 },
  { x: [2, 33, 31, 20], co: 24, pad: 'same', seed: 22, k: 4 },
  { x: [3, 32, 26, 24], co: 16, pad: 'valid', seed: 23, k: 4 },
  { x: [2, 31, 34, 16], co: 19, pad: [[0, 0], [2, 1], [1, 2], [0, 0]], seed: 24, k: 4 },
  // 1-D kernels (FID Inception's factorised 1×7 / 7×1 and 1×3 / 3×1), ≥ 128 tiles of 1×2 / 2×1; Co large
  // enough that both reductions (r·Ci, r·Co ≥ 128) take the native path.
  { x: [2, 13, 17, 20], co: 19, pad: 'same', seed: 31, oneD: [1, 7] },
  { x: [2, 17, 11, 21], co: 20, pad: 'same', seed: 32, oneD: [7, 1] },
  { x: [2, 15, 21, 19], co: 20, pad: 'valid', seed: 33, oneD: [1, 7] },
  { x: [2, 9, 15, 44], co: 45, pad: 'same', seed: 34, oneD: [1, 3] },
  { x: [2, 15, 9, 46], co: 43, pad: [[0, 0], [2, 0], [0, 0], [0, 0]], seed: 35, oneD: [3, 1] },
  // 1-D F(4, 7) / F(4, 3) (≥ 128 tiles of 1×4 / 4×1), partial last tiles.
  { x: [2, 19, 26, 20], co: 19, pad: 'same', seed: 36, oneD: [7, 1] },
  { x: [2, 23, 27, 19], co: 21, pad: 'valid', seed: 37, oneD: [1, 7] },
  { x: [2, 14, 22, 44], co: 45, pad: 'same', seed: 38, oneD: [1, 3] },
  { x: [2, 30, 10, 46], co: 43, pad: [[0, 0], [2, 0], [0, 0], [0, 0]], seed: 39, oneD: [3, 1] },
  // 5×5 (FID Inception's Mixed_5 branch): F(2×2, 5×5).
  { x: [2, 21, 19, 24], co: 20, pad: 'same', seed: 41, oneD: [5, 5] },
  { x: [2, 20, 22, 17], co: 18, pad: 'valid', seed: 42, oneD: [5, 5] },
];

function describe(c: Case): string {
  return `x ${c.x} ${c.oneD ? c.oneD.join('×') : `k${c.k ?? 3}`} co ${c.co} pad ${JSON.stringify(c.pad)}`;
}

function tensors(c: Case) {
  const [kh, kw] = c.oneD ?? [c.k ?? 3, c.k ?? 3];
  const w = tf.tensor4d(randomValues(kh * kw * c.x[3] * c.co, c.seed + 1), [kh, kw, c.x[3], c.co]);
  const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(c.x), c.seed), c.x);
  return { x, w };
}

/** Forward conv, fused conv (bias + ReLU), input gradient (conv2dTranspose of a dy) and filter gradient, concatenated. */
function passes(c: Case): Float32Array[] {
  return tf.tidy(() => {
    const { x, w } = tensors(c);
    const stride = c.k === 4 ? 2 : 1;
    const y = tf.conv2d(x, w, stride, c.pad);
    const bias = tf.tensor1d(randomValues(c.co, c.seed + 2));
    const fused = tf.fused.conv2d({ x, filter: w, strides: stride, pad: c.pad, bias, activation: 'relu' });
    const dy = tf.tensor4d(randomValues(y.size, c.seed + 3), y.shape as Shape);
    const dx = tf.conv2dTranspose(dy, w, c.x, stride, c.pad);
    const dw = tf.engine().runKernel(tf.Conv2DBackpropFilter, { x, dy },
      { strides: stride, pad: c.pad, dataFormat: 'NHWC', filterShape: w.shape }) as tf.Tensor;
    return [y, fused, dx, dw].map((t) => t.dataSync() as Float32Array);
  });
}

/** Runs fn with settings[key] = value, then restores it (the kernels read these mutable tuning objects). */
async function withSetting<S extends object, K extends keyof S, T>(settings: S, key: K, value: S[K], fn: () => Promise<T>): Promise<T> {
  const previous = settings[key];
  settings[key] = value;
  try {
    return await fn();
  } finally {
    settings[key] = previous;
  }
}

const withWinograd = <T>(on: boolean, fn: () => Promise<T>): Promise<T> => withSetting(convTuning, 'winograd', on, fn);
const withTiles = <T>(m4: boolean, fn: () => Promise<T>): Promise<T> => withSetting(tileTuning, 'm4', m4, fn);

/** The cases written for F(4×4, 3×3) and 1-D F(4, r). */
const F4_SEEDS = [11, 16, 17, 18, 36, 37, 38, 39];

test('Winograd convs (F(2×2, 3×3), F(4×4, 3×3), F(2×2, 2×2) over stride phases, 1-D F(2, r) / F(4, r), F(2×2, 5×5): forward, fused bias + ReLU, input and filter gradients) match cpu', async () => {
  for (const c of cases) {
    const cpu = await onBackend('cpu', () => passes(c));
    const im2col = await withWinograd(false, () => onBackend('wasm', () => passes(c)));
    // 3×3 and 1-D: with 2-pixel output tiles only, then with 4-pixel tiles where there are enough (the default).
    const variants = c.k === 4 ? [true] : [false, true];
    const runs: Float32Array[][] = [];
    for (const m4 of variants) {
      const winograd = await withTiles(m4, () => withWinograd(true, () => onBackend('wasm', () => passes(c))));
      runs.push(winograd);
      for (const [i, name] of ['forward', 'fused', 'input gradient', 'filter gradient'].entries()) {
        const what = `${describe(c)} ${name}${c.k === 4 ? '' : m4 ? ' (4-pixel tiles allowed)' : ' (2-pixel tiles)'}`;
        const err = relError(winograd[i]!, cpu[i]!);
        assert.ok(err < 1e-4, `${what}: rel error ${err}`);
        assert.ok(relError(im2col[i]!, cpu[i]!) < 1e-4, `${what} (im2col)`);
        if (c.oneD && name === 'filter gradient') continue; // im2col's
        assert.ok(winograd[i]!.some((v, j) => v !== im2col[i]![j]), `${what}: Winograd and im2col agree bit for bit (did Winograd run?)`);
      }
    }
    const [kh, kw] = c.oneD ?? [3, 3];
    const plan = c.k === 4 ? null : forwardCall(tf.backend_util.computeConv2DInfo(c.x, [kh, kw, c.x[3], c.co], 1, 1, c.pad), { m4: true });
    if (F4_SEEDS.includes(c.seed)) assert.equal(plan?.geometry.m, 4, `${describe(c)} should take 4-pixel tiles`);
    if (plan?.geometry.m === 4) {
      assert.ok(runs[1]![0]!.some((v, j) => v !== runs[0]![0]![j]), `${describe(c)}: 4- and 2-pixel tiles agree bit for bit (did F(4, r) run?)`);
    }
  }
});

test('Winograd convs stay exact where they should: a one-hot filter copies a shifted, zero-padded input', async () => {
  // w[1, 2, c, c] = 1: y[b, i, j, c] = x[b, i, j + 1, c] ('same'), 0 past the right edge. The transforms add and
  // subtract values of one sign pattern, so small integers come through exactly.
  const [n, h, wd, ch] = [2, 17, 19, 20];
  const xv = new Float32Array(n * h * wd * ch).map((_, i) => (i % 7) - 3);
  const wv = new Float32Array(9 * ch * ch);
  for (let c = 0; c < ch; c++) wv[(1 * 3 + 2) * ch * ch + c * ch + c] = 1;
  const y = await withWinograd(true, () => onBackend('wasm', () => tf.tidy(() =>
    tf.conv2d(tf.tensor4d(xv, [n, h, wd, ch]), tf.tensor4d(wv, [3, 3, ch, ch]), 1, 'same').dataSync())));
  for (let b = 0; b < n; b++) {
    for (let i = 0; i < h; i++) {
      for (let j = 0; j < wd; j++) {
        for (let c = 0; c < ch; c++) {
          const want = j + 1 < wd ? xv[((b * h + i) * wd + j + 1) * ch + c]! : 0;
          const got = y[((b * h + i) * wd + j) * ch + c]!;
          assert.ok(Math.abs(got - want) < 1e-5, `y[${b}, ${i}, ${j}, ${c}] = ${got}, want ${want}`);
        }
      }
    }
  }
});

test('Winograd convs leak neither tensors nor wasm buffers', async () => {
  await withWinograd(true, async () => {
    for (const c of cases.slice(0, 2)) {
      passes(c);
      const before = memoryCounts();
      passes(c);
      assert.deepEqual(memoryCounts(), before, describe(c));
    }
  });
});
