/*
 * 2-D convolutions (NHWC, filters [KH, KW, Ci, Co], no dilation) as im2col + sgemm, for
 * medsyn's wasm training kernels. The three passes are the same GEMM with different operands:
 *
 *   forward        y[M, Co]   = col[M, K] · w[K, Co]
 *   filter grad    dw[K, Co]  = colᵀ[K, M] · dy[M, Co]
 *   input grad     dcol[M, K] = dy[M, Co] · wᵀ[Co, K], then col2im adds dcol into dx
 *
 * with M = N·OH·OW output pixels and K = KH·KW·Ci taps. col is built (or scattered) in chunks of
 * `rows` output pixels so the scratch stays a few MB whatever the batch size.
 *
 * Each call covers the images [b0, b1) only, so threads can share one pass: forward and input
 * gradient write disjoint images; the filter gradient writes one partial dw per thread (summed after).
 */

#include "conv.h"

/* y[r][:] = max(y[r][:] + bias, 0) for `rows` rows of Co (ldy apart), as enabled by g (while the chunk is in cache). */
static void epilogue(const Geom *g, float *y, int rows) {
  const float *bias = g->bias ? (const float *)(long)g->bias : 0;
  int ldy = geom_ldy(g);
  if (!bias && !g->relu) return;
  for (long i = 0; i < (long)rows * ldy; i += ldy) {
    float *row = y + i;
    for (int c = 0; c < g->co; c++) {
      float v = bias ? row[c] + bias[c] : row[c];
      row[c] = g->relu && v < 0.0f ? 0.0f : v;
    }
  }
}

static inline void copy_floats(float *dst, const float *src, int n) {
  int c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, wasm_v128_load(src + c));
  for (; c < n; c++) dst[c] = src[c];
}

static inline void zero_floats(float *dst, int n) {
  int c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, wasm_f32x4_splat(0.0f));
  for (; c < n; c++) dst[c] = 0.0f;
}

static inline void add_floats(float *dst, const float *src, int n) {
  int c = 0;
  for (; c + 4 <= n; c += 4) wasm_v128_store(dst + c, wasm_f32x4_add(wasm_v128_load(dst + c), wasm_v128_load(src + c)));
  for (; c < n; c++) dst[c] += src[c];
}

/*
 * col[r][(u·KW + v)·Ci + c] = x[b, oy·sh + u − pt, ox·sw + v − pl, c] (0 outside) for pixels [p0, p0+rows).
 * The KW taps of one filter row are adjacent pixels of one x row, so away from the left/right border they
 * are one contiguous run of KW·Ci floats; pixel coordinates advance without divisions. (At 16 channels the
 * per-tap version cost as much as the product itself.)
 */
static void im2col(const Geom *g, const float *x, int p0, int rows, float *col) {
  int k = g->kh * g->kw * g->ci, run = g->kw * g->ci;
  int ox = p0 % g->ow, oy = (p0 / g->ow) % g->oh, b = p0 / (g->ow * g->oh);
  for (int r = 0; r < rows; r++) {
    float *dst = col + (long)r * k;
    int ix0 = ox * g->sw - g->pl;
    for (int u = 0; u < g->kh; u++, dst += run) {
      int iy = oy * g->sh + u - g->pt;
      if (iy < 0 || iy >= g->h) { zero_floats(dst, run); continue; }
      const float *src = x + (((long)b * g->h + iy) * g->w + ix0) * g->ci;
      if (ix0 >= 0 && ix0 + g->kw <= g->w) { copy_floats(dst, src, run); continue; }
      for (int v = 0; v < g->kw; v++) {
        int ix = ix0 + v;
        if (ix < 0 || ix >= g->w) zero_floats(dst + v * g->ci, g->ci);
        else copy_floats(dst + v * g->ci, src + v * g->ci, g->ci);
      }
    }
    if (++ox == g->ow) { ox = 0; if (++oy == g->oh) { oy = 0; b++; } }
  }
}

