/**
 * The GAN config: one zod schema covering every Table 1 knob, validated once at the edge and handed inward
 * as a deep-readonly, deep-frozen `ResolvedGanConfig`.
 *
 * The schema is a discriminated union on `loss`, so options that only make sense for some objectives live
 * only on those branches: `labelSmoothing` on the label-based losses (non-saturating, least-squares),
 * `weightClip` and `gpWeight` on the critic loss (wasserstein). Setting them elsewhere is rejected with a
 * message that says why.
 *
 * | Table 1 row (paper)                         | key(s)                                              |
 * |---------------------------------------------|-----------------------------------------------------|
 * | Differentiable Augmentation                 | `diffAugment` (list of color/translation/cutout; `true` = all three) |
 * | Activation fn of D / G                      | `d.activation`, `g.activation`                       |
 * | Normalization layer of D / G                | `d.norm`, `g.norm` (batch / instance / none)         |
 * | Number of Filters of D / G                  | `d.filters`, `g.filters`                             |
 * | Use Spectral norm for D / G                 | `d.spectralNorm`, `g.spectralNorm`                   |
 * | Weight initialization function / gain       | `init.kind`, `init.gain`                             |
 * | Gradient Penalty loss weight (WGAN-GP)      | `gpWeight`                                           |
 * | Weight Clipping Value (WGAN)                | `weightClip`                                         |
 * | Feature matching loss weight                | `featureMatchingWeight`                              |
 * | VGG loss weight                             | `perceptual.weight` (+ `perceptual.weightsPath`, `perceptual.layers`) |
 * | Learning Rate                               | `lr.d`, `lr.g` (`lr` sets both)                      |
 * | Use of Label Smoothing                      | `labelSmoothing` (`true` = 0.1, i.e. real target 0.9) |
 * | Use of Data Augmentation                    | `classicAugment`                                     |
 * Beyond Table 1: `loss`, `nCritic`, `betas`, `r1Gamma`, `latentDim`, `batchSize`, `emaHalfLifeKimg`.
 *
 * `resolveGanConfig(variant, overrides)` = shared defaults ⊕ the variant's preset (src/gan/variants.ts) ⊕
 * overrides, then validation. Overrides are nested objects or dotted keys (`{'d.filters': 64}`); string
 * values are coerced per key, so `parseSetOverrides(['d.filters=64'])` from the CLI and typed values from a
 * study file go through the same path. Loss-specific values that came from the preset are dropped when the
 * override changes the loss (e.g. `--gan wgan --set loss=hinge` drops WGAN's clipping); values the user set
 * are kept and rejected if they do not apply (zero/false values, meaning "off", are always accepted).
 */
import { z } from 'zod';
import { ConfigError } from '../core/errors.js';
import { GAN_VARIANTS, GAN_VARIANT_IDS, type GanVariantId } from './variants.js';

// ---------------------------------------------------------------------------------------------------------
// Schema

const NetworkSchema = z.strictObject({
  /** Base filter count; channels double per block up to 8× (Table 1: 16 / 32 / 64 / 128). */
  filters: z.number().int().min(1).max(1024),
  activation: z.enum(['relu', 'leaky-relu', 'elu', 'selu']),
  norm: z.enum(['batch', 'instance', 'none']),
  spectralNorm: z.boolean(),
});

