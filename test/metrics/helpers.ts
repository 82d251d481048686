/**
 * Shared helpers of the metric tests: the reference vectors written by make_vectors.py, and the same numpy
 * RandomState recipes (bit-exact) so that large random inputs need not be stored.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { NumpyRandomState } from '../../src/metrics/numpy-random.js';
import { featureMatrix, type FeatureMatrix } from '../../src/metrics/stats.js';

// Compiled to dist/test/metrics/: the vectors and fixtures stay in the source tree.
export const HERE = fileURLToPath(new URL('../../../test/metrics/', import.meta.url));
export const fixture = (name: string): string => path.join(HERE, 'fixtures', name);

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = any;
let cached: Json | undefined;
export function vectors(): Json {
  cached ??= JSON.parse(fs.readFileSync(path.join(HERE, 'vectors.json'), 'utf8'));
  return cached;
}

/** make_vectors.py gen_features(seed, n, d, shift). */
export function genFeatures(seed: number, n: number, d: number, shift: number): FeatureMatrix {
  const rs = new NumpyRandomState(seed);
  const U = rs.randomSampleArray(3 * n * d);
  const nd = n * d;
  const X = new Float64Array(nd);
  for (let t = 0; t < nd; t++) X[t] = (U[t] + U[nd + t] + U[2 * nd + t] - 1.5) * 2.0;
  const scale = new Float64Array(d);
  for (let j = 0; j < d; j++) scale[j] = 0.5 + rs.randomSample();
  for (let i = 0; i < n; i++) {
    const o = i * d;
    for (let j = 0; j < d; j++) X[o + j] = X[o + j] * scale[j];
    for (let j = d - 1; j >= 1; j--) X[o + j] += 0.6 * X[o + j - 1];
    for (let j = 0; j < d; j++) X[o + j] = X[o + j] + shift;
  }
  return featureMatrix(X, n, d);
}

/** make_vectors.py gen_lowrank_cov(seed, d, r) → { mu, sigma }. */
export function genLowrankCov(seed: number, d: number, r: number): { mu: Float64Array; sigma: Float64Array } {
  const rs = new NumpyRandomState(seed);
  const U = rs.randomSampleArray(d * r); // d×r row-major
  for (let t = 0; t < U.length; t++) U[t] = (U[t] - 0.5) * 3.4;
  const D = new Float64Array(d);
  for (let i = 0; i < d; i++) D[i] = 0.5 + rs.randomSample();
  const mu = new Float64Array(d);
  for (let i = 0; i < d; i++) mu[i] = 0.1 * (rs.randomSample() - 0.5);
  const S = new Float64Array(d * d);
  for (let k = 0; k < r; k++) {
    for (let i = 0; i < d; i++) {
      const ui = U[i * r + k];
      const o = i * d;
      for (let j = 0; j < d; j++) S[o + j] += ui * U[j * r + k];
    }
  }
  for (let t = 0; t < d * d; t++) S[t] = S[t] / r;
  for (let i = 0; i < d; i++) S[i * d + i] += D[i];
  return { mu, sigma: S };
}

export function relErr(got: number, want: number): number {
  if (got === want) return 0;
  return Math.abs(got - want) / Math.max(Math.abs(want), Number.MIN_VALUE);
}

export function assertRel(got: number, want: number, tol: number, what = 'value'): void {
  assert.ok(Number.isFinite(got), `${what}: got ${got}`);
  assert.ok(relErr(got, want) <= tol, `${what}: got ${got}, want ${want} (relative error ${relErr(got, want).toExponential(2)} > ${tol})`);
}

export function assertAbs(got: number, want: number, tol: number, what = 'value'): void {
  assert.ok(Number.isFinite(got), `${what}: got ${got}`);
  assert.ok(Math.abs(got - want) <= tol, `${what}: got ${got}, want ${want} (|diff| ${Math.abs(got - want).toExponential(2)} > ${tol})`);
}

/** Row-major matrix from nested arrays. */
export function mat(rows: number[][]): Float64Array {
  return Float64Array.from(rows.flat());
}

export function fm(rows: number[][]): FeatureMatrix {
  return featureMatrix(mat(rows), rows.length, rows[0].length);
}
