import { test } from 'node:test';
import assert from 'node:assert/strict';
import { fidFromFeatures, fidFromFeaturesDetailed, frechetDistance, frechetDistanceDetailed } from '../../src/metrics/fid.js';
import { identity } from '../../src/metrics/linalg.js';
import { meanAndCovariance } from '../../src/metrics/stats.js';
import { assertAbs, assertRel, fm, genFeatures, genLowrankCov, mat, vectors, type Json } from './helpers.js';

const v = (a: number[]) => Float64Array.from(a);

test('Fréchet distance: closed-form cases of the spec (§7.1)', () => {
  const sh = vectors().shared.fid;
  assertAbs(frechetDistance(v([1, 2, 3]), mat([[1, 0, 0], [0, 2, 0], [0, 0, 3]]), v([1, 2, 3]), mat([[1, 0, 0], [0, 2, 0], [0, 0, 3]])), 0, 1e-14, 'identical');
  assert.equal(sh.identical.fid_scipy_sqrtm, 0);
  assertRel(frechetDistance(v([0, 0]), mat([[4, 0], [0, 9]]), v([1, 1]), identity(2)), 7, 1e-15, 'diag');
  assertRel(frechetDistance(v([0.5]), mat([[4]]), v([-1.5]), mat([[0.25]])), 6.25, 1e-15, '1d');
  const S = mat([[2, 1], [1, 2]]);
  const S9 = S.map((x) => 9 * x);
  assertRel(frechetDistance(v([0, 0]), S, v([0, 0]), S9), 16, 1e-14, 'scaled');
  const nc = frechetDistance(v([1, 0]), S, v([0, 1]), mat([[1, 0], [0, 3]]));
  assertRel(nc, sh.noncommuting_2x2.closed_form_fid, 1e-14, 'non-commuting 2×2 vs closed form');
  assertRel(nc, sh.noncommuting_2x2.fid_scipy_sqrtm, 1e-14, 'non-commuting 2×2 vs scipy');
  const r1 = frechetDistanceDetailed(v([0, 0, 0]), mat([[1, 2, 3], [2, 4, 6], [3, 6, 9]]), v([0, 0, 0]), mat([[1, 0, 1], [0, 0, 0], [1, 0, 1]]));
  assertRel(r1.fid, 8, 1e-12, 'rank-1 covariances');
  assert.equal(r1.rankSigma1, 1);
  // features → stats → FID (ddof 1, and StyleGAN2-ADA's ddof 0)
  const f = sh.features_5x3_vs_6x3;
  assertRel(fidFromFeatures(fm(f.X1), fm(f.X2)), f.fid_scipy_sqrtm, 1e-13, 'features 5×3 vs 6×3');
  assertRel(fidFromFeatures(fm(f.X1), fm(f.X2), { ddof: 0 }), f.fid_with_ddof0_cov, 1e-13, 'ddof 0');
  const st = meanAndCovariance(fm(f.X1));
  assert.deepEqual(Array.from(st.mean), f.mu1);
  for (let i = 0; i < 9; i++) assertAbs(st.cov[i], f.sigma1.flat()[i], 1e-15, 'sigma1');
  // N < D: every implementation carries ~1e-8 relative noise here (spec)
  const rd = sh.rank_deficient_N4_N5_d6;
  assertRel(fidFromFeatures(fm(rd.X1), fm(rd.X2)), rd.fid_scipy_sqrtm, 1e-7, 'rank-deficient N=4,5 < D=6');
});

test('Fréchet distance: pytorch-fid unit test, D = 2048, Σ = I, μ 0 vs 1 → exactly 2048', () => {
  const d = 2048;
  const r = frechetDistanceDetailed(new Float64Array(d), identity(d), new Float64Array(d).fill(1), identity(d));
  assert.equal(r.fid, 2048);
  assert.equal(vectors().shared.fid.pytorch_fid_unit_test_d2048.fid_scipy_sqrtm, 2048);
});

