import { after, before, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import zlib from 'node:zlib';
import { Rng } from '../../src/core/rng.js';
import { readIntensity, readLabels } from '../../src/data/io/image-io.js';
import { labelValues, type LabelVolume } from '../../src/data/volume.js';
import { cardiacPatient, fundusImage, liverPatient, writePhantoms } from '../../src/data/phantoms/index.js';

const SEED = 7;
let tmp: string;
let root: string;
const progress: [number, number, string][] = [];

before(async () => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-phantoms-'));
  root = path.join(tmp, 'a');
  await writePhantoms(root, { patients: 3, seed: SEED, onProgress: (done, total, note) => progress.push([done, total, note]) });
});

after(() => fs.rmSync(tmp, { recursive: true, force: true }));

/** Every file under dir, relative, sorted. */
function listFiles(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: 'utf8' }).filter((f) => fs.statSync(path.join(dir, f)).isFile()).sort();
}

/** NIfTI-1 `datatype` (2 = uint8, 4 = int16) from a .nii.gz header. */
const niftiDatatype = (file: string) => zlib.gunzipSync(fs.readFileSync(file)).readInt16LE(70);

const mhdField = (file: string, key: string) => new RegExp(`${key}\\s*=\\s*(.+)`).exec(fs.readFileSync(file, 'utf8'))?.[1]?.trim();

test('phantoms: publishers\' layouts and file names, progress reported per case', () => {
  const acdc = listFiles(path.join(root, 'acdc'));
  const frames = (dir: string, id: string) => {
    const info = fs.readFileSync(path.join(root, 'acdc', dir, id, 'Info.cfg'), 'utf8');
    assert.match(info, /^ED: 1\nES: \d+\nGroup: (NOR|MINF|DCM|HCM|RV)\nHeight: \d+\.\d\nNbFrame: \d+\nWeight: \d+\.\d\n$/);
    const es = Number(/ES: (\d+)/.exec(info)![1]);
    return ['Info.cfg', ...[1, es].flatMap((f) => [`${id}_frame${String(f).padStart(2, '0')}.nii.gz`, `${id}_frame${String(f).padStart(2, '0')}_gt.nii.gz`])].map((f) => path.join(dir, id, f));
  };
  const expected = [...frames('training', 'patient001'), ...frames('training', 'patient002'), ...frames('testing', 'patient003')].sort();
  assert.deepEqual(acdc, expected);

  assert.deepEqual(listFiles(path.join(root, 'sliver07')), ['001', '002', '003'].flatMap((i) => [`liver-orig${i}.mhd`, `liver-orig${i}.raw`, `liver-seg${i}.mhd`, `liver-seg${i}.raw`]).sort());

  const seg = 'A. Segmentation';
  const images = (split: string, ids: string[]) => ids.map((id) => path.join(seg, '1. Original Images', split, `${id}.jpg`));
  const masks = (split: string, ids: string[]) => ids.map((id) => path.join(seg, '2. All Segmentation Groundtruths', split, '5. Optic Disc', `${id}_OD.tif`));
  const idrid = [...images('a. Training Set', ['IDRiD_01', 'IDRiD_02']), ...images('b. Testing Set', ['IDRiD_03']), ...masks('a. Training Set', ['IDRiD_01', 'IDRiD_02']), ...masks('b. Testing Set', ['IDRiD_03'])];
  assert.deepEqual(listFiles(path.join(root, 'idrid')), idrid.sort());

  assert.equal(progress.length, 9);
  assert.deepEqual(progress.at(-1)!.slice(0, 2), [9, 9]);
});

/** Every LV pixel's 4-neighbours (in-plane) are LV or myocardium. */
function lvEnclosed(label: LabelVolume): boolean {
  const [nx, ny, nz] = label.size;
  for (let z = 0; z < nz; z++) {
    for (let y = 1; y < ny - 1; y++) {
      for (let x = 1; x < nx - 1; x++) {
        const k = (z * ny + y) * nx + x;
        if (label.data[k] !== 3) continue;
        for (const n of [k - 1, k + 1, k - nx, k + nx]) if (label.data[n] !== 3 && label.data[n] !== 2) return false;
      }
    }
  }
  return true;
}

