/**
 * The preprocessing configuration: what a user may set (every field optional, validated with zod) and the
 * resolved, frozen config with the defaults of the dataset's modality filled in. The resolved config is
 * recorded verbatim in the prepared manifest and hashed into its cache key, so every knob that changes the
 * output lives here.
 *
 * Defaults per modality:
 *   field         mri                       ct                          rgb
 *   size          64                        64                          64
 *   spacing       'median' (of the dataset)  'median'                    'none' (photos have no physical spacing)
 *   axis          'z'                       'z'                         'z' (2D: the single slice)
 *   fov.centre    'foreground' (label bbox) 'foreground'                'content' (the bright FOV circle)
 *   fov.margin    1.5 × foreground extent   1.2 × foreground extent     1.0 × content extent
 *   intensity     percentile 0.5–99.5       window L 60 W 400 (liver)   fixed 0–255 (/127.5 − 1)
 *   dropEmpty     true                      true                        false (an image without lesions is a sample)
 *   splitBy       'random'                  'random'                    'random'
 *   fractions     0.7 / 0.1 / 0.2           0.7 / 0.1 / 0.2             0.7 / 0.1 / 0.2
 */
import { z } from 'zod';
import { ConfigError } from '../../core/errors.js';
import type { Modality } from '../readers/types.js';

export type SliceAxisChoice = 'x' | 'y' | 'z' | 'auto';

export type IntensityConfig =
  /** Per volume (per channel) percentile clipping: the `low` percentile maps to −1, `high` to +1. */
  | { readonly mode: 'percentile'; readonly low: number; readonly high: number }
  /** A fixed window (CT, in HU): [level − width/2, level + width/2] maps to [−1, 1], values outside are clipped. */
  | { readonly mode: 'window'; readonly level: number; readonly width: number }
  /** A fixed linear range: [min, max] maps to [−1, 1], clipped (8-bit photos: 0–255, i.e. v / 127.5 − 1). */
  | { readonly mode: 'fixed'; readonly min: number; readonly max: number };

export interface FovConfig {
  /**
   * What the square field of view is centred on, over the whole volume (one crop per volume, the same for every
   * slice): 'foreground' = the label map's non-zero voxels; 'content' = the image's bright region (voxels above
   * `threshold` of its intensity range, e.g. a fundus photograph's FOV circle); 'image' = the whole image.
   */
  readonly centre: 'foreground' | 'content' | 'image';
  /** Centre on the bounding box's middle or on the centroid of the region. */
  readonly method: 'bbox' | 'centroid';
  /** Side of the square in mm (in pixels when spacing is 'none'); null = the region's larger extent × margin. */
  readonly sizeMm: number | null;
  readonly margin: number;
  /** For centre 'content': fraction of the intensity range above the minimum that counts as content. */
  readonly threshold: number;
}

export interface SplitFractions {
  readonly train: number;
  readonly val: number;
  readonly test: number;
}

export interface PrepareConfig {
  readonly modality: Modality;
  /** Output slices are size × size pixels (an even number, 16–256). */
  readonly size: number;
  /** In-plane target spacing in mm before the FOV crop: a number, 'median' (of the dataset's in-plane spacings), or 'none'. */
  readonly spacing: number | 'median' | 'none';
  /** The slicing axis; 'auto' = the axis of largest spacing (the acquisition axis), ties go to z. */
  readonly axis: SliceAxisChoice;
  readonly fov: FovConfig;
  readonly intensity: IntensityConfig;
  /** Exclude slices whose prepared label map has no foreground. */
  readonly dropEmpty: boolean;
  /** 'random': seeded shuffle of patients; 'publisher': the publisher's training/testing subsets (val carved from training by seed). */
  readonly splitBy: 'random' | 'publisher';
  readonly splitSeed: number;
  readonly fractions: SplitFractions;
}

/** What a user may pass: any subset of the fields, nested objects partially. */
export type PrepareConfigInput = z.input<typeof InputSchema>;

const InputSchema = z.strictObject({
  size: z.number().int().min(16).max(256).refine((v) => v % 2 === 0, 'must be even').optional(),
  spacing: z.union([z.number().positive().max(100), z.literal('median'), z.literal('none')]).optional(),
  axis: z.enum(['x', 'y', 'z', 'auto']).optional(),
  fov: z
    .strictObject({
      centre: z.enum(['foreground', 'content', 'image']).optional(),
      method: z.enum(['bbox', 'centroid']).optional(),
      sizeMm: z.number().positive().nullable().optional(),
      margin: z.number().min(1).max(10).optional(),
      threshold: z.number().min(0).max(1).optional(),
    })
    .optional(),
  intensity: z
    .strictObject({
      mode: z.enum(['percentile', 'window', 'fixed']).optional(),
      low: z.number().min(0).max(100).optional(),
      high: z.number().min(0).max(100).optional(),
      level: z.number().optional(),
      width: z.number().positive().optional(),
      min: z.number().optional(),
      max: z.number().optional(),
    })
    .optional(),
  dropEmpty: z.boolean().optional(),
  splitBy: z.enum(['random', 'publisher']).optional(),
  splitSeed: z.number().int().min(0).max(0xffffffff).optional(),
  fractions: z
    .strictObject({ train: z.number().min(0).max(1), val: z.number().min(0).max(1), test: z.number().min(0).max(1) })
    .optional(),
});

