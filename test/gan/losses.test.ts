import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { ADVERSARIAL_LOSSES, ADVERSARIAL_LOSS_KINDS, type AdversarialLossKind } from '../../src/gan/losses.js';

await initEngine({ backend: 'cpu', log: () => {} });

const sp = (x: number): number => Math.log1p(Math.exp(x));
const REAL = [2, -1];
const FAKE = [0.5, -3];

function d(kind: AdversarialLossKind, real = REAL, fake = FAKE, realLabel = 1): number {
  return tf.tidy(() => ADVERSARIAL_LOSSES[kind].discriminator(tf.tensor2d(real, [real.length, 1]), tf.tensor2d(fake, [fake.length, 1]), { realLabel }).dataSync()[0]!);
}

function g(kind: AdversarialLossKind, fake = FAKE): number {
  return tf.tidy(() => ADVERSARIAL_LOSSES[kind].generator(tf.tensor2d(fake, [fake.length, 1])).dataSync()[0]!);
}

function close(actual: number, expected: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= 1e-5 * Math.max(1, Math.abs(expected)), `${what}: ${actual} vs ${expected}`);
}

test('non-saturating: BCE on logits, with one-sided label smoothing', () => {
  close(d('non-saturating'), (sp(-2) + sp(1)) / 2 + (sp(0.5) + sp(-3)) / 2, 'D');
  close(g('non-saturating'), (sp(-0.5) + sp(3)) / 2, 'G');
  // Real target 0.9: 0.9·sp(−r) + 0.1·sp(r).
  close(d('non-saturating', REAL, FAKE, 0.9), (0.9 * sp(-2) + 0.1 * sp(2) + 0.9 * sp(1) + 0.1 * sp(-1)) / 2 + (sp(0.5) + sp(-3)) / 2, 'D smoothed');
  // Stable for huge logits (no σ ever formed).
  assert.ok(Number.isFinite(d('non-saturating', [-200, 300], [400, -500])));
  close(d('non-saturating', [-200], [400]), 200 + 400, 'D saturates linearly');
});

test('least-squares: a = 0, b = 1, c = 1 with ½ factors', () => {
  close(d('least-squares'), 0.5 * (((2 - 1) ** 2 + (-1 - 1) ** 2) / 2) + 0.5 * ((0.5 ** 2 + 3 ** 2) / 2), 'D');
  close(g('least-squares'), 0.5 * (((0.5 - 1) ** 2 + (-3 - 1) ** 2) / 2), 'G');
  close(d('least-squares', REAL, FAKE, 0.9), 0.5 * (((2 - 0.9) ** 2 + (-1 - 0.9) ** 2) / 2) + 0.5 * ((0.5 ** 2 + 3 ** 2) / 2), 'D smoothed');
});

test('wasserstein and hinge', () => {
  close(d('wasserstein'), (0.5 - 3) / 2 - (2 - 1) / 2, 'W D');
  close(g('wasserstein'), -(0.5 - 3) / 2, 'W G');
  close(d('hinge'), (0 + 2) / 2 + (1.5 + 0) / 2, 'hinge D');
  close(g('hinge'), -(0.5 - 3) / 2, 'hinge G');
});

test('every loss: D falls as real logits rise and fake logits fall; G falls as fake logits rise', () => {
  for (const kind of ADVERSARIAL_LOSS_KINDS) {
    // Around r = 0, f = 0.5 (LSGAN's D is minimal at f = 0, its fake target).
    assert.ok(d(kind, [0.5], [0.5]) < d(kind, [0], [0.5]), `${kind}: D vs real`);
    assert.ok(d(kind, [0], [0]) < d(kind, [0], [0.5]), `${kind}: D vs fake`);
    assert.ok(g(kind, [0.5]) < g(kind, [0]), `${kind}: G`);
  }
  assert.deepEqual(ADVERSARIAL_LOSS_KINDS.filter((k) => ADVERSARIAL_LOSSES[k].hasLabels), ['non-saturating', 'least-squares']);
});

test('losses and their gradients leak no tensors', () => {
  const real = tf.tensor2d([1, 2], [2, 1]);
  const fake = tf.tensor2d([0, -1], [2, 1]);
  const before = tf.memory().numTensors;
  for (const kind of ADVERSARIAL_LOSS_KINDS) {
    tf.tidy(() => {
      const grads = tf.grads((r: tf.Tensor, f: tf.Tensor) => tf.add(ADVERSARIAL_LOSSES[kind].discriminator(r, f), ADVERSARIAL_LOSSES[kind].generator(f)))([real, fake]);
      assert.ok(grads.every((gr) => gr.dataSync().every(Number.isFinite)));
    });
  }
  assert.equal(tf.memory().numTensors, before);
  tf.dispose([real, fake]);
});
