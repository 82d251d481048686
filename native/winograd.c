/*
 * Convolutions by Winograd's minimal filtering F(m×m, r×r) (Lavin & Gray, "Fast Algorithms for Convolutional
 * Neural Networks", CVPR 2016). An m×m output tile over the α×α input tile d (α = m + r − 1) is
 * Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A: α² multiplies per tile and channel pair instead of m²r² (2.25× fewer for
 * F(2×2, 3×3), 4× for F(4×4, 3×3), 1.78× for F(2×2, 2×2), 2.8× for F(2×2, 5×5); 1-D F(2, r) / F(4, r) along one axis for
 * 1×r / r×1 kernels, 1.75× for r = 7). Summed over input channels the ⊙ becomes α² GEMMs, one per position ξ:
 *
 *   U[ξ] = (G g Gᵀ)[ξ]   [Ci, Co]   filter transform, once per call (winograd_filter_range; packed)
 *   V[ξ] = (Bᵀ d B)[ξ]   [T, Ci]    input transform of a block of T tiles
 *   M[ξ] = V[ξ] · U[ξ]   [T, Co]    sgemm_packed (V read in place)
 *   y    = Aᵀ M A (+ bias, ReLU)     output transform, 2×2 pixels per tile
 *
 *   r = 3:  Bᵀ = | 1  0 −1  0 |   G = | 1    0    0 |   Aᵀ = | 1  1  1  0 |
 *                | 0  1  1  0 |       | ½    ½    ½ |        | 0  1 −1 −1 |
 *                | 0 −1  1  0 |       | ½   −½    ½ |
 *                | 0  1  0 −1 |       | 0    0    1 |
 *   r = 2:  Bᵀ = | 1 −1  0 |      G = | 1  0 |          Aᵀ = | 1  1  0 |
 *                | 0  1  0 |          | 1  1 |               | 0  1  1 |
 *                | 0 −1  1 |          | 0  1 |
 *
 * Stride-1 3×3 convs use r = 3 directly. A 4×4 stride-2 conv (the DCGAN's every layer) is a 2×2 stride-1 conv
 * over its input's space-to-depth view (4·Ci channels, one per stride phase), so it runs with r = 2 and the
 * input read through that view (Geom.view = 1); its input gradient (the generator's transposed conv) is four
 * 2×2 stride-1 convs over dy, one per output phase, each writing every other pixel of dx (Geom.yph) with a
 * flipped, transposed quarter of the filter (FilterView.mode = 2). The transforms add and subtract only
 * (G's halves are folded into U once), four channels per SIMD vector.
 * Each call covers the images [b0, b1) of g, like conv_forward, so threads split a pass by images.
 */
#include "conv.h"

static int tile_side(const Geom *g) { return g->tile == 4 ? 4 : 2; }
/* 1-D kernels (1×r or r×1, FID Inception's 1×7 / 7×1 / 1×3 / 3×1): F(m, r) along one axis only. */
static int one_d(const Geom *g) { return g->kh == 1 || g->kw == 1; }
static int alpha(const Geom *g) { return (g->kh > g->kw ? g->kh : g->kw) + tile_side(g) - 1; }
static int positions(const Geom *g) { return one_d(g) ? alpha(g) : alpha(g) * alpha(g); }
/* Output pixels per tile along y and x. */
static int tile_rows(const Geom *g) { return g->kh == 1 ? 1 : tile_side(g); }
static int tile_cols(const Geom *g) { return g->kw == 1 ? 1 : tile_side(g); }

/* Tiles per block: V and M take α²·T·(Ci + Co) floats, kept to ~512 KB (L2) but ≥ 64 tiles for the GEMM. */
static int block_tiles(const Geom *g) {
  int t = 131072 / (positions(g) * (g->ci + g->co));
  if (t < 64) t = 64;
  if (t > 256) t = 256;
  return t & ~3;
}

/*
 * Floats between the blocks of consecutive positions ξ in V and M: a whole block plus one cache line, so the
 * positions a tile's transform touches do not all fall in one L1 set (with power-of-two blocks they did:
 * 16 → 16 and 32 → 32 channels ran 10–15 % slower than im2col instead of faster).
 */
#define SKEW 16
static long v_stride(const Geom *g) { return (long)block_tiles(g) * g->ci + SKEW; }
static long m_stride(const Geom *g) { return (long)block_tiles(g) * g->co + SKEW; }

__attribute__((export_name("winograd_scratch"))) int winograd_scratch(const Geom *g) {
  return sgemm_scratch() + positions(g) * (int)(v_stride(g) + m_stride(g));
}

/*
 * Up to 4 floats as a vector (zero beyond n), and back. Lane by lane rather than through a float[4], which
 * clang would keep on the module's shadow stack (in linear memory) instead of in registers.
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

/* ---------------------------------------------------------------------------------------------------------
 * Filter transform. The GEMM's B for position ξ is U[ξ] [K, N] (K input, N output channels of the virtual
 * conv); each virtual tap's [K, N] block comes from w as FilterView says.
 */
typedef struct {
  int r;       /* taps per side of the virtual conv (2, 3 or 5; the length of a 1-D kernel: 3 or 7) */
  int k, n;    /* the virtual conv's input and output channels */
  int mode;    /* 0: w [r, r, k, n] as is.
                  1: w [4, 4, k/4, n] (stride 2) as its phase view: virtual tap (u, v), channels
                     [(2a + b)·k/4, …) = w[2u + a, 2v + b].
                  2: w [4, 4, n, k] (stride 2), output phase (pa, pb) of its input gradient: virtual tap (u, v)
                     = w[2(1 − u) + pa, 2(1 − v) + pb] transposed. */
  int pa, pb;
  int m;       /* output tile side: 2, or 4 (r = 3, and r = 7 for 1-D kernels) */
  int d1;      /* 1: a 1-D kernel (1×r or r×1, mode 0): F(m, r) along its one axis */
} FilterView;

static int view_alpha(const FilterView *f) { return f->r + (f->m == 4 ? 4 : 2) - 1; }
static int view_positions(const FilterView *f) { return f->d1 ? view_alpha(f) : view_alpha(f) * view_alpha(f); }

/* Floats of the transformed, packed filter. */
__attribute__((export_name("winograd_filter_floats"))) int winograd_filter_floats(const FilterView *f) {
  return view_positions(f) * sgemm_packed_floats(f->k, f->n);
}

