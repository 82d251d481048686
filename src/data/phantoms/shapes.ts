/**
 * Drawing kit shared by the phantom generators: organic shapes in millimetres, layered one over the other on a pixel
 * grid with anti-aliased (partial-volume-like) edges, while the label map is written from the very same shapes with
 * a hard threshold, so masks sit exactly on the anatomy. Plus smooth noise, Gaussian blur and volume wrappers.
 *
 * Planes are row-major with x fastest: data[y * width + x]. Millimetre coordinates put the grid centre at (0, 0),
 * x growing with the column, y with the row (downwards on screen).
 */
import type { Rng } from '../../core/rng.js';
import { IDENTITY_DIRECTION, type IntensityVolume, type LabelVolume, type Vec3 } from '../volume.js';

/** Axis-aligned bounding box in mm: [xMin, yMin, xMax, yMax]. */
export type Box = readonly [number, number, number, number];

/** A region by its signed distance in mm (negative inside); only needs to be exact near the boundary. */
export interface Shape {
  readonly box: Box;
  sd(x: number, y: number): number;
}

/** A periodic radius multiplier over the angle θ, e.g. 1 + low-frequency Fourier wobble. */
export type Profile = (theta: number) => number;

const LUT = 128; // radius samples per outline; linear interpolation between them errs by < 0.1 mm
const TWO_PI = 2 * Math.PI;

/** 1 + Σ_k a_k cos(kθ + φ_k), k = 2…harmonics+1, a_k ~ N(0, amplitude / k): smooth organic outlines. */
export function wobble(rng: Rng, amplitude: number, harmonics = 5): Profile {
  const terms = Array.from({ length: harmonics }, (_, i) => ({ k: i + 2, a: rng.normal(0, amplitude / (i + 2)), phi: rng.uniform(0, TWO_PI) }));
  return (theta) => Math.max(0.4, terms.reduce((s, t) => s + t.a * Math.cos(t.k * theta + t.phi), 1));
}

/** Blends two profiles, e.g. an outline that morphs from slice to slice. */
export function mixProfiles(a: Profile, b: Profile, t: number): Profile {
  return (theta) => (1 - t) * a(theta) + t * b(theta);
}

/** Signed distances farther than this (mm) from a boundary may be replaced by a bound of the same sign. */
export const EXACT_WITHIN = 12;

/** A star-shaped region: radius (mm) as a function of the angle around its centre, tabulated. */
export class Polar implements Shape {
  readonly box: Box;
  private readonly radii: Float32Array;
  private readonly rMin: number;
  private readonly rMax: number;

  constructor(readonly cx: number, readonly cy: number, radius: (theta: number) => number) {
    this.radii = new Float32Array(LUT + 1);
    for (let i = 0; i < LUT; i++) this.radii[i] = Math.max(0, radius((i / LUT) * TWO_PI));
    this.radii[LUT] = this.radii[0]!;
    this.rMin = Math.min(...this.radii);
    this.rMax = Math.max(...this.radii);
    this.box = [cx - this.rMax, cy - this.rMax, cx + this.rMax, cy + this.rMax];
  }

  radiusAt(theta: number): number {
    const u = ((theta < 0 ? theta + TWO_PI : theta) / TWO_PI) * LUT;
    const i = Math.min(LUT - 1, Math.floor(u));
    return this.radii[i]! + (u - i) * (this.radii[i + 1]! - this.radii[i]!);
  }

  /** Radial distance to the outline; far from it (see EXACT_WITHIN) a cheaper bound, without the angle. */
  sd(x: number, y: number): number {
    const dx = x - this.cx;
    const dy = y - this.cy;
    const rho = Math.sqrt(dx * dx + dy * dy);
    if (rho < this.rMin - EXACT_WITHIN) return rho - this.rMin;
    if (rho > this.rMax + EXACT_WITHIN) return rho - this.rMax;
    return rho - this.radiusAt(Math.atan2(dy, dx));
  }

  /** Area in mm² (½∮r²dθ). */
  area(): number {
    let s = 0;
    for (let i = 0; i < LUT; i++) s += this.radii[i]! ** 2;
    return (0.5 * s * TWO_PI) / LUT;
  }

  /** The same outline grown (or shrunk, for negative mm) radially. */
  offset(mm: number): Polar {
    return new Polar(this.cx, this.cy, (t) => this.radiusAt(t) + mm);
  }
}

