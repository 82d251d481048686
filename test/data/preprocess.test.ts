import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ConfigError } from '../../src/core/errors.js';
import { Rng } from '../../src/core/rng.js';
import { IDENTITY_DIRECTION, type IntensityVolume, type LabelVolume, type Vec3 } from '../../src/data/volume.js';
import { resolvePrepareConfig, defaultPrepareConfig } from '../../src/data/preprocess/config.js';
import { resampleImage, resampleLabels } from '../../src/data/preprocess/resample.js';
import { resizeImage, resizeLabels, areaWeights } from '../../src/data/preprocess/resize.js';
import { normaliseIntensity, percentileOfSorted, percentilesInPlace, toUnitRange } from '../../src/data/preprocess/intensity.js';
import { cropSquare, cropSquareLabels, labelRegion, contentRegion, planFov } from '../../src/data/preprocess/fov.js';
import { imageSlice, labelSlice, slicingAxis, type ImagePlane, type LabelPlane } from '../../src/data/preprocess/slices.js';
import { preprocessCase } from '../../src/data/prepare.js';
import { splitPatients, assignSplits } from '../../src/data/splits.js';
import type { DatasetSource } from '../../src/data/readers/types.js';

function values(data: Uint8Array): Set<number> {
  return new Set(data);
}

function randomLabels(w: number, h: number, classes: readonly number[], seed: number): LabelPlane {
  const rng = new Rng(seed);
  const data = new Uint8Array(w * h);
  // Blocky random regions (so majority voting has something to do) plus single-pixel specks.
  for (let y = 0; y < h; y++) for (let x = 0; x < w; x++) data[y * w + x] = classes[(Math.floor(x / 3) * 7 + Math.floor(y / 4) * 3) % classes.length]!;
  for (let i = 0; i < 20; i++) data[rng.int(0, w * h - 1)] = classes[rng.int(0, classes.length - 1)]!;
  return { width: w, height: h, spacing: [1.3, 1.3], data };
}

function volume(size: Vec3, spacing: Vec3, f: (x: number, y: number, z: number) => number): IntensityVolume {
  const data = new Float32Array(size[0] * size[1] * size[2]);
  let i = 0;
  for (let z = 0; z < size[2]; z++) for (let y = 0; y < size[1]; y++) for (let x = 0; x < size[0]; x++) data[i++] = f(x, y, z);
  return { kind: 'intensity', size, spacing, origin: [0, 0, 0], direction: IDENTITY_DIRECTION, components: 1, data, source: 'mem' };
}

function labelVolume(size: Vec3, spacing: Vec3, f: (x: number, y: number, z: number) => number): LabelVolume {
  const v = volume(size, spacing, f);
  return { kind: 'label', size, spacing, origin: v.origin, direction: v.direction, data: Uint8Array.from(v.data), source: 'mem' };
}

function centroid(data: Uint8Array, w: number, value?: number): [number, number, number] {
  let sx = 0;
  let sy = 0;
  let n = 0;
  data.forEach((v, i) => {
    if (value === undefined ? v !== 0 : v === value) {
      sx += i % w;
      sy += Math.floor(i / w);
      n++;
    }
  });
  return [sx / n, sy / n, n];
}

// --- config -------------------------------------------------------------------------------------------------

