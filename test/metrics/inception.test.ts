/**
 * FID Inception-v3: the .pth reader, the network against PyTorch (vectors from make_inception_vectors.py,
 * deterministic hash weights regenerated here), preprocessing, weights table and error messages.
 * Runs on the wasm backend (the production default without tfjs-node).
 */
import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { initEngine, tf } from '../../src/core/engine.js';
import { encodeSafetensors, type NamedTensor } from '../../src/core/safetensors.js';
import {
  avgPool3x3ExcludePad, cleanResize, extractInceptionFeatures, FidInception, inceptionParameterShapes, inceptionUnits,
  loadFidInception, MIXED_BLOCKS, preprocessForInception,
} from '../../src/metrics/inception.js';
import { loadTorchStateDict } from '../../src/metrics/torch-pickle.js';
import { FID_INCEPTION_WEIGHTS, weightsReport, weightsStatus } from '../../src/metrics/weights.js';
import { fixture, type Json } from './helpers.js';

// ------------------------------------------------------------------------------------------- deterministic weights
// Same recipe as make_inception_vectors.py: u = lowbias32(i + fnv1a32(name)) / 2^32 · 2 − 1, exact in both languages.
function fnv1a32(s: string): number {
  let h = 0x811c9dc5;
  for (const b of Buffer.from(s, 'utf8')) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
function hashUniform(name: string, n: number): Float64Array {
  const base = fnv1a32(name);
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let x = (i + base) >>> 0;
    x ^= x >>> 16;
    x = Math.imul(x, 0x7feb352d) >>> 0;
    x ^= x >>> 15;
    x = Math.imul(x, 0x846ca68b) >>> 0;
    x ^= x >>> 16;
    out[i] = Math.fround((x >>> 0) / 4294967296 * 2 - 1);
  }
  return out;
}
function detValue(name: string, shape: number[]): Float32Array {
  const n = shape.reduce((a, b) => a * b, 1);
  const u = hashUniform(name, n);
  let f: (v: number) => number;
  if (name.endsWith('conv.weight')) {
    const s = Math.sqrt(6 / (shape[1] * shape[2] * shape[3]));
    f = (v) => v * s;
  } else if (name.endsWith('bn.weight')) f = (v) => 1 + 0.2 * v;
  else if (name.endsWith('bn.bias') || name.endsWith('bn.running_mean')) f = (v) => 0.2 * v;
  else if (name.endsWith('bn.running_var')) f = (v) => 1 + 0.25 * (v + 1);
  else if (name === 'fc.weight') { const s = Math.sqrt(3 / 2048); f = (v) => v * s; }
  else f = (v) => 0.1 * v;
  return Float32Array.from(u, f);
}
function detWeights(): Record<string, NamedTensor> {
  const out: Record<string, NamedTensor> = {};
  for (const { name, shape } of inceptionParameterShapes()) out[name] = { dtype: 'F32', shape, data: detValue(name, shape) };
  return out;
}
/** make_inception_vectors.py det_image: u8/255 values, NHWC; returned as medsyn [−1, 1]. */
function detImage(name: string, shape: [number, number, number, number]): tf.Tensor4D {
  const u = hashUniform(name, shape.reduce((a, b) => a * b, 1));
  const x = Float32Array.from(u, (v) => 2 * Math.fround(Math.min(Math.floor((v + 1) * 128), 255) / 255) - 1);
  return tf.tensor4d(x, shape);
}

const VEC: Json = JSON.parse(fs.readFileSync(fixture('inception_vectors.json'), 'utf8'));
let net: FidInception;
let tmp: string;

before(async () => {
  await initEngine({ backend: 'wasm', log: () => undefined });
  net = new FidInception(detWeights(), { source: 'deterministic test weights' });
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-inception-'));
});
after(() => {
  net?.dispose();
  if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
});

