import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../src/core/errors.js';
import { resolveStudy } from '../../src/study/config.js';
import { jobId, planStudy, type StudyPlan } from '../../src/study/plan.js';
import { STORE_SCHEMA_VERSION, StudyStore } from '../../src/study/store.js';

/** One phantom dataset, two GANs × two configurations (8 trials' worth of jobs is plenty). */
function makePlan(over: { kimg?: number; gans?: string[] } = {}): StudyPlan {
  return planStudy(resolveStudy({
    name: 'store-test',
    datasets: [{ id: 'acdc', patients: 4 }],
    gans: over.gans ?? ['dcgan', 'wgan-gp'],
    search: { space: { 'd.filters': [16, 32] } },
    training: { kimg: over.kimg ?? 1 },
    samples: 8,
    downstream: { regimes: ['real', 'synthetic'], maxSteps: 5 },
    workers: 1,
  }));
}

function tmpStore(t: { after: (fn: () => void) => void }): { dir: string; file: string } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-store-'));
  t.after(() => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, file: path.join(dir, 'study.sqlite') };
}

function openNew(file: string, plan: StudyPlan): StudyStore {
  const store = StudyStore.open(file, { create: true });
  store.syncPlan(plan.trials, plan.jobs);
  return store;
}

/** Runs a job to done (start + finish) with a result. */
function complete(store: StudyStore, id: string, result: unknown = { ok: id }): number {
  const a = store.start(id, 4242);
  store.finish(id, a, result, 1.5, { worker: 1 });
  return a;
}

test('store: syncPlan adds every planned job as pending and every trial', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = StudyStore.open(file, { create: true });
  t.after(() => store.close());
  const r = store.syncPlan(plan.trials, plan.jobs);
  assert.deepEqual(r, { added: plan.jobs.length, replanned: 0, interrupted: 0, retried: 0 });
  const jobs = store.jobs();
  assert.equal(jobs.length, plan.jobs.length);
  // plan order, and everything round-trips
  assert.deepEqual(jobs.map((j) => j.id), plan.jobs.map((j) => j.id));
  jobs.forEach((j, i) => {
    const spec = plan.jobs[i]!;
    assert.equal(j.status, 'pending');
    assert.equal(j.kind, spec.kind);
    assert.equal(j.rank, spec.rank);
    assert.equal(j.inputHash, spec.inputHash);
    assert.deepEqual(j.deps, spec.deps);
    assert.deepEqual(j.payload, JSON.parse(JSON.stringify(spec.payload)));
    assert.equal(j.dataset, spec.dataset);
    assert.equal(j.gan, spec.gan);
    assert.equal(j.trialId, spec.trialId);
    assert.equal(j.result, null);
    assert.equal(j.error, null);
    assert.equal(j.attempts, 0);
  });
  assert.deepEqual(store.counts(), { pending: plan.jobs.length, running: 0, done: 0, failed: 0, skipped: 0 });
  const trials = store.trials();
  assert.equal(trials.length, plan.trials.length);
  assert.deepEqual(new Set(trials.map((x) => x.id)), new Set(plan.trials.map((x) => x.id)));
  const t0 = plan.trials[0]!;
  const row = trials.find((x) => x.id === t0.id)!;
  assert.deepEqual(row, {
    id: t0.id, dataset: t0.dataset, gan: t0.gan, configId: t0.configId, index: t0.index, seed: t0.seed,
    overrides: { ...t0.overrides }, invalid: null,
  });
  assert.equal(store.getMeta('schema'), String(STORE_SCHEMA_VERSION));
  assert.equal(store.attempts().length, 0);
});

