/**
 * The study file: one JSON document that says which datasets, which GANs, which hyperparameter search (paper
 * §3.1, Table 1), how long to train, how many repeats, and how the downstream U-Net is scored (§3.4, Table 2).
 *
 *   {
 *     "name": "demo",
 *     "datasets": [{ "id": "acdc", "size": 32 }, { "id": "sliver07", "root": "data/SLiver07", "size": 64, "prepare": { … } }],
 *     "gans": ["dcgan", "wgan-gp"],                        // default: all five
 *     "search": { "mode": "grid", "seed": 0, "space": { "d.filters": [16, 32] }, "fixed": { "batchSize": 16 } },
 *     "training": { "kimg": 2 },
 *     "seeds": [0],
 *     "samples": 128,
 *     "downstream": { "regimes": ["real", "synthetic"], "unet": { "filters": 16 }, "maxSteps": 200 },
 *     "selection": { "metric": "fid" },
 *     "workers": 2
 *   }
 *
 * `search.space` and `search.fixed` take the keys of `--set` (GAN_CONFIG_KEYS, plus `lr` for both rates); their
 * values go through the same coercion as `--set`, so `"diffAugment": [true, "translation"]` or `"lr": ["2e-4"]`
 * work. A dataset without `root` uses the built-in phantom of that layout (acdc / sliver07 / idrid).
 *
 * `loadStudy(file, overrides)` reads the file, applies CLI `key=value` overrides (dotted study paths, e.g.
 * `training.kimg=4`, `seeds=0,1,2`, `search.space.d.filters=[16,64]`), validates, fills the defaults and returns
 * a deep-frozen ResolvedStudy. Every error is a ConfigError naming the file, the JSON path and the fix.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { stableStringify } from '../core/hash.js';
import { closestOption, GAN_CONFIG_KEYS, resolveGanConfig, type GanConfigKey } from '../gan/config.js';
import { GAN_VARIANT_IDS, type GanVariantId } from '../gan/variants.js';
import { resolvePrepareConfig, type PrepareConfigInput } from '../data/preprocess/config.js';
import type { Modality } from '../data/readers/types.js';
import { REGIME_IDS, type RegimeId } from '../segmentation/regimes.js';
import { NORM_KINDS, type NormKind } from '../models/layers/index.js';

// ---------------------------------------------------------------------------------------------------------
// Keys of the search space

export const STUDY_DATASET_IDS = ['acdc', 'sliver07', 'idrid', 'nnunet'] as const;
export type StudyDatasetId = (typeof STUDY_DATASET_IDS)[number];

/** Modality used to validate a dataset's `prepare` block (nnunet's is only known from its dataset.json). */
const DATASET_MODALITY: Record<StudyDatasetId, Modality> = { acdc: 'mri', sliver07: 'ct', idrid: 'rgb', nnunet: 'mri' };

/** Keys accepted in `search.space` / `search.fixed`: every `--set` key, and `lr` (sets lr.d and lr.g). */
export const STUDY_SEARCH_KEYS: readonly string[] = [...Object.keys(GAN_CONFIG_KEYS), 'lr'];

function coerceSearchValue(key: string, raw: unknown): unknown {
  const coerce = key === 'lr' ? GAN_CONFIG_KEYS['lr.d'].coerce : GAN_CONFIG_KEYS[key as GanConfigKey].coerce;
  return coerce(raw, key);
}

function unknownSearchKey(key: string): string {
  const suggestion = closestOption(key, STUDY_SEARCH_KEYS);
  return `unknown GAN config key '${key}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; valid keys: ${STUDY_SEARCH_KEYS.join(', ')}`;
}

