/**
 * `npm run bench`: training and metric timings on this machine, as one JSON document (stdout) and a table (stderr).
 * Each case runs in its own child process (per-case peak RSS, see bench/cases.ts): median ms per step over ≥ 5
 * timed steps after warm-up, images per second, peak RSS.
 *   gan-step-64 / gan-step-128   DCGAN preset, one D and one G update, batch 16, 32 / 64 filters (joint image + 4-class mask)
 *   unet-step-64 / unet-step-128 U-Net (depth 4, 16 filters, batch norm) training step, batch 16, CE + soft Dice
 *   inception                    FID Inception-v3 pool3 features of 299 px images (random weights), images/s
 *   frechet-2048                 Fréchet distance on 2048-d statistics (float64)
 *   demo                         wall time of the whole `npm start` (`medsyn demo`) into a temporary folder
 * Options:
 *   --quick            64 px cases, inception on 2 images, frechet-512, no demo (< 2 minutes)
 *   --json             compact JSON only (no table)
 *   --reference        after each case, the same case in PyTorch (bench/reference/reference.py, 2 threads), back to
 *                      back; fills reference_ms_per_step and ratio = medsyn / reference. Without torch it says so and
 *                      the reference fields stay null.
 *   --reference-threads N[,M]  PyTorch threads (default 2, the issue's setting); a list runs each back to back and
 *                      compares against the fastest (reference_threads says which; reference_by_threads has all).
 *                      On this VM 2 threads were often slower than 1 (bench/RESULTS.md): `--reference-threads 1,2`.
 *   --only a,b         run only these cases
 *   --no-demo          skip the demo in a full run
 *   --memory-steps N   instead of the cases: a 128 px GAN training run of N steps sampling RSS and live tensors
 *                      (--memory-batch B = 4, --memory-filters F = 16, --memory-size S = 128); reports the RSS slope
 * Timings belong here, never in tests.
 */
