/**
 * Native inference graphs (nativeGraph.ts) against the same network as TF.js ops on the cpu backend: convs on
 * every native path (im2col GEMM incl. a 1-channel input and a strided conv, Winograd F(2×2)/F(4×4) 3×3, 1-D
 * 1×7 / 7×1, 5×5), 3×3 max / average pools (stride 1 'same' with padding excluded from the average, stride 2
 * 'valid'), concats written in place (channel slices, odd channel offsets), the pixel mean; several batch sizes on
 * one graph (a plan each). Also the arena planner (buffers share bytes), the module's resident blocks, and the
 * errors for graphs that cannot be built.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { initEngine, tf } from '../../src/core/engine.js';
import { type ConvWeights, type GraphTensor, NativeGraph } from '../../src/core/kernels/nativeGraph.js';
import { nativeKernels } from '../../src/core/kernels/nativeModule.js';
import { onBackend, randomValues, relError } from './helpers.js';

await initEngine({ backend: 'wasm', log: () => {} });
const nk = nativeKernels();

interface Conv { readonly k: [number, number]; readonly ci: number; readonly co: number; readonly stride: number; readonly pad: 'same' | 'valid'; readonly relu: boolean; readonly seed: number }

function weights(c: Conv): ConvWeights {
  const [kh, kw] = c.k;
  const scale = Math.sqrt(3 / (kh * kw * c.ci));
  const filter = randomValues(kh * kw * c.ci * c.co, c.seed).map((v) => v * scale);
  return { filter, shape: [kh, kw, c.ci, c.co], bias: randomValues(c.co, c.seed + 1000).map((v) => 0.1 * v), relu: c.relu, stride: c.stride, pad: c.pad };
}

/** The ops both implementations provide. */
interface Ops<T> {
  conv(x: T, c: Conv): T;
  pool(x: T, mode: 'max' | 'avg', stride: number, pad: 'same' | 'valid'): T;
  concat(parts: T[]): T;
  mean(x: T): T;
}

/**
 * A small Inception-like network over [N, 67, 63, 1]: a 3×3 stride-2 conv on 1 channel (GEMM), Winograd 3×3
 * (4×4 tiles at batch 3, 2×2 at batch 1), a block of four branches (1×1; 1×7 → 7×1; 5×5; avg pool → 1×1) concatenated, a
 * max-pool branch with odd channel offsets, and the pixel mean.
 */
function network<T>(ops: Ops<T>, x: T): { features: T; mean: T } {
  const stem = ops.conv(x, { k: [3, 3], ci: 1, co: 24, stride: 2, pad: 'valid', relu: true, seed: 1 }); // 33×31
  const wide = ops.conv(stem, { k: [3, 3], ci: 24, co: 20, stride: 1, pad: 'same', relu: true, seed: 2 });
  const a = ops.conv(wide, { k: [1, 1], ci: 20, co: 17, stride: 1, pad: 'same', relu: true, seed: 3 });
  const b = ops.conv(ops.conv(wide, { k: [1, 7], ci: 20, co: 18, stride: 1, pad: 'same', relu: true, seed: 4 }),
    { k: [7, 1], ci: 18, co: 19, stride: 1, pad: 'same', relu: false, seed: 5 });
  const c = ops.conv(wide, { k: [5, 5], ci: 20, co: 16, stride: 1, pad: 'same', relu: true, seed: 6 });
  const d = ops.conv(ops.pool(wide, 'avg', 1, 'same'), { k: [1, 1], ci: 20, co: 5, stride: 1, pad: 'same', relu: true, seed: 7 });
  const block = ops.concat([a, b, c, d]); // 57 channels
  const down = ops.concat([
    ops.conv(block, { k: [3, 3], ci: 57, co: 9, stride: 2, pad: 'valid', relu: true, seed: 8 }),
    ops.pool(block, 'max', 2, 'valid'),
  ]); // 66 channels, 16×15
  const features = ops.concat([ops.pool(down, 'max', 1, 'same'), ops.conv(down, { k: [3, 3], ci: 66, co: 16, stride: 1, pad: 'same', relu: true, seed: 9 })]);
  return { features, mean: ops.mean(features) };
}

