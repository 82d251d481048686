/**
 * Dataset readers, case loading and integrity checks against fixtures written by nibabel / numpy / PIL
 * (test/fixtures/make_fixtures.py): what medsyn reads is compared with what the independent writer recorded in
 * test/fixtures/expected.json. Layout errors are checked on throw-away folders of empty files (discovery reads no
 * pixels).
 */
import { after, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, DataError } from '../../src/core/errors.js';
import { readIntensity, readLabels } from '../../src/data/io/image-io.js';
import { loadCase } from '../../src/data/readers/case.js';
import { READERS, readerFor } from '../../src/data/readers/index.js';
import type { CaseEntry, DatasetSource } from '../../src/data/readers/types.js';
import { labelValues, type IntensityVolume, type LabelVolume } from '../../src/data/volume.js';

// Compiled to dist/test/data/: the fixtures stay in the source tree.
const FIXTURES = fileURLToPath(new URL('../../../test/fixtures/', import.meta.url));
const fixture = (...parts: string[]) => path.join(FIXTURES, ...parts);

interface Expected {
  readonly size: number[];
  readonly spacing: number[];
  readonly origin: number[];
  /** Row-major 3×3, LPS. */
  readonly direction: number[];
  readonly dtype: 'int16' | 'uint8' | 'float32';
  readonly components: number;
  /** `at` is [x, y, z]; `value` is a number, or [r, g, b] for colour images. */
  readonly values: { at: [number, number, number]; value: number | number[] }[];
  readonly sum: number;
  readonly labels?: number[];
}
const EXPECTED: Record<string, Expected> = JSON.parse(fs.readFileSync(fixture('expected.json'), 'utf8'));

const TEMP = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-readers-'));
after(() => fs.rmSync(TEMP, { recursive: true, force: true }));

/** A throw-away folder holding `files` (path → content; '' for an empty placeholder). */
function tree(name: string, files: Record<string, string>): string {
  const root = path.join(TEMP, name);
  for (const [file, content] of Object.entries(files)) {
    fs.mkdirSync(path.dirname(path.join(root, file)), { recursive: true });
    fs.writeFileSync(path.join(root, file), content);
  }
  return root;
}

/** Asserts a DataError whose message names every `mention` and carries a fix. */
async function dataError(run: () => unknown, ...mentions: string[]): Promise<void> {
  await assert.rejects(
    async () => run(),
    (err: unknown) => {
      assert.ok(err instanceof DataError, `expected a DataError, got ${String(err)}`);
      for (const m of mentions) assert.ok(err.message.includes(m), `"${m}" missing from: ${err.message}`);
      assert.match(err.message, /\n {2}fix: \S/, `no fix in: ${err.message}`);
      return true;
    },
  );
}

const key = (file: string) => path.relative(FIXTURES, file).split(path.sep).join('/');
const near = (a: readonly number[], b: readonly number[], tol: number, what: string) =>
  a.forEach((v, i) => assert.ok(Math.abs(v - b[i]!) <= tol * Math.max(1, Math.abs(b[i]!)), `${what}: ${a.join(',')} vs ${b.join(',')}`));
const RANGES = { int16: [-32768, 32767], uint8: [0, 255], float32: [-Infinity, Infinity] } as const;

interface Check {
  /** Tolerance on voxel values (JPEG decoders may round differently). */
  readonly tol?: number;
  /** Colour channel c of the volume instead of the whole voxel (R, G, B stored as separate files). */
  readonly channel?: number;
  /** Label files stored 0/255: expected values are divided by 255. */
  readonly binary255?: boolean;
  /** Bitmap labels take their image's geometry in loadCase: skip spacing/origin/direction. */
  readonly geometry?: boolean;
}

