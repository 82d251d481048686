import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../../src/core/errors.js';
import { GAN_VARIANT_IDS } from '../../src/gan/variants.js';
import { applyStudyOverrides, loadStudy, resolveStudy } from '../../src/study/config.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

function tmpStudy(content: unknown): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-study-'));
  const file = path.join(dir, 'study.json');
  fs.writeFileSync(file, typeof content === 'string' ? content : JSON.stringify(content));
  return file;
}

function rejects(fn: () => unknown, ...patterns: RegExp[]): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    for (const p of patterns) assert.match(err.message, p);
    return true;
  });
}

test('defaults give a small, complete, deep-frozen study', () => {
  const s = resolveStudy({ name: 'tiny' });
  assert.deepEqual(s.datasets.map((d) => [d.id, d.label, d.root, d.size]), [
    ['acdc', 'acdc', null, 32], ['sliver07', 'sliver07', null, 32], ['idrid', 'idrid', null, 32],
  ]);
  assert.deepEqual(s.gans, GAN_VARIANT_IDS);
  assert.equal(s.search.mode, 'grid');
  assert.deepEqual(s.search.space, {});
  assert.deepEqual(s.seeds, [0]);
  assert.equal(s.training.kimg, 2);
  assert.equal(s.training.checkpointKimg, null);
  assert.deepEqual(s.downstream.regimes, ['real', 'augmented', 'synthetic', 'real+synthetic']);
  assert.equal(s.downstream.syntheticCount, s.samples);
  assert.deepEqual(s.selection, { metric: 'fid', direction: 'min' });
  assert.ok(s.workers >= 1);
  assert.ok(Object.isFrozen(s) && Object.isFrozen(s.datasets[0]) && Object.isFrozen(s.search.space) && Object.isFrozen(s.selection));
  assert.equal(resolveStudy({ name: 't', selection: { metric: 'dice' } }).selection.direction, 'max');
  assert.equal(resolveStudy({ name: 't', datasets: [{ id: 'acdc', root: '/data/acdc' }] }).datasets[0]!.size, 64);
});

