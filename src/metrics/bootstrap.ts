/**
 * Percentile-bootstrap confidence intervals for FID and KID over two feature matrices, cheap enough to run in every
 * GAN evaluation.
 *
 * A bootstrap draw resamples the rows of X (real, n1×d) and of Y (generated, n2×d) with replacement. Every statistic
 * needed by FID and by the unbiased MMD² of the resampled sets X* = X[i], Y* = Y[j] is a function of the Gram
 * matrices Gxx = XXᵀ, Gyy = YYᵀ, Gxy = XYᵀ, which are computed once (Float64, cost (n1² + n2² + n1·n2)·d). A draw is
 * described by its multiplicities w (w_u = how often row u was drawn; Σw = n): only the k ≈ 0.632·n distinct rows
 * enter, weighted.
 *
 * FID* (ddof 1, like fidFromFeatures):
 *   ‖μx‖² = Σ_uv w_u w_v Gxx[u,v] / n1²,  μx·μy = Σ_uv wx_u wy_v Gxy[u,v] / (n1·n2),
 *   tr Σx = (Σ_u w_u Gxx[u,u] − n1‖μx‖²) / (n1 − 1),
 *   tr (ΣxΣy)^{1/2} = Σ σ(C) / √((n1−1)(n2−1)) with C = X*c Y*cᵀ (n1×n2, both sets centred): the nonzero eigenvalues of
 *   ΣxΣy are those of CCᵀ/((n1−1)(n2−1)). Duplicated rows are folded in exactly: C = Px C̃ Pyᵀ with selection matrices
 *   P (PᵀP = diag(w)), so σ(C) = σ(diag(√wx) C̃ diag(√wy)) over the distinct rows. The centring is applied as a
 *   Householder reflection that maps the unit vector √w/√n to e1 on each side, after which the first row and column
 *   are dropped — this removes the centring null direction exactly instead of leaving a rounding-noise singular value.
 *   The singular values come from the eigenvalues of the smaller of C̃ᵀC̃ / C̃C̃ᵀ; eigenvalues ≤ m·ε·λmax (m = its
 *   size) are treated as 0 (rank deficiency, e.g. d < n: their square roots would be pure ≈1e-8·σmax noise).
 *   FID is translation invariant, so the features are centred at the mean of X before the Grams are formed (better
 *   conditioned; KID's raw dot products are recovered exactly as xc·yc + xc·c + yc·c + c·c).
 *
 * KID* (polynomial kernel k(x,y) = (γ·x·y + c0)^degree, γ = 1/d, c0 = 1, degree 3 — torch-fidelity's defaults): the
 * unbiased MMD² estimator over the positions of the draw,
 *   Σ_{a≠b} k(x*_a, x*_b)/(n1(n1−1)) + Σ_{a≠b} k(y*_a, y*_b)/(n2(n2−1)) − 2 Σ_{a,b} k(x*_a, y*_b)/(n1·n2),
 * i.e. the whole sets, no subsets; for n1 = n2 and a permutation draw this is exactly `mmd2Unbiased`. Positions a ≠ b
 * that hold the same original row contribute k(x, x): this is the standard (naive) bootstrap of the U-statistic and
 * is biased upwards by roughly 2·(E k(x,x) − E k(x,x'))/n — often more than the half-width of the interval.
 * `kid.ties: 'exclude'` sums only over pairs of different original rows instead (normalised by their count). The
 * interval is a bootstrap of the full-set MMD²; the KID point estimate reported elsewhere stays torch-fidelity's
 * subset mean.
 *
 * Intervals: the raw percentile interval [q_{(1−L)/2}, q_{(1+L)/2}] of the replicates is always returned
 * (`percentileLo/Hi`). Both FID (a biased estimator: resampling adds duplicate rows, i.e. fewer effective samples) and
 * the naive KID bootstrap have a bootstrap bias bootMean − estimate that is comparable to or larger than the spread, so
 * the raw percentile interval often does not contain the estimate (e.g. identical distributions, n = 60, d = 16:
 * FID 2.39, percentile interval [3.14, 6.92]). `lo`/`hi` are therefore, by default, the percentile interval shifted
 * by −bias ('bias-corrected'): the spread of the replicates centred on the estimate, i.e. the sampling variability of
 * the reported number at this n — not an interval for the population (n → ∞) FID. `interval: 'percentile'` selects
 * the raw one.
 *
 * Cost per draw ≈ m²·M + (4/3)·m³ + O(k1·k2) flops with k ≈ 0.632·n distinct rows per set, m = min(k1, k2) − 1,
 * M = max(k1, k2) − 1. The number of draws is capped so that draws · cost ≤ maxFlops (never below 20; see `method`).
 */
