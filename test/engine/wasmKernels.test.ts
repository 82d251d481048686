/** The custom wasm kernels against the cpu backend's reference kernels, and their memory hygiene. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

type Pad = 'same' | 'valid' | [[number, number], [number, number], [number, number], [number, number]];

interface ConvCase {
  readonly x: [number, number, number, number]; // [N, H, W, Ci]
  readonly k: number;
  readonly co: number;
  readonly stride: number;
  readonly pad: Pad;
  readonly seed: number;
}

/** Kernels 1/3/4 × strides 1/2 × same/valid/explicit pads, on odd and even sizes. */
const convCases: ConvCase[] = [1, 3, 4].flatMap((k) => [1, 2].flatMap((stride) =>
  (['same', 'valid', [[0, 0], [1, 2], [2, 0], [0, 0]]] as Pad[]).map((pad, i) => ({
    x: [1 + (k % 2), 5 + i + stride, 8 - i, 3] as [number, number, number, number],
    k,
    co: 2 + i,
    stride,
    pad,
    seed: 100 * k + 10 * stride + i,
  }))));

function describe(c: ConvCase): string {
  return `x ${c.x} k${c.k} s${c.stride} pad ${JSON.stringify(c.pad)}`;
}

/** Output shape of the forward conv: [N, OH, OW, Co]. */
function outShape(c: ConvCase): number[] {
  return tf.tidy(() => tf.conv2d(tf.zeros(c.x) as tf.Tensor4D, tf.zeros([c.k, c.k, c.x[3], c.co]) as tf.Tensor4D,
    c.stride, c.pad).shape);
}

function convData(c: ConvCase) {
  const dyShape = outShape(c);
  const filterShape = [c.k, c.k, c.x[3], c.co];
  return {
    x: randomValues(tf.util.sizeFromShape(c.x), c.seed), // [N, H, W, Ci]
    dy: randomValues(tf.util.sizeFromShape(dyShape), c.seed + 1), // [N, OH, OW, Co]
    filter: randomValues(tf.util.sizeFromShape(filterShape), c.seed + 2), // [KH, KW, Ci, Co]
    dyShape,
    filterShape,
  };
}

function backpropFilter(c: ConvCase): Float32Array {
  const d = convData(c);
  return tf.tidy(() => (tf.engine().runKernel(tf.Conv2DBackpropFilter,
    { x: tf.tensor(d.x, c.x), dy: tf.tensor(d.dy, d.dyShape) },
    { strides: c.stride, pad: c.pad, dataFormat: 'NHWC', filterShape: d.filterShape }) as tf.Tensor)
    .dataSync() as Float32Array);
}

function backpropInput(c: ConvCase): Float32Array {
  const d = convData(c);
  return tf.tidy(() => tf.conv2dTranspose(tf.tensor4d(d.dy, d.dyShape as [number, number, number, number]),
    tf.tensor4d(d.filter, d.filterShape as [number, number, number, number]), c.x, c.stride, c.pad)
    .dataSync() as Float32Array);
}

test('wasm Conv2DBackpropFilter matches cpu (kernels 1/3/4, strides 1/2, same/valid/explicit)', async () => {
  for (const c of convCases) {
    const err = relError(await onBackend('wasm', () => backpropFilter(c)), await onBackend('cpu', () => backpropFilter(c)));
    assert.ok(err < 1e-4, `${describe(c)}: rel error ${err}`);
  }
});

test('wasm Conv2DBackpropInput matches cpu (kernels 1/3/4, strides 1/2, same/valid/explicit)', async () => {
  for (const c of convCases) {
    const err = relError(await onBackend('wasm', () => backpropInput(c)), await onBackend('cpu', () => backpropInput(c)));
    assert.ok(err < 1e-4, `${describe(c)}: rel error ${err}`);
  }
});

test('conv2d and conv2dTranspose filter gradients on wasm match cpu', async () => {
  const c: ConvCase = { x: [2, 7, 6, 3], k: 4, co: 5, stride: 2, pad: 'same', seed: 7 };
  const d = convData(c);
  const grads = () => tf.tidy(() => {
    const filter = tf.tensor4d(d.filter, d.filterShape as [number, number, number, number]);
    const convGrad = tf.grad((f) => tf.conv2d(tf.tensor4d(d.x, c.x), f as tf.Tensor4D, c.stride, c.pad).square().sum())(filter);
    const transposeGrad = tf.grad((f) => tf.conv2dTranspose(
      tf.tensor4d(d.dy, d.dyShape as [number, number, number, number]), f as tf.Tensor4D, c.x, c.stride, c.pad).square().sum())(filter);
    return [...convGrad.dataSync(), ...transposeGrad.dataSync()];
  });
  const err = relError(await onBackend('wasm', grads), await onBackend('cpu', grads));
  assert.ok(err < 1e-4, `rel error ${err}`);
});

