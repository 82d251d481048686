import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DataError } from '../../src/core/errors.js';
import { encodeNpy, parseNpy, readNpy, readNpyMatrix, writeNpy, writeNpyMatrix } from '../../src/metrics/npy.js';
import { featureMatrix } from '../../src/metrics/stats.js';
import { fixture, vectors } from './helpers.js';

test('readNpy: files written by numpy — f8, f4 v2.0/v3.0 headers, big-endian, Fortran order (2-D and 3-D)', () => {
  const v = vectors().npy;
  const f8 = readNpy(fixture('small_5x3_f8.npy'));
  assert.deepEqual(f8.shape, [5, 3]);
  assert.equal(f8.dtype, '<f8');
  assert.ok(f8.data instanceof Float64Array);
  assert.deepEqual(Array.from(f8.data), v.small_5x3);
  assert.deepEqual(f8.version, [1, 0]);
  const fo = readNpy(fixture('small_5x3_f8_fortran.npy'));
  assert.equal(fo.fortranOrder, true);
  assert.deepEqual(Array.from(fo.data), v.small_5x3);
  const be = readNpy(fixture('small_5x3_be_f8.npy'));
  assert.equal(be.storedDescr, '>f8');
  assert.deepEqual(Array.from(be.data), v.small_5x3);
  assert.deepEqual(Array.from(readNpy(fixture('small_5x3_be_f4.npy')).data), v.small_5x3_f4);
  for (const [name, ver] of [['small_5x3_f4_v2.npy', [2, 0]], ['small_5x3_f4_v3.npy', [3, 0]]] as const) {
    const a = readNpy(fixture(name));
    assert.deepEqual(a.version, ver);
    assert.ok(a.data instanceof Float32Array);
    assert.deepEqual(Array.from(a.data), v.small_5x3_f4);
  }
  const cube = readNpy(fixture('cube_2x3x4_f4_fortran.npy'));
  assert.deepEqual(cube.shape, [2, 3, 4]);
  assert.deepEqual(Array.from(cube.data), v.cube_2x3x4);
  const real = readNpyMatrix(fixture('real_200x64_f4.npy'));
  assert.equal(real.rows, 200);
  assert.equal(real.cols, 64);
  assert.deepEqual(Array.from(real.data.subarray(0, 64)), v.real_row0);
  const fake = readNpyMatrix(fixture('fake_180x64_f4.npy'));
  assert.deepEqual(Array.from(fake.data.subarray(179 * 64)), v.fake_last_row);
});

test('encodeNpy/writeNpy produce the bytes np.save writes; round trip', () => {
  const real = readNpyMatrix(fixture('real_200x64_f4.npy'));
  assert.deepEqual(Buffer.from(encodeNpy(real.data, [200, 64])), fs.readFileSync(fixture('real_200x64_f4.npy')));
  const small = readNpy(fixture('small_5x3_f8.npy'));
  assert.deepEqual(Buffer.from(encodeNpy(small.data, [5, 3])), fs.readFileSync(fixture('small_5x3_f8.npy')));
  assert.deepEqual(Buffer.from(encodeNpy(Float32Array.from([0, 1, 2, 3, 4, 5]), [6])), fs.readFileSync(fixture('vector_6_f4.npy')));
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-npy-'));
  try {
    const p = path.join(dir, 'x.npy');
    writeNpyMatrix(p, featureMatrix(Float64Array.from([1.5, -2, 3e-300, 4]), 2, 2), '<f4');
    const back = readNpyMatrix(p);
    assert.ok(back.data instanceof Float32Array);
    assert.deepEqual(Array.from(back.data), [1.5, -2, 0, 4]);
    writeNpy(p, Float64Array.from([1, 2, 3]), [1, 3]);
    assert.deepEqual(Array.from(readNpyMatrix(p).data), [1, 2, 3]);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test('npy errors name the file and the problem', () => {
  const isData = (re: RegExp) => (e: unknown) => e instanceof DataError && re.test((e as Error).message);
  assert.throws(() => readNpy(fixture('does-not-exist.npy')), isData(/does-not-exist\.npy: file not found/));
  assert.throws(() => readNpy(fixture('ints_4x2_i8.npy')), isData(/ints_4x2_i8\.npy: unsupported dtype '<i8'/));
  assert.throws(() => readNpyMatrix(fixture('vector_6_f4.npy')), isData(/vector_6_f4\.npy: expected a 2-D feature array .* shape \(6,\)/));
  assert.throws(() => readNpyMatrix(fixture('empty_0x3_f4.npy')), isData(/empty/));
  assert.throws(() => readNpyMatrix(fixture('cube_2x3x4_f4_fortran.npy')), isData(/2-D/));
  const bytes = fs.readFileSync(fixture('small_5x3_f8.npy'));
  assert.throws(() => parseNpy(bytes.subarray(0, bytes.length - 8), 'cut.npy'), isData(/cut\.npy: file is truncated/));
  assert.throws(() => parseNpy(Buffer.from('PK\x03\x04 zip archive'), 'a.npz'), isData(/a\.npz: not a NumPy \.npy file/));
  const v9 = Buffer.from(bytes);
  v9[6] = 9;
  assert.throws(() => parseNpy(v9, 'v9.npy'), isData(/version 9\.0/));
});
