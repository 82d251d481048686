/*
 * What native/conv.c and native/winograd.c share: the geometry the JS side writes, and the GEMM.
 * Locals clang cannot keep in registers live on the shadow stack in linear memory; every worker thread's
 * instance gets its own (nativeModule.ts), so passes may use it, though it costs loads and stores.
 */
#ifndef MEDSYN_CONV_H
#define MEDSYN_CONV_H
#include <wasm_simd128.h>

void sgemm(int m, int n, int k, const float *a, int rsa, int csa, const float *b, int rsb, int csb,
           float *c, int ldc, float beta, float *scratch);
int sgemm_scratch(void);
int sgemm_packed_floats(int k, int n);
void sgemm_pack_b(int n, int k, const float *b, int rsb, int csb, float *bp);
void sgemm_packed(int m, int n, int k, const float *a, int rsa, int csa, const float *bp,
                  float *c, int ldc, float beta, float *scratch);

/* Geometry of a conv pass (int32 fields, as written by src/core/kernels/convNative.ts's geometry()). */
typedef struct {
  int n, h, w, ci;     /* input x [N, H, W, Ci] */
  int oh, ow, co;      /* output y [N, OH, OW, Co] */
  int kh, kw, sh, sw;  /* filter taps and strides */
  int pt, pl;          /* padding before the first row / column */
  int rows;            /* im2col: output pixels per chunk */
  int b0, b1;          /* images this call covers */
  int bias;            /* forward only: byte offset of a [Co] bias added to y, or 0 for none */
  int relu;            /* forward only: 1 = max(y, 0) after the bias (TF.js FusedConv2D, 'relu') */
  /* Winograd only (native/winograd.c): */
  int view;            /* 1: x above is the stride-2 phase (space-to-depth) view of the real x below: virtual */
  int xh, xw, xc;      /*    pixel (i, j), channel (2a + b)·xc + c reads the real x [N, xh, xw, xc] at */
  int xt, xl;          /*    (2i + a − xt, 2j + b − xl, c), zero outside */
  int yph;             /* ≥ 0: virtual output pixel (i, j) writes pixel (2i + yph / 2, 2j + yph % 2) of the */
  int yh, yw;          /*    real y [N, yh, yw, Co] (one output phase of a stride-2 input gradient); < 0: y as is */
  int tile;            /* output tile side m: 2, or 4 for F(4×4, 3×3) forward passes */
  /* Forward passes (conv_forward, conv_winograd): */
  int ldy;             /* floats between y's pixels, ≥ co (y a channel slice of a wider tensor: a concat's part); */
                       /*    0: co */
} Geom;

/* Floats between the pixels of a forward pass's y. */
static inline int geom_ldy(const Geom *g) { return g->ldy ? g->ldy : g->co; }

#endif
