import { test } from 'node:test';
import assert from 'node:assert/strict';
import { NumpyRandomState } from '../../src/metrics/numpy-random.js';
import { vectors } from './helpers.js';

test('NumpyRandomState: MT19937 raw outputs, permutation and choice equal numpy RandomState (spec §7.5 vectors)', () => {
  const sh = vectors().shared.is_rng;
  const r = new NumpyRandomState(2020);
  assert.deepEqual([0, 1, 2, 3, 4].map(() => r.nextUint32()), sh.mt19937_seed2020_first5_uint32);
  assert.deepEqual(Array.from(new NumpyRandomState(2020).permutation(10)), sh.RandomState2020_permutation10);
  assert.deepEqual(Array.from(new NumpyRandomState(2020).permutation(25)), sh.random_25x5.permutation_seed2020_n25);
  assert.deepEqual(Array.from(new NumpyRandomState(2020).choiceWithoutReplacement(50000, 5000).slice(0, 10)), sh.RandomState2020_choice_50000_5000_first10);
  assert.deepEqual(Array.from(new NumpyRandomState(2020).choiceWithoutReplacement(10000, 5000).slice(0, 10)), sh.RandomState2020_choice_10000_5000_first10);
});

test('NumpyRandomState: random_sample, standard_normal, other seeds, one stream across calls', () => {
  const v = vectors().rng;
  if (v.seed12345_uint32_first5) {
    const r = new NumpyRandomState(12345);
    assert.deepEqual([0, 1, 2, 3, 4].map(() => r.nextUint32()), v.seed12345_uint32_first5);
  }
  assert.deepEqual(Array.from(new NumpyRandomState(12345).randomSampleArray(5)), v.seed12345_random_sample_first5);
  assert.deepEqual(Array.from(new NumpyRandomState(0).standardNormalArray(7)), v.seed0_standard_normal_first7);
  assert.deepEqual(Array.from(new NumpyRandomState(7).permutation(1000)), v.seed7_permutation_1000);
  assert.deepEqual(Array.from(new NumpyRandomState(2020).choiceWithoutReplacement(7, 7)), v.seed2020_choice_7_7);
  assert.deepEqual(Array.from(new NumpyRandomState(4294967295).permutation(20)), v.seed4294967295_permutation_20);
  const r = new NumpyRandomState(2020);
  const a = Array.from(r.choiceWithoutReplacement(70000, 3));
  const b = Array.from(r.choiceWithoutReplacement(5, 2));
  assert.deepEqual([a, b], v.seed2020_choice_70000_3_then_choice_5_2);
  assert.throws(() => new NumpyRandomState(-1), /seed/);
  assert.throws(() => new NumpyRandomState(2 ** 32), /seed/);
  assert.throws(() => new NumpyRandomState(2020).choiceWithoutReplacement(3, 4), /larger sample/);
  assert.deepEqual(Array.from(new NumpyRandomState(1).permutation(0)), []);
  assert.deepEqual(Array.from(new NumpyRandomState(1).permutation(1)), [0]);
});
