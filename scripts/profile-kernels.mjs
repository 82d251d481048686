#!/usr/bin/env node
/**
 * Where a training step's time goes, per wasm kernel: wraps every registered wasm kernel with a
 * timer (outermost calls only: kernels that call kernels are not double counted) and prints the
 * per-step totals of the timed steps after two warm-up steps. Needs `npm run build` first.
 *
 *   node scripts/profile-kernels.mjs gan|unet [size=64] [steps=3] [rows=40]
 *   SHAPES=1 …   one row per kernel and input shapes (Conv, MatMul, Sum, Mean) instead of per kernel;
 *   SHAPES=<regexp> … the same for the kernels whose names match (e.g. SHAPES='Conv|Multiply')
 *   MEDSYN_NATIVE_KERNELS=0 / MEDSYN_THREADS=1 …   the XNNPACK kernels / one native thread
 * Same cases as bench/run.ts: DCGAN batch 16 with 32 filters at 64 px (64 at 128 px); U-Net depth 4, 16 filters.
 */
import os from 'node:os';
import { hookKernels, initEngine, trainingStep } from './profile-common.mjs';

const [which = 'gan', sizeArg = '64', stepsArg = '3', rowsArg = '40'] = process.argv.slice(2);
const [size, steps, rows] = [Number(sizeArg), Number(stepsArg), Number(rowsArg)];
await initEngine({ backend: 'wasm', log: () => {} });

const shapes = process.env.SHAPES ? new RegExp(process.env.SHAPES === '1' ? 'Conv|MatMul|Sum|Mean' : process.env.SHAPES) : null;
const stats = new Map();
hookKernels((name, args, ms) => {
  let key = name;
  if (shapes?.test(key)) {
    key += ` ${Object.values(args.inputs).map((t) => t?.shape?.join('x')).join(' ')}`;
    if (args.attrs?.strides !== undefined) key += ` s${args.attrs.strides}`;
    if (args.attrs?.axis !== undefined) key += ` axis ${args.attrs.axis}`;
  }
  const s = stats.get(key) ?? { n: 0, ms: 0 };
  s.n++;
  s.ms += ms;
  stats.set(key, s);
});

const step = await trainingStep(which, size);
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
  `kernels ${(total / steps).toFixed(0)} ms/step; load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}`);
for (const [key, s] of [...stats.entries()].sort((a, b) => b[1].ms - a[1].ms).slice(0, rows)) {
  console.log(`${(s.ms / steps).toFixed(1).padStart(9)} ms ${String(s.n / steps).padStart(5)}×  ${key}`);
}