const tfOps: Ops<tf.Tensor4D> = {
  conv: (x, c) => {
    const w = weights(c);
    return tf.fused.conv2d({ x, filter: tf.tensor4d(w.filter, [...w.shape]), strides: c.stride, pad: c.pad, bias: tf.tensor1d(w.bias!), activation: c.relu ? 'relu' : 'linear' });
  },
  pool: (x, mode, stride, pad) => {
    if (mode === 'max') return tf.maxPool(x, 3, stride, pad);
    const ones = tf.ones([1, x.shape[1], x.shape[2], 1]) as tf.Tensor4D;
    return tf.div(tf.avgPool(x, 3, stride, pad), tf.avgPool(ones, 3, stride, pad)) as tf.Tensor4D;
  },
  concat: (parts) => tf.concat(parts, 3),
  mean: (x) => tf.mean(x, [1, 2], true) as tf.Tensor4D,
};

function graphOps(graph: NativeGraph): Ops<GraphTensor> {
  return {
    conv: (x, c) => graph.conv(x, weights(c)),
    pool: (x, mode, stride, pad) => graph.pool(x, { mode, size: 3, stride, pad }),
    concat: (parts) => graph.concat(parts),
    mean: (x) => graph.mean(x),
  };
}

test('a native graph matches the same network as TF.js ops on the cpu backend, at several batch sizes', { skip: !nk }, async () => {
  const graph = new NativeGraph(nk!);
  const residentBefore = nk!.residentBytes;
  try {
    const out = network(graphOps(graph), graph.input(67, 63, 1));
    graph.output(out.features);
    graph.output(out.mean);
    assert.deepEqual([out.features.h, out.features.w, out.features.c], [16, 15, 82]);
    assert.ok(nk!.residentBytes > residentBefore, 'weights resident');
    const at3 = graph.describe(3);
    for (const how of ['conv 3×3 1→24 gemm @67×63', 'conv 3×3 24→20 winograd F(4×4) @33×31', 'conv 1×7 20→18 winograd F(4) @33×31',
      'conv 7×1 18→19 winograd F(4) @33×31', 'conv 5×5 20→16 winograd F(2×2) @33×31', 'conv 1×1 20→5 gemm @33×31',
      'conv 3×3 57→9 gemm @33×31', 'pool avg 3×3 /1 @33×31×20', 'pool max 3×3 /2 @33×31×57', 'pool avg 16×15 /1 @16×15×82']) {
      assert.ok(at3.includes(how), `batch 3 runs ${how} (plan: ${at3.join('; ')})`);
    }
    const at1 = graph.describe(1);
    assert.ok(at1.includes('conv 3×3 24→20 winograd F(2×2) @33×31'), `batch 1: too few 4×4 tiles (plan: ${at1.join('; ')})`);
    for (const [n, seed] of [[3, 41], [1, 42], [3, 43]] as const) {
      const x = randomValues(n * 67 * 63, seed);
      const [features, mean] = graph.run(x, n);
      const expected = await onBackend('cpu', () => tf.tidy(() => {
        const r = network(tfOps, tf.tensor4d(x, [n, 67, 63, 1]));
        return [r.features.dataSync(), r.mean.dataSync()];
      }));
      assert.equal(features!.length, expected[0]!.length);
      assert.ok(relError(features!, expected[0]!) < 1e-5, `batch ${n}: features rel error ${relError(features!, expected[0]!)}`);
      assert.ok(relError(mean!, expected[1]!) < 1e-5, `batch ${n}: mean rel error ${relError(mean!, expected[1]!)}`);
    }
  } finally {
    graph.dispose();
  }
  assert.equal(nk!.residentBytes, residentBefore, 'dispose frees the resident weights and transformed filters');
  assert.throws(() => graph.run(new Float32Array(67 * 63), 1), /after dispose/);
});

