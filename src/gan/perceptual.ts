/**
 * VGG16 perceptual loss (Johnson et al. 2016 feature reconstruction loss; paper Table 1 "VGG loss weight").
 *
 * The network is torchvision's `vgg16().features` (Simonyan & Zisserman 2015, configuration D) truncated after
 * the deepest requested ReLU, with weights from a user-supplied safetensors file keyed as in torchvision's
 * state dict (`features.0.weight` [64, 3, 3, 3], `features.0.bias` [64], … PyTorch layout [out, in, kh, kw],
 * transposed to TF.js' [kh, kw, in, out] on load). No weights ship with medsyn and none are downloaded:
 * export them once with `python3 tools/export_vgg16.py vgg16.safetensors` (torchvision IMAGENET1K_V1).
 *
 * Input images in [-1, 1] are mapped to [0, 1] and normalised with the ImageNet mean/std torchvision's
 * weights expect. 3-channel images are taken as RGB; any other channel count is treated as that many
 * grayscale images, each repeated to 3 channels (so 1-channel MR/CT works as usual).
 *
 * loss = Σ_layers mean((φ_l(real) − φ_l(fake))²), on image channels only: slice masks off first.
 */
import fs from 'node:fs';
import { tf } from '../core/engine.js';
import { DataError } from '../core/errors.js';
import { loadSafetensors, type NamedTensor } from '../core/safetensors.js';

/** torchvision vgg16 `features` layout: channel counts, 'M' = 2×2 max pool. */
const VGG16_CONFIG = [64, 64, 'M', 128, 128, 'M', 256, 256, 256, 'M', 512, 512, 512, 'M', 512, 512, 512, 'M'] as const;

/** ReLU outputs that can serve as feature layers, with their index in torchvision's `features`. */
export const VGG16_LAYERS = { relu1_2: 3, relu2_2: 8, relu3_3: 15, relu4_3: 22, relu5_3: 29 } as const;
export type Vgg16Layer = keyof typeof VGG16_LAYERS;
export const VGG16_LAYER_NAMES = Object.keys(VGG16_LAYERS) as Vgg16Layer[];
export const DEFAULT_VGG16_LAYERS: readonly Vgg16Layer[] = ['relu3_3'];

/** torchvision's ImageNet normalisation. */
export const IMAGENET_MEAN = [0.485, 0.456, 0.406] as const;
export const IMAGENET_STD = [0.229, 0.224, 0.225] as const;

export const VGG16_WEIGHTS_HELP =
  'export torchvision\'s VGG16 ImageNet weights once with `python3 tools/export_vgg16.py vgg16.safetensors` '
  + '(needs torch, torchvision and safetensors: pip install torch torchvision safetensors; it downloads '
  + 'IMAGENET1K_V1 from download.pytorch.org), then point perceptual.weightsPath at the file';

type Vgg16Module =
  | { readonly kind: 'conv'; readonly index: number; readonly inChannels: number; readonly outChannels: number }
  | { readonly kind: 'relu'; readonly index: number }
  | { readonly kind: 'pool'; readonly index: number };

/** torchvision's module list for vgg16().features, with indices. */
export function vgg16Modules(): Vgg16Module[] {
  const modules: Vgg16Module[] = [];
  let index = 0;
  let channels = 3;
  for (const entry of VGG16_CONFIG) {
    if (entry === 'M') {
      modules.push({ kind: 'pool', index: index++ });
    } else {
      modules.push({ kind: 'conv', index: index++, inChannels: channels, outChannels: entry });
      modules.push({ kind: 'relu', index: index++ });
      channels = entry;
    }
  }
  return modules;
}

export interface Vgg16Features {
  /** The weights file, for provenance. */
  readonly source: string;
  readonly layers: readonly Vgg16Layer[];
  /** images [N, H, W, Ci] in [-1, 1] → one feature map [N·k, h, w, c] per requested layer (k = Ci unless Ci = 3). */
  features(images: tf.Tensor4D): tf.Tensor4D[];
  dispose(): void;
}

