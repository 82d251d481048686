/**
 * GAN variants as presets of one config, not code paths (paper §3.2: DCGAN, LSGAN, WGAN and HingeGAN share
 * the DCGAN backbone; "the loss function was swapped"). A preset sets the loss, its regularisers and the
 * optimiser settings its paper used; src/gan/config.ts merges it over the shared defaults and applies the
 * user's overrides. Every Table 1 knob stays overridable on every variant where it makes sense.
 *
 * Optimiser: medsyn trains every variant with Adam (the training loop has no RMSprop), so WGAN's RMSprop
 * (Arjovsky et al. 2017, Algorithm 1: RMSprop, lr 5e-5) becomes Adam with β1 = 0 (no momentum, which the
 * WGAN authors found harmful) and β2 = 0.99 (RMSprop's α = 0.99 in PyTorch): Adam then differs from
 * RMSprop only by its bias correction. Override `betas`/`lr` freely.
 */
import type { NetworkSpec } from '../models/dcgan.js';
import type { InitConfig } from '../models/layers/init.js';
import type { AdversarialLossKind } from './losses.js';

export interface GanPreset {
  readonly loss: AdversarialLossKind;
  /** Critic (D) updates per generator update. */
  readonly nCritic: number;
  readonly lr: { readonly d: number; readonly g: number };
  /** Adam (β1, β2), shared by D and G. */
  readonly betas: readonly [number, number];
  readonly weightClip?: number;
  readonly gpWeight?: number;
  readonly g?: Partial<NetworkSpec>;
  readonly d?: Partial<NetworkSpec>;
  readonly init?: InitConfig;
}

export const GAN_VARIANTS = {
  /**
   * DCGAN (Radford et al. 2016): non-saturating loss; Adam lr 2e-4, β1 0.5 (§4 "Details of adversarial
   * training"); batch norm in G and D, ReLU in G, LeakyReLU(0.2) in D; weights N(0, 0.02).
   */
  dcgan: { loss: 'non-saturating', nCritic: 1, lr: { d: 2e-4, g: 2e-4 }, betas: [0.5, 0.999] },
  /**
   * LSGAN (Mao et al. 2017): least-squares loss with a = 0, b = c = 1; DCGAN's optimiser settings (their §4.1 uses
   * Adam, β1 0.5). The critic has no normalisation: on medsyn's joint image+mask samples a batch- or
   * instance-normalised LSGAN discriminator let G settle on high-frequency noise (ACDC phantom, 32 and 64 px,
   * 3–6 kimg, three runs), while the same run without D normalisation learns the anatomy like DCGAN.
   * Table 1's `d.norm` still selects batch or instance norm.
   */
  lsgan: { loss: 'least-squares', nCritic: 1, lr: { d: 2e-4, g: 2e-4 }, betas: [0.5, 0.999], d: { norm: 'none' } },
  /**
   * WGAN (Arjovsky et al. 2017, Algorithm 1): critic loss, weight clipping c = 0.01, n_critic = 5,
   * lr 5e-5 (RMSprop there; Adam(0, 0.99) here, see the file header).
   */
  wgan: { loss: 'wasserstein', nCritic: 5, weightClip: 0.01, lr: { d: 5e-5, g: 5e-5 }, betas: [0, 0.99] },
  /**
   * WGAN-GP (Gulrajani et al. 2017, Algorithm 1): λ = 10, n_critic = 5, Adam lr 1e-4, β = (0, 0.9).
   * Their critic has no batch norm (§4: it breaks the per-sample penalty); Table 1 offers batch or
   * instance norm, so the critic defaults to instance norm (per-sample, like their layer norm).
   */
  'wgan-gp': { loss: 'wasserstein', nCritic: 5, gpWeight: 10, lr: { d: 1e-4, g: 1e-4 }, betas: [0, 0.9], d: { norm: 'instance' } },
  /** HingeGAN (Lim & Ye 2017): hinge loss on the DCGAN backbone and optimiser settings (paper §3.2 swaps only the loss). */
  hinge: { loss: 'hinge', nCritic: 1, lr: { d: 2e-4, g: 2e-4 }, betas: [0.5, 0.999] },
} as const satisfies Record<string, GanPreset>;

export type GanVariantId = keyof typeof GAN_VARIANTS;
export const GAN_VARIANT_IDS = Object.keys(GAN_VARIANTS) as GanVariantId[];