/** Keys valid, values coerced (as with --set) and deduplicated; issues carry the key (and value index) as path. */
function searchValues<T extends 'space' | 'fixed'>(kind: T) {
  const value = kind === 'space' ? z.array(z.unknown()).min(1, 'needs at least one value') : z.unknown();
  return z.record(z.string(), value).transform((record, ctx) => {
    const out: Record<string, unknown> = {};
    for (const [key, raw] of Object.entries(record)) {
      if (!STUDY_SEARCH_KEYS.includes(key)) {
        ctx.addIssue({ code: 'custom', path: [key], message: unknownSearchKey(key), input: raw });
        continue;
      }
      const list = kind === 'space' ? (raw as unknown[]) : [raw];
      const coerced: unknown[] = [];
      const seen = new Set<string>();
      list.forEach((item, i) => {
        try {
          const v = coerceSearchValue(key, item);
          const k = stableStringify(v);
          if (!seen.has(k)) { seen.add(k); coerced.push(v); }
        } catch (err) {
          if (!(err instanceof ConfigError)) throw err;
          ctx.addIssue({ code: 'custom', path: kind === 'space' ? [key, i] : [key], message: err.message, input: item });
        }
      });
      out[key] = kind === 'space' ? coerced : coerced[0];
    }
    return out;
  });
}

// ---------------------------------------------------------------------------------------------------------
// Schema

const Int = z.number().int();

const DatasetSchema = z.strictObject({
  id: z.enum(STUDY_DATASET_IDS),
  /** Label used in trial ids and reports; default `id`. Must be unique (e.g. `acdc-32`, `acdc-64`). */
  label: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only').optional(),
  /** Dataset folder in the publisher's layout; absent → the built-in phantom of that layout. */
  root: z.string().min(1).optional(),
  /** Slice size in px; default 32 for phantoms, 64 for real data. */
  size: Int.min(16).max(256).refine((v) => v % 2 === 0, 'must be even').optional(),
  /** Preprocessing options (src/data/preprocess/config.ts), except `size`. */
  prepare: z.record(z.string(), z.unknown()).optional(),
  /** Built-in phantom only: patients written (default 10). */
  patients: Int.min(4).max(1000).optional(),
});

const SelectionMetric = z.enum(['fid', 'unetFid', 'kid', 'dice']);
export type SelectionMetric = z.output<typeof SelectionMetric>;

