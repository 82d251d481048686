import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { decodeSafetensors, encodeSafetensors, loadSafetensors, saveSafetensors, tensor } from '../../src/core/safetensors.js';

test('safetensors round trip keeps names, dtypes, shapes, values and metadata', () => {
  const tensors = {
    'blocks.0.conv.weight': tensor(Float32Array.from([1.5, -2, 3, 4, 5, 6]), [1, 2, 3]),
    labels: tensor(Uint8Array.from([0, 1, 2, 3]), [2, 2]),
    step: tensor(Float64Array.from([42]), [1]),
  };
  const bytes = encodeSafetensors(tensors, { step: '42' });
  const back = decodeSafetensors(bytes);
  assert.deepEqual(Object.keys(back.tensors), Object.keys(tensors));
  assert.deepEqual(back.metadata, { step: '42' });
  for (const [name, t] of Object.entries(tensors)) {
    assert.equal(back.tensors[name]!.dtype, t.dtype);
    assert.deepEqual(back.tensors[name]!.shape, t.shape);
    assert.deepEqual(Array.from(back.tensors[name]!.data as ArrayLike<number>), Array.from(t.data as ArrayLike<number>));
  }
});

test('safetensors layout follows the specification byte for byte', () => {
  const bytes = encodeSafetensors({ a: tensor(Float32Array.from([1, 2]), [2]) });
  const n = Number(Buffer.from(bytes).readBigUInt64LE(0));
  assert.equal((8 + n) % 8, 0, 'data section is 8-byte aligned');
  const header = JSON.parse(Buffer.from(bytes.subarray(8, 8 + n)).toString('utf8').trimEnd());
  assert.deepEqual(header, { a: { dtype: 'F32', shape: [2], data_offsets: [0, 8] } });
  assert.equal(Buffer.from(bytes).readFloatLE(8 + n + 4), 2);
});

test('a truncated safetensors file is rejected with its name', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-'));
  const file = path.join(dir, 'x.safetensors');
  saveSafetensors(file, { a: tensor(new Float32Array(16), [4, 4]) });
  assert.equal(loadSafetensors(file).tensors.a!.shape[0], 4);
  fs.writeFileSync(file, fs.readFileSync(file).subarray(0, 40));
  assert.throws(() => loadSafetensors(file), (e: Error) => e.message.includes(file) && /outside the file|exceeds/.test(e.message));
  assert.throws(() => tensor(new Float32Array(3), [2, 2]), /holds 4 values/);
});

test('loadSafetensors reads values back from a file (Buffer views are copied at the right offset)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'st-'));
  const file = path.join(dir, 'v.safetensors');
  saveSafetensors(file, { a: tensor(Float32Array.from([1, 2, 3, 4]), [4]), b: tensor(Int16Array.from([-7, 9]), [2]) });
  const back = loadSafetensors(file);
  assert.deepEqual(Array.from(back.tensors.a!.data as Float32Array), [1, 2, 3, 4]);
  assert.deepEqual(Array.from(back.tensors.b!.data as Int16Array), [-7, 9]);
});