/*
 * 1-D F(2, 3), F(2, 7), F(4, 3) and F(4, 7) (scripts/winograd-matrices.py derives them, exactly, from the points
 * 0, ±1, ∞; 0, ±1, ±2, ±½, ∞; 0, ±1, ±2, ∞; 0, ±1, ±2, ±½, ±3/2, ∞, and checks them on random integers). The
 * larger entries cost rounding: F(2, 7) 2e-6 of max |y| against a float64 sum on Inception's 1×7 / 7×1 shapes
 * (im2col: 4e-7), F(4, 7) ~5e-6 (the script's comment); the tests hold them to 1e-4. F(4, r) (4 outputs per
 * tile: α/4 multiplies per output instead of α/2) runs where a forward pass has enough 4-pixel tiles.
 */
static const float BT4[4][4] = {{-1.0f, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 0.0f}, {0.0f, -1.0f, 1.0f, 0.0f}, {0.0f, -1.0f, 0.0f, 1.0f}};
static const float AT4[2][4] = {{1.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 1.0f, -1.0f, 1.0f}};
static const float G4[4][3] = {{-1.0f, 0.0f, 0.0f}, {1.0f / 2, 1.0f / 2, 1.0f / 2}, {1.0f / 2, -1.0f / 2, 1.0f / 2}, {0.0f, 0.0f, 1.0f}};
static const float BT8[8][8] = {
  {-1.0f, 0.0f, 21.0f / 4, 0.0f, -21.0f / 4, 0.0f, 1.0f, 0.0f}, {0.0f, 1.0f, 1.0f, -17.0f / 4, -17.0f / 4, 1.0f, 1.0f, 0.0f},
  {0.0f, -1.0f, 1.0f, 17.0f / 4, -17.0f / 4, -1.0f, 1.0f, 0.0f}, {0.0f, 1.0f / 2, 1.0f / 4, -5.0f / 2, -5.0f / 4, 2.0f, 1.0f, 0.0f},
  {0.0f, -1.0f / 2, 1.0f / 4, 5.0f / 2, -5.0f / 4, -2.0f, 1.0f, 0.0f}, {0.0f, 2.0f, 4.0f, -5.0f / 2, -5.0f, 1.0f / 2, 1.0f, 0.0f},
  {0.0f, -2.0f, 4.0f, 5.0f / 2, -5.0f, -1.0f / 2, 1.0f, 0.0f}, {0.0f, -1.0f, 0.0f, 21.0f / 4, 0.0f, -21.0f / 4, 0.0f, 1.0f}};
static const float AT8[2][8] = {{1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 1.0f / 2, -1.0f / 2, 1.0f}};
static const float G8[8][7] = {
  {-1.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f}, {-2.0f / 9, -2.0f / 9, -2.0f / 9, -2.0f / 9, -2.0f / 9, -2.0f / 9, -2.0f / 9},
  {-2.0f / 9, 2.0f / 9, -2.0f / 9, 2.0f / 9, -2.0f / 9, 2.0f / 9, -2.0f / 9},
  {1.0f / 90, 1.0f / 45, 2.0f / 45, 4.0f / 45, 8.0f / 45, 16.0f / 45, 32.0f / 45},
  {1.0f / 90, -1.0f / 45, 2.0f / 45, -4.0f / 45, 8.0f / 45, -16.0f / 45, 32.0f / 45},
  {32.0f / 45, 16.0f / 45, 8.0f / 45, 4.0f / 45, 2.0f / 45, 1.0f / 45, 1.0f / 90},
  {32.0f / 45, -16.0f / 45, 8.0f / 45, -4.0f / 45, 2.0f / 45, -1.0f / 45, 1.0f / 90}, {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f}};

static const float BT6_1D[6][6] = {
  {4.0f, 0.0f, -5.0f, 0.0f, 1.0f, 0.0f}, {0.0f, -4.0f, -4.0f, 1.0f, 1.0f, 0.0f},
  {0.0f, 4.0f, -4.0f, -1.0f, 1.0f, 0.0f}, {0.0f, -2.0f, -1.0f, 2.0f, 1.0f, 0.0f},
  {0.0f, 2.0f, -1.0f, -2.0f, 1.0f, 0.0f}, {0.0f, 4.0f, 0.0f, -5.0f, 0.0f, 1.0f}};
static const float AT6_1D[4][6] = {
  {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f}, {0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 0.0f}, {0.0f, 1.0f, 1.0f, 4.0f, 4.0f, 0.0f},
  {0.0f, 1.0f, -1.0f, 8.0f, -8.0f, 1.0f}};
static const float G6_1D[6][3] = {
  {1.0f / 4, 0.0f, 0.0f}, {-1.0f / 6, -1.0f / 6, -1.0f / 6}, {-1.0f / 6, 1.0f / 6, -1.0f / 6},
  {1.0f / 24, 1.0f / 12, 1.0f / 6}, {1.0f / 24, -1.0f / 12, 1.0f / 6}, {0.0f, 0.0f, 1.0f}};
static const float BT10[10][10] = {
  {9.0f / 4, 0.0f, -205.0f / 16, 0.0f, 273.0f / 16, 0.0f, -15.0f / 2, 0.0f, 1.0f, 0.0f},
  {0.0f, -9.0f / 4, -9.0f / 4, 169.0f / 16, 169.0f / 16, -13.0f / 2, -13.0f / 2, 1.0f, 1.0f, 0.0f},
  {0.0f, 9.0f / 4, -9.0f / 4, -169.0f / 16, 169.0f / 16, 13.0f / 2, -13.0f / 2, -1.0f, 1.0f, 0.0f},
  {0.0f, -9.0f / 8, -9.0f / 16, 49.0f / 8, 49.0f / 16, -7.0f, -7.0f / 2, 2.0f, 1.0f, 0.0f},
  {0.0f, 9.0f / 8, -9.0f / 16, -49.0f / 8, 49.0f / 16, 7.0f, -7.0f / 2, -2.0f, 1.0f, 0.0f},
  {0.0f, -9.0f / 2, -9.0f, 61.0f / 8, 61.0f / 4, -29.0f / 8, -29.0f / 4, 1.0f / 2, 1.0f, 0.0f},
  {0.0f, 9.0f / 2, -9.0f, -61.0f / 8, 61.0f / 4, 29.0f / 8, -29.0f / 4, -1.0f / 2, 1.0f, 0.0f},
  {0.0f, -3.0f / 2, -1.0f, 63.0f / 8, 21.0f / 4, -63.0f / 8, -21.0f / 4, 3.0f / 2, 1.0f, 0.0f},
  {0.0f, 3.0f / 2, -1.0f, -63.0f / 8, 21.0f / 4, 63.0f / 8, -21.0f / 4, -3.0f / 2, 1.0f, 0.0f},
  {0.0f, 9.0f / 4, 0.0f, -205.0f / 16, 0.0f, 273.0f / 16, 0.0f, -15.0f / 2, 0.0f, 1.0f}};
