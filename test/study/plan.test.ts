import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveStudy } from '../../src/study/config.js';
import { JOB_KINDS, LAYOUT, jobId, planStudy, type JobKind, type JobSpec, type StudyPlan } from '../../src/study/plan.js';

/** 2 datasets (a phantom and a "real" one with a root), 2 GANs, a 2-value grid, all four regimes. */
function raw(over: { kimg?: number; root?: string; downstream?: Record<string, unknown>; selection?: Record<string, unknown> } = {}): Record<string, unknown> {
  return {
    name: 'plan-test',
    datasets: [{ id: 'acdc', patients: 6 }, { id: 'sliver07', root: over.root ?? '/data/medsyn-test/SLiver07' }],
    gans: ['dcgan', 'wgan-gp'],
    search: { space: { 'd.filters': [16, 32] } },
    training: { kimg: over.kimg ?? 2 },
    samples: 32,
    downstream: { regimes: ['real', 'augmented', 'synthetic', 'real+synthetic'], maxSteps: 10, ...(over.downstream ?? {}) },
    ...(over.selection ? { selection: over.selection } : {}),
    workers: 1,
  };
}

const plan = (over: Parameters<typeof raw>[0] = {}): StudyPlan => planStudy(resolveStudy(raw(over)));

function countByKind(jobs: readonly JobSpec[]): Record<JobKind, number> {
  const out = Object.fromEntries(JOB_KINDS.map((k) => [k, 0])) as Record<JobKind, number>;
  for (const j of jobs) out[j.kind]++;
  return out;
}

function byId(p: StudyPlan): Map<string, JobSpec> {
  return new Map(p.jobs.map((j) => [j.id, j]));
}

test('plan: job kinds and counts of a 2-dataset × 2-GAN × 2-configuration study', () => {
  const p = plan();
  assert.equal(p.trials.length, 2 * 2 * 2);
  assert.ok(p.trials.every((t) => t.invalid === null));
  // 1 phantom (acdc; sliver07 has a root), 2 prepares, 2 baselines per dataset, 3 jobs per trial,
  // 1 select per dataset × GAN, 2 best-trial segments (synthetic, real+synthetic) per select
  assert.deepEqual(countByKind(p.jobs), {
    phantoms: 1, prepare: 2, baseline: 4, train: 8, sample: 8, evaluate: 8, select: 4, segment: 8,
  });
  assert.equal(p.jobs.length, 43);
  const ids = byId(p);
  assert.ok(ids.has(jobId.phantoms('acdc', 6, 0)));
  assert.ok(ids.has(jobId.prepare('acdc')) && ids.has(jobId.prepare('sliver07')));
  for (const ds of ['acdc', 'sliver07']) {
    for (const regime of ['real', 'augmented']) {
      const b = ids.get(jobId.baseline(ds, regime))!;
      assert.ok(b, `baseline ${ds} ${regime}`);
      assert.deepEqual(b.deps, [jobId.prepare(ds)]);
    }
  }
  // the phantom's prepare reads the phantom folder; the real one reads its absolute root
  const prepAcdc = ids.get(jobId.prepare('acdc'))!;
  assert.deepEqual(prepAcdc.deps, [jobId.phantoms('acdc', 6, 0)]);
  assert.equal(prepAcdc.payload.kind === 'prepare' && prepAcdc.payload.rootIsPhantom, true);
  assert.equal(prepAcdc.payload.kind === 'prepare' && prepAcdc.payload.root, `${LAYOUT.phantoms('acdc', 6, 0)}/acdc`);
  const prepLiver = ids.get(jobId.prepare('sliver07'))!;
  assert.deepEqual(prepLiver.deps, []);
  assert.equal(prepLiver.payload.kind === 'prepare' && prepLiver.payload.root, '/data/medsyn-test/SLiver07');
  // per trial: train → sample → evaluate (+ the real baseline)
  for (const t of p.trials) {
    const train = ids.get(jobId.train(t.id))!;
    const sample = ids.get(jobId.sample(t.id))!;
    const evaluate = ids.get(jobId.evaluate(t.id))!;
    assert.deepEqual(train.deps, [jobId.prepare(t.dataset)]);
    assert.deepEqual(sample.deps, [train.id]);
    assert.deepEqual(evaluate.deps, [sample.id, jobId.baseline(t.dataset, 'real')]);
    for (const j of [train, sample, evaluate]) {
      assert.equal(j.trialId, t.id);
      assert.equal(j.dataset, t.dataset);
      assert.equal(j.gan, t.gan);
    }
    assert.equal(train.payload.kind === 'train' && train.payload.kimg, 2);
    assert.equal(train.payload.kind === 'train' && train.payload.runDir, LAYOUT.trial(t.id));
    assert.equal(sample.payload.kind === 'sample' && sample.payload.n, 32);
  }
  // no per-trial segments with trials: 'best'
  assert.ok(p.jobs.filter((j) => j.kind === 'segment').every((j) => j.trialId === null));
});

