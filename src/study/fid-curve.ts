/**
 * A trial's FID over training, for the report's compute cost ("time to its best FID"): every network snapshot
 * of the run (one per checkpoint) samples the same latents and is scored by the Fréchet distance in the encoder
 * space of the real-data U-Net against the real training slices. The samples stay in memory as floats (the
 * final point can differ slightly from evaluate's U-Net FID, which reads the 8-bit PNG samples).
 */
import fs from 'node:fs';
import path from 'node:path';
import { loadPrepared } from '../data/load.js';
import type { SliceArrays } from '../data/prepared.js';
import { fidFromFeatures } from '../metrics/fid.js';
import type { FeatureMatrix } from '../metrics/stats.js';
import { loadUNet } from '../models/unet.js';
import { generateSamples, loadRunGenerator } from '../sampling/generate.js';
import { readCheckpoint } from '../training/checkpoint.js';
import { encodeAll } from './evaluate.js';

export interface CurvePoint {
  readonly kimg: number;
  /** Training wall time when the snapshot was written. */
  readonly wallTimeSec: number;
  readonly unetFid: number;
}

const SNAPSHOT = /^network-snapshot-.*\.safetensors$/;

export async function unetFidCurve(opts: {
  readonly runDir: string; readonly data: string; readonly unetDir: string; readonly n: number; readonly seed: number;
}): Promise<CurvePoint[]> {
  const snapshots = fs.readdirSync(opts.runDir).filter((f) => SNAPSHOT.test(f)).map((f) => path.join(opts.runDir, f));
  if (snapshots.length === 0) return [];
  const ds = loadPrepared(opts.data);
  const real = ds.split('train');
  const unet = loadUNet(path.join(opts.unetDir, 'model.safetensors'));
  try {
    const dim = unet.featureDim;
    const m = (data: Float32Array): FeatureMatrix => ({ data, rows: data.length / dim, cols: dim });
    const realF = m(await encodeAll(unet, real));
    const seeds = Array.from({ length: opts.n }, (_, i) => opts.seed + i);
    const points: CurvePoint[] = [];
    for (const file of snapshots) {
      const state = readCheckpoint(file).state;
      const g = loadRunGenerator(opts.runDir, file);
      try {
        const plane = real.height * real.width;
        const images = new Float32Array(opts.n * plane * real.channels);
        let at = 0;
        for (const { samples } of generateSamples(g.generator, seeds, 32, real.channels, ds.numClasses)) {
          images.set(samples.images, at);
          at += samples.images.length;
        }
        const set: SliceArrays = { count: opts.n, height: real.height, width: real.width, channels: real.channels, images, labels: new Uint8Array(opts.n * plane) };
        points.push({ kimg: state.imagesShown / 1000, wallTimeSec: state.wallTimeSec, unetFid: fidFromFeatures(realF, m(await encodeAll(unet, set))) });
      } finally {
        g.generator.dispose();
      }
    }
    return points.sort((a, b) => a.kimg - b.kimg);
  } finally {
    unet.dispose();
  }
}

/** Wall time of the snapshot with the lowest FID (the earliest among ties); null without points. */
export function timeToBest(curve: readonly CurvePoint[]): number | null {
  let best: CurvePoint | null = null;
  for (const p of curve) if (Number.isFinite(p.unetFid) && (!best || p.unetFid < best.unetFid)) best = p;
  return best ? best.wallTimeSec : null;
}
