/**
 * The native module's two builds (scripts/build-wasm.sh): the portable SIMD128 one and the relaxed-SIMD one
 * (fused multiply-add in the GEMM micro-kernels), which nativeModule.ts loads where the engine has relaxed
 * SIMD. The conv and Fréchet tests exercise whichever build loaded; here both builds' float32 GEMM runs on
 * random odd shapes and every operand layout it has a path for, against a float64 product.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { NativeKernels, nativeKernels, nativeWasmCandidates, relaxedSimdAvailable } from '../../src/core/kernels/nativeModule.js';
import { randomValues } from './helpers.js';

type Sgemm = (m: number, n: number, k: number, a: number, rsa: number, csa: number, b: number, rsb: number, csb: number,
  c: number, ldc: number, beta: number, scratch: number) => void;

function load(relaxed: boolean): NativeKernels {
  const path = nativeWasmCandidates(relaxed).find((p) => fs.existsSync(p));
  assert.ok(path, `${relaxed ? 'medsyn-kernels-relaxed.wasm' : 'medsyn-kernels.wasm'} not found`);
  return new NativeKernels(fs.readFileSync(path), 1, relaxed);
}

test('Node 20 runs relaxed SIMD (behind V8\'s flag, which nativeModule.ts sets), so the FMA build loads', () => {
  assert.equal(relaxedSimdAvailable(), true);
  assert.equal(nativeKernels()?.relaxed, true);
});

/** C = A·B with A(i, p) = a[i·rsa + p·csa] and B(p, j) = b[p·rsb + j·csb], in float64. */
function reference(m: number, n: number, k: number, a: Float32Array, rsa: number, csa: number,
  b: Float32Array, rsb: number, csb: number): Float64Array {
  const c = new Float64Array(m * n);
  for (let i = 0; i < m; i++) {
    for (let j = 0; j < n; j++) {
      let s = 0;
      for (let p = 0; p < k; p++) s += a[i * rsa + p * csa]! * b[p * rsb + j * csb]!;
      c[i * n + j] = s;
    }
  }
  return c;
}

for (const relaxed of [false, true]) {
  test(`the ${relaxed ? 'relaxed-SIMD' : 'portable'} build's SGEMM matches a float64 product on random shapes and layouts`, () => {
    const nk = load(relaxed);
    const sgemm = (nk.exports as unknown as { sgemm: Sgemm }).sgemm;
    const scratchFloats = (nk.exports as unknown as { sgemm_scratch: () => number }).sgemm_scratch();
    // m, n, k straddle the 4×8 tile, KC 256, MC 192 and NC 384; layouts: row-major A (read in place),
    // column-major A (in place up to lda 256, packed beyond), strided A and transposed B (packed).
    const shapes: [number, number, number][] = [[1, 1, 1], [5, 9, 3], [37, 13, 300], [200, 390, 17], [7, 33, 520], [300, 20, 40]];
    for (const [s, [m, n, k]] of shapes.entries()) {
      for (const layout of ['rows', 'cols', 'strided'] as const) {
        const [rsa, csa] = layout === 'rows' ? [k, 1] : layout === 'cols' ? [1, m] : [2 * k, 2];
        const [rsb, csb] = s % 2 ? [n, 1] : [1, k];
        const a = randomValues(layout === 'strided' ? 2 * m * k : m * k, 7 * s + 1);
        const b = randomValues(k * n, 7 * s + 2);
        nk.reset();
        const aAt = nk.put(a);
        const bAt = nk.put(b);
        const cAt = nk.alloc(m * n);
        const scratchAt = nk.alloc(scratchFloats);
        sgemm(m, n, k, aAt, rsa, csa, bAt, rsb, csb, cAt, n, 0, scratchAt);
        const got = nk.f32(cAt, m * n);
        const want = reference(m, n, k, a, rsa, csa, b, rsb, csb);
        let err = 0;
        let norm = 0;
        for (let i = 0; i < m * n; i++) {
          err = Math.max(err, Math.abs(got[i]! - want[i]!));
          norm = Math.max(norm, Math.abs(want[i]!));
        }
        assert.ok(err <= 1e-5 * Math.max(norm, 1) * Math.sqrt(k), `${m}×${n}×${k} ${layout}: max error ${err} (max |C| ${norm})`);
      }
    }
  });
}
