/**
 * k-NN manifold metrics (metrics spec §3):
 *
 * - **precision / recall** of Kynkäänniemi et al. 2019 as implemented by torch-fidelity (`metric_prc.py`) and the
 *   official code: radius r_k(s) = distance to the k-th nearest neighbour of s within its own set excluding s
 *   (the (k+1)-th smallest distance of the row, self = 0 included), membership `d(p, s) ≤ r_k(s)`; precision =
 *   fraction of **generated** samples inside the real manifold, recall = fraction of **real** samples inside the
 *   generated manifold. Default k = 3.
 * - **density / coverage** of Naeem et al. 2020 exactly as `clovaai/generative-evaluation-prdc::compute_prdc`:
 *   strict `<` everywhere; density = (1/k)·mean_j Σ_i 1[D(i,j) < r_i], coverage = mean_i 1[min_j D(i,j) < r_i].
 *   Default k = 5. compute_prdc's own precision/recall (strict, same k) are returned too (`prdcPrecision`, `prdcRecall`).
 *
 * Distances are Euclidean, computed like scikit-learn's `euclidean_distances` (which prdc uses):
 * √max(‖x‖² − 2xᵀy + ‖y‖², 0) in float64, the diagonal of a set against itself set to exactly 0. torch.cdist in
 * float32 (torch-fidelity) can differ in the last float32 bits; only exact ties at a radius can flip.
 *
 * Memory is O((n_real + n_fake)·k + block²): distances are produced in blocks and reduced on the fly (the
 * n×n matrices are never stored). Cost ≈ (n_r²/2 + n_f²/2 + n_r·n_f)·D multiply-adds.
 */
import { gemmNT } from './linalg.js';
import { toFloat64, type FeatureMatrix } from './stats.js';

export interface PrdcOptions {
  /** k for precision/recall (Kynkäänniemi, ≤), default 3 */
  prK?: number;
  /** k for density/coverage (Naeem prdc, <), default 5 */
  dcK?: number;
  /** rows per distance block (default 240) */
  blockRows?: number;
  onProgress?: (stage: 'real-radii' | 'fake-radii' | 'cross', done: number, total: number) => void;
}

export interface PrdcResult {
  /** Kynkäänniemi/torch-fidelity precision (k = prK, ≤) */
  precision: number;
  /** Kynkäänniemi/torch-fidelity recall (k = prK, ≤) */
  recall: number;
  /** Naeem density (k = dcK, <) */
  density: number;
  /** Naeem coverage (k = dcK, <) */
  coverage: number;
  /** compute_prdc's precision (k = dcK, <) */
  prdcPrecision: number;
  /** compute_prdc's recall (k = dcK, <) */
  prdcRecall: number;
  prK: number;
  dcK: number;
  nReal: number;
  nFake: number;
}

function rowNorms(X: Float64Array, n: number, d: number): Float64Array {
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    let s = 0;
    const o = i * d;
    for (let k = 0; k < d; k++) s += X[o + k] * X[o + k];
    out[i] = s;
  }
  return out;
}

/** Distance from squared norms and a dot product, as scikit-learn: √max((−2·xy + xx) + yy, 0). */
function dist(xx: number, yy: number, xy: number): number {
  const d2 = -2 * xy + xx + yy;
  return d2 > 0 ? Math.sqrt(d2) : 0;
}

/** Keeps the K smallest values per row (sorted ascending) in sel[row*K … row*K+K−1]. */
function insert(sel: Float64Array, o: number, K: number, v: number): void {
  if (!(v < sel[o + K - 1])) return;
  let p = o + K - 1;
  while (p > o && sel[p - 1] > v) {
    sel[p] = sel[p - 1];
    p--;
  }
  sel[p] = v;
}

/**
 * For each row of X (n×d), the K smallest Euclidean distances to the rows of X (self distance 0 included), sorted.
 * The k-NN radius excluding self is column k (0-based) of the result: `sel[i*K + k]`.
 */
export function smallestSelfDistances(
  X: Float64Array, n: number, d: number, K: number, blockRows = 240,
  onBlock?: (done: number, total: number) => void,
): Float64Array {
  const sel = new Float64Array(n * K).fill(Infinity);
  const norms = rowNorms(X, n, d);
  const B = Math.max(3, blockRows - (blockRows % 3));
  const tile = new Float64Array(B * B);
  const nb = Math.ceil(n / B);
  let done = 0;
  const total = (nb * (nb + 1)) / 2;
  for (let i0 = 0; i0 < n; i0 += B) {
    const bi = Math.min(B, n - i0);
    for (let j0 = i0; j0 < n; j0 += B) {
      const bj = Math.min(B, n - j0);
      const diag = i0 === j0;
      gemmNT(X, i0 * d, d, X, j0 * d, d, tile, 0, B, bi, bj, d, { upper: diag });
      for (let a = 0; a < bi; a++) {
        const i = i0 + a;
        const oi = i * K;
        const xx = norms[i];
        for (let b = diag ? a : 0; b < bj; b++) {
          const j = j0 + b;
          if (i === j) {
            insert(sel, oi, K, 0); // scikit-learn zeroes the diagonal of X against itself
            continue;
          }
          const xy = tile[a * B + b];
          const nj = norms[j];
          insert(sel, oi, K, dist(xx, nj, xy)); // row i of the full matrix
          insert(sel, j * K, K, dist(nj, xx, xy)); // row j (same rounding as scikit-learn's row j)
        }
      }
      onBlock?.(++done, total);
    }
  }
  return sel;
}

