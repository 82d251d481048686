/**
 * From the study store to the report: maps stored job results onto the report's plain records
 * (src/report/records.ts) and renders them into STUDY/report/. Reads the store only — the report of a study
 * can be rebuilt at any time (`medsyn study report DIR`), also while it runs (unfinished trials are left out
 * and counted in a note).
 */
import path from 'node:path';
import type { BaselineRecord, HyperValue, StudyRecords, TrialRecord } from '../report/records.js';
import { renderStudyReport } from '../report/render.js';
import { LAYOUT, jobId } from './plan.js';
import type { BaselineOutput, EvaluateOutput, PrepareOutput, SegmentOutput, TrainOutput } from './stages.js';
import type { StudyStore, JobRow } from './store.js';
import type { ResolvedStudy } from './config.js';

function hyper(v: unknown): HyperValue {
  return typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : JSON.stringify(v);
}

/** The report's records of a study store. */
export function recordsFromStore(store: StudyStore, studyDir: string): StudyRecords {
  const study = JSON.parse(store.getMeta('study') ?? 'null') as ResolvedStudy | null;
  if (!study) throw new Error(`${store.file}: holds no study`);
  const jobs = new Map<string, JobRow>(store.jobs().map((j) => [j.id, j]));
  const abs = (rel: string): string => path.join(studyDir, rel);
  const done = <T>(id: string): T | null => {
    const j = jobs.get(id);
    return j?.status === 'done' ? (j.result as T) : null;
  };

  // synthetic-data U-Nets by trial (per-trial jobs and the best-trial jobs both name their trial)
  const segments = new Map<string, Partial<Record<'synthetic' | 'real+synthetic', SegmentOutput>>>();
  for (const j of jobs.values()) {
    if (j.kind !== 'segment' || j.status !== 'done') continue;
    const r = j.result as SegmentOutput;
    const entry = segments.get(r.trialId) ?? {};
    entry[r.regime] = r;
    segments.set(r.trialId, entry);
  }

  let unfinished = 0;
  let inceptionSkipped: string | null = null;
  const trials: TrialRecord[] = [];
  // study order (datasets and GANs as the study lists them), then configuration and seed
  const dsOrder = new Map(study.datasets.map((d, i) => [d.label, i]));
  const ganOrder = new Map(study.gans.map((g, i) => [g as string, i]));
  const ordered = store.trials().sort((x, y) => (dsOrder.get(x.dataset) ?? 1e9) - (dsOrder.get(y.dataset) ?? 1e9)
    || (ganOrder.get(x.gan) ?? 1e9) - (ganOrder.get(y.gan) ?? 1e9) || x.index - y.index || x.seed - y.seed);
  for (const t of ordered) {
    const base = {
      dataset: t.dataset, gan: t.gan, trialId: t.id, configHash: t.configId, seed: t.seed,
      hyperparameters: Object.fromEntries(Object.entries(t.overrides).map(([k, v]) => [k, hyper(v)])),
    };
    if (t.invalid !== null) {
      trials.push({ ...base, status: 'failed', error: `invalid configuration: ${t.invalid}`, wallTimeSec: 0, imagesShown: 0 });
      continue;
    }
    const stages = [jobId.train(t.id), jobId.sample(t.id), jobId.evaluate(t.id)].map((id) => jobs.get(id));
    // a skipped stage is as final as a failed one (e.g. its dataset failed to prepare): the error says why
    const failed = stages.find((j) => j?.status === 'failed') ?? stages.find((j) => j?.status === 'skipped');
    const train = done<TrainOutput>(jobId.train(t.id));
    if (failed) {
      trials.push({ ...base, status: 'failed', error: `${failed.kind} ${failed.status === 'skipped' ? 'skipped' : 'failed'}: ${failed.error ?? ''}`, wallTimeSec: train?.wallTimeSec ?? failed.wallSec ?? 0, imagesShown: train?.imagesShown ?? 0 });
      continue;
    }
    const e = done<EvaluateOutput>(jobId.evaluate(t.id));
    if (!train || !e) { unfinished++; continue; }
    if (e.inceptionSkipped) inceptionSkipped = e.inceptionSkipped;
    const seg = segments.get(t.id) ?? {};
    trials.push({
      ...base, status: 'done', wallTimeSec: train.wallTimeSec, imagesShown: train.imagesShown,
      fid: e.fid, unetFid: e.unetFid, kid: e.kid ?? e.unetKid, fidCi: e.fidCi, unetFidCi: e.unetFidCi, kidCi: e.kidCi,
      dice: seg.synthetic?.dice ?? null, diceRealPlusSynthetic: seg['real+synthetic']?.dice ?? null,
      ...(seg.synthetic ? { diceSamples: seg.synthetic.diceItems } : {}),
      ...(seg['real+synthetic'] ? { diceRealPlusSyntheticSamples: seg['real+synthetic'].diceItems } : {}),
      memorisation: e.memorisation, plausibleShare: e.plausibleShare, plausibleShareReal: e.plausibleShareReal,
      maskImageDice: e.maskImageDice, msssimGenerated: e.msssimGenerated, msssimReal: e.msssimReal,
      gridPng: abs(train.grid),
      umap: { points: e.umap.unet.points }, umapSeparability: e.umap.unet.separability, timeToBestSec: e.timeToBestSec,
      ...(e.umap.inception ? { umapInception: { points: e.umap.inception.points } } : {}),
    });
  }

  const baselines: BaselineRecord[] = [];
  const realExamplePng: Record<string, string> = {};
  for (const ds of study.datasets) {
    const prep = done<PrepareOutput>(jobId.prepare(ds.label));
    if (prep) realExamplePng[ds.label] = abs(prep.realExamples);
    for (const regime of ['real', 'augmented'] as const) {
      const b = done<BaselineOutput>(jobId.baseline(ds.label, regime));
      if (!b) continue;
      baselines.push({
        dataset: ds.label, regime, dice: b.dice, diceSamples: b.diceItems,
        ...(b.floor ? { realVsRealFid: b.floor.fid, realVsRealUnetFid: b.floor.unetFid } : {}),
      });
    }
  }

  const notes: string[] = [];
  if (inceptionSkipped) notes.push(`No Inception-v3 FID/KID: ${inceptionSkipped}. The tables show the U-Net-space FID and KID and the domain metrics.`);
  if (unfinished > 0) notes.push(`${unfinished} trial(s) still running or pending are not in this report yet (\`medsyn study status ${studyDir}\`).`);
  const failed = [...jobs.values()].filter((j) => j.status === 'failed' && j.kind !== 'train' && j.kind !== 'sample' && j.kind !== 'evaluate');
  for (const j of failed) notes.push(`${j.id} failed: ${(j.error ?? '').split('\n')[0]}`);
  return {
    studyName: study.name,
    createdAt: store.getMeta('created_at') ?? new Date().toISOString(),
    selectionMetric: study.selection.metric,
    trials,
    baselines,
    realExamplePng,
    notes,
    ...(inceptionSkipped ? { protocols: { kid: 'Kernel Inception Distance (cubic polynomial kernel, unbiased MMD², subsets) in the U-Net encoder space: the Inception weights were not available.' } } : {}),
  };
}

/** Renders STUDY/report/{index.html, report.md, table2.csv, trials.csv}; returns the index path. */
export async function writeStudyReport(store: StudyStore, studyDir: string): Promise<string> {
  const dir = path.join(studyDir, LAYOUT.report);
  await renderStudyReport(recordsFromStore(store, studyDir), dir);
  return path.join(dir, 'index.html');
}
