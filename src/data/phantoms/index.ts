/**
 * Built-in phantom datasets, written in the publishers' own formats and layouts so that the real readers are
 * exercised end to end:
 *
 *   acdc/training/patient001/Info.cfg, patient001_frame01.nii.gz, patient001_frame01_gt.nii.gz, (ES frame likewise)
 *   acdc/testing/patientNNN/…            the last ~30 % of the patients, numbering continued
 *   sliver07/liver-orig001.mhd + .raw, liver-seg001.mhd + .raw
 *   idrid/A. Segmentation/1. Original Images/a. Training Set/IDRiD_01.jpg   (b. Testing Set: the last ~1/3)
 *   idrid/A. Segmentation/2. All Segmentation Groundtruths/a. Training Set/5. Optic Disc/IDRiD_01_OD.tif
 *
 * Same seed ⇒ byte-identical files. Each dataset draws from rng.fork(name) and each patient from its own
 * rng.fork(index), so one patient does not change when another does. Each dataset folder is replaced atomically.
 */
import path from 'node:path';
import { Rng } from '../../core/rng.js';
import { replaceDirAtomic, writeFileAtomic } from '../../core/atomic.js';
import { ConfigError } from '../../core/errors.js';
import { writeVolume } from '../io/image-io.js';
import { ACDC_GROUPS, cardiacPatient, infoCfg } from './cardiac.js';
import { liverPatient } from './liver.js';
import { fundusImage } from './fundus.js';

export { ACDC_GROUPS, ACDC_LABELS, cardiacPatient, infoCfg, type AcdcGroup, type CardiacInfo, type CardiacPatient, type LabelledVolume } from './cardiac.js';
export { liverPatient, type LiverPatient } from './liver.js';
export { fundusImage, FUNDUS_HEIGHT, FUNDUS_WIDTH, type FundusImage } from './fundus.js';

export type PhantomDataset = 'acdc' | 'sliver07' | 'idrid';
export const PHANTOM_DATASETS: readonly PhantomDataset[] = ['acdc', 'sliver07', 'idrid'];

export interface PhantomOptions {
  /** Patients (IDRiD: images) per dataset; default 12. */
  readonly patients?: number;
  /** Default 0. */
  readonly seed?: number;
  /** Default: all three. */
  readonly datasets?: readonly PhantomDataset[];
  /** Called after each case with the cases written so far, the total, and which case it was. */
  readonly onProgress?: (done: number, total: number, note: string) => void;
}

type Tick = (note: string) => void;

const pad = (n: number, width: number) => String(n).padStart(width, '0');

/** How many of n cases go to the training folder: `fraction` of them, but at least one on each side when n ≥ 2. */
const trainingCount = (n: number, fraction: number) => (n < 2 ? n : Math.min(n - 1, Math.max(1, Math.round(n * fraction))));

async function writeAcdc(root: string, n: number, rng: Rng, tick: Tick): Promise<void> {
  const nTrain = trainingCount(n, 0.7);
  for (let i = 0; i < n; i++) {
    const id = `patient${pad(i + 1, 3)}`;
    const dir = path.join(root, i < nTrain ? 'training' : 'testing', id);
    const patient = cardiacPatient(rng.fork(i), { group: ACDC_GROUPS[i % ACDC_GROUPS.length], name: id });
    writeFileAtomic(path.join(dir, 'Info.cfg'), infoCfg(patient.info));
    for (const [frame, phase] of [[patient.info.ed, patient.ed], [patient.info.es, patient.es]] as const) {
      const stem = path.join(dir, `${id}_frame${pad(frame, 2)}`);
      await writeVolume(`${stem}.nii.gz`, phase.image, { componentType: 'int16' });
      await writeVolume(`${stem}_gt.nii.gz`, phase.label, { componentType: 'uint8' });
    }
    tick(`acdc ${id}`);
  }
}

async function writeSliver07(root: string, n: number, rng: Rng, tick: Tick): Promise<void> {
  for (let i = 0; i < n; i++) {
    const id = pad(i + 1, 3);
    const patient = liverPatient(rng.fork(i), { name: `liver-${id}` });
    await writeVolume(path.join(root, `liver-orig${id}.mhd`), patient.image, { componentType: 'int16' });
    await writeVolume(path.join(root, `liver-seg${id}.mhd`), patient.label, { componentType: 'uint8' });
    tick(`sliver07 liver-orig${id}`);
  }
}

async function writeIdrid(root: string, n: number, rng: Rng, tick: Tick): Promise<void> {
  const nTrain = trainingCount(n, 2 / 3);
  const seg = path.join(root, 'A. Segmentation');
  for (let i = 0; i < n; i++) {
    const id = `IDRiD_${pad(i + 1, 2)}`;
    const split = i < nTrain ? 'a. Training Set' : 'b. Testing Set';
    const { image, mask } = fundusImage(rng.fork(i), { name: id });
    await writeVolume(path.join(seg, '1. Original Images', split, `${id}.jpg`), image, { componentType: 'uint8' });
    await writeVolume(path.join(seg, '2. All Segmentation Groundtruths', split, '5. Optic Disc', `${id}_OD.tif`), mask, { componentType: 'uint8' });
    tick(`idrid ${id}`);
  }
}

const WRITERS: Record<PhantomDataset, (root: string, n: number, rng: Rng, tick: Tick) => Promise<void>> = { acdc: writeAcdc, sliver07: writeSliver07, idrid: writeIdrid };

/** Writes outDir/acdc, outDir/sliver07, outDir/idrid (those asked for) and returns their roots. */
export async function writePhantoms(outDir: string, opts: PhantomOptions = {}): Promise<Partial<Record<PhantomDataset, string>>> {
  const patients = opts.patients ?? 12;
  if (!Number.isInteger(patients) || patients < 1) throw new ConfigError(`phantoms: patients must be a positive integer, got ${patients}`);
  const datasets = opts.datasets ?? PHANTOM_DATASETS;
  const rng = new Rng(opts.seed ?? 0);
  const total = patients * datasets.length;
  let done = 0;
  const tick: Tick = (note) => opts.onProgress?.(++done, total, note);
  const roots: Partial<Record<PhantomDataset, string>> = {};
  for (const dataset of datasets) {
    const root = path.join(outDir, dataset);
    await replaceDirAtomic(root, (tmp) => WRITERS[dataset](tmp, patients, rng.fork(dataset), tick));
    roots[dataset] = root;
  }
  return roots;
}
