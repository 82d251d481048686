/**
 * Gradient of EluGrad (second order through elu). EluGrad(dy, y) = y ≥ 0 ? dy : dy·(y + 1),
 * with y = elu(x): linear in dy (its gradient is EluGrad again), and ∂/∂y = dy where y < 0.
 * (y reaches x on the tape only through the Elu gradient of savedOutputGrads.ts.)
 */
import * as tf from '@tensorflow/tfjs';

export const eluGradGrad: tf.GradConfig = {
  kernelName: tf.EluGrad,
  inputsToSave: ['dy', 'y'],
  gradFunc: (ddx, saved) => {
    const [dy, y] = saved;
    const ddy = ddx as tf.Tensor;
    return {
      dy: () => tf.engine().runKernel(tf.EluGrad, { dy: ddy, y }) as tf.Tensor,
      y: () => tf.mul(tf.mul(ddy, dy), tf.cast(tf.less(y, 0), 'float32')),
    };
  },
};
