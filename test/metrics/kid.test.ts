import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { kernelInceptionDistance, kidSubsetIndices, mmd2Unbiased } from '../../src/metrics/kid.js';
import { readNpyMatrix } from '../../src/metrics/npy.js';
import { featureMatrix } from '../../src/metrics/stats.js';
import { assertAbs, assertRel, fixture, fm, vectors } from './helpers.js';

test('KID: hand example, full-set (RNG-free) case, torch-fidelity RandomState subsets (spec §7.2)', () => {
  const sh = vectors().shared.kid;
  assert.equal(mmd2Unbiased(fm(sh.hand_X_eq_Y_1d.X), fm(sh.hand_X_eq_Y_1d.Y)), -3.5);
  const fs4 = sh.full_set_4x2;
  assertRel(mmd2Unbiased(fm(fs4.X), fm(fs4.Y)), fs4.mmd2_unbiased, 1e-14, 'full set MMD²');
  const k = kernelInceptionDistance(fm(fs4.X), fm(fs4.Y), { subsets: 3, subsetSize: 4 });
  assertRel(k.mean, fs4.kid_mean_subsets3_size4, 1e-14, 'full set KID mean');
  assertAbs(k.std, 0, 1e-15, 'full set KID std');
  assert.equal(k.gamma, 0.5);
  // rng_subsets: float32 features; the reference evaluated the kernels in float32, we in float64
  const rs = sh.rng_subsets;
  const F1 = featureMatrix(Float32Array.from(rs.F1.flat() as number[]), 50, 8);
  const F2 = featureMatrix(Float32Array.from(rs.F2.flat() as number[]), 60, 8);
  const [first] = kidSubsetIndices(50, 60, 1, 20, 2020);
  assert.deepEqual(Array.from(first[0]), rs.first_subset_idx_F1);
  assert.deepEqual(Array.from(first[1]), rs.first_subset_idx_F2);
  const r = kernelInceptionDistance(F1, F2, { subsets: 5, subsetSize: 20, seed: 2020 });
  assertRel(r.mean, rs.kid_mean, 2e-6, 'rng_subsets mean (float32 reference)');
  assertRel(r.std, rs.kid_std, 2e-6, 'rng_subsets std (float32 reference)');
});

test('KID on the float32 fixtures equals the float64 reference exactly (same subsets), float32 reference to 1e-6', () => {
  const v = vectors().kid_fixtures;
  const real = readNpyMatrix(fixture('real_200x64_f4.npy'));
  const fake = readNpyMatrix(fixture('fake_180x64_f4.npy'));
  const idx = kidSubsetIndices(180, 200, 10, 50, 2020);
  assert.deepEqual(Array.from(idx[0][0]), v.first_subset_idx1);
  assert.deepEqual(Array.from(idx[0][1]), v.first_subset_idx2);
  assert.deepEqual(Array.from(idx[9][0]), v.last_subset_idx1);
  assert.deepEqual(Array.from(idx[9][1]), v.last_subset_idx2);
  for (const memoryBudgetBytes of [0, undefined]) {
    // 0 forces per-subset kernels; the default (1 GiB) uses the cached Gram matrices here
    const r = kernelInceptionDistance(fake, real, { subsets: 10, subsetSize: 50, memoryBudgetBytes });
    for (let i = 0; i < 10; i++) assertRel(r.values[i], v.values[i], 1e-12, `subset ${i}`);
    assertRel(r.mean, v.mean, 1e-12, 'mean');
    assertRel(r.std, v.std, 1e-10, 'std');
    assertAbs(r.mean, v.mean_float32, 1e-6, 'mean vs float32 torch-fidelity-style evaluation');
    assert.equal(r.subsetSize, 50);
    assert.equal(r.degree, 3);
    assert.equal(r.coef0, 1);
    assert.equal(r.gamma, 1 / 64);
  }
  // both dot-product paths are bit-identical
  const a = kernelInceptionDistance(fake, real, { subsets: 4, subsetSize: 30, seed: 7, memoryBudgetBytes: 0 });
  const b = kernelInceptionDistance(fake, real, { subsets: 4, subsetSize: 30, seed: 7 });
  assert.deepEqual(Array.from(a.values), Array.from(b.values));
  assertRel(a.mean, v.seed7_subsets4_size30.mean, 1e-12, 'seed 7');
  assertRel(a.std, v.seed7_subsets4_size30.std, 1e-10, 'seed 7 std');
  const c = kernelInceptionDistance(fake, real, { subsets: 3, subsetSize: 40, seed: 99, degree: 2, gamma: 0.01, coef0: 0.5 });
  const w = v['degree2_gamma0.01_coef0.5_seed99_subsets3_size40'];
  assertRel(c.mean, w.mean, 1e-12, 'custom kernel mean');
  assertRel(c.std, w.std, 1e-10, 'custom kernel std');
});

test('KID subset size above n: error by default (torch-fidelity), clip policy (clean-fid) with a note', () => {
  const v = vectors().kid_fixtures.clip_subsets3_size180;
  const real = readNpyMatrix(fixture('real_200x64_f4.npy'));
  const fake = readNpyMatrix(fixture('fake_180x64_f4.npy'));
  assert.throws(() => kernelInceptionDistance(fake, real), (e: unknown) => e instanceof ConfigError && /subset size 1000.*input 1: 180, input 2: 200/.test((e as Error).message));
  const r = kernelInceptionDistance(fake, real, { subsets: 3, subsetSizePolicy: 'clip' });
  assert.equal(r.subsetSize, 180);
  assert.match(r.notes[0], /clipped from 1000 to 180/);
  assertRel(r.mean, v.mean, 1e-12, 'clipped mean');
  assert.throws(() => kernelInceptionDistance(fake, real, { subsets: 0, subsetSize: 10 }), ConfigError);
  assert.throws(() => kernelInceptionDistance(fake, featureMatrix(new Float64Array(10), 5, 2)), /dimensions differ/);
});