/** max |a − b| / (max |b| over the set) */
function assertClose(actual: ArrayLike<number>, expected: ArrayLike<number>, tol: number, what: string): number {
  assert.equal(actual.length, expected.length, `${what}: length`);
  let scale = 0;
  for (let i = 0; i < expected.length; i++) scale = Math.max(scale, Math.abs(expected[i]));
  let worst = 0;
  for (let i = 0; i < expected.length; i++) worst = Math.max(worst, Math.abs(actual[i] - expected[i]));
  assert.ok(worst <= tol * Math.max(scale, 1e-30), `${what}: max abs diff ${worst} > ${tol} × ${scale}`);
  return worst / scale;
}

// -------------------------------------------------------------------------------------------------------- .pth
test('torch-pickle: zip, deflated zip and legacy .pth written by torch.save', () => {
  const exp: Json = JSON.parse(fs.readFileSync(fixture('torch_small.json'), 'utf8'));
  for (const [file, format] of [['torch_small_zip.pth', 'zip'], ['torch_small_deflated.pth', 'zip'], ['torch_small_legacy.pth', 'legacy']] as const) {
    const sd = loadTorchStateDict(fixture(file));
    assert.equal(sd.format, format, file);
    assert.deepEqual(Object.keys(sd.tensors), Object.keys(exp), `${file}: keys in order`);
    for (const [k, e] of Object.entries(exp) as Array<[string, Json]>) {
      const t = sd.tensors[k];
      assert.deepEqual([...t.shape], e.shape, `${file} ${k} shape`);
      const vals = Array.from(t.data as ArrayLike<number | bigint>, Number);
      if (e.dtype === 'float64') assert.deepEqual(vals, e.values, `${file} ${k}`);
      else if (e.dtype === 'int64') {
        assert.ok(t.data instanceof BigInt64Array);
        assert.deepEqual(vals, e.values, `${file} ${k}`);
      } else {
        assert.ok(t.data instanceof Float32Array, `${file} ${k} float32`);
        assert.deepEqual(vals, e.values.map(Math.fround), `${file} ${k}`);
      }
    }
  }
});

test('torch-pickle: clear errors naming the file', () => {
  const bad = path.join(tmp, 'not-a-checkpoint.pth');
  fs.writeFileSync(bad, 'hello');
  assert.throws(() => loadTorchStateDict(bad), (e: Error) => e.message.includes(bad) && /not a PyTorch checkpoint/.test(e.message));
  const trunc = path.join(tmp, 'truncated.pth');
  fs.writeFileSync(trunc, fs.readFileSync(fixture('torch_small_legacy.pth')).subarray(0, 900));
  assert.throws(() => loadTorchStateDict(trunc), (e: Error) => e.message.includes(trunc));
  assert.throws(() => loadTorchStateDict(path.join(tmp, 'nope.pth')), (e: Error) => e.message.includes('nope.pth'));
});

// ----------------------------------------------------------------------------------------------- architecture
test('state-dict names and shapes: 94 conv+BN units, 472 float tensors, 23,885,392 values (spec §1.2, tsv)', () => {
  const units = inceptionUnits();
  assert.equal(units.length, 94);
  const shapes = inceptionParameterShapes();
  assert.equal(shapes.length, 94 * 5 + 2);
  assert.equal(shapes.reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0), 23_885_392);
  const convW = shapes.filter((s) => s.name.endsWith('conv.weight')).reduce((a, s) => a + s.shape.reduce((x, y) => x * y, 1), 0);
  assert.equal(convW, 21_751_136);
  // cross-check with the reference tsv when the shared folder is there (not required)
  const tsv = '/work/shared/reference/inception-fid-state-dict.tsv';
  if (fs.existsSync(tsv)) {
    const rows = fs.readFileSync(tsv, 'utf8').trim().split('\n').slice(1).map((l) => l.split('\t'))
      .filter((r) => !r[0].endsWith('num_batches_tracked'));
    assert.deepEqual(rows.map((r) => r[0]), shapes.map((s) => s.name));
    assert.deepEqual(rows.map((r) => JSON.parse(r[1])), shapes.map((s) => s.shape));
  }
});

