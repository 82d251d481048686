/**
 * The study report from a fixture store: a resolved study (2 phantom datasets × 3 GANs × 3 configurations) planned
 * into a real StudyStore, every job started and finished with a hand-made result of its stage's type (small real
 * PNG files for the grids and real examples, UMAP points, per-patient Dice, a real-vs-real floor), one training
 * failed; then writeStudyReport → STUDY/report/{index.html, report.md, table2.csv, trials.csv}. No GAN is trained.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import sharp from 'sharp';
import { stableStringify } from '../../src/core/hash.js';
import { SECTIONS } from '../../src/report/render.js';
import { resolveStudy, type ResolvedStudy } from '../../src/study/config.js';
import { LAYOUT, jobId, planStudy, type StudyPlan } from '../../src/study/plan.js';
import { recordsFromStore, writeStudyReport } from '../../src/study/report.js';
import { selectBest, type SelectOutput } from '../../src/study/select.js';
import type {
  BaselineOutput, EvaluateOutput, PhantomsOutput, PrepareOutput, SampleOutput, SegmentOutput, TrainOutput,
} from '../../src/study/stages.js';
import { StudyStore, type JobRow } from '../../src/study/store.js';

const GANS = ['dcgan', 'wgan-gp', 'hinge'] as const;
const FILTERS = [16, 32, 64];
const TEST_PATIENTS = 6;
const FAIL_ERROR = 'train: generator loss is NaN at step 37, "lr" too high?';
const CREATED = '2026-11-27T12:00:00.000Z';
/** The store commits with synchronous=FULL (an fsync per job state change): a RAM disk keeps the fixture fast. */
const TMP = process.platform === 'linux' && fs.existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir();

function makeStudy(): ResolvedStudy {
  return resolveStudy({
    name: 'report-fixture',
    datasets: [{ id: 'acdc', patients: 8 }, { id: 'sliver07', patients: 8 }],
    gans: [...GANS],
    search: { space: { 'd.filters': FILTERS } },
    training: { kimg: 1 },
    samples: 16,
    downstream: { regimes: ['real', 'augmented', 'synthetic', 'real+synthetic'], maxSteps: 5 },
    workers: 1,
  });
}

interface Fixture {
  readonly dir: string;
  readonly store: StudyStore;
  readonly study: ResolvedStudy;
  readonly plan: StudyPlan;
  /** The trial whose training failed. */
  readonly failedTrial: string;
  /** Trials left unfinished (evaluate pending). */
  readonly unfinished: readonly string[];
  /** PNG files written, relative to dir → base64. */
  readonly pngs: Map<string, string>;
}

let colour = 0;
async function writePng(dir: string, rel: string, pngs: Map<string, string>): Promise<string> {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  colour++;
  const buf = await sharp({ create: { width: 12, height: 6, channels: 3, background: { r: (colour * 37) % 256, g: (colour * 91) % 256, b: colour % 256 } } }).png().toBuffer();
  fs.writeFileSync(file, buf);
  pngs.set(rel, buf.toString('base64'));
  return rel;
}

/** Distinct per-trial metric values: FID best at the largest filters, U-Net FID best at the smallest. */
function metrics(study: ResolvedStudy, plan: StudyPlan, trialId: string, inception: boolean, nullFid: readonly string[] = []) {
  const t = plan.trials.find((x) => x.id === trialId)!;
  const g = GANS.indexOf(t.gan as (typeof GANS)[number]);
  const d = study.datasets.findIndex((x) => x.label === t.dataset);
  let fid = 100 - 20 * t.index + 7 * g + 3 * d;
  // a tie on sliver07 × hinge between configurations 1 and 2: the smaller trial id must win
  if (t.dataset === 'sliver07' && t.gan === 'hinge' && t.index === 2) fid += 20;
  const unetFid = 20 + 4 * t.index + g + d;
  const has = inception && !nullFid.includes(trialId);
  return { fid: has ? fid : null, unetFid, kid: has ? fid / 1000 : null, unetKid: unetFid / 1000 };
}

function umapPoints(seed: number) {
  const pts: { x: number; y: number; source: string }[] = [];
  for (let i = 0; i < 10; i++) {
    pts.push({ x: Math.round(Math.sin(seed + i) * 1e4) / 1e4, y: Math.round(Math.cos(seed * 2 + i) * 1e4) / 1e4, source: i % 2 ? 'generated' : 'real' });
  }
  return pts;
}

