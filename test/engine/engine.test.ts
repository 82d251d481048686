/** Backend choice: auto, explicit, MEDSYN_BACKEND, idempotence, the log line, no TF.js banner. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { engineInfo, initEngine, tf } from '../../src/core/engine.js';
import { threadCount } from '../../src/core/kernels/nativeThreads.js';
import { relaxedSimdAvailable } from '../../src/core/kernels/nativeModule.js';

delete process.env.MEDSYN_BACKEND;

test('engineInfo throws before initEngine', () => {
  assert.throws(() => engineInfo(), /initEngine/);
});

test('auto picks wasm when @tensorflow/tfjs-node is absent and logs one line', async () => {
  const lines: string[] = [];
  const info = await initEngine({ log: (line) => lines.push(line) });
  assert.equal(info.backend, 'wasm');
  assert.equal(tf.getBackend(), 'wasm');
  assert.equal(info.tfjsVersion, tf.version_core);
  assert.equal(typeof info.wasmSimd, 'boolean');
  assert.ok((info.wasmThreads ?? 0) >= 1);
  assert.equal(info.reason, 'auto: @tensorflow/tfjs-node not installed');
  assert.deepEqual(lines, [
    `engine: wasm (TF.js ${tf.version_core}, SIMD ${info.wasmSimd ? 'on' : 'off'}${
      (info.wasmThreads ?? 1) > 1 ? `, ${info.wasmThreads} threads` : ''}, native kernels${
      info.nativeRelaxedSimd ? ' (relaxed SIMD)' : ''} on ${threadCount()} thread${
      threadCount() > 1 ? 's' : ''}) — auto: @tensorflow/tfjs-node not installed`,
  ]);
  assert.equal(info.nativeThreads, threadCount());
  assert.equal(info.nativeRelaxedSimd, relaxedSimdAvailable());
  assert.equal(engineInfo(), info);
});

test('initEngine is idempotent: same info, nothing logged', async () => {
  const lines: string[] = [];
  const first = engineInfo();
  assert.equal(await initEngine({ log: (line) => lines.push(line) }), first);
  assert.equal(await initEngine({ backend: 'wasm', log: (line) => lines.push(line) }), first);
  assert.deepEqual(lines, []);
});

test('custom kernels and gradients are registered', () => {
  assert.ok(tf.getKernel(tf.Conv2DBackpropFilter, 'wasm'));
  assert.ok(tf.getKernel(tf.UnsortedSegmentSum, 'wasm'));
  for (const name of [tf.Greater, tf.EluGrad, tf.AvgPoolGrad, tf.ResizeBilinearGrad, tf.DepthToSpace]) {
    assert.ok(tf.getGradient(name), name);
  }
});

test('an explicit backend is honoured and engineInfo reports it', async () => {
  const lines: string[] = [];
  const info = await initEngine({ backend: 'cpu', log: (line) => lines.push(line) });
  assert.equal(info.backend, 'cpu');
  assert.equal(tf.getBackend(), 'cpu');
  assert.equal(engineInfo().backend, 'cpu');
  assert.equal(info.reason, 'requested via options');
  assert.deepEqual(lines, [`engine: cpu (TF.js ${tf.version_core}) — requested via options`]);
  assert.equal((await initEngine({ log: () => {} })).backend, 'cpu', "'auto' keeps the current engine");
});

test('MEDSYN_BACKEND overrides auto and is validated', async () => {
  try {
    process.env.MEDSYN_BACKEND = 'wasm';
    const info = await initEngine({ log: () => {} });
    assert.equal(info.backend, 'wasm');
    assert.equal(info.reason, 'requested via MEDSYN_BACKEND=wasm');
    process.env.MEDSYN_BACKEND = 'gpu';
    await assert.rejects(initEngine({ log: () => {} }), /MEDSYN_BACKEND=gpu: expected one of auto, tensorflow, wasm, cpu/);
    assert.equal((await initEngine({ backend: 'cpu', log: () => {} })).backend, 'cpu', 'options win over the variable');
  } finally {
    delete process.env.MEDSYN_BACKEND;
  }
});

test("'tensorflow' without @tensorflow/tfjs-node fails clearly and keeps the current engine", async () => {
  const before = engineInfo();
  await assert.rejects(initEngine({ backend: 'tensorflow', log: () => {} }), /needs @tensorflow\/tfjs-node/);
  await assert.rejects(initEngine({ backend: 'gpu' as 'cpu', log: () => {} }), /backend 'gpu': expected one of/);
  assert.equal(engineInfo(), before);
  assert.equal(tf.getBackend(), before.backend);
});

test('a fresh process prints the engine line and no TF.js "Hi, looks like…" banner', () => {
  const engineUrl = new URL('../../src/core/engine.js', import.meta.url).href;
  const script = `
    const { tf, initEngine } = await import(${JSON.stringify(engineUrl)});
    tf.tensor([1, 2]).square().dataSync(); // before initEngine: lands on the cpu backend
    await initEngine({ backend: 'cpu' });
    tf.tensor([3]).dataSync();
    await initEngine({ backend: 'wasm' });
    tf.tensor([4]).dataSync();`;
  const env = { ...process.env };
  delete env.MEDSYN_BACKEND;
  const child = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', env });
  assert.equal(child.status, 0, child.stderr);
  assert.equal(child.stdout, '');
  assert.deepEqual(child.stderr.trim().split('\n').map((l) => l.replace(/ \(.*\)/, '')), [
    'engine: cpu — requested via options',
    'engine: wasm — requested via options',
  ]);
});