test('wasm UnsortedSegmentSum (and so the gather gradient) matches cpu', async () => {
  const x = randomValues(12 * 5, 11); // [12, 5]
  const ids = [2, -1, 0, 2, 7, 1, 0, 0, 3, 2, 2, 1]; // [12]; -1 and 7 are dropped
  const sums = () => tf.tidy(() => [
    ...tf.unsortedSegmentSum(tf.tensor2d(x, [12, 5]), tf.tensor1d(ids, 'int32'), 4).dataSync(),
    ...tf.grad((table: tf.Tensor) => tf.gather(table, tf.tensor1d([1, 3, 1, 0], 'int32')).square().sum())(
      tf.tensor2d(x.slice(0, 20), [4, 5])).dataSync(),
  ]);
  const err = relError(await onBackend('wasm', sums), await onBackend('cpu', sums));
  assert.ok(err < 1e-6, `rel error ${err}`);
});

interface MatMulCase {
  readonly a: number[]; // [...batch, M, K]
  readonly b: number[]; // [...batch, K, N]
  readonly transposeA: boolean;
  readonly transposeB: boolean;
  readonly fused: boolean;
}

/** Shapes before transposition; with transposes, batches, broadcasting, fused bias + relu. */
const matMulCases: MatMulCase[] = [
  [[5, 7], [7, 3]], [[2, 5, 7], [2, 7, 3]], [[2, 5, 7], [7, 3]], [[5, 7], [3, 7, 3]],
  [[2, 3, 5, 7], [2, 3, 7, 4]], [[1, 5, 7], [4, 7, 3]], [[2, 3, 5, 7], [7, 4]],
].flatMap(([a, b]) => [false, true].flatMap((transposeA) => [false, true].flatMap((transposeB) =>
  [false, true].map((fused) => ({ a, b, transposeA, transposeB, fused })))));

function matMul(c: MatMulCase, seed: number): { shape: number[]; values: number[] } {
  const stored = (shape: number[], t: boolean) => (t ? [...shape.slice(0, -2), shape.at(-1)!, shape.at(-2)!] : shape);
  const [aShape, bShape] = [stored(c.a, c.transposeA), stored(c.b, c.transposeB)];
  return tf.tidy(() => {
    const a = tf.tensor(randomValues(tf.util.sizeFromShape(aShape), seed), aShape);
    const b = tf.tensor(randomValues(tf.util.sizeFromShape(bShape), seed + 1), bShape);
    const out = c.fused
      ? tf.fused.matMul({ a, b, transposeA: c.transposeA, transposeB: c.transposeB, bias: tf.scalar(0.25).reshape([1]),
        activation: 'relu' })
      : tf.matMul(a, b, c.transposeA, c.transposeB);
    return { shape: out.shape, values: [...out.dataSync()] };
  });
}

test('wasm BatchMatMul and _FusedMatMul match cpu (transposes, batches, broadcasting, size-1 bias)', async () => {
  for (const [i, c] of matMulCases.entries()) {
    const wasm = await onBackend('wasm', () => matMul(c, i));
    const cpu = await onBackend('cpu', () => matMul(c, i));
    assert.deepEqual(wasm.shape, cpu.shape, JSON.stringify(c));
    const err = relError(wasm.values, cpu.values);
    assert.ok(err < 1e-5, `${JSON.stringify(c)}: rel error ${err}`);
  }
});

test('custom wasm kernels leak neither tensors nor wasm buffers', () => {
  for (const c of convCases.filter((_, i) => i % 3 === 0)) {
    const before = memoryCounts();
    backpropFilter(c);
    backpropInput(c);
    assert.deepEqual(memoryCounts(), before, describe(c));
  }
  for (const [i, c] of matMulCases.entries()) {
    const before = memoryCounts();
    matMul(c, i);
    assert.deepEqual(memoryCounts(), before, JSON.stringify(c));
  }
  const before = memoryCounts();
  tf.tidy(() => tf.unsortedSegmentSum(tf.ones([6, 2]), tf.tensor1d([0, 1, 0, 2, 1, 0], 'int32'), 3).dataSync());
  assert.deepEqual(memoryCounts(), before, 'UnsortedSegmentSum');
});
