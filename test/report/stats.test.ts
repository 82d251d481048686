import { test } from 'node:test';
import assert from 'node:assert/strict';
import { bootstrapMeanCi, normalCdf, rankAverage, spearman, wilcoxonSignedRank } from '../../src/report/stats.js';

const close = (a: number | null | undefined, b: number, tol = 1e-6) => {
  assert.ok(typeof a === 'number' && Math.abs(a - b) <= tol, `${a} ≉ ${b}`);
};

test('rankAverage gives tied values the mean of their positions', () => {
  assert.deepEqual(rankAverage([10, 20, 20, 5]), [2, 3.5, 3.5, 1]);
});

test('spearman: hand-computed rho = 1 − 6Σd²/(n(n²−1))', () => {
  // FID [60, 74, 25] → ranks [2, 3, 1]; Dice [0.3, 0.7, 0.87] → ranks [1, 2, 3]; d = [1, 1, −2], Σd² = 6 → 1 − 36/24 = −0.5
  close(spearman([60, 74, 25], [0.3, 0.7, 0.87]), -0.5, 1e-12);
  // scipy.stats.spearmanr([80,60,90,74,100,30,25,40], [0.2,0.3,0.55,0.7,0.5,0.85,0.87,0.8]).statistic = -0.7380952380952381
  close(spearman([80, 60, 90, 74, 100, 30, 25, 40], [0.2, 0.3, 0.55, 0.7, 0.5, 0.85, 0.87, 0.8]), -0.7380952380952381, 1e-12);
  assert.equal(spearman([1, 2], [2, 1]), null);
  assert.equal(spearman([1, 1, 1], [1, 2, 3]), null);
});

test('bootstrap CI contains the mean and is deterministic per seed', () => {
  const xs = [0.91, 0.88, 0.93, 0.85, 0.9, 0.87, 0.92, 0.86];
  const a = bootstrapMeanCi(xs, 42)!;
  const b = bootstrapMeanCi(xs, 42)!;
  const c = bootstrapMeanCi(xs, 43)!;
  assert.deepEqual(a, b);
  assert.notDeepEqual([a.lo, a.hi], [c.lo, c.hi]);
  close(a.mean, 0.89, 1e-12);
  assert.ok(a.lo < a.mean && a.mean < a.hi, `${a.lo} < ${a.mean} < ${a.hi}`);
  assert.ok(a.lo >= 0.85 && a.hi <= 0.93);
  assert.equal(a.draws, 2000);
  assert.equal(bootstrapMeanCi([], 1), null);
});

test('normalCdf', () => {
  close(normalCdf(0), 0.5, 1e-7);
  close(normalCdf(1.959963985), 0.975, 1e-6);
  close(normalCdf(-1), 0.15865525393145707, 1e-6);
});

test('wilcoxon exact: hand-computed case', () => {
  // d = x − y = [.01, .02, −.03, .04, .05, .06, −.07, .08]: W− = 3 + 7 = 10, W+ = 26.
  // Subsets of {1..8} with rank sum ≤ 10: 1+1+1+2+2+3+4+5+6+7+8 = 40 → p = 2·40/2⁸ = 0.3125.
  // scipy.stats.wilcoxon(x, y, method='exact') → WilcoxonResult(statistic=10.0, pvalue=0.3125)
  const x = [0.81, 0.77, 0.9, 0.65, 0.7, 0.88, 0.79, 0.73];
  const y = [0.8, 0.75, 0.93, 0.61, 0.65, 0.82, 0.86, 0.65];
  const r = wilcoxonSignedRank(x, y)!;
  assert.equal(r.method, 'exact');
  assert.equal(r.statistic, 10);
  assert.equal(r.wPlus, 26);
  close(r.pValue, 0.3125, 1e-12);
});

test('wilcoxon normal approximation with ties and zeros matches scipy', () => {
  // Ties in |d| → normal approximation with tie correction.
  // scipy.stats.wilcoxon(np.round(R - S, 12), method='approx') → statistic=3.0, pvalue=0.03434167381800146
  const R = [0.91, 0.88, 0.93, 0.85, 0.9, 0.87, 0.92, 0.86];
  const S = [0.89, 0.84, 0.9, 0.86, 0.88, 0.83, 0.9, 0.87];
  const r = wilcoxonSignedRank(R, S)!;
  assert.equal(r.method, 'normal');
  assert.equal(r.statistic, 3);
  close(r.pValue, 0.03434167381800146, 1e-5);
  // n = 25 → normal; scipy (rounded differences, method='approx') → statistic=146.5, pvalue=0.666753407428196
  const a = [0.755, 0.608, 0.516, 0.507, 0.825, 0.865, 0.743, 0.792, 0.717, 0.874, 0.826, 0.501, 0.843, 0.513, 0.792, 0.57, 0.845, 0.717, 0.62, 0.669, 0.511, 0.55, 0.768, 0.759, 0.746];
  const b = [0.74, 0.551, 0.45, 0.464, 0.816, 0.795, 0.713, 0.764, 0.724, 0.865, 0.824, 0.448, 0.817, 0.532, 0.847, 0.487, 0.901, 0.764, 0.639, 0.662, 0.475, 0.603, 0.846, 0.829, 0.792];
  const q = wilcoxonSignedRank(a, b)!;
  assert.equal(q.statistic, 146.5);
  close(q.pValue, 0.666753407428196, 1e-5);
  // Zero differences are dropped (zero_method='wilcox'); all zero → null.
  assert.equal(wilcoxonSignedRank([0.5, 0.6], [0.5, 0.6]), null);
  assert.equal(wilcoxonSignedRank([0.5, ...x8()], [0.5, ...y8()])!.n, 8);
  assert.throws(() => wilcoxonSignedRank([1], [1, 2]));
});

function x8(): number[] { return [0.81, 0.77, 0.9, 0.65, 0.7, 0.88, 0.79, 0.73]; }
function y8(): number[] { return [0.8, 0.75, 0.93, 0.61, 0.65, 0.82, 0.86, 0.65]; }
