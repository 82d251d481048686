/**
 * Cardiac cine-MRI phantom in the style of ACDC: a bright-blood (SSFP) short-axis stack, base → apex every 10 mm,
 * at end-diastole and end-systole, labelled 0 background, 1 RV cavity, 2 LV myocardium, 3 LV cavity.
 * Volumes are [nx, ny, nz] with voxel (x, y, z) at data[(z * ny + y) * nx + x]; z = 0 is the basal slice, anterior
 * is up (small y), the RV lies to the image left of the LV. Papillary muscles are part of the LV cavity (as in ACDC).
 */
import type { Rng } from '../../core/rng.js';
import type { IntensityVolume, LabelVolume, Vec3 } from '../volume.js';
import { addGaussianNoise, ellipse, gaussianBlur, intensityVolume, labelVolume, paint, Polar, smoothNoise, superellipse, union, wobble, type Grid, type Layer, type Profile } from './shapes.js';

export type AcdcGroup = 'NOR' | 'MINF' | 'DCM' | 'HCM' | 'RV';
export const ACDC_GROUPS: readonly AcdcGroup[] = ['NOR', 'MINF', 'DCM', 'HCM', 'RV'];

/** The fields of ACDC's Info.cfg. */
export interface CardiacInfo {
  readonly ed: number;
  readonly es: number;
  readonly group: AcdcGroup;
  readonly height: number;
  readonly nbFrame: number;
  readonly weight: number;
}

export interface LabelledVolume {
  readonly image: IntensityVolume;
  readonly label: LabelVolume;
}

export interface CardiacPatient {
  readonly ed: LabelledVolume;
  readonly es: LabelledVolume;
  readonly info: CardiacInfo;
}

export const ACDC_LABELS = { background: 0, rv: 1, myo: 2, lv: 3 } as const;

/** Per group: LV cavity radius at the base and wall thickness at ED (mm), ES/ED cavity radius, RV size and ES/ED radius. */
const PHYSIOLOGY: Record<AcdcGroup, { lv: number; wall: number; squeeze: number; rv: number; rvSqueeze: number; weight: number }> = {
  NOR: { lv: 24, wall: 8, squeeze: 0.66, rv: 1.0, rvSqueeze: 0.7, weight: 70 },
  MINF: { lv: 28, wall: 8, squeeze: 0.8, rv: 1.0, rvSqueeze: 0.75, weight: 82 },
  DCM: { lv: 33, wall: 6.5, squeeze: 0.9, rv: 1.1, rvSqueeze: 0.82, weight: 80 },
  HCM: { lv: 20, wall: 14, squeeze: 0.52, rv: 0.9, rvSqueeze: 0.65, weight: 78 },
  RV: { lv: 23, wall: 7.5, squeeze: 0.68, rv: 1.5, rvSqueeze: 0.88, weight: 68 },
};

/** Everything random about one patient, drawn once and shared by both phases. */
interface Anatomy {
  readonly grid: Grid;
  readonly slices: number;
  readonly group: AcdcGroup;
  /** LV centre at the base (mm), drift of the centre from base to apex, in-plane rotation of the heart. */
  readonly heart: { readonly cx: number; readonly cy: number; readonly dx: number; readonly dy: number; readonly tilt: number };
  readonly lv: number;
  readonly wall: number;
  /** Relative depth of the last slice (≈ 1 reaches the apex). */
  readonly reach: number;
  /** Angle of the infarcted (thinned, akinetic) segment in the heart frame; MINF only. */
  readonly infarct: number | null;
  readonly outline: { readonly endo: Profile; readonly wall: Profile; readonly rv: Profile; readonly body: Profile; readonly thorax: Profile };
  readonly body: { readonly cy: number; readonly rx: number; readonly ry: number; readonly fat: number };
  /** Relative depth from which the liver dome rises into the slices. */
  readonly liverFrom: number;
  /** Intensities at full blood signal = 1. */
  readonly tissue: { readonly myo: number; readonly fat: number; readonly muscle: number; readonly lung: number; readonly liver: number; readonly marrow: number; readonly csf: number };
  /** Stored blood intensity, Rician noise σ (fraction of blood). */
  readonly blood: number;
  readonly noise: number;
  /** Shared by both phases (same coil, same series): receive-field inhomogeneity and tissue texture. */
  readonly bias: { readonly field: Noise; readonly strength: number; readonly coil: number };
  readonly texture: Noise;
}

