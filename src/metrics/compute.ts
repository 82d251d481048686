/**
 * All feature-space metrics at once: FID, KID, precision/recall, density/coverage — the JSON that
 * `medsyn metrics --real A.npy --fake B.npy --json` prints.
 *
 * Conventions (metrics spec; each function's doc has the details):
 * - FID: float64 mean and np.cov-style covariance (ddof 1) of each set; Fréchet distance with
 *   tr((Σ_real Σ_fake)^{1/2}) from the eigenvalues of a symmetric PSD matrix (pytorch-fid / torch-fidelity value).
 * - KID: torch-fidelity defaults (100 subsets × 1000, poly kernel degree 3, γ = 1/D, c0 = 1, unbiased MMD²,
 *   RandomState(seed = 2020) subsets drawn from input 1 = fake then input 2 = real, mean and np.std). A subset
 *   size above min(n_real, n_fake) is an error unless `kidSubsetSizePolicy: 'clip'`.
 * - precision/recall: Kynkäänniemi et al. (torch-fidelity PRC), k = 3, `≤`, precision over fake samples.
 * - density/coverage: Naeem et al. (`prdc.compute_prdc`), k = 5, strict `<`.
 */
import { ConfigError, DataError } from '../core/errors.js';
import { fidFromFeaturesDetailed } from './fid.js';
import { kernelInceptionDistance, KID_DEFAULTS } from './kid.js';
import type { TraceSqrtMethod } from './linalg.js';
import { readNpyMatrix } from './npy.js';
import { precisionRecallDensityCoverage } from './prdc.js';
import { assertFinite, featureMatrix, type FeatureArray, type FeatureMatrix } from './stats.js';

export interface FeatureMetricsOptions {
  /** KID subsets (default 100) */
  kidSubsets?: number;
  /** KID subset size (default 1000) */
  kidSubsetSize?: number;
  /** 'error' (default, torch-fidelity) or 'clip' to min(size, n_real, n_fake) (clean-fid) */
  kidSubsetSizePolicy?: 'error' | 'clip';
  /** k for precision/recall (default 3) */
  prK?: number;
  /** k for density/coverage (default 5) */
  dcK?: number;
  /** RandomState seed for the KID subsets (default 2020) */
  seed?: number;
  /** tr sqrt algorithm for FID (default 'cholesky') */
  fidMethod?: TraceSqrtMethod;
  /** progress messages (stage names) */
  onProgress?: (stage: 'fid' | 'kid' | 'prdc', detail?: string) => void;
}

export interface FeatureMetricsProtocol {
  n_real: number;
  n_fake: number;
  dim: number;
  kid: { subsets: number; subset_size: number; degree: number; gamma: number; coef0: number };
  pr_k: number;
  dc_k: number;
  seed: number;
  feature_extractor: 'user-supplied features';
  /** anything the caller should know (e.g. a clipped KID subset size) */
  notes: string[];
}

export interface FeatureMetricsResult {
  fid: number;
  kid_mean: number;
  kid_std: number;
  precision: number;
  recall: number;
  density: number;
  coverage: number;
  protocol: FeatureMetricsProtocol;
}

/** Accepts a FeatureMatrix, or a flat row-major array plus its column count. */
export type FeatureInput = FeatureMatrix | { data: FeatureArray; cols: number };

function asMatrix(x: FeatureInput, what: string): FeatureMatrix {
  const rows = 'rows' in x ? x.rows : x.data.length / x.cols;
  if (!Number.isInteger(rows)) throw new RangeError(`${what}: ${x.data.length} values are not a whole number of rows of ${x.cols}`);
  return featureMatrix(x.data, rows, x.cols, what);
}

