/** Table 2 of the study (best trial per GAN, baselines, intervals, correlations, paired tests, outliers, cost) and CSV. */
import { pickBest, type BestPick } from '../core/best.js';
import { lowerIsBetter, type BaselineRecord, type Interval, type SelectionMetric, type StudyRecords, type TrialRecord } from './records.js';
import { bootstrapMeanCi, spearman, wilcoxonSignedRank, type BootstrapCi, type WilcoxonResult } from './stats.js';

export const BOOTSTRAP_DRAWS = 2000;

export type Table2RowKind = 'real' | 'augmented' | 'gan' | 'real-plus-gan' | 'real-vs-real';

export interface Table2Row {
  readonly kind: Table2RowKind;
  readonly label: string;
  readonly gan: string | null;
  readonly trialId: string | null;
  readonly fid: number | null;
  readonly unetFid: number | null;
  readonly kid: number | null;
  readonly fidCi?: Interval | null;
  readonly unetFidCi?: Interval | null;
  readonly kidCi?: Interval | null;
  readonly dice: number | null;
  readonly diceCi: BootstrapCi | null;
}

export interface PairedTest {
  readonly a: string;
  readonly b: string;
  readonly meanDiff: number;
  readonly result: WilcoxonResult | null;
}

export interface Outlier {
  readonly gan: string;
  readonly trialId: string;
  readonly reason: string;
}

export interface GanCost {
  readonly gan: string;
  readonly trials: number;
  readonly failed: number;
  readonly wallTimeSec: number;
  readonly imagesShown: number;
  /** Mean over the GAN's trials of the training time to their best FID over training; null when none recorded it. */
  readonly meanTimeToBestSec: number | null;
}

function meanOf(values: readonly (number | null)[]): number | null {
  const xs = values.filter((v): v is number => v !== null);
  return xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : null;
}

export interface DatasetTable {
  readonly dataset: string;
  /** The metric actually used to pick the best trials (the study's, or its fallback). */
  readonly metricUsed: SelectionMetric;
  /** Why the fallback was used, null if not. */
  readonly fallbackNote: string | null;
  /** Per GAN selected over several seeds: the configuration's mean ± sd. */
  readonly seedNotes: readonly string[];
  readonly rows: readonly Table2Row[];
  /** Best trial per GAN (GANs without a scored trial are absent). */
  readonly best: ReadonlyMap<string, TrialRecord>;
  /** Spearman rho between the selection metric and Dice across the best trials / across all scored trials. */
  readonly spearmanBest: number | null;
  readonly spearmanAll: number | null;
  readonly spearmanBestN: number;
  readonly spearmanAllN: number;
  readonly pairedTests: readonly PairedTest[];
  readonly outliers: readonly Outlier[];
  readonly cost: readonly GanCost[];
}

export interface OutlierThresholds {
  /** Near-copy share above this flags memorisation. */
  readonly memorisation: number;
  /** Plausible-mask share this far below the real share flags anatomically implausible masks. */
  readonly plausibleGap: number;
  /** Generated MS-SSIM this far above the real one flags mode collapse. */
  readonly msssimGap: number;
}

export const DEFAULT_THRESHOLDS: OutlierThresholds = { memorisation: 0.05, plausibleGap: 0.2, msssimGap: 0.1 };

function num(v: number | null | undefined): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}

export function metricOf(t: TrialRecord, m: SelectionMetric): number | null {
  return num(t[m]);
}