/** Ellipse with semi-axes rx, ry rotated by `angle`, its radius multiplied by `profile` (in the ellipse's frame). */
export function ellipse(cx: number, cy: number, rx: number, ry: number, angle = 0, profile?: Profile): Polar {
  return new Polar(cx, cy, (theta) => {
    const t = theta - angle;
    const r = (rx * ry) / Math.sqrt((ry * Math.cos(t)) ** 2 + (rx * Math.sin(t)) ** 2);
    return profile ? r * profile(t) : r;
  });
}

/** |x/rx|^n + |y/ry|^n = 1: n = 2 is an ellipse, larger n a rounded rectangle (a torso). */
export function superellipse(cx: number, cy: number, rx: number, ry: number, n: number, angle = 0, profile?: Profile): Polar {
  return new Polar(cx, cy, (theta) => {
    const t = theta - angle;
    const r = (Math.abs(Math.cos(t) / rx) ** n + Math.abs(Math.sin(t) / ry) ** n) ** (-1 / n);
    return profile ? r * profile(t) : r;
  });
}

/** Union of regions (signed distance = min). */
export function union(...shapes: Shape[]): Shape {
  const box: Box = [Math.min(...shapes.map((s) => s.box[0])), Math.min(...shapes.map((s) => s.box[1])), Math.max(...shapes.map((s) => s.box[2])), Math.max(...shapes.map((s) => s.box[3]))];
  return { box, sd: (x, y) => shapes.reduce((m, s) => Math.min(m, s.sd(x, y)), Infinity) };
}

/**
 * The cross-section at height z of a tapered tube (capsule) from a to b with radii ra → rb, all in mm; null when
 * the plane misses it. For 2D drawing (vessels in a photograph) pass z = 0 with a[2] = b[2] = 0.
 */
export function tube(a: Vec3, b: Vec3, ra: number, rb: number, z = 0): Shape | null {
  const r = Math.max(ra, rb);
  if (z < Math.min(a[2], b[2]) - r || z > Math.max(a[2], b[2]) + r) return null;
  const [ux, uy, uz] = [b[0] - a[0], b[1] - a[1], b[2] - a[2]];
  const len2 = ux * ux + uy * uy + uz * uz || 1e-9;
  const box: Box = [Math.min(a[0], b[0]) - r, Math.min(a[1], b[1]) - r, Math.max(a[0], b[0]) + r, Math.max(a[1], b[1]) + r];
  return {
    box,
    sd(x, y) {
      const t = Math.min(1, Math.max(0, ((x - a[0]) * ux + (y - a[1]) * uy + (z - a[2]) * uz) / len2));
      const [dx, dy, dz] = [x - a[0] - t * ux, y - a[1] - t * uy, z - a[2] - t * uz];
      return Math.sqrt(dx * dx + dy * dy + dz * dz) - (ra + t * (rb - ra));
    },
  };
}

/** One painted structure. Later layers are painted over earlier ones (image and label alike). */
export interface Layer {
  readonly shape: Shape;
  /** Intensity, constant or textured (a function of the mm position). */
  readonly value: number | ((x: number, y: number) => number);
  /** Label written where the layer covers the pixel centre; undefined leaves the label map alone. */
  readonly label?: number;
  /** Only where inside every one of these… */
  readonly within?: readonly Shape[];
  /** …and outside every one of these. */
  readonly outside?: readonly Shape[];
  /** Width (mm) of the soft edge; the boundary (coverage ½) is where the label flips. Default: one pixel. */
  readonly edge?: number;
  /** Maximum blending weight (< 1 for translucent structures); labels ignore it. */
  readonly opacity?: number;
}

/** A pixel grid: width × height pixels of spacing[0] × spacing[1] mm, centred on (0, 0). */
export interface Grid {
  readonly width: number;
  readonly height: number;
  readonly spacing: readonly [number, number];
}

const coverage = (sd: number, edge: number): number => Math.min(1, Math.max(0, 0.5 - sd / edge));

/**
 * Paints `layers` in order (later ones over earlier ones) into image[offset … offset + width*height) (one slice),
 * and their labels into `label` when given. The image is blended by coverage; the label is hard: set where the
 * coverage is > ½ (signed distance < 0 for the shape and every `within`, > 0 for every `outside`). Composited
 * front to back, which gives the same result as painting back to front but skips what is already hidden.
 */
