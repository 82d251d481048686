import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { computeFeatureMetrics, metricsFromNpyFiles } from '../../src/metrics/compute.js';
import { writeNpy } from '../../src/metrics/npy.js';
import { assertRel, fixture, vectors } from './helpers.js';

test('metricsFromNpyFiles: every metric equals the reference on the float32 fixtures; JSON shape', () => {
  const v = vectors().compute_fixtures;
  const r = metricsFromNpyFiles(fixture('real_200x64_f4.npy'), fixture('fake_180x64_f4.npy'), v.opts);
  assertRel(r.fid, v.fid, 1e-10, 'fid');
  assertRel(r.kid_mean, v.kid_mean, 1e-12, 'kid_mean');
  assertRel(r.kid_std, v.kid_std, 1e-10, 'kid_std');
  assert.equal(r.precision, v.precision);
  assert.equal(r.recall, v.recall);
  assert.equal(r.density, v.density);
  assert.equal(r.coverage, v.coverage);
  assert.deepEqual(r.protocol, {
    n_real: 200,
    n_fake: 180,
    dim: 64,
    kid: { subsets: 10, subset_size: 50, degree: 3, gamma: 1 / 64, coef0: 1 },
    pr_k: 3,
    dc_k: 5,
    seed: 2020,
    feature_extractor: 'user-supplied features',
    notes: [],
  });
  assert.deepEqual(Object.keys(r), ['fid', 'kid_mean', 'kid_std', 'precision', 'recall', 'density', 'coverage', 'protocol']);
  JSON.parse(JSON.stringify(r)); // plain JSON
});

test('computeFeatureMetrics: defaults refuse KID subsets above n; clip policy; input checks; file errors', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-metrics-'));
  try {
    const real = fixture('real_200x64_f4.npy');
    const fake = fixture('fake_180x64_f4.npy');
    assert.throws(() => metricsFromNpyFiles(real, fake), (e: unknown) => e instanceof ConfigError && /KID subset size 1000/.test((e as Error).message));
    const r = metricsFromNpyFiles(real, fake, { kidSubsets: 2, kidSubsetSizePolicy: 'clip' });
    assert.equal(r.protocol.kid.subset_size, 180);
    assert.equal(r.protocol.notes.length, 1);
    const narrow = path.join(dir, 'narrow.npy');
    writeNpy(narrow, new Float32Array(10 * 8), [10, 8]);
    assert.throws(() => metricsFromNpyFiles(real, narrow), (e: unknown) => e instanceof DataError && /narrow\.npy: has 8 features per row but .*real_200x64_f4\.npy has 64/.test((e as Error).message));
    const bad = path.join(dir, 'nan.npy');
    const data = new Float32Array(10 * 64);
    data[3 * 64 + 5] = NaN;
    writeNpy(bad, data, [10, 64]);
    assert.throws(() => metricsFromNpyFiles(real, bad), (e: unknown) => e instanceof DataError && /nan\.npy: .*non-finite value NaN at row 3, column 5/.test((e as Error).message));
    // flat arrays with a column count; few samples → N < D note; k too large
    const x = { data: new Float64Array(12 * 20).map((_, i) => Math.sin(i)), cols: 20 };
    const y = { data: new Float64Array(12 * 20).map((_, i) => Math.cos(i * 1.3)), cols: 20 };
    const s = computeFeatureMetrics(x, y, { kidSubsetSize: 6, kidSubsets: 3 });
    assert.equal(s.protocol.n_real, 12);
    assert.match(s.protocol.notes.join(' '), /fewer samples than feature dimensions/);
    assert.throws(() => computeFeatureMetrics(x, y, { kidSubsetSize: 6, dcK: 12 }), ConfigError);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
