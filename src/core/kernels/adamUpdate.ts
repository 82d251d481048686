/**
 * One Adam update of one float32 parameter as a single kernel call (inputs p, m, v, g → outputs p′, m′, v′), for the
 * wasm and cpu backends. The composite in src/core/adam.ts costs ~10 tf ops per parameter per step (~670 Multiply,
 * ~330 Add, ~240 RealDiv calls on the U-Net step). On wasm the update runs as f32x4 SIMD straight on the heap
 * (heapSimd.ts: a JS loop there is slower than the composite's XNNPACK ops, ~23 vs ~15 ms for the U-Net's 1.9 M
 * parameters; SIMD ~6 ms), with the JS loop for the last (size mod 4) elements; on cpu as the JS loop.
 *
 * Same float32 results as the composite, bit for bit: each step of the loop is one of the composite's ops, rounded to
 * float32 (`Math.fround`) as that op's float32 output is. A sum, product, quotient or square root of two float32
 * values computed in float64 and rounded once to float32 is the correctly rounded float32 result, so this matches
 * IEEE float32 kernels (wasm/XNNPACK) and the cpu backend's float64-then-store kernels alike.
 *
 * Outputs are fresh buffers: backend buffers may be shared (Identity, Reshape), so inputs are never written.
 */
import * as tf from '@tensorflow/tfjs';
import { heapSimd } from './heapSimd.js';
import type { BackendWasm, KernelArgs, TensorInputs } from './wasmOps.js';

export const ADAM_UPDATE = 'MedsynAdamUpdate';

/** Hyper-parameters of one step, as the composite makes its scalars (each rounded to float32 there and here). */
export interface AdamUpdateAttrs {
  readonly beta1: number;
  readonly beta2: number;
  readonly epsilon: number;
  /** lr / (1 − β₁ᵗ) */
  readonly stepSize: number;
  /** √(1 − β₂ᵗ) */
  readonly sqrtBiasCorrection2: number;
}

type Inputs = TensorInputs<'p' | 'm' | 'v' | 'g'>;

/** The update's float32 constants, each rounded as the composite's tf.scalar rounds it. */
function constants(a: AdamUpdateAttrs) {
  const f = Math.fround;
  return {
    b1: f(a.beta1), c1: f(1 - a.beta1), b2: f(a.beta2), c2: f(1 - a.beta2), eps: f(a.epsilon),
    alpha: f(a.stepSize), bc2: f(a.sqrtBiasCorrection2),
  };
}

/** The update of elements [from, p.length). */
function adamLoop(p: Float32Array, m: Float32Array, v: Float32Array, g: Float32Array,
  pOut: Float32Array, mOut: Float32Array, vOut: Float32Array, a: AdamUpdateAttrs, from = 0): void {
  const f = Math.fround;
  const { b1, c1, b2, c2, eps, alpha, bc2 } = constants(a);
  const n = p.length;
  for (let i = from; i < n; i++) {
    const gi = g[i]!;
    const mi = f(f(m[i]! * b1) + f(gi * c1));
    const vi = f(f(v[i]! * b2) + f(f(gi * gi) * c2));
    const denom = f(f(f(Math.sqrt(vi)) / bc2) + eps);
    mOut[i] = mi;
    vOut[i] = vi;
    pOut[i] = p[i]! - f(alpha * f(mi / denom));
  }
}

function checkInputs({ p, m, v, g }: Inputs): void {
  for (const t of [m, v, g]) {
    if (!tf.util.arraysEqual(t.shape, p.shape)) throw new Error(`${ADAM_UPDATE}: shape ${t.shape} vs parameter ${p.shape}`);
  }
  for (const t of [p, m, v, g]) {
    if (t.dtype !== 'float32') throw new Error(`${ADAM_UPDATE}: float32 only, got ${t.dtype}`);
  }
}

function wasmAdam(args: KernelArgs): tf.TensorInfo[] {
  const inputs = args.inputs as Inputs;
  checkInputs(inputs);
  const backend = args.backend as BackendWasm;
  const shape = inputs.p.shape;
  // Allocate first: a new output can grow the wasm memory, which detaches heap views taken before it.
  const outs = [backend.makeOutput(shape, 'float32'), backend.makeOutput(shape, 'float32'), backend.makeOutput(shape, 'float32')];
  const attrs = args.attrs as unknown as AdamUpdateAttrs;
  const heap = (t: tf.TensorInfo) => backend.typedArrayFromHeap(t) as Float32Array;
  const simd = heapSimd(backend);
  // SIMD on groups of four straight on the heap, the JS loop on the rest (or on all where SIMD is unavailable).
  const vectorized = simd ? tf.util.sizeFromShape(shape) & ~3 : 0;
  if (simd && vectorized > 0) {
    const at = (t: tf.TensorInfo) => backend.dataIdMap.get(t.dataId)!.memoryOffset;
    const c = constants(attrs);
    simd.adam(at(inputs.p), at(inputs.m), at(inputs.v), at(inputs.g), at(outs[0]!), at(outs[1]!), at(outs[2]!),
      4 * vectorized, c.b1, c.c1, c.b2, c.c2, c.eps, c.alpha, c.bc2);
  }
  adamLoop(heap(inputs.p), heap(inputs.m), heap(inputs.v), heap(inputs.g), heap(outs[0]!), heap(outs[1]!), heap(outs[2]!),
    attrs, vectorized);
  return outs;
}

function cpuAdam(args: KernelArgs): tf.TensorInfo[] {
  const inputs = args.inputs as Inputs;
  checkInputs(inputs);
  const backend = args.backend as tf.KernelBackend;
  const shape = inputs.p.shape;
  const size = tf.util.sizeFromShape(shape);
  const outs = [new Float32Array(size), new Float32Array(size), new Float32Array(size)] as const;
  const read = (t: tf.TensorInfo) => backend.readSync(t.dataId) as Float32Array;
  adamLoop(read(inputs.p), read(inputs.m), read(inputs.v), read(inputs.g), outs[0], outs[1], outs[2],
    args.attrs as unknown as AdamUpdateAttrs);
  return outs.map((values) => ({ dataId: backend.write(values, shape, 'float32'), shape, dtype: 'float32' as const }));
}

export function adamUpdateKernel(backendName: 'cpu' | 'wasm'): tf.KernelConfig {
  const kernelFunc = backendName === 'wasm' ? wasmAdam : cpuAdam;
  return { kernelName: ADAM_UPDATE, backendName, kernelFunc: kernelFunc as tf.KernelFunc };
}