export const StudySchema = z.strictObject({
  name: z.string().regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only (it names the output folder)'),
  description: z.string().optional(),
  datasets: z.array(DatasetSchema).min(1).default([{ id: 'acdc' }, { id: 'sliver07' }, { id: 'idrid' }]),
  gans: z.array(z.enum(GAN_VARIANT_IDS as [GanVariantId, ...GanVariantId[]])).min(1)
    .refine((g) => new Set(g).size === g.length, 'lists a GAN twice').default([...GAN_VARIANT_IDS]),
  search: z.strictObject({
    mode: z.enum(['grid', 'random']).default('grid'),
    /** Random search: configurations drawn per GAN and dataset (without replacement from the grid). */
    trials: Int.min(1).max(100_000).optional(),
    seed: Int.min(0).max(0xffffffff).default(0),
    space: searchValues('space').default({}),
    fixed: searchValues('fixed').default({}),
  }).default({ mode: 'grid', seed: 0, space: {}, fixed: {} }),
  training: z.strictObject({
    /** Thousands of real images shown to D per trial. */
    kimg: z.number().positive().max(100_000).default(2),
    /** Checkpoint (and evaluate) every this many kimg; default: only at the end. */
    checkpointKimg: z.number().positive().optional(),
  }).default({ kimg: 2 }),
  /** Repeats: each configuration trains once per seed. */
  seeds: z.array(Int.min(0).max(0xffffffff)).min(1).refine((s) => new Set(s).size === s.length, 'lists a seed twice').default([0]),
  /** Synthetic samples generated per trial (for FID/KID and the synthetic regimes). */
  samples: Int.min(1).max(1_000_000).default(128),
  downstream: z.strictObject({
    regimes: z.array(z.enum(REGIME_IDS as [RegimeId, ...RegimeId[]])).refine((r) => new Set(r).size === r.length, 'lists a regime twice')
      .default(['real', 'augmented', 'synthetic', 'real+synthetic']),
    unet: z.strictObject({
      depth: Int.min(1).max(6).optional(),
      filters: Int.min(1).max(512).optional(),
      norm: z.enum(NORM_KINDS as readonly NormKind[] as [NormKind, ...NormKind[]]).optional(),
    }).default({}),
    /** U-Net optimizer steps per regime (early stopping may end it sooner). */
    maxSteps: Int.min(1).default(200),
    /** Synthetic samples used by the synthetic regimes; default: all `samples`. */
    syntheticCount: Int.min(1).optional(),
    /** U-Net batch size. */
    batchSize: Int.min(1).max(4096).default(16),
    /**
     * Which trials get the synthetic-data U-Nets: the best trial of each GAN (the paper) or every trial (the
     * FID–Dice correlation over all trials; costly). Selecting by 'dice' implies 'all'.
     */
    trials: z.enum(['best', 'all']).default('best'),
  }).default({ regimes: ['real', 'augmented', 'synthetic', 'real+synthetic'], unet: {}, maxSteps: 200, batchSize: 16, trials: 'best' }),
  evaluation: z.strictObject({
    /** An Inception-v3 weights file other than the one in the weights folder (`medsyn weights`). */
    inceptionWeights: z.string().min(1).optional(),
    /** Accept `inceptionWeights` without the official sha256 (the protocol then says so). */
    allowUnverified: z.boolean().default(false),
  }).default({ allowUnverified: false }),
  selection: z.strictObject({ metric: SelectionMetric.default('fid') }).default({ metric: 'fid' }),
  /** Trials run in parallel; default: the machine's cores. */
  workers: Int.min(1).max(1024).optional(),
}).superRefine((study, ctx) => {
  // dataset labels unique; prepare blocks valid for the dataset's modality; size only at the dataset level
  const labels = new Set<string>();
  study.datasets.forEach((ds, i) => {
    const label = ds.label ?? ds.id;
    if (ds.patients !== undefined && ds.root !== undefined) {
      ctx.addIssue({ code: 'custom', path: ['datasets', i, 'patients'], message: '"patients" sizes a built-in phantom; a dataset with "root" uses all its patients — remove one of the two' });
    }
    if (ds.root === undefined && ds.id === 'nnunet') {
      ctx.addIssue({ code: 'custom', path: ['datasets', i, 'root'], message: 'nnunet has no built-in phantom: give "root" (the DatasetXXX_Name folder)' });
    }
    if (labels.has(label)) {
      ctx.addIssue({ code: 'custom', path: ['datasets', i, 'label'], message: `dataset '${label}' appears twice; give one a distinct "label" (e.g. "${label}-${ds.size ?? 'b'}")` });
    }
    labels.add(label);
    if (ds.prepare && 'size' in ds.prepare) {
      ctx.addIssue({ code: 'custom', path: ['datasets', i, 'prepare', 'size'], message: 'set the slice size as datasets[].size, not inside prepare' });
    } else if (ds.prepare) {
      try {
        resolvePrepareConfig(ds.prepare, DATASET_MODALITY[ds.id]);
      } catch (err) {
        if (!(err instanceof ConfigError)) throw err;
        ctx.addIssue({ code: 'custom', path: ['datasets', i, 'prepare'], message: err.message.replace(/\n\s*/g, ' ') });
      }
    }
  });
  const { space, fixed } = study.search;
  for (const key of Object.keys(space)) {
    if (key in fixed) ctx.addIssue({ code: 'custom', path: ['search', 'fixed', key], message: `'${key}' is both searched (search.space) and fixed (search.fixed); keep one` });
  }
  if (study.search.mode === 'random' && study.search.trials === undefined) {
    ctx.addIssue({ code: 'custom', path: ['search', 'trials'], message: 'random search needs "trials" (configurations per GAN and dataset)' });
  }
  if (study.search.mode === 'grid' && study.search.trials !== undefined) {
    ctx.addIssue({ code: 'custom', path: ['search', 'trials'], message: 'grid search runs every configuration; remove "trials" or set "mode": "random"' });
  }
  if (study.training.checkpointKimg !== undefined && study.training.checkpointKimg > study.training.kimg) {
    ctx.addIssue({ code: 'custom', path: ['training', 'checkpointKimg'], message: `must be at most training.kimg (${study.training.kimg})` });
  }
  if (study.downstream.syntheticCount !== undefined && study.downstream.syntheticCount > study.samples) {
    ctx.addIssue({ code: 'custom', path: ['downstream', 'syntheticCount'], message: `must be at most samples (${study.samples})` });
  }
  if (study.selection.metric === 'dice' && !study.downstream.regimes.some((r) => r === 'synthetic' || r === 'real+synthetic')) {
    ctx.addIssue({ code: 'custom', path: ['selection', 'metric'], message: "'dice' selects by the synthetic U-Net's Dice: add 'synthetic' or 'real+synthetic' to downstream.regimes" });
  }
  // A single value no GAN of the study accepts is a typo, not a bad combination: catch it here.
  for (const [where, values] of [['space', space], ['fixed', fixed]] as const) {
    for (const [key, list] of Object.entries(values)) {
      const items = where === 'space' ? (list as unknown[]) : [list];
      items.forEach((value, i) => {
        const errors: string[] = [];
        for (const gan of study.gans) {
          try { resolveGanConfig(gan, { [key]: value }); return; } catch (err) {
            if (!(err instanceof ConfigError)) throw err;
            errors.push(err.message);
          }
        }
        if (errors.length > 0 && errors.every((m) => blames(key, m))) {
          ctx.addIssue({ code: 'custom', path: ['search', where, key, ...(where === 'space' ? [i] : [])], message: `no GAN of the study accepts ${key}=${stableStringify(value)}: ${errors[0]!.replace(/\n\s*/g, ' ')}` });
        }
      });
    }
  }
});

