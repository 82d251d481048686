import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { DataError } from '../../src/core/errors.js';
import { MEDSYN_VERSION } from '../../src/core/version.js';
import { writeVolume } from '../../src/data/io/image-io.js';
import { IDENTITY_DIRECTION, type IntensityVolume, type LabelVolume, type Vec3 } from '../../src/data/volume.js';
import type { CaseEntry, DatasetSource } from '../../src/data/readers/types.js';
import { SPLITS, type PreparedManifest } from '../../src/data/prepared.js';
import { resolvePrepareConfig } from '../../src/data/preprocess/config.js';
import { fastHeaderGeometry, headerGeometry, prepareCacheKey, prepareDataset, prepareFromSource, writePrepared, type PreparedManifestRecord } from '../../src/data/prepare.js';
import { loadPrepared, oneHot } from '../../src/data/load.js';
import { renderOverlayGrid } from '../../src/data/show.js';

const SIZE: Vec3 = [40, 40, 4];
let tmp: string;
let dataRoot: string;
let source: DatasetSource;

/** A phantom case: a disk (class 1) with a core (class 2) on slices 1–3, slice 0 empty; `p` shifts and rescales it. */
function phantom(p: number, frame: number, spacing: number): { image: IntensityVolume; label: LabelVolume } {
  const n = SIZE[0] * SIZE[1] * SIZE[2];
  const img = new Float32Array(n);
  const lab = new Uint8Array(n);
  const [cx, cy] = [16 + 3 * p, 20 - 2 * p + frame];
  let i = 0;
  for (let z = 0; z < SIZE[2]; z++) {
    for (let y = 0; y < SIZE[1]; y++) {
      for (let x = 0; x < SIZE[0]; x++, i++) {
        const d2 = (x - cx) ** 2 + (y - cy) ** 2;
        const k = z === 0 ? 0 : d2 <= 9 ? 2 : d2 <= 49 - 9 * frame ? 1 : 0;
        lab[i] = k;
        img[i] = [20, 300, 150][k]! * (1 + 0.2 * p) + ((x * 13 + y * 7 + z) % 11);
      }
    }
  }
  const geo = { size: SIZE, spacing: [spacing, spacing, 8] as Vec3, origin: [0, 0, 0] as Vec3, direction: IDENTITY_DIRECTION };
  return { image: { kind: 'intensity', ...geo, components: 1, data: img, source: 'mem' }, label: { kind: 'label', ...geo, data: lab, source: 'mem' } };
}

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-prepare-'));
  dataRoot = path.join(tmp, 'data');
  const cases: CaseEntry[] = [];
  for (let p = 0; p < 3; p++) {
    for (const frame of [0, 1]) {
      const { image, label } = phantom(p, frame, [1.4, 1.5, 1.6][p]!);
      const stem = path.join(dataRoot, `p${p}`, `f${frame}`);
      await writeVolume(`${stem}.nii.gz`, image);
      await writeVolume(`${stem}_gt.nii.gz`, label);
      cases.push({ patient: `p${p}`, id: `p${p}_f${frame}`, image: `${stem}.nii.gz`, label: `${stem}_gt.nii.gz`, tags: {} });
    }
  }
  source = { dataset: 'phantom', root: dataRoot, modality: 'mri', classNames: ['background', 'outer', 'core'], binary255: false, cases };
});

after(() => {
  fs.rmSync(tmp, { recursive: true, force: true });
});

