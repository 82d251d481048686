import { test } from 'node:test';
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { GAN_VARIANT_IDS } from '../../src/gan/variants.js';
import { loadStudy, resolveStudy } from '../../src/study/config.js';
import { expandStudy, ganGrid, type TrialPlan } from '../../src/study/sweep.js';

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const ids = (plan: readonly TrialPlan[]) => plan.map((t) => t.id);

test('grid: Cartesian product, counted by hand, in dataset → GAN → configuration → seed order', () => {
  const study = resolveStudy({
    name: 'g', datasets: [{ id: 'acdc' }, { id: 'idrid' }], gans: ['dcgan', 'wgan-gp'], seeds: [0, 1],
    search: { space: { 'd.filters': [16, 32], 'g.norm': ['batch', 'instance'], gpWeight: [1, 10] } },
  });
  // dcgan: 2 × 2 (gpWeight does not apply) = 4; wgan-gp: 2 × 2 × 2 = 8; × 2 seeds × 2 datasets
  const plan = expandStudy(study);
  assert.equal(plan.length, (4 + 8) * 2 * 2);
  assert.equal(new Set(ids(plan)).size, plan.length);
  const keyOf = (t: TrialPlan) => [t.dataset, t.gan, t.index, t.seed].join('/');
  assert.deepEqual(plan.slice(0, 4).map(keyOf), ['acdc/dcgan/0/0', 'acdc/dcgan/0/1', 'acdc/dcgan/1/0', 'acdc/dcgan/1/1']);
  assert.deepEqual(plan.slice(8, 10).map(keyOf), ['acdc/wgan-gp/0/0', 'acdc/wgan-gp/0/1']);
  assert.equal(keyOf(plan[24]!), 'idrid/dcgan/0/0');
  // last axis fastest
  const wgp = plan.filter((t) => t.dataset === 'acdc' && t.gan === 'wgan-gp' && t.seed === 0);
  assert.deepEqual(wgp.slice(0, 3).map((t) => t.overrides), [
    { 'd.filters': 16, 'g.norm': 'batch', gpWeight: 1 },
    { 'd.filters': 16, 'g.norm': 'batch', gpWeight: 10 },
    { 'd.filters': 16, 'g.norm': 'instance', gpWeight: 1 },
  ]);
  for (const t of plan) {
    assert.equal(t.invalid, null);
    assert.equal(t.resolvedGan!.variant, t.gan);
    assert.ok(t.id.startsWith(`${t.dataset}-${t.gan}-`) && /-[0-9a-f]{10}$/.test(t.id));
    assert.ok(Object.isFrozen(t) && Object.isFrozen(t.overrides));
  }
  assert.equal(plan[0]!.configId, plan[1]!.configId); // repeats share the configuration
  assert.notEqual(plan[0]!.id, plan[1]!.id);
});

test('inapplicable keys are dropped per GAN and deduplicated (also when loss is searched)', () => {
  const study = resolveStudy({
    name: 'd', datasets: [{ id: 'acdc' }], gans: ['dcgan', 'hinge', 'wgan'],
    search: { space: { gpWeight: [0, 1, 10], labelSmoothing: [false, true], weightClip: [0.01, 0.1] } },
  });
  const plan = expandStudy(study);
  const by = (g: string) => plan.filter((t) => t.gan === g);
  assert.equal(by('dcgan').length, 2); // labelSmoothing only
  assert.equal(by('hinge').length, 1); // none apply
  assert.equal(by('wgan').length, 3 * 2); // gpWeight × weightClip
  for (const t of by('dcgan')) assert.deepEqual(Object.keys(t.overrides), ['labelSmoothing']);
  assert.deepEqual(by('hinge')[0]!.overrides, {});
  assert.equal(new Set(ids(plan)).size, plan.length);

  const withLoss = resolveStudy({
    name: 'l', datasets: [{ id: 'acdc' }], gans: ['dcgan'],
    search: { space: { loss: ['hinge', 'least-squares', 'wasserstein'], labelSmoothing: [0, 0.1], gpWeight: [0, 10] }, fixed: { weightClip: 0 } },
  });
  assert.equal(ganGrid(withLoss, 'dcgan').size, 1 + 2 + 2);
  const lp = expandStudy(withLoss);
  assert.equal(lp.length, 5);
  assert.deepEqual(lp.map((t) => t.resolvedGan!.loss), ['hinge', 'least-squares', 'least-squares', 'wasserstein', 'wasserstein']);
  assert.deepEqual(lp[3]!.overrides, { weightClip: 0, loss: 'wasserstein', gpWeight: 0 });
});