/** k-NN radii (k-th neighbour excluding self) of the rows of a feature matrix. */
export function nearestNeighbourRadii(features: FeatureMatrix, k: number): Float64Array {
  checkK(k, features.rows, 'features');
  const K = k + 1;
  const sel = smallestSelfDistances(toFloat64(features), features.rows, features.cols, K);
  const r = new Float64Array(features.rows);
  for (let i = 0; i < features.rows; i++) r[i] = sel[i * K + k];
  return r;
}

function checkK(k: number, n: number, what: string): void {
  if (!Number.isInteger(k) || k < 1) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (n < k + 1) throw new RangeError(`${what}: k = ${k} nearest neighbours need at least ${k + 1} samples, got ${n}`);
}

/** Precision, recall, density and coverage between real and generated (fake) features. */
export function precisionRecallDensityCoverage(real: FeatureMatrix, fake: FeatureMatrix, opts: PrdcOptions = {}): PrdcResult {
  if (real.cols !== fake.cols) throw new RangeError(`PRDC: feature dimensions differ (real ${real.cols}, fake ${fake.cols})`);
  const prK = opts.prK ?? 3;
  const dcK = opts.dcK ?? 5;
  const d = real.cols;
  const nr = real.rows;
  const nf = fake.rows;
  checkK(prK, Math.min(nr, nf), 'PRDC precision/recall');
  checkK(dcK, Math.min(nr, nf), 'PRDC density/coverage');
  const K = Math.max(prK, dcK) + 1;
  const blockRows = opts.blockRows ?? 240;
  const R = toFloat64(real);
  const F = toFloat64(fake);
  const selR = smallestSelfDistances(R, nr, d, K, blockRows, (a, b) => opts.onProgress?.('real-radii', a, b));
  const selF = smallestSelfDistances(F, nf, d, K, blockRows, (a, b) => opts.onProgress?.('fake-radii', a, b));
  const rRpr = new Float64Array(nr), rRdc = new Float64Array(nr);
  const rFpr = new Float64Array(nf), rFdc = new Float64Array(nf);
  for (let i = 0; i < nr; i++) {
    rRpr[i] = selR[i * K + prK];
    rRdc[i] = selR[i * K + dcK];
  }
  for (let j = 0; j < nf; j++) {
    rFpr[j] = selF[j * K + prK];
    rFdc[j] = selF[j * K + dcK];
  }
  const normR = rowNorms(R, nr, d);
  const normF = rowNorms(F, nf, d);
  const precLe = new Uint8Array(nf); // fake j inside real manifold (≤, prK)
  const recLe = new Uint8Array(nr); // real i inside fake manifold (≤, prK)
  const precS = new Uint8Array(nf); // strict, dcK
  const recS = new Uint8Array(nr);
  const densCount = new Float64Array(nf);
  const minD = new Float64Array(nr).fill(Infinity);
  const B = Math.max(3, blockRows - (blockRows % 3));
  const tile = new Float64Array(B * B);
  const nbi = Math.ceil(nr / B), nbj = Math.ceil(nf / B);
  let done = 0;
  for (let i0 = 0; i0 < nr; i0 += B) {
    const bi = Math.min(B, nr - i0);
    for (let j0 = 0; j0 < nf; j0 += B) {
      const bj = Math.min(B, nf - j0);
      gemmNT(R, i0 * d, d, F, j0 * d, d, tile, 0, B, bi, bj, d);
      for (let a = 0; a < bi; a++) {
        const i = i0 + a;
        const xx = normR[i];
        const rp = rRpr[i], rd = rRdc[i];
        let md = minD[i];
        let rl = recLe[i], rs = recS[i];
        for (let b = 0; b < bj; b++) {
          const j = j0 + b;
          const v = dist(xx, normF[j], tile[a * B + b]);
          if (v <= rp) precLe[j] = 1;
          if (v <= rFpr[j]) rl = 1;
          if (v < rd) {
            precS[j] = 1;
            densCount[j]++;
          }
          if (v < rFdc[j]) rs = 1;
          if (v < md) md = v;
        }
        minD[i] = md;
        recLe[i] = rl;
        recS[i] = rs;
      }
      opts.onProgress?.('cross', ++done, nbi * nbj);
    }
  }
  let cPrecLe = 0, cPrecS = 0, dens = 0;
  for (let j = 0; j < nf; j++) {
    cPrecLe += precLe[j];
    cPrecS += precS[j];
    dens += densCount[j];
  }
  let cRecLe = 0, cRecS = 0, cCov = 0;
  for (let i = 0; i < nr; i++) {
    cRecLe += recLe[i];
    cRecS += recS[i];
    if (minD[i] < rRdc[i]) cCov++;
  }
  return {
    precision: cPrecLe / nf,
    recall: cRecLe / nr,
    density: (1 / dcK) * (dens / nf),
    coverage: cCov / nr,
    prdcPrecision: cPrecS / nf,
    prdcRecall: cRecS / nr,
    prK,
    dcK,
    nReal: nr,
    nFake: nf,
  };
}

/** Naeem et al. compute_prdc(real, fake, nearest_k = k): all four metrics with strict `<` and one k. */
export function computePrdc(real: FeatureMatrix, fake: FeatureMatrix, k: number): { precision: number; recall: number; density: number; coverage: number } {
  const r = precisionRecallDensityCoverage(real, fake, { prK: k, dcK: k });
  return { precision: r.prdcPrecision, recall: r.prdcRecall, density: r.density, coverage: r.coverage };
}

/** Kynkäänniemi et al. / torch-fidelity precision and recall (≤, generated = fake). */
export function improvedPrecisionRecall(real: FeatureMatrix, fake: FeatureMatrix, k = 3): { precision: number; recall: number } {
  const r = precisionRecallDensityCoverage(real, fake, { prK: k, dcK: k });
  return { precision: r.precision, recall: r.recall };
}
