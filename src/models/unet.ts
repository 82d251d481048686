/**
 * U-Net (Ronneberger et al. 2015), the paper's downstream segmenter (section 3.4), channels-last and sized for CPUs:
 *
 *   encoder level i (i = 0..depth−1), F·2ⁱ filters:  [conv3×3 → norm → ReLU] ×2, then max-pool 2×2
 *   bottleneck, F·2^depth filters:                   [conv3×3 → norm → ReLU] ×2
 *   decoder level i (i = depth−1..0):                 up ×2 to F·2ⁱ channels (transposed conv 2×2 stride 2, or
 *                                                     nearest ×2 + conv3×3), concat the encoder's level-i output
 *                                                     (skip), [conv3×3 → norm → ReLU] ×2
 *   head:                                             conv1×1 → K class logits
 *
 * `depth` counts the poolings (the original has 4), so H and W must be divisible by 2^depth. With the defaults
 * (depth 4, F = 16) a 64 px input reaches a 4×4×256 bottleneck. Convolutions carry a bias only without a norm
 * (a norm's β makes it redundant).
 *
 * Parameter names (PyTorch state-dict style): `down.{i}.conv1.weight`, `down.{i}.norm1.weight`, …,
 * `bottleneck.conv2.weight`, `up.{i}.upconv.weight`, `up.{i}.conv1.weight`, …, `head.weight`, `head.bias`.
 */
import { tf } from '../core/engine.js';
import { Rng } from '../core/rng.js';
import { loadSafetensors, saveSafetensors, tensor, type NamedTensor } from '../core/safetensors.js';
import type { Network } from './network.js';
import {
  ParamCollector, applyConv2d, applyConvTranspose2d, applyNorm, createConv2d, createConvTranspose2d, createNorm,
  type Conv2dLayer, type ConvTranspose2dLayer, type InitConfig, type NormKind, type NormLayer,
} from './layers/index.js';

export interface UNetConfig {
  /** Image channels (1 grey, 3 RGB). */
  readonly inChannels: number;
  /** Output classes K, background included. */
  readonly numClasses: number;
  /** Number of 2×2 poolings (resolution levels − 1). @default 4 */
  readonly depth?: number;
  /** Filters of the first level F; level i has F·2ⁱ. @default 16 (64 in the original, sized here for CPUs) */
  readonly filters?: number;
  /** @default 'batch' */
  readonly norm?: NormKind;
  /** @default 'transpose' */
  readonly upsample?: 'transpose' | 'resize';
  /** Seed of the weight initialisation. @default 0 */
  readonly seed?: number;
}

export type ResolvedUNetConfig = Required<UNetConfig>;

export const UNET_DEFAULTS = Object.freeze({ depth: 4, filters: 16, norm: 'batch', upsample: 'transpose', seed: 0 } as const);

/** He initialisation for ReLU convs (Ronneberger et al. §3: N(0, 2/fan-in)). */
const HE_INIT: InitConfig = { kind: 'kaiming', gain: 1 };
const HEAD_INIT: InitConfig = { kind: 'xavier', gain: 1 };

interface ConvBlock {
  readonly conv1: Conv2dLayer;
  readonly norm1: NormLayer;
  readonly conv2: Conv2dLayer;
  readonly norm2: NormLayer;
}

interface UpLevel {
  readonly up: ConvTranspose2dLayer | Conv2dLayer;
  readonly block: ConvBlock;
}

export interface UNet extends Network {
  readonly config: ResolvedUNetConfig;
  /** Width of `encode`'s features: F·2^depth. */
  readonly featureDim: number;
  /** x [N, H, W, Cin] in [−1, 1] → logits [N, H, W, K]. `training` uses batch statistics and updates the running ones. */
  apply(x: tf.Tensor4D, opts: { readonly training: boolean }): tf.Tensor4D;
  /** x [N, H, W, Cin] → bottleneck features [N, F·2^depth], global-average-pooled, eval mode (a U-Net-FID space). */
  encode(x: tf.Tensor4D): tf.Tensor2D;
}

