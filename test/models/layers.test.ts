import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import {
  ACTIVATIONS, BATCH_NORM_MOMENTUM, INITIALIZERS, NORM_EPS, ParamCollector, applyNorm, createConv2d, createConvTranspose2d, createDense,
  createNorm, createSpectralNormWeight, initWeight, spectralSigma, weightMatrix, applyConv2d, applyConvTranspose2d, applyDense,
} from '../../src/models/layers/index.js';

await initEngine({ backend: 'cpu', log: () => {} });

function std(values: Float32Array): { mean: number; std: number } {
  let s = 0;
  for (const v of values) s += v;
  const mean = s / values.length;
  let q = 0;
  for (const v of values) q += (v - mean) ** 2;
  return { mean, std: Math.sqrt(q / values.length) };
}

function close(actual: number, expected: number, rtol: number, what: string): void {
  assert.ok(Math.abs(actual - expected) <= rtol * Math.abs(expected), `${what}: ${actual} vs ${expected}`);
}

test('initialisers follow the PyTorch formulas times the gain', () => {
  const count = 200_000;
  const fans = { fanIn: 3 * 4 * 4, fanOut: 8 * 4 * 4 };
  for (const gain of [0.02, 1]) {
    close(std(initWeight({ kind: 'normal', gain }, count, fans, new Rng(1))).std, gain, 0.02, `normal gain ${gain}`);
    close(std(initWeight({ kind: 'xavier', gain }, count, fans, new Rng(2))).std, gain * Math.sqrt(2 / (48 + 128)), 0.02, 'xavier');
    const bound = gain * Math.sqrt(6 / (48 + 128));
    const uniform = initWeight({ kind: 'xavier-uniform', gain }, count, fans, new Rng(3));
    assert.ok(uniform.every((v) => Math.abs(v) <= bound * (1 + 1e-6)));
    close(std(uniform).std, bound / Math.sqrt(3), 0.02, 'xavier-uniform');
    close(std(initWeight({ kind: 'kaiming', gain }, count, fans, new Rng(4))).std, gain * Math.sqrt(2) / Math.sqrt(48), 0.02, 'kaiming relu');
    close(std(initWeight({ kind: 'kaiming', gain }, count, fans, new Rng(4), 0.2)).std, gain * Math.sqrt(2 / 1.04) / Math.sqrt(48), 0.02, 'kaiming leaky');
  }
  assert.deepEqual(Object.keys(INITIALIZERS).sort(), ['kaiming', 'normal', 'xavier', 'xavier-uniform']);
  // Same seed, same values.
  assert.deepEqual(initWeight({ kind: 'normal', gain: 0.02 }, 10, fans, new Rng(7)), initWeight({ kind: 'normal', gain: 0.02 }, 10, fans, new Rng(7)));
});

test('activation table values', () => {
  const x = tf.tensor1d([-1, 0.5]);
  const values = (k: keyof typeof ACTIVATIONS): number[] => Array.from(ACTIVATIONS[k].apply(x).dataSync());
  assert.deepEqual(values('relu'), [0, 0.5]);
  close(values('leaky-relu')[0]!, -0.2, 1e-6, 'leaky');
  close(values('elu')[0]!, Math.expm1(-1), 1e-6, 'elu');
  close(values('selu')[0]!, 1.0507009873554805 * 1.6732632423543772 * Math.expm1(-1), 1e-5, 'selu');
  close(values('selu')[1]!, 1.0507009873554805 * 0.5, 1e-6, 'selu+');
  assert.equal(ACTIVATIONS['leaky-relu'].negativeSlope, 0.2);
  x.dispose();
});

