/**
 * Adversarial losses over raw discriminator outputs (logits; critic values for WGAN), as a typed table.
 * Swapping the entry is all that turns the DCGAN backbone into LSGAN, WGAN or HingeGAN (paper §3.2).
 * r = D(x_real), f = D(G(z)), both [N, 1]; every term is a batch mean.
 *
 * | loss             | discriminator                         | generator      | source                     |
 * |------------------|---------------------------------------|----------------|----------------------------|
 * | `non-saturating` | y·sp(−r) + (1−y)·sp(r) + sp(f)         | sp(−f)         | Goodfellow et al. 2014     |
 * | `least-squares`  | ½(r − y)² + ½f²                        | ½(f − 1)²      | Mao et al. 2017, eq. 2     |
 * | `wasserstein`    | f − r                                 | −f             | Arjovsky et al. 2017       |
 * | `hinge`          | relu(1 − r) + relu(1 + f)              | −f             | Lim & Ye 2017              |
 *
 * sp = softplus, so −log σ(r) = sp(−r) and −log(1 − σ(f)) = sp(f): binary cross-entropy on logits without
 * ever forming σ, stable for any logit. y is the real target: 1, or 1 − s with one-sided label smoothing
 * (Salimans et al. 2016; fake targets stay 0).
 *
 * LSGAN constants: a = 0 (fake), b = 1 (real, or 1 − s smoothed), c = 1 (what G wants D to say), i.e. the
 * 0-1 coding of Mao et al. §3.2.2, with the paper's ½ factors on both players. (pytorch-gan-collection
 * implementations average the two D terms the same way but drop the ½ on G's MSE; that only scales G's
 * gradient by 2, which Adam mostly absorbs.)
 */
import { tf } from '../core/engine.js';

export interface LossOptions {
  /** Target for real samples in label-based losses: 1, or 1 − s with one-sided label smoothing. Ignored by critics. */
  readonly realLabel: number;
}

export const DEFAULT_LOSS_OPTIONS: LossOptions = { realLabel: 1 };

export interface AdversarialLoss {
  /** Whether the loss has real/fake targets (so label smoothing applies). */
  readonly hasLabels: boolean;
  /** realLogits [N, 1], fakeLogits [N, 1] → scalar. Disposed by the caller's tidy. */
  discriminator(realLogits: tf.Tensor, fakeLogits: tf.Tensor, opts?: LossOptions): tf.Scalar;
  /** fakeLogits [N, 1] → scalar. Disposed by the caller's tidy. */
  generator(fakeLogits: tf.Tensor): tf.Scalar;
}

const mean = (x: tf.Tensor): tf.Scalar => tf.mean(x) as tf.Scalar;

export const ADVERSARIAL_LOSSES = {
  // D: y·sp(−r) + (1−y)·sp(r) + sp(f)   G: sp(−f)
  'non-saturating': {
    hasLabels: true,
    discriminator: (r, f, { realLabel } = DEFAULT_LOSS_OPTIONS) => {
      const realTerm = realLabel === 1
        ? tf.softplus(tf.neg(r))
        : tf.add(tf.mul(tf.softplus(tf.neg(r)), realLabel), tf.mul(tf.softplus(r), 1 - realLabel));
      return tf.add(mean(realTerm), mean(tf.softplus(f)));
    },
    generator: (f) => mean(tf.softplus(tf.neg(f))),
  },
  // D: ½(r − b)² + ½(f − a)², a = 0, b = realLabel   G: ½(f − c)², c = 1
  'least-squares': {
    hasLabels: true,
    discriminator: (r, f, { realLabel } = DEFAULT_LOSS_OPTIONS) =>
      tf.mul(tf.add(mean(tf.square(tf.sub(r, realLabel))), mean(tf.square(f))), 0.5),
    generator: (f) => tf.mul(mean(tf.square(tf.sub(f, 1))), 0.5),
  },
  // D: f − r   G: −f
  wasserstein: {
    hasLabels: false,
    discriminator: (r, f) => tf.sub(mean(f), mean(r)),
    generator: (f) => tf.neg(mean(f)),
  },
  // D: relu(1 − r) + relu(1 + f)   G: −f
  hinge: {
    hasLabels: false,
    discriminator: (r, f) => tf.add(mean(tf.relu(tf.sub(1, r))), mean(tf.relu(tf.add(1, f)))),
    generator: (f) => tf.neg(mean(f)),
  },
} as const satisfies Record<string, AdversarialLoss>;

export type AdversarialLossKind = keyof typeof ADVERSARIAL_LOSSES;
export const ADVERSARIAL_LOSS_KINDS = Object.keys(ADVERSARIAL_LOSSES) as AdversarialLossKind[];
