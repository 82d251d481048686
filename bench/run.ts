/**
 * `npm run bench`: training and metric timings on this machine, as one JSON document (`--json`) or a table.
 * Each case: median ms per step over ≥ 5 timed steps after warm-up, images per second, peak RSS.
 *   gan-step-64 / gan-step-128   DCGAN backbone, one D and one G update (joint image + 4-class mask)
 *   unet-step-64 / unet-step-128 U-Net (depth 4, 16 filters) training step, CE + soft Dice
 *   frechet-2048                 Fréchet distance on 2048-d statistics (float64)
 * `--quick` runs the 64 px cases and a 512-d Fréchet distance only. Timings belong here, never in tests.
 * Not yet: Inception-v3 feature extraction, the whole demo's wall time, the PyTorch reference (`--reference`).
 */
import os from 'node:os';
import { initEngine, type EngineInfo } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { Adam } from '../src/core/adam.js';
import type { SliceSplit } from '../src/data/prepared.js';
import { resolveGanConfig } from '../src/gan/config.js';
import { Trainer } from '../src/training/trainer.js';
import { createUNet } from '../src/models/unet.js';
import { segmentationStep } from '../src/segmentation/train.js';
import { frechetDistance } from '../src/metrics/fid.js';

interface Case {
  readonly name: string;
  readonly ms_per_step: number;
  readonly images_per_s: number | null;
  readonly peak_rss_mb: number;
  readonly steps: number;
  readonly reference_ms_per_step: null;
  readonly ratio: null;
}

let peakRss = 0;
const sampleRss = (): void => {
  peakRss = Math.max(peakRss, process.memoryUsage().rss);
};

async function time(name: string, images: number | null, step: () => unknown | Promise<unknown>, warmup = 2, steps = 5): Promise<Case> {
  peakRss = 0;
  for (let i = 0; i < warmup; i++) await step();
  const ms: number[] = [];
  for (let i = 0; i < steps; i++) {
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
    sampleRss();
  }
  ms.sort((a, b) => a - b);
  const median = ms[Math.floor(ms.length / 2)]!;
  return { name, ms_per_step: median, images_per_s: images === null ? null : (images * 1000) / median, peak_rss_mb: peakRss / 2 ** 20, steps, reference_ms_per_step: null, ratio: null };
}

/** A synthetic split of smooth random images and 4-class masks: the timing does not depend on content. */
function fakeSplit(size: number, count: number, classes: number): SliceSplit {
  const rng = new Rng(1);
  const images = Float32Array.from({ length: count * size * size }, () => rng.uniform(-1, 1)); // [N, H, W, 1]
  const labels = Uint8Array.from({ length: count * size * size }, () => rng.int(0, classes - 1)); // [N, H, W]
  return { name: 'train', count, height: size, width: size, channels: 1, images, labels, info: [] };
}

async function ganCase(size: number, filters: number): Promise<Case> {
  const classes = 4;
  const gan = resolveGanConfig('dcgan', { batchSize: 16, 'g.filters': filters, 'd.filters': filters });
  const trainer = new Trainer(gan, fakeSplit(size, 32, classes), { height: size, width: size, imageChannels: 1, numClasses: classes }, 0);
  const c = await time(`gan-step-${size}`, 16, () => trainer.trainStep());
  trainer.dispose();
  return c;
}

async function unetCase(size: number): Promise<Case> {
  const classes = 4;
  const batch = 16;
  const net = createUNet({ inChannels: 1, numClasses: classes, depth: 4, filters: 16, norm: 'batch', seed: 0 });
  const opt = new Adam(net.params, { learningRate: 1e-3 });
  const data = fakeSplit(size, batch, classes);
  const c = await time(`unet-step-${size}`, batch, () => segmentationStep(net, opt, data.images, data.labels, [batch, size, size, 1], classes, {}));
  opt.dispose();
  net.dispose();
  return c;
}

async function frechetCase(d: number): Promise<Case> {
  const rng = new Rng(2);
  const spd = (): Float64Array => {
    const a = Float64Array.from({ length: d * d }, () => rng.normal());
    const s = new Float64Array(d * d);
    for (let i = 0; i < d; i++) for (let k = 0; k < d; k++) {
      const aik = a[i * d + k]!;
      for (let j = 0; j < d; j++) s[i * d + j]! += aik * a[j * d + k]!;
    }
    return s;
  };
  const [s1, s2] = [spd(), spd()];
  const [m1, m2] = [new Float64Array(d), Float64Array.from({ length: d }, () => rng.normal())];
  return time(`frechet-${d}`, null, () => frechetDistance(m1, s1, m2, s2), 0, 3);
}

async function main(): Promise<void> {
  const args = new Set(process.argv.slice(2));
  const quick = args.has('--quick');
  const engine: EngineInfo = await initEngine({ log: () => {} });
  const plan: (() => Promise<Case>)[] = quick
    ? [() => ganCase(64, 32), () => unetCase(64), () => frechetCase(512)]
    : [() => ganCase(64, 32), () => ganCase(128, 64), () => unetCase(64), () => unetCase(128), () => frechetCase(2048)];
  const cases: Case[] = [];
  for (const run of plan) {
    const c = await run();
    cases.push(c);
    if (!args.has('--json')) console.error(`${c.name.padEnd(16)} ${c.ms_per_step.toFixed(1).padStart(10)} ms/step  ${c.images_per_s === null ? '' : c.images_per_s.toFixed(1).padStart(8) + ' img/s'}  peak RSS ${c.peak_rss_mb.toFixed(0)} MB`);
  }
  const machine = { cpus: os.cpus().length, cpu: os.cpus()[0]?.model ?? 'unknown', node: process.version, backend: engine.backend, tfjs: engine.tfjsVersion, simd: engine.wasmSimd ?? null, threads: engine.wasmThreads ?? null };
  if (args.has('--reference')) console.error('bench: --reference (PyTorch side by side) is not implemented yet; see the performance issue');
  console.log(JSON.stringify({ machine, quick, cases }, null, args.has('--json') ? 0 : 2));
}

await main();
