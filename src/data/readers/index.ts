/** The dataset readers by id, and lookup by id with a suggestion on a typo. */
import { ConfigError } from '../../core/errors.js';
import { acdcReader } from './acdc.js';
import { idridReader } from './idrid.js';
import { nnunetReader } from './nnunet.js';
import { sliver07Reader } from './sliver07.js';
import type { DatasetReader } from './types.js';

export type ReaderId = 'acdc' | 'sliver07' | 'idrid' | 'nnunet';

export const READERS = {
  acdc: acdcReader,
  sliver07: sliver07Reader,
  idrid: idridReader,
  nnunet: nnunetReader,
} satisfies Record<ReaderId, DatasetReader>;

export function readerFor(id: string): DatasetReader {
  if (Object.hasOwn(READERS, id)) return READERS[id as ReaderId];
  const ids = Object.keys(READERS) as ReaderId[];
  const closest = ids.reduce((best, k) => (editDistance(id.toLowerCase(), k) < editDistance(id.toLowerCase(), best) ? k : best));
  const near = editDistance(id.toLowerCase(), closest) <= Math.max(2, Math.floor(closest.length / 2));
  throw new ConfigError(`unknown dataset "${id}"${near ? ` (did you mean "${closest}"?)` : ''}; valid datasets: ${ids.join(', ')}`);
}

/** Levenshtein distance: insertions, deletions and substitutions each cost 1. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const row = [i];
    for (let j = 1; j <= b.length; j++) row[j] = Math.min(previous[j]! + 1, row[j - 1]! + 1, previous[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    previous = row;
  }
  return previous[b.length]!;
}
