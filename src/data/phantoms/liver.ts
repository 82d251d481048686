/**
 * Abdominal CT phantom in the style of SLiver07: a contrast-enhanced (portal-venous) axial volume in Hounsfield
 * units with a binary liver mask (1 = liver, intrahepatic vessels and tumours included; IVC and gallbladder not).
 * Volumes are [nx, ny, nz] with voxel (x, y, z) at data[(z * ny + y) * nx + x], identity direction in ITK's LPS:
 * x grows to the patient's left (so the liver lies on the image left), y posteriorly (anterior is up), z superiorly
 * (slice 0 is the most inferior). The liver is absent from the first and last few slices.
 */
import type { Rng } from '../../core/rng.js';
import type { IntensityVolume, LabelVolume, Vec3 } from '../volume.js';
import { addGaussianNoise, blurredNoiseStd, ellipse, EXACT_WITHIN, gaussianBlur, intensityVolume, labelVolume, mixProfiles, paint, Polar, smoothNoise, superellipse, tube, union, wobble, type Grid, type Layer, type Profile, type Shape } from './shapes.js';

export interface LiverPatient {
  readonly image: IntensityVolume;
  readonly label: LabelVolume;
  readonly info: { readonly lesions: number; readonly liverFraction: number };
}

type Noise = (x: number, y: number, z?: number) => number;

/** A hepatic vessel segment and a lesion (sphere with a wobbly outline), in mm. */
interface Tube { readonly a: Vec3; readonly b: Vec3; readonly ra: number; readonly rb: number }
interface Lesion { readonly c: Vec3; readonly r: number; readonly hu: number; readonly rim: boolean; readonly outline: Profile }

/** Everything random about one patient that is not drawn per slice. */
interface Anatomy {
  readonly grid: Grid;
  readonly slices: number;
  readonly dz: number;
  readonly body: { readonly cy: number; readonly rx: number; readonly ry: number; readonly fat: number; readonly outline: Profile };
  /** Liver extent in z (mm), in-plane scale, outlines at the bottom and top (blended in between). */
  readonly liver: { readonly z0: number; readonly z1: number; readonly scale: number; readonly lower: Profile; readonly upper: Profile; readonly left: Profile; readonly hu: number };
  readonly kidneys: { readonly zRight: number; readonly zLeft: number; readonly outline: Profile };
  readonly ribs: readonly { readonly angle: number; readonly phase: number }[];
  readonly bowel: readonly { readonly x: number; readonly y: number; readonly vx: number; readonly vy: number; readonly z0: number; readonly z1: number; readonly r: number; readonly gas: boolean }[];
  readonly spleenTop: number;
  /** Vertebral level offset (mm): discs recur every 34 mm. */
  readonly discPhase: number;
  readonly aortaHu: number;
  readonly noise: number;
}

function drawAnatomy(rng: Rng): Anatomy {
  const spacing = rng.uniform(2.0, 2.5);
  const grid: Grid = { width: 160, height: 160, spacing: [spacing, spacing] };
  const slices = rng.int(44, 60);
  const dz = rng.uniform(2.5, 3.0);
  const height = slices * dz;
  const rx = 80 * spacing * rng.uniform(0.8, 0.9);
  // Rib cross-sections from anterolateral (-1.2 rad) to posterolateral (+1.3 rad) on the left, mirrored on the right.
  const ribAngles = Array.from({ length: 9 }, (_, i) => -1.2 + i * 0.31).flatMap((th) => [th, Math.PI - th]);
  return {
    grid,
    slices,
    dz,
    body: { cy: rng.uniform(-8, 6), rx, ry: rx * rng.uniform(0.68, 0.78), fat: rng.uniform(8, 26), outline: wobble(rng, 0.03) },
    liver: {
      z0: height * rng.uniform(0.06, 0.12),
      z1: height * (1 - rng.uniform(0.05, 0.1)),
      scale: 1,
      lower: wobble(rng, 0.12),
      upper: wobble(rng, 0.1),
      left: wobble(rng, 0.12),
      hu: rng.uniform(90, 125),
    },
    kidneys: { zRight: height * rng.uniform(0.15, 0.3), zLeft: height * rng.uniform(0.25, 0.4), outline: wobble(rng, 0.06) },
    ribs: ribAngles.map((angle) => ({ angle, phase: rng.uniform(0, 1) })),
    discPhase: rng.uniform(0, 34),
    bowel: Array.from({ length: rng.int(8, 14) }, () => ({
      x: rng.uniform(-0.6, 0.6) * rx,
      y: rng.uniform(-0.5, 0.2) * rx * 0.7,
      vx: rng.normal(0, 0.3),
      vy: rng.normal(0, 0.3),
      z0: rng.uniform(-0.2, 0.4) * height,
      z1: rng.uniform(0.3, 0.6) * height,
      r: rng.uniform(9, 17),
      gas: rng.next() < 0.4,
    })),
    spleenTop: height * rng.uniform(0.85, 0.95),
    aortaHu: rng.uniform(140, 190),
    noise: rng.uniform(8, 16),
  };
}

