/**
 * Faster BatchMatMul and _FusedMatMul for the wasm backend. TF.js 4.22's wasm kernels use
 * XNNPACK only for one non-transposed product; transposed operands (every matMul gradient:
 * dy·Bᵀ and Aᵀ·dy) and batches fall back to a naive loop. [2048, 512]·[512, 256], min of 7 runs,
 * wasm SIMD, shared 2-core x86 VM:      plain   ·Bᵀ      Aᵀ·      4 batches of 512 rows
 *   TF.js kernel                         35 ms   428 ms   1696 ms  473 ms
 *   these wrappers                       19 ms    28 ms     40 ms   26 ms
 *
 * These wrappers transpose operands explicitly (the wasm Transpose kernel, < 1 ms here), fold
 * a shared right operand into the rows of the left one, and split other batches into single
 * products, so every product runs on XNNPACK; then they call the kernel they replace.
 */
import * as tf from '@tensorflow/tfjs';
import { type BackendWasm, disposeWasm, type KernelArgs, runWasm, type TensorInputs } from './wasmOps.js';

const NO_TRANSPOSE = { transposeA: false, transposeB: false };

/** `x` [...batch, R, C] as [batch, R, C], or [batch, C, R] when `transposed` (caller disposes). */
function batchedRows(wasm: BackendWasm, x: tf.TensorInfo, transposed: boolean): tf.TensorInfo {
  const [rows, cols] = x.shape.slice(-2);
  const x3 = runWasm(wasm, tf.Reshape, { x }, { shape: [-1, rows, cols] });
  if (!transposed) return x3;
  const t = runWasm(wasm, tf.Transpose, { x: x3 }, { perm: [0, 2, 1] });
  disposeWasm(wasm, x3);
  return t;
}

/** [...broadcast batch, M, N] for a [..., M, K] and b [..., K, N] (a3, b3: untransposed, 3-D). */
function outShape(a: tf.TensorInfo, b: tf.TensorInfo, a3: tf.TensorInfo, b3: tf.TensorInfo): number[] {
  const batchShape = tf.broadcast_util.assertAndGetBroadcastShape(a.shape.slice(0, -2), b.shape.slice(0, -2));
  return [...batchShape, a3.shape[1], b3.shape[2]];
}

/** Batch `i` of `x3` [batch, R, C] as [1, R, C] (batch 1 broadcasts). */
function batch(wasm: BackendWasm, x3: tf.TensorInfo, i: number): tf.TensorInfo {
  const [n, rows, cols] = x3.shape;
  return runWasm(wasm, tf.Slice, { x: x3 }, { begin: [n === 1 ? 0 : i, 0, 0], size: [1, rows, cols] });
}

function batchMatMul(original: tf.KernelFunc) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const { a, b } = inputs as TensorInputs<'a' | 'b'>;
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const a3 = batchedRows(wasm, a, transposeA); // [batchA, M, K]
    const b3 = batchedRows(wasm, b, transposeB); // [batchB, K, N]
    const [batchA, m, k] = a3.shape;
    const [batchB, , n] = b3.shape;
    let out: tf.TensorInfo;
    if (batchB === 1) {
      const rows = runWasm(wasm, tf.Reshape, { x: a3 }, { shape: [1, batchA * m, k] }); // [1, batchA·M, K]
      const product = original({ inputs: { a: rows, b: b3 }, backend, attrs: NO_TRANSPOSE }) as tf.TensorInfo;
      out = runWasm(wasm, tf.Reshape, { x: product }, { shape: outShape(a, b, a3, b3) });
      disposeWasm(wasm, rows, product);
    } else {
      out = wasm.makeOutput(outShape(a, b, a3, b3), 'float32');
      for (let i = 0; i < Math.max(batchA, batchB); i++) {
        const [ai, bi] = [batch(wasm, a3, i), batch(wasm, b3, i)];
        const product = original({ inputs: { a: ai, b: bi }, backend, attrs: NO_TRANSPOSE }) as tf.TensorInfo;
        // Heap views only now: allocations above may grow (and detach) the heap.
        wasm.typedArrayFromHeap(out).set(wasm.typedArrayFromHeap(product), i * m * n);
        disposeWasm(wasm, ai, bi, product);
      }
    }
    disposeWasm(wasm, a3, b3);
    return out;
  };
}

/** [N] filled with the single value of `bias` (which the kernel would add to column 0 only). */
function broadcastBias(wasm: BackendWasm, bias: tf.TensorInfo, n: number): tf.TensorInfo {
  const value = wasm.typedArrayFromHeap(bias)[0];
  const wide = wasm.makeOutput([n], 'float32');
  wasm.typedArrayFromHeap(wide).fill(value);
  return wide;
}

/**
 * _FusedMatMul with materialised transposes (its batches are left to the kernel), and a
 * size-1 bias broadcast to [N]: TF.js' kernel adds it to the first column only.
 */
function fusedMatMul(original: tf.KernelFunc) {
  return ({ inputs, backend, attrs }: KernelArgs): tf.TensorInfo => {
    const wasm = backend as BackendWasm;
    const { a, b, bias } = inputs as TensorInputs<'a' | 'b'> & { bias?: tf.TensorInfo };
    const { transposeA, transposeB } = attrs as unknown as tf.BatchMatMulAttrs;
    const a3 = batchedRows(wasm, a, transposeA); // [batchA, M, K]
    const b3 = batchedRows(wasm, b, transposeB); // [batchB, K, N]
    const n = b3.shape[2];
    const fullBias = bias && tf.util.sizeFromShape(bias.shape) === 1 && n > 1 ? broadcastBias(wasm, bias, n) : bias;
    const product = original({
      inputs: { ...inputs, a: a3, b: b3, bias: fullBias }, backend, attrs: { ...attrs, ...NO_TRANSPOSE },
    }) as tf.TensorInfo;
    const out = runWasm(wasm, tf.Reshape, { x: product }, { shape: outShape(a, b, a3, b3) });
    disposeWasm(wasm, a3, b3, product);
    if (fullBias && fullBias !== bias) disposeWasm(wasm, fullBias);
    return out;
  };
}

/** Wrappers around the registered wasm BatchMatMul and _FusedMatMul. */
export function matMulWasmKernels(): tf.KernelConfig[] {
  return ([[tf.BatchMatMul, batchMatMul], [tf._FusedMatMul, fusedMatMul]] as const).flatMap(([name, wrap]) => {
    const original = tf.getKernel(name, 'wasm');
    return original ? [{ kernelName: name, backendName: 'wasm', kernelFunc: wrap(original.kernelFunc) as tf.KernelFunc }] : [];
  });
}