/**
 * Whether a resolveGanConfig error is about `key`'s own value (a typo such as d.norm=batchh), as opposed to a
 * combination (perceptual.weight > 0 needs a weightsPath) or a key that does not apply to a GAN's loss: those
 * are settled per trial by the sweep.
 */
function blames(key: string, message: string): boolean {
  if (message.startsWith(`${key}=`)) return true;
  const keys = key === 'lr' ? ['lr.d', 'lr.g'] : [key];
  return keys.some((k) => message.includes(`- ${k}:`) || message.includes(`- ${k}.`));
}

// ---------------------------------------------------------------------------------------------------------
// Resolved study

export type DeepReadonly<T> = T extends (...args: never[]) => unknown ? T
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

export interface StudyDataset {
  readonly id: StudyDatasetId;
  /** Unique within the study; names the dataset in trial ids. */
  readonly label: string;
  /** Absolute folder, or null for the built-in phantom. */
  readonly root: string | null;
  readonly size: number;
  readonly prepare: DeepReadonly<PrepareConfigInput>;
  /** Patients of the built-in phantom (null with a root). */
  readonly patients: number | null;
}

export interface ResolvedStudy {
  /** The study file (absolute), or null when resolved from an object. */
  readonly file: string | null;
  readonly name: string;
  readonly description: string | null;
  readonly datasets: readonly StudyDataset[];
  readonly gans: readonly GanVariantId[];
  readonly search: {
    readonly mode: 'grid' | 'random';
    readonly trials: number | null;
    readonly seed: number;
    /** Coerced values per key (deduplicated), in file order. */
    readonly space: Readonly<Record<string, readonly unknown[]>>;
    readonly fixed: Readonly<Record<string, unknown>>;
  };
  readonly training: { readonly kimg: number; readonly checkpointKimg: number | null };
  readonly seeds: readonly number[];
  readonly samples: number;
  readonly downstream: {
    readonly regimes: readonly RegimeId[];
    readonly unet: { readonly depth?: number; readonly filters?: number; readonly norm?: NormKind };
    readonly maxSteps: number;
    readonly syntheticCount: number;
    readonly batchSize: number;
    readonly trials: 'best' | 'all';
  };
  readonly evaluation: { readonly inceptionWeights: string | null; readonly allowUnverified: boolean };
  readonly selection: { readonly metric: SelectionMetric; readonly direction: 'min' | 'max' };
  readonly workers: number;
}