export function paint(grid: Grid, layers: readonly Layer[], image: Float32Array, label?: Uint8Array, offset = 0): void {
  const { width, height, spacing: [sx, sy] } = grid;
  const x0 = -(width * sx) / 2 + sx / 2;
  const y0 = -(height * sy) / 2 + sy / 2;
  const through = new Float32Array(width * height).fill(1); // transmittance of the layers in front
  const colour = new Float32Array(width * height); // what they contribute
  const labelled = new Uint8Array(width * height);
  for (let l = layers.length - 1; l >= 0; l--) {
    const layer = layers[l]!;
    const edge = layer.edge ?? Math.min(sx, sy);
    const opacity = layer.opacity ?? 1;
    const [bx0, by0, bx1, by1] = layer.shape.box;
    const i0 = Math.max(0, Math.floor((bx0 - edge - x0) / sx));
    const i1 = Math.min(width - 1, Math.ceil((bx1 + edge - x0) / sx));
    const j0 = Math.max(0, Math.floor((by0 - edge - y0) / sy));
    const j1 = Math.min(height - 1, Math.ceil((by1 + edge - y0) / sy));
    const { value, shape } = layer;
    const within = layer.within ?? [];
    const outside = layer.outside ?? [];
    const labels = label !== undefined && layer.label !== undefined;
    for (let j = j0; j <= j1; j++) {
      const y = y0 + j * sy;
      for (let i = i0; i <= i1; i++) {
        const p = j * width + i;
        const visible = through[p]! > 0;
        if (!visible && (!labels || labelled[p])) continue;
        const x = x0 + i * sx;
        let a = coverage(shape.sd(x, y), edge);
        if (a === 0) continue;
        for (const s of within) a = Math.min(a, coverage(s.sd(x, y), edge));
        for (const s of outside) a = Math.min(a, 1 - coverage(s.sd(x, y), edge));
        if (a === 0) continue;
        if (labels && a > 0.5 && !labelled[p]) {
          label[offset + p] = layer.label!;
          labelled[p] = 1;
        }
        if (!visible) continue;
        const w = a * opacity;
        colour[p] += through[p]! * w * (typeof value === 'number' ? value : value(x, y));
        through[p] *= 1 - w;
      }
    }
  }
  for (let p = 0; p < width * height; p++) image[offset + p] = colour[p]! + through[p]! * image[offset + p]!;
}

/**
 * Smooth gradient (Perlin) noise, roughly in [-1, 1] with standard deviation ≈ 0.3, whose features are about
 * `cell` mm across; periodic every 256 cells; 3D when z is given (z in mm too).
 */
export function smoothNoise(rng: Rng, cell: number): (x: number, y: number, z?: number) => number {
  const perm = Uint8Array.from(rng.shuffled(Array.from({ length: 256 }, (_, i) => i)));
  const hash = (i: number, j: number, k: number) => perm[(perm[(perm[i & 255]! + j) & 255]! + k) & 255]!;
  // Ken Perlin's 12 cube-edge gradients (+4 repeats), picked by the hash's low 4 bits.
  const dot = (h: number, x: number, y: number, z: number) => {
    const u = h < 8 ? x : y;
    const v = h < 4 ? y : h === 12 || h === 14 ? x : z;
    return ((h & 1) === 0 ? u : -u) + ((h & 2) === 0 ? v : -v);
  };
  const corner = (i: number, j: number, k: number, x: number, y: number, z: number) => dot(hash(i, j, k) & 15, x, y, z);
  const fade = (t: number) => t * t * t * (t * (t * 6 - 15) + 10);
  const lerp = (a: number, b: number, t: number) => a + t * (b - a);
  return (x, y, z = 0) => {
    const u = x / cell, v = y / cell, w = z / cell;
    const i = Math.floor(u), j = Math.floor(v), k = Math.floor(w);
    const fx = u - i, fy = v - j, fz = w - k;
    const a = fade(fx), b = fade(fy), c = fade(fz);
    const z0 = lerp(lerp(corner(i, j, k, fx, fy, fz), corner(i + 1, j, k, fx - 1, fy, fz), a), lerp(corner(i, j + 1, k, fx, fy - 1, fz), corner(i + 1, j + 1, k, fx - 1, fy - 1, fz), a), b);
    if (c === 0) return 1.15 * z0; // on a lattice plane (2D use): the upper corners do not count
    const z1 = lerp(lerp(corner(i, j, k + 1, fx, fy, fz - 1), corner(i + 1, j, k + 1, fx - 1, fy, fz - 1), a), lerp(corner(i, j + 1, k + 1, fx, fy - 1, fz - 1), corner(i + 1, j + 1, k + 1, fx - 1, fy - 1, fz - 1), a), b);
    return 1.15 * lerp(z0, z1, c);
  };
}

