/**
 * A study worker: a child process (child_process.fork) that runs one job at a time for the runner. It owns a
 * tensor engine of its own (TF.js' wasm backend is single-threaded, so processes are how a study uses every
 * core) and never touches the store: it reports each result to the runner, which records it in one transaction.
 *
 * Protocol (IPC, JSON):
 *   runner → worker  { type: 'job', job: WorkerJob } | { type: 'stop' }
 *   worker → runner  { type: 'ready', engine } | { type: 'done', id, result, wallSec } | { type: 'failed', id, error, wallSec }
 *
 * When the runner dies (even by SIGKILL) the worker exits at the next training step or job boundary: it notices
 * the IPC channel closing and its parent pid changing. Whatever it was doing is redone by the next runner from the
 * stage's own files, so leaving mid-write is safe (all writes are atomic).
 */
import fs from 'node:fs';
import path from 'node:path';
import { initEngine } from '../core/engine.js';
import { LAYOUT } from './plan.js';
import { runStage, type WorkerJob } from './stages.js';

export type ToWorker = { readonly type: 'job'; readonly job: WorkerJob } | { readonly type: 'stop' };
export type FromWorker =
  | { readonly type: 'ready'; readonly engine: string }
  | { readonly type: 'done'; readonly id: string; readonly result: unknown; readonly wallSec: number }
  | { readonly type: 'failed'; readonly id: string; readonly error: string; readonly wallSec: number };

/** A job id as a file name. */
export function logFileName(jobId: string): string {
  return `${jobId.replace(/[^A-Za-z0-9_.+-]/g, '_')}.log`;
}

function send(msg: FromWorker): void {
  process.send?.(msg);
}

async function main(): Promise<void> {
  const studyDir = process.env.MEDSYN_STUDY_DIR;
  if (!process.send || !studyDir) {
    console.error('medsyn study worker: run by `medsyn study run`, not directly');
    process.exit(2);
  }
  const parent = process.ppid;
  const orphaned = (): boolean => process.ppid !== parent || !process.connected;
  process.on('disconnect', () => process.exit(0));

  // the runner prints one engine line for the study; workers keep theirs in their job logs
  const engine = await initEngine({ log: () => {} });
  send({ type: 'ready', engine: `${engine.backend} (TF.js ${engine.tfjsVersion})` });

  let busy = false;
  process.on('message', (msg: ToWorker) => {
    if (msg.type === 'stop') process.exit(0);
    if (msg.type !== 'job' || busy) return;
    busy = true;
    const { job } = msg;
    const logFile = path.join(studyDir, LAYOUT.logs, logFileName(job.id));
    fs.mkdirSync(path.dirname(logFile), { recursive: true });
    const log = (line: string): void => fs.appendFileSync(logFile, `${new Date().toISOString()} ${line}\n`);
    const t0 = performance.now();
    log(`start ${job.id} (pid ${process.pid})`);
    runStage(job, {
      studyDir,
      log,
      checkpoint: () => {
        if (orphaned()) process.exit(0);
      },
    }).then((result) => {
      const wallSec = (performance.now() - t0) / 1000;
      log(`done in ${wallSec.toFixed(1)} s`);
      busy = false;
      if (orphaned()) process.exit(0);
      send({ type: 'done', id: job.id, result, wallSec });
    }, (err: unknown) => {
      const wallSec = (performance.now() - t0) / 1000;
      const error = err instanceof Error ? err.message : String(err);
      log(`failed after ${wallSec.toFixed(1)} s: ${err instanceof Error ? err.stack ?? error : error}`);
      busy = false;
      if (orphaned()) process.exit(0);
      send({ type: 'failed', id: job.id, error, wallSec });
    });
  });
}

main().catch((err: unknown) => {
  console.error(`medsyn study worker: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
  process.exit(1);
});
