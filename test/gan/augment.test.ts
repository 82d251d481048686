import { test } from 'node:test';
import assert from 'node:assert/strict';
import { tf, initEngine } from '../../src/core/engine.js';
import { Rng } from '../../src/core/rng.js';
import {
  CLASSIC_AUGMENT_DEFAULTS, DIFF_AUGMENT_OPS, DIFF_AUGMENT_OP_NAMES, classicAugment, cutout, diffAugment, fillValues, translate,
  type ChannelLayout,
} from '../../src/gan/augment.js';

await initEngine({ backend: 'cpu', log: () => {} });

const N = 4;
const S = 16;
const LAYOUT: ChannelLayout = { imageChannels: 1, numClasses: 3 };
const C = 4;

/**
 * Test pattern: class 1 in a rectangle, class 2 in a smaller one, background elsewhere; the image encodes the
 * class as −1 / 0.5 / 1 so that image and mask can be checked against each other after any spatial op.
 */
function pattern(): Float32Array {
  const x = new Float32Array(N * S * S * C);
  const imageOf = [-1, 0.5, 1];
  for (let n = 0; n < N; n++) {
    for (let y = 0; y < S; y++) {
      for (let xx = 0; xx < S; xx++) {
        const label = y >= 3 + n && y < 12 && xx >= 2 && xx < 13 - n ? (y >= 6 && xx >= 6 && xx < 9 ? 2 : 1) : 0;
        const o = ((n * S + y) * S + xx) * C;
        x[o] = imageOf[label]!;
        for (let k = 0; k < 3; k++) x[o + 1 + k] = k === label ? 1 : -1;
      }
    }
  }
  return x;
}

function labelAt(data: Float32Array | Uint8Array | Int32Array, o: number): number {
  let best = 0;
  for (let k = 1; k < 3; k++) if (data[o + 1 + k]! > data[o + 1 + best]!) best = k;
  return best;
}

/** Every pixel's mask is exactly one-hot in {−1, +1}. */
function assertOneHot(data: Float32Array | Int32Array | Uint8Array, what: string): void {
  for (let p = 0; p < data.length / C; p++) {
    const mask = [data[p * C + 1], data[p * C + 2], data[p * C + 3]];
    assert.equal(mask.filter((v) => v === 1).length, 1, `${what}: pixel ${p} mask ${mask}`);
    assert.equal(mask.filter((v) => v === -1).length, 2, `${what}: pixel ${p} mask ${mask}`);
  }
}

/** Image and mask agree at every pixel; `fillImage` is what padded / cut-out pixels hold (mask: background). */
function assertAligned(data: Float32Array | Int32Array | Uint8Array, fillImage: number, what: string): void {
  const imageOf = [-1, 0.5, 1];
  for (let p = 0; p < data.length / C; p++) {
    const label = labelAt(data, p * C);
    const image = data[p * C]!;
    const ok = label === 0 ? image === -1 || image === fillImage : Math.abs(image - imageOf[label]!) < 1e-6;
    assert.ok(ok, `${what}: pixel ${p} image ${image} label ${label}`);
  }
}

test('fill values: image fill, then background +1 and other classes −1', () => {
  assert.deepEqual(Array.from(fillValues(LAYOUT, 0)), [0, 1, -1, -1]);
  assert.deepEqual(Array.from(fillValues({ imageChannels: 3, numClasses: 0 }, -1)), [-1, -1, -1]);
});

test('translate: out[i, j] = x[i + dy, j + dx], with image and mask filled consistently outside', () => {
  const x = tf.tensor4d(pattern(), [N, S, S, C]);
  const shifts = [[2, -1], [-2, 2], [0, 0], [-1, -2]] as const;
  const fill = fillValues(LAYOUT, 0);
  const out = translate(x, shifts, fill).dataSync();
  const src = x.dataSync();
  for (let n = 0; n < N; n++) {
    const [dy, dx] = shifts[n]!;
    for (let y = 0; y < S; y++) {
      for (let xx = 0; xx < S; xx++) {
        const sy = y + dy;
        const sx = xx + dx;
        for (let c = 0; c < C; c++) {
          const expected = sy >= 0 && sy < S && sx >= 0 && sx < S ? src[((n * S + sy) * S + sx) * C + c] : fill[c];
          assert.equal(out[((n * S + y) * S + xx) * C + c], expected);
        }
      }
    }
  }
  x.dispose();
});

