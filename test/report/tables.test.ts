import { test } from 'node:test';
import assert from 'node:assert/strict';
import { buildTables, table2Csv, trialsCsv, csvCell } from '../../src/report/tables.js';
import { makeFixture } from './fixture.js';

/** Minimal RFC 4180 parser for the tests. */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [], cell = '', i = 0, quoted = false;
  while (i < text.length) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i += 2; continue; }
      if (ch === '"') { quoted = false; i++; continue; }
      cell += ch; i++; continue;
    }
    if (ch === '"') { quoted = true; i++; continue; }
    if (ch === ',') { row.push(cell); cell = ''; i++; continue; }
    if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i += 2; continue; }
    cell += ch; i++;
  }
  assert.equal(quoted, false, 'unterminated quote');
  if (cell !== '' || row.length) { row.push(cell); rows.push(row); }
  return rows;
}

test('Table 2 picks the best trial per GAN by FID, with baselines, Original + best GAN and the real-vs-real floor', () => {
  const [acdc] = buildTables(makeFixture());
  assert.equal(acdc!.dataset, 'acdc');
  assert.equal(acdc!.metricUsed, 'fid');
  assert.equal(acdc!.fallbackNote, null);
  assert.deepEqual(Object.fromEntries([...acdc!.best].map(([g, t]) => [g, t.trialId])), { DCGAN: 'dc2', WGAN: 'wg2', StyleGAN: 'sg2' });
  assert.deepEqual(acdc!.rows.map((r) => r.label), ['Original data', 'Augmented original data', 'DCGAN', 'WGAN', 'StyleGAN', 'Original + StyleGAN', 'Real vs real (FID floor)']);
  const sg = acdc!.rows.find((r) => r.label === 'StyleGAN')!;
  assert.equal(sg.fid, 25);
  assert.equal(sg.kid, 0.02);
  assert.equal(sg.dice, 0.87);
  assert.ok(sg.diceCi && sg.diceCi.lo <= sg.diceCi.mean && sg.diceCi.mean <= sg.diceCi.hi);
  assert.equal(acdc!.rows.find((r) => r.kind === 'real-plus-gan')!.dice, 0.95);
  assert.equal(acdc!.rows.find((r) => r.kind === 'real-vs-real')!.fid, 4.2);
  // Deterministic intervals.
  const again = buildTables(makeFixture())[0]!.rows.find((r) => r.label === 'StyleGAN')!;
  assert.deepEqual(again.diceCi, sg.diceCi);
});

test('missing FID falls back to U-Net FID and says so; the failed trial is never picked', () => {
  const [acdc, idrid] = buildTables(makeFixture());
  assert.equal(idrid!.metricUsed, 'unetFid');
  assert.match(idrid!.fallbackNote!, /U-Net FID/);
  assert.deepEqual(Object.fromEntries([...idrid!.best].map(([g, t]) => [g, t.trialId])), { DCGAN: 'dc2', WGAN: 'wg1', StyleGAN: 'sg1' });
  assert.ok(![...acdc!.best.values()].some((t) => t.status === 'failed'));
  assert.equal(idrid!.rows.some((r) => r.kind === 'real-vs-real'), false);
});

test('Spearman across best and all trials matches hand/scipy values', () => {
  const [acdc, idrid] = buildTables(makeFixture());
  // best: FID [60, 74, 25] vs Dice [0.3, 0.7, 0.87] → −0.5 (by hand, see stats.test.ts)
  assert.equal(acdc!.spearmanBestN, 3);
  assert.ok(Math.abs(acdc!.spearmanBest! - -0.5) < 1e-12);
  // all 8 done trials: scipy.stats.spearmanr → -0.7380952380952381
  assert.equal(acdc!.spearmanAllN, 8);
  assert.ok(Math.abs(acdc!.spearmanAll! - -0.7380952380952381) < 1e-12);
  // idrid by U-Net FID: best [70, 62, 24] vs [0.25, 0.72, 0.8] → −1; all 9: scipy → -0.9
  assert.ok(Math.abs(idrid!.spearmanBest! - -1) < 1e-12);
  assert.ok(Math.abs(idrid!.spearmanAll! - -0.9) < 1e-12);
});