const COMMON = {
  /** The preset this config was resolved from (provenance; behaviour comes from the fields). */
  variant: z.enum(GAN_VARIANT_IDS as [GanVariantId, ...GanVariantId[]]),
  /** Discriminator (critic) updates per generator update. */
  nCritic: z.number().int().min(1).max(100),
  /** R1 penalty γ on real samples (Mescheder et al. 2018); 0 = off. Any loss. */
  r1Gamma: z.number().min(0),
  g: NetworkSchema,
  d: NetworkSchema,
  init: z.strictObject({
    kind: z.enum(['normal', 'xavier', 'xavier-uniform', 'kaiming']),
    /** Table 1: 0.01 / 0.02 / 0.1 / 1.0. */
    gain: z.number().positive(),
  }),
  latentDim: z.number().int().min(1).max(4096),
  /** DiffAugment policy (Zhao et al. 2020) applied to real and fake before D; [] = off. */
  diffAugment: z.array(z.enum(['color', 'translation', 'cutout']))
    .refine((ops) => new Set(ops).size === ops.length, 'lists an op twice'),
  /** Flips, ±10° rotations and small shifts of the real data (src/gan/augment.ts classicAugment). */
  classicAugment: z.boolean(),
  /** Weight of the feature-matching term in G's loss (Salimans et al. 2016); 0 = off. */
  featureMatchingWeight: z.number().min(0),
  perceptual: z.strictObject({
    /** Weight of the VGG16 perceptual term in G's loss; 0 = off. */
    weight: z.number().min(0),
    /** safetensors file with torchvision vgg16 weights (tools/export_vgg16.py); required when weight > 0. */
    weightsPath: z.string().min(1).nullable(),
    layers: z.array(z.enum(['relu1_2', 'relu2_2', 'relu3_3', 'relu4_3', 'relu5_3'])).min(1),
  }),
  /** Adam learning rates (Table 1: 4e-5 / 5e-5 / 1e-4 / 2e-4 / 1e-3). */
  lr: z.strictObject({ d: z.number().positive().max(1), g: z.number().positive().max(1) }),
  /** Adam (β1, β2) for both networks. */
  betas: z.tuple([z.number().min(0).lt(1), z.number().min(0).lt(1)]),
  batchSize: z.number().int().min(1).max(4096),
  /** Half-life of the generator's EMA in thousands of images shown; null = no EMA. */
  emaHalfLifeKimg: z.number().positive().nullable(),
};

/** Real target = 1 − labelSmoothing (Salimans et al. 2016 use 0.9, i.e. 0.1). */
const LabelSmoothing = z.number().min(0).lt(0.5);

type LossKind = 'non-saturating' | 'least-squares' | 'wasserstein' | 'hinge';

/** Options that exist only on some objectives, with the reason, for error messages. */
export const LOSS_SPECIFIC_KEYS = {
  labelSmoothing: {
    losses: ['non-saturating', 'least-squares'],
    reason: 'one-sided label smoothing changes the real target of a loss with real/fake labels, and a critic loss has none',
  },
  weightClip: {
    losses: ['wasserstein'],
    reason: 'weight clipping (WGAN) bounds a critic\'s Lipschitz constant; use --gan wgan or set loss=wasserstein',
  },
  gpWeight: {
    losses: ['wasserstein'],
    reason: 'the gradient penalty (WGAN-GP) is a critic regulariser; use --gan wgan-gp or set loss=wasserstein (r1Gamma works with any loss)',
  },
} as const satisfies Record<string, { losses: readonly LossKind[]; reason: string }>;

function notApplicableMessage(key: string, loss: LossKind): string {
  const entry = LOSS_SPECIFIC_KEYS[key as keyof typeof LOSS_SPECIFIC_KEYS];
  if (!entry) return `unknown key '${key}'`;
  return `${key} applies only to loss ${entry.losses.map((l) => `'${l}'`).join(' or ')}, not '${loss}': ${entry.reason}`;
}

function lossBranchError(loss: LossKind) {
  return (issue: { code?: string; keys?: readonly string[] }): string | undefined =>
    issue.code === 'unrecognized_keys' && issue.keys ? issue.keys.map((k) => notApplicableMessage(k, loss)).join('; ') : undefined;
}

