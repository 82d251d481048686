/**
 * Picking each GAN's best trial on a dataset (paper §3.1: the run with the lowest FID). The metric is the study's
 * `selection.metric`; FID and KID fall back to their U-Net-space versions when the Inception weights were absent,
 * and the result says so. Ties go to the smaller trial id (as in the report); trials that failed are not candidates.
 */
import type { JobPayload } from './plan.js';
import type { EvaluateOutput, SegmentOutput } from './stages.js';

export interface SelectOutput {
  readonly trialId: string;
  /** The metric actually compared (after any fallback). */
  readonly metric: string;
  readonly value: number;
  readonly candidates: number;
  readonly note: string | null;
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
  const better = p.direction === 'max' ? (a: number, b: number) => a > b : (a: number, b: number) => a < b;
  let best: { trialId: string; value: number } | null = null;
  for (const c of evals) {
    const v = value(c);
    if (v === null || !Number.isFinite(v)) continue;
    // ties: the smaller trial id, as the report's bestTrial does
    if (!best || better(v, best.value) || (v === best.value && c.c.trialId < best.trialId)) best = { trialId: c.c.trialId, value: v };
  }
  if (!best) throw new Error(`no trial of ${p.gan} on ${p.dataset} has a finite ${metric}; nothing to select`);
  return { trialId: best.trialId, metric, value: best.value, candidates: evals.length, note };
}