test('a combination resolveGanConfig rejects becomes an invalid trial, not a crash', () => {
  const study = resolveStudy({
    name: 'i', datasets: [{ id: 'acdc' }], gans: ['dcgan'],
    search: { space: { 'perceptual.weight': [0, 1], 'perceptual.weightsPath': [null, 'vgg16.safetensors'] } },
  });
  const plan = expandStudy(study);
  assert.equal(plan.length, 4);
  const invalid = plan.filter((t) => t.invalid !== null);
  assert.equal(invalid.length, 1);
  assert.equal(invalid[0]!.resolvedGan, null);
  assert.match(invalid[0]!.invalid!, /weightsPath/);
  assert.deepEqual(invalid[0]!.overrides, { 'perceptual.weight': 1, 'perceptual.weightsPath': null });
  assert.equal(new Set(ids(plan)).size, 4);
});

test('random search: seeded, without replacement, inside the grid, prefix-stable', () => {
  const space = { 'd.filters': [16, 32, 64, 128], 'g.filters': [16, 32, 64, 128], 'init.gain': [0.01, 0.02, 0.1, 1], gpWeight: [0, 1, 10] };
  const mk = (seed: number, trials: number, datasets: object[] = [{ id: 'acdc' }]) =>
    resolveStudy({ name: 'r', datasets, gans: ['dcgan', 'wgan-gp'], search: { mode: 'random', trials, seed, space } });
  const a = expandStudy(mk(7, 10));
  assert.equal(a.length, 20);
  assert.deepEqual(ids(a), ids(expandStudy(mk(7, 10))));
  assert.notDeepEqual(ids(a), ids(expandStudy(mk(8, 10))));
  assert.equal(new Set(ids(a)).size, a.length);
  for (const t of a) {
    for (const [k, v] of Object.entries(t.overrides)) assert.ok((space as Record<string, unknown[]>)[k]!.includes(v), `${k}=${String(v)} outside the space`);
    assert.equal('gpWeight' in t.overrides, t.gan === 'wgan-gp');
  }
  // more trials keep the earlier ones
  const b = expandStudy(mk(7, 15));
  for (const gan of ['dcgan', 'wgan-gp']) {
    assert.deepEqual(ids(a.filter((t) => t.gan === gan)), ids(b.filter((t) => t.gan === gan)).slice(0, 10));
  }
  // more trials than the grid holds: the whole grid (dcgan 64, wgan-gp 192), each once
  const all = expandStudy(mk(1, 1000));
  assert.equal(all.filter((t) => t.gan === 'dcgan').length, 64);
  assert.equal(all.filter((t) => t.gan === 'wgan-gp').length, 192);
  assert.equal(new Set(ids(all)).size, all.length);
  // different datasets draw differently
  const two = expandStudy(mk(7, 10, [{ id: 'acdc' }, { id: 'sliver07' }]));
  const cfg = (ds: string) => two.filter((t) => t.dataset === ds && t.gan === 'dcgan').map((t) => JSON.stringify(t.overrides));
  assert.notDeepEqual(cfg('acdc'), cfg('sliver07'));
});