test('pools: 3×3 average excluding padding and max pool match spec §7.7 on this backend', () => {
  const x = tf.tensor4d([1, 2, 3, 4, 5, 6, 7, 8, 9], [1, 3, 3, 1]);
  assert.deepEqual(Array.from(avgPool3x3ExcludePad(x).dataSync()), [3, 3.5, 4, 4.5, 5, 5.5, 6, 6.5, 7]);
  assert.deepEqual(Array.from(tf.maxPool(x, 3, 1, 'same').dataSync()), [5, 6, 6, 8, 9, 9, 8, 9, 9]);
  x.dispose();
});

// ---------------------------------------------------------------------------------------------- vs PyTorch
test('mixed blocks A, B, C, D, E_1, E_2 match PyTorch (FIDInceptionA/C/E_1/E_2, InceptionB/D)', () => {
  const seen = new Set<string>();
  const worst: string[] = [];
  for (const [name, v] of Object.entries(VEC.blocks) as Array<[string, Json]>) {
    const [n, h, w, c] = v.input_nhwc as [number, number, number, number];
    const u = hashUniform(`input:${name}`, n * h * w * c);
    const x = tf.tensor4d(Float32Array.from(u, (t) => Math.fround((t + 1) * 0.5)), [n, h, w, c]);
    const y = net.block(name, x);
    assert.deepEqual(y.shape, v.shape_nhwc, `${name} shape`);
    const out = y.dataSync();
    const C = y.shape[3];
    const sums = new Float64Array(C);
    for (let i = 0; i < out.length; i++) sums[i % C] += out[i];
    const samples = v.samples.map((_: number, j: number) => out[j * v.sample_every]);
    const r1 = assertClose(samples, v.samples, 1e-5, `${name} (${v.kind}) samples`);
    const r2 = assertClose(sums, v.channel_sums, 1e-5, `${name} (${v.kind}) channel sums (concat order)`);
    worst.push(`${v.kind} ${r1.toExponential(1)}/${r2.toExponential(1)}`);
    seen.add(v.kind);
    x.dispose();
    y.dispose();
  }
  assert.deepEqual([...seen].sort(), ['A', 'B', 'C', 'D', 'E_1', 'E_2']);
  assert.equal(MIXED_BLOCKS.length, 11);
  console.log(`# block max rel diff vs PyTorch (samples/channel sums): ${worst.join(', ')}`);
});

test('unfolded batch norm (tf.batchNorm) gives the same block output as the folded default', () => {
  const unfolded = new FidInception(detWeights(), { foldBatchNorm: false });
  try {
    const v = VEC.blocks.Mixed_7b;
    const [n, h, w, c] = v.input_nhwc as [number, number, number, number];
    const u = hashUniform('input:Mixed_7b', n * h * w * c);
    const x = tf.tensor4d(Float32Array.from(u, (t) => Math.fround((t + 1) * 0.5)), [n, h, w, c]);
    const a = net.block('Mixed_7b', x);
    const b = unfolded.block('Mixed_7b', x);
    assertClose(b.dataSync(), a.dataSync(), 1e-5, 'unfolded vs folded');
    const out = b.dataSync();
    assertClose(v.samples.map((_: number, j: number) => out[j * v.sample_every]), v.samples, 1e-5, 'unfolded vs PyTorch');
    for (const t of [x, a, b]) t.dispose();
  } finally {
    unfolded.dispose();
  }
});

