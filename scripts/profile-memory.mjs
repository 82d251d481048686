#!/usr/bin/env node
/**
 * Where a training step's memory goes: the high-water mark of TF.js' live tensor bytes during one
 * step (sampled after every kernel), the wasm backend's heap size, medsyn's native module memory and
 * the process RSS — to tell live tensors from allocator growth. Needs `npm run build` first.
 *
 *   node scripts/profile-memory.mjs gan|unet [size=128] [steps=2]
 * Same cases as bench/run.ts (DCGAN batch 16, 64 filters at 128 px; U-Net depth 4, 16 filters).
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
const { nativeKernels } = await load('src/core/kernels/nativeModule.js');

const [which = 'gan', sizeArg = '128', stepsArg = '2'] = process.argv.slice(2);
const [size, steps] = [Number(sizeArg), Number(stepsArg)];
await initEngine({ backend: 'wasm', log: () => {} });

const MB = 2 ** 20;
let peakBytes = 0;
let peakAt = '';
for (const k of tf.getKernelsForBackend('wasm')) {
  const f = k.kernelFunc;
  k.kernelFunc = (args) => {
    const out = f(args);
    const bytes = tf.memory().numBytes;
    if (bytes > peakBytes) [peakBytes, peakAt] = [bytes, k.kernelName];
    return out;
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
for (let i = 0; i < steps; i++) {
  peakBytes = 0;
  await step();
  const wasmHeap = tf.backend().wasm?.HEAPU8?.length ?? 0;
  const native = nativeKernels();
  const nativeBytes = native ? native.bytes : 0;
  console.log(`${which}-${size} step ${i + 1}: live tensors after ${(tf.memory().numBytes / MB).toFixed(0)} MB, ` +
    `peak during ${(peakBytes / MB).toFixed(0)} MB (after ${peakAt}); wasm backend heap ${(wasmHeap / MB).toFixed(0)} MB; ` +
    `native module ${(nativeBytes / MB).toFixed(0)} MB; RSS ${(process.memoryUsage().rss / MB).toFixed(0)} MB`);
}
