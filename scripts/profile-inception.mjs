#!/usr/bin/env node
/**
 * Where FID Inception-v3 feature extraction spends its time, per wasm kernel (and per input shape
 * with SHAPES=1), over 2 images at 299 px with random weights (same case as `npm run bench`'s
 * inception). Needs `npm run build` first.   node scripts/profile-inception.mjs [images=2] [rows=30]
 */
import { hookKernels, initEngine, load, tf } from './profile-common.mjs';

const { randomInception } = await load('bench/cases.js');
const { extractInceptionFeatures, INCEPTION_SIZE } = await load('src/metrics/inception.js');
const [imagesArg = '2', rowsArg = '30'] = process.argv.slice(2);
const [batch, rows] = [Number(imagesArg), Number(rowsArg)];
await initEngine({ backend: 'wasm', log: () => {} });
const stats = new Map();
hookKernels((name, args, ms) => {
  const key = process.env.SHAPES ? `${name} ${Object.values(args.inputs).map((t) => t?.shape?.join('x')).join(' ')}` : name;
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += ms;
  stats.set(key, s);
});
const net = randomInception();
const images = tf.randomUniform([batch, INCEPTION_SIZE, INCEPTION_SIZE, 1], -1, 1, 'float32', 5);
await extractInceptionFeatures(net, images, { batchSize: batch });
stats.clear();
const t0 = performance.now();
await extractInceptionFeatures(net, images, { batchSize: batch });
const wall = performance.now() - t0;
const total = [...stats.values()].reduce((s, v) => s + v.ms, 0);
console.log(`inception ${batch} images: ${wall.toFixed(0)} ms (${(1000 * batch / wall).toFixed(2)} img/s); kernels ${total.toFixed(0)} ms`);
for (const [key, s] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, rows)) {
  console.log(`${s.ms.toFixed(1).padStart(9)} ms ${String(s.n).padStart(5)}×  ${key}`);
}
