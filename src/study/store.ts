/**
 * The study store: one SQLite database per study folder (better-sqlite3, WAL), the single source the report,
 * `status` and resumption read. Only the runner's parent process writes to it; every state change is one
 * transaction, so a `kill -9` at any moment leaves either the state before or after a change, never half of one.
 *
 * Tables:
 *   meta      key → value (the resolved study, its hash, medsyn version, creation time)
 *   trials    the sweep's trial plans (hyperparameters, seed, invalid reason)
 *   jobs      one row per planned job: status, result (JSON), error, timings, input hash
 *   attempts  one row per dispatch of a job to a worker: pid, outcome (done / failed / interrupted), detail
 *
 * Job states: pending → running → done | failed; pending → skipped when a dependency failed. A job found
 * `running` when the store is opened for a new runner was interrupted: its open attempt becomes
 * `interrupted` and the job `pending` again (its stage is idempotent and resumes from its own files).
 */
import fs from 'node:fs';
import path from 'node:path';
import Database from 'better-sqlite3';
import { ConfigError } from '../core/errors.js';
import { MEDSYN_VERSION } from '../core/version.js';
import type { TrialPlan } from './sweep.js';
import type { JobKind, JobPayload, JobSpec } from './plan.js';

export const STORE_SCHEMA_VERSION = 1;

export type JobStatus = 'pending' | 'running' | 'done' | 'failed' | 'skipped';

export interface JobRow {
  readonly id: string;
  readonly kind: JobKind;
  readonly dataset: string | null;
  readonly gan: string | null;
  readonly trialId: string | null;
  readonly deps: readonly string[];
  readonly inputHash: string;
  readonly rank: number;
  readonly payload: JobPayload;
  readonly status: JobStatus;
  readonly result: unknown;
  readonly error: string | null;
  readonly startedAt: string | null;
  readonly finishedAt: string | null;
  readonly wallSec: number | null;
  readonly attempts: number;
}

export interface AttemptRow {
  readonly id: number;
  readonly jobId: string;
  readonly inputHash: string;
  readonly pid: number | null;
  readonly startedAt: string;
  readonly endedAt: string | null;
  readonly outcome: 'done' | 'failed' | 'interrupted' | null;
  readonly detail: unknown;
}

export interface TrialRow {
  readonly id: string;
  readonly dataset: string;
  readonly gan: string;
  readonly configId: string;
  readonly index: number;
  readonly seed: number;
  readonly overrides: Readonly<Record<string, unknown>>;
  readonly invalid: string | null;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS trials (
  id TEXT PRIMARY KEY, dataset TEXT NOT NULL, gan TEXT NOT NULL, config_id TEXT NOT NULL, idx INTEGER NOT NULL,
  seed INTEGER NOT NULL, overrides TEXT NOT NULL, invalid TEXT, in_plan INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS jobs (
  id TEXT PRIMARY KEY, kind TEXT NOT NULL, dataset TEXT, gan TEXT, trial_id TEXT, deps TEXT NOT NULL,
  input_hash TEXT NOT NULL, rank INTEGER NOT NULL, payload TEXT NOT NULL,
  status TEXT NOT NULL CHECK (status IN ('pending', 'running', 'done', 'failed', 'skipped')),
  result TEXT, error TEXT, started_at TEXT, finished_at TEXT, wall_s REAL, attempts INTEGER NOT NULL DEFAULT 0,
  in_plan INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE IF NOT EXISTS attempts (
  id INTEGER PRIMARY KEY AUTOINCREMENT, job_id TEXT NOT NULL, input_hash TEXT NOT NULL, pid INTEGER,
  started_at TEXT NOT NULL, ended_at TEXT,
  outcome TEXT CHECK (outcome IS NULL OR outcome IN ('done', 'failed', 'interrupted')), detail TEXT
);
CREATE INDEX IF NOT EXISTS attempts_job ON attempts (job_id);
`;

interface RawJob {
  id: string; kind: string; dataset: string | null; gan: string | null; trial_id: string | null; deps: string;
  input_hash: string; rank: number; payload: string; status: string; result: string | null; error: string | null;
  started_at: string | null; finished_at: string | null; wall_s: number | null; attempts: number;
}

function toJob(r: RawJob): JobRow {
  return {
    id: r.id, kind: r.kind as JobKind, dataset: r.dataset, gan: r.gan, trialId: r.trial_id, deps: JSON.parse(r.deps) as string[],
    inputHash: r.input_hash, rank: r.rank, payload: JSON.parse(r.payload) as JobPayload, status: r.status as JobStatus,
    result: r.result === null ? null : JSON.parse(r.result), error: r.error, startedAt: r.started_at, finishedAt: r.finished_at,
    wallSec: r.wall_s, attempts: r.attempts,
  };
}

const now = (): string => new Date().toISOString();

export class StudyStore {
  readonly file: string;
  private readonly db: Database.Database;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /** Opens (creating when `create`) the store of a study folder. */
  static open(file: string, opts: { readonly create?: boolean; readonly readonly?: boolean } = {}): StudyStore {
    if (!opts.create && !fs.existsSync(file)) {
      throw new ConfigError(`${file}: no study store here\n  fix: pass the --out folder of \`medsyn study run\` (it holds ${path.basename(file)})`);
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    let db: Database.Database;
    try {
      db = new Database(file, opts.readonly ? { readonly: true, fileMustExist: true } : {});
    } catch (err) {
      throw new ConfigError(`${file}: cannot open the study store (${(err as Error).message})\n  fix: check the path and its permissions`);
    }
    db.pragma('busy_timeout = 10000');
    if (!opts.readonly) {
      db.pragma('journal_mode = WAL');
      // FULL: a committed result survives a power cut too, not only a killed process.
      db.pragma('synchronous = FULL');
      db.exec(SCHEMA);
      const v = db.prepare("SELECT value FROM meta WHERE key = 'schema'").get() as { value: string } | undefined;
      if (!v) db.prepare("INSERT INTO meta (key, value) VALUES ('schema', ?)").run(String(STORE_SCHEMA_VERSION));
      else if (Number(v.value) !== STORE_SCHEMA_VERSION) {
        db.close();
        throw new ConfigError(`${file}: study store schema ${v.value}, this medsyn reads ${STORE_SCHEMA_VERSION}\n  fix: run the study into a new --out folder`);
      }
    }
    return new StudyStore(file, db);
  }