const diceItems = (base: number): number[] => Array.from({ length: TEST_PATIENTS }, (_, i) => Math.round((base + ((i * 7) % 5) * 0.01 - 0.02) * 1e4) / 1e4);

/**
 * Plans the study into a fresh store and runs every job by hand, in rank order, as the runner would
 * (dependents of a failed job skipped, select over the stored results).
 */
interface FixtureOptions {
  readonly inception: boolean;
  /** Leave this many sliver07 × wgan-gp trials before evaluate. */
  readonly unfinished?: number;
  /** Evaluate these trials without an Inception FID (weights added mid-study). */
  readonly nullFid?: (plan: StudyPlan) => string[];
  /** Fail the prepare job of this dataset (its trials are skipped). */
  readonly failPrepare?: string;
}

async function buildFixture(opts: FixtureOptions): Promise<Fixture> {
  const dir = fs.mkdtempSync(path.join(TMP, 'medsyn-study-report-'));
  const study = makeStudy();
  const plan = planStudy(study);
  const store = StudyStore.open(path.join(dir, LAYOUT.store), { create: true });
  store.setMeta({ study: stableStringify(study), created_at: CREATED });
  store.syncPlan(plan.trials, plan.jobs);
  const pngs = new Map<string, string>();

  // the would-be best (by FID) dcgan trial on acdc fails to train
  const failedTrial = plan.trials.find((t) => t.dataset === 'acdc' && t.gan === 'dcgan' && t.index === 2)!.id;
  // unfinished: the first N wgan-gp trials on sliver07 stop before evaluate
  const unfinished = plan.trials.filter((t) => t.dataset === 'sliver07' && t.gan === 'wgan-gp').slice(0, opts.unfinished ?? 0).map((t) => t.id);
  const nullFid = opts.nullFid?.(plan) ?? [];

  const run = (id: string, result: unknown, wall = 2): void => {
    const a = store.start(id, 4321);
    store.finish(id, a, result, wall);
  };
  for (const spec of plan.jobs) {
    const j = store.job(spec.id)!;
    if (j.status !== 'pending') continue;
    const deps = j.deps.map((d) => store.job(d)!);
    if (j.kind !== 'select' && deps.some((d) => d.status === 'failed' || d.status === 'skipped')) {
      store.skip([{ id: j.id, reason: `needs ${deps.find((d) => d.status !== 'done')!.id}` }]);
      continue;
    }
    if (deps.some((d) => d.status === 'pending')) continue; // waits on an unfinished job
    const p = j.payload;
    switch (p.kind) {
      case 'phantoms': run(j.id, { root: `${p.out}/${p.dataset}` } satisfies PhantomsOutput); break;
      case 'prepare': {
        if (p.dataset === opts.failPrepare) {
          store.fail(j.id, store.start(j.id, 4321), 'cannot read the dataset', 1);
          break;
        }
        const realExamples = await writePng(dir, `${p.out}/real-examples.png`, pngs);
        run(j.id, {
          classNames: ['background', 'organ'], counts: { train: 40, val: 8, test: 12 }, imageShape: [1, 32, 32], configHash: 'c0ffee',
          overlay: `${p.out}/overlay.png`, realExamples,
        } satisfies PrepareOutput);
        break;
      }
      case 'baseline': {
        const d = study.datasets.findIndex((x) => x.label === p.dataset);
        const dice = p.regime === 'real' ? 0.8 - 0.05 * d : 0.82 - 0.05 * d;
        run(j.id, {
          dice, dicePerClass: { organ: dice }, hd95: 4.5, diceItems: diceItems(dice), itemIds: Array.from({ length: TEST_PATIENTS }, (_, i) => `patient${i + 3}`),
          trainCount: 40, steps: 5, resultFile: `${p.out}/result.json`, regime: p.regime,
          floor: p.regime === 'real'
            ? { unetFid: 4.25 + d, fid: opts.inception ? 11.5 + d : null, halves: [30, 30], patients: [4, 4], unetSha256: 'ab'.repeat(32) }
            : null,
        } satisfies BaselineOutput, 30);
        break;
      }
      case 'train': {
        if (p.trialId === failedTrial) {
          store.fail(j.id, store.start(j.id, 4321), FAIL_ERROR, 12.5);
          break;
        }
        const grid = await writePng(dir, `${p.runDir}/grid.png`, pngs);
        run(j.id, {
          configHash: `cfg-${p.trialId}`, steps: 62, imagesShown: 1000, wallTimeSec: 95.5, grid, finalLosses: { d: 0.7, g: 1.3 },
          stepsThisAttempt: 62, resumedFromStep: null,
        } satisfies TrainOutput, 95.5);
        break;
      }
      case 'sample': run(j.id, { n: p.n, manifestSha256: 'cd'.repeat(32), reused: false } satisfies SampleOutput); break;
      case 'evaluate': {
        if (unfinished.includes(p.trialId)) break; // still pending
        const m = metrics(study, plan, p.trialId, opts.inception, nullFid);
        const seed = plan.trials.findIndex((t) => t.id === p.trialId);
        run(j.id, {
          metricsFile: `${p.runDir}/metrics.json`, fid: m.fid, kid: m.kid, unetFid: m.unetFid, unetKid: m.unetKid,
          precision: 0.6, recall: 0.55, memorisation: 0.01, plausibleShare: 0.8, plausibleShareReal: 0.9, maskImageDice: 0.7,
          msssimGenerated: 0.3, msssimReal: 0.28,
          inceptionSkipped: m.fid !== null ? null : 'no Inception-v3 weights in the weights folder (run `medsyn weights`)',
          umap: {
            unet: { points: umapPoints(seed), separability: 0.6 },
            inception: m.fid !== null ? { points: umapPoints(seed + 100), separability: 0.7 } : null,
          },
          curve: [{ kimg: 1, wallTimeSec: 10 + seed, unetFid: m.unetFid + 1 }, { kimg: 2, wallTimeSec: 20 + seed, unetFid: m.unetFid }],
          timeToBestSec: 20 + seed,
          fidCi: m.fid !== null ? { lo: m.fid - 1.5, hi: m.fid + 2.5 } : null, unetFidCi: { lo: m.unetFid - 0.5, hi: m.unetFid + 0.75 },
          kidCi: { lo: (m.kid ?? m.unetKid) - 0.001, hi: (m.kid ?? m.unetKid) + 0.002 },
        } satisfies EvaluateOutput);
        break;
      }
      case 'select': {
        const a = store.start(j.id, process.pid);
        try {
          store.finish(j.id, a, selectBest(p, (id) => store.job(id) ?? undefined), 0);
        } catch (err) {
          store.fail(j.id, a, (err as Error).message, 0);
        }
        break;
      }
      case 'segment': {
        assert.ok('fromSelect' in p.trial, 'best-trial segments only in this fixture');
        const sel = store.job(p.trial.fromSelect)!.result as SelectOutput;
        const g = GANS.indexOf(p.gan as (typeof GANS)[number]);
        const dice = p.regime === 'synthetic' ? 0.5 + 0.1 * g : 0.81 + 0.01 * g;
        run(j.id, {
          dice, dicePerClass: { organ: dice }, hd95: 6, diceItems: diceItems(dice), itemIds: Array.from({ length: TEST_PATIENTS }, (_, i) => `patient${i + 3}`),
          trainCount: 16, steps: 5, resultFile: `${LAYOUT.segment(sel.trialId, p.regime)}/result.json`, trialId: sel.trialId, regime: p.regime,
        } satisfies SegmentOutput);
        break;
      }
      default: { const never: never = p; throw new Error(`unexpected ${String(never)}`); }
    }
  }
  return { dir, store, study, plan, failedTrial, unfinished, pngs };
}