import { ConfigError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import { EPS, eigvalsSym, gemmNT, transpose } from './linalg.js';
import { powInt } from './kid.js';
import { assertFinite, toFloat64, type FeatureMatrix } from './stats.js';

/** A percentile bootstrap interval. */
export interface Ci {
  /** bounds of the interval selected by `interval` (default: bias-corrected percentile) */
  lo: number;
  hi: number;
  level: number;
  draws: number;
  interval: 'bias-corrected' | 'percentile';
  /** raw percentile bounds (quantiles (1 ∓ level)/2 of the replicates, linear interpolation) */
  percentileLo: number;
  percentileHi: number;
  /** bootMean − estimate */
  bias: number;
  /** the statistic on the original (not resampled) sets: FID, resp. the full-set unbiased MMD² */
  estimate: number;
  /** mean of the bootstrap replicates (bootMean − estimate estimates the bootstrap bias) */
  bootMean: number;
}

export interface BootstrapKidOptions {
  degree?: number;
  coef0?: number;
  /** γ; default 1/d */
  gamma?: number;
  /**
   * within-set pairs of the resampled sets: 'positions' (default) — all positions a ≠ b, a row drawn twice contributes
   * k(x, x) (the naive bootstrap of the U-statistic, biased upwards); 'exclude' — only pairs of different original
   * rows, normalised by their count Σ_{u≠v} w_u w_v (removes that bias).
   */
  ties?: 'positions' | 'exclude';
}

export interface BootstrapOptions {
  /** requested number of bootstrap draws (default 200) */
  draws?: number;
  /** seed of the resampling stream (default 0) */
  seed?: number;
  /** confidence level (default 0.95) */
  level?: number;
  kid?: BootstrapKidOptions;
  /** flop budget for all draws together (default 3e10); draws are capped to fit, but never below 20 */
  maxFlops?: number;
  /** refuse when the three Gram matrices need more than this many bytes (default 1 GiB) */
  maxGramBytes?: number;
  /**
   * which interval `lo`/`hi` report: 'bias-corrected' (default) — the percentile interval shifted by the bootstrap
   * bias estimate (bootMean − estimate), i.e. the spread of the replicates centred on the estimate; 'percentile' — the
   * raw percentile interval. Both are always returned (`percentileLo/Hi`).
   */
  interval?: 'bias-corrected' | 'percentile';
}

export interface BootstrapResult {
  fid: Ci;
  kid: Ci;
  /** draws actually used */
  draws: number;
  requestedDraws: number;
  /** human-readable description, including any capping of the draws */
  method: string;
  /** estimated flops of one draw (the basis of the cap) */
  flopsPerDraw: number;
  seed: number;
}

/** FID and unbiased MMD² of one resampled pair of sets. */
export interface ResampledStats {
  fid: number;
  mmd2: number;
  meanTerm: number;
  traceSigma1: number;
  traceSigma2: number;
  traceSqrt: number;
}

export const BOOTSTRAP_DEFAULTS = { draws: 200, seed: 0, level: 0.95, maxFlops: 3e10, minDraws: 20, maxGramBytes: 2 ** 30 } as const;


/** Expected number of distinct rows in a draw of n with replacement: n(1 − (1 − 1/n)^n). */
function expectedDistinct(n: number): number {
  return n * (1 - Math.pow(1 - 1 / n, n));
}

/** Estimated flops of one draw for set sizes n1, n2 (see module comment). */
export function bootstrapFlopsPerDraw(n1: number, n2: number): number {
  const k1 = expectedDistinct(n1);
  const k2 = expectedDistinct(n2);
  const m = Math.max(0, Math.min(k1, k2) - 1);
  const M = Math.max(0, Math.max(k1, k2) - 1);
  return m * m * M + (4 / 3) * m * m * m + 12 * (k1 * k1 + k2 * k2 + k1 * k2);
}

/**
 * Pre-computed Gram matrices of a (real, fake) pair; evaluates FID and MMD² of any resampling of the rows.
 * Exported for tests and for callers that want their own resampling scheme.
 */
export class FeatureBootstrap {
  readonly n1: number;
  readonly n2: number;
  readonly d: number;
  readonly degree: number;
  readonly gamma: number;
  readonly coef0: number;
  readonly ties: 'positions' | 'exclude';
  /** Grams of the features centred at c = mean of X (full symmetric for xx, yy; n1×n2 for xy) */
  private readonly Gxx: Float64Array;
  private readonly Gyy: Float64Array;
  private readonly Gxy: Float64Array;
  /** xc·c, yc·c, c·c (to recover raw dot products for the kernel) */
  private readonly px: Float64Array;
  private readonly py: Float64Array;
  private readonly cc: number;

  constructor(real: FeatureMatrix, fake: FeatureMatrix, kid: BootstrapKidOptions = {}, maxGramBytes: number = BOOTSTRAP_DEFAULTS.maxGramBytes) {
    validate(real, fake);
    const n1 = real.rows;
    const n2 = fake.rows;
    const d = real.cols;
    this.n1 = n1;
    this.n2 = n2;
    this.d = d;
    this.degree = kid.degree ?? 3;
    this.gamma = kid.gamma ?? 1 / d;
    this.coef0 = kid.coef0 ?? 1;
    this.ties = kid.ties ?? 'positions';
    if (this.ties !== 'positions' && this.ties !== 'exclude') throw new ConfigError(`bootstrap: KID ties must be 'positions' or 'exclude', got ${String(this.ties)}`);
    if (!Number.isInteger(this.degree) || this.degree < 1) throw new ConfigError(`bootstrap: KID kernel degree must be a positive integer, got ${this.degree}`);
    if (!Number.isFinite(this.gamma) || !Number.isFinite(this.coef0)) throw new ConfigError('bootstrap: KID gamma and coef0 must be finite');
    const bytes = 8 * (n1 * n1 + n2 * n2 + n1 * n2);
    if (bytes > maxGramBytes) {
      throw new ConfigError(
        `bootstrap: the Gram matrices of ${n1} + ${n2} rows need ${(bytes / 2 ** 20).toFixed(0)} MiB (limit ${(maxGramBytes / 2 ** 20).toFixed(0)} MiB); ` +
          'subsample the features or raise maxGramBytes',
      );
    }
    const X = toFloat64(real);
    const Y = toFloat64(fake);
    const c = new Float64Array(d);
    for (let i = 0; i < n1; i++) for (let j = 0; j < d; j++) c[j] += X[i * d + j];
    for (let j = 0; j < d; j++) c[j] /= n1;
    const Xc = new Float64Array(n1 * d);
    const Yc = new Float64Array(n2 * d);
    this.px = new Float64Array(n1);
    this.py = new Float64Array(n2);
    for (let i = 0; i < n1; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = X[i * d + j] - c[j];
        Xc[i * d + j] = v;
        s += v * c[j];
      }
      this.px[i] = s;
    }
    for (let i = 0; i < n2; i++) {
      let s = 0;
      for (let j = 0; j < d; j++) {
        const v = Y[i * d + j] - c[j];
        Yc[i * d + j] = v;
        s += v * c[j];
      }
      this.py[i] = s;
    }
    let cc = 0;
    for (let j = 0; j < d; j++) cc += c[j] * c[j];
    this.cc = cc;
    this.Gxx = symGram(Xc, n1, d);
    this.Gyy = symGram(Yc, n2, d);
    this.Gxy = new Float64Array(n1 * n2);
    gemmNT(Xc, 0, d, Yc, 0, d, this.Gxy, 0, n2, n1, n2, d);
  }

  /** Statistics of the resampled sets X[ix], Y[iy] (index vectors of any length ≥ 2, entries in range). */
  evaluate(ix: ArrayLike<number>, iy: ArrayLike<number>): ResampledStats {
    return this.evaluateCounts(countsOf(ix, this.n1, 'ix'), countsOf(iy, this.n2, 'iy'));
  }

  /** Statistics of the resampling given by multiplicities (wx: length n1, wy: length n2, sums ≥ 2). */
  evaluateCounts(wx: Int32Array, wy: Int32Array): ResampledStats {
    const ux = distinct(wx);
    const uy = distinct(wy);
    const { degree, gamma, coef0, cc } = this;
    const off = cc * gamma + coef0;
    // within-set sums: FID (centred Gram) and kernel (raw dot products)
    const exclude = this.ties === 'exclude';
    // returns Σ_uv w_u w_v G, Σ_u w_u G_uu, Σ over the selected within-set pairs of k, and the number of those pairs
    const within = (G: Float64Array, n: number, u: Int32Array, w: Int32Array, p: Float64Array, N: number): [number, number, number, number] => {
      let sG = 0, dG = 0, sK = 0, dK = 0, tK = 0, w2 = 0;
      const k = u.length;
      for (let a = 0; a < k; a++) {
        const ua = u[a];
        const wa = w[ua];
        const row = ua * n;
        const pa = p[ua] * gamma + off;
        let rG = 0, rK = 0;
        for (let b = a + 1; b < k; b++) {
          const ub = u[b];
          const g = G[row + ub];
          const wb = w[ub];
          rG += wb * g;
          rK += wb * powInt(g * gamma + pa + p[ub] * gamma, degree);
        }
        const gaa = G[row + ua];
        const kaa = powInt(gaa * gamma + pa + p[ua] * gamma, degree);
        sG += wa * (2 * rG + wa * gaa);
        sK += wa * (2 * rK + wa * kaa);
        dG += wa * gaa;
        dK += wa * kaa;
        tK += wa * wa * kaa;
        w2 += wa * wa;
      }
      // 'exclude' with a single distinct row has no admissible pair: fall back to the positions statistic
      return exclude && N * N - w2 > 0 ? [sG, dG, sK - tK, N * N - w2] : [sG, dG, sK - dK, N * (N - 1)];
    };
    const N1 = sum(wx);
    const N2 = sum(wy);
    if (N1 < 2 || N2 < 2) throw new RangeError('bootstrap: a resampled set needs at least 2 rows');
    const [sxG, dxG, pxK, cxK] = within(this.Gxx, this.n1, ux, wx, this.px, N1);
    const [syG, dyG, pyK, cyK] = within(this.Gyy, this.n2, uy, wy, this.py, N2);
    // cross sums and the weighted cross block B_ab = √wx_a √wy_b Gxy[ua, ub]
    const k1 = ux.length;
    const k2 = uy.length;
    const B = new Float64Array(k1 * k2);
    const sx = new Float64Array(k1);
    const sy = new Float64Array(k2);
    for (let a = 0; a < k1; a++) sx[a] = Math.sqrt(wx[ux[a]] / N1);
    for (let b = 0; b < k2; b++) sy[b] = Math.sqrt(wy[uy[b]] / N2);
    let sxyG = 0, sxyK = 0;
    for (let a = 0; a < k1; a++) {
      const ua = ux[a];
      const wa = wx[ua];
      const row = ua * this.n2;
      const pa = this.px[ua] * gamma + off;
      const ra = Math.sqrt(wa);
      let rG = 0, rK = 0;
      for (let b = 0; b < k2; b++) {
        const ub = uy[b];
        const g = this.Gxy[row + ub];
        const wb = wy[ub];
        rG += wb * g;
        rK += wb * powInt(g * gamma + pa + this.py[ub] * gamma, degree);
        B[a * k2 + b] = ra * Math.sqrt(wb) * g;
      }
      sxyG += wa * rG;
      sxyK += wa * rK;
    }
    const meanTerm = sxG / (N1 * N1) + syG / (N2 * N2) - (2 * sxyG) / (N1 * N2);
    const traceSigma1 = (dxG - sxG / N1) / (N1 - 1);
    const traceSigma2 = (dyG - syG / N2) / (N2 - 1);
    const sigmaSum = centredSingularValueSum(B, k1, k2, sx, sy);
    const traceSqrt = sigmaSum / Math.sqrt((N1 - 1) * (N2 - 1));
    const fid = meanTerm + traceSigma1 + traceSigma2 - 2 * traceSqrt;
    const mmd2 = pxK / cxK + pyK / cyK - (2 * sxyK) / (N1 * N2);
    return { fid, mmd2, meanTerm, traceSigma1, traceSigma2, traceSqrt };
  }
}

