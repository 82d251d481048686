/** Building blocks for explicit-variable networks: parameters, initialisers, linear layers, norms, activations. */
export { ParamCollector } from './params.js';
export { INITIALIZERS, INIT_KINDS, initWeight, initNormScale, NORM_SCALE_INIT_STD, type InitKind, type InitConfig, type Fans, type Initializer } from './init.js';
export { ACTIVATIONS, ACTIVATION_KINDS, LEAKY_RELU_SLOPE, type Activation, type ActivationKind } from './activation.js';
export { NORM_KINDS, NORM_EPS, BATCH_NORM_MOMENTUM, createNorm, applyNorm, type NormKind, type NormLayer } from './norm.js';
export {
  SPECTRAL_NORM_EPS, weightMatrix, createSpectralNormWeight, spectralSigma, spectralNormalizedWeight,
  type SpectralNormWeight, type WeightLayout,
} from './spectralNorm.js';
export {
  createConv2d, applyConv2d, createConvTranspose2d, applyConvTranspose2d, createDense, applyDense, effectiveWeight, rawWeight,
  type Conv2dLayer, type ConvTranspose2dLayer, type DenseLayer, type LayerWeight, type LinearOptions,
} from './linear.js';
