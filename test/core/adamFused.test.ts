/** The fused Adam kernel (MedsynAdamUpdate) against Adam's composite of tf ops, on the cpu and wasm backends. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Adam, type AdamOptions } from '../../src/core/adam.js';
import { ADAM_UPDATE } from '../../src/core/kernels/adamUpdate.js';
import { heapSimd } from '../../src/core/kernels/heapSimd.js';
import type { BackendWasm } from '../../src/core/kernels/wasmOps.js';
import { onBackend, randomValues } from '../engine/helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });

const shapes: number[][] = [[1], [7], [3, 4], [3, 3, 2, 5], [2, 5, 5, 16], []];
const settings: AdamOptions[] = [
  { learningRate: 1e-3 },
  { learningRate: 2e-4, beta1: 0.5, beta2: 0.999 },
  { learningRate: 0.1, beta1: 0, beta2: 0.9, epsilon: 1e-3 },
];

interface Run { p: Float32Array[]; m: Float32Array[]; v: Float32Array[] }

/** `steps` updates of parameters of `shapes` from seeded values and gradients (some zero, some large). */
function run(opts: AdamOptions, steps: number, tag: string): Run {
  const params = new Map(shapes.map((s, i) => [`w${i}`,
    tf.variable(tf.tensor(randomValues(tf.util.sizeFromShape(s), 10 + i), s), true, `adam-fused-${tag}-${i}`)]));
  const adam = new Adam(params, opts);
  for (let t = 0; t < steps; t++) {
    const grads: tf.NamedTensorMap = {};
    [...params.values()].forEach((p, i) => {
      const values = randomValues(p.size, 1000 * t + i);
      const scale = [1, 1e-4, 30][(t + i) % 3]!;
      grads[p.name] = tf.tensor(values.map((x, j) => (j % 5 === 3 ? 0 : x * scale)), p.shape);
    });
    const before = tf.memory().numTensors;
    adam.applyGradients(grads);
    assert.equal(tf.memory().numTensors, before, 'an update creates no tensors');
    tf.dispose(grads);
  }
  const read = (ts: tf.Tensor[]) => ts.map((x) => x.dataSync() as Float32Array);
  const moments = [...adam.moments().values()];
  const out = { p: read([...params.values()]), m: read(moments.map((s) => s.m)), v: read(moments.map((s) => s.v)) };
  adam.dispose();
  tf.dispose([...params.values()]);
  return out;
}

for (const backend of ['cpu', 'wasm'] as const) {
  test(`fused Adam equals the composite bit for bit on ${backend} (several steps, shapes, hyper-parameters)`, async () => {
    await onBackend(backend, () => {
      assert.ok(tf.getKernel(ADAM_UPDATE, backend), 'the fused kernel is registered');
      if (backend === 'wasm') assert.ok(heapSimd(tf.backend() as BackendWasm), 'the SIMD loop runs (not only the JS tail)');
      for (const opts of settings) {
        const fused = run({ ...opts, fused: true }, 6, 'f');
        const composite = run({ ...opts, fused: false }, 6, 'c');
        for (const k of ['p', 'm', 'v'] as const) {
          fused[k].forEach((a, i) => assert.deepEqual(a, composite[k][i], `${k} of shape [${shapes[i]}], ${JSON.stringify(opts)}`));
        }
      }
    });
  });
}

test('fused Adam gives the same values on wasm and cpu', async () => {
  const wasm = await onBackend('wasm', () => run(settings[0]!, 4, 'w'));
  const cpu = await onBackend('cpu', () => run(settings[0]!, 4, 'c'));
  assert.deepEqual(wasm, cpu);
});

test('fused Adam leaves live tensors and backend buffers unchanged and keeps the step count', async () => {
  await onBackend('wasm', () => {
    const p = tf.variable(tf.tensor2d([[1, 2], [3, 4]]), true, 'adam-fused-count');
    const adam = new Adam(new Map([['w', p]]), { learningRate: 0.1 });
    const counts = () => ({ tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() });
    const g = tf.tensor2d([[1, -1], [0.5, 0]]);
    adam.applyGradients({ [p.name]: g }); // first step: variables' initial buffers are replaced
    const before = counts();
    adam.applyGradients({ [p.name]: g });
    assert.deepEqual(counts(), before);
    assert.equal(adam.step, 2);
    g.dispose();
    adam.dispose();
    p.dispose();
  });
});
