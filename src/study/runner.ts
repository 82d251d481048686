/**
 * The study runner: plans the study (plan.ts), brings the store in line with the plan (store.ts), then runs
 * every ready job on a pool of worker processes (worker.ts; default one per core) until nothing is left, and
 * writes the report. It is the store's only writer.
 *
 * Crash safety: a job is `running` in the store from dispatch until its result is committed (one transaction).
 * Killed at any moment — during a checkpoint write, a database write, anything — the next `run` or `resume`
 * finds the job `running`, marks that attempt interrupted and runs the job again; each stage resumes from or
 * reuses its own files (stages.ts), so no result is lost and none is recorded twice. A lock file keeps two
 * runners off one study folder.
 *
 * Failures: a job that throws (a diverged GAN, a bad configuration, a worker that died) is recorded `failed`
 * with its error; jobs that need it are `skipped`; everything else goes on. Selecting a GAN's best trial only
 * needs one of its trials to have finished.
 */
import { fork, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError } from '../core/errors.js';
import { configHash, stableStringify } from '../core/hash.js';
import { THREADS_ENV_VAR } from '../core/kernels/nativeThreads.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { ResolvedStudy } from './config.js';
import { LAYOUT, planStudy, STAGE_PRIORITY, type JobPayload } from './plan.js';
import { selectBest, type SelectOutput } from './select.js';
import type { BaselineOutput, EvaluateOutput, WorkerJob } from './stages.js';
import { resolveInceptionWeights } from '../metrics/weights.js';
import { StudyStore, type JobRow } from './store.js';
import type { FromWorker, ToWorker } from './worker.js';
import { writeStudyReport } from './report.js';

export interface RunStudyOptions {
  readonly study: ResolvedStudy;
  /** The study folder (created). */
  readonly out: string;
  /** Worker processes; default study.workers (the machine's cores). */
  readonly workers?: number;
  /** Run failed jobs again (by default a failed job stays failed: divergence is deterministic). */
  readonly retryFailed?: boolean;
  /** Write the report at the end. @default true */
  readonly report?: boolean;
  /** Human progress lines. @default stderr */
  readonly log?: (line: string) => void;
}

export interface StudyRunResult {
  readonly out: string;
  readonly counts: Readonly<Record<string, number>>;
  /** report/index.html, or null when the report was not written. */
  readonly report: string | null;
  readonly wallSec: number;
}

