import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Rng } from '../../src/core/rng.js';
import { cardiacPatient } from '../../src/data/phantoms/index.js';
import {
  checkSample, connectedComponents, countComponents, countHoles, datasetRulesId, plausibility, RULES,
} from '../../src/metrics/domain/plausibility.js';

/** A label map drawn as text: '.' = 0, digits = classes. */
function draw(rows: string[]): { map: Uint8Array; h: number; w: number } {
  const h = rows.length, w = rows[0]!.length;
  const map = new Uint8Array(h * w);
  rows.forEach((r, y) => {
    assert.equal(r.length, w);
    for (let x = 0; x < w; x++) map[y * w + x] = r[x] === '.' ? 0 : Number(r[x]);
  });
  return { map, h, w };
}
function stack(...maps: ReturnType<typeof draw>[]): { labels: Uint8Array; count: number; h: number; w: number } {
  const { h, w } = maps[0]!;
  const labels = new Uint8Array(maps.length * h * w);
  maps.forEach((m, i) => labels.set(m.map, i * h * w));
  return { labels, count: maps.length, h, w };
}

test('connected components: 4- vs 8-connectivity, sizes, border contact', () => {
  const { map, h, w } = draw([
    '11....',
    '11....',
    '..1...',
    '....11',
    '....1.',
  ]);
  const c8 = connectedComponents(map, h, w, 8);
  assert.equal(c8.count, 2);
  assert.deepEqual(c8.sizes, [5, 3]);
  assert.deepEqual(c8.touchesBorder, [true, true]);
  const c4 = connectedComponents(map, h, w, 4);
  assert.equal(c4.count, 3);
  assert.deepEqual(c4.sizes, [4, 1, 3]);
  assert.deepEqual(c4.touchesBorder, [true, false, true]);
  assert.equal(countComponents(map, h, w, 2), 0);
});

test('holes: background enclosed by a class, complementary connectivity', () => {
  const ring = draw([
    '.......',
    '.11111.',
    '.1..11.',
    '.1.2.1.',
    '.11111.',
    '.......',
  ]);
  assert.equal(countHoles(ring.map, ring.h, ring.w, 1), 1); // the 0s and the 2 inside form one 4-connected hole
  assert.equal(countHoles(ring.map, ring.h, ring.w, 2), 0);
  const open = draw([
    '.......',
    '.11.11.',
    '.1...1.',
    '.11111.',
    '.......',
  ]);
  assert.equal(countHoles(open.map, open.h, open.w, 1), 0);
  // a diagonal gap: closed for an 8-connected object (the hole is 4-connected), open for a 4-connected one
  const diag = draw([
    '.....',
    '.11..',
    '.1.1.',
    '..11.',
    '.....',
  ]);
  assert.equal(countHoles(diag.map, diag.h, diag.w, 1, 8), 1);
  assert.equal(countHoles(diag.map, diag.h, diag.w, 1, 4), 0);
  const two = draw([
    '.......',
    '.11111.',
    '.1.1.1.',
    '.11111.',
    '.......',
  ]);
  assert.equal(countHoles(two.map, two.h, two.w, 1), 2);
});

// ACDC: 1 RV, 2 myocardium, 3 LV
const HEART = draw([
  '............',
  '....2222....',
  '.11223322...',
  '.11233332...',
  '.11233332...',
  '..1223322...',
  '....2222....',
  '............',
]);
const HEART_APICAL = draw([ // no RV
  '............',
  '............',
  '.....222....',
  '....23332...',
  '.....222....',
  '............',
  '............',
  '............',
]);
const HEART_BASAL_NO_LV = draw([ // myocardium and RV only
  '............',
  '............',
  '..111222....',
  '..11122.....',
  '............',
  '............',
  '............',
  '............',
]);
const EMPTY = draw(Array.from({ length: 8 }, () => '............'));

test('ACDC: hand-drawn real-like slices pass every rule', () => {
  for (const s of [HEART, HEART_APICAL, HEART_BASAL_NO_LV, EMPTY]) {
    assert.deepEqual(checkSample(s.map, s.h, s.w, RULES.acdc), []);
  }
  const st = stack(HEART, HEART_APICAL, HEART_BASAL_NO_LV, EMPTY);
  const r = plausibility(st.labels, st.count, st.h, st.w, 4, 'ACDC');
  assert.equal(r.dataset, 'acdc');
  assert.equal(r.plausibleShare, 1);
  assert.equal(r.violatingCount, 0);
  assert.equal(r.perClass[1]!.cls, 2);
  assert.equal(r.perClass[1]!.holeShare, 2 / 3); // the myocardium encloses the LV in 2 of its 3 slices
  assert.equal(r.perClass[1]!.meanComponents, 1);
  assert.equal(r.perClass[2]!.holeShare, 0);
});

