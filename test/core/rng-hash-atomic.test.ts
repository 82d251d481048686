import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Rng } from '../../src/core/rng.js';
import { configHash, stableStringify } from '../../src/core/hash.js';
import { replaceDirAtomic, writeFileAtomic } from '../../src/core/atomic.js';

test('Rng: same seed same stream, state restores the stream, forks are independent', () => {
  const a = new Rng(7);
  const b = new Rng(7);
  const xs = Array.from({ length: 5 }, () => a.next());
  assert.deepEqual(xs, Array.from({ length: 5 }, () => b.next()));
  const saved = a.state;
  const next = [a.nextUint32(), a.nextUint32()];
  const c = new Rng(saved);
  assert.deepEqual([c.nextUint32(), c.nextUint32()], next);
  assert.notEqual(new Rng(7).fork(1).next(), new Rng(7).fork(2).next());
  assert.notDeepEqual(xs, Array.from({ length: 5 }, () => new Rng(8).next()));
});

test('Rng: uniform and normal moments', () => {
  const r = new Rng(1);
  const n = 20000;
  let s = 0, s2 = 0, u = 0;
  for (let i = 0; i < n; i++) {
    const x = r.normal();
    s += x;
    s2 += x * x;
    u += r.next();
  }
  assert.ok(Math.abs(s / n) < 0.03);
  assert.ok(Math.abs(s2 / n - 1) < 0.05);
  assert.ok(Math.abs(u / n - 0.5) < 0.01);
  const ints = new Set(Array.from({ length: 200 }, () => r.int(2, 4)));
  assert.deepEqual([...ints].sort(), [2, 3, 4]);
});

test('config hash ignores key order and changes with values', () => {
  assert.equal(stableStringify({ b: 1, a: { d: 2, c: 3 } }), '{"a":{"c":3,"d":2},"b":1}');
  assert.equal(configHash({ a: 1, b: [1, 2] }), configHash({ b: [1, 2], a: 1 }));
  assert.notEqual(configHash({ a: 1 }), configHash({ a: 2 }));
});

test('atomic writes: a failed directory build leaves the previous one intact', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'atomic-'));
  const target = path.join(dir, 'out');
  await replaceDirAtomic(target, async (tmp) => fs.writeFileSync(path.join(tmp, 'v'), '1'));
  await assert.rejects(
    replaceDirAtomic(target, async (tmp) => {
      fs.writeFileSync(path.join(tmp, 'v'), '2');
      throw new Error('crash mid-build');
    }),
    /crash mid-build/,
  );
  assert.equal(fs.readFileSync(path.join(target, 'v'), 'utf8'), '1');
  assert.deepEqual(fs.readdirSync(dir), ['out'], 'no temporary leftovers');
  writeFileAtomic(path.join(dir, 'f.txt'), 'hello');
  assert.equal(fs.readFileSync(path.join(dir, 'f.txt'), 'utf8'), 'hello');
});
