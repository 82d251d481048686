/** A tiny prepared dataset (shapes, 16 px, written with writePrepared) and a 2-step DCGAN run on it, for evaluate tests. */
import { loadPrepared } from '../../src/data/load.js';
import { writePrepared } from '../../src/data/prepare.js';
import type { PreparedManifest, SplitName } from '../../src/data/prepared.js';
import { resolveGanConfig } from '../../src/gan/config.js';
import { trainGan } from '../../src/training/train.js';
import { shapesSplit, tempDir } from '../training/fixtures.js';

export async function makeEvalFixture(): Promise<{ dataDir: string; runDir: string }> {
  const SIZE = 16;
  const counts: Record<SplitName, number> = { train: 24, val: 8, test: 8 };
  const dataDir = tempDir('medsyn-prepared-');
  const splits = { train: shapesSplit('train', { count: 24, seed: 1 }), val: shapesSplit('val', { count: 8, seed: 2 }), test: shapesSplit('test', { count: 8, seed: 3 }) };
  const info = (s: SplitName) => Array.from({ length: counts[s] }, (_, i) => ({ patient: `${s}${i >> 2}`, case: `${s}${i >> 2}`, slice: i % 4, foreground: 1 }));
  const manifest: PreparedManifest = {
    format: 'medsyn-prepared/1', dataset: 'shapes', modality: 'mri', classNames: ['background', 'disc', 'square'],
    imageShape: [SIZE, SIZE, 1], configHash: 'shapes-eval', config: {}, sourceRoot: dataDir,
    patients: { train: ['train0'], val: ['val0'], test: ['test0'] }, counts,
    slices: { train: info('train'), val: info('val'), test: info('test') },
    createdAt: '2024-01-01T00:00:00.000Z', medsynVersion: '0.0.0',
  };
  writePrepared(dataDir, manifest, splits);

  const runDir = tempDir('medsyn-run-');
  const gan = resolveGanConfig('dcgan', { batchSize: 8, 'g.filters': 8, 'd.filters': 8, latentDim: 16 });
  await trainGan({ data: loadPrepared(dataDir), gan, kimg: 0.016, outDir: runDir, seed: 0, quiet: true });
  return { dataDir, runDir };
}
