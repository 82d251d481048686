/**
 * The study runner end to end, through the CLI as a user runs it: a tiny study (one phantom dataset, two GANs,
 * two configurations each, 16 px) on two worker processes.
 *
 * 1. Uninterrupted: every job done, report written, status readable, each job done by exactly one attempt.
 * 2. Killed: the same study started again in a fresh folder and SIGKILLed (the runner and its workers, as a
 *    process group) at random moments several times, resumed with `medsyn study resume` after each kill, then
 *    let finish. Its results must equal the uninterrupted run's, no job may be recorded done twice, and no GAN
 *    may have been trained to completion twice (each run's log.txt says how many steps each session trained).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StudyStore, type JobRow } from '../../src/study/store.js';
import { Rng } from '../../src/core/rng.js';

const REPO = fileURLToPath(new URL('../../../', import.meta.url));
const BIN = path.join(REPO, 'bin', 'medsyn.js');

const STUDY = {
  name: 'tiny',
  datasets: [{ id: 'acdc', size: 16, patients: 6 }],
  gans: ['dcgan', 'hinge'],
  search: { mode: 'grid', space: { 'd.filters': [8, 16] }, fixed: { batchSize: 8, 'g.filters': 8, latentDim: 16 } },
  // several checkpoints per training, so kills land between and during checkpoint writes
  training: { kimg: 0.12, checkpointKimg: 0.04 },
  samples: 16,
  downstream: { unet: { depth: 2, filters: 4 }, maxSteps: 6, batchSize: 8 },
  selection: { metric: 'fid' },
  workers: 2,
};

function cli(args: string[]): { status: number | null; stdout: string; stderr: string } {
  const r = spawnSync(process.execPath, [BIN, '--backend', 'wasm', ...args], { encoding: 'utf8', env: { ...process.env, MEDSYN_WEIGHTS_DIR: path.join(os.tmpdir(), 'medsyn-no-weights') } });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** Starts a runner in its own process group and SIGKILLs the whole group after `ms`; resolves when it is gone. */
function runAndKill(args: string[], ms: number, logFile: string): Promise<'killed' | 'finished'> {
  return new Promise((resolve, reject) => {
    const fd = fs.openSync(logFile, 'a');
    const child = spawn(process.execPath, [BIN, '--backend', 'wasm', ...args], {
      detached: true, stdio: ['ignore', fd, fd], env: { ...process.env, MEDSYN_WEIGHTS_DIR: path.join(os.tmpdir(), 'medsyn-no-weights') },
    });
    let finished = false;
    const timer = setTimeout(() => {
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* already gone */ }
    }, ms);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      finished = signal === null;
      fs.closeSync(fd);
      if (finished && code !== 0) reject(new Error(`runner exited with code ${code}:\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`));
      // make sure no worker of the killed group survives
      try { process.kill(-child.pid!, 'SIGKILL'); } catch { /* none left */ }
      resolve(finished ? 'finished' : 'killed');
    });
  });
}

/** The deterministic part of each job's result (timings and paths of the study folder left out). */
function comparable(j: JobRow): unknown {
  const r = j.result as Record<string, unknown> | null;
  if (!r) return null;
  switch (j.kind) {
    // config hashes cover the phantom files' mtimes, which differ between the two study folders
    case 'phantoms': return r;
    case 'prepare': return { ...r, configHash: null };
    case 'train': return { steps: r.steps, imagesShown: r.imagesShown, finalLosses: r.finalLosses };
    case 'sample': return { n: r.n };
    case 'select': return { trialId: r.trialId, value: r.value };
    case 'evaluate': {
      // the FID-over-training curve: same snapshots, same scores; only the wall times differ
      const { metricsFile: _mf, timeToBestSec: _tb, curve, ...rest } = r as Record<string, unknown> & { curve: { kimg: number; unetFid: number }[] };
      return { ...rest, curve: curve.map((q) => [q.kimg, q.unetFid]) };
    }
    default: {
      const { resultFile: _rf, ...rest } = r;
      return rest;
    }
  }
}

function snapshot(dir: string): { jobs: Map<string, JobRow>; attempts: ReturnType<StudyStore['attempts']> } {
  const store = StudyStore.open(path.join(dir, 'study.sqlite'), { readonly: true });
  try {
    return { jobs: new Map(store.jobs().map((j) => [j.id, j])), attempts: store.attempts() };
  } finally {
    store.close();
  }
}

function hasStudy(dir: string): boolean {
  const file = path.join(dir, 'study.sqlite');
  if (!fs.existsSync(file)) return false;
  const store = StudyStore.open(file, { readonly: true });
  try {
    return store.getMeta('study') !== null;
  } catch {
    return false; // schema not written yet
  } finally {
    store.close();
  }
}

/**
 * Per trial run folder: how many times training reached its last step and wrote that step's checkpoint (the log's
 * "step N, kimg …; checkpoint … written" line for the largest N). Counting sessions that logged "done" instead
 * missed a session killed between its final checkpoint and the "done" line (the resumed session trains 0 steps).
 */
function completedSessions(dir: string): Map<string, number> {
  const out = new Map<string, number>();
  const trials = path.join(dir, 'trials');
  for (const id of fs.readdirSync(trials)) {
    const log = path.join(trials, id, 'log.txt');
    if (!fs.existsSync(log)) continue;
    const saved = [...fs.readFileSync(log, 'utf8').matchAll(/^\[[^\]]*\] step (\d+), kimg [^\n]*; checkpoint[^\n]* written$/gm)].map((m) => Number(m[1]));
    const last = Math.max(...saved);
    out.set(id, saved.filter((step) => step === last).length);
  }
  return out;
}