export const GanConfigSchema = z.discriminatedUnion('loss', [
  z.strictObject({ loss: z.literal('non-saturating'), labelSmoothing: LabelSmoothing, ...COMMON }, { error: lossBranchError('non-saturating') }),
  z.strictObject({ loss: z.literal('least-squares'), labelSmoothing: LabelSmoothing, ...COMMON }, { error: lossBranchError('least-squares') }),
  z.strictObject({
    loss: z.literal('wasserstein'),
    /** Critic weights are clipped to [−c, c] after each update (Table 1: 0 / 0.01 / 0.1); 0 = off. */
    weightClip: z.number().min(0),
    /** λ of the gradient penalty (Table 1: 0 / 0.1 / 1 / 10); 0 = off. */
    gpWeight: z.number().min(0),
    ...COMMON,
  }, { error: lossBranchError('wasserstein') }),
  z.strictObject({ loss: z.literal('hinge'), ...COMMON }, { error: lossBranchError('hinge') }),
]).superRefine((cfg, ctx) => {
  if (cfg.perceptual.weight > 0 && cfg.perceptual.weightsPath === null) {
    ctx.addIssue({
      code: 'custom', path: ['perceptual', 'weightsPath'],
      message: 'perceptual.weight > 0 needs perceptual.weightsPath: a safetensors file of torchvision vgg16 weights (make it with tools/export_vgg16.py)',
    });
  }
});

export type GanConfig = z.output<typeof GanConfigSchema>;

export type DeepReadonly<T> = T extends (...args: never[]) => unknown ? T
  : T extends object ? { readonly [K in keyof T]: DeepReadonly<T[K]> } : T;

/** What library code receives: validated, deep-readonly (and deep-frozen at run time). */
export type ResolvedGanConfig = DeepReadonly<GanConfig>;

// ---------------------------------------------------------------------------------------------------------
// Defaults

/** Shared defaults under every preset: the DCGAN architecture of Radford et al. 2016 at our default sizes. */
export const GAN_DEFAULTS = {
  r1Gamma: 0,
  g: { filters: 64, activation: 'relu', norm: 'batch', spectralNorm: false },
  d: { filters: 64, activation: 'leaky-relu', norm: 'batch', spectralNorm: false },
  /** DCGAN: "All weights were initialized from a zero-centered Normal distribution with standard deviation 0.02." */
  init: { kind: 'normal', gain: 0.02 },
  latentDim: 128,
  diffAugment: [],
  classicAugment: false,
  featureMatchingWeight: 0,
  perceptual: { weight: 0, weightsPath: null, layers: ['relu3_3'] },
  batchSize: 64,
  emaHalfLifeKimg: null,
} as const;

// ---------------------------------------------------------------------------------------------------------
// Keys and value coercion

type Coerce = (raw: unknown, key: string) => unknown;

function show(raw: unknown): string {
  return typeof raw === 'string' ? raw : JSON.stringify(raw);
}

function expected(key: string, raw: unknown, what: string): ConfigError {
  return new ConfigError(`${key}=${show(raw)}: expected ${what}`);
}

const asNumber: Coerce = (raw, key) => {
  if (typeof raw === 'number') return raw;
  if (typeof raw === 'string' && raw.trim() !== '' && Number.isFinite(Number(raw))) return Number(raw);
  throw expected(key, raw, 'a number');
};

const asInteger: Coerce = (raw, key) => {
  const n = asNumber(raw, key);
  if (!Number.isInteger(n)) throw expected(key, raw, 'an integer');
  return n;
};

const TRUE_WORDS = new Set(['true', '1', 'yes', 'on']);
const FALSE_WORDS = new Set(['false', '0', 'no', 'off']);

const asBoolean: Coerce = (raw, key) => {
  if (typeof raw === 'boolean') return raw;
  const word = String(raw).trim().toLowerCase();
  if (TRUE_WORDS.has(word)) return true;
  if (FALSE_WORDS.has(word)) return false;
  throw expected(key, raw, 'true or false');
};

const asString: Coerce = (raw, key) => {
  if (typeof raw === 'string') return raw.trim();
  throw expected(key, raw, 'a string');
};