/** Builds the feature network from torchvision-named tensors (what loadVgg16 reads from disk). */
export function vgg16FromTensors(
  tensors: Readonly<Record<string, NamedTensor>>, layers: readonly Vgg16Layer[] = DEFAULT_VGG16_LAYERS, source = 'tensors',
): Vgg16Features {
  if (layers.length === 0) throw new Error('vgg16: at least one feature layer is needed');
  const deepest = Math.max(...layers.map((l) => VGG16_LAYERS[l]));
  const modules = vgg16Modules().filter((m) => m.index <= deepest);
  const weights = new Map<number, { kernel: tf.Tensor4D; bias: tf.Tensor1D }>();
  try {
    for (const m of modules) {
      if (m.kind !== 'conv') continue;
      const w = tensors[`features.${m.index}.weight`];
      const b = tensors[`features.${m.index}.bias`];
      const expected = [m.outChannels, m.inChannels, 3, 3];
      if (!w || !b) throw new DataError(source, `missing features.${m.index}.weight/bias (not a torchvision vgg16 state dict?)`, VGG16_WEIGHTS_HELP);
      if (w.dtype !== 'F32' || b.dtype !== 'F32') throw new DataError(source, `features.${m.index} must be F32, got ${w.dtype}/${b.dtype}`, VGG16_WEIGHTS_HELP);
      if (w.shape.join(',') !== expected.join(',') || b.shape.join(',') !== String(m.outChannels)) {
        throw new DataError(source, `features.${m.index}.weight has shape [${w.shape.join(', ')}], expected [${expected.join(', ')}]`, VGG16_WEIGHTS_HELP);
      }
      weights.set(m.index, tf.tidy(() => ({
        kernel: tf.transpose(tf.tensor4d(w.data as Float32Array, expected as [number, number, number, number]), [2, 3, 1, 0]), // [3, 3, in, out]
        bias: tf.tensor1d(b.data as Float32Array),
      })));
    }
  } catch (err) {
    for (const { kernel, bias } of weights.values()) tf.dispose([kernel, bias]);
    throw err;
  }
  const outputIndices = new Set<number>(layers.map((l) => VGG16_LAYERS[l]));

  return {
    source,
    layers,
    features(images) {
      return tf.tidy(() => {
        let x = preprocess(images); // [N·k, H, W, 3]
        const outputs = new Map<number, tf.Tensor4D>();
        for (const m of modules) {
          if (m.kind === 'conv') {
            const { kernel, bias } = weights.get(m.index)!;
            x = tf.add(tf.conv2d(x, kernel, 1, 'same'), bias) as tf.Tensor4D;
          } else if (m.kind === 'relu') {
            x = tf.relu(x);
          } else {
            x = tf.maxPool(x, 2, 2, 'valid');
          }
          if (outputIndices.has(m.index)) outputs.set(m.index, x);
        }
        return layers.map((l) => outputs.get(VGG16_LAYERS[l])!);
      });
    },
    dispose() {
      for (const { kernel, bias } of weights.values()) tf.dispose([kernel, bias]);
      weights.clear();
    },
  };
}

/** images [N, H, W, Ci] in [-1, 1] → ImageNet-normalised RGB [N·k, H, W, 3]. */
function preprocess(images: tf.Tensor4D): tf.Tensor4D {
  const [n, h, w, c] = images.shape;
  let rgb = tf.div(tf.add(images, 1), 2) as tf.Tensor4D; // [0, 1]
  if (c !== 3) {
    const gray = tf.reshape(tf.transpose(rgb, [0, 3, 1, 2]), [n * c, h, w, 1]); // each channel its own image
    rgb = tf.tile(gray, [1, 1, 1, 3]) as tf.Tensor4D;
  }
  return tf.div(tf.sub(rgb, tf.tensor1d([...IMAGENET_MEAN])), tf.tensor1d([...IMAGENET_STD])) as tf.Tensor4D;
}

/** Loads torchvision VGG16 weights from a safetensors file; a missing file is a DataError saying how to make it. */
export function loadVgg16(path: string, layers: readonly Vgg16Layer[] = DEFAULT_VGG16_LAYERS): Vgg16Features {
  if (!fs.existsSync(path)) throw new DataError(path, 'VGG16 weights file not found (needed for the perceptual loss)', VGG16_WEIGHTS_HELP);
  const { tensors } = loadSafetensors(path);
  return vgg16FromTensors(tensors, layers, path);
}

/**
 * Σ over the network's layers of mean((φ(real) − φ(fake))²). realImages, fakeImages [N, H, W, Ci] in [-1, 1]
 * (image channels only). Both go through the network in one batch. Disposed by the caller's tidy.
 */
export function perceptualLoss(vgg: Vgg16Features, realImages: tf.Tensor4D, fakeImages: tf.Tensor4D): tf.Scalar {
  if (realImages.shape.join(',') !== fakeImages.shape.join(',')) {
    throw new Error(`perceptualLoss: real [${realImages.shape.join(', ')}] and fake [${fakeImages.shape.join(', ')}] shapes differ`);
  }
  const feats = vgg.features(tf.concat([realImages, fakeImages], 0)); // real first, then fake, per layer
  const perLayer = feats.map((f) => {
    const [real, fake] = tf.split(f, 2, 0);
    return tf.mean(tf.squaredDifference(real!, fake!));
  });
  return tf.addN(perLayer) as tf.Scalar;
}
