/**
 * `evaluateRun` with Inception weights: a random-weights safetensors file with the pytorch-fid names, accepted as
 * unverified. Runs on wasm (the 299 px network is far too slow on the pure-JS cpu backend).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initEngine } from '../../src/core/engine.js';
import { sha256 } from '../../src/core/hash.js';
import { Rng } from '../../src/core/rng.js';
import { encodeSafetensors, type NamedTensor } from '../../src/core/safetensors.js';
import { nativeKernels } from '../../src/core/kernels/nativeModule.js';
import { inceptionParameterShapes } from '../../src/metrics/inception.js';
import { evaluateRun } from '../../src/study/evaluate.js';
import { realFloor } from '../../src/study/real-floor.js';
import { tempDir } from '../training/fixtures.js';
import { makeEvalFixture } from './eval-fixture.js';

await initEngine({ backend: 'wasm' });
process.env.MEDSYN_WEIGHTS_DIR = tempDir('medsyn-weights-');
const { dataDir, runDir } = await makeEvalFixture();
const finite = (x: unknown, what: string): void => assert.ok(typeof x === 'number' && Number.isFinite(x), `${what} = ${String(x)}`);

test('evaluate: with an Inception weights file (random weights, unverified) the Inception space and its UMAP are filled', async () => {
  const rnd: Record<string, NamedTensor> = {};
  const rng = new Rng(5);
  for (const { name, shape } of inceptionParameterShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const fanIn = shape.length === 4 ? shape.slice(1).reduce((a, b) => a * b, 1) : shape[shape.length - 1]!;
    const base = name.endsWith('running_var') || name.endsWith('bn.weight') ? 1 : 0;
    const scale = name.endsWith('.weight') && shape.length > 1 ? Math.sqrt(2 / fanIn) : 0.1;
    rnd[name] = { dtype: 'F32', shape, data: Float32Array.from({ length: n }, () => base + scale * rng.normal()) };
  }
  const weights = path.join(tempDir('medsyn-inception-'), 'random-inception.safetensors');
  fs.writeFileSync(weights, encodeSafetensors(rnd));
  const r = await evaluateRun({ runDir, data: dataDir, n: 8, unetConfig: { maxSteps: 2, batchSize: 8, unet: { depth: 2, filters: 4 } }, inceptionWeights: { file: weights, allowUnverified: true }, log: () => {} });
  assert.ok(r.inception, 'Inception space computed');
  for (const k of ['fid', 'kid_mean', 'precision', 'recall', 'density', 'coverage'] as const) finite(r.inception[k], `inception.${k}`);
  assert.equal(r.inception.protocol.dim, 2048);
  assert.equal(r.inception.protocol.feature_extractor, 'inception-v3-fid:pytorch-fid');
  assert.equal(r.inception.weights.verification, 'unverified');
  assert.equal(r.inception.weights.sha256, sha256(fs.readFileSync(weights)));
  // on wasm with the native module the network runs as a native graph (MEDSYN_NATIVE_KERNELS=0: TF.js ops)
  assert.equal(r.inception.network_engine, nativeKernels() ? 'native' : 'tfjs');
  assert.equal(r.inception_skipped, undefined);
  assert.ok(r.umap.inception);
  assert.equal(r.umap.inception.protocol.dim, 2048);
  // bootstrap intervals in both spaces, around (or near) the estimates
  for (const space of [r.inception, r.unet]) {
    finite(space.fid_ci.lo, 'fid_ci.lo');
    assert.ok(space.fid_ci.lo <= space.fid_ci.hi);
    assert.ok(space.fid_ci.draws >= 20);
  }

  // the real-vs-real floor (study baselines) in both spaces, from the U-Net evaluate trained into the run folder
  const floor = await realFloor({ data: dataDir, unetDir: path.join(runDir, 'eval', 'unet-real'), inception: { file: weights, allowUnverified: true } });
  finite(floor.unetFid, 'floor.unetFid');
  finite(floor.fid, 'floor.fid');
  assert.ok(floor.halves[0] >= 2 && floor.halves[1] >= 2);
  const noInception = await realFloor({ data: dataDir, unetDir: path.join(runDir, 'eval', 'unet-real'), inception: { file: null, allowUnverified: false } });
  assert.equal(noInception.fid, null);
  assert.equal(noInception.unetFid, floor.unetFid);
});
