/**
 * Anatomical plausibility of label maps: connected components per class, holes, and per-dataset topology rules.
 *
 * Definitions (2D, one label map [H, W] per sample):
 * - Components of class c: connected sets of pixels labelled c, `connectivity` 8 (default) or 4.
 * - Holes of class c: connected components of the pixels NOT labelled c (with the complementary connectivity:
 *   4 when c uses 8 and vice versa, the standard digital-topology pairing) that do not touch the image border,
 *   i.e. regions entirely enclosed by c (what scipy's binary_fill_holes would fill). The LV cavity is a hole of
 *   the myocardium, for instance.
 * - Adjacency ("touches") is always 4-adjacency (shared edge); pixels outside the image count as background
 *   where a rule says so.
 * Rules apply only to samples where the class concerned is present (an apical slice without RV is not a
 * violation), so a sample without foreground is plausible.
 *
 * Rules per dataset (RULES):
 * - acdc (0 bg, 1 RV, 2 myocardium, 3 LV): at most one component each of RV, myocardium, LV; LV enclosed by
 *   myocardium: no LV pixel 4-adjacent to background, RV or the image border; RV touches the myocardium when both
 *   are present.
 * - sliver07 (0 bg, 1 liver): at most one liver component.
 * - idrid (0 bg, 1 optic disc): at most one optic-disc component, no holes in it.
 * - any other id (generic): no rules; components/holes per class are still reported, `plausibleShare` is null.
 * The same function on real slices gives the reference rate (real data should pass nearly always).
 */

export type Connectivity = 4 | 8;

export type TopologyRule =
  | { readonly kind: 'maxComponents'; readonly id: string; readonly cls: number; readonly max: number }
  | { readonly kind: 'noHoles'; readonly id: string; readonly cls: number }
  | {
    readonly kind: 'enclosed'; readonly id: string; readonly inner: number;
    /** Classes the inner class must not 4-touch. */
    readonly forbidden: readonly number[];
    /** Whether an inner pixel on the image border is a violation. */
    readonly borderForbidden: boolean;
  }
  | { readonly kind: 'adjacentTo'; readonly id: string; readonly cls: number; readonly other: number };

export type DatasetId = 'acdc' | 'sliver07' | 'idrid' | 'generic';

export const RULES: Readonly<Record<DatasetId, readonly TopologyRule[]>> = Object.freeze({
  acdc: [
    { kind: 'maxComponents', id: 'rv-one-component', cls: 1, max: 1 },
    { kind: 'maxComponents', id: 'myo-one-component', cls: 2, max: 1 },
    { kind: 'maxComponents', id: 'lv-one-component', cls: 3, max: 1 },
    { kind: 'enclosed', id: 'lv-enclosed-by-myo', inner: 3, forbidden: [0, 1], borderForbidden: true },
    { kind: 'adjacentTo', id: 'rv-touches-myo', cls: 1, other: 2 },
  ],
  sliver07: [{ kind: 'maxComponents', id: 'liver-one-component', cls: 1, max: 1 }],
  idrid: [
    { kind: 'maxComponents', id: 'disc-one-component', cls: 1, max: 1 },
    { kind: 'noHoles', id: 'disc-no-holes', cls: 1 },
  ],
  generic: [],
});

/** 'ACDC' → 'acdc'; unknown ids (nnunet, …) → 'generic'. */
export function datasetRulesId(dataset: string): DatasetId {
  const d = dataset.toLowerCase();
  return d === 'acdc' || d === 'sliver07' || d === 'idrid' ? d : 'generic';
}

export interface Components {
  /** Component id per pixel (1-based), 0 outside the mask. */
  readonly labels: Int32Array;
  readonly count: number;
  readonly sizes: number[];
  readonly touchesBorder: boolean[];
}