test('config: defaults per modality, partial overrides merge, bad values are ConfigErrors', () => {
  const mri = resolvePrepareConfig({}, 'mri');
  assert.equal(mri.size, 64);
  assert.deepEqual(mri.intensity, { mode: 'percentile', low: 0.5, high: 99.5 });
  assert.equal(mri.spacing, 'median');
  assert.equal(mri.dropEmpty, true);
  const ct = resolvePrepareConfig({ intensity: { level: 40 } }, 'ct');
  assert.deepEqual(ct.intensity, { mode: 'window', level: 40, width: 400 });
  const rgb = resolvePrepareConfig({ size: 32 }, 'rgb');
  assert.equal(rgb.spacing, 'none');
  assert.equal(rgb.dropEmpty, false);
  assert.deepEqual(rgb.intensity, { mode: 'fixed', min: 0, max: 255 });
  assert.equal(rgb.size, 32);
  assert.ok(Object.isFrozen(rgb) && Object.isFrozen(rgb.fov));
  assert.deepEqual(resolvePrepareConfig({ intensity: { mode: 'window' } }, 'mri').intensity, { mode: 'window', level: 60, width: 400 });
  assert.deepEqual(defaultPrepareConfig('mri'), { ...mri });
  for (const bad of [{ size: 15 }, { size: 17 }, { size: 512 }, { sizee: 64 }, { fractions: { train: 0.5, val: 0.1, test: 0.1 } }, { intensity: { low: 50, high: 10 } }, { intensity: { level: 3 } }, { spacing: -1 }]) {
    assert.throws(() => resolvePrepareConfig(bad, 'mri'), ConfigError, JSON.stringify(bad));
  }
});

// --- resample -----------------------------------------------------------------------------------------------

test('resample: label maps never get new values (nearest), up and down', () => {
  const plane = randomLabels(37, 29, [0, 2, 5], 1);
  for (const t of [0.5, 0.9, 1.7, 3.1]) {
    const out = resampleLabels(plane, t);
    for (const v of values(out.data)) assert.ok([0, 2, 5].includes(v), `value ${v} at target ${t}`);
    assert.equal(out.width, Math.round((37 * 1.3) / t));
    assert.deepEqual(out.spacing, [t, t]);
  }
});

test('resample: bilinear on a linear ramp is exact', () => {
  const W = 20;
  const H = 12;
  const ramp = (u: number, v: number): number => 3 + 2 * u - 0.5 * v;
  const data = new Float32Array(W * H);
  for (let v = 0; v < H; v++) for (let u = 0; u < W; u++) data[v * W + u] = ramp(u, v);
  const plane: ImagePlane = { width: W, height: H, channels: 1, spacing: [1, 1.5], data };
  for (const t of [0.4, 0.7, 1.3]) {
    const out = resampleImage(plane, t);
    let checked = 0;
    for (let j = 0; j < out.height; j++) {
      const v = (j + 0.5) * (t / 1.5) - 0.5;
      if (v < 0 || v > H - 1) continue;
      for (let i = 0; i < out.width; i++) {
        const u = (i + 0.5) * t - 0.5;
        if (u < 0 || u > W - 1) continue;
        assert.ok(Math.abs(out.data[j * out.width + i]! - ramp(u, v)) < 1e-4, `t=${t} (${i},${j})`);
        checked++;
      }
    }
    assert.ok(checked > 50);
  }
});

// --- resize -------------------------------------------------------------------------------------------------

test('resize: area-average of a constant is the constant (shrink, non-integer factor, RGB) and enlarging too', () => {
  const W = 50;
  const data = new Float32Array(W * W * 3);
  for (let i = 0; i < data.length; i++) data[i] = [0.37, -0.2, 0.9][i % 3]!;
  const plane: ImagePlane = { width: W, height: W, channels: 3, spacing: [1, 1], data };
  for (const size of [16, 24, 48, 64, 100]) {
    const out = resizeImage(plane, size);
    assert.equal(out.data.length, size * size * 3);
    for (let i = 0; i < out.data.length; i++) assert.ok(Math.abs(out.data[i]! - [0.37, -0.2, 0.9][i % 3]!) < 1e-6);
    assert.ok(Math.abs(out.spacing[0] - W / size) < 1e-12);
  }
  // Weights partition the input exactly.
  const w = areaWeights(50, 16);
  for (let j = 0; j < 16; j++) {
    let s = 0;
    for (let t = w.offset[j]!; t < w.offset[j + 1]!; t++) s += w.weight[t]!;
    assert.ok(Math.abs(s - 1) < 1e-12);
  }
});

