/**
 * SLiver07 (liver CT), as distributed: `liver-origNNN.mhd/.raw` scans with `liver-segNNN.mhd/.raw` segmentations,
 * flat in ROOT or in any subfolders (e.g. scan/ and label/): ROOT is searched at every depth and pairs are matched
 * by number. Every scan needs its segmentation (the readers are for training data).
 */
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { isDir, naturalOrder, walkFiles } from './files.js';
import type { CaseEntry, DatasetReader, DatasetSource } from './types.js';

const ORIG = /^liver-orig(\d+)\.mhd$/i;
const SEG = /^liver-seg(\d+)\.mhd$/i;

export const sliver07Reader: DatasetReader = {
  id: 'sliver07',
  description: 'SLiver07 liver CT: liver-origNNN.mhd/.raw with liver-segNNN.mhd/.raw, at any depth under ROOT',
  discover(root: string): DatasetSource {
    if (!isDir(root)) throw new DataError(root, 'dataset folder not found', 'pass the SLiver07 folder (holding liver-orig001.mhd/.raw, …)');
    const files = walkFiles(root);
    const scans = byNumber(files, ORIG);
    const segs = byNumber(files, SEG);
    if (scans.size === 0) {
      throw new DataError(root, 'no liver-origNNN.mhd file at any depth', 'is ROOT the SLiver07 folder? It holds liver-orig001.mhd/.raw and liver-seg001.mhd/.raw (possibly in scan/ and label/)');
    }
    for (const [n, seg] of segs) {
      if (!scans.has(n)) throw new DataError(seg, `has no scan: liver-orig${n}.mhd is not under ${root}`, 'copy the scan from the SLiver07 archive, or remove the orphan segmentation');
    }
    const cases: CaseEntry[] = [...scans].sort(([a], [b]) => naturalOrder(a, b)).map(([n, image]) => {
      const label = segs.get(n);
      if (!label) {
        throw new DataError(
          image,
          `has no segmentation: liver-seg${n}.mhd is not under ${root}`,
          'SLiver07 test scans (021–030) come without segmentations: move them out of ROOT; otherwise copy liver-segNNN.mhd/.raw from the archive',
        );
      }
      return { patient: `liver${n}`, id: `liver${n}`, image, label, tags: {} };
    });
    return { dataset: 'sliver07', root, modality: 'ct', classNames: ['background', 'liver'], binary255: false, cases };
  },
};

/** Files whose name matches `pattern`, keyed by their number written with three digits; duplicates are errors. */
function byNumber(files: readonly string[], pattern: RegExp): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of files) {
    const m = pattern.exec(path.basename(file));
    if (!m) continue;
    const n = String(Number(m[1])).padStart(3, '0');
    const other = found.get(n);
    if (other) throw new DataError(file, `is a second copy of case ${n} (the first is ${other})`, 'keep one copy of each case under ROOT');
    found.set(n, file);
  }
  return found;
}
