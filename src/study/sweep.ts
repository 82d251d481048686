/**
 * A study's trials: `expandStudy(study)` turns the search (paper §3.1) into the list of GAN trainings to run,
 * one per dataset × GAN × configuration × seed, in a fixed order (dataset, GAN, configuration index, seed).
 * Pure and deterministic: the same study gives the same plan, with the same ids, on any machine.
 *
 * The grid of a GAN is the Cartesian product of `search.space`, after dropping the keys that do not apply to
 * the objective of each configuration (gpWeight and weightClip apply to the wasserstein loss only,
 * labelSmoothing to non-saturating and least-squares; with `loss` in the space this is decided per loss value),
 * so DCGAN never gets the same configuration twice because of a gpWeight axis. `search.fixed` is merged under
 * every configuration (inapplicable fixed keys are dropped the same way). Random search draws `trials`
 * configurations per GAN and dataset without replacement from that grid, seeded by (search.seed, dataset, GAN);
 * the draws are a lazy permutation, so raising `trials` keeps the earlier trials. The grid is never enumerated
 * for random search, so Table-1-sized spaces (millions of points) are fine.
 *
 * A configuration `resolveGanConfig` rejects (a bad combination, e.g. perceptual.weight without weightsPath)
 * becomes a trial with `invalid: reason` and `resolvedGan: null`; the runner reports it and skips it.
 *
 * Trial ids: `${dataset label}-${gan}-${hash}` where hash = configHash(resolved GAN config, seed, the dataset's
 * preparation inputs) to 10 hex digits. Nothing else of the study enters it (not kimg, samples, downstream,
 * selection, workers, the study name), so those can change without invalidating finished trainings.
 */
import { ConfigError } from '../core/errors.js';
import { configHash, stableStringify } from '../core/hash.js';
import { Rng } from '../core/rng.js';
import { LOSS_SPECIFIC_KEYS, resolveGanConfig, type ResolvedGanConfig } from '../gan/config.js';
import { GAN_VARIANTS, type GanVariantId } from '../gan/variants.js';
import type { ResolvedStudy, StudyDataset, StudyDatasetId } from './config.js';

/** Grid search refuses more configurations than this per GAN (use random search). */
export const MAX_GRID_SIZE = 10_000;

interface TrialCommon {
  /** Stable id, e.g. `acdc-dcgan-3f9c2a71be`. */
  readonly id: string;
  /** The dataset's label (its id unless the study sets `label`). */
  readonly dataset: string;
  readonly datasetId: StudyDatasetId;
  readonly gan: GanVariantId;
  /** Configuration index within dataset × GAN (plan order, 0-based); repeats share it. */
  readonly index: number;
  /** Repeat seed (from study.seeds). */
  readonly seed: number;
  /** Same for all seeds of one configuration on one dataset: groups repeats. */
  readonly configId: string;
  /** Flat `--set`-style overrides of this configuration (fixed ⊕ the space point), applicable keys only. */
  readonly overrides: Readonly<Record<string, unknown>>;
}

export type TrialPlan =
  | (TrialCommon & { readonly resolvedGan: ResolvedGanConfig; readonly invalid: null })
  | (TrialCommon & { readonly resolvedGan: null; readonly invalid: string });

/** What of a dataset decides its prepared data (hashed into trial ids). The root path is left out: moving a folder keeps the ids. */
export function datasetHashInputs(ds: StudyDataset): Record<string, unknown> {
  return { id: ds.id, phantom: ds.root === null, size: ds.size, prepare: ds.prepare, ...(ds.patients != null ? { patients: ds.patients } : {}) };
}

type Loss = 'non-saturating' | 'least-squares' | 'wasserstein' | 'hinge';

function applies(key: string, loss: Loss): boolean {
  const entry = LOSS_SPECIFIC_KEYS[key as keyof typeof LOSS_SPECIFIC_KEYS];
  return !entry || (entry.losses as readonly string[]).includes(loss);
}

/** One block of the grid: a fixed loss and the axes that apply to it. */
interface SubGrid {
  readonly base: Readonly<Record<string, unknown>>;
  readonly axes: readonly (readonly [string, readonly unknown[]])[];
  readonly size: number;
}

/** A GAN's grid as disjoint blocks (one per loss value when `loss` is searched). */
export function ganGrid(study: ResolvedStudy, gan: GanVariantId): { readonly blocks: readonly SubGrid[]; readonly size: number } {
  const { space, fixed } = study.search;
  const lossValues: (unknown | undefined)[] = 'loss' in space ? [...space.loss!] : [fixed.loss];
  const blocks: SubGrid[] = [];
  for (const lossValue of lossValues) {
    const loss = (lossValue ?? GAN_VARIANTS[gan].loss) as Loss;
    const base: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(fixed)) if (k !== 'loss' && applies(k, loss)) base[k] = v;
    if (lossValue !== undefined) base.loss = lossValue;
    const axes = Object.entries(space).filter(([k]) => k !== 'loss' && applies(k, loss)) as [string, unknown[]][];
    const size = axes.reduce((n, [, values]) => n * values.length, 1);
    blocks.push({ base, axes, size });
  }
  const size = blocks.reduce((n, b) => n + b.size, 0);
  if (!Number.isSafeInteger(size)) throw new ConfigError(`search space of ${gan} is too large to index (${size} configurations)`);
  return { blocks, size };
}

