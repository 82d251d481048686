/**
 * Hard segmentation scores on label maps (class index per pixel): Dice per class and HD95 (95th percentile of the
 * symmetric boundary distances), each with an explicit policy for empty masks, and their aggregation over a test
 * split per slice and per patient volume. Plain typed arrays, no TF.js: these are the numbers a result reports, so
 * they are computed in float64 and tested against hand-computed values.
 *
 * Conventions (MONAI's, where MONAI has one):
 * - Dice of class c on a region: 2·|P∩T| / (|P| + |T|). When the truth T is empty: `emptyMask: 'skip'` gives NaN
 *   (the item does not count for class c; MONAI `ignore_empty=True`), `'one-if-both-empty'` gives 1 when P is also
 *   empty and 0 otherwise (MONAI `ignore_empty=False`).
 * - Boundaries are MONAI's `get_mask_edges`: mask XOR its binary erosion (face-connected structuring element, pixels
 *   outside the grid count as background, so mask pixels on the grid's border are boundary pixels).
 * - HD95 = max(p95(d(∂P→∂T)), p95(d(∂T→∂P))), with numpy's linear percentile, Euclidean distances in pixels, or in
 *   mm when a spacing is given.
 * - Both masks empty → NaN (skipped). Exactly one empty → the diagonal of the grid's extent
 *   (√Σ((nᵢ−1)·sᵢ)², the largest distance two pixel centres can have), a finite worst case that penalises a missed
 *   or hallucinated structure and keeps means finite. MONAI's `compute_hausdorff_distance` returns inf/nan here;
 *   choose `hd95Empty: 'nan'` to skip such items instead.
 * - Aggregation is class first: a class's score is the mean over the items (slices or volumes) where it is not
 *   NaN; the headline mean is the mean over the evaluated classes that have a score (background excluded unless
 *   `includeBackground`).
 * - A volume is one source image/label pair of a patient (`SliceInfo.patient` + `SliceInfo.case`, e.g.
 *   `patient001_ED`): Dice pools the pixel counts of its slices (a 3D Dice). HD95 of a volume is the mean of its
 *   slices' 2D HD95 by default, because prepared slices carry no slice thickness; given `sliceSpacing` (the
 *   distance between consecutive slice indices, in the units of `spacing`), it is the 3D HD95 of the slices stacked
 *   at z = index × sliceSpacing (missing slices leave gaps of the right size).
 */
import type { SliceInfo } from '../data/prepared.js';

export interface DiceOptions {
  readonly includeBackground: boolean;
  /** What an empty ground truth scores: skipped, or 1 when the prediction is also empty (MONAI's ignore_empty). */
  readonly emptyMask: 'skip' | 'one-if-both-empty';
}

export const DEFAULT_DICE_OPTIONS: DiceOptions = Object.freeze({ includeBackground: false, emptyMask: 'skip' });

export interface HausdorffOptions {
  /** Pixel size per axis, outermost first ([sy, sx] for a slice, [sz, sy, sx] for a volume). Default 1 (pixels). */
  readonly spacing?: readonly number[];
  /** @default 95 */
  readonly percentile?: number;
  /** Score when exactly one of the two masks is empty. @default 'diagonal' */
  readonly hd95Empty?: 'diagonal' | 'nan';
}

/** Classes a score covers: 1..K-1, or 0..K-1 with the background. */
export function evaluatedClasses(numClasses: number, includeBackground: boolean): number[] {
  const out: number[] = [];
  for (let c = includeBackground ? 0 : 1; c < numClasses; c++) out.push(c);
  return out;
}

// ---------------------------------------------------------------------------------------------------------------
// Dice

/** Per-class pixel counts of one region: |P∩T|, |P|, |T| for each class 0..K-1. */
export interface ClassCounts {
  readonly intersection: Float64Array;
  readonly pred: Float64Array;
  readonly truth: Float64Array;
}

export function emptyCounts(numClasses: number): ClassCounts {
  return { intersection: new Float64Array(numClasses), pred: new Float64Array(numClasses), truth: new Float64Array(numClasses) };
}