/**
 * Adds Gaussian noise N(0, std²) to data[offset … offset + n). Counter-based for speed: a table of 4096 Box–Muller
 * samples and one seed come from the stream; each value is picked by a 32-bit integer hash of (seed, index).
 */
export function addGaussianNoise(rng: Rng, data: Float32Array, std: number, offset = 0, n = data.length - offset): void {
  const table = new Float32Array(4096);
  for (let i = 0; i < table.length; i += 2) {
    const r = std * Math.sqrt(-2 * Math.log(1 - rng.next()));
    const phi = 2 * Math.PI * rng.next();
    [table[i], table[i + 1]] = [r * Math.cos(phi), r * Math.sin(phi)];
  }
  const seed = rng.nextUint32() | 0;
  for (let i = 0; i < n; i++) data[offset + i] += table[hash32(seed + i) & 4095]!;
}

/** A 32-bit integer hash with good avalanche (Chris Wellons' "lowbias32"). */
function hash32(x: number): number {
  x ^= x >>> 16;
  x = Math.imul(x, 0x7feb352d);
  x ^= x >>> 15;
  x = Math.imul(x, 0x846ca68b);
  return x ^ (x >>> 16);
}

/** Sum of octaves of smooth noise (each half the size and half the weight of the previous), ≈[-1, 1]. */
export function fractalNoise(rng: Rng, cell: number, octaves: number): (x: number, y: number, z?: number) => number {
  const layers = Array.from({ length: octaves }, (_, o) => smoothNoise(rng, cell / 2 ** o));
  const norm = layers.reduce((s, _, o) => s + 0.5 ** o, 0);
  return (x, y, z = 0) => layers.reduce((s, f, o) => s + 0.5 ** o * f(x, y, z), 0) / norm;
}

/** In-place separable Gaussian blur (σ in pixels) of one width × height plane at `offset`, edges clamped. */
export function gaussianBlur(data: Float32Array, width: number, height: number, sigma: number, offset = 0): void {
  const r = Math.ceil(2.5 * sigma); // the tails beyond 2.5 σ hold ~1 % of the weight
  const kernel = Float32Array.from({ length: 2 * r + 1 }, (_, i) => Math.exp(-((i - r) ** 2) / (2 * sigma * sigma)));
  const sum = kernel.reduce((a, b) => a + b, 0);
  kernel.forEach((v, i) => (kernel[i] = v / sum));
  const line = new Float32Array(Math.max(width, height) + 2 * r);
  for (let y = 0; y < height; y++) blurLine(data, offset + y * width, 1, width, kernel, line);
  for (let x = 0; x < width; x++) blurLine(data, offset + x, width, height, kernel, line);
}

/** Convolves the n samples data[start + i * stride] with `kernel`, through `line` (n + kernel − 1 long, edge-padded). */
function blurLine(data: Float32Array, start: number, stride: number, n: number, kernel: Float32Array, line: Float32Array): void {
  const r = (kernel.length - 1) / 2;
  for (let i = -r; i < n + r; i++) line[i + r] = data[start + Math.min(n - 1, Math.max(0, i)) * stride]!;
  for (let i = 0; i < n; i++) {
    let s = 0;
    for (let t = 0; t < kernel.length; t++) s += kernel[t]! * line[i + t]!;
    data[start + i * stride] = s;
  }
}

/** Standard deviation of white noise after `gaussianBlur` with σ (continuous approximation, σ ≳ 0.5). */
export const blurredNoiseStd = (sigma: number): number => 1 / (2 * Math.sqrt(Math.PI) * sigma);

/** Wraps generated voxels (x fastest, then y, then z; RGB interleaved) as an in-memory intensity volume. */
export function intensityVolume(size: Vec3, spacing: Vec3, data: Float32Array, source: string, components = 1): IntensityVolume {
  return { kind: 'intensity', size, spacing, origin: [0, 0, 0], direction: IDENTITY_DIRECTION, components, data, source };
}

export function labelVolume(size: Vec3, spacing: Vec3, data: Uint8Array, source: string): LabelVolume {
  return { kind: 'label', size, spacing, origin: [0, 0, 0], direction: IDENTITY_DIRECTION, data, source };
}
