/**
 * Colour fundus photograph phantom in the style of IDRiD (scaled down from 4288 × 2848 to 384 × 256, same 3:2
 * aspect): a circular field of view clipped at the top and bottom, orange-red retina, darker macula, a bright
 * yellowish optic disc with its cup, branching vessel trees leaving the disc (veins darker and wider than arteries),
 * optional diabetic-retinopathy lesions, vignetting. The optic-disc mask is 0/255 as IDRiD's.
 * Image: [384, 256, 1] with RGB interleaved, data[(y * 384 + x) * 3 + c], values 0–255; mask: [384, 256, 1] uint8.
 * Drawing units are pixels (spacing 1), the origin at the image centre.
 */
import type { Rng } from '../../core/rng.js';
import type { IntensityVolume, LabelVolume } from '../volume.js';
import { addGaussianNoise, ellipse, fractalNoise, gaussianBlur, intensityVolume, labelVolume, paint, tube, wobble, type Grid, type Layer, type Shape } from './shapes.js';

export const FUNDUS_WIDTH = 384;
export const FUNDUS_HEIGHT = 256;

export interface FundusImage {
  readonly image: IntensityVolume;
  readonly mask: LabelVolume;
  readonly info: { readonly eye: 'left' | 'right'; readonly lesions: number };
}

type Rgb = readonly [number, number, number];

/** A vessel segment: centre line from (x0, y0) to (x1, y1), widths w0 → w1 (px). */
interface Segment { readonly x0: number; readonly y0: number; readonly x1: number; readonly y1: number; readonly w0: number; readonly w1: number }

/** Where vessels may run: inside the field of view and outside the foveal avascular zone. */
interface Territory { readonly fovR: number; readonly fx: number; readonly fy: number; readonly avascular: number }

/**
 * Grows one vessel from (x, y) in steps of 3 px: its heading drifts randomly and bends by `bend` (decaying), it
 * tapers, and every 25–55 px it gives off a thinner branch to one side, until it is thinner than 0.6 px.
 */
function growVessel(rng: Rng, t: Territory, x: number, y: number, angle: number, width: number, bend: number, depth: number, out: Segment[]): void {
  let next = rng.uniform(20, 45);
  for (let step = 0; step < 300 && width > 0.6; step++) {
    angle += bend + rng.normal(0, 0.06);
    bend *= 0.975;
    const nx = x + 3 * Math.cos(angle);
    const ny = y + 3 * Math.sin(angle);
    if (Math.hypot(nx, ny) > t.fovR - 3 || Math.hypot(nx - t.fx, ny - t.fy) < t.avascular) return;
    out.push({ x0: x, y0: y, x1: nx, y1: ny, w0: width, w1: width * 0.992 });
    [x, y, width] = [nx, ny, width * 0.992];
    next -= 3;
    if (next <= 0 && depth < 4) {
      const side = rng.next() < 0.5 ? -1 : 1;
      growVessel(rng, t, x, y, angle + side * rng.uniform(0.45, 1.1), width * rng.uniform(0.5, 0.75), side * rng.uniform(0, 0.01), depth + 1, out);
      width *= 0.9;
      angle -= side * 0.12;
      next = rng.uniform(25, 55);
    }
  }
}

/** Paints segments into a coverage plane (0–1), thin vessels fainter. */
function vesselCoverage(grid: Grid, segments: readonly Segment[]): Float32Array {
  const plane = new Float32Array(grid.width * grid.height);
  const layers: Layer[] = [];
  for (const s of segments) {
    const shape = tube([s.x0, s.y0, 0], [s.x1, s.y1, 0], s.w0 / 2, s.w1 / 2)!;
    layers.push({ shape, value: Math.min(1, 0.35 + s.w0 / 3), edge: 1.2 });
  }
  paint(grid, layers, plane);
  return plane;
}

