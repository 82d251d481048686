#!/usr/bin/env node
/**
 * Where a training step's memory goes: the high-water mark of TF.js' live tensor bytes during one
 * step (sampled after every kernel), the wasm backend's heap size, medsyn's native module memory and
 * the process RSS — to tell live tensors from allocator growth. Needs `npm run build` first.
 *
 *   node scripts/profile-memory.mjs gan|unet [size=128] [steps=2]
 * Same cases as bench/run.ts (DCGAN batch 16, 64 filters at 128 px; U-Net depth 4, 16 filters).
 */
import { hookKernels, initEngine, load, tf, trainingStep } from './profile-common.mjs';

const { nativeKernels } = await load('src/core/kernels/nativeModule.js');
const [which = 'gan', sizeArg = '128', stepsArg = '2'] = process.argv.slice(2);
const [size, steps] = [Number(sizeArg), Number(stepsArg)];
await initEngine({ backend: 'wasm', log: () => {} });

const MB = 2 ** 20;
let peakBytes = 0;
let peakAt = '';
hookKernels((name) => {
  const bytes = tf.memory().numBytes;
  if (bytes > peakBytes) [peakBytes, peakAt] = [bytes, name];
});

const step = await trainingStep(which, size);
for (let i = 0; i < steps; i++) {
  peakBytes = 0;
  await step();
  const wasmHeap = tf.backend().wasm?.HEAPU8?.length ?? 0;
  const nativeBytes = nativeKernels()?.bytes ?? 0;
  console.log(`${which}-${size} step ${i + 1}: live tensors after ${(tf.memory().numBytes / MB).toFixed(0)} MB, ` +
    `peak during ${(peakBytes / MB).toFixed(0)} MB (after ${peakAt}); wasm backend heap ${(wasmHeap / MB).toFixed(0)} MB; ` +
    `native module ${(nativeBytes / MB).toFixed(0)} MB; RSS ${(process.memoryUsage().rss / MB).toFixed(0)} MB`);
}
