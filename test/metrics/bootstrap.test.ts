import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { bootstrapDrawIndices, bootstrapFeatureCis, FeatureBootstrap } from '../../src/metrics/bootstrap.js';
import { fidFromFeatures } from '../../src/metrics/fid.js';
import { mmd2Unbiased } from '../../src/metrics/kid.js';
import { featureMatrix, type FeatureMatrix } from '../../src/metrics/stats.js';
import fs from 'node:fs';
import path from 'node:path';
import { genFeatures, HERE, type Json } from './helpers.js';

const VECTORS: Json = JSON.parse(fs.readFileSync(path.join(HERE, 'bootstrap_vectors.json'), 'utf8'));

/** n×d correlated, non-centred Gaussian-ish features. */
function gen(seed: number, n: number, d: number, shift = 0.3): FeatureMatrix {
  const rng = new Rng(seed);
  const X = new Float64Array(n * d);
  for (let i = 0; i < n; i++) {
    let prev = 0;
    for (let j = 0; j < d; j++) {
      const v = rng.normal() * (0.5 + (j % 7) / 7) + 0.5 * prev;
      prev = v;
      X[i * d + j] = v + shift + 0.01 * j;
    }
  }
  return featureMatrix(X, n, d);
}

function gather(m: FeatureMatrix, idx: ArrayLike<number>): FeatureMatrix {
  const d = m.cols;
  const out = new Float64Array(idx.length * d);
  for (let a = 0; a < idx.length; a++) out.set(m.data.subarray(idx[a] * d, idx[a] * d + d), a * d);
  return featureMatrix(out, idx.length, d);
}

function rel(a: number, b: number): number {
  return Math.abs(a - b) / Math.max(Math.abs(b), 1e-300);
}

/** Unbiased MMD² over positions a ≠ b of explicitly resampled sets (the documented bootstrap statistic). */
function naiveMmd2(X: FeatureMatrix, Y: FeatureMatrix, degree = 3, coef0 = 1): number {
  const d = X.cols;
  const k = (A: FeatureMatrix, i: number, B: FeatureMatrix, j: number): number => {
    let s = 0;
    for (let t = 0; t < d; t++) s += A.data[i * d + t] * B.data[j * d + t];
    return Math.pow(s / d + coef0, degree);
  };
  const n1 = X.rows, n2 = Y.rows;
  let sxx = 0, syy = 0, sxy = 0;
  for (let a = 0; a < n1; a++) for (let b = 0; b < n1; b++) if (a !== b) sxx += k(X, a, X, b);
  for (let a = 0; a < n2; a++) for (let b = 0; b < n2; b++) if (a !== b) syy += k(Y, a, Y, b);
  for (let a = 0; a < n1; a++) for (let b = 0; b < n2; b++) sxy += k(X, a, Y, b);
  return sxx / (n1 * (n1 - 1)) + syy / (n2 * (n2 - 1)) - (2 * sxy) / (n1 * n2);
}

test('bootstrap: FID*/MMD²* of explicit draws equal the numpy SVD reference (make_bootstrap_vectors.py)', () => {
  for (const c of VECTORS.cases) {
    const X = genFeatures(c.seed_x, c.n1, c.d, c.shift_x);
    const Y = genFeatures(c.seed_y, c.n2, c.d, c.shift_y);
    const fbPos = new FeatureBootstrap(X, Y, { degree: c.degree, coef0: c.coef0 });
    const fbEx = new FeatureBootstrap(X, Y, { degree: c.degree, coef0: c.coef0, ties: 'exclude' });
    for (const [t, dr] of (c.draws as Json[]).entries()) {
      const what = `n1=${c.n1} n2=${c.n2} d=${c.d} draw ${t}`;
      const r = fbPos.evaluate(dr.ix, dr.iy);
      assert.ok(rel(r.fid, dr.fid) < 1e-12, `${what}: FID ${r.fid} vs ${dr.fid} (rel ${rel(r.fid, dr.fid)})`);
      assert.ok(rel(r.traceSqrt, dr.trace_sqrt) < 1e-12, `${what}: tr sqrt`);
      assert.ok(Math.abs(r.mmd2 - dr.mmd2_positions) < 1e-12, `${what}: MMD² ${r.mmd2} vs ${dr.mmd2_positions}`);
      const e = fbEx.evaluate(dr.ix, dr.iy);
      assert.ok(Math.abs(e.mmd2 - dr.mmd2_exclude) < 1e-12, `${what}: MMD² (ties excluded) ${e.mmd2} vs ${dr.mmd2_exclude}`);
      assert.equal(e.fid, r.fid);
      if (t > 0) assert.ok(Math.abs(e.mmd2 - r.mmd2) > 1e-6, 'the duplicate handling matters');
    }
  }
});

