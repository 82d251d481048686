#!/usr/bin/env node
/**
 * Where FID Inception-v3 feature extraction spends its time over `images` 299-px gray images with random weights
 * (the case of `npm run bench`'s inception). On the native engine (the wasm default): per graph op as
 * NativeGraph.describe() names it (conv kind, kernel, channels, Winograd variant or GEMM, input size); with
 * ENGINE=tfjs: per TF.js kernel (and per input shape with SHAPES=1). Needs `npm run build` first.
 *   node scripts/profile-inception.mjs [images=4] [rows=30]
 */
import { hookKernels, initEngine, load, tf } from './profile-common.mjs';

const { randomInception } = await load('bench/cases.js');
const { extractInceptionFeatures, INCEPTION_SIZE } = await load('src/metrics/inception.js');
const { graphTuning } = await load('src/core/kernels/nativeGraph.js');
const [imagesArg = '4', rowsArg = '30'] = process.argv.slice(2);
const [batch, rows] = [Number(imagesArg), Number(rowsArg)];
await initEngine({ backend: 'wasm', log: () => {} });
const stats = new Map();
const count = (key, ms) => {
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += ms;
  stats.set(key, s);
};
const net = randomInception(process.env.ENGINE === 'tfjs' ? 'tfjs' : 'auto');
console.log(`engine: ${net.resolvedEngine}`);
if (net.resolvedEngine === 'native') graphTuning.onStep = count;
else {
  hookKernels((name, args, ms) => {
    const key = process.env.SHAPES ? `${name} ${Object.values(args.inputs).map((t) => t?.shape?.join('x')).join(' ')}` : name;
    count(key, ms);
  });
}
const images = tf.randomUniform([batch, INCEPTION_SIZE, INCEPTION_SIZE, 1], -1, 1, 'float32', 5);
await extractInceptionFeatures(net, images, { batchSize: batch });
stats.clear();
const t0 = performance.now();
await extractInceptionFeatures(net, images, { batchSize: batch });
const wall = performance.now() - t0;
const total = [...stats.values()].reduce((s, v) => s + v.ms, 0);
console.log(`inception ${batch} images: ${wall.toFixed(0)} ms (${(1000 * batch / wall).toFixed(2)} img/s); ops ${total.toFixed(0)} ms`);
for (const [key, s] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, rows)) {
  console.log(`${s.ms.toFixed(1).padStart(9)} ms ${String(s.n).padStart(5)}×  ${key}`);
}