test('resize: shrinking averages areas (a 2×2 checker becomes its mean), labels by majority', () => {
  const data = new Float32Array(64 * 64).map((_, i) => ((i % 64) + Math.floor(i / 64)) % 2);
  const out = resizeImage({ width: 64, height: 64, channels: 1, spacing: [1, 1], data }, 16);
  for (const v of out.data) assert.ok(Math.abs(v - 0.5) < 1e-6);
  // A 3×3 majority: 5 pixels of class 2, 4 of class 1 → 2.
  const lab = new Uint8Array([2, 1, 2, 1, 2, 1, 2, 1, 2]);
  assert.deepEqual([...resizeLabels({ width: 3, height: 3, spacing: [1, 1], data: lab }, 1).data], [2]);
});

test('resize: label values survive shrinking and enlarging (never renamed)', () => {
  const plane = randomLabels(50, 50, [0, 1, 3, 7], 2);
  for (const size of [16, 20, 64, 128]) {
    const out = resizeLabels(plane, size);
    assert.equal(out.data.length, size * size);
    for (const v of values(out.data)) assert.ok([0, 1, 3, 7].includes(v));
  }
  // A structure large enough for the output grid keeps its value and position.
  const big = new Uint8Array(64 * 64);
  for (let y = 20; y < 36; y++) for (let x = 8; x < 24; x++) big[y * 64 + x] = 9;
  const small = resizeLabels({ width: 64, height: 64, spacing: [1, 1], data: big }, 16);
  assert.deepEqual([...values(small.data)].sort(), [0, 9]);
  const [cx, cy, n] = centroid(small.data, 16, 9);
  assert.equal(n, 16);
  assert.ok(Math.abs(cx - 3.5) < 1e-9 && Math.abs(cy - 6.5) < 1e-9);
});

// --- intensity ----------------------------------------------------------------------------------------------

test('intensity: percentile clipping maps exactly to −1 and +1 at the percentiles', () => {
  const n = 201;
  const rng = new Rng(3);
  const data = Float32Array.from(rng.shuffled(Array.from({ length: n }, (_, i) => i)));
  // With 201 values 0..200, the 0.5th percentile is exactly 1 and the 99.5th exactly 199.
  const { data: out, ranges, background } = normaliseIntensity(data, 1, { mode: 'percentile', low: 0.5, high: 99.5 });
  assert.deepEqual(ranges, [[1, 199]]);
  for (let i = 0; i < n; i++) {
    const v = data[i]!;
    const o = out[i]!;
    if (v <= 1) assert.equal(o, -1);
    else if (v >= 199) assert.equal(o, 1);
    else assert.ok(Math.abs(o - ((2 * (v - 1)) / 198 - 1)) < 1e-6);
    if (v === 100) assert.equal(o, 0);
  }
  assert.deepEqual(background, [-1]);
  assert.equal(percentileOfSorted([10, 20, 30, 40], 50), 25);
  // Selection gives exactly the sorted-array percentiles, with many ties too.
  for (const [len, mod] of [[1, 5], [2, 5], [1000, 7], [5001, 1000000], [4000, 2]] as const) {
    const vals = Float32Array.from({ length: len }, () => rng.int(0, mod) * 0.5);
    const sorted = vals.slice().sort();
    const ps = [0, 0.5, 2, 50, 99.5, 100];
    assert.deepEqual(percentilesInPlace(vals.slice(), ps), ps.map((p) => percentileOfSorted(sorted, p)), `n=${len}`);
  }
  // Per-channel percentiles for RGB.
  const rgb = new Float32Array(300);
  for (let i = 0; i < 100; i++) [rgb[i * 3], rgb[i * 3 + 1], rgb[i * 3 + 2]] = [i, 2 * i, 1000 - i];
  const r = normaliseIntensity(rgb, 3, { mode: 'percentile', low: 0, high: 100 });
  assert.deepEqual(r.ranges, [[0, 99], [0, 198], [901, 1000]]);
  assert.equal(r.data[0], -1);
  assert.equal(r.data[2], 1);
});

