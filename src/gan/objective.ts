/**
 * The GAN objective the training loop sees, built once from a resolved config. The loop never branches on
 * the variant: it calls `discriminatorLoss` `criticSteps` times (each followed by an optimiser step over
 * D's variables and `afterDiscriminatorUpdate()`), then `generatorLoss` once (optimiser step over G's).
 *
 * D loss = adversarial(D(aug(real)), D(aug(G(z))))  [+ gradient penalty] [+ R1]
 * G loss = adversarial(D(aug(G(z))))                [+ feature matching] [+ VGG perceptual]
 * where aug is the DiffAugment policy (identity when empty), drawn independently for each batch.
 *
 * Both networks run in training mode in both phases (batch statistics, spectral-norm power iteration,
 * running-stat updates), as a PyTorch GAN with both modules in .train() does. Classic augmentation of the
 * real data is not done here: it happens on typed arrays when batches are made (see augment.ts).
 *
 * Typical use in a step (explicit variable lists; see the aesthetics notes §8):
 *   const { value, grads } = tf.variableGrads(() => objective.discriminatorLoss(batch).total, dVars);
 * To also read the terms, tf.keep them inside the closure and dispose them after reading.
 */
import { tf } from '../core/engine.js';
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { Discriminator, Generator } from '../models/network.js';
import { diffAugment, type ChannelLayout } from './augment.js';
import type { ResolvedGanConfig } from './config.js';
import { ADVERSARIAL_LOSSES } from './losses.js';
import { loadVgg16, perceptualLoss, type Vgg16Features } from './perceptual.js';
import { clipWeights, featureMatchingLoss, gradientPenalty, interpolationWeights, r1Penalty, type Critic } from './regularizers.js';

export interface GanNetworks {
  readonly generator: Generator;
  readonly discriminator: Discriminator;
  /** How the sample channels split into image and mask channels. */
  readonly layout: ChannelLayout;
}

export interface GanBatch {
  /** Real samples [N, H, W, C] in [-1, 1] (images + one-hot masks, see augment.ts). */
  readonly real: tf.Tensor4D;
  /** Latents [N, Z] ~ N(0, 1). */
  readonly latents: tf.Tensor2D;
}

export interface LossBreakdown {
  /** The scalar to differentiate: the sum of `terms`. */
  readonly total: tf.Scalar;
  /** Weighted components of `total`, e.g. adversarial, gradient-penalty, r1, feature-matching, perceptual. */
  readonly terms: Readonly<Record<string, tf.Scalar>>;
  /** Diagnostics, not part of `total`: mean raw D outputs on the real / fake batch. */
  readonly scores: Readonly<Record<string, tf.Scalar>>;
}

export interface GanObjective {
  /** Discriminator updates per generator update. */
  readonly criticSteps: number;
  /** All tensors returned are created in the caller's scope (dispose them, or run inside tf.tidy / variableGrads). */
  discriminatorLoss(batch: GanBatch): LossBreakdown;
  generatorLoss(batch: GanBatch): LossBreakdown;
  /** Call after each discriminator optimiser step: WGAN weight clipping; a no-op otherwise. */
  afterDiscriminatorUpdate(): void;
  /** Releases what the objective loaded itself (the VGG16 network when not passed in). */
  dispose(): void;
}

function sumTerms(terms: Record<string, tf.Scalar>): tf.Scalar {
  const values = Object.values(terms);
  return (values.length === 1 ? tf.clone(values[0]!) : tf.addN(values)) as tf.Scalar;
}

function imageChannels(samples: tf.Tensor4D, layout: ChannelLayout): tf.Tensor4D {
  const [n, h, w, c] = samples.shape;
  return layout.imageChannels === c ? samples : tf.slice(samples, [0, 0, 0, 0], [n, h, w, layout.imageChannels]);
}

/**
 * Builds the objective. `perceptual` is the VGG16 feature network for the perceptual term; when the config
 * asks for that term and none is passed, it is loaded from `perceptual.weightsPath` (and released by
 * `dispose`). `rng` drives DiffAugment and the gradient penalty's interpolation weights; pass a fork of the
 * run's seeded Rng.
 */