test('store: start → running with an open attempt; finish → done, result and attempt closed', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = openNew(file, plan);
  t.after(() => store.close());
  const id = jobId.prepare('acdc');
  const attempt = store.start(id, 1234);
  let j = store.job(id)!;
  assert.equal(j.status, 'running');
  assert.equal(j.attempts, 1);
  assert.ok(j.startedAt && !Number.isNaN(Date.parse(j.startedAt)));
  let at = store.attempts(id);
  assert.equal(at.length, 1);
  assert.equal(at[0]!.id, attempt);
  assert.equal(at[0]!.pid, 1234);
  assert.equal(at[0]!.outcome, null);
  assert.equal(at[0]!.endedAt, null);
  assert.equal(at[0]!.inputHash, j.inputHash);
  assert.deepEqual(store.counts(), { pending: plan.jobs.length - 1, running: 1, done: 0, failed: 0, skipped: 0 });
  // a running job cannot be started again
  assert.throws(() => store.start(id, 1), /is running, not pending/);
  assert.throws(() => store.start('nope:x', 1), /no job nope:x/);

  const result = {
    classNames: ['background', 'LV', 'Myo'], counts: { train: 12, val: 3, test: 4 }, imageShape: [1, 32, 32],
    nested: { a: [1.5, -0, 1e-12, null], s: 'ünïcödé "quoted"\nline' }, flag: false,
  };
  store.finish(id, attempt, result, 2.25, { worker: 3 });
  j = store.job(id)!;
  assert.equal(j.status, 'done');
  assert.deepEqual(j.result, JSON.parse(JSON.stringify(result)));
  assert.equal(j.wallSec, 2.25);
  assert.equal(j.error, null);
  assert.ok(j.finishedAt && Date.parse(j.finishedAt) >= Date.parse(j.startedAt!));
  at = store.attempts(id);
  assert.equal(at[0]!.outcome, 'done');
  assert.ok(at[0]!.endedAt);
  assert.deepEqual(at[0]!.detail, { worker: 3 });
  assert.throws(() => store.start(id, 1), /is done, not pending/);
  assert.deepEqual(store.counts(), { pending: plan.jobs.length - 1, running: 0, done: 1, failed: 0, skipped: 0 });
});

test('store: fail keeps the error; failed jobs stay failed on re-sync unless retryFailed', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = openNew(file, plan);
  t.after(() => store.close());
  const id = jobId.train(plan.trials[0]!.id);
  const a = store.start(id, null);
  store.fail(id, a, 'NaN loss at step 12\nstack…', 3);
  let j = store.job(id)!;
  assert.equal(j.status, 'failed');
  assert.equal(j.error, 'NaN loss at step 12\nstack…');
  assert.equal(j.wallSec, 3);
  const at = store.attempts(id)[0]!;
  assert.equal(at.outcome, 'failed');
  assert.deepEqual(at.detail, { error: 'NaN loss at step 12\nstack…' });
  // fail without an attempt (e.g. the job could not be dispatched)
  const other = jobId.train(plan.trials[1]!.id);
  store.fail(other, null, 'worker died', null);
  assert.equal(store.job(other)!.status, 'failed');
  assert.equal(store.attempts(other).length, 0);

  let r = store.syncPlan(plan.trials, plan.jobs);
  assert.deepEqual(r, { added: 0, replanned: 0, interrupted: 0, retried: 0 });
  j = store.job(id)!;
  assert.equal(j.status, 'failed');
  assert.equal(j.error, 'NaN loss at step 12\nstack…');

  r = store.syncPlan(plan.trials, plan.jobs, { retryFailed: true });
  assert.equal(r.retried, 2);
  j = store.job(id)!;
  assert.equal(j.status, 'pending');
  assert.equal(j.error, null);
  assert.equal(j.attempts, 1); // the attempt history stays
  assert.equal(store.job(other)!.status, 'pending');
  // and it can run again
  complete(store, id);
  assert.equal(store.job(id)!.attempts, 2);
  assert.deepEqual(store.attempts(id).map((x) => x.outcome), ['failed', 'done']);
});

