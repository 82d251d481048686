/**
 * The `medsyn` command end to end, as a user runs it: phantoms → prepare → show → train → sample → segment,
 * plus exit codes and messages on bad input. Tiny sizes; the real readers and writers are exercised.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BIN = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../bin/medsyn.js');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-cli-'));

function medsyn(...args: string[]): { code: number; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, ...args], { encoding: 'utf8', env: { ...process.env, MEDSYN_BACKEND: 'wasm' } });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

function ok(...args: string[]): string {
  const r = medsyn(...args);
  assert.equal(r.code, 0, `medsyn ${args.join(' ')} failed:\n${r.stderr}`);
  return r.stdout;
}

test('every command answers --help', () => {
  for (const cmd of [[], ['data'], ['data', 'phantoms'], ['data', 'prepare'], ['data', 'show'], ['train'], ['sample'], ['segment'], ['evaluate'], ['metrics'], ['weights'], ['demo'], ['study'], ['study', 'run'], ['study', 'resume'], ['study', 'status'], ['study', 'report']]) {
    const out = ok(...cmd, '--help');
    assert.match(out, /Usage: medsyn/);
  }
});

test('phantoms → prepare (all three datasets) → show, then a GAN run → samples → U-Net', { timeout: 300_000 }, async () => {
  const phantoms = path.join(work, 'phantoms');
  const printed = ok('data', 'phantoms', '--out', phantoms, '--patients', '4', '--seed', '3');
  for (const name of ['acdc', 'sliver07', 'idrid']) assert.match(printed, new RegExp(`${name}: `));

  for (const dataset of ['acdc', 'sliver07', 'idrid']) {
    const out = path.join(work, 'prepared', dataset);
    const line = ok('data', 'prepare', '--dataset', dataset, '--root', path.join(phantoms, dataset), '--out', out, '--size', '16');
    assert.match(line, /^prepared: .*train \d+ slices/);
    assert.match(ok('data', 'prepare', '--dataset', dataset, '--root', path.join(phantoms, dataset), '--out', out, '--size', '16'), /^cache hit/);
    const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
    for (const split of ['train', 'val', 'test']) assert.ok(manifest.counts[split] > 0, `${dataset} ${split} is empty`);
    const grid = path.join(work, `${dataset}.png`);
    ok('data', 'show', '--data', out, '--out', grid, '--n', '4');
    assert.ok(fs.statSync(grid).size > 100);
  }

  const data = path.join(work, 'prepared', 'acdc');
  const run = path.join(work, 'run');
  ok('train', '--data', data, '--gan', 'hinge', '--kimg', '0.016', '--out', run, '--set', 'batchSize=8', '--set', 'g.filters=8', '--set', 'd.filters=8', '--set', 'latentDim=16');
  const runJson = JSON.parse(fs.readFileSync(path.join(run, 'run.json'), 'utf8'));
  assert.equal(runJson.engine.backend, 'wasm', 'the backend is recorded in run.json');
  ok('train', '--out', run, '--data', data, '--kimg', '0.032', '--resume');
  const samples = path.join(work, 'samples');
  ok('sample', '--run', run, '--n', '6', '--out', samples, '--batch-size', '4');
  const m = JSON.parse(fs.readFileSync(path.join(samples, 'manifest.json'), 'utf8'));
  assert.equal(m.files.length, 6);
  assert.ok(fs.existsSync(path.join(samples, m.files[0].png.image)));

  const seg = path.join(work, 'seg');
  const line = ok('segment', '--data', data, '--train', `real+synthetic:${samples}`, '--out', seg, '--steps', '3', '--depth', '2', '--filters', '4', '--batch-size', '4');
  assert.match(line, /Dice \d\.\d{3}/);
  const result = JSON.parse(fs.readFileSync(path.join(seg, 'result.json'), 'utf8'));
  assert.ok(result.dice_mean >= 0 && result.dice_mean <= 1);
  assert.equal(result.counts.train_synthetic, 6);
});

test('an nnU-Net raw dataset written by nibabel prepares through the CLI, labels intact', () => {
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../test/fixtures/Dataset901_Tiny');
  const out = path.join(work, 'prepared-nnunet');
  const line = ok('data', 'prepare', '--dataset', 'nnunet', '--root', root, '--out', out, '--size', '16', '--keep-empty');
  assert.match(line, /^prepared: /);
  const manifest = JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'));
  assert.equal(manifest.dataset, 'nnunet');
  assert.equal(manifest.classNames.length, 3);
  ok('data', 'show', '--data', out, '--out', path.join(work, 'nnunet.png'), '--n', '4');
});

test('weights: a missing Inception file is reported with its URL and sha256; --check fails', () => {
  const dir = path.join(work, 'weights');
  const r = medsyn('weights', '--dir', dir, '--check');
  assert.equal(r.code, 1);
  assert.match(r.stdout, /missing/);
  assert.match(r.stdout, /https:\/\/github\.com\/mseitzer\/pytorch-fid\/releases/);
  assert.match(r.stdout, /6726825d0af5f729/);
});

test('bad input: exit code 1 and a message that names the path', () => {
  const missing = path.join(work, 'no-such-dataset');
  const r = medsyn('data', 'prepare', '--dataset', 'acdc', '--root', missing, '--out', path.join(work, 'x'));
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(missing.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')));
  const typo = medsyn('data', 'prepare', '--dataset', 'acdcc', '--root', missing, '--out', path.join(work, 'x'));
  assert.notEqual(typo.code, 0);
  assert.match(typo.stderr, /--dataset must be one of acdc, sliver07, idrid, nnunet/);
  const badSet = medsyn('train', '--data', missing, '--out', path.join(work, 'r'), '--set', 'd.filterz=3');
  assert.equal(badSet.code, 1);
  assert.match(badSet.stderr, /d\.filterz.*\n?.*d\.filters/s, 'unknown key named, with the closest valid one');
});

test('a study on data in its publisher layout: study run --data-dir (here IDRiD-layout JPEG/TIFF files)', { timeout: 300_000 }, () => {
  const data = path.join(work, 'study-data');
  ok('data', 'phantoms', '--out', data, '--patients', '6', '--datasets', 'idrid');
  const file = path.join(work, 'idrid-study.json');
  fs.writeFileSync(file, JSON.stringify({
    name: 'idrid-tiny',
    datasets: [{ id: 'idrid', root: 'idrid', size: 16 }],
    gans: ['dcgan'],
    search: { fixed: { batchSize: 8, 'g.filters': 8, 'd.filters': 8, latentDim: 16 } },
    training: { kimg: 0.04 },
    samples: 16,
    downstream: { regimes: ['real', 'synthetic'], unet: { depth: 2, filters: 4 }, maxSteps: 3, batchSize: 8 },
    workers: 1,
  }));
  const out = path.join(work, 'idrid-study');
  const missing = medsyn('study', 'run', file, '--out', out, '--data-dir', path.join(work, 'nowhere'));
  assert.equal(missing.code, 1);
  assert.match(missing.stderr, /--data-dir .*nowhere: no such folder/);
  const printed = ok('study', 'run', file, '--out', out, '--data-dir', data);
  assert.equal(printed.trim().split('\n').pop(), path.join(out, 'report', 'index.html'));
  const status = JSON.parse(ok('study', 'status', out, '--json')) as { counts: { done: number; failed: number; pending: number } };
  assert.equal(status.counts.failed, 0);
  assert.equal(status.counts.pending, 0);
  const table = fs.readFileSync(path.join(out, 'report', 'table2.csv'), 'utf8');
  assert.match(table, /Original data/);
  assert.match(table, /dcgan/);
});
