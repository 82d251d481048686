/**
 * The registered gradients: each probe's gradient matches central differences (float32,
 * eps 1e-2, 1e-2 relative to the gradient's largest entry) and agrees between wasm and cpu.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { finiteDifferences, memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

const EPS = 1e-2;
const X_SHAPE: [number, number, number, number] = [2, 4, 4, 3]; // [N, H, W, C]
const X_SIZE = tf.util.sizeFromShape(X_SHAPE);

/** Σ c ⊙ ∂/∂x Σ w ⊙ f(x): its gradient runs through the gradient of f's gradient kernel. */
function secondOrder(f: (x: tf.Tensor4D) => tf.Tensor, seed: number): (x: tf.Tensor4D) => tf.Scalar {
  return (x) => {
    const grad = tf.grad((y) => {
      const out = f(y as tf.Tensor4D);
      return tf.sum(tf.mul(out, tf.tensor(randomValues(out.size, seed), out.shape)));
    })(x);
    return tf.sum(tf.mul(grad, tf.tensor(randomValues(grad.size, seed + 1), grad.shape)));
  };
}

interface Probe {
  readonly name: string;
  readonly h: (x: tf.Tensor4D) => tf.Scalar;
  readonly shape?: [number, number, number, number];
  /** Input values (default: seeded, |x| ≥ 0.05). */
  readonly values?: Float32Array;
  /** Points where h is not differentiable: coordinates within 2·eps of one are not differenced. */
  readonly kinks?: readonly number[];
}

/** Distinct values spaced 2/size apart (no argmax ties within eps). */
function spacedValues(size: number, seed: number): Float32Array {
  const order = Array.from(randomValues(size, seed), (v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const out = new Float32Array(size);
  order.forEach(([, i], rank) => { out[i] = (2 * rank) / size - 1; });
  return out;
}

const probes: Probe[] = [
  { name: 'leakyRelu (Greater)', h: secondOrder((x) => tf.leakyRelu(x, 0.2).square(), 1), kinks: [0] },
  { name: 'selu (Greater)', h: secondOrder((x) => tf.selu(x).square(), 2), kinks: [0] },
  { name: 'elu (EluGrad)', h: secondOrder((x) => tf.elu(x).square(), 3), kinks: [0] },
  { name: 'relu', h: secondOrder((x) => tf.relu(x).square(), 26), kinks: [0] },
  {
    name: 'conv2d stride 2 (Conv2DBackpropInput on wasm)',
    h: secondOrder((x) => tf.conv2d(x, tf.tensor4d(randomValues(4 * 4 * 3 * 2, 27), [4, 4, 3, 2]), 2, 'same').square(), 28),
  },
  {
    name: 'matMul',
    h: secondOrder((x) => tf.matMul(x.reshape([2, 48]), tf.tensor2d(randomValues(48 * 3, 29), [48, 3])).square(), 30),
  },
  {
    name: 'instance norm from moments',
    h: secondOrder((x) => {
      const { mean, variance } = tf.moments(x, [1, 2], true);
      return tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, 1e-5))).square();
    }, 31),
  },
  { name: 'tanh (saved output)', h: secondOrder((x) => tf.tanh(x).square(), 20) },
  { name: 'sigmoid (saved output)', h: secondOrder((x) => tf.sigmoid(x).square(), 21) },
  { name: 'exp (saved output)', h: secondOrder((x) => tf.exp(x).square(), 22) },
  { name: 'softmax (saved output)', h: secondOrder((x) => tf.softmax(x).square(), 23) },
  { name: 'minimum (LessEqual)', h: secondOrder((x) => tf.minimum(x, 0.3).square(), 4), kinks: [0.3] },
  { name: 'clipByValue (LogicalAnd)', h: secondOrder((x) => tf.clipByValue(x, -0.5, 0.5).square(), 5), kinks: [-0.5, 0.5] },
  { name: 'max (Equal)', h: secondOrder((x) => tf.max(x, 3).square(), 6), values: spacedValues(X_SIZE, 6) },
  { name: 'avgPool same (AvgPoolGrad)', h: secondOrder((x) => tf.avgPool(x, 3, 2, 'same').square(), 7) },
  { name: 'avgPool valid (AvgPoolGrad)', h: secondOrder((x) => tf.avgPool(x, 2, 2, 'valid').square(), 8) },
  { name: 'resizeBilinear up (ResizeBilinearGrad)', h: secondOrder((x) => tf.image.resizeBilinear(x, [7, 8]).square(), 9) },
  {
    name: 'resizeBilinear down, half-pixel (ResizeBilinearGrad)',
    h: secondOrder((x) => tf.image.resizeBilinear(x, [3, 2], false, true).square(), 10),
  },
  {
    name: 'resizeBilinear align corners (ResizeBilinearGrad)',
    h: secondOrder((x) => tf.image.resizeBilinear(x, [6, 5], true).square(), 11),
  },
  {
    name: 'resizeNearestNeighbor (ResizeNearestNeighborGrad)',
    h: secondOrder((x) => tf.image.resizeNearestNeighbor(x, [8, 6]).square(), 12),
  },
  {
    name: 'resizeNearestNeighbor half-pixel, first order (ResizeNearestNeighborGrad kernel)',
    h: (x) => tf.sum(tf.mul(tf.image.resizeNearestNeighbor(x, [7, 3], false, true),
      tf.tensor(randomValues(2 * 7 * 3 * 3, 24), [2, 7, 3, 3]))),
  },
  {
    name: 'resizeBilinear half-pixel, first order (ResizeBilinearGrad kernel)',
    h: (x) => tf.sum(tf.mul(tf.image.resizeBilinear(x, [7, 3], false, true),
      tf.tensor(randomValues(2 * 7 * 3 * 3, 25), [2, 7, 3, 3]))),
  },
  {
    name: 'depthToSpace (DepthToSpace, first order)',
    shape: [2, 2, 3, 8],
    h: (x) => tf.sum(tf.mul(tf.depthToSpace(x, 2).square(), tf.tensor(randomValues(96, 13), [2, 4, 6, 2]))),
  },
  {
    name: 'conv weight-gradient penalty (Conv2DBackpropFilter)',
    h: (x) => {
      const filter = tf.tensor4d(randomValues(3 * 3 * 3 * 2, 14), [3, 3, 3, 2]); // [KH, KW, Ci, Co]
      const dw = tf.grad((w) => tf.conv2d(x, w as tf.Tensor4D, 2, 'same').square().sum())(filter);
      return tf.sum(tf.mul(dw, tf.tensor(randomValues(dw.size, 15), dw.shape)));
    },
  },
  {
    name: 'notEqual, logicalOr, logicalNot, less (zero gradients)',
    h: (x) => tf.where(tf.logicalOr(tf.notEqual(x, 0.25), tf.logicalNot(tf.less(x, 0))), x.square(), x).sum(),
  },
];