test('FID of generated features vs scipy.linalg.sqrtm (pytorch-fid) for D = 8, 64, 256; ddof 0; N < D', () => {
  for (const c of vectors().fid_features as Json[]) {
    const real = genFeatures(c.real[0], c.real[1], c.d, c.real[2]);
    const fake = genFeatures(c.fake[0], c.fake[1], c.d, c.fake[2]);
    const fullRank = c.real[1] > c.d && c.fake[1] > c.d;
    const det = fidFromFeaturesDetailed(real, fake);
    if (fullRank) {
      assertRel(det.fid, c.fid_pytorch_fid, 1e-10, `D=${c.d} vs pytorch-fid`);
      assertRel(det.fid, c.fid_torch_fidelity, 1e-10, `D=${c.d} vs torch-fidelity`);
      assertRel(fidFromFeatures(real, fake, { ddof: 0 }), c.fid_ddof0_pytorch_fid, 1e-10, `D=${c.d} ddof 0`);
      assert.equal(det.rankSigma1, c.d);
      if (c.d === 64) assertRel(fidFromFeatures(real, fake, { method: 'sqrt-eig' }), c.fid_pytorch_fid, 1e-10, 'sqrt-eig method');
    } else {
      assert.equal(c.imag_check_passes, true);
      // the references add √(rounding noise) of the null-space eigenvalues (a ~1e-8 relative upward bias);
      // the rank-revealing Cholesky drops them and matches the exact value (n×n formulation) to rounding
      assertRel(det.fid, c.fid_exact_via_n_by_n, 1e-12, `D=${c.d} N<D vs exact`);
      assertRel(det.fid, c.fid_torch_fidelity, 1e-7, `D=${c.d} N<D vs torch-fidelity`);
      assertRel(det.fid, c.fid_pytorch_fid, 1e-7, `D=${c.d} N<D vs pytorch-fid`);
      assert.equal(det.rankSigma1, c.real[1] - 1);
    }
  }
});

test('FID D = 2048 (full-rank low-rank-plus-diagonal covariances) vs scipy.linalg.sqrtm', () => {
  const c = vectors().fid_lowrank_d2048;
  const a = genLowrankCov(31, 2048, 6);
  const b = genLowrankCov(32, 2048, 6);
  const r = frechetDistanceDetailed(a.mu, a.sigma, b.mu, b.sigma);
  assertRel(r.fid, c.fid_pytorch_fid, 1e-10, 'vs pytorch-fid');
  assertRel(r.fid, c.fid_torch_fidelity, 1e-10, 'vs torch-fidelity');
  assert.equal(r.rankSigma1, 2048);
  assert.equal(r.clampedNegative, 0);
});

test('FID D = 2048 from N = 300 < D features (singular covariances, the small-medical-dataset case)', () => {
  const c = vectors().fid_features_d2048_n300;
  const r = fidFromFeaturesDetailed(genFeatures(41, 300, 2048, 0.0), genFeatures(42, 300, 2048, 0.2));
  assertRel(r.fid, c.fid_exact_via_n_by_n, 1e-12, 'vs exact (n×n formulation)');
  assertRel(r.fid, c.fid_torch_fidelity, 1e-7, 'vs torch-fidelity');
  if (!c.eps_fallback) assertRel(r.fid, c.fid_pytorch_fid, 1e-7, 'vs pytorch-fid');
  assert.equal(r.rankSigma1, 299);
});

test('FID(X, X) = 0, symmetric in its arguments; eps offset; errors', () => {
  const X = genFeatures(3, 120, 16, 0.5);
  const Y = genFeatures(4, 90, 16, 0.0);
  const s = meanAndCovariance(X);
  let tr = 0;
  for (let i = 0; i < 16; i++) tr += s.cov[i * 16 + i];
  assertAbs(fidFromFeatures(X, X), 0, 1e-12 * tr, 'FID(X, X)');
  assertRel(fidFromFeatures(X, Y), fidFromFeatures(Y, X), 1e-12, 'symmetry');
  // eps offset (pytorch-fid fallback) on commuting matrices: tr sqrt((A+e)(B+e)) = Σ √((a+e)(b+e))
  const e = 1e-6;
  const got = frechetDistance(v([0, 0]), mat([[4, 0], [0, 9]]), v([1, 1]), identity(2), { epsOffset: e });
  const want = 2 + 4 + 9 + 2 - 2 * (Math.sqrt((4 + e) * (1 + e)) + Math.sqrt((9 + e) * (1 + e)));
  assertRel(got, want, 1e-14, 'eps offset');
  assert.throws(() => frechetDistance(v([0, NaN]), identity(2), v([0, 0]), identity(2)), /NaN/);
  assert.throws(() => frechetDistance(v([0, 0]), identity(2), v([0]), identity(1)), /different lengths/);
  assert.throws(() => frechetDistance(v([0, 0]), identity(3), v([0, 0]), identity(2)), /expected 4/);
  assert.throws(() => fidFromFeatures(X, genFeatures(1, 10, 8, 0)), /dimensions differ/);
});