/** One IDRiD-like fundus photograph with its optic-disc mask. */
export function fundusImage(rng: Rng, opts: { name?: string } = {}): FundusImage {
  const grid: Grid = { width: FUNDUS_WIDTH, height: FUNDUS_HEIGHT, spacing: [1, 1] };
  const eye = rng.next() < 0.5 ? 'right' : 'left';
  const nasal = eye === 'right' ? 1 : -1; // the disc lies nasally: image right for a right eye
  const fovR = FUNDUS_WIDTH * rng.uniform(0.39, 0.42);
  const rOD = fovR * rng.uniform(0.13, 0.16);
  const od = { x: nasal * fovR * rng.uniform(0.5, 0.6), y: rng.normal(-4, 6) };
  const fovea = { x: -nasal * fovR * rng.uniform(0.03, 0.12), y: od.y + rng.normal(8, 5) };
  const jitter = (c: Rgb, rel: number): Rgb => c.map((v) => v * rng.uniform(1 - rel, 1 + rel)) as unknown as Rgb;
  const retina = jitter([205, 88, 34], 0.12);
  const disc = jitter([248, 205, 130], 0.06);
  const vein = jitter([105, 22, 20], 0.12);
  const artery = jitter([188, 68, 34], 0.08);

  // Vessel trees: four arcades (superior/inferior, temporal/nasal), each a vein and an artery.
  const territory: Territory = { fovR, fx: fovea.x, fy: fovea.y, avascular: rOD * 0.45 };
  const veins: Segment[] = [];
  const arteries: Segment[] = [];
  for (const [angle, bend] of [[-1.15, 0.03], [1.15, -0.03], [-2.2, -0.008], [2.2, 0.008]] as const) {
    const heading = (a: number) => (nasal > 0 ? Math.PI - a : a); // arcade angles are given for a left eye
    const b = nasal > 0 ? -bend : bend;
    growVessel(rng, territory, od.x + rng.normal(0, 2), od.y + rng.normal(0, 2), heading(angle + rng.normal(0.1, 0.1)), rng.uniform(3.2, 4.0), b, 0, veins);
    growVessel(rng, territory, od.x + rng.normal(0, 2), od.y + rng.normal(0, 2), heading(angle - rng.normal(0.1, 0.1)), rng.uniform(2.3, 2.9), b, 0, arteries);
  }
  const veinCover = vesselCoverage(grid, veins);
  const arteryCover = vesselCoverage(grid, arteries);

  // Shading of the retina: vignetting, an illumination gradient, choroidal texture, the darker macula.
  const texture = fractalNoise(rng, 14, 3);
  const tilt = [rng.normal(0, 0.12), rng.normal(0, 0.12)];
  const sigmaMacula = rOD * rng.uniform(1.1, 1.5);
  const shading = (x: number, y: number) => {
    const vignette = 1 - 0.55 * (Math.sqrt(x * x + y * y) / fovR) ** 3;
    const macula = 1 - 0.32 * Math.exp(-((x - fovea.x) ** 2 + (y - fovea.y) ** 2) / (2 * sigmaMacula ** 2)) - 0.15 * Math.exp(-((x - fovea.x) ** 2 + (y - fovea.y) ** 2) / (2 * (rOD * 0.25) ** 2));
    return vignette * macula * (1 + (tilt[0]! * x + tilt[1]! * y) / fovR) * (1 + 0.07 * texture(x, y));
  };
  const fov = ellipse(0, 0, fovR, fovR);
  const odShape = ellipse(od.x, od.y, rOD, rOD * rng.uniform(1.03, 1.15), rng.normal(0, 0.2), wobble(rng, 0.04));
  const cup = ellipse(od.x - nasal * rOD * 0.15, od.y, rOD * rng.uniform(0.3, 0.5), rOD * rng.uniform(0.35, 0.55));

  // Lesions (in about half of the images): dark-red haemorrhages and microaneurysms, yellow exudates near the macula.
  const spots: { shape: Shape; rgb: Rgb }[] = [];
  if (rng.next() < 0.5) {
    for (let i = rng.int(2, 10); i > 0; i--) {
      const [r, a] = [fovR * Math.sqrt(rng.uniform(0.02, 0.5)), rng.uniform(0, 2 * Math.PI)];
      spots.push({ shape: ellipse(fovea.x + r * Math.cos(a), fovea.y + r * Math.sin(a), rng.uniform(0.8, 3), rng.uniform(0.8, 3), rng.uniform(0, 3), wobble(rng, 0.15)), rgb: vein });
    }
    const cluster = { a: rng.uniform(0, 2 * Math.PI), r: rOD * rng.uniform(1.2, 2.5) };
    for (let i = rng.int(0, 14); i > 0; i--) {
      const [x, y] = [fovea.x + cluster.r * Math.cos(cluster.a) + rng.normal(0, 8), fovea.y + cluster.r * Math.sin(cluster.a) + rng.normal(0, 8)];
      spots.push({ shape: ellipse(x, y, rng.uniform(0.7, 2.2), rng.uniform(0.7, 2.2), rng.uniform(0, 3), wobble(rng, 0.2)), rgb: [250, 225, 105] });
    }
  }

  const { width, height } = grid;
  const n = width * height;
  const shade = new Float32Array(n); // shading at each pixel, computed once for the three channels
  for (let j = 0; j < height; j++) for (let i = 0; i < width; i++) shade[j * width + i] = shading(i + 0.5 - width / 2, j + 0.5 - height / 2);
  const image = new Float32Array(n * 3);
  const mask = new Uint8Array(n);
  const channel = new Float32Array(n);
  for (let c = 0; c < 3; c++) {
    channel.fill(3);
    const base = retina[c]!;
    const glow = (x: number, y: number) => {
      const d = Math.hypot((x - od.x) / rOD, (y - od.y) / rOD);
      return (disc[c]! * (1 - 0.12 * d) + retina[c]! * 0.12 * d) * (0.96 + 0.04 * texture(x * 3, y * 3));
    };
    paint(grid, [
      { shape: fov, value: (x, y) => base * shade[Math.floor(y + height / 2) * width + Math.floor(x + width / 2)]!, edge: 3 },
      { shape: odShape.offset(rOD * 0.35), value: disc[c]! * 0.9, opacity: 0.2, edge: rOD * 0.5 },
      { shape: odShape, value: glow, label: 255, edge: 3 },
      { shape: cup, value: Math.min(255, disc[c]! * 1.08 + 25), opacity: 0.85, edge: rOD * 0.3 },
    ], channel, c === 0 ? mask : undefined);
    for (let i = 0; i < n; i++) {
      const v = channel[i]! + veinCover[i]! * (vein[c]! - channel[i]!);
      channel[i] = v + arteryCover[i]! * (artery[c]! - v);
    }
    paint(grid, spots.map((s) => ({ shape: s.shape, value: s.rgb[c]!, within: [fov], edge: 1.2, opacity: 0.9 })), channel);
    gaussianBlur(channel, width, height, 0.7);
    addGaussianNoise(rng, channel, 2);
    for (let i = 0; i < n; i++) image[i * 3 + c] = Math.min(255, Math.max(0, channel[i]!));
  }
  const name = opts.name ?? 'IDRiD';
  return {
    image: intensityVolume([width, height, 1], [1, 1, 1], image, `phantom:${name}`, 3),
    mask: labelVolume([width, height, 1], [1, 1, 1], mask, `phantom:${name}_OD`),
    info: { eye, lesions: spots.length },
  };
}
