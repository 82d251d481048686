/**
 * Gradient of DepthToSpace (pixel-shuffle upsampling), missing in TF.js 4.22: the inverse
 * permutation (space-to-depth), built from reshape + transpose so it is differentiable again.
 */
import * as tf from '@tensorflow/tfjs';

function spaceToDepth(dy: tf.Tensor, b: number, dataFormat: 'NHWC' | 'NCHW'): tf.Tensor {
  if (dataFormat === 'NHWC') {
    const [n, h, w, c] = dy.shape; // [N, H·b, W·b, C]
    return dy.reshape([n, h / b, b, w / b, b, c]).transpose([0, 1, 3, 2, 4, 5])
      .reshape([n, h / b, w / b, b * b * c]); // [N, H, W, b·b·C]
  }
  const [n, c, h, w] = dy.shape; // [N, C, H·b, W·b]
  return dy.reshape([n, c, h / b, b, w / b, b]).transpose([0, 3, 5, 1, 2, 4])
    .reshape([n, b * b * c, h / b, w / b]); // [N, b·b·C, H, W]
}

export const depthToSpaceGrad: tf.GradConfig = {
  kernelName: tf.DepthToSpace,
  gradFunc: (dy, _saved, attrs) => {
    const { blockSize, dataFormat } = attrs as unknown as tf.DepthToSpaceAttrs;
    return { x: () => spaceToDepth(dy as tf.Tensor, blockSize, dataFormat) };
  },
};