const NONE_WORDS = new Set(['none', 'null', '']);

const asStringOrNone: Coerce = (raw, key) =>
  raw === null || (typeof raw === 'string' && NONE_WORDS.has(raw.trim().toLowerCase())) ? null : asString(raw, key);

const asNumberOrNone: Coerce = (raw, key) =>
  raw === null || (typeof raw === 'string' && NONE_WORDS.has(raw.trim().toLowerCase())) ? null : asNumber(raw, key);

const asList: Coerce = (raw, key) => {
  if (Array.isArray(raw)) return raw.map((item) => asString(item, key));
  if (typeof raw !== 'string') throw expected(key, raw, 'a comma-separated list');
  const text = raw.trim();
  return NONE_WORDS.has(text.toLowerCase()) ? [] : text.split(',').map((s) => s.trim());
};

const asNumberPair: Coerce = (raw, key) => {
  const items = Array.isArray(raw) ? raw : typeof raw === 'string' ? raw.split(',') : null;
  if (!items || items.length !== 2) throw expected(key, raw, 'two comma-separated numbers, e.g. 0.5,0.999');
  return items.map((item) => asNumber(item, key));
};

/** Salimans et al. 2016: real target 0.9. */
export const DEFAULT_LABEL_SMOOTHING = 0.1;

const asLabelSmoothing: Coerce = (raw, key) => {
  if (typeof raw === 'boolean') return raw ? DEFAULT_LABEL_SMOOTHING : 0;
  if (typeof raw === 'string' && (raw.trim() === 'true' || raw.trim() === 'false')) return raw.trim() === 'true' ? DEFAULT_LABEL_SMOOTHING : 0;
  return asNumber(raw, key);
};

/** DiffAugment's full policy, what `diffAugment=true` means (Zhao et al. 2020 use it for small data). */
export const FULL_DIFF_AUGMENT_POLICY = ['color', 'translation', 'cutout'] as const;

const asDiffAugment: Coerce = (raw, key) => {
  if (typeof raw === 'boolean') return raw ? [...FULL_DIFF_AUGMENT_POLICY] : [];
  if (typeof raw === 'string' && ['true', 'false'].includes(raw.trim().toLowerCase())) {
    return raw.trim().toLowerCase() === 'true' ? [...FULL_DIFF_AUGMENT_POLICY] : [];
  }
  return asList(raw, key);
};

/** Every settable key (dotted for nested fields), with its coercion and a one-line description. */
export const GAN_CONFIG_KEYS = {
  loss: { coerce: asString, description: 'non-saturating | least-squares | wasserstein | hinge' },
  labelSmoothing: { coerce: asLabelSmoothing, description: 'real target = 1 − s (true = 0.1); label losses only' },
  weightClip: { coerce: asNumber, description: 'clip critic weights to [−c, c]; wasserstein only' },
  gpWeight: { coerce: asNumber, description: 'gradient penalty λ; wasserstein only' },
  nCritic: { coerce: asInteger, description: 'D updates per G update' },
  r1Gamma: { coerce: asNumber, description: 'R1 penalty γ on real samples' },
  'g.filters': { coerce: asInteger, description: 'G base filters (16/32/64/128)' },
  'g.activation': { coerce: asString, description: 'relu | leaky-relu | elu | selu' },
  'g.norm': { coerce: asString, description: 'batch | instance | none' },
  'g.spectralNorm': { coerce: asBoolean, description: 'spectral norm on G' },
  'd.filters': { coerce: asInteger, description: 'D base filters (16/32/64/128)' },
  'd.activation': { coerce: asString, description: 'relu | leaky-relu | elu | selu' },
  'd.norm': { coerce: asString, description: 'batch | instance | none' },
  'd.spectralNorm': { coerce: asBoolean, description: 'spectral norm on D' },
  'init.kind': { coerce: asString, description: 'normal | xavier | xavier-uniform | kaiming' },
  'init.gain': { coerce: asNumber, description: 'init gain (0.01/0.02/0.1/1.0)' },
  latentDim: { coerce: asInteger, description: 'latent dimension Z' },
  diffAugment: { coerce: asDiffAugment, description: 'DiffAugment ops, e.g. color,translation,cutout (true = all, none = off)' },
  classicAugment: { coerce: asBoolean, description: 'flips, ±10° rotations, shifts of the real data' },
  featureMatchingWeight: { coerce: asNumber, description: 'feature matching weight in G loss' },
  'perceptual.weight': { coerce: asNumber, description: 'VGG perceptual weight in G loss' },
  'perceptual.weightsPath': { coerce: asStringOrNone, description: 'torchvision vgg16 safetensors file' },
  'perceptual.layers': { coerce: asList, description: 'VGG layers, e.g. relu2_2,relu3_3' },
  'lr.d': { coerce: asNumber, description: 'D learning rate' },
  'lr.g': { coerce: asNumber, description: 'G learning rate' },
  betas: { coerce: asNumberPair, description: 'Adam β1,β2' },
  batchSize: { coerce: asInteger, description: 'batch size' },
  emaHalfLifeKimg: { coerce: asNumberOrNone, description: 'G EMA half-life in kimg, or none' },
} as const satisfies Record<string, { coerce: Coerce; description: string }>;