/** Compares a volume read by medsyn with what the fixture writer recorded for `file`. */
function checkAgainstExpected(volume: IntensityVolume | LabelVolume, file: string, opts: Check = {}): void {
  const e = EXPECTED[key(file)];
  assert.ok(e, `no expectation for ${key(file)}`);
  const components = volume.kind === 'intensity' ? volume.components : 1;
  const scale = opts.binary255 ? 255 : 1;
  assert.deepEqual([...volume.size], e.size, `${key(file)} size`);
  assert.equal(opts.channel === undefined ? components : 1, e.components, `${key(file)} components`);
  if (opts.geometry !== false) {
    near(volume.spacing, e.spacing, 1e-6, `${key(file)} spacing`); // NIfTI stores float32 pixdim
    near(volume.origin, e.origin, 1e-5, `${key(file)} origin`);
    near(volume.direction, e.direction, 1e-6, `${key(file)} direction`);
  }
  const [nx, ny] = volume.size;
  for (const { at, value } of e.values) {
    const [x, y, z] = at;
    const voxel = x + nx * (y + ny * z); // ITK order: x fastest
    const want = Array.isArray(value) ? value : [value];
    const got = opts.channel === undefined ? want.map((_, c) => volume.data[voxel * components + c]!) : [volume.data[voxel * components + opts.channel]!];
    near(got, want.map((v) => v / scale), opts.tol ?? 0, `${key(file)} voxel ${at}`);
  }
  let sum = 0;
  for (let i = opts.channel ?? 0; i < volume.data.length; i += opts.channel === undefined ? 1 : components) {
    const v = volume.data[i]!;
    sum += v;
    if (e.dtype !== 'float32' && !opts.binary255) {
      const [lo, hi] = RANGES[e.dtype];
      assert.ok(Number.isInteger(v) && v >= lo && v <= hi, `${key(file)}: ${v} is not an ${e.dtype}`);
    }
  }
  near([sum], [e.sum / scale], opts.tol ? 1e-3 : 1e-9, `${key(file)} sum`);
  if (e.labels && volume.kind === 'label') assert.deepEqual(labelValues(volume), e.labels.map((v) => v / scale), `${key(file)} labels`);
}

const FIXTURE_DATASETS = [
  ['acdc', 'ACDC'],
  ['sliver07', 'SLiver07'],
  ['idrid', 'IDRiD'],
  ['nnunet', 'Dataset901_Tiny'],
  ['nnunet', 'Dataset902_RGBSplit'],
  ['nnunet', 'Task04_TinyMSD'],
] as const;
const discover = (id: keyof typeof READERS, dir: string): DatasetSource => READERS[id].discover(fixture(dir));
const summary = (s: DatasetSource) => s.cases.map((c) => ({ id: c.id, patient: c.patient, image: key(c.image), label: key(c.label), tags: c.tags }));

