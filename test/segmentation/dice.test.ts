import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import type { SliceInfo } from '../../src/data/prepared.js';
import { dice, evaluateSplit, hausdorffDistance, maskEdges, percentile } from '../../src/segmentation/dice.js';

const close = (a: number, b: number, tol = 1e-9) => assert.ok(Math.abs(a - b) <= tol, `${a} ≠ ${b}`);

test('dice: per class and mean against hand counts, background excluded by default', () => {
  const pred = [0, 1, 1, 0, 2, 2, 0, 0];
  const truth = [0, 1, 0, 0, 2, 0, 0, 1];
  const d = dice(pred, truth, 3);
  // class 1: |P∩T| = 1, |P| = 2, |T| = 2; class 2: |P∩T| = 1, |P| = 2, |T| = 1
  close(d.perClass[0]!, (2 * 1) / (2 + 2));
  close(d.perClass[1]!, (2 * 1) / (2 + 1));
  close(d.mean, (0.5 + 2 / 3) / 2);
  const withBg = dice(pred, truth, 3, { includeBackground: true, emptyMask: 'skip' });
  // class 0: P = {0,3,6,7}, T = {0,2,3,5,6}, ∩ = {0,3,6}
  close(withBg.perClass[0]!, (2 * 3) / (4 + 5));
  assert.equal(withBg.perClass.length, 3);
});

test('dice: empty-mask policies (skip vs one-if-both-empty)', () => {
  const truth = [0, 1, 1, 0];
  const predWithFalse2 = [0, 1, 1, 2];
  const predClean = [0, 1, 1, 0];
  // class 2 is absent from the truth
  assert.ok(Number.isNaN(dice(predWithFalse2, truth, 3, { includeBackground: false, emptyMask: 'skip' }).perClass[1]!));
  assert.equal(dice(predWithFalse2, truth, 3, { includeBackground: false, emptyMask: 'skip' }).mean, 1); // NaN skipped in the mean
  assert.equal(dice(predWithFalse2, truth, 3, { includeBackground: false, emptyMask: 'one-if-both-empty' }).perClass[1], 0);
  assert.equal(dice(predClean, truth, 3, { includeBackground: false, emptyMask: 'one-if-both-empty' }).perClass[1], 1);
  assert.equal(dice(predWithFalse2, truth, 3, { includeBackground: false, emptyMask: 'one-if-both-empty' }).mean, (1 + 0) / 2);
  // nothing scorable at all → NaN mean
  assert.ok(Number.isNaN(dice([0, 0], [0, 0], 2).mean));
});

test('percentile matches numpy linear interpolation', () => {
  close(percentile([4, 1, 3, 2], 95), 3 + 0.85 * (4 - 3)); // rank 0.95·3 = 2.85
  close(percentile([7], 95), 7);
  close(percentile([0, 10], 50), 5);
});

test('mask edges: a filled square keeps its ring, pixels on the grid border are edges', () => {
  const m = new Uint8Array(25);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) m[y * 5 + x] = 1;
  const e = maskEdges(m, [5, 5]);
  assert.equal(e.reduce((a, b) => a + b, 0), 8);
  assert.equal(e[2 * 5 + 2], 0);
  const full = maskEdges(new Uint8Array(9).fill(1), [3, 3]);
  assert.deepEqual([...full], [1, 1, 1, 1, 0, 1, 1, 1, 1]);
});

test('hausdorff: single pixels, spacing, shifted squares, identical masks', () => {
  const a = new Uint8Array(25);
  const b = new Uint8Array(25);
  a[0] = 1; // (0, 0)
  b[3 * 5 + 4] = 1; // (3, 4)
  close(hausdorffDistance(a, b, [5, 5]), 5);
  close(hausdorffDistance(a, b, [5, 5], { spacing: [2, 1] }), Math.sqrt((3 * 2) ** 2 + 4 ** 2));
  close(hausdorffDistance(a, a, [5, 5]), 0);

  // 3×3 squares, the second shifted one pixel right: boundary distances {0,0,0,0,1,1,1,1} each way → p95 = 1
  const p = new Uint8Array(49);
  const t = new Uint8Array(49);
  for (let y = 1; y <= 3; y++) for (let x = 1; x <= 3; x++) p[y * 7 + x] = 1;
  for (let y = 1; y <= 3; y++) for (let x = 2; x <= 4; x++) t[y * 7 + x] = 1;
  close(hausdorffDistance(p, t, [7, 7]), 1);
  // Plus a far outlier pixel in the prediction (9 boundary pixels, one at distance √(3² + 4²) from the truth ring).
  const p2 = p.slice();
  p2[6 * 7 + 6] = 1; // (6, 6); nearest truth edge pixel is (3, 4): √(9 + 4)
  // pred→truth distances sorted: 0,0,0,0,1,1,1,1,√13; rank 0.95·8 = 7.6 → 1 + 0.6·(√13 − 1)
  close(hausdorffDistance(p2, t, [7, 7]), 1 + 0.6 * (Math.sqrt(13) - 1), 1e-9);
  close(hausdorffDistance(p2, t, [7, 7], { percentile: 100 }), Math.sqrt(13), 1e-9);
});

