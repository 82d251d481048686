/** The study's figures: vega-lite specs rendered to SVG strings in Node (no canvas), and Fig. 5's PNG grids as HTML. */
import fs from 'node:fs';
import * as vega from 'vega';
import * as vl from 'vega-lite';
import type { StudyRecords, TrialRecord } from './records.js';
import { datasetsOf, metricFor, metricOf, type DatasetTable } from './tables.js';

// vega-lite's TopLevelSpec type is very wide; specs here are plain JSON objects.
export type VlSpec = Record<string, unknown>;

export async function renderSvg(spec: VlSpec): Promise<string> {
  const compiled = vl.compile(spec as unknown as vl.TopLevelSpec).spec;
  const view = new vega.View(vega.parse(compiled), { renderer: 'none' });
  try {
    return await view.toSVG();
  } finally {
    view.finalize();
  }
}

const METRIC_TITLE: Record<string, string> = { fid: 'FID (Inception)', unetFid: 'U-Net FID', kid: 'KID', dice: 'Dice' };

/** One row per done trial with the metric its dataset is scored by. */
function scoredTrials(records: StudyRecords): { t: TrialRecord; metric: string; value: number }[] {
  const out: { t: TrialRecord; metric: string; value: number }[] = [];
  for (const d of datasetsOf(records)) {
    const { metric } = metricFor(records, d);
    for (const t of records.trials) {
      if (t.dataset !== d || t.status !== 'done') continue;
      const v = metricOf(t, metric);
      if (v !== null) out.push({ t, metric: METRIC_TITLE[metric] ?? metric, value: v });
    }
  }
  return out;
}

/** One panel per dataset (column facet) with independent y scales: the frame of Figs 3 and 4. */
function perDatasetPanels(values: readonly object[], spec: VlSpec): VlSpec {
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    // panels in the study's dataset order (vega-lite sorts facets alphabetically otherwise)
    facet: { column: { field: 'dataset', type: 'nominal', title: null, sort: [...new Set(values.map((v) => (v as { dataset: string }).dataset))] } },
    resolve: { scale: { y: 'independent' } },
    spec: { width: 220, height: 220, ...spec },
  };
}

/** Fig. 3: the score of every trial, per GAN (box + points), one panel per dataset. */
export function fig3Spec(records: StudyRecords): VlSpec {
  const values = scoredTrials(records).map(({ t, metric, value }) => ({
    dataset: `${t.dataset} (${metric})`, gan: t.gan, trial: t.trialId, value,
  }));
  const order = [...new Set(records.trials.map((t) => t.gan))];
  return perDatasetPanels(values, {
    layer: [
      { mark: { type: 'boxplot', extent: 'min-max', opacity: 0.35 }, encoding: { x: { field: 'gan', type: 'nominal', title: 'GAN', sort: order }, y: { field: 'value', type: 'quantitative', title: 'score (lower is better)' } } },
      { mark: { type: 'point', filled: true, size: 40 }, encoding: { x: { field: 'gan', type: 'nominal', sort: order }, y: { field: 'value', type: 'quantitative' }, color: { field: 'gan', type: 'nominal', legend: null, sort: order }, tooltip: [{ field: 'trial' }, { field: 'value', type: 'quantitative' }] } },
    ],
  });
}

/** Fig. 4: the score against the discriminator's filters (`hyperparameter`, default 'd.filters'), per GAN. */
export function fig4Spec(records: StudyRecords, hyperparameter = 'd.filters'): VlSpec {
  const values = scoredTrials(records)
    .filter(({ t }) => typeof t.hyperparameters[hyperparameter] === 'number')
    .map(({ t, metric, value }) => ({ dataset: `${t.dataset} (${metric})`, gan: t.gan, hp: t.hyperparameters[hyperparameter] as number, value }));
  return perDatasetPanels(values, {
    mark: { type: 'line', point: true },
    encoding: {
      x: { field: 'hp', type: 'quantitative', title: hyperparameter, scale: { type: 'log', base: 2 }, axis: { values: [...new Set(values.map((v) => v.hp))].sort((a, b) => a - b) } },
      y: { field: 'value', type: 'quantitative', title: 'score (lower is better)', aggregate: 'min' },
      color: { field: 'gan', type: 'nominal', title: 'GAN', sort: [...new Set(records.trials.map((t) => t.gan))] },
    },
  });
}

/** Fig. 6: UMAP of real vs generated features, one panel per best trial and feature space (Inception, U-Net) that has a projection. */
export function fig6Spec(tables: readonly DatasetTable[]): VlSpec {
  const values: { panel: string; x: number; y: number; source: string }[] = [];
  for (const tab of tables) {
    for (const [gan, t] of tab.best) {
      for (const [space, umap] of [['Inception', t.umapInception], ['U-Net', t.umap]] as const) {
        for (const p of umap?.points ?? []) {
          if (Number.isFinite(p.x) && Number.isFinite(p.y)) values.push({ panel: `${tab.dataset} / ${gan} / ${space}`, x: p.x, y: p.y, source: p.source });
        }
      }
    }
  }
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v5.json',
    data: { values },
    facet: { field: 'panel', type: 'nominal', title: null, sort: [...new Set(values.map((v) => v.panel))] },
    columns: 4,
    resolve: { scale: { x: 'independent', y: 'independent' } },
    spec: {
      width: 180, height: 180,
      mark: { type: 'circle', size: 14, opacity: 0.6 },
      encoding: {
        x: { field: 'x', type: 'quantitative', title: 'UMAP 1', axis: { labels: false } },
        y: { field: 'y', type: 'quantitative', title: 'UMAP 2', axis: { labels: false } },
        color: { field: 'source', type: 'nominal', title: 'images', scale: { domain: ['real', 'generated'], range: ['#d62728', '#1f77b4'] } },
      },
    },
  };
}

export function hasUmap(tables: readonly DatasetTable[]): boolean {
  return tables.some((t) => [...t.best.values()].some((b) => (b.umap?.points.length ?? 0) > 0));
}

export function escapeHtml(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&#39;');
}

/** A PNG file as a data URI, or null when missing/unreadable/not a PNG. */
export function pngDataUri(file: string | undefined): string | null {
  if (!file) return null;
  try {
    const buf = fs.readFileSync(file);
    if (buf.length < 8 || buf.readUInt32BE(0) !== 0x89504e47) return null;
    return `data:image/png;base64,${buf.toString('base64')}`;
  } catch {
    return null;
  }
}

/** Fig. 5: one row per dataset, a real example first, then the best trial's grid per GAN (base64-embedded PNGs). */
export function fig5Html(records: StudyRecords, tables: readonly DatasetTable[]): string {
  const gans = [...new Set(tables.flatMap((t) => [...t.best.keys()]))];
  const cell = (uri: string | null, alt: string): string =>
    uri ? `<td><img src="${uri}" alt="${escapeHtml(alt)}"></td>` : `<td class="missing">no image</td>`;
  const head = `<tr><th>Dataset</th><th>Real</th>${gans.map((g) => `<th>${escapeHtml(g)}</th>`).join('')}</tr>`;
  const body = tables.map((t) => {
    const real = cell(pngDataUri(records.realExamplePng?.[t.dataset]), `${t.dataset} real example`);
    const cells = gans.map((g) => {
      const b = t.best.get(g);
      return b ? cell(pngDataUri(b.gridPng), `${t.dataset} ${g} ${b.trialId}`) : '<td class="missing">—</td>';
    });
    return `<tr><th>${escapeHtml(t.dataset)}</th>${real}${cells.join('')}</tr>`;
  });
  return `<table class="grids">${head}${body.join('')}</table>`;
}