import { spawn, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { initEngine, type EngineInfo } from '../src/core/engine.js';
import { convTuning } from '../src/core/kernels/convNative.js';
import { tileTuning } from '../src/core/kernels/winogradPlan.js';
import { frechetCase, ganCase, inceptionCase, unetCase, type Timing } from './cases.js';
import { memoryRun } from './memory.js';
import { PYTHON, REFERENCE_THREADS, runReference, type ReferenceResult } from './reference.js';

const SELF = fileURLToPath(import.meta.url);
const ROOT = path.resolve(path.dirname(SELF), '../..'); // dist/bench → repository root

interface Case {
  readonly name: string;
  readonly ms_per_step: number | null;
  readonly images_per_s: number | null;
  readonly peak_rss_mb: number | null;
  readonly steps: number;
  readonly reference_ms_per_step: number | null;
  /** medsyn ms / reference ms (> 1: medsyn slower) */
  readonly ratio: number | null;
  readonly reference_images_per_s: number | null;
  readonly reference_peak_rss_mb: number | null;
  readonly reference_note?: string;
  /** PyTorch threads of the headline reference (the fastest of --reference-threads) and every count's ms/step */
  readonly reference_threads?: number;
  readonly reference_by_threads?: Readonly<Record<string, number>>;
  readonly all_ms?: readonly number[];
  /** median CPU ms per step (see bench/cases.ts); reference_cpu_ms_per_step: the same for PyTorch (both its threads) */
  readonly cpu_ms_per_step?: number | null;
  readonly reference_cpu_ms_per_step?: number | null;
  readonly error?: string;
}

const flag = (args: readonly string[], name: string): string | undefined => {
  const i = args.indexOf(name);
  return i >= 0 ? args[i + 1] : undefined;
};

/** Child-process mode: run one case, print its Timing (and the engine) as one JSON line. */
async function runCase(name: string, quick: boolean): Promise<void> {
  const engine = await initEngine({ log: () => {} });
  const run: Record<string, () => Promise<Timing>> = {
    'gan-step-64': () => ganCase(64, 32),
    'gan-step-128': () => ganCase(128, 64),
    'unet-step-64': () => unetCase(64),
    'unet-step-128': () => unetCase(128),
    inception: () => inceptionCase(inceptionBatch(quick)),
    'frechet-512': () => frechetCase(512),
    'frechet-2048': () => frechetCase(2048),
  };
  const f = run[name];
  if (!f) throw new Error(`unknown case ${name}; cases: ${Object.keys(run).join(', ')}`);
  console.log(JSON.stringify({ timing: await f(), engine }));
}

const inceptionBatch = (quick: boolean): number => (quick ? 2 : 4);

function medsynInChild(name: string, quick: boolean): { timing: Timing; engine: EngineInfo } | { error: string } {
  const r = spawnSync(process.execPath, [SELF, '--case', name, ...(quick ? ['--quick'] : [])], { encoding: 'utf8', maxBuffer: 16 * 2 ** 20 });
  const line = (r.stdout ?? '').trim().split('\n').pop() ?? '';
  try {
    return JSON.parse(line) as { timing: Timing; engine: EngineInfo };
  } catch {
    return { error: `exit ${r.status}: ${(r.stderr ?? '').trim().split('\n').slice(-3).join(' | ')}` };
  }
}

/** `medsyn demo` (what `npm start` runs) into a temporary folder; peak RSS from the child's VmHWM, polled. */
async function demoCase(): Promise<Case> {
  const out = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-bench-demo-'));
  const t0 = performance.now();
  const child = spawn(process.execPath, [path.join(ROOT, 'bin/medsyn.js'), 'demo', '--out', out], { stdio: ['ignore', 'ignore', 'pipe'] });
  let tail = '';
  child.stderr.on('data', (b: Buffer) => { tail = (tail + b.toString()).slice(-2000); });
  let hwmKb = 0;
  const poll = setInterval(() => {
    try {
      const m = /VmHWM:\s+(\d+)/.exec(fs.readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) hwmKb = Math.max(hwmKb, Number(m[1]));
    } catch { /* exited between polls, or not Linux */ }
  }, 250);
  const code: number | null = await new Promise((resolve) => child.on('close', resolve));
  clearInterval(poll);
  const ms = performance.now() - t0;
  fs.rmSync(out, { recursive: true, force: true });
  const base = { name: 'demo', images_per_s: null, steps: 1, reference_ms_per_step: null, ratio: null, reference_images_per_s: null, reference_peak_rss_mb: null };
  if (code !== 0) return { ...base, ms_per_step: null, peak_rss_mb: null, error: `demo exited with ${code}: ${tail.trim().split('\n').slice(-3).join(' | ')}` };
  return { ...base, ms_per_step: ms, peak_rss_mb: hwmKb > 0 ? hwmKb / 1024 : null };
}

function fmt(x: number | null, digits = 1, width = 9): string {
  return (x === null ? '—' : x.toFixed(digits)).padStart(width);
}

function tableRow(c: Case): string {
  return `${c.name.padEnd(14)}${fmt(c.ms_per_step)} ms (cpu${fmt(c.cpu_ms_per_step ?? null, 0, 7)})${fmt(c.images_per_s)} img/s${fmt(c.peak_rss_mb, 0, 6)} MB` +
    `   ref${fmt(c.reference_ms_per_step)} ms${fmt(c.reference_peak_rss_mb, 0, 6)} MB  ratio${fmt(c.ratio, 2, 6)}` +
    (c.reference_by_threads ? `  (PyTorch ${Object.entries(c.reference_by_threads).map(([t, ms]) => `${t} thr ${ms.toFixed(0)} ms`).join(', ')})` : '') +
    (c.error ? `  ERROR ${c.error}` : '');
}

const VALUED = new Set(['--case', '--only', '--reference-threads', '--memory-steps', '--memory-batch', '--memory-filters',
  '--memory-size', '--memory-log-every']);
const OPTIONS = new Set([...VALUED, '--quick', '--json', '--reference', '--no-demo', '--help', '-h']);

/** The options, from this file's header comment (one text for the docs and --help). */
function usage(): string {
  const header = /\/\*\*([\s\S]*?)\*\//.exec(fs.readFileSync(SELF, 'utf8'))?.[1] ?? '';
  return header.split('\n').map((l) => l.replace(/^\s*\* ?/, '')).join('\n').trim();
}

async function main(): Promise<void> {
  const argv = process.argv.slice(2);
  const args = new Set(argv);
  if (args.has('--help') || args.has('-h')) return void console.log(usage());
  const unknown = argv.filter((a, i) => a.startsWith('-') && !OPTIONS.has(a) && !VALUED.has(argv[i - 1] ?? ''));
  if (unknown.length) throw new Error(`unknown option ${unknown.join(', ')}; npm run bench -- --help lists them`);
  const quick = args.has('--quick');
  const caseName = flag(argv, '--case');
  if (caseName !== undefined) return runCase(caseName, quick);

  const memorySteps = flag(argv, '--memory-steps');
  if (memorySteps !== undefined) {
    await initEngine({ log: () => {} });
    const num = (name: string, dflt: number): number => Number(flag(argv, name) ?? dflt);
    const r = await memoryRun({ steps: Number(memorySteps), size: num('--memory-size', 128), batch: num('--memory-batch', 4), filters: num('--memory-filters', 16), logEvery: num('--memory-log-every', 100) });
    console.log(JSON.stringify({ machine: { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, date: new Date().toISOString() }, memory: r }, null, args.has('--json') ? 0 : 1));
    return;
  }

  const table = !args.has('--json');
  const say = (line: string): void => { if (table) console.error(line); };
  const only = flag(argv, '--only')?.split(',');
  const plan = (quick
    ? ['gan-step-64', 'unet-step-64', 'inception', 'frechet-512']
    : ['gan-step-64', 'gan-step-128', 'unet-step-64', 'unet-step-128', 'inception', 'frechet-2048', ...(args.has('--no-demo') ? [] : ['demo'])]
  ).filter((n) => !only || only.includes(n));

  const loadStart = os.loadavg();
  let engine: EngineInfo | null = null;
  let reference: { available: boolean; reason?: string; torch?: string } = { available: false, reason: 'not requested (--reference)' };
  let referenceOn = args.has('--reference');
  const refThreadList = (flag(argv, '--reference-threads') ?? String(REFERENCE_THREADS)).split(',').map(Number);
  if (!refThreadList.every((t) => Number.isInteger(t) && t >= 1)) throw new Error('--reference-threads: positive integers, e.g. 2 or 1,2');
  const refThreads = refThreadList.join(',');
  const cases: Case[] = [];
  say(`bench: ${plan.length} cases${quick ? ' (--quick)' : ''}${referenceOn ? `, PyTorch reference back to back (${PYTHON}, ${refThreads} threads)` : ''}; load average ${loadStart.map((x) => x.toFixed(2)).join(' ')}`);
  for (const name of plan) {
    let c: Case;
    if (name === 'demo') {
      c = await demoCase();
    } else {
      const m = medsynInChild(name, quick);
      const t = 'timing' in m ? m.timing : null;
      if ('engine' in m) engine = m.engine;
      c = {
        name, ms_per_step: t?.ms_per_step ?? null, images_per_s: t?.images_per_s ?? null, peak_rss_mb: t?.peak_rss_mb ?? null,
        steps: t?.steps ?? 0, all_ms: t?.all_ms ?? [], cpu_ms_per_step: t?.cpu_ms_per_step ?? null, reference_ms_per_step: null, ratio: null, reference_images_per_s: null,
        reference_peak_rss_mb: null, ...('error' in m ? { error: m.error } : {}),
      };
      if (referenceOn) {
        const extra = name === 'inception' ? ['--warmup', '1', '--batch', String(inceptionBatch(quick))] : name.startsWith('frechet') ? ['--warmup', '1'] : [];
        // several thread counts: each back to back; the headline reference is the fastest (PyTorch's best showing)
        const runs = refThreadList.map((t) => ({ threads: t, r: runReference(name, extra, t) }));
        const timed = runs.flatMap(({ threads, r: x }) => (x.ok ? [{ threads, timing: x.timing }] : []));
        const failed = runs.map((x) => x.r).find((x): x is Extract<ReferenceResult, { ok: false }> => !x.ok);
        if (timed.length || !failed) {
          const { threads: best, timing: rt } = timed.reduce((a, b) => (b.timing.ms_per_step < a.timing.ms_per_step ? b : a));
          if (failed) c = { ...c, reference_note: `some thread counts failed: ${failed.unavailable}` };
          reference = { available: true, ...(rt.torch ? { torch: rt.torch } : {}) };
          c = {
            ...c, reference_ms_per_step: rt.ms_per_step, reference_images_per_s: rt.images_per_s, reference_peak_rss_mb: rt.peak_rss_mb,
            reference_cpu_ms_per_step: rt.cpu_ms_per_step ?? null, reference_threads: best,
            ...(timed.length > 1 ? { reference_by_threads: Object.fromEntries(timed.map(({ threads, timing }) => [threads, timing.ms_per_step])) } : {}),
            ratio: c.ms_per_step === null ? null : c.ms_per_step / rt.ms_per_step, ...(rt.note ? { reference_note: rt.note } : {}),
          };
        } else if (/torch|python|reference\.py/i.test(failed.unavailable) && !reference.available) {
          // no interpreter / no torch: nothing else will work either; say it once and carry on without
          reference = { available: false, reason: failed.unavailable };
          referenceOn = false;
          say(`bench: PyTorch reference unavailable — ${failed.unavailable}; reference_ms_per_step and ratio stay null`);
        } else {
          c = { ...c, reference_note: `no reference: ${failed.unavailable}` };
        }
      }
    }
    cases.push(c);
    say(tableRow(c));
  }
  const machine = {
    cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', memory_gb: os.totalmem() / 2 ** 30, node: process.version,
    backend: engine?.backend ?? null, tfjs: engine?.tfjsVersion ?? null, simd: engine?.wasmSimd ?? null,
    threads: engine?.wasmThreads ?? null, native_threads: engine?.nativeThreads ?? null,
    native_relaxed_simd: engine?.nativeRelaxedSimd ?? null,
    winograd: convTuning.winograd ? { f4x4: tileTuning.m4, one_d: tileTuning.oneD, f5x5: tileTuning.f5 } : false,
    load_average_start: loadStart, load_average_end: os.loadavg(), date: new Date().toISOString(), reference: { ...reference, threads: refThreads },
  };
  console.log(JSON.stringify({ machine, quick, cases }, null, table ? 2 : 0));
}

await main().catch((err: unknown) => {
  console.error(`bench: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(2);
});
