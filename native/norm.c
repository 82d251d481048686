/*
 * Training-mode batch / instance normalisation over channels-last data, forward and gradient, for
 * medsyn's fused norm kernels (src/core/kernels/normKernels.ts). Data: `groups` blocks of `per`
 * pixels × `c` channels; one mean and (biased) variance per group and channel, accumulated in
 * float64 (two passes: the mean, then squared deviations from it). With c a multiple of 4 the
 * passes run 4 channels per SIMD vector; otherwise scalar.
 *
 *   y  = (x − μ)·γ/√(σ² + ε) + β
 *   dβ = Σ dy,  dγ = Σ dy·x̂,  dx = γ/√(σ² + ε) · (dy − Σ dy / P − x̂ · Σ dy·x̂ / P)
 */
#include <wasm_simd128.h>

/* acc[ch] += v[ch] for one pixel's c channels, in float64. */
static inline void add_row(double *acc, const float *v, int c) {
  int ch = 0;
  for (; ch + 4 <= c; ch += 4) {
    v128_t x = wasm_v128_load(v + ch);
    v128_t lo = wasm_f64x2_promote_low_f32x4(x);
    v128_t hi = wasm_f64x2_promote_low_f32x4(wasm_i32x4_shuffle(x, x, 2, 3, 0, 1));
    wasm_v128_store(acc + ch, wasm_f64x2_add(wasm_v128_load(acc + ch), lo));
    wasm_v128_store(acc + ch + 2, wasm_f64x2_add(wasm_v128_load(acc + ch + 2), hi));
  }
  for (; ch < c; ch++) acc[ch] += v[ch];
}

/*
 * Pixels are summed in float32 in blocks of this many before being added into the float64
 * accumulators: 4 lanes of float32 adds instead of 2 of float64, and a block's rounding error
 * (~BLOCK·2⁻²⁴ relative) stays far below the float32 output's.
 */
#define BLOCK 16

/* acc[ch] += Σ_p f(p, ch) over `per` pixels, f = x (mode 0), (x − m)² (mode 1), dy (2), dy·(x − m) (3). */
static void reduce(double *acc, const float *a, const float *b, const float *m, int per, int c, int mode, float *tmp) {
  for (int p0 = 0; p0 < per; p0 += BLOCK) {
    int p1 = p0 + BLOCK < per ? p0 + BLOCK : per;
    for (int ch = 0; ch < c; ch++) tmp[ch] = 0.0f;
    for (int p = p0; p < p1; p++) {
      const float *ra = a + (long)p * c, *rb = b + (long)p * c;
      int ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        v128_t va = wasm_v128_load(ra + ch), t;
        if (mode == 0) t = va;
        else if (mode == 2) t = va; /* a = dy */
        else {
          v128_t d = wasm_f32x4_sub(mode == 1 ? va : wasm_v128_load(rb + ch), wasm_v128_load(m + ch));
          t = mode == 1 ? wasm_f32x4_mul(d, d) : wasm_f32x4_mul(va, d);
        }
        wasm_v128_store(tmp + ch, wasm_f32x4_add(wasm_v128_load(tmp + ch), t));
      }
      for (; ch < c; ch++) {
        float va = ra[ch];
        if (mode == 1) { float d = va - m[ch]; tmp[ch] += d * d; }
        else if (mode == 3) tmp[ch] += va * (rb[ch] - m[ch]);
        else tmp[ch] += va;
      }
    }
    add_row(acc, tmp, c);
  }
}

/*
 * y, mean, var for x; scratch: 2c doubles + 2c floats (16-byte aligned). mean and var are written
 * per group (groups × c).
 */
