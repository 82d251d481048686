import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { JobPayload } from '../../src/study/plan.js';
import { selectBest, type SelectOutput } from '../../src/study/select.js';
import type { EvaluateOutput, SegmentOutput } from '../../src/study/stages.js';

type SelectPayload = Extract<JobPayload, { kind: 'select' }>;
type Status = 'done' | 'failed' | 'skipped' | 'pending' | 'running';

interface Cand {
  id: string;
  status?: Status;
  fid?: number | null;
  kid?: number | null;
  unetFid?: number;
  unetKid?: number;
  /** Dice of the trial's synthetic U-Net; undefined → no segment job. */
  dice?: number;
  segStatus?: Status;
  /** Configuration id (trials of one configuration with different seeds share it); default: the trial id. */
  config?: string;
}

function evaluate(c: Cand): EvaluateOutput {
  return {
    metricsFile: `trials/${c.id}/metrics.json`, fid: c.fid === undefined ? 50 : c.fid, kid: c.kid === undefined ? 0.05 : c.kid,
    unetFid: c.unetFid ?? 20, unetKid: c.unetKid ?? 0.02, precision: 0.5, recall: 0.5, memorisation: 0,
    plausibleShare: null, plausibleShareReal: null, maskImageDice: null, msssimGenerated: null, msssimReal: null,
    inceptionSkipped: c.fid === null ? 'no weights' : null, umap: { unet: { points: [], separability: 0.5 }, inception: null },
    curve: [], timeToBestSec: null, fidCi: null, unetFidCi: { lo: 18, hi: 22 }, kidCi: { lo: 0.01, hi: 0.03 },
  };
}

function segment(c: Cand): SegmentOutput {
  return {
    dice: c.dice!, dicePerClass: { fg: c.dice! }, hd95: 3, diceItems: [c.dice!], itemIds: ['p1'], trainCount: 8, steps: 5,
    resultFile: `trials/${c.id}/segment-synthetic/result.json`, trialId: c.id, regime: 'synthetic',
  };
}

/** The fields of a selection without the per-configuration summary (one seed per configuration here). */
function core(r: SelectOutput) {
  assert.equal(r.seeds, 1);
  assert.equal(r.configSd, 0);
  assert.equal(r.configMean, r.value);
  const { configId: _c, seeds: _s, configMean: _m, configSd: _sd, ...rest } = r;
  return rest;
}

/** A select payload over `cands` and the lookup over their jobs. */
function setup(cands: Cand[], metric = 'fid', direction: 'min' | 'max' = 'min') {
  const jobs = new Map<string, { status: string; result: unknown }>();
  const candidates = cands.map((c) => {
    const evaluateJob = `evaluate:${c.id}`;
    const st = c.status ?? 'done';
    jobs.set(evaluateJob, { status: st, result: st === 'done' ? evaluate(c) : null });
    let segmentJob: string | null = null;
    if (c.dice !== undefined || c.segStatus !== undefined) {
      segmentJob = `segment:${c.id}:synthetic`;
      const ss = c.segStatus ?? 'done';
      jobs.set(segmentJob, { status: ss, result: ss === 'done' ? segment(c) : null });
    }
    return { trialId: c.id, configId: c.config ?? c.id, evaluateJob, segmentJob };
  });
  const p: SelectPayload = { kind: 'select', dataset: 'acdc', gan: 'dcgan', metric, direction, candidates };
  return { p, lookup: (id: string) => jobs.get(id) };
}

test('select: the lowest FID wins', () => {
  const { p, lookup } = setup([{ id: 'acdc-dcgan-c', fid: 41 }, { id: 'acdc-dcgan-a', fid: 40.5 }, { id: 'acdc-dcgan-b', fid: 80 }]);
  const r = selectBest(p, lookup);
  assert.deepEqual(core(r), { trialId: 'acdc-dcgan-a', metric: 'fid', value: 40.5, candidates: 3, note: null });
});

test('select: FID missing on any candidate → U-Net FID for all, with a note', () => {
  // b has the best Inception FID, but c lacks one: compare U-Net FIDs instead (c best there)
  const { p, lookup } = setup([
    { id: 'b', fid: 10, unetFid: 30 },
    { id: 'c', fid: null, kid: null, unetFid: 12 },
    { id: 'd', fid: 60, unetFid: 25 },
  ]);
  const r = selectBest(p, lookup);
  assert.equal(r.trialId, 'c');
  assert.equal(r.metric, 'unetFid');
  assert.equal(r.value, 12);
  assert.ok(r.note && /Inception/.test(r.note) && /U-Net/.test(r.note), String(r.note));
  assert.match(r.note!, /medsyn weights/);
});

test('select: KID falls back to U-Net KID the same way', () => {
  const { p, lookup } = setup([{ id: 'a', kid: null, fid: null, unetKid: 0.2 }, { id: 'b', kid: null, fid: null, unetKid: 0.1 }], 'kid');
  const r = selectBest(p, lookup);
  assert.equal(r.trialId, 'b');
  assert.equal(r.metric, 'unetKid');
  assert.ok(r.note?.includes('KID'));
  // with KID present: no fallback
  const ok = setup([{ id: 'a', kid: 0.3 }, { id: 'b', kid: 0.4 }], 'kid');
  assert.deepEqual(core(selectBest(ok.p, ok.lookup)), { trialId: 'a', metric: 'kid', value: 0.3, candidates: 2, note: null });
});

test("select: 'unetFid' is compared as is (no note)", () => {
  const { p, lookup } = setup([{ id: 'a', fid: null, unetFid: 9 }, { id: 'b', fid: 1, unetFid: 8 }], 'unetFid');
  assert.deepEqual(core(selectBest(p, lookup)), { trialId: 'b', metric: 'unetFid', value: 8, candidates: 2, note: null });
});