test('ACDC: LV touching background / RV / border, split structures, detached RV are detected', () => {
  const lvLeak = draw([
    '............',
    '....2222....',
    '.11223322...',
    '.1123333....',
    '.11233332...',
    '..1223322...',
    '....2222....',
    '............',
  ]);
  assert.deepEqual(checkSample(lvLeak.map, lvLeak.h, lvLeak.w, RULES.acdc).map((v) => v.rule), ['lv-enclosed-by-myo']);
  const lvRv = draw([
    '............',
    '....2222....',
    '.11223322...',
    '.11333332...',
    '.11233332...',
    '..1223322...',
    '....2222....',
    '............',
  ]);
  assert.deepEqual(checkSample(lvRv.map, lvRv.h, lvRv.w, RULES.acdc).map((v) => v.rule), ['lv-enclosed-by-myo']);
  const lvBorder = draw(['3222', '2222', '....']);
  assert.deepEqual(checkSample(lvBorder.map, lvBorder.h, lvBorder.w, RULES.acdc).map((v) => v.rule), ['lv-enclosed-by-myo']);
  const split = draw([
    '............',
    '.11..2222...',
    '.....2332..1',
    '.....2332...',
    '.....2222...',
    '.222........',
    '.232........',
    '.222........',
  ]);
  assert.deepEqual(
    checkSample(split.map, split.h, split.w, RULES.acdc).map((v) => v.rule),
    ['rv-one-component', 'myo-one-component', 'lv-one-component', 'rv-touches-myo'],
  );
  const st = stack(HEART, lvLeak, lvRv, split, EMPTY);
  const r = plausibility(st.labels, st.count, st.h, st.w, 4, 'acdc');
  assert.equal(r.plausibleShare, 2 / 5);
  assert.equal(r.violationCounts['lv-enclosed-by-myo'], 2);
  assert.equal(r.violationCounts['rv-touches-myo'], 1);
  assert.deepEqual(r.violations.map((v) => v.index), [1, 2, 3]);
  assert.ok(JSON.parse(JSON.stringify(r)).violations[0].violations[0].detail.includes('touch'));
});

test('SLiver07 one liver, IDRiD one disc without holes, generic has no rules', () => {
  const liver = draw(['.111..', '.1111.', '..11..']);
  const twoLivers = draw(['11....', '......', '...111']);
  const st = stack(liver, twoLivers);
  const r = plausibility(st.labels, st.count, st.h, st.w, 2, 'sliver07');
  assert.equal(r.plausibleShare, 0.5);
  assert.deepEqual(r.violations.map((v) => [v.index, v.violations[0]!.rule]), [[1, 'liver-one-component']]);

  const disc = draw(['......', '.1111.', '.1111.', '......']);
  const notched = draw(['......', '.1111.', '.1..1.', '.11.1.', '......']); // the notch opens the inside: no hole
  const holed = draw(['.....', '.111.', '.1.1.', '.111.']);
  const si = stack(disc, draw(['......', '.1111.', '.1111.', '......']));
  assert.equal(plausibility(si.labels, si.count, si.h, si.w, 2, 'IDRiD').plausibleShare, 1);
  assert.deepEqual(checkSample(holed.map, holed.h, holed.w, RULES.idrid).map((v) => v.rule), ['disc-no-holes']);
  assert.deepEqual(checkSample(notched.map, notched.h, notched.w, RULES.idrid), []);
  assert.equal(datasetRulesId('nnunet'), 'generic');
  const g = plausibility(st.labels, st.count, st.h, st.w, 2, 'nnunet');
  assert.equal(g.plausibleShare, null);
  assert.equal(g.perClass[0]!.meanComponents, 1.5);
});

test('reference rate on ACDC-like phantom slices (real-like data passes nearly always)', () => {
  const p = cardiacPatient(new Rng(5), { group: 'NOR' });
  let total = 0;
  let plausible = 0;
  for (const v of [p.ed, p.es]) {
    const [nx, ny, nz] = v.label.size;
    const r = plausibility(v.label.data, nz, ny, nx, 4, 'acdc');
    total += r.count;
    plausible += r.plausibleShare! * r.count;
  }
  assert.ok(total > 0);
  assert.ok(plausible / total >= 0.9, `phantom reference rate ${plausible / total}`);
});