/** Adds the counts of pred/truth[offset, offset+length) into `into` (which it returns). */
export function accumulateCounts(
  into: ClassCounts,
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  offset = 0,
  length = pred.length - offset,
): ClassCounts {
  if (pred.length !== truth.length) throw new Error(`dice: prediction has ${pred.length} pixels, truth ${truth.length}`);
  const K = into.pred.length;
  for (let i = offset; i < offset + length; i++) {
    const p = pred[i]!;
    const t = truth[i]!;
    if (p >= K || t >= K) throw new Error(`dice: label ${Math.max(p, t)} at pixel ${i} is not a class index (< ${K})`);
    into.pred[p]! += 1;
    into.truth[t]! += 1;
    if (p === t) into.intersection[p]! += 1;
  }
  return into;
}

/** Dice of each evaluated class from counts; NaN where the empty-mask policy skips the class. */
export function diceFromCounts(counts: ClassCounts, opts: DiceOptions = DEFAULT_DICE_OPTIONS): number[] {
  return evaluatedClasses(counts.pred.length, opts.includeBackground).map((c) => {
    const t = counts.truth[c]!;
    const p = counts.pred[c]!;
    if (t === 0) return opts.emptyMask === 'skip' ? NaN : p === 0 ? 1 : 0;
    return (2 * counts.intersection[c]!) / (p + t);
  });
}

/** Dice per evaluated class and their mean for one label map pair (any shape, same length). */
export function dice(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  numClasses: number,
  opts: DiceOptions = DEFAULT_DICE_OPTIONS,
): { perClass: number[]; mean: number } {
  const perClass = diceFromCounts(accumulateCounts(emptyCounts(numClasses), pred, truth), opts);
  return { perClass, mean: nanMean(perClass) };
}

// ---------------------------------------------------------------------------------------------------------------
// Hausdorff distance

/** numpy's default (linear) percentile of a non-empty array; sorts `values` in place. */
export function percentile(values: Float64Array | number[], q: number): number {
  const n = values.length;
  if (n === 0) return NaN;
  const a = values instanceof Float64Array ? values.sort() : values.sort((x, y) => x - y);
  const rank = (q / 100) * (n - 1);
  const lo = Math.floor(rank);
  const hi = Math.min(lo + 1, n - 1);
  return a[lo]! + (a[hi]! - a[lo]!) * (rank - lo);
}

/** Boundary of a binary mask on an N-D grid: mask AND NOT erode(mask), face connectivity, outside = background. */
export function maskEdges(mask: Uint8Array, shape: readonly number[]): Uint8Array {
  const strides = stridesOf(shape);
  const edges = new Uint8Array(mask.length);
  const coord = new Array<number>(shape.length).fill(0);
  for (let i = 0; i < mask.length; i++) {
    if (i > 0) incrementCoord(coord, shape);
    if (!mask[i]) continue;
    let edge = false;
    for (let a = 0; a < shape.length && !edge; a++) {
      const ca = coord[a]!;
      const st = strides[a]!;
      if (ca === 0 || !mask[i - st] || ca === shape[a]! - 1 || !mask[i + st]) edge = true;
    }
    if (edge) edges[i] = 1;
  }
  return edges;
}

/**
 * Squared Euclidean distance from every grid point to the nearest feature point (`features[i] !== 0`), exact,
 * separable (Felzenszwalb & Huttenlocher 2012), with arbitrary sorted sample positions per axis. Infinity where
 * there is no feature at all.
 */
