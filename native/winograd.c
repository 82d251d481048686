/*
 * Stride-1 3×3 convolutions (NHWC, any padding) by Winograd's minimal filtering F(2×2, 3×3) (Lavin & Gray,
 * "Fast Algorithms for Convolutional Neural Networks", CVPR 2016). A 2×2 output tile over the 4×4 input
 * tile d is Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A: 16 multiplies per tile and channel pair instead of 36 (2.25× fewer).
 * Summed over input channels, the ⊙ becomes 16 GEMMs, one per transformed position ξ:
 *
 *   U[ξ] = (G g Gᵀ)[ξ]   [Ci, Co]   filter transform, once per call (winograd_filter; packed for the GEMM)
 *   V[ξ] = (Bᵀ d B)[ξ]   [T, Ci]    input transform of a block of T tiles
 *   M[ξ] = V[ξ] · U[ξ]   [T, Co]    sgemm_packed (V read in place)
 *   y    = Aᵀ M A (+ bias, ReLU)     output transform, 2×2 pixels per tile
 *
 *   Bᵀ = | 1  0 −1  0 |    G = | 1    0    0  |    Aᵀ = | 1  1  1  0 |
 *        | 0  1  1  0 |        | ½    ½    ½  |         | 0  1 −1 −1 |
 *        | 0 −1  1  0 |        | ½   −½    ½  |
 *        | 0  1  0 −1 |        | 0    0    1  |
 *
 * The transforms add and subtract only (G's halves are folded into U once), four channels per SIMD vector.
 * Rounding: F(2×2, 3×3)'s transforms have entries 0, ±½, ±1, so its error stays within a few ulps of the
 * direct sum's (Lavin & Gray, section 5; the tests compare with the cpu backend at 1e-4).
 * Each call covers the images [b0, b1) of g, like conv_forward, so threads split a pass by images.
 */
#include "conv.h"

#define POS 16 /* transformed positions ξ of a 4×4 tile */

/* Tiles per block: V and M take 16·T·(Ci + Co) floats, kept to ~512 KB (L2) but ≥ 64 tiles for the GEMM. */
static int block_tiles(const Geom *g) {
  int t = 8192 / (g->ci + g->co);
  if (t < 64) t = 64;
  if (t > 256) t = 256;
  return t & ~3;
}

__attribute__((export_name("winograd_filter_floats"))) int winograd_filter_floats(int ci, int co) {
  return POS * sgemm_packed_floats(ci, co);
}

/*
 * Floats between the blocks of consecutive positions ξ in V and M: a whole block plus one cache line, so the
 * 16 positions a tile's transform touches do not all fall in one L1 set (with power-of-two blocks they did:
 * 16 → 16 and 32 → 32 channels ran 10–15 % slower than im2col instead of faster).
 */
#define SKEW 16
static long v_stride(const Geom *g) { return (long)block_tiles(g) * g->ci + SKEW; }
static long m_stride(const Geom *g) { return (long)block_tiles(g) * g->co + SKEW; }

__attribute__((export_name("winograd_scratch"))) int winograd_scratch(const Geom *g) {
  return sgemm_scratch() + POS * (int)(v_stride(g) + m_stride(g));
}

/*
 * u[ξ] = pack((G g Gᵀ)[ξ]) for w [3, 3, Ci, Co] (HWIO): position (i, j) of the 4×4 transform is
 * Σ_{a,b} G[i][a]·G[j][b]·w[a][b], a combination of the 9 taps computed over all Ci·Co at once.
 * scratch: Ci·Co floats (one unpacked position).
 */
