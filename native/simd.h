/*
 * Multiply-add for the float32 GEMM micro-kernel: a·b + c. (native/linalg.c's float64 products keep a separate
 * multiply and add: they are bit-identical to the JS fallback of the Fréchet distance, so FID does not depend on
 * whether the module loaded.)
 *
 * Built twice (scripts/build-wasm.sh): with -mrelaxed-simd this is relaxed SIMD's f32x4.relaxed_madd,
 * which V8 lowers to one fused vfmadd on CPUs with FMA3 (the 4×8 SGEMM tile: 40 → 49 GFLOP/s per thread
 * on this project's AMD EPYC VM), else to a multiply and an add. Without it, the portable SIMD128 pair.
 * Relaxed madd may round once or twice depending on the CPU; both are within the kernels' 1e-4 tests.
 */
#ifndef MEDSYN_SIMD_H
#define MEDSYN_SIMD_H
#include <wasm_simd128.h>

static inline __attribute__((always_inline)) v128_t madd_f32x4(v128_t a, v128_t b, v128_t c) {
#ifdef __wasm_relaxed_simd__
  return __builtin_wasm_relaxed_madd_f32x4(a, b, c);
#else
  return wasm_f32x4_add(wasm_f32x4_mul(a, b), c);
#endif
}

#endif
