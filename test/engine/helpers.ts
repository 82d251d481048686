/** Shared helpers for the engine tests: seeded data, backend switching, error measures. */
import { tf } from '../../src/core/engine.js';

/** Seeded uniform numbers in [-1, 1) (mulberry32); `margin` pushes values away from 0 (kinks). */
export function randomValues(size: number, seed: number, margin = 0): Float32Array {
  let s = seed >>> 0;
  const out = new Float32Array(size);
  for (let i = 0; i < size; i++) {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = Math.imul(s ^ (s >>> 15), 1 | s);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    const u = (((t ^ (t >>> 14)) >>> 0) / 4294967296) * 2 - 1;
    out[i] = Math.sign(u) * (margin + Math.abs(u));
  }
  return out;
}

/** Runs `fn` with `backend` active (tensors cannot cross backends: pass arrays), then restores. */
export async function onBackend<T>(backend: 'wasm' | 'cpu', fn: () => T): Promise<T> {
  const previous = tf.getBackend();
  await tf.setBackend(backend);
  try {
    return fn();
  } finally {
    await tf.setBackend(previous);
  }
}

/** max |a - b| / max |b| (1 when b is all zeros and a is not). */
export function relError(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let diff = 0;
  let scale = 0;
  for (let i = 0; i < a.length; i++) {
    diff = Math.max(diff, Math.abs(a[i] - b[i]));
    scale = Math.max(scale, Math.abs(b[i]));
  }
  return scale === 0 ? (diff === 0 ? 0 : 1) : diff / scale;
}

/** Central differences of `f` at `values` for the given coordinates. */
export function finiteDifferences(
  f: (values: Float32Array) => number, values: Float32Array, coords: readonly number[], eps = 1e-2,
): number[] {
  return coords.map((i) => {
    const plus = values.slice();
    const minus = values.slice();
    plus[i] += eps;
    minus[i] -= eps;
    return (f(plus) - f(minus)) / (2 * eps);
  });
}

/** Live tensors and backend buffers (kernel intermediates are buffers, not tensors). */
export function memoryCounts(): { tensors: number; buffers: number } {
  return { tensors: tf.memory().numTensors, buffers: tf.engine().backend.numDataIds() };
}