__attribute__((export_name("winograd_filter"))) void winograd_filter(
    const float *w, int ci, int co, float *u, float *scratch) {
  static const float G[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
  long taps = (long)ci * co;
  int packed = sgemm_packed_floats(ci, co);
  for (int i = 0; i < 4; i++) {
    for (int j = 0; j < 4; j++) {
      float coef[9];
      for (int a = 0; a < 3; a++) for (int b = 0; b < 3; b++) coef[a * 3 + b] = G[i][a] * G[j][b];
      for (long e = 0; e < taps; e++) scratch[e] = 0.0f;
      for (int t = 0; t < 9; t++) {
        if (coef[t] == 0.0f) continue;
        const float *src = w + t * taps;
        v128_t c = wasm_f32x4_splat(coef[t]);
        long e = 0;
        for (; e + 4 <= taps; e += 4)
          wasm_v128_store(scratch + e, wasm_f32x4_add(wasm_v128_load(scratch + e), wasm_f32x4_mul(c, wasm_v128_load(src + e))));
        for (; e < taps; e++) scratch[e] += coef[t] * src[e];
      }
      sgemm_pack_b(co, ci, scratch, co, 1, u + (long)(i * 4 + j) * packed);
    }
  }
}

/*
 * Up to 4 floats as a vector (zero beyond n), and back. Lane by lane rather than through a float[4]: locals
 * whose address is taken live on the module's shadow stack, which the worker-thread instances share (a race).
 */
static inline v128_t load_part(const float *src, int n) {
  switch (n) {
    case 1: return wasm_f32x4_make(src[0], 0.0f, 0.0f, 0.0f);
    case 2: return wasm_f32x4_make(src[0], src[1], 0.0f, 0.0f);
    case 3: return wasm_f32x4_make(src[0], src[1], src[2], 0.0f);
    default: return wasm_v128_load(src);
  }
}

static inline void store_part(float *dst, v128_t v, int n) {
  if (n >= 4) { wasm_v128_store(dst, v); return; }
  dst[0] = wasm_f32x4_extract_lane(v, 0);
  if (n > 1) dst[1] = wasm_f32x4_extract_lane(v, 1);
  if (n > 2) dst[2] = wasm_f32x4_extract_lane(v, 2);
}

/*
 * V[ξ][tile][c..c+4) = (Bᵀ d B)[ξ] for the 4×4 input tile at (iy0, ix0) of image b, 4 channels from c
 * (nc < 4 at the channel tail); rows/columns outside the image read as zeros (the padding).
 */
static inline void input_tile(const Geom *g, const float *x, int b, int iy0, int ix0, int c, int nc,
                              float *v, long vstride) {
  v128_t d[4][4];
  const v128_t zero = wasm_f32x4_splat(0.0f);
  int inside = iy0 >= 0 && iy0 + 4 <= g->h && ix0 >= 0 && ix0 + 4 <= g->w && nc == 4;
  for (int i = 0; i < 4; i++) {
    int iy = iy0 + i;
    const float *row = x + (((long)b * g->h + iy) * g->w + ix0) * g->ci + c;
    for (int j = 0; j < 4; j++) {
      if (inside) d[i][j] = wasm_v128_load(row + j * g->ci);
      else {
        int ix = ix0 + j;
        d[i][j] = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w ? load_part(row + j * g->ci, nc) : zero;
      }
    }
  }
  v128_t t[4][4];
  for (int j = 0; j < 4; j++) { /* t = Bᵀ d */
    t[0][j] = wasm_f32x4_sub(d[0][j], d[2][j]);
    t[1][j] = wasm_f32x4_add(d[1][j], d[2][j]);
    t[2][j] = wasm_f32x4_sub(d[2][j], d[1][j]);
    t[3][j] = wasm_f32x4_sub(d[1][j], d[3][j]);
  }
  for (int i = 0; i < 4; i++) { /* V = t B */
    v128_t r[4] = {
      wasm_f32x4_sub(t[i][0], t[i][2]), wasm_f32x4_add(t[i][1], t[i][2]),
      wasm_f32x4_sub(t[i][2], t[i][1]), wasm_f32x4_sub(t[i][1], t[i][3]),
    };
    for (int j = 0; j < 4; j++) store_part(v + (i * 4 + j) * vstride, r[j], nc);
  }
}

/*
 * y[b, oy0..oy0+2, ox0..ox0+2, o..o+4) = Aᵀ M A (+ bias, ReLU) from M[ξ][tile][o..o+4) (no < 4 at the channel
 * tail); pixels past the bottom/right edge (odd output sizes) are not written.
 */
static inline void output_tile(const Geom *g, const float *m, long mstride, int b, int oy0, int ox0, int o, int no,
                               float *y) {
  v128_t s[2][4];
  for (int j = 0; j < 4; j++) { /* s = Aᵀ M */
    v128_t m0 = load_part(m + j * mstride, no), m1 = load_part(m + (4 + j) * mstride, no);
    v128_t m2 = load_part(m + (8 + j) * mstride, no), m3 = load_part(m + (12 + j) * mstride, no);
    s[0][j] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
    s[1][j] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
  }
  const float *bias = g->bias ? (const float *)(long)g->bias : 0;
  v128_t bv = bias ? load_part(bias + o, no) : wasm_f32x4_splat(0.0f);
  for (int i = 0; i < 2; i++) {
    int oy = oy0 + i;
    if (oy >= g->oh) break;
    v128_t r[2] = {
      wasm_f32x4_add(wasm_f32x4_add(wasm_f32x4_add(s[i][0], s[i][1]), s[i][2]), bv),
      wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_sub(s[i][1], s[i][2]), s[i][3]), bv),
    };
    for (int j = 0; j < 2; j++) {
      int ox = ox0 + j;
      if (ox >= g->ow) break;
      v128_t v = g->relu ? wasm_f32x4_max(r[j], wasm_f32x4_splat(0.0f)) : r[j];
      store_part(y + (((long)b * g->oh + oy) * g->ow + ox) * g->co + o, v, no);
    }
  }
}

