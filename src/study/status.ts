/**
 * `medsyn study status`: what a study has done, is doing and has failed, and the best trial so far per dataset and
 * GAN — read from the store (safe while the runner writes: WAL readers see the last committed state).
 */
import { JOB_KINDS, type JobPayload } from './plan.js';
import { selectBest } from './select.js';
import type { StudyStore, JobStatus } from './store.js';
import type { ResolvedStudy } from './config.js';

export interface StudyStatus {
  readonly study: string;
  readonly counts: Readonly<Record<JobStatus, number>>;
  readonly byKind: Readonly<Record<string, Readonly<Record<JobStatus, number>>>>;
  readonly running: readonly { readonly id: string; readonly since: string | null }[];
  readonly failed: readonly { readonly id: string; readonly error: string }[];
  readonly best: readonly { readonly dataset: string; readonly gan: string; readonly trialId: string; readonly metric: string; readonly value: number; readonly of: number }[];
}

export function studyStatus(store: StudyStore): StudyStatus {
  const study = JSON.parse(store.getMeta('study') ?? 'null') as ResolvedStudy | null;
  const jobs = store.jobs();
  const empty = (): Record<JobStatus, number> => ({ pending: 0, running: 0, done: 0, failed: 0, skipped: 0 });
  const byKind: Record<string, Record<JobStatus, number>> = {};
  for (const k of JOB_KINDS) byKind[k] = empty();
  for (const j of jobs) byKind[j.kind]![j.status]++;
  // best so far: what each GAN's select job would pick from the trials evaluated until now
  const byId = new Map(jobs.map((j) => [j.id, j]));
  const best: StudyStatus['best'][number][] = [];
  for (const j of jobs) {
    if (j.kind !== 'select' || !j.dataset || !j.gan) continue;
    try {
      const s = selectBest(j.payload as Extract<JobPayload, { kind: 'select' }>, (id) => byId.get(id));
      best.push({ dataset: j.dataset, gan: j.gan, trialId: s.trialId, metric: s.metric, value: s.value, of: s.candidates });
    } catch {
      // nothing evaluated yet for this GAN
    }
  }
  return {
    study: study?.name ?? '(unknown)',
    counts: store.counts(),
    byKind,
    running: jobs.filter((j) => j.status === 'running').map((j) => ({ id: j.id, since: j.startedAt })),
    failed: jobs.filter((j) => j.status === 'failed').map((j) => ({ id: j.id, error: (j.error ?? '').split('\n')[0]! })),
    best,
  };
}

export function formatStatus(s: StudyStatus): string[] {
  const c = s.counts;
  const total = c.pending + c.running + c.done + c.failed + c.skipped;
  const lines = [`study ${s.study}: ${c.done}/${total} jobs done, ${c.running} running, ${c.failed} failed, ${c.skipped} skipped, ${c.pending} pending`];
  for (const [kind, k] of Object.entries(s.byKind)) {
    const n = k.pending + k.running + k.done + k.failed + k.skipped;
    if (n > 0) lines.push(`  ${kind.padEnd(9)} ${k.done}/${n} done${k.running ? `, ${k.running} running` : ''}${k.failed ? `, ${k.failed} failed` : ''}${k.skipped ? `, ${k.skipped} skipped` : ''}`);
  }
  for (const r of s.running) lines.push(`  running: ${r.id}${r.since ? ` (since ${r.since})` : ''}`);
  for (const f of s.failed) lines.push(`  failed: ${f.id}: ${f.error}`);
  if (s.best.length > 0) lines.push('best so far:');
  for (const b of s.best) lines.push(`  ${b.dataset} ${b.gan}: ${b.trialId} ${b.metric} ${b.value.toPrecision(4)} (of ${b.of} evaluated)`);
  return lines;
}
