/**
 * The fused training-mode batch / instance norm kernels (core/kernels/normKernels.ts) against the
 * composite of tf.moments and arithmetic, on the wasm and cpu backends: values, statistics, first
 * derivatives (x, γ, β), second derivatives (a WGAN-GP-style penalty differentiated again), finite
 * differences, memory, and the layer (models/layers/norm.ts) with its running buffers.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { NORM_TRAIN } from '../../src/core/kernels/normKernels.js';
import { Rng } from '../../src/core/rng.js';
import { applyNorm, createNorm, NORM_EPS } from '../../src/models/layers/norm.js';
import { ParamCollector } from '../../src/models/layers/params.js';
import { finiteDifferences, memoryCounts, onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

type Shape = [number, number, number, number];
const SHAPES: Shape[] = [[2, 3, 5, 4], [4, 6, 6, 7], [1, 8, 4, 16], [3, 1, 1, 5]];

function composite(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, perSample: boolean): tf.Tensor4D {
  const { mean, variance } = tf.moments(x, perSample ? [1, 2] : [0, 1, 2], true);
  return tf.add(tf.mul(tf.div(tf.sub(x, mean), tf.sqrt(tf.add(variance, NORM_EPS))), gamma), beta) as tf.Tensor4D;
}

function fused(x: tf.Tensor4D, gamma: tf.Tensor, beta: tf.Tensor, perSample: boolean): tf.Tensor4D {
  const out = tf.engine().runKernel(NORM_TRAIN, { x, gamma, beta }, { perSample, eps: NORM_EPS }) as unknown as tf.Tensor[];
  return out[0] as tf.Tensor4D;
}

type Norm = typeof fused;

function inputs(shape: Shape, seed: number) {
  const c = shape[3];
  return {
    // an offset mean and spread-out scale, as a conv output has
    x: tf.add(tf.mul(tf.tensor4d(randomValues(tf.util.sizeFromShape(shape), seed), shape), 3), 0.7) as tf.Tensor4D,
    gamma: tf.tensor1d(randomValues(c, seed + 1, 0.5)),
    beta: tf.tensor1d(randomValues(c, seed + 2)),
    w: tf.tensor4d(randomValues(tf.util.sizeFromShape(shape), seed + 3), shape),
  };
}

/** y, then d(Σ y·w)/d(x, γ, β), then the gradient of the penalty ‖d(Σ y·w)/dx‖² wrt (x, γ). */
function everything(norm: Norm, shape: Shape, seed: number, perSample: boolean): number[] {
  return tf.tidy(() => {
    const { x, gamma, beta, w } = inputs(shape, seed);
    const y = norm(x, gamma, beta, perSample);
    const loss = (a: tf.Tensor, g: tf.Tensor, b: tf.Tensor) => tf.sum(tf.mul(norm(a as tf.Tensor4D, g, b, perSample), w)) as tf.Scalar;
    const first = tf.grads(loss)([x, gamma, beta]);
    // ‖dx‖² does not depend on β (tf.grads would refuse it)
    const penalty = (a: tf.Tensor, g: tf.Tensor) => {
      const dx = tf.grad((v: tf.Tensor) => loss(v, g, beta))(a);
      return tf.sum(tf.square(dx)) as tf.Scalar;
    };
    const second = tf.grads(penalty)([x, gamma]);
    return [...y.dataSync(), ...first.flatMap((t) => [...t.dataSync()]), ...second.flatMap((t) => [...t.dataSync()])];
  });
}

for (const perSample of [false, true]) {
  const kind = perSample ? 'instance' : 'batch';
  test(`${kind} norm: fused kernel = composite (values, first and second derivatives) on wasm and cpu`, async () => {
    for (const [i, shape] of SHAPES.entries()) {
      const reference = await onBackend('cpu', () => everything(composite, shape, 10 * i, perSample));
      for (const backend of ['cpu', 'wasm'] as const) {
        const err = relError(await onBackend(backend, () => everything(fused, shape, 10 * i, perSample)), reference);
        assert.ok(err < 2e-5, `${kind} ${shape} on ${backend}: rel error ${err}`);
      }
    }
  });
}

test('the fused gradient agrees with finite differences (float64-free check on cpu)', async () => {
  const shape: Shape = [2, 3, 3, 3];
  await onBackend('cpu', () => {
    const { x, gamma, beta, w } = inputs(shape, 99);
    const values = Float32Array.from(x.dataSync());
    const f = (v: Float32Array) => tf.tidy(() => tf.sum(tf.mul(fused(tf.tensor4d(v, shape), gamma, beta, false), w)).dataSync()[0]!);
    const g = tf.grad((a: tf.Tensor) => tf.sum(tf.mul(fused(a as tf.Tensor4D, gamma, beta, false), w)))(x).dataSync();
    const coords = [0, 5, 17, 30, 53];
    const fd = finiteDifferences(f, values, coords, 1e-2);
    const analytic = coords.map((c) => g[c]!);
    assert.ok(relError(analytic, fd) < 2e-2, `analytic ${analytic} vs finite differences ${fd}`);
    tf.dispose([x, gamma, beta, w]);
  });
});

test('a training step through the fused norm leaks no tensors or buffers', () => {
  const shape: Shape = [4, 8, 8, 6];
  const { x, gamma, beta, w } = inputs(shape, 5);
  const g = tf.variable(gamma);
  const step = () => tf.tidy(() => tf.variableGrads(() => tf.sum(tf.mul(fused(x, g, beta, false), w)) as tf.Scalar, [g]).grads.gamma);
  tf.dispose(step());
  const before = memoryCounts();
  tf.dispose(step());
  assert.deepEqual(memoryCounts(), before);
  tf.dispose([x, gamma, beta, w, g]);
});

test('the batch-norm layer: same output and running buffers as the composite (wasm vs cpu composite)', async () => {
  const shape: Shape = [4, 5, 5, 6];
  const run = () => tf.tidy(() => {
    const collector = new ParamCollector();
    const layer = createNorm(collector, 'bn', 'batch', 6, new Rng(3));
    const x = inputs(shape, 21).x;
    const y = applyNorm(layer, x, true);
    if (layer.kind !== 'batch') throw new Error('expected a batch layer');
    return [...y.dataSync(), ...layer.runningMean.dataSync(), ...layer.runningVar.dataSync()];
  });
  const fusedValues = await onBackend('wasm', run);
  const { mean, variance } = await onBackend('cpu', () => tf.tidy(() => {
    const m = tf.moments(inputs(shape, 21).x, [0, 1, 2]);
    return { mean: [...m.mean.dataSync()], variance: [...m.variance.dataSync()] };
  }));
  const count = 4 * 5 * 5;
  const runningMean = mean.map((m) => 0.1 * m);
  const runningVar = variance.map((v) => 0.9 + 0.1 * v * count / (count - 1));
  const tail = fusedValues.slice(-12);
  assert.ok(relError(tail, [...runningMean, ...runningVar]) < 1e-5, `running buffers ${tail}`);
});
