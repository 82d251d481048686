import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { fig3Spec, fig4Spec, fig6Spec, renderSvg } from '../../src/report/figures.js';
import { renderStudyReport, SECTIONS } from '../../src/report/render.js';
import { buildTables } from '../../src/report/tables.js';
import { makeFixture } from './fixture.js';

function assertSvg(svg: string, mark: string): void {
  assert.ok(svg.startsWith('<svg'), svg.slice(0, 80));
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  assert.ok(svg.includes(mark), `no ${mark} marks`);
  assert.ok(!/NaN|undefined/.test(svg));
  // XML-ish: tags balance (self-closing ignored).
  const open = (svg.match(/<[a-zA-Z][^>]*[^/]>/g) ?? []).length + (svg.match(/<[a-zA-Z]>/g) ?? []).length;
  const close = (svg.match(/<\/[a-zA-Z][^>]*>/g) ?? []).length;
  assert.equal(open, close);
}

test('figures render to SVG with their marks', async () => {
  const rec = makeFixture();
  const tables = buildTables(rec);
  const f3 = await renderSvg(fig3Spec(rec));
  assertSvg(f3, 'mark-symbol');
  assert.ok(f3.includes('mark-rect') || f3.includes('mark-rule'), 'boxplot marks');
  assertSvg(await renderSvg(fig4Spec(rec)), 'mark-line');
  assertSvg(await renderSvg(fig6Spec(tables)), 'mark-symbol');
  // Fig. 3 carries every done, scored trial: 8 on acdc + 9 on idrid.
  assert.equal((fig3Spec(rec).data as { values: unknown[] }).values.length, 17);
});

test('renderStudyReport writes a self-contained HTML page, Markdown and CSVs', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-report-'));
  try {
    const rec = makeFixture(path.join(tmp, 'png'));
    const out = path.join(tmp, 'report');
    const r = await renderStudyReport(rec, out);
    assert.deepEqual(fs.readdirSync(out).sort(), ['index.html', 'report.md', 'table2.csv', 'trials.csv']);
    assert.equal(fs.readFileSync(path.join(out, 'index.html'), 'utf8'), r.html);
    assert.equal(fs.readFileSync(path.join(out, 'table2.csv'), 'utf8'), r.csv[0]);
    assert.equal(fs.readFileSync(path.join(out, 'trials.csv'), 'utf8'), r.csv[1]);
    for (const s of SECTIONS) assert.ok(r.html.includes(`<section id="${s}">`), s);
    const text = r.html.replace(/data:image\/png;base64,[A-Za-z0-9+/=]+/g, 'data:');
    // 'null' as a rendered value (a cell or a list item), not the word in prose ("exact null distribution").
    for (const bad of [/NaN/, /undefined/, /\[object/, />null</, /\| null \|/, /: null\b/]) {
      assert.ok(!bad.test(text), `html matches ${bad}`);
      assert.ok(!bad.test(r.markdown), `markdown matches ${bad}`);
    }
    assert.equal((r.html.match(/<svg/g) ?? []).length >= 3, true);
    // Fig. 5: 2 real examples + 6 best-trial grids, embedded; no file references.
    assert.equal((r.html.match(/src="data:image\/png;base64,/g) ?? []).length, 8);
    assert.ok(!/src="(?!data:)/.test(r.html), 'no external src');
    assert.ok(!/<link|<script/.test(r.html));
    assert.ok(r.html.includes('Original + StyleGAN'));
    assert.ok(r.html.includes('U-Net FID instead'));
    assert.ok(r.html.includes('pytorch-fid'));
    assert.match(r.markdown, /^# fixture-study/);
    assert.ok(r.markdown.includes('| Original data |'));
    assert.ok(r.markdown.includes('memorisation'));
    // No temporary leftovers of the atomic writes.
    assert.ok(!fs.readdirSync(out).some((f) => f.includes('.tmp-')));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('missing PNGs and UMAPs degrade to placeholders, not errors', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'medsyn-report-'));
  try {
    const rec = makeFixture();
    const bare = { ...rec, trials: rec.trials.map((t) => ({ ...t, umap: undefined })) };
    const r = await renderStudyReport(bare, tmp);
    assert.ok(r.html.includes('No UMAP projection recorded.'));
    assert.ok(r.html.includes('class="missing"'));
    assert.ok(!/NaN|undefined/.test(r.html));
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});

test('src/report never imports TF.js, the engine, training, models or GANs', () => {
  // dist/test/report/x.test.js → repository root is three levels up.
  const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
  const dir = path.join(root, 'src', 'report');
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.ts'));
  assert.ok(files.includes('render.ts') && files.includes('tables.ts'));
  const forbidden = [/@tensorflow/, /tfjs/, /core\/engine/, /\/training\//, /\/models\//, /\/gan\//, /^\.\.\/(training|models|gan)\b/];
  for (const f of files) {
    const src = fs.readFileSync(path.join(dir, f), 'utf8');
    const specs = [...src.matchAll(/(?:^|\n)\s*(?:import|export)\b[^'"]*?from\s*['"]([^'"]+)['"]|import\s*\(\s*['"]([^'"]+)['"]\s*\)|^\s*import\s+['"]([^'"]+)['"]/gm)]
      .map((m) => m[1] ?? m[2] ?? m[3]!);
    for (const s of specs) {
      for (const re of forbidden) assert.ok(!re.test(s), `${f} imports ${s}`);
    }
    if (f === 'render.ts') assert.ok(specs.includes('../core/atomic.js'), `import scan found ${specs.join(', ')}`);
  }
});