describe('discovery on the publishers\' layouts', () => {
  test('acdc: ED/ES of training and testing, database/ wrapper, testing patient without gt counted', () => {
    const s = discover('acdc', 'ACDC');
    assert.equal(s.dataset, 'acdc');
    assert.equal(s.modality, 'mri');
    assert.deepEqual(s.classNames, ['background', 'RV', 'myocardium', 'LV']);
    assert.equal(s.binary255, false);
    const p = 'ACDC/database';
    assert.deepEqual(summary(s), [
      { id: 'patient001_ED', patient: 'patient001', image: `${p}/training/patient001/patient001_frame01.nii.gz`, label: `${p}/training/patient001/patient001_frame01_gt.nii.gz`, tags: { frame: 'ED', subset: 'training', group: 'DCM' } },
      { id: 'patient001_ES', patient: 'patient001', image: `${p}/training/patient001/patient001_frame12.nii.gz`, label: `${p}/training/patient001/patient001_frame12_gt.nii.gz`, tags: { frame: 'ES', subset: 'training', group: 'DCM' } },
      // Info.cfg of patient101 writes "ED: 01", "ES: 07"
      { id: 'patient101_ED', patient: 'patient101', image: `${p}/testing/patient101/patient101_frame01.nii.gz`, label: `${p}/testing/patient101/patient101_frame01_gt.nii.gz`, tags: { frame: 'ED', subset: 'testing', group: 'NOR' } },
      { id: 'patient101_ES', patient: 'patient101', image: `${p}/testing/patient101/patient101_frame07.nii.gz`, label: `${p}/testing/patient101/patient101_frame07_gt.nii.gz`, tags: { frame: 'ES', subset: 'testing', group: 'NOR' } },
    ]);
    assert.equal(s.notes?.length, 1);
    assert.match(s.notes![0]!, /skipped 1 testing patient/);
    // The 2017 layout: ROOT holds training/ directly.
    assert.deepEqual(summary(READERS.acdc.discover(fixture('ACDC', 'database'))), summary(s));
  });

  test('sliver07: pairs matched by number across scan/, label/ and the root', () => {
    const s = discover('sliver07', 'SLiver07');
    assert.equal(s.modality, 'ct');
    assert.deepEqual(s.classNames, ['background', 'liver']);
    assert.deepEqual(summary(s), [
      { id: 'liver001', patient: 'liver001', image: 'SLiver07/scan/liver-orig001.mhd', label: 'SLiver07/label/liver-seg001.mhd', tags: {} },
      { id: 'liver002', patient: 'liver002', image: 'SLiver07/liver-orig002.mhd', label: 'SLiver07/liver-seg002.mhd', tags: {} },
    ]);
  });

  test('idrid: optic-disc pairs of both sets; image without mask skipped; ROOT may be "A. Segmentation"', () => {
    const s = discover('idrid', 'IDRiD');
    assert.equal(s.modality, 'rgb');
    assert.equal(s.binary255, true);
    assert.deepEqual(s.classNames, ['background', 'optic disc']);
    const seg = 'IDRiD/A. Segmentation';
    assert.deepEqual(summary(s), [
      { id: 'IDRiD_01', patient: 'IDRiD_01', image: `${seg}/1. Original Images/a. Training Set/IDRiD_01.jpg`, label: `${seg}/2. All Segmentation Groundtruths/a. Training Set/5. Optic Disc/IDRiD_01_OD.tif`, tags: { subset: 'training' } },
      { id: 'IDRiD_55', patient: 'IDRiD_55', image: `${seg}/1. Original Images/b. Testing Set/IDRiD_55.jpg`, label: `${seg}/2. All Segmentation Groundtruths/b. Testing Set/5. Optic Disc/IDRiD_55_OD.tif`, tags: { subset: 'testing' } },
    ]);
    assert.match(s.notes![0]!, /skipped 1 image/);
    assert.deepEqual(summary(READERS.idrid.discover(fixture('IDRiD', 'A. Segmentation'))), summary(s));
  });

  test('nnunet v2: cases from imagesTr, imagesTs ignored, labels name→value, CT', () => {
    const s = discover('nnunet', 'Dataset901_Tiny');
    assert.equal(s.modality, 'ct');
    assert.deepEqual(s.classNames, ['background', 'liver', 'tumour']);
    assert.deepEqual(
      summary(s),
      ['tiny_001', 'tiny_002', 'tiny_003'].map((id) => ({ id, patient: id, image: `Dataset901_Tiny/imagesTr/${id}_0000.nii.gz`, label: `Dataset901_Tiny/labelsTr/${id}.nii.gz`, tags: {} })),
    );
    assert.deepEqual(s.notes, []);
  });

  test('nnunet v2, colour split into _0000/_0001/_0002 PNGs: one RGB case each', () => {
    const s = discover('nnunet', 'Dataset902_RGBSplit');
    assert.equal(s.modality, 'rgb');
    assert.deepEqual(s.classNames, ['background', 'road']);
    assert.deepEqual(s.cases.map((c) => c.rgbChannels?.map(key)), ['rgb_001', 'rgb_002'].map((id) => [0, 1, 2].map((c) => `Dataset902_RGBSplit/imagesTr/${id}_000${c}.png`)));
    assert.match(s.notes![0]!, /combined into one colour image/);
  });

  test('nnunet, MSD dataset.json: the training list, value→name labels, AppleDouble files ignored', () => {
    const s = discover('nnunet', 'Task04_TinyMSD');
    assert.equal(s.modality, 'mri');
    assert.deepEqual(s.classNames, ['background', 'Anterior', 'Posterior']);
    assert.deepEqual(
      summary(s),
      ['hippocampus_001', 'hippocampus_002'].map((id) => ({ id, patient: id, image: `Task04_TinyMSD/imagesTr/${id}.nii.gz`, label: `Task04_TinyMSD/labelsTr/${id}.nii.gz`, tags: {} })),
    );
  });
});

