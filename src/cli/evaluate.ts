/** `medsyn evaluate`: every metric of a run's samples against the real data → RUN/metrics.json. */
import type { Command } from 'commander';
import { initEngine } from '../core/engine.js';
import { evaluateRun, summariseEvaluation } from '../study/evaluate.js';
import { intOption } from './options.js';

export function registerEvaluateCommand(program: Command): void {
  program
    .command('evaluate')
    .description('score a run\'s samples against the real data (Inception and U-Net FID/KID/PRDC, memorisation, consistency, plausibility, diversity) → RUN/metrics.json')
    .requiredOption('--run <dir>', 'a `medsyn train` run folder')
    .requiredOption('--data <dir>', 'the prepared dataset (train split = reference, val + test = held-out)')
    .option('--samples <dir>', 'samples folder; sampled there when it has no complete manifest (default RUN/samples)')
    .option('--n <n>', 'samples to draw when needed (default: the real train count, at least 64)', intOption('--n', 2))
    .option('--unet <dir>', 'a `medsyn segment --train real` output folder (model.safetensors); default: train one into RUN/eval/unet-real')
    .option('--kid-subset-size <n>', 'KID subset size, clipped to min(n_real, n_fake)', intOption('--kid-subset-size', 2), 1000)
    .option('--seed <s>', 'latent seed of samples drawn here, and of the MS-SSIM pairs', intOption('--seed', 0), 0)
    .option('--inception-weights <file>', 'an Inception weights file (.pth or .safetensors) instead of the weights folder\'s')
    .option('--allow-unverified', 'accept --inception-weights without the official sha256 (recorded as unverified)')
    .option('--json', 'print the whole metrics.json')
    .action(async (o: { run: string; data: string; samples?: string; n?: number; unet?: string; kidSubsetSize: number; seed: number; json?: boolean; inceptionWeights?: string; allowUnverified?: boolean }) => {
      await initEngine();
      const r = await evaluateRun({
        runDir: o.run, data: o.data, kidSubsetSize: o.kidSubsetSize, seed: o.seed,
        ...(o.samples ? { samplesDir: o.samples } : {}), ...(o.n ? { n: o.n } : {}), ...(o.unet ? { unetDir: o.unet } : {}),
        ...(o.inceptionWeights ? { inceptionWeights: { file: o.inceptionWeights, allowUnverified: o.allowUnverified ?? false } } : {}),
      });
      if (o.json) console.log(JSON.stringify(r, null, 2));
      else for (const line of summariseEvaluation(r)) console.log(line);
    });
}