/** Lower is better for the distances, higher for Dice. */
export const SELECTION_DIRECTION: Record<SelectionMetric, 'min' | 'max'> = { fid: 'min', unetFid: 'min', kid: 'min', dice: 'max' };

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

const FIXES: Record<string, string> = {
  unrecognized_keys: 'remove the key or fix its spelling',
  invalid_type: 'use a value of the expected type',
  invalid_value: 'use one of the listed values',
  too_small: 'raise the value (or add entries)',
  too_big: 'lower the value',
};

function formatPath(p: readonly PropertyKey[]): string {
  let out = '';
  for (const part of p) out += typeof part === 'number' ? `[${part}]` : `${out ? '.' : ''}${String(part)}`;
  return out || '(study)';
}

function formatIssue(issue: z.core.$ZodIssue): string {
  let message = issue.message;
  if (issue.code === 'unrecognized_keys') {
    const known = issueKnownKeys(issue.path);
    message = issue.keys.map((k) => {
      const s = known ? closestOption(k, known) : undefined;
      return `unknown key '${k}'${s ? ` (did you mean '${s}'?)` : ''}`;
    }).join('; ');
  }
  const fix = FIXES[issue.code];
  return `  - ${formatPath(issue.path)}: ${message}${fix && !/did you mean/.test(message) ? `\n    fix: ${fix}` : ''}`;
}

/** The keys valid at an object path, for did-you-mean on unknown keys. */
function issueKnownKeys(p: readonly PropertyKey[]): readonly string[] | undefined {
  const names = p.filter((x) => typeof x === 'string').join('.');
  const table: Record<string, readonly string[]> = {
    '': ['name', 'description', 'datasets', 'gans', 'search', 'training', 'seeds', 'samples', 'downstream', 'evaluation', 'selection', 'workers'],
    datasets: ['id', 'label', 'root', 'size', 'prepare', 'patients'],
    search: ['mode', 'trials', 'seed', 'space', 'fixed'],
    training: ['kimg', 'checkpointKimg'],
    downstream: ['regimes', 'unet', 'maxSteps', 'syntheticCount', 'batchSize', 'trials'],
    evaluation: ['inceptionWeights', 'allowUnverified'],
    'downstream.unet': ['depth', 'filters', 'norm'],
    selection: ['metric'],
  };
  return table[names];
}

/**
 * Validates a parsed study (plain JSON) and fills the defaults. `file` names the source in errors and resolves
 * relative dataset roots.
 */
export interface ResolveStudyOptions {
  /** Folder that relative dataset roots are resolved against. @default the study file's folder (else the working directory) */
  readonly dataDir?: string;
}

export function resolveStudy(raw: unknown, file: string | null = null, opts: ResolveStudyOptions = {}): ResolvedStudy {
  const where = file ?? 'study';
  const parsed = StudySchema.safeParse(raw);
  if (!parsed.success) {
    throw new ConfigError(`${where}: invalid study:\n${parsed.error.issues.map(formatIssue).join('\n')}`);
  }
  const s = parsed.data;
  const base = opts.dataDir ? path.resolve(opts.dataDir) : file ? path.dirname(path.resolve(file)) : process.cwd();
  if (opts.dataDir && !fs.existsSync(base)) throw new ConfigError(`--data-dir ${opts.dataDir}: no such folder\n  fix: give the folder that holds the datasets (e.g. ACDC/, SLiver07/, IDRiD/)`);
  const study: ResolvedStudy = {
    file: file ? path.resolve(file) : null,
    name: s.name,
    description: s.description ?? null,
    datasets: s.datasets.map((d) => ({
      id: d.id,
      label: d.label ?? d.id,
      root: d.root === undefined ? null : path.resolve(base, d.root),
      size: d.size ?? (d.root === undefined ? 32 : 64),
      prepare: (d.prepare ?? {}) as PrepareConfigInput,
      patients: d.root === undefined ? d.patients ?? 10 : null,
    })),
    gans: s.gans,
    search: {
      mode: s.search.mode,
      trials: s.search.trials ?? null,
      seed: s.search.seed,
      space: s.search.space as Record<string, unknown[]>,
      fixed: s.search.fixed,
    },
    training: { kimg: s.training.kimg, checkpointKimg: s.training.checkpointKimg ?? null },
    seeds: s.seeds,
    samples: s.samples,
    downstream: {
      regimes: s.downstream.regimes,
      unet: s.downstream.unet,
      maxSteps: s.downstream.maxSteps,
      syntheticCount: s.downstream.syntheticCount ?? s.samples,
      batchSize: s.downstream.batchSize,
      trials: s.selection.metric === 'dice' ? 'all' : s.downstream.trials,
    },
    evaluation: {
      inceptionWeights: s.evaluation.inceptionWeights === undefined ? null : path.resolve(base, s.evaluation.inceptionWeights),
      allowUnverified: s.evaluation.allowUnverified,
    },
    selection: { metric: s.selection.metric, direction: SELECTION_DIRECTION[s.selection.metric] },
    workers: s.workers ?? Math.max(1, os.availableParallelism()),
  };
  return deepFreeze(study);
}