/** Semi-axes (mm) of the abdominal cavity inside the wall (subcutaneous fat, then 10 mm of muscle). */
const cavityAxes = (a: Anatomy) => ({ cavRx: a.body.rx - a.body.fat - 10, cavRy: a.body.ry - a.body.fat - 10 });

/** Subcutaneous fat thickness at angle θ: thinner at the back (θ = π/2, posterior). */
const fatAt = (a: Anatomy, th: number) => a.body.fat * (1 - 0.45 * Math.sin(th));

/** Body outline, inner boundary of the abdominal wall, and the centre of the vertebral body. */
function torso(a: Anatomy) {
  const b = a.body;
  const body = superellipse(0, b.cy, b.rx, b.ry, 2.3, 0, b.outline);
  const cavity = new Polar(0, b.cy, (th) => body.radiusAt(th) - fatAt(a, th) - 10);
  return { body, cavity, spineY: b.cy + b.ry - b.fat * 0.55 - 62, ...cavityAxes(a) };
}

/** The liver's cross-section at height z (right lobe ∪ left lobe), or null outside its extent. */
function liverAt(a: Anatomy, z: number, scale = a.liver.scale): { shape: Shape; area: number } | null {
  const L = a.liver;
  const u = (z - L.z0) / (L.z1 - L.z0);
  if (u <= 0 || u >= 1) return null;
  const { cavRx, cavRy } = cavityAxes(a);
  const cy = a.body.cy;
  const size = u < 0.7 ? 0.3 + 0.7 * Math.sin((Math.PI / 2) * (u / 0.7)) : Math.sqrt(1 - ((u - 0.7) / 0.3) ** 2);
  const right = ellipse(-cavRx * (0.42 + 0.14 * (1 - u)), cy + cavRy * (0.1 * (1 - u) - 0.05), cavRx * 0.5 * size * scale, cavRy * 0.72 * size * scale, 0.35, mixProfiles(L.lower, L.upper, u));
  if (u < 0.45 || u > 0.97) return { shape: right, area: right.area() };
  const ls = Math.sin((Math.PI * (u - 0.45)) / 0.52) ** 0.7;
  const left = ellipse(cavRx * (0.1 - 0.35 * (1 - ls)), cy - cavRy * 0.42, cavRx * 0.45 * ls * scale + 1, cavRy * 0.26 * ls * scale + 1, -0.25, L.left);
  return { shape: union(right, left), area: right.area() + 0.8 * left.area() };
}

/**
 * Scales the liver in-plane so that it fills about `fraction` of the volume (the paper's foreground ratio). The
 * outlines' areas overestimate the mask by ~20 % (clipping by the abdominal wall, kidney, IVC and gallbladder).
 */
function fitLiver(a: Anatomy, fraction: number): Anatomy {
  const { width, height, spacing } = a.grid;
  let volume = 0;
  for (let k = 0; k < a.slices; k++) volume += (liverAt(a, (k + 0.5) * a.dz, 1)?.area ?? 0) * a.dz;
  const target = (fraction / 0.8) * width * height * spacing[0] * spacing[1] * a.slices * a.dz;
  return { ...a, liver: { ...a.liver, scale: Math.sqrt(target / volume) } };
}