/** Largest singular value of a row-major [rows, cols] matrix: cyclic Jacobi on A·Aᵀ in float64 (independent of TF.js). */
function largestSingularValue(a: Float64Array, rows: number, cols: number): number {
  const m = Array.from({ length: rows }, (_, i) => Array.from({ length: rows }, (_, j) => {
    let s = 0;
    for (let k = 0; k < cols; k++) s += a[i * cols + k]! * a[j * cols + k]!;
    return s;
  }));
  for (let sweep = 0; sweep < 100; sweep++) {
    let off = 0;
    for (let p = 0; p < rows; p++) for (let q = p + 1; q < rows; q++) off += m[p]![q]! ** 2;
    if (off < 1e-24) break;
    for (let p = 0; p < rows; p++) {
      for (let q = p + 1; q < rows; q++) {
        if (Math.abs(m[p]![q]!) < 1e-300) continue;
        const theta = (m[q]![q]! - m[p]![p]!) / (2 * m[p]![q]!);
        const t = Math.sign(theta || 1) / (Math.abs(theta) + Math.sqrt(theta * theta + 1));
        const c = 1 / Math.sqrt(t * t + 1);
        const s = t * c;
        for (let k = 0; k < rows; k++) { // rotate columns p, q
          const mkp = m[k]![p]!;
          const mkq = m[k]![q]!;
          m[k]![p] = c * mkp - s * mkq;
          m[k]![q] = s * mkp + c * mkq;
        }
        for (let k = 0; k < rows; k++) { // rotate rows p, q
          const mpk = m[p]![k]!;
          const mqk = m[q]![k]!;
          m[p]![k] = c * mpk - s * mqk;
          m[q]![k] = s * mpk + c * mqk;
        }
      }
    }
  }
  return Math.sqrt(Math.max(...m.map((row, i) => row[i]!)));
}

test('weightMatrix reshapes like PyTorch: rows are output channels, columns (in, kh, kw)', () => {
  const [kh, kw, cin, cout] = [2, 3, 4, 5];
  const values = Float32Array.from({ length: kh * kw * cin * cout }, (_, i) => i);
  const w = tf.tensor4d(values, [kh, kw, cin, cout]); // TF.js conv layout
  const mat = weightMatrix(w, 'conv');
  assert.deepEqual(mat.shape, [cout, cin * kh * kw]);
  const m = mat.dataSync();
  for (const [y, x, i, o] of [[0, 0, 0, 0], [1, 2, 3, 4], [1, 0, 2, 3], [0, 2, 1, 1]] as const) {
    assert.equal(m[o * cin * kh * kw + (i * kh + y) * kw + x], values[((y * kw + x) * cin + i) * cout + o]);
  }
  const wt = tf.tensor4d(values, [kh, kw, cout, cin]); // TF.js transposed-conv layout [kh, kw, out, in]
  const mt = weightMatrix(wt, 'conv-transpose').dataSync();
  // PyTorch ConvTranspose2d weight [in, out, kh, kw] with dim=1 → [out, in, kh, kw] flattened.
  assert.equal(mt[3 * cin * kh * kw + (2 * kh + 1) * kw + 2], values[((1 * kw + 2) * cout + 3) * cin + 2]);
  tf.dispose([w, mat, wt]);
});

