/**
 * Gradients of ResizeBilinearGrad and ResizeNearestNeighborGrad (second order through
 * resizing). Each is the transpose of its (linear) resize, so its gradient with respect to
 * dy is the resize back to dy's size; the images only supply a shape.
 */
import * as tf from '@tensorflow/tfjs';

type Resize = (images: tf.Tensor4D, size: [number, number], alignCorners: boolean,
  halfPixelCenters: boolean) => tf.Tensor4D;

function resizeGradGrad(kernelName: string, resize: Resize): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: ['images', 'dy'],
    gradFunc: (ddx, saved, attrs) => {
      const [images, dy] = saved; // images: [N, H, W, C], dy: [N, OH, OW, C]
      const [, oh, ow] = dy.shape as [number, number, number, number];
      const { alignCorners, halfPixelCenters } = attrs as unknown as tf.ResizeBilinearGradAttrs;
      return {
        dy: () => resize(ddx as tf.Tensor4D, [oh, ow], alignCorners, halfPixelCenters),
        images: () => tf.zeros(images.shape),
      };
    },
  };
}

export const resizeGradGrads: readonly tf.GradConfig[] = [
  resizeGradGrad(tf.ResizeBilinearGrad, tf.image.resizeBilinear),
  resizeGradGrad(tf.ResizeNearestNeighborGrad, tf.image.resizeNearestNeighbor),
];