export function squaredDistanceTransform(features: Uint8Array, shape: readonly number[], positions: readonly (readonly number[])[]): Float64Array {
  const d = new Float64Array(features.length);
  for (let i = 0; i < d.length; i++) d[i] = features[i] ? 0 : Infinity;
  const strides = stridesOf(shape);
  const maxN = Math.max(...shape);
  const f = new Float64Array(maxN);
  const out = new Float64Array(maxN);
  const v = new Int32Array(maxN);
  const z = new Float64Array(maxN + 1);
  for (let axis = 0; axis < shape.length; axis++) {
    const n = shape[axis]!;
    const st = strides[axis]!;
    const x = positions[axis]!;
    const lineStride = n * st;
    for (let base = 0; base < d.length; base += lineStride) {
      for (let j = 0; j < st; j++) {
        const start = base + j;
        for (let q = 0; q < n; q++) f[q] = d[start + q * st]!;
        lowerEnvelope(f, x, n, v, z, out);
        for (let q = 0; q < n; q++) d[start + q * st] = out[q]!;
      }
    }
  }
  return d;
}

/** 1D squared distance transform of sampled function f at positions x (lower envelope of parabolas). */
function lowerEnvelope(f: Float64Array, x: readonly number[], n: number, v: Int32Array, z: Float64Array, out: Float64Array): void {
  let k = -1;
  for (let q = 0; q < n; q++) {
    const fq = f[q]!;
    if (fq === Infinity) continue;
    if (k < 0) {
      k = 0;
      v[0] = q;
      z[0] = -Infinity;
      z[1] = Infinity;
      continue;
    }
    // z[0] = -Infinity, so k never drops below 0.
    let s = intersection(f, x, q, v[k]!);
    while (s <= z[k]!) {
      k--;
      s = intersection(f, x, q, v[k]!);
    }
    k++;
    v[k] = q;
    z[k] = s;
    z[k + 1] = Infinity;
  }
  if (k < 0) {
    out.fill(Infinity, 0, n);
    return;
  }
  let j = 0;
  for (let q = 0; q < n; q++) {
    while (z[j + 1]! < x[q]!) j++;
    const p = v[j]!;
    out[q] = (x[q]! - x[p]!) ** 2 + f[p]!;
  }
}

function intersection(f: Float64Array, x: readonly number[], q: number, p: number): number {
  return (f[q]! + x[q]! * x[q]! - (f[p]! + x[p]! * x[p]!)) / (2 * (x[q]! - x[p]!));
}

/**
 * Percentile Hausdorff distance between two binary masks on the same N-D grid (default HD95). `positions` (one
 * sorted coordinate list per axis) overrides `spacing` for grids with uneven sampling, e.g. slices with gaps.
 */
export function hausdorffDistance(
  predMask: Uint8Array,
  truthMask: Uint8Array,
  shape: readonly number[],
  opts: HausdorffOptions & { readonly positions?: readonly (readonly number[])[] } = {},
): number {
  const size = shape.reduce((a, b) => a * b, 1);
  if (predMask.length !== size || truthMask.length !== size) {
    throw new Error(`hausdorffDistance: masks have ${predMask.length} and ${truthMask.length} pixels, shape [${shape.join(', ')}] has ${size}`);
  }
  const positions = opts.positions ?? shape.map((n, a) => Array.from({ length: n }, (_, i) => i * (opts.spacing?.[a] ?? 1)));
  const predAny = predMask.some((m) => m !== 0);
  const truthAny = truthMask.some((m) => m !== 0);
  if (!predAny && !truthAny) return NaN;
  if (!predAny || !truthAny) {
    if (opts.hd95Empty === 'nan') return NaN;
    return Math.sqrt(positions.reduce((s, p) => s + (p[p.length - 1]! - p[0]!) ** 2, 0));
  }
  const q = opts.percentile ?? 95;
  const edgesP = maskEdges(predMask, shape);
  const edgesT = maskEdges(truthMask, shape);
  const dToT = squaredDistanceTransform(edgesT, shape, positions);
  const dToP = squaredDistanceTransform(edgesP, shape, positions);
  const pt: number[] = [];
  const tp: number[] = [];
  for (let i = 0; i < size; i++) {
    if (edgesP[i]) pt.push(Math.sqrt(dToT[i]!));
    if (edgesT[i]) tp.push(Math.sqrt(dToP[i]!));
  }
  return Math.max(percentile(pt, q), percentile(tp, q));
}

