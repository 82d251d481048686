/**
 * Which convolutions run on native/winograd.c, and the geometry each of its calls gets (pure arithmetic on
 * TF.js' Conv2DInfo; convNative.ts runs the calls). Families:
 *
 * - stride-1 3×3 (U-Net, FID Inception): F(2×2, 3×3), forward and filter gradient (the stride-1 input gradient
 *   is a forward conv over dy, see convNative.ts's inputGradAsForward); forward passes with ≥ MIN_TILES 4×4
 *   tiles take F(4×4, 3×3) (tileTuning.m4);
 * - stride-2 4×4 (every DCGAN layer): a 2×2 stride-1 conv over the input's space-to-depth view (4·Ci channels,
 *   one per stride phase; Geom.view = 1), so F(2×2, 2×2), forward and filter gradient; the input gradient
 *   (the generator's transposed conv) as four 2×2 stride-1 convs over dy, one per output phase of dx;
 * - FID Inception's 1×7 / 7×1 / 1×3 / 3×1 (1-D F(2, r), or F(4, r) with enough 4-pixel tiles (tileTuning.m4))
 *   and 5×5 (F(2×2, 5×5)), forward only.
 *
 * Medians of 15, alternating with im2col, 2 threads, batch 16, this VM (3×3 forward): Winograd / im2col
 * 0.75–0.96 at 16 → 16 channels, 0.64–0.79 at 32, 0.62–0.64 from 64 up; FID Inception's 3×3 layers (2 images)
 * 0.54–0.74; filter gradients 0.51–0.70. With few tiles and many channels the transformed filters are streamed
 * for too few rows (2 × 8 × 8 px, 448 → 384: 1.23), hence MIN_TILES.
 */
import type * as tf from '@tensorflow/tfjs';

const MIN_CHANNELS = 16;
const MIN_TILES = 128;

/**
 * Whether stride-1 3×3 forward passes may use F(4×4, 3×3) (MEDSYN_WINOGRAD_F4=0: no), 1-D kernels F(2, r)
 * (MEDSYN_WINOGRAD_1D=0: no) and 5×5 kernels F(2×2, 5×5) (MEDSYN_WINOGRAD_F5=0: no); mutable for tests and A/B.
 */
export const tileTuning = {
  m4: process.env.MEDSYN_WINOGRAD_F4?.trim() !== '0',
  oneD: process.env.MEDSYN_WINOGRAD_1D?.trim() !== '0',
  f5: process.env.MEDSYN_WINOGRAD_F5?.trim() !== '0',
};


/**
 * Where the filter's taps come from (native/winograd.c's FilterView.mode): 0 w [r, r, Ci, Co] as is; 1 a
 * stride-2 w [4, 4, Ci/4, Co] read as its phase view; 2 output phase (pa, pb) of a stride-2 conv's input
 * gradient (taps flipped, each [Ci, Co] transposed).
 */
export interface FilterSource {
  readonly mode: 0 | 1 | 2;
  readonly pa: number;
  readonly pb: number;
}

const AS_IS: FilterSource = { mode: 0, pa: 0, pb: 0 };

/** The virtual conv one native call computes (fields of native/conv.h's Geom). */
export interface WinogradGeometry {
  readonly n: number;
  readonly h: number;
  readonly w: number;
  readonly ci: number;
  readonly oh: number;
  readonly ow: number;
  readonly co: number;
  readonly r: 2 | 3 | 5 | 7;
  /** 1-D kernels: 1×r ('w', along x) or r×1 ('h'); absent: r×r. */
  readonly axis?: 'h' | 'w';
  /** Output tile side (2, or 4 for F(4×4, 3×3)). */
  readonly m: 2 | 4;
  readonly pt: number;
  readonly pl: number;
  /** Stride-2 phase view of the real x [N, xh, xw, xc] (x read at (2i + a − xt, 2j + b − xl)). */
  readonly view?: { readonly xh: number; readonly xw: number; readonly xc: number; readonly xt: number; readonly xl: number };
  /** Output phase of a real y [N, yh, yw, Co]: virtual (i, j) → (2i + a, 2j + b), phase = 2a + b. */
  readonly yPhase?: { readonly phase: number; readonly yh: number; readonly yw: number };
}

export interface WinogradCall {
  readonly geometry: WinogradGeometry;
  readonly filter: FilterSource;
}