test('intensity: CT HU window, default liver window L60 W400 = [−140, 260]', () => {
  const cfg = resolvePrepareConfig({}, 'ct').intensity;
  const hu = Float32Array.from([-1000, -140, -40, 60, 160, 260, 3000]);
  const { data, ranges } = normaliseIntensity(hu, 1, cfg);
  assert.deepEqual(ranges, [[-140, 260]]);
  assert.deepEqual([...data], [-1, -1, -0.5, 0, 0.5, 1, 1]);
  assert.equal(toUnitRange(5, 5, 5), -1);
  // RGB fixed: v / 127.5 − 1.
  const photo = normaliseIntensity(Float32Array.from([0, 127.5, 255]), 1, resolvePrepareConfig({}, 'rgb').intensity);
  assert.deepEqual([...photo.data], [-1, 0, 1]);
});

// --- slices -------------------------------------------------------------------------------------------------

test('slices: axis choice and extraction along x, y and z', () => {
  const vol = volume([4, 3, 2], [1, 1, 5], (x, y, z) => 100 * z + 10 * y + x);
  assert.equal(slicingAxis(vol, 'auto'), 'z');
  assert.equal(slicingAxis({ size: [4, 3, 2], spacing: [5, 1, 1] }, 'auto'), 'x');
  assert.equal(slicingAxis({ size: [4, 3, 1], spacing: [5, 1, 1] }, 'auto'), 'z'); // 2D: the single slice
  const z1 = imageSlice(vol, 1, 'z', 1);
  assert.deepEqual([z1.width, z1.height], [4, 3]);
  assert.equal(z1.data[2 * 4 + 3], 123);
  const y2 = imageSlice(vol, 1, 'y', 2); // u = x, v = z
  assert.deepEqual([y2.width, y2.height, ...y2.spacing], [4, 2, 1, 5]);
  assert.equal(y2.data[1 * 4 + 3], 123);
  const x3 = imageSlice(vol, 1, 'x', 3); // u = y, v = z
  assert.deepEqual([x3.width, x3.height], [3, 2]);
  assert.equal(x3.data[1 * 3 + 2], 123);
  const lab = labelSlice(labelVolume([4, 3, 2], [1, 1, 5], (x, y, z) => (x + y + z) % 3), 'x', 0);
  assert.deepEqual([...lab.data], [0, 1, 2, 1, 2, 0]);
});

// --- fov ----------------------------------------------------------------------------------------------------

test('fov: a crop around a known blob keeps it centred (bbox and centroid), padding with the background', () => {
  const size: Vec3 = [40, 40, 4];
  const [bx, by, r] = [9, 30, 4];
  const inBlob = (x: number, y: number, z: number): boolean => z >= 1 && z <= 2 && (x - bx) ** 2 + (y - by) ** 2 <= r * r;
  const label = labelVolume(size, [1, 1, 5], (x, y, z) => (inBlob(x, y, z) ? 1 : 0));
  const image = volume(size, [1, 1, 5], (x, y, z) => (inBlob(x, y, z) ? 100 : 10));
  const region = labelRegion(label, 'z')!;
  assert.deepEqual([region.u0, region.u1, region.v0, region.v1], [5, 13, 26, 34]);
  for (const method of ['bbox', 'centroid'] as const) {
    const fov = planFov({ region, planeSize: [40, 40], resampledSize: [40, 40], ratio: [1, 1], pixelMm: 1 }, { centre: 'foreground', method, sizeMm: null, margin: 2, threshold: 0.1 });
    assert.equal(fov.side, 18);
    const img = cropSquare(imageSlice(image, 1, 'z', 1), fov, [-7]);
    const lab = cropSquareLabels(labelSlice(label, 'z', 1), fov);
    const [cx, cy, n] = centroid(lab.data, fov.side);
    assert.equal(n, region.count / 2);
    assert.ok(Math.abs(cx - (fov.side - 1) / 2) <= 0.5 && Math.abs(cy - (fov.side - 1) / 2) <= 0.5, `${method}: blob at ${cx},${cy}`);
    // Image and label stay aligned; pixels beyond the slice edge are the pad value.
    for (let i = 0; i < lab.data.length; i++) if (lab.data[i]) assert.equal(img.data[i], 100);
    assert.ok(img.data.includes(-7) === fov.u0 < 0 || fov.v0 + fov.side > 40);
  }
  // A fixed size in mm on a resampled plane: 30 mm at 0.5 mm/px = 60 px.
  const fixed = planFov({ region, planeSize: [40, 40], resampledSize: [80, 80], ratio: [2, 2], pixelMm: 0.5 }, { centre: 'foreground', method: 'bbox', sizeMm: 30, margin: 1, threshold: 0.1 });
  assert.equal(fixed.side, 60);
  assert.equal(fixed.u0 + (fixed.side - 1) / 2, (9 + 0.5) * 2 - 0.5);
  // Content region of an image: the bright disk.
  const content = contentRegion(image, 1, 'z', 0.5)!;
  assert.deepEqual([content.u0, content.u1, content.v0, content.v1], [5, 13, 26, 34]);
  // No foreground: the whole plane, centred.
  const none = planFov({ region: null, planeSize: [40, 30], resampledSize: [40, 30], ratio: [1, 1], pixelMm: 1 }, { centre: 'foreground', method: 'bbox', sizeMm: null, margin: 1.5, threshold: 0.1 });
  assert.deepEqual(none, { u0: 0, v0: -5, side: 40, sideMm: 40 });
});