test('the arena planner lets buffers whose lifetimes do not overlap share bytes', { skip: !nk }, () => {
  const graph = new NativeGraph(nk!);
  try {
    // a chain of eight 1×1 convs over 32 channels: only two activations are ever live at once
    let y = graph.input(16, 16, 32);
    for (let i = 0; i < 8; i++) y = graph.conv(y, weights({ k: [1, 1], ci: 32, co: 32, stride: 1, pad: 'same', relu: true, seed: 50 + i }));
    graph.output(y);
    const x = randomValues(2 * 16 * 16 * 32, 60);
    const before = nk!.bytes;
    const [out] = graph.run(x, 2);
    assert.ok(out!.some((v) => v > 0));
    const layout = (graph as unknown as { layout(n: number): { arenaFloats: number } }).layout(2);
    assert.equal(layout.arenaFloats, 2 * (2 * 16 * 16 * 32), 'two activations, not nine');
    assert.ok(nk!.bytes >= before);
  } finally {
    graph.dispose();
  }
});

test('graphs that cannot be built say why', { skip: !nk }, () => {
  const graph = new NativeGraph(nk!);
  try {
    const x = graph.input(8, 8, 4);
    const c = { k: [1, 1] as [number, number], ci: 4, co: 4, stride: 1, pad: 'same' as const, relu: true, seed: 70 };
    assert.throws(() => graph.conv(x, weights({ ...c, ci: 5 })), /conv over 4 channels with a filter for 5/);
    const a = graph.conv(x, weights(c));
    const b = graph.conv(x, weights(c));
    graph.conv(b, weights(c)); // b is read: it cannot become a concat part
    assert.throws(() => graph.concat([a, b]), /fresh conv or pool output/);
    assert.throws(() => graph.concat([x, a]), /fresh conv or pool output/);
    const both = graph.concat([a, graph.pool(x, { mode: 'max', size: 3, stride: 1, pad: 'same' })]);
    assert.throws(() => graph.concat([both, graph.conv(x, weights(c))]), /fresh conv or pool output/, 'a concat is not a part');
    const d = graph.conv(x, weights(c));
    assert.throws(() => graph.concat([d, d]), /fresh conv or pool output/, 'a part twice');
    assert.throws(() => graph.conv(a, weights(c)), /concat part cannot be read/);
    assert.throws(() => graph.output(a), /concat part cannot be an output/);
    assert.throws(() => graph.pool(x, { mode: 'max', size: 9, stride: 1, pad: 'valid' }), /does not fit/);
    assert.throws(() => graph.run(new Float32Array(10), 1), /input of 10 floats/);
  } finally {
    graph.dispose();
  }
});

test('resident blocks survive resets, fill gaps first fit, and the bump area drops when they are released', { skip: !nk }, () => {
  const base = nk!.residentBytes;
  const a = nk!.reserve(1000);
  const b = nk!.reserve(10);
  nk!.f32(b, 10).set(randomValues(10, 80));
  const saved = nk!.f32(b, 10).slice();
  nk!.reset();
  const scratch = nk!.alloc(100);
  assert.ok(scratch >= b + 40, 'the bump area lies above the resident blocks');
  nk!.f32(scratch, 100).fill(7);
  assert.deepEqual(nk!.f32(b, 10).slice(), saved, 'a reset and allocations leave resident blocks alone');
  nk!.release(a);
  const c = nk!.reserve(500); // fits the gap a left
  assert.equal(c, a);
  nk!.release(b);
  nk!.release(c);
  assert.equal(nk!.residentBytes, base);
  assert.throws(() => nk!.release(c), /no resident block/);
  nk!.reset();
  assert.ok(nk!.alloc(4) <= a, 'with nothing resident above, the bump area starts where the blocks were');
});