test('prepare → load round trip: shapes, values, manifest, patient-disjoint splits', async () => {
  const out = path.join(tmp, 'PREPARED');
  const t0 = performance.now();
  const res = await prepareFromSource(source, { out, config: { size: 32 }, quiet: true });
  const ms = performance.now() - t0;
  console.log(`# prepare (3 patients × 2 cases × 40×40×4, size 32): ${ms.toFixed(0)} ms`);
  assert.equal(res.cacheHit, false);
  assert.equal(res.dir, path.resolve(out));
  const m = res.manifest as PreparedManifestRecord;
  assert.equal(m.format, 'medsyn-prepared/1');
  assert.equal(m.dataset, 'phantom');
  assert.deepEqual(m.imageShape, [32, 32, 1]);
  assert.deepEqual(m.config, resolvePrepareConfig({ size: 32 }, 'mri'));
  assert.equal(m.medsynVersion, MEDSYN_VERSION);
  assert.equal(m.sourceRoot, path.resolve(dataRoot));
  assert.equal(m.targetSpacingMm, 1.5); // median of the in-plane spacings 1.4, 1.5, 1.6
  assert.equal(m.targetSpacingFrom, 'median');
  assert.equal(m.cases.length, 6);
  // 3 patients → one per split; each case keeps slices 1–3 (slice 0 is empty and dropped).
  for (const s of SPLITS) assert.equal(m.patients[s].length, 1);
  const all = SPLITS.flatMap((s) => m.patients[s]);
  assert.equal(new Set(all).size, 3, 'no patient in two splits');
  for (const s of SPLITS) assert.equal(m.counts[s], 6);

  const ds = loadPrepared(out);
  assert.deepEqual(ds.manifest, JSON.parse(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8')));
  assert.equal(ds.numClasses, 3);
  for (const s of SPLITS) {
    const split = ds.split(s);
    assert.deepEqual([split.count, split.height, split.width, split.channels], [6, 32, 32, 1]);
    assert.equal(split.images.length, 6 * 32 * 32);
    assert.equal(split.labels.length, 6 * 32 * 32);
    assert.ok(split.images.every((v) => v >= -1 && v <= 1));
    assert.ok(split.images.some((v) => v < -0.8) && split.images.some((v) => v > 0.9));
    assert.ok([...new Set(split.labels)].every((v) => v <= 2));
    assert.ok(new Set(split.labels).has(2), 'the small core survives');
    for (const [k, info] of split.info.entries()) {
      assert.ok(m.patients[s].includes(info.patient));
      assert.ok(info.slice >= 1 && info.slice <= 3);
      let fg = 0;
      for (let i = k * 1024; i < (k + 1) * 1024; i++) if (split.labels[i]) fg++;
      assert.equal(info.foreground, fg);
    }
    assert.equal(ds.split(s), split, 'splits are read once and kept');
  }
  const oh = oneHot(ds.split('train').labels, ds.numClasses);
  assert.equal(oh.length, 6 * 32 * 32 * 3);
  for (let i = 0; i < 6 * 32 * 32; i++) {
    assert.equal(oh[i * 3 + ds.split('train').labels[i]!], 1);
    assert.equal(oh[i * 3] + oh[i * 3 + 1]! + oh[i * 3 + 2]!, 1);
  }
  assert.throws(() => oneHot(Uint8Array.from([0, 3]), 3), RangeError);
});

test('cache: a second prepare with the same config and files is a fast cache hit; a change rebuilds', async () => {
  const out = path.join(tmp, 'PREPARED');
  const before = fs.readFileSync(path.join(out, 'manifest.json'), 'utf8');
  const t0 = performance.now();
  const hit = await prepareFromSource(source, { out, config: { size: 32 }, quiet: true });
  const ms = performance.now() - t0;
  console.log(`# prepare cache hit: ${ms.toFixed(1)} ms`);
  assert.equal(hit.cacheHit, true);
  assert.ok(ms < 200, `cache hit took ${ms} ms`);
  assert.equal(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'), before, 'nothing rewritten');
  assert.equal(hit.manifest.configHash, JSON.parse(before).configHash);

  const other = await prepareFromSource(source, { out: path.join(tmp, 'P16'), config: { size: 16 }, quiet: true });
  assert.equal(other.cacheHit, false);
  assert.notEqual(other.manifest.configHash, hit.manifest.configHash);

  // A source file's mtime changes → the key changes.
  const key = prepareCacheKey(source, resolvePrepareConfig({ size: 16 }, 'mri'));
  assert.equal(key, other.manifest.configHash);
  const file = source.cases[0]!.image;
  const st = fs.statSync(file);
  fs.utimesSync(file, st.atime, new Date(st.mtimeMs + 5000));
  assert.notEqual(prepareCacheKey(source, resolvePrepareConfig({ size: 16 }, 'mri')), key);
  fs.utimesSync(file, st.atime, st.mtime);
  // force rebuilds even when the key matches; the progress callback runs once per case.
  const seen: string[] = [];
  const forced = await prepareFromSource(source, { out: path.join(tmp, 'P16'), config: { size: 16 }, force: true, onProgress: (d, t, note) => seen.push(`${d}/${t} ${note}`) });
  assert.equal(forced.cacheHit, false);
  assert.equal(seen.length, 6);
  assert.equal(seen[5], '6/6 p2_f1');
});

test('a failure inside the build leaves the previous PREPARED intact (corrupt case file)', async () => {
  const out = path.join(tmp, 'PREPARED');
  const manifestBefore = fs.readFileSync(path.join(out, 'manifest.json'), 'utf8');
  const trainBefore = fs.readFileSync(path.join(out, 'train.safetensors'));
  const bad = path.join(dataRoot, 'p9', 'f0.nii.gz');
  fs.mkdirSync(path.dirname(bad), { recursive: true });
  fs.writeFileSync(bad, Buffer.from('this is not a NIfTI file, just text pretending to be one'));
  const broken: DatasetSource = {
    ...source,
    cases: [...source.cases, { patient: 'p9', id: 'p9_f0', image: bad, label: source.cases[0]!.label, tags: {} }],
  };
  await assert.rejects(prepareFromSource(broken, { out, config: { size: 32 }, quiet: true }), (err: unknown) => {
    assert.ok(err instanceof DataError, String(err));
    assert.ok(err.message.includes(bad), err.message);
    return true;
  });
  // The same with the header pass skipped (a fixed spacing): the failure is in loadCase.
  await assert.rejects(prepareFromSource(broken, { out, config: { size: 32, spacing: 1.5 }, quiet: true }), DataError);
  assert.equal(fs.readFileSync(path.join(out, 'manifest.json'), 'utf8'), manifestBefore);
  assert.deepEqual(fs.readFileSync(path.join(out, 'train.safetensors')), trainBefore);
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), [], 'no temporary folder left behind');
  assert.equal(loadPrepared(out).split('val').count, 6);
  fs.rmSync(path.dirname(bad), { recursive: true });
});

test('prepare refuses to replace a folder that is not a prepared dataset', async () => {
  const out = path.join(tmp, 'not-prepared');
  fs.mkdirSync(out);
  fs.writeFileSync(path.join(out, 'precious.txt'), 'keep me');
  await assert.rejects(prepareFromSource(source, { out, quiet: true }), (err: unknown) => err instanceof DataError && /not a prepared dataset/.test(err.message));
  assert.equal(fs.readFileSync(path.join(out, 'precious.txt'), 'utf8'), 'keep me');
});

test('loadPrepared: a missing or damaged file is a DataError naming it', () => {
  const src = path.join(tmp, 'PREPARED');
  const copy = path.join(tmp, 'BROKEN');
  fs.cpSync(src, copy, { recursive: true });
  fs.rmSync(path.join(copy, 'train.safetensors'));
  assert.throws(() => loadPrepared(copy), (err: unknown) => err instanceof DataError && err.message.includes(path.join(copy, 'train.safetensors')) && /missing/.test(err.message));
  // Truncated.
  const val = fs.readFileSync(path.join(copy, 'val.safetensors'));
  fs.copyFileSync(path.join(src, 'train.safetensors'), path.join(copy, 'train.safetensors'));
  fs.writeFileSync(path.join(copy, 'val.safetensors'), val.subarray(0, val.length - 100));
  assert.throws(() => loadPrepared(copy), (err: unknown) => err instanceof DataError && err.message.includes('val.safetensors') && /truncated/.test(err.message));
  // Manifest disagreeing with the tensors.
  fs.writeFileSync(path.join(copy, 'val.safetensors'), val);
  const m = JSON.parse(fs.readFileSync(path.join(copy, 'manifest.json'), 'utf8'));
  m.imageShape = [64, 64, 1];
  fs.writeFileSync(path.join(copy, 'manifest.json'), JSON.stringify(m));
  assert.throws(() => loadPrepared(copy), (err: unknown) => err instanceof DataError && /manifest promises/.test(err.message));
  fs.writeFileSync(path.join(copy, 'manifest.json'), '{ not json');
  assert.throws(() => loadPrepared(copy), (err: unknown) => err instanceof DataError && err.message.includes('manifest.json'));
  assert.throws(() => loadPrepared(path.join(tmp, 'nowhere')), DataError);
});

test('an empty result (no slice with foreground) is a DataError; kept when empty slices are kept', async () => {
  const empty = { ...phantom(0, 0, 1.5).image };
  const zero: LabelVolume = { kind: 'label', size: SIZE, spacing: empty.spacing, origin: empty.origin, direction: empty.direction, data: new Uint8Array(6400), source: 'mem' };
  const stem = path.join(tmp, 'empty', 'e');
  await writeVolume(`${stem}.nii.gz`, empty);
  await writeVolume(`${stem}_gt.nii.gz`, zero);
  const src: DatasetSource = { ...source, root: path.join(tmp, 'empty'), cases: [{ patient: 'e', id: 'e', image: `${stem}.nii.gz`, label: `${stem}_gt.nii.gz`, tags: {} }] };
  const out = path.join(tmp, 'EMPTY');
  await assert.rejects(prepareFromSource(src, { out, quiet: true }), (err: unknown) => err instanceof DataError && /no slices/.test(err.message));
  assert.equal(fs.existsSync(out), false);
  const kept = await prepareFromSource(src, { out, config: { dropEmpty: false, size: 16 }, quiet: true });
  assert.deepEqual(kept.manifest.counts, { train: 4, val: 0, test: 0 });
  assert.equal(loadPrepared(out).split('val').count, 0);
});

test('prepareDataset: discovers an ACDC layout with its reader; publisher split', async () => {
  const root = path.join(tmp, 'acdc');
  for (const [subset, p] of [['training', 1], ['training', 2], ['testing', 3]] as const) {
    const name = `patient00${p}`;
    const dir = path.join(root, subset, name);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'Info.cfg'), 'ED: 1\nES: 7\nGroup: NOR\n');
    for (const [frame, f] of [[0, '01'], [1, '07']] as const) {
      const { image, label } = phantom(p - 1, frame, 1.5);
      await writeVolume(path.join(dir, `${name}_frame${f}.nii.gz`), image);
      await writeVolume(path.join(dir, `${name}_frame${f}_gt.nii.gz`), label);
    }
  }
  const out = path.join(tmp, 'ACDC-PREP');
  const res = await prepareDataset({ dataset: 'acdc', root, out, config: { size: 16, splitBy: 'publisher' }, quiet: true });
  const m = res.manifest;
  assert.equal(m.dataset, 'acdc');
  assert.deepEqual(m.classNames, ['background', 'RV', 'myocardium', 'LV']);
  assert.deepEqual(m.patients.test, ['patient003']);
  assert.equal(m.patients.train.length, 1);
  assert.equal(m.patients.val.length, 1);
  assert.equal((await prepareDataset({ dataset: 'acdc', root, out, config: { size: 16, splitBy: 'publisher' }, quiet: true })).cacheHit, true);
});