__attribute__((export_name("norm_forward"))) void norm_forward(
    const float *x, int groups, int per, int c, const float *gamma, const float *beta, float eps,
    float *y, float *mean, float *var, double *scratch) {
  double *acc = scratch;
  float *tmp = (float *)(scratch + c), *m = tmp + c;
  float *scale = (float *)(scratch + c); /* reuses tmp once the reductions are done */
  for (int g = 0; g < groups; g++) {
    const float *xg = x + (long)g * per * c;
    float *yg = y + (long)g * per * c;
    for (int ch = 0; ch < c; ch++) acc[ch] = 0.0;
    reduce(acc, xg, xg, m, per, c, 0, tmp);
    for (int ch = 0; ch < c; ch++) m[ch] = (float)(acc[ch] / per), acc[ch] = 0.0;
    /* deviations from the float32 mean: the float64 correction Σ(x − m)/P is below float32 rounding */
    reduce(acc, xg, xg, m, per, c, 1, tmp);
    for (int ch = 0; ch < c; ch++) {
      double v = acc[ch] / per;
      mean[g * c + ch] = m[ch];
      var[g * c + ch] = (float)v;
      acc[ch] = gamma[ch] / __builtin_sqrt(v + (double)eps); /* acc now holds the scale, in float64 */
    }
    for (int ch = 0; ch < c; ch++) scale[ch] = (float)acc[ch];
    for (int p = 0; p < per; p++) {
      const float *r = xg + (long)p * c;
      float *o = yg + (long)p * c;
      int ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(r + ch), wasm_v128_load(m + ch));
        wasm_v128_store(o + ch, wasm_f32x4_add(wasm_f32x4_mul(d, wasm_v128_load(scale + ch)), wasm_v128_load(beta + ch)));
      }
      for (; ch < c; ch++) o[ch] = (r[ch] - m[ch]) * scale[ch] + beta[ch];
    }
  }
}

/*
 * dx, dgamma, dbeta (dgamma, dbeta: c, summed over groups); scratch: 4c doubles + 4c floats.
 */
__attribute__((export_name("norm_backward"))) void norm_backward(
    const float *dy, const float *x, int groups, int per, int c, const float *gamma, const float *mean,
    const float *var, float eps, float *dx, float *dgamma, float *dbeta, double *scratch) {
  double *sdy = scratch, *sdyx = scratch + c, *dg = scratch + 2 * c, *db = scratch + 3 * c;
  float *tmp = (float *)(scratch + 4 * c), *k = tmp + c, *a = k + c, *b = a + c;
  for (int ch = 0; ch < c; ch++) dg[ch] = 0.0, db[ch] = 0.0;
  for (int g = 0; g < groups; g++) {
    const float *dyg = dy + (long)g * per * c, *xg = x + (long)g * per * c, *m = mean + g * c;
    float *dxg = dx + (long)g * per * c;
    for (int ch = 0; ch < c; ch++) sdy[ch] = 0.0, sdyx[ch] = 0.0;
    reduce(sdy, dyg, xg, m, per, c, 2, tmp);
    reduce(sdyx, dyg, xg, m, per, c, 3, tmp); /* Σ dy·(x − μ) = Σ dy·x̂ / r */
    /* dx = k·dy − k·Σdy/P − (x − μ)·k·r·Σ dy·(x − μ)·r / P  =  k·dy + a + (x − μ)·b */
    for (int ch = 0; ch < c; ch++) {
      double r = 1.0 / __builtin_sqrt((double)var[g * c + ch] + (double)eps);
      double kk = gamma[ch] * r;
      dg[ch] += sdyx[ch] * r;
      db[ch] += sdy[ch];
      k[ch] = (float)kk;
      a[ch] = (float)(-kk * sdy[ch] / per);
      b[ch] = (float)(-kk * r * r * sdyx[ch] / per);
    }
    for (int p = 0; p < per; p++) {
      const float *rd = dyg + (long)p * c, *rx = xg + (long)p * c;
      float *o = dxg + (long)p * c;
      int ch = 0;
      for (; ch + 4 <= c; ch += 4) {
        v128_t d = wasm_f32x4_sub(wasm_v128_load(rx + ch), wasm_v128_load(m + ch));
        v128_t t = wasm_f32x4_add(wasm_f32x4_mul(wasm_v128_load(k + ch), wasm_v128_load(rd + ch)), wasm_v128_load(a + ch));
        wasm_v128_store(o + ch, wasm_f32x4_add(t, wasm_f32x4_mul(d, wasm_v128_load(b + ch))));
      }
      for (; ch < c; ch++) o[ch] = k[ch] * rd[ch] + a[ch] + (rx[ch] - m[ch]) * b[ch];
    }
  }
  for (int ch = 0; ch < c; ch++) dgamma[ch] = (float)dg[ch], dbeta[ch] = (float)db[ch];
}