/** Grows a branching vessel tree from `p` along `dir` while it stays inside the liver (portal or hepatic veins). */
function growVessels(rng: Rng, inside: (p: Vec3, margin: number) => boolean, p: Vec3, dir: Vec3, r: number, out: Tube[]): void {
  let d = dir;
  for (let step = 0; r > 1.1 && step < 40; step++) {
    const jitter: Vec3 = [d[0] + rng.normal(0, 0.25), d[1] + rng.normal(0, 0.25), d[2] + rng.normal(0, 0.15)];
    const n = Math.hypot(...jitter);
    d = [jitter[0] / n, jitter[1] / n, jitter[2] / n];
    const q: Vec3 = [p[0] + d[0] * 7, p[1] + d[1] * 7, p[2] + d[2] * 7];
    if (!inside(q, r + 2)) return;
    out.push({ a: p, b: q, ra: r, rb: r * 0.96 });
    p = q;
    r *= 0.96;
    if (step % 3 === 2) {
      const branch: Vec3 = [d[0] + rng.normal(0, 0.9), d[1] + rng.normal(0, 0.9), d[2] + rng.normal(0, 0.5)];
      growVessels(rng, inside, p, branch, r * 0.7, out);
      r *= 0.88;
    }
  }
}

/** Portal and hepatic vein trees, and hypodense lesions, placed inside the liver. */
function liverContents(rng: Rng, a: Anatomy): { vessels: Tube[]; lesions: Lesion[] } {
  const cache = new Map<number, Shape | undefined>();
  const slice = (z: number) => {
    const k = Math.round(z / 2); // outlines sampled every 2 mm
    if (!cache.has(k)) cache.set(k, liverAt(a, k * 2)?.shape);
    return cache.get(k);
  };
  const inside = (p: Vec3, margin: number) => (slice(p[2])?.sd(p[0], p[1]) ?? Infinity) < -margin;
  const L = a.liver;
  const { cavRx } = cavityAxes(a);
  const vessels: Tube[] = [];
  const hilum: Vec3 = [-cavRx * 0.25, a.body.cy, L.z0 + 0.45 * (L.z1 - L.z0)];
  if (inside(hilum, 0)) {
    growVessels(rng, inside, hilum, [-1, -0.2, 0.3], rng.uniform(6, 8), vessels);
    growVessels(rng, inside, hilum, [0.6, -0.8, 0.3], rng.uniform(5, 6.5), vessels);
  }
  const ivc: Vec3 = [-cavRx * 0.22, a.body.cy + 10, L.z0 + 0.85 * (L.z1 - L.z0)];
  for (const dir of [[-1, -0.4, -0.2], [-0.3, -1, -0.2], [0.5, -1, -0.2]] as Vec3[]) {
    if (inside(ivc, 0)) growVessels(rng, inside, ivc, dir, rng.uniform(4.5, 6), vessels);
  }
  const lesions: Lesion[] = [];
  const count = [0, 1, 1, 2, 2, 3, 4][rng.int(0, 6)]!;
  for (let tries = 0; lesions.length < count && tries < 200; tries++) {
    const r = rng.uniform(5, 18);
    const c: Vec3 = [rng.uniform(-cavRx, 0.4 * cavRx), a.body.cy + rng.uniform(-0.6, 0.5) * cavRx * 0.7, rng.uniform(L.z0, L.z1)];
    if ([-r, 0, r].every((dz) => inside([c[0], c[1], c[2] + dz * 0.7], Math.min(EXACT_WITHIN, r * 0.8 + 3)))) {
      lesions.push({ c, r, hu: L.hu - rng.uniform(30, 70), rim: rng.next() < 0.35, outline: wobble(rng, 0.1) });
    }
  }
  return { vessels, lesions };
}

