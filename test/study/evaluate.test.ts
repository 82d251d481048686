/**
 * `evaluateRun` end to end on a tiny prepared dataset (written with writePrepared) and a 2-step GAN run: samples
 * drawn when missing, U-Net trained when not given, metrics.json with every section; no FID weights → inception null.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { initEngine } from '../../src/core/engine.js';
import { sha256 } from '../../src/core/hash.js';
import { evaluateRun, METRICS_FORMAT, summariseEvaluation, type EvaluationResult } from '../../src/study/evaluate.js';
import { tempDir } from '../training/fixtures.js';
import { makeEvalFixture } from './eval-fixture.js';

await initEngine({ backend: 'cpu' });
process.env.MEDSYN_WEIGHTS_DIR = tempDir('medsyn-weights-'); // empty: no FID Inception weights

const { dataDir, runDir } = await makeEvalFixture();

const TINY_UNET = { maxSteps: 6, batchSize: 8, unet: { depth: 2, filters: 4 } };
const finite = (x: unknown, what: string): void => assert.ok(typeof x === 'number' && Number.isFinite(x), `${what} = ${String(x)}`);

function checkSpace(s: EvaluationResult['unet'], nFake: number, nReal: number): void {
  for (const k of ['fid', 'kid_mean', 'kid_std', 'precision', 'recall', 'density', 'coverage'] as const) finite(s[k], `unet.${k}`);
  assert.equal(s.protocol.n_fake, nFake);
  assert.equal(s.protocol.n_real, nReal);
  assert.equal(s.protocol.kid_subset_size_policy, 'clip');
  assert.equal(s.protocol.kid.subset_size, Math.min(1000, nFake, nReal));
  assert.match(s.protocol.feature_extractor, /^unet-encoder:[0-9a-f]{64}$/);
}

test('evaluate: samples and a real-data U-Net made when missing; metrics.json has every section', async () => {
  const lines: string[] = [];
  const r = await evaluateRun({ runDir, data: dataDir, unetConfig: TINY_UNET, log: (l) => lines.push(l) });
  const file = path.join(runDir, 'metrics.json');
  assert.ok(fs.existsSync(file));
  const json = JSON.parse(fs.readFileSync(file, 'utf8')) as EvaluationResult;
  assert.deepEqual(json, JSON.parse(JSON.stringify(r)));
  assert.equal(json.format, METRICS_FORMAT);
  assert.equal(json.run, path.resolve(runDir));
  assert.equal(json.run_config_hash, JSON.parse(fs.readFileSync(path.join(runDir, 'run.json'), 'utf8')).configHash);
  // 64 samples (the train split has 24 slices, fewer than the minimum) were drawn into RUN/samples
  assert.equal(json.samples.dir, path.join(path.resolve(runDir), 'samples'));
  assert.equal(json.samples.n, 64);
  assert.equal(json.samples.sampled_here, true);
  assert.equal(json.samples.manifest_sha256, sha256(fs.readFileSync(path.join(runDir, 'samples', 'manifest.json'))));
  assert.deepEqual(json.dataset, { dir: path.resolve(dataDir), name: 'shapes', config_hash: 'shapes-eval', matches_run: true, counts: { train: 24, held_out: 16 } });
  assert.equal(typeof json.engine.backend, 'string');
  assert.equal(json.inception, null);
  assert.match(json.inception_skipped!, /medsyn weights/);
  assert.ok(!json.inception_skipped!.includes('\n'), 'one line');

  checkSpace(json.unet, 64, 24);
  assert.equal(json.unet.model.trained_here, true);
  assert.equal(json.unet.model.dir, path.join(path.resolve(runDir), 'eval', 'unet-real'));
  assert.equal(json.unet.model.sha256, sha256(fs.readFileSync(path.join(runDir, 'eval', 'unet-real', 'model.safetensors'))));
  assert.equal(json.unet.protocol.feature_extractor, `unet-encoder:${json.unet.model.sha256}`);
  assert.equal((json.unet.model.config as { maxSteps: number }).maxSteps, 6);
  finite(json.unet.model.test_dice_mean, 'test dice');

  const d = json.domain;
  assert.deepEqual(d.protocol.counts, { generated: 64, trainReal: 24, heldOutReal: 16 });
  finite(d.memorisation.pixel.nearCopyShare, 'pixel near-copy share');
  finite(d.memorisation.feature!.generated.mean, 'feature NN distance');
  assert.equal(d.protocol.memorisation.features!.dim, 16);
  assert.ok(d.consistency, 'consistency computed with the U-Net');
  assert.equal(d.consistency.perSample.length, 64);
  assert.equal(d.plausibility.generated.count, 64);
  assert.ok(d.diversity, '16 px has one MS-SSIM scale');
  finite(d.diversity.generated.mean, 'MS-SSIM');
  // UMAP of the U-Net features (real train vs generated); none of the Inception features without weights
  assert.equal(json.umap.inception, null);
  const up = json.umap.unet.points;
  assert.equal(up.length, 24 + 64);
  assert.equal(up.filter((p) => p.source === 'real').length, 24);
  assert.equal(up.filter((p) => p.source === 'generated').length, 64);
  assert.ok(up.every((p) => Number.isFinite(p.x) && Number.isFinite(p.y)));
  assert.deepEqual([json.umap.unet.protocol.n_real, json.umap.unet.protocol.n_generated, json.umap.unet.protocol.dim], [24, 64, 16]);
  finite(json.umap.unet.separability, 'UMAP separability');
  assert.ok(json.umap.unet.separability >= 0 && json.umap.unet.separability <= 1);
  assert.ok(lines.some((l) => /^UMAP of U-Net features: .* s\)$/.test(l)), 'UMAP time logged');
  assert.equal(typeof json.created_at, 'string');
  assert.equal(typeof json.medsyn_version, 'string');

  const summary = summariseEvaluation(r);
  assert.ok(summary.some((l) => l.startsWith('Inception: skipped')));
  assert.ok(summary.some((l) => l.startsWith('U-Net: FID')));
  assert.ok(lines.some((l) => l.includes('sampling 64')));
});

test('evaluate: an existing sample set and a given U-Net folder are reused', async () => {
  const unetDir = path.join(runDir, 'eval', 'unet-real');
  const manifestBefore = fs.readFileSync(path.join(runDir, 'samples', 'manifest.json'), 'utf8');
  const r = await evaluateRun({ runDir, data: dataDir, unetDir, n: 32, log: () => {} });
  assert.equal(fs.readFileSync(path.join(runDir, 'samples', 'manifest.json'), 'utf8'), manifestBefore, 'not resampled');
  assert.equal(r.samples.sampled_here, false);
  assert.equal(r.samples.n, 32);
  assert.equal(r.unet.model.trained_here, false);
  checkSpace(r.unet, 32, 24);
  assert.equal(r.domain.protocol.counts.generated, 32);
});

