import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import { buildDiscriminator, type DcganConfig } from '../../src/models/dcgan.js';
import {
  clipWeights, featureMatchingLoss, gradientPenalty, interpolationWeights, r1Penalty, type Critic,
} from '../../src/gan/regularizers.js';

await initEngine({ backend: 'cpu', log: () => {} });

function close(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.max(1e-3, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

const SHAPE: [number, number, number, number] = [2, 4, 4, 1];

/** D(x)_n = Σ w ⊙ x_n: ∇ₓD = w for every sample, so GP = λ(‖w‖ − 1)² and dGP/dw = 2λ(‖w‖ − 1)·w/‖w‖. */
function linearCritic(w: tf.Variable): Critic {
  return (x) => tf.reshape(tf.sum(tf.mul(x, w), [1, 2, 3]), [x.shape[0], 1]);
}

test('gradient penalty of a linear critic: value and double-backprop gradient by hand', () => {
  const rng = new Rng(3);
  const wValues = Float32Array.from({ length: 16 }, () => rng.normal(0, 0.5));
  const w = tf.variable(tf.tensor4d(wValues, [1, 4, 4, 1]));
  const real = tf.randomUniform(SHAPE, -1, 1, 'float32', 1) as tf.Tensor4D;
  const fake = tf.randomUniform(SHAPE, -1, 1, 'float32', 2) as tf.Tensor4D;
  const norm = Math.hypot(...wValues);
  const lambda = 10;
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(
    () => gradientPenalty(linearCritic(w), real, fake, interpolationWeights(2, new Rng(9)), lambda), [w],
  );
  close(value.dataSync()[0]!, lambda * (norm - 1) ** 2, 1e-5, 'GP');
  const g = grads[w.name]!.dataSync();
  wValues.forEach((wi, i) => close(g[i]!, 2 * lambda * (norm - 1) * wi / norm, 1e-4, `dGP/dw[${i}]`));
  tf.dispose([value, grads]);
  assert.equal(tf.memory().numTensors, before, 'GP + grads leak no tensors');
  // R1: γ/2·‖w‖², gradient γ·w.
  const r1 = tf.variableGrads(() => r1Penalty(linearCritic(w), real, 4), [w]);
  close(r1.value.dataSync()[0]!, 2 * norm ** 2, 1e-5, 'R1');
  const gr = r1.grads[w.name]!.dataSync();
  wValues.forEach((wi, i) => close(gr[i]!, 4 * wi, 1e-4, `dR1/dw[${i}]`));
  tf.dispose([r1.value, r1.grads, w, real, fake]);
});

const D_CONFIG: DcganConfig = {
  latentDim: 4,
  g: { filters: 2, activation: 'relu', norm: 'none', spectralNorm: false },
  // ELU is C¹, so central differences are accurate; instance norm keeps samples independent.
  d: { filters: 3, activation: 'elu', norm: 'instance', spectralNorm: false },
  init: { kind: 'normal', gain: 0.3 },
};

test('gradient penalty through a real discriminator matches finite differences (input gradient and parameter gradient)', () => {
  const size = 16;
  const channels = 2;
  const d = buildDiscriminator(D_CONFIG, [size, size, channels], new Rng(4));
  const critic: Critic = (x) => d.apply(x, { training: true }).logits;
  const n = 2;
  const real = tf.randomUniform([n, size, size, channels], -1, 1, 'float32', 1) as tf.Tensor4D;
  const fake = tf.randomUniform([n, size, size, channels], -1, 1, 'float32', 2) as tf.Tensor4D;
  const alpha = Float32Array.from([0.3, 0.8]);
  const lambda = 10;

  // 1. ‖∇D(x̂)‖ by central differences over every input coordinate, all perturbations in one batch.
  const xHat = tf.tidy(() => {
    const a = tf.tensor4d(alpha, [n, 1, 1, 1]);
    return tf.add(tf.mul(a, real), tf.mul(tf.sub(1, a), fake));
  });
  const base = xHat.dataSync();
  const dims = size * size * channels;
  const eps = 1e-2;
  const batch = new Float32Array(2 * dims * n * dims);
  for (let k = 0; k < dims; k++) {
    for (const [s, sign] of [[0, 1], [1, -1]] as const) {
      for (let i = 0; i < n; i++) {
        const offset = ((2 * k + s) * n + i) * dims;
        batch.set(base.subarray(i * dims, (i + 1) * dims), offset);
        batch[offset + k]! += sign * eps;
      }
    }
  }
  const scores = tf.tidy(() => critic(tf.tensor4d(batch, [2 * dims * n, size, size, channels])).dataSync());
  let expected = 0;
  for (let i = 0; i < n; i++) {
    let sq = 0;
    for (let k = 0; k < dims; k++) sq += ((scores[(2 * k) * n + i]! - scores[(2 * k + 1) * n + i]!) / (2 * eps)) ** 2;
    expected += lambda * (Math.sqrt(sq) - 1) ** 2 / n;
  }
  const gp = (): number => tf.tidy(() => gradientPenalty(critic, real, fake, alpha, lambda).dataSync()[0]!);
  close(gp(), expected, 2e-3, 'GP vs finite-difference input gradients');

  // 2. dGP/dθ (double backprop) vs central differences of GP in a few parameters.
  const params = [...d.params.entries()];
  const { grads } = tf.variableGrads(() => gradientPenalty(critic, real, fake, alpha, lambda), params.map(([, v]) => v));
  for (const [name, variable] of params.filter(([k]) => k.endsWith('weight')).slice(0, 3)) {
    const analytic = grads[variable.name]!.dataSync();
    const values = variable.dataSync().slice();
    for (const index of [0, Math.floor(values.length / 2)]) {
      const h = 1e-2 * Math.max(0.1, Math.abs(values[index]!));
      const at = (delta: number): number => {
        const changed = values.slice();
        changed[index]! += delta;
        variable.assign(tf.tensor(changed, variable.shape));
        return gp();
      };
      const numeric = (at(h) - at(-h)) / (2 * h);
      variable.assign(tf.tensor(values, variable.shape));
      assert.ok(Math.abs(analytic[index]! - numeric) <= 2e-2 * Math.abs(numeric) + 2e-3, `${name}[${index}]: ${analytic[index]} vs ${numeric}`);
    }
  }
  tf.dispose([grads, xHat, real, fake]);
  d.dispose();
});

test('weight clipping bounds every variable in place', () => {
  const a = tf.variable(tf.tensor1d([-0.5, 0.005, 0.2]));
  const b = tf.variable(tf.tensor2d([[0.02, -0.01]]));
  clipWeights([a, b], 0.01);
  assert.deepEqual(Array.from(a.dataSync()), [-0.01, 0.005, 0.01].map(Math.fround));
  assert.deepEqual(Array.from(b.dataSync()), [0.01, -0.01].map(Math.fround));
  tf.dispose([a, b]);
});

test('feature matching is ‖mean f(real) − mean f(fake)‖²', () => {
  const value = tf.tidy(() => featureMatchingLoss(tf.tensor2d([[1, 2], [3, 4]]), tf.tensor2d([[0, 0], [2, 2], [1, 1]])).dataSync()[0]);
  // means [2, 3] and [1, 1] → 1² + 2²
  assert.equal(value, 5);
});

test('interpolation weights are seeded and in [0, 1)', () => {
  const a = interpolationWeights(5, new Rng(1));
  assert.deepEqual(a, interpolationWeights(5, new Rng(1)));
  assert.ok(a.every((v) => v >= 0 && v < 1));
});
