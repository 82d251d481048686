import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readNpyMatrix } from '../../src/metrics/npy.js';
import { computePrdc, improvedPrecisionRecall, nearestNeighbourRadii, precisionRecallDensityCoverage } from '../../src/metrics/prdc.js';
import { assertRel, fixture, fm, vectors } from './helpers.js';

test('PRDC: spec §7.3 cases — tie semantics (< vs ≤), random 2-D k=3, identical sets', () => {
  const sh = vectors().shared.prdc;
  const tie = sh.tie_1d_k1;
  assert.deepEqual(computePrdc(fm(tie.real), fm(tie.fake), 1), tie.prdc_strict);
  assert.deepEqual(improvedPrecisionRecall(fm(tie.real), fm(tie.fake), 1), tie.pr_le);
  const r2 = sh.random_2d_k3;
  assert.deepEqual(computePrdc(fm(r2.real_values), fm(r2.fake_values), 3), r2.prdc_strict);
  assert.deepEqual(improvedPrecisionRecall(fm(r2.real_values), fm(r2.fake_values), 3), r2.pr_le);
  const rr = nearestNeighbourRadii(fm(r2.real_values), 3);
  rr.forEach((x, i) => assertRel(x, r2.real_radii[i], 1e-14, `real radius ${i}`));
  const id = sh.identical_sets_k2;
  assert.deepEqual(computePrdc(fm(id.real), fm(id.fake), 2), id.prdc_strict);
  assert.deepEqual(improvedPrecisionRecall(fm(id.real), fm(id.fake), 2), id.pr_le);
});

test('PRDC on the float32 fixtures: prdc.compute_prdc (k=5, k=3) and Kynkäänniemi P/R (k=3) exactly', () => {
  const v = vectors().prdc_fixtures;
  assert.ok(v.min_margin > 1e-9, 'no near-ties in the fixtures');
  const real = readNpyMatrix(fixture('real_200x64_f4.npy'));
  const fake = readNpyMatrix(fixture('fake_180x64_f4.npy'));
  for (const blockRows of [240, 30, 4]) {
    const r = precisionRecallDensityCoverage(real, fake, { prK: 3, dcK: 5, blockRows });
    assert.equal(r.precision, v.pr_le_k3.precision);
    assert.equal(r.recall, v.pr_le_k3.recall);
    assert.equal(r.density, v.prdc_k5.density);
    assert.equal(r.coverage, v.prdc_k5.coverage);
    assert.equal(r.prdcPrecision, v.prdc_k5.precision);
    assert.equal(r.prdcRecall, v.prdc_k5.recall);
  }
  assert.deepEqual(computePrdc(real, fake, 3), v.prdc_k3);
  const rr = nearestNeighbourRadii(real, 5);
  v.real_radii_k5_first5.forEach((x: number, i: number) => assertRel(rr[i], x, 1e-13, `real radius ${i}`));
  const rf = nearestNeighbourRadii(fake, 3);
  v.fake_radii_k3_first5.forEach((x: number, i: number) => assertRel(rf[i], x, 1e-13, `fake radius ${i}`));
  assert.throws(() => precisionRecallDensityCoverage(fm([[0], [1], [2]]), fm([[0], [1], [2]]), { dcK: 5 }), /k = 3 nearest neighbours need at least 4 samples, got 3/);
  assert.throws(() => precisionRecallDensityCoverage(fm([[0], [1], [2], [3], [4]]), fm([[0], [1], [2], [3], [4]])), /k = 5 nearest neighbours need at least 6 samples/);
});
