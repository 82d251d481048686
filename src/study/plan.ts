/**
 * A study as a graph of jobs: what the runner executes, one job per stage of the paper's protocol (§3):
 *
 *   phantoms(dataset kind)  → prepare(dataset) → baseline(dataset, real | augmented)         U-Nets on real data
 *                                              → train(trial) → sample(trial) → evaluate(trial)  (needs baseline real)
 *   evaluate(every trial of dataset × GAN) → select(dataset, GAN) → segment(dataset, GAN, synthetic | real+synthetic)
 *
 * `planStudy` is pure: the same study gives the same jobs, ids and input hashes. A job's input hash covers its
 * payload and the input hashes of its dependencies (a Merkle chain), so changing `training.kimg` re-plans the
 * trainings and everything downstream of them while prepared data and baselines stay done.
 *
 * Payload paths are relative to the study folder (moving the folder keeps it valid); dataset roots are absolute.
 * GAN kinds are not named here beyond the trial plan: a new generator family (SPADE, StyleGAN2) is a new
 * variant in the trial's resolved config, not a new job kind.
 */
import { configHash } from '../core/hash.js';
import type { ResolvedGanConfig } from '../gan/config.js';
import type { PhantomDataset } from '../data/phantoms/index.js';
import type { ResolvedStudy, StudyDataset } from './config.js';
import { expandStudy, type TrialPlan } from './sweep.js';

export const JOB_KINDS = ['phantoms', 'prepare', 'baseline', 'train', 'sample', 'evaluate', 'select', 'segment'] as const;
export type JobKind = (typeof JOB_KINDS)[number];

/**
 * Which ready job a free worker takes. Data first (phantoms, prepare: quick, and they unlock every other job
 * of their dataset — last, they would leave a whole dataset for the end), then the real-data U-Nets (the
 * evaluations need the real one), then later stages before earlier ones, so each trial's results arrive
 * soon after its training and the study's tail stays short; trainings fill the rest.
 */
export const STAGE_PRIORITY: Readonly<Record<JobKind, number>> = {
  phantoms: 9, prepare: 8, baseline: 7, segment: 6, select: 5, evaluate: 4, sample: 3, train: 2,
};

/** Seed of the sample latents (distinct from the training seeds so samples are never training latents). */
export const SAMPLE_SEED = 1_000_000;

export interface SegmentConfig {
  readonly maxSteps: number;
  readonly seed: number;
  readonly batchSize: number;
  readonly unet: { readonly depth?: number; readonly filters?: number; readonly norm?: string };
  readonly syntheticCount?: number;
}

export interface InceptionChoice {
  /** Absolute path of a user-given weights file; null → the weights folder (`medsyn weights`). */
  readonly file: string | null;
  readonly allowUnverified: boolean;
}

export type JobPayload =
  | { readonly kind: 'phantoms'; readonly dataset: PhantomDataset; readonly patients: number; readonly seed: number; readonly out: string }
  | {
    readonly kind: 'prepare'; readonly dataset: string; readonly layout: string;
    /** Absolute dataset root, or the phantoms job's folder (relative). */
    readonly root: string; readonly rootIsPhantom: boolean; readonly out: string; readonly config: Readonly<Record<string, unknown>>;
  }
  | {
    readonly kind: 'baseline'; readonly dataset: string; readonly regime: 'real' | 'augmented'; readonly data: string; readonly out: string;
    readonly config: SegmentConfig; readonly inception: InceptionChoice;
  }
  | {
    readonly kind: 'train'; readonly trialId: string; readonly data: string; readonly runDir: string; readonly gan: ResolvedGanConfig;
    readonly kimg: number; readonly seed: number; readonly checkpointKimg: number;
  }
  | { readonly kind: 'sample'; readonly trialId: string; readonly runDir: string; readonly n: number; readonly out: string; readonly seed: number }
  | {
    readonly kind: 'evaluate'; readonly trialId: string; readonly runDir: string; readonly data: string; readonly samplesDir: string;
    readonly unetDir: string; readonly inception: InceptionChoice; readonly seed: number;
  }
  | {
    readonly kind: 'select'; readonly dataset: string; readonly gan: string; readonly metric: string; readonly direction: 'min' | 'max';
    /** Evaluate jobs of the candidate trials (and their segment jobs when selecting by Dice), in plan order. */
    readonly candidates: readonly { readonly trialId: string; readonly configId: string; readonly evaluateJob: string; readonly segmentJob: string | null }[];
  }
  | {
    readonly kind: 'segment'; readonly dataset: string; readonly gan: string; readonly regime: 'synthetic' | 'real+synthetic';
    readonly data: string; readonly config: SegmentConfig;
    /** A fixed trial, or the trial a select job picks (resolved when the job is dispatched). */
    readonly trial: { readonly id: string } | { readonly fromSelect: string };
  };