test('hausdorff: empty masks (both → NaN, one → grid diagonal or NaN)', () => {
  const empty = new Uint8Array(20);
  const one = new Uint8Array(20);
  one[7] = 1;
  assert.ok(Number.isNaN(hausdorffDistance(empty, empty, [4, 5])));
  close(hausdorffDistance(one, empty, [4, 5]), Math.sqrt(3 ** 2 + 4 ** 2));
  close(hausdorffDistance(empty, one, [4, 5], { spacing: [2, 0.5] }), Math.sqrt(6 ** 2 + 2 ** 2));
  assert.ok(Number.isNaN(hausdorffDistance(empty, one, [4, 5], { hd95Empty: 'nan' })));
});

test('hausdorff: distance transform agrees with brute force on random 2D and 3D masks', () => {
  const rng = new Rng(3);
  for (const [shape, spacing] of [
    [[9, 11], [1.5, 0.7]],
    [[4, 6, 5], [2.5, 1, 0.8]],
  ] as const) {
    for (let trial = 0; trial < 10; trial++) {
      const size = shape.reduce((x: number, y: number) => x * y, 1);
      const p = Uint8Array.from({ length: size }, () => (rng.next() < 0.3 ? 1 : 0));
      const t = Uint8Array.from({ length: size }, () => (rng.next() < 0.3 ? 1 : 0));
      close(hausdorffDistance(p, t, shape, { spacing }), bruteHd(p, t, shape, spacing), 1e-9);
    }
  }
});

function bruteHd(p: Uint8Array, t: Uint8Array, shape: readonly number[], spacing: readonly number[]): number {
  const coords = (i: number) => {
    const c: number[] = [];
    for (let a = shape.length - 1; a >= 0; a--) {
      c.unshift((i % shape[a]!) * spacing[a]!);
      i = Math.floor(i / shape[a]!);
    }
    return c;
  };
  const ep = [...maskEdges(p, shape)].flatMap((v, i) => (v ? [coords(i)] : []));
  const et = [...maskEdges(t, shape)].flatMap((v, i) => (v ? [coords(i)] : []));
  const directed = (from: number[][], to: number[][]) =>
    percentile(from.map((a) => Math.min(...to.map((b) => Math.hypot(...a.map((x, k) => x - b[k]!))))), 95);
  return Math.max(directed(ep, et), directed(et, ep));
}

test('evaluateSplit: per-slice mean vs per-volume pooling, volumes (3D HD95 stacked at their slice positions)', () => {
  // Two 2×2 slices of one volume (slices 0 and 3), one slice of another volume.
  const info: SliceInfo[] = [
    { patient: 'p1', case: 'p1_ED', slice: 3, foreground: 2 },
    { patient: 'p1', case: 'p1_ED', slice: 0, foreground: 2 },
    { patient: 'p2', case: 'p2_ED', slice: 5, foreground: 1 },
  ];
  const truth = Uint8Array.from([1, 1, 0, 0, /**/ 1, 1, 0, 0, /**/ 0, 0, 0, 1]);
  const pred = Uint8Array.from([1, 1, 0, 0, /**/ 0, 0, 0, 0, /**/ 0, 0, 0, 1]);
  const dims = { count: 3, height: 2, width: 2, numClasses: 2 };
  const s = evaluateSplit(pred, truth, dims, info);
  // per slice: 1, 0, 1 → 2/3. Per volume: p1 pools 2·2/(2 + 4) = 2/3, p2 = 1 → 5/6.
  close(s.perSlice.dice_mean, 2 / 3);
  close(s.perVolume!.dice_mean, (2 / 3 + 1) / 2);
  assert.equal(s.perSlice.count, 3);
  assert.equal(s.perVolume!.count, 2);
  // HD95 per slice: 0, diagonal √2 (prediction empty), 0 → mean √2 / 3.
  close(s.perSlice.hd95_mean, Math.sqrt(2) / 3);
  // Per volume, by default the mean of its slices' HD95: p1 (0 + √2) / 2, p2 0.
  close(s.perVolume!.hd95_mean, (Math.sqrt(2) / 2 + 0) / 2);
  const s3d = evaluateSplit(pred, truth, dims, info, { sliceSpacing: 2 });
  // Volume p1: the truth is at z = 0 and z = 6 mm, the prediction only at z = 6: the truth's slice-0 pixels are
  // 6 mm from the predicted boundary; pred→truth is 0. Truth boundary distances {6, 6, 0, 0} → p95 = 6.
  close(s3d.perVolume!.hd95_per_class[0]!, (6 + 0) / 2);
  close(s3d.perVolume!.dice_mean, s.perVolume!.dice_mean);
});