test('header geometry (for the median spacing) reads NIfTI and MetaImage headers like ITK does', async () => {
  const { image } = phantom(0, 0, 1.37);
  for (const name of ['h.nii.gz', 'h.nii', 'h.mha', 'h.mhd']) {
    const file = path.join(tmp, 'headers', name);
    await writeVolume(file, image);
    const g = fastHeaderGeometry(file);
    assert.ok(g, name);
    assert.deepEqual(g.size, SIZE);
    assert.ok(Math.abs(g.spacing[0] - 1.37) < 1e-6 && Math.abs(g.spacing[2] - 8) < 1e-6, `${name}: ${g.spacing}`);
  }
  const bad = path.join(tmp, 'headers', 'bad.nii.gz');
  fs.writeFileSync(bad, 'not gzip at all');
  assert.equal(fastHeaderGeometry(bad), undefined);
  await assert.rejects(headerGeometry(bad), (err: unknown) => err instanceof DataError && err.message.includes(bad));
});

test('load speed: 1000 slices of 64×64 load well under a second', () => {
  const dir = path.join(tmp, 'BIG');
  fs.mkdirSync(dir);
  const N = 1000;
  const H = 64;
  const images = new Float32Array(N * H * H).map((_, i) => ((i % 977) / 977) * 2 - 1); // [N, H, W, 1]
  const labels = new Uint8Array(N * H * H).map((_, i) => (i % 5 === 0 ? 1 : 0)); // [N, H, W]
  const info = Array.from({ length: N }, (_, i) => ({ patient: `p${i % 10}`, case: `c${i % 20}`, slice: i, foreground: 0 }));
  const manifest: PreparedManifest = {
    format: 'medsyn-prepared/1',
    dataset: 'synthetic',
    modality: 'mri',
    classNames: ['background', 'a'],
    imageShape: [H, H, 1],
    configHash: 'x',
    config: {},
    sourceRoot: '/',
    patients: { train: ['p'], val: [], test: [] },
    counts: { train: N, val: 0, test: 0 },
    slices: { train: info, val: [], test: [] },
    createdAt: new Date().toISOString(),
    medsynVersion: MEDSYN_VERSION,
  };
  const empty = { images: new Float32Array(0), labels: new Uint8Array(0) };
  writePrepared(dir, manifest, { train: { images, labels }, val: empty, test: empty });
  const t0 = performance.now();
  const ds = loadPrepared(dir);
  const train = ds.split('train');
  const ms = performance.now() - t0;
  const t1 = performance.now();
  const oh = oneHot(train.labels, ds.numClasses);
  const msOneHot = performance.now() - t1;
  console.log(`# loadPrepared + split('train') of 1000×64×64: ${ms.toFixed(1)} ms; oneHot: ${msOneHot.toFixed(1)} ms`);
  assert.equal(train.count, N);
  assert.deepEqual(train.images, images);
  assert.deepEqual(train.labels, labels);
  assert.equal(oh.length, N * H * H * 2);
  assert.ok(ms < 500, `load took ${ms} ms`);
});