test("select: 'dice' with direction max reads the segment results", () => {
  const { p, lookup } = setup([
    { id: 'a', fid: 10, dice: 0.61 },
    { id: 'b', fid: 90, dice: 0.83 },
    { id: 'c', fid: 50, dice: 0.7 },
  ], 'dice', 'max');
  assert.deepEqual(core(selectBest(p, lookup)), { trialId: 'b', metric: 'dice', value: 0.83, candidates: 3, note: null });
  // a candidate whose segment job failed has no Dice and is passed over
  const s2 = setup([{ id: 'a', dice: 0.6 }, { id: 'b', dice: 0.9, segStatus: 'failed' }], 'dice', 'max');
  const r2 = selectBest(s2.p, s2.lookup);
  assert.equal(r2.trialId, 'a');
  assert.equal(r2.candidates, 2); // evaluated candidates
});

test('select: ties go to the smaller trial id, whatever the order', () => {
  for (const order of [['t-b', 't-a', 't-c'], ['t-c', 't-b', 't-a'], ['t-a', 't-c', 't-b']]) {
    const { p, lookup } = setup(order.map((id) => ({ id, fid: id === 't-c' ? 31 : 30 })));
    assert.equal(selectBest(p, lookup).trialId, 't-a', order.join());
  }
  const d = setup([{ id: 'z', dice: 0.8 }, { id: 'y', dice: 0.8 }, { id: 'x', dice: 0.5 }], 'dice', 'max');
  assert.equal(selectBest(d.p, d.lookup).trialId, 'y');
});

test('select: failed, skipped and unfinished candidates are not compared', () => {
  const { p, lookup } = setup([
    { id: 'a', status: 'failed', fid: 1 },
    { id: 'b', status: 'skipped', fid: 2 },
    { id: 'c', status: 'running', fid: 3 },
    { id: 'd', fid: 40 },
    { id: 'e', fid: 35 },
  ]);
  const r = selectBest(p, lookup);
  assert.equal(r.trialId, 'e');
  assert.equal(r.candidates, 2);
  // a failed candidate (null result) does not force the U-Net fallback either
  assert.equal(r.metric, 'fid');
  assert.equal(r.note, null);
});

test('select: a candidate whose evaluate job is unknown to the lookup is ignored', () => {
  const { p, lookup } = setup([{ id: 'a', fid: 5 }, { id: 'b', fid: 6 }]);
  const r = selectBest(p, (id) => (id === 'evaluate:a' ? undefined : lookup(id)));
  assert.equal(r.trialId, 'b');
  assert.equal(r.candidates, 1);
});

test('select: all candidates failed → throws, naming the GAN, the dataset and the count', () => {
  const { p, lookup } = setup([{ id: 'a', status: 'failed' }, { id: 'b', status: 'skipped' }, { id: 'c', status: 'failed' }]);
  assert.throws(() => selectBest(p, lookup), (err: Error) => {
    assert.match(err.message, /dcgan/);
    assert.match(err.message, /acdc/);
    assert.match(err.message, /3/);
    assert.match(err.message, /nothing to select/);
    return true;
  });
  const empty = setup([]);
  assert.throws(() => selectBest(empty.p, empty.lookup), /nothing to select/);
});

test('select: non-finite values are ignored; none finite → throws', () => {
  const { p, lookup } = setup([
    { id: 'a', fid: Number.NaN },
    { id: 'b', fid: Number.NEGATIVE_INFINITY },
    { id: 'c', fid: 70 },
    { id: 'd', fid: Number.POSITIVE_INFINITY },
  ]);
  assert.deepEqual(core(selectBest(p, lookup)), { trialId: 'c', metric: 'fid', value: 70, candidates: 4, note: null });
  const all = setup([{ id: 'a', fid: Number.NaN }, { id: 'b', fid: Number.POSITIVE_INFINITY }]);
  assert.throws(() => selectBest(all.p, all.lookup), /finite fid/);
  // 'dice' without any segment result
  const noSeg = setup([{ id: 'a' }, { id: 'b' }], 'dice', 'max');
  assert.throws(() => selectBest(noSeg.p, noSeg.lookup), /finite dice/);
});

test('select: min vs max direction on the same values', () => {
  const cands = [{ id: 'a', fid: 10, unetFid: 10 }, { id: 'b', fid: 20, unetFid: 20 }];
  const lo = setup(cands, 'fid', 'min');
  const hi = setup(cands, 'fid', 'max');
  assert.equal(selectBest(lo.p, lo.lookup).trialId, 'a');
  assert.equal(selectBest(hi.p, hi.lookup).trialId, 'b');
});

test('select: with several seeds the configuration with the best mean wins, represented by its trial closest to the mean', () => {
  // config A: seeds 10, 30 (mean 20, one lucky seed at 10); config B: 15, 17, 16 (mean 16)
  const { p, lookup } = setup([
    { id: 'a1', config: 'A', fid: 10 }, { id: 'a2', config: 'A', fid: 30 },
    { id: 'b1', config: 'B', fid: 15 }, { id: 'b2', config: 'B', fid: 17 }, { id: 'b3', config: 'B', fid: 16 },
  ]);
  const r = selectBest(p, lookup);
  assert.equal(r.configId, 'B');
  assert.equal(r.trialId, 'b3');
  assert.equal(r.value, 16);
  assert.equal(r.seeds, 3);
  assert.equal(r.configMean, 16);
  assert.equal(r.configSd, 1);
});
