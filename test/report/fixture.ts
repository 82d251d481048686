/**
 * A fixture study for the report tests: 2 datasets × 3 GANs × 3 trials, one failed trial, and no Inception FID on
 * 'idrid' (the Inception weights were "missing"), so its best trials are selected by U-Net FID.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { BaselineRecord, StudyRecords, TrialRecord } from '../../src/report/records.js';

/** A valid 1×1 PNG. */
export const TINY_PNG = Buffer.from('iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNkYPhfDwAChwGA60e6kgAAAABJRU5ErkJggg==', 'base64');

export const REAL_SAMPLES_ACDC = [0.91, 0.88, 0.93, 0.85, 0.9, 0.87, 0.92, 0.86];
export const AUG_SAMPLES_ACDC = [0.92, 0.9, 0.925, 0.87, 0.905, 0.885, 0.935, 0.84];
export const STYLEGAN_SAMPLES_ACDC = [0.89, 0.84, 0.9, 0.86, 0.88, 0.83, 0.9, 0.87];

interface T {
  gan: string; id: string; filters: number; fid: number | null; unetFid: number; kid: number; dice: number;
  failed?: boolean; extra?: Partial<TrialRecord>;
}

function trial(dataset: string, t: T, pngDir?: string): TrialRecord {
  const base: TrialRecord = {
    dataset, gan: t.gan, trialId: t.id, configHash: `h-${dataset}-${t.id}`, seed: 7,
    hyperparameters: { 'd.filters': t.filters, lr: 2e-4, 'g.norm': 'batch, "spectral"', ema: true },
    status: t.failed ? 'failed' : 'done',
    wallTimeSec: 600, imagesShown: 100000,
  };
  if (t.failed) return { ...base, error: 'NaN loss at step 120', wallTimeSec: 50, imagesShown: 7680 };
  return {
    ...base, fid: t.fid, unetFid: t.unetFid, kid: t.kid, dice: t.dice, diceRealPlusSynthetic: Math.min(0.95, t.dice + 0.2),
    memorisation: 0.01, plausibleShare: 0.85, plausibleShareReal: 0.9, maskImageDice: 0.7, msssimGenerated: 0.3, msssimReal: 0.28,
    gridPng: pngDir ? path.join(pngDir, `${dataset}-${t.id}.png`) : undefined,
    umap: { points: [{ x: 0, y: 0, source: 'real' }, { x: 1, y: 0.5, source: 'generated' }, { x: 0.2, y: 1, source: 'real' }, { x: 0.8, y: 0.9, source: 'generated' }] },
    ...t.extra,
  };
}

export const ACDC: T[] = [
  { gan: 'DCGAN', id: 'dc1', filters: 32, fid: 80, unetFid: 40, kid: 0.08, dice: 0.2 },
  { gan: 'DCGAN', id: 'dc2', filters: 64, fid: 60, unetFid: 30, kid: 0.06, dice: 0.3, extra: { msssimGenerated: 0.6, msssimReal: 0.3 } },
  { gan: 'DCGAN', id: 'dc3', filters: 128, fid: null, unetFid: 0, kid: 0, dice: 0, failed: true },
  { gan: 'WGAN', id: 'wg1', filters: 32, fid: 90, unetFid: 45, kid: 0.09, dice: 0.55 },
  { gan: 'WGAN', id: 'wg2', filters: 64, fid: 74, unetFid: 35, kid: 0.07, dice: 0.7 },
  { gan: 'WGAN', id: 'wg3', filters: 128, fid: 100, unetFid: 50, kid: 0.1, dice: 0.5 },
  { gan: 'StyleGAN', id: 'sg1', filters: 32, fid: 30, unetFid: 15, kid: 0.03, dice: 0.85 },
  { gan: 'StyleGAN', id: 'sg2', filters: 64, fid: 25, unetFid: 12, kid: 0.02, dice: 0.87, extra: { memorisation: 0.08, diceSamples: STYLEGAN_SAMPLES_ACDC } },
  { gan: 'StyleGAN', id: 'sg3', filters: 128, fid: 40, unetFid: 20, kid: 0.04, dice: 0.8 },
];

export const IDRID: T[] = [
  { gan: 'DCGAN', id: 'dc1', filters: 32, fid: null, unetFid: 90, kid: 0.1, dice: 0.29 },
  { gan: 'DCGAN', id: 'dc2', filters: 64, fid: null, unetFid: 70, kid: 0.09, dice: 0.25 },
  { gan: 'DCGAN', id: 'dc3', filters: 128, fid: null, unetFid: 95, kid: 0.12, dice: 0.2 },
  { gan: 'WGAN', id: 'wg1', filters: 32, fid: null, unetFid: 62, kid: 0.07, dice: 0.72, extra: { plausibleShare: 0.5 } },
  { gan: 'WGAN', id: 'wg2', filters: 64, fid: null, unetFid: 66, kid: 0.08, dice: 0.6 },
  { gan: 'WGAN', id: 'wg3', filters: 128, fid: null, unetFid: 80, kid: 0.09, dice: 0.4 },
  { gan: 'StyleGAN', id: 'sg1', filters: 32, fid: null, unetFid: 24, kid: 0.02, dice: 0.8 },
  { gan: 'StyleGAN', id: 'sg2', filters: 64, fid: null, unetFid: 30, kid: 0.03, dice: 0.78 },
  { gan: 'StyleGAN', id: 'sg3', filters: 128, fid: null, unetFid: 35, kid: 0.04, dice: 0.82 },
];

export function makeFixture(pngDir?: string): StudyRecords {
  if (pngDir) {
    fs.mkdirSync(pngDir, { recursive: true });
    for (const [d, ts] of [['acdc', ACDC], ['idrid', IDRID]] as const) {
      for (const t of ts) fs.writeFileSync(path.join(pngDir, `${d}-${t.id}.png`), TINY_PNG);
      fs.writeFileSync(path.join(pngDir, `${d}-real.png`), TINY_PNG);
    }
  }
  const baselines: BaselineRecord[] = [
    { dataset: 'acdc', regime: 'real', dice: 0.89, diceSamples: REAL_SAMPLES_ACDC, realVsRealFid: 4.2 },
    { dataset: 'acdc', regime: 'augmented', dice: 0.9, diceSamples: AUG_SAMPLES_ACDC },
    { dataset: 'idrid', regime: 'real', dice: 0.83, realVsRealFid: null },
    { dataset: 'idrid', regime: 'augmented', dice: 0.84 },
  ];
  return {
    studyName: 'fixture-study',
    createdAt: '2026-11-27T12:00:00Z',
    selectionMetric: 'fid',
    trials: [...ACDC.map((t) => trial('acdc', t, pngDir)), ...IDRID.map((t) => trial('idrid', t, pngDir))],
    baselines,
    realExamplePng: pngDir ? { acdc: path.join(pngDir, 'acdc-real.png'), idrid: path.join(pngDir, 'idrid-real.png') } : undefined,
  };
}
