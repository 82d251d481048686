#!/usr/bin/env node
/**
 * Where a training step's time goes, per wasm kernel: wraps every registered wasm kernel with a
 * timer (outermost calls only: kernels that call kernels are not double counted) and prints the
 * per-step totals of the timed steps after two warm-up steps. Needs `npm run build` first.
 *
 *   node scripts/profile-kernels.mjs gan|unet [size=64] [steps=3] [rows=40]
 *   SHAPES=1 …   one row per kernel and input shapes (Conv, MatMul, Sum, Mean) instead of per kernel
 *   MEDSYN_NATIVE_KERNELS=0 / MEDSYN_THREADS=2 …   the XNNPACK kernels / two native threads
 * Same cases as bench/run.ts: DCGAN batch 16 with 32 filters at 64 px (64 at 128 px); U-Net depth 4, 16 filters.
 */
const dist = new URL('../dist/', import.meta.url);
const load = (path) => import(new URL(path, dist).href);
const { initEngine, tf } = await load('src/core/engine.js');
const { Rng } = await load('src/core/rng.js');
const { resolveGanConfig } = await load('src/gan/config.js');
const { Trainer } = await load('src/training/trainer.js');
const { createUNet } = await load('src/models/unet.js');
const { Adam } = await load('src/core/adam.js');
const { segmentationStep } = await load('src/segmentation/train.js');

const [which = 'gan', sizeArg = '64', stepsArg = '3', rowsArg = '40'] = process.argv.slice(2);
const [size, steps, rows] = [Number(sizeArg), Number(stepsArg), Number(rowsArg)];
await initEngine({ backend: 'wasm', log: () => {} });

const stats = new Map();
let depth = 0;
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  k.kernelFunc = (args) => {
    depth++;
    const t0 = performance.now();
    try {
      return f(args);
    } finally {
      depth--;
      if (depth === 0) {
        let key = k.kernelName;
        if (process.env.SHAPES && new RegExp(process.env.SHAPES === "1" ? "Conv|MatMul|Sum|Mean" : process.env.SHAPES).test(key)) {
          key += ` ${Object.values(args.inputs).map((t) => t?.shape?.join('x')).join(' ')}`;
          if (args.attrs?.strides !== undefined) key += ` s${args.attrs.strides}`;
          if (args.attrs?.axis !== undefined) key += ` axis ${args.attrs.axis}`;
        }
        const s = stats.get(key) ?? { n: 0, ms: 0 };
        s.n++;
        s.ms += performance.now() - t0;
        stats.set(key, s);
      }
    }
  };
}

function fakeSplit(count, classes) {
  const rng = new Rng(1);
  const images = Float32Array.from({ length: count * size * size }, () => rng.uniform(-1, 1));
  const labels = Uint8Array.from({ length: count * size * size }, () => rng.int(0, classes - 1));
  return { name: 'train', count, height: size, width: size, channels: 1, images, labels, info: [] };
}

let step;
if (which === 'gan') {
  const filters = size >= 128 ? 64 : 32;
  const gan = resolveGanConfig('dcgan', { batchSize: 16, 'g.filters': filters, 'd.filters': filters });
  const trainer = new Trainer(gan, fakeSplit(32, 4), { height: size, width: size, imageChannels: 1, numClasses: 4 }, 0);
  step = () => trainer.trainStep();
} else {
  const net = createUNet({ inChannels: 1, numClasses: 4, depth: 4, filters: 16, norm: 'batch', seed: 0 });
  const opt = new Adam(net.params, { learningRate: 1e-3 });
  const data = fakeSplit(16, 4);
  step = () => segmentationStep(net, opt, data.images, data.labels, [16, size, size, 1], 4, {});
}
for (let i = 0; i < 2; i++) await step();
stats.clear();
const times = [];
for (let i = 0; i < steps; i++) {
  const t0 = performance.now();
  await step();
  times.push(performance.now() - t0);
}
times.sort((a, b) => a - b);
const total = [...stats.values()].reduce((sum, s) => sum + s.ms, 0);
console.log(`${which}-${size}: step median ${times[Math.floor(steps / 2)].toFixed(0)} ms (${times.map((t) => t.toFixed(0)).join(' ')}); ` +
  `kernels ${(total / steps).toFixed(0)} ms/step; load ${(await import('node:os')).loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [key, s] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, rows)) {
  console.log(`${(s.ms / steps).toFixed(1).padStart(9)} ms ${String(s.n / steps).padStart(5)}×  ${key}`);
}
