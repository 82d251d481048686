/**
 * `--memory-steps N`: a 128 px GAN training run of N steps that samples RSS and TF.js's live tensor count/bytes,
 * for the "no tensor or buffer leak" check (issue 6 part 4). A leak shows as a positive RSS slope or a growing
 * tensor count; the wasm heap only grows, so RSS also catches buffers TF.js does not count.
 * The network is small by default (batch 4, 16 filters) because a leak is per step, not per FLOP: at the bench's
 * 64-filter, batch-16 size 10,000 steps would take most of a day on the 2-core machine.
 */
import { tf } from '../src/core/engine.js';
import { ganTrainer } from './cases.js';
import { peakRssMb, slope } from './stats.js';

export interface MemoryOptions {
  readonly steps: number;
  readonly size: number;
  readonly batch: number;
  readonly filters: number;
  /** progress line on stderr every this many steps (0: none) */
  readonly logEvery: number;
}

export interface MemorySample { readonly step: number; readonly rss_mb: number; readonly tensors: number; readonly tensor_mb: number }

export interface MemoryResult {
  readonly name: string;
  readonly steps: number;
  readonly config: { size: number; batch: number; filters: number };
  /** least-squares RSS slope over the samples after the first 10 % of steps (allocator warm-up), MB per 1000 steps */
  readonly rss_slope_mb_per_1000_steps: number;
  readonly tensors_first: number;
  readonly tensors_last: number;
  readonly tensor_mb_first: number;
  readonly tensor_mb_last: number;
  readonly rss_first_mb: number;
  readonly rss_last_mb: number;
  readonly peak_rss_mb: number;
  readonly ms_per_step_mean: number;
  readonly samples: readonly MemorySample[];
}

export async function memoryRun(o: MemoryOptions): Promise<MemoryResult> {
  const trainer = ganTrainer(o.size, o.filters, o.batch);
  const every = Math.max(1, Math.floor(o.steps / 200)); // ≤ ~200 samples whatever N is
  const samples: MemorySample[] = [];
  const sample = (step: number): void => {
    const m = tf.memory();
    samples.push({ step, rss_mb: process.memoryUsage().rss / 2 ** 20, tensors: m.numTensors, tensor_mb: m.numBytes / 2 ** 20 });
  };
  const t0 = performance.now();
  for (let s = 1; s <= o.steps; s++) {
    trainer.trainStep();
    if (s % every === 0 || s === o.steps) sample(s);
    if (o.logEvery > 0 && s % o.logEvery === 0) {
      const last = samples[samples.length - 1]!;
      console.error(`memory: step ${s}/${o.steps}  RSS ${last.rss_mb.toFixed(1)} MB  tensors ${last.tensors}  (${((performance.now() - t0) / s).toFixed(0)} ms/step)`);
    }
  }
  const msPerStep = (performance.now() - t0) / o.steps;
  trainer.dispose();
  const settled = samples.filter((x) => x.step > o.steps / 10);
  const fit = settled.length >= 2 ? settled : samples;
  const first = fit[0]!;
  const last = samples[samples.length - 1]!;
  return {
    name: `memory-${o.size}`,
    steps: o.steps,
    config: { size: o.size, batch: o.batch, filters: o.filters },
    rss_slope_mb_per_1000_steps: 1000 * slope(fit.map((x) => x.step), fit.map((x) => x.rss_mb)),
    tensors_first: first.tensors,
    tensors_last: last.tensors,
    tensor_mb_first: first.tensor_mb,
    tensor_mb_last: last.tensor_mb,
    rss_first_mb: first.rss_mb,
    rss_last_mb: last.rss_mb,
    peak_rss_mb: peakRssMb(),
    ms_per_step_mean: msPerStep,
    samples,
  };
}
