/**
 * The study report: one self-contained HTML page (inline SVG figures, base64 PNG grids, small CSS; opens without
 * a server), a Markdown version and CSVs of Table 2 and of all trials, from plain records. Reads data only.
 */
import path from 'node:path';
import { writeFileAtomic } from '../core/atomic.js';
import { DEFAULT_PROTOCOLS, type MetricKey, type StudyRecords } from './records.js';
import { escapeHtml, fig3Spec, fig4Spec, fig5Html, fig6Spec, hasUmap, renderSvg } from './figures.js';
import { buildTables, table2Csv, trialsCsv, type DatasetTable, type Table2Row } from './tables.js';

export interface RenderedReport {
  readonly html: string;
  readonly markdown: string;
  /** [table2.csv, trials.csv] */
  readonly csv: string[];
}

/** Section ids, in order; the HTML and the Markdown both carry every one. */
export const SECTIONS = ['table2', 'quality', 'correlation', 'paired-tests', 'outliers', 'cost', 'fig3', 'fig4', 'fig5', 'fig6', 'protocols'] as const;

const TITLES: Record<(typeof SECTIONS)[number], string> = {
  table2: 'Table 2: best trial per GAN',
  quality: 'Sample quality of the best trials: memorisation, mask plausibility, mask–image consistency, diversity',
  correlation: 'FID vs Dice: Spearman rank correlation',
  'paired-tests': 'Paired tests (Wilcoxon signed-rank, per-patient Dice)',
  outliers: 'Flagged trials',
  cost: 'Compute cost per GAN',
  fig3: 'Fig. 3: score of every trial per GAN',
  fig4: 'Fig. 4: score against discriminator filters',
  fig5: 'Fig. 5: samples of the best trials (real example first)',
  fig6: 'Fig. 6: UMAP of real vs generated (best trials)',
  protocols: 'Metric protocols',
};

const FOOTNOTE: Record<MetricKey, number> = { fid: 1, unetFid: 2, kid: 3, dice: 4, diceRealPlusSynthetic: 5, realVsRealFid: 6 };

export function fmt(v: number | null | undefined, digits = 3): string {
  return typeof v === 'number' && Number.isFinite(v) ? v.toFixed(digits) : '—';
}

function fmtP(p: number): string {
  return p < 1e-4 ? p.toExponential(2) : p.toFixed(4);
}

function diceCell(r: Table2Row): string {
  if (r.dice === null) return '—';
  return r.diceCi ? `${fmt(r.dice)} [${fmt(r.diceCi.lo)}, ${fmt(r.diceCi.hi)}]` : fmt(r.dice);
}

function withCi(v: number | null, ci: { lo: number; hi: number } | null | undefined, digits: number): string {
  if (v === null) return '—';
  return ci && Number.isFinite(ci.lo) && Number.isFinite(ci.hi) ? `${fmt(v, digits)} [${fmt(ci.lo, digits)}, ${fmt(ci.hi, digits)}]` : fmt(v, digits);
}

function table2Header(): string[] {
  return ['Row', 'Trial', `FID (95 % CI) [${FOOTNOTE.fid}]`, `U-Net FID (95 % CI) [${FOOTNOTE.unetFid}]`, `KID (95 % CI) [${FOOTNOTE.kid}]`, `Dice (95 % CI) [${FOOTNOTE.dice}]`];
}

function table2Cells(r: Table2Row): string[] {
  const note = r.kind === 'real-plus-gan' ? ` [${FOOTNOTE.diceRealPlusSynthetic}]` : r.kind === 'real-vs-real' ? ` [${FOOTNOTE.realVsRealFid}]` : '';
  return [r.label + note, r.trialId ?? '', withCi(r.fid, r.fidCi, 2), withCi(r.unetFid, r.unetFidCi, 2), withCi(r.kid, r.kidCi, 4), diceCell(r)];
}

function durationText(sec: number): string {
  return sec >= 3600 ? `${(sec / 3600).toFixed(2)} h` : sec >= 60 ? `${(sec / 60).toFixed(1)} min` : `${sec.toFixed(0)} s`;
}

interface Block { head: string[]; rows: string[][] }

