/**
 * medsyn's programmatic API — what the CLI calls, one stage per export, in the order of the study:
 * engine → data → GANs → sampling → metrics → segmentation → study → report.
 *
 *   import { loadStudy, runStudy } from 'medsyn';
 *   const r = await runStudy({ study: loadStudy('studies/demo.json'), out: 'medsyn-demo' });
 *   console.log(r.report); // …/report/index.html
 */
export { initEngine, engineInfo, type EngineInfo } from './core/engine.js';
export { MedsynError, DataError, ConfigError } from './core/errors.js';

export { writePhantoms, PHANTOM_DATASETS, type PhantomDataset } from './data/phantoms/index.js';
export { prepareDataset, type PrepareOptions, type PrepareResult } from './data/prepare.js';
export { loadPrepared } from './data/load.js';
export type { PreparedDataset, PreparedManifest, SliceArrays, SliceSplit } from './data/prepared.js';
export { renderOverlayGrid } from './data/show.js';

export { resolveGanConfig, parseSetOverrides, GAN_CONFIG_KEYS, type ResolvedGanConfig } from './gan/config.js';
export { GAN_VARIANT_IDS, GAN_VARIANTS, type GanVariantId } from './gan/variants.js';
export { trainGan, type TrainGanOptions, type TrainingSummary } from './training/train.js';
export { sampleRun, loadRunGenerator, type SampleRunOptions, type SamplesManifest } from './sampling/generate.js';

export { computeFeatureMetrics, metricsFromNpyFiles } from './metrics/compute.js';
export { fidFromFeatures } from './metrics/fid.js';
export { loadFidInception, extractInceptionFeatures } from './metrics/inception.js';
export { weightsDir, weightsStatus, FID_INCEPTION_WEIGHTS } from './metrics/weights.js';

export { runSegmentation, type RunSegmentationOptions, type SegmentationResult } from './segmentation/segment.js';

export { evaluateRun, type EvaluateRunOptions, type EvaluationResult } from './study/evaluate.js';
export { loadStudy, resolveStudy, type ResolvedStudy } from './study/config.js';
export { expandStudy, type TrialPlan } from './study/sweep.js';
export { planStudy, type JobSpec, type StudyPlan } from './study/plan.js';
export { runStudy, type RunStudyOptions, type StudyRunResult } from './study/runner.js';
export { StudyStore } from './study/store.js';
export { studyStatus, formatStatus } from './study/status.js';
export { recordsFromStore, writeStudyReport } from './study/report.js';

export { renderStudyReport, buildStudyReport } from './report/render.js';
export type { StudyRecords, TrialRecord, BaselineRecord } from './report/records.js';