export function buildObjective(
  resolved: ResolvedGanConfig, networks: GanNetworks, perceptual?: Vgg16Features, rng: Rng = new Rng(0),
): GanObjective {
  const { generator, discriminator, layout } = networks;
  const channels = generator.outputShape[2];
  if (channels !== layout.imageChannels + layout.numClasses) {
    throw new ConfigError(`the generator makes ${channels} channels, the layout has ${layout.imageChannels} image + ${layout.numClasses} mask channels`);
  }
  const adversarial = ADVERSARIAL_LOSSES[resolved.loss];
  const realLabel = 'labelSmoothing' in resolved ? 1 - resolved.labelSmoothing : 1;
  const gpWeight = resolved.loss === 'wasserstein' ? resolved.gpWeight : 0;
  const weightClip = resolved.loss === 'wasserstein' ? resolved.weightClip : 0;
  const policy = resolved.diffAugment;

  const ownsVgg = resolved.perceptual.weight > 0 && perceptual === undefined;
  const vgg = resolved.perceptual.weight > 0
    ? perceptual ?? loadVgg16(resolved.perceptual.weightsPath ?? '', resolved.perceptual.layers)
    : undefined;

  const augment = (samples: tf.Tensor4D): tf.Tensor4D => diffAugment(samples, policy, layout, rng);
  const critic: Critic = (samples) => discriminator.apply(samples, { training: true }).logits;

  return {
    criticSteps: resolved.nCritic,

    discriminatorLoss({ real, latents }) {
      return tf.tidy(() => {
        const fake = generator.apply(latents, { training: true }); // [N, H, W, C]
        const realSeen = augment(real); // [N, H, W, C]
        const fakeSeen = augment(fake); // [N, H, W, C]
        const realLogits = discriminator.apply(realSeen, { training: true }).logits; // [N, 1]
        const fakeLogits = discriminator.apply(fakeSeen, { training: true }).logits; // [N, 1]
        const terms: Record<string, tf.Scalar> = { adversarial: adversarial.discriminator(realLogits, fakeLogits, { realLabel }) };
        if (gpWeight > 0) {
          terms['gradient-penalty'] = gradientPenalty(critic, realSeen, fakeSeen, interpolationWeights(real.shape[0], rng), gpWeight);
        }
        if (resolved.r1Gamma > 0) terms.r1 = r1Penalty(critic, realSeen, resolved.r1Gamma);
        return {
          total: sumTerms(terms),
          terms,
          scores: { real: tf.mean(realLogits) as tf.Scalar, fake: tf.mean(fakeLogits) as tf.Scalar },
        };
      });
    },

    generatorLoss({ real, latents }) {
      return tf.tidy(() => {
        const fake = generator.apply(latents, { training: true }); // [N, H, W, C]
        const fakeOut = discriminator.apply(augment(fake), { training: true });
        const terms: Record<string, tf.Scalar> = { adversarial: adversarial.generator(fakeOut.logits) };
        if (resolved.featureMatchingWeight > 0) {
          const realFeatures = discriminator.apply(augment(real), { training: true }).features; // [N, F]
          terms['feature-matching'] = tf.mul(featureMatchingLoss(realFeatures, fakeOut.features), resolved.featureMatchingWeight) as tf.Scalar;
        }
        if (vgg) {
          terms.perceptual = tf.mul(
            perceptualLoss(vgg, imageChannels(real, layout), imageChannels(fake, layout)), resolved.perceptual.weight,
          ) as tf.Scalar;
        }
        return { total: sumTerms(terms), terms, scores: { fake: tf.mean(fakeOut.logits) as tf.Scalar } };
      });
    },

    afterDiscriminatorUpdate() {
      if (weightClip > 0) clipWeights(discriminator.params.values(), weightClip);
    },

    dispose() {
      if (ownsVgg) vgg?.dispose();
    },
  };
}