function sectionBlocks(t: DatasetTable): Record<'table2' | 'quality' | 'correlation' | 'paired-tests' | 'outliers' | 'cost', { blocks: Block[]; notes: string[] }> {
  const metricName = t.metricUsed === 'fid' ? 'FID' : t.metricUsed === 'unetFid' ? 'U-Net FID' : t.metricUsed;
  return {
    table2: {
      blocks: [{ head: table2Header(), rows: t.rows.map(table2Cells) }],
      notes: [`Best trial per GAN selected by ${metricName}.`, ...(t.fallbackNote ? [t.fallbackNote] : []), ...t.seedNotes],
    },
    quality: {
      blocks: t.best.size ? [{
        head: ['GAN', 'Trial', 'Near copies', 'Plausible masks (generated / real)', 'Mask–image Dice', 'MS-SSIM (generated / real)', 'UMAP separability'],
        rows: [...t.best].map(([g, b]) => [
          g, b.trialId, fmt(b.memorisation), `${fmt(b.plausibleShare)} / ${fmt(b.plausibleShareReal)}`, fmt(b.maskImageDice),
          `${fmt(b.msssimGenerated)} / ${fmt(b.msssimReal)}`, fmt(b.umapSeparability),
        ]),
      }] : [],
      notes: [
        'Near copies: share of samples whose nearest training image is closer than a low percentile of the held-out real images’ nearest-training distances (memorisation). Plausible masks: share satisfying the dataset\'s topology rules (connected components, holes, nesting). Mask–image Dice: the real-data U-Net\'s segmentation of each generated image against the generated mask (does the mask fit its image?). MS-SSIM: mean pairwise similarity (generated ≫ real: mode collapse). UMAP separability: k-NN accuracy real vs generated in the U-Net feature space (0.5: indistinguishable).',
      ],
    },
    correlation: {
      blocks: [{
        head: ['Trials', 'n', `Spearman ρ (${metricName}, Dice)`],
        rows: [['best per GAN', String(t.spearmanBestN), fmt(t.spearmanBest)], ['all scored', String(t.spearmanAllN), fmt(t.spearmanAll)]],
      }],
      notes: ['ρ < 0: a lower distance goes with a higher Dice. "—": fewer than 3 pairs or a constant side.'],
    },
    'paired-tests': {
      blocks: t.pairedTests.length ? [{
        head: ['A', 'B', 'mean Dice A − B', 'n', 'W', 'p (two-sided)', 'method'],
        rows: t.pairedTests.map((p) => [p.a, p.b, fmt(p.meanDiff), String(p.result?.n ?? 0), fmt(p.result?.statistic, 1), p.result ? fmtP(p.result.pValue) : '—', p.result?.method ?? 'all differences zero']),
      }] : [],
      notes: t.pairedTests.length ? ['Exact null distribution for n ≤ 20 without tied differences, else the normal approximation with tie correction.'] : ['No regime pair with per-patient Dice samples of equal length.'],
    },
    outliers: {
      blocks: t.outliers.length ? [{ head: ['GAN', 'Trial', 'Reason'], rows: t.outliers.map((o) => [o.gan, o.trialId, o.reason]) }] : [],
      notes: t.outliers.length ? [] : ['No trial flagged.'],
    },
    cost: {
      blocks: [{
        head: ['GAN', 'Trials', 'Failed', 'Wall time', 'Images shown', 'Time to best FID (mean per trial)'],
        rows: t.cost.map((c) => [c.gan, String(c.trials), String(c.failed), durationText(c.wallTimeSec), c.imagesShown.toLocaleString('en-US'), c.meanTimeToBestSec === null ? '—' : durationText(c.meanTimeToBestSec)]),
      }],
      notes: ['Wall time: training time summed over the GAN\'s trials. Time to best FID: training time until the network snapshot with the lowest U-Net FID (one snapshot per checkpoint; with a single checkpoint it is the whole run).'],
    },
  };
}