// ---------------------------------------------------------------------------------------------------------
// CLI overrides

function parseValue(text: string): unknown {
  const t = text.trim();
  try { return JSON.parse(t); } catch { /* not JSON */ }
  if (t.includes(',')) return t.split(',').map((item) => parseValue(item));
  return t;
}

/**
 * Applies `key=value` overrides to a raw study object (a copy is returned). Keys are dotted study paths
 * (`training.kimg=4`, `search.mode=random`, `datasets.0.size=64`); under `search.space.` / `search.fixed.` the
 * rest of the key is one GAN config key (`search.space.d.filters=16,32`). Values are JSON when they parse,
 * comma lists become arrays, anything else is a string; a scalar given for an array field is wrapped.
 */
export function applyStudyOverrides(raw: unknown, overrides: readonly string[]): unknown {
  const root: Record<string, unknown> = raw && typeof raw === 'object' && !Array.isArray(raw)
    ? structuredClone(raw as Record<string, unknown>) : {};
  for (const item of overrides) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`study override expects key=value (e.g. training.kimg=4), got '${item}'`);
    const key = item.slice(0, eq).trim();
    let value = parseValue(item.slice(eq + 1));
    const m = /^search\.(space|fixed)\.(.+)$/.exec(key);
    const parts: string[] = m ? ['search', m[1]!, m[2]!] : key.split('.');
    let node: Record<string, unknown> = root;
    for (const part of parts.slice(0, -1)) {
      const next = node[part];
      if (next === undefined) node[part] = {};
      else if (typeof next !== 'object' || next === null) throw new ConfigError(`study override '${key}': '${part}' is not an object in the study`);
      node = node[part] as Record<string, unknown>;
    }
    const last = parts[parts.length - 1]!;
    if ((Array.isArray(node[last]) || (m && m[1] === 'space')) && !Array.isArray(value)) value = [value];
    node[last] = value;
  }
  return root;
}

/** Reads, overrides, validates and freezes a study file. */
export function loadStudy(file: string, overrides: readonly string[] = [], opts: ResolveStudyOptions = {}): ResolvedStudy {
  let text: string;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(`${file}: cannot read the study file (${(err as Error).message})\n  fix: check the path; studies/demo.json is an example`);
  }
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    throw new ConfigError(`${file}: not valid JSON (${(err as Error).message})\n  fix: correct the JSON syntax (no comments or trailing commas)`);
  }
  const where = overrides.length > 0 ? `${file} (with overrides ${overrides.join(' ')})` : file;
  try {
    return resolveStudy(applyStudyOverrides(raw, overrides), file, opts);
  } catch (err) {
    if (err instanceof ConfigError && overrides.length > 0 && err.message.startsWith(file)) {
      throw new ConfigError(where + err.message.slice(file.length));
    }
    throw err;
  }
}