/** The overrides of grid point `index` (blocks in order, last axis fastest). */
function gridPoint(blocks: readonly SubGrid[], index: number): Record<string, unknown> {
  let i = index;
  for (const block of blocks) {
    if (i >= block.size) { i -= block.size; continue; }
    const point: Record<string, unknown> = { ...block.base };
    const digits: unknown[] = [];
    for (let a = block.axes.length - 1; a >= 0; a--) {
      const values = block.axes[a]![1];
      digits[a] = values[i % values.length];
      i = Math.floor(i / values.length);
    }
    block.axes.forEach(([key], a) => { point[key] = digits[a]; });
    return point;
  }
  throw new Error(`grid index ${index} out of range`);
}

/** Uniform integer in [0, n) (n ≤ 2^53). */
function below(rng: Rng, n: number): number {
  if (n <= 0x1_0000_0000) return Math.floor(rng.next() * n);
  const x = rng.nextUint32() * 0x1_0000_0000 + rng.nextUint32();
  return x % n;
}

/** A lazy random permutation of 0..n−1 (sparse Fisher–Yates): the first k draws do not depend on how many follow. */
function* permutation(n: number, rng: Rng): Generator<number> {
  const swapped = new Map<number, number>();
  for (let i = 0; i < n; i++) {
    const j = i + below(rng, n - i);
    const vj = swapped.get(j) ?? j;
    swapped.set(j, swapped.get(i) ?? i);
    swapped.delete(i);
    yield vj;
  }
}

/** Seed of the random search of one dataset × GAN. */
function searchSeed(study: ResolvedStudy, ds: StudyDataset, gan: GanVariantId): number {
  return parseInt(configHash({ seed: study.search.seed, dataset: ds.label, gan }, 8), 16) >>> 0;
}

function freeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) freeze(child);
  }
  return value;
}

interface Configuration {
  readonly overrides: Record<string, unknown>;
  readonly resolvedGan: ResolvedGanConfig | null;
  readonly invalid: string | null;
  /** Identity of the configuration (resolved config, or the overrides when invalid). */
  readonly key: unknown;
}

function configure(gan: GanVariantId, overrides: Record<string, unknown>): Configuration {
  try {
    const resolvedGan = resolveGanConfig(gan, overrides);
    return { overrides, resolvedGan, invalid: null, key: resolvedGan };
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return { overrides, resolvedGan: null, invalid: err.message, key: { variant: gan, invalid: overrides } };
  }
}

/** The configurations of one dataset × GAN, deduplicated by resolved config, in plan order. */
export function configurationsFor(study: ResolvedStudy, ds: StudyDataset, gan: GanVariantId): Configuration[] {
  const { blocks, size } = ganGrid(study, gan);
  const out: Configuration[] = [];
  const seen = new Set<string>();
  const take = (index: number): void => {
    const c = configure(gan, gridPoint(blocks, index));
    const k = stableStringify(c.key);
    if (!seen.has(k)) { seen.add(k); out.push(c); }
  };
  if (study.search.mode === 'grid') {
    if (size > MAX_GRID_SIZE) {
      throw new ConfigError(`${study.file ?? 'study'}: search.space is a grid of ${size} configurations for ${gan} (limit ${MAX_GRID_SIZE})\n  fix: set "search": { "mode": "random", "trials": N } or shrink search.space`);
    }
    for (let i = 0; i < size; i++) take(i);
  } else {
    const want = study.search.trials ?? 1;
    for (const index of permutation(size, new Rng(searchSeed(study, ds, gan)))) {
      if (out.length >= want) break;
      take(index);
    }
  }
  return out;
}

/** All trials of a study: dataset, GAN, configuration index, seed. Deep-frozen. */
export function expandStudy(study: ResolvedStudy): TrialPlan[] {
  const plan: TrialPlan[] = [];
  for (const ds of study.datasets) {
    const dsInputs = datasetHashInputs(ds);
    for (const gan of study.gans) {
      configurationsFor(study, ds, gan).forEach((c, index) => {
        const configId = `${ds.label}-${gan}-${configHash({ gan: c.key, dataset: dsInputs }, 10)}`;
        for (const seed of study.seeds) {
          const id = `${ds.label}-${gan}-${configHash({ gan: c.key, seed, dataset: dsInputs }, 10)}`;
          const common = { id, dataset: ds.label, datasetId: ds.id, gan, index, seed, configId, overrides: c.overrides };
          plan.push(freeze(c.resolvedGan
            ? { ...common, resolvedGan: c.resolvedGan, invalid: null }
            : { ...common, resolvedGan: null, invalid: c.invalid! }));
        }
      });
    }
  }
  return plan;
}