test('renderOverlayGrid: a PNG grid of slices with coloured labels, from a dataset or raw arrays', async () => {
  const ds = loadPrepared(path.join(tmp, 'PREPARED'));
  const out = path.join(tmp, 'grid.png');
  const res = await renderOverlayGrid(ds, { out, n: 5, cols: 3, split: 'train' });
  assert.equal(res.count, 5);
  const meta = await sharp(out).metadata();
  assert.equal(meta.format, 'png');
  assert.deepEqual([meta.width, meta.height], [res.width, res.height]);
  assert.equal(res.width, 3 * 128 + 4 * 2); // 32 px tiles upscaled ×4, 2 px gaps
  assert.equal(res.height, 2 * 128 + 3 * 2);
  // A red (class 1) overlay shows up.
  const { data } = await sharp(out).raw().toBuffer({ resolveWithObject: true });
  let reddish = 0;
  for (let i = 0; i < data.length; i += 3) if (data[i]! > data[i + 1]! + 60 && data[i]! > data[i + 2]! + 60) reddish++;
  assert.ok(reddish > 100);
  // Raw arrays, contour mode.
  const split = ds.split('test');
  const res2 = await renderOverlayGrid({ count: split.count, height: 32, width: 32, channels: 1, images: split.images, labels: split.labels }, { out: path.join(tmp, 'c.png'), contour: true, scale: 1 });
  assert.equal(res2.count, 6);
  assert.ok(fs.existsSync(path.join(tmp, 'c.png')));
  // RGB slices keep their colours under the overlay.
  const rgb = { count: 1, height: 4, width: 4, channels: 3, images: new Float32Array(48).fill(-1).map((v, i) => (i % 3 === 2 ? 1 : v)), labels: new Uint8Array(16) };
  rgb.labels[5] = 2;
  await renderOverlayGrid(rgb, { out: path.join(tmp, 'rgb.png'), scale: 1, alpha: 1 });
  const px = (await sharp(path.join(tmp, 'rgb.png')).raw().toBuffer({ resolveWithObject: true })).data;
  const at = (x: number, y: number): number[] => [...px.subarray(((y + 2) * 8 + x + 2) * 3, ((y + 2) * 8 + x + 2) * 3 + 3)];
  assert.deepEqual(at(0, 0), [0, 0, 255]);
  assert.deepEqual(at(1, 1), [0, 255, 0]); // class 2 green
  assert.deepEqual(fs.readdirSync(tmp).filter((n) => n.includes('.tmp-')), []);
});
