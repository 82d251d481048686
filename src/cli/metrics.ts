/** `medsyn metrics`: FID, KID, precision/recall, density/coverage from two feature matrices (.npy). */
import type { Command } from 'commander';
import { metricsFromNpyFiles } from '../metrics/compute.js';
import { choiceOption, intOption } from './options.js';

export function registerMetricsCommand(program: Command): void {
  program
    .command('metrics')
    .description('compute FID, KID, precision/recall and density/coverage from two feature matrices (NumPy .npy, float32/float64, rows = samples)')
    .requiredOption('--real <file>', 'features of real images, [N, D]')
    .requiredOption('--fake <file>', 'features of generated images, [M, D]')
    .option('--json', 'print the result as JSON (keys fid, kid_mean, kid_std, precision, recall, density, coverage, protocol)')
    .option('--kid-subsets <n>', 'KID subsets (torch-fidelity: 100)', intOption('--kid-subsets', 1), 100)
    .option('--kid-subset-size <n>', 'KID subset size (torch-fidelity: 1000)', intOption('--kid-subset-size', 2), 1000)
    .option('--kid-subset-policy <p>', 'error (torch-fidelity) or clip (clean-fid) when a set is smaller than the subset size', choiceOption('--kid-subset-policy', ['error', 'clip'] as const), 'error' as 'error' | 'clip')
    .option('--pr-k <k>', 'k of precision/recall (Kynkäänniemi et al.)', intOption('--pr-k', 1), 3)
    .option('--dc-k <k>', 'k of density/coverage (Naeem et al.)', intOption('--dc-k', 1), 5)
    .option('--seed <s>', 'numpy RandomState seed of the KID subsets (torch-fidelity: 2020)', intOption('--seed', 0), 2020)
    .action((o: { real: string; fake: string; json?: boolean; kidSubsets: number; kidSubsetSize: number; kidSubsetPolicy: 'error' | 'clip'; prK: number; dcK: number; seed: number }) => {
      const r = metricsFromNpyFiles(o.real, o.fake, {
        kidSubsets: o.kidSubsets, kidSubsetSize: o.kidSubsetSize, kidSubsetSizePolicy: o.kidSubsetPolicy, prK: o.prK, dcK: o.dcK, seed: o.seed,
      });
      if (o.json) {
        console.log(JSON.stringify(r, null, 2));
        return;
      }
      console.log(`FID        ${r.fid.toFixed(4)}`);
      console.log(`KID        ${r.kid_mean.toExponential(4)} ± ${r.kid_std.toExponential(2)}`);
      console.log(`precision  ${r.precision.toFixed(4)}   recall   ${r.recall.toFixed(4)}   (k=${r.protocol.pr_k})`);
      console.log(`density    ${r.density.toFixed(4)}   coverage ${r.coverage.toFixed(4)}   (k=${r.protocol.dc_k})`);
      console.log(`protocol   ${r.protocol.n_real} real, ${r.protocol.n_fake} fake, ${r.protocol.dim}-d features${r.protocol.notes.length ? '; ' + r.protocol.notes.join('; ') : ''}`);
    });
}
