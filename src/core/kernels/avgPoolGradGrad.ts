/**
 * Gradient of AvgPoolGrad (second order through avgPool). AvgPoolGrad is the transpose of
 * the (linear) average pool, so its gradient with respect to dy is the average pool itself;
 * the input only supplies a shape.
 */
import * as tf from '@tensorflow/tfjs';

export const avgPoolGradGrad: tf.GradConfig = {
  kernelName: tf.AvgPoolGrad,
  inputsToSave: ['input'],
  gradFunc: (ddx, saved, attrs) => {
    const [input] = saved;
    const { filterSize, strides, pad } = attrs as unknown as tf.AvgPoolGradAttrs;
    return {
      dy: () => tf.avgPool(ddx as tf.Tensor4D, filterSize, strides, pad),
      input: () => tf.zeros(input.shape),
    };
  },
};