test('end to end at 299 px: pytorch-fid preprocessing + network match PyTorch pool3 and logits', async () => {
  const e = VEC.end_to_end;
  const img = detImage('image', e.image_nhwc);
  const t0 = performance.now();
  const f = await extractInceptionFeatures(net, img, { logits: true });
  const ms = performance.now() - t0;
  assert.equal(f.pool3.rows, 1);
  assert.equal(f.pool3.cols, 2048);
  const rel = assertClose(f.pool3.data, e.pool3, 1e-5, 'pool3');
  assertClose(f.logits!.data, e.logits, 1e-5, 'logits');
  // 1-channel input is replicated to RGB
  const g = VEC.end_to_end_gray;
  const gray = detImage('gray', g.image_nhwc);
  const fg = await extractInceptionFeatures(net, gray);
  assertClose(fg.pool3.data, g.pool3, 1e-5, 'pool3 (gray 80×80)');
  // clean-fid preprocessing (Pillow bicubic in PyTorch's script) on the same image
  const fc = await extractInceptionFeatures(net, img, { mode: 'clean-fid' });
  const relClean = assertClose(fc.pool3.data, VEC.end_to_end_clean.pool3, 1e-5, 'pool3 (clean-fid preprocessing)');
  img.dispose();
  gray.dispose();
  console.log(`# pool3 max rel diff vs PyTorch: pytorch-fid ${rel.toExponential(2)}, clean-fid ${relClean.toExponential(2)}; one 299-px image in ${ms.toFixed(0)} ms (wasm, incl. first-call setup)`);
});

test("engines: the native graph (the wasm default) and TF.js ops agree; both match PyTorch's pool3", async (t) => {
  if (net.resolvedEngine !== 'native') {
    t.skip('native module not loaded');
    return;
  }
  const ops = new FidInception(detWeights(), { source: 'deterministic test weights', engine: 'tfjs' });
  try {
    assert.equal(ops.resolvedEngine, 'tfjs');
    const e = VEC.end_to_end;
    const img = detImage('image', e.image_nhwc);
    const viaOps = await extractInceptionFeatures(ops, img);
    assertClose(viaOps.pool3.data, e.pool3, 1e-5, 'pool3 (TF.js ops)');
    // gray and RGB inputs, two images per batch, at the smallest legal size
    for (const c of [1, 3]) {
      const imgs = tf.randomUniform([2, 75, 80, c], -1, 1, 'float32', 20 + c) as tf.Tensor4D;
      const a = await extractInceptionFeatures(net, imgs, { logits: true });
      const b = await extractInceptionFeatures(ops, imgs, { logits: true });
      assertClose(a.pool3.data, b.pool3.data, 1e-5, `pool3, native vs TF.js ops, ${c} channel(s)`);
      assertClose(a.logits!.data, b.logits!.data, 1e-5, `logits, native vs TF.js ops, ${c} channel(s)`);
      imgs.dispose();
    }
    img.dispose();
  } finally {
    ops.dispose();
  }
  // forward() on more images than one native run takes (32): run in groups, same features as batches of 11
  const many = tf.randomUniform([33, 75, 75, 1], -1, 1, 'float32', 30) as tf.Tensor4D;
  const whole = net.forward(many);
  const grouped = [0, 11, 22].map((start) => {
    const part = tf.slice(many, [start, 0, 0, 0], [11, -1, -1, -1]);
    const f = net.forward(part);
    const data = f.pool3.dataSync();
    f.pool3.dispose();
    part.dispose();
    return [...data];
  }).flat();
  assertClose(whole.pool3.dataSync(), grouped, 1e-5, 'pool3 of 33 images in one forward vs three of 11');
  whole.pool3.dispose();
  many.dispose();
  assert.throws(() => new FidInception(detWeights(), { engine: 'native', foldBatchNorm: false }), /needs foldBatchNorm/);
});