export interface JobSpec {
  readonly id: string;
  readonly kind: JobKind;
  readonly deps: readonly string[];
  readonly inputHash: string;
  /** Position in plan order (ties between equally ready jobs of one stage). */
  readonly rank: number;
  readonly dataset: string | null;
  readonly gan: string | null;
  readonly trialId: string | null;
  readonly payload: JobPayload;
}

export interface StudyPlan {
  readonly trials: readonly TrialPlan[];
  readonly jobs: readonly JobSpec[];
}

/** Folder layout of a study (relative to the study folder). */
export const LAYOUT = {
  phantoms: (dataset: string, patients: number, seed: number) => `phantoms/${dataset}-${patients}p-s${seed}`,
  prepared: (label: string) => `prepared/${label}`,
  baseline: (label: string, regime: string) => `baselines/${label}/${regime}`,
  trial: (trialId: string) => `trials/${trialId}`,
  samples: (trialId: string) => `trials/${trialId}/samples`,
  segment: (trialId: string, regime: string) => `trials/${trialId}/segment-${regime}`,
  report: 'report',
  store: 'study.sqlite',
  logs: 'logs',
} as const;

export const jobId = {
  phantoms: (dataset: string, patients: number, seed: number) => `phantoms:${dataset}-${patients}p-s${seed}`,
  prepare: (label: string) => `prepare:${label}`,
  baseline: (label: string, regime: string) => `baseline:${label}:${regime}`,
  train: (trialId: string) => `train:${trialId}`,
  sample: (trialId: string) => `sample:${trialId}`,
  evaluate: (trialId: string) => `evaluate:${trialId}`,
  select: (label: string, gan: string) => `select:${label}:${gan}`,
  segmentBest: (label: string, gan: string, regime: string) => `segment:${label}:${gan}:best:${regime}`,
  segmentTrial: (trialId: string, regime: string) => `segment:${trialId}:${regime}`,
} as const;

/** The phantom seed: fixed, so every study on the phantoms sees the same patients. */
const PHANTOM_SEED = 0;