test('store: re-sync with the same plan keeps done jobs done with their results', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  let store = openNew(file, plan);
  const ids = [jobId.phantoms('acdc', 4, 0), jobId.prepare('acdc'), jobId.baseline('acdc', 'real')];
  for (const id of ids) complete(store, id, { id, n: 7 });
  store.close();
  store = StudyStore.open(file);
  t.after(() => store.close());
  const again = makePlan(); // planned afresh: same ids and hashes
  const r = store.syncPlan(again.trials, again.jobs);
  assert.deepEqual(r, { added: 0, replanned: 0, interrupted: 0, retried: 0 });
  for (const id of ids) {
    const j = store.job(id)!;
    assert.equal(j.status, 'done', id);
    assert.deepEqual(j.result, { id, n: 7 });
    assert.equal(j.attempts, 1);
  }
  assert.equal(store.counts().done, 3);
  assert.equal(store.counts().pending, plan.jobs.length - 3);
});

test('store: a job left running by a crash is pending again on the next sync, its attempt interrupted', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  let store = openNew(file, plan);
  complete(store, jobId.phantoms('acdc', 4, 0));
  const id = jobId.prepare('acdc');
  const attempt = store.start(id, 999);
  // "kill -9": no finish, no interrupt; the connection just goes away
  store.close();

  store = StudyStore.open(file);
  t.after(() => store.close());
  assert.equal(store.job(id)!.status, 'running'); // nothing changes before a sync
  const r = store.syncPlan(plan.trials, plan.jobs);
  assert.equal(r.interrupted, 1);
  assert.equal(r.added, 0);
  const j = store.job(id)!;
  assert.equal(j.status, 'pending');
  assert.equal(j.attempts, 1);
  const at = store.attempts(id);
  assert.equal(at.length, 1);
  assert.equal(at[0]!.id, attempt);
  assert.equal(at[0]!.outcome, 'interrupted');
  assert.ok(at[0]!.endedAt);
  // the finished attempt of the phantoms job is untouched
  assert.deepEqual(store.attempts(jobId.phantoms('acdc', 4, 0)).map((x) => x.outcome), ['done']);
  assert.equal(store.job(jobId.phantoms('acdc', 4, 0))!.status, 'done');
  // rerun
  complete(store, id);
  assert.equal(store.job(id)!.attempts, 2);
  assert.deepEqual(store.attempts(id).map((x) => x.outcome), ['interrupted', 'done']);
});

test('store: interrupt() returns a running job to pending and closes its attempt', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = openNew(file, plan);
  t.after(() => store.close());
  const id = jobId.phantoms('acdc', 4, 0);
  const a = store.start(id, 1);
  store.interrupt(id, a);
  assert.equal(store.job(id)!.status, 'pending');
  assert.equal(store.attempts(id)[0]!.outcome, 'interrupted');
  // an interrupted attempt is not counted again by the next sync
  assert.equal(store.syncPlan(plan.trials, plan.jobs).interrupted, 0);
});

test('store: a changed input hash resets the job to pending and drops its result', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan({ kimg: 1 });
  const store = openNew(file, plan);
  t.after(() => store.close());
  const trial = plan.trials[0]!.id;
  const keepIds = [jobId.phantoms('acdc', 4, 0), jobId.prepare('acdc'), jobId.baseline('acdc', 'real')];
  const trainId = jobId.train(trial);
  for (const id of [...keepIds, trainId]) complete(store, id, { id });
  // a failed job whose inputs change is re-planned too (no retryFailed needed)
  const sampleId = jobId.sample(trial);
  store.fail(sampleId, store.start(sampleId, 1), 'disk full', 1);

  const next = makePlan({ kimg: 2 });
  const r = store.syncPlan(next.trials, next.jobs);
  const changed = next.jobs.filter((j) => j.inputHash !== plan.jobs.find((p) => p.id === j.id)!.inputHash);
  assert.ok(changed.length > 0);
  assert.equal(r.replanned, changed.length);
  assert.equal(r.added, 0);
  for (const id of keepIds) {
    assert.equal(store.job(id)!.status, 'done', id);
    assert.deepEqual(store.job(id)!.result, { id });
  }
  const train = store.job(trainId)!;
  assert.equal(train.status, 'pending');
  assert.equal(train.result, null);
  assert.equal(train.finishedAt, null);
  assert.equal(train.wallSec, null);
  assert.equal(train.inputHash, next.jobs.find((j) => j.id === trainId)!.inputHash);
  assert.equal(train.payload.kind === 'train' && train.payload.kimg, 2);
  const sample = store.job(sampleId)!;
  assert.equal(sample.status, 'pending');
  assert.equal(sample.error, null);
  // a job only re-planned when its own hash changed
  assert.equal(store.counts().done, keepIds.length);
});