for (const [n1, n2, d, tol] of [[40, 36, 100, 1e-8], [80, 70, 10, 1e-11]] as const) {
  // tol: fidFromFeatures itself carries ≈2e-9 relative rounding noise when n < d (vs an SVD reference our Gram route
  // agrees to ≈1e-15, see the test above); for n > d both agree to ≈1e-14.
  test(`bootstrap: Gram-route FID* of a draw equals fidFromFeatures on the resampled matrices (n1=${n1}, n2=${n2}, d=${d})`, () => {
    const X = gen(1, n1, d);
    const Y = gen(2, n2, d, 0.5);
    const fb = new FeatureBootstrap(X, Y);
    const id1 = Array.from({ length: n1 }, (_, i) => i);
    const id2 = Array.from({ length: n2 }, (_, i) => i);
    const full = fb.evaluate(id1, id2);
    const ref = fidFromFeatures(X, Y);
    assert.ok(rel(full.fid, ref) < tol, `full sets: ${full.fid} vs ${ref} (rel ${rel(full.fid, ref)})`);
    for (let t = 0; t < 5; t++) {
      const [ix, iy] = bootstrapDrawIndices(n1, n2, 11, t);
      const got = fb.evaluate(ix, iy).fid;
      const want = fidFromFeatures(gather(X, ix), gather(Y, iy));
      assert.ok(rel(got, want) < tol, `draw ${t}: ${got} vs ${want} (rel ${rel(got, want)})`);
    }
    // heavy duplication (only 5 distinct rows per set), unsorted index order
    const rng = new Rng(5);
    const ix = Array.from({ length: n1 }, () => rng.int(0, 4));
    const iy = Array.from({ length: n2 }, () => 10 + rng.int(0, 4));
    const got = fb.evaluate(ix, iy).fid;
    const want = fidFromFeatures(gather(X, ix), gather(Y, iy));
    assert.ok(rel(got, want) < tol, `5 distinct rows: ${got} vs ${want}`);
    // the comparison can fail: draw 1 evaluated against the matrices of draw 0 differs
    const [ax] = bootstrapDrawIndices(n1, n2, 11, 0);
    const [bx, by] = bootstrapDrawIndices(n1, n2, 11, 1);
    assert.ok(rel(fb.evaluate(bx, by).fid, fidFromFeatures(gather(X, ax), gather(Y, by))) > 1e-6);
  });
}

test('bootstrap: KID* of a permutation draw equals mmd2Unbiased; with duplicates it is the positions-U-statistic', () => {
  const n = 50, d = 24;
  const X = gen(3, n, d);
  const Y = gen(4, n, d, 0.45);
  const fb = new FeatureBootstrap(X, Y);
  const rng = new Rng(9);
  const p1 = rng.shuffled(Array.from({ length: n }, (_, i) => i));
  const p2 = rng.shuffled(Array.from({ length: n }, (_, i) => i));
  const got = fb.evaluate(p1, p2).mmd2;
  const want = mmd2Unbiased(gather(X, p1), gather(Y, p2));
  // kernel values are O(1); MMD² is a difference of O(1) sums
  assert.ok(Math.abs(got - want) < 1e-12, `permutation: ${got} vs ${want}`);
  assert.ok(Math.abs(want) > 1e-4, 'non-trivial MMD²');
  const [ix, iy] = bootstrapDrawIndices(n, n, 3, 0);
  const dup = fb.evaluate(ix, iy).mmd2;
  const naive = naiveMmd2(gather(X, ix), gather(Y, iy));
  assert.ok(Math.abs(dup - naive) < 1e-12, `duplicates: ${dup} vs ${naive}`);
  // duplicates matter: excluding them would give a different number
  assert.ok(Math.abs(dup - want) > 1e-6);
  // unequal sizes, custom kernel
  const Z = gen(6, 31, d, 0.4);
  const fb2 = new FeatureBootstrap(X, Z, { degree: 2, coef0: 0.5 });
  const [jx, jz] = bootstrapDrawIndices(n, 31, 8, 2);
  const a = fb2.evaluate(jx, jz).mmd2;
  const b = naiveMmd2(gather(X, jx), gather(Z, jz), 2, 0.5);
  assert.ok(Math.abs(a - b) < 1e-12, `unequal sizes: ${a} vs ${b}`);
});