test('plan: ids unique, ranks are plan order, every dependency planned before its dependent', () => {
  const p = plan();
  assert.equal(new Set(p.jobs.map((j) => j.id)).size, p.jobs.length);
  p.jobs.forEach((j, i) => assert.equal(j.rank, i, j.id));
  const rank = new Map(p.jobs.map((j) => [j.id, j.rank]));
  for (const j of p.jobs) {
    for (const d of j.deps) {
      assert.ok(rank.has(d), `${j.id} depends on unplanned ${d}`);
      assert.ok(rank.get(d)! < j.rank, `${j.id} (rank ${j.rank}) before its dependency ${d} (rank ${rank.get(d)})`);
    }
    assert.match(j.inputHash, /^[0-9a-f]{12}$/);
  }
  // every job path is relative to the study folder, except a real dataset's root
  for (const j of p.jobs) {
    const pl = j.payload as unknown as Record<string, unknown>;
    for (const key of ['out', 'data', 'runDir', 'samplesDir', 'unetDir']) {
      if (typeof pl[key] === 'string') assert.ok(!(pl[key] as string).startsWith('/'), `${j.id}.${key} = ${String(pl[key])}`);
    }
  }
});

test('plan: select depends on every evaluate job of its dataset × GAN; best-trial segments depend on select', () => {
  const p = plan();
  const ids = byId(p);
  for (const ds of ['acdc', 'sliver07']) {
    for (const gan of ['dcgan', 'wgan-gp']) {
      const sel = ids.get(jobId.select(ds, gan))!;
      assert.ok(sel, `select ${ds} ${gan}`);
      const trials = p.trials.filter((t) => t.dataset === ds && t.gan === gan).map((t) => t.id);
      assert.equal(trials.length, 2);
      assert.deepEqual([...sel.deps].sort(), trials.map((t) => jobId.evaluate(t)).sort());
      assert.equal(sel.payload.kind, 'select');
      if (sel.payload.kind !== 'select') continue;
      assert.equal(sel.payload.metric, 'fid');
      assert.equal(sel.payload.direction, 'min');
      assert.deepEqual(sel.payload.candidates.map((c) => c.trialId), trials);
      assert.ok(sel.payload.candidates.every((c) => c.segmentJob === null && c.evaluateJob === jobId.evaluate(c.trialId)));
      for (const regime of ['synthetic', 'real+synthetic']) {
        const seg = ids.get(jobId.segmentBest(ds, gan, regime))!;
        assert.ok(seg, `segment ${ds} ${gan} ${regime}`);
        assert.deepEqual(seg.deps, [sel.id]);
        assert.equal(seg.payload.kind === 'segment' && seg.payload.regime, regime);
        assert.deepEqual(seg.payload.kind === 'segment' && seg.payload.trial, { fromSelect: sel.id });
      }
    }
  }
});

test('plan: regimes without augmented / synthetic plan no augmented baseline and no segment jobs', () => {
  const p = plan({ downstream: { regimes: ['real'] } });
  const c = countByKind(p.jobs);
  assert.equal(c.baseline, 2); // the real U-Net is always trained (evaluate needs its encoder)
  assert.equal(c.segment, 0);
  assert.equal(c.select, 4);
  assert.ok(!p.jobs.some((j) => j.id.endsWith(':augmented')));
});

test("plan: downstream.trials 'all' plans per-trial segments and select depends on the synthetic ones", () => {
  const p = plan({ downstream: { trials: 'all' } });
  const ids = byId(p);
  const c = countByKind(p.jobs);
  assert.equal(c.segment, 8 * 2); // per trial × (synthetic, real+synthetic); no best-trial segments
  assert.ok(!p.jobs.some((j) => j.id.includes(':best:')));
  for (const t of p.trials) {
    for (const regime of ['synthetic', 'real+synthetic']) {
      const seg = ids.get(jobId.segmentTrial(t.id, regime))!;
      assert.ok(seg, `segment ${t.id} ${regime}`);
      assert.deepEqual(seg.deps, [jobId.sample(t.id)]);
      assert.deepEqual(seg.payload.kind === 'segment' && seg.payload.trial, { id: t.id });
    }
  }
  const sel = ids.get(jobId.select('acdc', 'dcgan'))!;
  const trials = p.trials.filter((t) => t.dataset === 'acdc' && t.gan === 'dcgan').map((t) => t.id);
  assert.deepEqual([...sel.deps].sort(), trials.flatMap((t) => [jobId.evaluate(t), jobId.segmentTrial(t, 'synthetic')]).sort());
  assert.ok(sel.payload.kind === 'select' && sel.payload.candidates.every((cd) => cd.segmentJob === jobId.segmentTrial(cd.trialId, 'synthetic')));
});