describe('voxels, as the independent writer recorded them', () => {
  const checked = new Set<string>();
  for (const [id, dir] of FIXTURE_DATASETS) {
    test(`${dir}: every case through loadCase`, async () => {
      const source = discover(id, dir);
      for (const entry of source.cases) {
        const { image, label } = await loadCase(source, entry);
        const jpeg = /\.jpe?g$/i.test(entry.image);
        if (entry.rgbChannels) entry.rgbChannels.forEach((file, channel) => (checkAgainstExpected(image, file, { channel }), checked.add(key(file))));
        else checkAgainstExpected(image, entry.image, { tol: jpeg ? 2 : 0 });
        const bitmapLabel = /\.(png|tiff?)$/i.test(entry.label);
        checkAgainstExpected(label, entry.label, { binary255: source.binary255, geometry: !bitmapLabel });
        if (bitmapLabel) assert.deepEqual([label.spacing, label.origin, label.direction], [image.spacing, image.origin, image.direction]);
        checked.add(key(entry.image)).add(key(entry.label));
      }
    });
  }

  test('files no case uses (imagesTs, images without labels) read directly', async () => {
    const rest = Object.keys(EXPECTED).filter((k) => !checked.has(k));
    assert.deepEqual(rest.sort(), [
      'ACDC/database/testing/patient102/patient102_frame01.nii.gz',
      'ACDC/database/testing/patient102/patient102_frame09.nii.gz',
      'Dataset901_Tiny/imagesTs/tiny_004_0000.nii.gz',
      'IDRiD/A. Segmentation/1. Original Images/a. Training Set/IDRiD_02.jpg',
    ]);
    for (const k of rest) checkAgainstExpected(await readIntensity(fixture(k)), fixture(k), { tol: k.endsWith('.jpg') ? 2 : 0 });
  });
});

describe('corrupt files: a DataError naming the file, with a fix', () => {
  const bad = (name: string) => fixture('bad', name);
  const source = (classNames: string[]): DatasetSource => ({ dataset: 'test', root: fixture('bad'), modality: 'mri', classNames, binary255: false, cases: [] });
  const entry = (name: string): CaseEntry => ({ patient: name, id: name, image: bad(`${name}_image.nii.gz`), label: bad(`${name}_label.nii.gz`), tags: {} });

  test('truncated .nii.gz (which ITK-wasm would read as garbage)', () => dataError(() => readIntensity(bad('truncated.nii.gz')), 'truncated.nii.gz', 'truncated or corrupt gzip stream'));
  test('complete gzip around a NIfTI with too few voxel bytes', () => dataError(() => readIntensity(bad('short-voxels.nii.gz')), 'short-voxels.nii.gz', '12×10×6 voxels of 16 bits', 'needs 1792'));
  test('uncompressed .nii with too few voxel bytes', () => dataError(() => readIntensity(bad('short-voxels.nii')), 'short-voxels.nii', 'holds 1692 bytes'));
  test('.mhd without its .raw', () => dataError(() => readIntensity(bad('liver-orig097.mhd')), 'liver-orig097.mhd', 'liver-orig097.raw'));
  test('.raw shorter than its .mhd promises', () => dataError(() => readIntensity(bad('liver-orig098.mhd')), 'liver-orig098.raw', 'liver-orig098.mhd', 'holds 960 bytes', '1200 bytes'));
  test('.mha with pixel data cut short', () => dataError(() => readIntensity(bad('short.mha')), 'short.mha', 'holds 1186 bytes', '1200 bytes'));
  test('truncated JPEG', () => dataError(() => readIntensity(bad('truncated.jpg')), 'truncated.jpg', 'ffd9'));
  test('truncated TIFF (strip data past the end)', () => dataError(() => readLabels(bad('truncated.tif')), 'truncated.tif', 'pixel data end at byte 506', 'holds 253 bytes'));
  test('truncated PNG', () => dataError(() => readLabels(bad('truncated.png')), 'truncated.png', 'IEND'));
  test('a .tif that is not a TIFF', () => dataError(() => readLabels(bad('not-a-tiff.tif')), 'not-a-tiff.tif', '49492a00'));
  test('label value outside the classes', () => dataError(() => loadCase(source(['background', 'a', 'b']), entry('value7')), 'value7_label.nii.gz', 'value(s) 7', '0 background, 1 a, 2 b'));
  test('image and label sizes differ', () => dataError(() => loadCase(source(['background', 'a']), entry('mismatch')), 'mismatch_label.nii.gz', 'mismatch_image.nii.gz', '6×5×3', '6×5×4'));
  test('image and label spacings differ', () => dataError(() => loadCase(source(['background', 'a']), entry('spacing')), 'spacing_label.nii.gz', 'spacing_image.nii.gz', '2×2×2 mm', '1×1×1 mm'));
});

