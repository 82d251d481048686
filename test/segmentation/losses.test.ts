import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { crossEntropyFromLogits, segmentationLoss, softDiceLoss } from '../../src/segmentation/losses.js';

await initEngine({ backend: 'cpu' });

const close = (a: number, b: number, tol = 1e-5) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

// One image of 1×2 pixels, K = 2. Pixel a: logits [0, ln 3] → softmax [1/4, 3/4], truth class 1.
// Pixel b: logits [2, 0] → softmax [e²/(e²+1), 1/(e²+1)], truth class 0.
const E2 = Math.exp(2);
const logits = () => tf.tensor4d([0, Math.log(3), 2, 0], [1, 1, 2, 2]);
const target = () => tf.tensor4d([0, 1, 1, 0], [1, 1, 2, 2]);

test('cross-entropy from logits: hand values, class weights, stable for huge logits', () => {
  tf.tidy(() => {
    const ceA = -Math.log(3 / 4);
    const ceB = -Math.log(E2 / (E2 + 1));
    close(crossEntropyFromLogits(logits(), target()).arraySync(), (ceA + ceB) / 2);
    // weights [w0, w1] = [1, 3]: pixel a (class 1) weight 3, pixel b weight 1
    close(crossEntropyFromLogits(logits(), target(), [1, 3]).arraySync(), (3 * ceA + 1 * ceB) / (3 + 1));
    const huge = crossEntropyFromLogits(tf.tensor4d([1000, -1000], [1, 1, 1, 2]), tf.tensor4d([0, 1], [1, 1, 1, 2])).arraySync();
    close(huge, 2000, 1e-2);
  });
});

test('soft Dice: hand values, background excluded by default, per image vs batch', () => {
  tf.tidy(() => {
    const eps = 1e-5;
    const p1 = [3 / 4, 1 / (E2 + 1)]; // class-1 probabilities of pixels a, b
    const y1 = [1, 0];
    const inter = p1[0]! * y1[0]!;
    const dice1 = (2 * inter + eps) / (p1[0]! + p1[1]! + 1 + eps);
    close(softDiceLoss(logits(), target()).arraySync(), 1 - dice1);
    const p0 = [1 / 4, E2 / (E2 + 1)];
    const dice0 = (2 * p0[1]! + eps) / (p0[0]! + p0[1]! + 1 + eps);
    close(softDiceLoss(logits(), target(), { includeBackground: true }).arraySync(), 1 - (dice0 + dice1) / 2);
    // Batch Dice over two copies of the image equals the per-image Dice of one (sums double, ratio unchanged up to ε).
    const two = tf.concat([logits(), logits()]) as tf.Tensor4D;
    const twoT = tf.concat([target(), target()]) as tf.Tensor4D;
    close(softDiceLoss(two, twoT, { batch: true, smooth: 0 }).arraySync(), softDiceLoss(logits(), target(), { smooth: 0 }).arraySync());
    // A perfect, confident prediction has loss ≈ 0.
    close(softDiceLoss(tf.tensor4d([-50, 50, 50, -50], [1, 1, 2, 2]), target()).arraySync(), 0, 1e-5);
  });
});

test('segmentation loss = ceWeight·CE + diceWeight·Dice, no leaks', () => {
  const l = logits();
  const t = target();
  const before = tf.memory().numTensors;
  const loss = segmentationLoss(l, t, { ceWeight: 0.5, diceWeight: 2 });
  close(loss.total.arraySync(), 0.5 * loss.ce.arraySync() + 2 * loss.dice.arraySync());
  for (const x of [loss.total, loss.ce, loss.dice]) x.dispose();
  assert.equal(tf.memory().numTensors, before);
  assert.throws(() => segmentationLoss(l, t, { ceWeight: 0, diceWeight: 0 }), /not both 0/);
  l.dispose();
  t.dispose();
});

test('losses are differentiable with respect to the logits', () => {
  const l = tf.variable(logits());
  const t = target();
  const { value, grads } = tf.variableGrads(() => segmentationLoss(l, t as tf.Tensor4D).total, [l]);
  assert.ok(Number.isFinite(value.arraySync()));
  const g = grads[l.name]!.arraySync() as number[][][][];
  // Raising the true class's logit at pixel a lowers the loss.
  assert.ok(g[0]![0]![0]![1]! < 0);
  value.dispose();
  tf.dispose(grads);
  l.dispose();
  t.dispose();
});