/** HD of each evaluated class between two label maps on one grid; NaN where both masks are empty. */
export function hausdorffPerClass(
  pred: ArrayLike<number>,
  truth: ArrayLike<number>,
  shape: readonly number[],
  numClasses: number,
  includeBackground: boolean,
  opts: HausdorffOptions & { readonly positions?: readonly (readonly number[])[] } = {},
): number[] {
  const n = pred.length;
  const pm = new Uint8Array(n);
  const tm = new Uint8Array(n);
  return evaluatedClasses(numClasses, includeBackground).map((c) => {
    for (let i = 0; i < n; i++) {
      pm[i] = pred[i] === c ? 1 : 0;
      tm[i] = truth[i] === c ? 1 : 0;
    }
    return hausdorffDistance(pm, tm, shape, opts);
  });
}

// ---------------------------------------------------------------------------------------------------------------
// Aggregation over a split

export interface ScoreAggregate {
  /** Slices or volumes scored. */
  readonly count: number;
  readonly dice_mean: number;
  /** Indexed like `evaluatedClasses(K, includeBackground)`. */
  readonly dice_per_class: number[];
  readonly hd95_mean: number;
  readonly hd95_per_class: number[];
  /** Mean foreground Dice of each scored item (slice or volume), in split order: bootstrap intervals and paired tests. */
  readonly dice_per_item: number[];
  /** Ids of those items: `patient/case` for volumes, `patient/case/slice` for slices (`#n` without slice info). */
  readonly item_ids: string[];
}

export interface SplitScores {
  readonly classes: number[];
  readonly perSlice: ScoreAggregate;
  /** Per patient volume (slices regrouped by `SliceInfo.case`); absent without slice info. */
  readonly perVolume?: ScoreAggregate;
}

export interface EvaluateOptions {
  readonly dice?: DiceOptions;
  /** `spacing` is the in-plane pixel size [sy, sx]. */
  readonly hausdorff?: HausdorffOptions;
  /** Distance between consecutive slice indices; when given, a volume's HD95 is 3D (see the top of this file). */
  readonly sliceSpacing?: number;
  /** Skip HD95 (NaN), e.g. for fast validation during training. @default true */
  readonly computeHd95?: boolean;
}

/**
 * Scores predicted label maps against the truth of a split: pred/truth [N, H, W] class indices, `info` one entry per
 * slice (for the per-volume aggregate).
 */
