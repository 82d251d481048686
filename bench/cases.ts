/**
 * The medsyn side of each benchmark case. Each runs in its own child process (bench/run.ts), so the peak RSS it
 * reports — the process's high-water mark, including TF.js and its wasm heap — belongs to that case alone: the wasm
 * heap never shrinks, so in one process a later case would inherit the earlier cases' peak.
 */
import { tf } from '../src/core/engine.js';
import { Rng } from '../src/core/rng.js';
import { Adam } from '../src/core/adam.js';
import type { NamedTensor } from '../src/core/safetensors.js';
import type { SliceSplit } from '../src/data/prepared.js';
import { resolveGanConfig } from '../src/gan/config.js';
import { Trainer } from '../src/training/trainer.js';
import { createUNet } from '../src/models/unet.js';
import { segmentationStep } from '../src/segmentation/train.js';
import { frechetDistance } from '../src/metrics/fid.js';
import { gram } from '../src/metrics/linalg.js';
import {
  FidInception, INCEPTION_SIZE, extractInceptionFeatures, inceptionParameterShapes, type InceptionEngine,
} from '../src/metrics/inception.js';
import { median, peakRssMb } from './stats.js';

export interface Timing {
  readonly name: string;
  readonly ms_per_step: number;
  readonly images_per_s: number | null;
  readonly peak_rss_mb: number;
  readonly steps: number;
  readonly all_ms: readonly number[];
  /**
   * median CPU time of this process per step (user + system, all threads). On the shared 2-core VM wall time swings
   * with other jobs; the CPU time of single-threaded medsyn much less so.
   */
  readonly cpu_ms_per_step: number;
}

/** Warm-up steps (first-call kernel setup, allocator growth), then `steps` timed ones; median ms/step. */
export async function time(name: string, images: number | null, step: () => unknown, warmup = 2, steps = 5): Promise<Timing> {
  for (let i = 0; i < warmup; i++) await step();
  const ms: number[] = [];
  const cpu: number[] = [];
  for (let i = 0; i < steps; i++) {
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    await step();
    ms.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  const m = median(ms);
  return {
    name, ms_per_step: m, images_per_s: images === null ? null : (images * 1000) / m, peak_rss_mb: peakRssMb(), steps, all_ms: ms,
    cpu_ms_per_step: median(cpu),
  };
}

/** A synthetic split of random images and 4-class masks: the timing does not depend on content. */
export function fakeSplit(size: number, count: number, classes: number): SliceSplit {
  const rng = new Rng(1);
  const images = Float32Array.from({ length: count * size * size }, () => rng.uniform(-1, 1)); // [N, H, W, 1]
  const labels = Uint8Array.from({ length: count * size * size }, () => rng.int(0, classes - 1)); // [N, H, W]
  return { name: 'train', count, height: size, width: size, channels: 1, images, labels, info: [] };
}

export const CLASSES = 4;

/** A DCGAN-preset trainer on fake data: what `medsyn gan` runs per step (D update, then G update). */
export function ganTrainer(size: number, filters: number, batch: number): Trainer {
  const gan = resolveGanConfig('dcgan', { batchSize: batch, 'g.filters': filters, 'd.filters': filters });
  return new Trainer(gan, fakeSplit(size, 2 * batch, CLASSES), { height: size, width: size, imageChannels: 1, numClasses: CLASSES }, 0);
}

export async function ganCase(size: number, filters: number): Promise<Timing> {
  const trainer = ganTrainer(size, filters, 16);
  const t = await time(`gan-step-${size}`, 16, () => trainer.trainStep());
  trainer.dispose();
  return t;
}

export async function unetCase(size: number): Promise<Timing> {
  const batch = 16;
  const net = createUNet({ inChannels: 1, numClasses: CLASSES, depth: 4, filters: 16, norm: 'batch', seed: 0 });
  const opt = new Adam(net.params, { learningRate: 1e-3 });
  const data = fakeSplit(size, batch, CLASSES);
  const t = await time(`unet-step-${size}`, batch, () => segmentationStep(net, opt, data.images, data.labels, [batch, size, size, 1], CLASSES, {}));
  opt.dispose();
  net.dispose();
  return t;
}

/**
 * Random weights in memory (the real file is 91 MB and not needed for a timing), same recipe as
 * test/metrics/inception.test.ts; `engine` as FidInception's (default 'auto').
 */
export function randomInception(engine: InceptionEngine = 'auto'): FidInception {
  const tensors: Record<string, NamedTensor> = {};
  const rng = new Rng(3);
  for (const { name, shape } of inceptionParameterShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const conv = name.endsWith('conv.weight') || name === 'fc.weight';
    const s = conv ? Math.sqrt(6 / shape.slice(1).reduce((a, b) => a * b, 1)) : 0.1;
    const base = name.endsWith('running_var') || name.endsWith('bn.weight') ? 1 : 0;
    const data = new Float32Array(n);
    for (let i = 0; i < n; i++) data[i] = base + s * rng.uniform(-1, 1);
    tensors[name] = { dtype: 'F32', shape, data };
  }
  return new FidInception(tensors, { source: 'random weights (bench)', engine });
}

/** FID feature extraction: `batch` gray 299 px images per step → pool3 features (preprocessing included). */
export async function inceptionCase(batch: number): Promise<Timing> {
  const net = randomInception();
  const images = tf.randomUniform([batch, INCEPTION_SIZE, INCEPTION_SIZE, 1], -1, 1, 'float32', 5) as tf.Tensor4D;
  const t = await time('inception', batch, () => extractInceptionFeatures(net, images, { batchSize: batch }), 1, 5);
  images.dispose();
  net.dispose();
  return t;
}

/** Fréchet distance of two d-dimensional Gaussians with full-rank covariances (A Aᵀ of d × (d + 100) normals). */
export async function frechetCase(d: number): Promise<Timing> {
  const rng = new Rng(2);
  const spd = (): Float64Array => gram(Float64Array.from({ length: d * (d + 100) }, () => rng.normal()), d, d + 100);
  const [s1, s2] = [spd(), spd()];
  const [m1, m2] = [new Float64Array(d), Float64Array.from({ length: d }, () => rng.normal())];
  return time(`frechet-${d}`, null, () => frechetDistance(m1, s1, m2, s2), 1, 5);
}