const INTENSITY_DEFAULTS = {
  percentile: { mode: 'percentile', low: 0.5, high: 99.5 },
  window: { mode: 'window', level: 60, width: 400 },
  fixed: { mode: 'fixed', min: 0, max: 255 },
} as const satisfies Record<IntensityConfig['mode'], IntensityConfig>;

const INTENSITY_KEYS: Record<IntensityConfig['mode'], readonly string[]> = {
  percentile: ['low', 'high'],
  window: ['level', 'width'],
  fixed: ['min', 'max'],
};

/** The defaults of each modality (see the table at the top of this file). */
export function defaultPrepareConfig(modality: Modality): PrepareConfig {
  const common = { modality, size: 64, axis: 'z', splitBy: 'random', splitSeed: 0, fractions: { train: 0.7, val: 0.1, test: 0.2 } } as const;
  switch (modality) {
    case 'mri':
      return { ...common, spacing: 'median', fov: { centre: 'foreground', method: 'bbox', sizeMm: null, margin: 1.5, threshold: 0.1 }, intensity: INTENSITY_DEFAULTS.percentile, dropEmpty: true };
    case 'ct':
      return { ...common, spacing: 'median', fov: { centre: 'foreground', method: 'bbox', sizeMm: null, margin: 1.2, threshold: 0.1 }, intensity: INTENSITY_DEFAULTS.window, dropEmpty: true };
    case 'rgb':
      return { ...common, spacing: 'none', fov: { centre: 'content', method: 'bbox', sizeMm: null, margin: 1.0, threshold: 0.1 }, intensity: INTENSITY_DEFAULTS.fixed, dropEmpty: false };
    default:
      throw new ConfigError(`unknown modality ${JSON.stringify(modality)}; expected mri, ct or rgb`);
  }
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const v of Object.values(value)) deepFreeze(v);
    Object.freeze(value);
  }
  return value;
}

/**
 * Validates `input` (unknown keys and bad values are ConfigErrors naming the field) and fills in the defaults of
 * `modality`. The result is frozen. Nested objects merge: `{ intensity: { level: 40 } }` keeps the CT window mode
 * and width; switching `intensity.mode` takes that mode's defaults for the parameters not given.
 */
export function resolvePrepareConfig(input: unknown, modality: Modality): PrepareConfig {
  const parsed = InputSchema.safeParse(input ?? {});
  if (!parsed.success) {
    const issues = parsed.error.issues.map((i) => `${i.path.length ? i.path.join('.') : '(config)'}: ${i.message}`);
    throw new ConfigError(`invalid preprocessing config:\n  ${issues.join('\n  ')}`);
  }
  const inp = parsed.data;
  const def = defaultPrepareConfig(modality);

  const mode = inp.intensity?.mode ?? def.intensity.mode;
  const base: Record<string, unknown> = mode === def.intensity.mode ? { ...def.intensity } : { ...INTENSITY_DEFAULTS[mode] };
  for (const [key, value] of Object.entries(inp.intensity ?? {})) {
    if (key === 'mode' || value === undefined) continue;
    if (!INTENSITY_KEYS[mode].includes(key)) {
      throw new ConfigError(`invalid preprocessing config: intensity.${key} does not apply to intensity mode '${mode}' (its parameters: ${INTENSITY_KEYS[mode].join(', ')})`);
    }
    base[key] = value;
  }
  const intensity = base as unknown as IntensityConfig;
  if (intensity.mode === 'percentile' && !(intensity.low < intensity.high)) {
    throw new ConfigError(`invalid preprocessing config: intensity.low (${intensity.low}) must be below intensity.high (${intensity.high})`);
  }
  if (intensity.mode === 'fixed' && !(intensity.min < intensity.max)) {
    throw new ConfigError(`invalid preprocessing config: intensity.min (${intensity.min}) must be below intensity.max (${intensity.max})`);
  }

  const fractions = inp.fractions ?? def.fractions;
  const sum = fractions.train + fractions.val + fractions.test;
  if (Math.abs(sum - 1) > 1e-6) throw new ConfigError(`invalid preprocessing config: fractions must sum to 1 (train + val + test = ${sum})`);
  if (!(fractions.train > 0)) throw new ConfigError('invalid preprocessing config: fractions.train must be positive');

  const fov: FovConfig = {
    centre: inp.fov?.centre ?? def.fov.centre,
    method: inp.fov?.method ?? def.fov.method,
    sizeMm: inp.fov?.sizeMm !== undefined ? inp.fov.sizeMm : def.fov.sizeMm,
    margin: inp.fov?.margin ?? def.fov.margin,
    threshold: inp.fov?.threshold ?? def.fov.threshold,
  };

  return deepFreeze({
    modality,
    size: inp.size ?? def.size,
    spacing: inp.spacing ?? def.spacing,
    axis: inp.axis ?? def.axis,
    fov,
    intensity,
    dropEmpty: inp.dropEmpty ?? def.dropEmpty,
    splitBy: inp.splitBy ?? def.splitBy,
    splitSeed: inp.splitSeed ?? def.splitSeed,
    fractions: { train: fractions.train, val: fractions.val, test: fractions.test },
  });
}