// ------------------------------------------------------------------------------------------- loading / hashing
test('random-weights safetensors with the tsv names: loads, [N, 2048], batch-size independent; hash policy', async () => {
  // random weights for every tensor of the state dict (spec §6.2: CI without the real file)
  const rnd: Record<string, NamedTensor> = {};
  let seed = 12345;
  const rand = (): number => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed / 4294967296 - 0.5; };
  for (const { name, shape } of inceptionParameterShapes()) {
    const n = shape.reduce((a, b) => a * b, 1);
    const d = new Float32Array(n);
    const conv = name.endsWith('conv.weight') || name === 'fc.weight';
    const s = conv ? Math.sqrt(24 / shape.slice(1).reduce((a, b) => a * b, 1)) : 0.2;
    for (let i = 0; i < n; i++) d[i] = (name.endsWith('running_var') || name.endsWith('bn.weight') ? 1 : 0) + s * rand();
    rnd[name] = { dtype: 'F32', shape, data: d };
  }
  rnd['Conv2d_1a_3x3.bn.num_batches_tracked'] = { dtype: 'I64', shape: [], data: new BigInt64Array([0n]) };
  const file = path.join(tmp, 'random-inception.safetensors');
  fs.writeFileSync(file, encodeSafetensors(rnd));
  assert.throws(() => loadFidInception(file), (e: Error) => e.message.includes(file) && e.message.includes(FID_INCEPTION_WEIGHTS.sha256));
  const loaded = loadFidInception(file, { allowUnverified: true });
  assert.equal(loaded.verification, 'unverified');
  assert.equal(loaded.format, 'safetensors');
  assert.match(loaded.sha256, /^[0-9a-f]{64}$/);
  // batch-size independence at the smallest legal size (75 px), 3 images
  const imgs = tf.randomUniform([3, 75, 75, 1], -1, 1, 'float32', 7) as tf.Tensor4D;
  const a = await extractInceptionFeatures(loaded.net, imgs, { batchSize: 3 });
  const b = await extractInceptionFeatures(loaded.net, imgs, { batchSize: 1 });
  assert.equal(a.pool3.rows, 3);
  assert.equal(a.pool3.cols, 2048);
  assertClose(b.pool3.data, a.pool3.data, 1e-6, 'batch 1 vs batch 3');
  assert.ok(a.pool3.data.some((v) => v > 0));
  imgs.dispose();
  loaded.net.dispose();
  // wrong names → error naming the file and the problem
  delete rnd['Mixed_6b.branch7x7dbl_3.conv.weight'];
  const broken = path.join(tmp, 'broken.safetensors');
  fs.writeFileSync(broken, encodeSafetensors(rnd));
  assert.throws(() => loadFidInception(broken, { allowUnverified: true }),
    (e: Error) => e.message.includes(broken) && e.message.includes('Mixed_6b.branch7x7dbl_3.conv.weight'));
});

test('a missing weights file: the error names the path, the URL and the expected sha256', () => {
  const missing = path.join(tmp, 'weights', FID_INCEPTION_WEIGHTS.file);
  assert.throws(() => loadFidInception(missing), (e: Error) =>
    e.message.includes(missing) && e.message.includes(FID_INCEPTION_WEIGHTS.url) && e.message.includes(FID_INCEPTION_WEIGHTS.sha256));
});

test('weightsStatus / weightsReport: missing and hash-mismatch; nothing downloaded', () => {
  const dir = path.join(tmp, 'wdir');
  fs.mkdirSync(dir);
  let s = weightsStatus(dir);
  assert.equal(s.length, 1);
  assert.equal(s[0].state, 'missing');
  let lines = weightsReport(dir).join('\n');
  assert.ok(lines.includes(FID_INCEPTION_WEIGHTS.url) && lines.includes(FID_INCEPTION_WEIGHTS.sha256) && lines.includes(dir));
  fs.writeFileSync(path.join(dir, FID_INCEPTION_WEIGHTS.file), 'not the weights');
  s = weightsStatus(dir);
  assert.equal(s[0].state, 'hash-mismatch');
  assert.match(s[0].sha256!, /^[0-9a-f]{64}$/);
  lines = weightsReport(dir).join('\n');
  assert.ok(lines.includes('hash-mismatch'));
  assert.deepEqual(fs.readdirSync(dir), [FID_INCEPTION_WEIGHTS.file]);
});