export function evaluateSplit(
  pred: Uint8Array,
  truth: Uint8Array,
  dims: { readonly count: number; readonly height: number; readonly width: number; readonly numClasses: number },
  info?: readonly SliceInfo[],
  opts: EvaluateOptions = {},
): SplitScores {
  const { count, height, width, numClasses } = dims;
  const plane = height * width;
  if (pred.length !== count * plane || truth.length !== count * plane) {
    throw new Error(`evaluateSplit: expected ${count}×${height}×${width} labels, got ${pred.length} predicted and ${truth.length} true`);
  }
  if (info && info.length !== count) throw new Error(`evaluateSplit: ${info.length} slice infos for ${count} slices`);
  const diceOpts = opts.dice ?? DEFAULT_DICE_OPTIONS;
  const hdOpts = opts.hausdorff ?? {};
  const withHd = opts.computeHd95 ?? true;
  const classes = evaluatedClasses(numClasses, diceOpts.includeBackground);
  const [sy, sx] = [hdOpts.spacing?.[0] ?? 1, hdOpts.spacing?.[1] ?? 1];
  const sz = opts.sliceSpacing;
  if (sz !== undefined && !(sz > 0)) throw new RangeError(`evaluateSplit: sliceSpacing must be > 0, got ${sz}`);

  const sliceDice: number[][] = [];
  const sliceHd: number[][] = [];
  for (let n = 0; n < count; n++) {
    const counts = accumulateCounts(emptyCounts(numClasses), pred, truth, n * plane, plane);
    sliceDice.push(diceFromCounts(counts, diceOpts));
    if (withHd) {
      const p = pred.subarray(n * plane, (n + 1) * plane);
      const t = truth.subarray(n * plane, (n + 1) * plane);
      sliceHd.push(hausdorffPerClass(p, t, [height, width], numClasses, diceOpts.includeBackground, { ...hdOpts, spacing: [sy, sx] }));
    } else {
      sliceHd.push(classes.map(() => NaN));
    }
  }
  const sliceIds = Array.from({ length: count }, (_, n) => (info ? `${info[n]!.patient}/${info[n]!.case}/${info[n]!.slice}` : `#${n}`));
  const perSlice = aggregate(sliceDice, sliceHd, classes.length, sliceIds);
  if (!info) return { classes, perSlice };

  const volumes = new Map<string, number[]>();
  info.forEach((s, n) => {
    const key = `${s.patient}\u0000${s.case}`;
    const list = volumes.get(key);
    if (list) list.push(n);
    else volumes.set(key, [n]);
  });
  const volDice: number[][] = [];
  const volHd: number[][] = [];
  for (const members of volumes.values()) {
    members.sort((a, b) => info[a]!.slice - info[b]!.slice);
    const counts = emptyCounts(numClasses);
    for (const n of members) accumulateCounts(counts, pred, truth, n * plane, plane);
    volDice.push(diceFromCounts(counts, diceOpts));
    if (withHd && sz === undefined) {
      volHd.push(classes.map((_, c) => nanMean(members.map((n) => sliceHd[n]![c]!))));
    } else if (withHd && sz !== undefined) {
      const p = new Uint8Array(members.length * plane);
      const t = new Uint8Array(members.length * plane);
      members.forEach((n, k) => {
        p.set(pred.subarray(n * plane, (n + 1) * plane), k * plane);
        t.set(truth.subarray(n * plane, (n + 1) * plane), k * plane);
      });
      const zs = members.map((n) => info[n]!.slice * sz);
      // Repeated slice indices (should not happen) would break the distance transform: fall back to stack order.
      const distinct = zs.every((zv, k) => k === 0 || zv > zs[k - 1]!);
      const positions = [
        distinct ? zs : members.map((_, k) => k * sz),
        Array.from({ length: height }, (_, i) => i * sy),
        Array.from({ length: width }, (_, i) => i * sx),
      ];
      volHd.push(hausdorffPerClass(p, t, [members.length, height, width], numClasses, diceOpts.includeBackground, { ...hdOpts, positions }));
    } else {
      volHd.push(classes.map(() => NaN));
    }
  }
  const volIds = [...volumes.keys()].map((k) => k.replace('\u0000', '/'));
  return { classes, perSlice, perVolume: aggregate(volDice, volHd, classes.length, volIds) };
}

function aggregate(diceRows: number[][], hdRows: number[][], numEvaluated: number, ids: string[]): ScoreAggregate {
  const column = (rows: number[][], c: number) => nanMean(rows.map((r) => r[c]!));
  const dice_per_class = Array.from({ length: numEvaluated }, (_, c) => column(diceRows, c));
  const hd95_per_class = Array.from({ length: numEvaluated }, (_, c) => column(hdRows, c));
  return {
    count: diceRows.length, dice_mean: nanMean(dice_per_class), dice_per_class, hd95_mean: nanMean(hd95_per_class), hd95_per_class,
    dice_per_item: diceRows.map((r) => nanMean(r)), item_ids: ids,
  };
}

/** Mean of the non-NaN values; NaN when there are none. */
export function nanMean(values: readonly number[]): number {
  let s = 0;
  let n = 0;
  for (const v of values) {
    if (!Number.isNaN(v)) {
      s += v;
      n++;
    }
  }
  return n > 0 ? s / n : NaN;
}

function stridesOf(shape: readonly number[]): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let a = shape.length - 1; a >= 0; a--) {
    strides[a] = s;
    s *= shape[a]!;
  }
  return strides;
}

function incrementCoord(coord: number[], shape: readonly number[]): void {
  for (let a = shape.length - 1; a >= 0; a--) {
    if (++coord[a]! < shape[a]!) return;
    coord[a] = 0;
  }
}
