/**
 * Picking each GAN's best trial on a dataset (paper §3.1: the run with the lowest FID). The metric is the study's
 * `selection.metric`; FID and KID fall back to their U-Net-space versions when the Inception weights were absent,
 * and the result says so. With several seeds the configuration with the best mean wins and its trial closest to
 * that mean is picked (core/best.ts, shared with the report); ties go to the smaller trial id; trials that failed are not candidates.
 */
import { pickBest } from '../core/best.js';
import type { JobPayload } from './plan.js';
import type { EvaluateOutput, SegmentOutput } from './stages.js';

export interface SelectOutput {
  readonly trialId: string;
  /** The metric actually compared (after any fallback). */
  readonly metric: string;
  readonly value: number;
  readonly candidates: number;
  readonly note: string | null;
  /** The winning configuration, its number of finished seeds, and the mean and sd of the metric over them. */
  readonly configId: string;
  readonly seeds: number;
  readonly configMean: number;
  readonly configSd: number;
}

type Lookup = (jobId: string) => { readonly status: string; readonly result: unknown } | undefined;

export function selectBest(p: Extract<JobPayload, { kind: 'select' }>, job: Lookup): SelectOutput {
  const done = p.candidates.filter((c) => job(c.evaluateJob)?.status === 'done');
  if (done.length === 0) throw new Error(`no trial of ${p.gan} on ${p.dataset} finished (${p.candidates.length} failed or skipped); nothing to select`);
  const evals = done.map((c) => ({ c, e: job(c.evaluateJob)!.result as EvaluateOutput }));
  let metric = p.metric;
  let note: string | null = null;
  if ((metric === 'fid' || metric === 'kid') && evals.some(({ e }) => (metric === 'fid' ? e.fid : e.kid) === null)) {
    note = `${metric.toUpperCase()} needs the Inception weights (run \`medsyn weights\`); selected by the U-Net-space ${metric.toUpperCase()} instead`;
    metric = metric === 'fid' ? 'unetFid' : 'unetKid';
  }
  const value = (c: (typeof evals)[number]): number | null => {
    switch (metric) {
      case 'fid': return c.e.fid;
      case 'kid': return c.e.kid;
      case 'unetFid': return c.e.unetFid;
      case 'unetKid': return c.e.unetKid;
      case 'dice': {
        const s = c.c.segmentJob ? job(c.c.segmentJob) : undefined;
        return s?.status === 'done' ? (s.result as SegmentOutput).dice : null;
      }
      default: throw new Error(`unknown selection metric ${metric}`);
    }
  };
  // one rule with the report (core/best.ts): with several seeds, the configuration with the best mean wins
  const best = pickBest(evals.flatMap((c) => {
    const v = value(c);
    return v === null ? [] : [{ id: c.c.trialId, group: c.c.configId ?? c.c.trialId, value: v }];
  }), p.direction);
  if (!best) throw new Error(`no trial of ${p.gan} on ${p.dataset} has a finite ${metric}; nothing to select`);
  return {
    trialId: best.id, metric, value: best.value, candidates: evals.length, note,
    configId: best.group, seeds: best.groupSize, configMean: best.groupMean, configSd: best.groupSd,
  };
}
