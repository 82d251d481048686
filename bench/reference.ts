/**
 * Runs bench/reference/reference.py (PyTorch, 2 threads) for one case, in its own process so that its peak RSS
 * (ru_maxrss) is that case's. Never throws: a missing interpreter or torch comes back as `unavailable` with the reason.
 */
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const PYTHON = process.env.MEDSYN_BENCH_PYTHON ?? '/usr/bin/python3';
/** torch.set_num_threads and the BLAS thread variables; the setting is 2 (MEDSYN_BENCH_REF_THREADS overrides). */
export const REFERENCE_THREADS = Number(process.env.MEDSYN_BENCH_REF_THREADS ?? 2);

export interface ReferenceTiming {
  readonly name: string;
  readonly ms_per_step: number;
  readonly images_per_s: number | null;
  readonly peak_rss_mb: number;
  readonly steps: number;
  readonly cpu_ms_per_step?: number;
  readonly torch?: string;
  readonly note?: string;
}

export type ReferenceResult = { readonly ok: true; readonly timing: ReferenceTiming } | { readonly ok: false; readonly unavailable: string };

/** bench/reference/reference.py from the source tree (this file runs from dist/bench/). */
function script(): string | null {
  const here = path.dirname(fileURLToPath(import.meta.url));
  for (const p of [path.resolve(here, 'reference/reference.py'), path.resolve(here, '../../bench/reference/reference.py')]) {
    if (fs.existsSync(p)) return p;
  }
  return null;
}

export function runReference(name: string, extra: readonly string[] = [], threadCount = REFERENCE_THREADS): ReferenceResult {
  const file = script();
  if (file === null) return { ok: false, unavailable: 'bench/reference/reference.py not found' };
  const threads = String(threadCount);
  const r = spawnSync(PYTHON, [file, '--case', name, ...extra], {
    encoding: 'utf8',
    env: { ...process.env, OMP_NUM_THREADS: threads, OPENBLAS_NUM_THREADS: threads, MKL_NUM_THREADS: threads, MEDSYN_BENCH_REF_THREADS: threads },
    maxBuffer: 16 * 2 ** 20,
  });
  if (r.error) return { ok: false, unavailable: `${PYTHON} could not be started (${r.error.message})` };
  const line = r.stdout.trim().split('\n').pop() ?? '';
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(line) as Record<string, unknown>;
  } catch {
    return { ok: false, unavailable: `${PYTHON} exited with status ${r.status}: ${(r.stderr || r.stdout).trim().split('\n').slice(-3).join(' | ')}` };
  }
  if (typeof doc.unavailable === 'string') return { ok: false, unavailable: doc.unavailable };
  return { ok: true, timing: doc as unknown as ReferenceTiming };
}
