/**
 * ACDC (Automated Cardiac Diagnosis Challenge, cardiac cine-MRI), as distributed:
 *   ROOT/training/patientNNN/{Info.cfg, patientNNN_frameXX.nii.gz, patientNNN_frameXX_gt.nii.gz}
 *   ROOT/testing/patientNNN/…
 * or the same under ROOT/database/ (the 2020 re-release). Two cases per patient: the ED and ES frames that Info.cfg
 * names (`ED: 1`, `ES: 12`). Testing patients without ground truth (the 2017 release) are skipped and counted.
 */
import fs from 'node:fs';
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { isDir, isFile, listNames } from './files.js';
import type { CaseEntry, DatasetReader, DatasetSource } from './types.js';

const SUBSETS = ['training', 'testing'] as const;
const PHASES = ['ED', 'ES'] as const;
const PATIENT = /^patient\d+$/;
const LAYOUT_FIX = 'is ROOT the ACDC folder? It holds training/patient001/… and testing/… (or database/training/… in the 2020 re-release)';

export const acdcReader: DatasetReader = {
  id: 'acdc',
  description: 'ACDC cardiac cine-MRI: training/ and testing/ patientNNN folders (or database/…), ED and ES frames from Info.cfg',
  discover(root: string): DatasetSource {
    const base = acdcBase(root);
    const cases: CaseEntry[] = [];
    let withoutGt = 0;
    for (const subset of SUBSETS) {
      const dir = path.join(base, subset);
      if (!isDir(dir)) continue;
      for (const patient of listNames(dir).filter((n) => PATIENT.test(n))) {
        const found = patientCases(path.join(dir, patient), patient, subset);
        if (found) cases.push(...found);
        else withoutGt++;
      }
    }
    if (cases.length === 0) throw new DataError(base, 'no patientNNN folder with ground truth under training/ or testing/', LAYOUT_FIX);
    return {
      dataset: 'acdc',
      root,
      modality: 'mri',
      classNames: ['background', 'RV', 'myocardium', 'LV'],
      binary255: false,
      cases,
      notes: withoutGt ? [`skipped ${withoutGt} testing patient(s) without ground truth (no patientNNN_frameXX_gt.nii.gz)`] : [],
    };
  },
};

/** The folder holding training/: ROOT itself or ROOT/database. */
function acdcBase(root: string): string {
  const base = [root, path.join(root, 'database')].find((b) => isDir(path.join(b, 'training')));
  if (base) return base;
  if (!isDir(root)) throw new DataError(root, 'dataset folder not found', 'pass the ACDC folder (holding training/ and testing/)');
  if (listNames(root).some((n) => PATIENT.test(n))) {
    throw new DataError(root, 'holds patientNNN folders directly: this is training/ or testing/ itself', `pass its parent folder, ${path.dirname(path.resolve(root))}`);
  }
  throw new DataError(path.join(root, 'training'), 'no training/ or database/training/ under ROOT', LAYOUT_FIX);
}

/** The ED and ES cases of one patient; undefined for a testing patient without any ground truth. */
function patientCases(dir: string, patient: string, subset: (typeof SUBSETS)[number]): CaseEntry[] | undefined {
  const info = readInfo(path.join(dir, 'Info.cfg'));
  const frames = PHASES.map((phase) => {
    const stem = path.join(dir, `${patient}_frame${String(info.frames[phase]).padStart(2, '0')}`);
    const image = niftiFile(stem);
    if (!image) throw new DataError(`${stem}.nii.gz`, `missing: Info.cfg names frame ${info.frames[phase]} as ${phase}`, 'copy the patient folder again from the ACDC archive');
    return { phase, stem, image, label: niftiFile(`${stem}_gt`) };
  });
  if (subset === 'testing' && frames.every((f) => !f.label)) return undefined;
  return frames.map(({ phase, stem, image, label }) => {
    if (!label) throw new DataError(`${stem}_gt.nii.gz`, `missing: the ${phase} frame's ground truth`, 'copy the patient folder again from the ACDC archive');
    const tags = { frame: phase, subset, ...(info.group ? { group: info.group } : {}) };
    return { patient, id: `${patient}_${phase}`, image, label, tags };
  });
}

/** `stem.nii.gz`, or `stem.nii` for a gunzipped copy; undefined when neither exists. */
function niftiFile(stem: string): string | undefined {
  return [`${stem}.nii.gz`, `${stem}.nii`].find(isFile);
}

/** Info.cfg holds `Key: value` lines: ED, ES (frame numbers, `1` or `01`), Group, Height, NbFrame, Weight. */
function readInfo(file: string): { frames: Record<(typeof PHASES)[number], number>; group?: string } {
  if (!isFile(file)) throw new DataError(file, 'missing: it names the ED and ES frames of this patient', 'copy the patient folder again from the ACDC archive');
  const fields = new Map<string, string>();
  for (const line of fs.readFileSync(file, 'utf8').split(/\r?\n/)) {
    const m = /^\s*(\w+)\s*:\s*(.*?)\s*$/.exec(line);
    if (m) fields.set(m[1]!, m[2]!);
  }
  const frame = (phase: (typeof PHASES)[number]): number => {
    const value = fields.get(phase) ?? '';
    if (!/^\d+$/.test(value)) throw new DataError(file, `has no valid "${phase}: N" line (found "${value}")`, `add the ${phase} frame number, e.g. "${phase}: 1"`);
    return Number(value);
  };
  return { frames: { ED: frame('ED'), ES: frame('ES') }, group: fields.get('Group') };
}