type Noise = (x: number, y: number, z?: number) => number;

function drawAnatomy(rng: Rng, group: AcdcGroup): Anatomy {
  const p = PHYSIOLOGY[group];
  const spacing = rng.uniform(1.4, 1.6);
  const grid: Grid = { width: 2 * rng.int(68, 80), height: 2 * rng.int(64, 78), spacing: [spacing, spacing] };
  const ry = ((grid.height * spacing) / 2) * rng.uniform(0.8, 0.92);
  const jitter = (v: number, rel: number) => v * rng.uniform(1 - rel, 1 + rel);
  return {
    grid,
    slices: rng.int(8, 10),
    group,
    heart: { cx: rng.uniform(5, 22), cy: rng.uniform(-22, -6), dx: rng.normal(8, 3), dy: rng.normal(-4, 3), tilt: rng.normal(0, 0.2) },
    lv: jitter(p.lv, 0.1),
    wall: jitter(p.wall, 0.12),
    reach: rng.uniform(0.95, 1.02),
    infarct: group === 'MINF' ? rng.uniform(0, 2 * Math.PI) : null,
    outline: { endo: wobble(rng, 0.05), wall: wobble(rng, 0.12), rv: wobble(rng, 0.08), body: wobble(rng, 0.03), thorax: wobble(rng, 0.05) },
    body: { cy: rng.normal(4, 3), rx: ry * rng.uniform(1.5, 1.8), ry, fat: rng.uniform(5, 16) },
    liverFrom: rng.uniform(0.4, 0.65),
    tissue: { myo: jitter(0.28, 0.1), fat: jitter(0.85, 0.08), muscle: jitter(0.24, 0.1), lung: jitter(0.05, 0.3), liver: jitter(0.34, 0.1), marrow: jitter(0.55, 0.1), csf: jitter(0.8, 0.1) },
    blood: rng.uniform(200, 420),
    noise: rng.uniform(0.02, 0.045),
    // Anterior and posterior receive coils: brighter near the chest surfaces, plus a smooth random field.
    bias: { field: smoothNoise(rng, 90), strength: rng.uniform(0.15, 0.35), coil: rng.uniform(0.3, 0.8) },
    texture: smoothNoise(rng, 6),
  };
}

/** The LV at relative depth t: endocardium, epicardium and centre, at ED or (contracted) ES. */
function leftVentricle(a: Anatomy, t: number, systole: boolean): { endo: Polar; epi: Polar; cx: number; cy: number } {
  const p = PHYSIOLOGY[a.group];
  const shortening = systole ? 0.25 * (1 - p.squeeze) : 0;
  const te = Math.max(0, (t - shortening) / (1 - shortening)); // the base descends towards the (fixed) apex
  const taper = Math.sqrt(Math.max(0, 1 - te ** 2.5));
  const cx = a.heart.cx + a.heart.dx * t;
  const cy = a.heart.cy + a.heart.dy * t;
  const akinesia = (th: number) => (a.infarct === null ? 0 : Math.exp(-(((Math.atan2(Math.sin(th - a.infarct), Math.cos(th - a.infarct))) / 0.6) ** 2)));
  const endoEd = (th: number) => a.lv * taper * a.outline.endo(th - a.heart.tilt) * (1 - 0.15 * (1 - taper));
  // Wall thickness: thinner towards the apex and over an infarct scar, never below 4 mm (≥ 2.5 px).
  const epiEd = (th: number) => endoEd(th) + Math.max(4, a.wall * (1 - 0.25 * te) * a.outline.wall(th - a.heart.tilt) * (1 - 0.45 * akinesia(th - a.heart.tilt)));
  const endoEs = (th: number) => endoEd(th) * (p.squeeze + (1 - p.squeeze) * akinesia(th - a.heart.tilt));
  // Myocardium is incompressible: each sector keeps its ED area at ES, so the wall thickens as the cavity shrinks.
  const epiEs = (th: number) => Math.sqrt(endoEs(th) ** 2 + epiEd(th) ** 2 - endoEd(th) ** 2);
  return systole ? { endo: new Polar(cx, cy, endoEs), epi: new Polar(cx, cy, epiEs), cx, cy } : { endo: new Polar(cx, cy, endoEd), epi: new Polar(cx, cy, epiEd), cx, cy };
}