test('preprocessCase: resample + crop + resize keeps the structure centred, aligned and its labels', () => {
  const size: Vec3 = [40, 36, 4];
  const inside = (x: number, y: number, z: number): number => {
    if (z === 0) return 0;
    const d2 = (x - 25) ** 2 + (y - 12) ** 2;
    return d2 <= 9 ? 3 : d2 <= 36 ? 1 : 0;
  };
  const label = labelVolume(size, [1.2, 1.2, 8], inside);
  const image = volume(size, [1.2, 1.2, 8], (x, y, z) => [5, 200, 0, 120][inside(x, y, z)]! + ((x * 7 + y * 3) % 5));
  const cfg = resolvePrepareConfig({ size: 32 }, 'mri');
  const pc = preprocessCase(image, label, cfg, 0.8);
  assert.equal(pc.axis, 'z');
  assert.equal(pc.sourceSlices, 4);
  assert.deepEqual(pc.sliceIndex, [1, 2, 3]); // slice 0 has no foreground: dropped
  assert.equal(pc.images.length, 3 * 32 * 32);
  for (const v of pc.images) assert.ok(v >= -1 && v <= 1);
  for (const v of values(pc.labels)) assert.ok([0, 1, 3].includes(v));
  assert.ok(values(pc.labels).has(3) && values(pc.labels).has(1));
  const [cx, cy] = centroid(pc.labels.subarray(0, 32 * 32), 32);
  assert.ok(Math.abs(cx - 15.5) < 1 && Math.abs(cy - 15.5) < 1, `centroid ${cx},${cy}`);
  // Extent 13 px × 1.2 mm × 1.5 margin ≈ 23.4 mm → 29 px at 0.8 mm.
  assert.equal(pc.fov.side, Math.round(((13 * 1.2) / 0.8) * 1.5));
  assert.ok(Math.abs(pc.pixelMm! - (pc.fov.side * 0.8) / 32) < 1e-12);
  // Image and labels stay aligned: class 1 (200) is bright, class 3 (120) mid-grey, background (5) dark.
  const mean = (k: number): number => {
    let s = 0;
    let n = 0;
    for (let i = 0; i < 32 * 32; i++) if (pc.labels[i] === k) (s += pc.images[i]!), n++;
    return s / n;
  };
  assert.ok(mean(1) > 0.6, `class 1 mean ${mean(1)}`);
  assert.ok(Math.abs(mean(3) - 0.18) < 0.15, `class 3 mean ${mean(3)}`);
  assert.ok(mean(0) < -0.5, `background mean ${mean(0)}`);
  // Keep empty slices when asked.
  assert.equal(preprocessCase(image, label, resolvePrepareConfig({ size: 32, dropEmpty: false }, 'mri'), 0.8).count, 4);
});