/**
 * Σ σ((I − s sᵀ) B (I − t tᵀ)) for unit vectors s (length k1), t (length k2) with positive entries: Householder
 * reflections H_s, H_t map s, t to e1, so the centred matrix is orthogonally equivalent to the trailing
 * (k1−1)×(k2−1) block of H_s B H_t. B is overwritten.
 */
function centredSingularValueSum(B: Float64Array, k1: number, k2: number, s: Float64Array, t: Float64Array): number {
  if (k1 < 2 || k2 < 2) return 0;
  // left: B ← B − v (vᵀB)/(1 + s0), v = s + e1
  const r = new Float64Array(k2);
  const v0 = s[0] + 1;
  for (let a = 0; a < k1; a++) {
    const va = a === 0 ? v0 : s[a];
    const o = a * k2;
    for (let b = 0; b < k2; b++) r[b] += va * B[o + b];
  }
  let f = 1 / (1 + s[0]);
  for (let a = 0; a < k1; a++) {
    const va = (a === 0 ? v0 : s[a]) * f;
    const o = a * k2;
    for (let b = 0; b < k2; b++) B[o + b] -= va * r[b];
  }
  // right: B ← B − (B u) uᵀ/(1 + t0), u = t + e1 (rows ≥ 1 only; row 0 is dropped)
  const u0 = t[0] + 1;
  f = 1 / (1 + t[0]);
  const m1 = k1 - 1;
  const m2 = k2 - 1;
  const Cm = new Float64Array(m1 * m2);
  for (let a = 1; a < k1; a++) {
    const o = a * k2;
    let q = B[o] * u0;
    for (let b = 1; b < k2; b++) q += B[o + b] * t[b];
    q *= f;
    const oc = (a - 1) * m2;
    for (let b = 1; b < k2; b++) Cm[oc + b - 1] = B[o + b] - q * t[b];
  }
  // eigenvalues of the smaller Gram of Cm
  let P: Float64Array = Cm;
  let rows = m1;
  let len = m2;
  if (m2 < m1) {
    P = transpose(Cm, m1, m2);
    rows = m2;
    len = m1;
  }
  const M = new Float64Array(rows * rows);
  gemmNT(P, 0, len, P, 0, len, M, 0, rows, rows, rows, len, { upper: true });
  const lam = eigvalsSym(M, rows);
  let lmax = 0;
  for (const l of lam) if (l > lmax) lmax = l;
  const tol = rows * EPS * lmax;
  let sum = 0;
  for (const l of lam) if (l > tol) sum += Math.sqrt(l);
  return sum;
}