  close(): void {
    this.db.close();
  }

  getMeta(key: string): string | null {
    const row = this.db.prepare('SELECT value FROM meta WHERE key = ?').get(key) as { value: string } | undefined;
    return row?.value ?? null;
  }

  setMeta(values: Readonly<Record<string, string>>): void {
    const put = this.db.prepare('INSERT INTO meta (key, value) VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value');
    this.db.transaction(() => {
      for (const [k, v] of Object.entries(values)) put.run(k, v);
    })();
  }

  /**
   * Brings the store in line with a plan, in one transaction: new jobs are added as pending; a job whose input
   * hash changed is reset to pending (its result dropped); unchanged jobs keep their state; jobs no longer planned
   * are kept but leave the plan. Interrupted jobs (running) become pending, skipped ones are re-decided by the
   * runner, failed ones are retried only with `retryFailed`. Returns how many jobs changed, by reason.
   */
  syncPlan(trials: readonly TrialPlan[], jobs: readonly JobSpec[], opts: { readonly retryFailed?: boolean } = {}): { added: number; replanned: number; interrupted: number; retried: number } {
    const counts = { added: 0, replanned: 0, interrupted: 0, retried: 0 };
    this.db.transaction(() => {
      this.db.prepare('UPDATE trials SET in_plan = 0').run();
      const putTrial = this.db.prepare(`INSERT INTO trials (id, dataset, gan, config_id, idx, seed, overrides, invalid, in_plan)
        VALUES (@id, @dataset, @gan, @config_id, @idx, @seed, @overrides, @invalid, 1)
        ON CONFLICT (id) DO UPDATE SET dataset = excluded.dataset, gan = excluded.gan, config_id = excluded.config_id, idx = excluded.idx,
          seed = excluded.seed, overrides = excluded.overrides, invalid = excluded.invalid, in_plan = 1`);
      for (const t of trials) {
        putTrial.run({ id: t.id, dataset: t.dataset, gan: t.gan, config_id: t.configId, idx: t.index, seed: t.seed, overrides: JSON.stringify(t.overrides), invalid: t.invalid });
      }
      counts.interrupted = this.db.prepare("UPDATE attempts SET outcome = 'interrupted', ended_at = ? WHERE outcome IS NULL").run(now()).changes;
      this.db.prepare("UPDATE jobs SET status = 'pending' WHERE status = 'running'").run();
      this.db.prepare("UPDATE jobs SET status = 'pending', error = NULL WHERE status = 'skipped'").run();
      let retriedIds: string[] = [];
      if (opts.retryFailed) {
        retriedIds = (this.db.prepare("SELECT id FROM jobs WHERE status = 'failed'").all() as { id: string }[]).map((r) => r.id);
        counts.retried = this.db.prepare("UPDATE jobs SET status = 'pending', error = NULL WHERE status = 'failed'").run().changes;
      }
      this.db.prepare('UPDATE jobs SET in_plan = 0').run();
      const get = this.db.prepare('SELECT input_hash FROM jobs WHERE id = ?');
      const insert = this.db.prepare(`INSERT INTO jobs (id, kind, dataset, gan, trial_id, deps, input_hash, rank, payload, status, in_plan)
        VALUES (@id, @kind, @dataset, @gan, @trial_id, @deps, @input_hash, @rank, @payload, 'pending', 1)`);
      const keep = this.db.prepare('UPDATE jobs SET rank = @rank, deps = @deps, payload = @payload, in_plan = 1 WHERE id = @id');
      const reset = this.db.prepare(`UPDATE jobs SET kind = @kind, dataset = @dataset, gan = @gan, trial_id = @trial_id, deps = @deps,
        input_hash = @input_hash, rank = @rank, payload = @payload, status = 'pending', result = NULL, error = NULL,
        started_at = NULL, finished_at = NULL, wall_s = NULL, in_plan = 1 WHERE id = @id`);
      for (const j of jobs) {
        const row = {
          id: j.id, kind: j.kind, dataset: j.dataset, gan: j.gan, trial_id: j.trialId, deps: JSON.stringify(j.deps),
          input_hash: j.inputHash, rank: j.rank, payload: JSON.stringify(j.payload),
        };
        const existing = get.get(j.id) as { input_hash: string } | undefined;
        if (!existing) { insert.run(row); counts.added++; }
        else if (existing.input_hash !== j.inputHash) { reset.run(row); counts.replanned++; }
        else keep.run({ id: row.id, rank: row.rank, deps: row.deps, payload: row.payload });
      }
      // A retried job can change what was decided without it (a select that ran over the other trials).
      this.reopenDependents(retriedIds);
    })();
    return counts;
  }

