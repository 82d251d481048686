/*
 * Single-precision GEMM for medsyn's wasm training kernels (WebAssembly SIMD128, no libc).
 *
 *   C[M, N] = beta·C + A[M, K] · B[K, N],  with A(i, p) = a[i·rsa + p·csa], B(p, j) = b[p·rsb + j·csb]
 *
 * Any operand layout (transposed or not) costs the same: both operands are copied into packed
 * panels (Goto/BLIS style), so the micro-kernel streams contiguous memory. The micro-kernel keeps a
 * MR × NR tile of C in SIMD registers. V8 maps wasm SIMD onto 16 xmm registers, so the tile is 4 × 8
 * (8 accumulators + 2 B vectors + 1 broadcast A value: no spills). The multiply-add is simd.h's: fused
 * with relaxed SIMD, else a multiply and an add.
 * Measured in Node 20 on this project's 2-core AMD EPYC VM (median of 7, 256³ … 512×256×4096):
 *   4×8  35–41 GFLOP/s    4×12 21–26    4×16 22–28    6×8 19–26    8×8 22–26    3×8 33–37    2×8 28–34
 * KC 256 / MC 192 beat KC 128 and MC 96 by 2–10 %. XNNPACK's conv in TF.js 4.22 reaches 16–20 GFLOP/s
 * on the training step's convs on the same machine.
 * With relaxed SIMD's fused multiply-add (clang 16, Node 20 with V8's relaxed-SIMD flag), GFLOP/s at
 * 256³ / 4096×32×288 / 1024×128×1152 / 512×256×4096, one thread: 4×8 50 48 50 49 (without FMA 40 40 41 41),
 * 3×12 50 40 49 48, 2×16 9 49 50 50, 6×4 39 37 38 38, 5×8 22 25 26 26, 6×8 30, 8×8 28, 4×12 23 (spills);
 * unrolling the k loop 2× or 4× halves it (spills).
 */
#include "simd.h"

#ifndef MR
#define MR 4
#endif
#ifndef NR
#define NR 8
#endif
#ifndef KC
#define KC 256
#endif
#ifndef MC
#define MC 192
#endif
#define NC 384 /* a multiple of NR */

typedef unsigned long size_t;

/* Packs rows [i0, i0+mc) × cols [p0, p0+kc) of A into MR-row panels, zero padded: panel[p][r]. */
static void pack_a(const float *a, int rsa, int csa, int mc, int kc, float *dst) {
  for (int i = 0; i < mc; i += MR) {
    int rows = mc - i < MR ? mc - i : MR;
    for (int p = 0; p < kc; p++) {
      const float *src = a + i * rsa + p * csa;
      for (int r = 0; r < rows; r++) dst[r] = src[r * rsa];
      for (int r = rows; r < MR; r++) dst[r] = 0.0f;
      dst += MR;
    }
  }
}

/* Packs rows [p0, p0+kc) × cols [j0, j0+nc) of B into NR-column panels, zero padded: panel[p][c]. */
static void pack_b(const float *b, int rsb, int csb, int kc, int nc, float *dst) {
  for (int j = 0; j < nc; j += NR) {
    int cols = nc - j < NR ? nc - j : NR;
    for (int p = 0; p < kc; p++) {
      const float *src = b + p * rsb + j * csb;
      if (csb == 1 && cols == NR) {
#pragma clang loop unroll(full)
        for (int v = 0; v < NR / 4; v++) wasm_v128_store(dst + 4 * v, wasm_v128_load(src + 4 * v));
      } else {
        for (int c = 0; c < cols; c++) dst[c] = src[c * csb];
        for (int c = cols; c < NR; c++) dst[c] = 0.0f;
      }
      dst += NR;
    }
  }
}

/*
 * out[MR][NR] (row stride ldo) = (add ? out : 0) + Σ_p A(:, p) ⊗ bp[p][:] with A(r, p) = a[r·rs + p·cs]; fully
 * unrolled so the accumulators live in registers, and always inlined so each caller below gets the loop for its
 * own layout. Whole tiles go straight to C; edge tiles to a scratch tile that store_tile clips (writing C
 * directly instead of through the tile: 16-channel Winograd GEMMs, K = 16, 12 % faster).
 */