test('paired tests between regimes with per-patient Dice', () => {
  const [acdc, idrid] = buildTables(makeFixture());
  assert.deepEqual(acdc!.pairedTests.map((p) => `${p.a}|${p.b}`), ['Original data|Augmented original data', 'Original data|StyleGAN']);
  const sg = acdc!.pairedTests[1]!;
  // scipy.stats.wilcoxon(np.round(R − S, 12), method='approx') → statistic 3.0, p 0.03434167381800146
  assert.equal(sg.result!.statistic, 3);
  assert.ok(Math.abs(sg.result!.pValue - 0.03434167381800146) < 1e-5);
  // Real vs augmented: scipy (rounded, approx) → statistic 8.5, p 0.18019441523163582
  assert.equal(acdc!.pairedTests[0]!.result!.statistic, 8.5);
  assert.ok(Math.abs(acdc!.pairedTests[0]!.result!.pValue - 0.18019441523163582) < 1e-5);
  assert.equal(idrid!.pairedTests.length, 0);
});

test('outliers and compute cost', () => {
  const [acdc, idrid] = buildTables(makeFixture());
  const reasons = acdc!.outliers.map((o) => `${o.gan}/${o.trialId}: ${o.reason.split(':')[0]}`);
  assert.deepEqual(reasons.sort(), ['DCGAN/dc2: mode collapse', 'StyleGAN/sg2: memorisation']);
  assert.deepEqual(idrid!.outliers.map((o) => `${o.gan}/${o.trialId}: ${o.reason.split(':')[0]}`), ['WGAN/wg1: implausible masks']);
  const dc = acdc!.cost.find((c) => c.gan === 'DCGAN')!;
  assert.deepEqual(dc, { gan: 'DCGAN', trials: 3, failed: 1, wallTimeSec: 1250, imagesShown: 207680, meanTimeToBestSec: null });
});

test('CSV: header, row counts, quoting', () => {
  const rec = makeFixture();
  assert.equal(csvCell('a,"b"'), '"a,""b"""');
  assert.equal(csvCell(null), '');
  assert.equal(csvCell(Number.NaN), '');
  const t2 = parseCsv(table2Csv(buildTables(rec)));
  assert.equal(t2[0]![0], 'dataset');
  assert.equal(t2.length, 1 + 7 + 6);
  assert.ok(t2.every((r) => r.length === t2[0]!.length));
  const tr = parseCsv(trialsCsv(rec));
  assert.equal(tr.length, 1 + 18);
  assert.ok(tr.every((r) => r.length === tr[0]!.length));
  const h = tr[0]!;
  assert.ok(h.includes('hp.d.filters') && h.includes('hp.g.norm'));
  const failed = tr.find((r) => r[h.indexOf('status')] === 'failed')!;
  assert.equal(failed[h.indexOf('error')], 'NaN loss at step 120');
  assert.equal(failed[h.indexOf('fid')], '');
  assert.equal(tr[1]![h.indexOf('hp.g.norm')], 'batch, "spectral"');
  const idridRow = tr.find((r) => r[0] === 'idrid')!;
  assert.equal(idridRow[h.indexOf('fid')], '');
});

test('several seeds per configuration: the configuration with the best mean wins, not the luckiest seed (same rule as the runner)', () => {
  const t = (trialId: string, configHash: string, seed: number, fid: number) => ({
    dataset: 'acdc', gan: 'DCGAN', trialId, configHash, seed, hyperparameters: {}, status: 'done' as const, wallTimeSec: 1, imagesShown: 1, fid,
  });
  const records = {
    studyName: 's', createdAt: 'now', selectionMetric: 'fid' as const, baselines: [],
    trials: [t('a0', 'A', 0, 10), t('a1', 'A', 1, 30), t('b0', 'B', 0, 15), t('b1', 'B', 1, 17), t('b2', 'B', 2, 16)],
  };
  const [acdc] = buildTables(records);
  assert.equal(acdc!.best.get('DCGAN')!.trialId, 'b2');
  assert.equal(acdc!.seedNotes.length, 1);
  assert.match(acdc!.seedNotes[0]!, /DCGAN: best configuration by its mean fid over 3 seeds, 16\.00 ± 1\.00/);
});