// ------------------------------------------------------------------------------------------------- preprocessing
test('clean-fid resize = Pillow 9.4 bicubic (spec §7.6 vectors); pytorch-fid resize is half-pixel bilinear', () => {
  // down 8×8 → 3×3: ch0 = arange(64)·4, ch1 = ch0ᵀ, ch2 = 255 − ch0
  const src = new Float32Array(8 * 8 * 3);
  for (let y = 0; y < 8; y++) for (let x = 0; x < 8; x++) {
    src[(y * 8 + x) * 3] = (y * 8 + x) * 4;
    src[(y * 8 + x) * 3 + 1] = (x * 8 + y) * 4;
    src[(y * 8 + x) * 3 + 2] = 255 - (y * 8 + x) * 4;
  }
  const r = cleanResize(src, 1, 8, 8, 3, 3);
  const expected = [
    32.272743225097656, 32.272743225097656, 222.72726440429688, 42.68688201904297, 115.58586120605469, 212.31312561035156,
    53.10102081298828, 198.89898681640625, 201.89898681640625, 115.58586120605469, 42.68688201904297, 139.4141387939453,
    126.0, 126.0, 129.0, 136.4141387939453, 209.31312561035156, 118.58586120605469,
    198.89898681640625, 53.10102081298828, 56.10102081298828, 209.31312561035156, 136.4141387939453, 45.68688201904297,
    219.72726440429688, 219.72726440429688, 35.272743225097656,
  ];
  assert.deepEqual(Array.from(r), expected);
  // cifar-like 32 → 299 (channel sums and samples from Pillow)
  const c = new Float32Array(32 * 32 * 3);
  for (let y = 0; y < 32; y++) for (let x = 0; x < 32; x++) {
    const ch0 = (x * 7 + y * 13) % 256;
    c[(y * 32 + x) * 3] = ch0;
    c[(y * 32 + x) * 3 + 1] = 255 - ch0;
    c[(y * 32 + x) * 3 + 2] = (x * y) % 256;
  }
  const big = cleanResize(c, 1, 32, 32, 3);
  const sums = [0, 0, 0];
  for (let i = 0; i < big.length; i++) sums[i % 3] += big[i];
  assertClose(sums, [11554382.821461692, 11242872.173828246, 9030788.851498771], 1e-12, 'cifar-like sums');
  const at = (y: number, x: number, k: number): number => big[(y * 299 + x) * 3 + k];
  assert.equal(at(150, 150, 0), 56.14046859741211);
  assert.equal(at(298, 298, 2), 200.4970245361328);
  assert.equal(at(10, 200, 1), 101.07650756835938);
  assert.equal(at(123, 45, 2), 55.5694694519043);
  // preprocessing ranges: clean-fid maps +1 → (255 − 128)/128; pytorch-fid keeps [−1, 1]
  const ones = tf.ones([1, 4, 4, 1]) as tf.Tensor4D;
  const pc = preprocessForInception(ones, 'clean-fid');
  assert.deepEqual(pc.shape, [1, 299, 299, 3]);
  assert.ok(Array.from(pc.dataSync()).every((v) => v === 0.9921875));
  const pp = preprocessForInception(ones, 'pytorch-fid');
  assert.ok(Array.from(pp.dataSync()).every((v) => Math.abs(v - 1) < 1e-6));
  // pytorch-fid bilinear = F.interpolate(align_corners=False): 4×4 (0..150 step 10) → 3×3 (spec §7.6)
  const ramp = tf.tensor4d(Array.from({ length: 16 }, (_, i) => i * 10), [1, 4, 4, 1]);
  const rb = tf.image.resizeBilinear(ramp, [3, 3], false, true).dataSync();
  assertClose(rb, [8.333333, 21.666667, 35, 61.666667, 75, 88.333333, 115, 128.333333, 141.666667], 1e-6, 'half-pixel bilinear');
  for (const t of [ones, pc, pp, ramp]) t.dispose();
});