/** native/winograd.c's FilterView for a call: its size, tile and kernel shape come from the geometry. */
export function filterViewInts({ geometry: g, filter: f }: WinogradCall): number[] {
  return [g.r, g.ci, g.co, f.mode, f.pa, f.pb, g.m, g.axis ? 1 : 0];
}

/**
 * Geom's 29 int32 fields for images [b0, b1) (bias: module byte offset or 0; ldy: floats between y's pixels when y
 * is a channel slice of a wider tensor, 0 for dense).
 */
export function geometryInts(g: WinogradGeometry, b0: number, b1: number, biasAt = 0, relu = false, ldy = 0): number[] {
  return [
    g.n, g.h, g.w, g.ci, g.oh, g.ow, g.co, g.axis === 'w' ? 1 : g.r, g.axis === 'h' ? 1 : g.r, 1, 1, g.pt, g.pl, 0, b0, b1,
    biasAt, relu ? 1 : 0,
    g.view ? 1 : 0, g.view?.xh ?? 0, g.view?.xw ?? 0, g.view?.xc ?? 0, g.view?.xt ?? 0, g.view?.xl ?? 0,
    g.yPhase?.phase ?? -1, g.yPhase?.yh ?? 0, g.yPhase?.yw ?? 0, g.m, ldy,
  ];
}

function tiles(g: WinogradGeometry): number {
  return g.n * Math.ceil(g.oh / (g.axis === 'w' ? 1 : g.m)) * Math.ceil(g.ow / (g.axis === 'h' ? 1 : g.m));
}

/** Multiply-adds of the direct conv a call replaces (for the thread split). */
export function directMacs(g: WinogradGeometry): number {
  return g.n * g.oh * g.ow * g.r * (g.axis ? 1 : g.r) * g.ci * g.co;
}

/** Floats of one filter-gradient partial in the transformed domain. */
export function transformedFloats(g: WinogradGeometry): number {
  const alpha = g.r + g.m - 1;
  return (g.axis ? alpha : alpha * alpha) * g.ci * g.co;
}

function worthIt(g: WinogradGeometry, minTiles = MIN_TILES): boolean {
  return g.ci >= MIN_CHANNELS && g.co >= MIN_CHANNELS && tiles(g) >= minTiles;
}

function plain(info: tf.backend_util.Conv2DInfo): boolean {
  return info.dataFormat === 'channelsLast' && info.dilationHeight === 1 && info.dilationWidth === 1;
}

function stride1x3(info: tf.backend_util.Conv2DInfo): boolean {
  return plain(info) && info.filterHeight === 3 && info.filterWidth === 3 && info.strideHeight === 1 && info.strideWidth === 1;
}

function stride1x5(info: tf.backend_util.Conv2DInfo): boolean {
  return plain(info) && info.filterHeight === 5 && info.filterWidth === 5 && info.strideHeight === 1 && info.strideWidth === 1;
}

/** Stride-1 1×7, 7×1, 1×3 and 3×1 kernels (FID Inception's factorised convs): 1-D F(m, r). */
function stride1xR(info: tf.backend_util.Conv2DInfo): { r: 3 | 7; axis: 'h' | 'w' } | null {
  if (!plain(info) || info.strideHeight !== 1 || info.strideWidth !== 1) return null;
  const { filterHeight: kh, filterWidth: kw } = info;
  if (kh === 1 && (kw === 7 || kw === 3)) return { r: kw, axis: 'w' };
  if (kw === 1 && (kh === 7 || kh === 3)) return { r: kh, axis: 'h' };
  return null;
}

/** 4×4 stride 2 with padding 0–2 before (so every input-gradient phase pads its dy by 0 or 1) and Ci % 4 = 0. */
function stride2x4(info: tf.backend_util.Conv2DInfo): boolean {
  const { top, left } = info.padInfo;
  return plain(info) && info.filterHeight === 4 && info.filterWidth === 4 && info.strideHeight === 2 &&
    info.strideWidth === 2 && info.inChannels % 4 === 0 && top >= 0 && top <= 2 && left >= 0 && left <= 2;
}

/**
 * The forward conv (also the 3×3 stride-1 input gradient's adjoint conv) on Winograd, or null. `minTiles`: the
 * fewest tiles worth it when the filter is transformed on every call (a native graph keeps its transformed
 * filters, so it asks for fewer); 4×4 tiles take at least MIN_TILES whatever it says.
 */