/* y = conv(x, w) for images [b0, b1) of g (3×3, stride 1), u = winograd_filter(w). */
__attribute__((export_name("conv_winograd"))) void conv_winograd(
    const Geom *g, const float *x, const float *u, float *y, float *scratch) {
  int th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2, per_image = th * tw;
  int tb = block_tiles(g), packed = sgemm_packed_floats(g->ci, g->co);
  long vstride = v_stride(g), mstride = m_stride(g);
  float *v = scratch + sgemm_scratch(); /* [16][tb][Ci] */
  float *m = v + POS * vstride;         /* [16][tb][Co] */
  long end = (long)g->b1 * per_image;
  for (long t0 = (long)g->b0 * per_image; t0 < end; t0 += tb) {
    int nb = end - t0 < tb ? (int)(end - t0) : tb;
    int b = (int)(t0 / per_image), ty = (int)(t0 % per_image) / tw, tx = (int)(t0 % per_image) % tw;
    for (int t = 0, by = b, y0 = ty, x0 = tx; t < nb; t++) {
      for (int c = 0; c < g->ci; c += 4) {
        input_tile(g, x, by, 2 * y0 - g->pt, 2 * x0 - g->pl, c, g->ci - c < 4 ? g->ci - c : 4,
                   v + (long)t * g->ci + c, vstride);
      }
      if (++x0 == tw) { x0 = 0; if (++y0 == th) { y0 = 0; by++; } }
    }
    for (int p = 0; p < POS; p++) {
      sgemm_packed(nb, g->co, g->ci, v + p * vstride, g->ci, 1, u + (long)p * packed, m + p * mstride, g->co, 0.0f,
                   scratch);
    }
    for (int t = 0, by = b, y0 = ty, x0 = tx; t < nb; t++) {
      for (int o = 0; o < g->co; o += 4) {
        output_tile(g, m + (long)t * g->co + o, mstride, by, 2 * y0, 2 * x0, o, g->co - o < 4 ? g->co - o : 4, y);
      }
      if (++x0 == tw) { x0 = 0; if (++y0 == th) { y0 = 0; by++; } }
    }
  }
}

/*
 * The filter gradient by the same transform. y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is linear in g, so its adjoint is
 *   dg = Gᵀ [ Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B) ] G
 * with dy the tile's 2×2 output gradient (zero past the edges). Summed over tiles, per position ξ a GEMM
 *   D[ξ] [Ci, Co] += V[ξ]ᵀ [Ci, T] · Q[ξ] [T, Co],   Q = A dy Aᵀ,  A = | 1  0 |
 *                                                                    | 1  1 |
 *                                                                    | 1 −1 |
 *                                                                    | 0 −1 |
 * conv_winograd_filter_grad writes this call's D (images [b0, b1): one partial per thread, summed after);
 * winograd_filter_grad_finish turns the summed D into dw [3, 3, Ci, Co] (HWIO).
 */

/* Tiles per block here: the reduction length of the GEMMs, so longer than the forward's (≥ 128). */
static int grad_block_tiles(const Geom *g) {
  int t = 16384 / (g->ci + g->co);
  if (t < 128) t = 128;
  if (t > 256) t = 256;
  return t & ~3;
}
static long gv_stride(const Geom *g) { return (long)grad_block_tiles(g) * g->ci + SKEW; }
static long gq_stride(const Geom *g) { return (long)grad_block_tiles(g) * g->co + SKEW; }

__attribute__((export_name("winograd_grad_scratch"))) int winograd_grad_scratch(const Geom *g) {
  return sgemm_scratch() + POS * (int)(gv_stride(g) + gq_stride(g));
}