static const float AT10[4][10] = {
  {1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 1.0f, 0.0f},
  {0.0f, 1.0f, -1.0f, 2.0f, -2.0f, 1.0f / 2, -1.0f / 2, 3.0f / 2, -3.0f / 2, 0.0f},
  {0.0f, 1.0f, 1.0f, 4.0f, 4.0f, 1.0f / 4, 1.0f / 4, 9.0f / 4, 9.0f / 4, 0.0f},
  {0.0f, 1.0f, -1.0f, 8.0f, -8.0f, 1.0f / 8, -1.0f / 8, 27.0f / 8, -27.0f / 8, 1.0f}};
static const float G10[10][7] = {
  {4.0f / 9, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f},
  {8.0f / 45, 8.0f / 45, 8.0f / 45, 8.0f / 45, 8.0f / 45, 8.0f / 45, 8.0f / 45},
  {8.0f / 45, -8.0f / 45, 8.0f / 45, -8.0f / 45, 8.0f / 45, -8.0f / 45, 8.0f / 45},
  {2.0f / 315, 4.0f / 315, 8.0f / 315, 16.0f / 315, 32.0f / 315, 64.0f / 315, 128.0f / 315},
  {2.0f / 315, -4.0f / 315, 8.0f / 315, -16.0f / 315, 32.0f / 315, -64.0f / 315, 128.0f / 315},
  {-16.0f / 45, -8.0f / 45, -4.0f / 45, -2.0f / 45, -1.0f / 45, -1.0f / 90, -1.0f / 180},
  {-16.0f / 45, 8.0f / 45, -4.0f / 45, 2.0f / 45, -1.0f / 45, 1.0f / 90, -1.0f / 180},
  {-16.0f / 315, -8.0f / 105, -4.0f / 35, -6.0f / 35, -9.0f / 35, -27.0f / 70, -81.0f / 140},
  {-16.0f / 315, 8.0f / 105, -4.0f / 35, 6.0f / 35, -9.0f / 35, 27.0f / 70, -81.0f / 140},
  {0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 0.0f, 1.0f}};

/* F(2×2, 5×5): α = 6, the points and Bᵀ of F(4×4, 3×3) (input_tile6); scripts/winograd-matrices.py checks them. */
static const float G5[6][5] = {
  {1.0f / 4, 0.0f, 0.0f, 0.0f, 0.0f}, {-1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6, -1.0f / 6},
  {-1.0f / 6, 1.0f / 6, -1.0f / 6, 1.0f / 6, -1.0f / 6}, {1.0f / 24, 1.0f / 12, 1.0f / 6, 1.0f / 3, 2.0f / 3},
  {1.0f / 24, -1.0f / 12, 1.0f / 6, -1.0f / 3, 2.0f / 3}, {0.0f, 0.0f, 0.0f, 0.0f, 1.0f}};

/* G[i][a] of F(m, r) (see the top of the file; 1-D kernels use the tables above). */
static float g_coef(int m, int r, int i, int a) {
  if (r == 5) return G5[i][a];
  if (m == 4) { /* F(4, 3), Lavin & Gray's points 0, ±1, ±2, ∞ */
    static const float G6[6][3] = {
      {0.25f, 0, 0}, {-1.0f / 6, -1.0f / 6, -1.0f / 6}, {-1.0f / 6, 1.0f / 6, -1.0f / 6},
      {1.0f / 24, 1.0f / 12, 1.0f / 6}, {1.0f / 24, -1.0f / 12, 1.0f / 6}, {0, 0, 1}};
    return G6[i][a];
  }
  if (r == 3) {
    static const float G3[4][3] = {{1, 0, 0}, {0.5f, 0.5f, 0.5f}, {0.5f, -0.5f, 0.5f}, {0, 0, 1}};
    return G3[i][a];
  }
  static const float G2[3][2] = {{1, 0}, {1, 1}, {0, 1}};
  return G2[i][a];
}

/* Mode 1: the [k/4, n] block of w [4, 4, k/4, n] for virtual tap (u, v), phase p = 2a + b: w[2u + a, 2v + b]. */
static inline long phase_block(int u, int v, int p, long quarter) {
  return ((2 * u + (p >> 1)) * 4 + 2 * v + (p & 1)) * quarter;
}

/* dst[e] += c·src[e] for e < count. */
static void axpy(float *dst, const float *src, float c, long count) {
  v128_t cv = wasm_f32x4_splat(c);
  long e = 0;
  for (; e + 4 <= count; e += 4)
    wasm_v128_store(dst + e, wasm_f32x4_add(wasm_v128_load(dst + e), wasm_f32x4_mul(cv, wasm_v128_load(src + e))));
  for (; e < count; e++) dst[e] += c * src[e];
}

/*
 * u[ξ] = pack((G g Gᵀ)[ξ]): position (i, j) is Σ_{a,b} G[i][a]·G[j][b]·g[a][b], a combination of the r²
 * virtual taps over all K·N channel pairs at once. scratch: K·N floats (one unpacked position, laid out as
 * w's blocks are: [K, N] for modes 0 and 1, [N, K] for mode 2, which the packing transposes).
 * This call does positions [range & 0xffff, range >> 16), so threads can split a filter (convNative.ts).
 */