static inline __attribute__((always_inline)) void micro_any(int kc, const float *a, int rs, int cs, const float *bp,
                                                            float *out, int ldo, int add) {
  v128_t acc[MR][NR / 4];
#pragma clang loop unroll(full)
  for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
    for (int v = 0; v < NR / 4; v++) acc[r][v] = wasm_f32x4_splat(0.0f);
  for (int p = 0; p < kc; p++) {
    v128_t b[NR / 4];
#pragma clang loop unroll(full)
    for (int v = 0; v < NR / 4; v++) b[v] = wasm_v128_load(bp + 4 * v);
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++) {
      v128_t x = wasm_v128_load32_splat(a + r * rs);
#pragma clang loop unroll(full)
      for (int v = 0; v < NR / 4; v++) acc[r][v] = madd_f32x4(x, b[v], acc[r][v]);
    }
    a += cs;
    bp += NR;
  }
  if (add) {
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
      for (int v = 0; v < NR / 4; v++) {
        float *o = out + r * ldo + 4 * v;
        wasm_v128_store(o, wasm_f32x4_add(wasm_v128_load(o), acc[r][v]));
      }
  } else {
#pragma clang loop unroll(full)
    for (int r = 0; r < MR; r++)
#pragma clang loop unroll(full)
      for (int v = 0; v < NR / 4; v++) wasm_v128_store(out + r * ldo + 4 * v, acc[r][v]);
  }
}

/* A packed into MR-row panels (pack_a): panel[p][r]. */
static void micro(int kc, const float *ap, const float *bp, float *out, int ldo, int add) {
  micro_any(kc, ap, 1, MR, bp, out, ldo, add);
}

/*
 * Row-major A read in place: MR rows lda floats apart, each contiguous over p. Skips packing A, which for
 * short reductions (im2col rows of 3×3 convs over 16–32 channels: K = 144–288) costs a fifth of the time.
 */
static void micro_rows(int kc, const float *a, int lda, const float *bp, float *out, int ldo, int add) {
  micro_any(kc, a, lda, 1, bp, out, ldo, add);
}

/*
 * Column-major A read in place: A(r, p) = a[p·lda + r], so a step of p reads MR consecutive floats. The
 * filter gradient's A = colᵀ is laid out so; packing it cost as much as the product when N is small
 * (16–32 output channels: each packed panel then serves only 2–4 tiles). Only for short columns: each
 * step of p touches a new cache line, and from lda ≈ 512 packing wins again (filter gradient, one
 * thread, GFLOP/s packed → in place: K 144 / N 16 20 → 24, K 288 29 → 29, K 576 34 → 35; with lda up
 * to 640: K 576 → 29, K 512 34 → 30).
 */
#define COLS_MAX_LD 256
static void micro_cols(int kc, const float *a, int lda, const float *bp, float *out, int ldo, int add) {
  micro_any(kc, a, 1, lda, bp, out, ldo, add);
}

/* Adds (or, when first, stores beta·C +) the rows × cols corner of tile to C. */
static void store_tile(const float *tile, float *c, int ldc, int rows, int cols, int first, float beta) {
  for (int r = 0; r < rows; r++) {
    float *row = c + r * ldc;
    const float *t = tile + r * NR;
    if (!first) {
      for (int j = 0; j < cols; j++) row[j] += t[j];
    } else if (beta == 0.0f) {
      for (int j = 0; j < cols; j++) row[j] = t[j];
    } else {
      for (int j = 0; j < cols; j++) row[j] = beta * row[j] + t[j];
    }
  }
}

/* Scratch floats the caller must pass to sgemm: packed A and B blocks plus one tile. */
__attribute__((export_name("sgemm_scratch"))) int sgemm_scratch(void) {
  return MC * KC + KC * ((NC + NR - 1) / NR) * NR + MR * NR;
}