function inputOf(p: Probe): { values: Float32Array; shape: [number, number, number, number] } {
  const shape = p.shape ?? X_SHAPE;
  return { values: p.values ?? randomValues(tf.util.sizeFromShape(shape), 42, 0.05), shape };
}

function gradient(p: Probe): Float32Array {
  const { values, shape } = inputOf(p);
  return tf.tidy(() => tf.grad((x) => p.h(x as tf.Tensor4D))(tf.tensor4d(values, shape)).dataSync() as Float32Array);
}

function evaluate(p: Probe, values: Float32Array): number {
  const { shape } = inputOf(p);
  return tf.tidy(() => p.h(tf.tensor4d(values, shape)).dataSync()[0]);
}

/** Up to 10 coordinates at least 2·eps away from every kink. */
function smoothCoords(p: Probe, values: Float32Array): number[] {
  const kinks = p.kinks ?? [];
  const ok = [...values.keys()].filter((i) => kinks.every((k) => Math.abs(values[i] - k) > 2 * EPS));
  return ok.filter((_, j) => j % Math.ceil(ok.length / 10) === 0);
}

for (const p of probes) {
  test(`gradient of ${p.name} matches finite differences on wasm`, () => {
    const { values } = inputOf(p);
    const analytic = gradient(p);
    const coords = smoothCoords(p, values);
    const numeric = finiteDifferences((v) => evaluate(p, v), values, coords, EPS);
    const scale = Math.max(...analytic.map(Math.abs));
    assert.ok(scale > 0, 'the gradient is not identically zero');
    coords.forEach((i, j) => {
      assert.ok(Math.abs(numeric[j] - analytic[i]) <= 1e-2 * scale,
        `x[${i}] = ${values[i]}: finite differences ${numeric[j]}, gradient ${analytic[i]}`);
    });
  });

  test(`gradient of ${p.name} agrees between wasm and cpu`, async () => {
    const err = relError(await onBackend('wasm', () => gradient(p)), await onBackend('cpu', () => gradient(p)));
    assert.ok(err < 1e-4, `rel error ${err}`);
  });
}

test('depthToSpace NCHW gradient (wasm only: cpu has no NCHW depthToSpace)', () => {
  const x = tf.tensor4d(randomValues(2 * 8 * 2 * 3, 16), [2, 8, 2, 3]); // [N, b·b·C, H, W]
  const w = tf.tensor4d(randomValues(96, 17), [2, 2, 4, 6]); // [N, C, H·b, W·b]
  const grad = tf.grad((t) => tf.sum(tf.mul(tf.depthToSpace(t as tf.Tensor4D, 2, 'NCHW'), w)))(x);
  // d/dx Σ w ⊙ depthToSpace(x) = spaceToDepth(w): the NCHW layout puts (i·b + j)·C + c first.
  const expected = w.reshape([2, 2, 2, 2, 3, 2]).transpose([0, 3, 5, 1, 2, 4]).reshape([2, 8, 2, 3]);
  assert.deepEqual([...grad.dataSync()], [...expected.dataSync()]);
  tf.dispose([x, w, grad, expected]);
});

test('second order through elu and selu works on wasm and cpu', async () => {
  for (const backend of ['wasm', 'cpu'] as const) {
    const values = await onBackend(backend, () => tf.tidy(() => {
      const x = tf.tensor1d([-1.5, -0.2, 0.3, 2]);
      const hessianDiag = (f: (t: tf.Tensor) => tf.Tensor) => tf.grad((t) => tf.grad((u) => f(u).sum())(t).sum())(x);
      return [...hessianDiag(tf.elu).dataSync(), ...hessianDiag(tf.selu).dataSync()];
    }));
    const scale = 1.0507009873554805;
    const alpha = 1.6732632423543772;
    const expected = [Math.exp(-1.5), Math.exp(-0.2), 0, 0,
      scale * alpha * Math.exp(-1.5), scale * alpha * Math.exp(-0.2), 0, 0];
    assert.ok(relError(values, expected) < 1e-5, `${backend}: ${values} vs ${expected}`);
  }
});

test('registered gradients leak no tensors', () => {
  const before = memoryCounts();
  for (const p of probes) gradient(p);
  assert.deepEqual(memoryCounts(), before);
});