test('bootstrap: intervals cover the estimate for identical distributions, shrink with n, are seed-deterministic', () => {
  const d = 16;
  const small = bootstrapFeatureCis(gen(10, 50, d), gen(11, 50, d), { draws: 200, seed: 1 });
  const large = bootstrapFeatureCis(gen(12, 200, d), gen(13, 200, d), { draws: 200, seed: 1 });
  for (const r of [small, large]) {
    assert.equal(r.draws, 200);
    assert.equal(r.requestedDraws, 200);
    for (const ci of [r.fid, r.kid]) {
      assert.equal(ci.draws, 200);
      assert.equal(ci.level, 0.95);
      assert.equal(ci.interval, 'bias-corrected');
      assert.ok(ci.lo < ci.hi);
      assert.ok(ci.lo <= ci.estimate && ci.estimate <= ci.hi, `estimate ${ci.estimate} outside [${ci.lo}, ${ci.hi}]`);
      assert.ok(Math.abs(ci.lo - (ci.percentileLo - ci.bias)) < 1e-12 && Math.abs(ci.hi - (ci.percentileHi - ci.bias)) < 1e-12);
      // the bootstrap bias is positive for both statistics (fewer effective samples, k(x,x) terms)
      assert.ok(ci.bias > 0, `bias ${ci.bias}`);
    }
  }
  // the raw percentile interval is available and is the one the bias shift moves
  const raw = bootstrapFeatureCis(gen(10, 50, d), gen(11, 50, d), { draws: 200, seed: 1, interval: 'percentile' });
  assert.equal(raw.fid.lo, small.fid.percentileLo);
  assert.equal(raw.kid.hi, small.kid.percentileHi);
  assert.equal(raw.fid.interval, 'percentile');
  // identical distributions, whole-set KID with ties excluded: near-unbiased, its percentile interval covers the estimate
  const ex = bootstrapFeatureCis(gen(12, 200, d), gen(13, 200, d), { draws: 100, seed: 1, interval: 'percentile', kid: { ties: 'exclude' } });
  assert.ok(ex.kid.lo <= ex.kid.estimate && ex.kid.estimate <= ex.kid.hi, `ties excluded: ${ex.kid.estimate} outside [${ex.kid.lo}, ${ex.kid.hi}]`);
  assert.ok(Math.abs(ex.kid.bias) < 0.2 * large.kid.bias, `ties-excluded bias ${ex.kid.bias} vs ${large.kid.bias}`);
  assert.ok(large.fid.hi - large.fid.lo < 0.6 * (small.fid.hi - small.fid.lo), 'FID interval narrower for 4× the samples');
  assert.ok(large.kid.hi - large.kid.lo < 0.6 * (small.kid.hi - small.kid.lo), 'KID interval narrower for 4× the samples');
  const X = gen(20, 50, d), Y = gen(21, 45, d, 0.4);
  const a = bootstrapFeatureCis(X, Y, { draws: 60, seed: 7 });
  const b = bootstrapFeatureCis(X, Y, { draws: 60, seed: 7 });
  const c = bootstrapFeatureCis(X, Y, { draws: 60, seed: 8 });
  assert.deepEqual(a, b);
  assert.notEqual(a.fid.lo, c.fid.lo);
  assert.notEqual(a.kid.hi, c.kid.hi);
  assert.equal(a.fid.estimate, c.fid.estimate);
  assert.ok(Math.abs(a.fid.estimate - fidFromFeatures(X, Y)) < 1e-9 * fidFromFeatures(X, Y));
});

test('bootstrap: flop budget caps the draws (never below 20) and validation errors are clear', () => {
  const X = gen(30, 40, 8), Y = gen(31, 40, 8);
  const capped = bootstrapFeatureCis(X, Y, { draws: 200, maxFlops: 50 * 1e5 });
  assert.ok(capped.flopsPerDraw > 1e4 && capped.flopsPerDraw < 1e6, String(capped.flopsPerDraw));
  assert.equal(capped.draws, Math.max(20, Math.floor((50 * 1e5) / capped.flopsPerDraw)));
  assert.ok(capped.draws < 200);
  assert.match(capped.method, /capped from 200/);
  const floor = bootstrapFeatureCis(X, Y, { draws: 200, maxFlops: 1 });
  assert.equal(floor.draws, 20);
  assert.match(floor.method, /still exceeds the flop budget/);
  assert.equal(bootstrapFeatureCis(X, Y, { draws: 10, maxFlops: 1 }).draws, 10);
  assert.throws(() => bootstrapFeatureCis(X, gen(1, 40, 9)), /feature dimensions differ/);
  assert.throws(() => bootstrapFeatureCis(X, featureMatrix(new Float64Array(8), 1, 8)), /at least 2 rows/);
  const bad = Float64Array.from(Y.data);
  bad[17] = Number.NaN;
  assert.throws(() => bootstrapFeatureCis(X, featureMatrix(bad, 40, 8)), /non-finite value NaN at row 2, column 1/);
  assert.throws(() => bootstrapFeatureCis(X, Y, { level: 1 }), /level/);
  assert.throws(() => bootstrapFeatureCis(X, Y, { draws: 1.5 }), /draws/);
  assert.throws(() => new FeatureBootstrap(X, Y).evaluate([0, 40], [0, 1]), /not a row index/);
});

test('bootstrap: tiny sets (n = 2) give finite intervals with both tie rules', () => {
  const X = gen(40, 2, 3), Y = gen(41, 3, 3);
  for (const ties of ['positions', 'exclude'] as const) {
    const r = bootstrapFeatureCis(X, Y, { draws: 50, kid: { ties } });
    for (const v of [r.fid.lo, r.fid.hi, r.kid.lo, r.kid.hi]) assert.ok(Number.isFinite(v), `${ties}: ${v}`);
  }
});