/*
 * C = beta·C + op(A)·op(B); c is row-major with leading dimension ldc; beta is 0 or 1 in practice.
 * B comes either as (b, rsb, csb), packed here block by block, or already packed by sgemm_pack_b (bp).
 */
static void gemm(int m, int n, int k, const float *a, int rsa, int csa, const float *b, int rsb, int csb,
                 const float *bp, float *c, int ldc, float beta, float *scratch) {
  float *pa = scratch;
  float *pb = pa + MC * KC;
  float *tile = pb + KC * ((NC + NR - 1) / NR) * NR;
  if (k == 0) {
    for (int i = 0; i < m; i++) for (int j = 0; j < n; j++) c[i * ldc + j] *= beta;
    return;
  }
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      if (bp) { pb = (float *)bp; bp += kc * ((nc + NR - 1) / NR) * NR; }
      else pack_b(b + pc * rsb + jc * csb, rsb, csb, kc, nc, pb);
      for (int ic = 0; ic < m; ic += MC) {
        int mc = m - ic < MC ? m - ic : MC;
        /* Row- or column-major A is read in place (whole MR-row panels; a partial last panel is packed). */
        int direct = csa == 1 || (rsa == 1 && csa <= COLS_MAX_LD) ? mc / MR * MR : 0;
        if (direct < mc) pack_a(a + (ic + direct) * rsa + pc * csa, rsa, csa, mc - direct, kc, pa + direct * kc);
        for (int jr = 0; jr < nc; jr += NR) {
          int cols = nc - jr < NR ? nc - jr : NR;
          for (int ir = 0; ir < mc; ir += MR) {
            int rows = mc - ir < MR ? mc - ir : MR;
            float *cij = c + (ic + ir) * ldc + jc + jr;
            /* whole tiles are written to C in place (unless C must be scaled by a beta other than 0 or 1) */
            int whole = rows == MR && cols == NR && (pc > 0 || beta == 0.0f || beta == 1.0f);
            float *out = whole ? cij : tile;
            int ldo = whole ? ldc : NR, add = whole && (pc > 0 || beta == 1.0f);
            if (ir < direct && csa == 1) micro_rows(kc, a + (ic + ir) * rsa + pc, rsa, pb + jr * kc, out, ldo, add);
            else if (ir < direct) micro_cols(kc, a + (ic + ir) + pc * csa, csa, pb + jr * kc, out, ldo, add);
            else micro(kc, pa + ir * kc, pb + jr * kc, out, ldo, add);
            if (!whole) store_tile(tile, cij, ldc, rows, cols, pc == 0, beta);
          }
        }
      }
    }
  }
}

__attribute__((export_name("sgemm"))) void sgemm(
    int m, int n, int k, const float *a, int rsa, int csa, const float *b, int rsb, int csb,
    float *c, int ldc, float beta, float *scratch) {
  gemm(m, n, k, a, rsa, csa, b, rsb, csb, 0, c, ldc, beta, scratch);
}

/* Floats of B [K, N] packed by sgemm_pack_b: columns rounded up to whole NR panels (NC is a multiple of NR). */
int sgemm_packed_floats(int k, int n) {
  return k * ((n + NR - 1) / NR) * NR;
}

/* Packs B(p, j) = b[p·rsb + j·csb] in the order gemm's loops consume it, for sgemm_packed (reused B). */
void sgemm_pack_b(int n, int k, const float *b, int rsb, int csb, float *bp) {
  for (int jc = 0; jc < n; jc += NC) {
    int nc = n - jc < NC ? n - jc : NC;
    for (int pc = 0; pc < k; pc += KC) {
      int kc = k - pc < KC ? k - pc : KC;
      pack_b(b + pc * rsb + jc * csb, rsb, csb, kc, nc, bp);
      bp += kc * ((nc + NR - 1) / NR) * NR;
    }
  }
}

/* sgemm with B already packed by sgemm_pack_b. */
void sgemm_packed(int m, int n, int k, const float *a, int rsa, int csa, const float *bp,
                  float *c, int ldc, float beta, float *scratch) {
  gemm(m, n, k, a, rsa, csa, 0, 0, 0, bp, c, ldc, beta, scratch);
}