__attribute__((export_name("winograd_filter_range"))) void winograd_filter_range(
    const FilterView *f, const float *w, float *u, float *scratch, int range) {
  int r = f->r, a = view_alpha(f), m = f->m == 4 ? 4 : 2;
  long taps = (long)f->k * f->n;
  int packed = sgemm_packed_floats(f->k, f->n);
  for (int q = range & 0xffff; q < range >> 16; q++) {
    for (long e = 0; e < taps; e++) scratch[e] = 0.0f;
    if (f->d1) { /* u[q] = pack(Σ_t G[q][t]·w[t]) */
      for (int t = 0; t < r; t++) {
        float c = r == 7 ? (m == 4 ? G10[q][t] : G8[q][t]) : (m == 4 ? G6_1D[q][t] : G4[q][t]);
        if (c != 0.0f) axpy(scratch, w + t * taps, c, taps);
      }
      sgemm_pack_b(f->n, f->k, scratch, f->n, 1, u + (long)q * packed);
      continue;
    }
    int i = q / a, j = q % a;
    for (int tu = 0; tu < r; tu++) {
      for (int tv = 0; tv < r; tv++) {
        float c = g_coef(m, r, i, tu) * g_coef(m, r, j, tv);
        if (c == 0.0f) continue;
        if (f->mode == 0) {
          axpy(scratch, w + (tu * r + tv) * taps, c, taps);
        } else if (f->mode == 1) {
          long quarter = taps / 4;
          for (int p = 0; p < 4; p++) axpy(scratch + p * quarter, w + phase_block(tu, tv, p, quarter), c, quarter);
        } else {
          axpy(scratch, w + ((2 * (1 - tu) + f->pa) * 4 + 2 * (1 - tv) + f->pb) * taps, c, taps);
        }
      }
    }
    float *dst = u + (long)q * packed;
    if (f->mode == 2) sgemm_pack_b(f->n, f->k, scratch, 1, f->k, dst); /* B(p, j) = block[j·K + p] */
    else sgemm_pack_b(f->n, f->k, scratch, f->n, 1, dst);
  }
}

/* Positions of the transformed filter (α², or α for 1-D kernels): winograd_filter_range splits over them. */
__attribute__((export_name("winograd_positions"))) int winograd_positions(const FilterView *f) {
  return view_positions(f);
}

/* ---------------------------------------------------------------------------------------------------------
 * Input tiles: the α×α tile of x at virtual (b, iy0, ix0), 4 channels from virtual channel c.
 */
typedef struct {
  const float *origin; /* the tile's first element (possibly outside x: only dereferenced when inside) */
  long sy, sx;         /* floats between tile rows / columns */
  int rows, cols;      /* bit i: tile row / column i lies inside x */
} Window;

static inline Window window(const Geom *g, const float *x, int b, int iy0, int ix0, int c) {
  Window win;
  int a = alpha(g);
  if (!g->view) {
    win.origin = x + (((long)b * g->h + iy0) * g->w + ix0) * g->ci + c;
    win.sy = (long)g->w * g->ci;
    win.sx = g->ci;
    win.rows = win.cols = 0;
    for (int i = 0; i < a; i++) {
      if (iy0 + i >= 0 && iy0 + i < g->h) win.rows |= 1 << i;
      if (ix0 + i >= 0 && ix0 + i < g->w) win.cols |= 1 << i;
    }
  } else { /* stride-2 phase view of the real x [N, xh, xw, xc] */
    int phase = c / g->xc, cc = c % g->xc;
    int ry0 = 2 * iy0 + (phase >> 1) - g->xt, rx0 = 2 * ix0 + (phase & 1) - g->xl;
    win.origin = x + (((long)b * g->xh + ry0) * g->xw + rx0) * g->xc + cc;
    win.sy = 2L * g->xw * g->xc;
    win.sx = 2L * g->xc;
    win.rows = win.cols = 0;
    for (int i = 0; i < a; i++) {
      if (ry0 + 2 * i >= 0 && ry0 + 2 * i < g->xh) win.rows |= 1 << i;
      if (rx0 + 2 * i >= 0 && rx0 + 2 * i < g->xw) win.cols |= 1 << i;
    }
  }
  return win;
}

/* Element (i, j) of a tile window: nc channels, zeros outside x (the padding). */
static inline v128_t tile_at(const Window *win, int i, int j, int nc) {
  return (win->rows >> i & win->cols >> j & 1) ? load_part(win->origin + i * win->sy + j * win->sx, nc) : wasm_f32x4_splat(0.0f);
}

/* V[ξ][tile][c..c+nc) = (Bᵀ d B)[ξ]; elements outside x read as zeros (the padding). */
static inline void input_tile(const Geom *g, const float *x, int b, int iy0, int ix0, int c, int nc,
                              float *v, long vstride) {
  Window win = window(g, x, b, iy0, ix0, c);
  if (g->kh == 3) {
    v128_t d[4][4];
    #pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++)
      #pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) d[i][j] = tile_at(&win, i, j, nc);
    v128_t t[4][4];
    #pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) { /* t = Bᵀ d */
      t[0][j] = wasm_f32x4_sub(d[0][j], d[2][j]);
      t[1][j] = wasm_f32x4_add(d[1][j], d[2][j]);
      t[2][j] = wasm_f32x4_sub(d[2][j], d[1][j]);
      t[3][j] = wasm_f32x4_sub(d[1][j], d[3][j]);
    }
    #pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++) { /* V = t B */
      v128_t r[4] = {
        wasm_f32x4_sub(t[i][0], t[i][2]), wasm_f32x4_add(t[i][1], t[i][2]),
        wasm_f32x4_sub(t[i][2], t[i][1]), wasm_f32x4_sub(t[i][1], t[i][3]),
      };
      #pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) store_part(v + (i * 4 + j) * vstride, r[j], nc);
    }
  } else {
    v128_t d[3][3];
    #pragma clang loop unroll(full)
    for (int i = 0; i < 3; i++)
      #pragma clang loop unroll(full)
      for (int j = 0; j < 3; j++) d[i][j] = tile_at(&win, i, j, nc);
    v128_t t[3][3];
    #pragma clang loop unroll(full)
    for (int j = 0; j < 3; j++) { /* t = Bᵀ d */
      t[0][j] = wasm_f32x4_sub(d[0][j], d[1][j]);
      t[1][j] = d[1][j];
      t[2][j] = wasm_f32x4_sub(d[2][j], d[1][j]);
    }
    #pragma clang loop unroll(full)
    for (int i = 0; i < 3; i++) { /* V = t B */
      store_part(v + (i * 3) * vstride, wasm_f32x4_sub(t[i][0], t[i][1]), nc);
      store_part(v + (i * 3 + 1) * vstride, t[i][1], nc);
      store_part(v + (i * 3 + 2) * vstride, wasm_f32x4_sub(t[i][2], t[i][1]), nc);
    }
  }
}

/* Where virtual output pixel (b, oy, ox) goes, channel o, or 0 when it is outside y. */
static inline float *out_at(const Geom *g, float *y, int b, int oy, int ox, int o) {
  if (oy >= g->oh || ox >= g->ow) return 0;
  if (g->yph < 0) return y + (((long)b * g->oh + oy) * g->ow + ox) * geom_ldy(g) + o;
  int ry = 2 * oy + (g->yph >> 1), rx = 2 * ox + (g->yph & 1);
  if (ry >= g->yh || rx >= g->yw) return 0;
  return y + (((long)b * g->yh + ry) * g->yw + rx) * g->co + o;
}

