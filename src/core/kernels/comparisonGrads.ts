/**
 * Zero gradients for comparison and logical ops, which TF.js 4.22 leaves without one.
 * They are piecewise constant, but they sit inside other ops' gradients (leakyRelu and
 * selu: greater + where; minimum: lessEqual; clipByValue: logicalAnd; max: equal), so
 * double backprop (WGAN-GP, R1) walks through them and fails without a gradient.
 */
import * as tf from '@tensorflow/tfjs';

function zeroGradient(kernelName: string, inputNames: readonly string[]): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: [...inputNames],
    gradFunc: (_dy, saved) =>
      Object.fromEntries(inputNames.map((name, i) => [name, () => tf.zeros(saved[i].shape)])),
  };
}

export const comparisonGrads: readonly tf.GradConfig[] = [
  ...[tf.Greater, tf.Less, tf.LessEqual, tf.Equal, tf.NotEqual, tf.LogicalAnd, tf.LogicalOr]
    .map((name) => zeroGradient(name, ['a', 'b'])),
  zeroGradient(tf.LogicalNot, ['x']),
];