/** All layers of the slice at height z, back to front; structures painted after the liver carry label 0. */
function sliceLayers(a: Anatomy, z: number, vessels: readonly Tube[], lesions: readonly Lesion[], tex: Noise): Layer[] {
  const { body, cavity, spineY, cavRx, cavRy } = torso(a);
  const cy = a.body.cy;
  const t3 = (x: number, y: number) => tex(x, y, z);
  const soft = (hu: number, amp: number) => (x: number, y: number) => hu + amp * t3(x, y);
  const layers: Layer[] = [
    { shape: superellipse(0, cy + a.body.ry + 22, 0.95 * a.grid.width * a.grid.spacing[0] / 2, 9, 6), value: -350, edge: 2 },
    { shape: body, value: -100, edge: 2 },
    { shape: new Polar(0, cy, (th) => body.radiusAt(th) - fatAt(a, th)), value: 45, edge: 2 },
    // Mesentery: fat with strands and loops of collapsed bowel.
    { shape: cavity, value: (x, y) => -100 + 130 * Math.min(1, Math.max(0, 3 * (tex(x * 0.6, y * 0.6, z * 0.6) - 0.2))), edge: 2 },
  ];
  for (const loop of a.bowel) {
    if (z < loop.z0 || z > loop.z1) continue;
    const c = ellipse(loop.x + loop.vx * (z - loop.z0), loop.y + loop.vy * (z - loop.z0), loop.r, loop.r * 0.8, loop.vx);
    layers.push({ shape: c, value: soft(40, 8), within: [cavity], edge: 2 }, { shape: c.offset(-3), value: loop.gas ? -900 : soft(15, 6), within: [cavity], edge: 2 });
  }
  const H = a.slices * a.dz;
  if (z > 0.4 * H && z < 0.9 * H) {
    const g = Math.sin((Math.PI * (z - 0.4 * H)) / (0.5 * H));
    const stomach = ellipse(cavRx * 0.35, cy - cavRy * 0.25, 14 + 30 * g, 12 + 22 * g, 0.4, a.liver.left);
    layers.push(
      { shape: stomach, value: soft(55, 8), within: [cavity], edge: 2 },
      { shape: stomach.offset(-4), value: soft(15, 5), within: [cavity], edge: 2 },
      { shape: ellipse(stomach.cx - 4, stomach.cy - 14 * g, 20 * g + 1, 10 * g + 1), value: -950, within: [cavity, stomach.offset(-4)], edge: 2 },
    );
  }
  if (z > 0.45 * H && z < a.spleenTop) {
    const g = Math.sin((Math.PI * (z - 0.45 * H)) / (a.spleenTop - 0.45 * H));
    layers.push({ shape: ellipse(cavRx * 0.72, spineY - 15, 10 + 14 * g, 20 + 32 * g, 0.5, a.kidneys.outline), value: soft(118, 6), within: [cavity], edge: 2 });
  }
  const dome = a.liver.z1 - 25;
  if (z > dome) {
    const g = Math.min(1, (z - dome) / 40);
    for (const s of [-1, 1]) {
      layers.push({ shape: ellipse(s * cavRx * 0.55, cy + cavRy * 0.2, cavRx * 0.45 * g + 2, cavRy * 0.6 * g + 2, -s * 0.3, a.liver.upper), value: soft(-860, 25), within: [cavity], edge: 2 });
    }
  }
  const liver = liverAt(a, z);
  if (liver) {
    const inLiver = [liver.shape, cavity];
    layers.push({ shape: liver.shape, value: soft(a.liver.hu, 7), label: 1, within: [cavity], edge: 2 });
    for (const v of vessels) {
      const s = tube(v.a, v.b, v.ra, v.rb, z);
      if (s) layers.push({ shape: s, value: a.liver.hu + 65, within: inLiver, edge: 2 });
    }
    for (const l of lesions) {
      const r = Math.sqrt(Math.max(0, l.r ** 2 - (z - l.c[2]) ** 2));
      if (r < 1.5) continue;
      const shape = ellipse(l.c[0], l.c[1], r, r * 0.9, 0, l.outline);
      if (l.rim) layers.push({ shape: shape.offset(2.5), value: a.liver.hu + 25, within: inLiver, edge: 2 });
      layers.push({ shape, value: soft(l.hu, 6), within: inLiver, edge: 3 });
    }
    const u = (z - a.liver.z0) / (a.liver.z1 - a.liver.z0);
    if (u > 0.15 && u < 0.45) {
      const g = Math.sin((Math.PI * (u - 0.15)) / 0.3);
      layers.push({ shape: ellipse(-cavRx * 0.2, cy - cavRy * 0.3, 6 + 10 * g, 8 + 12 * g, 0.8), value: soft(12, 4), label: 0, edge: 2 });
    }
  }
  if (z > a.liver.z1 - 10) {
    const g = Math.min(1, (z - a.liver.z1 + 10) / 35);
    const heart = ellipse(cavRx * 0.2, cy - cavRy * 0.3, 50 * g + 2, 38 * g + 2, 0.4, a.kidneys.outline);
    layers.push({ shape: heart.offset(3), value: -90, label: 0, edge: 2 }, { shape: heart, value: soft(55, 6), label: 0, edge: 2 }, { shape: heart.offset(-8), value: a.aortaHu - 20, label: 0, edge: 3 });
  }
  // Retroperitoneum and skeleton.
  for (const s of [-1, 1]) {
    const zc = s < 0 ? a.kidneys.zRight : a.kidneys.zLeft;
    const g = 1 - ((z - zc) / 55) ** 2;
    if (g > 0.05) {
      const k = ellipse(s * 62, spineY - 8, 26 * Math.sqrt(g), 34 * Math.sqrt(g), s * 0.5, a.kidneys.outline);
      layers.push({ shape: k, value: soft(165, 8), label: 0, edge: 2 }, { shape: ellipse(k.cx - s * 12, k.cy, 9 * g, 14 * g, s * 0.5), value: -60, label: 0, within: [k], edge: 2 });
    }
    layers.push({ shape: ellipse(s * 32, spineY + 42, 26, 20, -s * 0.3), value: soft(50, 8), label: 0, edge: 2 });
    if (z < 0.45 * H) layers.push({ shape: ellipse(s * 34, spineY - 4, 12 + 0.06 * (0.45 * H - z), 12 + 0.05 * (0.45 * H - z)), value: soft(48, 6), label: 0, edge: 2 });
  }
  const disc = (z + a.discPhase) % 34 < 8;
  layers.push(
    { shape: ellipse(0, spineY, 22, 18), value: disc ? 90 : 650, label: 0, edge: 2 },
    { shape: ellipse(0, spineY, 19.5, 15.5), value: disc ? soft(85, 5) : soft(230, 30), label: 0, edge: 2 },
    { shape: ellipse(0, spineY + 30, 15, 13), value: 600, label: 0, edge: 2 },
    { shape: ellipse(0, spineY + 29, 9, 8), value: 20, label: 0, edge: 2 },
    { shape: ellipse(0, spineY + 52, 5, 12), value: 550, label: 0, edge: 2 },
    { shape: ellipse(18, spineY - 30, 11, 11), value: a.aortaHu, label: 0, edge: 2 },
    { shape: ellipse(-26, spineY - 26, 15, 11, 0.3), value: a.aortaHu - 35, label: 0, edge: 2 },
  );
  if (z > 0.3 * H) {
    for (const rib of a.ribs) {
      if ((z / 34 + rib.phase) % 1 > 0.35) continue;
      const th = rib.angle + 0.002 * z;
      const rr = cavity.radiusAt(th) + 6;
      layers.push({ shape: ellipse(rr * Math.cos(th), cy + rr * Math.sin(th), 7, 4.5, th + Math.PI / 2), value: 550, label: 0, edge: 2 });
    }
  }
  return layers;
}