test('spectral norm: one step equals PyTorch\'s update, and σ converges to the largest singular value', () => {
  const [kh, kw, cin, cout] = [3, 3, 2, 5];
  const rng = new Rng(11);
  const values = Float32Array.from({ length: kh * kw * cin * cout }, () => rng.normal());
  const collector = new ParamCollector();
  const sn = createSpectralNormWeight(collector, 'conv', values, [kh, kw, cin, cout], 'conv', rng);
  assert.deepEqual([...collector.params.keys()], ['conv.weight_orig']);
  assert.deepEqual([...collector.buffers.keys()], ['conv.weight_u', 'conv.weight_v']);
  assert.deepEqual(sn.u.shape, [cout]);
  assert.deepEqual(sn.v.shape, [cin * kh * kw]);

  // Reference, float64: v = normalize(Wᵀu), u = normalize(W v), σ = uᵀ W v.
  const mat = Float64Array.from(weightMatrix(sn.weight, 'conv').dataSync());
  const cols = cin * kh * kw;
  const u0 = Array.from(sn.u.dataSync());
  let v = Array.from({ length: cols }, (_, j) => u0.reduce((s, ui, i) => s + mat[i * cols + j]! * ui, 0));
  const nv = Math.hypot(...v);
  v = v.map((x) => x / nv);
  let u = Array.from({ length: cout }, (_, i) => v.reduce((s, vj, j) => s + mat[i * cols + j]! * vj, 0));
  const nu = Math.hypot(...u);
  u = u.map((x) => x / nu);
  const sigma1 = u.reduce((s, ui, i) => s + ui * v.reduce((t, vj, j) => t + mat[i * cols + j]! * vj, 0), 0);
  const first = tf.tidy(() => spectralSigma(sn, true).dataSync()[0]!);
  close(first, sigma1, 1e-5, 'first step σ');

  // Eval mode leaves u, v alone.
  const uBefore = Array.from(sn.u.dataSync());
  tf.tidy(() => spectralSigma(sn, false));
  assert.deepEqual(Array.from(sn.u.dataSync()), uBefore);

  const before = tf.memory().numTensors;
  let sigma = 0;
  for (let i = 0; i < 300; i++) sigma = tf.tidy(() => spectralSigma(sn, true).dataSync()[0]!);
  assert.equal(tf.memory().numTensors, before, 'power iteration leaks no tensors');
  close(sigma, largestSingularValue(mat, cout, cols), 1e-4, 'σ vs Jacobi SVD');
  collector.dispose();
});

test('spectrally normalised layers have unit spectral norm after convergence; gradient does not flow into u, v', () => {
  const rng = new Rng(5);
  const collector = new ParamCollector();
  const conv = createConvTranspose2d(collector, 'up', { inChannels: 3, outChannels: 4, kernelSize: 4, stride: 2 },
    { init: { kind: 'normal', gain: 0.5 }, spectralNorm: true, bias: false }, rng);
  const dense = createDense(collector, 'fc', { inFeatures: 6, outFeatures: 2 }, { init: { kind: 'xavier', gain: 1 }, spectralNorm: true, bias: true }, rng);
  assert.deepEqual([...collector.params.keys()], ['up.weight_orig', 'fc.weight_orig', 'fc.bias']);
  assert.equal(collector.buffers.get('up.weight_u')!.shape[0], 4, 'u has one entry per output channel (PyTorch dim=1 for ConvTranspose2d)');
  const x = tf.randomNormal([2, 3, 3, 3], 0, 1, 'float32', 1) as tf.Tensor4D;
  for (let i = 0; i < 200; i++) tf.tidy(() => { applyConvTranspose2d(conv, x, true); applyDense(dense, tf.ones([1, 6]), true); });
  for (const [layer, layout] of [[conv, 'conv-transpose'], [dense, 'dense']] as const) {
    const w = layer.weight.kind === 'spectral' ? layer.weight.sn : assert.fail('expected spectral');
    const normalized = tf.tidy(() => weightMatrix(tf.div(w.weight, spectralSigma(w, false)), layout));
    close(largestSingularValue(Float64Array.from(normalized.dataSync()), normalized.shape[0], normalized.shape[1]), 1, 1e-4, `‖W/σ‖₂ ${layout}`);
    normalized.dispose();
  }
  const y = tf.tidy(() => applyConvTranspose2d(conv, x, true));
  assert.deepEqual(y.shape, [2, 6, 6, 4]);
  // Gradients are defined w.r.t. weight_orig only (u, v are constants), and are finite.
  const { grads } = tf.variableGrads(() => tf.sum(applyConvTranspose2d(conv, x, true)) as tf.Scalar, [...collector.params.values()].slice(0, 1));
  assert.ok(Object.values(grads).every((g) => Array.from(g.dataSync()).every(Number.isFinite)));
  tf.dispose([x, y, grads]);
  collector.dispose();
});