/** Connected components of the pixels where mask[i] ≠ 0 (Int32 stack flood fill, no recursion). */
export function connectedComponents(mask: ArrayLike<number>, h: number, w: number, connectivity: Connectivity = 8): Components {
  const n = h * w;
  const labels = new Int32Array(n);
  const stack = new Int32Array(n);
  const sizes: number[] = [];
  const touchesBorder: boolean[] = [];
  let count = 0;
  for (let start = 0; start < n; start++) {
    if (!mask[start] || labels[start]) continue;
    const id = ++count;
    let size = 0;
    let border = false;
    let sp = 0;
    stack[sp++] = start;
    labels[start] = id;
    while (sp > 0) {
      const p = stack[--sp]!;
      size++;
      const y = (p / w) | 0;
      const x = p - y * w;
      if (y === 0 || x === 0 || y === h - 1 || x === w - 1) border = true;
      for (let dy = -1; dy <= 1; dy++) {
        const yy = y + dy;
        if (yy < 0 || yy >= h) continue;
        for (let dx = -1; dx <= 1; dx++) {
          if ((dx === 0 && dy === 0) || (connectivity === 4 && dx !== 0 && dy !== 0)) continue;
          const xx = x + dx;
          if (xx < 0 || xx >= w) continue;
          const q = yy * w + xx;
          if (mask[q] && !labels[q]) {
            labels[q] = id;
            stack[sp++] = q;
          }
        }
      }
    }
    sizes.push(size);
    touchesBorder.push(border);
  }
  return { labels, count, sizes, touchesBorder };
}

/** Number of components of class `cls` in a label map. */
export function countComponents(labelMap: ArrayLike<number>, h: number, w: number, cls: number, connectivity: Connectivity = 8): number {
  const m = new Uint8Array(h * w);
  for (let i = 0; i < m.length; i++) m[i] = labelMap[i] === cls ? 1 : 0;
  return connectedComponents(m, h, w, connectivity).count;
}

/**
 * Number of holes of class `cls`: components of the non-`cls` pixels (complementary connectivity) that do not
 * touch the border. 0 when the class is absent.
 */
export function countHoles(labelMap: ArrayLike<number>, h: number, w: number, cls: number, connectivity: Connectivity = 8): number {
  const m = new Uint8Array(h * w);
  let any = false;
  for (let i = 0; i < m.length; i++) {
    if (labelMap[i] === cls) any = true;
    else m[i] = 1;
  }
  if (!any) return 0;
  const cc = connectedComponents(m, h, w, connectivity === 8 ? 4 : 8);
  return cc.touchesBorder.filter((b) => !b).length;
}

/** Pixels of `inner` 4-adjacent to a forbidden class (or on the border when `borderForbidden`). */
export function touchingPixels(
  labelMap: ArrayLike<number>, h: number, w: number, inner: number, forbidden: readonly number[], borderForbidden: boolean,
): number {
  const bad = new Uint8Array(256);
  for (const f of forbidden) bad[f] = 1;
  let n = 0;
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (labelMap[i] !== inner) continue;
      const onBorder = y === 0 || x === 0 || y === h - 1 || x === w - 1;
      if (
        (borderForbidden && onBorder) ||
        (y > 0 && bad[labelMap[i - w]!]) || (y < h - 1 && bad[labelMap[i + w]!]) ||
        (x > 0 && bad[labelMap[i - 1]!]) || (x < w - 1 && bad[labelMap[i + 1]!])
      ) n++;
    }
  }
  return n;
}

/** Whether some pixel of `cls` is 4-adjacent to a pixel of `other`. */
export function touches(labelMap: ArrayLike<number>, h: number, w: number, cls: number, other: number): boolean {
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const i = y * w + x;
      if (labelMap[i] !== cls) continue;
      if ((y > 0 && labelMap[i - w] === other) || (y < h - 1 && labelMap[i + w] === other) ||
        (x > 0 && labelMap[i - 1] === other) || (x < w - 1 && labelMap[i + 1] === other)) return true;
    }
  }
  return false;
}

export interface Violation {
  readonly rule: string;
  readonly detail: string;
}

/** The violations of one label map [h, w] under `rules`. */
export function checkSample(
  labelMap: ArrayLike<number>, h: number, w: number, rules: readonly TopologyRule[], connectivity: Connectivity = 8,
): Violation[] {
  const present = new Set<number>();
  for (let i = 0; i < h * w; i++) present.add(labelMap[i]!);
  const out: Violation[] = [];
  for (const r of rules) {
    switch (r.kind) {
      case 'maxComponents': {
        if (!present.has(r.cls)) break;
        const n = countComponents(labelMap, h, w, r.cls, connectivity);
        if (n > r.max) out.push({ rule: r.id, detail: `class ${r.cls} has ${n} components (max ${r.max})` });
        break;
      }
      case 'noHoles': {
        const n = countHoles(labelMap, h, w, r.cls, connectivity);
        if (n > 0) out.push({ rule: r.id, detail: `class ${r.cls} has ${n} hole(s)` });
        break;
      }
      case 'enclosed': {
        if (!present.has(r.inner)) break;
        const n = touchingPixels(labelMap, h, w, r.inner, r.forbidden, r.borderForbidden);
        if (n > 0) out.push({ rule: r.id, detail: `${n} pixel(s) of class ${r.inner} touch class(es) ${r.forbidden.join('/')}${r.borderForbidden ? ' or the border' : ''}` });
        break;
      }
      case 'adjacentTo': {
        if (!present.has(r.cls) || !present.has(r.other)) break;
        if (!touches(labelMap, h, w, r.cls, r.other)) out.push({ rule: r.id, detail: `class ${r.cls} does not touch class ${r.other}` });
        break;
      }
    }
  }
  return out;
}

