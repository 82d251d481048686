import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Adam } from '../../src/core/adam.js';

await initEngine({ backend: 'cpu' });

function closeTo(actual: ArrayLike<number>, expected: readonly number[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  for (let i = 0; i < expected.length; i++) {
    assert.ok(Math.abs(actual[i]! - expected[i]!) <= tol * Math.max(1, Math.abs(expected[i]!)), `[${i}] ${actual[i]} vs ${expected[i]}`);
  }
}

test('Adam matches a hand-computed two-step update (PyTorch rule, bias-corrected)', () => {
  const [lr, b1, b2, eps] = [0.1, 0.5, 0.9, 1e-8];
  const p = tf.variable(tf.tensor1d([1, -2]), true, 'adam-test-p');
  const adam = new Adam(new Map([['w', p]]), { learningRate: lr, beta1: b1, beta2: b2, epsilon: eps });
  const g1 = [0.5, -1];
  const g2 = [0.1, 3];

  adam.applyGradients({ [p.name]: tf.tensor1d(g1) });
  // Step 1: m̂ = g, v̂ = g², so each weight moves by lr against the sign of its gradient.
  const p1 = [1 - 0.1, -2 + 0.1];
  closeTo(p.dataSync(), p1);
  closeTo(adam.moments().get('w')!.m.dataSync(), [0.5 * 0.5, 0.5 * -1]);
  closeTo(adam.moments().get('w')!.v.dataSync(), [0.1 * 0.25, 0.1 * 1]);

  adam.applyGradients({ [p.name]: tf.tensor1d(g2) });
  // Step 2: m = [0.5·0.25 + 0.5·0.1, 0.5·(−0.5) + 0.5·3], v = [0.9·0.025 + 0.1·0.01, 0.9·0.1 + 0.1·9].
  const m2 = [0.175, 1.25];
  const v2 = [0.0235, 0.99];
  const p2 = [0, 1].map((i) => p1[i]! - (lr / (1 - 0.5 ** 2)) * m2[i]! / (Math.sqrt(v2[i]!) / Math.sqrt(1 - 0.9 ** 2) + eps));
  closeTo(adam.moments().get('w')!.m.dataSync(), m2);
  closeTo(adam.moments().get('w')!.v.dataSync(), v2);
  closeTo(p.dataSync(), p2);
  assert.equal(adam.step, 2);
  adam.dispose();
  p.dispose();
});

test('Adam applies tf.variableGrads results for its own variables only', () => {
  const a = tf.variable(tf.tensor1d([1, 2]), true, 'adam-test-a');
  const b = tf.variable(tf.tensor1d([3]), true, 'adam-test-b');
  const adam = new Adam(new Map([['a', a]]), { learningRate: 0.5 });
  const before = tf.memory().numTensors;
  const { value, grads } = tf.variableGrads(() => tf.sum(tf.mul(a, tf.tensor1d([2, -3]))) as tf.Scalar, [a]);
  adam.applyGradients(grads);
  tf.dispose([value, grads]);
  closeTo(a.dataSync(), [1 - 0.5, 2 + 0.5], 1e-6);
  assert.deepEqual(Array.from(b.dataSync()), [3]);
  assert.equal(tf.memory().numTensors, before, 'no tensors leaked by an update');
  assert.throws(() => adam.applyGradients({ [b.name]: tf.tensor1d([1]) }), /does not update/);
  adam.dispose();
  tf.dispose([a, b]);
});

test('creating and disposing Adam leaves no tensor behind', () => {
  const p = tf.variable(tf.zeros([3, 2]), true, 'adam-test-leak');
  const before = tf.memory().numTensors;
  const adam = new Adam(new Map([['w', p]]), { learningRate: 0.1 });
  assert.equal(tf.memory().numTensors, before + 2, 'exactly the two moment variables');
  adam.dispose();
  assert.equal(tf.memory().numTensors, before);
  p.dispose();
});