function htmlTable(b: Block): string {
  return `<table><thead><tr>${b.head.map((h) => `<th>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${b.rows
    .map((r) => `<tr>${r.map((c) => `<td>${escapeHtml(c)}</td>`).join('')}</tr>`).join('')}</tbody></table>`;
}

function mdCell(s: string): string {
  return s.replace(/\|/g, '\\|').replace(/\r?\n/g, ' ');
}

function mdTable(b: Block): string {
  return [`| ${b.head.map(mdCell).join(' | ')} |`, `|${b.head.map(() => ' --- ').join('|')}|`, ...b.rows.map((r) => `| ${r.map(mdCell).join(' | ')} |`)].join('\n');
}

const CSS = `body{font:14px/1.45 system-ui,sans-serif;max-width:1200px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0 1em}th,td{border:1px solid #ccc;padding:3px 8px;text-align:left}
thead th{background:#f3f3f3}.note{color:#555;font-size:13px}.grids img{max-width:240px;display:block}
.missing{color:#999;font-style:italic}figure{margin:0;overflow-x:auto}h3{margin-bottom:.2em}`;

export async function buildStudyReport(records: StudyRecords): Promise<RenderedReport> {
  const tables = buildTables(records);
  const [fig3, fig4, fig6] = await Promise.all([
    renderSvg(fig3Spec(records)),
    renderSvg(fig4Spec(records)),
    hasUmap(tables) ? renderSvg(fig6Spec(tables)) : Promise.resolve(null),
  ]);
  const protocols = { ...DEFAULT_PROTOCOLS, ...(records.protocols ?? {}) };
  const protoList = (Object.keys(FOOTNOTE) as MetricKey[]).map((k) => [FOOTNOTE[k], k, protocols[k]] as const);
  const perDataset = tables.map((t) => ({ t, s: sectionBlocks(t) }));
  const tableSections = ['table2', 'quality', 'correlation', 'paired-tests', 'outliers', 'cost'] as const;
  const done = records.trials.filter((t) => t.status === 'done').length;
  const summary = `${records.trials.length} trials (${done} done, ${records.trials.length - done} failed) on ${tables.length} dataset(s); created ${records.createdAt}.`;

  // ---- HTML ----
  const h: string[] = [];
  h.push(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(records.studyName)}: study report</title><style>${CSS}</style></head><body>`);
  h.push(`<h1>${escapeHtml(records.studyName)}: study report</h1><p class="note">${escapeHtml(summary)}</p>`);
  for (const n of records.notes ?? []) h.push(`<p class="note"><b>Note:</b> ${escapeHtml(n)}</p>`);
  for (const sec of tableSections) {
    h.push(`<section id="${sec}"><h2>${escapeHtml(TITLES[sec])}</h2>`);
    for (const { t, s } of perDataset) {
      h.push(`<h3>${escapeHtml(t.dataset)}</h3>`);
      for (const b of s[sec].blocks) h.push(htmlTable(b));
      for (const n of s[sec].notes) h.push(`<p class="note">${escapeHtml(n)}</p>`);
    }
    h.push('</section>');
  }
  h.push(`<section id="fig3"><h2>${TITLES.fig3}</h2><figure>${fig3}</figure></section>`);
  h.push(`<section id="fig4"><h2>${TITLES.fig4}</h2><figure>${fig4}</figure></section>`);
  h.push(`<section id="fig5"><h2>${TITLES.fig5}</h2>${fig5Html(records, tables)}</section>`);
  h.push(`<section id="fig6"><h2>${TITLES.fig6}</h2>${fig6 ? `<figure>${fig6}</figure>` : '<p class="note">No UMAP projection recorded.</p>'}</section>`);
  h.push(`<section id="protocols"><h2>${TITLES.protocols}</h2><ol>${protoList.map(([, k, p]) => `<li><b>${k}</b>: ${escapeHtml(p)}</li>`).join('')}</ol></section>`);
  h.push('</body></html>');
  const html = h.join('\n');

  // ---- Markdown ----
  const m: string[] = [`# ${records.studyName}: study report`, '', summary, '', ...(records.notes ?? []).flatMap((n) => [`**Note:** ${n}`, ''])];
  for (const sec of tableSections) {
    m.push(`## ${TITLES[sec]}`, '');
    for (const { t, s } of perDataset) {
      m.push(`### ${t.dataset}`, '');
      for (const b of s[sec].blocks) m.push(mdTable(b), '');
      for (const n of s[sec].notes) m.push(`_${n}_`, '');
    }
  }
  m.push(`## ${TITLES.fig3}`, '', 'See index.html (inline SVG).', '');
  m.push(`## ${TITLES.fig4}`, '', 'See index.html (inline SVG).', '');
  m.push(`## ${TITLES.fig5}`, '');
  for (const t of tables) {
    const real = records.realExamplePng?.[t.dataset];
    m.push(`- ${t.dataset}: real ${real ? `\`${real}\`` : '—'}; ${[...t.best].map(([g, b]) => `${g} ${b.gridPng ? `\`${b.gridPng}\`` : '—'}`).join('; ')}`);
  }
  m.push('', `## ${TITLES.fig6}`, '', fig6 ? 'See index.html (inline SVG).' : 'No UMAP projection recorded.', '');
  m.push(`## ${TITLES.protocols}`, '', ...protoList.map(([i, k, p]) => `${i}. **${k}**: ${p}`), '');
  const markdown = m.join('\n');

  return { html, markdown, csv: [table2Csv(tables), trialsCsv(records)] };
}

/** Renders the report and writes outDir/index.html, report.md, table2.csv and trials.csv, each atomically. */
export async function renderStudyReport(records: StudyRecords, outDir: string): Promise<RenderedReport> {
  const r = await buildStudyReport(records);
  writeFileAtomic(path.join(outDir, 'index.html'), r.html);
  writeFileAtomic(path.join(outDir, 'report.md'), r.markdown);
  writeFileAtomic(path.join(outDir, 'table2.csv'), r.csv[0]!);
  writeFileAtomic(path.join(outDir, 'trials.csv'), r.csv[1]!);
  return r;
}
