/*
 * Max and average pooling (NHWC, any window and stride, zero or more padding) for inference graphs that run
 * wholly in the module's memory (src/core/kernels/nativeGraph.ts: FID Inception's 3×3 pools). Padding never
 * contributes: a max is over the window's cells inside x, an average divides by how many cells are inside
 * (count_include_pad=False, as in FID Inception's pool branches). y's pixels are ldy floats apart, so a pool
 * can write its channels straight into a slice of a wider tensor (a concat's part).
 */
#include <wasm_simd128.h>

typedef struct {
  int n, h, w, c;   /* x [N, H, W, C] */
  int oh, ow;       /* y [N, OH, OW, ldy], channels [0, C) written */
  int kh, kw, sh, sw, pt, pl;
  int mode;         /* 0 max, 1 average over the cells inside x */
  int ldy;          /* floats between y's pixels (≥ C) */
} PoolGeom;

/* y for output rows [r0, r1) of the N·OH rows (threads split a pass by rows). */
__attribute__((export_name("pool2d"))) void pool2d(const PoolGeom *g, const float *x, float *y, int r0, int r1) {
  for (int r = r0; r < r1; r++) {
    int b = r / g->oh, oy = r % g->oh;
    int y0 = oy * g->sh - g->pt, y1 = y0 + g->kh;
    if (y0 < 0) y0 = 0;
    if (y1 > g->h) y1 = g->h;
    for (int ox = 0; ox < g->ow; ox++) {
      int x0 = ox * g->sw - g->pl, x1 = x0 + g->kw;
      if (x0 < 0) x0 = 0;
      if (x1 > g->w) x1 = g->w;
      float *dst = y + ((long)r * g->ow + ox) * g->ldy;
      const float *first = x + (((long)b * g->h + y0) * g->w + x0) * g->c;
      long row = (long)g->w * g->c;
      int c = 0;
      if (g->mode == 0) {
        for (; c + 4 <= g->c; c += 4) {
          v128_t acc = wasm_v128_load(first + c);
          for (int iy = 0; iy < y1 - y0; iy++)
            for (int ix = 0; ix < x1 - x0; ix++) acc = wasm_f32x4_pmax(acc, wasm_v128_load(first + iy * row + ix * g->c + c));
          wasm_v128_store(dst + c, acc);
        }
        for (; c < g->c; c++) {
          float acc = first[c];
          for (int iy = 0; iy < y1 - y0; iy++)
            for (int ix = 0; ix < x1 - x0; ix++) {
              float v = first[iy * row + ix * g->c + c];
              acc = v > acc ? v : acc;
            }
          dst[c] = acc;
        }
      } else {
        float count = (float)((y1 - y0) * (x1 - x0));
        v128_t countv = wasm_f32x4_splat(count);
        for (; c + 4 <= g->c; c += 4) {
          v128_t acc = wasm_f32x4_splat(0.0f);
          for (int iy = 0; iy < y1 - y0; iy++)
            for (int ix = 0; ix < x1 - x0; ix++) acc = wasm_f32x4_add(acc, wasm_v128_load(first + iy * row + ix * g->c + c));
          wasm_v128_store(dst + c, wasm_f32x4_div(acc, countv));
        }
        for (; c < g->c; c++) {
          float acc = 0.0f;
          for (int iy = 0; iy < y1 - y0; iy++)
            for (int ix = 0; ix < x1 - x0; ix++) acc += first[iy * row + ix * g->c + c];
          dst[c] = acc / count;
        }
      }
    }
  }
}