test("plan: selection by 'dice' implies per-trial segments, direction max, and select waits for them", () => {
  const p = plan({ selection: { metric: 'dice' } });
  const ids = byId(p);
  assert.equal(countByKind(p.jobs).segment, 16);
  for (const ds of ['acdc', 'sliver07']) {
    for (const gan of ['dcgan', 'wgan-gp']) {
      const sel = ids.get(jobId.select(ds, gan))!;
      assert.equal(sel.payload.kind === 'select' && sel.payload.metric, 'dice');
      assert.equal(sel.payload.kind === 'select' && sel.payload.direction, 'max');
      const segDeps = sel.deps.filter((d) => d.startsWith('segment:'));
      assert.equal(segDeps.length, 2);
      for (const d of segDeps) {
        assert.ok(d.endsWith(':synthetic'), d);
        assert.ok(ids.get(d)!.rank < sel.rank);
      }
    }
  }
});

test(
  "plan: 'dice' selection with only the real+synthetic regime still gives select a Dice to compare",
  () => {
    const p = plan({ downstream: { regimes: ['real', 'real+synthetic'] }, selection: { metric: 'dice' } });
    const sel = byId(p).get(jobId.select('acdc', 'dcgan'))!;
    assert.ok(sel.payload.kind === 'select');
    if (sel.payload.kind !== 'select') return;
    for (const c of sel.payload.candidates) assert.notEqual(c.segmentJob, null, `candidate ${c.trialId} has no segment job to read Dice from`);
  },
);

test('plan: training.kimg changes the hashes of train/sample/evaluate/select/segment only', () => {
  const a = byId(plan({ kimg: 2 }));
  const b = byId(plan({ kimg: 3 }));
  assert.deepEqual([...a.keys()], [...b.keys()]); // trial ids do not depend on kimg
  const changed: JobKind[] = ['train', 'sample', 'evaluate', 'select', 'segment'];
  const kept: JobKind[] = ['phantoms', 'prepare', 'baseline'];
  for (const [id, ja] of a) {
    const jb = b.get(id)!;
    if (changed.includes(ja.kind)) assert.notEqual(ja.inputHash, jb.inputHash, `${id} should be re-planned`);
    else {
      assert.ok(kept.includes(ja.kind));
      assert.equal(ja.inputHash, jb.inputHash, `${id} should be kept`);
    }
  }
});

test("plan: a real dataset's root path enters no hash (moving the data keeps every job)", () => {
  const a = plan({ root: '/data/medsyn-test/SLiver07' });
  const b = plan({ root: '/mnt/elsewhere/liver' });
  assert.deepEqual(a.jobs.map((j) => j.id), b.jobs.map((j) => j.id));
  assert.deepEqual(a.jobs.map((j) => j.inputHash), b.jobs.map((j) => j.inputHash));
  // ...while the payload does carry the new root
  const pb = b.jobs.find((j) => j.id === jobId.prepare('sliver07'))!;
  assert.equal(pb.payload.kind === 'prepare' && pb.payload.root, '/mnt/elsewhere/liver');
});

test('plan: a change upstream (dataset size) propagates down the Merkle chain', () => {
  const base = raw();
  const other = { ...base, datasets: [{ id: 'acdc', patients: 6 }, { id: 'sliver07', root: '/data/medsyn-test/SLiver07', size: 32 }] };
  const a = byId(planStudy(resolveStudy(base)));
  const b = byId(planStudy(resolveStudy(other)));
  // acdc untouched: same ids and hashes
  for (const [id, j] of a) if (j.dataset === 'acdc' || j.kind === 'phantoms') assert.equal(b.get(id)?.inputHash, j.inputHash, id);
  // sliver07: prepare and baselines re-planned (trial ids change with the preparation inputs)
  assert.notEqual(a.get(jobId.prepare('sliver07'))!.inputHash, b.get(jobId.prepare('sliver07'))!.inputHash);
  assert.notEqual(a.get(jobId.baseline('sliver07', 'real'))!.inputHash, b.get(jobId.baseline('sliver07', 'real'))!.inputHash);
  assert.notEqual(a.get(jobId.select('sliver07', 'dcgan'))!.inputHash, b.get(jobId.select('sliver07', 'dcgan'))!.inputHash);
});

test('plan: deterministic (same study → deep-equal plan)', () => {
  const a = plan();
  const b = plan();
  assert.deepEqual(a, b);
  assert.deepEqual(plan({ selection: { metric: 'dice' } }), plan({ selection: { metric: 'dice' } }));
});