export type GanConfigKey = keyof typeof GAN_CONFIG_KEYS;
const KEY_NAMES = Object.keys(GAN_CONFIG_KEYS) as GanConfigKey[];
/** Groups whose fields may also be given as a nested object. */
const GROUPS = new Set(['g', 'd', 'init', 'lr', 'perceptual']);

// ---------------------------------------------------------------------------------------------------------
// Did-you-mean

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let diagonal = row[0]!;
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const above = row[j]!;
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, diagonal + (a[i - 1]!.toLowerCase() === b[j - 1]!.toLowerCase() ? 0 : 1));
      diagonal = above;
    }
  }
  return row[b.length]!;
}

/** The closest option if it is plausibly a typo, else undefined. */
export function closestOption(value: string, options: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const option of options) {
    const d = editDistance(value, option);
    if (d < bestDistance) [best, bestDistance] = [option, d];
  }
  return bestDistance <= Math.max(2, Math.floor(value.length / 3)) ? best : undefined;
}

function unknownKeyError(key: string): ConfigError {
  const suggestion = closestOption(key, KEY_NAMES);
  return new ConfigError(
    `unknown GAN config key '${key}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}. Valid keys: ${KEY_NAMES.join(', ')}`,
  );
}

// ---------------------------------------------------------------------------------------------------------
// Overrides

function isPlainObject(x: unknown): x is Record<string, unknown> {
  return typeof x === 'object' && x !== null && !Array.isArray(x);
}

/** Nested or dotted overrides → a flat map of known dotted keys to coerced values. */
function flattenOverrides(overrides: Readonly<Record<string, unknown>>, prefix = '', into = new Map<string, unknown>()): Map<string, unknown> {
  for (const [k, value] of Object.entries(overrides)) {
    const key = prefix ? `${prefix}.${k}` : k;
    if (GROUPS.has(key) && isPlainObject(value)) {
      flattenOverrides(value, key, into);
    } else if (key === 'lr' && !isPlainObject(value)) {
      const lr = asNumber(value, key); // `lr` sets both networks' rates
      into.set('lr.d', lr).set('lr.g', lr);
    } else if (key in GAN_CONFIG_KEYS) {
      into.set(key, GAN_CONFIG_KEYS[key as GanConfigKey].coerce(value, key));
    } else {
      throw unknownKeyError(key);
    }
  }
  return into;
}

function unflatten(flat: ReadonlyMap<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of flat) {
    const parts = key.split('.');
    let node = out;
    for (const part of parts.slice(0, -1)) node = (node[part] ??= {}) as Record<string, unknown>;
    node[parts[parts.length - 1]!] = value;
  }
  return out;
}

