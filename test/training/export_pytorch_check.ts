/**
 * Exports what test/training/pytorch_load_check.py compares against: for a few generator configurations, a tiny
 * medsyn run (trained a few steps so batch-norm statistics and spectral-norm vectors are not at their initial
 * values), plus latents and the EMA generator's outputs for them. Not part of `npm test`.
 *
 *   npx tsc -p tsconfig.json
 *   node dist/test/training/export_pytorch_check.js /tmp/medsyn-pt      # writes /tmp/medsyn-pt/<case>/
 *   /usr/bin/python3 test/training/pytorch_load_check.py /tmp/medsyn-pt
 *
 * Each case folder holds the run (run.json, checkpoint-latest.safetensors) and check.safetensors with
 * `latents` [N, Z] and `outputs` [N, H, W, C] (medsyn's channels-last samples).
 */
import fs from 'node:fs';
import path from 'node:path';
import { tf, initEngine } from '../../src/core/engine.js';
import { saveSafetensors, tensor } from '../../src/core/safetensors.js';
import { resolveGanConfig } from '../../src/gan/config.js';
import { trainGan } from '../../src/training/train.js';
import { latentsForSeeds } from '../../src/training/batches.js';
import { loadRunGenerator } from '../../src/sampling/generate.js';
import { shapesDataset } from './fixtures.js';

const CASES: Record<string, Record<string, unknown>> = {
  // DCGAN defaults: batch norm, ReLU, N(0, 0.02), transposed convs without bias.
  'batchnorm-relu': {},
  // Instance norm, spectral norm (weight_orig / weight_u / weight_v), ELU, Xavier init.
  'instancenorm-spectral-elu': { 'g.norm': 'instance', 'g.spectralNorm': true, 'g.activation': 'elu', 'init.kind': 'xavier', 'init.gain': 1 },
  // No normalisation (biases everywhere), leaky ReLU.
  'nonorm-leaky': { 'g.norm': 'none', 'g.activation': 'leaky-relu', 'init.kind': 'kaiming', 'init.gain': 1 },
};

if (!process.argv[2]) {
  console.error('usage: node dist/test/training/export_pytorch_check.js OUT_DIR   (then: /usr/bin/python3 test/training/pytorch_load_check.py OUT_DIR)');
  process.exit(2);
}
const outRoot = path.resolve(process.argv[2]);
await initEngine({ backend: 'cpu' });
const data = shapesDataset({ size: 32, count: 16 });
for (const [name, overrides] of Object.entries(CASES)) {
  const dir = path.join(outRoot, name);
  fs.rmSync(dir, { recursive: true, force: true });
  const gan = resolveGanConfig('dcgan', { batchSize: 4, latentDim: 8, 'g.filters': 4, 'd.filters': 4, emaHalfLifeKimg: 0.01, ...overrides });
  await trainGan({ data, gan, kimg: 0.012, outDir: dir, seed: 7, quiet: true, statsEverySteps: 1 });
  const { generator } = loadRunGenerator(dir);
  const seeds = [0, 1, 2, 3, 4];
  const latents = latentsForSeeds(seeds, generator.latentDim);
  const outputs = tf.tidy(() => generator.apply(tf.tensor2d(latents, [seeds.length, generator.latentDim]), { training: false }));
  saveSafetensors(path.join(dir, 'check.safetensors'), {
    latents: tensor(latents, [seeds.length, generator.latentDim]),
    outputs: tensor(Float32Array.from(outputs.dataSync()), outputs.shape),
  });
  outputs.dispose();
  generator.dispose();
  console.log(`${name}: ${dir}`);
}
