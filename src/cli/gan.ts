/** `medsyn train` and `medsyn sample`. */
import type { Command } from 'commander';
import { initEngine } from '../core/engine.js';
import { loadPrepared } from '../data/load.js';
import { GAN_CONFIG_KEYS, parseSetOverrides, resolveGanConfig } from '../gan/config.js';
import { GAN_VARIANT_IDS, type GanVariantId } from '../gan/variants.js';
import { trainGan } from '../training/train.js';
import { readRunInfo } from '../training/run-folder.js';
import { sampleRun } from '../sampling/generate.js';
import { SAMPLE_FORMATS, type SampleFormat } from '../sampling/write.js';
import { choiceOption, collect, intOption, numberOption } from './options.js';

const SET_HELP = Object.entries(GAN_CONFIG_KEYS).map(([k, v]) => `  ${k.padEnd(24)}${v.description}`).join('\n');

export function registerGanCommands(program: Command): void {
  program
    .command('train')
    .description('train a GAN on the joint distribution of image and mask of a prepared dataset')
    .requiredOption('--data <dir>', 'prepared dataset (medsyn data prepare --out)')
    .requiredOption('--out <dir>', 'run folder: run.json, stats.jsonl, log.txt, *.safetensors checkpoints, grids')
    .option('--gan <variant>', `GAN objective preset: ${GAN_VARIANT_IDS.join(' | ')}`, choiceOption('--gan', GAN_VARIANT_IDS))
    .option('--kimg <n>', 'training length in thousands of real images shown', numberOption('--kimg', 0.001), 10)
    .option('--seed <s>', 'seed of initialisation, batch order, augmentation and latents', intOption('--seed', 0), 0)
    .option('--set <key=value>', 'override one hyperparameter (repeatable); keys below', collect, [])
    .option('--checkpoint-kimg <n>', 'write checkpoint-latest and a grid every n kimg', numberOption('--checkpoint-kimg', 0.001), 10)
    .option('--snapshot-kimg <n>', 'keep a network snapshot every n kimg', numberOption('--snapshot-kimg', 0.001), 50)
    .option('--resume', 'continue the run in --out where it stopped (same data, GAN, settings and seed)')
    .addHelpText('after', `\nHyperparameters for --set (Table 1 of the paper):\n${SET_HELP}\n\nExample:\n  medsyn train --data prepared/acdc --gan wgan-gp --kimg 20 --out runs/acdc-wgangp --set d.filters=64 --set diffAugment=color,translation`)
    .action(async (opts: { data: string; out: string; gan?: GanVariantId; kimg: number; seed: number; set: string[]; checkpointKimg: number; snapshotKimg: number; resume?: boolean }) => {
      // Config first (cheap, and the likeliest mistake), then data, then the engine.
      // On --resume without --gan, the run's own resolved config and seed are reused.
      const previous = opts.resume && !opts.gan ? readRunInfo(opts.out) : null;
      const gan = previous ? previous.gan : resolveGanConfig(opts.gan ?? 'dcgan', parseSetOverrides(opts.set));
      const data = loadPrepared(opts.data);
      await initEngine();
      const summary = await trainGan({
        data, gan, kimg: opts.kimg, outDir: opts.out, seed: previous ? previous.seed : opts.seed, resume: opts.resume ?? false,
        checkpointKimg: opts.checkpointKimg, snapshotKimg: opts.snapshotKimg, log: (line) => console.error(line), commandLine: process.argv,
      });
      console.log(`${summary.runDir}: ${summary.steps} steps, ${summary.kimg.toFixed(2)} kimg, ${summary.wallTimeSec.toFixed(0)} s; checkpoint ${summary.checkpoint}`);
    });

  program
    .command('sample')
    .description('generate image + mask pairs from a trained run (PNG, and NIfTI for 1-channel images) with a manifest')
    .requiredOption('--run <dir>', 'a `medsyn train` run folder')
    .requiredOption('--out <dir>', 'output folder: images/, masks/, manifest.json')
    .option('--n <count>', 'number of samples', intOption('--n', 1), 1000)
    .option('--seed <s>', 'sample i uses latent seed s + i', intOption('--seed', 0), 0)
    .option('--batch-size <n>', 'samples per generator call (memory only)', intOption('--batch-size', 1, 1024), 32)
    .option('--format <list>', `comma-separated: ${SAMPLE_FORMATS.join(', ')}`, (v) => v.split(',').map((f) => choiceOption('--format', SAMPLE_FORMATS)(f.trim())), ['png', 'nifti'] as SampleFormat[])
    .option('--checkpoint <file>', 'a checkpoint other than the run\'s checkpoint-latest (e.g. a network snapshot)')
    .action(async (opts: { run: string; out: string; n: number; seed: number; batchSize: number; format: SampleFormat[]; checkpoint?: string }) => {
      await initEngine();
      const m = await sampleRun({ runDir: opts.run, n: opts.n, outDir: opts.out, seed: opts.seed, batchSize: opts.batchSize, formats: opts.format, ...(opts.checkpoint ? { checkpoint: opts.checkpoint } : {}) });
      console.log(`${opts.out}: ${m.n} samples from step ${m.step} (${m.kimg.toFixed(2)} kimg)`);
    });
}