test('DiffAugment translation and cutout move image and mask identically and keep masks one-hot', () => {
  const x = tf.tensor4d(pattern(), [N, S, S, C]);
  for (const op of ['translation', 'cutout'] as const) {
    for (const seed of [1, 2, 3]) {
      const out = tf.tidy(() => DIFF_AUGMENT_OPS[op](x, LAYOUT, new Rng(seed)).dataSync());
      assertOneHot(out, `${op} seed ${seed}`);
      assertAligned(out, 0, `${op} seed ${seed}`);
      assert.notDeepEqual(Array.from(out), Array.from(x.dataSync()), `${op} changes something`);
    }
  }
  // Cutout size: ⌊16/2 + ½⌋ = 8 → at most 64 pixels per sample, at least 16 (a corner quarter).
  const cut = tf.tidy(() => DIFF_AUGMENT_OPS.cutout(tf.ones([N, S, S, C]), { imageChannels: 4, numClasses: 0 }, new Rng(5)).dataSync());
  for (let n = 0; n < N; n++) {
    const zeros = Array.from(cut.subarray(n * S * S * C, (n + 1) * S * S * C)).filter((v) => v === 0).length / C;
    assert.ok(zeros >= 16 && zeros <= 64, `cutout area ${zeros}`);
  }
  // Explicit box.
  const boxed = tf.tidy(() => cutout(tf.ones([1, 2, 3, 1]), [[0, 1, 1, 3]], Float32Array.of(0)).dataSync());
  assert.deepEqual(Array.from(boxed), [1, 0, 0, 1, 1, 1]);
  x.dispose();
});

/** Reference colour op in float64: brightness, saturation, contrast with the same draws as the implementation. */
function referenceColor(data: Float32Array, n: number, hw: number, ci: number, c: number, rng: Rng): Float64Array {
  const b = Array.from({ length: n }, () => rng.next() - 0.5);
  const s = Array.from({ length: n }, () => rng.next() * 2);
  const k = Array.from({ length: n }, () => rng.next() + 0.5);
  const out = Float64Array.from(data);
  for (let i = 0; i < n; i++) {
    let total = 0;
    for (let p = 0; p < hw; p++) {
      const o = (i * hw + p) * c;
      let mean = 0;
      for (let ch = 0; ch < ci; ch++) mean += (out[o + ch]! + b[i]!) / ci;
      for (let ch = 0; ch < ci; ch++) out[o + ch] = (out[o + ch]! + b[i]! - mean) * s[i]! + mean;
      for (let ch = 0; ch < ci; ch++) total += out[o + ch]!;
    }
    const mean = total / (hw * ci);
    for (let p = 0; p < hw; p++) for (let ch = 0; ch < ci; ch++) {
      const o = (i * hw + p) * c + ch;
      out[o] = (out[o]! - mean) * k[i]! + mean;
    }
  }
  return out;
}

test('colour changes only image channels, matches DiffAugment\'s formulas, and saturation is a no-op on one channel', () => {
  for (const layout of [LAYOUT, { imageChannels: 3, numClasses: 2 }]) {
    const c = layout.imageChannels + layout.numClasses;
    const data = Float32Array.from({ length: N * S * S * c }, (_, i) => Math.sin(i * 0.37));
    const x = tf.tensor4d(data, [N, S, S, c]);
    const out = tf.tidy(() => DIFF_AUGMENT_OPS.color(x, layout, new Rng(8)).dataSync());
    const expected = referenceColor(data, N, S * S, layout.imageChannels, c, new Rng(8));
    for (let i = 0; i < out.length; i++) {
      if (i % c >= layout.imageChannels) assert.equal(out[i], data[i], 'mask channel untouched');
      else assert.ok(Math.abs(out[i]! - expected[i]!) < 1e-4, `image value ${i}: ${out[i]} vs ${expected[i]}`);
    }
    x.dispose();
  }
  // One image channel: colour = brightness then contrast, whatever the saturation factor.
  const x = tf.tensor4d(pattern(), [N, S, S, C]);
  const out = tf.tidy(() => DIFF_AUGMENT_OPS.color(x, LAYOUT, new Rng(3)).dataSync());
  assertOneHot(out, 'colour');
  x.dispose();
});