function symGram(A: Float64Array, n: number, d: number): Float64Array {
  const G = new Float64Array(n * n);
  gemmNT(A, 0, d, A, 0, d, G, 0, n, n, n, d, { upper: true });
  for (let i = 1; i < n; i++) for (let j = 0; j < i; j++) G[i * n + j] = G[j * n + i];
  return G;
}

function countsOf(idx: ArrayLike<number>, n: number, what: string): Int32Array {
  const w = new Int32Array(n);
  for (let a = 0; a < idx.length; a++) {
    const i = idx[a];
    if (!Number.isInteger(i) || i < 0 || i >= n) throw new RangeError(`bootstrap: ${what}[${a}] = ${i} is not a row index in [0, ${n})`);
    w[i]++;
  }
  return w;
}

function distinct(w: Int32Array): Int32Array {
  let k = 0;
  for (let i = 0; i < w.length; i++) if (w[i] > 0) k++;
  const u = new Int32Array(k);
  k = 0;
  for (let i = 0; i < w.length; i++) if (w[i] > 0) u[k++] = i;
  return u;
}

function sum(w: Int32Array): number {
  let s = 0;
  for (let i = 0; i < w.length; i++) s += w[i];
  return s;
}

function validate(real: FeatureMatrix, fake: FeatureMatrix): void {
  if (real.cols !== fake.cols) throw new RangeError(`bootstrap: feature dimensions differ (real ${real.cols}, fake ${fake.cols})`);
  for (const [m, what] of [[real, 'real'], [fake, 'fake']] as const) {
    if (!Number.isInteger(m.rows) || m.rows < 2) throw new RangeError(`bootstrap: the ${what} features need at least 2 rows, got ${m.rows}`);
    if (!Number.isInteger(m.cols) || m.cols < 1) throw new RangeError(`bootstrap: invalid feature dimension ${m.cols}`);
    if (m.data.length !== m.rows * m.cols) throw new RangeError(`bootstrap: ${what} has ${m.data.length} values, expected ${m.rows}×${m.cols}`);
    assertFinite(m, `bootstrap: ${what} features`);
  }
}

