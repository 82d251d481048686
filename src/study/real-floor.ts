/**
 * The real-vs-real floor of Table 2: the FID between two disjoint halves of the real data, by patient (slices of
 * one patient are near-duplicates, so splitting slices would make the halves look closer than any GAN could).
 * Patients are sorted and dealt alternately; the distance is measured in the same feature spaces as the GANs'
 * FID: the real-data U-Net's encoder always, Inception-v3 when its weights are present.
 *
 * Note the estimator's bias: FID falls with sample count, and each half has about half the real slices, so the
 * floor is pessimistic when the GANs are scored with more samples; the protocol records both counts.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256 } from '../core/hash.js';
import { loadPrepared } from '../data/load.js';
import type { SliceArrays, SliceInfo } from '../data/prepared.js';
import { fidFromFeatures } from '../metrics/fid.js';
import type { FeatureMatrix } from '../metrics/stats.js';
import { loadFidInception } from '../metrics/inception.js';
import { loadUNet } from '../models/unet.js';
import { concatSets } from '../segmentation/regimes.js';
import { resolveInceptionWeights } from '../metrics/weights.js';
import { encodeAll, inceptionPool3 } from './evaluate.js';
import type { InceptionChoice } from './plan.js';

export interface RealFloor {
  /** Fréchet distance of the halves in the U-Net encoder space. */
  readonly unetFid: number;
  /** Same in Inception-v3 space; null without the weights. */
  readonly fid: number | null;
  readonly halves: readonly [number, number];
  readonly patients: readonly [number, number];
  readonly unetSha256: string;
}

/** Splits the slices of all splits into two halves by patient (sorted, alternating). */
export function halvesByPatient(info: readonly SliceInfo[]): [number[], number[]] {
  const patients = [...new Set(info.map((s) => s.patient))].sort();
  const side = new Map(patients.map((p, i) => [p, i % 2]));
  const a: number[] = [];
  const b: number[] = [];
  info.forEach((s, i) => (side.get(s.patient) === 0 ? a : b).push(i));
  return [a, b];
}

function pick(s: SliceArrays, indices: readonly number[]): SliceArrays {
  const plane = s.height * s.width;
  const images = new Float32Array(indices.length * plane * s.channels);
  const labels = new Uint8Array(indices.length * plane);
  indices.forEach((i, n) => {
    images.set(s.images.subarray(i * plane * s.channels, (i + 1) * plane * s.channels), n * plane * s.channels);
    labels.set(s.labels.subarray(i * plane, (i + 1) * plane), n * plane);
  });
  return { count: indices.length, height: s.height, width: s.width, channels: s.channels, images, labels };
}

export async function realFloor(opts: { readonly data: string; readonly unetDir: string; readonly inception: InceptionChoice }): Promise<RealFloor> {
  const ds = loadPrepared(opts.data);
  const splits = (['train', 'val', 'test'] as const).map((n) => ds.split(n));
  const all = concatSets(...splits);
  const info = splits.flatMap((s) => s.info);
  const [ia, ib] = halvesByPatient(info);
  if (ia.length < 2 || ib.length < 2) throw new Error(`${opts.data}: too few patients to split the real data in two halves (${ia.length} / ${ib.length} slices)`);
  const a = pick(all, ia);
  const b = pick(all, ib);
  const countPatients = (idx: number[]) => new Set(idx.map((i) => info[i]!.patient)).size;

  const modelFile = path.join(opts.unetDir, 'model.safetensors');
  const unet = loadUNet(modelFile);
  let unetFid: number;
  try {
    const m = (data: Float32Array): FeatureMatrix => ({ data, rows: data.length / unet.featureDim, cols: unet.featureDim });
    unetFid = fidFromFeatures(m(await encodeAll(unet, a)), m(await encodeAll(unet, b)));
  } finally {
    unet.dispose();
  }
  let fid: number | null = null;
  const weights = resolveInceptionWeights(opts.inception.file === null ? undefined : { file: opts.inception.file, allowUnverified: opts.inception.allowUnverified });
  if (weights.file) {
    const loaded = loadFidInception(weights.file, { allowUnverified: opts.inception.allowUnverified });
    try {
      fid = fidFromFeatures(await inceptionPool3(loaded.net, a), await inceptionPool3(loaded.net, b));
    } finally {
      loaded.net.dispose();
    }
  }
  return {
    unetFid, fid, halves: [a.count, b.count], patients: [countPatients(ia), countPatients(ib)],
    unetSha256: sha256(fs.readFileSync(modelFile)),
  };
}