test('diffAugment: seeded, differentiable, shape-preserving; empty policy is the identity; no leaks', () => {
  const x = tf.tensor4d(pattern(), [N, S, S, C]);
  const before = tf.memory().numTensors;
  const run = (seed: number) => tf.tidy(() => Array.from(diffAugment(x, DIFF_AUGMENT_OP_NAMES, LAYOUT, new Rng(seed)).dataSync()));
  assert.deepEqual(run(1), run(1));
  assert.notDeepEqual(run(1), run(2));
  tf.tidy(() => {
    const grad = tf.grad((input: tf.Tensor) => tf.sum(tf.square(diffAugment(input as tf.Tensor4D, DIFF_AUGMENT_OP_NAMES, LAYOUT, new Rng(4)))))(x);
    assert.deepEqual(grad.shape, x.shape);
    assert.ok(grad.dataSync().every(Number.isFinite));
    assert.ok(grad.dataSync().some((v) => v !== 0));
  });
  assert.equal(tf.memory().numTensors, before);
  assert.equal(diffAugment(x, [], LAYOUT, new Rng(1)), x);
  assert.throws(() => diffAugment(x, ['color'], { imageChannels: 1, numClasses: 2 }, new Rng(1)), /layout/);
  x.dispose();
});

test('classic augmentation: identity without transforms, exact mirror for flips, aligned image and one-hot mask otherwise', () => {
  const x = pattern();
  const shape = [N, S, S, C] as const;
  const none = { horizontalFlip: false, verticalFlip: false, maxRotationDeg: 0, maxShiftFraction: 0 };
  assert.deepEqual(classicAugment(x, shape, LAYOUT, new Rng(1), none), x);
  const flipped = classicAugment(x, shape, LAYOUT, new Rng(1), { ...none, horizontalFlip: true });
  let mirrored = 0;
  for (let n = 0; n < N; n++) {
    const same = Array.from({ length: S * S * C }, (_, i) => flipped[n * S * S * C + i] === x[n * S * S * C + i]).every(Boolean);
    const mirror = Array.from({ length: S * S }, (_, p) => {
      const [y, xx] = [Math.floor(p / S), p % S];
      return Array.from({ length: C }, (_, c) => flipped[((n * S + y) * S + xx) * C + c] === x[((n * S + y) * S + (S - 1 - xx)) * C + c]).every(Boolean);
    }).every(Boolean);
    assert.ok(same || mirror, `sample ${n} is the input or its mirror image`);
    if (mirror && !same) mirrored++;
  }
  assert.ok(mirrored > 0 && mirrored < N, 'flips are random');

  for (const seed of [1, 2, 3]) {
    const out = classicAugment(x, shape, LAYOUT, new Rng(seed), CLASSIC_AUGMENT_DEFAULTS);
    assertOneHot(out, `classic seed ${seed}`);
    assert.deepEqual(out, classicAugment(x, shape, LAYOUT, new Rng(seed)), 'seeded');
    assert.notDeepEqual(out, x);
    // Bilinear image vs nearest mask differ only at label boundaries: check pixels whose 3×3 mask neighbourhood is uniform.
    const imageOf = [-1, 0.5, 1];
    let checked = 0;
    for (let n = 0; n < N; n++) {
      for (let y = 1; y < S - 1; y++) {
        for (let xx = 1; xx < S - 1; xx++) {
          const label = labelAt(out, ((n * S + y) * S + xx) * C);
          let uniform = true;
          for (let dy = -1; dy <= 1; dy++) for (let dx = -1; dx <= 1; dx++) uniform &&= labelAt(out, ((n * S + y + dy) * S + xx + dx) * C) === label;
          if (!uniform || label === 0) continue;
          checked++;
          assert.ok(Math.abs(out[((n * S + y) * S + xx) * C]! - imageOf[label]!) < 1e-4, `seed ${seed}: image follows mask at ${n},${y},${xx}`);
        }
      }
    }
    assert.ok(checked > 50);
  }
});