export function resolveUNetConfig(config: UNetConfig): ResolvedUNetConfig {
  const r: ResolvedUNetConfig = { ...UNET_DEFAULTS, ...stripUndefined(config) } as ResolvedUNetConfig;
  const intAtLeast = (name: string, v: number, min: number) => {
    if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`U-Net ${name} must be an integer ≥ ${min}, got ${v}`);
  };
  intAtLeast('inChannels', r.inChannels, 1);
  intAtLeast('numClasses', r.numClasses, 2);
  intAtLeast('depth', r.depth, 1);
  intAtLeast('filters', r.filters, 1);
  if (r.depth > 8) throw new RangeError(`U-Net depth must be ≤ 8, got ${r.depth}`);
  if (!['batch', 'instance', 'none'].includes(r.norm)) throw new RangeError(`U-Net norm must be batch, instance or none, got ${r.norm}`);
  if (!['transpose', 'resize'].includes(r.upsample)) throw new RangeError(`U-Net upsample must be transpose or resize, got ${r.upsample}`);
  return Object.freeze(r);
}

export function createUNet(config: UNetConfig): UNet {
  const cfg = resolveUNetConfig(config);
  const { depth, filters: F, norm, numClasses, inChannels } = cfg;
  const rng = new Rng(cfg.seed);
  const pc = new ParamCollector();
  const bias = norm === 'none';

  const block = (prefix: string, cin: number, cout: number): ConvBlock => ({
    conv1: createConv2d(pc, `${prefix}.conv1`, { inChannels: cin, outChannels: cout, kernelSize: 3, stride: 1 }, { init: HE_INIT, spectralNorm: false, bias }, rng),
    norm1: createNorm(pc, `${prefix}.norm1`, norm, cout, rng),
    conv2: createConv2d(pc, `${prefix}.conv2`, { inChannels: cout, outChannels: cout, kernelSize: 3, stride: 1 }, { init: HE_INIT, spectralNorm: false, bias }, rng),
    norm2: createNorm(pc, `${prefix}.norm2`, norm, cout, rng),
  });

  const down: ConvBlock[] = [];
  let cin = inChannels;
  for (let i = 0; i < depth; i++) {
    down.push(block(`down.${i}`, cin, F * 2 ** i));
    cin = F * 2 ** i;
  }
  const bottleneck = block('bottleneck', cin, F * 2 ** depth);
  const up: UpLevel[] = [];
  for (let i = depth - 1; i >= 0; i--) {
    const from = F * 2 ** (i + 1);
    const to = F * 2 ** i;
    const upLayer = cfg.upsample === 'transpose'
      ? createConvTranspose2d(pc, `up.${i}.upconv`, { inChannels: from, outChannels: to, kernelSize: 2, stride: 2 }, { init: HE_INIT, spectralNorm: false, bias: true }, rng)
      : createConv2d(pc, `up.${i}.upconv`, { inChannels: from, outChannels: to, kernelSize: 3, stride: 1 }, { init: HE_INIT, spectralNorm: false, bias: true }, rng);
    up.push({ up: upLayer, block: block(`up.${i}`, 2 * to, to) });
  }
  const head = createConv2d(pc, 'head', { inChannels: F, outChannels: numClasses, kernelSize: 1, stride: 1 }, { init: HEAD_INIT, spectralNorm: false, bias: true }, rng);

  const runBlock = (b: ConvBlock, x: tf.Tensor4D, training: boolean): tf.Tensor4D => {
    const h = tf.relu(applyNorm(b.norm1, applyConv2d(b.conv1, x, training), training));
    return tf.relu(applyNorm(b.norm2, applyConv2d(b.conv2, h, training), training));
  };

  const checkInput = (x: tf.Tensor4D, where: string): void => {
    const [, h, w, c] = x.shape;
    const m = 2 ** depth;
    if (x.rank !== 4 || c !== inChannels) throw new Error(`UNet.${where}: input [${x.shape.join(', ')}] must be [N, H, W, ${inChannels}]`);
    if (h % m !== 0 || w % m !== 0) throw new Error(`UNet.${where}: ${h}×${w} input is not divisible by 2^depth = ${m}; use depth ≤ log2 of the size's largest power-of-two factor`);
  };

  /** Encoder: skip outputs per level and the bottleneck features. */
  const encoder = (x: tf.Tensor4D, training: boolean): { skips: tf.Tensor4D[]; deepest: tf.Tensor4D } => {
    const skips: tf.Tensor4D[] = [];
    let h = x;
    for (const b of down) {
      const s = runBlock(b, h, training); // [N, H/2ⁱ, W/2ⁱ, F·2ⁱ]
      skips.push(s);
      h = tf.maxPool(s, 2, 2, 'valid');
    }
    return { skips, deepest: runBlock(bottleneck, h, training) }; // [N, H/2^d, W/2^d, F·2^d]
  };

  return {
    config: cfg,
    featureDim: F * 2 ** depth,
    params: pc.params,
    buffers: pc.buffers,
    apply(x, { training }) {
      checkInput(x, 'apply');
      return tf.tidy(() => {
        const { skips, deepest } = encoder(x, training);
        let h = deepest;
        up.forEach(({ up: u, block: b }, k) => {
          const skip = skips[depth - 1 - k]!;
          const upsampled = cfg.upsample === 'transpose'
            ? applyConvTranspose2d(u, h, training)
            : applyConv2d(u, tf.image.resizeNearestNeighbor(h, [h.shape[1] * 2, h.shape[2] * 2]), training);
          h = runBlock(b, tf.concat([upsampled, skip], 3) as tf.Tensor4D, training);
        });
        return applyConv2d(head, h, training); // [N, H, W, K]
      });
    },
    encode(x) {
      checkInput(x, 'encode');
      return tf.tidy(() => tf.mean(encoder(x, false).deepest, [1, 2]) as tf.Tensor2D);
    },
    dispose() {
      pc.dispose();
    },
  };
}