test('phantoms: ACDC volumes read back as int16 short-axis stacks with labels {0,1,2,3}, LV inside myocardium', async () => {
  for (const [dir, id] of [['training', 'patient001'], ['training', 'patient002'], ['testing', 'patient003']]) {
    const folder = path.join(root, 'acdc', dir!, id!);
    const es = Number(/ES: (\d+)/.exec(fs.readFileSync(path.join(folder, 'Info.cfg'), 'utf8'))![1]);
    for (const frame of [1, es]) {
      const stem = path.join(folder, `${id}_frame${String(frame).padStart(2, '0')}`);
      assert.equal(niftiDatatype(`${stem}.nii.gz`), 4, 'image int16');
      assert.equal(niftiDatatype(`${stem}_gt.nii.gz`), 2, 'label uint8');
      const image = await readIntensity(`${stem}.nii.gz`);
      const label = await readLabels(`${stem}_gt.nii.gz`);
      const [nx, ny, nz] = image.size;
      assert.ok(nx >= 128 && nx <= 160 && ny >= 128 && ny <= 160 && nz >= 8 && nz <= 10, `size ${image.size}`);
      assert.deepEqual(label.size, image.size);
      assert.ok(image.spacing[0] >= 1.4 && image.spacing[0] <= 1.6 && Math.abs(image.spacing[0] - image.spacing[1]) < 1e-4);
      assert.ok(Math.abs(image.spacing[2] - 10) < 1e-4);
      assert.deepEqual(labelValues(label), [0, 1, 2, 3]);
      assert.ok(lvEnclosed(label), `${stem}: LV touches something other than myocardium`);
      assert.ok(image.data.every((v) => v >= 0 && Number.isInteger(v)), 'magnitude images, integer');
      // Bright blood: the LV cavity is brighter than the myocardium.
      const mean = (l: number) => {
        let s = 0, n = 0;
        label.data.forEach((v, i) => v === l && ((s += image.data[i]!), n++));
        return s / n;
      };
      assert.ok(mean(3) > 2 * mean(2), 'LV blood brighter than myocardium');
    }
  }
});

test('phantoms: ACDC end-systole has a smaller LV cavity and a thicker wall than end-diastole', () => {
  const p = cardiacPatient(new Rng(3), { group: 'NOR' });
  const count = (l: LabelVolume, v: number) => l.data.reduce((s, x) => s + (x === v ? 1 : 0), 0);
  assert.ok(count(p.es.label, 3) < 0.7 * count(p.ed.label, 3));
  assert.ok(count(p.es.label, 2) / count(p.es.label, 3) > count(p.ed.label, 2) / count(p.ed.label, 3));
});

test('phantoms: SLiver07 volumes are int16 HU with a uint8 liver mask covering 3–8 % of the voxels', async () => {
  for (const id of ['001', '002', '003']) {
    const orig = path.join(root, 'sliver07', `liver-orig${id}.mhd`);
    const seg = path.join(root, 'sliver07', `liver-seg${id}.mhd`);
    assert.equal(mhdField(orig, 'ElementType'), 'MET_SHORT');
    assert.equal(mhdField(seg, 'ElementType'), 'MET_UCHAR');
    assert.equal(mhdField(orig, 'ElementDataFile'), `liver-orig${id}.raw`);
    const image = await readIntensity(orig);
    const label = await readLabels(seg);
    const [nx, ny, nz] = image.size;
    assert.deepEqual([nx, ny], [160, 160]);
    assert.ok(nz >= 40 && nz <= 60);
    assert.deepEqual(label.size, image.size);
    assert.ok(image.spacing[0] >= 2 && image.spacing[0] <= 2.5 && image.spacing[2] >= 2.5 && image.spacing[2] <= 3);
    assert.deepEqual(labelValues(label), [0, 1]);
    const liver = label.data.reduce((s, v) => s + v, 0);
    assert.ok(liver / label.data.length > 0.03 && liver / label.data.length < 0.08, `liver fraction ${liver / label.data.length}`);
    const plane = nx * ny;
    const sliceHasLiver = (z: number) => label.data.subarray(z * plane, (z + 1) * plane).some((v) => v === 1);
    assert.ok(!sliceHasLiver(0) && !sliceHasLiver(nz - 1), 'liver absent from the first and last slices');
    let air = 0, hu = 0;
    label.data.forEach((v, i) => v === 1 && (hu += image.data[i]!));
    hu /= liver;
    for (let i = 0; i < nx; i++) air += image.data[i]!; // first row of the first slice: outside the body
    assert.ok(air / nx < -900, `air ${air / nx} HU`);
    assert.ok(hu > 60 && hu < 150, `liver ${hu} HU`);
    assert.ok(image.data.every((v) => v >= -1024 && v <= 3071 && Number.isInteger(v)));
  }
});