/** Heart layers of one slice: pericardial fat, RV (wall, cavity), LV (myocardium, cavity, papillary muscles). */
function heartLayers(a: Anatomy, t: number, systole: boolean, texture: (x: number, y: number) => number): Layer[] {
  const p = PHYSIOLOGY[a.group];
  const T = a.tissue;
  const { endo, epi, cx, cy } = leftVentricle(a, t, systole);
  const E = Math.sqrt(epi.area() / Math.PI);
  const R = Math.sqrt(endo.area() / Math.PI);
  const q = p.rv * Math.sqrt(Math.max(0, 1 - (t / 0.8) ** 2)) * (systole ? p.rvSqueeze : 1);
  const psi = Math.PI + 0.45 + a.heart.tilt;
  const shift = E * (0.62 + 0.3 * q);
  const rvCavity = ellipse(cx + Math.cos(psi) * shift, cy + Math.sin(psi) * shift, E * (0.38 + 0.32 * q), E * (1.0 + 0.3 * q), psi, a.outline.rv);
  const rvWall = rvCavity.offset(3);
  const hasRv = q > 0.12;
  const blood = (x: number, y: number) => 0.95 + 0.05 * texture(x * 0.5, y * 0.5);
  const hull = hasRv ? union(epi.offset(4), rvWall.offset(2)) : epi.offset(4);
  const layers: Layer[] = [{ shape: hull, value: (x, y) => T.fat * (0.75 + 0.25 * texture(x * 0.4, y * 0.4)), edge: 3 }];
  if (hasRv) {
    layers.push({ shape: rvWall, value: T.myo, outside: [epi], edge: 2 });
    layers.push({ shape: rvCavity, value: blood, label: ACDC_LABELS.rv, outside: [epi], edge: 2.5 });
  }
  layers.push({ shape: epi, value: (x, y) => T.myo * (0.94 + 0.12 * texture(x, y)), label: ACDC_LABELS.myo, edge: 2.5 });
  if (R > 0.5) layers.push({ shape: endo, value: blood, label: ACDC_LABELS.lv, edge: 2.5 });
  if (t > 0.2 && t < 0.85 && R > 8) {
    for (const angle of [0.9, -0.7]) {
      const th = angle + a.heart.tilt;
      const blob = ellipse(cx + Math.cos(th) * R * 0.78, cy + Math.sin(th) * R * 0.78, R * 0.16, R * 0.2, th);
      layers.push({ shape: blob, value: T.myo * 1.2, within: [endo], edge: 2.5, opacity: 0.85 });
    }
  }
  return layers;
}

/** Chest around the heart: body fat and muscle, lungs, liver dome, mediastinum, aorta, spine, sternum. */
function chestLayers(a: Anatomy, t: number, texture: (x: number, y: number) => number): Layer[] {
  const T = a.tissue;
  const b = a.body;
  const body = superellipse(0, b.cy, b.rx, b.ry, 2.6, 0, a.outline.body);
  const muscle = new Polar(0, b.cy, (th) => body.radiusAt(th) - b.fat * (1.2 + 0.8 * Math.sin(th)) * a.outline.thorax(2 * th));
  const thorax = superellipse(0, b.cy + 4, b.rx - b.fat - 14, b.ry - b.fat - 12, 2.3, 0, a.outline.thorax);
  const spineY = b.cy + b.ry - b.fat - 34;
  const sternumY = b.cy - b.ry + b.fat + 8;
  // Dark lung, denser towards the back (dependent), with sparse pulmonary vessels.
  const lung = (x: number, y: number) => T.lung * (1 + (0.6 * (y - b.cy)) / b.ry) + 0.8 * Math.max(0, texture(x * 1.2 + 50, y * 1.2) - 0.45);
  const layers: Layer[] = [
    { shape: body, value: T.fat, edge: 2 },
    { shape: muscle, value: (x, y) => T.muscle * (0.9 + 0.2 * texture(x, y)), edge: 2 },
    { shape: thorax, value: lung, edge: 2.5 },
  ];
  if (t > a.liverFrom) {
    const g = (t - a.liverFrom) / (1 - a.liverFrom);
    const liver = ellipse(-45, a.heart.cy + 80 - 30 * g, 95 * g + 5, 70 * g + 5, -0.35, a.outline.thorax);
    layers.push({ shape: liver, value: (x, y) => T.liver * (0.93 + 0.1 * texture(x, y)), within: [thorax], edge: 3 });
  }
  layers.push(
    { shape: ellipse(a.heart.cx * 0.3, (sternumY + a.heart.cy) / 2, 24, (a.heart.cy - sternumY) / 2 + 12), value: (x, y) => T.fat * (0.75 + 0.15 * texture(x * 0.5, y * 0.5)), within: [thorax], edge: 4, opacity: 0.8 },
    { shape: ellipse(0, spineY - 22, 26, 24), value: (x, y) => T.muscle * (1.1 + 0.6 * texture(x, y)), within: [thorax], edge: 3 },
    { shape: ellipse(22, spineY - 24, 11, 11), value: 0.9, edge: 2 },
    { shape: ellipse(0, spineY, 16, 13), value: (x, y) => T.marrow * (0.85 + 0.3 * texture(x * 2, y * 2)), edge: 2 },
    { shape: ellipse(0, spineY + 22, 7, 6), value: T.csf, edge: 1.5 },
    { shape: ellipse(0, sternumY, 12, 6), value: T.marrow, edge: 2 },
  );
  return layers;
}

