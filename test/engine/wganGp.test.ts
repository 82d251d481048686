/**
 * WGAN-GP through a tiny conv critic with leakyRelu: the gradient of the gradient penalty with
 * respect to the critic weights (double backprop through conv2d, leakyRelu and matMul) matches
 * central differences, on wasm and on cpu, and the two backends agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

const X_SHAPE: [number, number, number, number] = [2, 6, 6, 2]; // [N, H, W, C]
const WEIGHT_SHAPES: [number, number, number, number][] = [
  [3, 3, 2, 4], // conv 3x3 stride 2 'same': [2, 6, 6, 2] → [2, 3, 3, 4]
  [3, 3, 4, 3], // conv 3x3 stride 1 'same': [2, 3, 3, 4] → [2, 3, 3, 3]
];
const DENSE_SHAPE: [number, number] = [27, 1]; // [3·3·3, 1]
const EPS = 5e-3;

const real = randomValues(tf.util.sizeFromShape(X_SHAPE), 1);
const fake = randomValues(tf.util.sizeFromShape(X_SHAPE), 2);
const alpha = [0.3, 0.8]; // one interpolation weight per sample
const initialWeights = [...WEIGHT_SHAPES, DENSE_SHAPE].map((shape, i) =>
  randomValues(tf.util.sizeFromShape(shape), 10 + i).map((v) => 0.6 * v));

/** Critic score [N, 1] and its pre-activations (whose signs are leakyRelu's kinks). */
function critic(x: tf.Tensor4D, [w1, w2, w3]: tf.Tensor[]): { score: tf.Tensor; pre: tf.Tensor[] } {
  const pre1 = tf.conv2d(x, w1 as tf.Tensor4D, 2, 'same'); // [N, 3, 3, 4]
  const pre2 = tf.conv2d(tf.leakyRelu(pre1, 0.2), w2 as tf.Tensor4D, 1, 'same'); // [N, 3, 3, 3]
  const score = tf.matMul(tf.leakyRelu(pre2, 0.2).reshape([X_SHAPE[0], -1]), w3 as tf.Tensor2D); // [N, 1]
  return { score, pre: [pre1, pre2] };
}

function interpolated(): tf.Tensor4D {
  const a = tf.tensor4d(alpha, [X_SHAPE[0], 1, 1, 1]); // [N, 1, 1, 1]
  return tf.add(tf.mul(a, tf.tensor4d(real, X_SHAPE)), tf.mul(tf.sub(1, a), tf.tensor4d(fake, X_SHAPE)));
}

/** mean over samples of (‖∇x̂ D(x̂)‖ − 1)². */
function gradientPenalty(weights: tf.Tensor[]): tf.Scalar {
  const dx = tf.grad((x) => critic(x as tf.Tensor4D, weights).score.sum())(interpolated()); // [N, H, W, C]
  const norms = tf.sqrt(tf.add(tf.sum(tf.square(dx), [1, 2, 3]), 1e-12)); // [N]
  return tf.mean(tf.square(tf.sub(norms, 1)));
}

function toTensors(values: Float32Array[]): tf.Tensor[] {
  return values.map((v, i) => tf.tensor(v, [...WEIGHT_SHAPES, DENSE_SHAPE][i]));
}

function penaltyGradients(): Float32Array[] {
  return tf.tidy(() => tf.grads((...weights: tf.Tensor[]) => gradientPenalty(weights))(toTensors(initialWeights)).map((g) => g.dataSync() as Float32Array));
}

function penaltyAndKinks(weights: Float32Array[]): { value: number; signs: string } {
  return tf.tidy(() => {
    const tensors = toTensors(weights);
    const signs = critic(interpolated(), tensors).pre.map((p) => Array.from(p.dataSync(), Math.sign).join('')).join('|');
    return { value: gradientPenalty(tensors).dataSync()[0], signs };
  });
}

function checkAgainstFiniteDifferences(): void {
  const analytic = penaltyGradients();
  let compared = 0;
  analytic.forEach((grad, t) => {
    const scale = Math.max(...grad.map(Math.abs));
    assert.ok(scale > 0, `weights ${t}: gradient is identically zero`);
    for (let i = 0; i < grad.length; i += Math.ceil(grad.length / 8)) {
      const shifted = (delta: number) =>
        penaltyAndKinks(initialWeights.map((w, j) => (j === t ? w.map((v, k) => (k === i ? v + delta : v)) : w)));
      const plus = shifted(EPS);
      const minus = shifted(-EPS);
      if (plus.signs !== minus.signs) continue; // the step crosses a leakyRelu kink
      compared++;
      const numeric = (plus.value - minus.value) / (2 * EPS);
      assert.ok(Math.abs(numeric - grad[i]) <= 1e-2 * scale,
        `weights ${t}[${i}]: finite differences ${numeric}, gradient ${grad[i]}`);
    }
  });
  assert.ok(compared >= 16, `only ${compared} coordinates away from kinks`);
}

test('WGAN-GP penalty gradient w.r.t. critic weights matches finite differences on wasm', async () => {
  await onBackend('wasm', checkAgainstFiniteDifferences);
});

test('WGAN-GP penalty gradient w.r.t. critic weights matches finite differences on cpu', async () => {
  await onBackend('cpu', checkAgainstFiniteDifferences);
});

test('WGAN-GP penalty gradient agrees between wasm and cpu', async () => {
  const wasm = (await onBackend('wasm', penaltyGradients)).flatMap((g) => [...g]);
  const cpu = (await onBackend('cpu', penaltyGradients)).flatMap((g) => [...g]);
  const err = relError(wasm, cpu);
  assert.ok(err < 1e-4, `rel error ${err}`);
});