test('an unknown space key names the file, the JSON path and the likely key', () => {
  const file = tmpStudy({ name: 'x', search: { space: { 'd.filterz': [16, 32] } } });
  rejects(() => loadStudy(file), new RegExp(file.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')), /search\.space\.d\.filterz/, /did you mean 'd\.filters'/);
  rejects(() => resolveStudy({ name: 'x', search: { fixed: { lrr: 1e-4 } } }), /search\.fixed\.lrr/, /did you mean 'lr'/);
});

test('unknown study keys get a did-you-mean at their path', () => {
  rejects(() => resolveStudy({ name: 'x', sampels: 10 }), /\(study\)|unknown key 'sampels'/, /did you mean 'samples'/);
  rejects(() => resolveStudy({ name: 'x', training: { kimgs: 3 } }), /training: unknown key 'kimgs' \(did you mean 'kimg'\?\)/);
  rejects(() => resolveStudy({ name: 'x', datasets: [{ id: 'acdc', sise: 32 }] }), /datasets\[0\]: unknown key 'sise' \(did you mean 'size'\?\)/);
  rejects(() => resolveStudy({ name: 'x', datasets: [{ id: 'acdcc' }] }), /datasets\[0\]\.id/);
  rejects(() => resolveStudy({ name: 'x', gans: ['dcgan', 'stylegan'] }), /gans\[1\]/);
});

test('space values are coerced like --set and deduplicated; bad values name their index', () => {
  const s = resolveStudy({ name: 'x', search: { space: { 'd.filters': ['16', 32, 16], diffAugment: [true, 'none', 'translation'], labelSmoothing: [false, true], lr: ['2e-4'] } } });
  assert.deepEqual(s.search.space['d.filters'], [16, 32]);
  assert.deepEqual(s.search.space.diffAugment, [['color', 'translation', 'cutout'], [], ['translation']]);
  assert.deepEqual(s.search.space.labelSmoothing, [0, 0.1]);
  assert.deepEqual(s.search.space.lr, [2e-4]);
  rejects(() => resolveStudy({ name: 'x', search: { space: { 'd.filters': [16, 'wide'] } } }), /search\.space\.d\.filters\[1\]/, /expected a number/);
  rejects(() => resolveStudy({ name: 'x', search: { space: { 'd.norm': ['batch', 'batchh'] } } }), /search\.space\.d\.norm\[1\]/, /no GAN of the study accepts/);
  rejects(() => resolveStudy({ name: 'x', search: { space: { 'd.filters': [] } } }), /search\.space\.d\.filters/, /at least one value/);
  rejects(() => resolveStudy({ name: 'x', search: { space: { batchSize: [8] }, fixed: { batchSize: 8 } } }), /search\.fixed\.batchSize: .*both searched/);
  // a value that is only bad in combination (perceptual.weight needs weightsPath) is left to the sweep
  resolveStudy({ name: 'x', search: { space: { 'perceptual.weight': [0, 1], 'perceptual.weightsPath': [null, 'vgg.safetensors'] } } });
  // a loss-specific key for a study without that loss is dropped per GAN, not an error
  resolveStudy({ name: 'x', gans: ['dcgan'], search: { space: { gpWeight: [1, 10] } } });
});

test('cross-field rules', () => {
  rejects(() => resolveStudy({ name: 'x', search: { mode: 'random' } }), /search\.trials: random search needs "trials"/);
  rejects(() => resolveStudy({ name: 'x', search: { mode: 'grid', trials: 3 } }), /search\.trials/);
  rejects(() => resolveStudy({ name: 'x', training: { kimg: 1, checkpointKimg: 2 } }), /training\.checkpointKimg/);
  rejects(() => resolveStudy({ name: 'x', downstream: { regimes: ['real'] }, selection: { metric: 'dice' } }), /selection\.metric/);
  rejects(() => resolveStudy({ name: 'x', datasets: [{ id: 'acdc' }, { id: 'acdc', size: 64 }] }), /datasets\[1\]\.label: dataset 'acdc' appears twice/);
  rejects(() => resolveStudy({ name: 'x', datasets: [{ id: 'acdc', prepare: { size: 64 } }] }), /datasets\[0\]\.prepare\.size/);
  rejects(() => resolveStudy({ name: 'x', datasets: [{ id: 'sliver07', prepare: { intensity: { low: 1 } } }] }), /datasets\[0\]\.prepare: .*intensity\.low does not apply/);
  rejects(() => resolveStudy({ name: 'x', seeds: [1, 1] }), /seeds: lists a seed twice/);
  const two = resolveStudy({ name: 'x', datasets: [{ id: 'acdc' }, { id: 'acdc', label: 'acdc-64', size: 64, prepare: { axis: 'auto' } }] });
  assert.deepEqual(two.datasets.map((d) => d.label), ['acdc', 'acdc-64']);
});

test('CLI overrides: dotted paths, JSON or comma values, search keys with dots', () => {
  const file = tmpStudy({ name: 'x', seeds: [0], search: { space: { 'd.filters': [16] } } });
  const s = loadStudy(file, ['training.kimg=4', 'seeds=0,1,2', 'search.space.d.filters=16,64', 'search.fixed.g.norm=instance', 'gans=dcgan,hinge', 'samples=7']);
  assert.equal(s.training.kimg, 4);
  assert.deepEqual(s.seeds, [0, 1, 2]);
  assert.deepEqual(s.search.space['d.filters'], [16, 64]);
  assert.equal(s.search.fixed['g.norm'], 'instance');
  assert.deepEqual(s.gans, ['dcgan', 'hinge']);
  assert.equal(s.samples, 7);
  assert.deepEqual(loadStudy(file, ['seeds=5']).seeds, [5]);
  rejects(() => loadStudy(file, ['training.kimg=lots']), /with overrides training\.kimg=lots/, /training\.kimg/);
  rejects(() => loadStudy(file, ['nonsense']), /key=value/);
  assert.deepEqual(applyStudyOverrides({ a: 1 }, ['b.c=[1,2]']), { a: 1, b: { c: [1, 2] } });
});

test('unreadable and malformed files name the file and the fix', () => {
  rejects(() => loadStudy('/nonexistent/study.json'), /\/nonexistent\/study\.json: cannot read/, /fix:/);
  const bad = tmpStudy('{ "name": "x", }');
  rejects(() => loadStudy(bad), /not valid JSON/, /fix:/);
});

test('the shipped study files load', () => {
  const demo = loadStudy(path.join(REPO, 'studies/demo.json'));
  assert.equal(demo.name, 'demo');
  assert.deepEqual(demo.datasets.map((d) => [d.id, d.root, d.size]), [['acdc', null, 32], ['sliver07', null, 32], ['idrid', null, 32]]);
  assert.deepEqual(demo.gans, GAN_VARIANT_IDS);
  const acdc = loadStudy(path.join(REPO, 'studies/acdc.json'));
  assert.equal(acdc.search.mode, 'random');
  assert.equal(acdc.search.trials, 20);
  assert.equal(acdc.datasets[0]!.size, 64);
  assert.ok(acdc.datasets[0]!.root !== null && path.isAbsolute(acdc.datasets[0]!.root));
  // --data-dir: relative roots resolve against it
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-data-dir-'));
  try {
    const paper = loadStudy(path.join(REPO, 'studies/paper.json'), [], { dataDir });
    assert.deepEqual(paper.datasets.map((d) => [d.id, d.root]), [['acdc', path.join(dataDir, 'ACDC')], ['sliver07', path.join(dataDir, 'SLiver07')], ['idrid', path.join(dataDir, 'IDRiD')]]);
    for (const f of ['sliver07', 'idrid']) assert.equal(loadStudy(path.join(REPO, `studies/${f}.json`), [], { dataDir }).datasets[0]!.id, f);
  } finally {
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
  assert.throws(() => loadStudy(path.join(REPO, 'studies/paper.json'), [], { dataDir: '/no/such/folder' }), /--data-dir \/no\/such\/folder: no such folder/);
});
