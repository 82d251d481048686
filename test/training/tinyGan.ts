/** Tiny GAN configs for tests: 4 filters, latent 8, batch 4 (16 px data from fixtures.ts); the rest as each preset. */
import { resolveGanConfig, type ResolvedGanConfig } from '../../src/gan/config.js';
import { trainGan, type TrainGanOptions, type TrainingSummary } from '../../src/training/train.js';

export const TINY_BATCH = 4;

export type Variant = 'dcgan' | 'lsgan' | 'wgan' | 'wgan-gp' | 'hinge';

export function tinyGan(variant: Variant, extra: Record<string, unknown> = {}): ResolvedGanConfig {
  return resolveGanConfig(variant, {
    batchSize: TINY_BATCH, latentDim: 8, 'g.filters': 4, 'd.filters': 4, emaHalfLifeKimg: 0.01, ...extra,
  });
}

/** kimg of `steps` generator steps at the tiny batch size. */
export function kimgOf(steps: number): number {
  return (steps * TINY_BATCH) / 1000;
}

/** trainGan, quiet, with a stats line per step. */
export function trainQuietly(opts: Omit<TrainGanOptions, 'quiet'>): Promise<TrainingSummary> {
  return trainGan({ statsEverySteps: 1, ...opts, quiet: true });
}