/** Computes FID, KID, precision, recall, density and coverage of `fake` against `real` features. */
export function computeFeatureMetrics(realIn: FeatureInput, fakeIn: FeatureInput, opts: FeatureMetricsOptions = {}): FeatureMetricsResult {
  const real = asMatrix(realIn, 'real features');
  const fake = asMatrix(fakeIn, 'fake features');
  if (real.cols !== fake.cols) {
    throw new ConfigError(`real and fake features have different dimensions (${real.cols} and ${fake.cols}); they must come from the same feature extractor`);
  }
  assertFinite(real, 'real features');
  assertFinite(fake, 'fake features');
  if (real.rows < 2 || fake.rows < 2) throw new ConfigError(`need at least 2 samples per set for a covariance (real ${real.rows}, fake ${fake.rows})`);
  const seed = opts.seed ?? KID_DEFAULTS.seed;
  const prK = opts.prK ?? 3;
  const dcK = opts.dcK ?? 5;
  const minN = Math.min(real.rows, fake.rows);
  if (!Number.isInteger(prK) || prK < 1 || prK >= minN) throw new ConfigError(`precision/recall k must be an integer in [1, ${minN - 1}] (smallest set has ${minN} samples), got ${prK}`);
  if (!Number.isInteger(dcK) || dcK < 1 || dcK >= minN) throw new ConfigError(`density/coverage k must be an integer in [1, ${minN - 1}] (smallest set has ${minN} samples), got ${dcK}`);

  opts.onProgress?.('fid');
  const fid = fidFromFeaturesDetailed(real, fake, { method: opts.fidMethod });
  opts.onProgress?.('kid');
  const kid = kernelInceptionDistance(fake, real, {
    subsets: opts.kidSubsets,
    subsetSize: opts.kidSubsetSize,
    subsetSizePolicy: opts.kidSubsetSizePolicy,
    seed,
    onProgress: (done, total) => opts.onProgress?.('kid', `${done}/${total}`),
  });
  opts.onProgress?.('prdc');
  const pr = precisionRecallDensityCoverage(real, fake, {
    prK,
    dcK,
    onProgress: (stage, done, total) => opts.onProgress?.('prdc', `${stage} ${done}/${total}`),
  });
  const notes = [...kid.notes];
  if (real.rows <= real.cols || fake.rows <= fake.cols) {
    notes.push(
      `FID: fewer samples than feature dimensions (real ${real.rows}, fake ${fake.rows}, dim ${real.cols}) — the covariances are singular; ` +
        'FID is then strongly sample-size dependent (TTUR recommends ≥ 10,000 samples); compare only values computed with equal n',
    );
  }
  return {
    fid: fid.fid,
    kid_mean: kid.mean,
    kid_std: kid.std,
    precision: pr.precision,
    recall: pr.recall,
    density: pr.density,
    coverage: pr.coverage,
    protocol: {
      n_real: real.rows,
      n_fake: fake.rows,
      dim: real.cols,
      kid: { subsets: kid.subsets, subset_size: kid.subsetSize, degree: kid.degree, gamma: kid.gamma, coef0: kid.coef0 },
      pr_k: prK,
      dc_k: dcK,
      seed,
      feature_extractor: 'user-supplied features',
      notes,
    },
  };
}

/**
 * Reads two (n, d) float32/float64 .npy feature files and computes {@link computeFeatureMetrics}.
 * Errors name the offending file (DataError) or option (ConfigError).
 */
export function metricsFromNpyFiles(realPath: string, fakePath: string, opts: FeatureMetricsOptions = {}): FeatureMetricsResult {
  const real = readNpyMatrix(realPath);
  const fake = readNpyMatrix(fakePath);
  if (real.cols !== fake.cols) {
    throw new DataError(fakePath, `has ${fake.cols} features per row but ${realPath} has ${real.cols}`, 'both files must hold features from the same extractor');
  }
  for (const [m, p] of [[real, realPath], [fake, fakePath]] as const) {
    try {
      assertFinite(m, 'features');
    } catch (err) {
      throw new DataError(p, (err as Error).message);
    }
    if (m.rows < 2) throw new DataError(p, `holds ${m.rows} sample(s); at least 2 are needed`);
  }
  return computeFeatureMetrics(real, fake, opts);
}