/* Stores v (bias added), after ReLU when g says so, at virtual output pixel (b, oy, ox) unless it is outside y. */
static inline void put_pixel(const Geom *g, float *y, int b, int oy, int ox, int o, int no, v128_t v) {
  float *dst = out_at(g, y, b, oy, ox, o);
  if (dst) store_part(dst, g->relu ? wasm_f32x4_max(v, wasm_f32x4_splat(0.0f)) : v, no);
}

/* y tile = Aᵀ M A (+ bias, ReLU) from M[ξ][tile][o..o+no); pixels outside y are not written. */
static inline void output_tile(const Geom *g, const float *m, long mstride, int b, int oy0, int ox0, int o, int no,
                               float *y) {
  v128_t s[2][4];
  if (g->kh == 3) {
    #pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) { /* s = Aᵀ M */
      v128_t m0 = load_part(m + j * mstride, no), m1 = load_part(m + (4 + j) * mstride, no);
      v128_t m2 = load_part(m + (8 + j) * mstride, no), m3 = load_part(m + (12 + j) * mstride, no);
      s[0][j] = wasm_f32x4_add(wasm_f32x4_add(m0, m1), m2);
      s[1][j] = wasm_f32x4_sub(wasm_f32x4_sub(m1, m2), m3);
    }
  } else {
    #pragma clang loop unroll(full)
    for (int j = 0; j < 3; j++) {
      v128_t m0 = load_part(m + j * mstride, no), m1 = load_part(m + (3 + j) * mstride, no);
      v128_t m2 = load_part(m + (6 + j) * mstride, no);
      s[0][j] = wasm_f32x4_add(m0, m1);
      s[1][j] = wasm_f32x4_add(m1, m2);
    }
  }
  const float *bias = g->bias ? (const float *)(long)g->bias : 0;
  v128_t bv = bias ? load_part(bias + o, no) : wasm_f32x4_splat(0.0f);
  #pragma clang loop unroll(full)
  for (int i = 0; i < 2; i++) {
    v128_t r[2];
    if (g->kh == 3) {
      r[0] = wasm_f32x4_add(wasm_f32x4_add(s[i][0], s[i][1]), s[i][2]);
      r[1] = wasm_f32x4_sub(wasm_f32x4_sub(s[i][1], s[i][2]), s[i][3]);
    } else {
      r[0] = wasm_f32x4_add(s[i][0], s[i][1]);
      r[1] = wasm_f32x4_add(s[i][1], s[i][2]);
    }
    #pragma clang loop unroll(full)
    for (int j = 0; j < 2; j++) {
      put_pixel(g, y, b, oy0 + i, ox0 + j, o, no, wasm_f32x4_add(r[j], bv));
    }
  }
}

/*
 * F(4×4, 3×3) (α = 6; Lavin & Gray's points 0, ±1, ±2, ∞):
 *   Bᵀ = | 4  0 −5  0  1  0 |   Aᵀ = | 1  1  1  1  1  0 |
 *        | 0 −4 −4  1  1  0 |        | 0  1 −1  2 −2  0 |
 *        | 0  4 −4 −1  1  0 |        | 0  1  1  4  4  0 |
 *        | 0 −2 −1  2  1  0 |        | 0  1 −1  8 −8  1 |
 *        | 0  2 −1 −2  1  0 |
 *        | 0  4  0 −5  0  1 |   G in g_coef.
 * 36 multiplies per 16 outputs (F(2×2, 3×3): 16 per 4), at the price of larger transforms and of rounding
 * that grows with the points' magnitudes (tests: 1e-4 relative to cpu). Two passes through V keep register
 * pressure low: first t = Bᵀ d column by column into V, then each row of t through Bᵀ in place.
 */
static inline void bt6(v128_t i0, v128_t i1, v128_t i2, v128_t i3, v128_t i4, v128_t i5, v128_t *o) {
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), five = wasm_f32x4_splat(5.0f);
  v128_t a = wasm_f32x4_sub(i4, wasm_f32x4_mul(four, i2)); /* i4 − 4 i2 */
  v128_t b = wasm_f32x4_sub(i3, wasm_f32x4_mul(four, i1)); /* i3 − 4 i1 */
  v128_t c = wasm_f32x4_sub(i4, i2);                       /* i4 − i2 */
  v128_t d = wasm_f32x4_mul(two, wasm_f32x4_sub(i3, i1));  /* 2 (i3 − i1) */
  o[0] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, i0), wasm_f32x4_mul(five, i2)), i4);
  o[1] = wasm_f32x4_add(a, b);
  o[2] = wasm_f32x4_sub(a, b);
  o[3] = wasm_f32x4_add(c, d);
  o[4] = wasm_f32x4_sub(c, d);
  o[5] = wasm_f32x4_add(wasm_f32x4_sub(wasm_f32x4_mul(four, i1), wasm_f32x4_mul(five, i3)), i5);
}

static inline void input_tile6(const Geom *g, const float *x, int b, int iy0, int ix0, int c, int nc,
                               float *v, long vstride) {
  Window win = window(g, x, b, iy0, ix0, c);
#pragma clang loop unroll(full)
  for (int j = 0; j < 6; j++) { /* column j: t[:, j] = Bᵀ d[:, j] */
    v128_t d[6];
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; i++)
      d[i] = tile_at(&win, i, j, nc);
    v128_t t[6];
    bt6(d[0], d[1], d[2], d[3], d[4], d[5], t);
#pragma clang loop unroll(full)
    for (int i = 0; i < 6; i++) store_part(v + (i * 6 + j) * vstride, t[i], nc);
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < 6; i++) { /* row i: V[i, :] = t[i, :] B */
    float *row = v + i * 6 * vstride;
    v128_t r[6];
    bt6(load_part(row, nc), load_part(row + vstride, nc), load_part(row + 2 * vstride, nc),
        load_part(row + 3 * vstride, nc), load_part(row + 4 * vstride, nc), load_part(row + 5 * vstride, nc), r);
#pragma clang loop unroll(full)
    for (int j = 0; j < 6; j++) store_part(row + j * vstride, r[j], nc);
  }
}

