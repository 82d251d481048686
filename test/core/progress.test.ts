import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Progress, formatSeconds } from '../../src/core/progress.js';

test('progress line: no absurd rate on an instant first tick; counts, percent and ETA format', () => {
  const p = new Progress({ label: 'work', total: 4, unit: 'cases', silent: true });
  p.tick();
  assert.match(p.line(), /^work \[#####-+\] 1\/4 25% -- cases\/s ETA --:--$/);
  assert.equal(formatSeconds(75), '1:15');
  assert.equal(formatSeconds(3725), '1:02:05');
  assert.equal(formatSeconds(Infinity), '--:--');
});
