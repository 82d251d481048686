/*
 * tanh and its gradient for medsyn's wasm kernels (actKernels.ts), 4 lanes per SIMD vector with a scalar tail:
 *
 *   tanh      y = tanh x                    (Eigen's rational approximation, ≤ 3.6e-7 from Math.tanh; ±1 beyond ±7.9)
 *   tanh'     dx = dy·(1 − tanh² x)
 */
#include <wasm_simd128.h>

/* Eigen's generic_fast_tanh_float: x·P(x²)/Q(x²), x clamped to ±7.90531110763549805 (tanh rounds to ±1 there). */
#define TANH_CLAMP 7.90531110763549805f
#define TANH_TINY 0.0004f
static const float A1 = 4.89352455891786e-03f, A3 = 6.37261928875436e-04f, A5 = 1.48572235717979e-05f,
                   A7 = 5.12229709037114e-08f, A9 = -8.60467152213735e-11f, A11 = 2.00018790482477e-13f,
                   A13 = -2.76076847742355e-16f;
static const float B0 = 4.89352518554385e-03f, B2 = 2.26843463243900e-03f, B4 = 1.18534705686654e-04f,
                   B6 = 1.19825839466702e-06f;

static inline v128_t tanh_vec(v128_t x0) {
  v128_t x = wasm_f32x4_pmax(wasm_f32x4_splat(-TANH_CLAMP), wasm_f32x4_pmin(wasm_f32x4_splat(TANH_CLAMP), x0));
  v128_t x2 = wasm_f32x4_mul(x, x);
  v128_t p = wasm_f32x4_splat(A13);
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A11));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A9));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A7));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A5));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A3));
  p = wasm_f32x4_add(wasm_f32x4_mul(p, x2), wasm_f32x4_splat(A1));
  p = wasm_f32x4_mul(p, x);
  v128_t q = wasm_f32x4_splat(B6);
  q = wasm_f32x4_add(wasm_f32x4_mul(q, x2), wasm_f32x4_splat(B4));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, x2), wasm_f32x4_splat(B2));
  q = wasm_f32x4_add(wasm_f32x4_mul(q, x2), wasm_f32x4_splat(B0));
  v128_t t = wasm_f32x4_div(p, q);
  /* tiny |x|: tanh x = x to float32 precision (and keeps −0 and the sign of subnormals) */
  v128_t tiny = wasm_f32x4_lt(wasm_f32x4_abs(x0), wasm_f32x4_splat(TANH_TINY));
  t = wasm_v128_bitselect(x0, t, tiny);
  /* NaN in, NaN out (pmin/pmax would have clamped it) */
  return wasm_v128_bitselect(x0, t, wasm_f32x4_ne(x0, x0));
}

static float tanh_scalar(float x) {
  float r[4] = {x, x, x, x};
  wasm_v128_store(r, tanh_vec(wasm_v128_load(r)));
  return r[0];
}

__attribute__((export_name("act_tanh"))) void act_tanh(const float *x, int n, float *y) {
  int i = 0;
  for (; i + 4 <= n; i += 4) wasm_v128_store(y + i, tanh_vec(wasm_v128_load(x + i)));
  for (; i < n; i++) y[i] = tanh_scalar(x[i]);
}

__attribute__((export_name("act_tanh_grad"))) void act_tanh_grad(const float *dy, const float *x, int n, float *dx) {
  v128_t one = wasm_f32x4_splat(1.0f);
  int i = 0;
  for (; i + 4 <= n; i += 4) {
    v128_t t = tanh_vec(wasm_v128_load(x + i));
    wasm_v128_store(dx + i, wasm_f32x4_mul(wasm_v128_load(dy + i), wasm_f32x4_sub(one, wasm_f32x4_mul(t, t))));
  }
  for (; i < n; i++) {
    float t = tanh_scalar(x[i]);
    dx[i] = dy[i] * (1.0f - t * t);
  }
}