test('ids are stable and ignore keys that do not change a training', () => {
  const base = { name: 's', datasets: [{ id: 'acdc' }], gans: ['dcgan', 'lsgan'], search: { space: { 'd.filters': [16, 32] } }, seeds: [0, 1] };
  const ref = ids(expandStudy(resolveStudy(base)));
  assert.deepEqual(ids(expandStudy(resolveStudy(structuredClone(base)))), ref);
  const unrelated = {
    ...base, name: 'other', samples: 999, training: { kimg: 10 }, workers: 3,
    downstream: { regimes: ['real', 'synthetic'], maxSteps: 5 }, selection: { metric: 'kid' },
    datasets: [{ id: 'acdc', root: undefined }],
  };
  assert.deepEqual(ids(expandStudy(resolveStudy(unrelated))), ref);
  // a wider space keeps the ids of the configurations it shares
  const wider = ids(expandStudy(resolveStudy({ ...base, search: { space: { 'd.filters': [16, 32, 64] } } })));
  for (const id of ref) assert.ok(wider.includes(id));
  // what changes the training changes the id
  assert.notDeepEqual(ids(expandStudy(resolveStudy({ ...base, datasets: [{ id: 'acdc', size: 64 }] }))), ref);
  assert.notDeepEqual(ids(expandStudy(resolveStudy({ ...base, seeds: [2, 3] }))), ref);
  assert.notDeepEqual(ids(expandStudy(resolveStudy({ ...base, search: { space: { 'd.filters': [16, 32] }, fixed: { batchSize: 8 } } }))), ref);
  // a fixed value equal to the preset's is the same configuration
  assert.deepEqual(ids(expandStudy(resolveStudy({ ...base, search: { space: { 'd.filters': [16, 32] }, fixed: { latentDim: 128 } } }))), ref);
});

test('grid search refuses a huge grid and points to random search', () => {
  const big = resolveStudy({ name: 'b', datasets: [{ id: 'acdc' }], gans: ['dcgan'], search: { space: {
    'd.filters': [16, 32, 64, 128], 'g.filters': [16, 32, 64, 128], 'init.gain': [0.01, 0.02, 0.1, 1], 'init.kind': ['normal', 'xavier', 'xavier-uniform', 'kaiming'],
    lr: [4e-5, 5e-5, 1e-4, 2e-4, 1e-3], 'd.activation': ['relu', 'elu', 'selu', 'leaky-relu'], 'g.activation': ['relu', 'elu', 'selu', 'leaky-relu'],
  } } });
  assert.throws(() => expandStudy(big), /"mode": "random"/);
});

test('the shipped studies expand', () => {
  const demo = expandStudy(loadStudy(path.join(REPO, 'studies/demo.json')));
  assert.equal(demo.length, 3 * GAN_VARIANT_IDS.length * 2);
  assert.ok(demo.every((t) => t.invalid === null));
  assert.equal(new Set(ids(demo)).size, demo.length);
  for (const gan of GAN_VARIANT_IDS) {
    const filters: number[] = demo.filter((t) => t.dataset === 'acdc' && t.gan === gan).map((t) => t.resolvedGan!.d.filters);
    assert.deepEqual(filters, [16, 32]);
  }
  const acdcStudy = loadStudy(path.join(REPO, 'studies/acdc.json'));
  const acdc = expandStudy(acdcStudy);
  assert.equal(acdc.length, GAN_VARIANT_IDS.length * 20);
  assert.equal(new Set(ids(acdc)).size, acdc.length);
  assert.ok(acdc.every((t) => t.invalid === null && t.resolvedGan!.batchSize === 32));
  assert.deepEqual(ids(expandStudy(loadStudy(path.join(REPO, 'studies/acdc.json')))), ids(acdc));
  assert.ok(acdc.filter((t) => t.gan === 'dcgan').every((t) => !('gpWeight' in t.overrides) && !('weightClip' in t.overrides)));
});