/* o[0..4) = Aᵀ·(i0 … i5) of F(4, 3). */
static inline void at6(v128_t i0, v128_t i1, v128_t i2, v128_t i3, v128_t i4, v128_t i5, v128_t *o) {
  const v128_t two = wasm_f32x4_splat(2.0f), four = wasm_f32x4_splat(4.0f), eight = wasm_f32x4_splat(8.0f);
  v128_t s12 = wasm_f32x4_add(i1, i2), d12 = wasm_f32x4_sub(i1, i2);
  v128_t s34 = wasm_f32x4_add(i3, i4), d34 = wasm_f32x4_sub(i3, i4);
  o[0] = wasm_f32x4_add(wasm_f32x4_add(i0, s12), s34);
  o[1] = wasm_f32x4_add(d12, wasm_f32x4_mul(two, d34));
  o[2] = wasm_f32x4_add(s12, wasm_f32x4_mul(four, s34));
  o[3] = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_mul(eight, d34)), i5);
}

/* y 4×4 tile = Aᵀ M A (+ bias, ReLU) from M[ξ][tile][o..o+no) (α = 6); pixels outside y are not written. */
static inline void output_tile6(const Geom *g, const float *m, long mstride, int b, int oy0, int ox0, int o, int no,
                                float *y) {
  const float *bias = g->bias ? (const float *)(long)g->bias : 0;
  v128_t bv = bias ? load_part(bias + o, no) : wasm_f32x4_splat(0.0f);
  v128_t s[4][6]; /* s = Aᵀ M, column by column */
#pragma clang loop unroll(full)
  for (int j = 0; j < 6; j++) {
    v128_t col[4];
    at6(load_part(m + j * mstride, no), load_part(m + (6 + j) * mstride, no), load_part(m + (12 + j) * mstride, no),
        load_part(m + (18 + j) * mstride, no), load_part(m + (24 + j) * mstride, no), load_part(m + (30 + j) * mstride, no),
        col);
#pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++) s[i][j] = col[i];
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < 4; i++) {
    v128_t r[4];
    at6(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], r);
#pragma clang loop unroll(full)
    for (int j = 0; j < 4; j++) {
      put_pixel(g, y, b, oy0 + i, ox0 + j, o, no, wasm_f32x4_add(r[j], bv));
    }
  }
}

/* V[k][tile][c..c+nc) = Σ_j Bᵀ[k][j]·d[j] over the α pixels of a 1-D tile (along x when kh = 1, else y). */
#define ONE_D_INPUT(A, BT)                                                                                       \
  static inline void input_tile_1d_##A(const Geom *g, const float *x, int b, int iy0, int ix0, int c, int nc,      \
                                       float *v, long vstride) {                                                 \
    const v128_t zero = wasm_f32x4_splat(0.0f);                                                                  \
    int dy = g->kh == 1 ? 0 : 1, dx = 1 - dy;                                                                    \
    v128_t d[A];                                                                                                 \
    _Pragma("clang loop unroll(full)") for (int j = 0; j < A; j++) {                                             \
      int iy = iy0 + j * dy, ix = ix0 + j * dx;                                                                  \
      d[j] = iy >= 0 && iy < g->h && ix >= 0 && ix < g->w                                                        \
                 ? load_part(x + (((long)b * g->h + iy) * g->w + ix) * g->ci + c, nc) : zero;                    \
    }                                                                                                            \
    _Pragma("clang loop unroll(full)") for (int k = 0; k < A; k++) {                                             \
      v128_t acc = zero;                                                                                         \
      _Pragma("clang loop unroll(full)") for (int j = 0; j < A; j++) {                                           \
        if (BT[k][j] != 0.0f) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(BT[k][j]), d[j]));       \
      }                                                                                                          \
      store_part(v + k * vstride, acc, nc);                                                                      \
    }                                                                                                            \
  }
ONE_D_INPUT(4, BT4)
ONE_D_INPUT(8, BT8)
ONE_D_INPUT(6, BT6_1D)
ONE_D_INPUT(10, BT10)

/* The M output pixels of a 1-D tile: Σ_k Aᵀ[i][k]·M[k] (+ bias, ReLU). */
#define ONE_D_OUTPUT(A, M, AT)                                                                                    \
  static inline void output_tile_1d_##A(const Geom *g, const float *m, long mstride, int b, int oy0, int ox0,      \
                                        int o, int no, float *y) {                                               \
    const float *bias = g->bias ? (const float *)(long)g->bias : 0;                                              \
    v128_t bv = bias ? load_part(bias + o, no) : wasm_f32x4_splat(0.0f);                                         \
    int dy = g->kh == 1 ? 0 : 1, dx = 1 - dy;                                                                    \
    v128_t mv[A];                                                                                                \
    _Pragma("clang loop unroll(full)") for (int k = 0; k < A; k++) mv[k] = load_part(m + k * mstride, no);       \
    _Pragma("clang loop unroll(full)") for (int i = 0; i < M; i++) {                                             \
      v128_t acc = bv;                                                                                           \
      _Pragma("clang loop unroll(full)") for (int k = 0; k < A; k++) {                                           \
        if (AT[i][k] != 0.0f) acc = wasm_f32x4_add(acc, wasm_f32x4_mul(wasm_f32x4_splat(AT[i][k]), mv[k]));      \
      }                                                                                                          \
      put_pixel(g, y, b, oy0 + i * dy, ox0 + i * dx, o, no, acc);                                               \
    }                                                                                                            \
  }
ONE_D_OUTPUT(4, 2, AT4)
ONE_D_OUTPUT(8, 2, AT8)
ONE_D_OUTPUT(6, 4, AT6_1D)
ONE_D_OUTPUT(10, 4, AT10)

/* y 2×2 tile of F(2×2, 5×5) = Aᵀ M A with Aᵀ = [[1, 1, 1, 1, 1, 0], [0, 1, −1, 2, −2, 1]] (+ bias, ReLU). */
static inline void at6_2(v128_t i0, v128_t i1, v128_t i2, v128_t i3, v128_t i4, v128_t i5, v128_t *o) {
  v128_t s12 = wasm_f32x4_add(i1, i2), d12 = wasm_f32x4_sub(i1, i2);
  v128_t s34 = wasm_f32x4_add(i3, i4), d34 = wasm_f32x4_sub(i3, i4);
  o[0] = wasm_f32x4_add(wasm_f32x4_add(i0, s12), s34);
  o[1] = wasm_f32x4_add(wasm_f32x4_add(d12, wasm_f32x4_add(d34, d34)), i5);
}