/** RFC 4180 CSV (quotes, doubled quotes, CRLF). */
function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let cell = '';
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i]!;
    if (quoted) {
      if (ch === '"' && text[i + 1] === '"') { cell += '"'; i++; } else if (ch === '"') quoted = false; else cell += ch;
    } else if (ch === '"') quoted = true;
    else if (ch === ',') { row.push(cell); cell = ''; } else if (ch === '\r' && text[i + 1] === '\n') { row.push(cell); rows.push(row); row = []; cell = ''; i++; } else cell += ch;
  }
  assert.equal(quoted, false, 'unterminated quote');
  if (cell !== '' || row.length > 0) { row.push(cell); rows.push(row); }
  return rows;
}

function csvObjects(text: string): Record<string, string>[] {
  const rows = parseCsv(text);
  assert.ok(rows.length >= 2, 'header and rows');
  const [head, ...body] = rows;
  for (const [i, r] of body.entries()) assert.equal(r.length, head!.length, `row ${i + 1} has ${r.length} cells, header ${head!.length}`);
  return body.map((r) => Object.fromEntries(head!.map((h, i) => [h, r[i]!])));
}

function section(html: string, id: string): string {
  const m = new RegExp(`<section id="${id}">([\\s\\S]*?)</section>`).exec(html);
  assert.ok(m, `section ${id}`);
  return m[1]!;
}

