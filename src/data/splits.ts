/** Patient splits: patients (never slices) go to train/val/test by a seeded shuffle, or by the publisher's subsets. */
import { DataError } from '../core/errors.js';
import { Rng } from '../core/rng.js';
import type { CaseEntry, DatasetSource } from './readers/types.js';
import { SPLITS, type SplitName } from './prepared.js';
import type { PrepareConfig, SplitFractions } from './preprocess/config.js';

function splitCounts(n: number, fractions: SplitFractions): Record<SplitName, number> {
  const raw = SPLITS.map((s) => fractions[s] * n);
  const counts = raw.map(Math.floor);
  let left = n - counts.reduce((a, b) => a + b, 0);
  const order = [0, 1, 2].sort((a, b) => raw[b]! - counts[b]! - (raw[a]! - counts[a]!) || a - b);
  for (let i = 0; left > 0; i = (i + 1) % 3, left--) counts[order[i]!]!++;
  // Every split with a positive fraction gets a patient when there are enough: taken from the largest split.
  for (let s = 0; s < 3; s++) {
    if (fractions[SPLITS[s]!] > 0 && counts[s] === 0) {
      const donor = [0, 1, 2].filter((d) => counts[d]! > 1).sort((a, b) => counts[b]! - counts[a]! || a - b)[0];
      if (donor !== undefined) {
        counts[donor]!--;
        counts[s]!++;
      }
    }
  }
  return { train: counts[0]!, val: counts[1]!, test: counts[2]! };
}

/**
 * Splits patient ids into train/val/test by a seeded shuffle: deterministic for a seed (independent of the input
 * order), disjoint, sizes by largest remainder of fractions × n; each split with a positive fraction gets at least
 * one patient when there are enough patients. Each split's ids come back sorted.
 */
export function splitPatients(patients: readonly string[], fractions: SplitFractions, seed: number): Record<SplitName, string[]> {
  const ids = [...new Set(patients)].sort();
  const shuffled = new Rng(seed).shuffled(ids);
  const c = splitCounts(ids.length, fractions);
  return {
    train: shuffled.slice(0, c.train).sort(),
    val: shuffled.slice(c.train, c.train + c.val).sort(),
    test: shuffled.slice(c.train + c.val).sort(),
  };
}

/** The publisher's subset of an entry ('train' or 'test') from its tags (`subset` or `split`), if it has one. */
export function publisherSubset(entry: CaseEntry): 'train' | 'test' | undefined {
  const tag = (entry.tags.subset ?? entry.tags.split ?? '').toLowerCase();
  if (tag === 'training' || tag === 'train') return 'train';
  if (tag === 'testing' || tag === 'test') return 'test';
  return undefined;
}

/** Patients per split for `config.splitBy`. */
export function assignSplits(source: DatasetSource, config: PrepareConfig): Record<SplitName, string[]> {
  const patients = source.cases.map((c) => c.patient);
  let result: Record<SplitName, string[]>;
  if (config.splitBy === 'random') {
    result = splitPatients(patients, config.fractions, config.splitSeed);
  } else {
    const subset = new Map<string, 'train' | 'test'>();
    for (const entry of source.cases) {
      const s = publisherSubset(entry);
      if (!s) {
        throw new DataError(entry.image, `dataset ${source.dataset} has no publisher split for case ${entry.id}`, "use splitBy: 'random'");
      }
      const prev = subset.get(entry.patient);
      if (prev && prev !== s) throw new DataError(entry.image, `patient ${entry.patient} is in both the publisher's training and testing subsets`);
      subset.set(entry.patient, s);
    }
    const pool = [...subset].filter(([, s]) => s === 'train').map(([p]) => p);
    const test = [...subset].filter(([, s]) => s === 'test').map(([p]) => p);
    const { train, val } = config.fractions;
    const carved = splitPatients(pool, { train: train / (train + val), val: val / (train + val), test: 0 }, config.splitSeed);
    result = { train: carved.train, val: carved.val, test: test.sort() };
  }
  const seen = new Map<string, SplitName>();
  for (const s of SPLITS) {
    for (const p of result[s]) {
      const other = seen.get(p);
      if (other) throw new Error(`internal: patient ${p} is in both ${other} and ${s}`);
      seen.set(p, s);
    }
  }
  return result;
}
