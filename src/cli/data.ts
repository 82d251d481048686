/** `medsyn data phantoms|prepare|show`. */
import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { PHANTOM_DATASETS, writePhantoms, type PhantomDataset } from '../data/phantoms/index.js';
import { prepareDataset } from '../data/prepare.js';
import { loadPrepared } from '../data/load.js';
import { renderOverlayGrid } from '../data/show.js';
import { READERS } from '../data/readers/index.js';
import { SPLITS, type SplitName } from '../data/prepared.js';
import { Progress } from '../core/progress.js';
import { choiceOption, intOption } from './options.js';

const DATASET_IDS = Object.keys(READERS) as (keyof typeof READERS)[];

export function registerDataCommands(program: Command): void {
  const data = program.command('data').description('medical datasets: built-in phantoms, preparation into 2D slices, visual checks');

  data
    .command('phantoms')
    .description('write the built-in phantom datasets (ACDC-style NIfTI, SLiver07-style MetaImage, IDRiD-style JPEG+TIFF) in the publishers\' layouts')
    .requiredOption('--out <dir>', 'output folder; receives acdc/, sliver07/ and idrid/')
    .option('--patients <n>', 'patients (images) per dataset', intOption('--patients', 3, 1000), 12)
    .option('--seed <s>', 'random seed (same seed, same files)', intOption('--seed', 0), 0)
    .option('--datasets <list>', `comma-separated subset of ${PHANTOM_DATASETS.join(',')}`, (v: string) => {
      const list = v.split(',').map((x) => x.trim()).filter((x) => x.length > 0);
      const bad = list.filter((x) => !(PHANTOM_DATASETS as readonly string[]).includes(x));
      if (bad.length > 0 || list.length === 0) throw new InvalidArgumentError(`--datasets takes a comma-separated subset of ${PHANTOM_DATASETS.join(', ')}, got "${v}".`);
      return list as PhantomDataset[];
    })
    .action(async (opts: { out: string; patients: number; seed: number; datasets?: PhantomDataset[] }) => {
      let bar: Progress | undefined;
      const roots = await writePhantoms(opts.out, {
        patients: opts.patients,
        seed: opts.seed,
        ...(opts.datasets ? { datasets: opts.datasets } : {}),
        onProgress: (done, total, note) => {
          bar ??= new Progress({ label: 'phantoms', total, unit: 'cases' });
          bar.tick(1, note);
          if (done >= total) bar.finish();
        },
      });
      for (const [name, root] of Object.entries(roots)) console.log(`${name}: ${root}`);
    });

  data
    .command('prepare')
    .description('read a dataset in its publisher\'s layout and write training-ready 2D slices (cached by config hash)')
    .requiredOption('--dataset <id>', `dataset reader: ${DATASET_IDS.join(' | ')}`, choiceOption('--dataset', DATASET_IDS))
    .requiredOption('--root <dir>', 'the dataset folder as distributed (e.g. the ACDC folder holding training/ and testing/)')
    .requiredOption('--out <dir>', 'the prepared dataset folder to write (manifest.json + {train,val,test}.safetensors)')
    .option('--size <px>', 'output slice size in pixels (16–256)', intOption('--size', 16, 256), 64)
    .option('--seed <s>', 'seed of the patient split', intOption('--seed', 0), 0)
    .option('--keep-empty', 'keep slices without foreground (default: per modality)')
    .option('--force', 'rebuild even when the cache matches')
    .action(async (opts: { dataset: keyof typeof READERS; root: string; out: string; size: number; seed: number; keepEmpty?: boolean; force?: boolean }) => {
      const config: Record<string, unknown> = { size: opts.size, splitSeed: opts.seed };
      if (opts.keepEmpty) config.dropEmpty = false;
      const result = await prepareDataset({ dataset: opts.dataset, root: opts.root, out: opts.out, config, force: opts.force ?? false });
      const m = result.manifest;
      console.log(
        `${result.cacheHit ? 'cache hit' : 'prepared'}: ${result.dir} — ${m.dataset}, ${m.imageShape.join('×')}, ` +
          SPLITS.map((s) => `${s} ${m.counts[s]} slices / ${m.patients[s].length} patients`).join(', '),
      );
    });

  data
    .command('show')
    .description('write a PNG grid of prepared slices with the mask overlaid in colour (check orientation and alignment)')
    .requiredOption('--data <dir>', 'a prepared dataset folder')
    .requiredOption('--out <file>', 'output PNG')
    .option('--split <name>', `split to show: ${SPLITS.join(' | ')}`, choiceOption('--split', SPLITS), 'train' as SplitName)
    .option('--n <count>', 'number of slices', intOption('--n', 1, 1024), 32)
    .option('--cols <count>', 'columns', intOption('--cols', 1, 64), 8)
    .action(async (opts: { data: string; out: string; split: SplitName; n: number; cols: number }) => {
      const dataset = loadPrepared(opts.data);
      await renderOverlayGrid(dataset, { out: opts.out, split: opts.split, n: opts.n, cols: opts.cols });
      console.log(path.resolve(opts.out));
    });
}