/** Linear-interpolation quantile of a sorted array (numpy's default 'linear' method). */
function quantileSorted(sorted: Float64Array, q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
}

function percentileCi(values: Float64Array, level: number, estimate: number, interval: 'bias-corrected' | 'percentile'): Ci {
  const sorted = Float64Array.from(values).sort();
  const a = (1 - level) / 2;
  let m = 0;
  for (const v of values) m += v;
  const bootMean = m / values.length;
  const bias = bootMean - estimate;
  const pLo = quantileSorted(sorted, a);
  const pHi = quantileSorted(sorted, 1 - a);
  const shift = interval === 'bias-corrected' ? bias : 0;
  return {
    lo: pLo - shift, hi: pHi - shift, level, draws: values.length, interval,
    percentileLo: pLo, percentileHi: pHi, bias, estimate, bootMean,
  };
}

/**
 * Percentile-bootstrap intervals for FID and (full-set) KID/MMD² of real vs generated features. Deterministic given
 * the seed. See the module comment for the method and its cost.
 */
export function bootstrapFeatureCis(real: FeatureMatrix, fake: FeatureMatrix, opts: BootstrapOptions = {}): BootstrapResult {
  const requested = opts.draws ?? BOOTSTRAP_DEFAULTS.draws;
  const seed = opts.seed ?? BOOTSTRAP_DEFAULTS.seed;
  const level = opts.level ?? BOOTSTRAP_DEFAULTS.level;
  const maxFlops = opts.maxFlops ?? BOOTSTRAP_DEFAULTS.maxFlops;
  if (!Number.isInteger(requested) || requested < 2) throw new ConfigError(`bootstrap: draws must be an integer ≥ 2, got ${requested}`);
  if (!(level > 0 && level < 1)) throw new ConfigError(`bootstrap: level must be in (0, 1), got ${level}`);
  if (!Number.isFinite(seed)) throw new ConfigError(`bootstrap: seed must be a finite number, got ${seed}`);
  const interval = opts.interval ?? 'bias-corrected';
  if (interval !== 'bias-corrected' && interval !== 'percentile') throw new ConfigError(`bootstrap: interval must be 'bias-corrected' or 'percentile', got ${String(interval)}`);
  if (!(maxFlops > 0)) throw new ConfigError(`bootstrap: maxFlops must be > 0, got ${maxFlops}`);
  const fb = new FeatureBootstrap(real, fake, opts.kid, opts.maxGramBytes);
  const { n1, n2 } = fb;
  const perDraw = bootstrapFlopsPerDraw(n1, n2);
  const affordable = Math.floor(maxFlops / perDraw);
  const minDraws = Math.min(requested, BOOTSTRAP_DEFAULTS.minDraws);
  const draws = Math.min(requested, Math.max(minDraws, affordable));
  let method =
    `${interval === 'bias-corrected' ? 'bias-corrected (shifted by bootMean − estimate) percentile' : 'percentile'} bootstrap (${draws} draws, seed ${seed}, level ${level}) of FID (ddof 1) and of the full-set unbiased MMD² ` +
    `(polynomial kernel degree ${fb.degree}, gamma ${fb.gamma}, coef0 ${fb.coef0}; ${fb.ties === 'positions' ? 'naive U-statistic bootstrap, duplicates contribute k(x,x)' : 'pairs of identical rows excluded'}); ` +
    `rows resampled with replacement, ${n1} real / ${n2} generated, exact Gram-matrix evaluation`;
  if (draws < requested) {
    method +=
      affordable >= minDraws
        ? `; draws capped from ${requested} to ${draws} by the flop budget ${maxFlops.toExponential(1)} (≈${perDraw.toExponential(2)} flops per draw)`
        : `; draws reduced from ${requested} to the minimum ${draws}, which still exceeds the flop budget ${maxFlops.toExponential(1)} (≈${perDraw.toExponential(2)} flops per draw)`;
  }
  const full1 = new Int32Array(n1).fill(1);
  const full2 = new Int32Array(n2).fill(1);
  const point = fb.evaluateCounts(full1, full2);
  const rng = new Rng(seed);
  const fids = new Float64Array(draws);
  const mmds = new Float64Array(draws);
  const wx = new Int32Array(n1);
  const wy = new Int32Array(n2);
  for (let t = 0; t < draws; t++) {
    wx.fill(0);
    wy.fill(0);
    for (let a = 0; a < n1; a++) wx[Math.floor(rng.next() * n1)]++;
    for (let b = 0; b < n2; b++) wy[Math.floor(rng.next() * n2)]++;
    const r = fb.evaluateCounts(wx, wy);
    fids[t] = r.fid;
    mmds[t] = r.mmd2;
  }
  return {
    fid: percentileCi(fids, level, point.fid, interval),
    kid: percentileCi(mmds, level, point.mmd2, interval),
    draws,
    requestedDraws: requested,
    method,
    flopsPerDraw: perDraw,
    seed,
  };
}

/** The index vectors of draw t (0-based) of {@link bootstrapFeatureCis} with this seed (for inspection/tests). */
export function bootstrapDrawIndices(n1: number, n2: number, seed: number, t: number): [Int32Array, Int32Array] {
  const rng = new Rng(seed);
  let ix = new Int32Array(n1);
  let iy = new Int32Array(n2);
  for (let s = 0; s <= t; s++) {
    ix = new Int32Array(n1);
    iy = new Int32Array(n2);
    for (let a = 0; a < n1; a++) ix[a] = Math.floor(rng.next() * n1);
    for (let b = 0; b < n2; b++) iy[b] = Math.floor(rng.next() * n2);
  }
  return [ix, iy];
}
