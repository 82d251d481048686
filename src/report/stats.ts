/** Small, dependency-free statistics for the study report: ranks, Spearman, bootstrap, Wilcoxon signed-rank. */
import { Rng } from '../core/rng.js';

/** Average ranks (1-based), ties share the mean of their positions. */
export function rankAverage(values: readonly number[]): number[] {
  const idx = values.map((v, i) => [v, i] as const).sort((a, b) => a[0] - b[0]);
  const ranks = new Array<number>(values.length);
  let i = 0;
  while (i < idx.length) {
    let j = i;
    while (j + 1 < idx.length && idx[j + 1]![0] === idx[i]![0]) j++;
    const r = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++) ranks[idx[k]![1]] = r;
    i = j + 1;
  }
  return ranks;
}

export function pearson(x: readonly number[], y: readonly number[]): number | null {
  const n = x.length;
  if (n !== y.length || n < 2) return null;
  const mx = x.reduce((a, b) => a + b, 0) / n;
  const my = y.reduce((a, b) => a + b, 0) / n;
  let sxy = 0, sxx = 0, syy = 0;
  for (let i = 0; i < n; i++) {
    const dx = x[i]! - mx, dy = y[i]! - my;
    sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
  }
  if (sxx === 0 || syy === 0) return null;
  return sxy / Math.sqrt(sxx * syy);
}

/** Spearman's rho (Pearson correlation of average ranks); null for fewer than 3 pairs or a constant side. */
export function spearman(x: readonly number[], y: readonly number[]): number | null {
  if (x.length !== y.length || x.length < 3) return null;
  return pearson(rankAverage(x), rankAverage(y));
}

export function mean(xs: readonly number[]): number {
  return xs.reduce((a, b) => a + b, 0) / xs.length;
}

/** Linear-interpolated quantile of sorted values (numpy's default). */
export function quantileSorted(sorted: readonly number[], q: number): number {
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos), hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

export interface BootstrapCi {
  readonly mean: number;
  readonly lo: number;
  readonly hi: number;
  readonly draws: number;
  readonly n: number;
}

/** Percentile bootstrap interval of the mean; deterministic per seed. Null for an empty sample. */
export function bootstrapMeanCi(samples: readonly number[], seed: number, draws = 2000, level = 0.95): BootstrapCi | null {
  const n = samples.length;
  if (n === 0) return null;
  const rng = new Rng(seed);
  const means = new Float64Array(draws);
  for (let d = 0; d < draws; d++) {
    let s = 0;
    for (let i = 0; i < n; i++) s += samples[Math.floor(rng.next() * n)]!;
    means[d] = s / n;
  }
  const sorted = Array.from(means).sort((a, b) => a - b);
  const a = (1 - level) / 2;
  return { mean: mean(samples), lo: quantileSorted(sorted, a), hi: quantileSorted(sorted, 1 - a), draws, n };
}

/** Standard normal CDF (erfc by W. J. Cody's rational approximation via Numerical Recipes' erfcc, |err| < 1.2e-7). */
export function normalCdf(z: number): number {
  const x = Math.abs(z) / Math.SQRT2;
  const t = 1 / (1 + 0.5 * x);
  const erfc = t * Math.exp(-x * x - 1.26551223 + t * (1.00002368 + t * (0.37409196 + t * (0.09678418 + t * (-0.18628806 +
    t * (0.27886807 + t * (-1.13520398 + t * (1.48851587 + t * (-0.82215223 + t * 0.17087277)))))))));
  return z >= 0 ? 1 - erfc / 2 : erfc / 2;
}

export interface WilcoxonResult {
  /** min(W+, W−), as scipy.stats.wilcoxon reports for the two-sided test. */
  readonly statistic: number;
  readonly wPlus: number;
  readonly wMinus: number;
  readonly pValue: number;
  /** Non-zero differences used. */
  readonly n: number;
  readonly method: 'exact' | 'normal';
}

/**
 * Two-sided Wilcoxon signed-rank test of paired samples x, y (differences x − y; zero differences dropped,
 * scipy's zero_method='wilcox'; differences rounded to 12 decimals). Exact null distribution for n ≤ 20 without tied |differences|; otherwise the
 * normal approximation with tie correction and no continuity correction (scipy's correction=False).
 */
export function wilcoxonSignedRank(x: readonly number[], y: readonly number[]): WilcoxonResult | null {
  if (x.length !== y.length) throw new Error(`wilcoxon: paired samples differ in length (${x.length} vs ${y.length})`);
  // Differences rounded to 12 decimals so that float noise (0.91 − 0.92 vs 0.88 − 0.89) neither breaks ties nor hides zeros.
  const d = x.map((v, i) => Math.round((v - y[i]!) * 1e12) / 1e12).filter((v) => v !== 0);
  const n = d.length;
  if (n === 0) return null;
  const abs = d.map(Math.abs);
  const ranks = rankAverage(abs);
  let wPlus = 0, wMinus = 0;
  for (let i = 0; i < n; i++) (d[i]! > 0 ? (wPlus += ranks[i]!) : (wMinus += ranks[i]!));
  const statistic = Math.min(wPlus, wMinus);
  const hasTies = new Set(abs).size !== n;
  if (n <= 20 && !hasTies) {
    // counts[s] = number of sign assignments whose positive-rank sum is s.
    const max = (n * (n + 1)) / 2;
    let counts = new Float64Array(max + 1);
    counts[0] = 1;
    for (let r = 1; r <= n; r++) {
      const next = new Float64Array(max + 1);
      for (let s = 0; s <= max; s++) {
        if (counts[s] === 0) continue;
        next[s] += counts[s]!;
        next[s + r] += counts[s]!;
      }
      counts = next;
    }
    let le = 0;
    for (let s = 0; s <= Math.floor(statistic); s++) le += counts[s]!;
    const p = Math.min(1, (2 * le) / 2 ** n);
    return { statistic, wPlus, wMinus, pValue: p, n, method: 'exact' };
  }
  const mu = (n * (n + 1)) / 4;
  let variance = (n * (n + 1) * (2 * n + 1)) / 24;
  const tieCounts = new Map<number, number>();
  for (const a of abs) tieCounts.set(a, (tieCounts.get(a) ?? 0) + 1);
  for (const t of tieCounts.values()) variance -= (t * t * t - t) / 48;
  const z = variance > 0 ? (statistic - mu) / Math.sqrt(variance) : 0;
  return { statistic, wPlus, wMinus, pValue: Math.min(1, 2 * normalCdf(-Math.abs(z))), n, method: 'normal' };
}
