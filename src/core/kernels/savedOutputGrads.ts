/**
 * Replacement gradients for ops whose TF.js gradient reads the op's saved *output*
 * (Elu, Tanh, Sigmoid, Exp, Softmax). TF.js saves a clone of the output before the op's own
 * tape node is recorded, so on an outer tape the clone is not connected to the input: second
 * order gradients silently lose the term through the output (elu: 2·e^x − 1 becomes e^x), or
 * throw "Cannot compute gradient of y=f(x)" (d²/dx² tanh). These save the input instead and
 * recompute the output inside the gradient (one extra element-wise op per backward pass; tanh's is one
 * native kernel on wasm outside an outer tape, see actKernels.ts).
 */
import * as tf from '@tensorflow/tfjs';
import { fusedTanhGrad } from './actKernels.js';

function fromInput(kernelName: string, inputName: string,
  grad: (dy: tf.Tensor, x: tf.Tensor, attrs: tf.NamedAttrMap) => tf.Tensor): tf.GradConfig {
  return {
    kernelName,
    inputsToSave: [inputName],
    gradFunc: (dy, saved, attrs) => ({ [inputName]: () => grad(dy as tf.Tensor, saved[0], attrs) }),
  };
}

export const savedOutputGrads: readonly tf.GradConfig[] = [
  fromInput(tf.Elu, 'x', (dy, x) => tf.engine().runKernel(tf.EluGrad, { dy, y: tf.elu(x) }) as tf.Tensor),
  fromInput(tf.Tanh, 'x', (dy, x) => fusedTanhGrad(dy, x) ?? tf.mul(dy, tf.sub(1, tf.square(tf.tanh(x))))),
  fromInput(tf.Sigmoid, 'x', (dy, x) => {
    const y = tf.sigmoid(x);
    return tf.mul(dy, tf.mul(y, tf.sub(1, y)));
  }),
  fromInput(tf.Exp, 'x', (dy, x) => tf.mul(dy, tf.exp(x))),
  fromInput(tf.Softmax, 'logits', (dy, logits, attrs) => {
    const { dim } = attrs as unknown as tf.SoftmaxAttrs;
    const y = tf.engine().runKernel(tf.Softmax, { logits }, { dim }) as tf.Tensor;
    const dyTimesY = tf.mul(dy, y);
    return tf.sub(dyTimesY, tf.mul(tf.sum(dyTimesY, [dim], true), y));
  }),
];