/** Stable order of first appearance. */
function uniq(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

export function datasetsOf(records: StudyRecords): string[] {
  return uniq([...records.trials.map((t) => t.dataset), ...records.baselines.map((b) => b.dataset)]);
}

/**
 * Selection metric for a dataset: the study's, falling back from FID to U-Net FID when a done trial has no FID
 * (FIDs of only some trials cannot rank all of them; the study runner's selection falls back the same way).
 */
export function metricFor(records: StudyRecords, dataset: string): { metric: SelectionMetric; note: string | null } {
  const done = records.trials.filter((t) => t.dataset === dataset && t.status === 'done');
  const m = records.selectionMetric;
  if (m === 'fid' && done.some((t) => metricOf(t, 'fid') === null) && done.some((t) => metricOf(t, 'unetFid') !== null)) {
    const missing = done.filter((t) => metricOf(t, 'fid') === null).length;
    const which = missing === done.length ? 'No trial' : `${missing} of ${done.length} trials`;
    return { metric: 'unetFid', note: `${which} on ${dataset} has an Inception FID (Inception weights missing): best trials selected by U-Net FID instead.` };
  }
  return { metric: m, note: null };
}

/**
 * The best trial by `metric` — the same rule as the study runner's selection (core/best.ts): with several seeds
 * per configuration (same configHash), the configuration with the best mean wins, shown by its trial closest to
 * that mean.
 */
export function bestTrial(trials: readonly TrialRecord[], metric: SelectionMetric): TrialRecord | null {
  return bestPick(trials, metric)?.trial ?? null;
}

/** bestTrial with the winning configuration's mean, sd and number of seeds. */
export function bestPick(trials: readonly TrialRecord[], metric: SelectionMetric): { trial: TrialRecord; pick: BestPick } | null {
  const done = trials.filter((t) => t.status === 'done');
  const pick = pickBest(done.flatMap((t) => {
    const v = metricOf(t, metric);
    return v === null ? [] : [{ id: t.trialId, group: t.configHash, value: v }];
  }), lowerIsBetter(metric) ? 'min' : 'max');
  return pick ? { trial: done.find((t) => t.trialId === pick.id)!, pick } : null;
}

/** A seed for a row's bootstrap that depends only on the study, the dataset and the row. */
export function rowSeed(...parts: string[]): number {
  let h = 2166136261;
  for (const ch of parts.join('\u0000')) h = Math.imul(h ^ ch.charCodeAt(0), 16777619) >>> 0;
  return h;
}

function ci(samples: readonly number[] | undefined, ...seedParts: string[]): BootstrapCi | null {
  return samples && samples.length > 0 ? bootstrapMeanCi(samples, rowSeed(...seedParts), BOOTSTRAP_DRAWS) : null;
}

function baseline(records: StudyRecords, dataset: string, regime: BaselineRecord['regime']): BaselineRecord | undefined {
  return records.baselines.find((b) => b.dataset === dataset && b.regime === regime);
}

function paired(a: string, xs: readonly number[] | undefined, b: string, ys: readonly number[] | undefined): PairedTest | null {
  if (!xs || !ys || xs.length === 0 || xs.length !== ys.length) return null;
  const meanDiff = xs.reduce((s, v, i) => s + v - ys[i]!, 0) / xs.length;
  return { a, b, meanDiff, result: wilcoxonSignedRank(xs, ys) };
}

export function findOutliers(trials: readonly TrialRecord[], th: OutlierThresholds = DEFAULT_THRESHOLDS): Outlier[] {
  const out: Outlier[] = [];
  for (const t of trials) {
    if (t.status !== 'done') continue;
    const mem = num(t.memorisation);
    if (mem !== null && mem > th.memorisation) {
      out.push({ gan: t.gan, trialId: t.trialId, reason: `memorisation: near-copy share ${mem.toFixed(3)} > ${th.memorisation}` });
    }
    const ps = num(t.plausibleShare), pr = num(t.plausibleShareReal);
    if (ps !== null && pr !== null && pr - ps > th.plausibleGap) {
      out.push({ gan: t.gan, trialId: t.trialId, reason: `implausible masks: plausible share ${ps.toFixed(3)} vs real ${pr.toFixed(3)}` });
    }
    const mg = num(t.msssimGenerated), mr = num(t.msssimReal);
    if (mg !== null && mr !== null && mg - mr > th.msssimGap) {
      out.push({ gan: t.gan, trialId: t.trialId, reason: `mode collapse: MS-SSIM generated ${mg.toFixed(3)} vs real ${mr.toFixed(3)}` });
    }
  }
  return out;
}

export function costPerGan(trials: readonly TrialRecord[]): GanCost[] {
  return uniq(trials.map((t) => t.gan)).map((gan) => {
    const ts = trials.filter((t) => t.gan === gan);
    return {
      gan,
      trials: ts.length,
      failed: ts.filter((t) => t.status === 'failed').length,
      wallTimeSec: ts.reduce((s, t) => s + (num(t.wallTimeSec) ?? 0), 0),
      imagesShown: ts.reduce((s, t) => s + (num(t.imagesShown) ?? 0), 0),
      meanTimeToBestSec: meanOf(ts.map((t) => num(t.timeToBestSec))),
    };
  });
}

function correlation(trials: readonly TrialRecord[], metric: SelectionMetric): { rho: number | null; n: number } {
  const pairs = trials
    .filter((t) => t.status === 'done')
    .map((t) => [metricOf(t, metric), num(t.dice)] as const)
    .filter((p): p is readonly [number, number] => p[0] !== null && p[1] !== null);
  return { rho: spearman(pairs.map((p) => p[0]), pairs.map((p) => p[1])), n: pairs.length };
}

export function buildDatasetTable(records: StudyRecords, dataset: string, th: OutlierThresholds = DEFAULT_THRESHOLDS): DatasetTable {
  const trials = records.trials.filter((t) => t.dataset === dataset);
  const { metric, note } = metricFor(records, dataset);
  const gans = uniq(trials.map((t) => t.gan));
  const best = new Map<string, TrialRecord>();
  const seedNotes: string[] = [];
  for (const g of gans) {
    const b = bestPick(trials.filter((t) => t.gan === g), metric);
    if (!b) continue;
    best.set(g, b.trial);
    if (b.pick.groupSize > 1) {
      seedNotes.push(`${g}: best configuration by its mean ${metric} over ${b.pick.groupSize} seeds, ${b.pick.groupMean.toPrecision(4)} ± ${b.pick.groupSd.toPrecision(3)} (sd); the row shows its trial closest to that mean.`);
    }
  }
  const real = baseline(records, dataset, 'real');
  const aug = baseline(records, dataset, 'augmented');
  const rows: Table2Row[] = [];
  const empty = { gan: null, trialId: null, fid: null, unetFid: null, kid: null };
  if (real) rows.push({ kind: 'real', label: 'Original data', ...empty, dice: num(real.dice), diceCi: ci(real.diceSamples, records.studyName, dataset, 'real') });
  if (aug) rows.push({ kind: 'augmented', label: 'Augmented original data', ...empty, dice: num(aug.dice), diceCi: ci(aug.diceSamples, records.studyName, dataset, 'augmented') });
  for (const g of gans) {
    const t = best.get(g);
    rows.push({
      kind: 'gan', label: g, gan: g, trialId: t?.trialId ?? null,
      fid: t ? num(t.fid) : null, unetFid: t ? num(t.unetFid) : null, kid: t ? num(t.kid) : null,
      fidCi: t?.fidCi ?? null, unetFidCi: t?.unetFidCi ?? null, kidCi: t?.kidCi ?? null,
      dice: t ? num(t.dice) : null, diceCi: t ? ci(t.diceSamples, records.studyName, dataset, 'gan', g, t.trialId) : null,
    });
  }
  // 'Original + <best GAN>': the GAN whose best trial is best by the selection metric and has a real+synthetic Dice.
  const ranked = [...best.values()].filter((t) => num(t.diceRealPlusSynthetic) !== null);
  const top = bestTrial(ranked, metric);
  if (top) {
    rows.push({ kind: 'real-plus-gan', label: `Original + ${top.gan}`, ...empty, gan: top.gan, trialId: top.trialId, dice: num(top.diceRealPlusSynthetic), diceCi: null });
  }
  const rvr = num(real?.realVsRealFid ?? aug?.realVsRealFid ?? null);
  const rvrUnet = num(real?.realVsRealUnetFid ?? aug?.realVsRealUnetFid ?? null);
  if (rvr !== null || rvrUnet !== null) rows.push({ kind: 'real-vs-real', label: 'Real vs real (FID floor)', ...empty, fid: rvr, unetFid: rvrUnet, dice: null, diceCi: null });

  const cb = correlation([...best.values()], metric);
  const ca = correlation(trials, metric);
  const tests: PairedTest[] = [];
  const ra = paired('Original data', real?.diceSamples, 'Augmented original data', aug?.diceSamples);
  if (ra) tests.push(ra);
  for (const [g, t] of best) {
    const p = paired('Original data', real?.diceSamples, g, t.diceSamples);
    if (p) tests.push(p);
    // the question of the study: does adding this GAN's data to the real data change the Dice?
    const q = paired('Original data', real?.diceSamples, `Original + ${g}`, t.diceRealPlusSyntheticSamples);
    if (q) tests.push(q);
  }
  return {
    dataset, metricUsed: metric, fallbackNote: note, seedNotes, rows, best,
    spearmanBest: cb.rho, spearmanBestN: cb.n, spearmanAll: ca.rho, spearmanAllN: ca.n,
    pairedTests: tests, outliers: findOutliers(trials, th), cost: costPerGan(trials),
  };
}

export function buildTables(records: StudyRecords, th: OutlierThresholds = DEFAULT_THRESHOLDS): DatasetTable[] {
  return datasetsOf(records).map((d) => buildDatasetTable(records, d, th));
}

// ---------- CSV ----------

export function csvCell(v: unknown): string {
  if (v === null || v === undefined) return '';
  const s = typeof v === 'number' ? (Number.isFinite(v) ? String(v) : '') : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  return [header, ...rows].map((r) => r.map(csvCell).join(',')).join('\r\n') + '\r\n';
}

export function table2Csv(tables: readonly DatasetTable[]): string {
  const header = ['dataset', 'row', 'gan', 'trial_id', 'selection_metric', 'fid', 'fid_ci_lo', 'fid_ci_hi', 'unet_fid', 'unet_fid_ci_lo', 'unet_fid_ci_hi',
    'kid', 'kid_ci_lo', 'kid_ci_hi', 'dice', 'dice_ci_lo', 'dice_ci_hi', 'dice_n'];
  const rows = tables.flatMap((t) => t.rows.map((r) => [
    t.dataset, r.label, r.gan, r.trialId, t.metricUsed, r.fid, r.fidCi?.lo, r.fidCi?.hi, r.unetFid, r.unetFidCi?.lo, r.unetFidCi?.hi,
    r.kid, r.kidCi?.lo, r.kidCi?.hi, r.dice, r.diceCi?.lo, r.diceCi?.hi, r.diceCi?.n,
  ]));
  return toCsv(header, rows);
}

export function trialsCsv(records: StudyRecords): string {
  const hp = uniq(records.trials.flatMap((t) => Object.keys(t.hyperparameters))).sort();
  const header = ['dataset', 'gan', 'trial_id', 'config_hash', 'seed', 'status', 'error', 'wall_time_sec', 'images_shown',
    'fid', 'unet_fid', 'kid', 'dice', 'dice_real_plus_synthetic', 'dice_n', 'memorisation', 'plausible_share', 'plausible_share_real',
    'mask_image_dice', 'msssim_generated', 'msssim_real', ...hp.map((k) => `hp.${k}`)];
  const rows = records.trials.map((t) => [
    t.dataset, t.gan, t.trialId, t.configHash, t.seed, t.status, t.error, t.wallTimeSec, t.imagesShown,
    num(t.fid), num(t.unetFid), num(t.kid), num(t.dice), num(t.diceRealPlusSynthetic), t.diceSamples?.length,
    num(t.memorisation), num(t.plausibleShare), num(t.plausibleShareReal), num(t.maskImageDice), num(t.msssimGenerated), num(t.msssimReal),
    ...hp.map((k) => t.hyperparameters[k]),
  ]);
  return toCsv(header, rows);
}