static inline void output_tile6_2(const Geom *g, const float *m, long mstride, int b, int oy0, int ox0, int o, int no,
                                  float *y) {
  const float *bias = g->bias ? (const float *)(long)g->bias : 0;
  v128_t bv = bias ? load_part(bias + o, no) : wasm_f32x4_splat(0.0f);
  v128_t s[2][6];
#pragma clang loop unroll(full)
  for (int j = 0; j < 6; j++) {
    v128_t col[2];
    at6_2(load_part(m + j * mstride, no), load_part(m + (6 + j) * mstride, no), load_part(m + (12 + j) * mstride, no),
          load_part(m + (18 + j) * mstride, no), load_part(m + (24 + j) * mstride, no),
          load_part(m + (30 + j) * mstride, no), col);
    s[0][j] = col[0];
    s[1][j] = col[1];
  }
#pragma clang loop unroll(full)
  for (int i = 0; i < 2; i++) {
    v128_t r[2];
    at6_2(s[i][0], s[i][1], s[i][2], s[i][3], s[i][4], s[i][5], r);
#pragma clang loop unroll(full)
    for (int j = 0; j < 2; j++) {
      put_pixel(g, y, b, oy0 + i, ox0 + j, o, no, wasm_f32x4_add(r[j], bv));
    }
  }
}

/* Input transforms of tiles [t0, t0 + nb) (tile t0 = image b, tile row ty, column tx) into V. */
static void input_block(const Geom *g, const float *x, int nb, int b, int ty, int tx, float *v, long vstride) {
  int m = tile_side(g), tr = tile_rows(g), tc = tile_cols(g), th = (g->oh + tr - 1) / tr, tw = (g->ow + tc - 1) / tc;
  int a = alpha(g);
  for (int t = 0; t < nb; t++) {
    int iy0 = tr * ty - g->pt, ix0 = tc * tx - g->pl;
    for (int c = 0; c < g->ci; c += 4) {
      int nc = g->ci - c < 4 ? g->ci - c : 4;
      float *dst = v + (long)t * g->ci + c;
      if (one_d(g)) {
        if (a == 10) input_tile_1d_10(g, x, b, iy0, ix0, c, nc, dst, vstride);
        else if (a == 8) input_tile_1d_8(g, x, b, iy0, ix0, c, nc, dst, vstride);
        else if (a == 6) input_tile_1d_6(g, x, b, iy0, ix0, c, nc, dst, vstride);
        else input_tile_1d_4(g, x, b, iy0, ix0, c, nc, dst, vstride);
      } else if (a == 6) { /* F(4×4, 3×3) and F(2×2, 5×5) share the points and Bᵀ */
        input_tile6(g, x, b, iy0, ix0, c, nc, dst, vstride);
      } else {
        input_tile(g, x, b, iy0, ix0, c, nc, dst, vstride);
      }
    }
    if (++tx == tw) { tx = 0; if (++ty == th) { ty = 0; b++; } }
  }
}

/* y = conv(x, w) for images [b0, b1) of g, u = the transformed filter (winograd_filter_range over every position). */
__attribute__((export_name("conv_winograd"))) void conv_winograd(
    const Geom *g, const float *x, const float *u, float *y, float *scratch) {
  int ms = tile_side(g), tr = tile_rows(g), tc = tile_cols(g), a = alpha(g);
  int th = (g->oh + tr - 1) / tr, tw = (g->ow + tc - 1) / tc, per_image = th * tw, pos = positions(g);
  int tb = block_tiles(g), packed = sgemm_packed_floats(g->ci, g->co);
  long vstride = v_stride(g), mstride = m_stride(g);
  float *v = scratch + sgemm_scratch(); /* [α²][tb][Ci] */
  float *m = v + pos * vstride;         /* [α²][tb][Co] */
  long end = (long)g->b1 * per_image;
  for (long t0 = (long)g->b0 * per_image; t0 < end; t0 += tb) {
    int nb = end - t0 < tb ? (int)(end - t0) : tb;
    int b = (int)(t0 / per_image), ty = (int)(t0 % per_image) / tw, tx = (int)(t0 % per_image) % tw;
    input_block(g, x, nb, b, ty, tx, v, vstride);
    for (int p = 0; p < pos; p++) {
      sgemm_packed(nb, g->co, g->ci, v + p * vstride, g->ci, 1, u + (long)p * packed, m + p * mstride, g->co, 0.0f,
                   scratch);
    }
    for (int t = 0, by = b, y0 = ty, x0 = tx; t < nb; t++) {
      for (int o = 0; o < g->co; o += 4) {
        int no = g->co - o < 4 ? g->co - o : 4;
        const float *src = m + (long)t * g->co + o;
        if (one_d(g)) {
          if (a == 10) output_tile_1d_10(g, src, mstride, by, tr * y0, tc * x0, o, no, y);
          else if (a == 8) output_tile_1d_8(g, src, mstride, by, tr * y0, tc * x0, o, no, y);
          else if (a == 6) output_tile_1d_6(g, src, mstride, by, tr * y0, tc * x0, o, no, y);
          else output_tile_1d_4(g, src, mstride, by, tr * y0, tc * x0, o, no, y);
        } else if (ms == 4) {
          output_tile6(g, src, mstride, by, 4 * y0, 4 * x0, o, no, y);
        } else if (a == 6) {
          output_tile6_2(g, src, mstride, by, 2 * y0, 2 * x0, o, no, y);
        } else {
          output_tile(g, src, mstride, by, 2 * y0, 2 * x0, o, no, y);
        }
      }
      if (++x0 == tw) { x0 = 0; if (++y0 == th) { y0 = 0; by++; } }
    }
  }
}

/* ---------------------------------------------------------------------------------------------------------
 * The filter gradient by the same transform. y = Aᵀ[(G g Gᵀ) ⊙ (Bᵀ d B)]A is linear in g, so its adjoint is
 *   dg = Gᵀ [ Σ_tiles (A dy Aᵀ) ⊙ (Bᵀ d B) ] G
 * with dy the tile's 2×2 output gradient (zero past the edges). Summed over tiles, per position ξ a GEMM
 *   D[ξ] [Ci, Co] += V[ξ]ᵀ [Ci, T] · Q[ξ] [T, Co],   Q = A dy Aᵀ
 * conv_winograd_filter_grad writes this call's D (images [b0, b1): one partial per thread, summed after);
 * winograd_filter_grad_finish turns the summed D into dw. dy is read as [N, OH, OW, Co] (Geom.yph < 0).
 */

/* Tiles per block here: the reduction length of the GEMMs, so longer than the forward's (≥ 128). */
static int grad_block_tiles(const Geom *g) {
  int t = 262144 / (positions(g) * (g->ci + g->co));
  if (t < 128) t = 128;
  if (t > 256) t = 256;
  return t & ~3;
}
static long gv_stride(const Geom *g) { return (long)grad_block_tiles(g) * g->ci + SKEW; }
static long gq_stride(const Geom *g) { return (long)grad_block_tiles(g) * g->co + SKEW; }