export interface ClassTopology {
  readonly cls: number;
  /** Samples where the class is present. */
  readonly present: number;
  /** Mean components over those samples. */
  readonly meanComponents: number;
  /** Share of those samples with more than one component. */
  readonly multiComponentShare: number;
  /** Share of those samples with at least one hole. */
  readonly holeShare: number;
}

export interface PlausibilityResult {
  readonly dataset: DatasetId;
  readonly connectivity: Connectivity;
  readonly rules: readonly TopologyRule[];
  readonly count: number;
  /** Share of samples without any violation; null when the dataset has no rules (generic). */
  readonly plausibleShare: number | null;
  /** Violating samples per rule id. */
  readonly violationCounts: Readonly<Record<string, number>>;
  /** Samples with violations (first `maxListed`, by index). */
  readonly violations: readonly { readonly index: number; readonly violations: readonly Violation[] }[];
  readonly violatingCount: number;
  readonly perClass: readonly ClassTopology[];
}

export interface PlausibilityOptions {
  readonly connectivity?: Connectivity;
  /** Cap on the listed violating samples. @default 1000 */
  readonly maxListed?: number;
  /** Custom rules instead of the dataset's. */
  readonly rules?: readonly TopologyRule[];
}

/** Plausibility of `count` label maps [count, h, w] under the dataset's rules. */
export function plausibility(
  labels: Uint8Array, count: number, h: number, w: number, numClasses: number, dataset: string, opts: PlausibilityOptions = {},
): PlausibilityResult {
  const id = datasetRulesId(dataset);
  const rules = opts.rules ?? RULES[id];
  const connectivity = opts.connectivity ?? 8;
  const maxListed = opts.maxListed ?? 1000;
  const plane = h * w;
  const violationCounts: Record<string, number> = {};
  for (const r of rules) violationCounts[r.id] = 0;
  const violations: { index: number; violations: Violation[] }[] = [];
  let violatingCount = 0;
  const present = new Array<number>(numClasses).fill(0);
  const comps = new Array<number>(numClasses).fill(0);
  const multi = new Array<number>(numClasses).fill(0);
  const holes = new Array<number>(numClasses).fill(0);
  for (let s = 0; s < count; s++) {
    const map = labels.subarray(s * plane, (s + 1) * plane);
    for (let c = 1; c < numClasses; c++) {
      const n = countComponents(map, h, w, c, connectivity);
      if (n === 0) continue;
      present[c]! += 1;
      comps[c]! += n;
      if (n > 1) multi[c]! += 1;
      if (countHoles(map, h, w, c, connectivity) > 0) holes[c]! += 1;
    }
    const v = checkSample(map, h, w, rules, connectivity);
    if (v.length) {
      violatingCount++;
      for (const rid of new Set(v.map((x) => x.rule))) violationCounts[rid] = (violationCounts[rid] ?? 0) + 1;
      if (violations.length < maxListed) violations.push({ index: s, violations: v });
    }
  }
  const perClass: ClassTopology[] = [];
  for (let c = 1; c < numClasses; c++) {
    const p = present[c]!;
    perClass.push({
      cls: c, present: p,
      meanComponents: p ? comps[c]! / p : NaN,
      multiComponentShare: p ? multi[c]! / p : NaN,
      holeShare: p ? holes[c]! / p : NaN,
    });
  }
  return {
    dataset: id, connectivity, rules, count,
    plausibleShare: rules.length === 0 || count === 0 ? null : (count - violatingCount) / count,
    violationCounts, violations, violatingCount, perClass,
  };
}