test('phantoms: IDRiD photographs are 384×256 RGB JPEG with 0/255 optic-disc TIFF masks; the disc is bright', async () => {
  const seg = path.join(root, 'idrid', 'A. Segmentation');
  for (const [split, id] of [['a. Training Set', 'IDRiD_01'], ['b. Testing Set', 'IDRiD_03']]) {
    const image = await readIntensity(path.join(seg, '1. Original Images', split!, `${id}.jpg`));
    const maskFile = path.join(seg, '2. All Segmentation Groundtruths', split!, '5. Optic Disc', `${id}_OD.tif`);
    const raw = await readIntensity(maskFile);
    const mask = await readLabels(maskFile, { binary255: true });
    assert.deepEqual(image.size, [384, 256, 1]);
    assert.equal(image.components, 3);
    assert.deepEqual(mask.size, [384, 256, 1]);
    assert.equal(raw.components, 1);
    assert.deepEqual([...new Set(raw.data)].sort((a, b) => a - b), [0, 255]);
    assert.deepEqual(labelValues(mask), [0, 1]);
    // Mean brightness inside the disc vs. a ring around it (pixels within 1.5 disc radii of its centre, outside it).
    let cx = 0, cy = 0, area = 0;
    mask.data.forEach((v, i) => v && ((cx += i % 384), (cy += Math.floor(i / 384)), area++));
    [cx, cy] = [cx / area, cy / area];
    const r = Math.sqrt(area / Math.PI);
    let inside = 0, nIn = 0, ring = 0, nRing = 0;
    mask.data.forEach((v, i) => {
      const grey = image.data[3 * i]! + image.data[3 * i + 1]! + image.data[3 * i + 2]!;
      const d = Math.hypot((i % 384) - cx, Math.floor(i / 384) - cy);
      if (v) [inside, nIn] = [inside + grey, nIn + 1];
      else if (d < 1.5 * r) [ring, nRing] = [ring + grey, nRing + 1];
    });
    assert.ok(inside / nIn > 1.3 * (ring / nRing), `disc ${inside / nIn} vs surround ${ring / nRing}`);
    // Outside the circular field of view (image corners) it is dark; the retina is red-dominant.
    assert.ok(image.data[0]! + image.data[1]! + image.data[2]! < 40);
    const centre = 3 * (128 * 384 + 192);
    assert.ok(image.data[centre]! > image.data[centre + 1]! && image.data[centre + 1]! > image.data[centre + 2]!);
  }
});

test('phantoms: same seed ⇒ byte-identical files (per-patient streams: patient 1 is the same with 1 or 3 patients)', async () => {
  const again = path.join(tmp, 'b');
  await writePhantoms(again, { patients: 1, seed: SEED });
  const files = listFiles(again);
  assert.equal(files.length, 5 + 4 + 2);
  for (const f of files) assert.ok(fs.readFileSync(path.join(again, f)).equals(fs.readFileSync(path.join(root, f))), `${f} differs`);
});

test('phantoms: a different seed gives different data', () => {
  assert.notDeepEqual(cardiacPatient(new Rng(1)).ed.image.data, cardiacPatient(new Rng(2)).ed.image.data);
  assert.notDeepEqual(fundusImage(new Rng(1)).image.data, fundusImage(new Rng(2)).image.data);
  assert.notDeepEqual(liverPatient(new Rng(1)).label.data, liverPatient(new Rng(2)).label.data);
});
