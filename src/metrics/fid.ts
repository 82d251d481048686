/**
 * Fréchet distance between Gaussians fitted to feature sets (FID when the features are Inception pool3).
 *
 *   FID = ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr((Σ1 Σ2)^{1/2})
 *
 * evaluated like pytorch-fid's `calculate_frechet_distance` (float64, the terms summed in that order), except
 * that tr((Σ1Σ2)^{1/2}) is computed from the eigenvalues of a symmetric PSD matrix similar to Σ1Σ2
 * ({@link traceSqrtProduct}) instead of scipy's complex Schur `sqrtm` — the same quantity (metrics spec §1.7:
 * agreement ≈ 1e-14 relative for full-rank covariances; for rank-deficient ones, N < D, every implementation,
 * scipy included, carries ≈ 1e-8 relative rounding noise).
 *
 * Reference-specific numerics and how they map here:
 * - pytorch-fid / TTUR eps fallback: when `sqrtm` returns non-finite values they retry with Σ + 1e-6·I. With the
 *   symmetric algorithm the result is non-finite only for non-finite input, which is rejected up front, so the
 *   fallback never triggers on its own. `epsOffset` forces it (adds eps·I to both covariances inside the square
 *   root term only, exactly as pytorch-fid does; the trace terms use the unmodified Σ).
 * - pytorch-fid's "Imaginary component" ValueError (|Im diag sqrtm| > 1e-3) has no counterpart: the symmetric
 *   algorithm has no imaginary part. Negative eigenvalues (rounding noise) are clamped to 0 = Re √λ of a tiny
 *   negative λ, i.e. torch-fidelity ≥ 0.4's `Σ Re √eig(Σ1Σ2)`; the count is reported.
 * - clean-fid: same formula, no imaginary check. StyleGAN2-ADA: covariances with ddof = 0 (`ddof` option of
 *   {@link fidFromFeatures}).
 */
import { allFinite, traceSqrtProduct, type TraceSqrtMethod } from './linalg.js';
import { RunningMoments, type FeatureMatrix } from './stats.js';

export interface FrechetOptions {
  /** algorithm for tr((Σ1Σ2)^{1/2}); default 'cholesky' (see linalg.traceSqrtProduct) */
  method?: TraceSqrtMethod;
  /** add eps·I to both covariances inside the square-root term (pytorch-fid's fallback uses 1e-6); default 0 */
  epsOffset?: number;
  /**
   * which covariance the 'cholesky' method factorises (tr((Σ1Σ2)^{1/2}) = tr((Σ2Σ1)^{1/2})); the one of lower rank is
   * faster (work ∝ rank). Default 1; fidFromFeatures picks the set with fewer samples.
   */
  factorize?: 1 | 2;
}

export interface FrechetResult {
  fid: number;
  /** ‖μ1 − μ2‖² */
  meanTerm: number;
  traceSigma1: number;
  traceSigma2: number;
  /** tr((Σ1Σ2)^{1/2}) */
  traceSqrt: number;
  dim: number;
  method: TraceSqrtMethod;
  epsOffset: number;
  /** numerical rank of the factorised covariance (Σ1 unless `factorize: 2`) */
  rankSigma1: number;
  /** eigenvalues that came out negative (rounding noise) and were clamped to 0 */
  clampedNegative: number;
}

function check(name: string, a: Float64Array, len: number): void {
  if (a.length !== len) throw new RangeError(`frechetDistance: ${name} has ${a.length} values, expected ${len}`);
  if (!allFinite(a)) {
    throw new RangeError(`frechetDistance: ${name} contains NaN or Infinity (pytorch-fid's eps fallback cannot repair that)`);
  }
}

/** Fréchet distance with all intermediate terms. μ: length d; Σ: d×d row-major, symmetric PSD. */
export function frechetDistanceDetailed(
  mu1: Float64Array, sigma1: Float64Array, mu2: Float64Array, sigma2: Float64Array, opts: FrechetOptions = {},
): FrechetResult {
  const d = mu1.length;
  if (mu2.length !== d) throw new RangeError(`frechetDistance: mean vectors have different lengths (${d} and ${mu2.length})`);
  check('mu1', mu1, d);
  check('mu2', mu2, d);
  check('sigma1', sigma1, d * d);
  check('sigma2', sigma2, d * d);
  const eps = opts.epsOffset ?? 0;
  if (!(eps >= 0) || !Number.isFinite(eps)) throw new RangeError(`frechetDistance: epsOffset must be a finite number ≥ 0, got ${eps}`);
  let meanTerm = 0;
  for (let i = 0; i < d; i++) {
    const x = mu1[i] - mu2[i];
    meanTerm += x * x;
  }
  let tr1 = 0;
  let tr2 = 0;
  for (let i = 0; i < d; i++) {
    tr1 += sigma1[i * d + i];
    tr2 += sigma2[i * d + i];
  }
  let s1 = sigma1;
  let s2 = sigma2;
  if (eps > 0) {
    s1 = Float64Array.from(sigma1);
    s2 = Float64Array.from(sigma2);
    for (let i = 0; i < d; i++) {
      s1[i * d + i] += eps;
      s2[i * d + i] += eps;
    }
  }
  const method = opts.method ?? 'cholesky';
  const ts = opts.factorize === 2 ? traceSqrtProduct(s2, s1, d, { method }) : traceSqrtProduct(s1, s2, d, { method });
  const fid = meanTerm + tr1 + tr2 - 2 * ts.trace;
  return {
    fid,
    meanTerm,
    traceSigma1: tr1,
    traceSigma2: tr2,
    traceSqrt: ts.trace,
    dim: d,
    method,
    epsOffset: eps,
    rankSigma1: ts.rankSigma1,
    clampedNegative: ts.clampedNegative,
  };
}

/** Fréchet distance ‖μ1 − μ2‖² + tr Σ1 + tr Σ2 − 2 tr((Σ1Σ2)^{1/2}). */
export function frechetDistance(
  mu1: Float64Array, sigma1: Float64Array, mu2: Float64Array, sigma2: Float64Array, opts: FrechetOptions = {},
): number {
  return frechetDistanceDetailed(mu1, sigma1, mu2, sigma2, opts).fid;
}

export interface FidFromFeaturesOptions extends FrechetOptions {
  /** covariance ddof: 1 = np.cov (pytorch-fid, torch-fidelity, clean-fid; default), 0 = StyleGAN2-ADA */
  ddof?: number;
}

/** FID between two feature matrices (mean + covariance in Float64, then {@link frechetDistanceDetailed}). */
export function fidFromFeaturesDetailed(
  real: FeatureMatrix, fake: FeatureMatrix, opts: FidFromFeaturesOptions = {},
): FrechetResult & { nReal: number; nFake: number } {
  if (real.cols !== fake.cols) {
    throw new RangeError(`fidFromFeatures: feature dimensions differ (real ${real.cols}, fake ${fake.cols})`);
  }
  const ddof = opts.ddof ?? 1;
  const a = new RunningMoments(real.cols).add(real);
  const b = new RunningMoments(fake.cols).add(fake);
  const factorize = opts.factorize ?? (fake.rows < real.rows ? 2 : 1);
  const r = frechetDistanceDetailed(a.mean(), a.covariance(ddof), b.mean(), b.covariance(ddof), { ...opts, factorize });
  return { ...r, nReal: real.rows, nFake: fake.rows };
}

/** FID between two feature matrices (rows = samples). */
export function fidFromFeatures(real: FeatureMatrix, fake: FeatureMatrix, opts: FidFromFeaturesOptions = {}): number {
  return fidFromFeaturesDetailed(real, fake, opts).fid;
}
