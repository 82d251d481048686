/** The harness's statistics: the median it reports per case and the RSS slope of the memory run. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { median, slope } from '../../bench/stats.js';

test('median of odd and even counts, unsorted input left alone', () => {
  const xs = [5, 1, 4, 2, 3];
  assert.equal(median(xs), 3);
  assert.deepEqual(xs, [5, 1, 4, 2, 3]);
  assert.equal(median([4, 1, 3, 2]), 2.5);
  assert.throws(() => median([]), RangeError);
});

test('slope: exact for a line, 0 for flat or degenerate input', () => {
  const x = [0, 100, 200, 300, 400];
  assert.ok(Math.abs(slope(x, x.map((v) => 50 + 0.002 * v)) - 0.002) < 1e-15);
  assert.equal(slope(x, x.map(() => 7)), 0);
  assert.equal(slope([1], [2]), 0);
  assert.equal(slope([3, 3], [1, 2]), 0);
  assert.throws(() => slope([1, 2], [1]), RangeError);
});
