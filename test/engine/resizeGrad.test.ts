/**
 * The resize gradient kernels are the adjoint of the forward resize, ⟨resize(x), y⟩ = ⟨x, Aᵀy⟩,
 * for every mode, on wasm and cpu, with N > 1, C > 1 and non-square images (TF.js' own kernels
 * fail each of these somewhere), and the two backends agree.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

const X_SHAPE: [number, number, number, number] = [2, 4, 5, 3]; // [N, H, W, C]
const SIZES: [number, number][] = [[7, 8], [3, 2], [8, 10], [4, 5]];
const MODES = [
  { alignCorners: false, halfPixelCenters: false },
  { alignCorners: true, halfPixelCenters: false },
  { alignCorners: false, halfPixelCenters: true },
];
const RESIZES = { bilinear: tf.image.resizeBilinear, nearest: tf.image.resizeNearestNeighbor };

const cases = Object.entries(RESIZES).flatMap(([name, resize]) =>
  SIZES.flatMap((size) => MODES.map((mode) => ({ name, resize, size, mode }))));

type Case = (typeof cases)[number];

function describe(c: Case): string {
  return `${c.name} → ${c.size} ${JSON.stringify(c.mode)}`;
}

/** [⟨resize(x), y⟩, ⟨x, ∂/∂x ⟨resize(x), y⟩⟩, ...∂/∂x]. */
function adjointPair(c: Case): number[] {
  return tf.tidy(() => {
    const x = tf.tensor4d(randomValues(tf.util.sizeFromShape(X_SHAPE), 1), X_SHAPE);
    const yShape: [number, number, number, number] = [X_SHAPE[0], ...c.size, X_SHAPE[3]];
    const y = tf.tensor4d(randomValues(tf.util.sizeFromShape(yShape), 2), yShape);
    const forward = (t: tf.Tensor) =>
      tf.sum(tf.mul(c.resize(t as tf.Tensor4D, c.size, c.mode.alignCorners, c.mode.halfPixelCenters), y));
    const grad = tf.grad(forward)(x);
    return [forward(x).dataSync()[0], tf.sum(tf.mul(x, grad)).dataSync()[0], ...grad.dataSync()];
  });
}

for (const backend of ['wasm', 'cpu'] as const) {
  test(`resize gradients are the adjoint of the forward resize on ${backend}`, async () => {
    for (const c of cases) {
      const [lhs, rhs] = await onBackend(backend, () => adjointPair(c));
      assert.ok(Math.abs(lhs - rhs) <= 1e-5 * Math.max(1, Math.abs(lhs)), `${describe(c)}: ${lhs} vs ${rhs}`);
    }
  });
}

test('resize gradients agree between wasm and cpu', async () => {
  for (const c of cases) {
    const err = relError((await onBackend('wasm', () => adjointPair(c))).slice(2),
      (await onBackend('cpu', () => adjointPair(c))).slice(2));
    assert.ok(err < 1e-5, `${describe(c)}: rel error ${err}`);
  }
});
