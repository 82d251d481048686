/**
 * embedRealVsGenerated: separated clusters → separability ≈ 1, one distribution → ≈ 0.5, seeded determinism,
 * subsampling to maxPoints; knnLooBalancedAccuracy on hand-made points.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { embedRealVsGenerated, knnLooBalancedAccuracy } from '../../src/metrics/domain/umap.js';

function gaussian(n: number, dim: number, mean: number, seed: number): Float32Array {
  const rng = new Rng(seed);
  const out = new Float32Array(n * dim);
  for (let i = 0; i < out.length; i++) out[i] = rng.normal(mean, 1);
  return out;
}

const DIM = 16;

test('umap: well-separated clusters → separability ≈ 1', () => {
  const r = embedRealVsGenerated({ real: gaussian(150, DIM, 0, 1), generated: gaussian(150, DIM, 4, 2), dim: DIM, seed: 0 });
  assert.equal(r.points.length, 300);
  assert.ok(r.separability >= 0.97, `separability ${r.separability}`);
  assert.equal(r.protocol.subsampled, false);
  assert.equal(r.protocol.separability.k, 5);
});

test('umap: one distribution for both → separability ≈ 0.5', () => {
  const r = embedRealVsGenerated({ real: gaussian(150, DIM, 0, 3), generated: gaussian(150, DIM, 0, 4), dim: DIM, seed: 0 });
  assert.ok(Math.abs(r.separability - 0.5) <= 0.15, `separability ${r.separability}`);
});

test('umap: same seed ⇒ identical output; points well-formed', () => {
  const real = gaussian(60, DIM, 0, 5);
  const generated = gaussian(40, DIM, 1, 6);
  const a = embedRealVsGenerated({ real, generated, dim: DIM, seed: 7 });
  const b = embedRealVsGenerated({ real, generated, dim: DIM, seed: 7 });
  assert.deepEqual(a, b);
  assert.equal(JSON.stringify(a), JSON.stringify(b));
  assert.deepEqual(a.points.filter((p) => p.source === 'real').map((p) => p.index), Array.from({ length: 60 }, (_, i) => i));
  assert.deepEqual(a.points.filter((p) => p.source === 'generated').map((p) => p.index), Array.from({ length: 40 }, (_, i) => i));
  for (const p of a.points) {
    assert.ok(Number.isFinite(p.x) && Number.isFinite(p.y));
    assert.equal(Math.round(p.x * 1e4) / 1e4, p.x, '4 decimals');
    assert.equal(Math.round(p.y * 1e4) / 1e4, p.y, '4 decimals');
  }
  assert.deepEqual(
    { n_real: a.protocol.n_real, n_generated: a.protocol.n_generated, dim: a.protocol.dim, nNeighbors: a.protocol.nNeighbors, minDist: a.protocol.minDist, seed: a.protocol.seed },
    { n_real: 60, n_generated: 40, dim: DIM, nNeighbors: 15, minDist: 0.1, seed: 7 },
  );
  const c = embedRealVsGenerated({ real, generated, dim: DIM, seed: 8 });
  assert.notDeepEqual(c.points, a.points, 'another seed, another embedding');
});

test('umap: subsampling respects maxPoints; nNeighbors clipped for tiny sets', () => {
  const real = gaussian(120, 8, 0, 9);
  const generated = gaussian(30, 8, 0, 10);
  const r = embedRealVsGenerated({ real, generated, dim: 8, seed: 1, maxPoints: 80 });
  assert.ok(r.points.length <= 80);
  assert.equal(r.protocol.n_real, 40);
  assert.equal(r.protocol.n_generated, 30);
  assert.equal(r.protocol.n_real_input, 120);
  assert.equal(r.protocol.subsampled, true);
  const idx = r.points.filter((p) => p.source === 'real').map((p) => p.index);
  assert.equal(new Set(idx).size, 40, 'distinct rows');
  assert.ok(idx.every((i, k) => Number.isInteger(i) && i >= 0 && i < 120 && (k === 0 || i > idx[k - 1]!)), 'sorted original rows');

  const tiny = embedRealVsGenerated({ real: gaussian(4, 8, 0, 11), generated: gaussian(3, 8, 0, 12), dim: 8, seed: 0 });
  assert.equal(tiny.protocol.nNeighbors, 6);
  assert.equal(tiny.points.length, 7);
  assert.throws(() => embedRealVsGenerated({ real: new Float32Array(10), generated: new Float32Array(8), dim: 4, seed: 0 }), RangeError);
});

test('knnLooBalancedAccuracy: separated / interleaved / unbalanced', () => {
  const pts = (xs: number[][]) => Float64Array.from(xs.flat());
  const sep = [[0, 0], [0, 1], [1, 0], [1, 1], [0.5, 0.5], [0.2, 0.3], [10, 10], [10, 11], [11, 10], [11, 11], [10.5, 10.5], [10.2, 10.3]];
  const lab = sep.map((_, i) => i < 6);
  assert.deepEqual(knnLooBalancedAccuracy(pts(sep), lab, 5), { value: 1, k: 5 });
  // labels alternating along a line: every point's 2 nearest are the other class → 0 with k = 1
  const line = Array.from({ length: 10 }, (_, i) => [i, 0]);
  assert.equal(knnLooBalancedAccuracy(pts(line), line.map((_, i) => i % 2 === 0), 1).value, 0);
  // k made odd and ≤ n − 1
  assert.equal(knnLooBalancedAccuracy(pts([[0, 0], [1, 0], [2, 0], [3, 0], [4, 0]]), [true, true, false, false, false], 5).k, 3);
});