  /**
   * Returns jobs to pending (results dropped) together with everything downstream of them that already ran,
   * in one transaction: e.g. evaluations done without Inception weights, once the weights are there.
   */
  reopen(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    return this.db.transaction(() => {
      const put = this.db.prepare("UPDATE jobs SET status = 'pending', result = NULL, error = NULL, finished_at = NULL, wall_s = NULL WHERE id = ? AND status != 'running'");
      let n = 0;
      for (const id of ids) n += put.run(id).changes;
      return n + this.reopenDependents(ids);
    })();
  }

  /** Transitively resets finished (done / failed / skipped) dependents of `ids` to pending; returns how many. */
  private reopenDependents(ids: readonly string[]): number {
    if (ids.length === 0) return 0;
    const rows = this.db.prepare('SELECT id, deps, status FROM jobs WHERE in_plan = 1').all() as { id: string; deps: string; status: string }[];
    const dependents = new Map<string, string[]>();
    for (const r of rows) for (const d of JSON.parse(r.deps) as string[]) dependents.set(d, [...(dependents.get(d) ?? []), r.id]);
    const status = new Map(rows.map((r) => [r.id, r.status]));
    const put = this.db.prepare("UPDATE jobs SET status = 'pending', result = NULL, error = NULL, finished_at = NULL, wall_s = NULL WHERE id = ?");
    const seen = new Set(ids);
    const queue = [...ids];
    let n = 0;
    while (queue.length > 0) {
      for (const dep of dependents.get(queue.shift()!) ?? []) {
        if (seen.has(dep)) continue;
        seen.add(dep);
        queue.push(dep);
        const s = status.get(dep);
        if (s === 'done' || s === 'failed' || s === 'skipped') { put.run(dep); n++; }
      }
    }
    return n;
  }

  /** Jobs of the current plan, in plan order. */
  jobs(): JobRow[] {
    return (this.db.prepare('SELECT * FROM jobs WHERE in_plan = 1 ORDER BY rank').all() as RawJob[]).map(toJob);
  }

  job(id: string): JobRow | null {
    const r = this.db.prepare('SELECT * FROM jobs WHERE id = ?').get(id) as RawJob | undefined;
    return r ? toJob(r) : null;
  }