test('store: skip marks pending jobs skipped with a reason; the next sync makes them pending again', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = openNew(file, plan);
  t.after(() => store.close());
  const done = jobId.phantoms('acdc', 4, 0);
  complete(store, done);
  const a = jobId.train(plan.trials[0]!.id);
  const b = jobId.sample(plan.trials[0]!.id);
  store.skip([{ id: a, reason: 'needs prepare:acdc, which failed' }, { id: b, reason: 'needs x' }, { id: done, reason: 'not pending' }]);
  assert.equal(store.job(a)!.status, 'skipped');
  assert.equal(store.job(a)!.error, 'needs prepare:acdc, which failed');
  assert.equal(store.job(done)!.status, 'done'); // only pending jobs are skipped
  assert.equal(store.counts().skipped, 2);
  store.skip([]); // no-op
  store.syncPlan(plan.trials, plan.jobs);
  assert.equal(store.job(a)!.status, 'pending');
  assert.equal(store.job(a)!.error, null);
  assert.equal(store.counts().skipped, 0);
  assert.equal(store.job(done)!.status, 'done');
});

test('store: counts() by status over the current plan', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const store = openNew(file, plan);
  t.after(() => store.close());
  const [t0, t1, t2] = plan.trials;
  complete(store, jobId.phantoms('acdc', 4, 0));
  complete(store, jobId.prepare('acdc'));
  store.start(jobId.baseline('acdc', 'real'), 1);
  store.fail(jobId.train(t0!.id), store.start(jobId.train(t0!.id), 1), 'x', 1);
  store.skip([{ id: jobId.sample(t0!.id), reason: 'r' }, { id: jobId.evaluate(t0!.id), reason: 'r' }]);
  store.start(jobId.train(t1!.id), 2);
  complete(store, jobId.train(t2!.id));
  assert.deepEqual(store.counts(), { pending: plan.jobs.length - 8, running: 2, done: 3, failed: 1, skipped: 2 });
});

test('store: a read-only open sees committed state and cannot write', (t) => {
  const { file } = tmpStore(t);
  const plan = makePlan();
  const writer = openNew(file, plan);
  writer.setMeta({ study: '{"name":"store-test"}', created_at: '2026-01-01T00:00:00.000Z' });
  complete(writer, jobId.phantoms('acdc', 4, 0), { root: 'phantoms/acdc' });
  // while the writer is open (WAL: the reader sees the last commit)
  const reader = StudyStore.open(file, { readonly: true });
  try {
    assert.equal(reader.job(jobId.phantoms('acdc', 4, 0))!.status, 'done');
    assert.deepEqual(reader.job(jobId.phantoms('acdc', 4, 0))!.result, { root: 'phantoms/acdc' });
    assert.equal(reader.getMeta('created_at'), '2026-01-01T00:00:00.000Z');
    assert.equal(reader.jobs().length, plan.jobs.length);
    // a later commit is visible to the open reader
    complete(writer, jobId.prepare('acdc'));
    assert.equal(reader.job(jobId.prepare('acdc'))!.status, 'done');
    assert.deepEqual(reader.counts(), writer.counts());
    assert.throws(() => reader.setMeta({ x: 'y' }), /readonly|read-only/i);
  } finally {
    reader.close();
  }
  writer.close();
  // after the writer closed (WAL checkpointed)
  const late = StudyStore.open(file, { readonly: true });
  try {
    assert.equal(late.counts().done, 2);
    assert.equal(late.trials().length, plan.trials.length);
  } finally {
    late.close();
  }
});