/** One SLiver07-like CT volume (HU) with its liver mask. */
export function liverPatient(rng: Rng, opts: { name?: string } = {}): LiverPatient {
  const anatomy = fitLiver(drawAnatomy(rng), rng.uniform(0.045, 0.06));
  const { vessels, lesions } = liverContents(rng, anatomy);
  const tex = smoothNoise(rng, 7);
  const { width: nx, height: ny, spacing } = anatomy.grid;
  const nz = anatomy.slices;
  const plane = nx * ny;
  const image = new Float32Array(plane * nz).fill(-1000);
  const label = new Uint8Array(plane * nz);
  const noise = new Float32Array(plane);
  const gain = anatomy.noise / blurredNoiseStd(0.8);
  for (let k = 0; k < nz; k++) {
    paint(anatomy.grid, sliceLayers(anatomy, (k + 0.5) * anatomy.dz, vessels, lesions, tex), image, label, k * plane);
    noise.fill(0);
    addGaussianNoise(rng, noise, 1);
    gaussianBlur(noise, nx, ny, 0.8);
    for (let i = 0; i < plane; i++) image[k * plane + i] = Math.max(-1024, image[k * plane + i]! + gain * noise[i]!);
  }
  let liverVoxels = 0;
  for (const v of label) liverVoxels += v;
  const size: Vec3 = [nx, ny, nz];
  const voxel: Vec3 = [spacing[0], spacing[1], anatomy.dz];
  const name = opts.name ?? 'liver';
  return {
    image: intensityVolume(size, voxel, image, `phantom:${name}-orig`),
    label: labelVolume(size, voxel, label, `phantom:${name}-seg`),
    info: { lesions: lesions.length, liverFraction: liverVoxels / label.length },
  };
}
