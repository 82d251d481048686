import { test } from 'node:test';
import assert from 'node:assert/strict';
import { inceptionScoreFromLogits, inceptionScoreFromProbabilities } from '../../src/metrics/inception-score.js';
import { featureMatrix } from '../../src/metrics/stats.js';
import { assertAbs, assertRel, fm, vectors } from './helpers.js';

test('Inception Score: spec §7.4 cases (uniform → 1, three confident classes, random 25×5 with/without shuffle)', () => {
  const sh = vectors().shared.is_rng;
  const z = featureMatrix(new Float64Array(24), 6, 4);
  const u = inceptionScoreFromLogits(z, { splits: 2, shuffle: false });
  assert.equal(u.mean, 1);
  assert.equal(u.std, 0);
  const t = inceptionScoreFromLogits(fm(sh.three_confident_classes.logits), { splits: 1, shuffle: false });
  assertRel(t.mean, sh.three_confident_classes.isc[0], 1e-14, 'three classes');
  const r = sh.random_25x5;
  const a = inceptionScoreFromLogits(fm(r.logits_values), { splits: 3, shuffle: false });
  assertRel(a.mean, r.isc_noshuffle[0], 1e-13, 'no shuffle mean');
  assertRel(a.std, r.isc_noshuffle[1], 1e-11, 'no shuffle std');
  const b = inceptionScoreFromLogits(fm(r.logits_values), { splits: 3 });
  assertRel(b.mean, r.isc_shuffle_seed2020[0], 1e-13, 'shuffle mean');
  assertRel(b.std, r.isc_shuffle_seed2020[1], 1e-11, 'shuffle std');
});

test('Inception Score: torch-fidelity defaults (10 splits, RandomState(2020) shuffle), other seeds, probabilities', () => {
  const v = vectors().isc;
  const L = fm(v.logits);
  for (const [key, opts] of [
    ['shuffle_seed2020_splits10', {}],
    ['noshuffle_splits4', { splits: 4, shuffle: false }],
    ['shuffle_seed3_splits7', { splits: 7, seed: 3 }],
  ] as const) {
    const r = inceptionScoreFromLogits(L, opts);
    assertRel(r.mean, v[key].mean, 1e-13, `${key} mean`);
    assertRel(r.std, v[key].std, 1e-10, `${key} std`);
    r.scores.forEach((s, i) => assertRel(s, v[key].scores[i], 1e-13, `${key} split ${i}`));
  }
  // from probabilities (softmax of the same logits): same score to rounding
  const n = L.rows, c = L.cols;
  const P = new Float64Array(n * c);
  for (let i = 0; i < n; i++) {
    let mx = -Infinity, s = 0;
    for (let k = 0; k < c; k++) mx = Math.max(mx, L.data[i * c + k]);
    for (let k = 0; k < c; k++) s += (P[i * c + k] = Math.exp(L.data[i * c + k] - mx));
    for (let k = 0; k < c; k++) P[i * c + k] /= s;
  }
  v.probabilities_first_row.forEach((p: number, k: number) => assertAbs(P[k], p, 1e-16, 'softmax'));
  const pr = inceptionScoreFromProbabilities(featureMatrix(P, n, c));
  assertRel(pr.mean, v.shuffle_seed2020_splits10.mean, 1e-12, 'from probabilities');
  assert.throws(() => inceptionScoreFromProbabilities(featureMatrix(Float64Array.from([0.5, 0.6]), 1, 2), { splits: 1 }), /sums to/);
  assert.throws(() => inceptionScoreFromLogits(L, { splits: 61 }), /cannot be divided/);
});