test('store: opening a missing store without create is a ConfigError naming the file', (t) => {
  const { dir, file } = tmpStore(t);
  for (const opts of [{}, { readonly: true }]) {
    assert.throws(() => StudyStore.open(file, opts), (err: unknown) => {
      assert.ok(err instanceof ConfigError, String(err));
      assert.ok(err.message.includes(file), err.message);
      assert.match(err.message, /fix:/);
      return true;
    });
  }
  assert.ok(!fs.existsSync(file), 'a failed open must not create the file');
  // create makes missing parent folders
  const nested = path.join(dir, 'a', 'b', 'study.sqlite');
  StudyStore.open(nested, { create: true }).close();
  assert.ok(fs.existsSync(nested));
});

test('store: a store of another schema version is refused with a ConfigError', (t) => {
  const { file } = tmpStore(t);
  const s = StudyStore.open(file, { create: true });
  s.setMeta({ schema: String(STORE_SCHEMA_VERSION + 1) });
  s.close();
  assert.throws(() => StudyStore.open(file), (err: unknown) => err instanceof ConfigError && err.message.includes(file) && /schema/.test(err.message));
});

test('store: jobs and trials no longer planned leave jobs()/trials()/counts() but keep their state', (t) => {
  const { file } = tmpStore(t);
  const full = makePlan({ gans: ['dcgan', 'wgan-gp'] });
  const store = openNew(file, full);
  t.after(() => store.close());
  const wgan = full.trials.filter((x) => x.gan === 'wgan-gp');
  assert.equal(wgan.length, 2);
  const wTrain = jobId.train(wgan[0]!.id);
  complete(store, wTrain, { steps: 10 });

  const small = makePlan({ gans: ['dcgan'] });
  const r = store.syncPlan(small.trials, small.jobs);
  assert.equal(r.added, 0);
  assert.deepEqual(store.jobs().map((j) => j.id), small.jobs.map((j) => j.id));
  assert.ok(!store.jobs().some((j) => j.gan === 'wgan-gp'));
  assert.deepEqual(store.trials().map((x) => x.gan), ['dcgan', 'dcgan']);
  assert.equal(Object.values(store.counts()).reduce((s, n) => s + n, 0), small.jobs.length);
  // kept in the database: back in the plan, the finished training is still done
  assert.equal(store.job(wTrain)!.status, 'done');
  store.syncPlan(full.trials, full.jobs);
  assert.equal(store.jobs().length, full.jobs.length);
  assert.equal(store.trials().length, full.trials.length);
  assert.equal(store.job(wTrain)!.status, 'done');
  assert.deepEqual(store.job(wTrain)!.result, { steps: 10 });
  // ranks follow the new plan
  assert.deepEqual(store.jobs().map((j) => j.rank), full.jobs.map((j) => j.rank));
});

test('store: setMeta / getMeta round-trip and upsert', (t) => {
  const { file } = tmpStore(t);
  const store = StudyStore.open(file, { create: true });
  t.after(() => store.close());
  assert.equal(store.getMeta('study'), null);
  store.setMeta({ study: '{"a":1}', created_at: 'then' });
  store.setMeta({ study: '{"a":2}' });
  assert.equal(store.getMeta('study'), '{"a":2}');
  assert.equal(store.getMeta('created_at'), 'then');
  store.stampVersion();
  assert.ok(store.getMeta('medsyn_version'));
});