/** Format tag of a saved U-Net (safetensors metadata `format`). */
export const UNET_FORMAT = 'medsyn-unet/1';

/** Writes the U-Net's parameters and buffers (by name) and its config (metadata `config`) as safetensors, atomically. */
export function saveUNet(file: string, net: UNet, metadata: Readonly<Record<string, string>> = {}): void {
  const tensors: Record<string, NamedTensor> = {};
  for (const [name, v] of [...net.params, ...net.buffers]) tensors[name] = tensor(v.dataSync() as Float32Array, v.shape);
  saveSafetensors(file, tensors, { ...metadata, format: UNET_FORMAT, config: JSON.stringify(net.config) });
}

/** Rebuilds a U-Net saved by `saveUNet` (e.g. the downstream segmenter, as a domain feature extractor). */
export function loadUNet(file: string): UNet {
  const { tensors, metadata } = loadSafetensors(file);
  if (metadata.format !== UNET_FORMAT || !metadata.config) throw new Error(`${file}: not a medsyn U-Net (metadata format ${metadata.format ?? 'missing'})`);
  const net = createUNet(JSON.parse(metadata.config) as UNetConfig);
  try {
    for (const [name, v] of [...net.params, ...net.buffers]) {
      const t = tensors[name];
      if (!t || t.shape.length !== v.shape.length || t.shape.some((d, i) => d !== v.shape[i])) {
        throw new Error(`${file}: tensor ${name} is ${t ? `[${t.shape.join(', ')}]` : 'missing'}, the U-Net needs [${v.shape.join(', ')}]`);
      }
      tf.tidy(() => v.assign(tf.tensor(t.data as Float32Array, v.shape, 'float32')));
    }
  } catch (err) {
    net.dispose();
    throw err;
  }
  return net;
}

function stripUndefined<T extends object>(o: T): Partial<T> {
  return Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as Partial<T>;
}
