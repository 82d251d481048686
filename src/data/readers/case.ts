/**
 * Reads one case, image and label, and checks that they belong together: the same voxel grid (size, and spacing
 * for volumetric formats) and label values among the dataset's classes. 2D files (PNG, JPEG, TIFF, BMP) come back
 * as volumes with nz = 1.
 */
import { DataError } from '../../core/errors.js';
import { readIntensity, readLabels } from '../io/image-io.js';
import { labelValues, sameGrid, type Geometry, type IntensityVolume, type LabelVolume } from '../volume.js';
import type { CaseEntry, DatasetSource } from './types.js';

/** Bitmaps carry a print resolution (dpi), not a voxel size: for them only the pixel counts must agree. */
const BITMAP = /\.(png|jpe?g|tiff?|bmp)$/i;

export async function loadCase(source: DatasetSource, entry: CaseEntry): Promise<{ image: IntensityVolume; label: LabelVolume }> {
  const image = entry.rgbChannels ? await readSplitRgb(entry.rgbChannels) : await readIntensity(entry.image);
  if (source.modality === 'rgb' && image.components !== 3) {
    throw new DataError(image.source, `is a grey-level image but the ${source.dataset} dataset holds colour (RGB) images`, 'check that this is the right file');
  }
  const label = onImageGrid(image, await readLabels(entry.label, { binary255: source.binary255 }));
  const unexpected = labelValues(label).filter((v) => v >= source.classNames.length);
  if (unexpected.length) {
    const expected = source.classNames.map((name, v) => `${v} ${name}`).join(', ');
    throw new DataError(
      label.source,
      `holds label value(s) ${unexpected.join(', ')}; expected values 0–${source.classNames.length - 1} (${expected})`,
      `check that this is the segmentation of ${entry.image} and that the dataset's class list is complete`,
    );
  }
  return { image, label };
}

const describe = (g: Geometry): string => `${g.size.join('×')} voxels of ${g.spacing.map((s) => +s.toFixed(4)).join('×')} mm`;

/** The label, checked against the image's grid; a bitmap label takes the image's geometry. */
function onImageGrid(image: IntensityVolume, label: LabelVolume): LabelVolume {
  const bitmap = BITMAP.test(image.source) || BITMAP.test(label.source);
  const same = bitmap ? image.size.every((s, i) => s === label.size[i]) : sameGrid(image, label);
  if (!same) {
    throw new DataError(
      label.source,
      `does not match its image ${image.source}: label ${describe(label)}, image ${describe(image)}`,
      'an image and its label must share one voxel grid: check that both files belong to the same case (and frame)',
    );
  }
  return bitmap ? { ...label, spacing: image.spacing, origin: image.origin, direction: image.direction } : label;
}

/** R, G and B from three single-channel files, interleaved: data[i * 3 + c] = channel c at voxel i. */
async function readSplitRgb(files: readonly [string, string, string]): Promise<IntensityVolume> {
  const channels = await Promise.all(files.map((f) => readIntensity(f)));
  const first = channels[0]!;
  for (const channel of channels) {
    if (channel.components !== 1 || !channel.size.every((s, i) => s === first.size[i])) {
      throw new DataError(channel.source, `cannot be a colour channel of ${first.source}: ${channel.components} component(s), ${describe(channel)} vs ${describe(first)}`, 'the _0000/_0001/_0002 files of a case must be grey images of one size');
    }
  }
  const data = new Float32Array(first.data.length * 3);
  channels.forEach((channel, c) => channel.data.forEach((v, i) => (data[i * 3 + c] = v)));
  return { ...first, components: 3, data };
}