test('a study runs to the end on two workers, and a study killed with SIGKILL at random moments resumes to the same results', { timeout: 600_000 }, async (t) => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-runner-'));
  try {
    const file = path.join(root, 'tiny.json');
    fs.writeFileSync(file, JSON.stringify(STUDY));

    // 1. uninterrupted
    const a = path.join(root, 'a');
    const t0 = Date.now();
    const r = cli(['study', 'run', file, '--out', a]);
    const uninterruptedMs = Date.now() - t0;
    assert.equal(r.status, 0, r.stderr);
    const lastLine = r.stdout.trim().split('\n').pop()!;
    assert.equal(lastLine, path.join(a, 'report', 'index.html'));
    assert.ok(fs.statSync(lastLine).size > 1000);
    const A = snapshot(a);
    assert.ok(A.jobs.size >= 20, `${A.jobs.size} jobs`);
    for (const j of A.jobs.values()) assert.equal(j.status, 'done', `${j.id}: ${j.error}`);
    // three checkpoints per training → three snapshots scored over training
    for (const j of A.jobs.values()) {
      if (j.kind === 'evaluate') assert.deepEqual((j.result as { curve: { kimg: number }[] }).curve.map((q) => q.kimg), [0.04, 0.08, 0.12]);
    }
    const status = cli(['study', 'status', a, '--json']);
    assert.equal(status.status, 0, status.stderr);
    const s = JSON.parse(status.stdout) as { counts: { done: number; failed: number }; best: unknown[] };
    assert.equal(s.counts.done, A.jobs.size);
    assert.equal(s.best.length, 2);
    // a second run of a finished study does nothing new
    const again = cli(['study', 'run', file, '--out', a, '--no-report']);
    assert.equal(again.status, 0, again.stderr);
    assert.equal(snapshot(a).attempts.length, A.attempts.length);

    // 2. killed at random moments, resumed
    const b = path.join(root, 'b');
    const rng = new Rng(20261127);
    let kills = 0;
    let resumes = 0;
    const runLog = path.join(root, 'b.log');
    let outcome = await runAndKill(['study', 'run', file, '--out', b, '--no-report'], 400 + rng.next() * 2500, runLog);
    for (let round = 0; round < 12 && outcome === 'killed'; round++) {
      kills++;
      // later rounds get longer so the study finishes; early ones hit startup, data preparation and training
      // (each round gets far enough to finish some jobs, so kills move on through preparation, training, checkpoint
      // and store writes; an interrupted job restarts from its own files)
      const ms = round < 4 ? uninterruptedMs * (0.2 + 0.35 * rng.next()) : uninterruptedMs * 3;
      fs.appendFileSync(runLog, `--- kill ${kills}; resume for at most ${Math.round(ms)} ms\n`);
      // killed before it recorded the study (during start-up): that study was never started, so it is run again
      const started = hasStudy(b);
      outcome = await runAndKill(started ? ['study', 'resume', b, '--no-report'] : ['study', 'run', file, '--out', b, '--no-report'], ms, runLog);
      if (started) resumes++;
    }
    assert.equal(outcome, 'finished', 'the resumed study did not finish');
    assert.ok(kills >= 2, `only ${kills} kill(s) landed`);
    assert.ok(resumes >= 1, 'never resumed with `medsyn study resume`');

    const B = snapshot(b);
    assert.deepEqual([...B.jobs.keys()].sort(), [...A.jobs.keys()].sort());
    for (const [id, ja] of A.jobs) {
      const jb = B.jobs.get(id)!;
      assert.equal(jb.status, 'done', `${id} after kills: ${jb.status} ${jb.error ?? ''}`);
      assert.deepEqual(comparable(jb), comparable(ja), `${id}: the killed-and-resumed study's result differs`);
    }
    // no job recorded done twice; interrupted attempts are recorded as such
    const doneAttempts = new Map<string, number>();
    for (const at of B.attempts) if (at.outcome === 'done') doneAttempts.set(at.jobId, (doneAttempts.get(at.jobId) ?? 0) + 1);
    for (const id of B.jobs.keys()) assert.equal(doneAttempts.get(id), 1, `${id} was recorded done ${doneAttempts.get(id) ?? 0} times`);
    assert.ok(B.attempts.every((at) => at.outcome !== null), 'an attempt was left open');
    const interrupted = B.attempts.filter((at) => at.outcome === 'interrupted');
    t.diagnostic(`${kills} kills; ${interrupted.length} interrupted attempts: ${interrupted.map((at) => at.jobId).join(', ')}`);
    // no GAN trained to completion twice
    for (const [trial, n] of completedSessions(b)) assert.equal(n, 1, `${trial} was trained to completion ${n} times`);
    // the report is rebuilt from the store alone
    const rep = cli(['study', 'report', b]);
    assert.equal(rep.status, 0, rep.stderr);
    assert.equal(fs.readFileSync(path.join(b, 'report', 'table2.csv'), 'utf8'), fs.readFileSync(path.join(a, 'report', 'table2.csv'), 'utf8'));
  } finally {
    fs.rmSync(root, { recursive: true, force: true });
  }
});