describe('layout errors name the expected path and the fix', () => {
  test('acdc: not the ACDC folder', () => dataError(() => READERS.acdc.discover(tree('acdc-empty', { 'README.txt': '' })), path.join(TEMP, 'acdc-empty', 'training'), 'database/training'));
  test('acdc: training/ itself given as ROOT', () => dataError(() => READERS.acdc.discover(tree('acdc-inner/training', { 'patient001/Info.cfg': 'ED: 1\nES: 2\n' })), 'pass its parent'));
  test('acdc: missing Info.cfg, frame, ground truth', async () => {
    await dataError(() => READERS.acdc.discover(tree('acdc-noinfo', { 'training/patient001/patient001_frame01.nii.gz': '' })), path.join('patient001', 'Info.cfg'));
    const info = { 'training/patient001/Info.cfg': 'ED: 1\nES: 12\nGroup: DCM\n' };
    await dataError(() => READERS.acdc.discover(tree('acdc-noframe', { ...info, 'training/patient001/patient001_frame01.nii.gz': '', 'training/patient001/patient001_frame01_gt.nii.gz': '' })), 'patient001_frame12.nii.gz', 'as ES');
    await dataError(() => READERS.acdc.discover(tree('acdc-nogt', { ...info, 'training/patient001/patient001_frame01.nii.gz': '', 'training/patient001/patient001_frame12.nii.gz': '' })), 'patient001_frame01_gt.nii.gz');
    await dataError(() => READERS.acdc.discover(tree('acdc-noed', { 'training/patient001/Info.cfg': 'ES: 12\n' })), 'Info.cfg', '"ED: N"');
  });
  test('acdc: only testing patients without ground truth is an empty dataset', () =>
    dataError(() => READERS.acdc.discover(tree('acdc-nolabels', { 'training/.keep': '', 'testing/patient101/Info.cfg': 'ED: 1\nES: 2\n', 'testing/patient101/patient101_frame01.nii.gz': '', 'testing/patient101/patient101_frame02.nii.gz': '' })), 'no patientNNN folder with ground truth'));

  test('sliver07: a scan without segmentation, an orphan segmentation, duplicates, nothing', async () => {
    const pair = { 'liver-orig001.mhd': '', 'liver-seg001.mhd': '' };
    await dataError(() => READERS.sliver07.discover(tree('sliver-noseg', { ...pair, 'test/liver-orig021.mhd': '' })), 'liver-orig021.mhd', 'liver-seg021.mhd');
    await dataError(() => READERS.sliver07.discover(tree('sliver-noorig', { ...pair, 'liver-seg002.mhd': '' })), 'liver-seg002.mhd', 'liver-orig002.mhd');
    await dataError(() => READERS.sliver07.discover(tree('sliver-dup', { ...pair, 'copy/liver-orig001.mhd': '' })), 'liver-orig001.mhd', 'second copy');
    await dataError(() => READERS.sliver07.discover(tree('sliver-empty', { 'notes.txt': '' })), 'no liver-origNNN.mhd');
  });

  test('idrid: not the IDRiD folder; optic-disc folder missing', async () => {
    await dataError(() => READERS.idrid.discover(tree('idrid-empty', { 'x.txt': '' })), path.join('A. Segmentation', '1. Original Images'));
    await dataError(
      () => READERS.idrid.discover(tree('idrid-nomasks', { '1. Original Images/a. Training Set/IDRiD_01.jpg': '' })),
      path.join('2. All Segmentation Groundtruths', 'a. Training Set', '5. Optic Disc'),
    );
  });

  const v2 = (extra: Record<string, unknown> = {}) => JSON.stringify({ channel_names: { '0': 'T2' }, labels: { background: 0, prostate: 1 }, numTraining: 1, file_ending: '.nii.gz', ...extra });
  test('nnunet: no dataset.json; region-based labels; gaps in labels; no file_ending', async () => {
    await dataError(() => READERS.nnunet.discover(tree('nn-nojson', { 'imagesTr/a_0000.nii.gz': '' })), 'dataset.json', 'nnU-Net raw dataset folder');
    await dataError(() => READERS.nnunet.discover(tree('nn-regions', { 'dataset.json': v2({ labels: { background: 0, whole_tumor: [1, 2, 3] } }) })), 'dataset.json', 'region', 'whole_tumor');
    await dataError(() => READERS.nnunet.discover(tree('nn-gap', { 'dataset.json': v2({ labels: { background: 0, a: 2 } }) })), 'dataset.json', 'skip the value(s) 1');
    await dataError(() => READERS.nnunet.discover(tree('nn-noending', { 'dataset.json': v2({ file_ending: undefined }) })), 'dataset.json', 'file_ending');
  });
  test('nnunet: missing label, orphan label, misnamed image, wrong numTraining, empty', async () => {
    await dataError(() => READERS.nnunet.discover(tree('nn-nolabel', { 'dataset.json': v2(), 'imagesTr/a_0000.nii.gz': '', 'labelsTr/.keep': '' })), path.join('labelsTr', 'a.nii.gz'), 'imagesTs');
    await dataError(() => READERS.nnunet.discover(tree('nn-orphan', { 'dataset.json': v2(), 'imagesTr/a_0000.nii.gz': '', 'labelsTr/a.nii.gz': '', 'labelsTr/b.nii.gz': '' })), path.join('labelsTr', 'b.nii.gz'));
    await dataError(() => READERS.nnunet.discover(tree('nn-misnamed', { 'dataset.json': v2(), 'imagesTr/a.nii.gz': '', 'labelsTr/a.nii.gz': '' })), path.join('imagesTr', 'a.nii.gz'), 'a_0000.nii.gz');
    await dataError(() => READERS.nnunet.discover(tree('nn-count', { 'dataset.json': v2({ numTraining: 2 }), 'imagesTr/a_0000.nii.gz': '', 'labelsTr/a.nii.gz': '' })), 'numTraining 2', '1 training cases');
    await dataError(() => READERS.nnunet.discover(tree('nn-empty', { 'dataset.json': v2({ numTraining: 0 }), 'imagesTr/.keep': '', 'labelsTr/.keep': '' })), 'imagesTr', 'no training case');
  });
  test('nnunet MSD: a listed image that is missing', () =>
    dataError(
      () => READERS.nnunet.discover(tree('msd-missing', { 'dataset.json': JSON.stringify({ modality: { '0': 'CT' }, labels: { '0': 'background', '1': 'liver' }, training: [{ image: './imagesTr/liver_0.nii.gz', label: './labelsTr/liver_0.nii.gz' }] }) })),
      path.join('imagesTr', 'liver_0.nii.gz'),
      '"training"',
    ));

  test('nnunet MSD: a multi-modal case is one 4D file: convert it first', () =>
    dataError(
      () => READERS.nnunet.discover(tree('msd-4d', { 'dataset.json': JSON.stringify({ modality: { '0': 'T2', '1': 'ADC' }, labels: { '0': 'background', '1': 'PZ' }, training: [{ image: './imagesTr/prostate_00.nii.gz', label: './labelsTr/prostate_00.nii.gz' }] }), 'imagesTr/prostate_00.nii.gz': '', 'labelsTr/prostate_00.nii.gz': '' })),
      path.join('imagesTr', 'prostate_00.nii.gz'),
      '4D',
      'nnUNetv2_convert_MSD_dataset',
    ));

  test('nnunet: several channels → channel 0, with a note; one RGB file per case → no split', () => {
    const multi = READERS.nnunet.discover(
      tree('nn-multi', { 'dataset.json': v2({ channel_names: { '0': 'T2', '1': 'ADC' } }), 'imagesTr/p_0000.nii.gz': '', 'imagesTr/p_0001.nii.gz': '', 'labelsTr/p.nii.gz': '' }),
    );
    assert.equal(multi.modality, 'mri');
    assert.ok(multi.cases[0]!.image.endsWith('p_0000.nii.gz'));
    assert.match(multi.notes![0]!, /2 channels \(T2, ADC\); medsyn uses channel 0 \(T2\)/);
    const rgb = READERS.nnunet.discover(tree('nn-rgb', { 'dataset.json': v2({ channel_names: { '0': 'R', '1': 'G', '2': 'B' }, file_ending: '.png' }), 'imagesTr/road_0000.png': '', 'labelsTr/road.png': '' }));
    assert.equal(rgb.modality, 'rgb');
    assert.equal(rgb.cases[0]!.rgbChannels, undefined);
  });
});

test('readerFor: every id; a typo lists the valid ids and suggests the closest', () => {
  for (const id of Object.keys(READERS)) assert.equal(readerFor(id).id, id);
  const message = (id: string) => {
    try {
      readerFor(id);
    } catch (err) {
      assert.ok(err instanceof ConfigError);
      return err.message;
    }
    assert.fail(`readerFor(${id}) did not throw`);
  };
  assert.match(message('adcd'), /did you mean "acdc"\?.*acdc, sliver07, idrid, nnunet/);
  assert.match(message('nnUNet'), /did you mean "nnunet"/);
  assert.match(message('sliver'), /did you mean "sliver07"/);
  assert.doesNotMatch(message('brats2021'), /did you mean/);
  assert.match(message('brats2021'), /valid datasets: acdc, sliver07, idrid, nnunet/);
});