/**
 * `--set` strings → flat overrides with typed values, e.g.
 * `parseSetOverrides(['d.filters=64', 'diffAugment=color,translation'])` →
 * `{ 'd.filters': 64, diffAugment: ['color', 'translation'] }`. Unknown keys and unparsable values throw a
 * ConfigError naming the key (and the valid keys).
 */
export function parseSetOverrides(items: readonly string[]): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq <= 0) throw new ConfigError(`--set expects key=value, got '${item}'. Valid keys: ${KEY_NAMES.join(', ')}`);
    const key = item.slice(0, eq).trim();
    const value = item.slice(eq + 1);
    for (const [k, v] of flattenOverrides({ [key]: value })) out[k] = v;
  }
  return out;
}

function isOn(value: unknown): boolean {
  return value !== 0 && value !== false && value !== null && value !== undefined;
}

function formatIssues(issues: readonly z.core.$ZodIssue[]): string {
  return issues.map((issue) => `  - ${issue.path.length > 0 ? `${issue.path.join('.')}: ` : ''}${issue.message}`).join('\n');
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

/** Validates a complete config (e.g. read back from a run's run.json). */
export function parseGanConfig(raw: unknown, context = 'GAN config'): ResolvedGanConfig {
  const result = GanConfigSchema.safeParse(raw);
  if (!result.success) throw new ConfigError(`invalid ${context}:\n${formatIssues(result.error.issues)}`);
  return deepFreeze(result.data);
}

/**
 * Preset `gan` merged over the shared defaults, then `overrides` (nested or dotted keys; strings are
 * coerced), validated and frozen.
 *
 * @example
 *   resolveGanConfig('wgan-gp', parseSetOverrides(['d.filters=32', 'diffAugment=translation']))
 *   // → { loss: 'wasserstein', gpWeight: 10, nCritic: 5, d: { filters: 32, norm: 'instance', … }, … }
 */
export function resolveGanConfig(gan: GanVariantId | string, overrides: Readonly<Record<string, unknown>> = {}): ResolvedGanConfig {
  if (!(gan in GAN_VARIANTS)) {
    const suggestion = closestOption(gan, GAN_VARIANT_IDS);
    throw new ConfigError(`unknown GAN variant '${gan}'${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; valid: ${GAN_VARIANT_IDS.join(', ')}`);
  }
  const variant = gan as GanVariantId;
  const user = flattenOverrides(overrides);
  const merged = flattenOverrides(GAN_DEFAULTS as unknown as Record<string, unknown>);
  for (const [k, v] of flattenOverrides(GAN_VARIANTS[variant] as unknown as Record<string, unknown>)) merged.set(k, v);
  for (const [k, v] of user) merged.set(k, v);

  const loss = merged.get('loss');
  if (typeof loss !== 'string' || !['non-saturating', 'least-squares', 'wasserstein', 'hinge'].includes(loss)) {
    const suggestion = typeof loss === 'string' ? closestOption(loss, ['non-saturating', 'least-squares', 'wasserstein', 'hinge']) : undefined;
    throw new ConfigError(`loss=${show(loss)} is not a loss${suggestion ? ` (did you mean '${suggestion}'?)` : ''}; valid: non-saturating, least-squares, wasserstein, hinge`);
  }
  for (const [key, { losses }] of Object.entries(LOSS_SPECIFIC_KEYS)) {
    if ((losses as readonly string[]).includes(loss)) {
      if (!merged.has(key)) merged.set(key, 0);
    } else if (!(user.has(key) && isOn(user.get(key)))) {
      merged.delete(key); // from the preset, or "off": not part of this objective
    } // else: left in, and the schema rejects it with notApplicableMessage
  }
  return parseGanConfig({ ...unflatten(merged), variant }, `GAN config (variant '${variant}')`);
}
