/**
 * Runs native passes on several threads: worker_threads that instantiate the same .wasm on the
 * module's shared memory (nativeWorker.ts). The calling thread runs the first job itself and
 * blocks (Atomics.wait) until the workers are done, so kernels stay synchronous.
 *
 * Thread count: MEDSYN_THREADS, default the machine's cores (os.availableParallelism()). The study
 * runner sets it for its worker processes to cores / workers, so processes × threads stays at the
 * core count.
 */
import os from 'node:os';
import { Worker } from 'node:worker_threads';
import { CTL, CTL_INTS, PASSES, type Pass, type WorkerData } from './nativeThreadsProtocol.js';

export const THREADS_ENV_VAR = 'MEDSYN_THREADS';

/** No job takes this long (the largest conv of a 128 px step: ~0.2 s); a silent worker is dead. */
const WORKER_TIMEOUT_MS = 60_000;

/** MEDSYN_THREADS as a thread count in [1, available cores] (unset: all cores); throws on garbage. */
export function threadCount(): number {
  const raw = process.env[THREADS_ENV_VAR]?.trim();
  if (!raw) return os.availableParallelism();
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 1) throw new Error(`${THREADS_ENV_VAR}=${raw}: expected a positive integer`);
  return Math.min(n, os.availableParallelism());
}

export interface Job {
  readonly pass: Pass;
  readonly args: readonly [number, number, number, number, number];
}

/** A worker waiting in Atomics.wait on its control block. */
interface Helper {
  readonly worker: Worker;
  readonly ctl: Int32Array;
}

export class ThreadPool {
  private readonly helpers: Helper[];

  /** stackTops[i]: the top of worker i's shadow stack in the shared memory (nativeModule.ts). */
  constructor(bytes: Uint8Array, memory: object, threads: number, stackTops: readonly number[]) {
    this.helpers = Array.from({ length: threads - 1 }, (_, i) => {
      const control = new SharedArrayBuffer(4 * CTL_INTS);
      const data: WorkerData = { bytes, memory, control, stackTop: stackTops[i]! };
      const worker = new Worker(new URL('./nativeWorker.js', import.meta.url), { workerData: data });
      worker.unref(); // idle workers must not keep the process alive
      return { worker, ctl: new Int32Array(control) };
    });
  }

  get threads(): number {
    return this.helpers.length + 1;
  }

  /** Runs jobs[0] here and jobs[i] on worker i − 1, and returns when all are done. */
  run(jobs: readonly Job[], local: (job: Job) => void): void {
    if (jobs.length > this.threads) throw new Error(`${jobs.length} jobs for ${this.threads} threads`);
    const started = jobs.slice(1).map((job, i) => {
      const { ctl } = this.helpers[i]!;
      ctl[CTL.pass] = PASSES.indexOf(job.pass);
      ctl.set(job.args, CTL.args);
      const seq = Atomics.add(ctl, CTL.seq, 1) + 1;
      Atomics.notify(ctl, CTL.seq);
      return { ctl, seq };
    });
    local(jobs[0]!);
    const deadline = Date.now() + WORKER_TIMEOUT_MS;
    for (const { ctl, seq } of started) {
      for (let done = Atomics.load(ctl, CTL.done); done !== seq; done = Atomics.load(ctl, CTL.done)) {
        // A worker that died (or never started) cannot notify: give up instead of hanging.
        if (Date.now() > deadline) throw new Error(`a native kernel worker thread did not answer in ${WORKER_TIMEOUT_MS / 1000} s`);
        Atomics.wait(ctl, CTL.done, done, 100);
      }
      if (Atomics.load(ctl, CTL.error)) throw new Error('a native kernel worker thread failed');
    }
  }
}
