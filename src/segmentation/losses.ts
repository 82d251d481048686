/**
 * Segmentation training losses over raw logits [N, H, W, K] and one-hot targets [N, H, W, K] (channels-last):
 * pixel-wise cross-entropy and soft Dice, and their weighted sum (the usual U-Net "DiceCE" objective, MONAI's
 * DiceCELoss). Both take logits, never probabilities: the softmax lives here, once, so no caller applies it twice.
 */
import { tf } from '../core/engine.js';

/**
 * Mean over pixels of −Σₖ yₖ·log softmax(z)ₖ. log-softmax is computed as z − logsumexp(z) (TF.js' logSoftmax),
 * which is stable for large logits. `classWeights` [K] scales each pixel's term by the weight of its true class
 * (PyTorch's `weight`, with the same weighted-mean normalisation Σ wᵢ·ℓᵢ / Σ wᵢ).
 */
export function crossEntropyFromLogits(logits: tf.Tensor4D, target: tf.Tensor4D, classWeights?: readonly number[]): tf.Scalar {
  assertSameShape(logits, target, 'crossEntropyFromLogits');
  return tf.tidy(() => {
    const perPixel = tf.neg(tf.sum(tf.mul(target, tf.logSoftmax(logits, -1)), -1)); // [N, H, W]
    if (!classWeights) return tf.mean(perPixel) as tf.Scalar;
    const K = logits.shape[3];
    if (classWeights.length !== K) throw new Error(`crossEntropyFromLogits: ${classWeights.length} class weights for ${K} classes`);
    const w = tf.sum(tf.mul(target, tf.tensor1d(classWeights as number[])), -1); // [N, H, W]
    return tf.div(tf.sum(tf.mul(perPixel, w)), tf.sum(w)) as tf.Scalar;
  });
}

export interface SoftDiceOptions {
  /** Count class 0 in the mean. @default false */
  readonly includeBackground?: boolean;
  /** Added to numerator and denominator (MONAI's smooth_nr = smooth_dr). @default 1e-5 */
  readonly smooth?: number;
  /**
   * Sum over the whole batch before dividing ("batch Dice", nnU-Net) instead of one Dice per image and class.
   * @default false
   */
  readonly batch?: boolean;
}

/**
 * 1 − mean over (images ×) classes of (2·Σ p·y + ε) / (Σ p + Σ y + ε), with p = softmax(logits). Per image and class
 * by default, so an image whose truth lacks a class is pushed to predict none of it (Dice → ε/(Σp+ε)).
 */
export function softDiceLoss(logits: tf.Tensor4D, target: tf.Tensor4D, opts: SoftDiceOptions = {}): tf.Scalar {
  assertSameShape(logits, target, 'softDiceLoss');
  const K = logits.shape[3];
  const from = opts.includeBackground ? 0 : 1;
  if (K - from < 1) throw new Error(`softDiceLoss: no class to score (K = ${K}, includeBackground = ${Boolean(opts.includeBackground)})`);
  const smooth = opts.smooth ?? 1e-5;
  return tf.tidy(() => {
    let p: tf.Tensor = tf.softmax(logits, -1);
    let y: tf.Tensor = target;
    if (from > 0) {
      const [n, h, w] = logits.shape;
      p = tf.slice(p, [0, 0, 0, from], [n, h, w, K - from]);
      y = tf.slice(y, [0, 0, 0, from], [n, h, w, K - from]);
    }
    const axes = opts.batch ? [0, 1, 2] : [1, 2];
    const intersection = tf.sum(tf.mul(p, y), axes);
    const denominator = tf.add(tf.sum(p, axes), tf.sum(y, axes));
    const eps = tf.scalar(smooth);
    const diceScore = tf.div(tf.add(tf.mul(intersection, 2), eps), tf.add(denominator, eps));
    return tf.sub(1, tf.mean(diceScore)) as tf.Scalar;
  });
}

export interface SegmentationLossOptions {
  /** @default 1 */
  readonly ceWeight?: number;
  /** @default 1 */
  readonly diceWeight?: number;
  readonly classWeights?: readonly number[];
  readonly dice?: SoftDiceOptions;
}

export interface SegmentationLoss {
  readonly total: tf.Scalar;
  readonly ce: tf.Scalar;
  readonly dice: tf.Scalar;
}

/** ceWeight·CE + diceWeight·softDice. A term with weight 0 is not computed (its value reads 0). Caller owns all three. */
export function segmentationLoss(logits: tf.Tensor4D, target: tf.Tensor4D, opts: SegmentationLossOptions = {}): SegmentationLoss {
  const ceWeight = opts.ceWeight ?? 1;
  const diceWeight = opts.diceWeight ?? 1;
  if (!(ceWeight >= 0 && diceWeight >= 0 && ceWeight + diceWeight > 0)) {
    throw new Error(`segmentationLoss: weights must be ≥ 0 and not both 0, got ce ${ceWeight}, dice ${diceWeight}`);
  }
  const ce = ceWeight > 0 ? crossEntropyFromLogits(logits, target, opts.classWeights) : tf.scalar(0);
  const dice = diceWeight > 0 ? softDiceLoss(logits, target, opts.dice) : tf.scalar(0);
  const total = tf.tidy(() => tf.add(tf.mul(ce, ceWeight), tf.mul(dice, diceWeight)) as tf.Scalar);
  return { total, ce, dice };
}

function assertSameShape(a: tf.Tensor, b: tf.Tensor, where: string): void {
  if (a.rank !== 4 || a.shape.some((d, i) => d !== b.shape[i])) {
    throw new Error(`${where}: logits [${a.shape.join(', ')}] and target [${b.shape.join(', ')}] must both be [N, H, W, K]`);
  }
}