interface Built { fx: Fixture; html: string; md: string; table2: Record<string, string>[]; trials: Record<string, string>[]; index: string }

async function buildReport(opts: FixtureOptions): Promise<Built> {
  const fx = await buildFixture(opts);
  const index = await writeStudyReport(fx.store, fx.dir);
  const out = path.join(fx.dir, LAYOUT.report);
  return {
    fx, index,
    html: fs.readFileSync(path.join(out, 'index.html'), 'utf8'),
    md: fs.readFileSync(path.join(out, 'report.md'), 'utf8'),
    table2: csvObjects(fs.readFileSync(path.join(out, 'table2.csv'), 'utf8')),
    trials: csvObjects(fs.readFileSync(path.join(out, 'trials.csv'), 'utf8')),
  };
}

function cleanup(b: Built): void {
  b.fx.store.close();
  fs.rmSync(b.fx.dir, { recursive: true, force: true });
}

/** The stored select result of each dataset × GAN. */
function selected(fx: Fixture): Map<string, SelectOutput> {
  const out = new Map<string, SelectOutput>();
  for (const j of fx.store.jobs()) if (j.kind === 'select' && j.status === 'done') out.set(`${j.dataset}/${j.gan}`, j.result as SelectOutput);
  return out;
}

test('study report from a fixture store (Inception FID present): files, sections, figures, tables, CSVs', async () => {
  const b = await buildReport({ inception: true });
  try {
    const { fx, html, md, table2, trials } = b;
    // the fixture ran as planned: everything done except the failed training and its two dependents
    assert.deepEqual(fx.store.counts(), { pending: 0, running: 0, done: fx.plan.jobs.length - 3, failed: 1, skipped: 2 });

    // files
    assert.equal(b.index, path.join(fx.dir, 'report', 'index.html'));
    assert.deepEqual(fs.readdirSync(path.join(fx.dir, 'report')).sort(), ['index.html', 'report.md', 'table2.csv', 'trials.csv']);
    assert.match(html, /^<!doctype html>/);
    assert.ok(html.trimEnd().endsWith('</html>'));
    assert.ok(html.includes('report-fixture: study report'));
    assert.ok(html.includes(CREATED));

    // every section, in HTML and Markdown
    for (const s of SECTIONS) assert.ok(html.includes(`<section id="${s}">`), `section ${s}`);
    for (const title of ['Table 2', 'Fig. 3', 'Fig. 4', 'Fig. 5', 'Fig. 6', 'Metric protocols']) assert.ok(md.includes(`## ${title}`), `markdown ${title}`);

    // paired tests over test patients: real vs augmented, vs each GAN's synthetic data, vs real + that GAN's data
    const tests = section(html, 'paired-tests');
    assert.match(tests, /<td>Original data<\/td><td>Augmented original data<\/td>/);
    for (const g of GANS) {
      if (selected(fx).get(`sliver07/${g}`)) assert.ok(tests.includes(`<td>Original data</td><td>Original + ${g}</td>`), `paired test real vs real + ${g}`);
    }

    // per-GAN sample quality of the best trials (memorisation, plausibility, consistency, diversity) and the cost with time to best FID
    const quality = section(html, 'quality');
    assert.match(quality, /<td>0\.010<\/td><td>0\.800 \/ 0\.900<\/td><td>0\.700<\/td><td>0\.300 \/ 0\.280<\/td><td>0\.600<\/td>/);
    assert.match(section(html, 'cost'), /Time to best FID/);
    assert.doesNotMatch(section(html, 'cost'), /<td>—<\/td><\/tr>/, 'every GAN has a time to best FID');

    // Figs 3, 4, 6: inline SVG, well-formed enough, no NaN
    for (const id of ['fig3', 'fig4', 'fig6']) {
      const sec = section(html, id);
      const svg = /<svg[\s\S]*<\/svg>/.exec(sec)?.[0];
      assert.ok(svg, `${id}: inline <svg>`);
      assert.ok(!/NaN|undefined/.test(svg), `${id}: NaN/undefined in SVG`);
      assert.equal((svg.match(/<svg/g) ?? []).length, (svg.match(/<\/svg>/g) ?? []).length);
    }
    assert.ok(section(html, 'fig3').includes('mark-symbol'), 'Fig. 3 points');
    assert.ok(section(html, 'fig4').includes('mark-line'), 'Fig. 4 lines');
    const fig6 = section(html, 'fig6');
    assert.ok(fig6.includes('mark-symbol'), 'Fig. 6 points');
    // one panel per dataset × GAN × feature space
    for (const ds of ['acdc', 'sliver07']) for (const g of GANS) for (const space of ['Inception', 'U-Net']) {
      assert.ok(fig6.includes(`${ds} / ${g} / ${space}`), `Fig. 6 panel ${ds} / ${g} / ${space}`);
    }

    // Fig. 5: the real examples and exactly the selected trials' grids, embedded as PNG data URIs
    const fig5 = section(html, 'fig5');
    const uris = [...fig5.matchAll(/src="data:image\/png;base64,([A-Za-z0-9+/=]+)"/g)].map((m) => m[1]!);
    assert.equal(uris.length, 2 * (1 + GANS.length));
    assert.ok(!fig5.includes('no image'));
    for (const u of uris) assert.equal(Buffer.from(u, 'base64').readUInt32BE(0), 0x89504e47, 'PNG signature');
    const sel = selected(fx);
    const expected = new Set<string>();
    for (const ds of ['acdc', 'sliver07']) {
      expected.add(fx.pngs.get(`prepared/${ds}/real-examples.png`)!);
      for (const g of GANS) expected.add(fx.pngs.get(`${LAYOUT.trial(sel.get(`${ds}/${g}`)!.trialId)}/grid.png`)!);
    }
    assert.deepEqual(new Set(uris), expected);
    assert.ok(!/src="(?!data:)/.test(html), 'no external image');

    // Table 2 CSV: header, rows per dataset, and the best trial = the one selectBest stored
    assert.deepEqual(Object.keys(table2[0]!), ['dataset', 'row', 'gan', 'trial_id', 'selection_metric', 'fid', 'fid_ci_lo', 'fid_ci_hi', 'unet_fid', 'unet_fid_ci_lo', 'unet_fid_ci_hi',
      'kid', 'kid_ci_lo', 'kid_ci_hi', 'dice', 'dice_ci_lo', 'dice_ci_hi', 'dice_n']);
    for (const ds of ['acdc', 'sliver07']) {
      const rows = table2.filter((r) => r.dataset === ds);
      const labels = rows.map((r) => r.row);
      assert.ok(labels.includes('Original data'), `${ds}: Original data`);
      assert.ok(labels.includes('Augmented original data'), `${ds}: Augmented`);
      for (const g of GANS) assert.ok(labels.includes(g), `${ds}: ${g}`);
      assert.ok(labels.some((l) => l.startsWith('Original + ')), `${ds}: Original + best GAN`);
      assert.ok(labels.some((l) => l.startsWith('Real vs real')), `${ds}: Real vs real`);
      const real = rows.find((r) => r.row === 'Original data')!;
      const d = ds === 'acdc' ? 0 : 1;
      assert.equal(Number(real.dice), 0.8 - 0.05 * d);
      assert.equal(Number(real.dice_n), TEST_PATIENTS);
      assert.ok(Number(real.dice_ci_lo) <= Number(real.dice) && Number(real.dice) <= Number(real.dice_ci_hi));
      const rvr = rows.find((r) => r.row.startsWith('Real vs real'))!;
      assert.equal(Number(rvr.fid), 11.5 + d);
      assert.equal(Number(rvr.unet_fid), 4.25 + d);
      for (const g of GANS) {
        const row = rows.find((r) => r.row === g)!;
        const s = sel.get(`${ds}/${g}`)!;
        assert.equal(s.metric, 'fid');
        assert.equal(row.trial_id, s.trialId, `${ds} ${g}: Table 2 best = select's`);
        assert.equal(row.selection_metric, 'fid');
        assert.equal(Number(row.fid), s.value);
        // the GAN rows carry the evaluation's bootstrap intervals
        assert.equal(Number(row.fid_ci_lo), s.value - 1.5);
        assert.equal(Number(row.fid_ci_hi), s.value + 2.5);
        assert.ok(Number(row.unet_fid_ci_lo) < Number(row.unet_fid) && Number(row.unet_fid) < Number(row.unet_fid_ci_hi));
        // the synthetic U-Net's Dice of that trial, with a CI over the 6 patients
        assert.equal(Number(row.dice), 0.5 + 0.1 * GANS.indexOf(g));
        assert.equal(Number(row.dice_n), TEST_PATIENTS);
      }
    }
    // the failed trial was the would-be best: select (and Table 2) took the next one
    const acdcDc = sel.get('acdc/dcgan')!;
    assert.notEqual(acdcDc.trialId, fx.failedTrial);
    assert.equal(acdcDc.trialId, fx.plan.trials.find((t) => t.dataset === 'acdc' && t.gan === 'dcgan' && t.index === 1)!.id);
    assert.equal(acdcDc.candidates, 2);
    // the tie on sliver07 × hinge goes to the smaller trial id
    const tied = fx.plan.trials.filter((t) => t.dataset === 'sliver07' && t.gan === 'hinge' && t.index >= 1).map((t) => t.id).sort();
    assert.equal(sel.get('sliver07/hinge')!.trialId, tied[0]);
    assert.equal(table2.find((r) => r.dataset === 'sliver07' && r.row === 'hinge')!.trial_id, tied[0]);

    // trials.csv: every trial, the failed one with its error
    assert.equal(trials.length, fx.plan.trials.length);
    const failed = trials.filter((r) => r.status === 'failed');
    assert.equal(failed.length, 1);
    assert.equal(failed[0]!.trial_id, fx.failedTrial);
    assert.equal(failed[0]!.error, `train failed: ${FAIL_ERROR}`);
    assert.equal(Number(failed[0]!.wall_time_sec), 12.5);
    assert.equal(failed[0]!.fid, '');
    for (const r of trials.filter((x) => x.status === 'done')) {
      assert.ok(Number.isFinite(Number(r.fid)) && r.fid !== '', `${r.trial_id} fid`);
      assert.ok(FILTERS.includes(Number(r['hp.d.filters'])), `${r.trial_id} d.filters`);
      assert.equal(r.images_shown, '1000');
    }
    // the error shows in the HTML too? (cost table counts it)
    assert.match(section(html, 'cost'), /<td>dcgan<\/td><td>3<\/td><td>1<\/td>/);

    // no Inception note with FID present
    assert.ok(!html.includes('No Inception'), 'no Inception-missing note');
    assert.ok(!html.includes('U-Net FID instead'));
    assert.ok(!html.includes('not in this report yet'));
    assert.ok(html.includes('pytorch-fid'), 'default FID protocol');
    const text = html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:');
    for (const bad of [/NaN/, /undefined/, /\[object/, />null</]) assert.ok(!bad.test(text), `html matches ${bad}`);
  } finally {
    cleanup(b);
  }
});

test('study report without Inception weights: U-Net FID selection, the note, no Inception UMAP', async () => {
  const b = await buildReport({ inception: false });
  try {
    const { fx, html, table2 } = b;
    assert.ok(html.includes('No Inception-v3 FID/KID'), 'Inception-missing note (study)');
    assert.ok(html.includes('medsyn weights'));
    assert.ok(html.includes('U-Net FID instead'), 'Inception-missing note (Table 2)');
    assert.ok(html.includes('Kernel Inception Distance (cubic polynomial kernel, unbiased MMD², subsets) in the U-Net encoder space'), 'KID protocol override');
    const sel = selected(fx);
    for (const ds of ['acdc', 'sliver07']) {
      for (const g of GANS) {
        const s = sel.get(`${ds}/${g}`)!;
        assert.equal(s.metric, 'unetFid');
        assert.ok(s.note?.includes('U-Net-space'));
        const row = table2.find((r) => r.dataset === ds && r.row === g)!;
        assert.equal(row.trial_id, s.trialId, `${ds} ${g}: Table 2 best = select's`);
        assert.equal(row.selection_metric, 'unetFid');
        assert.equal(row.fid, '');
        assert.equal(Number(row.unet_fid), s.value);
        // U-Net FID is best at configuration 0 in this fixture
        assert.equal(s.trialId, fx.plan.trials.find((t) => t.dataset === ds && t.gan === g && t.index === 0)!.id);
      }
      const rvr = table2.find((r) => r.dataset === ds && r.row.startsWith('Real vs real'))!;
      assert.equal(rvr.fid, '');
      assert.ok(Number(rvr.unet_fid) > 0);
    }
    const fig6 = section(html, 'fig6');
    assert.ok(fig6.includes('<svg'));
    assert.ok(fig6.includes('acdc / dcgan / U-Net'));
    assert.ok(!fig6.includes('/ Inception'), 'no Inception UMAP panels without the weights');
  } finally {
    cleanup(b);
  }
});

test('recordsFromStore: unfinished trials are left out and counted in a note; failed ones are kept', async () => {
  const fx = await buildFixture({ inception: true, unfinished: 2 });
  try {
    assert.equal(fx.unfinished.length, 2);
    const rec = recordsFromStore(fx.store, fx.dir);
    assert.equal(rec.studyName, 'report-fixture');
    assert.equal(rec.createdAt, CREATED);
    assert.equal(rec.selectionMetric, 'fid');
    const ids = rec.trials.map((t) => t.trialId);
    for (const u of fx.unfinished) assert.ok(!ids.includes(u), `unfinished ${u} left out`);
    assert.equal(rec.trials.length, fx.plan.trials.length - 2);
    assert.ok(rec.notes?.some((n) => n.startsWith('2 trial(s) still running or pending')), JSON.stringify(rec.notes));
    // the failed training is a failed trial record with its stage and error
    const f = rec.trials.find((t) => t.trialId === fx.failedTrial)!;
    assert.equal(f.status, 'failed');
    assert.equal(f.error, `train failed: ${FAIL_ERROR}`);
    assert.equal(f.wallTimeSec, 12.5);
    // done trials carry absolute grid paths under the study folder and the stored metrics
    const done = rec.trials.filter((t) => t.status === 'done');
    assert.equal(done.length, fx.plan.trials.length - 3);
    for (const t of done) {
      assert.equal(t.gridPng, path.join(fx.dir, LAYOUT.trial(t.trialId), 'grid.png'));
      assert.ok(fs.existsSync(t.gridPng!));
      assert.equal(t.umap?.points.length, 10);
      assert.equal(t.umapInception?.points.length, 10);
      assert.equal(t.hyperparameters['d.filters'], FILTERS[fx.plan.trials.find((x) => x.id === t.trialId)!.index]);
    }
    // Dice only on the selected trials (best-trial segments); the unfinished group has no selection yet
    const withDice = done.filter((t) => t.dice !== null);
    assert.equal(withDice.length, 2 * GANS.length - 1);
    for (const t of withDice) {
      assert.equal(t.diceSamples?.length, TEST_PATIENTS);
      assert.equal(typeof t.diceRealPlusSynthetic, 'number');
    }
    assert.ok(fx.store.job(jobId.select('sliver07', 'wgan-gp'))!.status === 'pending');
    // baselines: 2 regimes × 2 datasets, the floor on the real one
    assert.equal(rec.baselines.length, 4);
    const realAcdc = rec.baselines.find((x) => x.dataset === 'acdc' && x.regime === 'real')!;
    assert.equal(realAcdc.realVsRealFid, 11.5);
    assert.equal(realAcdc.realVsRealUnetFid, 4.25);
    assert.equal(realAcdc.diceSamples?.length, TEST_PATIENTS);
    assert.deepEqual(Object.keys(rec.realExamplePng ?? {}).sort(), ['acdc', 'sliver07']);
    assert.equal(rec.realExamplePng!.acdc, path.join(fx.dir, 'prepared/acdc/real-examples.png'));

    // and the rendered report says so too
    await writeStudyReport(fx.store, fx.dir);
    const html = fs.readFileSync(path.join(fx.dir, 'report', 'index.html'), 'utf8');
    assert.ok(html.includes('2 trial(s) still running or pending are not in this report yet'));
    const trials = csvObjects(fs.readFileSync(path.join(fx.dir, 'report', 'trials.csv'), 'utf8'));
    assert.equal(trials.length, fx.plan.trials.length - 2);
  } finally {
    fx.store.close();
    fs.rmSync(fx.dir, { recursive: true, force: true });
  }
});

test('recordsFromStore: a failed non-trial job (a baseline) is named in the notes', async () => {
  const fx = await buildFixture({ inception: true });
  try {
    // re-run the augmented baseline of sliver07 and fail it
    const id = jobId.baseline('sliver07', 'augmented');
    const row = fx.store.job(id) as JobRow;
    assert.equal(row.status, 'done');
    fx.store.syncPlan(fx.plan.trials, fx.plan.jobs.map((j) => (j.id === id ? { ...j, inputHash: 'changed' } : j)));
    fx.store.fail(id, fx.store.start(id, 1), 'out of memory\nat stack', 3);
    const rec = recordsFromStore(fx.store, fx.dir);
    assert.ok(rec.notes?.includes(`${id} failed: out of memory`), JSON.stringify(rec.notes));
    assert.ok(!rec.baselines.some((b) => b.dataset === 'sliver07' && b.regime === 'augmented'));
  } finally {
    fx.store.close();
    fs.rmSync(fx.dir, { recursive: true, force: true });
  }
});

test('recordsFromStore: a store without a study is refused', () => {
  const dir = fs.mkdtempSync(path.join(TMP, 'medsyn-study-report-'));
  const store = StudyStore.open(path.join(dir, LAYOUT.store), { create: true });
  try {
    assert.throws(() => recordsFromStore(store, dir), /holds no study/);
  } finally {
    store.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test(
  'retryFailed: the select that passed over the failed trial is decided again once that trial is retried',
  async () => {
    const fx = await buildFixture({ inception: true });
    try {
      const selId = jobId.select('acdc', 'dcgan');
      assert.equal(fx.store.job(selId)!.status, 'done');
      assert.equal((fx.store.job(selId)!.result as SelectOutput).candidates, 2);
      fx.store.syncPlan(fx.plan.trials, fx.plan.jobs, { retryFailed: true });
      assert.equal(fx.store.job(jobId.train(fx.failedTrial))!.status, 'pending');
      assert.equal(fx.store.job(jobId.evaluate(fx.failedTrial))!.status, 'pending');
      assert.equal(fx.store.job(selId)!.status, 'pending', 'select must wait for the retried candidate');
    } finally {
      fx.store.close();
      fs.rmSync(fx.dir, { recursive: true, force: true });
    }
  },
);

test(
  'Table 2 names the trial select picked when only some trials have an Inception FID',
  async () => {
    // acdc × wgan-gp: its FID-best trial (configuration 2) was evaluated before the weights were there
    const b = await buildReport({ inception: true, nullFid: (plan) => plan.trials.filter((t) => t.dataset === 'acdc' && t.gan === 'wgan-gp' && t.index === 2).map((t) => t.id) });
    try {
      const s = selected(b.fx).get('acdc/wgan-gp')!;
      const row = b.table2.find((r) => r.dataset === 'acdc' && r.row === 'wgan-gp')!;
      assert.equal(row.trial_id, s.trialId, `Table 2 ${row.trial_id} (by ${row.selection_metric}) vs select ${s.trialId} (by ${s.metric})`);
      assert.notEqual(row.dice, '', 'the best row has the synthetic U-Net Dice');
    } finally {
      cleanup(b);
    }
  },
);

test(
  'recordsFromStore: trials skipped because their dataset failed to prepare are not called "still running or pending"',
  async () => {
    const fx = await buildFixture({ inception: true, failPrepare: 'sliver07' });
    try {
      const c = fx.store.counts();
      assert.equal(c.pending + c.running, 0, 'the run is over');
      assert.equal(fx.store.job(jobId.prepare('sliver07'))!.status, 'failed');
      const rec = recordsFromStore(fx.store, fx.dir);
      assert.ok(rec.notes?.some((n) => n.startsWith('prepare:sliver07 failed')), JSON.stringify(rec.notes));
      assert.ok(!rec.notes?.some((n) => /still running or pending/.test(n)), JSON.stringify(rec.notes));
    } finally {
      fx.store.close();
      fs.rmSync(fx.dir, { recursive: true, force: true });
    }
  },
);
