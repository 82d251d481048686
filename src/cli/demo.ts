/** `medsyn demo` (what `npm start` runs): the whole pipeline that exists, on the built-in phantoms. */
import type { Command } from 'commander';
import { runDemo } from '../study/demo.js';
import { intOption, numberOption } from './options.js';

export function registerDemoCommand(program: Command): void {
  program
    .command('demo')
    .description('run the pipeline end to end on built-in phantoms: write phantoms, prepare all three datasets, check overlays, train and sample GANs')
    .option('--out <dir>', 'output folder', 'medsyn-demo')
    .option('--patients <n>', 'phantom patients per dataset', intOption('--patients', 3, 200), 10)
    .option('--size <px>', 'slice size', intOption('--size', 16, 256), 32)
    .option('--kimg <n>', 'thousands of images shown per GAN', numberOption('--kimg', 0.001), 2)
    .option('--samples <n>', 'synthetic samples per GAN', intOption('--samples', 16), 128)
    .option('--seg-steps <n>', 'U-Net optimizer steps per training regime', intOption('--seg-steps', 1), 60)
    .action(async (opts: { out: string; patients: number; size: number; kimg: number; samples: number; segSteps: number }) => {
      const { index } = await runDemo(opts);
      console.log(index);
    });
}