__attribute__((export_name("winograd_grad_scratch"))) int winograd_grad_scratch(const Geom *g) {
  return sgemm_scratch() + positions(g) * (int)(gv_stride(g) + gq_stride(g));
}

/* Q[ξ][tile][o..o+no) = (A dy Aᵀ)[ξ] for the 2×2 dy tile at (oy0, ox0) of image b. */
static inline void grad_tile(const Geom *g, const float *dy, int b, int oy0, int ox0, int o, int no,
                             float *q, long qstride) {
  const v128_t zero = wasm_f32x4_splat(0.0f);
  v128_t d[2][2];
  #pragma clang loop unroll(full)
  for (int i = 0; i < 2; i++) {
    #pragma clang loop unroll(full)
    for (int j = 0; j < 2; j++) {
      int oy = oy0 + i, ox = ox0 + j;
      d[i][j] = oy < g->oh && ox < g->ow ? load_part(dy + (((long)b * g->oh + oy) * g->ow + ox) * g->co + o, no) : zero;
    }
  }
  if (g->kh == 3) { /* A = [[1, 0], [1, 1], [1, −1], [0, −1]] */
    v128_t r[4][2];
    #pragma clang loop unroll(full)
    for (int j = 0; j < 2; j++) { /* r = A d */
      r[0][j] = d[0][j];
      r[1][j] = wasm_f32x4_add(d[0][j], d[1][j]);
      r[2][j] = wasm_f32x4_sub(d[0][j], d[1][j]);
      r[3][j] = wasm_f32x4_neg(d[1][j]);
    }
    #pragma clang loop unroll(full)
    for (int i = 0; i < 4; i++) { /* Q = r Aᵀ */
      v128_t row[4] = {
        r[i][0], wasm_f32x4_add(r[i][0], r[i][1]), wasm_f32x4_sub(r[i][0], r[i][1]), wasm_f32x4_neg(r[i][1]),
      };
      #pragma clang loop unroll(full)
      for (int j = 0; j < 4; j++) store_part(q + (i * 4 + j) * qstride, row[j], no);
    }
  } else { /* A = [[1, 0], [1, 1], [0, 1]] */
    v128_t r[3][2];
    #pragma clang loop unroll(full)
    for (int j = 0; j < 2; j++) {
      r[0][j] = d[0][j];
      r[1][j] = wasm_f32x4_add(d[0][j], d[1][j]);
      r[2][j] = d[1][j];
    }
    #pragma clang loop unroll(full)
    for (int i = 0; i < 3; i++) {
      store_part(q + (i * 3) * qstride, r[i][0], no);
      store_part(q + (i * 3 + 1) * qstride, wasm_f32x4_add(r[i][0], r[i][1]), no);
      store_part(q + (i * 3 + 2) * qstride, r[i][1], no);
    }
  }
}

/* d: [α²][Ci][Co] (no packing), this call's Σ over the tiles of images [b0, b1). */
__attribute__((export_name("conv_winograd_filter_grad"))) void conv_winograd_filter_grad(
    const Geom *g, const float *x, const float *dy, float *d, float *scratch) {
  int th = (g->oh + 1) / 2, tw = (g->ow + 1) / 2, per_image = th * tw, pos = positions(g);
  int tb = grad_block_tiles(g);
  long vstride = gv_stride(g), qstride = gq_stride(g), taps = (long)g->ci * g->co;
  float *v = scratch + sgemm_scratch(); /* [α²][tb][Ci] */
  float *q = v + pos * vstride;         /* [α²][tb][Co] */
  long first = (long)g->b0 * per_image, end = (long)g->b1 * per_image;
  if (first == end) {
    for (long i = 0; i < pos * taps; i++) d[i] = 0.0f;
    return;
  }
  for (long t0 = first; t0 < end; t0 += tb) {
    int nb = end - t0 < tb ? (int)(end - t0) : tb;
    int b = (int)(t0 / per_image), ty = (int)(t0 % per_image) / tw, tx = (int)(t0 % per_image) % tw;
    input_block(g, x, nb, b, ty, tx, v, vstride);
    for (int t = 0, by = b, y0 = ty, x0 = tx; t < nb; t++) {
      for (int o = 0; o < g->co; o += 4) {
        grad_tile(g, dy, by, 2 * y0, 2 * x0, o, g->co - o < 4 ? g->co - o : 4, q + (long)t * g->co + o, qstride);
      }
      if (++x0 == tw) { x0 = 0; if (++y0 == th) { y0 = 0; by++; } }
    }
    for (int p = 0; p < pos; p++) { /* A = V[ξ]ᵀ: A(c, t) = v[t·Ci + c] */
      sgemm(g->ci, g->co, nb, v + p * vstride, 1, g->ci, q + p * qstride, g->co, 1, d + p * taps, g->co,
            t0 == first ? 0.0f : 1.0f, scratch);
    }
  }
}

/*
 * dw from the summed D: dg[a][b] = Σ_{i,j} G[i][a]·G[j][b]·D[i·α + j] over all K·N channel pairs at once,
 * written as w is laid out (FilterView modes 0 and 1; mode 1 scatters each virtual tap's phases back to
 * the 4×4 taps).
 */
__attribute__((export_name("winograd_filter_grad_finish"))) void winograd_filter_grad_finish(
    const FilterView *f, const float *d, float *dw) {
  int r = f->r, a = r + 1;
  long taps = (long)f->k * f->n, quarter = taps / 4;
  for (int tu = 0; tu < r; tu++) {
    for (int tv = 0; tv < r; tv++) {
      float *out[4];
      if (f->mode == 1) {
        for (int p = 0; p < 4; p++) out[p] = dw + phase_block(tu, tv, p, quarter);
      } else {
        out[0] = dw + (tu * r + tv) * taps;
      }
      int parts = f->mode == 1 ? 4 : 1;
      long count = f->mode == 1 ? quarter : taps;
      for (int p = 0; p < parts; p++) for (long e = 0; e < count; e++) out[p][e] = 0.0f;
      for (int i = 0; i < a; i++) {
        float gi = g_coef(2, r, i, tu);
        if (gi == 0.0f) continue;
        for (int j = 0; j < a; j++) {
          float gj = g_coef(2, r, j, tv);
          if (gj == 0.0f) continue;
          const float *src = d + (i * a + j) * taps;
          for (int p = 0; p < parts; p++) axpy(out[p], src + p * count, gi * gj, count);
        }
      }
    }
  }
}