export const LOCK_FILE = '.medsyn-study.lock';
const WORKER_SCRIPT = fileURLToPath(new URL('./worker.js', import.meta.url));

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Takes the study folder's lock (a stale lock of a dead runner is taken over). Returns the release function. */
export function acquireLock(dir: string): () => void {
  const file = path.join(dir, LOCK_FILE);
  for (let tries = 0; tries < 3; tries++) {
    try {
      const fd = fs.openSync(file, 'wx');
      fs.writeSync(fd, JSON.stringify({ pid: process.pid, host: os.hostname(), startedAt: new Date().toISOString() }));
      fs.closeSync(fd);
      return () => fs.rmSync(file, { force: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
      let holder: { pid?: number; startedAt?: string } = {};
      try { holder = JSON.parse(fs.readFileSync(file, 'utf8')) as typeof holder; } catch { /* half-written by a killed runner: stale */ }
      if (holder.pid !== undefined && holder.pid !== process.pid && pidAlive(holder.pid)) {
        throw new ConfigError(`${dir}: the study is being run by process ${holder.pid} (since ${holder.startedAt ?? '?'})\n  fix: wait for it, or stop it (kill ${holder.pid}) and run \`medsyn study resume ${dir}\``);
      }
      fs.rmSync(file, { force: true });
    }
  }
  throw new ConfigError(`${dir}: cannot take the study lock ${file}`);
}

/** The study stored in a study folder (what `resume` and `report` run on). */
export function storedStudy(store: StudyStore): ResolvedStudy {
  const text = store.getMeta('study');
  if (!text) throw new ConfigError(`${store.file}: holds no study yet (\`medsyn study run\` was stopped before it recorded one)\n  fix: start it again with \`medsyn study run STUDY.json --out ${path.dirname(store.file)}\``);
  return JSON.parse(text) as ResolvedStudy;
}

interface Slot {
  readonly child: ChildProcess;
  ready: boolean;
  job: { readonly id: string; readonly attempt: number; readonly started: number } | null;
}

type Event = { readonly slot: Slot; readonly msg: FromWorker } | { readonly slot: Slot; readonly exit: { code: number | null; signal: string | null } };

function fmtDuration(sec: number): string {
  if (!Number.isFinite(sec)) return '?';
  if (sec < 90) return `${Math.round(sec)} s`;
  return sec < 5400 ? `${Math.round(sec / 60)} min` : `${(sec / 3600).toFixed(1)} h`;
}

export async function runStudy(opts: RunStudyOptions): Promise<StudyRunResult> {
  const log = opts.log ?? ((line: string) => console.error(line));
  const started = performance.now();
  const out = path.resolve(opts.out);
  // a missing dataset folder is a typo, found now rather than after the phantoms and the other datasets
  opts.study.datasets.forEach((ds, i) => {
    if (ds.root !== null && !fs.existsSync(ds.root)) {
      throw new ConfigError(`${opts.study.file ?? 'study'}: datasets[${i}] (${ds.label}): ${ds.root} does not exist\n  fix: pass --data-dir with the folder that holds it, or set datasets[${i}].root (relative roots resolve against --data-dir, else the study file's folder)`);
    }
  });
  fs.mkdirSync(out, { recursive: true });
  const release = acquireLock(out);
  const store = StudyStore.open(path.join(out, LAYOUT.store), { create: true });
  const slots: Slot[] = [];
  let stopping = false;
  const onSignal = (signal: NodeJS.Signals): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping; \`medsyn study resume ${out}\` continues where this left off`);
    for (const s of slots) {
      if (s.job) store.interrupt(s.job.id, s.job.attempt);
      s.child.kill('SIGKILL');
    }
    store.close();
    release();
    process.exit(signal === 'SIGINT' ? 130 : 143);
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const study = opts.study;
    const previous = store.getMeta('study');
    const text = stableStringify(study);
    if (previous && previous !== text) log('the study changed since the last run: re-planning (finished jobs whose inputs did not change are kept)');
    store.setMeta({ study: text, study_hash: configHash(study), medsyn_version: MEDSYN_VERSION, ...(store.getMeta('created_at') ? {} : { created_at: new Date().toISOString() }) });
    const plan = planStudy(study);
    const sync = store.syncPlan(plan.trials, plan.jobs, { retryFailed: opts.retryFailed ?? false });
    reopenWithoutInception(store, study, log);
    const invalid = plan.trials.filter((t) => t.invalid !== null);
    const workers = Math.max(1, opts.workers ?? study.workers);
    log(`study ${study.name}: ${plan.trials.length} trials (${invalid.length} invalid), ${plan.jobs.length} jobs`
      + ` (${sync.added} new, ${sync.replanned} re-planned, ${sync.interrupted} interrupted attempts resumed); ${workers} worker process(es) → ${out}`);
    for (const t of invalid) log(`  invalid trial ${t.id}: ${t.invalid.split('\n')[0]}`);

    await schedule(store, out, workers, slots, log, () => stopping);
    const counts = store.counts();
    let report: string | null = null;
    if (opts.report ?? true) report = await writeStudyReport(store, out);
    const wallSec = (performance.now() - started) / 1000;
    log(`study ${study.name}: ${counts.done} jobs done, ${counts.failed} failed, ${counts.skipped} skipped in ${fmtDuration(wallSec)}`);
    return { out, counts, report, wallSec };
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
    for (const s of slots) if (s.child.exitCode === null) s.child.kill('SIGKILL');
    if (!stopping) {
      store.close();
      release();
    }
  }
}

/**
 * Evaluations finished without the Inception weights run again once the weights are there (adding them to a
 * finished study fills in its FIDs), and with them the selections and U-Nets that depended on those numbers.
 */
function reopenWithoutInception(store: StudyStore, study: ResolvedStudy, log: (line: string) => void): void {
  const given = study.evaluation.inceptionWeights;
  const weights = resolveInceptionWeights(given ? { file: given, allowUnverified: study.evaluation.allowUnverified } : undefined);
  if (!weights.file) return;
  const stale = store.jobs().filter((j) => j.status === 'done' && (
    (j.kind === 'evaluate' && (j.result as EvaluateOutput).fid === null)
    || (j.kind === 'baseline' && (j.result as BaselineOutput).floor !== null && (j.result as BaselineOutput).floor!.fid === null)));
  if (stale.length === 0) return;
  const n = store.reopen(stale.map((j) => j.id));
  log(`Inception weights found (${weights.file}): ${stale.length} evaluation(s) made without them run again for FID/KID (${n} job(s) reopened)`);
}