  trials(): TrialRow[] {
    const rows = this.db.prepare('SELECT * FROM trials WHERE in_plan = 1 ORDER BY dataset, gan, idx, seed').all() as {
      id: string; dataset: string; gan: string; config_id: string; idx: number; seed: number; overrides: string; invalid: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id, dataset: r.dataset, gan: r.gan, configId: r.config_id, index: r.idx, seed: r.seed,
      overrides: JSON.parse(r.overrides) as Record<string, unknown>, invalid: r.invalid,
    }));
  }

  attempts(jobId?: string): AttemptRow[] {
    const rows = (jobId === undefined
      ? this.db.prepare('SELECT * FROM attempts ORDER BY id').all()
      : this.db.prepare('SELECT * FROM attempts WHERE job_id = ? ORDER BY id').all(jobId)) as {
      id: number; job_id: string; input_hash: string; pid: number | null; started_at: string; ended_at: string | null; outcome: string | null; detail: string | null;
    }[];
    return rows.map((r) => ({
      id: r.id, jobId: r.job_id, inputHash: r.input_hash, pid: r.pid, startedAt: r.started_at, endedAt: r.ended_at,
      outcome: r.outcome as AttemptRow['outcome'], detail: r.detail === null ? null : JSON.parse(r.detail),
    }));
  }

  /** Marks a job running and opens an attempt; returns the attempt id. */
  start(jobId: string, pid: number | null): number {
    return this.db.transaction(() => {
      const job = this.db.prepare("SELECT input_hash, status FROM jobs WHERE id = ?").get(jobId) as { input_hash: string; status: string } | undefined;
      if (!job) throw new Error(`store: no job ${jobId}`);
      if (job.status !== 'pending') throw new Error(`store: job ${jobId} is ${job.status}, not pending`);
      this.db.prepare("UPDATE jobs SET status = 'running', attempts = attempts + 1, started_at = ?, error = NULL WHERE id = ?").run(now(), jobId);
      return Number(this.db.prepare('INSERT INTO attempts (job_id, input_hash, pid, started_at) VALUES (?, ?, ?, ?)').run(jobId, job.input_hash, pid, now()).lastInsertRowid);
    })();
  }

  /** Records a finished job and closes its attempt, atomically. */
  finish(jobId: string, attemptId: number, result: unknown, wallSec: number, detail: unknown = null): void {
    this.db.transaction(() => {
      const t = now();
      this.db.prepare("UPDATE jobs SET status = 'done', result = ?, error = NULL, finished_at = ?, wall_s = ? WHERE id = ? AND status = 'running'")
        .run(JSON.stringify(result), t, wallSec, jobId);
      this.db.prepare("UPDATE attempts SET outcome = 'done', ended_at = ?, detail = ? WHERE id = ?").run(t, JSON.stringify(detail), attemptId);
    })();
  }

  /** Records a failed job (its error kept for the report) and closes its attempt, atomically. */
  fail(jobId: string, attemptId: number | null, error: string, wallSec: number | null): void {
    this.db.transaction(() => {
      const t = now();
      this.db.prepare("UPDATE jobs SET status = 'failed', error = ?, finished_at = ?, wall_s = ? WHERE id = ?").run(error, t, wallSec, jobId);
      if (attemptId !== null) this.db.prepare("UPDATE attempts SET outcome = 'failed', ended_at = ?, detail = ? WHERE id = ?").run(t, JSON.stringify({ error }), attemptId);
    })();
  }

  /** Marks pending jobs skipped (a dependency failed), with the reason. */
  skip(entries: readonly { readonly id: string; readonly reason: string }[]): void {
    if (entries.length === 0) return;
    const put = this.db.prepare("UPDATE jobs SET status = 'skipped', error = ? WHERE id = ? AND status = 'pending'");
    this.db.transaction(() => {
      for (const e of entries) put.run(e.reason, e.id);
    })();
  }

  /** Returns a running job to pending and closes its attempt as interrupted (the runner is stopping). */
  interrupt(jobId: string, attemptId: number): void {
    this.db.transaction(() => {
      this.db.prepare("UPDATE jobs SET status = 'pending' WHERE id = ? AND status = 'running'").run(jobId);
      this.db.prepare("UPDATE attempts SET outcome = 'interrupted', ended_at = ? WHERE id = ? AND outcome IS NULL").run(now(), attemptId);
    })();
  }

  /** Counts of the current plan's jobs by status. */
  counts(): Record<JobStatus, number> {
    const out: Record<JobStatus, number> = { pending: 0, running: 0, done: 0, failed: 0, skipped: 0 };
    for (const r of this.db.prepare('SELECT status, COUNT(*) AS n FROM jobs WHERE in_plan = 1 GROUP BY status').all() as { status: JobStatus; n: number }[]) out[r.status] = r.n;
    return out;
  }

  /** Records the medsyn version that last wrote the store. */
  stampVersion(): void {
    this.setMeta({ medsyn_version: MEDSYN_VERSION });
  }
}
