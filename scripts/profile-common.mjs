/**
 * Shared by the profile-*.mjs scripts: the compiled modules (needs `npm run build` first), a per-kernel hook on
 * every registered wasm kernel, and the training steps of bench/run.ts' cases (DCGAN batch 16 with 32 filters
 * at 64 px, 64 at 128 px; U-Net depth 4, 16 filters, batch norm, batch 16).
 */
const dist = new URL('../dist/', import.meta.url);
export const load = (path) => import(new URL(path, dist).href);
export const { initEngine, tf } = await load('src/core/engine.js');

/**
 * Wraps every registered wasm kernel: `after(kernelName, args, ms)` runs after each outermost call (kernels that
 * call kernels are not counted twice). Call after initEngine().
 */
export function hookKernels(after) {
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
        if (depth === 0) after(k.kernelName, args, performance.now() - t0);
      }
    };
  }
}

/** One training step of the bench case `which` ('gan' | 'unet') at `size` px, as an async function. */
export async function trainingStep(which, size) {
  const { Rng } = await load('src/core/rng.js');
  const fakeSplit = (count, classes) => {
    const rng = new Rng(1);
    const images = Float32Array.from({ length: count * size * size }, () => rng.uniform(-1, 1));
    const labels = Uint8Array.from({ length: count * size * size }, () => rng.int(0, classes - 1));
    return { name: 'train', count, height: size, width: size, channels: 1, images, labels, info: [] };
  };
  if (which === 'gan') {
    const { resolveGanConfig } = await load('src/gan/config.js');
    const { Trainer } = await load('src/training/trainer.js');
    const filters = size >= 128 ? 64 : 32;
    const gan = resolveGanConfig('dcgan', { batchSize: 16, 'g.filters': filters, 'd.filters': filters });
    const trainer = new Trainer(gan, fakeSplit(32, 4), { height: size, width: size, imageChannels: 1, numClasses: 4 }, 0);
    return () => trainer.trainStep();
  }
  const { createUNet } = await load('src/models/unet.js');
  const { Adam } = await load('src/core/adam.js');
  const { segmentationStep } = await load('src/segmentation/train.js');
  const net = createUNet({ inChannels: 1, numClasses: 4, depth: 4, filters: 16, norm: 'batch', seed: 0 });
  const opt = new Adam(net.params, { learningRate: 1e-3 });
  const data = fakeSplit(16, 4);
  return () => segmentationStep(net, opt, data.images, data.labels, [16, size, size, 1], 4, {});
}
