/** `medsyn segment`: the downstream U-Net, trained on real / augmented / synthetic / real+synthetic data. */
import type { Command } from 'commander';
import { initEngine } from '../core/engine.js';
import { runSegmentation } from '../segmentation/segment.js';
import { intOption, numberOption } from './options.js';

export function registerSegmentCommand(program: Command): void {
  program
    .command('segment')
    .description('train a U-Net and report Dice/HD95 on the REAL test split')
    .requiredOption('--data <dir>', 'prepared dataset (its val and test splits are always real)')
    .requiredOption('--train <regime>', 'real | augmented | synthetic:SAMPLES_DIR | real+synthetic:SAMPLES_DIR')
    .requiredOption('--out <dir>', 'output folder: result.json, predictions.png')
    .option('--steps <n>', 'optimizer steps at most', intOption('--steps', 1))
    .option('--epochs <n>', 'epochs at most', intOption('--epochs', 1), 50)
    .option('--batch-size <n>', 'batch size', intOption('--batch-size', 1, 1024), 16)
    .option('--lr <x>', 'Adam learning rate', numberOption('--lr', 0), 1e-3)
    .option('--patience <n>', 'validation evaluations without improvement before stopping', intOption('--patience', 1), 5)
    .option('--depth <n>', 'U-Net levels', intOption('--depth', 2, 6), 4)
    .option('--filters <n>', 'U-Net base filters', intOption('--filters', 1, 256), 16)
    .option('--synthetic-count <n>', 'use the first n synthetic samples', intOption('--synthetic-count', 1))
    .option('--seed <s>', 'seed', intOption('--seed', 0), 0)
    .option('--force', 'retrain even when result.json matches the config')
    .action(async (o: { data: string; train: string; out: string; steps?: number; epochs: number; batchSize: number; lr: number; patience: number; depth: number; filters: number; syntheticCount?: number; seed: number; force?: boolean }) => {
      await initEngine();
      const r = await runSegmentation({
        data: o.data, train: o.train, out: o.out, force: o.force ?? false,
        config: {
          epochs: o.epochs, batchSize: o.batchSize, lr: o.lr, patience: o.patience, seed: o.seed, unet: { depth: o.depth, filters: o.filters },
          ...(o.steps ? { maxSteps: o.steps } : {}), ...(o.syntheticCount ? { syntheticCount: o.syntheticCount } : {}),
        },
      });
      const perClass = Object.entries(r.dice_per_class).map(([k, v]) => `${k} ${v.toFixed(3)}`).join(', ');
      console.log(`${o.out}/result.json: Dice ${r.dice_mean.toFixed(3)} (${perClass}), HD95 ${r.hd95_mean.toFixed(1)} px, ${r.aggregation}`);
    });
}