test('conv2d k4 s2 halves, transposed conv k4 s2 doubles; bias only when asked', () => {
  const rng = new Rng(2);
  const c = new ParamCollector();
  const down = createConv2d(c, 'down', { inChannels: 2, outChannels: 3, kernelSize: 4, stride: 2 }, { init: { kind: 'normal', gain: 0.02 }, spectralNorm: false, bias: true }, rng);
  const up = createConvTranspose2d(c, 'up', { inChannels: 3, outChannels: 2, kernelSize: 4, stride: 2 }, { init: { kind: 'normal', gain: 0.02 }, spectralNorm: false, bias: false }, rng);
  assert.deepEqual([...c.params.keys()], ['down.weight', 'down.bias', 'up.weight']);
  assert.deepEqual(c.params.get('up.weight')!.shape, [4, 4, 2, 3], 'TF.js transposed-conv layout [kh, kw, out, in]');
  const x = tf.zeros([1, 8, 8, 2]) as tf.Tensor4D;
  const y = applyConv2d(down, x, false);
  assert.deepEqual(y.shape, [1, 4, 4, 3]);
  const z = applyConvTranspose2d(up, y, false);
  assert.deepEqual(z.shape, [1, 8, 8, 2]);
  tf.dispose([x, y, z]);
  c.dispose();
});

test('batch norm: batch statistics + PyTorch running-stat update in training, running stats in eval', () => {
  const c = new ParamCollector();
  const bn = createNorm(c, 'bn', 'batch', 2, new Rng(1));
  assert.deepEqual([...c.params.keys()], ['bn.weight', 'bn.bias']);
  assert.deepEqual([...c.buffers.keys()], ['bn.running_mean', 'bn.running_var']);
  if (bn.kind !== 'batch') throw new Error('unreachable');
  bn.gamma.assign(tf.ones([2]));
  // Channel 0: values 1..8; channel 1: constant 3.
  const x = tf.tensor4d(Array.from({ length: 8 }, (_, i) => [i + 1, 3]).flat(), [2, 2, 2, 2]);
  const y = applyNorm(bn, x, true);
  const yd = y.dataSync();
  const mean0 = 4.5;
  const var0 = 5.25; // biased variance of 1..8
  close(yd[0]!, (1 - mean0) / Math.sqrt(var0 + NORM_EPS), 1e-5, 'normalised');
  assert.ok(Math.abs(yd[1]!) < 1e-6);
  const m = BATCH_NORM_MOMENTUM;
  const runningMean = bn.runningMean.dataSync();
  const runningVar = bn.runningVar.dataSync();
  close(runningMean[0]!, m * mean0, 1e-6, 'running mean');
  close(runningMean[1]!, m * 3, 1e-6, 'running mean 1');
  close(runningVar[0]!, (1 - m) + m * (var0 * 8) / 7, 1e-6, 'running var uses the unbiased variance');
  close(runningVar[1]!, 1 - m, 1e-6, 'running var 1');
  const e = applyNorm(bn, x, false).dataSync();
  close(e[0]!, (1 - m * mean0) / Math.sqrt(runningVar[0]! + NORM_EPS), 1e-5, 'eval uses running stats');
  // Instance norm: per sample and channel.
  const inorm = createNorm(c, 'in', 'instance', 2, new Rng(1));
  if (inorm.kind !== 'instance') throw new Error('unreachable');
  inorm.gamma.assign(tf.ones([2]));
  const yi = applyNorm(inorm, x, true);
  const perSample = tf.moments(yi, [1, 2]).mean.dataSync();
  assert.ok(Array.from(perSample).every((v) => Math.abs(v) < 1e-5));
  close(yi.dataSync()[0]!, (1 - 2.5) / Math.sqrt(1.25 + NORM_EPS), 1e-5, 'instance norm sample 0 channel 0: 1..4');
  assert.equal(applyNorm(createNorm(c, 'none', 'none', 2, new Rng(1)), x, true), x);
  tf.dispose([x, y, yi]);
  c.dispose();
});
