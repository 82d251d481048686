/**
 * Gradient of Conv2DBackpropFilter (double backprop through a conv filter gradient, e.g. a
 * penalty on ∂L/∂W, or a third-order term). dW = bpFilter(x, dy) is bilinear with
 * ⟨bpFilter(x, dy), G⟩ = ⟨conv2d(x, G), dy⟩, so ∂/∂x = bpInput(dy, G) and ∂/∂dy = conv2d(x, G).
 */
import * as tf from '@tensorflow/tfjs';

export const conv2dBackpropFilterGrad: tf.GradConfig = {
  kernelName: tf.Conv2DBackpropFilter,
  inputsToSave: ['x', 'dy'],
  gradFunc: (ddw, saved, attrs) => {
    const [x, dy] = saved; // x: [N, H, W, Ci], dy: [N, OH, OW, Co]
    const filter = ddw as tf.Tensor; // [KH, KW, Ci, Co]
    return {
      x: () => tf.engine().runKernel(tf.Conv2DBackpropInput, { dy, filter },
        { ...attrs, inputShape: x.shape }) as tf.Tensor,
      dy: () => tf.engine().runKernel(tf.Conv2D, { x, filter },
        { ...attrs, dilations: 1 }) as tf.Tensor,
    };
  },
};
