/**
 * IDRiD (Indian Diabetic Retinopathy Image Dataset), segmentation part, optic disc, as distributed:
 *   ROOT/A. Segmentation/1. Original Images/{a. Training Set,b. Testing Set}/IDRiD_NN.jpg
 *   ROOT/A. Segmentation/2. All Segmentation Groundtruths/{a. Training Set,b. Testing Set}/5. Optic Disc/IDRiD_NN_OD.tif
 * ROOT may also be the `A. Segmentation` folder itself. Masks store the disc as 255; images without a mask are
 * skipped and counted.
 */
import path from 'node:path';
import { DataError } from '../../core/errors.js';
import { isDir, listNames } from './files.js';
import type { CaseEntry, DatasetReader, DatasetSource } from './types.js';

const SEGMENTATION = 'A. Segmentation';
const IMAGES = '1. Original Images';
const MASKS = '2. All Segmentation Groundtruths';
const OPTIC_DISC = '5. Optic Disc';
const SUBSETS = [
  ['a. Training Set', 'training'],
  ['b. Testing Set', 'testing'],
] as const;
const IMAGE = /^(IDRiD_\d+)\.jpe?g$/i;
const MASK = /^(IDRiD_\d+)_OD\.tiff?$/i;

export const idridReader: DatasetReader = {
  id: 'idrid',
  description: `IDRiD fundus photographs, optic disc: ${SEGMENTATION}/${IMAGES}/… with ${MASKS}/…/${OPTIC_DISC}/IDRiD_NN_OD.tif`,
  discover(root: string): DatasetSource {
    const base = [path.join(root, SEGMENTATION), root].find((b) => isDir(path.join(b, IMAGES)));
    if (!base) {
      throw new DataError(
        path.join(root, SEGMENTATION, IMAGES),
        `missing (nor is there ${IMAGES}/ directly under ROOT)`,
        `is ROOT the IDRiD folder holding "${SEGMENTATION}/", or "${SEGMENTATION}" itself?`,
      );
    }
    const cases: CaseEntry[] = [];
    let withoutMask = 0;
    for (const [folder, subset] of SUBSETS) {
      const imageDir = path.join(base, IMAGES, folder);
      if (!isDir(imageDir)) continue;
      const masks = maskFiles(path.join(base, MASKS, folder, OPTIC_DISC));
      for (const name of listNames(imageDir)) {
        const id = IMAGE.exec(name)?.[1];
        if (!id) continue;
        const label = masks.get(id.toLowerCase());
        if (label) cases.push({ patient: id, id, image: path.join(imageDir, name), label, tags: { subset } });
        else withoutMask++;
      }
    }
    if (cases.length === 0) {
      throw new DataError(path.join(base, IMAGES, SUBSETS[0][0]), 'no IDRiD_NN.jpg image with an optic-disc mask in the training or testing set', 'copy the segmentation part of IDRiD again');
    }
    const notes = withoutMask ? [`skipped ${withoutMask} image(s) without an optic-disc mask (IDRiD_NN_OD.tif)`] : [];
    return { dataset: 'idrid', root, modality: 'rgb', classNames: ['background', 'optic disc'], binary255: true, cases, notes };
  },
};

/** Optic-disc masks of one set, keyed by lower-case image id (`idrid_01`). */
function maskFiles(dir: string): Map<string, string> {
  if (!isDir(dir)) throw new DataError(dir, 'missing: it holds the optic-disc masks of these images', `copy "${MASKS}" from the IDRiD archive`);
  const masks = new Map<string, string>();
  for (const name of listNames(dir)) {
    const id = MASK.exec(name)?.[1];
    if (id) masks.set(id.toLowerCase(), path.join(dir, name));
  }
  return masks;
}