/**
 * MEDSYN_THREADS for each worker process: the user's setting, else the cores shared out (one per
 * worker with the default one worker per core), so processes × kernel threads stay at the core count.
 */
export function threadsPerWorker(workers: number, env: NodeJS.ProcessEnv = process.env, cores = os.availableParallelism()): string {
  return env[THREADS_ENV_VAR]?.trim() || String(Math.max(1, Math.floor(cores / workers)));
}

async function schedule(store: StudyStore, out: string, workers: number, slots: Slot[], log: (line: string) => void, stopping: () => boolean): Promise<void> {
  const jobs = new Map(store.jobs().map((j) => [j.id, j]));
  const refresh = (id: string): void => { jobs.set(id, store.job(id)!); };
  const terminal = (s: string | undefined) => s === 'done' || s === 'failed' || s === 'skipped';
  const total = jobs.size;
  const durations = new Map<string, number[]>();
  let startupFailures = 0;
  let engineLogged = false;

  const events: Event[] = [];
  let wake: (() => void) | null = null;
  const push = (e: Event): void => { events.push(e); wake?.(); wake = null; };
  const spawn = (): Slot => {
    const child = fork(WORKER_SCRIPT, [], {
      env: { ...process.env, MEDSYN_STUDY_DIR: out, [THREADS_ENV_VAR]: threadsPerWorker(workers) },
      stdio: ['ignore', 'ignore', 'inherit', 'ipc'],
    });
    const slot: Slot = { child, ready: false, job: null };
    child.on('message', (msg: FromWorker) => push({ slot, msg }));
    child.on('exit', (code, signal) => push({ slot, exit: { code, signal } }));
    slots.push(slot);
    return slot;
  };

  /** Pending jobs whose dependencies failed are skipped (rank order: dependencies come first). Select waits for all. */
  const propagateSkips = (): void => {
    const skips: { id: string; reason: string }[] = [];
    for (const j of jobs.values()) {
      if (j.status !== 'pending' || j.kind === 'select') continue;
      const bad = j.deps.find((d) => jobs.get(d)?.status === 'failed' || jobs.get(d)?.status === 'skipped');
      if (bad) {
        skips.push({ id: j.id, reason: `needs ${bad}, which ${jobs.get(bad)!.status === 'failed' ? 'failed' : 'was skipped'}` });
        jobs.set(j.id, { ...j, status: 'skipped' });
      }
    }
    store.skip(skips);
  };

  const ready = (j: JobRow): boolean => j.status === 'pending'
    && (j.kind === 'select' ? j.deps.every((d) => terminal(jobs.get(d)?.status)) : j.deps.every((d) => jobs.get(d)?.status === 'done'));

  /** Select jobs run here: a few comparisons over stored results. */
  const runSelects = (): void => {
    for (const j of jobs.values()) {
      if (j.kind !== 'select' || !ready(j)) continue;
      const attempt = store.start(j.id, process.pid);
      try {
        const r = selectBest(j.payload as Extract<JobPayload, { kind: 'select' }>, (id) => jobs.get(id));
        store.finish(j.id, attempt, r, 0);
        log(`selected ${r.trialId} for ${j.gan} on ${j.dataset} (${r.metric} ${r.value.toPrecision(4)} of ${r.candidates} trials)${r.note ? `; ${r.note}` : ''}`);
      } catch (err) {
        store.fail(j.id, attempt, (err as Error).message, 0);
        log(`select ${j.id} failed: ${(err as Error).message}`);
      }
      refresh(j.id);
    }
  };

  const nextReady = (): JobRow | null => {
    let best: JobRow | null = null;
    for (const j of jobs.values()) {
      if (j.kind === 'select' || !ready(j)) continue;
      if (!best || STAGE_PRIORITY[j.kind] > STAGE_PRIORITY[best.kind] || (STAGE_PRIORITY[j.kind] === STAGE_PRIORITY[best.kind] && j.rank < best.rank)) best = j;
    }
    return best;
  };

  const toWorker = (j: JobRow): WorkerJob => {
    const p = j.payload;
    if (p.kind === 'segment' && 'fromSelect' in p.trial) {
      const sel = jobs.get(p.trial.fromSelect)!.result as SelectOutput;
      return { id: j.id, payload: { ...p, trial: { id: sel.trialId } } };
    }
    return { id: j.id, payload: p } as WorkerJob;
  };

  const eta = (): string => {
    const all = [...durations.values()].flat();
    if (all.length === 0) return '?';
    const mean = all.reduce((a, b) => a + b, 0) / all.length;
    let sec = 0;
    for (const j of jobs.values()) {
      if (j.kind === 'select' || (j.status !== 'pending' && j.status !== 'running')) continue;
      const d = durations.get(j.kind);
      sec += d && d.length > 0 ? d.reduce((a, b) => a + b, 0) / d.length : mean;
    }
    return fmtDuration(sec / workers);
  };

  const progressLine = (what: string): string => {
    const c = { done: 0, failed: 0, skipped: 0, running: 0 };
    for (const j of jobs.values()) if (j.status in c) c[j.status as keyof typeof c]++;
    return `[${c.done + c.failed + c.skipped}/${total} jobs · ${c.running} running${c.failed ? ` · ${c.failed} failed` : ''}${c.skipped ? ` · ${c.skipped} skipped` : ''}] ${what} · ETA ${eta()}`;
  };

  for (;;) {
    if (stopping()) return;
    propagateSkips();
    runSelects();
    propagateSkips();
    // dispatch to idle workers; start workers while there is ready work
    let candidate = nextReady();
    for (const slot of slots) {
      if (!candidate) break;
      if (!slot.ready || slot.job || slot.child.exitCode !== null) continue;
      const attempt = store.start(candidate.id, slot.child.pid ?? null);
      slot.job = { id: candidate.id, attempt, started: performance.now() };
      refresh(candidate.id);
      slot.child.send({ type: 'job', job: toWorker(candidate) } satisfies ToWorker);
      candidate = nextReady();
    }
    const live = slots.filter((s) => s.child.exitCode === null && s.child.signalCode === null);
    const starting = live.filter((s) => !s.ready).length;
    if (candidate && live.length < workers) {
      // enough workers for the ready work (a starting worker will take one job)
      const readyCount = [...jobs.values()].filter((j) => j.kind !== 'select' && ready(j)).length;
      for (let k = live.length; k < workers && k - live.length < readyCount - starting; k++) spawn();
    }
    if (!candidate && !slots.some((s) => s.job !== null)) break; // nothing running, nothing ready: the plan is through
    if (startupFailures >= 3) throw new Error(`study workers keep dying before they start (${startupFailures} times); run \`node ${WORKER_SCRIPT}\` errors are above`);

    if (events.length === 0) await new Promise<void>((resolve) => { wake = resolve; });
    while (events.length > 0) {
      const e = events.shift()!;
      const slot = e.slot;
      if ('msg' in e) {
        const msg = e.msg;
        if (msg.type === 'ready') {
          slot.ready = true;
          if (!engineLogged) log(`workers: ${msg.engine}`);
          engineLogged = true;
          continue;
        }
        const current = slot.job;
        if (!current || current.id !== msg.id) continue;
        slot.job = null;
        const job = jobs.get(msg.id)!;
        if (msg.type === 'done') {
          const detail = { pid: slot.child.pid, ...(job.kind === 'train' ? { stepsThisAttempt: (msg.result as { stepsThisAttempt: number }).stepsThisAttempt } : {}) };
          store.finish(msg.id, current.attempt, msg.result, msg.wallSec, detail);
          refresh(msg.id);
          const list = durations.get(job.kind) ?? [];
          list.push(msg.wallSec);
          durations.set(job.kind, list);
          log(progressLine(`${msg.id} done in ${fmtDuration(msg.wallSec)}`));
        } else {
          store.fail(msg.id, current.attempt, msg.error, msg.wallSec);
          refresh(msg.id);
          log(progressLine(`${msg.id} FAILED: ${msg.error.split('\n')[0]}`));
        }
      } else {
        // a worker exited: the job it held failed (unless the runner is stopping)
        const current = slot.job;
        if (!slot.ready) startupFailures++;
        slots.splice(slots.indexOf(slot), 1);
        if (current && !stopping()) {
          slot.job = null;
          const why = `worker process ${slot.child.pid} died (${e.exit.signal ?? `exit code ${e.exit.code}`}) while running this job; see ${path.join(LAYOUT.logs, current.id)}`;
          store.fail(current.id, current.attempt, why, (performance.now() - current.started) / 1000);
          refresh(current.id);
          log(progressLine(`${current.id} FAILED: ${why}`));
        }
      }
    }
  }
  for (const s of slots) if (s.child.connected) s.child.send({ type: 'stop' } satisfies ToWorker);
}
