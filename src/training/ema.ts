/**
 * Exponential moving average of the generator's weights (Karras et al. 2018, "Progressive growing of GANs",
 * appendix; the variant of StyleGAN2-ADA's training_loop.py): the averaged generator is the one sampled and
 * evaluated. The decay is given as a half-life in thousands of images shown, so it does not depend on the batch size:
 *
 *   β = 0.5 ^ (batchSize / (halfLifeKimg · 1000))        p_ema ← p + β · (p_ema − p)
 *
 * Buffers (batch-norm running statistics, spectral-norm vectors) are copied, not averaged, as StyleGAN2-ADA does.
 */
import { tf } from '../core/engine.js';
import type { Network } from '../models/network.js';

/**
 * Decay per update for a half-life of `halfLifeKimg` thousand images at `batchSize` images per update.
 * With `rampup` (StyleGAN2-ADA's `ema_rampup`, e.g. 0.05), the half-life is capped at `rampup · imagesShown`
 * early in training so the average does not drag the random initialisation along.
 * A half-life of 0 gives β = 0 (the average is the current weights).
 */
export function emaBeta(batchSize: number, halfLifeKimg: number, rampup?: { readonly ratio: number; readonly imagesShown: number }): number {
  let halfLifeImages = halfLifeKimg * 1000;
  if (rampup && rampup.ratio > 0) halfLifeImages = Math.min(halfLifeImages, rampup.imagesShown * rampup.ratio);
  if (!(halfLifeImages > 0)) return 0;
  return 0.5 ** (batchSize / halfLifeImages);
}

/**
 * Keeps `target` (a second instance of the same architecture, e.g. `G_ema`) as the moving average of `source`.
 * The constructor copies `source` into `target` so both start equal. Both networks stay owned by the caller.
 */
export class ParameterEma {
  constructor(readonly source: Network, readonly target: Network) {
    checkSameLayout(source, target);
    this.copyAll();
  }

  /** p_ema ← p + β · (p_ema − p) for every parameter; buffers copied. */
  update(beta: number): void {
    if (!(beta >= 0 && beta <= 1)) throw new Error(`EMA: beta must be in [0, 1], got ${beta}`);
    tf.tidy(() => {
      const b = tf.scalar(beta);
      for (const [name, p] of this.source.params) {
        const pEma = this.target.params.get(name)!;
        pEma.assign(tf.add(p, tf.mul(b, tf.sub(pEma, p))));
      }
      for (const [name, buf] of this.source.buffers) this.target.buffers.get(name)!.assign(buf);
    });
  }

  /** Sets the average to the current weights. */
  copyAll(): void {
    tf.tidy(() => {
      for (const [name, p] of this.source.params) this.target.params.get(name)!.assign(p);
      for (const [name, buf] of this.source.buffers) this.target.buffers.get(name)!.assign(buf);
    });
  }
}

function checkSameLayout(a: Network, b: Network): void {
  for (const kind of ['params', 'buffers'] as const) {
    const [x, y] = [a[kind], b[kind]];
    if (x.size !== y.size) throw new Error(`EMA: source has ${x.size} ${kind}, target ${y.size}`);
    for (const [name, v] of x) {
      const w = y.get(name);
      if (!w) throw new Error(`EMA: target has no ${kind.slice(0, -1)} ${name}`);
      if (v.shape.join(',') !== w.shape.join(',')) {
        throw new Error(`EMA: ${name} is [${v.shape.join(', ')}] in the source and [${w.shape.join(', ')}] in the target`);
      }
    }
  }
}
