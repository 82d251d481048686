import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Rng } from '../../src/core/rng.js';
import {
  diversity, gaussianWindow, meanPairwiseMsssim, msssim, msssimDetailed, msssimScales, msssimWeights, MSSSIM_WEIGHTS, downsample2,
} from '../../src/metrics/domain/diversity.js';
import { HERE } from './helpers.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
const VECTORS: any = JSON.parse(fs.readFileSync(path.join(HERE, 'msssim_vectors.json'), 'utf8'));

/** make_msssim_vectors.py lcg_noise. */
function lcgNoise(seed: number, n: number): Float64Array {
  let x = seed >>> 0;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    x = (Math.imul(1664525, x) + 1013904223) >>> 0;
    out[i] = (x / 4294967296) * 2 - 1;
  }
  return out;
}

/** make_msssim_vectors.py make_pair (float32 images, channels-last). */
function makePair(h: number, w: number, c: number, seedA: number, seedB: number, mix: number): [Float32Array, Float32Array] {
  const n = h * w * c;
  const na = lcgNoise(seedA, n);
  const nb = lcgNoise(seedB, n);
  const a = new Float32Array(n);
  const b = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const ch = i % c;
    const x = Math.floor(i / c) % w;
    const y = Math.floor(i / (c * w));
    const grad = ((x * 3 + y * 5 + ch * 7) % 17) / 8 - 1;
    a[i] = 0.5 * grad + 0.5 * na[i]!;
    b[i] = mix * a[i]! + (1 - mix) * nb[i]!;
  }
  return [a, b];
}

test('MS-SSIM and per-scale SSIM/cs match the numpy/scipy reference to 1e-6', () => {
  assert.ok(VECTORS.cases.length >= 6);
  for (const cs of VECTORS.cases) {
    const [a, b] = makePair(cs.h, cs.w, cs.c, cs.seed_a, cs.seed_b, cs.mix);
    assert.deepEqual(Array.from(a.subarray(0, 4)), cs.firstValues, 'the images are rebuilt bit-exactly');
    const d = msssimDetailed(a, b, cs.h, cs.w, cs.c);
    const what = `${cs.h}×${cs.w}×${cs.c} mix ${cs.mix}`;
    assert.equal(d.scales, cs.scales, what);
    assert.ok(Math.abs(d.value - cs.msssim) < 1e-6, `${what}: ${d.value} vs ${cs.msssim}`);
    cs.perChannel.forEach((ref: { cs: number[]; ssim: number[]; value: number }, ch: number) => {
      const mine = d.perChannel[ch]!;
      ref.cs.forEach((v, s) => assert.ok(Math.abs(mine.cs[s]! - v) < 1e-6, `${what} ch ${ch} cs[${s}]`));
      ref.ssim.forEach((v, s) => assert.ok(Math.abs(mine.ssim[s]! - v) < 1e-6, `${what} ch ${ch} ssim[${s}]`));
      assert.ok(Math.abs(mine.value - ref.value) < 1e-6);
    });
  }
});

test('MS-SSIM(x, x) = 1, symmetric, scales rule and weights', () => {
  const [a, b] = makePair(64, 48, 3, 21, 22, 0.5);
  assert.ok(Math.abs(msssim(a, a, 64, 48, 3) - 1) < 1e-12);
  assert.ok(Math.abs(msssim(a, b, 64, 48, 3) - msssim(b, a, 64, 48, 3)) < 1e-12);
  assert.deepEqual([10, 11, 21, 22, 32, 64, 128, 160, 161, 256].map((s) => msssimScales(s, s)), [0, 1, 2, 2, 2, 3, 4, 4, 5, 5]);
  assert.deepEqual(msssimWeights(5), [...MSSSIM_WEIGHTS].map((w) => w / MSSSIM_WEIGHTS.reduce((x, y) => x + y)));
  assert.ok(Math.abs(msssimWeights(3).reduce((x, y) => x + y) - 1) < 1e-15);
  assert.throws(() => msssim(new Float32Array(100), new Float32Array(100), 10, 10, 1), /smaller/);
  const g = gaussianWindow();
  assert.equal(g.length, 11);
  assert.ok(Math.abs(g.reduce((x, y) => x + y) - 1) < 1e-15);
  const d = downsample2(Float64Array.from([1, 2, 3, 4, 5, 6]), 2, 3);
  assert.deepEqual([d.h, d.w, ...d.data], [1, 2, 3, 4.5]);
});

test('pairwise MS-SSIM: a collapsed generator raises the alarm, a diverse one does not', () => {
  const H = 32, W = 32, D = H * W;
  const rng = new Rng(3);
  const real = new Float32Array(40 * D);
  for (let i = 0; i < real.length; i++) real[i] = rng.uniform(-1, 1);
  const proto = real.slice(0, D);
  const collapsed = new Float32Array(40 * D);
  for (let i = 0; i < 40; i++) for (let k = 0; k < D; k++) collapsed[i * D + k] = proto[k]! + rng.normal(0, 0.05);
  const set = (images: Float32Array) => ({ count: images.length / D, height: H, width: W, channels: 1, images });
  const r1 = meanPairwiseMsssim(set(real), 30, 9);
  const r2 = meanPairwiseMsssim(set(real), 30, 9);
  assert.deepEqual(r1, r2, 'seeded');
  const bad = diversity(set(collapsed), set(real), { pairs: 30, seed: 9 });
  assert.ok(bad.generated.mean > 0.9, `collapsed ${bad.generated.mean}`);
  assert.ok(bad.real.mean < 0.2, `real ${bad.real.mean}`);
  assert.equal(bad.modeCollapseAlarm, true);
  assert.equal(bad.scales, 2);
  const good = diversity(set(real.slice().reverse()), set(real), { pairs: 30, seed: 9 });
  assert.equal(good.modeCollapseAlarm, false);
  assert.ok(Number.isNaN(meanPairwiseMsssim(set(proto), 5, 0).mean));
});
