/**
 * The demo's summary: one self-contained HTML page (figures embedded), Markdown and JSON, from plain data.
 * Report code never imports TF.js: it reads what the pipeline wrote.
 */
import fs from 'node:fs';
import path from 'node:path';
import { writeFileAtomic, writeJsonAtomic } from '../core/atomic.js';

export interface SegScores {
  /** Mean test Dice over the foreground classes (per patient volume). */
  readonly dice: number;
  readonly dicePerClass: Readonly<Record<string, number>>;
  /** 95th-percentile Hausdorff distance, pixels of the prepared slices. */
  readonly hd95: number;
  /** Slices the U-Net trained on. */
  readonly trainCount: number;
}

/** What `medsyn evaluate` says of a run's samples (null where a metric could not be computed). */
export interface SampleQuality {
  readonly inceptionFid: number | null;
  /** FID and KID in the feature space of the U-Net trained on the real data. */
  readonly unetFid: number;
  readonly unetKid: number;
  /** Share of samples closer to a training image than almost any real held-out image is. */
  readonly nearCopyShare: number;
  /** Share of generated masks that satisfy the dataset's anatomical rules, and the same for real held-out masks. */
  readonly plausibleShare: number | null;
  readonly plausibleShareReal: number | null;
  /** Dice of each generated mask against the real-data U-Net's segmentation of the generated image. */
  readonly maskImageDice: number | null;
  /** Mean pairwise MS-SSIM of generated and of real images (generated ≫ real: mode collapse). */
  readonly msssimGenerated: number | null;
  readonly msssimReal: number | null;
}

export interface DemoRunSummary {
  readonly gan: string;
  readonly runDir: string;
  readonly grid: string | null;
  readonly wallTimeSec: number | null;
  readonly finalLosses: Readonly<Record<string, number>>;
  readonly synthetic: SegScores | null;
  readonly realPlusSynthetic: SegScores | null;
  readonly quality: SampleQuality | null;
  readonly failure: string | null;
}

export interface DemoDatasetSummary {
  readonly dataset: string;
  readonly preparedDir: string;
  readonly overlay: string;
  readonly classNames: readonly string[];
  readonly counts: Readonly<Record<string, number>>;
  readonly imageShape: readonly number[];
  readonly real: SegScores;
  readonly augmented: SegScores;
  readonly runs: readonly DemoRunSummary[];
}

export interface DemoSummary {
  readonly createdAt: string;
  readonly engine: string;
  readonly wallTimeSec: number;
  readonly options: Readonly<Record<string, number>>;
  readonly datasets: readonly DemoDatasetSummary[];
}

const fmt = (x: number | null | undefined, digits = 3): string => (x == null || !Number.isFinite(x) ? '—' : x.toFixed(digits));

interface Row {
  readonly name: string;
  readonly train: string;
  readonly scores: SegScores | null;
  readonly note: string;
}

function rowsOf(d: DemoDatasetSummary): Row[] {
  const rows: Row[] = [
    { name: 'Original data', train: 'real', scores: d.real, note: '' },
    { name: 'Augmented original data', train: 'real + flips/rotations/shifts', scores: d.augmented, note: '' },
  ];
  for (const r of d.runs) {
    rows.push({ name: r.gan, train: 'synthetic only', scores: r.synthetic, note: r.failure ? `failed: ${r.failure.split('\n')[0]}` : `${fmt(r.wallTimeSec, 0)} s training` });
    rows.push({ name: `Original + ${r.gan}`, train: 'real + synthetic', scores: r.realPlusSynthetic, note: '' });
  }
  return rows;
}

export function summaryMarkdown(s: DemoSummary): string {
  const lines = [
    '# medsyn demo on the built-in phantoms',
    '',
    `Engine ${s.engine}; ${s.datasets.length} datasets; ${fmt(s.wallTimeSec, 0)} s in all; created ${s.createdAt}.`,
    `Options: ${Object.entries(s.options).map(([k, v]) => `${k}=${v}`).join(', ')}.`,
    '',
    'Dice and HD95 of a U-Net on the **real test split**, by what it was trained on. The GANs here are trained',
    'for minutes on a CPU: this demonstrates the pipeline, not the GANs\' potential.',
  ];
  for (const d of s.datasets) {
    lines.push('', `## ${d.dataset}`, '', `Slices ${d.imageShape.join('×')}; train/val/test ${d.counts.train}/${d.counts.val}/${d.counts.test}; classes ${d.classNames.join(', ')}.`, '');
    lines.push('| trained on | data | Dice (mean) | HD95 (px) | training slices | note |', '|---|---|---|---|---|---|');
    for (const r of rowsOf(d)) lines.push(`| ${r.name} | ${r.train} | ${fmt(r.scores?.dice)} | ${fmt(r.scores?.hd95, 1)} | ${r.scores?.trainCount ?? '—'} | ${r.note} |`);
    lines.push('', 'Sample quality (`medsyn evaluate`):', '', `| ${QUALITY_HEADERS.join(' | ')} |`, `|${QUALITY_HEADERS.map(() => '---').join('|')}|`);
    for (const r of d.runs) lines.push(`| ${qualityCells(r).join(' | ')} |`);
  }
  return lines.join('\n') + '\n';
}

