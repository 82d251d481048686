import { test } from 'node:test';
import assert from 'node:assert/strict';
import { meanAndCovariance, npMean, npPairwiseSum, npStd, RunningMoments } from '../../src/metrics/stats.js';
import { genFeatures, genLowrankCov, vectors } from './helpers.js';

function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

test('test generators reproduce make_vectors.py bit-exactly', () => {
  const v = vectors();
  assert.deepEqual(Array.from(genFeatures(11, 5, 4, 0.25).data), v.gen_check.values);
  const { mu, sigma } = genLowrankCov(3, 5, 2);
  assert.deepEqual(Array.from(mu), v.gen_lowrank_check.mu);
  assert.deepEqual(Array.from(sigma), v.gen_lowrank_check.sigma);
});

test('mean equals np.mean(axis=0) exactly; covariance equals np.cov(rowvar=False) (ddof 1 and 0)', () => {
  const v = vectors().stats_d8;
  const X = genFeatures(21, 40, 8, 1.0);
  const { mean, cov, n } = meanAndCovariance(X);
  assert.equal(n, 40);
  assert.deepEqual(Array.from(mean), v.mean);
  assert.ok(maxAbsDiff(cov, v.cov) < 1e-14 * 10, `cov error ${maxAbsDiff(cov, v.cov)}`);
  const cov0 = meanAndCovariance(X, { ddof: 0 }).cov;
  assert.ok(maxAbsDiff(cov0, v.cov_ddof0) < 1e-14 * 10);
  // exactly symmetric
  for (let i = 0; i < 8; i++) for (let j = 0; j < 8; j++) assert.equal(cov[i * 8 + j], cov[j * 8 + i]);
});

test('RunningMoments: batches, Float32 input and merging give the single-pass result', () => {
  const X = genFeatures(5, 103, 7, -2);
  const whole = meanAndCovariance(X);
  const small = new RunningMoments(7, 10).add(X); // 11 internal batches
  assert.ok(maxAbsDiff(small.mean(), whole.mean) === 0, 'mean is the sequential sum whatever the batching');
  assert.ok(maxAbsDiff(small.covariance(), whole.cov) < 1e-13);
  const a = new RunningMoments(7).addRows(X.data.subarray(0, 7 * 40));
  const b = new RunningMoments(7).addRows(X.data.subarray(7 * 40), 63);
  const c = new RunningMoments(7);
  c.merge(a).merge(b).merge(new RunningMoments(7));
  assert.equal(c.count, 103);
  assert.ok(maxAbsDiff(c.covariance(), whole.cov) < 1e-13);
  assert.ok(maxAbsDiff(c.mean(), whole.mean) < 1e-15);
  const f32 = new RunningMoments(7).addRows(Float32Array.from(X.data));
  assert.ok(maxAbsDiff(f32.covariance(), whole.cov) < 1e-5);
  assert.throws(() => new RunningMoments(7).addRows(new Float64Array(7)).covariance(), /more than 1 row/);
  assert.throws(() => new RunningMoments(7).addRows(new Float64Array(8)), /rows of 7/);
});

test('npPairwiseSum / npMean / npStd follow numpy (pairwise blocks of 8, 128)', () => {
  const xs = Array.from({ length: 300 }, (_, i) => Math.sin(i) * 1e3 + 1 / (i + 1));
  // exact in exact arithmetic; here compared with a Kahan sum
  let s = 0, comp = 0;
  for (const x of xs) {
    const y = x - comp;
    const t = s + y;
    comp = t - s - y;
    s = t;
  }
  assert.ok(Math.abs(npPairwiseSum(xs) - s) < 1e-10);
  assert.equal(npPairwiseSum([1, 2, 3]), 6);
  assert.equal(npMean([1, 2, 3, 4]), 2.5);
  assert.equal(npStd([1, 1, 1]), 0);
  assert.ok(Math.abs(npStd([1, 2, 3, 4]) - Math.sqrt(1.25)) < 1e-15);
  // the shapes of genLowrankCov are exercised in fid tests
  assert.ok(genLowrankCov(1, 3, 1).sigma.length === 9);
});