test('preprocessCase: a 2D RGB photo is cropped around its bright field of view', () => {
  const W = 60;
  const H = 40;
  const data = new Float32Array(W * H * 3);
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const inFov = (x - 35) ** 2 + (y - 20) ** 2 <= 15 ** 2;
      data.set(inFov ? [200, 90, 40] : [3, 2, 1], (y * W + x) * 3);
    }
  }
  const image: IntensityVolume = { kind: 'intensity', size: [W, H, 1], spacing: [1, 1, 1], origin: [0, 0, 0], direction: IDENTITY_DIRECTION, components: 3, data, source: 'mem' };
  const label = labelVolume([W, H, 1], [1, 1, 1], (x, y) => ((x - 30) ** 2 + (y - 20) ** 2 <= 4 ? 2 : 0));
  const pc = preprocessCase(image, label, resolvePrepareConfig({ size: 16 }, 'rgb'), null);
  assert.equal(pc.count, 1);
  assert.equal(pc.channels, 3);
  assert.equal(pc.pixelMm, null);
  assert.equal(pc.fov.side, 31);
  // Corners are outside the circle (dark), the centre is the FOV colour.
  const px = (x: number, y: number): number[] => [...pc.images.subarray((y * 16 + x) * 3, (y * 16 + x) * 3 + 3)];
  assert.ok(px(0, 0)[0]! < -0.9);
  assert.ok(Math.abs(px(8, 8)[0]! - (200 / 127.5 - 1)) < 1e-5);
  const empty = preprocessCase(image, labelVolume([W, H, 1], [1, 1, 1], () => 0), resolvePrepareConfig({ size: 16 }, 'rgb'), null);
  assert.equal(empty.count, 1, 'RGB keeps images without foreground by default');
});

// --- splits -------------------------------------------------------------------------------------------------

test('split by patient: deterministic for a seed, independent of order, disjoint and complete', () => {
  const ids = Array.from({ length: 23 }, (_, i) => `patient${String(i).padStart(3, '0')}`);
  const fractions = { train: 0.7, val: 0.1, test: 0.2 };
  const a = splitPatients(ids, fractions, 7);
  const b = splitPatients([...ids].reverse().concat(ids.slice(0, 5)), fractions, 7);
  assert.deepEqual(a, b);
  assert.deepEqual([a.train.length, a.val.length, a.test.length], [16, 2, 5]);
  const all = [...a.train, ...a.val, ...a.test];
  assert.equal(new Set(all).size, ids.length);
  assert.deepEqual([...all].sort(), ids);
  assert.notDeepEqual(splitPatients(ids, fractions, 8), a);
  // Few patients: every split with a positive fraction still gets one.
  const three = splitPatients(['a', 'b', 'c'], fractions, 1);
  assert.deepEqual([three.train.length, three.val.length, three.test.length], [1, 1, 1]);
  const two = splitPatients(['a', 'b'], fractions, 1);
  assert.equal(two.train.length, 1);
});

test("split 'publisher': the publisher's testing subset is the test split, val carved from training", () => {
  const cases = Array.from({ length: 12 }, (_, i) => ({
    patient: `p${i}`,
    id: `p${i}_ED`,
    image: `/x/p${i}.nii.gz`,
    label: `/x/p${i}_gt.nii.gz`,
    tags: { subset: i < 8 ? 'training' : 'testing' },
  }));
  const source: DatasetSource = { dataset: 'acdc', root: '/x', modality: 'mri', classNames: ['bg', 'a'], binary255: false, cases };
  const s = assignSplits(source, resolvePrepareConfig({ splitBy: 'publisher', splitSeed: 4 }, 'mri'));
  assert.deepEqual(s.test, ['p10', 'p11', 'p8', 'p9']);
  assert.equal(s.train.length + s.val.length, 8);
  assert.equal(s.val.length, 1);
  assert.deepEqual(assignSplits(source, resolvePrepareConfig({ splitBy: 'publisher', splitSeed: 4 }, 'mri')), s);
  const untagged = { ...source, cases: cases.map((c) => ({ ...c, tags: {} })) };
  assert.throws(() => assignSplits(untagged, resolvePrepareConfig({ splitBy: 'publisher' }, 'mri')), /no publisher split/);
});