/* The adjoint of im2col: dx[…] += col[r][…] for pixels [p0, p0+rows) (same runs as im2col). */
static void col2im(const Geom *g, const float *col, int p0, int rows, float *dx) {
  int k = g->kh * g->kw * g->ci, run = g->kw * g->ci;
  int ox = p0 % g->ow, oy = (p0 / g->ow) % g->oh, b = p0 / (g->ow * g->oh);
  for (int r = 0; r < rows; r++) {
    const float *src = col + (long)r * k;
    int ix0 = ox * g->sw - g->pl;
    for (int u = 0; u < g->kh; u++, src += run) {
      int iy = oy * g->sh + u - g->pt;
      if (iy < 0 || iy >= g->h) continue;
      float *dst = dx + (((long)b * g->h + iy) * g->w + ix0) * g->ci;
      if (ix0 >= 0 && ix0 + g->kw <= g->w) { add_floats(dst, src, run); continue; }
      for (int v = 0; v < g->kw; v++) {
        int ix = ix0 + v;
        if (ix >= 0 && ix < g->w) add_floats(dst + v * g->ci, src + v * g->ci, g->ci);
      }
    }
    if (++ox == g->ow) { ox = 0; if (++oy == g->oh) { oy = 0; b++; } }
  }
}

/* True when col would equal x (1×1 taps, stride 1, no padding): the passes skip the copy. */
static int identity_col(const Geom *g) {
  return g->kh == 1 && g->kw == 1 && g->sh == 1 && g->sw == 1 && g->pt == 0 && g->pl == 0 &&
         g->oh == g->h && g->ow == g->w;
}

/* Floats of scratch the passes need for `g` (GEMM panels + one col chunk). */
__attribute__((export_name("conv_scratch"))) int conv_scratch(const Geom *g) {
  return sgemm_scratch() + g->rows * g->kh * g->kw * g->ci;
}

__attribute__((export_name("conv_forward"))) void conv_forward(
    const Geom *g, const float *x, const float *w, float *y, float *scratch) {
  int m = g->b1 * g->oh * g->ow, k = g->kh * g->kw * g->ci, ldy = geom_ldy(g);
  float *col = scratch + sgemm_scratch();
  for (int p0 = g->b0 * g->oh * g->ow; p0 < m; p0 += g->rows) {
    int rows = m - p0 < g->rows ? m - p0 : g->rows;
    const float *a = col;
    if (identity_col(g)) a = x + (long)p0 * k; else im2col(g, x, p0, rows, col);
    sgemm(rows, g->co, k, a, k, 1, w, g->co, 1, y + (long)p0 * ldy, ldy, 0.0f, scratch);
    epilogue(g, y + (long)p0 * ldy, rows);
  }
}

__attribute__((export_name("conv_backprop_filter"))) void conv_backprop_filter(
    const Geom *g, const float *x, const float *dy, float *dw, float *scratch) {
  int first = g->b0 * g->oh * g->ow, m = g->b1 * g->oh * g->ow, k = g->kh * g->kw * g->ci;
  float *col = scratch + sgemm_scratch();
  if (m == first) {
    for (long i = 0; i < (long)k * g->co; i++) dw[i] = 0.0f;
    return;
  }
  for (int p0 = first; p0 < m; p0 += g->rows) {
    int rows = m - p0 < g->rows ? m - p0 : g->rows;
    const float *a = col;
    if (identity_col(g)) a = x + (long)p0 * k; else im2col(g, x, p0, rows, col);
    /* A = colᵀ: A(i, p) = col[p·K + i] */
    sgemm(k, g->co, rows, a, 1, k, dy + (long)p0 * g->co, g->co, 1, dw, g->co, p0 == first ? 0.0f : 1.0f, scratch);
  }
}

__attribute__((export_name("conv_backprop_input"))) void conv_backprop_input(
    const Geom *g, const float *dy, const float *w, float *dx, float *scratch) {
  int first = g->b0 * g->oh * g->ow, m = g->b1 * g->oh * g->ow, k = g->kh * g->kw * g->ci;
  float *col = scratch + sgemm_scratch();
  if (identity_col(g)) { /* dx = dy · wᵀ directly */
    sgemm(m - first, k, g->co, dy + (long)first * g->co, g->co, 1, w, 1, g->co, dx + (long)first * k, k, 0.0f, scratch);
    return;
  }
  long image = (long)g->h * g->w * g->ci;
  for (long i = g->b0 * image; i < g->b1 * image; i++) dx[i] = 0.0f;
  for (int p0 = first; p0 < m; p0 += g->rows) {
    int rows = m - p0 < g->rows ? m - p0 : g->rows;
    /* B = wᵀ: B(p, j) = w[j·Co + p] */
    sgemm(rows, k, g->co, dy + (long)p0 * g->co, g->co, 1, w, 1, g->co, col, k, 0.0f, scratch);
    col2im(g, col, p0, rows, dx);
  }
}