const QUALITY_HEADERS = ['GAN', 'Inception FID', 'U-Net FID', 'U-Net KID', 'near-copies', 'plausible masks (real)', 'mask–image Dice', 'MS-SSIM generated / real'];

function qualityCells(r: DemoRunSummary): string[] {
  const q = r.quality;
  const pct = (x: number | null | undefined): string => (x == null || !Number.isFinite(x) ? '—' : `${(100 * x).toFixed(0)} %`);
  if (!q) return [r.gan, ...QUALITY_HEADERS.slice(1).map(() => '—')];
  return [
    r.gan, fmt(q.inceptionFid, 1), fmt(q.unetFid, 2), fmt(q.unetKid, 4), pct(q.nearCopyShare),
    `${pct(q.plausibleShare)} (${pct(q.plausibleShareReal)})`, fmt(q.maskImageDice), `${fmt(q.msssimGenerated)} / ${fmt(q.msssimReal)}`,
  ];
}

function embedPng(file: string | null): string {
  if (!file || !fs.existsSync(file)) return '<em>missing</em>';
  return `<img alt="${path.basename(file)}" src="data:image/png;base64,${fs.readFileSync(file).toString('base64')}">`;
}

const esc = (t: string): string => t.replace(/[&<>"]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' })[c]!);

export function summaryHtml(s: DemoSummary): string {
  const sections = s.datasets.map((d) => {
    const table = rowsOf(d)
      .map((r) => `<tr><td>${esc(r.name)}</td><td>${esc(r.train)}</td><td>${fmt(r.scores?.dice)}</td><td>${fmt(r.scores?.hd95, 1)}</td><td>${r.scores?.trainCount ?? '—'}</td><td>${esc(r.note)}</td></tr>`)
      .join('\n');
    const grids = d.runs
      .map((r) => `<figure>${embedPng(r.grid)}<figcaption>${esc(r.gan)}: samples (image | mask overlay)</figcaption></figure>`)
      .join('\n');
    return `<section><h2>${esc(d.dataset)}</h2>
<p>Slices ${d.imageShape.join('×')}; train/val/test ${d.counts.train}/${d.counts.val}/${d.counts.test}; classes ${esc(d.classNames.join(', '))}.</p>
<table><thead><tr><th>trained on</th><th>data</th><th>Dice (mean)</th><th>HD95 (px)</th><th>training slices</th><th>note</th></tr></thead><tbody>
${table}
</tbody></table>
<p>Sample quality (<code>medsyn evaluate</code>; FID/KID in the feature space of the real-data U-Net${d.runs.some((r) => r.quality?.inceptionFid != null) ? ' and of Inception-v3' : '; Inception FID needs its weights: run <code>medsyn weights</code>'}):</p>
<table><thead><tr>${QUALITY_HEADERS.map((h) => `<th>${esc(h)}</th>`).join('')}</tr></thead><tbody>
${d.runs.map((r) => `<tr>${qualityCells(r).map((c) => `<td>${esc(c)}</td>`).join('')}</tr>`).join('\n')}
</tbody></table>
<figure>${embedPng(d.overlay)}<figcaption>Real training slices with their masks overlaid</figcaption></figure>
<div class="grids">${grids}</div></section>`;
  });
  return `<!doctype html><html><head><meta charset="utf-8"><title>medsyn demo</title>
<style>body{font:14px/1.45 system-ui,sans-serif;max-width:1100px;margin:2em auto;padding:0 1em;color:#222}
table{border-collapse:collapse;margin:.5em 0}td,th{border:1px solid #ccc;padding:.25em .6em;text-align:left}
th{background:#f3f3f3}img{image-rendering:pixelated;max-width:100%}figure{display:inline-block;margin:.5em}
figcaption{font-size:12px;color:#555}</style></head><body>
<h1>medsyn demo on the built-in phantoms</h1>
<p>Engine ${esc(s.engine)}; ${fmt(s.wallTimeSec, 0)} s in all; created ${esc(s.createdAt)}.
Options: ${esc(Object.entries(s.options).map(([k, v]) => `${k}=${v}`).join(', '))}.</p>
<p>Dice and HD95 of a U-Net on the <b>real test split</b>, by what it was trained on. The GANs are trained for minutes on a CPU:
this demonstrates the pipeline, not the GANs' potential.</p>
${sections.join('\n')}
</body></html>
`;
}

/** Writes OUT/index.html, OUT/summary.md and OUT/summary.json; returns the path of index.html. */
export function writeSummary(out: string, s: DemoSummary): string {
  writeJsonAtomic(path.join(out, 'summary.json'), s);
  writeFileAtomic(path.join(out, 'summary.md'), summaryMarkdown(s));
  const index = path.join(out, 'index.html');
  writeFileAtomic(index, summaryHtml(s));
  return index;
}