/** Renders one phase: paints every slice, then bias field, blur (PSF) and Rician noise, in stored units. */
function renderPhase(rng: Rng, a: Anatomy, systole: boolean, name: string): LabelledVolume {
  const { width: nx, height: ny, spacing } = a.grid;
  const nz = a.slices;
  const plane = nx * ny;
  const image = new Float32Array(plane * nz);
  const label = new Uint8Array(plane * nz);
  const { field, strength, coil } = a.bias;
  for (let z = 0; z < nz; z++) {
    const t = (z / (nz - 1)) * a.reach;
    const texture = (x: number, y: number) => a.texture(x + 1000 * z, y); // slices 10 mm apart: independent 2D textures
    paint(a.grid, [...chestLayers(a, t, texture), ...heartLayers(a, t, systole, texture)], image, label, z * plane);
    for (let j = 0; j < ny; j++) {
      const y = (j + 0.5 - ny / 2) * spacing[1];
      for (let i = 0; i < nx; i++) {
        const x = (i + 0.5 - nx / 2) * spacing[0];
        image[z * plane + j * nx + i] *= Math.exp(strength * field(x, y, z * 10)) * (1 + coil * ((y - a.body.cy) / a.body.ry) ** 2);
      }
    }
    gaussianBlur(image, nx, ny, 0.6, z * plane);
  }
  // Rician noise: the magnitude of the complex signal with Gaussian noise on both channels.
  const re = new Float32Array(image.length);
  const im = new Float32Array(image.length);
  addGaussianNoise(rng, re, a.noise);
  addGaussianNoise(rng, im, a.noise);
  for (let k = 0; k < image.length; k++) image[k] = a.blood * Math.sqrt((image[k]! + re[k]!) ** 2 + im[k]! ** 2);
  const size: Vec3 = [nx, ny, nz];
  const voxel: Vec3 = [spacing[0], spacing[1], 10];
  return { image: intensityVolume(size, voxel, image, `phantom:${name}`), label: labelVolume(size, voxel, label, `phantom:${name}_gt`) };
}

/** One ACDC-like patient (ED and ES volumes plus Info.cfg fields); the group defaults to a random one. */
export function cardiacPatient(rng: Rng, opts: { group?: AcdcGroup; name?: string } = {}): CardiacPatient {
  const group = opts.group ?? ACDC_GROUPS[rng.int(0, ACDC_GROUPS.length - 1)]!;
  const anatomy = drawAnatomy(rng, group);
  const nbFrame = rng.int(25, 35);
  const info: CardiacInfo = {
    ed: 1,
    es: Math.round(nbFrame * rng.uniform(0.3, 0.42)),
    group,
    height: Math.round(Math.min(200, Math.max(145, rng.normal(170, 9)))),
    nbFrame,
    weight: Math.round(Math.min(130, Math.max(45, rng.normal(PHYSIOLOGY[group].weight, 12)))),
  };
  const name = opts.name ?? 'patient';
  return { ed: renderPhase(rng.fork('ed'), anatomy, false, `${name}_ED`), es: renderPhase(rng.fork('es'), anatomy, true, `${name}_ES`), info };
}

/** Info.cfg text exactly as ACDC ships it. */
export function infoCfg(info: CardiacInfo): string {
  return `ED: ${info.ed}\nES: ${info.es}\nGroup: ${info.group}\nHeight: ${info.height.toFixed(1)}\nNbFrame: ${info.nbFrame}\nWeight: ${info.weight.toFixed(1)}\n`;
}