/* Q[ξ][tile][o..o+4) = (A dy Aᵀ)[ξ] for the 2×2 dy tile at (oy0, ox0) of image b (no < 4 at the channel tail). */
static inline void grad_tile(const Geom *g, const float *dy, int b, int oy0, int ox0, int o, int no,
                             float *q, long qstride) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t d[2][2];
  for (int i = 0; i < 2; i++) {
    for (int j = 0; j < 2; j++) {
      int oy = oy0 + i, ox = ox0 + j;
      d[i][j] = oy < g->oh && ox < g->ow ? load_part(dy + (((long)b * g->oh + oy) * g->ow + ox) * g->co + o, no) : zero;
    }
  }
  v128_t r[4][2];
  for (int j = 0; j < 2; j++) { /* r = A d */
    r[0][j] = d[0][j];
    r[1][j] = wasm_f32x4_add(d[0][j], d[1][j]);
    r[2][j] = wasm_f32x4_sub(d[0][j], d[1][j]);
    r[3][j] = wasm_f32x4_neg(d[1][j]);
  }
  for (int i = 0; i < 4; i++) { /* Q = r Aᵀ */
    v128_t row[4] = {
      r[i][0], wasm_f32x4_add(r[i][0], r[i][1]), wasm_f32x4_sub(r[i][0], r[i][1]), wasm_f32x4_neg(r[i][1]),
    };
    for (int j = 0; j < 4; j++) store_part(q + (i * 4 + j) * qstride, row[j], no);
  }
}

/* d: [16][Ci][Co] (no packing), this call's Σ over the tiles of images [b0, b1). */
__attribute__((export_name("conv_winograd_filter_grad"))) void conv_winograd_filter_grad(
    const Geom *g, const float *x, const float *dy, float *d, float *scratch) {
  int th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2, per_image = th * tw;
  int tb = grad_block_tiles(g);
  long vstride = gv_stride(g), qstride = gq_stride(g), taps = (long)g->ci * g->co;
  float *v = scratch + sgemm_scratch(); /* [16][tb][Ci] */
  float *q = v + POS * vstride;         /* [16][tb][Co] */
  long first = (long)g->b0 * per_image, end = (long)g->b1 * per_image;
  if (first == end) {
    for (long i = 0; i < POS * taps; i++) d[i] = 0.0f;
    return;
  }
  for (long t0 = first; t0 < end; t0 += tb) {
    int nb = end - t0 < tb ? (int)(end - t0) : tb;
    int b = (int)(t0 / per_image), ty = (int)(t0 % per_image) / tw, tx = (int)(t0 % per_image) % tw;
    for (int t = 0, by = b, y0 = ty, x0 = tx; t < nb; t++) {
      for (int c = 0; c < g->ci; c += 4) {
        input_tile(g, x, by, 2 * y0 - g->pt, 2 * x0 - g->pl, c, g->ci - c < 4 ? g->ci - c : 4,
                   v + (long)t * g->ci + c, vstride);
      }
      for (int o = 0; o < g->co; o += 4) {
        grad_tile(g, dy, by, 2 * y0, 2 * x0, o, g->co - o < 4 ? g->co - o : 4, q + (long)t * g->co + o, qstride);
      }
      if (++x0 == tw) { x0 = 0; if (++y0 == th) { y0 = 0; by++; } }
    }
    for (int p = 0; p < POS; p++) { /* A = V[ξ]ᵀ: A(c, t) = v[t·Ci + c] */
      sgemm(g->ci, g->co, nb, v + p * vstride, 1, g->ci, q + p * qstride, g->co, 1, d + p * taps, g->co,
            t0 == first ? 0.0f : 1.0f, scratch);
    }
  }
}

/* dw[a][b] = Σ_{i,j} G[i][a]·G[j][b]·d[i·4 + j], over all Ci·Co at once (d summed over threads). */
__attribute__((export_name("winograd_filter_grad_finish"))) void winograd_filter_grad_finish(
    const float *d, int ci, int co, float *dw) {
  long taps = (long)ci * co;
  for (int a = 0; a < 3; a++) {
    for (int b = 0; b < 3; b++) {
      float *out = dw + (a * 3 + b) * taps;
      for (long e = 0; e < taps; e++) out[e] = 0.0f;
      for (int i = 0; i < 4; i++) {
        float gi = i == 0 ? (a == 0 ? 1.0f : 0.0f) : i == 3 ? (a == 2 ? 1.0f : 0.0f) : (i == 2 && a == 1 ? -0.5f : 0.5f);
        if (gi == 0.0f) continue;
        for (int j = 0; j < 4; j++) {
          float gj = j == 0 ? (b == 0 ? 1.0f : 0.0f) : j == 3 ? (b == 2 ? 1.0f : 0.0f) : (j == 2 && b == 1 ? -0.5f : 0.5f);
          if (gj == 0.0f) continue;
          const float *src = d + (i * 4 + j) * taps;
          v128_t c = wasm_f32x4_splat(gi * gj);
          long e = 0;
          for (; e + 4 <= taps; e += 4)
            wasm_v128_store(out + e, wasm_f32x4_add(wasm_v128_load(out + e), wasm_f32x4_mul(c, wasm_v128_load(src + e))));
          for (; e < taps; e++) out[e] += gi * gj * src[e];
        }
      }
    }
  }
}