export function planStudy(study: ResolvedStudy): StudyPlan {
  const trials = expandStudy(study);
  const jobs: JobSpec[] = [];
  const hashes = new Map<string, string>();
  const add = (spec: Omit<JobSpec, 'inputHash' | 'rank'>): JobSpec => {
    if (hashes.has(spec.id)) return jobs.find((j) => j.id === spec.id)!;
    const depHashes = spec.deps.map((d) => {
      const h = hashes.get(d);
      if (h === undefined) throw new Error(`plan: ${spec.id} depends on ${d}, which is not planned before it`);
      return h;
    });
    // A real dataset's root path is left out: moving the data folder must not re-plan finished trainings
    // (prepareDataset re-reads it anyway when its files change).
    const hashed = spec.payload.kind === 'prepare' && !spec.payload.rootIsPhantom ? { ...spec.payload, root: null } : spec.payload;
    const inputHash = configHash({ kind: spec.kind, payload: hashed, deps: depHashes });
    const job = { ...spec, inputHash, rank: jobs.length };
    hashes.set(spec.id, inputHash);
    jobs.push(job);
    return job;
  };
  const inception: InceptionChoice = { file: study.evaluation.inceptionWeights, allowUnverified: study.evaluation.allowUnverified };
  const { downstream } = study;
  const segConfig: SegmentConfig = {
    maxSteps: downstream.maxSteps, seed: study.seeds[0]!, batchSize: downstream.batchSize, unet: downstream.unet,
  };
  const synthConfig: SegmentConfig = { ...segConfig, syntheticCount: downstream.syntheticCount };
  const syntheticRegimes = downstream.regimes.filter((r): r is 'synthetic' | 'real+synthetic' => r === 'synthetic' || r === 'real+synthetic');

  for (const ds of study.datasets) {
    const prepare = planPrepare(ds, add);
    const data = LAYOUT.prepared(ds.label);
    // The real-data U-Net is always trained: evaluate uses its encoder as the domain feature space.
    for (const regime of ['real', 'augmented'] as const) {
      if (regime === 'augmented' && !downstream.regimes.includes('augmented')) continue;
      add({
        id: jobId.baseline(ds.label, regime), kind: 'baseline', deps: [prepare], dataset: ds.label, gan: null, trialId: null,
        payload: { kind: 'baseline', dataset: ds.label, regime, data, out: LAYOUT.baseline(ds.label, regime), config: segConfig, inception },
      });
    }
    for (const gan of study.gans) {
      const candidates: { trialId: string; configId: string; evaluateJob: string; segmentJob: string | null }[] = [];
      for (const t of trials) {
        if (t.dataset !== ds.label || t.gan !== gan || t.invalid !== null) continue;
        const runDir = LAYOUT.trial(t.id);
        const train = add({
          id: jobId.train(t.id), kind: 'train', deps: [prepare], dataset: ds.label, gan, trialId: t.id,
          payload: {
            kind: 'train', trialId: t.id, data, runDir, gan: t.resolvedGan, kimg: study.training.kimg, seed: t.seed,
            checkpointKimg: study.training.checkpointKimg ?? study.training.kimg,
          },
        });
        const samplesDir = LAYOUT.samples(t.id);
        const sample = add({
          id: jobId.sample(t.id), kind: 'sample', deps: [train.id], dataset: ds.label, gan, trialId: t.id,
          payload: { kind: 'sample', trialId: t.id, runDir, n: study.samples, out: samplesDir, seed: SAMPLE_SEED },
        });
        const evaluate = add({
          id: jobId.evaluate(t.id), kind: 'evaluate', deps: [sample.id, jobId.baseline(ds.label, 'real')], dataset: ds.label, gan, trialId: t.id,
          payload: { kind: 'evaluate', trialId: t.id, runDir, data, samplesDir, unetDir: LAYOUT.baseline(ds.label, 'real'), inception, seed: 0 },
        });
        let segmentJob: string | null = null;
        if (downstream.trials === 'all') {
          for (const regime of syntheticRegimes) {
            const seg = add({
              id: jobId.segmentTrial(t.id, regime), kind: 'segment', deps: [sample.id], dataset: ds.label, gan, trialId: t.id,
              payload: { kind: 'segment', dataset: ds.label, gan, regime, data, config: synthConfig, trial: { id: t.id } },
            });
            // selecting by Dice reads the synthetic-only U-Net, or the real+synthetic one when that is all the study trains
            if (regime === 'synthetic' || !syntheticRegimes.includes('synthetic')) segmentJob = seg.id;
          }
        }
        candidates.push({ trialId: t.id, configId: t.configId, evaluateJob: evaluate.id, segmentJob });
      }
      if (candidates.length === 0) continue;
      const select = add({
        id: jobId.select(ds.label, gan), kind: 'select',
        deps: candidates.flatMap((c) => (c.segmentJob ? [c.evaluateJob, c.segmentJob] : [c.evaluateJob])),
        dataset: ds.label, gan, trialId: null,
        payload: { kind: 'select', dataset: ds.label, gan, metric: study.selection.metric, direction: study.selection.direction, candidates },
      });
      if (downstream.trials === 'best') {
        for (const regime of syntheticRegimes) {
          add({
            id: jobId.segmentBest(ds.label, gan, regime), kind: 'segment', deps: [select.id], dataset: ds.label, gan, trialId: null,
            payload: { kind: 'segment', dataset: ds.label, gan, regime, data, config: synthConfig, trial: { fromSelect: select.id } },
          });
        }
      }
    }
  }
  return { trials, jobs };
}

function planPrepare(ds: StudyDataset, add: (spec: Omit<JobSpec, 'inputHash' | 'rank'>) => JobSpec): string {
  const deps: string[] = [];
  let root: string;
  if (ds.root === null) {
    const layout = ds.id as PhantomDataset;
    const patients = ds.patients ?? 10;
    const phantoms = add({
      id: jobId.phantoms(layout, patients, PHANTOM_SEED), kind: 'phantoms', deps: [], dataset: null, gan: null, trialId: null,
      payload: { kind: 'phantoms', dataset: layout, patients, seed: PHANTOM_SEED, out: LAYOUT.phantoms(layout, patients, PHANTOM_SEED) },
    });
    deps.push(phantoms.id);
    root = `${LAYOUT.phantoms(layout, patients, PHANTOM_SEED)}/${layout}`; // writePhantoms puts each layout in its own subfolder
  } else {
    root = ds.root;
  }
  return add({
    id: jobId.prepare(ds.label), kind: 'prepare', deps, dataset: ds.label, gan: null, trialId: null,
    payload: {
      kind: 'prepare', dataset: ds.label, layout: ds.id, root, rootIsPhantom: ds.root === null, out: LAYOUT.prepared(ds.label),
      config: { ...ds.prepare, size: ds.size } as Record<string, unknown>,
    },
  }).id;
}