export function forwardCall(
  info: tf.backend_util.Conv2DInfo, { m4 = tileTuning.m4, minTiles = MIN_TILES }: { m4?: boolean; minTiles?: number } = {},
): WinogradCall | null {
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  // stride 1: the conv itself, F(m×m, r×r) (or F(m, r) along a 1-D kernel's axis)
  const direct = (r: WinogradGeometry['r'], m: 2 | 4, axis?: 'h' | 'w'): WinogradCall | null => {
    const geometry: WinogradGeometry = {
      n, h, w, ci, oh, ow, co, r, m, pt: info.padInfo.top, pl: info.padInfo.left, ...(axis ? { axis } : {}),
    };
    return worthIt(geometry, m === 4 ? Math.max(minTiles, MIN_TILES) : minTiles) ? { geometry, filter: AS_IS } : null;
  };
  if (stride1x3(info)) return (m4 ? direct(3, 4) : null) ?? direct(3, 2);
  // FID Inception's Mixed_5 5×5 branch: F(2×2, 5×5), 36 multiplies per 4 outputs instead of 100
  if (tileTuning.f5 && stride1x5(info)) return direct(5, 2);
  const oneD = tileTuning.oneD ? stride1xR(info) : null;
  if (oneD) return (m4 ? direct(oneD.r, 4, oneD.axis) : null) ?? direct(oneD.r, 2, oneD.axis);
  if (stride2x4(info)) {
    // y[i] = Σ_{u', a} x[2(i + u') + a − top] · w[2u' + a]: a valid 2×2 conv over the view (oh + 1 rows).
    const geometry: WinogradGeometry = {
      n, h: oh + 1, w: ow + 1, ci: 4 * ci, oh, ow, co, r: 2, m: 2, pt: 0, pl: 0,
      view: { xh: h, xw: w, xc: ci, xt: info.padInfo.top, xl: info.padInfo.left },
    };
    return worthIt(geometry, minTiles) ? { geometry, filter: { mode: 1, pa: 0, pb: 0 } } : null;
  }
  return null;
}

/**
 * The filter gradient on Winograd (forwardCall's virtual conv with 2×2 output tiles; its FilterView then says how
 * to finish), or null.
 */
export function filterGradCall(info: tf.backend_util.Conv2DInfo): WinogradCall | null {
  const call = forwardCall(info, { m4: false });
  // no 1-D or 5×5 filter gradient (Inception only runs forward)
  return call?.geometry.axis || call?.geometry.r === 5 ? null : call;
}

/**
 * The input gradient of a 4×4 stride-2 conv as four 2×2 stride-1 convs over dy, one per phase (a, b) of dx:
 * dx[2i + a] = Σ_t dy[i + q − 1 + t] · w[2(1 − t) + pa] with pa = (a + top) mod 2, q = (a + top − pa) / 2,
 * i.e. dy padded by 1 − q before, taps flipped, each tap's [Ci, Co] transposed. Null when not eligible.
 */
export function inputGradCalls(info: tf.backend_util.Conv2DInfo): WinogradCall[] | null {
  if (!stride2x4(info)) return null;
  const { batchSize: n, inHeight: h, inWidth: w, inChannels: ci, outHeight: oh, outWidth: ow, outChannels: co } = info;
  const calls: WinogradCall[] = [];
  for (let a = 0; a < 2; a++) {
    for (let b = 0; b < 2; b++) {
      const pa = (a + info.padInfo.top) % 2;
      const pb = (b + info.padInfo.left) % 2;
      const qa = (a + info.padInfo.top - pa) / 2;
      const qb = (b + info.padInfo.left - pb) / 2;
      const geometry: WinogradGeometry = {
        n, h: oh, w: ow, ci: co, oh: Math.ceil((h - a) / 2), ow: Math.ceil((w - b) / 2), co: ci, r: 2, m: 2,
        pt: 1 - qa, pl: 1 - qb, yPhase: { phase: 2 * a + b, yh: h, yw: w },
      };
      if (!worthIt(geometry) || geometry.oh < 1 || geometry.ow < 1) return null;
      calls.push({ geometry, filter: { mode: 2, pa, pb } });
    }
  }
  return calls;
}
